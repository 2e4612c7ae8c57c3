// gcm-check.mjs - the streaming GCM (src/crypto/gcm.js) against WebCrypto's one-shot
// AES-256-GCM over the whole message, for sizes around the block and piece boundaries
// and for several ways of cutting the input: ciphertext and tag must be identical,
// decryption must give the plaintext back, and one flipped bit must fail the tag.
// Runs in node (test/node-vectors.mjs) and, bundled, in Chromium (test/e2e.mjs).
import { GcmStream, TagError, PIECE } from '../src/crypto/gcm.js';
import { concat } from '../src/crypto/bytes.js';

function rand(n) {
	const u = new Uint8Array(n);
	for (let o = 0; o < n; o += 65536)
		crypto.getRandomValues(u.subarray(o, Math.min(n, o + 65536)));
	return u;
}

async function run(key, iv, data, cut, encrypt) {
	const g = await GcmStream.create(key, iv, encrypt);
	const parts = [];
	for (let o = 0; o < data.length;) {
		const n = Math.min(data.length - o, cut(o));
		parts.push(...await g.updateParts(data.subarray(o, o + n)));
		o += n;
	}
	return { g, parts };
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function runGcmCheck(report) {
	const sizes = [0, 1, 15, 16, 17, 4097, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 7, (1 << 20) + 5];
	const cuts = { whole: () => Infinity, '7 bytes': () => 7, '64 KiB + 5': () => 65541,
		'a piece and a bit': () => PIECE + 16, 'uneven': (o) => 1 + (o * 7919 + 13) % 300000 };
	let fail = [];
	for (const size of sizes) {
		const key = rand(32), iv = rand(12), pt = rand(size);
		const k = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
		const ref = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, k, pt));
		const refCt = ref.subarray(0, size), refTag = ref.subarray(size);
		for (const [cname, cut] of Object.entries(cuts)) {
			if (size < 1000 ? cname !== 'whole' && cname !== '7 bytes' : cname === '7 bytes' && size > 5000)
				continue;
			const e = await run(key, iv, pt, cut, true);
			const { last, tag } = await e.g.final();
			const ct = concat(...e.parts, last);
			if (!same(ct, refCt) || !same(tag, refTag))
				fail.push(`encrypt ${size}/${cname}`);
			const d = await run(key, iv, refCt, cut, false);
			let back = null;
			try {
				back = concat(...d.parts, await d.g.finalVerify(refTag));
			} catch (x) { /* reported below */ }
			if (!back || !same(back, pt))
				fail.push(`decrypt ${size}/${cname}`);
		}
		if (size) {
			const bad = refCt.slice();
			bad[Math.floor(size / 2)] ^= 0x10;
			const d = await run(key, iv, bad, () => 65541, false);
			let tagFail = false;
			try { await d.g.finalVerify(refTag); } catch (x) { tagFail = x instanceof TagError; }
			if (!tagFail)
				fail.push(`tamper ${size}`);
		}
	}
	report(`streaming GCM equals one-shot AES-256-GCM (${sizes.length} sizes, ${Object.keys(cuts).length} ways to cut, both directions, a flipped bit fails)${fail.length ? ': ' + fail.join(', ') : ''}`, fail.length === 0);
}
