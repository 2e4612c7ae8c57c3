// build.mjs - bundles the web app into OUT (default ../../../build/web):
//   index.html                    the only page (no inline script or style)
//   assets/app-HASH.js, style-HASH.css   content-hashed, referenced with SRI
//   sw.js                         the service worker (stable URL: its scope is /)
//   .well-known/databox-web.json  the SHA-256 of every file above, for web-verify
// Everything is local: esbuild bundles the sources and the pinned npm modules.
import { build } from 'esbuild';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, '../../../build/web'));
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));

async function bundle(entry) {
	const r = await build({
		entryPoints: [path.join(here, entry)], bundle: true, write: false, format: 'iife',
		platform: 'browser', target: 'es2020', minify: true,
		legalComments: 'eof', logLevel: 'warning',
		// forge only requires node's crypto when it runs under node
		external: ['crypto'],
	});
	return Buffer.from(r.outputFiles[0].contents);
}

const hash = (b, alg = 'sha256', enc = 'hex') => crypto.createHash(alg).update(b).digest(enc);
const short = (b) => hash(b).slice(0, 16);

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'assets'), { recursive: true });
fs.mkdirSync(path.join(out, '.well-known'), { recursive: true });
const files = {};
const put = (rel, buf) => {
	fs.writeFileSync(path.join(out, rel), buf);
	files['/' + rel] = hash(buf);
};

const app = await bundle('src/main.js');
const css = fs.readFileSync(path.join(here, 'style.css'));
const appName = `assets/app-${short(app)}.js`;
const cssName = `assets/style-${short(css)}.css`;
put(appName, app);
put(cssName, css);
put('sw.js', await bundle('src/sw.js'));
const sri = (b) => `sha384-${hash(b, 'sha384', 'base64')}`;
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>databox</title>
<link rel="stylesheet" href="/${cssName}" integrity="${sri(css)}" crossorigin="anonymous">
<script src="/${appName}" integrity="${sri(app)}" crossorigin="anonymous" defer></script>
</head>
<body>
<div id="app"><noscript>databox needs JavaScript: every file is decrypted in this browser.</noscript></div>
</body>
</html>
`;
put('index.html', Buffer.from(html));
const manifest = { name: 'databox-web', version: pkg.version, algorithm: 'sha256', files };
fs.writeFileSync(path.join(out, '.well-known/databox-web.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`databox web: built ${Object.keys(files).length} files into ${out}`);
