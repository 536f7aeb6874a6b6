//! The 验证 (verify) screen's use case: the verifier's report of a PDF (the same as
//! `bidkit verify`) together with its pages rendered by pdfium and, on each page, where
//! every signature's stamps sit, as fractions of the page as displayed.
//!
//! Trust: the emulated roots of the Bidkit home (`HOME/ca/{gm,nist}/root.pem` and
//! their CRLs), as `bidkit verify` without `--trust`. A home without any root trusts
//! nothing: every signature then reports *untrusted* (its integrity is still judged).

use std::path::Path;

use bidkit_pdf::verify::{TrustChoice, VerificationReport, VerifyOptions, verify_file};
use bidkit_pdf::{Limits, PdfFile, Rect};
use bidkit_pki::TrustStore;

use crate::AppError;

/// How much of the document to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewOptions {
    /// Width of each rendered page, pixels (1 to
    /// [`bidkit_pdf::text::MAX_RENDER_WIDTH_PX`]).
    pub page_width_px: u32,
    /// Most pages rendered (the first ones); the report always covers the whole file.
    pub max_pages: usize,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            page_width_px: 800,
            max_pages: 20,
        }
    }
}

/// The verify screen's content for one PDF.
#[derive(Clone, Debug)]
pub struct VerifyView {
    /// The verifier's report (what `bidkit verify --json` prints).
    pub report: VerificationReport,
    /// Whether the home held at least one emulated root to validate chains against.
    pub has_trust_roots: bool,
    /// Pages in the document (0 when it could not be counted).
    pub page_count: usize,
    /// The first [`ViewOptions::max_pages`] pages, rendered, with the stamps on them.
    pub pages: Vec<PageView>,
    /// Why the pages could not be rendered (pdfium missing, damaged page tree …); the
    /// report is still complete.
    pub render_error: Option<String>,
}

/// One rendered page.
#[derive(Clone, Debug)]
pub struct PageView {
    /// 1-based page number.
    pub page: usize,
    /// The page as a PNG, [`ViewOptions::page_width_px`] wide.
    pub png: Vec<u8>,
    /// The stamps drawn on this page.
    pub stamps: Vec<StampBox>,
}

/// Where a stamp sits on its page as displayed (rotation applied), in fractions of the
/// displayed width and height measured from the top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StampBox {
    /// Index of the signature in [`VerificationReport::signatures`].
    pub signature: usize,
    /// Index of the stamp in that signature's `stamps`.
    pub stamp: usize,
    /// Left edge, 0..1 of the displayed width.
    pub left: f64,
    /// Top edge, 0..1 of the displayed height.
    pub top: f64,
    /// Width, fraction of the displayed width.
    pub width: f64,
    /// Height, fraction of the displayed height.
    pub height: f64,
}

/// Verifies `pdf` against the roots of `home` and renders its first pages with the
/// stamps located on them. Blocking (file reads, pdfium): call it off the UI thread.
///
/// Fails only when the file cannot be verified at all (missing, not a PDF, over the
/// limits); page rendering problems land in [`VerifyView::render_error`].
pub fn verify_for_view(
    home: &Path,
    pdf: &Path,
    options: &ViewOptions,
) -> Result<VerifyView, AppError> {
    let has_trust_roots = ["gm", "nist"]
        .iter()
        .any(|suite| home.join("ca").join(suite).join("root.pem").is_file());
    let trust = if has_trust_roots {
        TrustChoice::from_home_and_pems(Some(home), &[])?
    } else {
        TrustChoice::Roots(TrustStore::new())
    };
    let report = verify_file(pdf, &VerifyOptions::new(trust))?;
    let (page_count, pages, render_error) = match render_pages(pdf, &report, options) {
        Ok((count, pages)) => (count, pages, None),
        Err(e) => (0, Vec::new(), Some(e.to_string())),
    };
    Ok(VerifyView {
        report,
        has_trust_roots,
        page_count,
        pages,
        render_error,
    })
}

fn render_pages(
    pdf: &Path,
    report: &VerificationReport,
    options: &ViewOptions,
) -> Result<(usize, Vec<PageView>), AppError> {
    let file = PdfFile::open(pdf, Limits::DEFAULT)?;
    let infos = file.pages()?;
    let mut pages = Vec::new();
    for info in infos.iter().take(options.max_pages) {
        let png = bidkit_pdf::text::render_page_png(pdf, info.index, options.page_width_px)?;
        let page = info.index + 1;
        let mut stamps = Vec::new();
        for (si, sig) in report.signatures.iter().enumerate() {
            for (ti, stamp) in sig.stamps.iter().enumerate() {
                if stamp.page != Some(page) {
                    continue;
                }
                let Some(rect) = stamp.rect_pt else { continue };
                if let Some(b) = displayed_box(rect, info.crop_box, info.rotate) {
                    stamps.push(StampBox {
                        signature: si,
                        stamp: ti,
                        ..b
                    });
                }
            }
        }
        pages.push(PageView { page, png, stamps });
    }
    Ok((infos.len(), pages))
}

/// Where `rect` (user space of the unrotated page, points) appears on the page as
/// displayed: the crop box `crop` turned clockwise by `rotate` degrees (0, 90, 180,
/// 270; anything else counts as 0), as fractions from the top-left. `None` for an
/// empty crop box. The box is clipped to the page.
pub fn displayed_box(rect: Rect, crop: Rect, rotate: i32) -> Option<StampBox> {
    let (cw, ch) = (crop.width(), crop.height());
    if !(cw > 0.0 && ch > 0.0) {
        return None;
    }
    // (u, v): fractions across and down the displayed page.
    let map = |x: f64, y: f64| -> (f64, f64) {
        let fx = (x - crop.x0) / cw; // 0 at the left edge of the unrotated page
        let fy = (crop.y1 - y) / ch; // 0 at its top edge
        match rotate.rem_euclid(360) {
            90 => (1.0 - fy, fx),
            180 => (1.0 - fx, 1.0 - fy),
            270 => (fy, 1.0 - fx),
            _ => (fx, fy),
        }
    };
    let (ua, va) = map(rect.x0, rect.y0);
    let (ub, vb) = map(rect.x1, rect.y1);
    let clip = |v: f64| v.clamp(0.0, 1.0);
    let (left, right) = (clip(ua.min(ub)), clip(ua.max(ub)));
    let (top, bottom) = (clip(va.min(vb)), clip(va.max(vb)));
    Some(StampBox {
        signature: 0,
        stamp: 0,
        left,
        top,
        width: right - left,
        height: bottom - top,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn unrotated_box_is_measured_from_the_top_left() {
        let crop = Rect::new(0.0, 0.0, 200.0, 100.0);
        let b = displayed_box(Rect::new(20.0, 10.0, 60.0, 30.0), crop, 0).unwrap();
        assert!(close(b.left, 0.1) && close(b.width, 0.2), "{b:?}");
        assert!(close(b.top, 0.7) && close(b.height, 0.2), "{b:?}");
    }

    #[test]
    fn rotations_turn_the_box_with_the_page() {
        let crop = Rect::new(0.0, 0.0, 200.0, 100.0);
        let r = Rect::new(20.0, 10.0, 60.0, 30.0);
        // 90° clockwise: the unrotated top edge becomes the right edge.
        let b = displayed_box(r, crop, 90).unwrap();
        assert!(close(b.left, 0.1) && close(b.width, 0.2), "{b:?}");
        assert!(close(b.top, 0.1) && close(b.height, 0.2), "{b:?}");
        let b = displayed_box(r, crop, 180).unwrap();
        assert!(close(b.left, 0.7) && close(b.top, 0.1), "{b:?}");
        let b = displayed_box(r, crop, 270).unwrap();
        assert!(close(b.left, 0.7) && close(b.top, 0.7), "{b:?}");
    }

    #[test]
    fn offset_crop_box_and_clipping() {
        let crop = Rect::new(100.0, 100.0, 300.0, 200.0);
        let b = displayed_box(Rect::new(50.0, 150.0, 150.0, 250.0), crop, 0).unwrap();
        assert!(close(b.left, 0.0) && close(b.width, 0.25), "{b:?}");
        assert!(close(b.top, 0.0) && close(b.height, 0.5), "{b:?}");
        assert!(displayed_box(b_rect(), Rect::new(0.0, 0.0, 0.0, 10.0), 0).is_none());
    }

    fn b_rect() -> Rect {
        Rect::new(0.0, 0.0, 1.0, 1.0)
    }

    #[test]
    fn a_missing_file_is_a_pdf_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = verify_for_view(
            dir.path(),
            &dir.path().join("nope.pdf"),
            &ViewOptions::default(),
        )
        .unwrap_err();
        assert!(!err.code().is_empty());
        assert!(err.to_string().contains("nope.pdf"), "{err}");
    }
}
