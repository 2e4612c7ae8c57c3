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

// The same from a stream, read with a BYOB reader where the stream is a byte stream
// (Chromium's fetch bodies and File streams): the bytes land straight in the `count`
// buffers, with no chunk allocated per read and no copy; the buffer travels through
// each read (transferred) and comes back, so it is still one buffer per slot. Falls
// back to batches() for a stream that has no BYOB reader. A batch stays valid until
// `count` more have been asked for (its buffer is then handed to the next read).
// Returns { next, reader } (reader for cancel()).
export function streamBatches(stream, size, count = 1) {
	let reader;
	try {
		reader = stream.getReader({ mode: 'byob' });
	} catch (e) {
		reader = stream.getReader();
		return { next: batches(reader, size, count), reader, byob: false };
	}
	const bufs = Array.from({ length: count }, () => new ArrayBuffer(size));
	let which = 0, ended = false;
	const next = async () => {
		const slot = which;
		which = (which + 1) % count;
		let buf = bufs[slot], n = 0;
		while (!ended && n < size) {
			const r = await reader.read(new Uint8Array(buf, n, size - n));
			// a cancelled stream gives no buffer back: a fresh one keeps the slot usable
			buf = r.value ? r.value.buffer : new ArrayBuffer(size);
			if (r.value)
				n += r.value.byteLength;
			if (r.done)
				ended = true;
		}
		bufs[slot] = buf;
		const value = n ? new Uint8Array(buf, 0, n) : null;
		return { done: ended, value };
	};
	return { next, reader, byob: true };
}
