//! Where Bidkit keeps its data (the emulated phone's keystore, history, settings).
//!
//! The same rule as the CLI's ([`bidkit_app::default_home`]): `$BIDKIT_HOME` when set and
//! not empty, else the platform data directory joined with `bidkit`
//! (`~/.local/share/bidkit` on Linux).

use std::path::PathBuf;

use crate::error::IpcError;

/// The resolved home directory, or why it could not be resolved; kept as Tauri state so
/// that a missing home shows as an error in the UI instead of stopping the app.
#[derive(Debug)]
pub struct Home(pub Result<PathBuf, IpcError>);

impl Home {
    /// Resolves the home directory once, at start-up.
    pub fn resolve() -> Self {
        Self(bidkit_app::default_home().map_err(IpcError::from))
    }
}
