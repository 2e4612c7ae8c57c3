// download.js - a download of any size into the file the browser saves, in constant
// memory: this page fetches the ciphertext and decrypts it (streaming GCM, WebCrypto),
// and hands the plaintext, batch by batch, to the service worker (sw.js), whose only
// job is the stream the browser's download reads.
//
// Why the work is split so: with the fetch and the decryption in the service worker
// too, its one thread did the WebCrypto calls and fed the download's pipe in turn,
// and a download ran at a third of what the worker's stream alone reaches here
// (bench/databox_web/ceiling.mjs: sw-ctr against sw-stream). Here the page's thread
// and the service worker's run side by side; the buffers are transferred, not copied.
//
// The key never reaches the service worker. The last batch is held back until the GCM
// tag verified: a tag that does not verify errors the worker's stream, so the browser
// marks the download as failed (it never completes under its real name).
import { GcmStream } from './crypto/gcm.js';
import { streamBatches } from './batches.js';
import { b64encode } from './crypto/bytes.js';

// The network's pieces gathered into one reused 1 MiB buffer (a multiple of the AES
// block; GcmStream copies its input when called, so the buffer is refilled at once).
const BATCH = 1 << 20;
// Batches handed to the service worker and not yet taken by its stream: with its own
// queue (sw.js QUEUE) this bounds what is alive at any time.
const WINDOW = 4;

let swReady = null;

export function serviceWorkerReady() {
	if (!swReady) {
		swReady = (async () => {
			if (!('serviceWorker' in navigator))
				throw new Error('this browser cannot stream downloads (no service workers; a private window may disable them)');
			await navigator.serviceWorker.register('/sw.js', { scope: '/' });
			await navigator.serviceWorker.ready;
			if (!navigator.serviceWorker.controller)
				await new Promise((res) => navigator.serviceWorker.addEventListener('controllerchange', res, { once: true }));
			return navigator.serviceWorker.controller;
		})();
	}
	return swReady;
}

async function fetchOk(url, auth) {
	let r;
	try {
		r = await fetch(url, { headers: auth ? { Authorization: auth } : {}, credentials: 'omit', cache: 'no-store' });
	} catch (e) {
		throw new Error('the server cannot be reached');
	}
	if (!r.ok) {
		let msg = `the server answered ${r.status}`;
		try { msg = (await r.json()).message || msg; } catch (e) { /* not JSON */ }
		throw new Error(msg);
	}
	return r;
}

// Fetches url (ciphertext, with auth when given), decrypts it with fk (null: stored
// plain) into the browser's download named name; resolves to the bytes once the tag
// verified and the last byte was handed over. A server error comes before any download
// starts; a failure later fails the download the browser shows.
export async function saveDecrypted({ url, auth, fk, name, size }, onProgress) {
	const ctl = await serviceWorkerReady();
	const r = await fetchOk(url, auth);
	const id = b64encode(crypto.getRandomValues(new Uint8Array(18))).replace(/[+/=]/g, 'x');
	const ch = new MessageChannel(), port = ch.port1;
	// the service worker says: ready (the download may start), taken (its stream took a
	// batch: one more may go), cancel (the user or the browser stopped the download)
	let credit = WINDOW, wake = null, stopped = null, started = null;
	const ready = new Promise((res) => { started = res; });
	const poke = () => { if (wake) { wake(); wake = null; } };
	port.onmessage = (e) => {
		const m = e.data;
		if (m.type === 'ready')
			started();
		else if (m.type === 'taken')
			credit++;
		else if (m.type === 'cancel')
			stopped = new Error(m.message || 'the download was cancelled');
		poke();
	};
	ctl.postMessage({ type: 'download', id, name, size }, [ch.port2]);
	// where the time goes (ms), logged for the benchmark: waiting for the network, for
	// the decryption, and for the browser's download to take what was handed over
	const prof = { network: 0, decrypt: 0, consumer: 0, t0: performance.now() };
	const send = async (parts) => {
		const t = performance.now();
		while (credit <= 0 && !stopped)
			await new Promise((res) => { wake = res; });
		prof.consumer += performance.now() - t;
		if (stopped)
			throw stopped;
		credit--;
		const full = parts.filter((p) => p.length);
		port.postMessage({ type: 'data', parts: full }, full.map((p) => p.buffer));
	};
	let reader = null;
	try {
		await ready;
		const a = document.createElement('a');
		a.href = `/__databox/download/${id}`;
		a.rel = 'noopener';
		document.body.append(a);
		a.click();
		a.remove();
		const gcm = fk ? await GcmStream.create(fk.key, fk.iv, false) : null;
		let next;
		({ next, reader } = streamBatches(r.body, BATCH));
		let held = null, bytes = 0, lastReport = 0;
		for (;;) {
			let t = performance.now();
			const { done, value } = await next();
			prof.network += performance.now() - t;
			t = performance.now();
			// every part is a buffer of its own (transferred on): the plain path copies
			const out = value ? await (gcm ? gcm.updateParts(value) : Promise.resolve([value.slice()])) : [];
			prof.decrypt += performance.now() - t;
			if (value)
				bytes += value.length;
			if (out.length) {
				if (held)
					await send(held);
				held = out;
			}
			if (onProgress && (bytes - lastReport > BATCH || done)) {
				lastReport = bytes;
				onProgress(size ? bytes / size : 1);
			}
			if (done)
				break;
		}
		const last = gcm ? await gcm.finalVerify(fk.tag) : new Uint8Array(0);
		await send([...(held || []), last]);
		port.postMessage({ type: 'end' });
		prof.total = performance.now() - prof.t0;
		console.debug(`databox download profile (ms): ${JSON.stringify(prof, (k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
		return bytes;
	} catch (e) {
		if (reader)
			reader.cancel().catch(() => {});
		port.postMessage({ type: 'error', message: e.message });
		throw e;
	} finally {
		port.onmessage = null;
	}
}
