// drafts.js - nothing lost on a reload: what was typed into a form (never a password
// field) and the room or folder on screen are kept in this tab's sessionStorage, which
// the browser drops with the tab; signing out clears them.
const PREFIX = 'databox-draft:';
const VIEW = 'databox-view';

// Restores and then keeps the values of form's named text fields and selects.
export function keepDraft(form) {
	const fields = [...form.querySelectorAll('input[id], select[id], textarea[id]')]
		.filter((e) => e.type !== 'password' && e.type !== 'file' && e.type !== 'hidden');
	for (const e of fields) {
		const v = sessionStorage.getItem(PREFIX + e.id);
		if (v === null)
			continue;
		if (e.type === 'checkbox')
			e.checked = v === '1';
		else
			e.value = v;
	}
	const save = (ev) => {
		const e = ev.target;
		if (fields.includes(e))
			sessionStorage.setItem(PREFIX + e.id, e.type === 'checkbox' ? (e.checked ? '1' : '0') : e.value);
	};
	form.addEventListener('input', save);
	form.addEventListener('change', save);
	// sent: the draft has done its job (the fields themselves stay as the handler leaves them)
	form.addEventListener('submit', () => fields.forEach((e) => sessionStorage.removeItem(PREFIX + e.id)));
}

// The room and folders on screen: [roomId, folderId...], or [] for the rooms list.
export function setView(ids) {
	if (ids.length)
		sessionStorage.setItem(VIEW, ids.join('/'));
	else
		sessionStorage.removeItem(VIEW);
}

export function savedView() {
	return (sessionStorage.getItem(VIEW) || '').split('/').filter(Boolean).map(Number);
}

export function clearDrafts() {
	for (let i = sessionStorage.length - 1; i >= 0; i--) {
		const k = sessionStorage.key(i);
		if (k.startsWith(PREFIX) || k === VIEW)
			sessionStorage.removeItem(k);
	}
}
