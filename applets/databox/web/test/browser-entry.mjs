// browser-entry.mjs - what e2e.mjs evaluates in the page: the vector checks and an
// encryption whose result the CLI then opens.
import { runVectors, runKeygen } from './vectors.mjs';
import { runGcmCheck } from './gcm-check.mjs';
import { GcmStream } from '../src/crypto/gcm.js';
import { newFileKey, plainFileKeyJson, wrapFileKey, importPublic } from '../src/crypto/keys.js';
import { b64decode, b64encode } from '../src/crypto/bytes.js';

globalThis.DBXTEST = {
	async vectors(vec) {
		const lines = [];
		await runVectors(vec, (n, c) => lines.push([n, !!c]));
		await runKeygen((n, c) => lines.push([n, !!c]), 2000);
		await runGcmCheck((n, c) => lines.push([n, !!c]));
		return lines;
	},
	async encryptForCli(plainB64, pubContainer) {
		const pt = b64decode(plainB64);
		const fk = newFileKey();
		const g = await GcmStream.create(fk.key, fk.iv, true);
		const parts = [];
		for (let o = 0; o < pt.length; o += 65536 + 5) // uneven slices on purpose
			parts.push(await g.update(pt.subarray(o, o + 65536 + 5)));
		const { last, tag } = await g.final();
		parts.push(last);
		fk.tag = tag;
		const ct = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
		let off = 0;
		for (const p of parts) { ct.set(p, off); off += p.length; }
		const wrapped = await wrapFileKey(fk, await importPublic(pubContainer));
		return { ct: b64encode(ct), plainKey: plainFileKeyJson(fk), wrapped };
	},
};
