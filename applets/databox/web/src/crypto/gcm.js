// gcm.js - streaming AES-256-GCM (one GCM operation over a whole file, no AAD, 96-bit
// IV, 128-bit tag kept apart: the format's file content encryption).
//
// WebCrypto's AES-GCM is one-shot (it needs the whole file in memory), so GCM is put
// together from its standard parts (NIST SP 800-38D), none written here:
//  - the keystream is WebCrypto's AES-CTR, started at inc32(J0) and continued at any
//    block offset;
//  - the GHASH of each piece of ciphertext comes from WebCrypto's own AES-GCM, asked
//    for the tag of an empty message whose additional data is that piece: that tag is
//    E_K(J0) ^ GHASH_H(piece || len block), so (with E_K(J0) and H known here)
//    it yields R(piece) = GHASH-state(piece) * H, computed natively;
//  - the pieces' states are chained with the GHASH field's multiplication, which
//    @noble/ciphers' GHASH (audited, maintained) provides: one block a hashed under key
//    b is a * b. R(A || B) = R(A) * H^blocks(B) ^ R(B), and the final tag is
//    R(C) ^ L * H ^ E_K(J0) with L the lengths block.
// The JavaScript GHASH alone ran at 20-30 MiB/s in Chromium, WebCrypto's at several
// hundred; this file only feeds the primitives in the order GCM defines and XORs their
// 16-byte results. It is checked against node's AES-256-GCM for many sizes and splits
// (test/gcm-check.mjs, run in node and in Chromium) and against DRACOON's vector.
import { ghash } from '@noble/ciphers/_polyval.js';
import { concat, ctEqual } from './bytes.js';

const BLOCK = 16;
// One WebCrypto call per PIECE bytes. Measured in Chromium on this machine: buffers of
// a MiB and more are allocated and freed straight from the kernel (page faults on every
// call, RSS that lags behind), while 256 KiB ones are reused from the allocator's
// buckets; the per-call cost is already small at that size.
export const PIECE = 256 << 10;

// a * b in GHASH's field, by noble's GHASH over the one block a with key b.
const mul = (a, b) => ghash(a, b);

function xorInto(dst, src) {
	for (let i = 0; i < 16; i++)
		dst[i] ^= src[i];
}

// h^m (m >= 1) by squaring, every product from mul().
function power(h, m) {
	let r = null, b = h;
	for (;;) {
		if (m & 1)
			r = r ? mul(r, b) : b.slice();
		m = Math.floor(m / 2);
		if (!m)
			return r;
		b = mul(b, b);
	}
}

// The GCM lengths block: bits of additional data, then bits of ciphertext.
function lengths(aadBytes, ctBytes) {
	const l = new Uint8Array(16);
	const dv = new DataView(l.buffer);
	dv.setUint32(0, Math.floor(aadBytes * 8 / 0x100000000), false);
	dv.setUint32(4, (aadBytes * 8) >>> 0, false);
	dv.setUint32(8, Math.floor(ctBytes * 8 / 0x100000000), false);
	dv.setUint32(12, (ctBytes * 8) >>> 0, false);
	return l;
}

function counterBlock(iv, blockIndex) {
	// J0 = IV || 0^31 || 1; the data starts at inc32(J0), i.e. low word 2.
	const c = new Uint8Array(16);
	c.set(iv, 0);
	new DataView(c.buffer).setUint32(12, (2 + blockIndex) >>> 0, false);
	return c;
}

export class GcmStream {
	// encrypt: true for encryption (GHASH over the output), false for decryption.
	static async create(key, iv, encrypt) {
		if (key.length !== 32 || iv.length !== 12)
			throw new Error('file key must be 32 bytes with a 12-byte IV');
		const g = new GcmStream();
		g.encrypt = encrypt;
		g.iv = iv.slice();
		g.key = await crypto.subtle.importKey('raw', key, { name: 'AES-CTR' }, false, ['encrypt']);
		g.gkey = await crypto.subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt']);
		const zero = new Uint8Array(16);
		// H = E_K(0^128) and E_K(J0), each as CTR over one zero block.
		g.h = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, g.key, zero));
		const j0 = new Uint8Array(16);
		j0.set(iv, 0);
		j0[15] = 1;
		g.ekj0 = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: j0, length: 32 }, g.key, zero));
		g.r = new Uint8Array(16);  // R of the ciphertext hashed so far
		g.powers = new Map();      // blocks -> H^blocks
		g.lenH = new Map();        // piece bytes -> lengths(piece, 0) * H
		g.blocks = 0;              // blocks processed so far (the CTR offset)
		g.length = 0;              // bytes processed so far
		g.pendBuf = new Uint8Array(BLOCK); // bytes of an unfinished block
		g.pendLen = 0;
		g.done = false;
		g.mac = Promise.resolve(); // the GHASH of everything handed in so far
		g.seq = Promise.resolve(); // the outputs, handed back in call order
		return g;
	}

	// R(piece) from WebCrypto's GCM tag over the piece as additional data; started now
	// (WebCrypto copies the piece when called), folded into this.r in call order.
	_hash(piece) {
		const n = piece.length;
		const t = crypto.subtle.encrypt({ name: 'AES-GCM', iv: this.iv, additionalData: piece, tagLength: 128 },
			this.gkey, new Uint8Array(0));
		const prev = this.mac;
		this.mac = (async () => {
			const tag = new Uint8Array(await t);
			await prev;
			const m = Math.ceil(n / BLOCK);
			if (!this.powers.has(m))
				this.powers.set(m, power(this.h, m));
			if (!this.lenH.has(n))
				this.lenH.set(n, mul(lengths(n, 0), this.h));
			// tag = E_K(J0) ^ (state ^ L) * H, so R(piece) = tag ^ E_K(J0) ^ L * H
			const r = mul(this.r, this.powers.get(m));
			xorInto(r, tag);
			xorInto(r, this.ekj0);
			xorInto(r, this.lenH.get(n));
			this.r = r;
		})();
		this.mac.catch(() => {}); // awaited later; not an unhandled rejection meanwhile
	}

	// One CTR call per PIECE; every WebCrypto call is made before the first await, so
	// the caller may reuse data's buffer as soon as this returns its promise.
	_crypt(data) {
		const calls = [];
		for (let o = 0; o < data.length; o += PIECE) {
			const piece = data.subarray(o, Math.min(data.length, o + PIECE));
			const counter = counterBlock(this.iv, this.blocks);
			this.blocks += Math.ceil(piece.length / BLOCK);
			this.length += piece.length;
			// 2^32 - 2 blocks per IV: the format's limit (about 64 GiB).
			if (this.blocks > 0xfffffffe)
				throw new Error('file too large for one GCM stream');
			calls.push(crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 32 }, this.key, piece));
			if (!this.encrypt)
				this._hash(piece);
		}
		// decryption waits for its own GHASH, encryption for the previous call's: bounded
		// work in flight; encryption hashes its outputs in call order
		const before = this.mac, prevSeq = this.seq;
		const run = (async () => {
			await prevSeq;
			const out = [];
			for (const c of calls) {
				const o = new Uint8Array(await c);
				if (this.encrypt)
					this._hash(o);
				out.push(o);
			}
			await before;
			return out;
		})();
		this.seq = run.catch(() => {});
		return run;
	}

	// Takes any number of bytes; returns the output for whole blocks so far as pieces of
	// at most PIECE bytes (up to 15 bytes are held until the next call or final()).
	// The held bytes live in one 16-byte buffer: a call never concatenates its chunk
	// with them (that allocated a second copy of every chunk after an odd-sized one) and
	// keeps no reference to the chunk, so the caller may reuse or drop it at once.
	updateParts(chunk) {
		if (this.done)
			return Promise.reject(new Error('GCM stream already finished'));
		try {
			let data = chunk, head = null;
			if (this.pendLen) {
				const need = Math.min(BLOCK - this.pendLen, chunk.length);
				this.pendBuf.set(chunk.subarray(0, need), this.pendLen);
				this.pendLen += need;
				data = chunk.subarray(need);
				if (this.pendLen < BLOCK)
					return Promise.resolve([]);
				head = this._crypt(this.pendBuf);
				this.pendLen = 0;
			}
			const whole = data.length - (data.length % BLOCK);
			const body = whole ? this._crypt(data.subarray(0, whole)) : null;
			this.pendBuf.set(data.subarray(whole), 0);
			this.pendLen = data.length - whole;
			if (!head)
				return body || Promise.resolve([]);
			return body ? Promise.all([head, body]).then(([a, b]) => a.concat(b)) : head;
		} catch (e) {
			return Promise.reject(e);
		}
	}

	// The same as one buffer (for small data).
	async update(chunk) {
		const parts = await this.updateParts(chunk);
		return parts.length === 1 ? parts[0] : concat(...parts);
	}

	// The last output bytes and the tag.
	async final() {
		if (this.done)
			throw new Error('GCM stream already finished');
		this.done = true;
		const lastParts = this.pendLen ? await this._crypt(this.pendBuf.subarray(0, this.pendLen)) : [];
		this.pendLen = 0;
		await this.mac;
		const last = lastParts.length ? lastParts[0] : new Uint8Array(0);
		const tag = mul(lengths(0, this.length), this.h);
		xorInto(tag, this.r);
		xorInto(tag, this.ekj0);
		this.ekj0.fill(0);
		this.h.fill(0);
		this.r.fill(0);
		this.pendBuf.fill(0);
		// the caches of H's powers go with the stream (no key-derived values kept)
		this.powers.clear();
		this.lenH.clear();
		return { last, tag };
	}

	// Decryption's end: the last bytes, or an exception when the tag does not verify.
	async finalVerify(expectedTag) {
		const { last, tag } = await this.final();
		if (!expectedTag || !ctEqual(tag, expectedTag))
			throw new TagError();
		return last;
	}
}

export class TagError extends Error {
	constructor() {
		super('the file does not authenticate (GCM tag mismatch): the data or its file key was altered');
		this.name = 'TagError';
	}
}
