// app_files.js - a room or folder: listing, folders, encrypted upload (the file key
// wrapped for the uploader and then for every member with a key pair, rescue keys
// included, as the CLI does), download, the missing-keys prompt, share creation.
import { call, session, API } from '../api.js';
import { h, status, fmtSize, progress } from '../ui.js';
import { importPublic, wrapFileKey, unwrapFileKey } from '../crypto/keys.js';
import { sendEncrypted } from '../transfer.js';
import { saveDecrypted } from '../download.js';
import { uploadStarted, transferRunning } from '../interrupted.js';
import { page, state, unlocked, roomsView } from './app.js';
import { shareFileForm, uploadShareForm } from './app_shares.js';
import { membersView } from './app_members.js';
import { nodeActions } from './app_nodes.js';
import { setView } from '../drafts.js';

// Serves every missing key the caller can for query (room_id=, file_id=), with a
// known plain key (just uploaded) or by unwrapping the caller's own. Returns the count.
export async function distribute(query, knownKey) {
	let done = 0;
	for (let round = 0; round < 1000; round++) {
		const mk = await call('GET', `/nodes/missingFileKeys?limit=100&${query}`);
		if (!mk.items.length)
			break;
		const priv = knownKey ? null : await unlocked();
		const plain = new Map();
		const items = [];
		for (const it of mk.items) {
			let fk = knownKey;
			if (!fk) {
				if (!plain.has(it.fileId)) {
					const f = mk.files.find((x) => x.id === it.fileId);
					plain.set(it.fileId, f ? await unwrapFileKey(f.fileKeyContainer, priv).catch(() => null) : null);
				}
				fk = plain.get(it.fileId);
			}
			if (!fk)
				continue;
			for (const u of mk.users.filter((x) => x.id === it.userId)) {
				try {
					items.push({ userId: it.userId, fileId: it.fileId, fileKey: await wrapFileKey(fk, await importPublic(u.publicKeyContainer)) });
				} catch (e) {
					console.warn(`user ${it.userId}: ${e.message}`);
				}
			}
		}
		for (const k of plain.values())
			if (k)
				k.key.fill(0);
		if (!items.length)
			break;
		await call('POST', '/nodes/files/keys', { items });
		done += items.length;
	}
	return done;
}

async function missingBanner(room, box) {
	box.replaceChildren();
	if (!room.isEncrypted)
		return;
	let mk;
	try {
		mk = await call('GET', `/nodes/missingFileKeys?limit=100&room_id=${room.id}`);
	} catch (e) {
		return;
	}
	const users = new Set(mk.items.map((i) => i.userId));
	if (!users.size)
		return;
	const st = status();
	const btn = h('button', { id: 'distribute', onclick: async () => {
		btn.disabled = true;
		st.set('Encrypting the keys for them…');
		try {
			const n = await distribute(`room_id=${room.id}`);
			st.set(`Done: ${n} file key(s) handed out.`, 'ok');
		} catch (e) {
			btn.disabled = false;
			st.set(e.message, 'error');
		}
	} }, 'Give them the keys');
	box.append(h('div', { class: 'banner', id: 'missing-keys' },
		`${users.size} colleague${users.size === 1 ? ' is' : 's are'} waiting for keys to ${mk.range.total} file(s). `, btn, st));
}

// room: the room node; trail: the folders opened inside it, [node...]
export async function roomView(room, trail) {
	const here = trail.length ? trail[trail.length - 1] : room;
	setView([room, ...trail].map((n) => n.id));
	const st = status();
	st.id = 'room-status'; // the missing-keys banner has a status line of its own
	const banner = h('div');
	const tbody = h('tbody', { id: 'files' });
	const folder = h('input', { id: 'folder-name', placeholder: 'New folder', required: true });
	const folderForm = h('form', { id: 'folder-form' }, folder, h('button', { type: 'submit' }, 'Create folder'));
	const input = h('input', { type: 'file', id: 'upload-input', multiple: true });
	const drop = h('div', { class: 'drop', id: 'drop' }, 'Drop files here or ', input);
	const uploads = h('ul', { class: 'files', id: 'uploads' });
	const crumbs = h('p', {}, h('a', { href: '#', onclick: (e) => { e.preventDefault(); roomsView(); } }, 'Rooms'),
		...[room, ...trail].map((n, i) => [' / ', h('a', { href: '#', onclick: (e) => { e.preventDefault(); roomView(room, trail.slice(0, i)); } }, n.name)]));
	const members = h('section', { id: 'members-box' });
	const canWrite = room.role === 'write' || room.role === 'manage';
	page(crumbs, h('h1', {}, here.name, room.isEncrypted ? ' (encrypted)' : ''), banner,
		h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Size'), h('th', {}, ''))), tbody),
		canWrite ? drop : null, uploads, canWrite ? folderForm : null,
		canWrite && room.isEncrypted ? h('button', { class: 'secondary', id: 'upload-share-create',
			onclick: () => uploadShareForm(here, st) }, 'Create upload link') : null,
		h('button', { class: 'secondary', id: 'members-open', onclick: () => membersView(room, members) }, 'Members'), st, members);
	const load = async () => {
		const r = await call('GET', `/nodes?parent_id=${here.id}`);
		tbody.replaceChildren(...r.items.map((n) => h('tr', { 'data-name': n.name },
			h('td', {}, n.type === 'folder' ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); roomView(room, [...trail, n]); } }, `${n.name}/`) : n.name),
			h('td', {}, n.type === 'file' ? fmtSize(n.size) : ''),
			h('td', {}, n.type === 'file' ? [
				h('button', { class: 'secondary dl', onclick: () => download(room, n, st) }, 'Download'),
				room.isEncrypted ? h('button', { class: 'secondary share', onclick: () => shareFileForm(n, st) }, 'Share') : null,
			] : null, canWrite ? nodeActions(n, st, load) : null))));
		if (!r.items.length)
			tbody.append(h('tr', {}, h('td', { colspan: '3' }, 'Empty.')));
		await missingBanner(room, banner);
	};
	folderForm.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await call('POST', '/nodes/folders', { parentId: here.id, name: folder.value });
			folder.value = '';
			await load();
		} catch (e) {
			st.set(`The folder could not be created: ${e.message}`, 'error');
		}
	});
	const send = async (files) => {
		for (const f of files) {
			await upload(room, here, f, uploads);
		}
		await load();
	};
	input.addEventListener('change', () => send([...input.files]).then(() => { input.value = ''; }));
	drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
	drop.addEventListener('dragleave', () => drop.classList.remove('over'));
	drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); send([...e.dataTransfer.files]); });
	try {
		await load();
	} catch (e) {
		st.set(e.message, 'error');
	}
}

async function upload(room, parent, file, list) {
	const bar = progress();
	const line = h('span', {}, 'starting…');
	const ac = new AbortController();
	const cancel = h('button', { class: 'secondary', onclick: () => ac.abort() }, 'Cancel');
	const li = h('li', { 'data-name': file.name }, `${file.name} (${fmtSize(file.size)}) `, bar, ' ', line, ' ', cancel);
	list.append(li);
	let up = null;
	const ended = uploadStarted(file, room.name);
	try {
		up = await call('POST', '/nodes/files/uploads', { parentId: parent.id, name: file.name, size: file.size });
		line.textContent = up.isEncrypted ? 'encrypting and sending…' : 'sending…';
		const fk = await sendEncrypted(file, (off) => `/nodes/files/uploads/${up.uploadId}?offset=${off}`,
			{ signal: ac.signal, plain: !up.isEncrypted, maxChunk: up.maxChunkSize, onProgress: (x) => bar.set(x) });
		let body = {};
		if (fk)
			body = { fileKey: await wrapFileKey(fk, await importPublic(state.keypair.publicKeyContainer)) };
		const node = await call('PUT', `/nodes/files/uploads/${up.uploadId}`, body);
		cancel.remove();
		let shared = 0;
		if (fk) {
			shared = await distribute(`file_id=${node.id}`, fk);
			fk.key.fill(0);
		}
		line.textContent = fk ? `done (encrypted; key shared with ${shared} member key${shared === 1 ? '' : 's'})` : 'done';
		line.className = 'ok';
	} catch (e) {
		cancel.remove();
		if (up)
			call('DELETE', `/nodes/files/uploads/${up.uploadId}`).catch(() => {});
		line.textContent = e.name === 'AbortError' ? 'cancelled' : `failed: ${e.message}`;
		line.className = 'error';
	} finally {
		ended();
	}
}

async function download(room, node, st) {
	let fk = null;
	try {
		if (room.isEncrypted) {
			const priv = await unlocked();
			const enc = await call('GET', `/nodes/files/${node.id}/user_file_key`);
			fk = await unwrapFileKey(enc, priv);
		}
	} catch (e) {
		if (e.message !== 'cancelled')
			st.set(e.status === 404 ? 'You have no key for this file yet: a colleague must share it with you (they see a prompt).' : e.message, 'error');
		return;
	}
	const bar = progress();
	st.replaceChildren(`Downloading ${node.name}… `, bar);
	const ended = transferRunning();
	try {
		const n = await saveDecrypted({ url: `${API}/nodes/files/${node.id}/downloads`, auth: `Bearer ${session.token}`,
			fk, name: node.name, size: node.size }, (f) => bar.set(f));
		st.set(`Saved ${node.name} (${fmtSize(n)})${fk ? '; its integrity was verified' : ''}.`, 'ok');
	} catch (e) {
		st.set(`Download failed: ${e.message}. The incomplete file was discarded by the browser.`, 'error');
	} finally {
		ended();
	}
}
