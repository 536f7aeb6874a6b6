#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Keyword positions, page count and rendering through pdfium, on generated documents.

mod support;

use bidkit_pdf::generate::{DocumentSpec, KeywordLine, a4_document_with_keywords, write_document};
use bidkit_pdf::text::{find_text, page_count, render_page_png};
use bidkit_pdf::{PdfError, Rect};
use support::Oracle;

const KEYWORD: &str = "投标人（盖章）";

fn near(a: Rect, b: Rect) -> bool {
    (a.x0 - b.x0).abs() <= 2.0
        && (a.y0 - b.y0).abs() <= 2.0
        && (a.x1 - b.x1).abs() <= 2.0
        && (a.y1 - b.y1).abs() <= 2.0
}

#[test]
fn finds_every_keyword_where_it_was_drawn_in_reading_order() {
    if support::skip_without(&[Oracle::Pdfium]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kw.pdf");
    let doc = a4_document_with_keywords(&path, 5, &[2, 4, 4], KEYWORD).unwrap();
    let hits = find_text(&path, KEYWORD).unwrap();
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert_eq!(
        hits.iter().map(|h| h.page_index).collect::<Vec<_>>(),
        vec![1, 3, 3]
    );
    for (hit, drawn) in hits.iter().zip(&doc.keywords) {
        assert_eq!(hit.page_index, drawn.page_index());
        assert!(near(hit.rect, drawn.rect), "{hit:?} vs {drawn:?}");
        assert_eq!(hit.text, KEYWORD);
    }
    // Top to bottom on page 4.
    assert!(hits[1].rect.y1 > hits[2].rect.y1);
    // Half-width parentheses and spaces in the needle still match.
    assert_eq!(find_text(&path, "投标人 (盖章)").unwrap().len(), 3);
    assert!(find_text(&path, "不存在的关键字").unwrap().is_empty());
    assert!(matches!(
        find_text(&path, "  ").unwrap_err(),
        PdfError::InvalidOption { .. }
    ));
}

#[test]
fn rotated_pages_report_unrotated_user_space() {
    if support::skip_without(&[Oracle::Pdfium]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.pdf");
    let mut spec = DocumentSpec::a4(2);
    spec.rotations = vec![(2, 90)];
    for page in 1..=2 {
        spec.keywords.push(KeywordLine {
            page,
            x: 100.0,
            y: 300.0,
            font_size: 20.0,
            text: KEYWORD.into(),
        });
    }
    let doc = write_document(&spec, &path).unwrap();
    let hits = find_text(&path, KEYWORD).unwrap();
    assert_eq!(hits.len(), 2);
    // Documented behaviour: the same box on the /Rotate 90 page as on the upright one.
    for (hit, drawn) in hits.iter().zip(&doc.keywords) {
        assert!(near(hit.rect, drawn.rect), "{hit:?} vs {drawn:?}");
    }
}

#[test]
fn page_count_and_png_preview() {
    if support::skip_without(&[Oracle::Pdfium]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.pdf");
    a4_document_with_keywords(&path, 3, &[1], KEYWORD).unwrap();
    assert_eq!(page_count(&path).unwrap(), 3);
    let png = render_page_png(&path, 0, 300).unwrap();
    let raster = support::decode_png_rgb(&png);
    assert_eq!(raster.width, 300);
    assert!((raster.height as i64 - 424).abs() <= 1, "{}", raster.height);
    // Text is drawn: some dark pixels.
    assert!(raster.rgb.chunks(3).any(|p| p[0] < 100));
    assert!(matches!(
        render_page_png(&path, 3, 300).unwrap_err().root(),
        PdfError::PageOutOfRange { page: 4, pages: 3 }
    ));
    assert!(matches!(
        render_page_png(&path, 0, 0).unwrap_err(),
        PdfError::InvalidOption { .. }
    ));
    let err = page_count(&dir.path().join("missing.pdf")).unwrap_err();
    assert!(err.to_string().contains("missing.pdf"), "{err}");
}
