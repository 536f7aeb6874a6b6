//! The error shape every command returns to the UI.

use serde::Serialize;
use ts_rs::TS;

/// An error as the UI receives it: a stable machine-readable `code` and a human `message`.
///
/// Codes: those of [`bidkit_app::AppError::code`] (`no_home`, `pdf_malformed`,
/// `io_error`, `qr-stale`, `wrong-pin` …) and the shell's own: `internal` (a task
/// failed to run), `invalid-option` (a command argument the UI should not have sent).
/// The UI translates a code through `error.<code>` in its catalogues, else shows the
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    /// Stable identifier the UI can branch on and translate (e.g. `no_home`).
    pub code: String,
    /// What went wrong and where, in plain words.
    pub message: String,
}

impl IpcError {
    /// Makes an error from a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<bidkit_app::AppError> for IpcError {
    fn from(err: bidkit_app::AppError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for IpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let json = serde_json::to_value(IpcError::new("x", "y")).unwrap();
        assert_eq!(json, serde_json::json!({"code": "x", "message": "y"}));
    }

    #[test]
    fn app_errors_keep_their_code() {
        let err = IpcError::from(bidkit_app::AppError::NoHome);
        assert_eq!(err.code, "no_home");
        assert!(err.message.contains("BIDKIT_HOME"), "{}", err.message);
    }
}
