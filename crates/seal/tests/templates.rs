//! Rendering the templates and checking their pixels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bidkit_seal::{
    NameSeal, OvalSeal, RenderOptions, RoundSeal, SEAL_RED, SealError, SealImage, SealKind,
    SealTemplate, SquareSeal,
};
use common::{Decoded, font, is_red, polar};

fn render(t: impl Into<SealTemplate>) -> (SealImage, Decoded) {
    let image = t.into().render(font(), &RenderOptions::default()).unwrap();
    let decoded = Decoded::new(&image);
    (image, decoded)
}

/// Pixels per millimetre of a rendered picture.
fn ppm(image: &SealImage) -> f32 {
    image.width_px as f32 / image.width_mm
}

/// Checks the parts every round seal has: size, pHYs, rim, star, transparent corners, no ink
/// outside the rim, organisation text in the upper band.
fn check_round(image: &SealImage, d: &Decoded, diameter: f32) {
    let expected_px = (diameter * 600.0 / 25.4).round() as u32;
    assert_eq!(
        (image.width_px, image.height_px),
        (expected_px, expected_px)
    );
    assert_eq!((image.width_mm, image.height_mm), (diameter, diameter));
    let (wmm, hmm) = d.phys_mm();
    assert!(
        (wmm - diameter).abs() < 0.01 && (hmm - diameter).abs() < 0.01,
        "pHYs says {wmm}×{hmm} mm"
    );
    assert!((image.dpi() - 600.0).abs() < 1.0);

    let s = ppm(image);
    let c = image.width_px as f32 / 2.0;
    let r = diameter / 2.0;
    let rim = 0.03 * diameter;
    // The rim is solid red all round.
    let mid = (r - 0.01 - rim / 2.0) * s;
    for i in 0..72 {
        let a = (i as f32 * 5.0).to_radians();
        let (x, y) = (c + mid * a.sin(), c - mid * a.cos());
        let p = d.pixel(x as usize, y as usize);
        assert!(p[3] >= 250 && is_red(p), "rim at {}°: {p:?}", i * 5);
    }
    // Nothing outside the rim; the corners are transparent.
    let outside = d.count_ink(1, |x, y| polar(x, y, c, c).0 > r * s + 1.0);
    assert_eq!(outside, 0, "ink outside the rim");
    for (x, y) in [
        (0, 0),
        (d.width - 1, 0),
        (0, d.height - 1),
        (d.width - 1, d.height - 1),
    ] {
        assert_eq!(d.pixel(x, y)[3], 0, "corner ({x}, {y})");
    }
    assert_eq!(d.count_ink(1, |x, y| x < 40 && y < 40), 0);
    // Organisation text: plenty of ink in the upper band, clear of the rim.
    let band_out = (r - rim - 0.02 * diameter) * s;
    let band_in = band_out - 0.155 * diameter * s;
    let in_band = |x, y| {
        let (rr, a) = polar(x, y, c, c);
        rr > band_in && rr < band_out - 2.0 && a.abs() < 100.0
    };
    let ink = d.count_ink(128, in_band);
    let area = d.count(in_band);
    assert!(
        ink * 100 > area * 15,
        "upper band has {ink} ink pixels of {area}"
    );
    // The text does not touch the rim: a thin ring just inside it is clear.
    let gap = d.count_ink(128, |x, y| {
        let rr = polar(x, y, c, c).0;
        rr > (r - rim - 0.012 * diameter) * s && rr < (r - rim - 0.006 * diameter) * s
    });
    assert_eq!(gap, 0, "text touches the rim");
}

/// The star: solid at the centre and along the top point, empty between two points.
fn check_star(image: &SealImage, d: &Decoded, diameter: f32) {
    let s = ppm(image);
    let c = image.width_px as f32 / 2.0;
    let star_r = 0.165 * diameter * s;
    for (x, y) in [(c, c), (c, c - 0.8 * star_r), (c, c - 0.3 * star_r)] {
        let p = d.pixel(x as usize, y as usize);
        assert!(p[3] == 255 && is_red(p), "star at ({x}, {y}): {p:?}");
    }
    // Between the top point and the next one (36° on), near the outer radius, is empty.
    let a = 36f32.to_radians();
    let (x, y) = (c + 0.9 * star_r * a.sin(), c - 0.9 * star_r * a.cos());
    assert_eq!(d.alpha_at(x, y), 0, "between two star points");
    // A clear ring between the star and the text in the upper half.
    let clear = d.count_ink(64, |x, y| {
        let (rr, ang) = polar(x, y, c, c);
        rr > star_r + 0.5 * s
            && rr < (0.5 - 0.03 - 0.02 - 0.155) * diameter * s - 0.3 * s
            && ang.abs() < 90.0
    });
    assert_eq!(clear, 0, "ink between the star and the organisation text");
}

#[test]
fn official_seal_has_rim_star_text_and_true_size() {
    let (image, d) = render(RoundSeal::official("北京某某科技有限公司"));
    check_round(&image, &d, 42.0);
    check_star(&image, &d, 42.0);
    // No seal name and no code: the lower part inside the star's reach is empty below it and
    // the bottom of the band is empty.
    let s = ppm(&image);
    let c = image.width_px as f32 / 2.0;
    let bottom = d.count_ink(1, |x, y| {
        let (rr, a) = polar(x, y, c, c);
        rr > 8.0 * s && rr < 19.5 * s && a.abs() > 150.0
    });
    assert_eq!(bottom, 0);
    // The ink is seal red.
    let p = d.pixel(c as usize, c as usize);
    assert_eq!([p[0], p[1], p[2]], SEAL_RED);
}

#[test]
fn contract_seal_has_seal_name_under_the_star_and_code_along_the_bottom() {
    let seal = RoundSeal::contract("上海示例建设工程有限公司").with_code("3101150012345");
    assert_eq!(SealTemplate::from(seal.clone()).kind(), SealKind::Contract);
    let (image, d) = render(seal);
    check_round(&image, &d, 42.0);
    check_star(&image, &d, 42.0);
    let s = ppm(&image);
    let c = image.width_px as f32 / 2.0;
    // 合同专用章: a horizontal line of text centred 0.25 d below the centre.
    let line_y = c + 0.25 * 42.0 * s;
    let half_h = 0.05 * 42.0 * s;
    let line = d.count_ink(128, |x, y| {
        (y as f32 - line_y).abs() < half_h && (x as f32 - c).abs() < 0.3 * 42.0 * s
    });
    assert!(line > 2000, "seal name has {line} ink pixels");
    // It spans left and right of the centre about equally.
    let left = d.count_ink(128, |x, y| {
        (y as f32 - line_y).abs() < half_h && (x as f32) < c && (x as f32) > c - 0.3 * 42.0 * s
    });
    let right = line - left;
    assert!(
        left * 10 > right * 7 && right * 10 > left * 7,
        "left {left}, right {right}"
    );
    // The code: ink in the bottom of the band.
    let code = d.count_ink(128, |x, y| {
        let (rr, a) = polar(x, y, c, c);
        rr > 15.0 * s && rr < 19.5 * s && a.abs() > 150.0
    });
    assert!(code > 1000, "code has {code} ink pixels");
}

#[test]
fn finance_seals_round_oval_and_square() {
    let (image, d) = render(RoundSeal::finance("杭州某某贸易有限公司"));
    check_round(&image, &d, 38.0);
    check_star(&image, &d, 38.0);
    assert_eq!(
        SealTemplate::from(RoundSeal::finance("x")).kind(),
        SealKind::Finance
    );

    // Oval 40 × 30 mm.
    let (image, d) = render(OvalSeal::finance("广州某某物流有限公司").with_code("4401060054321"));
    assert_eq!((image.width_mm, image.height_mm), (40.0, 30.0));
    assert_eq!((image.width_px, image.height_px), (945, 709));
    let (wmm, hmm) = d.phys_mm();
    assert!(
        (wmm - 40.0).abs() < 0.01 && (hmm - 30.0).abs() < 0.02,
        "{wmm}×{hmm}"
    );
    let s = ppm(&image);
    let (cx, cy) = (20.0 * s, 15.0 * s);
    let rim = 0.033 * 30.0;
    let (a, b) = ((20.0 - 0.01 - rim / 2.0) * s, (15.0 - 0.01 - rim / 2.0) * s);
    for i in 0..72 {
        let t = (i as f32 * 5.0).to_radians();
        let p = d.pixel((cx + a * t.cos()) as usize, (cy + b * t.sin()) as usize);
        assert!(p[3] >= 200 && is_red(p), "oval rim at {}°: {p:?}", i * 5);
    }
    let outside = d.count_ink(1, |x, y| {
        let (dx, dy) = (
            (x as f32 + 0.5 - cx) / (20.0 * s),
            (y as f32 + 0.5 - cy) / (15.0 * s),
        );
        dx * dx + dy * dy > 1.0 + 2.0 / (15.0 * s)
    });
    assert_eq!(outside, 0, "ink outside the oval");
    // 财务专用章 across the middle.
    let middle = d.count_ink(128, |x, y| {
        ((y as f32) - (cy + 0.07 * 30.0 * s)).abs() < 0.06 * 30.0 * s
            && ((x as f32) - cx).abs() < 10.0 * s
    });
    assert!(middle > 2000, "seal name has {middle} ink pixels");

    // Square 22 × 22 mm: frame and text inside.
    let (image, d) = render(SquareSeal::finance("成都某某有限公司"));
    assert_eq!((image.width_mm, image.height_mm), (22.0, 22.0));
    let s = ppm(&image);
    let w = image.width_px as f32;
    let frame_mid = 0.025 * 22.0 * s;
    for (x, y) in [
        (w / 2.0, frame_mid),
        (w / 2.0, w - frame_mid),
        (frame_mid, w / 2.0),
        (w - frame_mid, w / 2.0),
    ] {
        let p = d.pixel(x as usize, y as usize);
        assert!(p[3] == 255 && is_red(p), "frame at ({x}, {y}): {p:?}");
    }
    let inner = (0.1 * 22.0 * s) as usize;
    let inside = d.count_ink(128, |x, y| {
        x > inner && y > inner && x < d.width - inner && y < d.height - inner
    });
    let area = (d.width - 2 * inner).pow(2);
    assert!(inside * 100 > area * 20, "text covers {inside} of {area}");
}

/// Ink in each cell of an `cols` × `rows` grid inside `inset` millimetres.
fn cell_ink(
    image: &SealImage,
    d: &Decoded,
    inset: f32,
    cols: usize,
    rows: usize,
) -> Vec<Vec<usize>> {
    let s = ppm(image);
    let side = image.width_mm;
    let inner = (side - 2.0 * inset) * s;
    let (cw, ch) = (inner / cols as f32, inner / rows as f32);
    (0..cols)
        .map(|col| {
            (0..rows)
                .map(|row| {
                    let x0 = inset * s + col as f32 * cw;
                    let y0 = inset * s + row as f32 * ch;
                    d.count_ink(128, |x, y| {
                        let (x, y) = (x as f32, y as f32);
                        x > x0 + 0.1 * cw
                            && x < x0 + 0.9 * cw
                            && y > y0 + 0.1 * ch
                            && y < y0 + 0.9 * ch
                    })
                })
                .collect()
        })
        .collect()
}

#[test]
fn name_seal_three_characters_and_yin_fill_four_cells_inside_a_frame() {
    let seal = NameSeal::legal_representative("张三丰");
    assert_eq!(
        SealTemplate::from(seal.clone()).kind(),
        SealKind::LegalRepresentative
    );
    let (image, d) = render(seal);
    assert_eq!((image.width_mm, image.height_mm), (20.0, 20.0));
    assert_eq!(image.width_px, 472);
    let (wmm, _) = d.phys_mm();
    assert!((wmm - 20.0).abs() < 0.01);
    let s = ppm(&image);
    let w = image.width_px as f32;
    let frame_mid = 0.035 * 20.0 * s;
    for (x, y) in [
        (w / 2.0, frame_mid),
        (w / 2.0, w - frame_mid),
        (frame_mid, w / 2.0),
        (w - frame_mid, w / 2.0),
        (frame_mid, frame_mid),
    ] {
        let p = d.pixel(x as usize, y as usize);
        assert!(p[3] == 255 && is_red(p), "frame at ({x}, {y}): {p:?}");
    }
    let inset = 0.07 * 20.0 + 0.05 * 20.0;
    let cells = cell_ink(&image, &d, inset, 2, 2);
    let s_cell = ((20.0 - 2.0 * inset) * s / 2.0 * 0.8).powi(2) as usize;
    for (c, col) in cells.iter().enumerate() {
        for (r, &n) in col.iter().enumerate() {
            assert!(
                n * 100 > s_cell * 8,
                "cell ({c}, {r}) has {n} ink pixels of {s_cell}"
            );
        }
    }
}

#[test]
fn name_seal_layouts_for_two_and_four_characters_and_without_frame() {
    // Two characters: two tall columns, each inked top and bottom.
    let (image, d) = render(NameSeal::personal("李四"));
    assert_eq!((image.width_mm, image.width_px), (18.0, 425));
    let inset = 0.07 * 18.0 + 0.05 * 18.0;
    for col in cell_ink(&image, &d, inset, 2, 2) {
        assert!(col.iter().all(|&n| n > 500), "{col:?}");
    }
    // Four characters, no frame: every cell inked, the outer strip nearly empty.
    let (image, d) = render(NameSeal::personal("欧阳建国").with_border(false));
    assert_eq!(
        SealKind::PersonalName,
        SealTemplate::from(NameSeal::personal("欧阳建国")).kind()
    );
    let inset = 0.03 * 18.0;
    for col in cell_ink(&image, &d, inset, 2, 2) {
        assert!(col.iter().all(|&n| n > 1000), "{col:?}");
    }
    let strip = (0.2 * ppm(&image)) as usize;
    let edge = d.count_ink(128, |x, y| {
        x < strip || y < strip || x >= d.width - strip || y >= d.height - strip
    });
    let edge_area =
        d.count(|x, y| x < strip || y < strip || x >= d.width - strip || y >= d.height - strip);
    assert!(
        edge * 50 < edge_area,
        "frameless seal has {edge} ink pixels on its edge"
    );
    // One character is a single cell; five are refused.
    render(NameSeal::personal("王"));
    let err = SealTemplate::from(NameSeal::personal("一二三四五"))
        .render(font(), &RenderOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, SealError::InvalidText { field: "name", .. }),
        "{err}"
    );
}

#[test]
fn long_organisation_names_fit_inside_the_rim() {
    for name in [
        // 24 characters
        "中国某某某某建设集团有限责任公司北京第一分公司",
        // 32 characters with Latin letters and digits mixed in
        "ABC国际工程咨询（北京）有限公司第12分公司暨华北区域投标业务管理中心",
    ] {
        let n = name.chars().count();
        let seal = RoundSeal::official(name).with_code("1101080012345");
        let (image, d) = render(seal);
        check_round(&image, &d, 42.0);
        check_star(&image, &d, 42.0);
        let s = ppm(&image);
        let c = image.width_px as f32 / 2.0;
        // The text still runs over the whole upper arc, from left to right.
        for sector in [-100.0f32, -60.0, -20.0, 20.0, 60.0, 100.0] {
            let ink = d.count_ink(128, |x, y| {
                let (rr, a) = polar(x, y, c, c);
                rr > 12.0 * s && rr < 19.0 * s && (a - sector).abs() < 10.0
            });
            assert!(
                ink > 300,
                "{n} characters: sector {sector}° has {ink} ink pixels"
            );
        }
    }
    // The longest accepted name renders; one character more is refused.
    let max = "某".repeat(bidkit_seal::MAX_ORGANISATION_CHARS);
    let (image, d) = render(RoundSeal::official(max.clone()));
    check_round(&image, &d, 42.0);
    let err = SealTemplate::from(RoundSeal::official(format!("{max}某")))
        .render(font(), &RenderOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            SealError::InvalidText {
                field: "organisation",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn characters_missing_from_the_font_are_an_error_naming_them() {
    let err = SealTemplate::from(RoundSeal::official("某某😀有限公司"))
        .render(font(), &RenderOptions::default())
        .unwrap_err();
    match &err {
        SealError::MissingGlyph { ch, field, font } => {
            assert_eq!(*ch, '😀');
            assert_eq!(*field, "organisation");
            assert!(font.contains("CJK"), "{font}");
        }
        other => panic!("expected MissingGlyph, got {other:?}"),
    }
    assert!(err.to_string().contains("U+1F600"), "{err}");
    let err = SealTemplate::from(RoundSeal::official("某某有限公司").with_code("12\u{10FFFD}"))
        .render(font(), &RenderOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, SealError::MissingGlyph { field: "code", .. }),
        "{err}"
    );
    assert!(font().has_glyph('章') && !font().has_glyph('😀'));
}

#[test]
fn bad_texts_and_sizes_are_refused_with_the_field_named() {
    let opts = RenderOptions::default();
    let cases: Vec<(SealTemplate, &str)> = vec![
        (RoundSeal::official("   ").into(), "organisation"),
        (RoundSeal::official("某\u{7}公司").into(), "organisation"),
        (
            RoundSeal::official("某公司")
                .with_seal_name("一二三四五六七八九十一二三")
                .into(),
            "seal name",
        ),
        (
            RoundSeal::official("某公司")
                .with_code("1".repeat(33))
                .into(),
            "code",
        ),
        (NameSeal::personal("").into(), "name"),
        (NameSeal::personal("张 三").into(), "name"),
        (
            SquareSeal {
                kind: SealKind::Finance,
                text: "某".repeat(31),
                side_mm: 22.0,
            }
            .into(),
            "text",
        ),
    ];
    for (t, field) in cases {
        match t.render(font(), &opts) {
            Err(SealError::InvalidText { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected InvalidText, got {other:?}"),
        }
    }
    let size_cases: Vec<(SealTemplate, &str)> = vec![
        (
            RoundSeal::official("某公司").with_diameter_mm(200.0).into(),
            "diameter_mm",
        ),
        (
            RoundSeal::official("某公司")
                .with_diameter_mm(f32::NAN)
                .into(),
            "diameter_mm",
        ),
        (
            NameSeal::personal("张三").with_side_mm(2.0).into(),
            "side_mm",
        ),
    ];
    for (t, what) in size_cases {
        match t.render(font(), &opts) {
            Err(SealError::OutOfRange { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: expected OutOfRange, got {other:?}"),
        }
    }
    let err = SealTemplate::from(RoundSeal::official("某公司"))
        .render(
            font(),
            &RenderOptions {
                dpi: 10.0,
                ..RenderOptions::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, SealError::OutOfRange { what: "dpi", .. }),
        "{err}"
    );
    // An empty optional text is the same as none.
    let t: SealTemplate = RoundSeal::official("某公司")
        .with_seal_name(" ")
        .with_code("")
        .into();
    t.render(font(), &opts).unwrap();
}

#[test]
fn dpi_colour_and_texture_options() {
    let t: SealTemplate = RoundSeal::official("北京某某科技有限公司").into();
    let small = t
        .render(
            font(),
            &RenderOptions {
                dpi: 150.0,
                ..RenderOptions::default()
            },
        )
        .unwrap();
    assert_eq!((small.width_px, small.width_mm), (248, 42.0));
    assert!((Decoded::new(&small).phys_mm().0 - 42.0).abs() < 0.05);

    let blue = RenderOptions {
        dpi: 150.0,
        color: [0, 0, 200],
        ..RenderOptions::default()
    };
    let d = Decoded::new(&t.render(font(), &blue).unwrap());
    let p = d.pixel(124, 124);
    assert_eq!(p, [0, 0, 200, 255]);

    let textured = RenderOptions {
        ink_texture: true,
        ..RenderOptions::default()
    };
    let a = t.render(font(), &textured).unwrap();
    let b = t.render(font(), &textured).unwrap();
    assert_eq!(a.png, b.png, "texture is deterministic");
    let plain = t.render(font(), &RenderOptions::default()).unwrap();
    assert_ne!(a.png, plain.png);
    let (da, dp) = (Decoded::new(&a), Decoded::new(&plain));
    // Texture only lightens: never adds ink where there was none, never removes it entirely.
    let mut lighter = 0;
    for (pa, pp) in da.rgba.chunks_exact(4).zip(dp.rgba.chunks_exact(4)) {
        assert!(pa[3] <= pp[3]);
        if pp[3] == 255 {
            assert!(pa[3] >= 150, "texture removed too much ink: {}", pa[3]);
            if pa[3] < 255 {
                lighter += 1;
            }
        }
    }
    assert!(lighter > 1000);
}

#[test]
fn serde_names_and_round_trips() {
    let names: Vec<String> = SealKind::ALL
        .iter()
        .map(|k| serde_json::to_string(k).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "\"official\"",
            "\"finance\"",
            "\"contract\"",
            "\"legal-representative\"",
            "\"personal-name\"",
            "\"handwritten\""
        ]
    );
    for k in SealKind::ALL {
        assert_eq!(k.as_str().parse::<SealKind>().unwrap(), k);
        assert_eq!(k.label_zh().parse::<SealKind>().unwrap(), k);
        assert!(!k.label_en().is_empty());
    }
    assert_eq!(SealKind::Official.label_zh(), "公章");
    assert_eq!(SealKind::Handwritten.label_zh(), "手写签名");
    assert!("seal".parse::<SealKind>().is_err());

    let t: SealTemplate = RoundSeal::contract("某公司").with_code("123").into();
    let json = serde_json::to_string(&t).unwrap();
    assert!(
        json.contains("\"shape\":\"round\"") && json.contains("\"kind\":\"contract\""),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<SealTemplate>(&json).unwrap(), t);
    let opts: RenderOptions = serde_json::from_str("{\"dpi\": 300}").unwrap();
    assert_eq!(opts.color, SEAL_RED);

    let image = t
        .render(
            font(),
            &RenderOptions {
                dpi: 100.0,
                ..RenderOptions::default()
            },
        )
        .unwrap();
    let back: SealImage = serde_json::from_str(&serde_json::to_string(&image).unwrap()).unwrap();
    assert_eq!(back, image);
    assert_eq!(
        image.to_rgba8().unwrap().len(),
        (image.width_px * image.height_px * 4) as usize
    );
}

#[test]
fn font_discovery_and_errors() {
    // A configured path that does not exist falls through to the next candidates.
    let font = bidkit_seal::SealFont::discover(Some(std::path::Path::new("/nonexistent/font.ttc")))
        .unwrap();
    assert!(font.family().contains("CJK"), "{}", font.family());
    assert!(
        font.family().ends_with("SC"),
        "the Simplified Chinese face is chosen: {}",
        font.family()
    );
    // A file that is not a font is an error naming it.
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.ttf");
    std::fs::write(&bogus, b"not a font").unwrap();
    let err = bidkit_seal::SealFont::discover(Some(&bogus)).unwrap_err();
    assert!(matches!(err, SealError::FontInvalid { .. }), "{err}");
    assert!(err.to_string().contains("bogus.ttf"), "{err}");
    assert!(matches!(
        bidkit_seal::SealFont::from_bytes(vec![0; 64]),
        Err(SealError::FontInvalid { .. })
    ));
    // The not-found error lists what was tried.
    let err = SealError::FontNotFound {
        tried: vec!["/a/x.ttc".into(), "/b/y.ttf".into()],
    };
    let msg = err.to_string();
    assert!(
        msg.contains("/a/x.ttc, /b/y.ttf") && msg.contains("BIDKIT_FONT"),
        "{msg}"
    );
}
