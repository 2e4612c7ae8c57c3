// app.js - the web app for logged-in users: login and session expiry, the key pair
// (created and unlocked in the browser), rooms and folders. Files, shares and key
// distribution are in app_files.js.
import { call, session } from '../api.js';
import { h, mount, status } from '../ui.js';
import { generateKeyPair, unlockPrivate, WrongPassword } from '../crypto/keys.js';
import { roomView } from './app_files.js';
import { sharesView } from './app_shares.js';
import { passwordForm } from './app_account.js';
import { roomActions } from './app_rooms.js';
import { keepDraft, savedView, setView, clearDrafts } from '../drafts.js';

// What the app keeps in memory for the session: never the key password, only the
// unlocked private key (dropped on logout and on reload).
export const state = { account: null, keypair: null, priv: null };

export function appPage() {
	session.onExpired(expired);
	if (session.expired())
		return loginView();
	start();
}

function topbar() {
	const out = h('button', { class: 'secondary', id: 'logout', onclick: logout }, 'Sign out');
	const shares = h('button', { class: 'secondary', id: 'nav-shares', onclick: () => sharesView() }, 'Shares');
	const rooms = h('button', { class: 'secondary', id: 'nav-rooms', onclick: roomsView }, 'Rooms');
	return h('nav', {}, h('span', { id: 'whoami' }, state.account ? state.account.userName : ''), rooms, shares, out);
}

export function page(...children) {
	const root = mount(h('main', {}, ...children));
	root.querySelector('header').append(topbar());
	root.querySelectorAll('form[id]').forEach(keepDraft);
	return root;
}

// The token expired (or the server refused it): sign in again over the page, so what
// was typed into a form stays; the unlocked key stays in memory too. Returns a promise
// of the new sign-in (true once signed in, false if the user signed out instead), one
// for every request that was refused while the form is up.
let relogin = null;
function expired() {
	session.clear();
	if (relogin) {
		// a view drawn since replaced the page the form was on
		const main = document.querySelector('main');
		if (main && !relogin.form.isConnected)
			main.prepend(relogin.form);
		return relogin.promise;
	}
	if (!state.account || !document.querySelector('main')) {
		if (!state.account)
			loginView('Your session has expired. Please sign in again.');
		return Promise.resolve(false);
	}
	let done;
	relogin = { promise: new Promise((resolve) => { done = resolve; }) };
	relogin.done = (ok) => { relogin = null; done(ok); };
	const st = status();
	const pw = h('input', { id: 'relogin-password', type: 'password', autocomplete: 'current-password', required: true });
	const btn = h('button', { type: 'submit', id: 'relogin-submit' }, 'Sign in');
	const form = h('form', { id: 'relogin-form', class: 'banner' },
		`Your session has expired. Sign in again as ${state.account.userName} to continue (nothing on this page is lost): `,
		pw, btn, st);
	relogin.form = form;
	document.querySelector('main').prepend(form);
	pw.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		btn.disabled = true;
		try {
			const r = await call('POST', '/auth/login', { userName: state.account.userName, password: pw.value }, { public: true });
			pw.value = '';
			session.set(r.token, r.expireAt);
			form.remove();
			relogin.done(true);
		} catch (e) {
			btn.disabled = false;
			st.set(e.status === 401 ? 'Wrong password.' : e.message, 'error');
		}
	});
	return relogin.promise;
}

function logout() {
	session.clear();
	if (relogin)
		relogin.done(false);
	clearDrafts();
	state.priv = null;
	state.account = null;
	loginView('Signed out.');
}

function loginView(note) {
	const st = status();
	const user = h('input', { id: 'login-user', autocomplete: 'username', required: true, autofocus: true });
	const pw = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
	const btn = h('button', { type: 'submit', id: 'login-submit' }, 'Sign in');
	const form = h('form', { id: 'login-form' }, h('label', { for: 'login-user' }, 'User'), user,
		h('label', { for: 'login-password' }, 'Password'), pw, btn);
	mount(h('main', {}, h('h1', {}, 'Sign in to databox'), form, st));
	if (note)
		st.set(note);
	user.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		btn.disabled = true;
		st.set('Signing in…');
		try {
			const r = await call('POST', '/auth/login', { userName: user.value, password: pw.value }, { public: true });
			pw.value = '';
			session.set(r.token, r.expireAt);
			await start();
		} catch (e) {
			btn.disabled = false;
			st.set(e.status === 401 ? 'Wrong user name or password.' : e.status === 429 ?
				'Too many failed sign-ins. Wait a while and try again.' : e.message, 'error');
			pw.select();
		}
	});
}

async function start() {
	try {
		state.account = await call('GET', '/user/account');
	} catch (e) {
		if (e.status !== 401)
			loginView(e.message);
		return;
	}
	// token expiry: back to the login page a little before the server refuses it
	const exp = Number(sessionStorage.getItem('databox-token-exp') || 0) * 1000;
	if (exp)
		setTimeout(() => { if (session.token) expired(); }, Math.max(0, exp - Date.now()));
	if (!state.account.isEncryptionEnabled)
		return keySetupView();
	state.keypair = await call('GET', '/user/account/keypair');
	// after a reload: back to the room or folder that was open
	const ids = savedView();
	if (ids.length) {
		try {
			const nodes = [];
			for (const id of ids)
				nodes.push(await call('GET', `/nodes/${id}`));
			return roomView(nodes[0], nodes.slice(1));
		} catch (e) {
			setView([]);
		}
	}
	roomsView();
}

function keySetupView() {
	const st = status();
	const ver = h('select', { id: 'kp-version' }, h('option', { value: 'RSA-4096', selected: true }, 'RSA-4096 (recommended)'),
		h('option', { value: 'A' }, 'A: RSA-2048 (older, for old clients)'));
	const pw = h('input', { id: 'kp-password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
	const pw2 = h('input', { id: 'kp-password2', type: 'password', autocomplete: 'new-password', required: true });
	const btn = h('button', { type: 'submit', id: 'kp-create' }, 'Create my key pair');
	const form = h('form', { id: 'kp-form' }, h('label', { for: 'kp-version' }, 'Key pair'), ver,
		h('label', { for: 'kp-password' }, 'Decryption password'), pw, h('label', { for: 'kp-password2' }, 'Repeat'), pw2, btn);
	page(h('h1', {}, 'Set up encryption'),
		h('p', {}, 'Your files are encrypted in this browser with a key pair that only your decryption password opens. ',
			'The server stores the key pair encrypted; nobody can reset this password for you.'), form, st);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (pw.value.length < 8)
			return st.set('The password needs at least 8 characters.', 'error');
		if (pw.value !== pw2.value)
			return st.set('The passwords differ.', 'error');
		btn.disabled = true;
		st.set('Creating the key pair (this takes a few seconds)…');
		try {
			const { container, priv } = await generateKeyPair(ver.value, pw.value);
			pw.value = pw2.value = '';
			await call('POST', '/user/account/keypair', container);
			state.keypair = container;
			state.priv = priv;
			state.account.isEncryptionEnabled = true;
			roomsView();
		} catch (e) {
			btn.disabled = false;
			st.set(`The key pair could not be created: ${e.message}`, 'error');
		}
	});
}

// The unlocked private key, asking for the decryption password once per session.
export function unlocked() {
	if (state.priv)
		return Promise.resolve(state.priv);
	return new Promise((resolve, reject) => {
		const st = status();
		const pw = h('input', { id: 'unlock-password', type: 'password', autocomplete: 'current-password', required: true });
		const btn = h('button', { type: 'submit', id: 'unlock-submit' }, 'Unlock');
		const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
		const form = h('form', { id: 'unlock-form', class: 'banner' },
			h('label', { for: 'unlock-password' }, 'Decryption password'), pw, btn, cancel, st);
		document.querySelector('main').prepend(form);
		pw.focus();
		cancel.addEventListener('click', () => { form.remove(); reject(new Error('cancelled')); });
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			btn.disabled = true;
			st.set('Unlocking…');
			try {
				state.priv = await unlockPrivate(state.keypair.privateKeyContainer, pw.value, state.keypair.publicKeyContainer);
				pw.value = '';
				form.remove();
				resolve(state.priv);
			} catch (e) {
				btn.disabled = false;
				st.set(e instanceof WrongPassword ? 'Wrong decryption password. Try again.' : e.message, 'error');
				pw.select();
			}
		});
	});
}

export async function roomsView() {
	setView([]);
	const st = status();
	st.id = 'rooms-status';
	const tbody = h('tbody', { id: 'rooms' });
	const name = h('input', { id: 'room-name', required: true, placeholder: 'New room' });
	const enc = h('input', { id: 'room-encrypted', type: 'checkbox', checked: true });
	const form = h('form', { id: 'room-form' }, name, h('label', {}, enc, ' encrypted'),
		h('button', { type: 'submit', id: 'room-create' }, 'Create room'));
	const reset = h('button', { class: 'secondary', id: 'kp-reset', onclick: () => resetForm(st) }, 'Lost your decryption password?');
	const pwBox = h('div', { id: 'pw-box' });
	const pwBtn = h('button', { class: 'secondary', id: 'pw-open', onclick: () => passwordForm(pwBox) }, 'Change decryption password');
	page(h('h1', {}, 'Rooms'), h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Room'), h('th', {}, 'Encrypted'),
		h('th', {}, 'Your role'), h('th', {}, ''))), tbody), form, st, h('p', {}, pwBtn, ' ', reset), pwBox);
	const load = async () => {
		const r = await call('GET', '/nodes');
		tbody.replaceChildren(...r.items.map((n) => h('tr', { 'data-name': n.name },
			h('td', {}, h('a', { href: '#', class: 'room-link', 'data-name': n.name,
				onclick: (ev) => { ev.preventDefault(); roomView(n, []); } }, n.name)),
			h('td', {}, n.isEncrypted ? 'yes' : 'no'), h('td', {}, n.role), h('td', {}, roomActions(n, st, load)))));
		if (!r.items.length)
			tbody.append(h('tr', {}, h('td', { colspan: '4' }, 'No rooms yet.')));
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			const room = await call('POST', '/nodes/rooms', { name: name.value });
			if (enc.checked)
				await call('PUT', `/nodes/rooms/${room.id}/encrypt`, { isEncrypted: true });
			name.value = '';
			st.set(`Room ${room.name} created.`, 'ok');
			await load();
		} catch (e) {
			st.set(`The room could not be created: ${e.message}`, 'error');
		}
	});
	try {
		await load();
	} catch (e) {
		st.set(e.message, 'error');
	}
}

// Lost password: the key pair goes, and with it every file key wrapped for it (what
// `databox keypair reset` does); colleagues then see the prompt and hand the keys out again.
function resetForm(st) {
	const yes = h('button', { id: 'kp-reset-confirm' }, 'Delete my key pair');
	const no = h('button', { class: 'secondary' }, 'Keep it');
	st.replaceChildren(h('span', { class: 'banner' }, 'This deletes your key pair and every file key wrapped for it. ',
		'You make a new one; your colleagues are then asked to share the files with you again. ', yes, ' ', no));
	no.addEventListener('click', () => st.replaceChildren());
	yes.addEventListener('click', async () => {
		yes.disabled = true;
		try {
			await call('DELETE', '/user/account/keypair');
			state.keypair = null;
			state.priv = null;
			state.account.isEncryptionEnabled = false;
			keySetupView();
		} catch (e) {
			st.set(`The key pair could not be reset: ${e.message}`, 'error');
		}
	});
}
