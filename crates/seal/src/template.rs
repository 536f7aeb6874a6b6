//! Seal templates: round 公章 and 专用章, oval and square 财务章, square 人名章.
//!
//! Every template is laid out in millimetres from proportions of real seals (a 42 mm 公章 has a
//! 1.2–1.3 mm rim, a star of about 14 mm across, organisation text about 6.5 mm tall running
//! clockwise along the upper arc with each character upright relative to the centre), then
//! rasterised once at the requested resolution.

use serde::{Deserialize, Serialize};
use tiny_skia::FillRule;

use crate::SealError;
use crate::canvas::{Canvas, GlyphBox, ellipse_ring, square_frame, star_path};
use crate::font::{FontFace, Glyph, SealFont};
use crate::image::{DEFAULT_DPI, SealImage, check_dpi, check_range, encode_coverage, mm_to_px};
use crate::kind::SealKind;

/// The red of seal ink, `#E60012`.
pub const SEAL_RED: [u8; 3] = [0xE6, 0x00, 0x12];

/// The longest organisation name accepted (characters). Names up to about 24 CJK characters
/// keep comfortable proportions; longer ones are compressed further.
pub const MAX_ORGANISATION_CHARS: usize = 40;
/// The longest seal name accepted (characters), e.g. `合同专用章` has 5.
pub const MAX_SEAL_NAME_CHARS: usize = 12;
/// The longest code accepted (characters); the national seal code has 13 digits.
pub const MAX_CODE_CHARS: usize = 32;
/// The longest text of a square 财务章 (organisation and seal name together).
pub const MAX_SQUARE_TEXT_CHARS: usize = 30;

/// How to render a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderOptions {
    /// Resolution in dots per inch (default 600). The pixel count is the seal's size at this
    /// resolution rounded to whole pixels, and the picture's physical size is kept exact.
    pub dpi: f32,
    /// Ink colour as RGB (default [`SEAL_RED`]).
    pub color: [u8; 3],
    /// Adds a slight, deterministic ink texture (uneven inking) instead of flat colour.
    pub ink_texture: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            dpi: DEFAULT_DPI,
            color: SEAL_RED,
            ink_texture: false,
        }
    }
}

/// A seal to draw: one of the four layouts with its texts and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "kebab-case")]
pub enum SealTemplate {
    /// Round: 公章, 合同专用章, round 财务专用章.
    Round(RoundSeal),
    /// Oval: 财务专用章 (40 × 30 mm).
    Oval(OvalSeal),
    /// Square with the text in columns: square 财务专用章 (22 × 22 mm).
    Square(SquareSeal),
    /// Square name seal: 人名章, 法定代表人章.
    Name(NameSeal),
}

impl SealTemplate {
    /// The kind of seal this template makes.
    pub fn kind(&self) -> SealKind {
        match self {
            SealTemplate::Round(s) => s.kind,
            SealTemplate::Oval(s) => s.kind,
            SealTemplate::Square(s) => s.kind,
            SealTemplate::Name(s) => s.kind,
        }
    }

    /// Physical width and height in millimetres.
    pub fn size_mm(&self) -> (f32, f32) {
        match self {
            SealTemplate::Round(s) => (s.diameter_mm, s.diameter_mm),
            SealTemplate::Oval(s) => (s.width_mm, s.height_mm),
            SealTemplate::Square(s) => (s.side_mm, s.side_mm),
            SealTemplate::Name(s) => (s.side_mm, s.side_mm),
        }
    }

    /// Renders the template into a transparent PNG of its physical size.
    ///
    /// Errors name the field at fault: an empty or over-long text, a character the font has
    /// no glyph for ([`SealError::MissingGlyph`]), a size or resolution out of range.
    pub fn render(&self, font: &SealFont, options: &RenderOptions) -> Result<SealImage, SealError> {
        let dpi = check_dpi(options.dpi)?;
        let face = font.face()?;
        let (w_mm, h_mm) = self.size_mm();
        match self {
            SealTemplate::Round(s) => check_range("diameter_mm", s.diameter_mm, 20.0, 80.0)?,
            SealTemplate::Oval(s) => {
                check_range("width_mm", s.width_mm, 20.0, 80.0)?;
                check_range("height_mm", s.height_mm, 15.0, 80.0)?
            }
            SealTemplate::Square(s) => check_range("side_mm", s.side_mm, 10.0, 60.0)?,
            SealTemplate::Name(s) => check_range("side_mm", s.side_mm, 8.0, 40.0)?,
        };
        let w_px = mm_to_px(w_mm, dpi);
        let h_px = mm_to_px(h_mm, dpi);
        // Pixels per millimetre such that the seal spans the pixel grid exactly.
        let px_per_mm = w_px as f32 / w_mm;
        let mut canvas = Canvas::new(w_px, h_px, px_per_mm)?;
        let seed = match self {
            SealTemplate::Round(s) => draw_round(&mut canvas, &face, s)?,
            SealTemplate::Oval(s) => draw_oval(&mut canvas, &face, s)?,
            SealTemplate::Square(s) => draw_square(&mut canvas, &face, s)?,
            SealTemplate::Name(s) => draw_name(&mut canvas, &face, s)?,
        };
        let mut coverage = canvas.into_coverage();
        if options.ink_texture {
            apply_ink_texture(&mut coverage, w_px, h_px, px_per_mm, seed);
        }
        encode_coverage(&coverage, w_px, h_px, options.color, w_mm, h_mm)
    }
}

/// A round seal: rim, optional star, organisation along the upper arc, optional seal name
/// under the star, optional code along the bottom arc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSeal {
    /// What kind of seal this is (公章, 合同章, 财务章).
    pub kind: SealKind,
    /// The organisation's registered name, set clockwise along the upper arc.
    pub organisation: String,
    /// The seal's name set horizontally under the star, e.g. `合同专用章`; none for a 公章.
    pub seal_name: Option<String>,
    /// The code set along the bottom arc, e.g. the 13-digit seal code.
    pub code: Option<String>,
    /// Diameter in millimetres (公章 40–42, 财务章 38).
    pub diameter_mm: f32,
    /// Whether to draw the five-pointed star in the centre.
    pub star: bool,
}

impl RoundSeal {
    /// A 公章: Ø42 mm with a star and no seal name.
    pub fn official(organisation: impl Into<String>) -> Self {
        Self {
            kind: SealKind::Official,
            organisation: organisation.into(),
            seal_name: None,
            code: None,
            diameter_mm: 42.0,
            star: true,
        }
    }

    /// A 合同专用章: Ø42 mm with a star and `合同专用章` under it.
    pub fn contract(organisation: impl Into<String>) -> Self {
        Self {
            kind: SealKind::Contract,
            seal_name: Some("合同专用章".to_owned()),
            ..Self::official(organisation)
        }
    }

    /// A round 财务专用章: Ø38 mm with a star and `财务专用章` under it.
    pub fn finance(organisation: impl Into<String>) -> Self {
        Self {
            kind: SealKind::Finance,
            seal_name: Some("财务专用章".to_owned()),
            diameter_mm: 38.0,
            ..Self::official(organisation)
        }
    }

    /// Sets the seal name under the star (e.g. `投标专用章`).
    pub fn with_seal_name(mut self, name: impl Into<String>) -> Self {
        self.seal_name = Some(name.into());
        self
    }

    /// Sets the code along the bottom arc.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the diameter in millimetres.
    pub fn with_diameter_mm(mut self, diameter_mm: f32) -> Self {
        self.diameter_mm = diameter_mm;
        self
    }
}

impl From<RoundSeal> for SealTemplate {
    fn from(s: RoundSeal) -> Self {
        SealTemplate::Round(s)
    }
}

/// An oval seal: rim, organisation along the upper arc, seal name across the middle, optional
/// code along the bottom arc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OvalSeal {
    /// What kind of seal this is (usually 财务章).
    pub kind: SealKind,
    /// The organisation's name, along the upper arc.
    pub organisation: String,
    /// The seal's name across the middle, e.g. `财务专用章`.
    pub seal_name: Option<String>,
    /// The code along the bottom arc.
    pub code: Option<String>,
    /// Width (horizontal axis) in millimetres.
    pub width_mm: f32,
    /// Height (vertical axis) in millimetres.
    pub height_mm: f32,
}

impl OvalSeal {
    /// An oval 财务专用章, 40 × 30 mm.
    pub fn finance(organisation: impl Into<String>) -> Self {
        Self {
            kind: SealKind::Finance,
            organisation: organisation.into(),
            seal_name: Some("财务专用章".to_owned()),
            code: None,
            width_mm: 40.0,
            height_mm: 30.0,
        }
    }

    /// Sets the code along the bottom arc.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

impl From<OvalSeal> for SealTemplate {
    fn from(s: OvalSeal) -> Self {
        SealTemplate::Oval(s)
    }
}

/// A square seal with its whole text in columns, read top to bottom, right to left, inside a
/// frame (the square 财务专用章).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SquareSeal {
    /// What kind of seal this is (usually 财务章).
    pub kind: SealKind,
    /// The whole text, e.g. `某某有限公司财务专用章`.
    pub text: String,
    /// Side in millimetres.
    pub side_mm: f32,
}

impl SquareSeal {
    /// A square 财务专用章, 22 × 22 mm, reading `{organisation}财务专用章`.
    pub fn finance(organisation: &str) -> Self {
        Self {
            kind: SealKind::Finance,
            text: format!("{}财务专用章", organisation.trim()),
            side_mm: 22.0,
        }
    }
}

impl From<SquareSeal> for SealTemplate {
    fn from(s: SquareSeal) -> Self {
        SealTemplate::Square(s)
    }
}

/// A square name seal: a person's name of 1–4 characters in a grid (columns right to left),
/// with `印` added to a 3-character name so it fills 2 × 2 cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameSeal {
    /// 人名章 or 法定代表人章.
    pub kind: SealKind,
    /// The person's name, 1–4 characters.
    pub name: String,
    /// Side in millimetres (18 or 20 in practice).
    pub side_mm: f32,
    /// Whether to draw the square frame.
    pub border: bool,
    /// Whether to add `印` after a 3-character name (a 2 × 2 grid instead of 2 + 1).
    pub add_yin: bool,
}

impl NameSeal {
    /// A 人名章, 18 × 18 mm with a frame.
    pub fn personal(name: impl Into<String>) -> Self {
        Self {
            kind: SealKind::PersonalName,
            name: name.into(),
            side_mm: 18.0,
            border: true,
            add_yin: true,
        }
    }

    /// A 法定代表人章, 20 × 20 mm with a frame.
    pub fn legal_representative(name: impl Into<String>) -> Self {
        Self {
            kind: SealKind::LegalRepresentative,
            side_mm: 20.0,
            ..Self::personal(name)
        }
    }

    /// Sets the side in millimetres.
    pub fn with_side_mm(mut self, side_mm: f32) -> Self {
        self.side_mm = side_mm;
        self
    }

    /// Draws or leaves out the frame.
    pub fn with_border(mut self, border: bool) -> Self {
        self.border = border;
        self
    }
}

impl From<NameSeal> for SealTemplate {
    fn from(s: NameSeal) -> Self {
        SealTemplate::Name(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Layout.

/// Checks a text field and returns it trimmed.
fn clean_text(field: &'static str, text: &str, max_chars: usize) -> Result<String, SealError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SealError::InvalidText {
            field,
            reason: "it is empty".to_owned(),
        });
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(SealError::InvalidText {
            field,
            reason: format!("it contains the control character U+{:04X}", c as u32),
        });
    }
    let n = text.chars().count();
    if n > max_chars {
        return Err(SealError::InvalidText {
            field,
            reason: format!("it has {n} characters, more than the {max_chars} a seal can carry"),
        });
    }
    Ok(text.to_owned())
}

fn optional_text(
    field: &'static str,
    text: &Option<String>,
    max_chars: usize,
) -> Result<Option<String>, SealError> {
    match text {
        Some(t) if !t.trim().is_empty() => clean_text(field, t, max_chars).map(Some),
        _ => Ok(None),
    }
}

fn seed_of(parts: &[&str]) -> u64 {
    // FNV-1a: a stable seed so the same seal always gets the same texture.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
    }
    h
}

/// Natural width of a glyph relative to the em height: full-width (CJK) characters are set a
/// little narrower than square, as on real seals; others keep their advance.
fn natural_width(face: &FontFace<'_>, glyph: &Glyph, cjk: f32) -> f32 {
    if glyph.full_width {
        cjk
    } else {
        glyph.advance / face.upem
    }
}

/// Text set along an elliptical (or circular) arc.
struct ArcText<'g> {
    glyphs: &'g [Glyph],
    /// Centre of the ellipse.
    cx: f32,
    cy: f32,
    /// Semi-axes of the outer edge of the text band (the em boxes' outer edge).
    outer_a: f32,
    outer_b: f32,
    /// Em height (radial extent of the band) to start from, and the smallest to shrink to.
    em: f32,
    min_em: f32,
    /// Width of a full-width glyph relative to the em height.
    cjk_width: f32,
    /// Space between characters relative to the em height.
    tracking: f32,
    /// The largest and smallest angular extent (degrees, measured at the centre line).
    max_extent_deg: f32,
    min_extent_deg: f32,
    /// Along the bottom, reading left to right with tops towards the centre.
    bottom: bool,
}

/// Cumulative arc length along an ellipse from the top (or bottom) point, sampled over the
/// angle θ ∈ [0, π] where the point is (a sin θ, ∓b cos θ).
struct ArcTable {
    step: f32,
    lengths: Vec<f32>,
}

impl ArcTable {
    const SAMPLES: usize = 1024;

    fn new(a: f32, b: f32) -> Self {
        let step = std::f32::consts::PI / Self::SAMPLES as f32;
        let speed = |t: f32| ((a * t.cos()).powi(2) + (b * t.sin()).powi(2)).sqrt();
        let mut lengths = Vec::with_capacity(Self::SAMPLES + 1);
        let mut acc = 0.0;
        lengths.push(0.0);
        for i in 0..Self::SAMPLES {
            let t0 = i as f32 * step;
            acc += 0.5 * (speed(t0) + speed(t0 + step)) * step;
            lengths.push(acc);
        }
        Self { step, lengths }
    }

    /// Arc length from the apex to angle `theta` (≥ 0).
    fn length_at(&self, theta: f32) -> f32 {
        let x = (theta / self.step).clamp(0.0, Self::SAMPLES as f32);
        let i = (x.floor() as usize).min(Self::SAMPLES - 1);
        let f = x - i as f32;
        self.lengths[i] * (1.0 - f) + self.lengths[i + 1] * f
    }

    /// Angle at arc length `s` (≥ 0) from the apex.
    fn angle_at(&self, s: f32) -> f32 {
        let i = self
            .lengths
            .partition_point(|&l| l < s)
            .clamp(1, Self::SAMPLES);
        let (l0, l1) = (self.lengths[i - 1], self.lengths[i]);
        let f = if l1 > l0 { (s - l0) / (l1 - l0) } else { 0.0 };
        ((i - 1) as f32 + f.clamp(0.0, 1.0)) * self.step
    }
}

impl ArcText<'_> {
    fn draw(&self, canvas: &mut Canvas, face: &FontFace<'_>) {
        let n = self.glyphs.len();
        if n == 0 {
            return;
        }
        let natural: Vec<f32> = self
            .glyphs
            .iter()
            .map(|g| natural_width(face, g, self.cjk_width))
            .collect();
        // Shrink the em a little when the text is very long, then compress the widths.
        let mut em = self.em;
        let (table, a, b, max_len, total) = loop {
            let (a, b) = (self.outer_a - em / 2.0, self.outer_b - em / 2.0);
            let table = ArcTable::new(a, b);
            let max_len = 2.0 * table.length_at(self.max_extent_deg.to_radians() / 2.0);
            let total: f32 = natural.iter().sum::<f32>() * em + self.tracking * em * n as f32;
            if total * 0.62 > max_len && em * 0.95 >= self.min_em {
                em *= 0.95;
                continue;
            }
            break (table, a, b, max_len, total);
        };
        let mut widths: Vec<f32> = natural.iter().map(|w| w * em).collect();
        let glyph_sum: f32 = widths.iter().sum();
        let length = if total > max_len {
            let k = max_len / total;
            widths.iter_mut().for_each(|w| *w *= k);
            max_len
        } else {
            let min_len = 2.0 * table.length_at(self.min_extent_deg.to_radians() / 2.0);
            min_len.min(total * 1.5).max(total).min(max_len)
        };
        let glyph_sum = if total > max_len {
            glyph_sum * (max_len / total)
        } else {
            glyph_sum
        };
        let gap = (length - glyph_sum) / n as f32;
        let mut s = -length / 2.0;
        for (glyph, w) in self.glyphs.iter().zip(&widths) {
            let centre = s + (w + gap) / 2.0;
            s += w + gap;
            let theta = table.angle_at(centre.abs()).copysign(centre);
            let (sin, cos) = theta.sin_cos();
            let (x, y, rot) = if self.bottom {
                (
                    self.cx + a * sin,
                    self.cy + b * cos,
                    (-b * sin).atan2(a * cos),
                )
            } else {
                (
                    self.cx + a * sin,
                    self.cy - b * cos,
                    (b * sin).atan2(a * cos),
                )
            };
            canvas.glyph(
                face,
                glyph,
                GlyphBox {
                    cx: x,
                    cy: y,
                    width: *w,
                    height: em,
                    rotate_deg: rot.to_degrees(),
                },
            );
        }
    }
}

/// Sets a line of upright text centred on (`cx`, `cy`), compressed to `max_width` if needed.
#[allow(clippy::too_many_arguments)]
fn draw_line(
    canvas: &mut Canvas,
    face: &FontFace<'_>,
    glyphs: &[Glyph],
    cx: f32,
    cy: f32,
    em: f32,
    cjk_width: f32,
    tracking: f32,
    max_width: f32,
) {
    let n = glyphs.len();
    if n == 0 {
        return;
    }
    let mut widths: Vec<f32> = glyphs
        .iter()
        .map(|g| natural_width(face, g, cjk_width) * em)
        .collect();
    let mut gap = tracking * em;
    let total = widths.iter().sum::<f32>() + gap * (n as f32 - 1.0);
    if total > max_width {
        let k = max_width / total;
        widths.iter_mut().for_each(|w| *w *= k);
        gap *= k;
    }
    let total = widths.iter().sum::<f32>() + gap * (n as f32 - 1.0);
    let mut x = cx - total / 2.0;
    for (glyph, w) in glyphs.iter().zip(&widths) {
        canvas.glyph(
            face,
            glyph,
            GlyphBox {
                cx: x + w / 2.0,
                cy,
                width: *w,
                height: em,
                rotate_deg: 0.0,
            },
        );
        x += w + gap;
    }
}

/// Sets glyphs in columns read top to bottom, right to left, inside the rectangle
/// (`x0`, `y0`)–(`x1`, `y1`). Columns hold ⌈n / columns⌉ or ⌊n / columns⌋ characters, the
/// fuller ones on the right; each glyph's em box is stretched to its cell.
#[allow(clippy::too_many_arguments)]
fn draw_grid(
    canvas: &mut Canvas,
    face: &FontFace<'_>,
    glyphs: &[Glyph],
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    gap: f32,
    fill: f32,
) {
    let n = glyphs.len();
    if n == 0 {
        return;
    }
    let cols = (n as f32).sqrt().ceil() as usize;
    let base = n / cols;
    let extra = n % cols;
    let col_w = (x1 - x0 - gap * (cols as f32 - 1.0)) / cols as f32;
    let mut it = glyphs.iter();
    for c in 0..cols {
        let rows = base + usize::from(c < extra);
        if rows == 0 {
            continue;
        }
        let row_h = (y1 - y0 - gap * (rows as f32 - 1.0)) / rows as f32;
        let cx = x1 - col_w / 2.0 - c as f32 * (col_w + gap);
        for r in 0..rows {
            let Some(glyph) = it.next() else { return };
            let cy = y0 + row_h / 2.0 + r as f32 * (row_h + gap);
            canvas.glyph(
                face,
                glyph,
                GlyphBox {
                    cx,
                    cy,
                    width: col_w * fill,
                    height: row_h * fill,
                    rotate_deg: 0.0,
                },
            );
        }
    }
}

fn fill_path(canvas: &mut Canvas, path: Option<tiny_skia::Path>, rule: FillRule) {
    if let Some(p) = path {
        canvas.fill(&p, rule);
    }
}

fn draw_round(canvas: &mut Canvas, face: &FontFace<'_>, s: &RoundSeal) -> Result<u64, SealError> {
    let organisation = clean_text("organisation", &s.organisation, MAX_ORGANISATION_CHARS)?;
    let seal_name = optional_text("seal name", &s.seal_name, MAX_SEAL_NAME_CHARS)?;
    let code = optional_text("code", &s.code, MAX_CODE_CHARS)?;
    let org_glyphs = face.glyphs(&organisation, "organisation")?;
    let name_glyphs = match &seal_name {
        Some(t) => face.glyphs(t, "seal name")?,
        None => Vec::new(),
    };
    let code_glyphs = match &code {
        Some(t) => face.glyphs(t, "code")?,
        None => Vec::new(),
    };

    let d = s.diameter_mm;
    let r = d / 2.0;
    let rim = 0.03 * d;
    // Keep the rim's outer edge a hair inside the picture so anti-aliasing is not cut off.
    let outer = r - 0.01;
    fill_path(
        canvas,
        ellipse_ring(r, r, outer, outer, rim),
        FillRule::EvenOdd,
    );
    if s.star {
        fill_path(canvas, star_path(r, r, 0.165 * d), FillRule::Winding);
    }
    let band = outer - rim - 0.02 * d;
    ArcText {
        glyphs: &org_glyphs,
        cx: r,
        cy: r,
        outer_a: band,
        outer_b: band,
        em: 0.155 * d,
        min_em: 0.12 * d,
        cjk_width: 0.82,
        tracking: 0.12,
        max_extent_deg: if code_glyphs.is_empty() { 250.0 } else { 240.0 },
        min_extent_deg: 200.0,
        bottom: false,
    }
    .draw(canvas, face);
    if !name_glyphs.is_empty() {
        let em = 0.1 * d;
        let cy = if s.star { r + 0.25 * d } else { r };
        draw_line(canvas, face, &name_glyphs, r, cy, em, 0.9, 0.06, 0.62 * d);
    }
    if !code_glyphs.is_empty() {
        ArcText {
            glyphs: &code_glyphs,
            cx: r,
            cy: r,
            outer_a: outer - rim - 0.015 * d,
            outer_b: outer - rim - 0.015 * d,
            em: 0.06 * d,
            min_em: 0.05 * d,
            cjk_width: 0.9,
            tracking: 0.12,
            max_extent_deg: 100.0,
            min_extent_deg: 0.0,
            bottom: true,
        }
        .draw(canvas, face);
    }
    Ok(seed_of(&[
        &organisation,
        seal_name.as_deref().unwrap_or(""),
        code.as_deref().unwrap_or(""),
    ]))
}

fn draw_oval(canvas: &mut Canvas, face: &FontFace<'_>, s: &OvalSeal) -> Result<u64, SealError> {
    let organisation = clean_text("organisation", &s.organisation, MAX_ORGANISATION_CHARS)?;
    let seal_name = optional_text("seal name", &s.seal_name, MAX_SEAL_NAME_CHARS)?;
    let code = optional_text("code", &s.code, MAX_CODE_CHARS)?;
    let org_glyphs = face.glyphs(&organisation, "organisation")?;
    let name_glyphs = match &seal_name {
        Some(t) => face.glyphs(t, "seal name")?,
        None => Vec::new(),
    };
    let code_glyphs = match &code {
        Some(t) => face.glyphs(t, "code")?,
        None => Vec::new(),
    };
    let (w, h) = (s.width_mm, s.height_mm);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let small = w.min(h);
    let rim = 0.033 * small;
    let (oa, ob) = (cx - 0.01, cy - 0.01);
    fill_path(canvas, ellipse_ring(cx, cy, oa, ob, rim), FillRule::EvenOdd);
    let gap = 0.025 * small;
    ArcText {
        glyphs: &org_glyphs,
        cx,
        cy,
        outer_a: oa - rim - gap,
        outer_b: ob - rim - gap,
        em: 0.15 * small,
        min_em: 0.12 * small,
        cjk_width: 0.8,
        tracking: 0.12,
        max_extent_deg: if code_glyphs.is_empty() { 215.0 } else { 205.0 },
        min_extent_deg: 170.0,
        bottom: false,
    }
    .draw(canvas, face);
    if !name_glyphs.is_empty() {
        let em = 0.14 * small;
        draw_line(
            canvas,
            face,
            &name_glyphs,
            cx,
            cy + 0.07 * small,
            em,
            0.9,
            0.06,
            0.62 * w,
        );
    }
    if !code_glyphs.is_empty() {
        ArcText {
            glyphs: &code_glyphs,
            cx,
            cy,
            outer_a: oa - rim - gap,
            outer_b: ob - rim - gap,
            em: 0.075 * small,
            min_em: 0.06 * small,
            cjk_width: 0.9,
            tracking: 0.12,
            max_extent_deg: 110.0,
            min_extent_deg: 0.0,
            bottom: true,
        }
        .draw(canvas, face);
    }
    Ok(seed_of(&[
        &organisation,
        seal_name.as_deref().unwrap_or(""),
        code.as_deref().unwrap_or(""),
    ]))
}

fn draw_square(canvas: &mut Canvas, face: &FontFace<'_>, s: &SquareSeal) -> Result<u64, SealError> {
    let text = clean_text("text", &s.text, MAX_SQUARE_TEXT_CHARS)?;
    let glyphs = face.glyphs(&text, "text")?;
    let side = s.side_mm;
    let frame = 0.05 * side;
    fill_path(
        canvas,
        square_frame(0.01, 0.01, side - 0.02, frame),
        FillRule::EvenOdd,
    );
    let pad = frame + 0.05 * side;
    draw_grid(
        canvas,
        face,
        &glyphs,
        pad,
        pad,
        side - pad,
        side - pad,
        0.02 * side,
        1.08,
    );
    Ok(seed_of(&[&text]))
}

fn draw_name(canvas: &mut Canvas, face: &FontFace<'_>, s: &NameSeal) -> Result<u64, SealError> {
    let name = clean_text("name", &s.name, 4)?;
    if name.chars().any(char::is_whitespace) {
        return Err(SealError::InvalidText {
            field: "name",
            reason: "a name seal cannot contain spaces".to_owned(),
        });
    }
    let mut text = name.clone();
    if s.add_yin && name.chars().count() == 3 {
        text.push('印');
    }
    let glyphs = face.glyphs(&text, "name")?;
    let side = s.side_mm;
    let (frame, pad) = if s.border {
        let frame = 0.07 * side;
        fill_path(
            canvas,
            square_frame(0.01, 0.01, side - 0.02, frame),
            FillRule::EvenOdd,
        );
        (frame, 0.05 * side)
    } else {
        (0.0, 0.03 * side)
    };
    let inset = frame + pad;
    draw_grid(
        canvas,
        face,
        &glyphs,
        inset,
        inset,
        side - inset,
        side - inset,
        0.04 * side,
        1.06,
    );
    Ok(seed_of(&[&text]))
}

/// Uneven inking: smooth value noise (about 1 mm features) lightens some patches and a fine
/// grain roughens the ink a little. Deterministic for a given seed.
fn apply_ink_texture(coverage: &mut [u8], w: u32, h: u32, px_per_mm: f32, seed: u64) {
    let cell = (px_per_mm * 1.2).max(2.0);
    let gw = (w as f32 / cell).ceil() as usize + 2;
    let gh = (h as f32 / cell).ceil() as usize + 2;
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
    };
    let grid: Vec<f32> = (0..gw * gh).map(|_| next()).collect();
    for y in 0..h as usize {
        let gy = y as f32 / cell;
        let (iy, fy) = (gy.floor() as usize, gy.fract());
        for x in 0..w as usize {
            let i = y * w as usize + x;
            let a = coverage[i];
            if a == 0 {
                continue;
            }
            let gx = x as f32 / cell;
            let (ix, fx) = (gx.floor() as usize, gx.fract());
            let g = |xx: usize, yy: usize| grid[(yy.min(gh - 1)) * gw + xx.min(gw - 1)];
            let top = g(ix, iy) * (1.0 - fx) + g(ix + 1, iy) * fx;
            let bottom = g(ix, iy + 1) * (1.0 - fx) + g(ix + 1, iy + 1) * fx;
            let smooth = top * (1.0 - fy) + bottom * fy;
            let grain = next();
            let light = 0.28 * (smooth - 0.45).max(0.0) / 0.55 + 0.08 * grain;
            coverage[i] = (f32::from(a) * (1.0 - light)).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arc_table_matches_a_circle_and_inverts() {
        let t = ArcTable::new(10.0, 10.0);
        for deg in [0.0f32, 10.0, 45.0, 90.0, 125.0, 180.0] {
            let th = deg.to_radians();
            assert!((t.length_at(th) - 10.0 * th).abs() < 1e-3, "{deg}");
            assert!((t.angle_at(10.0 * th) - th).abs() < 1e-3, "{deg}");
        }
        // An ellipse: a quarter of the perimeter of a 20 × 10 ellipse is about 24.22.
        let e = ArcTable::new(20.0, 10.0);
        assert!((e.length_at(std::f32::consts::FRAC_PI_2) - 24.221).abs() < 0.01);
    }

    #[test]
    fn text_checks() {
        assert_eq!(
            clean_text("name", "  张三 ", 4).ok().as_deref(),
            Some("张三")
        );
        assert!(clean_text("name", "", 4).is_err());
        assert!(clean_text("name", "张\n三", 4).is_err());
        assert!(clean_text("name", "一二三四五", 4).is_err());
        assert_eq!(
            optional_text("code", &Some("  ".into()), 4).ok(),
            Some(None)
        );
        assert_ne!(seed_of(&["a", "b"]), seed_of(&["ab"]));
    }
}
