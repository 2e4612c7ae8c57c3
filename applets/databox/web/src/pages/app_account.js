// app_account.js - a new decryption password for the same key pair. The private key
// is unlocked with the old password and encrypted again with the new one, here; the
// server gets only the new encrypted container (PUT /user/account/keypair), and
// refuses it if the public key changed, so no file key has to be handed out again.
import { call } from '../api.js';
import { h, status } from '../ui.js';
import { rewrapPrivate, unlockPrivate, WrongPassword } from '../crypto/keys.js';
import { state } from './app.js';

export function passwordForm(box) {
	const st = status();
	const old = h('input', { id: 'pw-old', type: 'password', autocomplete: 'current-password', required: true });
	const npw = h('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
	const npw2 = h('input', { id: 'pw-new2', type: 'password', autocomplete: 'new-password', required: true });
	const btn = h('button', { type: 'submit', id: 'pw-change' }, 'Change password');
	const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
	const form = h('form', { id: 'pw-form', class: 'banner' },
		h('label', { for: 'pw-old' }, 'Current decryption password'), old,
		h('label', { for: 'pw-new' }, 'New decryption password'), npw,
		h('label', { for: 'pw-new2' }, 'Repeat'), npw2, btn, cancel, st);
	box.replaceChildren(form);
	old.focus();
	cancel.addEventListener('click', () => box.replaceChildren());
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (npw.value.length < 8)
			return st.set('The new password needs at least 8 characters.', 'error');
		if (npw.value !== npw2.value)
			return st.set('The new passwords differ.', 'error');
		btn.disabled = true;
		st.set('Changing the password (this takes a few seconds)…');
		try {
			const fresh = await call('GET', '/user/account/keypair');
			const container = await rewrapPrivate(fresh, old.value, npw.value);
			await call('PUT', '/user/account/keypair', container);
			// the session keeps working with the key it has; the new container is what
			// the next unlock (any device) opens
			state.keypair = container;
			if (!state.priv)
				state.priv = await unlockPrivate(container.privateKeyContainer, npw.value, container.publicKeyContainer);
			old.value = npw.value = npw2.value = '';
			box.replaceChildren(h('p', { class: 'status ok', id: 'pw-done' },
				'Your decryption password has been changed. Use the new one from now on.'));
		} catch (e) {
			btn.disabled = false;
			st.set(e instanceof WrongPassword ? 'The current decryption password is wrong.'
				: `The password could not be changed: ${e.message}`, 'error');
		}
	});
}
