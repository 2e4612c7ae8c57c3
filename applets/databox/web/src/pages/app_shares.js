// app_shares.js - creating, listing and cancelling shares. A download share gets a
// fresh key pair protected by the share password (made here), and the file key wrapped
// for it; the server stores neither the password nor anything it could open.
import { call } from '../api.js';
import { h, status } from '../ui.js';
import { generateKeyPair, unwrapFileKey, wrapFileKey, importPublic } from '../crypto/keys.js';
import { page, unlocked } from './app.js';

const days = (n) => (n ? Math.floor(Date.now() / 1000) + n * 86400 : undefined);

export function shareFileForm(node, st) {
	const pw = h('input', { id: 'share-new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
	const exp = h('input', { id: 'share-expires', type: 'number', min: '0', value: '7', style: null });
	const max = h('input', { id: 'share-max', type: 'number', min: '0', value: '0' });
	const btn = h('button', { type: 'submit', id: 'share-create' }, 'Create link');
	const form = h('form', { id: 'share-form', class: 'banner' }, `Share ${node.name}: `,
		h('label', { for: 'share-new-password' }, 'Password'), pw, h('label', { for: 'share-expires' }, 'Days (0: never)'), exp,
		h('label', { for: 'share-max' }, 'Max downloads (0: any)'), max, btn);
	st.replaceChildren(form);
	pw.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (pw.value.length < 8)
			return alertIn(st, 'The share password needs at least 8 characters.');
		btn.disabled = true;
		try {
			const priv = await unlocked();
			const fk = await unwrapFileKey(await call('GET', `/nodes/files/${node.id}/user_file_key`), priv);
			const { container } = await generateKeyPair('RSA-4096', pw.value);
			pw.value = '';
			const fileKey = await wrapFileKey(fk, await importPublic(container.publicKeyContainer));
			fk.key.fill(0);
			const r = await call('POST', '/shares/downloads', { nodeId: node.id, keyPair: container, fileKey,
				expireAt: days(Number(exp.value)), maxDownloads: Number(max.value) || undefined });
			showLink(st, `${location.origin}/s/${r.accessKey}`, 'Download link (send the password separately):');
		} catch (e) {
			btn.disabled = false;
			alertIn(st, `The share could not be created: ${e.message}`);
		}
	});
}

export async function uploadShareForm(target, st) {
	try {
		const r = await call('POST', '/shares/uploads', { targetId: target.id, expireAt: days(7) });
		showLink(st, `${location.origin}/u/${r.accessKey}`, 'Upload link (valid 7 days):');
	} catch (e) {
		alertIn(st, `The upload link could not be created: ${e.message}`);
	}
}

function alertIn(st, text) {
	st.replaceChildren(h('span', { class: 'error' }, text));
}

function showLink(st, link, label) {
	st.replaceChildren(h('span', { class: 'ok' }, label, ' '), h('input', { id: 'share-link', readonly: true, value: link, size: '60' }));
}

export async function sharesView() {
	const st = status();
	const dl = h('tbody', { id: 'download-shares' });
	const ul = h('tbody', { id: 'upload-shares' });
	page(h('h1', {}, 'Shares'), h('h2', {}, 'Download links'), h('table', {}, dl), h('h2', {}, 'Upload links'), h('table', {}, ul), st);
	const row = (kind, s, what, uses) => h('tr', { 'data-id': String(s.id) }, h('td', {}, what), h('td', {}, uses),
		h('td', {}, s.expireAt ? `expires ${new Date(s.expireAt * 1000).toLocaleString()}` : 'never expires'),
		h('td', {}, `by ${s.createdBy}`),
		h('td', {}, h('button', { class: 'secondary cancel-share', onclick: async () => {
			try {
				await call('DELETE', `/shares/${kind}/${s.id}`);
				st.set('Cancelled: the link no longer works.', 'ok');
				load();
			} catch (e) {
				st.set(e.message, 'error');
			}
		} }, 'Cancel')));
	const load = async () => {
		const d = await call('GET', '/shares/downloads');
		const u = await call('GET', '/shares/uploads');
		dl.replaceChildren(...d.items.map((s) => row('downloads', s, s.name, `${s.downloads}${s.maxDownloads ? `/${s.maxDownloads}` : ''} downloads`)));
		ul.replaceChildren(...u.items.map((s) => row('uploads', s, s.name, `${s.uploads}${s.maxUploads ? `/${s.maxUploads}` : ''} uploads`)));
	};
	try {
		await load();
	} catch (e) {
		st.set(e.message, 'error');
	}
}
