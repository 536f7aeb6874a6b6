//! `bidkit phone seal make` and `bidkit phone seal list`: make a seal picture with
//! bidkit-seal (a template, a scanned photo, or handwriting strokes), record it on the
//! platform (which has its seal maker sign a GB/T 38540 `SESeal` for it), and list the
//! seals with their size and whether their seal record verifies.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use bidkit_keystore::{NewSeal, Phone, SealKind, SealStatus, SealView};
use bidkit_seal::{
    DEFAULT_DPI, NameSeal, OvalSeal, RenderOptions, RoundSeal, ScanOptions, SealFont, SealImage,
    SealTemplate, SignatureOptions, SquareSeal, Stroke, StrokePoint, extract_seal,
    render_signature,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::PhoneOpts;
use super::commands::open;
use super::fsio::write_atomically;
use super::input::parse_until;
use super::render::fmt;
use crate::context::Context;
use crate::output::Output;

/// Largest strokes file read.
const MAX_STROKES_FILE: u64 = 16 * 1024 * 1024;
/// Largest photo read.
const MAX_PHOTO_FILE: u64 = 64 * 1024 * 1024;

/// The strokes file format, shown in `bidkit phone seal make --help`.
const STROKES_HELP: &str = "\
Strokes file (--strokes FILE.json), a handwritten signature as pen strokes:

  {\"strokes\": [
     [[x, y, pressure], [x, y, pressure], ...],    one stroke: pen down to pen up
     ...
  ]}

x and y are millimetres from any fixed origin, y growing downwards (as on a screen);
pressure is 0 (lightest) to 1 (hardest), devices without pressure send 0.5. A point may
also be an object {\"x\": 1.0, \"y\": 2.0, \"pressure\": 0.5} (pressure optional), and the
top level may be the bare list of strokes. Optional \"color\": \"black\" or \"blue\".
At most 100000 points, 300 mm across.

Sizes as made in practice (--size-mm overrides): 公章 official round 42 mm, 合同章
contract round 40 mm, 财务章 finance square 22 mm (oval 40 x 30 mm, round 38 mm),
法定代表人章 legal-representative square 20 mm, 人名章 personal-name square 18 mm;
a scanned seal is scaled so its ink is that size.";

/// A seal template.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateArg {
    /// Round: 公章, 合同专用章, round 财务专用章 (ring, star, organisation on the arc).
    Round,
    /// Oval 财务专用章.
    Oval,
    /// Square with the text in columns: square 财务专用章.
    Square,
    /// Square name seal: 人名章, 法定代表人章.
    Name,
}

/// `bidkit phone seal make`.
#[derive(clap::Args, Debug)]
#[command(
    after_long_help = STROKES_HELP,
    group(clap::ArgGroup::new("source").required(true).args(["template", "scan", "strokes"]))
)]
pub struct MakeArgs {
    /// Render a template: round, oval, square or name.
    #[arg(long, value_enum)]
    template: Option<TemplateArg>,
    /// Extract the seal from a photo or scan (PNG or JPEG): its red ink on transparency.
    #[arg(long, value_name = "PHOTO")]
    scan: Option<PathBuf>,
    /// Draw a handwritten signature from pen strokes (JSON; see below).
    #[arg(long, value_name = "FILE.json")]
    strokes: Option<PathBuf>,
    /// Kind: official (公章), finance (财务章), contract (合同章), legal-representative
    /// (法定代表人章), personal-name (人名章), handwritten (手写签名). Default: from the
    /// template (round: official, oval/square: finance, name: personal-name), handwritten
    /// for --strokes, official for --scan with --org, else personal-name.
    #[arg(long, value_name = "KIND")]
    kind: Option<SealKind>,
    /// Name shown to people (default: organisation or person name + the kind, e.g.
    /// 北京某某建设有限公司公章).
    #[arg(long)]
    name: Option<String>,
    /// Organisation (unified social credit code) of an organisation seal; you must be
    /// its admin.
    #[arg(long, value_name = "USCC")]
    org: Option<String>,
    /// The engraved text instead of the default: the organisation's name on round and
    /// oval seals, the whole text of a square seal, the person's name on a name seal.
    #[arg(long)]
    text: Option<String>,
    /// Text under the star of a round seal, across an oval one (e.g. 合同专用章; default
    /// by kind).
    #[arg(long)]
    bottom_text: Option<String>,
    /// Code along the bottom arc (e.g. the 13-digit seal code).
    #[arg(long)]
    code: Option<String>,
    /// Size in millimetres: diameter (round), width (oval; height is 3/4 of it), side
    /// (square, name), the ink's longer side (scan).
    #[arg(long, value_name = "MM")]
    size_mm: Option<f32>,
    /// Resolution of the picture in dots per inch.
    #[arg(long, default_value_t = DEFAULT_DPI)]
    dpi: f32,
    /// CJK serif font for templates (default: $BIDKIT_FONT, then well-known locations).
    #[arg(long, value_name = "FILE")]
    font: Option<PathBuf>,
    /// Also write the picture to this PNG file.
    #[arg(long, value_name = "OUT.png")]
    preview: Option<PathBuf>,
    /// Valid until this date (YYYY-MM-DD, end of day, China time) or time; default:
    /// until voided.
    #[arg(long, value_parser = parse_until)]
    until: Option<OffsetDateTime>,
    #[command(flatten)]
    opts: PhoneOpts,
}

/// Size of a seal picture.
#[derive(Debug, Clone, Copy, Serialize)]
struct SizeMm {
    width: f32,
    height: f32,
}

/// What `seal make` prints.
#[derive(Debug, Serialize)]
struct Made {
    seal: bidkit_keystore::Seal,
    source: String,
    size_mm: SizeMm,
    pixels: [u32; 2],
    preview: Option<PathBuf>,
    eseal_valid: bool,
    eseal_error: Option<String>,
    eseal_maker: Option<String>,
}

/// One row of `seal list`.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    view: &'a SealView,
    size_mm: Option<SizeMm>,
    eseal_valid: bool,
    eseal_error: Option<String>,
    eseal_maker: Option<String>,
}

/// The record check of one seal: valid, why not, the maker's serial, the picture size.
struct RecordCheck {
    valid: bool,
    error: Option<String>,
    maker: Option<String>,
    size: Option<SizeMm>,
}

fn check_record(phone: &Phone, seal_id: i64) -> RecordCheck {
    let der = match phone.seal_record(seal_id) {
        Ok(der) => der,
        Err(e) => {
            return RecordCheck {
                valid: false,
                error: Some(e.to_string()),
                maker: None,
                size: None,
            };
        }
    };
    let parsed = bidkit_ses::SESeal::from_der(&der).ok();
    let size = parsed.as_ref().map(|s| SizeMm {
        width: round2(s.info().picture.width_mm),
        height: round2(s.info().picture.height_mm),
    });
    let maker = parsed
        .as_ref()
        .and_then(|s| s.maker_certificate().ok())
        .map(|c| c.serial_hex());
    match phone.verify_seal_record(seal_id) {
        Ok(_) => RecordCheck {
            valid: true,
            error: None,
            maker,
            size,
        },
        Err(e) => RecordCheck {
            valid: false,
            error: Some(e.to_string()),
            maker,
            size,
        },
    }
}

fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// `bidkit phone seal make`.
pub(super) fn make(ctx: &Context, args: MakeArgs) -> anyhow::Result<Output> {
    let phone = open(ctx, &args.opts)?;
    let account = phone.require_account()?;
    let org_name = match &args.org {
        Some(uscc) => Some(phone.service().organisation(uscc)?.name),
        None => None,
    };
    let kind = resolve_kind(&args)?;
    if kind.is_organisation_seal() && args.org.is_none() {
        bail!(
            "a {} ({kind}) belongs to an organisation: name it with --org USCC",
            kind.label_zh()
        );
    }
    if !kind.is_organisation_seal() && args.org.is_some() {
        bail!(
            "a {} ({kind}) is personal: leave out --org",
            kind.label_zh()
        );
    }
    let (image, source) = if let Some(t) = args.template {
        let template = build_template(&args, t, kind, org_name.as_deref(), &account.name)?;
        let font = SealFont::discover(args.font.as_deref())?;
        let image = template
            .render(
                &font,
                &RenderOptions {
                    dpi: args.dpi,
                    ..RenderOptions::default()
                },
            )
            .context("cannot render the seal")?;
        (image, format!("template:{}", template_name(t)))
    } else if let Some(photo) = &args.scan {
        let bytes = read_capped(photo, MAX_PHOTO_FILE, "photo")?;
        let target_mm = args
            .size_mm
            .unwrap_or_else(|| default_size_mm(kind, TemplateArg::Round).0);
        let found = extract_seal(
            &bytes,
            &ScanOptions {
                target_mm,
                dpi: args.dpi,
                ..ScanOptions::default()
            },
        )
        .with_context(|| format!("{}: no usable seal in the photo", photo.display()))?;
        (found.image, "scan".to_owned())
    } else if let Some(file) = &args.strokes {
        (read_strokes(file, args.dpi)?, "strokes".to_owned())
    } else {
        bail!("say what to make the seal from: --template, --scan or --strokes");
    };
    if let Some(path) = &args.preview {
        write_atomically(path, &image.png)
            .with_context(|| format!("cannot write the preview {}", path.display()))?;
    }
    let holder = org_name.clone().unwrap_or_else(|| account.name.clone());
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{holder}{}", kind.label_zh()));
    let seal = phone.add_seal(&NewSeal {
        kind,
        name,
        organisation: args.org.clone(),
        image: image.png.clone(),
        valid_from: None,
        valid_until: args.until,
    })?;
    let check = check_record(&phone, seal.id);
    let made = Made {
        source,
        size_mm: SizeMm {
            width: round2(image.width_mm),
            height: round2(image.height_mm),
        },
        pixels: [image.width_px, image.height_px],
        preview: args.preview.clone(),
        eseal_valid: check.valid,
        eseal_error: check.error,
        eseal_maker: check.maker,
        seal,
    };
    let mut text = format!(
        "印章已制作 / seal made: #{} {} ({} / {}){}, {:.1} × {:.1} mm, {} × {} px from {}\n",
        made.seal.id,
        made.seal.name,
        made.seal.kind.label_zh(),
        made.seal.kind,
        made.seal
            .organisation
            .as_ref()
            .map(|o| format!(" of {}", o.name))
            .unwrap_or_default(),
        made.size_mm.width,
        made.size_mm.height,
        made.pixels[0],
        made.pixels[1],
        made.source,
    );
    let _ = writeln!(
        text,
        "  {}",
        record_line(
            made.eseal_valid,
            made.eseal_error.as_deref(),
            made.eseal_maker.as_deref()
        )
    );
    if let Some(p) = &made.preview {
        let _ = writeln!(text, "  preview: {}", p.display());
    }
    Output::new(text, &made)
}

/// `bidkit phone seal list`.
pub(super) fn list(ctx: &Context, opts: &PhoneOpts) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let views = phone.seals()?;
    let checks: Vec<RecordCheck> = views
        .iter()
        .map(|v| check_record(&phone, v.seal.id))
        .collect();
    let rows: Vec<Row<'_>> = views
        .iter()
        .zip(checks)
        .map(|(view, c)| Row {
            view,
            size_mm: c.size,
            eseal_valid: c.valid,
            eseal_error: c.error,
            eseal_maker: c.maker,
        })
        .collect();
    let mut text = String::new();
    if rows.is_empty() {
        text.push_str("没有印章 / no seals\n");
    }
    for r in &rows {
        let s = &r.view.seal;
        let _ = writeln!(
            text,
            "#{} {} ({} / {}){}{}",
            s.id,
            s.name,
            s.kind.label_zh(),
            s.kind,
            s.organisation
                .as_ref()
                .map(|o| format!(" — {} {}", o.name, o.uscc))
                .unwrap_or_default(),
            r.size_mm
                .map(|z| format!(", {:.1} × {:.1} mm", z.width, z.height))
                .unwrap_or_default(),
        );
        let _ = writeln!(
            text,
            "  {} · valid {} – {} · {}",
            match s.status {
                SealStatus::Active => "在用 / active".to_owned(),
                SealStatus::Voided => format!(
                    "作废 / voided{}",
                    s.voided_at
                        .map(|t| format!(" at {}", fmt(t)))
                        .unwrap_or_default()
                ),
            },
            fmt(s.valid_from),
            s.valid_until
                .map(fmt)
                .unwrap_or_else(|| "until voided".into()),
            match (&r.view.usable, &r.view.reason) {
                (true, _) => match &r.view.grant {
                    Some(g) => format!("可用 / usable (authorised until {})", fmt(g.valid_until)),
                    None => "可用 / usable".to_owned(),
                },
                (false, Some(reason)) => format!("不可用 / not usable: {reason}"),
                (false, None) => "不可用 / not usable".to_owned(),
            }
        );
        let _ = writeln!(
            text,
            "  {}",
            record_line(
                r.eseal_valid,
                r.eseal_error.as_deref(),
                r.eseal_maker.as_deref()
            )
        );
    }
    Output::new(text, &rows)
}

fn record_line(valid: bool, error: Option<&str>, maker: Option<&str>) -> String {
    match (valid, error) {
        (true, _) => format!(
            "印章数据 / seal record (GB/T 38540 SESeal): verifies (maker certificate {})",
            maker.unwrap_or("?")
        ),
        (false, Some(e)) => format!("印章数据 / seal record: NOT valid: {e}"),
        (false, None) => "印章数据 / seal record: NOT valid".to_owned(),
    }
}

fn template_name(t: TemplateArg) -> &'static str {
    match t {
        TemplateArg::Round => "round",
        TemplateArg::Oval => "oval",
        TemplateArg::Square => "square",
        TemplateArg::Name => "name",
    }
}

/// The kind asked for, or the default for the source, checked against it.
fn resolve_kind(args: &MakeArgs) -> anyhow::Result<SealKind> {
    let default = match (args.template, &args.scan, &args.strokes) {
        (Some(TemplateArg::Round), _, _) => SealKind::Official,
        (Some(TemplateArg::Oval | TemplateArg::Square), _, _) => SealKind::Finance,
        (Some(TemplateArg::Name), _, _) => SealKind::PersonalName,
        (None, _, Some(_)) => SealKind::Handwritten,
        (None, _, None) if args.org.is_some() => SealKind::Official,
        (None, _, None) => SealKind::PersonalName,
    };
    let kind = args.kind.unwrap_or(default);
    if args.strokes.is_some() && kind != SealKind::Handwritten {
        bail!(
            "--strokes makes a handwritten signature: use --kind handwritten (or leave --kind out)"
        );
    }
    if args.strokes.is_none() && kind == SealKind::Handwritten {
        bail!(
            "a handwritten signature (手写签名) is made from pen strokes: use --strokes FILE.json"
        );
    }
    Ok(kind)
}

/// The practical size of a seal of `kind` with template `t`, in millimetres.
fn default_size_mm(kind: SealKind, t: TemplateArg) -> (f32, f32) {
    match (kind, t) {
        (SealKind::Finance, TemplateArg::Oval) => (40.0, 30.0),
        (SealKind::Finance, TemplateArg::Round) => (38.0, 38.0),
        (SealKind::Finance, _) => (22.0, 22.0),
        (SealKind::Contract, _) => (40.0, 40.0),
        (SealKind::LegalRepresentative, TemplateArg::Round) => (42.0, 42.0),
        (SealKind::LegalRepresentative, _) => (20.0, 20.0),
        (SealKind::PersonalName | SealKind::Handwritten, _) => (18.0, 18.0),
        (SealKind::Official, TemplateArg::Square | TemplateArg::Name) => (22.0, 22.0),
        (SealKind::Official, _) => (42.0, 42.0),
    }
}

/// The words a seal of `kind` carries after the organisation's name.
fn kind_words(kind: SealKind) -> Option<&'static str> {
    match kind {
        SealKind::Finance => Some("财务专用章"),
        SealKind::Contract => Some("合同专用章"),
        SealKind::LegalRepresentative => Some("法定代表人章"),
        _ => None,
    }
}

fn build_template(
    args: &MakeArgs,
    t: TemplateArg,
    kind: SealKind,
    org: Option<&str>,
    person: &str,
) -> anyhow::Result<SealTemplate> {
    let (w, h) = default_size_mm(kind, t);
    let size = args.size_mm;
    let org_text = || -> anyhow::Result<String> {
        match (&args.text, org) {
            (Some(t), _) => Ok(t.clone()),
            (None, Some(o)) => Ok(o.to_owned()),
            (None, None) => bail!(
                "a {} seal carries an organisation's name: give --org USCC (or --text)",
                template_name(t)
            ),
        }
    };
    let bottom = args
        .bottom_text
        .clone()
        .or_else(|| kind_words(kind).map(str::to_owned));
    Ok(match t {
        TemplateArg::Round => {
            if !kind.is_organisation_seal() {
                bail!(
                    "a round seal is an organisation's: use --template name for a {}",
                    kind.label_zh()
                );
            }
            SealTemplate::Round(RoundSeal {
                kind: seal_kind(kind),
                organisation: org_text()?,
                seal_name: bottom,
                code: args.code.clone(),
                diameter_mm: size.unwrap_or(w),
                star: true,
            })
        }
        TemplateArg::Oval => {
            let width = size.unwrap_or(w);
            SealTemplate::Oval(OvalSeal {
                kind: seal_kind(kind),
                organisation: org_text()?,
                seal_name: bottom,
                code: args.code.clone(),
                width_mm: width,
                height_mm: if size.is_some() { width * 0.75 } else { h },
            })
        }
        TemplateArg::Square => {
            let text = match &args.text {
                Some(t) => t.clone(),
                None => format!("{}{}", org_text()?, bottom.unwrap_or_default()),
            };
            SealTemplate::Square(SquareSeal {
                kind: seal_kind(kind),
                text,
                side_mm: size.unwrap_or(w),
            })
        }
        TemplateArg::Name => {
            if !matches!(kind, SealKind::PersonalName | SealKind::LegalRepresentative) {
                bail!(
                    "a name seal is a 人名章 (personal-name) or 法定代表人章 (legal-representative), not a {}",
                    kind.label_zh()
                );
            }
            let name = args.text.clone().unwrap_or_else(|| person.to_owned());
            let base = if kind == SealKind::LegalRepresentative {
                NameSeal::legal_representative(name)
            } else {
                NameSeal::personal(name)
            };
            SealTemplate::Name(base.with_side_mm(size.unwrap_or(w)))
        }
    })
}

/// The picture crate's name for a keystore seal kind.
fn seal_kind(kind: SealKind) -> bidkit_seal::SealKind {
    match kind {
        SealKind::Official => bidkit_seal::SealKind::Official,
        SealKind::Finance => bidkit_seal::SealKind::Finance,
        SealKind::Contract => bidkit_seal::SealKind::Contract,
        SealKind::LegalRepresentative => bidkit_seal::SealKind::LegalRepresentative,
        SealKind::PersonalName => bidkit_seal::SealKind::PersonalName,
        SealKind::Handwritten => bidkit_seal::SealKind::Handwritten,
    }
}

fn read_capped(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?
        .len();
    if len > max {
        bail!(
            "the {what} {} is {len} bytes, more than the {max} accepted",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// A point in a strokes file.
#[derive(Deserialize)]
#[serde(untagged)]
enum PointIn {
    Triple([f32; 3]),
    Pair([f32; 2]),
    Object {
        x: f32,
        y: f32,
        #[serde(default = "half")]
        pressure: f32,
    },
}

fn half() -> f32 {
    0.5
}

/// A stroke in a strokes file: a list of points, or `{"points": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum StrokeIn {
    Points(Vec<PointIn>),
    Object { points: Vec<PointIn> },
}

/// A strokes file.
#[derive(Deserialize)]
#[serde(untagged)]
enum StrokesFile {
    Object {
        strokes: Vec<StrokeIn>,
        #[serde(default)]
        color: Option<String>,
    },
    Bare(Vec<StrokeIn>),
}

fn read_strokes(path: &Path, dpi: f32) -> anyhow::Result<SealImage> {
    let bytes = read_capped(path, MAX_STROKES_FILE, "strokes file")?;
    let file: StrokesFile = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a strokes file ({{\"strokes\": [[[x, y, pressure], ...], ...]}}; see --help)",
            path.display()
        )
    })?;
    let (strokes, color) = match file {
        StrokesFile::Object { strokes, color } => (strokes, color),
        StrokesFile::Bare(strokes) => (strokes, None),
    };
    let color = match color.as_deref() {
        None | Some("black") => bidkit_seal::INK_BLACK,
        Some("blue") | Some("blue-black") => bidkit_seal::INK_DARK_BLUE,
        Some(other) => bail!(
            "{}: unknown ink colour {other:?} (black or blue)",
            path.display()
        ),
    };
    let strokes: Vec<Stroke> = strokes
        .into_iter()
        .map(|s| {
            let points = match s {
                StrokeIn::Points(p) | StrokeIn::Object { points: p } => p,
            };
            Stroke {
                points: points
                    .into_iter()
                    .map(|p| match p {
                        PointIn::Triple([x, y, pressure]) => StrokePoint { x, y, pressure },
                        PointIn::Pair([x, y]) => StrokePoint {
                            x,
                            y,
                            pressure: 0.5,
                        },
                        PointIn::Object { x, y, pressure } => StrokePoint { x, y, pressure },
                    })
                    .collect(),
            }
        })
        .collect();
    render_signature(
        &strokes,
        &SignatureOptions {
            dpi,
            color,
            ..SignatureOptions::default()
        },
    )
    .with_context(|| format!("{}: cannot draw the signature", path.display()))
}
