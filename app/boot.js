// Loads the WASM app. A separate file (not an inline script) so the page's
// Content-Security-Policy can forbid inline scripts.
import init from './baton_app.js';

// The theme chosen in the app (see app/src/theme.rs), set before anything is drawn.
try {
  const theme = localStorage.getItem('baton.theme');
  if (theme === 'light' || theme === 'dark') {
    document.documentElement.dataset.theme = theme;
  }
} catch (_) {
  // No storage (private mode): the system's setting applies.
}
init();
