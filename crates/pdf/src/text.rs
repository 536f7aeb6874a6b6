//! Keyword positions and page rendering, through pdfium.
//!
//! * [`find_text`] — every occurrence of a keyword (e.g. `投标人（盖章）`) with its page and
//!   box, for keyword sealing (关键字签章).
//! * [`page_count`] and [`render_page_png`] — for previews.
//!
//! Coordinates are PDF user space of the **unrotated** page, in points (what pdfium's
//! character boxes give): a page with `/Rotate 90` is searched like any other and its hits
//! are reported in the page's own coordinate system, the one a stamp's content stream
//! uses, not the rotated view a reader shows. Reading order is by that unrotated space
//! too (top to bottom, then left to right).

use std::io::Cursor;
use std::path::Path;

use pdfium_render::prelude::{
    PdfColor, PdfDocument, PdfPage, PdfPageTextChar, PdfRenderConfig, PdfiumError,
};
use serde::{Deserialize, Serialize};

use crate::pdfium::{from_pdfium, open};
use crate::{PdfError, Rect, Result};

/// Widest preview [`render_page_png`] draws, in pixels.
pub const MAX_RENDER_WIDTH_PX: u32 = 10_000;

/// Most pixels [`render_page_png`] draws for one page (width × height).
pub const MAX_RENDER_PIXELS: u64 = 100_000_000;

/// One occurrence of a searched text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextHit {
    /// The page, 0-based.
    pub page_index: usize,
    /// The union of the matched characters' boxes (pdfium's loose boxes: advance width ×
    /// the font's ascent–descent), in user space of the unrotated page, points.
    pub rect: Rect,
    /// The matched characters as pdfium extracted them, with any white space between
    /// them (they may differ from the needle in full-width/half-width forms and spaces,
    /// see [`find_text`]).
    pub text: String,
}

/// Every occurrence of `needle` in the document at `path`, in reading order: by page,
/// then top to bottom, then left to right.
///
/// Matching is on the characters pdfium extracts. White space (in the needle and in the
/// page, including the spaces and line breaks pdfium generates between text runs) is
/// ignored, and full-width forms match their ASCII counterparts (`（` = `(`, `：` = `:`),
/// so `投标人（盖章）` finds `投标人(盖章)` and `投标人 （盖章）` too. A match must lie on
/// one line: characters whose boxes do not share the first character's line (vertically
/// overlapping, or horizontally for vertical writing) are not joined into one hit.
///
/// Nothing found is an empty vector (callers that need a hit turn it into
/// [`PdfError::KeywordNotFound`]); an empty or all-blank needle is
/// [`PdfError::InvalidOption`].
pub fn find_text(path: &Path, needle: &str) -> Result<Vec<TextHit>> {
    let pattern: Vec<char> = needle
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(fold)
        .collect();
    if pattern.is_empty() {
        return Err(PdfError::InvalidOption {
            option: "keyword",
            reason: "the keyword is empty".into(),
        });
    }
    let doc = open(path)?;
    let mut hits = Vec::new();
    for (index, page) in doc.pages().iter().enumerate() {
        let mut page_hits = find_on_page(&page, index, &pattern).map_err(|e| e.in_file(path))?;
        hits.append(&mut page_hits);
    }
    Ok(hits)
}

/// A character of a page's text: its folded value for matching, its box, and where it
/// is in the page's whole text (white space included).
struct Glyph {
    folded: char,
    rect: Rect,
    at: usize,
}

fn find_on_page(page: &PdfPage<'_>, page_index: usize, pattern: &[char]) -> Result<Vec<TextHit>> {
    let text = page
        .text()
        .map_err(|e| from_pdfium(e, &format!("reading the text of page {}", page_index + 1)))?;
    let mut all = Vec::new();
    let mut glyphs = Vec::new();
    for ch in text.chars().iter() {
        let Some(c) = ch.unicode_char() else {
            continue;
        };
        if let Some(g) = glyph(&ch, c, all.len()) {
            glyphs.push(g);
        }
        all.push(c);
    }
    let mut hits = Vec::new();
    let n = pattern.len();
    let mut start = 0;
    while start + n <= glyphs.len() {
        let window = &glyphs[start..start + n];
        if window.iter().zip(pattern).all(|(g, p)| g.folded == *p) && one_line(window) {
            let mut rect = window[0].rect;
            for g in &window[1..] {
                rect = union(rect, g.rect);
            }
            hits.push(TextHit {
                page_index,
                rect,
                text: all[window[0].at..=window[n - 1].at].iter().collect(),
            });
            start += n;
        } else {
            start += 1;
        }
    }
    // Reading order: top to bottom, then left to right (a stable sort keeps pdfium's
    // order for hits at the same place).
    hits.sort_by(|a, b| {
        b.rect
            .y1
            .total_cmp(&a.rect.y1)
            .then(a.rect.x0.total_cmp(&b.rect.x0))
    });
    Ok(hits)
}

/// The matchable character `original` at `ch`, or `None` for white space and characters
/// pdfium could not place.
fn glyph(ch: &PdfPageTextChar<'_>, original: char, at: usize) -> Option<Glyph> {
    if original.is_whitespace() || original == '\0' {
        return None;
    }
    let b = ch.loose_bounds().or_else(|_| ch.tight_bounds()).ok()?;
    let rect = Rect::new(
        f64::from(b.left().value),
        f64::from(b.bottom().value),
        f64::from(b.right().value),
        f64::from(b.top().value),
    );
    if !(rect.x0.is_finite() && rect.y0.is_finite() && rect.x1.is_finite() && rect.y1.is_finite()) {
        return None;
    }
    Some(Glyph {
        folded: fold(original),
        rect,
        at,
    })
}

/// Full-width ASCII variants (U+FF01–U+FF5E) to ASCII; everything else unchanged.
fn fold(c: char) -> char {
    let u = u32::from(c);
    if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFEE0).unwrap_or(c)
    } else {
        c
    }
}

/// Whether the glyphs sit on one line: every box overlaps the first vertically
/// (horizontal writing) or every box overlaps it horizontally (vertical writing).
fn one_line(glyphs: &[Glyph]) -> bool {
    let Some(first) = glyphs.first() else {
        return false;
    };
    let f = first.rect;
    let horizontal = glyphs
        .iter()
        .all(|g| g.rect.y0 < f.y1 + 0.01 && g.rect.y1 > f.y0 - 0.01);
    let vertical = glyphs
        .iter()
        .all(|g| g.rect.x0 < f.x1 + 0.01 && g.rect.x1 > f.x0 - 0.01);
    horizontal || vertical
}

fn union(a: Rect, b: Rect) -> Rect {
    Rect {
        x0: a.x0.min(b.x0),
        y0: a.y0.min(b.y0),
        x1: a.x1.max(b.x1),
        y1: a.y1.max(b.y1),
    }
}

/// The number of pages of the document at `path`.
pub fn page_count(path: &Path) -> Result<u32> {
    let doc = open(path)?;
    let n = doc.pages().len();
    u32::try_from(n).map_err(|_| {
        PdfError::Pdfium(format!("pdfium reported a negative page count ({n})")).in_file(path)
    })
}

/// Page `page_index` (0-based) of the document at `path`, drawn `width_px` pixels wide
/// (the height follows the page's shape, as displayed, i.e. with `/Rotate` applied), as
/// a PNG (8-bit RGB, white background, annotations and form fields drawn).
///
/// `width_px` must be 1 to [`MAX_RENDER_WIDTH_PX`] and the page at most
/// [`MAX_RENDER_PIXELS`] pixels at that width ([`PdfError::InvalidOption`] otherwise); a page
/// outside the document is [`PdfError::PageOutOfRange`].
pub fn render_page_png(path: &Path, page_index: usize, width_px: u32) -> Result<Vec<u8>> {
    if width_px == 0 || width_px > MAX_RENDER_WIDTH_PX {
        return Err(PdfError::InvalidOption {
            option: "width",
            reason: format!("{width_px} px: a preview is 1 to {MAX_RENDER_WIDTH_PX} pixels wide"),
        });
    }
    let doc = open(path)?;
    render(&doc, page_index, width_px).map_err(|e| e.in_file(path))
}

fn render(doc: &PdfDocument<'_>, page_index: usize, width_px: u32) -> Result<Vec<u8>> {
    let pages = doc.pages();
    let count = u32::try_from(pages.len()).unwrap_or(0);
    let out_of_range = || PdfError::PageOutOfRange {
        page: u32::try_from(page_index).map_or(u32::MAX, |p| p.saturating_add(1)),
        pages: count,
    };
    let index = i32::try_from(page_index).map_err(|_| out_of_range())?;
    if page_index >= count as usize {
        return Err(out_of_range());
    }
    let doing = format!("rendering page {}", page_index + 1);
    let page = pages.get(index).map_err(|e| from_pdfium(e, &doing))?;
    // The displayed shape (pdfium's width/height are of the rotated page).
    let (w_pt, h_pt) = (
        f64::from(page.width().value),
        f64::from(page.height().value),
    );
    if !(w_pt > 0.0 && h_pt > 0.0) {
        return Err(PdfError::Pdfium(format!("{doing}: the page has no area")));
    }
    let height_px = (f64::from(width_px) * h_pt / w_pt).round().max(1.0);
    if height_px * f64::from(width_px) > MAX_RENDER_PIXELS as f64 {
        return Err(PdfError::InvalidOption {
            option: "width",
            reason: format!(
                "{width_px} px: page {} would be {height_px} px tall, over the cap of \
                 {MAX_RENDER_PIXELS} pixels",
                page_index + 1
            ),
        });
    }
    let config = PdfRenderConfig::new()
        .set_target_width(i32::try_from(width_px).unwrap_or(i32::MAX))
        .set_maximum_height(height_px as i32)
        .set_clear_color(PdfColor::WHITE)
        .render_form_data(true);
    let bitmap = page
        .render_with_config(&config)
        .map_err(|e: PdfiumError| from_pdfium(e, &doing))?;
    let (w, h) = (bitmap.width(), bitmap.height());
    let (w, h) = (
        u32::try_from(w).map_err(|_| PdfError::Pdfium(format!("{doing}: bitmap width {w}")))?,
        u32::try_from(h).map_err(|_| PdfError::Pdfium(format!("{doing}: bitmap height {h}")))?,
    );
    let rgba = bitmap.as_rgba_bytes();
    let expected = w as usize * h as usize * 4;
    if rgba.len() < expected {
        return Err(PdfError::Pdfium(format!(
            "{doing}: the bitmap has {} bytes, expected {expected}",
            rgba.len()
        )));
    }
    let rgb: Vec<u8> = rgba[..expected]
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    encode_png(w, h, &rgb).map_err(|e| PdfError::Pdfium(format!("{doing}: PNG encoding: {e}")))
}

fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out.into_inner())
}
