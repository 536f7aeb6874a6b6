//! Tauri commands: each one is a thin call into `bidkit-app`.

use tauri::State;

use crate::error::IpcError;
use crate::home::Home;

// TEMPORARY: until `bidkit_app::app_info` lands in crates/app, this module mirrors its
// agreed signature (`app_info(&Path) -> AppInfo`). Switching is: add `bidkit-app` to
// Cargo.toml, delete this module and use `bidkit_app::{app_info, AppInfo}`.
mod stand_in {
    use serde::Serialize;
    use std::path::Path;

    /// What the UI shows on its first screen.
    #[derive(Debug, Clone, Serialize)]
    pub struct AppInfo {
        /// The Bidkit version.
        pub version: String,
        /// The emulated phone's state.
        pub phone: PhoneStatus,
    }

    /// The emulated phone keystore, as far as the first screen needs it.
    #[derive(Debug, Clone, Serialize)]
    pub struct PhoneStatus {
        /// Whether a person has enrolled.
        pub enrolled: bool,
        /// The enrolled person's name.
        pub person: Option<String>,
        /// The enrolled organisation's name.
        pub organisation: Option<String>,
        /// Number of certificates held.
        pub certificates: usize,
        /// Whether the certificate PIN is locked after too many wrong tries.
        pub pin_locked: bool,
    }

    /// Reports the version and an empty phone until the real keystore is wired in.
    pub fn app_info(_home: &Path) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            phone: PhoneStatus {
                enrolled: false,
                person: None,
                organisation: None,
                certificates: 0,
                pin_locked: false,
            },
        }
    }
}

use stand_in::{AppInfo, app_info as read_app_info};

/// Returns the app version and the emulated phone's status for the Bidkit home, as
/// `{version, phone: {enrolled, person, organisation, certificates, pin_locked}}`.
#[tauri::command]
pub async fn app_info(home: State<'_, Home>) -> Result<AppInfo, IpcError> {
    let dir = home.0.clone()?;
    // Reading the keystore touches the disk: keep it off the async runtime's workers.
    tauri::async_runtime::spawn_blocking(move || read_app_info(&dir))
        .await
        .map_err(|err| IpcError::new("internal", format!("app_info task failed: {err}")))
}
