//! Build script: runs tauri-build against `src-tauri/tauri.conf.json`.

fn main() {
    let attributes =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
            // shell (commands.rs)
            "app_info",
            "verify_pdf",
            "login_start",
            "login_cancel",
            "ui_ready",
            // file pickers (commands/files.rs)
            "pick_path",
            // seal screen (commands/seal.rs)
            "seal_open",
            "seal_list",
            "seal_keyword",
            "seal_start",
            "seal_cancel",
            // bid screens (commands/bid.rs)
            "bid_tender_load",
            "bid_project_init",
            "bid_project_open",
            "bid_project_add",
            "bid_build",
            "bid_check",
            "bid_encrypt",
            "bid_submit",
            "bid_withdraw",
            "bid_inspect",
            // opening screen (commands/opening.rs)
            "opening_load",
            "opening_decrypt",
            "opening_record",
            "opening_check_record",
            "opening_confirm",
            "opening_seal_record",
            "opening_seals",
            // phone window (commands/phone.rs)
            "open_phone_window",
            "phone_overview",
            "phone_enrol",
            "phone_make_seal",
            "phone_read_qr",
            "phone_scan_start",
            "phone_scan_confirm",
            "phone_continuous",
            // records and settings (commands/records.rs)
            "records_history",
            "settings_get",
            "settings_save",
            "settings_set_language",
            "relay_test",
            "logs_folder",
            "diagnostics_export",
        ]));
    if let Err(err) = tauri_build::try_build(attributes) {
        // A build script reports failure by exiting non-zero; print the full chain first.
        eprintln!("tauri-build failed: {err:#}");
        std::process::exit(1);
    }
}
