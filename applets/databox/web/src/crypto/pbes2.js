// pbes2.js - PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018), the format's
// private key container: PBKDF2 and AES-CBC run in WebCrypto; the DER around them is
// read and written with forge's ASN.1 module.
//
// Written: PBKDF2-HMAC-SHA1 (PRF element omitted, the DER default), 1,300,000
// iterations, 20-byte salt, AES-256-CBC, 16-byte IV: what DRACOON's SDKs write.
// Read: any iteration count, salts up to 1 KiB, PRF SHA-1/256/384/512, AES-128/256-CBC
// (and AES-192 where the browser has it; Chromium does not).
import forge from './forge.js';
import { toBinStr, fromBinStr, random, pemEncode, pemDecode } from './bytes.js';

const asn1 = forge.asn1;
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const PRFS = {
	'1.2.840.113549.2.7': 'SHA-1',
	'1.2.840.113549.2.9': 'SHA-256',
	'1.2.840.113549.2.10': 'SHA-384',
	'1.2.840.113549.2.11': 'SHA-512',
};
const CIPHERS = {
	'2.16.840.1.101.3.4.1.2': 16,
	'2.16.840.1.101.3.4.1.22': 24,
	'2.16.840.1.101.3.4.1.42': 32,
};
export const ITERATIONS = 1300000;
const SALT_LEN = 20;

export class WrongPassword extends Error {
	constructor() {
		super('wrong password (the private key does not decrypt)');
		this.name = 'WrongPassword';
	}
}

async function pbkdf2(pwBytes, salt, iterations, hash, keyLen) {
	const base = await crypto.subtle.importKey('raw', pwBytes, 'PBKDF2', false, ['deriveBits']);
	return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', salt, iterations, hash }, base, keyLen * 8));
}

const seq = (items) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const oid = (o) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
const octets = (u8) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, toBinStr(u8));
const integer = (n) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());

// pkcs8: PrivateKeyInfo DER. Returns the PEM "ENCRYPTED PRIVATE KEY".
export async function encryptPkcs8(pkcs8, pwBytes, iterations = ITERATIONS) {
	const salt = random(SALT_LEN);
	const iv = random(16);
	const dk = await pbkdf2(pwBytes, salt, iterations, 'SHA-1', 32);
	const k = await crypto.subtle.importKey('raw', dk, 'AES-CBC', false, ['encrypt']);
	dk.fill(0);
	const enc = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, k, pkcs8));
	const der = asn1.toDer(seq([
		seq([oid(OID_PBES2), seq([
			seq([oid(OID_PBKDF2), seq([octets(salt), integer(iterations)])]),
			seq([oid('2.16.840.1.101.3.4.1.42'), octets(iv)]),
		])]),
		octets(enc),
	])).getBytes();
	return pemEncode('ENCRYPTED PRIVATE KEY', fromBinStr(der));
}

function child(node, i, type) {
	const c = node && Array.isArray(node.value) ? node.value[i] : undefined;
	if (!c || c.tagClass !== asn1.Class.UNIVERSAL || c.type !== type)
		throw new Error('the private key container does not parse (PKCS#8 PBES2 expected)');
	return c;
}

// The PBES2 parameters of an encrypted private key PEM; throws when it does not parse.
export function parsePbes2(pem) {
	const der = pemDecode('ENCRYPTED PRIVATE KEY', pem);
	let top;
	try {
		top = asn1.fromDer(toBinStr(der), { strict: true, parseAllBytes: true, decodeBitStrings: false });
	} catch (e) {
		throw new Error('the private key container does not parse (bad DER)');
	}
	const alg = child(top, 0, asn1.Type.SEQUENCE);
	if (asn1.derToOid(child(alg, 0, asn1.Type.OID).value) !== OID_PBES2)
		throw new Error('the private key is not PBES2-encrypted');
	const params = child(alg, 1, asn1.Type.SEQUENCE);
	const kdf = child(params, 0, asn1.Type.SEQUENCE);
	if (asn1.derToOid(child(kdf, 0, asn1.Type.OID).value) !== OID_PBKDF2)
		throw new Error('unsupported key derivation (PBKDF2 expected)');
	const kp = child(kdf, 1, asn1.Type.SEQUENCE);
	const salt = fromBinStr(child(kp, 0, asn1.Type.OCTETSTRING).value);
	const iterations = asn1.derToInteger(child(kp, 1, asn1.Type.INTEGER).value);
	let hash = 'SHA-1';
	for (let i = 2; i < kp.value.length; i++) {
		const e = kp.value[i];
		if (e.type === asn1.Type.SEQUENCE) {
			const o = asn1.derToOid(child(e, 0, asn1.Type.OID).value);
			hash = PRFS[o];
			if (!hash)
				throw new Error(`unsupported PBKDF2 PRF ${o}`);
		} else if (e.type !== asn1.Type.INTEGER) {
			throw new Error('the PBKDF2 parameters do not parse');
		}
	}
	const cipher = child(params, 1, asn1.Type.SEQUENCE);
	const co = asn1.derToOid(child(cipher, 0, asn1.Type.OID).value);
	const keyLen = CIPHERS[co];
	if (!keyLen)
		throw new Error(`unsupported cipher ${co}`);
	const iv = fromBinStr(child(cipher, 1, asn1.Type.OCTETSTRING).value);
	const enc = fromBinStr(child(top, 1, asn1.Type.OCTETSTRING).value);
	if (salt.length < 1 || salt.length > 1024 || iv.length !== 16 || iterations < 1 || iterations > 100000000 ||
	    enc.length === 0 || enc.length % 16)
		throw new Error('the PBES2 parameters are out of range');
	return { salt, iterations, hash, keyLen, iv, enc };
}

// Decrypts with one password encoding; returns PrivateKeyInfo DER or throws WrongPassword.
export async function decryptPkcs8(p, pwBytes) {
	const dk = await pbkdf2(pwBytes, p.salt, p.iterations, p.hash, p.keyLen);
	let plain;
	try {
		const k = await crypto.subtle.importKey('raw', dk, 'AES-CBC', false, ['decrypt']);
		// WebCrypto checks the PKCS#7 padding strictly and fails on a bad one.
		plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: p.iv }, k, p.enc));
	} catch (e) {
		throw new WrongPassword();
	} finally {
		dk.fill(0);
	}
	return plain;
}
