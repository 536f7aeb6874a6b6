//! Scanned seals: the red ink of a photo or scan, on a transparent background, cropped and
//! scaled to the seal's physical size.
//!
//! The method, step by step:
//! 1. decode the PNG or JPEG (capped at [`MAX_SCAN_PIXELS`]);
//! 2. white-balance against the paper: the brightest tenth of the pixels are taken as paper
//!    and every channel is divided by their mean, so a yellowish light or a grey scan does not
//!    shift the colours;
//! 3. redness per pixel: red channel minus the larger of green and blue, kept only for red
//!    hues (between about −35° and +30°) and not too dark pixels, and scaled against the
//!    strong ink found in the picture, which gives each pixel's alpha;
//! 4. the ink pixels are grouped into blobs on a coarse grid (dilated so that the rim, star
//!    and characters of one seal join up) and the blob with the most ink is the seal, provided
//!    it is compact: large enough, not too elongated, and dense enough;
//! 5. the blob's bounding box plus a margin is cut out, red specks outside the blob are
//!    dropped, and the alpha is resampled so the seal's longer side is
//!    [`ScanOptions::target_mm`] at the requested resolution.

use serde::{Deserialize, Serialize};

use crate::SealError;
use crate::error::NoSealReason;
use crate::image::{DEFAULT_DPI, SealImage, check_dpi, check_range, encode_coverage, mm_to_px};

/// The largest photo decoded, in pixels (width × height).
pub const MAX_SCAN_PIXELS: u64 = 40_000_000;

/// How to turn a photo into a seal picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanOptions {
    /// Physical size of the seal's longer side (its ink), in millimetres (default 42).
    pub target_mm: f32,
    /// Resolution of the result in dots per inch (default 600).
    pub dpi: f32,
    /// Transparent margin around the ink, as a fraction of the seal's longer side
    /// (default 0.03).
    pub margin: f32,
    /// Ink colour of the result; `None` keeps the colour measured from the photo.
    pub color: Option<[u8; 3]>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            target_mm: 42.0,
            dpi: DEFAULT_DPI,
            margin: 0.03,
            color: None,
        }
    }
}

/// A seal found in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedSeal {
    /// The seal picture: ink on transparency, scaled to the requested physical size.
    pub image: SealImage,
    /// Where the seal's ink was found in the photo, in photo pixels: `[x, y, width, height]`.
    pub source_box: [u32; 4],
    /// The ink colour used for the picture (measured, or the one asked for).
    pub ink_color: [u8; 3],
}

/// An RGB picture, 3 bytes a pixel.
struct Rgb {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

/// Extracts the seal from a photo or scan (PNG or JPEG bytes).
///
/// The picture's longer side measures `target_mm` of ink plus the margin on each side;
/// `width_mm`/`height_mm` give the exact size of the whole picture.
///
/// Errors: [`SealError::UnsupportedImageFormat`], [`SealError::ImageDecode`],
/// [`SealError::ImageTooLarge`], and [`SealError::NoSealFound`] when there is too little red
/// ink or it does not form a compact seal-like blob.
pub fn extract_seal(bytes: &[u8], options: &ScanOptions) -> Result<ExtractedSeal, SealError> {
    let dpi = check_dpi(options.dpi)?;
    let target_mm = check_range("target_mm", options.target_mm, 5.0, 120.0)?;
    let margin = check_range("margin", options.margin, 0.0, 0.5)?;
    let img = decode(bytes)?;
    let (w, h) = (img.width, img.height);
    let total = (w * h) as u64;

    // 2. Paper colour: the mean of the brightest tenth of the pixels.
    let paper = paper_colour(&img);
    // 3. Redness (0..255) per pixel, white-balanced.
    let mut strength = vec![0u8; w * h];
    let mut hist = [0u64; 256];
    for (i, px) in img.data.chunks_exact(3).enumerate() {
        let [r, g, b] = balance(px, paper);
        let top = g.max(b);
        if r <= top || r < 0.2 {
            continue;
        }
        let chroma = r - g.min(b);
        let hue = (g - b) / chroma; // −1..1 ≙ −60°..+60°
        if !(-0.6..=0.5).contains(&hue) {
            continue;
        }
        let s = ((r - top) * 255.0).round().clamp(0.0, 255.0) as u8;
        strength[i] = s;
        hist[usize::from(s)] += 1;
    }
    let needed = 200u64.max(total / 4000);
    let low = 26usize; // 0.1: below this is paper texture, noise or JPEG fringes
    let candidates: u64 = hist[low..].iter().sum();
    if candidates < needed {
        return Err(SealError::NoSealFound(NoSealReason::TooFewRedPixels {
            found: candidates,
            needed,
        }));
    }
    // The strength of solid ink: the 90th percentile of the candidates.
    let mut acc = 0u64;
    let mut solid = 255usize;
    for s in (low..256).rev() {
        acc += hist[s];
        if acc * 10 >= candidates {
            solid = s;
            break;
        }
    }
    let full = (solid as f32 * 0.85).max(64.0);
    let lo = low as f32;
    let mut alpha: Vec<u8> = strength
        .iter()
        .map(|&s| {
            let a = (f32::from(s) - lo) / (full - lo);
            (a.clamp(0.0, 1.0) * 255.0).round() as u8
        })
        .collect();
    drop(strength);
    let ink_count = alpha.iter().filter(|&&a| a >= 128).count() as u64;
    if ink_count < needed {
        return Err(SealError::NoSealFound(NoSealReason::TooFewRedPixels {
            found: ink_count,
            needed,
        }));
    }

    // 4. The largest compact blob.
    let blob = largest_blob(&alpha, w, h)?;
    let (bx0, by0, bx1, by1) = blob.bbox;
    let (bw, bh) = (bx1 - bx0 + 1, by1 - by0 + 1);
    let long = bw.max(bh);
    let short = bw.min(bh);
    let fill = blob.ink as f64 / (bw * bh) as f64;
    if long < 16 || long > 3 * short || fill < 0.03 {
        return Err(SealError::NoSealFound(NoSealReason::NoCompactComponent {
            detail: format!(
                "largest red blob is {bw}×{bh} px with {} ink pixels ({:.1}% of its box)",
                blob.ink,
                fill * 100.0
            ),
        }));
    }
    // Drop ink outside the blob.
    for y in 0..h {
        for x in 0..w {
            if !blob.contains(x, y) {
                alpha[y * w + x] = 0;
            }
        }
    }

    // The ink colour: the mean balanced colour of solid ink, unless one is given.
    let color = match options.color {
        Some(c) => c,
        None => ink_colour(&img, &alpha, paper, &blob),
    };

    // 5. Crop with margin (padding with transparency where the margin leaves the photo).
    let m = (margin * long as f32).round() as isize;
    let (cx0, cy0) = (bx0 as isize - m, by0 as isize - m);
    let (cw, ch) = (bw + 2 * m as usize, bh + 2 * m as usize);
    let mut crop = vec![0u8; cw * ch];
    for y in 0..ch {
        let sy = cy0 + y as isize;
        if sy < 0 || sy >= h as isize {
            continue;
        }
        for x in 0..cw {
            let sx = cx0 + x as isize;
            if sx < 0 || sx >= w as isize {
                continue;
            }
            crop[y * cw + x] = alpha[sy as usize * w + sx as usize];
        }
    }
    drop(alpha);

    let target_px = mm_to_px(target_mm, dpi) as f32;
    let scale = target_px / long as f32;
    let out_w = ((cw as f32 * scale).round() as usize).max(1);
    let out_h = ((ch as f32 * scale).round() as usize).max(1);
    crate::image::check_output_size(out_w as u64, out_h as u64)?;
    let resized = resample(&crop, cw, ch, out_w, out_h);
    let px_per_mm = dpi / crate::image::MM_PER_INCH;
    let image = encode_coverage(
        &resized,
        out_w as u32,
        out_h as u32,
        color,
        out_w as f32 / px_per_mm,
        out_h as f32 / px_per_mm,
    )?;
    Ok(ExtractedSeal {
        image,
        source_box: [bx0 as u32, by0 as u32, bw as u32, bh as u32],
        ink_color: color,
    })
}

fn decode(bytes: &[u8]) -> Result<Rgb, SealError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes)
    } else {
        Err(SealError::UnsupportedImageFormat)
    }
}

fn too_large(width: usize, height: usize) -> Result<(), SealError> {
    let pixels = width as u64 * height as u64;
    if pixels > MAX_SCAN_PIXELS {
        return Err(SealError::ImageTooLarge {
            width: u32::try_from(width).unwrap_or(u32::MAX),
            height: u32::try_from(height).unwrap_or(u32::MAX),
            max_pixels: MAX_SCAN_PIXELS,
        });
    }
    if pixels == 0 {
        return Err(SealError::ImageDecode {
            format: "image",
            reason: "it has no pixels".to_owned(),
        });
    }
    Ok(())
}

fn decode_png(bytes: &[u8]) -> Result<Rgb, SealError> {
    let err = |e: png::DecodingError| SealError::ImageDecode {
        format: "PNG",
        reason: e.to_string(),
    };
    let limits = png::Limits {
        bytes: (MAX_SCAN_PIXELS * 8) as usize,
    };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(err)?;
    let (width, height) = {
        let info = reader.info();
        (info.width as usize, info.height as usize)
    };
    too_large(width, height)?;
    let size = reader
        .output_buffer_size()
        .ok_or(SealError::ImageTooLarge {
            width: width as u32,
            height: height as u32,
            max_pixels: MAX_SCAN_PIXELS,
        })?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(err)?;
    buf.truncate(info.buffer_size());
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(SealError::ImageDecode {
                format: "PNG",
                reason: "palette was not expanded".to_owned(),
            });
        }
    };
    let (width, height) = (info.width as usize, info.height as usize);
    let line = info.line_size;
    let mut data = Vec::with_capacity(width * height * 3);
    for row in buf.chunks_exact(line).take(height) {
        let pixels = row
            .get(..width * channels)
            .ok_or_else(|| SealError::ImageDecode {
                format: "PNG",
                reason: "row shorter than the image width".to_owned(),
            })?;
        for px in pixels.chunks_exact(channels) {
            // Transparent areas count as white paper.
            let (rgb, a) = match channels {
                1 => ([px[0]; 3], 255),
                2 => ([px[0]; 3], px[1]),
                3 => ([px[0], px[1], px[2]], 255),
                _ => ([px[0], px[1], px[2]], px[3]),
            };
            let a = u32::from(a);
            for c in rgb {
                data.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
    }
    if data.len() != width * height * 3 {
        return Err(SealError::ImageDecode {
            format: "PNG",
            reason: "truncated image data".to_owned(),
        });
    }
    Ok(Rgb {
        width,
        height,
        data,
    })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Rgb, SealError> {
    use zune_jpeg::JpegDecoder;
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;

    let err = |e: zune_jpeg::errors::DecodeErrors| SealError::ImageDecode {
        format: "JPEG",
        reason: e.to_string(),
    };
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(1 << 15)
        .set_max_height(1 << 15);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(err)?;
    let (width, height) = decoder.dimensions().ok_or_else(|| SealError::ImageDecode {
        format: "JPEG",
        reason: "no frame header".to_owned(),
    })?;
    too_large(width, height)?;
    let data = decoder.decode().map_err(err)?;
    let channels = match decoder.output_colorspace() {
        Some(cs) => cs.num_components(),
        None => 3,
    };
    if data.len() != width * height * channels {
        return Err(SealError::ImageDecode {
            format: "JPEG",
            reason: "unexpected output size".to_owned(),
        });
    }
    let data = match channels {
        3 => data,
        1 => data.iter().flat_map(|&v| [v, v, v]).collect(),
        n if n > 3 => data
            .chunks_exact(n)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        _ => {
            return Err(SealError::ImageDecode {
                format: "JPEG",
                reason: format!("unexpected {channels} colour components"),
            });
        }
    };
    Ok(Rgb {
        width,
        height,
        data,
    })
}

/// The mean colour of the brightest tenth of the pixels (by luma), each channel at least 1.
fn paper_colour(img: &Rgb) -> [f32; 3] {
    let luma =
        |p: &[u8]| (u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8;
    let mut hist = [0u64; 256];
    for p in img.data.chunks_exact(3) {
        hist[luma(p) as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let mut acc = 0;
    let mut threshold = 0;
    for l in (0..256).rev() {
        acc += hist[l];
        if acc * 10 >= total {
            threshold = l as u32;
            break;
        }
    }
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for p in img.data.chunks_exact(3) {
        if luma(p) >= threshold {
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    if n == 0.0 {
        return [255.0; 3];
    }
    sum.map(|s| ((s / n) as f32).max(1.0))
}

/// A pixel divided by the paper colour, each channel in 0..=1.
fn balance(px: &[u8], paper: [f32; 3]) -> [f32; 3] {
    [
        (f32::from(px[0]) / paper[0]).min(1.0),
        (f32::from(px[1]) / paper[1]).min(1.0),
        (f32::from(px[2]) / paper[2]).min(1.0),
    ]
}

fn ink_colour(img: &Rgb, alpha: &[u8], paper: [f32; 3], blob: &Blob) -> [u8; 3] {
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for y in blob.bbox.1..=blob.bbox.3 {
        for x in blob.bbox.0..=blob.bbox.2 {
            let i = y * img.width + x;
            if alpha[i] >= 240 {
                let c = balance(&img.data[i * 3..i * 3 + 3], paper);
                for k in 0..3 {
                    sum[k] += f64::from(c[k]);
                }
                n += 1.0;
            }
        }
    }
    if n == 0.0 {
        return crate::SEAL_RED;
    }
    sum.map(|s| ((s / n) * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// The chosen blob: grid cells belonging to it and the bounding box of its ink.
struct Blob {
    cell: usize,
    grid_w: usize,
    cells: Vec<bool>,
    bbox: (usize, usize, usize, usize),
    ink: u64,
}

impl Blob {
    fn contains(&self, x: usize, y: usize) -> bool {
        self.cells[(y / self.cell) * self.grid_w + x / self.cell]
    }
}

fn largest_blob(alpha: &[u8], w: usize, h: usize) -> Result<Blob, SealError> {
    let cell = w.max(h).div_ceil(256).max(1);
    let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
    let mut counts = vec![0u32; gw * gh];
    for y in 0..h {
        for x in 0..w {
            if alpha[y * w + x] >= 128 {
                counts[(y / cell) * gw + x / cell] += 1;
            }
        }
    }
    let on_threshold = ((cell * cell) as u32 / 50).max(1);
    let on: Vec<bool> = counts.iter().map(|&c| c >= on_threshold).collect();
    // Dilate by two cells so that the pieces of one seal join up.
    let r = 2isize;
    let mut grown = vec![false; gw * gh];
    for gy in 0..gh as isize {
        for gx in 0..gw as isize {
            if !on[gy as usize * gw + gx as usize] {
                continue;
            }
            for dy in -r..=r {
                for dx in -r..=r {
                    let (x, y) = (gx + dx, gy + dy);
                    if x >= 0 && y >= 0 && (x as usize) < gw && (y as usize) < gh {
                        grown[y as usize * gw + x as usize] = true;
                    }
                }
            }
        }
    }
    // Label 8-connected components; the one with the most ink is the seal, together with
    // every component lying inside its box (the star and the text inside a rim).
    let mut label = vec![0u32; gw * gh];
    // Per component: ink and cell box (x0, y0, x1, y1).
    let mut comps: Vec<(u64, (usize, usize, usize, usize))> = Vec::new();
    let mut stack = Vec::new();
    for start in 0..gw * gh {
        if !grown[start] || label[start] != 0 {
            continue;
        }
        comps.push((0, (usize::MAX, usize::MAX, 0, 0)));
        let id = comps.len() as u32;
        label[start] = id;
        stack.push(start);
        let mut ink = 0u64;
        let mut b = (usize::MAX, usize::MAX, 0, 0);
        while let Some(i) = stack.pop() {
            ink += u64::from(counts[i]);
            let (x, y) = (i % gw, i / gw);
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            let (x, y) = (x as isize, y as isize);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx >= 0 && ny >= 0 && (nx as usize) < gw && (ny as usize) < gh {
                        let j = ny as usize * gw + nx as usize;
                        if grown[j] && label[j] == 0 {
                            label[j] = id;
                            stack.push(j);
                        }
                    }
                }
            }
        }
        comps[id as usize - 1] = (ink, b);
    }
    let best = comps
        .iter()
        .enumerate()
        .max_by_key(|(_, (ink, _))| *ink)
        .filter(|(_, (ink, _))| *ink > 0)
        .map(|(i, &(_, b))| (i, b));
    let Some((best, outer)) = best else {
        return Err(SealError::NoSealFound(NoSealReason::NoCompactComponent {
            detail: "the red pixels are scattered".to_owned(),
        }));
    };
    let inside: Vec<bool> = comps
        .iter()
        .enumerate()
        .map(|(i, &(_, b))| {
            i == best || (b.0 >= outer.0 && b.1 >= outer.1 && b.2 <= outer.2 && b.3 <= outer.3)
        })
        .collect();
    let ink: u64 = comps
        .iter()
        .zip(&inside)
        .filter(|(_, keep)| **keep)
        .map(|((ink, _), _)| *ink)
        .sum();
    let cells: Vec<bool> = label
        .iter()
        .map(|&l| l != 0 && inside[l as usize - 1])
        .collect();
    let mut bbox = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if alpha[y * w + x] >= 64 && cells[(y / cell) * gw + x / cell] {
                bbox.0 = bbox.0.min(x);
                bbox.1 = bbox.1.min(y);
                bbox.2 = bbox.2.max(x);
                bbox.3 = bbox.3.max(y);
            }
        }
    }
    if bbox.0 > bbox.2 {
        return Err(SealError::NoSealFound(NoSealReason::NoCompactComponent {
            detail: "the red pixels are scattered".to_owned(),
        }));
    }
    Ok(Blob {
        cell,
        grid_w: gw,
        cells,
        bbox,
        ink,
    })
}

/// Resamples a one-channel plane: area averaging when shrinking, bilinear when enlarging.
pub(crate) fn resample(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    let wx = weights(sw, dw);
    let wy = weights(sh, dh);
    let mut tmp = vec![0f32; dw * sh];
    for y in 0..sh {
        let row = &src[y * sw..(y + 1) * sw];
        for (x, ws) in wx.iter().enumerate() {
            tmp[y * dw + x] = ws.iter().map(|&(i, k)| f32::from(row[i]) * k).sum();
        }
    }
    let mut out = vec![0u8; dw * dh];
    for (y, ws) in wy.iter().enumerate() {
        for x in 0..dw {
            let v: f32 = ws.iter().map(|&(i, k)| tmp[i * dw + x] * k).sum();
            out[y * dw + x] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// For each destination index, the source indices and weights (summing to 1).
fn weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|i| {
            if scale >= 1.0 {
                let (a, b) = (i as f32 * scale, (i as f32 + 1.0) * scale);
                let mut ws = Vec::new();
                let mut j = a.floor() as usize;
                while (j as f32) < b && j < src {
                    let overlap = (b.min(j as f32 + 1.0) - a.max(j as f32)).max(0.0);
                    if overlap > 0.0 {
                        ws.push((j, overlap / scale));
                    }
                    j += 1;
                }
                ws
            } else {
                let p = ((i as f32 + 0.5) * scale - 0.5).max(0.0);
                let j = (p.floor() as usize).min(src - 1);
                let f = p - j as f32;
                if j + 1 < src {
                    vec![(j, 1.0 - f), (j + 1, f)]
                } else {
                    vec![(j, 1.0)]
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_resampling_keeps_flat_planes_flat() {
        for (src, dst) in [(10, 3), (3, 10), (7, 7), (1000, 333), (5, 1), (1, 5)] {
            for ws in weights(src, dst) {
                let sum: f32 = ws.iter().map(|w| w.1).sum();
                assert!((sum - 1.0).abs() < 1e-4, "{src}->{dst}: {sum}");
                assert!(ws.iter().all(|w| w.0 < src));
            }
        }
        let flat = vec![200u8; 30 * 20];
        assert!(resample(&flat, 30, 20, 7, 5).iter().all(|&v| v == 200));
        assert!(resample(&flat, 30, 20, 90, 61).iter().all(|&v| v == 200));
        // Shrinking by two averages 2 × 2 blocks.
        let checker: Vec<u8> = (0..16)
            .map(|i| if (i % 4 + i / 4) % 2 == 0 { 255 } else { 0 })
            .collect();
        assert!(resample(&checker, 4, 4, 2, 2).iter().all(|&v| v == 128));
    }
}
