//! Finding and reading the CJK serif font seal text is set in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tiny_skia::{Path as SkPath, PathBuilder};
use ttf_parser::{Face, OutlineBuilder};

use crate::SealError;

/// The environment variable naming a font file to use before the well-known locations.
pub const FONT_ENV_VAR: &str = "BIDKIT_FONT";

/// Where CJK serif fonts are installed on common systems, best first. Debian's and Ubuntu's
/// `fonts-noto-cjk` come first (bold serif, then regular, then sans as a last resort).
pub const WELL_KNOWN_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/Library/Fonts/Songti.ttc",
    "C:\\Windows\\Fonts\\simsun.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
];

/// The font files an installed Bidkit bundles, by file name, in the directories a package
/// puts them relative to the running program: `<prefix>/share/bidkit/fonts` beside
/// `<prefix>/bin` (the .deb), `fonts/` beside the program (Windows), and
/// `../Resources/fonts` (a macOS app bundle). Files that do not exist are listed too;
/// callers take the first that does.
pub fn bundled_font_paths(names: &[&str]) -> Vec<PathBuf> {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let dirs = [
        dir.join("..").join("share").join("bidkit").join("fonts"),
        dir.join("fonts"),
        dir.join("..").join("Resources").join("fonts"),
    ];
    dirs.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .collect()
}

/// A loaded CJK font (a single OpenType font or one face of a collection).
///
/// Cheap to clone: the font bytes are shared. Load it once and reuse it for every picture.
#[derive(Clone)]
pub struct SealFont {
    data: Arc<Vec<u8>>,
    index: u32,
    source: String,
    family: String,
}

impl std::fmt::Debug for SealFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealFont")
            .field("source", &self.source)
            .field("index", &self.index)
            .field("family", &self.family)
            .finish()
    }
}

impl SealFont {
    /// Finds a font: `configured` if given, then the file named by [`FONT_ENV_VAR`], then the
    /// fonts an installed Bidkit bundles ([`bundled_font_paths`]), then
    /// [`WELL_KNOWN_FONT_PATHS`]. The first file that exists is loaded; if it exists but is not
    /// a usable font that is an error (a configured font is never silently skipped).
    ///
    /// Errors: [`SealError::FontNotFound`] naming every path tried, or the error of loading the
    /// file found.
    pub fn discover(configured: Option<&Path>) -> Result<Self, SealError> {
        let env = std::env::var_os(FONT_ENV_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mut tried = Vec::new();
        let candidates = configured
            .map(Path::to_path_buf)
            .into_iter()
            .chain(env)
            .chain(bundled_font_paths(&[
                "NotoSerifCJK-Bold.ttc",
                "NotoSerifCJK-Regular.ttc",
            ]))
            .chain(WELL_KNOWN_FONT_PATHS.iter().map(PathBuf::from));
        for path in candidates {
            if path.is_file() {
                return Self::from_path(&path);
            }
            tried.push(path);
        }
        Err(SealError::FontNotFound { tried })
    }

    /// Loads a font file (`.ttf`, `.otf` or a `.ttc` collection, from which the Simplified
    /// Chinese face is chosen when there is one).
    pub fn from_path(path: &Path) -> Result<Self, SealError> {
        let data = std::fs::read(path).map_err(|source| SealError::FontRead {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes_named(data, path.display().to_string())
    }

    /// Uses font bytes already in memory (a font or a collection, as for [`Self::from_path`]).
    pub fn from_bytes(data: Vec<u8>) -> Result<Self, SealError> {
        Self::from_bytes_named(data, "<memory>".to_owned())
    }

    fn from_bytes_named(data: Vec<u8>, source: String) -> Result<Self, SealError> {
        match chinese_face(&data, '章') {
            Ok((index, family)) => Ok(Self {
                data: Arc::new(data),
                index,
                source,
                family,
            }),
            Err(reason) => Err(SealError::FontInvalid {
                font: source,
                reason,
            }),
        }
    }

    /// The family name of the face in use, e.g. `Noto Serif CJK SC`.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// Where the font came from: its path, or `<memory>`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The face index within a collection (0 for a single font).
    pub fn face_index(&self) -> u32 {
        self.index
    }

    /// Whether the font has a glyph for `ch`.
    pub fn has_glyph(&self, ch: char) -> bool {
        self.face()
            .map(|f| f.face.glyph_index(ch).is_some_and(|g| g.0 != 0))
            .unwrap_or(false)
    }

    pub(crate) fn face(&self) -> Result<FontFace<'_>, SealError> {
        let face = Face::parse(&self.data, self.index).map_err(|e| SealError::FontInvalid {
            font: self.source.clone(),
            reason: e.to_string(),
        })?;
        let upem = f32::from(face.units_per_em());
        // The ideographic em box: the OS/2 typographic metrics of CJK fonts span exactly one
        // em (Noto: 880 / -120); otherwise assume the usual 0.88 / -0.12 split.
        let (mut top, mut bottom) = (0.88 * upem, -0.12 * upem);
        if let (Some(asc), Some(desc)) = (face.typographic_ascender(), face.typographic_descender())
        {
            let (asc, desc) = (f32::from(asc), f32::from(desc));
            if asc > 0.0 && desc <= 0.0 && ((asc - desc) - upem).abs() < 0.05 * upem {
                top = asc;
                bottom = desc;
            }
        }
        Ok(FontFace {
            face,
            upem,
            em_top: top,
            em_bottom: bottom,
            family: &self.family,
        })
    }
}

/// The face of a font file or collection to set Chinese with: the first Simplified
/// Chinese face (family `… SC`) that has 中 and `probe`, else the first face with both.
/// Returns its index in the collection and its family name, or why no face fits.
pub fn chinese_face(data: &[u8], probe: char) -> Result<(u32, String), String> {
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    let mut fallback: Option<(u32, String)> = None;
    let mut last_error = String::from("no faces");
    for index in 0..count {
        let face = match Face::parse(data, index) {
            Ok(face) => face,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        if face.glyph_index('中').is_none() || face.glyph_index(probe).is_none() {
            last_error = "it has no Chinese characters".to_owned();
            continue;
        }
        let family = family_name(&face).unwrap_or_else(|| format!("face {index}"));
        if family.ends_with(" SC") || family.contains(" SC ") {
            return Ok((index, family));
        }
        if fallback.is_none() {
            fallback = Some((index, family));
        }
    }
    fallback.ok_or(last_error)
}

fn family_name(face: &Face<'_>) -> Option<String> {
    let names = face.names();
    let find = |id: u16| {
        names
            .into_iter()
            .filter(|n| n.name_id == id && n.is_unicode())
            .find_map(|n| n.to_string())
    };
    find(ttf_parser::name_id::TYPOGRAPHIC_FAMILY).or_else(|| find(ttf_parser::name_id::FAMILY))
}

/// A parsed face, valid for one rendering.
pub(crate) struct FontFace<'a> {
    face: Face<'a>,
    /// Units per em.
    pub upem: f32,
    /// Top of the ideographic em box, font units (y up).
    pub em_top: f32,
    /// Bottom of the ideographic em box, font units (y up).
    pub em_bottom: f32,
    family: &'a str,
}

/// One glyph's outline and metrics, in font units with y pointing up.
pub(crate) struct Glyph {
    /// The outline; `None` for blank glyphs such as a space.
    pub path: Option<SkPath>,
    /// Horizontal advance.
    pub advance: f32,
    /// Whether the glyph is full-width (CJK), judged from its advance.
    pub full_width: bool,
}

impl FontFace<'_> {
    /// The glyph for `ch`, or [`SealError::MissingGlyph`].
    pub fn glyph(&self, ch: char, field: &'static str) -> Result<Glyph, SealError> {
        let missing = || SealError::MissingGlyph {
            ch,
            field,
            font: self.family.to_owned(),
        };
        let id = self.face.glyph_index(ch).ok_or_else(missing)?;
        if id.0 == 0 {
            return Err(missing());
        }
        let advance = self
            .face
            .glyph_hor_advance(id)
            .map(f32::from)
            .unwrap_or(self.upem);
        let mut sink = PathSink(PathBuilder::new());
        let rect = self.face.outline_glyph(id, &mut sink);
        let path = if rect.is_some() {
            sink.0.finish()
        } else {
            None
        };
        Ok(Glyph {
            path,
            advance: if advance > 0.0 { advance } else { self.upem },
            full_width: advance >= 0.9 * self.upem,
        })
    }

    /// The glyphs for every character of `text`.
    pub fn glyphs(&self, text: &str, field: &'static str) -> Result<Vec<Glyph>, SealError> {
        text.chars().map(|c| self.glyph(c, field)).collect()
    }
}

struct PathSink(PathBuilder);

impl OutlineBuilder for PathSink {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.0.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.0.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}
