//! What every screen's commands share: running the work off the async runtime's
//! workers, and reading path arguments.

use std::path::PathBuf;

use bidkit_app::AppError;

use crate::error::IpcError;

/// Runs `work` on the runtime's blocking pool (file and keystore work must not hold an
/// async worker); `what` names it in the error when the task itself fails.
pub async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|err| IpcError::new("internal", format!("{what} task failed: {err}")))?
        .map_err(IpcError::from)
}

/// Runs `work` on a thread of its own, outside the async runtime: the phone use cases'
/// blocking forms run their own runtime, which a runtime's blocking pool refuses.
pub async fn own_thread<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, IpcError> {
    let name = format!("bidkit-{what}");
    tauri::async_runtime::spawn_blocking(move || {
        std::thread::Builder::new()
            .name(name)
            .spawn(work)
            .map(std::thread::JoinHandle::join)
    })
    .await
    .map_err(|err| IpcError::new("internal", format!("{what} task failed: {err}")))?
    .map_err(|err| IpcError::new("internal", format!("{what} thread failed: {err}")))?
    .map_err(|_| IpcError::new("internal", format!("{what} thread panicked")))?
    .map_err(IpcError::from)
}

/// A required path argument, trimmed: `invalid-option` naming `what` when blank.
pub fn path_arg(what: &str, value: &str) -> Result<PathBuf, IpcError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(IpcError::new(
            "invalid-option",
            format!("no {what} was given"),
        ));
    }
    Ok(PathBuf::from(v))
}

/// An optional path argument: `None` when absent or blank.
pub fn opt_path(value: Option<&str>) -> Option<PathBuf> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_paths_are_refused_or_absent() {
        assert_eq!(
            path_arg("PDF file", "  ").map_err(|e| e.code),
            Err("invalid-option".to_string())
        );
        assert_eq!(path_arg("x", " a.pdf ").ok(), Some(PathBuf::from("a.pdf")));
        assert_eq!(opt_path(Some("  ")), None);
        assert_eq!(opt_path(Some(" d ")), Some(PathBuf::from("d")));
        assert_eq!(opt_path(None), None);
    }
}
