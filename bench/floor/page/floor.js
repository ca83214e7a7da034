// The page is ready: its deferred script has run and tells the app, the same moment at
// which Pixie's page calls `subscribe` (the last line of its deferred app.js).
window.__TAURI__.core.invoke("ready");
