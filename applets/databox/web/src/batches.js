// batches.js - a stream reader's chunks (the network's or a File's, of any size)
// gathered into batches of `size` bytes, written into `count` buffers allocated once and
// used in turn: a batch stays valid until `count` more have been asked for. Returns a
// function giving { done, value }: value is a full batch, or at the end the last
// partial one (or null); done is true once the reader has ended.
export function batches(reader, size, count = 1) {
	const bufs = Array.from({ length: count }, () => new Uint8Array(size));
	let which = 0, spill = null; // spill: what the last read brought beyond a batch
	return async () => {
		const buf = bufs[which];
		which = (which + 1) % count;
		let n = 0;
		for (;;) {
			let value = spill;
			spill = null;
			if (!value) {
				const r = await reader.read();
				if (r.done)
					return { done: true, value: n ? buf.subarray(0, n) : null };
				value = r.value;
			}
			const take = Math.min(value.length, size - n);
			buf.set(value.subarray(0, take), n);
			n += take;
			if (take < value.length)
				spill = value.subarray(take);
			if (n === size)
				return { done: false, value: buf };
		}
	};
}
