// e2e_tree.mjs - a room manager's work on whole trees in the browser: copy and move of
// folders (within the seed's rules), deleting a folder with contents after a
// confirmation that says what goes, renaming and deleting a room; and the wrong-role
// attacker: a write member calling the API directly gets 403 and nothing changes.
// Called by e2e.mjs after manageTests (carol manages webroom, dave writes there).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { saveVia, appHelpers } from './e2e_lib.mjs';

export async function treeTests({ page, cfg, ok, T }) {
	const { tryAs, text, waitText, login, openRoom, api } = appHelpers(cfg, T);
	const f1 = fs.readFileSync(T('web-upload.bin'));
	const blobs = () => fs.readdirSync(path.join(cfg.tmp, 'state/blobs')).length;
	const items = async (p, parent) => (await api(p, 'GET', parent ? `/nodes?parent_id=${parent}` : '/nodes'))[1].items;
	// hidden users of that name in the server's database (read beside the running server)
	const users = (name) => Number(execFileSync('/usr/bin/python3', ['-c', 'import sqlite3, sys; ' +
		"print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM users WHERE name = ?', (sys.argv[2],)).fetchone()[0])",
		path.join(cfg.tmp, 'state/databox.db'), name]).toString());
	const named = async (p, parent, name) => (await items(p, parent)).find((n) => n.name === name);

	await login(page, 'carol');
	// a tree to work on: webroom/box/inner/web-upload.bin
	const web = await named(page, 0, 'webroom');
	const file = await named(page, web.id, 'web-upload.bin');
	const box = (await api(page, 'POST', '/nodes/folders', { parentId: web.id, name: 'box' }))[1];
	const inner = (await api(page, 'POST', '/nodes/folders', { parentId: box.id, name: 'inner' }))[1];
	await api(page, 'POST', `/nodes/files/${file.id}/copy_to`, { targetId: inner.id });
	const sub = await named(page, web.id, 'sub');

	// ---- copy a folder with its contents into another folder ----
	await openRoom(page, 'webroom');
	await page.click('tr[data-name="box"] button.copy');
	await page.selectOption('.move-target', { label: 'webroom / sub' });
	await page.focus('.move-target');
	await page.keyboard.press('Tab');
	await page.keyboard.press('Enter');
	await waitText(page, '#room-status', /copied|cannot/);
	ok('tree: a folder copy (chosen and confirmed with the keyboard) is confirmed', /box was copied/.test(await text(page, '#room-status')), await text(page, '#room-status'));
	for (const [n, inside] of [['sub', 'box'], ['box', 'inner'], ['inner', 'web-upload.bin']]) {
		await page.click(`tr[data-name="${n}"] a`);
		await page.waitForSelector(`tr[data-name="${inside}"]`);
	}
	await page.click('tr[data-name="web-upload.bin"] button.dl');
	await page.fill('#unlock-password', 'carol third pw');
	const r1 = await saveVia(page, () => page.press('#unlock-password', 'Enter'), '#room-status');
	ok('tree: the copied folder\'s file (two levels down) downloads byte-exact', r1.bytes && r1.bytes.equals(f1));

	// ---- the server's refusals, in words ----
	await openRoom(page, 'webroom');
	await page.click('tr[data-name="box"] button.move');
	await page.selectOption('.move-target', { label: 'webroom / sub' });
	await page.click('.move-ok');
	await waitText(page, '#room-status', /cannot/);
	ok('tree: moving a folder where its name is taken says so', /cannot move box there: a file or folder of that name is there already/.test(await text(page, '#room-status')), await text(page, '#room-status'));
	const subBox = await named(page, sub.id, 'box');
	const [into] = await api(page, 'POST', `/nodes/folders/${sub.id}/move_to`, { targetId: subBox.id });
	ok('tree: a folder cannot be moved into its own subfolder (400)', into === 400 && !!(await named(page, web.id, 'sub')), String(into));

	// ---- move a folder to another encrypted room (carol manages webroom, writes in vault) ----
	await openRoom(page, 'webroom');
	await page.click('tr[data-name="box"] button.move');
	await page.selectOption('.move-target', { label: 'vault' });
	await page.click('.move-ok');
	await waitText(page, '#room-status', /moved|cannot/);
	ok('tree: a folder moves to another encrypted room; alice sees it there with the CLI',
		/box was moved to vault/.test(await text(page, '#room-status')) && /box/.test(tryAs('alice', ['ls', 'vault'])) &&
		!/\bbox\b/.test(tryAs('carol', ['ls', 'webroom'])), await text(page, '#room-status'));

	// ---- the wrong-role attacker: dave (write member of webroom) calls the API himself ----
	const dp = await page.context().newPage();
	await login(dp, 'dave');
	const daveRoom = (await api(dp, 'POST', '/nodes/rooms', { name: 'daveroom' }))[1];
	await api(dp, 'PUT', `/nodes/rooms/${daveRoom.id}/encrypt`, { isEncrypted: true });
	const attempts = [
		await api(dp, 'DELETE', `/nodes/${sub.id}`),
		await api(dp, 'PUT', `/nodes/rooms/${web.id}`, { name: 'taken-over' }),
		await api(dp, 'DELETE', `/nodes/${web.id}`),
		await api(dp, 'POST', `/nodes/folders/${sub.id}/move_to`, { targetId: daveRoom.id }),
	].map(([st]) => st);
	const [vaultBoxSt] = await api(dp, 'GET', `/nodes/${box.id}/summary`);
	ok('tree: a write member\'s own API calls to delete a full folder, rename or delete the room, move a folder out get 403',
		attempts.every((st) => st === 403), attempts.join(','));
	ok('tree: a non-member cannot even count what a folder of another room holds (404)', vaultBoxSt === 404, String(vaultBoxSt));
	const after = await named(page, 0, 'webroom');
	ok('tree: after the refused calls the room keeps its name and the folder its contents',
		!!after && (await items(page, sub.id)).length === 2 && !(await named(dp, daveRoom.id, 'sub')));
	await dp.click('#nav-rooms');
	await dp.waitForSelector('tr[data-name="daveroom"] button.room-rename');
	ok('tree: the rooms list offers rename and delete only where one is a manager',
		(await dp.locator('tr[data-name="webroom"] button.room-rename').count()) === 0);
	await dp.close();

	// ---- delete a folder with contents: the confirmation says what goes ----
	await openRoom(page, 'webroom');
	const nBlobs = blobs();
	await page.click('tr[data-name="sub"] button.delete');
	await page.waitForSelector('.delete-ok');
	const confirm = await text(page, '#room-status');
	ok('tree: deleting a folder with contents first says what goes with it', /Delete the folder sub and everything in it \(2 files and 2 folders, /.test(confirm), confirm);
	await page.click('.delete-ok');
	await page.waitForSelector('tr[data-name="sub"]', { state: 'detached' });
	ok('tree: the folder and everything in it are gone (CLI ls, both blobs removed on the server)',
		!/\bsub\b/.test(tryAs('carol', ['ls', 'webroom'])) && blobs() === nBlobs - 2, `blobs ${nBlobs} -> ${blobs()}`);

	// ---- rename and delete a room ----
	await page.click('#nav-rooms');
	await page.fill('#room-name', 'doomed');
	await page.press('#room-name', 'Enter');
	await page.waitForSelector('tr[data-name="doomed"] button.room-rename');
	await page.click('tr[data-name="doomed"] button.room-rename');
	await page.keyboard.press('Escape');
	const closed = (await page.locator('.room-rename-name').count()) === 0;
	await page.click('tr[data-name="doomed"] button.room-rename');
	await page.fill('.room-rename-name', 'doomed two');
	await page.keyboard.press('Enter');
	await page.waitForSelector('tr[data-name="doomed two"]');
	ok('tree: a manager renames a room with the keyboard (Escape closes the form); the CLI sees the new name',
		closed && /doomed two/.test(tryAs('carol', ['ls'])));
	const doomed = await named(page, 0, 'doomed two');
	await api(page, 'POST', '/nodes/folders', { parentId: doomed.id, name: 'left' });
	const rs = tryAs('carol', ['rescue', 'set-room', 'doomed two', '--version', 'A', '--iterations', '1000',
		'--rescue-password-file', T('room.rpw'), '--key-password-file', T('carol3.key')]);
	const rescueBefore = users(`rescue:${doomed.id}`);
	await page.click('tr[data-name="doomed two"] button.room-delete');
	await page.waitForSelector('.room-delete-ok');
	const confirm2 = await text(page, '#rooms-status');
	ok('tree: deleting a room first says what goes with it', /Delete the room doomed two and everything in it \(0 files and 1 folder/.test(confirm2), confirm2);
	await page.click('.room-delete-ok');
	await page.waitForSelector('tr[data-name="doomed two"]', { state: 'detached' });
	ok('tree: the room is deleted (CLI ls), and its rescue key with it (a later room reusing the id must not inherit it)',
		!/doomed/.test(tryAs('carol', ['ls'])) && rescueBefore === 1 && users(`rescue:${doomed.id}`) === 0, `${rs} ${rescueBefore}`);
	await page.click('#logout');
	await page.waitForSelector('#login-form');
}
