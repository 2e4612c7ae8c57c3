// transfer.js - encrypted uploads (the File read in slices, constant memory); the
// downloads are in download.js.
import { call } from './api.js';
import { GcmStream } from './crypto/gcm.js';
import { newFileKey, wrapFileKey, importPublic } from './crypto/keys.js';
import { batches } from './batches.js';

// Up to 8 MiB per POST (the server's maxChunkSize, when it says less). Measured in
// Chromium (bench/databox_web/ceiling.mjs, no crypto, the server dropping the bytes):
// fetch() POSTs of Blobs ran at 48 MiB/s in 2 MiB bodies, 63-70 in 8 MiB and 87 in
// 32 MiB; one POST per MiB cost more than the transfer itself, and a body given as a
// Uint8Array instead of a Blob ran at 5 MiB/s.
export const CHUNK = 8 << 20;
// The File is read as one stream (one read of the file, not one request per slice:
// slice().arrayBuffer() of 512 KiB ran at 15 MiB/s in Chromium here) and handed on in
// READ-byte batches from two reused buffers (GcmStream copies its input when called;
// the plain path takes a copy). 512 KiB: buffers of a MiB and more come straight from
// the kernel on every allocation in Chromium (page faults, RSS lagging behind).
const READ = 512 << 10;

// Returns a function giving the next batch (a view of one of two reused buffers), null
// at the end; the next read starts as soon as a batch is handed out.
function slices(file) {
	// a default reader, not BYOB: two of four 256 MiB bench uploads with a BYOB reader on
	// the File stalled for minutes (cause not found); main's reader never did
	const next = batches(file.stream().getReader(), READ, 2);
	let ahead = next();
	ahead.catch(() => {});
	return async () => {
		const { done, value } = await ahead;
		ahead = done ? Promise.resolve({ done: true, value: null }) : next();
		ahead.catch(() => {});
		return value;
	};
}

// Encrypts file into an upload; chunkPath(offset) is the API path for a chunk, maxChunk
// the largest the server takes (its create reply's maxChunkSize).
// Returns the plain file key with its tag (the caller wraps it and completes).
// With plain: true (an unencrypted room) the bytes go as they are and null is returned.
// Pipelined: while one chunk is being posted the next is read and encrypted, so at most
// two chunks (the Blob being sent and the parts of the next) are alive at any time.
export async function sendEncrypted(file, chunkPath, { signal, onProgress, isPublic = false, plain = false, maxChunk } = {}) {
	// at least 4 KiB (databox serve's own floor): a server naming less gets no request per byte
	const chunk = maxChunk > 0 ? Math.max(4096, Math.min(CHUNK, maxChunk)) : CHUNK;
	const fk = newFileKey();
	const g = plain ? null : await GcmStream.create(fk.key, fk.iv, true);
	const next = slices(file);
	let off = 0, pos = 0;
	let inflight = null;
	// where the time goes (ms), logged at the end for the benchmark
	const prof = { read: 0, encrypt: 0, blob: 0, network: 0, t0: performance.now() };
	// progress counts the ciphertext acknowledged (the same length as the plaintext)
	const post = (blob, at) => call('POST', chunkPath(at), blob, { signal, public: isPublic }).then(() => {
		if (onProgress)
			onProgress(file.size ? Math.min(1, (at + blob.size) / file.size) : 1);
	});
	// sends one chunk once the previous one is acknowledged
	const send = async (blob) => {
		const t = performance.now();
		if (inflight)
			await inflight;
		prof.network += performance.now() - t;
		inflight = post(blob, off);
		off += blob.size;
	};
	try {
		let parts = [], have = 0; // ciphertext not yet sent: Blob parts, their length
		for (;;) {
			if (signal && signal.aborted)
				throw new DOMException('cancelled', 'AbortError');
			const last = pos >= file.size;
			if (!last) {
				let t = performance.now();
				const slice = await next();
				prof.read += performance.now() - t;
				if (!slice)
					throw new Error('the file became shorter while it was read');
				pos += slice.length;
				t = performance.now();
				const out = g ? await g.updateParts(slice) : [slice.slice()];
				for (const x of out) {
					parts.push(x);
					have += x.length;
				}
				prof.encrypt += performance.now() - t;
			} else if (g) {
				const fin = await g.final();
				fk.tag = fin.tag;
				parts.push(fin.last);
				have += fin.last.length;
			}
			if (have >= chunk || (last && have)) {
				// the Blob copies the bytes; a slice of it is a view, not another copy
				const t = performance.now();
				let blob = new Blob(parts, { type: 'application/octet-stream' });
				prof.blob += performance.now() - t;
				while (blob.size >= chunk || (last && blob.size)) {
					await send(blob.size > chunk ? blob.slice(0, chunk) : blob);
					blob = blob.size > chunk ? blob.slice(chunk) : new Blob([]);
				}
				parts = blob.size ? [blob] : [];
				have = blob.size;
			}
			if (last)
				break;
		}
		const t = performance.now();
		if (inflight)
			await inflight;
		inflight = null;
		prof.network += performance.now() - t;
		prof.total = performance.now() - prof.t0;
		console.debug(`databox upload profile (ms): ${JSON.stringify(prof, (k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
	} finally {
		// a failure mid-way must not leave a rejected promise nobody awaits
		if (inflight)
			inflight.catch(() => {});
	}
	if (onProgress)
		onProgress(1);
	return g ? fk : null;
}

// Wraps fk for each {id, publicKeyContainer}; skips keys that do not import.
export async function wrapForAll(fk, items) {
	const out = [];
	for (const it of items) {
		try {
			const pub = await importPublic(it.publicKeyContainer);
			out.push({ userId: it.id, fileKey: await wrapFileKey(fk, pub) });
		} catch (e) {
			console.warn('skipping a key that does not import:', e.message);
		}
	}
	return out;
}
