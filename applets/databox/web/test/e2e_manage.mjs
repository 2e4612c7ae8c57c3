// e2e_manage.mjs - the app's management features in the browser: a new decryption
// password, members and roles, rename/delete/copy with the room's rules, and the rescue
// keys in the wrapping of a browser upload. carol (manager of webroom) and dave (write
// member) work in two tabs; alice (administrator) with the CLI. Called by e2e.mjs
// after appTests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { saveVia, appHelpers } from './e2e_lib.mjs';

export async function manageTests({ page, cfg, ok, T }) {
	const { as, tryAs, text, waitText, login, openRoom } = appHelpers(cfg, T);
	const f1 = fs.readFileSync(T('web-upload.bin'));

	// ---- a new decryption password: the new one opens, the old one does not ----
	await login(page, 'carol');
	await page.click('#pw-open');
	await page.fill('#pw-old', 'carol wrong pw');
	await page.fill('#pw-new', 'carol third pw');
	await page.fill('#pw-new2', 'carol third pw');
	await page.click('#pw-change');
	await waitText(page, '#pw-form .status', /wrong/, 120000);
	ok('manage: a wrong current password is refused when changing it', /current decryption password is wrong/.test(await text(page, '#pw-form .status')));
	await page.fill('#pw-old', 'carol new key pw');
	await page.click('#pw-change');
	await page.waitForSelector('#pw-done', { timeout: 180000 });
	await page.reload();
	await openRoom(page, 'webroom');
	await page.click('tr[data-name="web-upload.bin"] button.dl');
	await page.fill('#unlock-password', 'carol new key pw');
	await page.press('#unlock-password', 'Enter');
	await page.waitForSelector('#unlock-form .status.error', { timeout: 120000 });
	ok('manage: after the change the old decryption password no longer unlocks', /Wrong decryption password/.test(await text(page, '#unlock-form .status')));
	await page.fill('#unlock-password', 'carol third pw');
	const r1 = await saveVia(page, () => page.press('#unlock-password', 'Enter'), '#room-status');
	ok('manage: the new password unlocks and the file (its key kept) downloads byte-exact', r1.bytes && r1.bytes.equals(f1));
	fs.writeFileSync(T('carol3.key'), 'carol third pw\n');
	fs.writeFileSync(T('carol2.key'), 'carol new key pw\n');
	const c3 = tryAs('carol', ['download', 'webroom/web-upload.bin', T('carol-3.bin'), '--key-password-file', T('carol3.key')]);
	const c2 = tryAs('carol', ['download', 'webroom/web-upload.bin', T('carol-2.bin'), '--key-password-file', T('carol2.key')]);
	ok('manage: the CLI opens the changed container with the new password and not with the old',
		!/FAILED/.test(c3) && fs.readFileSync(T('carol-3.bin')).equals(f1) && /FAILED/.test(c2), `${c3} / ${c2}`);

	// ---- members and roles (carol manages webroom) ----
	await page.click('#members-open');
	await page.waitForSelector('#members tr[data-name="dave"]');
	ok('manage: the members list shows dave with his role', /write/.test(await page.locator('#members tr[data-name="dave"] select').inputValue()));
	await page.fill('#member-name', 'bob');
	await page.selectOption('#member-role', 'read');
	await page.click('#member-add');
	await page.waitForSelector('#members tr[data-name="bob"]');
	await page.fill('#member-name', 'nobody-here');
	await page.click('#member-add');
	await waitText(page, '#members-box p.status', /cannot add/);
	ok('manage: adding an unknown user says there is no such user', /no user of that name/.test(await text(page, '#members-box p.status')));
	await page.selectOption('#members tr[data-name="bob"] select.member-role', 'write');
	await waitText(page, '#members-box p.status', /bob is now/);
	ok('manage: a role change is confirmed', /bob is now a write member/.test(await text(page, '#members-box p.status')));
	await page.click('#members tr[data-name="carol"] button.member-remove');
	await waitText(page, '#members-box p.status', /cannot remove/);
	ok('manage: the last manager cannot be removed (said so)', /last manager/.test(await text(page, '#members-box p.status')));
	await page.click('#members tr[data-name="bob"] button.member-remove');
	await page.waitForSelector('#members tr[data-name="bob"]', { state: 'detached' });
	ok('manage: a member is removed', /bob was removed/.test(await text(page, '#members-box p.status')));

	// ---- dave (write member) in a second tab: what a non-manager sees and may do ----
	const dp = await page.context().newPage();
	await login(dp, 'dave');
	await openRoom(dp, 'webroom');
	await dp.click('#members-open');
	await dp.waitForSelector('#members tr[data-name="carol"]');
	ok('manage: a write member sees the members but no form to change them',
		(await dp.locator('#member-form').count()) === 0 && /Only the room's managers/.test(await text(dp, '#members-box')));
	const forged = await dp.evaluate(async () => {
		const t = sessionStorage.getItem('databox-token');
		const rooms = await (await fetch('/api/v1/nodes', { headers: { Authorization: `Bearer ${t}` } })).json();
		const room = rooms.items.find((n) => n.name === 'webroom');
		const m = await (await fetch(`/api/v1/nodes/rooms/${room.id}/users`, { headers: { Authorization: `Bearer ${t}` } })).json();
		const carol = m.items.find((x) => x.userName === 'carol');
		const r = await fetch(`/api/v1/nodes/rooms/${room.id}/users/${carol.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${t}` } });
		return r.status;
	});
	ok('manage: the server refuses a write member\'s forged member removal (403)', forged === 403, String(forged));

	// rename by carol is seen by dave (browser and CLI)
	await page.click('tr[data-name="cli-upload.bin"] button.rename');
	await page.fill('.rename-name', 'renamed.bin');
	await page.click('.rename-ok');
	await page.waitForSelector('tr[data-name="renamed.bin"]');
	await openRoom(dp, 'webroom');
	await dp.waitForSelector('tr[data-name="renamed.bin"]');
	ok('manage: a rename in the browser is visible to the other user (browser and CLI ls)',
		/renamed\.bin/.test(tryAs('dave', ['ls', 'webroom'])) && (await dp.locator('tr[data-name="cli-upload.bin"]').count()) === 0);
	// dave may not delete carol's file; he may delete his own
	await dp.click('tr[data-name="web-upload.bin"] button.delete');
	await dp.click('.delete-ok');
	await waitText(dp, '#room-status', /cannot delete/);
	ok('manage: deleting someone else\'s file as a write member is refused in plain words',
		/needs the manage role/.test(await text(dp, '#room-status')) && (await dp.locator('tr[data-name="web-upload.bin"]').count()) === 1);
	await dp.click('tr[data-name="renamed.bin"] button.delete');
	await dp.click('.delete-ok');
	await dp.waitForSelector('tr[data-name="renamed.bin"]', { state: 'detached' });
	ok('manage: the creator deletes his own file; it is gone for the CLI too', !/renamed\.bin/.test(tryAs('carol', ['ls', 'webroom'])));
	await dp.close();

	// copy into a folder (carol)
	await page.fill('#folder-name', 'sub');
	await page.press('#folder-name', 'Enter');
	await page.waitForSelector('tr[data-name="sub"]');
	await page.click('tr[data-name="web-upload.bin"] button.copy');
	await page.selectOption('.move-target', { label: 'webroom / sub' });
	await page.click('.move-ok');
	await waitText(page, '#room-status', /copied|cannot/);
	ok('manage: a copy into a folder is confirmed', /was copied/.test(await text(page, '#room-status')), await text(page, '#room-status'));
	await page.click('tr[data-name="sub"] a');
	await page.waitForSelector('tr[data-name="web-upload.bin"]');
	const r2 = await saveVia(page, () => page.click('tr[data-name="web-upload.bin"] button.dl'), '#room-status');
	ok('manage: a copy into a folder appears there and downloads byte-exact', r2.bytes && r2.bytes.equals(f1));

	// ---- rescue keys: a browser upload is wrapped for the room's and the system's ----
	fs.writeFileSync(T('room.rpw'), 'room-rescue-77\n');
	fs.writeFileSync(T('sys.rpw'), 'system-rescue-88\n');
	const kpw = T('alice.key');
	tryAs('alice', ['rescue', 'set-room', 'vault', '--version', 'A', '--iterations', '1000', '--rescue-password-file', T('room.rpw'), '--key-password-file', kpw]);
	tryAs('alice', ['rescue', 'set-system', '--version', 'A', '--iterations', '1000', '--rescue-password-file', T('sys.rpw'), '--key-password-file', kpw]);
	as('alice', ['room', 'add-member', 'vault', 'carol', '--role', 'write']);
	const f3 = T('rescue.bin');
	fs.writeFileSync(f3, crypto.randomBytes(900000));
	await openRoom(page, 'vault');
	await page.setInputFiles('#upload-input', [f3]);
	await page.waitForSelector('#uploads li .ok', { timeout: 120000 });
	// alice, the room's rescue key and the system's (bob has no key pair yet)
	ok('manage: the browser wraps an upload for the room\'s and the system\'s rescue keys too',
		/key shared with 3 member keys/.test(await text(page, '#uploads li .ok')), await text(page, '#uploads li'));
	fs.writeFileSync(T('bob.key'), 'bob key pw\n');
	as('bob', ['keygen', '--iterations', '1000', '--key-password-file', T('bob.key')]);
	const d1 = tryAs('alice', ['rescue', 'distribute', 'vault', '--rescue-password-file', T('room.rpw')]);
	const b1 = tryAs('bob', ['download', 'vault/rescue.bin', T('bob-r1.bin'), '--key-password-file', T('bob.key')]);
	ok('manage: with the room rescue key the CLI serves bob, who downloads the browser upload byte-exact',
		!/FAILED/.test(b1) && fs.readFileSync(T('bob-r1.bin')).equals(fs.readFileSync(f3)), `${d1} ${b1}`);
	fs.writeFileSync(T('bob2.key'), 'bob key pw two\n');
	as('bob', ['keypair', 'reset', '--iterations', '1000', '--key-password-file', T('bob2.key')]);
	const d2 = tryAs('alice', ['rescue', 'distribute', '--rescue-password-file', T('sys.rpw')]);
	const b2 = tryAs('bob', ['download', 'vault/rescue.bin', T('bob-r2.bin'), '--key-password-file', T('bob2.key')]);
	ok('manage: with the system rescue key too (after bob\'s key reset)',
		!/FAILED/.test(b2) && fs.readFileSync(T('bob-r2.bin')).equals(fs.readFileSync(f3)), `${d2} ${b2}`);
	await page.click('#logout');
	await page.waitForSelector('#login-form');
}
