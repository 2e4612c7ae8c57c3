// share_download.js - /s/ACCESS_KEY: an outsider opens a download share with its
// password. The password unlocks the share's private key in the browser; only the
// ciphertext and the wrapped key come from the server.
import { call, API } from '../api.js';
import { h, mount, status, fmtSize, progress } from '../ui.js';
import { unlockPrivate, unwrapFileKey, WrongPassword } from '../crypto/keys.js';
import { saveDecrypted, serviceWorkerReady } from '../download.js';
import { transferRunning } from '../interrupted.js';
import { canSaveAs, pickTarget, saveToHandle, targetNote, discard } from '../save_fsa.js';

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
	// where the browser has the File System Access API: the user picks the file, the page
	// writes it (no service worker); Enter and Download keep the browser's download
	const saveAs = canSaveAs() ? h('button', { type: 'button', id: 'share-saveas', class: 'secondary' }, 'Save as…') : null;
	const bar = progress();
	st.id = 'share-status';
	const form = h('form', { id: 'share-form' },
		h('label', { for: 'share-password' }, 'Password'), pw, btn, saveAs ? ' ' : null, saveAs);
	const left = info.downloadsLeft !== undefined ? ` · ${info.downloadsLeft} download(s) left` : '';
	const exp = info.expireAt ? ` · expires ${new Date(info.expireAt * 1000).toLocaleString()}` : '';
	mount(h('main', {},
		h('h1', {}, 'Shared file'),
		h('p', { class: 'file' }, h('strong', { id: 'share-name' }, info.name), ` (${fmtSize(info.size)})${left}${exp}`),
		h('p', {}, 'Enter the password you were given. It is checked in this browser and never sent.'),
		form, bar, st));
	pw.focus();
	const busy = (on) => {
		btn.disabled = on;
		if (saveAs)
			saveAs.disabled = on;
	};
	// handle: the picked file (Save as…), or null for the browser's download
	const run = async (handle) => {
		busy(true);
		st.set('Unlocking…');
		let fk;
		try {
			const priv = await unlockPrivate(info.privateKeyContainer, pw.value, info.publicKeyContainer);
			fk = await unwrapFileKey(info.fileKey, priv);
		} catch (e) {
			busy(false);
			if (e instanceof WrongPassword) {
				st.set('Wrong password. Please try again.', 'error');
				pw.select();
				pw.focus();
			} else {
				st.set(`This share cannot be opened: ${e.message}`, 'error');
			}
			// the empty file the picker made goes (the next attempt picks again)
			if (handle)
				discard(handle).catch(() => {});
			return;
		}
		pw.value = '';
		st.set('Downloading and decrypting…');
		const ended = transferRunning();
		const url = `${API}/public/shares/downloads/${key}/download`;
		try {
			const n = handle ? await saveToHandle(handle, { url, fk }, (b) => bar.set(info.size ? b / info.size : 1))
				: await saveDecrypted({ url, fk, name: info.name, size: info.size }, (f) => bar.set(f));
			bar.set(1);
			st.set(`Saved ${handle ? handle.name : info.name} (${fmtSize(n)}); its integrity was verified.`, 'ok');
		} catch (e) {
			st.set(handle ? `Download failed: ${e.message}. ${targetNote(e.target, handle.name)}`
				: `Download failed: ${e.message}. The incomplete file was discarded by the browser.`, 'error');
			busy(false);
		} finally {
			fk.key.fill(0);
			ended();
		}
	};
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		run(null);
	});
	if (saveAs) {
		saveAs.addEventListener('click', async () => {
			if (!pw.value) {
				st.set('Enter the password first.', 'error');
				pw.focus();
				return;
			}
			let handle;
			try {
				handle = await pickTarget(info.name); // first: the picker needs the click
			} catch (e) {
				if (e.name !== 'AbortError')
					st.set(`The file cannot be saved there: ${e.message}`, 'error');
				return;
			}
			run(handle);
		});
	}
}
