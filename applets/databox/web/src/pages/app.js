// app.js - the web app for logged-in users (placeholder until it is built).
import { h, mount } from '../ui.js';
export function appPage() {
	mount(h('main', {}, h('h1', {}, 'databox'), h('p', {}, 'Sign in: coming soon.')));
}
