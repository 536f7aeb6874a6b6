//! Caps on what reading a PDF may cost, so hostile files fail cleanly.

/// Safety caps for reading one PDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest decoded size of one stream (deflate bombs stop here).
    pub max_stream_decoded: u64,
    /// Largest raw (encoded) stream read into memory.
    pub max_stream_raw: u64,
    /// Deepest nesting of arrays and dictionaries.
    pub max_depth: usize,
    /// Most objects a cross-reference section may declare.
    pub max_objects: u32,
    /// Most revisions (cross-reference sections in the `/Prev` chain).
    pub max_revisions: usize,
    /// Most references followed to resolve one value (reference loops stop here).
    pub max_indirections: usize,
    /// Most pages.
    pub max_pages: usize,
}

impl Limits {
    /// Defaults for documents people submit: generous but finite.
    pub const DEFAULT: Limits = Limits {
        max_stream_decoded: 256 * 1024 * 1024,
        max_stream_raw: 512 * 1024 * 1024,
        max_depth: 64,
        max_objects: 8_000_000,
        max_revisions: 1_000,
        max_indirections: 32,
        max_pages: 100_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
