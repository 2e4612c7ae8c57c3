// e2e_lib.mjs - what the browser tests do more than once.
import fs from 'node:fs';

// Runs action (which starts a download), waits for the browser's download and for the
// page's status line (statusSel) to end in "Saved" or "failed"; returns the download,
// its saved path (null when it failed) and the bytes.
export async function saveVia(page, action, statusSel = 'p.status') {
	const dlP = page.waitForEvent('download', { timeout: 60000 });
	await action();
	const dl = await dlP;
	await page.waitForFunction((sel) => /Saved|failed/.test(document.querySelector(sel)?.textContent || ''), statusSel, { timeout: 60000 });
	let p = null;
	try {
		p = await dl.path();
	} catch (e) {
		p = null;
	}
	return { dl, path: p, bytes: p ? fs.readFileSync(p) : null };
}
