// sw.js - the service worker: answers /__databox/download/ID with a stream that
// fetches the ciphertext, decrypts it (streaming GCM) and hands it to the browser's
// download, so a file of any size passes in constant memory.
//
// The last piece of plaintext is held back until the GCM tag verified; a tag that
// does not verify errors the stream, so the browser marks the download as failed
// (it never completes under its real name) and the page says why.
import { GcmStream } from './crypto/gcm.js';
import { streamBatches } from './batches.js';

const jobs = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('message', (e) => {
	const m = e.data;
	if (!m || m.type !== 'download' || !e.ports[0])
		return;
	jobs.set(m.id, { ...m, port: e.ports[0] });
	// a job that is never fetched does not keep its key forever
	setTimeout(() => jobs.delete(m.id), 60000);
	e.ports[0].postMessage({ type: 'ready' });
});

function contentDisposition(name) {
	const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
	return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

// The network hands the body over in small pieces (often 64 KiB); they are gathered
// into BATCH bytes (a multiple of the AES block) before they are decrypted (GcmStream
// makes one WebCrypto call per 256 KiB of it). 1 MiB: allocated once and reused, with
// fewer calls per MiB than the network's pieces would need.
const BATCH = 1 << 20;
const QUEUE = 4 << 20;

// The batch buffer is reused (batches.js, one buffer): GcmStream.updateParts() copies
// its input before it returns its promise (every WebCrypto call is made then), so the
// next batch may be read into the same buffer while this one is decrypted; plain files
// get a copy.

// Pipelined and bounded: while one batch is decrypted the next one is read; the stream
// asks for more (pull) only while less than QUEUE bytes wait for the browser, so at most
// a batch being read, one being decrypted, one held back and QUEUE bytes are alive.
function decryptingStream(job) {
	const port = job.port;
	let reader = null, next = null, ahead = null, gcm = null, held = null, bytes = 0, lastReport = 0;
	// where the time goes (ms), reported with 'done' for the benchmark: waiting for the
	// network, for the decryption, and for the browser to take what was queued
	const prof = { network: 0, decrypt: 0, consumer: 0, t0: performance.now(), lastPull: 0 };
	const fail = (c, message) => {
		port.postMessage({ type: 'error', message });
		if (job.key)
			job.key.fill(0);
		c.error(new Error(message));
		if (reader)
			reader.cancel().catch(() => {});
	};
	return new ReadableStream({
		async start(c) {
			const headers = job.auth ? { Authorization: job.auth } : {};
			let r;
			try {
				r = await fetch(job.url, { headers, credentials: 'omit', cache: 'no-store' });
			} catch (e) {
				return fail(c, 'the server cannot be reached');
			}
			if (!r.ok) {
				let msg = `the server answered ${r.status}`;
				try { msg = (await r.json()).message || msg; } catch (e) { /* not JSON */ }
				return fail(c, msg);
			}
			// BYOB reads straight into the one reused batch buffer (no chunk per read)
			({ reader, next } = streamBatches(r.body, BATCH));
			// files of unencrypted rooms pass through as they are
			gcm = job.key ? await GcmStream.create(job.key, job.iv, false) : null;
		},
		async pull(c) {
			if (!reader)
				return;
			if (prof.lastPull)
				prof.consumer += performance.now() - prof.lastPull;
			try {
				for (;;) {
					let t = performance.now();
					const { done, value } = await (ahead || next());
					prof.network += performance.now() - t;
					ahead = null;
					let outP = null;
					if (value) {
						bytes += value.length;
						outP = gcm ? gcm.updateParts(value) : Promise.resolve([value.slice()]);
					}
					if (!done) {
						ahead = next(); // value is copied: the buffer may be refilled now
						ahead.catch(() => {});
					}
					t = performance.now();
					const out = outP ? await outP : [];
					prof.decrypt += performance.now() - t;
					if (bytes - lastReport > (1 << 20)) {
						lastReport = bytes;
						port.postMessage({ type: 'progress', bytes });
					}
					if (out.length) {
						const prev = held;
						held = out;
						if (prev) {
							for (const p of prev)
								c.enqueue(p);
							if (!done) {
								prof.lastPull = performance.now();
								return;
							}
						}
					}
					if (done) {
						const last = gcm ? await gcm.finalVerify(job.tag) : new Uint8Array(0);
						for (const p of held || [])
							c.enqueue(p);
						if (last.length)
							c.enqueue(last);
						c.close();
						if (job.key)
							job.key.fill(0);
						prof.total = performance.now() - prof.t0;
						port.postMessage({ type: 'done', bytes, prof });
						return;
					}
				}
			} catch (e) {
				fail(c, e.name === 'TagError' ? e.message : `download failed: ${e.message}`);
			}
		},
		cancel() {
			if (reader)
				reader.cancel().catch(() => {});
			port.postMessage({ type: 'error', message: 'the download was cancelled' });
		},
	// a queue of up to QUEUE bytes: the browser's download keeps taking while the next
	// batch is decrypted (with a queue of one chunk it waited for every batch), and the
	// stream still asks for no more than that (back-pressure: the fetch is not read on)
	}, { highWaterMark: QUEUE, size: (chunk) => chunk.byteLength });
}

self.addEventListener('fetch', (e) => {
	const u = new URL(e.request.url);
	if (u.origin !== self.location.origin || !u.pathname.startsWith('/__databox/download/'))
		return; // everything else goes to the network untouched
	const job = jobs.get(u.pathname.slice('/__databox/download/'.length));
	if (!job) {
		e.respondWith(new Response('This download link is not valid (any more).', { status: 404 }));
		return;
	}
	jobs.delete(job.id);
	const headers = { 'Content-Type': 'application/octet-stream', 'Content-Disposition': contentDisposition(job.name),
		'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
	if (job.size !== undefined)
		headers['Content-Length'] = String(job.size);
	e.respondWith(new Response(decryptingStream(job), { headers }));
});
