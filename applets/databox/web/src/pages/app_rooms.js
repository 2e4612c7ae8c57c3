// app_rooms.js - a room manager's rename and delete of a room (rooms list). Deleting
// says first what goes with it; the server allows both to the room's managers only.
import { call } from '../api.js';
import { h } from '../ui.js';
import { said } from './app_members.js';
import { inline, contents } from './app_nodes.js';

export function roomActions(room, st, reload) {
	if (room.role !== 'manage')
		return null;
	const rename = () => {
		const name = h('input', { class: 'room-rename-name', value: room.name, required: true, 'aria-label': 'new room name' });
		const form = inline(st, `Rename the room ${room.name} to `, name, h('button', { type: 'submit', class: 'room-rename-ok' }, 'Rename'));
		name.select();
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			try {
				await call('PUT', `/nodes/rooms/${room.id}`, { name: name.value });
				st.set(`The room is now called ${name.value}.`, 'ok');
			} catch (e) {
				st.set(said(e, `rename the room ${room.name}`), 'error');
			}
			await reload();
		});
	};
	const del = async () => {
		let what;
		try {
			what = await contents(room);
		} catch (e) {
			return st.set(said(e, `delete the room ${room.name}`), 'error');
		}
		const form = inline(st, `Delete the room ${room.name}${what ? ` and everything in it (${what})` : ' (it is empty)'}? ` +
			'Its members lose it too; this cannot be undone. ', h('button', { type: 'submit', class: 'room-delete-ok' }, 'Delete the room'));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			try {
				await call('DELETE', `/nodes/${room.id}`);
				st.set(`The room ${room.name} was deleted.`, 'ok');
			} catch (e) {
				st.set(said(e, `delete the room ${room.name}`), 'error');
			}
			await reload();
		});
	};
	return [h('button', { class: 'secondary room-rename', onclick: rename }, 'Rename'),
		h('button', { class: 'secondary room-delete', onclick: del }, 'Delete')];
}
