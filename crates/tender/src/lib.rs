//! Bidkit's tender package, bid project, bid document builder and checklist.
//!
//! This crate owns:
//!
//! * the **tender package** ([`TenderPackage`]): the tender agent's machine-readable
//!   requirements, `tender.json` (schema `bidkit.tender/1`, see `docs/tender-package.md`),
//!   in a directory beside the tender document PDF it names by SHA-256 — project, bid
//!   sections with their accepted file types, required seals and where they go, deadline
//!   and opening time, algorithm suite, quoted-price rule — parsed, then validated with
//!   every problem named;
//! * the bidder's **bid project** ([`BidProject`]): a directory with `bid.json`, a copy of
//!   the requirements it follows, and the section files, each checked by content (a file
//!   that is not what it claims is refused);
//! * the **builder** ([`BidProject::build`]): one PDF with a cover, a table of contents,
//!   every section (PDF pages imported, JPEG/PNG images, text and Markdown laid out in an
//!   embedded subset CJK font), bookmarks, and `第 N 页 / 共 M 页` footers, written
//!   streaming;
//! * the **checklist** ([`check`]): sections, seals (through the PDF crate's verifier),
//!   price, integrity, and a recorded [`Override`].
//!
//! What it must not do: it never modifies its inputs (the tender package, the files added,
//! a sealed PDF) and writes every output through a temporary file renamed into place; it
//! holds no keys and signs nothing (sealing is the PDF crate's and the phone's), encrypts
//! nothing (the bid file is `bidkit-bidfile`'s), and talks to no network.

mod build;
mod checklist;
mod error;
mod font;
mod image;
mod layout;
mod package;
pub mod price;
mod project;
mod record;
mod sniff;
pub mod uscc;
mod util;
mod writer;

pub use build::{
    BuildOptions, BuildReport, BuiltFile, BuiltSection, MAX_TEXT_BYTES, Progress, Stage,
};
pub use checklist::{
    CHECKLIST_SCHEMA, Checklist, ChecklistItem, ItemKind, ItemStatus, Override, check,
};
pub use error::{Result, TenderError};
pub use font::{FONT_ENV_VAR, WELL_KNOWN_FONT_PATHS};
pub use image::MAX_IMAGE_PIXELS;
pub use package::{
    Agent, FILE_TYPES, FileType, LoadedTender, MAX_SECTION_SIZE_MB, NamedPage, PageRef, Project,
    QuotedPriceRule, SealPlace, SealRequirement, Section, Suite, TENDER_FILE, TENDER_SCHEMA,
    TenderDocument, TenderPackage,
};
pub use project::{
    BID_FILE, BID_SCHEMA, BidManifest, BidProject, Bidder, BuiltRecord, FILES_DIR, SectionFile,
};
pub use record::{OpeningRecord, RecordBid, RecordReport, write_opening_record};
pub use sniff::sniff_file;

/// The seal kinds a tender may require (re-exported from the seal crate).
pub use bidkit_seal::SealKind;
