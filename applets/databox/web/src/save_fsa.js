// save_fsa.js - "Save as…" through the File System Access API (Chromium's
// showSaveFilePicker): the page itself fetches the ciphertext, decrypts it batch by
// batch and writes it to the file the user picked, with no service worker in between.
//
// Chromium writes a FileSystemWritableFileStream into a swap file beside the target
// and moves it over the target only on close(), so close() is called only after the
// GCM tag verified: a file that does not authenticate never reaches the target (abort()
// drops the swap file). The picker has already created the target, empty; that empty
// file is removed (or, where remove() is missing, left at 0 bytes and the user told).
// A file the user chose to replace keeps its old content on a failure.
import { GcmStream } from './crypto/gcm.js';
import { streamBatches } from './batches.js';

// as in sw.js: the network's pieces gathered into one reused 1 MiB buffer
const BATCH = 1 << 20;

export const canSaveAs = () => typeof globalThis.showSaveFilePicker === 'function';

// Must be called in the click's handler before anything slow (the picker needs the
// user's gesture); a cancelled picker throws an AbortError.
export function pickTarget(name) {
	return globalThis.showSaveFilePicker({ suggestedName: name });
}

// What became of the picked file after a failure: 'removed', 'emptied', 'kept' (it had
// content before: the user's old file, untouched) or 'left' (nothing could be done).
export async function discard(handle) {
	try {
		if ((await handle.getFile()).size > 0)
			return 'kept';
	} catch (e) { /* cannot tell: try to remove it */ }
	try {
		if (typeof handle.remove === 'function') {
			await handle.remove();
			return 'removed';
		}
	} catch (e) { /* fall through */ }
	try {
		const w = await handle.createWritable({ keepExistingData: false });
		await w.close();
		return 'emptied';
	} catch (e) {
		return 'left';
	}
}

// Fetches url (with auth, when given), decrypts it with fk (null: stored plain) into
// handle; returns the bytes written. On failure the error carries .target (discard()).
export async function saveToHandle(handle, { url, auth, fk }, onProgress) {
	const headers = auth ? { Authorization: auth } : {};
	let r;
	try {
		r = await fetch(url, { headers, credentials: 'omit', cache: 'no-store' });
	} catch (e) {
		const err = new Error('the server cannot be reached');
		err.target = await discard(handle);
		throw err;
	}
	if (!r.ok) {
		let msg = `the server answered ${r.status}`;
		try { msg = (await r.json()).message || msg; } catch (e) { /* not JSON */ }
		const err = new Error(msg);
		err.target = await discard(handle);
		throw err;
	}
	let w = null, reader = null;
	try {
		w = await handle.createWritable({ keepExistingData: false });
		const gcm = fk ? await GcmStream.create(fk.key, fk.iv, false) : null;
		let next;
		({ next, reader } = streamBatches(r.body, BATCH));
		let bytes = 0;
		let ahead = next();
		// bounded: one batch being written while the next is read and decrypted
		let writing = Promise.resolve();
		for (;;) {
			const { done, value } = await ahead;
			let outP = null;
			if (value) {
				bytes += value.length;
				outP = gcm ? gcm.updateParts(value) : Promise.resolve([value.slice()]);
			}
			ahead = done ? null : next(); // value was copied: its buffer may be refilled
			if (ahead)
				ahead.catch(() => {});
			const out = outP ? await outP : [];
			await writing;
			writing = (async () => {
				for (const p of out)
					await w.write(p);
			})();
			writing.catch(() => {}); // awaited on the next turn
			if (onProgress)
				onProgress(bytes);
			if (done)
				break;
		}
		await writing;
		if (gcm) {
			const last = await gcm.finalVerify(fk.tag);
			if (last.length)
				await w.write(last);
		}
		await w.close();
		return bytes;
	} catch (e) {
		if (reader)
			reader.cancel().catch(() => {});
		if (w)
			await w.abort().catch(() => {});
		e.target = await discard(handle);
		throw e;
	}
}

// The sentence for the page about what a failure left behind.
export function targetNote(target, name) {
	return {
		removed: `Nothing of it was kept: the file ${name} was removed.`,
		emptied: `Nothing of it was written: ${name} was left empty (0 bytes); please delete it.`,
		kept: `Nothing of it was written: ${name} keeps its previous content.`,
		left: `${name} may be left behind incomplete; please delete it.`,
	}[target] || '';
}
