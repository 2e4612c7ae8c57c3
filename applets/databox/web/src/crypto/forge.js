// forge.js - the parts of node-forge databox uses, and nothing else: DER parsing and
// writing (ASN.1 is not cryptography), and RSA-OAEP for version A key pairs, whose
// OAEP uses SHA-256 with MGF1-SHA1, a combination WebCrypto cannot express
// (its RSA-OAEP uses the key's one hash for both). DRACOON's own JS SDK uses forge for
// the same reason.
import forge from 'node-forge/lib/forge.js';
import 'node-forge/lib/asn1.js';
import 'node-forge/lib/rsa.js';
import 'node-forge/lib/pkcs1.js';
import 'node-forge/lib/sha1.js';
import 'node-forge/lib/sha256.js';

export default forge;
