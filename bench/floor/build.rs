fn main() {
    // The one command the page calls, granted through a capability as Pixie's are.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["ready"])),
    )
    .expect("tauri build script");
}
