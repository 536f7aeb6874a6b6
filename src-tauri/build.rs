//! Build script: runs tauri-build against the repository-root `tauri.conf.json`.

fn main() {
    // The configuration lives at the repository root (next to `ui/` and `assets/`), not in
    // this crate. Capabilities stay in `src-tauri/capabilities/`.
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(&[
            "app_info",
            "verify_pdf",
            "login_start",
            "login_cancel",
        ]));
    if let Err(err) = tauri_build::try_build(attributes) {
        // A build script reports failure by exiting non-zero; print the full chain first.
        eprintln!("tauri-build failed: {err:#}");
        std::process::exit(1);
    }
}
