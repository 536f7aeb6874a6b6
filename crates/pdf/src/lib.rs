//! Bidkit's PDF layer.
//!
//! This crate owns everything Bidkit does to and with PDF files:
//!
//! * [`file`] — a lazy, random-access reader ([`PdfFile`]): it reads the cross-reference
//!   sections and the trailer chain, and fetches objects only when asked, so a 200 MB
//!   document is never held in memory. Every decode is capped ([`Limits`]).
//! * [`syntax`] — the object parser (to [`lopdf::Object`]) used by the reader.
//! * [`update`] — an incremental update ([`IncrementalUpdate`]): new and replaced
//!   objects appended after the original bytes, which are copied, never modified, and
//!   hashed while they are copied; with a signature placeholder whose byte range is
//!   known before anything is signed (the staged pipeline).
//! * [`text`] — keyword positions and page rendering through pdfium.
//! * [`placement`] and [`stamp`] — where seals go (page, all, range, seam, keyword) and
//!   the objects that draw them (one image XObject per picture, however many stamps).
//! * [`sign`] — the staged signing pipeline: prepare → to-be-signed bytes → sign
//!   anywhere (the phone, through the relay) → embed.
//! * [`verify`] — the signature report with coverage and difference analysis.
//! * [`revoke`] — removing the last sealing operation (撤章).

pub mod error;
pub mod file;
pub mod filters;
/// Entry points for fuzzing the reader and the verifier (`cargo fuzz`, corpus tests).
pub mod fuzz;
pub mod generate;
pub mod geometry;
pub mod limits;
pub mod pdfium;
pub mod picture;
pub mod placement;
pub mod revoke;
pub mod sign;
mod stamp;
pub mod syntax;
pub mod text;
pub mod update;
pub mod verify;

pub use error::PdfError;
pub use file::{PageInfo, PageSet, PdfFile, Revision, XrefEntry};
pub use geometry::Rect;
pub use limits::Limits;
pub use update::{IncrementalUpdate, PrefixCopy, PreparedOutput};

/// Result with a [`PdfError`].
pub type Result<T, E = PdfError> = std::result::Result<T, E>;
