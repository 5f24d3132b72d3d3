// Starts the WASM app. A file, not an inline script: the Content-Security-Policy allows
// scripts from this origin only.
import init from '/crmconnect.js';
init({ module_or_path: '/crmconnect_bg.wasm' });
