//! Seal pictures as PDF images: a PNG (as `bidkit-seal` makes them, with a `pHYs` chunk
//! giving its physical size) decoded once into RGB samples and an alpha mask, ready to
//! become one image XObject with an `/SMask` (ISO 32000-1 §8.9.5, §11.6.5.3).

use std::io::Write as _;
use std::sync::{Arc, OnceLock};

use crate::{PdfError, Result};

/// Most pixels a seal picture may have (a 42 mm seal at 600 dpi is about 1000 × 1000).
pub const MAX_PICTURE_PIXELS: u64 = 4096 * 4096;

/// Resolution assumed when a PNG says nothing about its physical size.
pub const FALLBACK_DPI: f64 = 300.0;

/// A decoded seal picture: samples, alpha and physical size.
#[derive(Clone, Debug)]
pub struct SealPicture {
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
    /// Physical width in millimetres (from `pHYs`, or [`FALLBACK_DPI`]).
    pub width_mm: f64,
    /// Physical height in millimetres.
    pub height_mm: f64,
    rgb: Vec<u8>,
    alpha: Vec<u8>,
    /// The compressed streams, made on first use and shared by clones: sealing many
    /// documents (a batch, a long-running app) with one picture compresses it once.
    deflated: Arc<OnceLock<Deflated>>,
}

/// The picture's samples as they go into the PDF.
#[derive(Debug)]
struct Deflated {
    rgb: Vec<u8>,
    alpha: Vec<u8>,
}

impl SealPicture {
    /// Decode a PNG. `size_mm` overrides the physical size the PNG declares (width,
    /// height); `None` keeps the PNG's own.
    pub fn from_png(png_bytes: &[u8], size_mm: Option<(f64, f64)>) -> Result<SealPicture> {
        let bad =
            |e: &dyn std::fmt::Display| PdfError::SealPicture(format!("not a usable PNG: {e}"));
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| bad(&e))?;
        let info = reader.info();
        let (width_px, height_px) = (info.width, info.height);
        if width_px == 0 || height_px == 0 {
            return Err(PdfError::SealPicture("the picture is empty".into()));
        }
        if u64::from(width_px) * u64::from(height_px) > MAX_PICTURE_PIXELS {
            return Err(PdfError::LimitExceeded {
                what: "seal picture pixels",
                limit: MAX_PICTURE_PIXELS,
            });
        }
        let declared_mm = info.pixel_dims.and_then(|d| match d.unit {
            png::Unit::Meter if d.xppu > 0 && d.yppu > 0 => Some((
                f64::from(width_px) / f64::from(d.xppu) * 1000.0,
                f64::from(height_px) / f64::from(d.yppu) * 1000.0,
            )),
            _ => None,
        });
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| PdfError::SealPicture("the picture is too large".into()))?;
        let mut buf = vec![0; size];
        let frame = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
        let channels = frame.color_type.samples();
        let pixels = (width_px as usize) * (height_px as usize);
        let data = buf.get(..frame.buffer_size()).unwrap_or(&buf);
        let mut rgb = Vec::with_capacity(pixels * 3);
        let mut alpha = Vec::with_capacity(pixels);
        for px in data.chunks_exact(channels) {
            match *px {
                [g] => {
                    rgb.extend_from_slice(&[g, g, g]);
                    alpha.push(255);
                }
                [g, a] => {
                    rgb.extend_from_slice(&[g, g, g]);
                    alpha.push(a);
                }
                [r, g, b] => {
                    rgb.extend_from_slice(&[r, g, b]);
                    alpha.push(255);
                }
                [r, g, b, a] => {
                    rgb.extend_from_slice(&[r, g, b]);
                    alpha.push(a);
                }
                _ => return Err(PdfError::SealPicture("unsupported colour type".into())),
            }
        }
        if alpha.len() != pixels {
            return Err(PdfError::SealPicture("the pixel data is short".into()));
        }
        let (width_mm, height_mm) = size_mm.or(declared_mm).unwrap_or((
            f64::from(width_px) / FALLBACK_DPI * 25.4,
            f64::from(height_px) / FALLBACK_DPI * 25.4,
        ));
        if !(width_mm > 1.0 && height_mm > 1.0 && width_mm < 500.0 && height_mm < 500.0) {
            return Err(PdfError::SealPicture(format!(
                "a seal of {width_mm:.1} × {height_mm:.1} mm is not plausible"
            )));
        }
        Ok(SealPicture {
            width_px,
            height_px,
            width_mm,
            height_mm,
            rgb,
            alpha,
            deflated: Arc::default(),
        })
    }

    fn deflated(&self) -> Result<&Deflated> {
        if let Some(d) = self.deflated.get() {
            return Ok(d);
        }
        let made = Deflated {
            rgb: deflate(&self.rgb)?,
            alpha: deflate(&self.alpha)?,
        };
        // Two threads may race to make it; both results are equal, the first one stays.
        Ok(self.deflated.get_or_init(|| made))
    }

    /// The RGB samples, Flate-compressed.
    pub fn rgb_deflated(&self) -> Result<Vec<u8>> {
        Ok(self.deflated()?.rgb.clone())
    }

    /// The alpha samples (the soft mask), Flate-compressed.
    pub fn alpha_deflated(&self) -> Result<Vec<u8>> {
        Ok(self.deflated()?.alpha.clone())
    }

    /// Whether any pixel is (partly) transparent.
    pub fn has_transparency(&self) -> bool {
        self.alpha.iter().any(|&a| a < 255)
    }
}

/// zlib at its fastest level: seal pictures are flat colour on transparency, which the
/// fast level packs nearly as tightly as the default one in a fraction of the time.
fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|e| PdfError::io("compressing the seal picture", e))
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    /// A `size`×`size` red disc on transparency, as PNG.
    fn disc(size: u32) -> Vec<u8> {
        let r = f64::from(size) / 2.0;
        let mut rgba = Vec::new();
        for y in 0..size {
            for x in 0..size {
                let (dx, dy) = (f64::from(x) + 0.5 - r, f64::from(y) + 0.5 - r);
                let a = if dx * dx + dy * dy < r * r { 255 } else { 0 };
                rgba.extend_from_slice(&[200, 20, 30, a]);
            }
        }
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, size, size);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(&rgba).unwrap();
        out
    }

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn streams_inflate_to_the_samples_and_clones_share_them() {
        let picture = SealPicture::from_png(&disc(64), Some((40.0, 40.0))).unwrap();
        assert!(picture.has_transparency());
        let copy = picture.clone();
        let rgb = copy.rgb_deflated().unwrap();
        assert_eq!(inflate(&rgb), picture.rgb);
        assert_eq!(inflate(&picture.alpha_deflated().unwrap()), picture.alpha);
        // The clone compressed it; the original uses the same streams.
        assert!(picture.deflated.get().is_some());
        assert_eq!(picture.rgb_deflated().unwrap(), rgb);
        assert!(rgb.len() < picture.rgb.len() / 4, "{} bytes", rgb.len());
    }

    #[test]
    fn implausible_sizes_and_garbage_are_refused() {
        assert!(SealPicture::from_png(b"not a png", None).is_err());
        assert!(SealPicture::from_png(&disc(8), Some((0.5, 0.5))).is_err());
    }
}
