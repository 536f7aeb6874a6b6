//! Handwritten signatures from strokes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bidkit_seal::{
    INK_BLACK, INK_DARK_BLUE, SealError, SignatureOptions, Stroke, StrokePoint, render_signature,
};
use common::Decoded;

/// Vertical ink thickness (pixels with alpha ≥ 128) in column `x`.
fn thickness(d: &Decoded, x: usize) -> usize {
    (0..d.height).filter(|&y| d.pixel(x, y)[3] >= 128).count()
}

#[test]
fn width_follows_pressure_and_the_picture_is_cropped_to_the_ink() {
    // A straight 40 mm stroke from (10, 20) to (50, 20) with pressure rising from 0 to 1.
    let points: Vec<(f32, f32, f32)> = (0..=40)
        .map(|i| (10.0 + i as f32, 20.0, i as f32 / 40.0))
        .collect();
    let options = SignatureOptions::default();
    let image = render_signature(&[Stroke::from_points(&points)], &options).unwrap();
    // Ink 40 mm + the end caps (0.35/2 and 1.1/2), plus 2 mm margins.
    let w_mm = 40.0 + 0.175 + 0.55 + 4.0;
    assert!((image.width_mm - w_mm).abs() < 0.01, "{}", image.width_mm);
    assert!(
        (image.height_mm - (1.1 + 4.0)).abs() < 0.05,
        "{}",
        image.height_mm
    );
    let d = Decoded::new(&image);
    let (pw, _) = d.phys_mm();
    assert!((pw - image.width_mm).abs() < 0.02);
    let ppm = image.width_px as f32 / image.width_mm;
    let col = |mm_from_start: f32| ((2.0 + 0.175 + mm_from_start) * ppm) as usize;
    let thin = thickness(&d, col(4.0)); // pressure 0.1 → 0.425 mm
    let thick = thickness(&d, col(36.0)); // pressure 0.9 → 1.025 mm
    assert!((thin as f32 / ppm - 0.425).abs() < 0.1, "thin {thin} px");
    assert!((thick as f32 / ppm - 1.025).abs() < 0.1, "thick {thick} px");
    // Black ink; transparent margin and corners.
    let mid = d.pixel(col(20.0), d.height / 2);
    assert_eq!(mid, [INK_BLACK[0], INK_BLACK[1], INK_BLACK[2], 255]);
    let margin = (1.5 * ppm) as usize;
    let in_margin = d.count_ink(1, |x, y| {
        x < margin || y < margin || x >= d.width - margin || y >= d.height - margin
    });
    assert_eq!(in_margin, 0);
}

#[test]
fn curved_strokes_are_smooth_and_dots_are_round() {
    // A circle of radius 10 mm sampled every 30° (going round once and a bit, so that every
    // segment has neighbours on both sides), and a dot.
    let circle: Vec<(f32, f32, f32)> = (-1..=13)
        .map(|i| {
            let a = (i as f32 * 30.0).to_radians();
            (10.0 + 10.0 * a.cos(), 10.0 + 10.0 * a.sin(), 0.5)
        })
        .collect();
    let dot = Stroke {
        points: vec![StrokePoint {
            x: 25.0,
            y: 10.0,
            pressure: 1.0,
        }],
    };
    let options = SignatureOptions {
        color: INK_DARK_BLUE,
        margin_mm: 1.0,
        min_width_mm: 0.2,
        max_width_mm: 0.3,
        ..SignatureOptions::default()
    };
    let image = render_signature(
        &[Stroke::from_points(&circle), dot, Stroke::default()],
        &options,
    )
    .unwrap();
    let d = Decoded::new(&image);
    let ppm = image.width_px as f32 / image.width_mm;
    // Origin of the picture in stroke coordinates: the circle's left edge minus half the width
    // and the margin.
    let half = (0.2 + 0.1 * 0.5) / 2.0;
    let (ox, oy) = (0.0 - half - 1.0, 0.0 - half - 1.0);
    let at = |x: f32, y: f32| d.alpha_at((x - ox) * ppm, (y - oy) * ppm);
    // Points on the true circle between the samples are ink: the spline is smooth (a polygon
    // through 12 points would miss them by 0.34 mm, more than the 0.125 mm half-width).
    for i in 0..24 {
        let a = (i as f32 * 15.0 + 7.5).to_radians();
        let alpha = at(10.0 + 10.0 * a.cos(), 10.0 + 10.0 * a.sin());
        assert!(
            alpha >= 128,
            "circle at {}°: alpha {alpha}",
            i as f32 * 15.0 + 7.5
        );
    }
    assert_eq!(at(10.0, 10.0), 0, "the inside of the circle is empty");
    assert_eq!(at(25.0, 10.0), 255, "the dot");
    assert_eq!(at(25.0, 10.0 + 0.3), 0, "the dot's radius is 0.15 mm");
    let p = d.pixel(((25.0 - ox) * ppm) as usize, ((10.0 - oy) * ppm) as usize);
    assert_eq!(&p[..3], &INK_DARK_BLUE);
}

#[test]
fn bad_strokes_are_refused() {
    assert!(matches!(
        render_signature(&[], &SignatureOptions::default()),
        Err(SealError::EmptySignature)
    ));
    assert!(matches!(
        render_signature(&[Stroke::default()], &SignatureOptions::default()),
        Err(SealError::EmptySignature)
    ));
    let strokes = [
        Stroke::from_points(&[(0.0, 0.0, 0.5), (1.0, 1.0, 0.5)]),
        Stroke::from_points(&[(0.0, 0.0, 0.5), (f32::NAN, 1.0, 0.5)]),
    ];
    match render_signature(&strokes, &SignatureOptions::default()) {
        Err(SealError::InvalidStroke {
            stroke: 1,
            point: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let strokes = [Stroke::from_points(&[(0.0, 0.0, f32::INFINITY)])];
    assert!(matches!(
        render_signature(&strokes, &SignatureOptions::default()),
        Err(SealError::InvalidStroke {
            stroke: 0,
            point: 0,
            ..
        })
    ));
    // Too large to be a signature.
    let strokes = [Stroke::from_points(&[(0.0, 0.0, 0.5), (1000.0, 0.0, 0.5)])];
    assert!(matches!(
        render_signature(&strokes, &SignatureOptions::default()),
        Err(SealError::InvalidStroke { .. })
    ));
    // A picture too large to make: 250 mm square at 1200 DPI.
    let strokes = [Stroke::from_points(&[(0.0, 0.0, 0.5), (250.0, 250.0, 0.5)])];
    let options = SignatureOptions {
        dpi: 1200.0,
        ..SignatureOptions::default()
    };
    assert!(matches!(
        render_signature(&strokes, &options),
        Err(SealError::ImageTooLarge { .. })
    ));
    // A very long scribble (100 000 points) is drawn in bounded time.
    let scribble: Vec<(f32, f32, f32)> = (0..100_000)
        .map(|i| {
            let t = i as f32 * 0.01;
            (
                50.0 + 40.0 * (t * 1.3).sin(),
                30.0 + 25.0 * (t * 0.7).cos(),
                0.5,
            )
        })
        .collect();
    render_signature(
        &[Stroke::from_points(&scribble)],
        &SignatureOptions {
            dpi: 300.0,
            ..SignatureOptions::default()
        },
    )
    .unwrap();
    let too_many =
        vec![Stroke::from_points(&[(1.0, 1.0, 0.5)]); bidkit_seal::MAX_SIGNATURE_POINTS + 1];
    assert!(matches!(
        render_signature(&too_many, &SignatureOptions::default()),
        Err(SealError::InvalidStroke { .. })
    ));
    // Pressure out of 0..1 is clamped, not refused.
    let strokes = [Stroke::from_points(&[(0.0, 0.0, -3.0), (5.0, 0.0, 7.0)])];
    render_signature(&strokes, &SignatureOptions::default()).unwrap();
    let options = SignatureOptions {
        min_width_mm: 2.0,
        max_width_mm: 1.0,
        ..SignatureOptions::default()
    };
    assert!(matches!(
        render_signature(&strokes, &options),
        Err(SealError::OutOfRange {
            what: "max_width_mm",
            ..
        })
    ));
    // Strokes deserialise from JSON as the phone sends them.
    let json =
        r#"[{"points":[{"x":1.0,"y":2.0,"pressure":0.4},{"x":3.0,"y":2.5,"pressure":0.6}]}]"#;
    let strokes: Vec<Stroke> = serde_json::from_str(json).unwrap();
    assert_eq!(
        strokes[0].points[1],
        StrokePoint {
            x: 3.0,
            y: 2.5,
            pressure: 0.6
        }
    );
    render_signature(&strokes, &SignatureOptions::default()).unwrap();
}
