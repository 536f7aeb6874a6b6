//! Errors of the PDF layer: each says what was wrong and where (file, offset, object,
//! page), so a user can act on it.

use std::path::PathBuf;

/// What went wrong reading, stamping, signing or verifying a PDF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// An error about a particular file (wraps the reason).
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<PdfError>,
    },
    /// Reading or writing failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done (e.g. "reading bytes 1200–1400").
        action: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed PDF where they must be.
    #[error("not a valid PDF{}: {reason}", at.map(|o| format!(" at byte {o}")).unwrap_or_default())]
    Malformed {
        /// Byte offset of the problem, when known.
        at: Option<u64>,
        /// What was expected or found.
        reason: String,
    },
    /// An object the document refers to is missing or of the wrong type.
    #[error("object {id} {generation} R: {reason}")]
    BadObject {
        /// Object number.
        id: u32,
        /// Generation.
        generation: u16,
        /// What is wrong with it.
        reason: String,
    },
    /// A safety cap was reached (hostile or absurd input).
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What grew too large (e.g. "decompressed stream size", "nesting depth").
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A stream uses a filter this crate does not decode (image codecs, LZW, Crypt).
    #[error("stream filter {0} is not supported")]
    UnsupportedFilter(String),
    /// The document is encrypted; Bidkit does not seal or verify encrypted PDFs.
    #[error("the document is encrypted (password-protected); remove the protection first")]
    Encrypted,
    /// A page number outside the document.
    #[error("page {page} is out of range: the document has {pages} page(s)")]
    PageOutOfRange {
        /// The 1-based page asked for.
        page: u32,
        /// How many pages there are.
        pages: u32,
    },
    /// A keyword search found nothing.
    #[error("keyword {keyword:?} was not found in the document")]
    KeywordNotFound {
        /// The keyword.
        keyword: String,
    },
    /// An option or request that cannot be satisfied.
    #[error("{option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why it cannot be used.
        reason: String,
    },
    /// pdfium failed or is not available.
    #[error("pdfium: {0}")]
    Pdfium(String),
    /// A seal picture could not be used.
    #[error("seal picture: {0}")]
    SealPicture(String),
    /// A CMS signature could not be built.
    #[error("signature: {0}")]
    Cms(#[from] bidkit_cms::CmsError),
    /// A GB/T 38540 `SES_Signature` could not be built.
    #[error("electronic seal signature: {0}")]
    Ses(#[from] bidkit_ses::SesError),
    /// The document's revisions do not allow the operation (e.g. revoking a seal that a
    /// later signature covers).
    #[error("{0}")]
    NotAllowed(String),
}

impl PdfError {
    /// Attach the file this error is about (once: an error already naming a file is
    /// returned unchanged).
    pub fn in_file(self, path: impl Into<PathBuf>) -> PdfError {
        match self {
            e @ PdfError::File { .. } => e,
            e => PdfError::File {
                path: path.into(),
                source: Box::new(e),
            },
        }
    }

    /// A malformed-PDF error at `at`.
    pub fn malformed(at: impl Into<Option<u64>>, reason: impl Into<String>) -> PdfError {
        PdfError::Malformed {
            at: at.into(),
            reason: reason.into(),
        }
    }

    /// An I/O error with what was being done.
    pub fn io(action: impl Into<String>, source: std::io::Error) -> PdfError {
        PdfError::Io {
            action: action.into(),
            source,
        }
    }

    /// The reason without the file wrapper.
    pub fn root(&self) -> &PdfError {
        match self {
            PdfError::File { source, .. } => source.root(),
            e => e,
        }
    }

    /// A stable code for scripts and the UI.
    pub fn code(&self) -> &'static str {
        match self.root() {
            PdfError::File { .. } => "pdf_error",
            PdfError::Io { .. } => "io_error",
            PdfError::Malformed { .. } | PdfError::BadObject { .. } => "pdf_malformed",
            PdfError::LimitExceeded { .. } => "pdf_limit_exceeded",
            PdfError::Encrypted => "pdf_encrypted",
            PdfError::UnsupportedFilter(_) => "pdf_unsupported_filter",
            PdfError::PageOutOfRange { .. } => "page_out_of_range",
            PdfError::KeywordNotFound { .. } => "keyword_not_found",
            PdfError::InvalidOption { .. } => "invalid_option",
            PdfError::Pdfium(_) => "pdfium_error",
            PdfError::SealPicture(_) => "seal_picture_invalid",
            PdfError::Cms(_) | PdfError::Ses(_) => "signature_error",
            PdfError::NotAllowed(_) => "not_allowed",
        }
    }
}
