// e2e_fsa.mjs - the share page's "Save as…" (File System Access API, src/save_fsa.js):
// the right bytes land in the picked file, and a file whose tag fails leaves no
// good-looking file (the picked one is removed) while the page says so. Headless
// Chromium cannot click through the native picker, so the picker alone is replaced by
// one that returns a real FileSystemFileHandle in the origin-private file system;
// createWritable, write, close, abort and remove are the browser's own.
// Called by e2e.mjs with the RSA-4096 share (no download limit) and the tampered one.
import fs from 'node:fs';

export async function fsaTests({ ctx, cfg, ok, T }) {
	const page = await ctx.newPage();
	await page.addInitScript(() => {
		if (!('showSaveFilePicker' in window))
			return; // the page must then offer no Save as…
		window.showSaveFilePicker = async ({ suggestedName }) => {
			const dir = await navigator.storage.getDirectory();
			window.__picked = suggestedName;
			return dir.getFileHandle(suggestedName, { create: true });
		};
	});
	const opfs = (name) => page.evaluate(async (n) => {
		const dir = await navigator.storage.getDirectory();
		try {
			const f = await (await dir.getFileHandle(n)).getFile();
			return Array.from(new Uint8Array(await f.arrayBuffer()));
		} catch (e) {
			return null; // not there
		}
	}, name);
	const waitStatus = (re) => page.waitForFunction((src) => new RegExp(src).test(document.querySelector('p.status')?.textContent || ''),
		re.source, { timeout: 60000 });
	const status = async () => (await page.locator('p.status').textContent()) || '';
	try {
		await page.goto(`${cfg.base}/s/${cfg.shares.rsa4096}`);
		await page.waitForSelector('#share-password');
		if (!(await page.evaluate(() => typeof window.showSaveFilePicker === 'function'))) {
			ok('Save as…: offered only where the browser has showSaveFilePicker', (await page.locator('#share-saveas').count()) === 0);
			console.log('skip - Save as… (File System Access): this Chromium has no showSaveFilePicker');
			return;
		}
		let downloads = 0;
		page.on('download', () => downloads++);
		await page.fill('#share-password', 'share-pass-123');
		await page.click('#share-saveas');
		await waitStatus(/Saved|failed/);
		const want = fs.readFileSync(T('small file ä.txt'));
		const got = await opfs('small file ä.txt');
		ok('Save as…: the picked file holds the decrypted bytes', got !== null && Buffer.from(got).equals(want),
			`${got ? got.length : 'no file'} vs ${want.length} bytes`);
		ok('Save as…: the page says it was saved and verified, and no browser download ran',
			/Saved small file ä\.txt.*verified/.test(await status()) && downloads === 0, `${await status()} downloads=${downloads}`);

		await page.goto(`${cfg.base}/s/${cfg.shares.tamper}`);
		await page.waitForSelector('#share-password');
		await page.fill('#share-password', 'share-pass-123');
		await page.click('#share-saveas');
		await waitStatus(/Saved|failed/);
		const st = await status();
		ok('Save as… of a tampered blob: the page reports the failure and what became of the file',
			/Download failed.*does not authenticate.*tamper\.bin (was removed|was left empty \(0 bytes\))/.test(st), st);
		const left = await opfs('tamper.bin');
		ok('Save as… of a tampered blob: no file with any of its bytes is left (removed, or 0 bytes where remove() is missing)',
			left === null || left.length === 0, left ? `${left.length} bytes left` : '');
		console.log(`# Save as… of a tampered blob: the picked file was ${left === null ? 'removed' : `left with ${left.length} bytes`}`);

		await page.goto(`${cfg.base}/s/${cfg.shares.rsa4096}`);
		await page.waitForSelector('#share-password');
		await page.fill('#share-password', 'not-the-password');
		await page.click('#share-saveas');
		await waitStatus(/Wrong password/);
		ok('Save as… with a wrong password: says so and allows a retry', /Wrong password/.test(await status()) &&
			!(await page.locator('#share-saveas').isDisabled()));
	} finally {
		await page.close();
	}
}
