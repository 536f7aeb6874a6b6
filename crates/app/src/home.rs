use std::path::PathBuf;

use crate::AppError;

/// The state directory used when neither `--home` nor `BIDKIT_HOME` names one:
/// the platform data directory plus `bidkit` (e.g. `~/.local/share/bidkit`).
pub fn default_home() -> Result<PathBuf, AppError> {
    if let Some(home) = std::env::var_os("BIDKIT_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    dirs::data_dir()
        .map(|d| d.join("bidkit"))
        .ok_or(AppError::NoHome)
}
