// share_upload.js - /u/ACCESS_KEY: an outsider sends files into a room. Each file is
// encrypted here with a fresh file key, which is wrapped for the keys the share lists
// (the room's managers and rescue keys); the server gets ciphertext and wrapped keys.
import { call } from '../api.js';
import { h, mount, status, fmtSize, progress } from '../ui.js';
import { sendEncrypted, wrapForAll } from '../transfer.js';
import { uploadStarted } from '../interrupted.js';

export async function uploadSharePage(key) {
	const st = status();
	mount(h('main', {}, h('h1', {}, 'Send files'), st));
	st.set('Loading the share…');
	const base = `/public/shares/uploads/${key}`;
	let info;
	try {
		info = await call('GET', base, undefined, { public: true });
	} catch (e) {
		st.set(e.status === 404 ? 'This upload link does not exist, has expired, or has been used up.'
			: `The upload link cannot be loaded: ${e.message}`, 'error');
		return;
	}
	const keys = (info.userUserPublicKeyList && info.userUserPublicKeyList.items) || [];
	const input = h('input', { type: 'file', id: 'upload-files', multiple: true });
	const btn = h('button', { type: 'submit', id: 'upload-send' }, 'Send');
	const list = h('ul', { class: 'files', id: 'upload-list' });
	const form = h('form', { id: 'upload-form' }, h('label', { for: 'upload-files' }, 'Files'), input, btn);
	mount(h('main', {},
		h('h1', {}, 'Send files'),
		h('p', {}, 'Files go to ', h('strong', {}, info.name),
			'. They are encrypted in this browser before they leave it.'),
		form, list, st));
	if (!keys.length) {
		st.set('Nobody in this room has a key pair yet, so nothing could be encrypted for them.', 'error');
		btn.disabled = true;
		return;
	}
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const files = [...input.files];
		if (!files.length) {
			st.set('Choose one or more files first.', 'error');
			return;
		}
		btn.disabled = true;
		input.disabled = true;
		let ok = 0;
		for (const f of files) {
			const bar = progress();
			const line = h('span', {}, 'encrypting…');
			list.append(h('li', {}, `${f.name} (${fmtSize(f.size)}) `, bar, ' ', line));
			const ended = uploadStarted(f, info.name);
			try {
				const up = await call('POST', base, { name: f.name }, { public: true });
				const fk = await sendEncrypted(f, (off) => `${base}/${up.uploadId}?offset=${off}`,
					{ isPublic: true, maxChunk: up.maxChunkSize, onProgress: (x) => bar.set(x) });
				const items = await wrapForAll(fk, keys);
				fk.key.fill(0);
				await call('PUT', `${base}/${up.uploadId}`, { userFileKeyList: { items } }, { public: true });
				line.textContent = 'done';
				line.className = 'ok';
				ok++;
			} catch (e) {
				line.textContent = `failed: ${e.message}`;
				line.className = 'error';
			} finally {
				ended();
			}
		}
		st.set(ok === files.length ? `Done: ${ok} file(s) sent.` : `${ok} of ${files.length} file(s) sent.`,
			ok === files.length ? 'ok' : 'error');
		btn.disabled = false;
		input.disabled = false;
		input.value = '';
	});
}
