//! Scanned seals: synthetic photos made from rendered templates, extracted again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod common;

use bidkit_seal::{
    NoSealReason, RenderOptions, RoundSeal, ScanOptions, SealError, SealTemplate, extract_seal,
};
use common::{Decoded, font, polar};

/// A deterministic pseudo-random sequence in 0..1.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A photo of paper: off-white, noisy, lit by `light` (per-channel factor).
struct Photo {
    w: usize,
    h: usize,
    rgb: Vec<f32>,
}

impl Photo {
    fn paper(w: usize, h: usize, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for _ in 0..w * h {
            let n = (rng.next() - 0.5) * 16.0;
            rgb.extend_from_slice(&[238.0 + n, 233.0 + n, 218.0 + n]);
        }
        Self { w, h, rgb }
    }

    /// Multiplies ink of colour `ink` with coverage `alpha` (0..=255, `aw` wide) at (`x0`, `y0`).
    fn stamp(
        &mut self,
        alpha: &[u8],
        aw: usize,
        x0: usize,
        y0: usize,
        ink: [f32; 3],
        density: f32,
    ) {
        let ah = alpha.len() / aw;
        for y in 0..ah {
            for x in 0..aw {
                let a = f32::from(alpha[y * aw + x]) / 255.0 * density;
                let i = ((y0 + y) * self.w + x0 + x) * 3;
                for c in 0..3 {
                    self.rgb[i + c] *= 1.0 - a * (1.0 - ink[c] / 255.0);
                }
            }
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, colour: [f32; 3]) {
        for y in y0..y1 {
            for x in x0..x1 {
                let i = (y * self.w + x) * 3;
                self.rgb[i..i + 3].copy_from_slice(&colour);
            }
        }
    }

    fn light(&mut self, light: [f32; 3]) {
        for px in self.rgb.chunks_exact_mut(3) {
            for c in 0..3 {
                px[c] *= light[c];
            }
        }
    }

    /// A 3 × 3 box blur.
    fn blur(&mut self) {
        let src = self.rgb.clone();
        for y in 1..self.h - 1 {
            for x in 1..self.w - 1 {
                for c in 0..3 {
                    let mut s = 0.0;
                    for dy in 0..3 {
                        for dx in 0..3 {
                            s += src[((y + dy - 1) * self.w + x + dx - 1) * 3 + c];
                        }
                    }
                    self.rgb[(y * self.w + x) * 3 + c] = s / 9.0;
                }
            }
        }
    }

    fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.w as u32, self.h as u32);
        enc.set_color(png::ColorType::Rgb);
        let mut writer = enc.write_header().unwrap();
        let bytes: Vec<u8> = self
            .rgb
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect();
        writer.write_image_data(&bytes).unwrap();
        writer.finish().unwrap();
        out
    }
}

/// The alpha plane of a template rendered at `dpi`, and its width.
fn seal_alpha(dpi: f32) -> (Vec<u8>, usize) {
    let t: SealTemplate = RoundSeal::contract("上海示例建设工程有限公司")
        .with_code("3101150012345")
        .into();
    let image = t
        .render(
            font(),
            &RenderOptions {
                dpi,
                ..RenderOptions::default()
            },
        )
        .unwrap();
    let d = Decoded::new(&image);
    (d.rgba.chunks_exact(4).map(|p| p[3]).collect(), d.width)
}

/// Bounding box (x0, y0, x1, y1) of pixels with alpha ≥ 128.
fn ink_box(d: &Decoded) -> (usize, usize, usize, usize) {
    let mut b = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..d.height {
        for x in 0..d.width {
            if d.pixel(x, y)[3] >= 128 {
                b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            }
        }
    }
    b
}

/// Checks an extracted 42 mm round seal at 300 DPI: size, ink box, rim, star, corners, and
/// overlap with the template itself.
fn check_extracted(d: &Decoded, width_mm: f32) {
    let target = (42.0f32 * 300.0 / 25.4).round(); // 496 px of ink
    let (wmm, _) = d.phys_mm();
    assert!((wmm - width_mm).abs() < 0.05, "pHYs {wmm} vs {width_mm}");
    let (x0, y0, x1, y1) = ink_box(d);
    let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
    assert!(
        (bw - target).abs() <= 8.0 && (bh - target).abs() <= 8.0,
        "ink box {bw}×{bh}"
    );
    // A margin of about 3 % on each side.
    let m = 0.03 * target;
    for gap in [
        x0 as f32,
        y0 as f32,
        d.width as f32 - 1.0 - x1 as f32,
        d.height as f32 - 1.0 - y1 as f32,
    ] {
        assert!((gap - m).abs() <= 5.0, "margin {gap}, expected about {m}");
    }
    for (x, y) in [
        (0, 0),
        (d.width - 1, 0),
        (0, d.height - 1),
        (d.width - 1, d.height - 1),
    ] {
        assert_eq!(d.pixel(x, y)[3], 0);
    }
    // The rim: most points on the circle through its middle are ink.
    let (cx, cy) = ((x0 + x1) as f32 / 2.0 + 0.5, (y0 + y1) as f32 / 2.0 + 0.5);
    let rim_mid = target / 2.0 - 0.015 * target;
    let on_rim = (0..120)
        .filter(|i| {
            let a = (*i as f32 * 3.0).to_radians();
            d.alpha_at(cx + rim_mid * a.sin() - 0.5, cy - rim_mid * a.cos() - 0.5) >= 128
        })
        .count();
    assert!(on_rim >= 100, "only {on_rim} of 120 rim samples are ink");
    // The star at the centre.
    assert!(
        d.alpha_at(cx, cy) >= 200,
        "centre alpha {}",
        d.alpha_at(cx, cy)
    );
    // Nothing outside the rim.
    let outside = d.count_ink(64, |x, y| polar(x, y, cx, cy).0 > target / 2.0 + 4.0);
    assert_eq!(outside, 0, "ink outside the seal");
}

/// Overlap (intersection over union) of the extracted ink with the template at 300 DPI.
fn overlap_with_template(d: &Decoded) -> f32 {
    let (tpl, tw) = seal_alpha(300.0);
    let (x0, y0, _, _) = ink_box(d);
    let (mut inter, mut union) = (0usize, 0usize);
    for y in 0..tw {
        for x in 0..tw {
            let t = tpl[y * tw + x] >= 128;
            let (ex, ey) = (x0 + x, y0 + y);
            let e = ex < d.width && ey < d.height && d.pixel(ex, ey)[3] >= 128;
            inter += usize::from(t && e);
            union += usize::from(t || e);
        }
    }
    inter as f32 / union as f32
}

#[test]
fn seal_on_tinted_noisy_blurred_paper_is_extracted_in_place() {
    // The seal rendered at 150 DPI is 248 px across; stamp it at (150, 90) on 560 × 420 paper.
    let (alpha, aw) = seal_alpha(150.0);
    let mut photo = Photo::paper(560, 420, 1);
    photo.stamp(&alpha, aw, 150, 90, [200.0, 30.0, 45.0], 0.9);
    photo.light([1.0, 0.95, 0.82]); // warm light
    photo.blur();
    let options = ScanOptions {
        dpi: 300.0,
        ..ScanOptions::default()
    };
    let found = extract_seal(&photo.png(), &options).unwrap();
    let [bx, by, bw, bh] = found.source_box;
    assert!(
        bx.abs_diff(150) <= 2 && by.abs_diff(90) <= 2,
        "box at ({bx}, {by})"
    );
    assert!(
        bw.abs_diff(248) <= 3 && bh.abs_diff(248) <= 3,
        "box {bw}×{bh}"
    );
    let [r, g, b] = found.ink_color;
    assert!(
        r > 150 && g < 90 && b < 100,
        "ink colour {:?}",
        found.ink_color
    );
    let d = Decoded::new(&found.image);
    check_extracted(&d, found.image.width_mm);
    // The colour is uniform: the measured ink colour on every pixel.
    assert_eq!(&d.pixel(d.width / 2, d.height / 2)[..3], &found.ink_color);
    let iou = overlap_with_template(&d);
    assert!(iou > 0.7, "overlap with the template {iou}");
}

#[test]
fn dim_bluish_light_and_a_forced_colour() {
    let (alpha, aw) = seal_alpha(120.0);
    let mut photo = Photo::paper(400, 400, 2);
    // Printed black lines and blue handwriting near the seal must not count.
    for i in 0..8 {
        photo.rect(20, 30 + i * 45, 380, 34 + i * 45, [35.0, 35.0, 35.0]);
    }
    photo.rect(30, 350, 200, 356, [30.0, 50.0, 160.0]);
    photo.stamp(&alpha, aw, 90, 80, [190.0, 20.0, 60.0], 0.8);
    photo.light([0.55, 0.58, 0.66]); // dim, cold light
    photo.blur();
    let options = ScanOptions {
        dpi: 300.0,
        color: Some([0xE6, 0x00, 0x12]),
        ..ScanOptions::default()
    };
    let found = extract_seal(&photo.png(), &options).unwrap();
    assert_eq!(found.ink_color, [0xE6, 0x00, 0x12]);
    let [bx, by, bw, _] = found.source_box;
    assert!(
        bx.abs_diff(90) <= 2 && by.abs_diff(80) <= 2 && bw.abs_diff(aw as u32) <= 3,
        "{:?}",
        found.source_box
    );
    let d = Decoded::new(&found.image);
    check_extracted(&d, found.image.width_mm);
    assert!(overlap_with_template(&d) > 0.6);
}

#[test]
fn jpeg_photo_with_lines_across_the_seal() {
    // tests/data/seal-photo.jpg: the contract seal at 180 DPI (≈298 px), turned 4°, multiplied
    // onto paper with printed lines across it, blurred, under a light falloff, JPEG quality 82.
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/seal-photo.jpg"
    ))
    .unwrap();
    let found = extract_seal(
        &bytes,
        &ScanOptions {
            dpi: 300.0,
            ..ScanOptions::default()
        },
    )
    .unwrap();
    let [bx, by, bw, bh] = found.source_box;
    assert!(
        bx.abs_diff(181) <= 6 && by.abs_diff(91) <= 6,
        "{:?}",
        found.source_box
    );
    assert!(
        bw.abs_diff(298) <= 8 && bh.abs_diff(298) <= 8,
        "{:?}",
        found.source_box
    );
    let d = Decoded::new(&found.image);
    check_extracted(&d, found.image.width_mm);
}

#[test]
fn photos_without_a_seal_are_rejected() {
    // Paper, black text and blue ink: no red at all.
    let mut photo = Photo::paper(300, 200, 3);
    for i in 0..5 {
        photo.rect(10, 20 + i * 30, 290, 26 + i * 30, [30.0, 30.0, 30.0]);
    }
    photo.rect(50, 170, 250, 180, [20.0, 40.0, 170.0]);
    photo.light([1.0, 0.9, 0.75]);
    match extract_seal(&photo.png(), &ScanOptions::default()) {
        Err(SealError::NoSealFound(NoSealReason::TooFewRedPixels { found, needed })) => {
            assert!(found < needed);
        }
        other => panic!("expected TooFewRedPixels, got {other:?}"),
    }
    // Red specks sprinkled all over: red, but not a seal.
    let mut photo = Photo::paper(300, 200, 4);
    let mut rng = Rng(99);
    for _ in 0..1500 {
        let (x, y) = ((rng.next() * 299.0) as usize, (rng.next() * 199.0) as usize);
        photo.rect(x, y, x + 1, y + 1, [210.0, 20.0, 30.0]);
    }
    let err = extract_seal(&photo.png(), &ScanOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SealError::NoSealFound(NoSealReason::NoCompactComponent { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("no seal found"), "{err}");
    // A long red underline: compact it is not.
    let mut photo = Photo::paper(400, 200, 5);
    photo.rect(10, 100, 390, 106, [210.0, 20.0, 30.0]);
    let err = extract_seal(&photo.png(), &ScanOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SealError::NoSealFound(NoSealReason::NoCompactComponent { .. })
        ),
        "{err}"
    );
    // An orange-yellow blob is not seal red.
    let mut photo = Photo::paper(300, 300, 6);
    photo.rect(50, 50, 250, 250, [240.0, 180.0, 20.0]);
    assert!(matches!(
        extract_seal(&photo.png(), &ScanOptions::default()),
        Err(SealError::NoSealFound(_))
    ));
}

#[test]
fn bad_bytes_and_options() {
    assert!(matches!(
        extract_seal(b"GIF89a....", &ScanOptions::default()),
        Err(SealError::UnsupportedImageFormat)
    ));
    assert!(matches!(
        extract_seal(&[], &ScanOptions::default()),
        Err(SealError::UnsupportedImageFormat)
    ));
    let png = Photo::paper(50, 50, 7).png();
    let err = extract_seal(&png[..png.len() / 2], &ScanOptions::default()).unwrap_err();
    assert!(
        matches!(err, SealError::ImageDecode { format: "PNG", .. }),
        "{err}"
    );
    let err = extract_seal(
        &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 1, 2, 3],
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, SealError::ImageDecode { format: "JPEG", .. }),
        "{err}"
    );
    // A PNG header claiming 100 000 × 100 000 pixels is refused before decoding.
    let mut huge = Vec::new();
    huge.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(b"IHDR");
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    huge.extend_from_slice(&13u32.to_be_bytes());
    huge.extend_from_slice(&ihdr);
    huge.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let err = extract_seal(&huge, &ScanOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SealError::ImageTooLarge { .. } | SealError::ImageDecode { .. }
        ),
        "{err}"
    );
    // Asking for a picture too large to make.
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/seal-photo.jpg"
    ))
    .unwrap();
    let huge = ScanOptions {
        target_mm: 120.0,
        dpi: 1200.0,
        margin: 0.5,
        color: None,
    };
    assert!(matches!(
        extract_seal(&photo, &huge),
        Err(SealError::ImageTooLarge { .. })
    ));
    for (options, what) in [
        (
            ScanOptions {
                target_mm: 0.0,
                ..ScanOptions::default()
            },
            "target_mm",
        ),
        (
            ScanOptions {
                dpi: f32::INFINITY,
                ..ScanOptions::default()
            },
            "dpi",
        ),
        (
            ScanOptions {
                margin: -1.0,
                ..ScanOptions::default()
            },
            "margin",
        ),
    ] {
        match extract_seal(&png, &options) {
            Err(SealError::OutOfRange { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
