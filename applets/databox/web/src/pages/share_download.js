// share_download.js - /s/ACCESS_KEY: an outsider opens a download share with its
// password. The password unlocks the share's private key in the browser; only the
// ciphertext and the wrapped key come from the server.
import { call, API } from '../api.js';
import { h, mount, status, fmtSize, progress } from '../ui.js';
import { unlockPrivate, unwrapFileKey, WrongPassword } from '../crypto/keys.js';
import { saveDecrypted, serviceWorkerReady } from '../transfer.js';
import { transferRunning } from '../interrupted.js';

export async function downloadSharePage(key) {
	const st = status();
	mount(h('main', {}, h('h1', {}, 'Shared file'), st));
	st.set('Loading the share…');
	let info;
	try {
		info = await call('GET', `/public/shares/downloads/${key}`, undefined, { public: true });
	} catch (e) {
		st.set(e.status === 404 ? 'This share link does not exist, has expired, or has been used up.'
			: `The share cannot be loaded: ${e.message}`, 'error');
		return;
	}
	serviceWorkerReady().catch(() => {}); // get it active while the user types
	const pw = h('input', { type: 'password', id: 'share-password', name: 'password', autocomplete: 'off',
		required: true, autofocus: true, 'aria-describedby': 'share-status' });
	const btn = h('button', { type: 'submit', id: 'share-download' }, 'Download');
	const bar = progress();
	st.id = 'share-status';
	const form = h('form', { id: 'share-form' },
		h('label', { for: 'share-password' }, 'Password'), pw, btn);
	const left = info.downloadsLeft !== undefined ? ` · ${info.downloadsLeft} download(s) left` : '';
	const exp = info.expireAt ? ` · expires ${new Date(info.expireAt * 1000).toLocaleString()}` : '';
	mount(h('main', {},
		h('h1', {}, 'Shared file'),
		h('p', { class: 'file' }, h('strong', { id: 'share-name' }, info.name), ` (${fmtSize(info.size)})${left}${exp}`),
		h('p', {}, 'Enter the password you were given. It is checked in this browser and never sent.'),
		form, bar, st));
	pw.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		btn.disabled = true;
		st.set('Unlocking…');
		let fk;
		try {
			const priv = await unlockPrivate(info.privateKeyContainer, pw.value, info.publicKeyContainer);
			fk = await unwrapFileKey(info.fileKey, priv);
		} catch (e) {
			btn.disabled = false;
			if (e instanceof WrongPassword) {
				st.set('Wrong password. Please try again.', 'error');
				pw.select();
				pw.focus();
			} else {
				st.set(`This share cannot be opened: ${e.message}`, 'error');
			}
			return;
		}
		pw.value = '';
		st.set('Downloading and decrypting…');
		const ended = transferRunning();
		try {
			const n = await saveDecrypted({ url: `${API}/public/shares/downloads/${key}/download`, fk,
				name: info.name, size: info.size }, (f) => bar.set(f));
			bar.set(1);
			st.set(`Saved ${info.name} (${fmtSize(n)}); its integrity was verified.`, 'ok');
		} catch (e) {
			st.set(`Download failed: ${e.message}. The incomplete file was discarded by the browser.`, 'error');
			btn.disabled = false;
		} finally {
			ended();
		}
	});
}
