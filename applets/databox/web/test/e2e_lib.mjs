// e2e_lib.mjs - what the browser tests do more than once.
import { execFileSync } from 'node:child_process';
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

// The logged-in tests' helpers: the CLI as user u (its own HOME), text and waits on a
// page, signing in, opening a room from the rooms list.
export function appHelpers(cfg, T) {
	const as = (u, args) => execFileSync(cfg.sealbox, ['databox', ...args],
		{ env: { ...process.env, HOME: T(`home-${u}`), XDG_CONFIG_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
	const tryAs = (u, args) => { try { return as(u, args); } catch (e) { return `FAILED ${e.stderr || e}`; } };
	const text = async (p, sel) => (await p.locator(sel).first().textContent()) || '';
	const waitText = (p, sel, re, timeout = 60000) => p.waitForFunction(([s, src]) =>
		new RegExp(src).test(document.querySelector(s)?.textContent || ''), [sel, re.source], { timeout });
	const login = async (p, user) => {
		await p.goto(`${cfg.base}/`);
		await p.fill('#login-user', user);
		await p.fill('#login-password', `${user}-login-pw`);
		await p.press('#login-password', 'Enter');
		await p.waitForSelector('#room-form');
	};
	const openRoom = async (p, name) => {
		await p.click('#nav-rooms');
		await p.click(`a.room-link[data-name="${name}"]`);
		await p.waitForSelector('#files tr');
	};
	// the API as the page's signed-in user: [status, JSON body or null]
	const api = (p, method, apiPath, body) => p.evaluate(async ([m, u, b]) => {
		const t = sessionStorage.getItem('databox-token');
		const r = await fetch(`/api/v1${u}`, { method: m, headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' },
			body: b === undefined ? undefined : JSON.stringify(b) });
		let j = null;
		try { j = await r.json(); } catch (e) { /* no body */ }
		return [r.status, j];
	}, [method, apiPath, body]);
	return { as, tryAs, text, waitText, login, openRoom, api };
}
