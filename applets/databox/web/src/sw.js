// sw.js - the service worker: answers /__databox/download/ID with a stream the
// browser's download reads. The page (download.js) fetches and decrypts the file and
// hands the plaintext over on a MessageChannel, batch by batch; this worker only queues
// it for the download, so a file of any size passes in constant memory and the
// decryption runs beside this thread, not in it. It never sees a key.
//
// The page holds the last batch back until the GCM tag verified; an error it sends
// errors the stream, so the browser marks the download as failed (it never completes
// under its real name) and the page says why.

const jobs = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('message', (e) => {
	const m = e.data;
	if (!m || m.type !== 'download' || !e.ports[0])
		return;
	// what the page sends may arrive before the browser asks for the download
	const job = { id: m.id, name: String(m.name || 'download'), size: m.size, port: e.ports[0], inbox: [], wake: null };
	job.port.onmessage = (ev) => {
		job.inbox.push(ev.data);
		if (job.wake) {
			job.wake();
			job.wake = null;
		}
	};
	jobs.set(m.id, job);
	// a job that is never fetched does not stay forever
	setTimeout(() => jobs.delete(m.id), 60000);
	job.port.postMessage({ type: 'ready' });
});

function contentDisposition(name) {
	const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
	return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

// Up to QUEUE bytes wait for the browser: its download keeps taking while the page
// decrypts the next batch, and the stream asks for more (pull) only below that, so the
// page (which sends a batch only for each one taken) never runs far ahead.
const QUEUE = 4 << 20;

function fedStream(job) {
	const port = job.port;
	return new ReadableStream({
		async pull(c) {
			while (!job.inbox.length)
				await new Promise((res) => { job.wake = res; });
			const m = job.inbox.shift();
			if (m.type === 'data') {
				for (const p of m.parts)
					c.enqueue(p);
				port.postMessage({ type: 'taken' });
			} else if (m.type === 'end') {
				c.close();
			} else {
				c.error(new Error(m.message || 'the download failed'));
			}
		},
		cancel() {
			port.postMessage({ type: 'cancel', message: 'the download was cancelled' });
		},
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
	e.respondWith(new Response(fedStream(job), { headers }));
});
