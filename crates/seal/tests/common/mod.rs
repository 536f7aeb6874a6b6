//! Helpers shared by the integration tests: the font, PNG decoding, pixel sampling.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use bidkit_seal::{SealFont, SealImage};

/// The seal font, loaded once per test binary (fonts-noto-cjk must be installed; scripts/setup
/// does it).
pub fn font() -> &'static SealFont {
    static FONT: OnceLock<SealFont> = OnceLock::new();
    FONT.get_or_init(|| SealFont::discover(None).expect("a CJK font (install fonts-noto-cjk)"))
}

/// A decoded RGBA picture with its pHYs chunk.
pub struct Decoded {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
    /// Pixels per metre (x, y), and whether the unit is the metre.
    pub phys: Option<(u32, u32, bool)>,
}

impl Decoded {
    pub fn new(image: &SealImage) -> Self {
        let decoder = png::Decoder::new(std::io::Cursor::new(&image.png));
        let mut reader = decoder.read_info().unwrap();
        let phys = reader
            .info()
            .pixel_dims
            .map(|d| (d.xppu, d.yppu, d.unit == png::Unit::Meter));
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        assert_eq!(info.width, image.width_px);
        assert_eq!(info.height, image.height_px);
        Self {
            width: info.width as usize,
            height: info.height as usize,
            rgba: buf,
            phys,
        }
    }

    pub fn pixel(&self, x: usize, y: usize) -> [u8; 4] {
        let i = (y * self.width + x) * 4;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// Alpha at a point given in pixels (rounded, clamped to the picture).
    pub fn alpha_at(&self, x: f32, y: f32) -> u8 {
        let x = (x.round().max(0.0) as usize).min(self.width - 1);
        let y = (y.round().max(0.0) as usize).min(self.height - 1);
        self.pixel(x, y)[3]
    }

    /// Physical size from the pHYs chunk, in millimetres.
    pub fn phys_mm(&self) -> (f32, f32) {
        let (xppu, yppu, metre) = self.phys.expect("pHYs chunk");
        assert!(metre, "pHYs unit must be the metre");
        (
            self.width as f32 / xppu as f32 * 1000.0,
            self.height as f32 / yppu as f32 * 1000.0,
        )
    }

    /// Counts pixels with alpha ≥ `min_alpha` for which `pred(x, y)` holds.
    pub fn count_ink(&self, min_alpha: u8, pred: impl Fn(usize, usize) -> bool) -> usize {
        let mut n = 0;
        for y in 0..self.height {
            for x in 0..self.width {
                if self.rgba[(y * self.width + x) * 4 + 3] >= min_alpha && pred(x, y) {
                    n += 1;
                }
            }
        }
        n
    }

    /// Counts pixels for which `pred(x, y)` holds.
    pub fn count(&self, pred: impl Fn(usize, usize) -> bool) -> usize {
        self.count_ink(0, pred)
    }
}

/// Seal red within a tolerance: strong red, little green and blue.
pub fn is_red(p: [u8; 4]) -> bool {
    p[0] >= 180 && p[1] <= 60 && p[2] <= 80
}

/// Polar coordinates of a pixel centre around (cx, cy): radius and angle in degrees measured
/// clockwise from the top (−180..180).
pub fn polar(x: usize, y: usize, cx: f32, cy: f32) -> (f32, f32) {
    let dx = x as f32 + 0.5 - cx;
    let dy = y as f32 + 0.5 - cy;
    ((dx * dx + dy * dy).sqrt(), dx.atan2(-dy).to_degrees())
}
