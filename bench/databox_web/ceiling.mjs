// ceiling.mjs - what this machine's Chromium can do at all, with no databox in it: the
// bounds under the browser rows of bench/databox_web/run. Served by a throw-away HTTP
// server on 127.0.0.1 (localhost is a secure context: service workers and the
// origin-private file system work), MB MiB each, best of ROUNDS:
//   download   <a download> of a static file (the browser's own download path)
//   sw-stream  a service worker streaming one reused buffer to a download (the path
//              the /s/ page's download takes, with no fetch and no crypto)
//   sw-ctr     the same, each 256 KiB piece first through WebCrypto's AES-CTR (the
//              keystream half of the streaming GCM; the GHASH half is not counted)
//   read       File.stream() of a picked file, BYOB into one reused 1 MiB buffer (the
//              /u/ page's first step)
//   ctr        WebCrypto AES-CTR alone over 256 KiB pieces in a dedicated worker
//   post-1     fetch() POSTs of 8 MiB Blobs, one at a time (the /u/ page's chunk upload,
//              with no crypto; the server drops the bytes)
//   post-2     the same with two POSTs in flight
//   post-16    one at a time, 16 MiB Blobs
//   opfs-ctr   a dedicated worker writing the AES-CTR output of each 256 KiB piece into the
//              origin-private file system (sync access handle), then <a download> of
//              that File: a download that reaches the user's folder only once whole (the
//              alternative to sw-ctr's stream), timed to the end of the download
//   post-file  fetch() POSTs of 8 MiB slices of the picked File (bodies the network
//              service reads from disk, not from the renderer)
//   post-opfs  the upload staged on disk: opfs-ctr's write, then its File POSTed in 8 MiB
//              slices as post-file
//   h2-stream  fetch() POSTs whose body is a ReadableStream of 1 MiB pieces, 64 MiB per
//              request, over HTTP/2 (Chromium streams request bodies only over HTTP/2
//              or QUIC; databox's listener is HTTP/1.1): what an HTTP/2 listener would
//              give the upload. TLS with a throw-away self-signed certificate, which this
//              browser context is told to accept.
// and first the peak RSS of this page's renderer before any row (a near-empty page and
// its service worker): the floor under the 256 MB renderer goal, and how much of it is
// the browser's own mapped binary (RssFile, shared with every Chromium process).
// (A body given as a Uint8Array instead of a Blob ran at 5 MiB/s here, XMLHttpRequest
// as fast as fetch, a WebSocket sending 1 or 8 MiB messages at 17 MiB/s.)
// Usage: node ceiling.mjs WEBDIR [MB] [ROUNDS]   (WEBDIR: applets/databox/web, for
// playwright-core). Prints one line per row; never fails.
import http from 'node:http';
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const [webdir, mbArg, roundsArg] = process.argv.slice(2);
const MB = Number(mbArg || 256), ROUNDS = Number(roundsArg || 2);
const { chromium } = createRequire(path.join(path.resolve(webdir), 'package.json'))('playwright-core');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sealbox-ceiling-'));
const big = path.join(tmp, 'big.bin');
{
	const fd = fs.openSync(big, 'w'), b = Buffer.alloc(1 << 20, 0x5a);
	for (let i = 0; i < MB; i++)
		fs.writeSync(fd, b);
	fs.closeSync(fd);
}
const page = `<!doctype html><meta charset="utf-8"><input type="file" id="f"><script src="/page.js"></script>`;
const pageJs = `
navigator.serviceWorker.register('/sw.js');
window.swReady = navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller ? 1 :
	new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r)));
window.readFile = async () => {
	const f = document.getElementById('f').files[0], t0 = performance.now();
	const rd = f.stream().getReader({ mode: 'byob' });
	let buf = new ArrayBuffer(1 << 20), n = 0;
	for (;;) {
		const r = await rd.read(new Uint8Array(buf));
		if (r.done) break;
		n += r.value.byteLength; buf = r.value.buffer;
	}
	return { ms: performance.now() - t0, n };
};
window.post = async (mb, depth, chunk = 8 << 20) => {
	const n = Math.ceil((mb << 20) / chunk), t0 = performance.now();
	const src = new Uint8Array(chunk);
	let i = 0;
	const lane = async () => {
		while (i < n) {
			i++;
			const r = await fetch('/sink', { method: 'POST', body: new Blob([src]) });
			if (!r.ok) throw new Error('POST ' + r.status);
			await r.arrayBuffer();
		}
	};
	await Promise.all(Array.from({ length: depth }, lane));
	return { ms: performance.now() - t0 };
};
// POSTs of slices of a file on disk (the picked File, or one in the origin-private file
// system): the network service reads those from disk, not through the renderer
window.postFile = async (chunk, opfs) => {
	const f = opfs ? await (await (await navigator.storage.getDirectory()).getFileHandle('o.bin')).getFile()
		: document.getElementById('f').files[0];
	const t0 = performance.now();
	for (let o = 0; o < f.size; o += chunk) {
		const r = await fetch('/sink', { method: 'POST', body: f.slice(o, Math.min(f.size, o + chunk)) });
		if (!r.ok) throw new Error('POST ' + r.status);
		await r.arrayBuffer();
	}
	return { ms: performance.now() - t0 };
};
window.postStream = async (mb, piece, perReq) => {
	const total = mb << 20, t0 = performance.now();
	let sent = 0;
	while (sent < total) {
		let inReq = 0;
		const body = new ReadableStream({ pull(c) {
			if (inReq >= perReq || sent >= total) return c.close();
			c.enqueue(new Uint8Array(piece)); inReq += piece; sent += piece; } });
		const r = await fetch('/sink', { method: 'POST', body, duplex: 'half' });
		if (!r.ok) throw new Error('POST ' + r.status);
		await r.arrayBuffer();
	}
	return { ms: performance.now() - t0 };
};
// mb MiB through AES-CTR into the origin-private file system from a dedicated worker
// (sync access handle); the File is kept as a blob URL for the download
window.opfs = (mb) => new Promise((res, rej) => {
	const w = new Worker('/opfs.js');
	w.onmessage = async (e) => { w.terminate();
		if (e.data.err) return rej(new Error(e.data.err));
		const dir = await navigator.storage.getDirectory();
		const f = await (await dir.getFileHandle('o.bin')).getFile();
		window.opfsUrl = URL.createObjectURL(f); res(e.data.ms); };
	w.postMessage(mb);
});
window.ctr = (mb) => new Promise((res) => {
	const w = new Worker('/ctr.js');
	w.onmessage = (e) => { res(e.data); w.terminate(); };
	w.postMessage(mb);
});`;
const ctrJs = `
onmessage = async (e) => {
	const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-CTR', false, ['encrypt']);
	const src = new Uint8Array(256 << 10), counter = new Uint8Array(16), t0 = performance.now();
	for (let i = 0; i < e.data * 4; i++)
		await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, key, src);
	postMessage({ ms: performance.now() - t0 });
};`;
const opfsJs = `
onmessage = async (e) => {
	try {
		const t0 = performance.now(), dir = await navigator.storage.getDirectory();
		const h = await (await dir.getFileHandle('o.bin', { create: true })).createSyncAccessHandle();
		h.truncate(0);
		const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-CTR', false, ['encrypt']);
		const src = new Uint8Array(256 << 10), counter = new Uint8Array(16);
		let at = 0;
		for (let i = 0; i < e.data * 4; i++)
			at += h.write(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, key, src)), { at });
		h.flush(); h.close();
		postMessage({ ms: performance.now() - t0 });
	} catch (x) { postMessage({ err: String(x) }); }
};`;
const swJs = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
	const u = new URL(e.request.url);
	if (!u.pathname.startsWith('/gen/')) return;
	const ctr = u.pathname.startsWith('/gen/ctr'), piece = 256 << 10, total = ${MB} << 20;
	const src = new Uint8Array(piece), counter = new Uint8Array(16);
	const keyP = crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-CTR', false, ['encrypt']);
	let sent = 0;
	const body = new ReadableStream({
		async pull(c) {
			if (sent >= total) return c.close();
			c.enqueue(ctr ? new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, await keyP, src)) : src);
			sent += piece;
		},
	}, { highWaterMark: 4 << 20, size: (x) => x.byteLength });
	e.respondWith(new Response(body, { headers: { 'Content-Type': 'application/octet-stream',
		'Content-Disposition': 'attachment; filename="g.bin"', 'Content-Length': String(total) } }));
});`;
const files = { '/': [page, 'text/html'], '/page.js': [pageJs, 'text/javascript'], '/sw.js': [swJs, 'text/javascript'],
	'/ctr.js': [ctrJs, 'text/javascript'], '/opfs.js': [opfsJs, 'text/javascript'] };
const srv = http.createServer((req, res) => {
	if (req.url === '/big.bin') {
		res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': fs.statSync(big).size });
		return fs.createReadStream(big).pipe(res);
	}
	if (req.url === '/sink' && req.method === 'POST') {
		req.on('data', () => {});
		req.on('end', () => { res.writeHead(200, { 'Content-Length': 0 }); res.end(); });
		return;
	}
	const f = files[req.url];
	res.writeHead(f ? 200 : 404, { 'Content-Type': f ? f[1] : 'text/plain' });
	res.end(f ? f[0] : 'no');
});
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const base = `http://localhost:${srv.address().port}`;
// the HTTP/2 origin for h2-stream: the same page and sink behind TLS
let h2 = null;
try {
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(tmp, 'h2.key'),
		'-out', path.join(tmp, 'h2.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
		{ stdio: 'ignore' });
	h2 = http2.createSecureServer({ key: fs.readFileSync(path.join(tmp, 'h2.key')), cert: fs.readFileSync(path.join(tmp, 'h2.pem')),
		settings: { initialWindowSize: 16 << 20 } }, (req, res) => {
		if (req.url === '/sink') {
			req.on('data', () => {});
			req.on('end', () => res.end());
			return;
		}
		const f = files[req.url === '/' ? '/h2' : req.url];
		res.writeHead(f ? 200 : 404, { 'content-type': f ? f[1] : 'text/plain' });
		res.end(f ? f[0] : 'no');
	});
	// the connection's window too, or the sink's 64 KiB default would pace the upload
	h2.on('session', (ss) => ss.setLocalWindowSize(64 << 20));
	await new Promise((r) => h2.listen(0, '127.0.0.1', r));
} catch (e) {
	h2 = null;
}
files['/h2'] = [`<!doctype html><meta charset="utf-8"><script src="/page.js"></script>`, 'text/html'];
// the renderers of this profile: the largest peak RSS, and that process's mapped files
const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
function rendererPeak() {
	let best = { hwm: 0, file: 0 };
	for (const pid of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
		try {
			const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
			if (!cmd.includes('--type=renderer') || !cmd.includes(profile))
				continue;
			const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8'), kb = (k) => Number(st.match(new RegExp(k + ':\\s+(\\d+)'))[1]);
			if (kb('VmHWM') > best.hwm)
				best = { hwm: kb('VmHWM'), file: kb('RssFile') };
		} catch (e) { /* gone */ }
	}
	return best;
}
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: '/usr/bin/chromium', headless: true, acceptDownloads: true, downloadsPath: tmp,
	ignoreHTTPSErrors: true, // only the h2-stream row's throw-away certificate
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
	const p = ctx.pages()[0] || await ctx.newPage();
	await p.goto(base + '/');
	await p.evaluate(() => window.swReady);
	const floor = rendererPeak();
	const dl = async (href) => {
		const t0 = Date.now(), ev = p.waitForEvent('download');
		// the static file is marked by the link, the worker's stream by its Content-Disposition
		await p.evaluate((h) => { const a = document.createElement('a'); a.href = h;
			if (!h.startsWith('/gen/')) a.download = 'x.bin';
			if (h === 'opfs') a.href = window.opfsUrl;
			document.body.append(a); a.click(); a.remove(); }, href);
		const d = await ev, f = await d.path();
		const ms = Date.now() - t0, ok = fs.statSync(f).size === MB << 20;
		fs.rmSync(f);
		return ok ? ms : Infinity;
	};
	// the whole of it: written into the origin-private file system, then downloaded
	const opfs = async () => {
		const t0 = Date.now();
		await p.evaluate((mb) => window.opfs(mb), MB);
		return await dl('opfs') === Infinity ? Infinity : Date.now() - t0;
	};
	const rows = {
		download: () => dl('/big.bin'),
		'sw-stream': () => dl('/gen/plain'),
		'sw-ctr': () => dl('/gen/ctr'),
		'opfs-ctr': opfs,
		read: async () => { await p.setInputFiles('#f', big); return (await p.evaluate(() => window.readFile())).ms; },
		ctr: async () => (await p.evaluate((mb) => window.ctr(mb), MB)).ms,
		'post-1': async () => (await p.evaluate((mb) => window.post(mb, 1), MB)).ms,
		'post-2': async () => (await p.evaluate((mb) => window.post(mb, 2), MB)).ms,
		'post-16': async () => (await p.evaluate((mb) => window.post(mb, 1, 16 << 20), MB)).ms,
		'post-file': async () => { await p.setInputFiles('#f', big); return (await p.evaluate(() => window.postFile(8 << 20, false))).ms; },
		'post-opfs': async () => {
			const t0 = Date.now();
			await p.evaluate((mb) => window.opfs(mb), MB);
			await p.evaluate(() => window.postFile(8 << 20, true));
			return Date.now() - t0;
		},
		'h2-stream': async () => {
			if (!h2)
				return Infinity;
			const q = await ctx.newPage();
			try {
				await q.goto(`https://localhost:${h2.address().port}/`);
				return (await q.evaluate((mb) => window.postStream(mb, 1 << 20, 64 << 20), MB)).ms;
			} finally {
				await q.close();
			}
		},
	};
	console.log(`browser ceilings on this machine (Chromium ${ctx.browser()?.version() || ''}, ${MB} MiB, best of ${ROUNDS}, no databox involved):`);
	console.log(`  renderer peak RSS of a near-empty page and its service worker: ${Math.round(floor.hwm / 1024)} MB, ${Math.round(floor.file / 1024)} MB of it the browser's mapped files`);
	for (const [name, f] of Object.entries(rows)) {
		let best = Infinity;
		for (let i = 0; i < ROUNDS; i++)
			best = Math.min(best, await f());
		console.log(`  ceiling ${name.padEnd(10)} ${best === Infinity ? 'failed' : `${Math.round(MB / (best / 1000))} MiB/s`}`);
	}
} catch (e) {
	console.log(`browser ceilings: not measured (${e.message.split('\n')[0]})`);
} finally {
	await ctx.close();
	srv.close();
	h2?.close();
	fs.rmSync(tmp, { recursive: true, force: true });
}
