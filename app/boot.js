// Loads the WASM app. A separate file (not an inline script) so the page's
// Content-Security-Policy can forbid inline scripts.
import init from './baton_app.js';
init();
