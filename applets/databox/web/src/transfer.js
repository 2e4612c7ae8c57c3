// transfer.js - encrypted uploads (the File read in slices, constant memory); the
// downloads are in download.js.
import { call } from './api.js';
import { GcmStream } from './crypto/gcm.js';
import { newFileKey, wrapFileKey, importPublic } from './crypto/keys.js';
import { batches } from './batches.js';

// 8 MiB per POST, a multiple of the AES block. Measured in Chromium against this
// server: one POST per MiB cost more than the transfer itself, and a body given as a
// Blob starts sending several times sooner than the same bytes as a Uint8Array.
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

// Encrypts file into an upload; chunkPath(offset) is the API path for a chunk.
// Returns the plain file key with its tag (the caller wraps it and completes).
// With plain: true (an unencrypted room) the bytes go as they are and null is returned.
// Pipelined: while one chunk is being posted the next is read and encrypted, so at most
// two chunks (the Blob being sent and the parts of the next) are alive at any time.
export async function sendEncrypted(file, chunkPath, { signal, onProgress, isPublic = false, plain = false } = {}) {
	const fk = newFileKey();
	const g = plain ? null : await GcmStream.create(fk.key, fk.iv, true);
	const next = slices(file);
	let off = 0, sent = 0, pos = 0;
	let inflight = null;
	// where the time goes (ms), logged at the end for the benchmark
	const prof = { read: 0, encrypt: 0, blob: 0, network: 0, t0: performance.now() };
	const post = (blob, at, plainEnd) => call('POST', chunkPath(at), blob, { signal, public: isPublic }).then(() => {
		sent = plainEnd;
		if (onProgress)
			onProgress(file.size ? Math.min(1, sent / file.size) : 1);
	});
	try {
		do {
			if (signal && signal.aborted)
				throw new DOMException('cancelled', 'AbortError');
			const parts = [];
			const end = Math.min(file.size, pos + CHUNK);
			while (pos < end) {
				let t = performance.now();
				const slice = await next();
				prof.read += performance.now() - t;
				if (!slice)
					throw new Error('the file became shorter while it was read');
				pos += slice.length;
				t = performance.now();
				if (g)
					parts.push(...await g.updateParts(slice));
				else
					parts.push(slice.slice());
				prof.encrypt += performance.now() - t;
			}
			if (g && pos >= file.size) {
				const { last, tag } = await g.final();
				fk.tag = tag;
				parts.push(last);
			}
			// the Blob copies the bytes
			let t = performance.now();
			const blob = new Blob(parts, { type: 'application/octet-stream' });
			prof.blob += performance.now() - t;
			t = performance.now();
			if (inflight)
				await inflight;
			prof.network += performance.now() - t;
			inflight = null;
			if (blob.size) {
				inflight = post(blob, off, pos);
				off += blob.size;
			}
		} while (pos < file.size);
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
	if (!g)
		return null;
	if (!fk.tag) {
		const { tag } = await g.final();
		fk.tag = tag;
	}
	return fk;
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
