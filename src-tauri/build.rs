fn main() {
    // Generate `allow-*` permissions for Pixie's own commands so the capability file can
    // grant the main window exactly these and nothing else.
    let commands = &[
        "sign_in",
        "cancel_sign_in",
        "sign_out",
        "switch_account",
        "sign_in_on_device",
        "try_loopback",
        "reopen_browser",
        "sign_in_link",
        "subscribe",
        "submit_redirect",
        "flow",
        "flow_export",
        "save_flow_svg",
        "select_provider",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build script");
}
