//! IPC types of 记录/设置, logs and diagnostics.

use bidkit_app::diagnostics::ExportReport;
use bidkit_app::history::HistoryEntry;
use bidkit_app::settings::Settings;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One operation of the history, as the records screen shows it.
#[derive(Clone, Debug, Serialize, TS)]
pub struct HistoryItem {
    /// When it ended (RFC 3339, UTC; the screen shows it in local time).
    pub at: String,
    /// `login`, `seal`, `build`, `encrypt`, `submit`, `withdraw`, `open`, `decrypt` …
    pub kind: String,
    /// What was done to what.
    pub summary: String,
    /// The files it wrote (or read).
    pub files: Vec<String>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The error code when it did not.
    pub error: Option<String>,
}

impl From<HistoryEntry> for HistoryItem {
    fn from(e: HistoryEntry) -> Self {
        HistoryItem {
            at: e.at,
            kind: e.kind,
            summary: e.summary,
            files: e.files,
            ok: e.ok,
            error: e.error,
        }
    }
}

/// `records_history`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct HistoryView {
    /// The newest entries, newest first.
    pub entries: Vec<HistoryItem>,
    /// The history file.
    pub path: String,
}

/// The settings as the form shows them (`settings_get`, `settings_save`'s answer).
#[derive(Clone, Debug, Serialize, TS)]
pub struct SettingsView {
    /// A relay server's base URL; `null`: the embedded relay.
    pub relay: Option<String>,
    /// `gm` (SM2/SM3/SM4) or `nist` (P-256).
    pub suite: String,
    /// `zh-CN` or `en`.
    pub language: String,
    /// Whether `settings.json` exists (false: these are the defaults).
    pub saved: bool,
    /// The settings file.
    pub path: String,
}

impl SettingsView {
    /// The view of `s`, kept at `path`.
    pub fn new(s: &Settings, path: &std::path::Path) -> Self {
        SettingsView {
            relay: s.relay.clone(),
            suite: s.suite.as_str().to_owned(),
            language: s.language.clone(),
            saved: path.exists(),
            path: path.display().to_string(),
        }
    }
}

/// `settings_save`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct SettingsRequest {
    /// A relay server's base URL (`http://host:port`); `null` or empty: the embedded relay.
    pub relay: Option<String>,
    /// `gm` or `nist`.
    pub suite: String,
    /// `zh-CN` or `en`.
    pub language: String,
}

/// `relay_test`'s answer: the relay answered on its health endpoint.
#[derive(Clone, Debug, Serialize, TS)]
pub struct RelayCheck {
    /// The URL asked (`…/healthz`).
    pub url: String,
    /// How long the answer took, milliseconds.
    pub ms: u32,
}

/// `logs_folder`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct LogFolder {
    /// The log directory.
    pub path: String,
    /// Its log files, newest first (names only).
    pub files: Vec<String>,
}

/// `diagnostics_export`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct DiagnosticsRequest {
    /// Where to write the archive (an absolute path; `.tar.gz` is added when missing).
    pub path: String,
}

/// `diagnostics_export`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DiagnosticsResult {
    /// The archive written.
    pub path: String,
    /// Its size, bytes.
    pub size: f64,
    /// Its members.
    pub members: Vec<String>,
    /// Personal values replaced in the logs.
    pub redactions: u32,
}

impl From<ExportReport> for DiagnosticsResult {
    fn from(r: ExportReport) -> Self {
        DiagnosticsResult {
            path: r.path.display().to_string(),
            size: r.size as f64,
            members: r.members,
            redactions: u32::try_from(r.redactions).unwrap_or(u32::MAX),
        }
    }
}

/// The TypeScript declarations of this module's IPC types (see [`super::bindings`]).
#[cfg(test)]
pub(crate) fn decls() -> Vec<String> {
    vec![
        HistoryItem::decl(),
        HistoryView::decl(),
        SettingsView::decl(),
        SettingsRequest::decl(),
        RelayCheck::decl(),
        LogFolder::decl(),
        DiagnosticsRequest::decl(),
        DiagnosticsResult::decl(),
    ]
}
