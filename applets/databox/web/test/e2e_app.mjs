// e2e_app.mjs - the logged-in web app in the browser, against the CLI: carol works in
// the browser (key pair made there), dave with the CLI. Called by e2e.mjs.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { saveVia } from './e2e_lib.mjs';

export async function appTests({ page, cfg, ok, T }) {
	const as = (u, args) => execFileSync(cfg.sealbox, ['databox', ...args],
		{ env: { ...process.env, HOME: T(`home-${u}`), XDG_CONFIG_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
	const text = (sel) => page.locator(sel).first().textContent();
	const base = cfg.base;

	await page.goto(`${base}/`);
	await page.fill('#login-user', 'carol');
	await page.fill('#login-password', 'wrong password');
	await page.press('#login-password', 'Enter');
	await page.waitForSelector('p.status.error');
	ok('app: a wrong login password says so', /Wrong user name or password/.test(await text('p.status')));
	await page.fill('#login-password', 'carol-login-pw');
	await page.press('#login-password', 'Enter');
	await page.waitForSelector('#kp-form');
	ok('app: first login asks for a key pair, RSA-4096 preselected', (await page.inputValue('#kp-version')) === 'RSA-4096');
	await page.fill('#kp-password', 'carol key pw');
	await page.fill('#kp-password2', 'carol key pw');
	await page.click('#kp-create');
	await page.waitForSelector('#room-form', { timeout: 120000 });
	as('carol', ['login', '--server', base, '--ca', path.join(cfg.certs, 'ca.pem'), '--user', 'carol', '--password-file', T('carol.login')]);
	// the container the browser stored opens with the CLI (PBES2, 1.3M iterations, SHA-1 PRF)
	let cliUnlock = '';
	try {
		const tok = fs.readFileSync(T('home-carol/.config/databox/token'), 'utf8').trim();
		const j = await page.evaluate(async (t) => (await fetch('/api/v1/user/account/keypair', { headers: { Authorization: `Bearer ${t}` } })).text(), tok);
		fs.writeFileSync(T('carol.kp.json'), j);
		cliUnlock = execFileSync(cfg.sealbox, ['databox', 'crypto', 'unlock-keypair', T('carol.kp.json')],
			{ env: { ...process.env, DATABOX_PASSWORD: 'carol key pw' } }).toString();
	} catch (e) { cliUnlock = String(e.stderr || e); }
	ok('app: the key pair made in the browser unlocks with the CLI (RSA-4096, PBKDF2-HMAC-SHA1, 1300000 iterations, 20-byte salt)',
		/unlocked RSA-4096 key pair \(RSA-4096; PBKDF2-HMAC-SHA1, 1300000 iterations, 20-byte salt; matches/.test(cliUnlock), cliUnlock);

	// the session expires mid-form: sign in again over the page, the typed name stays
	await page.fill('#room-name', 'webroom');
	await page.route('**/api/v1/nodes/rooms', (route) => route.fulfill({ status: 401, contentType: 'application/json',
		body: '{"code":401,"message":"login required"}' }));
	await page.click('#room-create');
	await page.waitForSelector('#relogin-form');
	const kept = (await page.inputValue('#room-name')) === 'webroom';
	await page.unroute('**/api/v1/nodes/rooms');
	await page.fill('#relogin-password', 'carol-login-pw');
	await page.press('#relogin-password', 'Enter');
	await page.waitForSelector('#relogin-form', { state: 'detached' });
	ok('app: an expired session asks to sign in again over the page and keeps the form', kept);
	// the refused request goes again with the new token, once: no second click
	let again = true;
	try {
		await page.waitForSelector('a.room-link[data-name="webroom"]', { timeout: 15000 });
	} catch (e) { again = false; }
	ok('app: after signing in again the refused action completes by itself, once',
		again && (await page.locator('a.room-link[data-name="webroom"]').count()) === 1);
	ok('app: an encrypted room is created in the browser', /yes/.test(await page.locator('#rooms tr', { hasText: 'webroom' }).textContent()));
	as('carol', ['room', 'add-member', 'webroom', 'dave', '--role', 'write']);
	as('dave', ['login', '--server', base, '--ca', path.join(cfg.certs, 'ca.pem'), '--user', 'dave', '--password-file', T('dave.login')]);
	as('dave', ['keygen', '--iterations', '1000', '--key-password-file', T('dave.key')]);

	// browser upload -> CLI download
	const f1 = T('web-upload.bin');
	fs.writeFileSync(f1, Buffer.concat([crypto.randomBytes(2300000), Buffer.from('PLAINTEXT-MARKER-7171')]));
	await page.click('a.room-link[data-name="webroom"]');
	await page.waitForSelector('#upload-input');
	await page.setInputFiles('#upload-input', [f1]);
	await page.waitForSelector('#uploads li .ok', { timeout: 120000 });
	ok('app: browser upload says done and that the key went to dave', /key shared with 1 member key/.test(await text('#uploads li .ok')),
		await text('#uploads li'));
	let same = false;
	try {
		as('dave', ['download', 'webroom/web-upload.bin', T('dave-1.bin'), '--key-password-file', T('dave.key')]);
		same = fs.readFileSync(T('dave-1.bin')).equals(fs.readFileSync(f1));
	} catch (e) { same = false; }
	ok('app: a file uploaded in the browser downloads with the CLI byte-exact (the other user)', same);

	// CLI upload -> browser download (unlock prompt)
	const f2 = T('cli-upload.bin');
	fs.writeFileSync(f2, crypto.randomBytes(1500000));
	as('dave', ['upload', f2, 'webroom']);
	await page.click('#nav-rooms');
	await page.click('a.room-link[data-name="webroom"]');
	await page.waitForSelector('tr[data-name="cli-upload.bin"]');
	// the key is still unlocked from key creation in this session: reload forgets it;
	// the room stays open and a half-typed form keeps its text (passwords excepted)
	await page.fill('#folder-name', 'half typed');
	await page.reload();
	await page.waitForSelector('tr[data-name="cli-upload.bin"]');
	ok('app: a reload keeps the open room and what was typed into its form', (await page.inputValue('#folder-name')) === 'half typed');
	await page.fill('#folder-name', '');
	await page.click('tr[data-name="cli-upload.bin"] button.dl');
	await page.waitForSelector('#unlock-password');
	await page.fill('#unlock-password', 'not my password');
	await page.press('#unlock-password', 'Enter');
	await page.waitForSelector('#unlock-form .status.error');
	ok('app: a wrong decryption password says so and allows a retry', /Wrong decryption password/.test(await text('#unlock-form .status')));
	await page.fill('#unlock-password', 'carol key pw');
	const r2 = await saveVia(page, () => page.press('#unlock-password', 'Enter'), 'main p.status');
	ok('app: a file uploaded with the CLI downloads in the browser byte-exact, under its name',
		r2.dl.suggestedFilename() === 'cli-upload.bin' && r2.bytes && r2.bytes.equals(fs.readFileSync(f2)));

	// dave loses his key password: the browser prompts carol and distributes in one click
	as('dave', ['keypair', 'reset', '--iterations', '1000', '--key-password-file', T('dave2.key')]);
	await page.click('#nav-rooms');
	await page.click('a.room-link[data-name="webroom"]');
	await page.waitForSelector('#missing-keys');
	ok('app: the missing-keys prompt names one waiting colleague', /1 colleague is waiting for keys/.test(await text('#missing-keys')));
	await page.click('#distribute');
	await page.waitForFunction(() => /Done: \d+ file key/.test(document.querySelector('#missing-keys .status')?.textContent || ''));
	same = false;
	try {
		as('dave', ['download', 'webroom/web-upload.bin', T('dave-2.bin'), '--key-password-file', T('dave2.key')]);
		same = fs.readFileSync(T('dave-2.bin')).equals(fs.readFileSync(f1));
	} catch (e) { same = false; }
	ok('app: after one click on the prompt dave (new key pair) downloads with the CLI again', same);

	// a download share made in the app, opened on the share page, then cancelled
	await page.click('tr[data-name="web-upload.bin"] button.share');
	await page.fill('#share-new-password', 'app-share-pw-1');
	await page.click('#share-create');
	await page.waitForSelector('#share-link', { timeout: 60000 });
	const link = await page.inputValue('#share-link');
	ok('app: share creation shows a /s/ link', new RegExp(`^${base}/s/[0-9a-f]{32}$`).test(link), link);
	const p = await page.context().newPage();
	await p.goto(link);
	await p.fill('#share-password', 'app-share-pw-1');
	const r3 = await saveVia(p, () => p.press('#share-password', 'Enter'));
	ok('app: the share made in the app downloads on its page byte-exact', r3.bytes && r3.bytes.equals(fs.readFileSync(f1)));
	await page.click('#nav-shares');
	await page.waitForSelector('#download-shares tr');
	await page.click('#download-shares tr button.cancel-share');
	await page.waitForFunction(() => /Cancelled/.test(document.querySelector('p.status')?.textContent || ''));
	await p.goto(link);
	let gone = true;
	try {
		await p.waitForFunction(() => /does not exist/.test(document.querySelector('p.status')?.textContent || ''), null, { timeout: 15000 });
	} catch (e) { gone = false; }
	ok('app: a cancelled share link says it does not exist', gone && !(await p.$('#share-password')),
		await p.textContent('p.status').catch(() => ''));
	await p.close();

	// carol loses her decryption password: reset in the browser, dave hands the keys out again
	await page.click('#nav-rooms');
	await page.click('#kp-reset');
	await page.click('#kp-reset-confirm');
	await page.waitForSelector('#kp-form');
	await page.selectOption('#kp-version', 'A');
	await page.fill('#kp-password', 'carol new key pw');
	await page.fill('#kp-password2', 'carol new key pw');
	await page.click('#kp-create');
	await page.waitForSelector('#room-form', { timeout: 120000 });
	const dist = as('dave', ['distribute', '--key-password-file', T('dave2.key')]);
	await page.reload();
	await page.click('a.room-link[data-name="webroom"]');
	await page.click('tr[data-name="web-upload.bin"] button.dl');
	await page.fill('#unlock-password', 'carol new key pw');
	const r4 = await saveVia(page, () => page.press('#unlock-password', 'Enter'), 'main p.status');
	ok('app: after a key pair reset in the browser (new pair version A) and the CLI\'s distribute, the browser downloads again',
		r4.bytes && r4.bytes.equals(fs.readFileSync(f1)), dist);

	await page.click('#logout');
	await page.waitForSelector('#login-form');
	ok('app: sign out returns to the login page and forgets the token',
		await page.evaluate(() => sessionStorage.getItem('databox-token') === null));
}
