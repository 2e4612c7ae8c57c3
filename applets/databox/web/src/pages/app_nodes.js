// app_nodes.js - rename, delete, move and copy a file or folder. The server enforces
// the room's rules (write role to rename, manage role or being the creator to delete
// or to move out of a room, no move between encrypted and unencrypted rooms); its
// refusals are shown in plain words.
import { call } from '../api.js';
import { h } from '../ui.js';
import { said } from './app_members.js';

function inline(st, ...children) {
	const form = h('form', { class: 'banner node-form' }, ...children,
		h('button', { type: 'button', class: 'secondary', onclick: () => st.replaceChildren() }, 'Cancel'));
	st.replaceChildren(form);
	return form;
}

export function nodeActions(node, st, reload) {
	const kind = node.type === 'folder' ? 'folder' : 'file';
	const rename = () => {
		const name = h('input', { class: 'rename-name', value: node.name, required: true, 'aria-label': 'new name' });
		const form = inline(st, `Rename ${node.name} to `, name, h('button', { type: 'submit', class: 'rename-ok' }, 'Rename'));
		name.select();
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			try {
				await call('PUT', `/nodes/${kind}s/${node.id}`, { name: name.value });
				st.set(`Renamed to ${name.value}.`, 'ok');
			} catch (e) {
				st.set(said(e, `rename ${node.name}`), 'error');
			}
			await reload();
		});
	};
	const del = () => {
		const form = inline(st, `Delete ${node.name}? This cannot be undone. `,
			h('button', { type: 'submit', class: 'delete-ok' }, 'Delete'));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			try {
				await call('DELETE', `/nodes/${node.id}`);
				st.set(`${node.name} was deleted.`, 'ok');
			} catch (e) {
				st.set(said(e, `delete ${node.name}`), 'error');
			}
			await reload();
		});
	};
	const moveCopy = async (move) => {
		// targets: every room, and the folders of each room's top level
		const rooms = (await call('GET', '/nodes')).items;
		const opts = [];
		for (const r of rooms) {
			opts.push(h('option', { value: r.id }, r.name));
			try {
				for (const f of (await call('GET', `/nodes?parent_id=${r.id}`)).items.filter((n) => n.type === 'folder'))
					opts.push(h('option', { value: f.id }, `${r.name} / ${f.name}`));
			} catch (e) { /* a room we cannot list */ }
		}
		const target = h('select', { class: 'move-target', 'aria-label': 'target' }, ...opts);
		const verb = move ? 'Move' : 'Copy';
		const form = inline(st, `${verb} ${node.name} to `, target, h('button', { type: 'submit', class: 'move-ok' }, verb));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			try {
				await call('POST', `/nodes/files/${node.id}/${move ? 'move_to' : 'copy_to'}`, { targetId: Number(target.value) });
				st.set(`${node.name} was ${move ? 'moved' : 'copied'} to ${target.selectedOptions[0].textContent}.`, 'ok');
			} catch (e) {
				st.set(said(e, `${move ? 'move' : 'copy'} ${node.name} there`), 'error');
			}
			await reload();
		});
	};
	return [
		h('button', { class: 'secondary rename', onclick: rename }, 'Rename'),
		node.type === 'file' ? h('button', { class: 'secondary move', onclick: () => moveCopy(true) }, 'Move') : null,
		node.type === 'file' ? h('button', { class: 'secondary copy', onclick: () => moveCopy(false) }, 'Copy') : null,
		h('button', { class: 'secondary delete', onclick: del }, 'Delete'),
	];
}
