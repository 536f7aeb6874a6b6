//! Bidkit's seal pictures.
//!
//! This crate owns the **pictures** of seals and signatures, nothing else:
//!
//! * templates ([`SealTemplate`]) rendered with a CJK serif font into transparent PNGs of true
//!   physical size: the round 公章 (rim, five-pointed star, organisation along the upper arc,
//!   optional seal name and code), 合同专用章 and 财务专用章 (round, oval or square), and the
//!   square 人名章 / 法定代表人章;
//! * scanned seals ([`extract_seal`]): the red ink of a photo, background made transparent,
//!   cropped and scaled to a physical size, or an error when there is no seal;
//! * handwritten signatures ([`render_signature`]) from pen strokes with pressure.
//!
//! Every result is a [`SealImage`]: PNG bytes (RGBA, with a `pHYs` chunk) plus the size in
//! pixels and millimetres.
//!
//! What it must not do: it knows nothing of PDF (placing pictures is the PDF crate's job),
//! holds no keys and signs nothing (the seal record signed by the seal maker is the
//! keystore's), and stores nothing (no database, no files except reading a font).

mod canvas;
mod error;
mod font;
mod handwriting;
mod image;
mod kind;
mod scan;
mod template;

pub use error::{NoSealReason, SealError};
pub use font::{FONT_ENV_VAR, SealFont, WELL_KNOWN_FONT_PATHS, bundled_font_paths, chinese_face};
pub use handwriting::{
    INK_BLACK, INK_DARK_BLUE, MAX_SIGNATURE_EXTENT_MM, MAX_SIGNATURE_POINTS, SignatureOptions,
    Stroke, StrokePoint, render_signature,
};
pub use image::{DEFAULT_DPI, DPI_RANGE, MAX_OUTPUT_PIXELS, SealImage};
pub use kind::SealKind;
pub use scan::{ExtractedSeal, MAX_SCAN_PIXELS, ScanOptions, extract_seal};
pub use template::{
    MAX_CODE_CHARS, MAX_ORGANISATION_CHARS, MAX_SEAL_NAME_CHARS, MAX_SQUARE_TEXT_CHARS, NameSeal,
    OvalSeal, RenderOptions, RoundSeal, SEAL_RED, SealTemplate, SquareSeal,
};
