//! Handwritten signatures: pen strokes with pressure, drawn as smooth lines of varying width
//! on a transparent background.

use serde::{Deserialize, Serialize};
use tiny_skia::{FillRule, PathBuilder};

use crate::SealError;
use crate::canvas::Canvas;
use crate::image::{DEFAULT_DPI, SealImage, check_dpi, check_range, encode_coverage, mm_to_px};

/// Black ink, `#141414`.
pub const INK_BLACK: [u8; 3] = [0x14, 0x14, 0x14];
/// Dark blue (blue-black) ink, `#102A6B`.
pub const INK_DARK_BLUE: [u8; 3] = [0x10, 0x2A, 0x6B];

/// The most points a signature may have, over all its strokes.
pub const MAX_SIGNATURE_POINTS: usize = 100_000;
/// The largest width or height of a signature's ink, in millimetres.
pub const MAX_SIGNATURE_EXTENT_MM: f32 = 300.0;

/// One sampled pen position: millimetres from any fixed origin (y pointing down, as on a
/// screen) and the pen pressure from 0 (lightest) to 1 (hardest).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StrokePoint {
    /// Horizontal position in millimetres.
    pub x: f32,
    /// Vertical position in millimetres, growing downwards.
    pub y: f32,
    /// Pressure in `0..=1`; values outside are clamped. Devices without pressure send 0.5.
    pub pressure: f32,
}

/// One pen-down-to-pen-up stroke.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    /// The points in the order they were drawn.
    pub points: Vec<StrokePoint>,
}

impl Stroke {
    /// A stroke from `(x, y, pressure)` triples in millimetres.
    pub fn from_points(points: &[(f32, f32, f32)]) -> Self {
        Self {
            points: points
                .iter()
                .map(|&(x, y, pressure)| StrokePoint { x, y, pressure })
                .collect(),
        }
    }
}

/// How to draw a signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignatureOptions {
    /// Resolution in dots per inch (default 600).
    pub dpi: f32,
    /// Ink colour (default [`INK_BLACK`]; [`INK_DARK_BLUE`] for blue-black).
    pub color: [u8; 3],
    /// Line width at zero pressure, millimetres (default 0.35).
    pub min_width_mm: f32,
    /// Line width at full pressure, millimetres (default 1.1).
    pub max_width_mm: f32,
    /// Transparent margin around the ink, millimetres (default 2).
    pub margin_mm: f32,
}

impl Default for SignatureOptions {
    fn default() -> Self {
        Self {
            dpi: DEFAULT_DPI,
            color: INK_BLACK,
            min_width_mm: 0.35,
            max_width_mm: 1.1,
            margin_mm: 2.0,
        }
    }
}

/// A point of the smoothed centre line and the half-width there, in millimetres.
#[derive(Debug, Clone, Copy)]
struct Disc {
    x: f32,
    y: f32,
    r: f32,
}

/// Draws a handwritten signature, cropped to its ink plus the margin.
///
/// Strokes are smoothed with a Catmull-Rom spline through their points; the width follows
/// the pressure between `min_width_mm` and `max_width_mm`. A stroke of one point is a dot.
///
/// Errors: [`SealError::EmptySignature`] when there is no point at all,
/// [`SealError::InvalidStroke`] for a non-finite coordinate or pressure, too many points or
/// too large an extent, [`SealError::OutOfRange`] for bad options.
pub fn render_signature(
    strokes: &[Stroke],
    options: &SignatureOptions,
) -> Result<SealImage, SealError> {
    let dpi = check_dpi(options.dpi)?;
    let min_w = check_range("min_width_mm", options.min_width_mm, 0.05, 10.0)?;
    let max_w = check_range("max_width_mm", options.max_width_mm, min_w, 10.0)?;
    let margin = check_range("margin_mm", options.margin_mm, 0.0, 50.0)?;

    let mut total = 0usize;
    for (si, stroke) in strokes.iter().enumerate() {
        for (pi, p) in stroke.points.iter().enumerate() {
            total += 1;
            let bad = |reason: String| SealError::InvalidStroke {
                stroke: si,
                point: pi,
                reason,
            };
            if total > MAX_SIGNATURE_POINTS {
                return Err(bad(format!(
                    "more than {MAX_SIGNATURE_POINTS} points in the signature"
                )));
            }
            if !p.x.is_finite() || !p.y.is_finite() {
                return Err(bad(format!("position ({}, {}) is not finite", p.x, p.y)));
            }
            if p.x.abs() > 10_000.0 || p.y.abs() > 10_000.0 {
                return Err(bad(format!("position ({}, {}) mm is absurd", p.x, p.y)));
            }
            if !p.pressure.is_finite() {
                return Err(bad(format!("pressure {} is not finite", p.pressure)));
            }
        }
    }
    if total == 0 {
        return Err(SealError::EmptySignature);
    }

    // Smooth every stroke into discs along its centre line.
    let width = |p: f32| min_w + (max_w - min_w) * p.clamp(0.0, 1.0);
    // Sample the centre line every 0.15 mm, coarser for absurdly long scribbles so that the
    // work stays bounded (at most about MAX_DISCS discs).
    let length: f32 = strokes
        .iter()
        .flat_map(|s| s.points.windows(2))
        .map(|w| ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt())
        .sum();
    let spacing = (length / MAX_DISCS as f32).max(0.15);
    let lines: Vec<Vec<Disc>> = strokes
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| smooth(&s.points, &width, spacing))
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for d in lines.iter().flatten() {
        x0 = x0.min(d.x - d.r);
        y0 = y0.min(d.y - d.r);
        x1 = x1.max(d.x + d.r);
        y1 = y1.max(d.y + d.r);
    }
    let (ink_w, ink_h) = (x1 - x0, y1 - y0);
    if ink_w > MAX_SIGNATURE_EXTENT_MM || ink_h > MAX_SIGNATURE_EXTENT_MM {
        return Err(SealError::InvalidStroke {
            stroke: 0,
            point: 0,
            reason: format!(
                "the signature spans {ink_w:.0} × {ink_h:.0} mm, more than \
                 {MAX_SIGNATURE_EXTENT_MM} mm"
            ),
        });
    }
    let w_mm = ink_w + 2.0 * margin;
    let h_mm = ink_h + 2.0 * margin;
    let w_px = mm_to_px(w_mm, dpi);
    let h_px = mm_to_px(h_mm, dpi);
    crate::image::check_output_size(u64::from(w_px), u64::from(h_px))?;
    let px_per_mm = w_px as f32 / w_mm;
    let (ox, oy) = (margin - x0, margin - y0);

    // One path of discs and the quads joining consecutive discs, all wound the same way, so a
    // non-zero fill is their union (no darker seams where pieces overlap).
    let mut pb = PathBuilder::new();
    for line in &lines {
        for (i, d) in line.iter().enumerate() {
            push_disc(&mut pb, d.x + ox, d.y + oy, d.r);
            if let Some(next) = line.get(i + 1) {
                push_joint(&mut pb, d, next, ox, oy);
            }
        }
    }
    let mut canvas = Canvas::new(w_px, h_px, px_per_mm)?;
    if let Some(path) = pb.finish() {
        canvas.fill(&path, FillRule::Winding);
    }
    let coverage = canvas.into_coverage();
    let height_mm = h_px as f32 / px_per_mm;
    encode_coverage(&coverage, w_px, h_px, options.color, w_mm, height_mm)
}

/// The most discs a signature is drawn with (see `render_signature`).
const MAX_DISCS: usize = 300_000;

/// Catmull-Rom through the points, sampled about every `spacing` millimetres, with the radius
/// interpolated linearly.
fn smooth(points: &[StrokePoint], width: &dyn Fn(f32) -> f32, spacing: f32) -> Vec<Disc> {
    let discs: Vec<Disc> = points
        .iter()
        .map(|p| Disc {
            x: p.x,
            y: p.y,
            r: width(p.pressure) / 2.0,
        })
        .collect();
    if discs.len() < 2 {
        return discs;
    }
    let n = discs.len();
    let mut out = Vec::with_capacity(n * 4);
    for i in 0..n - 1 {
        let p0 = discs[i.saturating_sub(1)];
        let p1 = discs[i];
        let p2 = discs[i + 1];
        let p3 = discs[(i + 2).min(n - 1)];
        let len = ((p2.x - p1.x).powi(2) + (p2.y - p1.y).powi(2)).sqrt();
        let steps = ((len / spacing).ceil() as usize).clamp(1, 64);
        for s in 0..steps {
            let t = s as f32 / steps as f32;
            out.push(catmull_rom(p0, p1, p2, p3, t));
        }
    }
    out.push(discs[n - 1]);
    out
}

fn catmull_rom(p0: Disc, p1: Disc, p2: Disc, p3: Disc, t: f32) -> Disc {
    let (t2, t3) = (t * t, t * t * t);
    let f = |a: f32, b: f32, c: f32, d: f32| {
        0.5 * ((2.0 * b)
            + (-a + c) * t
            + (2.0 * a - 5.0 * b + 4.0 * c - d) * t2
            + (-a + 3.0 * b - 3.0 * c + d) * t3)
    };
    Disc {
        x: f(p0.x, p1.x, p2.x, p3.x),
        y: f(p0.y, p1.y, p2.y, p3.y),
        // The radius follows linearly so it never overshoots below the minimum.
        r: p1.r + (p2.r - p1.r) * t,
    }
}

/// A circle wound with increasing angle (positive orientation in y-down coordinates).
fn push_disc(pb: &mut PathBuilder, cx: f32, cy: f32, r: f32) {
    const K: f32 = 0.552_284_8; // cubic Bézier approximation of a quarter circle
    let k = K * r;
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
}

/// The quadrilateral joining two discs, wound like [`push_disc`].
fn push_joint(pb: &mut PathBuilder, a: &Disc, b: &Disc, ox: f32, oy: f32) {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len = (dx * dx + dy * dy).sqrt();
    if len <= (a.r - b.r).abs() || len < 1e-4 {
        return; // one disc contains the other
    }
    let (nx, ny) = (-dy / len, dx / len);
    let (ax, ay, bx, by) = (a.x + ox, a.y + oy, b.x + ox, b.y + oy);
    pb.move_to(ax - nx * a.r, ay - ny * a.r);
    pb.line_to(bx - nx * b.r, by - ny * b.r);
    pb.line_to(bx + nx * b.r, by + ny * b.r);
    pb.line_to(ax + nx * a.r, ay + ny * a.r);
    pb.close();
}
