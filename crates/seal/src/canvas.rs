//! A coverage canvas in millimetres: shapes and glyphs are filled into an anti-aliased alpha
//! mask, which becomes the picture's alpha channel under one ink colour.

use tiny_skia::{FillRule, Mask, Path, PathBuilder, Transform};

use crate::SealError;
use crate::font::{FontFace, Glyph};

/// An alpha mask with a millimetre coordinate system (origin top left, y down).
pub(crate) struct Canvas {
    mask: Mask,
    px_per_mm: f32,
}

/// Where and how big a glyph goes: its em box (advance × ideographic em height) is stretched
/// to `width` × `height` millimetres, centred on (`cx`, `cy`) and turned by `rotate_deg`
/// (clockwise, 0 = upright).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GlyphBox {
    pub cx: f32,
    pub cy: f32,
    pub width: f32,
    pub height: f32,
    pub rotate_deg: f32,
}

impl Canvas {
    pub fn new(width_px: u32, height_px: u32, px_per_mm: f32) -> Result<Self, SealError> {
        crate::image::check_output_size(u64::from(width_px), u64::from(height_px))?;
        let mask = Mask::new(width_px, height_px).ok_or_else(|| {
            SealError::Png(format!("cannot allocate a {width_px}×{height_px} canvas"))
        })?;
        Ok(Self { mask, px_per_mm })
    }

    fn base(&self) -> Transform {
        Transform::from_scale(self.px_per_mm, self.px_per_mm)
    }

    /// Fills a path given in millimetres.
    pub fn fill(&mut self, path: &Path, rule: FillRule) {
        let t = self.base();
        self.mask.fill_path(path, rule, true, t);
    }

    /// Fills one glyph into its box. Blank glyphs draw nothing.
    pub fn glyph(&mut self, face: &FontFace<'_>, glyph: &Glyph, at: GlyphBox) {
        let Some(path) = &glyph.path else { return };
        let ref_w = glyph.advance;
        let ref_h = face.em_top - face.em_bottom;
        if ref_w <= 0.0 || ref_h <= 0.0 {
            return;
        }
        let t = self
            .base()
            .pre_translate(at.cx, at.cy)
            .pre_rotate(at.rotate_deg)
            .pre_scale(at.width / ref_w, -at.height / ref_h)
            .pre_translate(-ref_w / 2.0, -(face.em_top + face.em_bottom) / 2.0);
        self.mask.fill_path(path, FillRule::Winding, true, t);
    }

    /// The coverage, one byte per pixel, row by row.
    pub fn into_coverage(self) -> Vec<u8> {
        self.mask.take()
    }
}

/// A band between two concentric ellipses (fill with [`FillRule::EvenOdd`]).
pub(crate) fn ellipse_ring(cx: f32, cy: f32, rx: f32, ry: f32, width: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    pb.push_oval(tiny_skia::Rect::from_ltrb(
        cx - rx,
        cy - ry,
        cx + rx,
        cy + ry,
    )?);
    let (ix, iy) = (rx - width, ry - width);
    if ix > 0.0 && iy > 0.0 {
        pb.push_oval(tiny_skia::Rect::from_ltrb(
            cx - ix,
            cy - iy,
            cx + ix,
            cy + iy,
        )?);
    }
    pb.finish()
}

/// A square frame of outer side `side` and stroke `width` with its top left at (`x`, `y`)
/// (fill with [`FillRule::EvenOdd`]).
pub(crate) fn square_frame(x: f32, y: f32, side: f32, width: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(tiny_skia::Rect::from_xywh(x, y, side, side)?);
    let inner = side - 2.0 * width;
    if inner > 0.0 {
        pb.push_rect(tiny_skia::Rect::from_xywh(
            x + width,
            y + width,
            inner,
            inner,
        )?);
    }
    pb.finish()
}

/// A five-pointed star, point up, with outer radius `r`.
pub(crate) fn star_path(cx: f32, cy: f32, r: f32) -> Option<Path> {
    // Inner radius of a regular pentagram: r · sin 18° / sin 126°.
    let inner = r * (18f32.to_radians().sin() / 126f32.to_radians().sin());
    let mut pb = PathBuilder::new();
    for i in 0..10 {
        let radius = if i % 2 == 0 { r } else { inner };
        let angle = (-90.0 + 36.0 * i as f32).to_radians();
        let (x, y) = (cx + radius * angle.cos(), cy + radius * angle.sin());
        if i == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
    pb.close();
    pb.finish()
}
