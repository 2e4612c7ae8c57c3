// app_members.js - a room's members and roles: everyone sees the list, managers add
// users, change roles and remove members. The server enforces the roles; its refusals
// are put in plain words here.
import { call } from '../api.js';
import { h, status } from '../ui.js';

const ROLES = ['read', 'write', 'manage'];

// An API error as the user would understand it.
export function said(e, what) {
	if (e.status === 403)
		return `You cannot ${what}: that needs the manage role in this room (ask one of its managers).`;
	if (e.status === 404)
		return `You cannot ${what}: ${/user/.test(e.message) ? 'there is no user of that name' : 'it does not exist (any more)'}.`;
	if (e.status === 409)
		return `You cannot ${what}: ${e.message}.`;
	return `You cannot ${what}: ${e.message}`;
}

export async function membersView(room, box) {
	const st = status();
	const tbody = h('tbody', { id: 'members' });
	const isManager = room.role === 'manage';
	const user = h('input', { id: 'member-name', required: true, placeholder: 'user name' });
	const role = h('select', { id: 'member-role' }, ...ROLES.map((r) => h('option', { value: r, selected: r === 'read' }, r)));
	const form = h('form', { id: 'member-form' }, user, role, h('button', { type: 'submit', id: 'member-add' }, 'Add member'));
	box.replaceChildren(h('h2', {}, 'Members'),
		h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'User'), h('th', {}, 'Role'), h('th', {}, 'Key pair'), h('th', {}, ''))), tbody),
		isManager ? form : h('p', {}, 'Only the room\'s managers can change its members.'), st);
	const setRole = async (name, r) => {
		try {
			await call('POST', `/nodes/rooms/${room.id}/users`, { items: [{ userName: name, role: r }] });
			st.set(`${name} is now ${r === 'manage' ? 'a manager' : `a ${r} member`}.`, 'ok');
		} catch (e) {
			st.set(said(e, `change the role of ${name}`), 'error');
		}
		await load();
	};
	const remove = async (m) => {
		try {
			await call('DELETE', `/nodes/rooms/${room.id}/users/${m.id}`);
			st.set(`${m.userName} was removed from the room.`, 'ok');
		} catch (e) {
			st.set(said(e, `remove ${m.userName}`), 'error');
		}
		await load();
	};
	async function load() {
		const r = await call('GET', `/nodes/rooms/${room.id}/users`);
		tbody.replaceChildren(...r.items.map((m) => {
			const sel = h('select', { class: 'member-role', 'aria-label': `role of ${m.userName}`, disabled: !isManager },
				...ROLES.map((x) => h('option', { value: x, selected: x === m.role }, x)));
			sel.addEventListener('change', () => setRole(m.userName, sel.value));
			return h('tr', { 'data-name': m.userName }, h('td', {}, m.userName), h('td', {}, sel),
				h('td', {}, m.hasKeyPair ? 'yes' : 'not yet'),
				h('td', {}, isManager ? h('button', { class: 'secondary member-remove', onclick: () => remove(m) }, 'Remove') : null));
		}));
	}
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const name = user.value.trim();
		try {
			await call('POST', `/nodes/rooms/${room.id}/users`, { items: [{ userName: name, role: role.value }] });
			user.value = '';
			st.set(`${name} was added as ${role.value === 'manage' ? 'a manager' : `a ${role.value} member`}.`, 'ok');
		} catch (e) {
			st.set(said(e, `add ${name}`), 'error');
		}
		await load();
	});
	try {
		await load();
	} catch (e) {
		st.set(said(e, 'see the members'), 'error');
	}
}
