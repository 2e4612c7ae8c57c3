// ui.js - a tiny DOM helper: every element is made with createElement and textContent
// (never innerHTML), so names from the server cannot inject markup.
export function h(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on'))
			e.addEventListener(k.slice(2), v);
		else if (k === 'class')
			e.className = v;
		else
			e.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat()) {
		if (c === null || c === undefined || c === false)
			continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

export function mount(...children) {
	const root = document.getElementById('app');
	root.replaceChildren(h('header', {}, h('span', { class: 'logo' }, 'databox')), ...children);
	return root;
}

// A status line read out by screen readers; kind: '', 'ok', 'error'.
export function status() {
	const e = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
	e.set = (text, kind = '') => {
		e.textContent = text;
		e.className = 'status ' + kind;
	};
	return e;
}

export function fmtSize(n) {
	if (n < 1024)
		return `${n} bytes`;
	const u = ['KiB', 'MiB', 'GiB', 'TiB'];
	let i = -1;
	do {
		n /= 1024;
		i++;
	} while (n >= 1024 && i < u.length - 1);
	return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

export function progress() {
	const e = h('progress', { max: '1', value: '0', hidden: true });
	e.set = (frac) => {
		e.hidden = false;
		e.value = Math.max(0, Math.min(1, frac));
	};
	return e;
}
