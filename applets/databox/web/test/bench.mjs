// bench.mjs - one browser transfer for bench/databox_web/run: "KEY" uploads FILE
// through /u/KEY, "s:KEY" downloads /s/KEY (password bench-share-pw) and compares with
// FILE; "f:KEY" the same through Save as… (File System Access; the native picker, which
// headless Chromium cannot click, replaced by a handle in the origin-private file
// system, found afterwards in the profile by its size). Prints seconds and the peak RSS (VmHWM) over the browser's renderer processes.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, key, file, tmp] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(tmp, 'bprofile-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: '/usr/bin/chromium', headless: true, acceptDownloads: true, downloadsPath: tmp,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});
// every renderer's VmHWM (peak RSS), sampled until the end (renderers may come and go),
// and the peaks of what RSS is made of: the process's own memory (RssAnon), shared
// memory (RssShmem) and mapped files (RssFile: mostly Chromium's own binary, shared by
// all its processes; an empty page's renderer maps ~100 MB of it here)
const hwm = new Map(), comp = new Map();
const sample = () => {
	for (const p of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(p))
			continue;
		try {
			const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
			if (!cmd.includes('--type=renderer') || !cmd.includes(profile))
				continue;
			const st = fs.readFileSync(`/proc/${p}/status`, 'utf8'), g = (k) => Number(st.match(new RegExp(k + ':\\s+(\\d+)'))[1]);
			hwm.set(p, Math.max(hwm.get(p) || 0, g('VmHWM')));
			const o = comp.get(p) || { anon: 0, shmem: 0, file: 0 };
			comp.set(p, { anon: Math.max(o.anon, g('RssAnon')), shmem: Math.max(o.shmem, g('RssShmem')), file: Math.max(o.file, g('RssFile')) });
		} catch (e) { /* gone */ }
	}
};
const timer = setInterval(sample, 200);
const page = ctx.pages()[0] || await ctx.newPage();
page.on('console', (m) => { if (/profile/.test(m.text())) console.log(`# ${m.text()}`); });
const status = (re) => page.waitForFunction((src) => new RegExp(src).test(document.querySelector('p.status')?.textContent || ''),
	re.source, { timeout: 3600000, polling: 500 });
// compares two files in slices (constant memory here too)
function sameFile(pa, pb) {
	if (fs.statSync(pa).size !== fs.statSync(pb).size)
		return false;
	const a = fs.openSync(pa, 'r'), b = fs.openSync(pb, 'r');
	const ba = Buffer.alloc(1 << 22), bb = Buffer.alloc(1 << 22);
	let same = true;
	for (let off = 0; same; off += ba.length) {
		const na = fs.readSync(a, ba, 0, ba.length, off), nb = fs.readSync(b, bb, 0, bb.length, off);
		if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb)))
			same = false;
		if (na === 0)
			break;
	}
	fs.closeSync(a);
	fs.closeSync(b);
	return same;
}
let kind;
const t0 = Date.now();
if (key.startsWith('f:')) {
	kind = 'fsa';
	await page.addInitScript(() => {
		window.showSaveFilePicker = async ({ suggestedName }) =>
			(await navigator.storage.getDirectory()).getFileHandle(suggestedName, { create: true });
	});
	await page.goto(`${base}/s/${key.slice(2)}`);
	await page.fill('#share-password', 'bench-share-pw');
	await page.click('#share-saveas');
	await status(/Saved|failed/);
	console.log(`fsa_seconds=${(Date.now() - t0) / 1000}`);
	const size = fs.statSync(file).size;
	const found = [];
	const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) { const q = path.join(d, f.name);
		if (f.isDirectory()) walk(q); else if (f.isFile() && fs.statSync(q).size === size) found.push(q); } };
	walk(profile);
	console.log(`fsa_same=${found.some((q) => sameFile(q, file)) ? 'yes' : 'NO'}`);
} else if (key.startsWith('s:')) {
	kind = 'down';
	await page.goto(`${base}/s/${key.slice(2)}`);
	await page.fill('#share-password', 'bench-share-pw');
	const dlP = page.waitForEvent('download', { timeout: 3600000 });
	await page.press('#share-password', 'Enter');
	const dl = await dlP;
	await status(/Saved|failed/);
	const secs = (Date.now() - t0) / 1000;
	const p = await dl.path();
	const same = !!p && sameFile(p, file);
	console.log(`down_seconds=${secs}`);
	console.log(`down_same=${same ? 'yes' : 'NO'}`);
	if (p)
		fs.rmSync(p);
} else {
	kind = 'up';
	await page.goto(`${base}/u/${key}`);
	await page.setInputFiles('#upload-files', [file]);
	await page.click('#upload-send');
	await status(/Done|sent/);
	console.log(`up_seconds=${(Date.now() - t0) / 1000}`);
}
sample();
clearInterval(timer);
console.log(`# ${kind}: per renderer peak anon/shmem/file MB: ${[...comp.values()].map((v) => [v.anon, v.shmem, v.file].map((x) => Math.round(x / 1024)).join('/')).join(', ')}`);
console.log(`${kind}_renderer_hwm_kb=${Math.max(0, ...hwm.values())}`);
// each renderer's peak: which process holds the memory (the page's, the service worker's)
console.log(`# ${kind}: peak RSS per renderer (MB): ${[...hwm.values()].map((v) => Math.round(v / 1024)).join(', ')}`);
await ctx.close();
