// api.js - databox's HTTP API (docs/databox-api.md) on the page's own origin.
export const API = '/api/v1';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

let token = sessionStorage.getItem('databox-token');
let onExpired = null;

export const session = {
	get token() { return token; },
	set(t, exp) {
		token = t;
		sessionStorage.setItem('databox-token', t);
		sessionStorage.setItem('databox-token-exp', String(exp));
	},
	clear() {
		token = null;
		sessionStorage.removeItem('databox-token');
		sessionStorage.removeItem('databox-token-exp');
	},
	expired() {
		const e = Number(sessionStorage.getItem('databox-token-exp') || 0);
		return !token || (e && e * 1000 <= Date.now());
	},
	onExpired(f) { onExpired = f; },
};

// method, path under /api/v1, JSON body or raw bytes; returns the parsed JSON (or null).
export async function call(method, path, body, opts = {}) {
	const headers = {};
	if (token && !opts.public)
		headers.Authorization = `Bearer ${token}`;
	let b;
	if (body instanceof Uint8Array || body instanceof Blob) {
		headers['Content-Type'] = 'application/octet-stream';
		b = body;
	} else if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		b = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(API + path, { method, headers, body: b, credentials: 'omit', cache: 'no-store',
			signal: opts.signal });
	} catch (e) {
		if (e.name === 'AbortError')
			throw e;
		throw new ApiError(0, 'the server cannot be reached');
	}
	const text = await r.text();
	let j = null;
	try {
		j = text ? JSON.parse(text) : null;
	} catch (e) {
		j = null;
	}
	if (!r.ok) {
		// A refused token: onExpired asks the user to sign in again over the page and
		// resolves true once they have (every request refused meanwhile waits for the
		// same sign-in); the request then goes once more with the new token, so the
		// action the user started completes instead of having to be repeated.
		if (r.status === 401 && !opts.public && onExpired && !opts.retried && await onExpired())
			return call(method, path, body, { ...opts, retried: true });
		throw new ApiError(r.status, (j && j.message) || `the server answered ${r.status}`);
	}
	return j;
}
