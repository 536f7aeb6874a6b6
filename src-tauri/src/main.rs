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
    tauri::Builder::default()
        .setup(|app| {
            app.manage(home::Home::resolve());
            app.manage(commands::Logins::default());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::verify_pdf,
            commands::login_start,
            commands::login_cancel
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
}
