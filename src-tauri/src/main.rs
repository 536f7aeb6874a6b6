//! Bidkit desktop shell (Tauri 2).
//!
//! A thin layer: it resolves the Bidkit home directory, opens the main window on the UI in
//! `ui/` and exposes Tauri commands that call the use cases in `bidkit-app`. Errors cross
//! IPC as `{code, message}` ([`error::IpcError`]).

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod error;
mod home;
mod ipc;
mod logging;

use std::process::ExitCode;

use tauri::Manager;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bidkit-desktop: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Builds and runs the Tauri application until its last window closes.
fn run() -> Result<(), tauri::Error> {
    logging::init(bidkit_app::default_home().ok().as_deref());
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            app.manage(home::Home::resolve());
            app.manage(commands::Logins::default());
            // seal screen state
            app.manage(commands::seal::Sealings::default());
            // bid screens state
            // opening screen state
            // phone window state
            app.manage(commands::phone::PhoneState::default());
            // records and settings state
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::verify_pdf,
            commands::login_start,
            commands::login_cancel,
            commands::ui_ready,
            // file pickers (commands/files.rs)
            commands::files::pick_path,
            // seal screen (commands/seal.rs)
            commands::seal::seal_open,
            commands::seal::seal_list,
            commands::seal::seal_keyword,
            commands::seal::seal_start,
            commands::seal::seal_cancel,
            // bid screens (commands/bid.rs)
            commands::bid::bid_tender_load,
            commands::bid::bid_project_init,
            commands::bid::bid_project_open,
            commands::bid::bid_project_add,
            commands::bid::bid_build,
            commands::bid::bid_check,
            commands::bid::bid_encrypt,
            commands::bid::bid_submit,
            commands::bid::bid_withdraw,
            commands::bid::bid_inspect,
            // opening screen (commands/opening.rs)
            commands::opening::opening_load,
            commands::opening::opening_decrypt,
            commands::opening::opening_record,
            commands::opening::opening_check_record,
            commands::opening::opening_confirm,
            commands::opening::opening_seal_record,
            commands::opening::opening_seals,
            // phone window (commands/phone.rs)
            commands::phone::open_phone_window,
            commands::phone::phone_overview,
            commands::phone::phone_enrol,
            commands::phone::phone_make_seal,
            commands::phone::phone_read_qr,
            commands::phone::phone_scan_start,
            commands::phone::phone_scan_confirm,
            commands::phone::phone_continuous,
            // records and settings (commands/records.rs)
            commands::records::records_history,
            commands::records::settings_get,
            commands::records::settings_save,
            commands::records::settings_set_language,
            commands::records::relay_test,
            commands::records::logs_folder,
            commands::records::diagnostics_export,
        ])
        .run(tauri::generate_context!())
}
