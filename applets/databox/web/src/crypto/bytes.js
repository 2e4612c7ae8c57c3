// bytes.js - small conversions between the forms the format uses (base64, PEM,
// UTF-8 and ISO-8859-1 password bytes, forge's binary strings). No cryptography here.

export function b64encode(u8) {
	let s = '';
	for (let i = 0; i < u8.length; i += 0x8000)
		s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
	return btoa(s);
}

// Strict base64 (with padding, whitespace ignored); throws on anything else.
export function b64decode(s) {
	if (typeof s !== 'string')
		throw new Error('not a base64 string');
	const t = s.replace(/\s+/g, '');
	if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0)
		throw new Error('not valid base64');
	const bin = atob(t);
	const u8 = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++)
		u8[i] = bin.charCodeAt(i);
	return u8;
}

// forge works on "binary strings" (one char per byte).
export function toBinStr(u8) {
	let s = '';
	for (let i = 0; i < u8.length; i += 0x8000)
		s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
	return s;
}

export function fromBinStr(s) {
	const u8 = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++)
		u8[i] = s.charCodeAt(i) & 0xff;
	return u8;
}

export const utf8 = (s) => new TextEncoder().encode(s);

// The password as ISO-8859-1 bytes, or null when a character is above U+00FF.
export function latin1(s) {
	const u8 = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c > 0xff)
			return null;
		u8[i] = c;
	}
	return u8;
}

export function pemEncode(label, der) {
	const b = b64encode(der).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
	return `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`;
}

// Lenient PEM: CRLF, blank lines and indentation inside the body are fine.
export function pemDecode(label, pem) {
	if (typeof pem !== 'string')
		throw new Error(`not a PEM ${label}`);
	const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
	if (!m)
		throw new Error(`not a PEM ${label}`);
	return b64decode(m[1]);
}

export function concat(...parts) {
	const n = parts.reduce((a, p) => a + p.length, 0);
	const out = new Uint8Array(n);
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}

export function random(n) {
	return crypto.getRandomValues(new Uint8Array(n));
}

// Constant-time equality of two byte arrays of equal length.
export function ctEqual(a, b) {
	if (a.length !== b.length)
		return false;
	let d = 0;
	for (let i = 0; i < a.length; i++)
		d |= a[i] ^ b[i];
	return d === 0;
}

export function wipe(u8) {
	if (u8)
		u8.fill(0);
}
