//! The records screen (记录): the history of operations the tool carried out (log-ins,
//! seals, bid files built, encrypted, submitted, withdrawn, opened, decrypted), kept as
//! JSON lines in `history.jsonl` in the Bidkit home. Each screen's command appends one
//! entry when an operation ends, whether it succeeded or not.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AppError;

/// The history file's name inside the home.
pub const HISTORY_FILE: &str = "history.jsonl";

/// One operation in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it ended, RFC 3339 (UTC).
    pub at: String,
    /// What kind of operation: `login`, `seal`, `build`, `encrypt`, `submit`, `withdraw`,
    /// `open`, `decrypt`, `record`, `verify` …
    pub kind: String,
    /// One line for people: what was done to what.
    pub summary: String,
    /// The files it wrote (or read, for `verify`).
    #[serde(default)]
    pub files: Vec<String>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The error code when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HistoryEntry {
    /// An entry for an operation that just ended, stamped with the current time.
    pub fn now(kind: &str, summary: impl Into<String>, files: Vec<String>, ok: bool) -> Self {
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        HistoryEntry {
            at,
            kind: kind.into(),
            summary: summary.into(),
            files,
            ok,
            error: None,
        }
    }
}

impl HistoryEntry {
    /// A failed operation that just ended, with its error code.
    pub fn failed(
        kind: &str,
        summary: impl Into<String>,
        files: Vec<String>,
        code: impl Into<String>,
    ) -> Self {
        let mut e = HistoryEntry::now(kind, summary, files, false);
        e.error = Some(code.into());
        e
    }
}

/// Where the history of `home` is kept.
pub fn history_path(home: &Path) -> PathBuf {
    home.join(HISTORY_FILE)
}

/// Appends `entry` to the history of `home` (one line, written with a single `write`).
pub fn append(home: &Path, entry: &HistoryEntry) -> Result<(), AppError> {
    let path = history_path(home);
    let io = |source| AppError::Io {
        path: path.clone(),
        source,
    };
    let mut line = serde_json::to_vec(entry).map_err(|e| AppError::InvalidOption {
        option: "history entry",
        reason: e.to_string(),
    })?;
    line.push(b'\n');
    std::fs::create_dir_all(home).map_err(io)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    file.write_all(&line).map_err(io)
}

/// The newest `limit` entries of the history of `home`, newest first. Lines that do not
/// parse (a torn write, a hand edit) are skipped.
pub fn recent(home: &Path, limit: usize) -> Result<Vec<HistoryEntry>, AppError> {
    let path = history_path(home);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(AppError::Io { path, source }),
    };
    Ok(text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(limit)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_newest_first_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        assert!(recent(dir.path(), 10).unwrap().is_empty());
        let a = HistoryEntry::now("seal", "sealed a.pdf", vec!["a-sealed.pdf".into()], true);
        let mut b = HistoryEntry::now("encrypt", "encrypt b.pdf", vec![], false);
        b.error = Some("no-phone".into());
        append(dir.path(), &a).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(history_path(dir.path()))
            .unwrap()
            .write_all(b"{\"torn")
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(history_path(dir.path()))
            .unwrap()
            .write_all(b"\n")
            .unwrap();
        append(dir.path(), &b).unwrap();
        assert_eq!(recent(dir.path(), 10).unwrap(), vec![b.clone(), a]);
        assert_eq!(recent(dir.path(), 1).unwrap(), vec![b]);
    }
}
