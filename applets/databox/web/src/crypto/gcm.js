// gcm.js - streaming AES-256-GCM (one GCM operation over a whole file, no AAD, 96-bit
// IV, 128-bit tag kept apart: the format's file content encryption).
//
// WebCrypto's AES-GCM is one-shot (it needs the whole file in memory), so GCM is put
// together from its two standard halves (NIST SP 800-38D): the keystream is AES-CTR
// from WebCrypto, started at inc32(J0) and continued at any block offset, and the
// authentication is GHASH from @noble/ciphers (audited, maintained). Neither primitive
// is written here; this file only feeds them in the order GCM defines.
import { ghash } from '@noble/ciphers/_polyval.js';
import { concat, ctEqual } from './bytes.js';

const BLOCK = 16;

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
		const zero = new Uint8Array(16);
		// H = E_K(0^128) and E_K(J0), each as CTR over one zero block.
		const h = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, g.key, zero));
		const j0 = new Uint8Array(16);
		j0.set(iv, 0);
		j0[15] = 1;
		g.ekj0 = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: j0, length: 32 }, g.key, zero));
		g.mac = ghash.create(h, 1 << 30);
		h.fill(0);
		g.blocks = 0;       // blocks processed so far (the CTR offset)
		g.length = 0;       // bytes processed so far
		g.pending = new Uint8Array(0);
		g.done = false;
		g.lag = null;      // encryption: output not hashed yet (see _crypt)
		return g;
	}

	// One CTR call per piece of data. The GHASH (JavaScript, this thread) overlaps the
	// AES-CTR (WebCrypto, its own thread): decryption hashes the input while the
	// keystream runs; encryption hashes the previous call's output after starting this
	// call's CTR (so the bytes update() returned must stay unchanged until the next
	// update() or final(); the callers only copy them into a Blob).
	async _crypt(data) {
		const counter = counterBlock(this.iv, this.blocks);
		this.blocks += Math.ceil(data.length / BLOCK);
		this.length += data.length;
		// 2^32 - 2 blocks per IV: the format's limit (about 64 GiB).
		if (this.blocks > 0xfffffffe)
			throw new Error('file too large for one GCM stream');
		// WebCrypto copies data when called, so hashing it meanwhile is safe
		const p = crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 32 }, this.key, data);
		if (this.encrypt) {
			if (this.lag)
				this.mac.update(this.lag);
			this.lag = null;
		} else {
			this.mac.update(data);
		}
		const out = new Uint8Array(await p);
		if (this.encrypt)
			this.lag = out;
		return out;
	}

	// Takes any number of bytes; returns the output for whole blocks so far (up to 15
	// bytes are held until the next call or final()).
	async update(chunk) {
		if (this.done)
			throw new Error('GCM stream already finished');
		let data = this.pending.length ? concat(this.pending, chunk) : chunk;
		const whole = data.length - (data.length % BLOCK);
		this.pending = data.slice(whole);
		if (whole === 0)
			return new Uint8Array(0);
		return this._crypt(data.subarray(0, whole));
	}

	// The last output bytes and the tag.
	async final() {
		if (this.done)
			throw new Error('GCM stream already finished');
		this.done = true;
		const last = this.pending.length ? await this._crypt(this.pending) : new Uint8Array(0);
		if (this.lag)
			this.mac.update(this.lag);
		this.lag = null;
		const lens = new Uint8Array(16);
		const dv = new DataView(lens.buffer);
		// len(A) = 0 (64 bits), len(C) in bits (64 bits)
		const bits = this.length * 8;
		dv.setUint32(8, Math.floor(bits / 0x100000000), false);
		dv.setUint32(12, bits >>> 0, false);
		this.mac.update(lens);
		const s = this.mac.digest();
		const tag = new Uint8Array(16);
		for (let i = 0; i < 16; i++)
			tag[i] = s[i] ^ this.ekj0[i];
		this.ekj0.fill(0);
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
