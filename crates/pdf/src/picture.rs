//! Seal pictures as PDF images: a PNG (as `bidkit-seal` makes them, with a `pHYs` chunk
//! giving its physical size) decoded once into RGB samples and an alpha mask, ready to
//! become one image XObject with an `/SMask` (ISO 32000-1 §8.9.5, §11.6.5.3).

use std::io::Write as _;

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
        })
    }

    /// The RGB samples, Flate-compressed.
    pub fn rgb_deflated(&self) -> Result<Vec<u8>> {
        deflate(&self.rgb)
    }

    /// The alpha samples (the soft mask), Flate-compressed.
    pub fn alpha_deflated(&self) -> Result<Vec<u8>> {
        deflate(&self.alpha)
    }

    /// Whether any pixel is (partly) transparent.
    pub fn has_transparency(&self) -> bool {
        self.alpha.iter().any(|&a| a < 255)
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|e| PdfError::io("compressing the seal picture", e))
}
