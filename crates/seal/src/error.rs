//! The one error type of this crate.

use std::path::PathBuf;

/// Why a seal picture could not be made.
///
/// Every variant names what was wrong (the field, the character, the file, the numbers) so
/// that a caller can show it to a person or act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// No usable CJK font was found: neither the configured path, nor `BIDKIT_FONT`, nor any of
    /// the well-known locations (listed in `tried`, in the order they were tried).
    #[error(
        "no CJK font found (install fonts-noto-cjk or set BIDKIT_FONT); tried: {}",
        display_paths(tried)
    )]
    FontNotFound {
        /// Every path that was looked at.
        tried: Vec<PathBuf>,
    },

    /// A font file exists but could not be read.
    #[error("cannot read font file {path}: {source}")]
    FontRead {
        /// The font file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A font file (or font bytes) could not be parsed as an OpenType font or collection.
    #[error("font {font} is not a usable OpenType font: {reason}")]
    FontInvalid {
        /// The font's path, or `<memory>` for bytes given directly.
        font: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The font has no glyph for a character of the text. There is no silent fallback: a seal
    /// with a missing character would be a wrong seal.
    #[error("the font {font} has no glyph for {ch:?} (U+{code:04X}) in the {field}", code = *ch as u32)]
    MissingGlyph {
        /// The character.
        ch: char,
        /// Which text it is in (`organisation`, `seal name`, `code`, `name`, `text`).
        field: &'static str,
        /// The font's family name.
        font: String,
    },

    /// A text field is empty, too long or contains characters a seal cannot carry.
    #[error("invalid {field}: {reason}")]
    InvalidText {
        /// Which text (`organisation`, `seal name`, `code`, `name`, `text`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A size, resolution or width is outside the range this crate accepts.
    #[error("{what} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// What the number is (e.g. `diameter_mm`, `dpi`).
        what: &'static str,
        /// The value given.
        value: f32,
        /// The smallest accepted value.
        min: f32,
        /// The largest accepted value.
        max: f32,
    },

    /// The photo's bytes are neither PNG nor JPEG.
    #[error("unsupported image format (expected PNG or JPEG)")]
    UnsupportedImageFormat,

    /// The photo could not be decoded.
    #[error("cannot decode {format} image: {reason}")]
    ImageDecode {
        /// `PNG` or `JPEG`.
        format: &'static str,
        /// The decoder's message.
        reason: String,
    },

    /// The photo is larger than this crate is willing to decode, or the picture asked for
    /// (size × resolution) is larger than it is willing to make.
    #[error("image is {width}×{height} pixels, more than the limit of {max_pixels} pixels")]
    ImageTooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit on width × height.
        max_pixels: u64,
    },

    /// No seal could be found in the photo.
    #[error("no seal found in the image: {0}")]
    NoSealFound(NoSealReason),

    /// A handwritten-signature stroke point is unusable.
    #[error("stroke {stroke}, point {point}: {reason}")]
    InvalidStroke {
        /// Index of the stroke.
        stroke: usize,
        /// Index of the point in the stroke.
        point: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A handwritten signature has no points at all.
    #[error("the signature has no ink: no stroke has any point")]
    EmptySignature,

    /// The PNG could not be encoded or decoded (an internal failure, not bad input).
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Why a photo was judged to contain no seal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoSealReason {
    /// Too few pixels are red ink.
    TooFewRedPixels {
        /// Red pixels found.
        found: u64,
        /// Red pixels needed.
        needed: u64,
    },
    /// There are red pixels but they do not form one compact blob of seal size and density.
    NoCompactComponent {
        /// What the largest red blob looked like.
        detail: String,
    },
}

impl std::fmt::Display for NoSealReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooFewRedPixels { found, needed } => {
                write!(f, "too few red pixels ({found}, need at least {needed})")
            }
            Self::NoCompactComponent { detail } => {
                write!(f, "no compact red component ({detail})")
            }
        }
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(nothing)".to_owned();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
