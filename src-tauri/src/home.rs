//! Where Bidkit keeps its data (the emulated phone's keystore, history, settings).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::IpcError;

/// Environment variable that overrides the home directory.
pub const HOME_ENV: &str = "BIDKIT_HOME";

/// Name of Bidkit's folder inside the platform data directory.
pub const DIR_NAME: &str = "bidkit";

/// The resolved home directory, or why it could not be resolved; kept as Tauri state.
#[derive(Debug)]
pub struct Home(pub Result<PathBuf, IpcError>);

/// Resolves the home directory: `$BIDKIT_HOME` when set and not empty, else the platform
/// data directory (e.g. `~/.local/share` on Linux) joined with `bidkit`.
pub fn resolve(
    env_value: Option<OsString>,
    data_dir: impl FnOnce() -> Result<PathBuf, String>,
) -> Result<PathBuf, IpcError> {
    match env_value {
        Some(value) if !value.is_empty() => Ok(PathBuf::from(value)),
        _ => data_dir().map(|dir| dir.join(DIR_NAME)).map_err(|reason| {
            IpcError::new(
                "home_unavailable",
                format!("no data directory for Bidkit ({reason}); set {HOME_ENV}"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins() {
        let got = resolve(Some("/tmp/bk".into()), || Ok("/data".into())).unwrap();
        assert_eq!(got, PathBuf::from("/tmp/bk"));
    }

    #[test]
    fn empty_env_falls_back_to_data_dir() {
        let got = resolve(Some(OsString::new()), || Ok("/data".into())).unwrap();
        assert_eq!(got, PathBuf::from("/data/bidkit"));
        let got = resolve(None, || Ok("/data".into())).unwrap();
        assert_eq!(got, PathBuf::from("/data/bidkit"));
    }

    #[test]
    fn no_data_dir_is_a_clear_error() {
        let err = resolve(None, || Err("no HOME".into())).unwrap_err();
        assert_eq!(err.code, "home_unavailable");
        assert!(err.message.contains("BIDKIT_HOME"), "{}", err.message);
    }
}
