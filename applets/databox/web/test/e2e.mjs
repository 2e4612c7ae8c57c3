// e2e.mjs - databox's web app in headless Chromium (Debian's /usr/bin/chromium) through
// playwright-core; started by tests/integration/databox_web.sh with a JSON file that
// names the server, the shares it made and the test folder. Prints ok/not ok/skip lines.
import { chromium } from 'playwright-core';
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appTests } from './e2e_app.mjs';
import { manageTests } from './e2e_manage.mjs';
import { treeTests } from './e2e_tree.mjs';
import { saveVia } from './e2e_lib.mjs';
import { interruptedTests } from './e2e_interrupted.mjs';
import { fsaTests } from './e2e_fsa.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const origin = new URL(cfg.base).origin;
let failures = 0;
const ok = (name, cond, why = '') => {
	if (!cond)
		failures++;
	console.log(`${cond ? 'ok' : 'not ok'} - ${name}${!cond && why ? ` (${why})` : ''}`);
};
const skip = (name, why) => console.log(`skip - ${name}: ${why}`);
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const T = (f) => path.join(cfg.tmp, f);
const cli = (args, opts = {}) => execFileSync(cfg.sealbox, ['databox', ...args],
	{ env: { ...process.env, HOME: T('home-alice'), XDG_CONFIG_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'], ...opts });

const profile = fs.mkdtempSync(path.join(cfg.tmp, 'profile-'));
const downloads = fs.mkdtempSync(path.join(cfg.tmp, 'downloads-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
	env: { ...process.env, HOME: cfg.home },
	acceptDownloads: true,
	downloadsPath: downloads,
});
const requests = [];
ctx.on('request', (r) => requests.push(r.url()));
// anything for another origin is recorded and refused (the CSP should stop it first)
const foreign = [];
await ctx.route('**/*', (route) => {
	const u = route.request().url();
	if (!u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) {
		foreign.push(u);
		return route.abort();
	}
	return route.continue();
});
const page = ctx.pages()[0] || await ctx.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));
const statusText = () => page.locator('p.status').textContent();
const waitStatus = (re, timeout = 60000) => page.waitForFunction((src) => {
	const e = document.querySelector('p.status');
	return e && new RegExp(src).test(e.textContent);
}, re.source, { timeout });

try {
	// ---- headers ----
	const resp = await page.goto(`${cfg.base}/s/${cfg.shares.a}`);
	const hd = resp.headers();
	const csp = hd['content-security-policy'] || '';
	ok('the page is served over HTTPS that the browser trusts (test CA in the profile\'s NSS db)', resp.ok());
	ok('CSP: no inline script, connect-src \'self\', frame-ancestors \'none\'',
		/script-src 'self'(;|$)/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp) && /connect-src 'self'/.test(csp) &&
		/frame-ancestors 'none'/.test(csp) && /default-src 'none'/.test(csp), csp);
	ok('Referrer-Policy: no-referrer', hd['referrer-policy'] === 'no-referrer');
	ok('HSTS is set', /max-age=\d{7,}/.test(hd['strict-transport-security'] || ''));
	ok('X-Content-Type-Options: nosniff', hd['x-content-type-options'] === 'nosniff');
	const html = await resp.text();
	ok('index.html loads its script and stylesheet with SRI (sha384) and content-hashed names',
		/<script src="\/assets\/app-[0-9a-f]{16}\.js" integrity="sha384-[A-Za-z0-9+/=]+"/.test(html) &&
		/<link rel="stylesheet" href="\/assets\/style-[0-9a-f]{16}\.css" integrity="sha384-/.test(html) && !/<script>/.test(html));
	// fetched by the page itself (the node side does not trust the test CA)
	const pget = (u) => page.evaluate(async (url) => {
		const r = await fetch(url);
		return { status: r.status, headers: Object.fromEntries(r.headers.entries()), text: await r.text() };
	}, u);
	const mj = JSON.parse((await pget('/.well-known/databox-web.json')).text);
	const local = JSON.parse(fs.readFileSync(path.join(cfg.web, '.well-known/databox-web.json'), 'utf8'));
	ok('/.well-known/databox-web.json lists the SHA-256 of every built file', JSON.stringify(mj.files) === JSON.stringify(local.files) &&
		Object.keys(mj.files).length >= 4);
	const api = (await pget('/api/v1/user/account')).headers;
	ok('API answers carry the headers too (nosniff, no-referrer, frame-ancestors)', api['x-content-type-options'] === 'nosniff' &&
		api['referrer-policy'] === 'no-referrer' && /frame-ancestors 'none'/.test(api['content-security-policy'] || ''));

	// ---- DRACOON's vectors in the browser ----
	const vdir = path.join(cfg.vectors, 'java-crypto-sdk/unit');
	if (fs.existsSync(vdir)) {
		const vec = {};
		const walk = (d, pre) => { for (const f of fs.readdirSync(d)) { const p = path.join(d, f); if (fs.statSync(p).isDirectory()) walk(p, `${pre}${f}/`); else vec[pre + f] = fs.readFileSync(p, 'utf8'); } };
		walk(vdir, '');
		for (const [k, f] of [['js/kp_rsa4096_2.json', 'kp_rsa4096_2/kp_rsa4096_2.json'], ['js/kp_rsa2048_old.json', 'kp_rsa2048_old/kp_rsa2048_old.json']]) {
			const p = path.join(cfg.vectors, 'js-crypto-sdk/test/keys/javascript', f);
			if (fs.existsSync(p))
				vec[k] = fs.readFileSync(p, 'utf8');
		}
		// the same vector code as test/node-vectors.mjs, bundled, evaluated in the page
		// through the debugger protocol (the page's CSP allows no injected script)
		const b = await build({ entryPoints: [path.join(here, 'browser-entry.mjs')], bundle: true, write: false,
			format: 'iife', platform: 'browser', target: 'es2020', external: ['crypto'], logLevel: 'error' });
		await page.evaluate(b.outputFiles[0].text);
		const lines = await page.evaluate((v) => globalThis.DBXTEST.vectors(v), vec);
		for (const [n, c] of lines)
			ok(`browser: ${n}`, c);
		// browser-made file key and file, opened by the CLI's offline commands
		fs.mkdirSync(T('bx'), { recursive: true });
		execFileSync(cfg.sealbox, ['databox', 'crypto', 'keygen', '--version', 'A', '--iterations', '1000', '--out', T('bx/cli')],
			{ env: { ...process.env, DATABOX_PASSWORD: 'cli key pw' }, stdio: 'ignore' });
		const pub = JSON.parse(fs.readFileSync(T('bx/cli.public.json'), 'utf8'));
		const plain = crypto.randomBytes(1100000); // several of GcmStream's pieces
		const r = await page.evaluate(([p, pk]) => globalThis.DBXTEST.encryptForCli(p, pk), [plain.toString('base64'), pub]);
		fs.writeFileSync(T('bx/enc.bin'), Buffer.from(r.ct, 'base64'));
		fs.writeFileSync(T('bx/plain.key.json'), JSON.stringify(r.plainKey));
		fs.writeFileSync(T('bx/wrapped.json'), JSON.stringify(r.wrapped));
		ok('browser: the plain file key is written as "AES-256-GCM"', r.plainKey.version === 'AES-256-GCM');
		let cliOk = false;
		try {
			execFileSync(cfg.sealbox, ['databox', 'crypto', 'decrypt-file', '--file-key', T('bx/plain.key.json'), T('bx/enc.bin'), T('bx/out.bin')], { stdio: 'ignore' });
			cliOk = fs.readFileSync(T('bx/out.bin')).equals(plain);
		} catch (e) { /* stays false */ }
		ok('a file encrypted in the browser decrypts with `databox crypto decrypt-file`', cliOk);
		let unw = false;
		try {
			const out = execFileSync(cfg.sealbox, ['databox', 'crypto', 'decrypt-file-key', '--private-key', T('bx/cli.private.json'), T('bx/wrapped.json')],
				{ env: { ...process.env, DATABOX_PASSWORD: 'cli key pw' } });
			unw = JSON.parse(out).key === r.plainKey.key;
		} catch (e) { /* stays false */ }
		ok('a file key wrapped in the browser (version A, MGF1-SHA1) unwraps with `databox crypto decrypt-file-key`', unw);
		await page.goto(`${cfg.base}/s/${cfg.shares.a}`);
	} else {
		skip('browser: DRACOON vectors', `${vdir} not present`);
	}

	// ---- download share, version A: wrong password, then the right one ----
	await page.waitForSelector('#share-password');
	ok('the share page names the file', (await page.textContent('#share-name')) === 'report.bin');
	await page.fill('#share-password', 'not-the-password');
	await page.press('#share-password', 'Enter');
	await waitStatus(/Wrong password/);
	ok('a wrong share password says so and allows a retry',
		/Wrong password/.test(await statusText()) && await page.isEnabled('#share-download'));
	await page.fill('#share-password', 'share-pass-123');
	let r = await saveVia(page, () => page.press('#share-password', 'Enter'));
	ok('download share (A): saved under the original name', r.dl.suggestedFilename() === 'report.bin');
	ok('download share (A): the saved bytes equal the uploaded file', r.bytes && r.bytes.equals(fs.readFileSync(T('report.bin'))));
	ok('download share (A): the page says the integrity was verified', /Saved report\.bin.*verified/.test(await statusText()));
	await page.reload();
	await waitStatus(/used up|expired/);
	ok('after its one allowed download the share says it is used up', /used up/.test(await statusText()));

	// ---- RSA-4096 share, a non-ASCII name ----
	await page.goto(`${cfg.base}/s/${cfg.shares.rsa4096}`);
	await page.waitForSelector('#share-password');
	await page.fill('#share-password', 'share-pass-123');
	r = await saveVia(page, () => page.click('#share-download'));
	ok('download share (RSA-4096): the name "small file ä.txt" and the bytes are right',
		r.dl.suggestedFilename() === 'small file ä.txt' && r.bytes && r.bytes.equals(fs.readFileSync(T('small file ä.txt'))));

	// ---- expired share ----
	await page.goto(`${cfg.base}/s/${cfg.shares.expired}`);
	await waitStatus(/expired|used up|does not exist/);
	ok('an expired share says so (and shows no password field)', /expired/.test(await statusText()) &&
		await page.locator('#share-password').count() === 0);

	// ---- tampered blob ----
	const before = new Set(fs.readdirSync(downloads));
	await page.goto(`${cfg.base}/s/${cfg.shares.tamper}`);
	await page.waitForSelector('#share-password');
	await page.fill('#share-password', 'share-pass-123');
	r = await saveVia(page, () => page.press('#share-password', 'Enter'));
	const failure = await r.dl.failure();
	ok('a tampered blob: the page reports the failure', /Download failed.*does not authenticate/.test(await statusText()), await statusText());
	ok('a tampered blob: the browser marks the download as failed', failure !== null, `failure=${failure}`);
	const tp = r.path;
	const tamperPlain = fs.readFileSync(T('tamper.bin'));
	const left = fs.readdirSync(downloads).filter((f) => !before.has(f)).map((f) => path.join(downloads, f));
	const complete = left.filter((f) => fs.statSync(f).size >= tamperPlain.length);
	console.log(`# the failed download left in the downloads folder: ${left.map((f) => `${path.basename(f)} (${fs.statSync(f).size} bytes)`).join(', ') || 'nothing'}`);
	ok('a tampered blob: no complete file is left (the last piece is held back until the tag verified)',
		tp === null && complete.length === 0,
		`path=${tp} files=${left.map((f) => `${path.basename(f)}:${fs.statSync(f).size}`).join(',')}`);

	// ---- upload share ----
	await page.goto(`${cfg.base}/u/${cfg.shares.upload}`);
	await page.waitForSelector('#upload-files');
	const up1 = T('from-browser-1.bin'), up2 = T('from browser 2.txt');
	fs.writeFileSync(up1, Buffer.concat([crypto.randomBytes(2500000), Buffer.from('PLAINTEXT-MARKER-7171')]));
	fs.writeFileSync(up2, crypto.randomBytes(1048576 + 17));
	await page.setInputFiles('#upload-files', [up1, up2]);
	await page.click('#upload-send');
	await waitStatus(/Done|sent/, 120000);
	ok('upload share: the browser says done for both files', /Done: 2 file\(s\) sent/.test(await statusText()), await statusText());
	for (const f of [up1, up2]) {
		const out = T(`cli-${path.basename(f)}`);
		let same = false;
		try {
			cli(['download', `vault/${path.basename(f)}`, out, '--key-password-file', T('alice.key')]);
			same = fs.readFileSync(out).equals(fs.readFileSync(f));
		} catch (e) { same = false; }
		ok(`upload share: "${path.basename(f)}" from the browser downloads with the CLI byte-exact (a member)`, same);
	}

	// ---- the logged-in app ----
	try {
		await appTests({ page, cfg, ok, T });
		await manageTests({ page, cfg, ok, T });
		await treeTests({ page, cfg, ok, T });
	} catch (e) {
		ok('app: the logged-in flow ran to its end', false, e.stack || String(e));
	}
	try {
		await fsaTests({ ctx, cfg, ok, T });
	} catch (e) {
		ok('Save as…: the test ran to its end', false, e.stack || String(e));
	}
	try {
		await interruptedTests({ ctx, cfg, ok });
	} catch (e) {
		ok('interrupted: the reload test ran to its end', false, e.stack || String(e));
	}

	// ---- nothing left the origin ----
	ok(`no request left the origin (${requests.length} requests recorded)`, foreign.length === 0 &&
		requests.every((u) => u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:')),
		foreign.concat(requests.filter((u) => !u.startsWith(origin))).join(' '));
	ok('no request carried a password in its URL', requests.every((u) => !/share-pass-123|alice%20key/.test(u)));
	const csp_errors = consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e));
	ok('no CSP violation in the console', csp_errors.length === 0, csp_errors.join(' | '));
} catch (e) {
	ok('the browser test ran to its end', false, e.stack || String(e));
} finally {
	await ctx.close();
}
process.exit(failures ? 1 : 0);
