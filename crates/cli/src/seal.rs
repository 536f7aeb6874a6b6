//! `bidkit seal`: seal PDF documents with the phone (签章), placed five ways, one
//! approval for every document; and `bidkit revoke-seal` (撤章): remove a document's
//! newest sealing operation once the phone approves.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use bidkit_app::seal::{SealDocument, SealOptions, SealReport};
use bidkit_pdf::placement::{DEFAULT_SEAM_SLICES, Occurrence, PagePosition, Parity, Placement};
use bidkit_pdf::sign::SubFilter;

use crate::context::{Context, block_on};
use crate::output::Output;
use crate::screen::{RelayArgs, Screen, ScreenArgs};

/// Placement mode of `bidkit seal --mode`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One page (`--page`, `--at`).
    Page,
    /// Every page (`--at`).
    All,
    /// A page range (`--pages A-B`, `--at`).
    Range,
    /// A seam seal (骑缝章) across the right edge (`--pages`, `--parity`, `--max-slices`, `--y`).
    Seam,
    /// On a keyword (`--keyword`, `--occurrence`, `--offset`).
    Keyword,
}

/// `/SubFilter` choice.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubFilterArg {
    /// adbe.pkcs7.detached
    Pkcs7,
    /// ETSI.CAdES.detached
    Cades,
}

/// Arguments of `bidkit seal`.
#[derive(clap::Args, Debug)]
pub struct SealArgs {
    /// The PDF(s) to seal (never modified). Several documents are signed under one
    /// approval; then `-o` is a directory.
    #[arg(required = true, value_name = "IN.pdf")]
    inputs: Vec<PathBuf>,
    /// The sealed PDF (or, with several inputs, the directory for them).
    #[arg(short, long, value_name = "OUT.pdf")]
    output: PathBuf,
    /// Where the stamps go.
    #[arg(long, value_enum, default_value = "page")]
    mode: Mode,
    /// The seal (its platform id, as `bidkit phone seal list` shows).
    #[arg(long, value_name = "ID")]
    seal: i64,
    /// Page for `--mode page` (1-based).
    #[arg(long, default_value_t = 1)]
    page: u32,
    /// Centre of the seal, millimetres from the displayed page's top-left corner: `X,Y`.
    /// Default: 40 mm from the right, 50 mm from the bottom.
    #[arg(long, value_name = "X,Y")]
    at: Option<String>,
    /// Page range `A-B` for `--mode range` and `--mode seam` (default: all pages).
    #[arg(long, value_name = "A-B")]
    pages: Option<String>,
    /// The keyword for `--mode keyword` (e.g. 投标人（盖章）).
    #[arg(long, value_name = "TEXT")]
    keyword: Option<String>,
    /// Which keyword occurrences: all, first, last or a number.
    #[arg(long, default_value = "all", value_name = "all|first|last|N")]
    occurrence: String,
    /// Offset of the seal from the keyword's centre, mm (right, down): `DX,DY`.
    #[arg(long, value_name = "DX,DY", allow_hyphen_values = true)]
    offset: Option<String>,
    /// Seam seal: odd or even pages only.
    #[arg(long, value_enum, default_value = "all")]
    parity: ParityArg,
    /// Seam seal: most slices per seal (longer documents get it again in groups).
    #[arg(long, default_value_t = DEFAULT_SEAM_SLICES)]
    max_slices: u32,
    /// Seam seal: vertical centre, mm from the top (default: the middle).
    #[arg(long, value_name = "MM")]
    y: Option<f64>,
    /// `/SubFilter` of the signature.
    #[arg(long, value_enum, default_value = "pkcs7")]
    sub_filter: SubFilterArg,
    /// Put a GB/T 38540 SES_Signature (with the seal's record) in /Contents instead of a
    /// CMS SignedData, for platforms that require it (Adobe, poppler and pyHanko cannot
    /// read it; `bidkit verify` can).
    #[arg(long)]
    ses: bool,
    /// An RFC 3161 time-stamp authority (e.g. `bidkit tsa serve`'s URL): each signature
    /// gets a signature time-stamp from it.
    #[arg(long, value_name = "URL", env = "BIDKIT_TSA_URL")]
    tsa: Option<String>,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Seam parity.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParityArg {
    /// Every page.
    All,
    /// Odd pages.
    Odd,
    /// Even pages.
    Even,
}

/// Run `bidkit seal`.
pub fn run(args: SealArgs, ctx: &Context) -> anyhow::Result<Output> {
    let placement = placement(&args)?;
    let documents = documents(&args.inputs, &args.output)?;
    let sign = args.relay.sign_options(ctx.home())?;
    let opts = SealOptions {
        sign,
        seal_id: args.seal,
        placement,
        sub_filter: match args.sub_filter {
            SubFilterArg::Pkcs7 => SubFilter::Pkcs7Detached,
            SubFilterArg::Cades => SubFilter::CadesDetached,
        },
        documents,
        ses: args.ses,
        tsa_url: args.tsa.clone(),
    };
    let mut screen = Screen::new(&args.screen, "签章 / seal");
    let report = block_on(bidkit_app::seal::seal_documents(&opts, &mut screen))??;
    Output::new(report_text(&report), &report)
}

fn report_text(r: &SealReport) -> String {
    let mut t = format!(
        "已签章 / sealed with {} (#{}), certificate {} ({})\n",
        r.seal_name, r.seal_id, r.signer_serial, r.signer
    );
    for d in &r.documents {
        let _ = writeln!(
            t,
            "  {} — field {}, {} stamp(s), digest {}",
            d.output.display(),
            d.field_name,
            d.stamps.len(),
            &d.document_digest.get(..16).unwrap_or(&d.document_digest)
        );
        for s in &d.stamps {
            let slice = s
                .slice
                .map(|sl| format!(", seam slice {}/{}", sl.index + 1, sl.count))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "    page {} at ({:.1} mm, {:.1} mm), {:.1} × {:.1} mm{slice}",
                s.page_index + 1,
                s.x_mm,
                s.y_mm,
                s.width_mm,
                s.height_mm
            );
        }
    }
    if let Some(tsa) = &r.timestamp_authority {
        let _ = writeln!(t, "  时间戳 / time-stamped by {tsa}");
    }
    let _ = writeln!(t, "  验证码 / verification code: {}", r.verification_code);
    t
}

fn documents(inputs: &[PathBuf], output: &Path) -> anyhow::Result<Vec<SealDocument>> {
    if let [input] = inputs {
        if output.is_dir() {
            let name = input.file_name().context("the input has no file name")?;
            return Ok(vec![SealDocument {
                input: input.clone(),
                output: output.join(name),
            }]);
        }
        return Ok(vec![SealDocument {
            input: input.clone(),
            output: output.to_path_buf(),
        }]);
    }
    if !output.is_dir() {
        bail!(
            "{} is not a directory: with {} inputs, -o names the directory for the sealed copies",
            output.display(),
            inputs.len()
        );
    }
    inputs
        .iter()
        .map(|input| {
            let name = input
                .file_name()
                .with_context(|| format!("{} has no file name", input.display()))?;
            Ok(SealDocument {
                input: input.clone(),
                output: output.join(name),
            })
        })
        .collect()
}

fn placement(args: &SealArgs) -> anyhow::Result<Placement> {
    let at = args
        .at
        .as_deref()
        .map(|s| pair(s, "--at").map(|(x_mm, y_mm)| PagePosition { x_mm, y_mm }))
        .transpose()?;
    let pages = args.pages.as_deref().map(range).transpose()?;
    Ok(match args.mode {
        Mode::Page => Placement::Page {
            page: args.page,
            at,
        },
        Mode::All => Placement::AllPages { at },
        Mode::Range => {
            let Some((first, last)) = pages else {
                bail!("--mode range needs --pages A-B");
            };
            Placement::Range { first, last, at }
        }
        Mode::Seam => Placement::Seam {
            pages,
            parity: match args.parity {
                ParityArg::All => Parity::All,
                ParityArg::Odd => Parity::Odd,
                ParityArg::Even => Parity::Even,
            },
            max_slices: args.max_slices,
            y_mm: args.y,
        },
        Mode::Keyword => {
            let Some(keyword) = args.keyword.clone() else {
                bail!("--mode keyword needs --keyword TEXT");
            };
            Placement::Keyword {
                keyword,
                occurrence: occurrence(&args.occurrence)?,
                offset_mm: args
                    .offset
                    .as_deref()
                    .map(|s| pair(s, "--offset"))
                    .transpose()?
                    .unwrap_or((0.0, 0.0)),
            }
        }
    })
}

fn pair(s: &str, option: &str) -> anyhow::Result<(f64, f64)> {
    let parse = |v: &str| v.trim().trim_end_matches("mm").trim().parse::<f64>().ok();
    match s.split_once(',') {
        Some((a, b)) => match (parse(a), parse(b)) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Ok((a, b)),
            _ => bail!("{option} {s:?}: expected two numbers of millimetres, X,Y"),
        },
        None => bail!("{option} {s:?}: expected X,Y (millimetres)"),
    }
}

fn range(s: &str) -> anyhow::Result<(u32, u32)> {
    let parse = |v: &str| v.trim().parse::<u32>().ok();
    match s.split_once('-') {
        Some((a, b)) => match (parse(a), parse(b)) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => bail!("--pages {s:?}: expected A-B (page numbers from 1)"),
        },
        None => match parse(s) {
            Some(n) => Ok((n, n)),
            None => bail!("--pages {s:?}: expected A-B (page numbers from 1)"),
        },
    }
}

fn occurrence(s: &str) -> anyhow::Result<Occurrence> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "all" => Occurrence::All,
        "first" => Occurrence::First,
        "last" => Occurrence::Last,
        n => match n.parse::<u32>() {
            Ok(n) if n > 0 => Occurrence::Nth(n),
            _ => bail!("--occurrence {s:?}: expected all, first, last or a number from 1"),
        },
    })
}
