// main.js - the page's entry point: one bundle for the share pages and the web app,
// chosen by the path (/s/KEY, /u/KEY, or the app at /).
import { downloadSharePage } from './pages/share_download.js';
import { uploadSharePage } from './pages/share_upload.js';
import { appPage } from './pages/app.js';
import { showInterrupted } from './interrupted.js';

const p = location.pathname;
let m;
if ((m = p.match(/^\/s\/([0-9a-f]{32})\/?$/)))
	downloadSharePage(m[1]);
else if ((m = p.match(/^\/u\/([0-9a-f]{32})\/?$/)))
	uploadSharePage(m[1]);
else
	appPage();
showInterrupted();
