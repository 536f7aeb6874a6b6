//! IPC types of the native file pickers beside the path fields.

use serde::Deserialize;
use ts_rs::TS;

/// What a picker chooses.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum PickKind {
    /// An existing file to open.
    Open,
    /// An existing folder.
    Folder,
    /// Where to save a new file.
    Save,
}

/// Which files a picker lists (an "all files" choice is always there too).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum PickFilter {
    /// PDF documents.
    Pdf,
    /// Bid files (`.bid`).
    BidFile,
    /// A tender package's `tender.json`.
    Tender,
    /// Section files a bid document is built from: PDF, images, text.
    Section,
    /// Images (a scanned seal, a QR code).
    Image,
    /// A diagnostics archive (`.tar.gz`).
    Archive,
}

impl PickFilter {
    /// The filter's extensions, without dots.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            PickFilter::Pdf => &["pdf"],
            PickFilter::BidFile => &["bid"],
            PickFilter::Tender => &["json"],
            PickFilter::Section => &["pdf", "png", "jpg", "jpeg", "txt", "md"],
            PickFilter::Image => &["png", "jpg", "jpeg"],
            PickFilter::Archive => &["gz", "tgz"],
        }
    }
}

/// `pick_path`'s request.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PickRequest {
    /// Open a file, choose a folder, or save.
    pub kind: PickKind,
    /// Which files to list; all when absent.
    pub filter: Option<PickFilter>,
    /// The dialog's title, in the UI's language.
    pub title: Option<String>,
    /// The field's current value: the picker starts in its folder (and, when saving,
    /// offers its file name).
    pub current: Option<String>,
}

/// The TypeScript declarations of this module's IPC types (see [`super::bindings`]).
#[cfg(test)]
pub(crate) fn decls() -> Vec<String> {
    vec![PickKind::decl(), PickFilter::decl(), PickRequest::decl()]
}
