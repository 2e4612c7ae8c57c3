// keys.js - the format's user key pairs and file keys (docs/databox.md,
// specs/databox-crypto.md): generation, unlocking, RSA-OAEP wrapping, and their JSON.
//
// RSA-4096 pairs use WebCrypto's RSA-OAEP (SHA-256, MGF1-SHA256). Version A pairs
// (RSA-2048, OAEP SHA-256 with MGF1-SHA1) use forge's OAEP, since WebCrypto ties MGF1
// to the OAEP hash. Key generation is WebCrypto's for both.
import forge from './forge.js';
import { encryptPkcs8, parsePbes2, decryptPkcs8, WrongPassword, ITERATIONS } from './pbes2.js';
import { b64encode, b64decode, toBinStr, fromBinStr, utf8, latin1, pemEncode, pemDecode, random } from './bytes.js';

export { WrongPassword };
export const KP_VERSIONS = { A: 2048, 'RSA-4096': 4096 };
const FK_VERSION = { A: 'A', 'RSA-4096': 'RSA-4096/AES-256-GCM' };
// The plain file key's version as DRACOON's current SDKs write it; "A" is read too.
export const PLAIN_FK_VERSION = 'AES-256-GCM';

export function fileKeyVersionFor(kpVersion) {
	const v = FK_VERSION[kpVersion];
	if (!v)
		throw new Error(`unknown key pair version ${kpVersion}`);
	return v;
}

function forgeParse(der) {
	return forge.asn1.fromDer(toBinStr(der), { strict: true, parseAllBytes: true });
}

// A public key container {version, publicKey} -> a usable public key.
export async function importPublic(container) {
	const version = container && container.version;
	const bits = KP_VERSIONS[version];
	if (!bits)
		throw new Error(`unknown key pair version ${version}`);
	const der = pemDecode('PUBLIC KEY', container.publicKey);
	const fk = forge.pki.publicKeyFromAsn1(forgeParse(der));
	if (fk.n.bitLength() !== bits)
		throw new Error(`the public key is RSA-${fk.n.bitLength()}, but its version ${version} means RSA-${bits}`);
	const pub = { version, n: fk.n.toString(16), forge: fk };
	if (version === 'RSA-4096')
		pub.web = await crypto.subtle.importKey('spki', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
	return pub;
}

// The PKCS#8 bytes and forge's key of an encrypted private key PEM: the password as
// UTF-8 first, then as ISO-8859-1 when every character fits and one is not ASCII (as
// every DRACOON SDK does). Throws WrongPassword.
async function openPkcs8(pem, password) {
	const p = parsePbes2(pem);
	const tries = [utf8(password)];
	const l1 = latin1(password);
	if (l1 && /[^\x00-\x7f]/.test(password))
		tries.push(l1);
	let pkcs8 = null, key = null;
	for (const pw of tries) {
		try {
			if (!key) {
				pkcs8 = await decryptPkcs8(p, pw);
				key = forge.pki.privateKeyFromAsn1(forgeParse(pkcs8));
			}
		} catch (e) {
			if (pkcs8)
				pkcs8.fill(0);
			pkcs8 = null;
		} finally {
			pw.fill(0);
		}
	}
	if (!key)
		throw new WrongPassword();
	return { pkcs8, key };
}

// Unlocks a private key container with a password (UTF-8 first, then ISO-8859-1 when
// every character fits, as every DRACOON SDK does), checks its size and, when given,
// that it matches the public key. Throws WrongPassword or a format error. With keep,
// keep.pkcs8 gets the plain PKCS#8 (the caller wipes it) instead of it being wiped here.
export async function unlockPrivate(privContainer, password, pubContainer, keep = null) {
	const version = privContainer && privContainer.version;
	const bits = KP_VERSIONS[version];
	if (!bits)
		throw new Error(`unknown key pair version ${version}`);
	if (pubContainer && pubContainer.version !== version)
		throw new Error('the private and public key versions differ');
	const { pkcs8, key } = await openPkcs8(privContainer.privateKey, password);
	if (key.n.bitLength() !== bits)
		throw new Error(`the private key is RSA-${key.n.bitLength()}, but its version ${version} means RSA-${bits}`);
	if (pubContainer) {
		const pub = await importPublic(pubContainer);
		if (pub.n !== key.n.toString(16))
			throw new Error('the private key does not match the public key');
	}
	const priv = { version, forge: key };
	if (version === 'RSA-4096') {
		// WebCrypto wants PrivateKeyInfo; forge parsed it, re-encode to normalise.
		const der = fromBinStr(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))).getBytes());
		priv.web = await crypto.subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
		der.fill(0);
		priv.forge = null;
	}
	if (keep)
		keep.pkcs8 = pkcs8;
	else
		pkcs8.fill(0);
	return priv;
}

// A new decryption password for the same key pair: the private key is unlocked with
// the old password (all of unlockPrivate's checks) and its PKCS#8 encrypted again with
// the new one (UTF-8, fresh salt and IV). Returns the new UserKeyPairContainer; the
// public half is unchanged, so every file key wrapped for it stays valid.
export async function rewrapPrivate(container, oldPassword, newPassword, iterations = ITERATIONS) {
	const keep = {};
	await unlockPrivate(container.privateKeyContainer, oldPassword, container.publicKeyContainer, keep);
	const pkcs8 = keep.pkcs8;
	const npw = utf8(newPassword);
	const privateKey = await encryptPkcs8(pkcs8, npw, iterations);
	npw.fill(0);
	pkcs8.fill(0);
	return { privateKeyContainer: { version: container.privateKeyContainer.version, privateKey },
		publicKeyContainer: container.publicKeyContainer };
}

// A new key pair: {container (UserKeyPairContainer JSON), priv (unlocked)}.
export async function generateKeyPair(version, password, iterations = ITERATIONS) {
	const bits = KP_VERSIONS[version];
	if (!bits)
		throw new Error(`unknown key pair version ${version}`);
	const kp = await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: bits,
		publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
	const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', kp.privateKey));
	const spki = new Uint8Array(await crypto.subtle.exportKey('spki', kp.publicKey));
	const pw = utf8(password);
	const privPem = await encryptPkcs8(pkcs8, pw, iterations);
	pw.fill(0);
	const container = {
		privateKeyContainer: { version, privateKey: privPem },
		publicKeyContainer: { version, publicKey: pemEncode('PUBLIC KEY', spki) },
	};
	let priv;
	if (version === 'RSA-4096') {
		priv = { version, web: kp.privateKey };
	} else {
		priv = { version, forge: forge.pki.privateKeyFromAsn1(forgeParse(pkcs8)) };
	}
	pkcs8.fill(0);
	return { container, priv };
}

// ---- file keys ----

export function newFileKey() {
	return { key: random(32), iv: random(12), tag: null };
}

// Plain file key JSON (never sent to the server), written as "AES-256-GCM".
export function plainFileKeyJson(fk) {
	return { version: PLAIN_FK_VERSION, key: b64encode(fk.key), iv: b64encode(fk.iv), tag: fk.tag ? b64encode(fk.tag) : null };
}

export function parsePlainFileKey(j) {
	if (!j || (j.version !== 'A' && j.version !== PLAIN_FK_VERSION))
		throw new Error(`plain file key: unknown version ${j && j.version} (known: A, AES-256-GCM)`);
	const fk = { key: b64decode(j.key), iv: b64decode(j.iv), tag: j.tag == null ? null : b64decode(j.tag) };
	if (fk.key.length !== 32 || fk.iv.length !== 12 || (fk.tag && fk.tag.length !== 16))
		throw new Error('plain file key: key, iv or tag has the wrong length');
	return fk;
}

const OAEP_A = () => ({ md: forge.md.sha256.create(), mgf1: { md: forge.md.sha1.create() } });

// Wraps a plain file key (with its tag) for a public key: the FileKey JSON.
export async function wrapFileKey(fk, pub) {
	let ct;
	if (pub.version === 'RSA-4096') {
		ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, pub.web, fk.key));
	} else {
		const opts = OAEP_A();
		opts.seed = toBinStr(random(32));   // OAEP's seed from the browser's CSPRNG
		ct = fromBinStr(pub.forge.encrypt(toBinStr(fk.key), 'RSA-OAEP', opts));
	}
	return { version: fileKeyVersionFor(pub.version), key: b64encode(ct), iv: b64encode(fk.iv),
		tag: fk.tag ? b64encode(fk.tag) : null };
}

// Unwraps a FileKey JSON with an unlocked private key; refuses a version that does
// not fit the key pair.
export async function unwrapFileKey(enc, priv) {
	if (!enc || enc.version !== fileKeyVersionFor(priv.version))
		throw new Error(`file key version ${enc && enc.version} does not fit key pair version ${priv.version}`);
	const ct = b64decode(enc.key);
	let key;
	try {
		if (priv.version === 'RSA-4096')
			key = new Uint8Array(await crypto.subtle.decrypt({ name: 'RSA-OAEP' }, priv.web, ct));
		else
			key = fromBinStr(priv.forge.decrypt(toBinStr(ct), 'RSA-OAEP', OAEP_A()));
	} catch (e) {
		throw new Error('the file key does not unwrap with this key pair');
	}
	const iv = b64decode(enc.iv);
	const tag = enc.tag == null ? null : b64decode(enc.tag);
	if (key.length !== 32 || iv.length !== 12 || (tag && tag.length !== 16))
		throw new Error('the file key has the wrong length');
	return { key, iv, tag };
}
