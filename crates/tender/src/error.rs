//! Errors: each names the file it is about and says why.

use std::path::{Path, PathBuf};

/// Everything that can go wrong with a tender package, a bid project, a build or a check.
#[derive(Debug, thiserror::Error)]
pub enum TenderError {
    /// Reading or writing a file failed.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done (`reading`, `creating a temporary file`, …).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file is not well-formed or does not have the expected shape.
    #[error("{}: {reason}", path.display())]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// serde's message (with line and column).
        reason: String,
    },
    /// A JSON file names a schema version this build does not read.
    #[error("{}: unknown schema {found:?}; this version of Bidkit reads {expected:?}", path.display())]
    UnknownSchema {
        /// The JSON file.
        path: PathBuf,
        /// The `schema` it declares (empty when it has none).
        found: String,
        /// The schema this build reads.
        expected: &'static str,
    },
    /// A tender package or bid project is well-formed JSON but does not validate.
    #[error("{}: {}", path.display(), problems.join("; "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, one sentence each.
        problems: Vec<String>,
    },
    /// A section file is not what it claims to be, or not a type the section accepts, or
    /// damaged, or too large.
    #[error("{}: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A bid project operation that cannot be done (unknown section, file changed since
    /// it was added, project made for another tender …).
    #[error("{}: {reason}", path.display())]
    Project {
        /// The project's `bid.json` (or the file concerned).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No usable CJK font, or the font could not be subset.
    #[error("font {}: {reason}", path.display())]
    Font {
        /// The font file (or every path tried, joined).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The PDF layer failed on a file.
    #[error("{}: {source}", path.display())]
    Pdf {
        /// The PDF file.
        path: PathBuf,
        /// The PDF layer's error.
        #[source]
        source: bidkit_pdf::PdfError,
    },
}

/// Result with a [`TenderError`].
pub type Result<T, E = TenderError> = std::result::Result<T, E>;

impl TenderError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        TenderError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    pub(crate) fn bad_file(path: &Path, reason: impl Into<String>) -> Self {
        TenderError::BadFile {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn project(path: &Path, reason: impl Into<String>) -> Self {
        TenderError::Project {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn pdf(path: &Path, source: bidkit_pdf::PdfError) -> Self {
        // The PDF layer may already have named the file: do not name it twice.
        let source = match source {
            bidkit_pdf::PdfError::File { source, .. } => *source,
            other => other,
        };
        TenderError::Pdf {
            path: path.to_path_buf(),
            source,
        }
    }
}
