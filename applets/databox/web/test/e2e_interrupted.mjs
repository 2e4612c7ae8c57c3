// e2e_interrupted.mjs - an upload cut off by a reload is reported on the next load (name
// and size, so the user knows to send it again), storage holds nothing secret, and the
// page asks before it is left while a transfer runs. The upload is held mid-way by
// routing its first chunk POST and never answering it.
// Called by e2e.mjs with the upload share (cfg.shares.upload); uses its own page.
import crypto from 'node:crypto';

export async function interruptedTests({ ctx, cfg, ok }) {
	const page = await ctx.newPage();
	const dialogs = [];
	page.on('dialog', (d) => { dialogs.push(d.type()); d.accept().catch(() => {}); });
	try {
		let held = null;
		const seen = new Promise((res) => {
			page.route((u) => /\/public\/shares\/uploads\/[0-9a-f]+\/[^/?]+\?offset=/.test(u.href), (route) => {
				held = route; // never answered: the upload stays running
				res();
			});
		});
		await page.goto(`${cfg.base}/u/${cfg.shares.upload}`);
		await page.waitForSelector('#upload-files');
		ok('interrupted: no notice on a first visit', (await page.locator('#interrupted').count()) === 0);
		await page.setInputFiles('#upload-files', [{ name: 'cut off.bin', mimeType: 'application/octet-stream',
			buffer: crypto.randomBytes(3 * 1048576) }]);
		await page.click('#upload-send');
		await Promise.race([seen, new Promise((res, rej) => setTimeout(() => rej(new Error('the chunk POST was never routed')), 30000))]);
		const stored = await page.evaluate(() => localStorage.getItem('databox-unfinished-uploads'));
		let entries = [];
		try { entries = JSON.parse(stored); } catch (e) { /* checked below */ }
		ok('interrupted: a running upload is recorded (name and size)', entries.length === 1 &&
			entries[0].name === 'cut off.bin' && entries[0].size === 3 * 1048576, stored);
		const allowed = new Set(['id', 'tab', 'name', 'size', 'where', 'at', 'seen']);
		const all = await page.evaluate(() => Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`).join('\n'));
		ok('interrupted: localStorage holds only names, sizes and times (no key, password, token or upload id)',
			entries.every((u) => Object.keys(u).every((k) => allowed.has(k))) && !all.includes(cfg.shares.upload) &&
			!/share-pass|key pw|login-pw|Bearer|uploadId|"key"/.test(all), all);
		const warned = await page.evaluate(() => {
			const e = new Event('beforeunload', { cancelable: true });
			window.dispatchEvent(e);
			return e.defaultPrevented;
		});
		ok('interrupted: leaving the page while an upload runs asks first (beforeunload)', warned);
		await page.reload();
		if (held)
			held.abort().catch(() => {});
		await page.waitForSelector('#upload-files');
		const note = await page.locator('#interrupted').textContent({ timeout: 10000 }).catch(() => '');
		ok('interrupted: after the reload the page says which upload did not finish', /did not finish/.test(note) &&
			note.includes('cut off.bin') && note.includes('3.0 MiB'), note);
		const left = await page.evaluate(() => localStorage.getItem('databox-unfinished-uploads'));
		await page.click('#interrupted-dismiss');
		ok('interrupted: the notice is dismissed and shown once', left === null && (await page.locator('#interrupted').count()) === 0, String(left));
		await page.reload();
		await page.waitForSelector('#upload-files');
		ok('interrupted: no notice on the next load', (await page.locator('#interrupted').count()) === 0);
		const idle = await page.evaluate(() => {
			const e = new Event('beforeunload', { cancelable: true });
			window.dispatchEvent(e);
			return e.defaultPrevented;
		});
		ok('interrupted: no leave warning when nothing runs', !idle);
		console.log(`# beforeunload dialogs seen on reload: ${dialogs.join(',') || 'none'}`);
	} finally {
		await page.close();
	}
}
