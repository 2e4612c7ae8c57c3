// app_nodes.js - rename, delete, move and copy a file or folder. The server enforces
// the room's rules (write role to rename, manage role or being the creator to delete
// or to move out of a room, the manage role to delete a folder with contents, no move
// between encrypted and unencrypted rooms); its refusals are shown in plain words.
import { call } from '../api.js';
import { h, fmtSize } from '../ui.js';
import { said } from './app_members.js';

// A small form in the status line: its first field (or button) gets the focus, Enter
// submits, Escape or Cancel closes it.
export function inline(st, ...children) {
	const close = () => st.replaceChildren();
	const form = h('form', { class: 'banner node-form', onkeydown: (e) => { if (e.key === 'Escape') close(); } }, ...children,
		h('button', { type: 'button', class: 'secondary', onclick: close }, 'Cancel'));
	st.replaceChildren(form);
	(form.querySelector('input, select') || form.querySelector('button')).focus();
	return form;
}

// What deleting node removes, in words ("3 files and 1 folder, 2.0 MiB"), or '' when empty.
export async function contents(node) {
	if (node.type === 'file')
		return '';
	const s = await call('GET', `/nodes/${node.id}/summary`);
	if (!s.files && !s.folders)
		return '';
	const n = (k, w) => `${k} ${w}${k === 1 ? '' : 's'}`;
	return `${n(s.files, 'file')} and ${n(s.folders, 'folder')}, ${fmtSize(s.size)}`;
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
	const del = async () => {
		let what = '';
		try {
			what = await contents(node);
		} catch (e) {
			return st.set(said(e, `delete ${node.name}`), 'error');
		}
		const form = inline(st, what ? `Delete the folder ${node.name} and everything in it (${what})? This cannot be undone. `
			: `Delete ${node.name}? This cannot be undone. `, h('button', { type: 'submit', class: 'delete-ok' }, 'Delete'));
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
				for (const f of (await call('GET', `/nodes?parent_id=${r.id}`)).items.filter((n) => n.type === 'folder' && n.id !== node.id))
					opts.push(h('option', { value: f.id }, `${r.name} / ${f.name}`));
			} catch (e) { /* a room we cannot list */ }
		}
		const target = h('select', { class: 'move-target', 'aria-label': 'target' }, ...opts);
		const verb = move ? 'Move' : 'Copy';
		const form = inline(st, `${verb} ${node.name} to `, target, h('button', { type: 'submit', class: 'move-ok' }, verb));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			try {
				const r = await call('POST', `/nodes/${kind}s/${node.id}/${move ? 'move_to' : 'copy_to'}`, { targetId: Number(target.value) });
				const skipped = r && r.skippedFiles ? ` (${r.skippedFiles} encrypted file(s) left out: you have no key for them)` : '';
				st.set(`${node.name} was ${move ? 'moved' : 'copied'} to ${target.selectedOptions[0].textContent}${skipped}.`, 'ok');
			} catch (e) {
				st.set(said(e, `${move ? 'move' : 'copy'} ${node.name} there`), 'error');
			}
			await reload();
		});
	};
	return [
		h('button', { class: 'secondary rename', onclick: rename }, 'Rename'),
		h('button', { class: 'secondary move', onclick: () => moveCopy(true) }, 'Move'),
		h('button', { class: 'secondary copy', onclick: () => moveCopy(false) }, 'Copy'),
		h('button', { class: 'secondary delete', onclick: del }, 'Delete'),
	];
}
