// interrupted.js - what an upload left unfinished when the page went away (reload,
// closed tab, crash), told to the user on the next visit so they know what to send
// again; and the browser's "leave this page?" warning while a transfer runs.
//
// localStorage holds only what the user picked and where it was going: the file's name,
// its size, the room or share's name and when it started. Never a key, a password, a
// token or an upload id (nothing in it lets anyone continue or read an upload).
import { h, fmtSize } from './ui.js';

const KEY = 'databox-unfinished-uploads';
let active = 0;

function read() {
	try {
		const v = JSON.parse(localStorage.getItem(KEY) || '[]');
		return Array.isArray(v) ? v : [];
	} catch (e) {
		return [];
	}
}

function write(list) {
	try {
		if (list.length)
			localStorage.setItem(KEY, JSON.stringify(list));
		else
			localStorage.removeItem(KEY);
	} catch (e) { /* storage full or disabled: the warning below still works */ }
}

function onBeforeUnload(e) {
	e.preventDefault();
	e.returnValue = ''; // older Chromium shows the prompt only with this set
}

// Counts a running transfer; the warning is on while any runs. Returns done().
export function transferRunning() {
	if (active++ === 0)
		addEventListener('beforeunload', onBeforeUnload);
	let ended = false;
	return () => {
		if (ended)
			return;
		ended = true;
		if (--active === 0)
			removeEventListener('beforeunload', onBeforeUnload);
	};
}

// This tab's id (sessionStorage survives a reload of the tab, not the tab itself): an
// entry of this tab found on load is from the page the reload replaced.
function tabId() {
	try {
		let t = sessionStorage.getItem('databox-tab');
		if (!t) {
			t = Math.random().toString(36).slice(2, 10);
			sessionStorage.setItem('databox-tab', t);
		}
		return t;
	} catch (e) {
		return 'tab';
	}
}

// A running upload refreshes its entry's `seen` every BEAT ms, so another tab can tell
// a live upload (not to be reported) from one whose page is gone.
const BEAT = 5000;

// Records an upload as started (name, size, destination); the returned function marks
// it ended, whatever the outcome (a failure or cancel the page showed is not
// "interrupted"). Also counts it as a running transfer.
export function uploadStarted(file, where) {
	const id = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	const tab = tabId();
	write([...read(), { id, tab, name: String(file.name), size: Number(file.size) || 0, where: String(where || ''),
		at: Date.now(), seen: Date.now() }]);
	const beat = setInterval(() => write(read().map((u) => (u.id === id ? { ...u, seen: Date.now() } : u))), BEAT);
	const running = transferRunning();
	return () => {
		clearInterval(beat);
		running();
		write(read().filter((u) => u.id !== id));
	};
}

// The uploads a previous page left unfinished, taken out of storage (shown once): this
// tab's (the page before a reload) and any other tab's that stopped beating.
export function takeInterrupted() {
	const tab = tabId(), now = Date.now();
	const gone = (u) => u.tab === tab || !(now - u.seen < 3 * BEAT);
	const list = read();
	write(list.filter((u) => !gone(u)));
	return list.filter(gone).map(({ name, size, where, at }) => ({ name, size, where, at }));
}

// Shows, above the page, what a previous page left unfinished (nothing when all ended).
export function showInterrupted() {
	const list = takeInterrupted();
	if (!list.length)
		return;
	const box = h('div', { id: 'interrupted', class: 'notice error', role: 'alert' },
		h('p', {}, list.length === 1 ? 'An upload did not finish: the page was closed or reloaded while it ran. Please send it again:'
			: `${list.length} uploads did not finish: the page was closed or reloaded while they ran. Please send them again:`),
		h('ul', {}, list.map((u) => h('li', {}, `${u.name} (${fmtSize(u.size)})${u.where ? ` to ${u.where}` : ''}, started ${new Date(u.at).toLocaleString()}`))),
		h('button', { type: 'button', class: 'secondary', id: 'interrupted-dismiss', onclick: () => box.remove() }, 'Dismiss'));
	document.body.prepend(box);
}
