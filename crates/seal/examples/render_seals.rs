//! Renders example seals into a directory: `cargo run -p bidkit-seal --example render_seals -- DIR [DPI]`.

use std::path::PathBuf;

use bidkit_seal::{
    INK_DARK_BLUE, NameSeal, OvalSeal, RenderOptions, RoundSeal, ScanOptions, SealFont,
    SealTemplate, SignatureOptions, SquareSeal, Stroke, extract_seal, render_signature,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "seal-examples".to_owned()));
    let dpi: f32 = match args.next() {
        Some(d) => d.parse()?,
        None => 600.0,
    };
    std::fs::create_dir_all(&dir)?;
    let started = std::time::Instant::now();
    let font = SealFont::discover(None)?;
    println!(
        "font: {} ({}), loaded in {:.1} ms",
        font.family(),
        font.source(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let options = RenderOptions {
        dpi,
        ..RenderOptions::default()
    };
    let seals: Vec<(&str, SealTemplate)> = vec![
        (
            "official",
            RoundSeal::official("北京某某科技有限公司")
                .with_code("1101080012345")
                .into(),
        ),
        (
            "contract",
            RoundSeal::contract("上海示例建设工程有限公司").into(),
        ),
        (
            "bid",
            RoundSeal::official("深圳市某某信息技术股份有限公司")
                .with_seal_name("投标专用章")
                .with_code("4403050098765")
                .into(),
        ),
        (
            "finance-round",
            RoundSeal::finance("杭州某某贸易有限公司").into(),
        ),
        (
            "finance-oval",
            OvalSeal::finance("广州某某物流有限公司")
                .with_code("4401060054321")
                .into(),
        ),
        (
            "finance-square",
            SquareSeal::finance("成都某某有限公司").into(),
        ),
        ("name-3", NameSeal::legal_representative("张三丰").into()),
        ("name-2", NameSeal::personal("李四").into()),
        (
            "name-4",
            NameSeal::personal("欧阳建国").with_border(false).into(),
        ),
        (
            "long-24",
            RoundSeal::official("中国某某某某建设集团有限责任公司北京第一分公司")
                .with_code("1101080012345")
                .into(),
        ),
        (
            "long-mixed",
            RoundSeal::official(
                "ABC国际工程咨询（北京）有限公司第12分公司暨华北区域投标业务管理中心",
            )
            .into(),
        ),
        ("short", RoundSeal::official("某某公司").into()),
        (
            "long-name",
            RoundSeal::official("中国某某某某某某某某集团有限责任公司北京分公司第一工程处")
                .with_code("1101080012345")
                .into(),
        ),
    ];
    for (name, seal) in seals {
        let started = std::time::Instant::now();
        let image = seal.render(&font, &options)?;
        let elapsed = started.elapsed();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &image.png)?;
        println!(
            "{} {}×{} px {}×{} mm {} bytes {:.1} ms",
            path.display(),
            image.width_px,
            image.height_px,
            image.width_mm,
            image.height_mm,
            image.png.len(),
            elapsed.as_secs_f64() * 1000.0
        );
    }
    // The ink texture option.
    let textured = RenderOptions {
        dpi,
        ink_texture: true,
        ..RenderOptions::default()
    };
    let image = SealTemplate::from(
        RoundSeal::contract("上海示例建设工程有限公司").with_code("3101150012345"),
    )
    .render(&font, &textured)?;
    let path = dir.join("contract-textured.png");
    std::fs::write(&path, &image.png)?;
    println!("{}", path.display());

    // A handwritten signature: a "Z", a run of loops and an underline flourish.
    let z = Stroke::from_points(&[
        (0.0, 2.0, 0.3),
        (6.0, 0.5, 0.6),
        (11.0, 0.0, 0.7),
        (6.0, 6.0, 0.9),
        (1.0, 13.0, 0.8),
        (7.0, 12.0, 0.6),
        (13.0, 12.5, 0.4),
    ]);
    let loops = Stroke::from_points(
        &(0..=80)
            .map(|i| {
                let t = i as f32 / 80.0;
                let w = t * 5.0 * std::f32::consts::TAU;
                let x = 15.0 + 30.0 * t - 2.6 * w.sin();
                let y = 7.5 + 3.8 * w.cos() * (1.0 - 0.25 * t);
                let pressure = 0.3 + 0.6 * (0.5 - 0.5 * w.cos());
                (x, y, pressure)
            })
            .collect::<Vec<_>>(),
    );
    let flourish = Stroke::from_points(&[
        (2.0, 16.0, 0.2),
        (15.0, 15.0, 0.6),
        (30.0, 14.5, 0.9),
        (44.0, 13.0, 0.5),
        (50.0, 10.5, 0.1),
    ]);
    for (name, color) in [
        ("signature-black", None),
        ("signature-blue", Some(INK_DARK_BLUE)),
    ] {
        let mut options = SignatureOptions {
            dpi,
            ..SignatureOptions::default()
        };
        if let Some(c) = color {
            options.color = c;
        }
        let image = render_signature(&[z.clone(), loops.clone(), flourish.clone()], &options)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &image.png)?;
        println!(
            "{} {:.1}×{:.1} mm",
            path.display(),
            image.width_mm,
            image.height_mm
        );
    }

    // A seal extracted from a photo.
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/seal-photo.jpg"
    ))?;
    let started = std::time::Instant::now();
    let found = extract_seal(
        &photo,
        &ScanOptions {
            dpi,
            ..ScanOptions::default()
        },
    )?;
    let path = dir.join("scanned.png");
    std::fs::write(&path, &found.image.png)?;
    println!(
        "{} from box {:?}, ink {:?}, {:.1} ms",
        path.display(),
        found.source_box,
        found.ink_color,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
