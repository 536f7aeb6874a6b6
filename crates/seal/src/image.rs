//! The picture a seal operation produces: a transparent PNG of known physical size.

use serde::{Deserialize, Serialize};

use crate::SealError;

/// Millimetres per inch.
pub(crate) const MM_PER_INCH: f32 = 25.4;

/// The resolution pictures are rendered at unless told otherwise.
pub const DEFAULT_DPI: f32 = 600.0;

/// The accepted range of resolutions, in dots per inch.
pub const DPI_RANGE: (f32, f32) = (72.0, 1200.0);

/// The largest picture this crate makes, in pixels (width × height).
pub const MAX_OUTPUT_PIXELS: u64 = 40_000_000;

/// A seal picture: an RGBA PNG with a transparent background and the physical size it must be
/// printed or placed at.
///
/// The PNG carries the same size in its `pHYs` chunk (pixels per metre), so a viewer that
/// honours it shows the seal at true size. `width_mm`/`height_mm` are the size of the whole
/// picture, which for templates is exactly the seal (e.g. 42 × 42 mm for a 公章).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealImage {
    /// The PNG file bytes (8-bit RGBA, not premultiplied).
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
    /// Physical width in millimetres.
    pub width_mm: f32,
    /// Physical height in millimetres.
    pub height_mm: f32,
}

impl SealImage {
    /// The resolution of the picture in dots per inch (horizontal).
    pub fn dpi(&self) -> f32 {
        if self.width_mm > 0.0 {
            self.width_px as f32 / self.width_mm * MM_PER_INCH
        } else {
            0.0
        }
    }

    /// Decodes the PNG into 8-bit RGBA pixels (not premultiplied), row by row,
    /// `width_px * height_px * 4` bytes.
    pub fn to_rgba8(&self) -> Result<Vec<u8>, SealError> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(&self.png));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder
            .read_info()
            .map_err(|e| SealError::Png(e.to_string()))?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| SealError::Png("image too large".to_owned()))?;
        let mut buf = vec![0; size];
        let info = reader
            .next_frame(&mut buf)
            .map_err(|e| SealError::Png(e.to_string()))?;
        buf.truncate(info.buffer_size());
        if info.color_type != png::ColorType::Rgba {
            return Err(SealError::Png(format!(
                "expected RGBA, found {:?}",
                info.color_type
            )));
        }
        Ok(buf)
    }
}

/// Checks a resolution against [`DPI_RANGE`].
pub(crate) fn check_dpi(dpi: f32) -> Result<f32, SealError> {
    check_range("dpi", dpi, DPI_RANGE.0, DPI_RANGE.1)
}

/// Checks that a number is finite and within `[min, max]`.
pub(crate) fn check_range(
    what: &'static str,
    value: f32,
    min: f32,
    max: f32,
) -> Result<f32, SealError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(value)
    } else {
        Err(SealError::OutOfRange {
            what,
            value,
            min,
            max,
        })
    }
}

/// Refuses pictures larger than [`MAX_OUTPUT_PIXELS`].
pub(crate) fn check_output_size(width: u64, height: u64) -> Result<(), SealError> {
    if width.saturating_mul(height) > MAX_OUTPUT_PIXELS {
        return Err(SealError::ImageTooLarge {
            width: u32::try_from(width).unwrap_or(u32::MAX),
            height: u32::try_from(height).unwrap_or(u32::MAX),
            max_pixels: MAX_OUTPUT_PIXELS,
        });
    }
    Ok(())
}

/// Pixels for a length in millimetres at a resolution, at least one.
pub(crate) fn mm_to_px(mm: f32, dpi: f32) -> u32 {
    let px = (mm * dpi / MM_PER_INCH).round();
    if px < 1.0 { 1 } else { px as u32 }
}

/// Makes a [`SealImage`] from a coverage plane (one byte of alpha per pixel) and one ink colour.
pub(crate) fn encode_coverage(
    coverage: &[u8],
    width_px: u32,
    height_px: u32,
    color: [u8; 3],
    width_mm: f32,
    height_mm: f32,
) -> Result<SealImage, SealError> {
    let mut rgba = Vec::with_capacity(coverage.len() * 4);
    for &a in coverage {
        rgba.extend_from_slice(&[color[0], color[1], color[2], a]);
    }
    encode_rgba(&rgba, width_px, height_px, width_mm, height_mm)
}

/// Encodes RGBA pixels into a [`SealImage`] with a `pHYs` chunk for the physical size.
pub(crate) fn encode_rgba(
    rgba: &[u8],
    width_px: u32,
    height_px: u32,
    width_mm: f32,
    height_mm: f32,
) -> Result<SealImage, SealError> {
    let expected = width_px as usize * height_px as usize * 4;
    if rgba.len() != expected || width_px == 0 || height_px == 0 {
        return Err(SealError::Png(format!(
            "pixel buffer of {} bytes does not match {width_px}×{height_px}",
            rgba.len()
        )));
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width_px, height_px);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: pixels_per_metre(width_px, width_mm),
            yppu: pixels_per_metre(height_px, height_mm),
            unit: png::Unit::Meter,
        }));
        let mut writer = encoder
            .write_header()
            .map_err(|e| SealError::Png(e.to_string()))?;
        writer
            .write_image_data(rgba)
            .map_err(|e| SealError::Png(e.to_string()))?;
        writer.finish().map_err(|e| SealError::Png(e.to_string()))?;
    }
    Ok(SealImage {
        png: out,
        width_px,
        height_px,
        width_mm,
        height_mm,
    })
}

fn pixels_per_metre(px: u32, mm: f32) -> u32 {
    if mm > 0.0 {
        (px as f64 * 1000.0 / mm as f64).round() as u32
    } else {
        0
    }
}
