//! Page geometry: rectangles in PDF user space (points, 1/72 inch) and millimetres.

use serde::{Deserialize, Serialize};

/// Millimetres per PDF point (1 pt = 1/72 in = 25.4/72 mm).
pub const MM_PER_PT: f64 = 25.4 / 72.0;

/// Points for `mm` millimetres.
pub fn mm_to_pt(mm: f64) -> f64 {
    mm / MM_PER_PT
}

/// Millimetres for `pt` points.
pub fn pt_to_mm(pt: f64) -> f64 {
    pt * MM_PER_PT
}

/// A rectangle in PDF user space: lower-left `(x0, y0)`, upper-right `(x1, y1)`, points.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    /// Left.
    pub x0: f64,
    /// Bottom.
    pub y0: f64,
    /// Right.
    pub x1: f64,
    /// Top.
    pub y1: f64,
}

impl Rect {
    /// A rectangle from two corners in any order.
    pub fn new(xa: f64, ya: f64, xb: f64, yb: f64) -> Rect {
        Rect {
            x0: xa.min(xb),
            y0: ya.min(yb),
            x1: xa.max(xb),
            y1: ya.max(yb),
        }
    }

    /// Width in points.
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    /// Height in points.
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// The centre point.
    pub fn centre(&self) -> (f64, f64) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
}
