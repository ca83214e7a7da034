//! Handing a sign-in link to the Pixie that is already running, over the single-instance
//! plugin's own D-Bus interface (`org.SingleInstance.DBus.ExecuteCallback` on
//! `{APP_ID}.SingleInstance`), before any toolkit is loaded. One implementation for both
//! callers: the app's `forward_link` at the top of `main`, and `pixie-open`, which links no
//! toolkit at all (it includes this file by path, so it need not link the app's library).

/// The app's identifier (tauri.conf.json `identifier`), which names its single-instance
/// D-Bus service.
pub const APP_ID: &str = "dev.pixie.app";

/// The single-instance plugin's D-Bus name and object path for `app_id` (the plugin's own
/// rule: `{id}.SingleInstance`, dots to slashes, dashes to underscores).
pub fn service(app_id: &str) -> (String, String) {
    let name = format!("{app_id}.SingleInstance");
    let path = format!("/{}", name.replace('.', "/").replace('-', "_"));
    (name, path)
}

/// Hand `argv` (what a second `pixie LINK` would have been started with) to the running
/// Pixie. `false` when nobody took it (no session bus, no Pixie owning the name).
#[cfg(target_os = "linux")]
pub fn forward(argv: Vec<String>) -> bool {
    let Ok(connection) = zbus::blocking::Connection::session() else {
        return false;
    };
    let (name, path) = service(APP_ID);
    let cwd = std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    connection
        .call_method(
            Some(name.as_str()),
            path.as_str(),
            Some("org.SingleInstance.DBus"),
            "ExecuteCallback",
            &(argv, cwd),
        )
        .is_ok()
}

/// Elsewhere the desktop does not start a process per link the same way.
#[cfg(not(target_os = "linux"))]
pub fn forward(_argv: Vec<String>) -> bool {
    false
}
