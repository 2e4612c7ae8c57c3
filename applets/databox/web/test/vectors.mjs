// vectors.mjs - the browser crypto (src/crypto) against DRACOON's vectors. Runs in node
// (WebCrypto is globalThis.crypto there) and, bundled, in Chromium (test/browser.mjs).
import { unlockPrivate, unwrapFileKey, parsePlainFileKey, plainFileKeyJson, generateKeyPair,
	wrapFileKey, importPublic, WrongPassword } from '../src/crypto/keys.js';
import { GcmStream, TagError } from '../src/crypto/gcm.js';
import { b64decode, b64encode } from '../src/crypto/bytes.js';

// vec: { name: text } of the files under shared/vectors/dracoon/java-crypto-sdk/unit
export async function runVectors(vec, report) {
	const J = (n) => JSON.parse(vec[n]);
	const pw = vec['data/kp_general/pw.txt'];
	const plain = J('data/fk_rsa2048_aes256gcm/plain_file_key.json');
	for (const [kp, fk] of [['kp_rsa2048', 'fk_rsa2048_aes256gcm'], ['kp_rsa4096', 'fk_rsa4096_aes256gcm']]) {
		const priv = await unlockPrivate(J(`data/${kp}/private_key.json`), pw, J(`data/${kp}/public_key.json`));
		report(`${kp} unlocks with the SDK's password`, !!priv);
		let wrong = false;
		try { await unlockPrivate(J(`data/${kp}/private_key.json`), 'Invalid-Password'); } catch (e) { wrong = e instanceof WrongPassword; }
		report(`${kp} refuses a wrong password as wrong password`, wrong);
		const fkey = await unwrapFileKey(J(`data/${fk}/enc_file_key.json`), priv);
		const pj = plainFileKeyJson(fkey);
		report(`${fk} unwraps to the SDK's plain file key`, pj.key === plain.key && pj.iv === plain.iv && pj.tag === plain.tag);
		// round trip through our own wrapping for the vector's public key
		const pub = await importPublic(J(`data/${kp}/public_key.json`));
		const again = await unwrapFileKey(await wrapFileKey(fkey, pub), priv);
		report(`${kp}: a file key wrapped in the browser unwraps again`, b64encode(again.key) === plain.key);
	}
	const fk = parsePlainFileKey(plain);
	const ct = b64decode(vec['files/aes256gcm/enc_file.b64']);
	const pt = b64decode(vec['files/plain_file.b64']);
	// decrypt in uneven pieces: chunking must not matter
	const d = await GcmStream.create(fk.key, fk.iv, false);
	const parts = [await d.update(ct.subarray(0, 7)), await d.update(ct.subarray(7, 40)), await d.update(ct.subarray(40))];
	parts.push(await d.finalVerify(fk.tag));
	const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
	let o = 0;
	for (const p of parts) { out.set(p, o); o += p.length; }
	report("the SDK's encrypted file decrypts byte-exact (streaming GCM)", b64encode(out) === b64encode(pt));
	const e = await GcmStream.create(fk.key, fk.iv, true);
	const c1 = await e.update(pt.subarray(0, 33));
	const c2 = await e.update(pt.subarray(33));
	const { last, tag } = await e.final();
	report("encrypting the SDK's plaintext gives its ciphertext and tag",
		b64encode(new Uint8Array([...c1, ...c2, ...last])) === vec['files/aes256gcm/enc_file.b64'] && b64encode(tag) === plain.tag);
	const bad = ct.slice();
	bad[3] ^= 1;
	const t = await GcmStream.create(fk.key, fk.iv, false);
	await t.update(bad);
	let tagFail = false;
	try { await t.finalVerify(fk.tag); } catch (x) { tagFail = x instanceof TagError; }
	report('a tampered ciphertext fails the tag', tagFail);
	if (vec['js/kp_rsa4096_2.json']) {
		const k = JSON.parse(vec['js/kp_rsa4096_2.json']);
		const c = k.encryptedUserKeyPairContainer;
		const p2 = await unlockPrivate(c.privateKeyContainer, k.config.password, c.publicKeyContainer);
		report("the JS SDK's 1.3M-iteration RSA-4096 key unlocks", !!p2);
	}
	if (vec['js/kp_rsa2048_old.json']) {
		const k = JSON.parse(vec['js/kp_rsa2048_old.json']);
		const c = k.encryptedUserKeyPairContainer;
		const p3 = await unlockPrivate(c.privateKeyContainer, 'Qwer1234!äö', c.publicKeyContainer);
		report('the legacy Latin-1 password key (128-byte salt) unlocks', !!p3);
	}
}

export async function runKeygen(report, iterations) {
	for (const v of ['A', 'RSA-4096']) {
		const { container } = await generateKeyPair(v, 'Pässword 1', iterations);
		const priv = await unlockPrivate(container.privateKeyContainer, 'Pässword 1', container.publicKeyContainer);
		report(`a ${v} key pair made in the browser unlocks again`, priv.version === v);
	}
}
