//! `bidkit bid …`: the bidder's side — a bid project that follows a tender package
//! (`init`, `add`, `price`), the bid document built from it (`build`), the checklist
//! before encryption (`check`), and the integrity of a bid file (`inspect`). Projects,
//! builder and checklist are `bidkit-tender`'s, the bid-file container
//! `bidkit-bidfile`'s; this module parses flags and prints. The bid-file commands that
//! need the bidder's phone (`encrypt`, `decrypt`, `submit`, `withdraw`) and
//! `verify-statement` are in [`scan`], over `bidkit_app::bid`.

mod scan;

use std::path::{Path, PathBuf};

use bidkit_pdf::verify::{TrustChoice, VerifyOptions};
use bidkit_tender::{
    BidProject, Bidder, BuildOptions, ItemStatus, Progress, Stage, TenderPackage, check,
};
use clap::Subcommand;

use crate::context::Context;
use crate::output::Output;

/// Where `bid check` records the checklist, inside the project directory.
pub const CHECKLIST_FILE: &str = "checklist.json";

/// `bidkit bid …`.
#[derive(Subcommand, Debug)]
pub enum BidCommand {
    /// Start a bid project in DIR following a tender package: copies its requirements
    /// and records the bidder.
    Init(InitArgs),
    /// Add files to a section (PDF, JPEG, PNG, text or Markdown, as the section accepts);
    /// each is recognised by its content and copied into the project.
    Add(AddArgs),
    /// Set (or clear) the quoted price (投标报价).
    Price(PriceArgs),
    /// Build the bid document: cover, table of contents, every section, bookmarks and
    /// page numbers, in one PDF.
    Build(BuildArgs),
    /// The checklist: sections, quoted price, seals and integrity of the sealed PDF.
    /// Exit 0: passed (or overridden with --override); 1: something required is missing
    /// or invalid. The checklist is recorded in DIR/checklist.json.
    Check(CheckArgs),
    /// Show a bid file's header and check its integrity without decrypting. Exit 0:
    /// intact; 1: damaged or tampered; 2: unreadable.
    Inspect(InspectArgs),
    /// Encrypt the sealed bid document into a bid file (投标文件加密) with the phone:
    /// scan 1 fetches its encryption certificate, scan 2 signs the bid-file header.
    /// From a project directory (or with --manifest) the payload is a bid package:
    /// the sealed PDF, the manifest with the quoted price, and any attachments.
    Encrypt(scan::EncryptArgs),
    /// Decrypt a bid file (解密) with one scan: the phone unwraps the content key.
    Decrypt(scan::DecryptArgs),
    /// Submit a bid file (递交): the phone signs a submission receipt, written as JSON.
    Submit(scan::SubmitArgs),
    /// Withdraw a bid file (撤标): the phone signs a withdrawal, written as JSON.
    Withdraw(scan::WithdrawArgs),
    /// Verify a submission receipt or withdrawal. Exit 0: valid; 1: invalid (or
    /// unreadable).
    VerifyStatement(scan::VerifyStatementArgs),
}

/// Arguments of `bidkit bid init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The project directory (created; must not already hold a project).
    dir: PathBuf,
    /// The tender package (its directory or its tender.json).
    #[arg(long, value_name = "PKG")]
    tender: PathBuf,
    /// The bidder's organisation name (投标人名称).
    #[arg(long, value_name = "NAME")]
    bidder: String,
    /// The bidder's unified social credit code (统一社会信用代码).
    #[arg(long, value_name = "CODE")]
    uscc: String,
    /// The quoted price (投标报价), e.g. `9876543.21`.
    #[arg(long, value_name = "AMOUNT")]
    quoted_price: Option<String>,
}

/// Arguments of `bidkit bid add`.
#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The project directory.
    dir: PathBuf,
    /// The section id (as in the tender: `business`, `technical` …).
    #[arg(long, value_name = "ID")]
    section: String,
    /// The files, appended in this order.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Arguments of `bidkit bid price`.
#[derive(clap::Args, Debug)]
pub struct PriceArgs {
    /// The project directory.
    dir: PathBuf,
    /// The amount, e.g. `9876543.21` (in the tender's currency).
    #[arg(required_unless_present = "clear")]
    amount: Option<String>,
    /// Clear the quoted price.
    #[arg(long, conflicts_with = "amount")]
    clear: bool,
}

/// Arguments of `bidkit bid build`.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The project directory.
    dir: PathBuf,
    /// The PDF to write (default: DIR/bid.pdf).
    #[arg(short, long, value_name = "OUT.pdf")]
    out: Option<PathBuf>,
    /// The CJK font (TTF/OTF/TTC; default: $BIDKIT_FONT, then well-known system fonts).
    #[arg(long, value_name = "FONT")]
    font: Option<PathBuf>,
}

/// Arguments of `bidkit bid check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The project directory.
    dir: PathBuf,
    /// The sealed PDF to check (default: the project's last build, if it is still there).
    #[arg(long, value_name = "SEALED.pdf")]
    sealed: Option<PathBuf>,
    /// Go on despite a failed checklist, for this reason; recorded in the checklist.
    #[arg(long = "override", value_name = "REASON")]
    override_reason: Option<String>,
    /// Who overrides (default: the bidder's name).
    #[arg(long, value_name = "WHO", requires = "override_reason")]
    by: Option<String>,
    /// Also trust the root certificates in this PEM file; repeatable. The home's emulated
    /// roots are always trusted.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// Judge the seals' signatures and the changes after them, but not their certificate
    /// chains (seals made under other CAs, or a home without an emulated CA).
    #[arg(long)]
    integrity_only: bool,
}

/// Arguments of `bidkit bid inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The bid file (read only).
    file: PathBuf,
}

/// Run `bidkit bid …`. With `json` false, slow commands report progress on stderr.
pub fn run(cmd: BidCommand, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    match cmd {
        BidCommand::Init(args) => init(args),
        BidCommand::Add(args) => add(args),
        BidCommand::Price(args) => price(args),
        BidCommand::Build(args) => build(args, json),
        BidCommand::Check(args) => check_bid(args, ctx),
        BidCommand::Inspect(args) => Ok(inspect(&args.file)?),
        BidCommand::Encrypt(args) => scan::encrypt(args, ctx, json),
        BidCommand::Decrypt(args) => scan::decrypt(args, ctx, json),
        BidCommand::Submit(args) => scan::submit(args, ctx, json),
        BidCommand::Withdraw(args) => scan::withdraw(args, ctx, json),
        BidCommand::VerifyStatement(args) => scan::verify_statement(args, ctx),
    }
}

fn init(args: InitArgs) -> anyhow::Result<Output> {
    let tender = TenderPackage::load(&args.tender)?;
    let mut project = BidProject::init(
        &tender,
        &args.dir,
        Bidder {
            name: args.bidder,
            uscc: args.uscc,
        },
    )?;
    if let Some(p) = &args.quoted_price {
        project.set_quoted_price(Some(p))?;
    }
    let m = project.manifest();
    let mut text = format!(
        "Bid project {} for tender {} ({})\n  bidder: {} ({})\n",
        args.dir.display(),
        m.tender_id,
        tender.package.project.name,
        m.bidder.name,
        m.bidder.uscc
    );
    if let Some(p) = &m.quoted_price {
        text.push_str(&format!(
            "  quoted price: {p} {}\n",
            tender.package.quoted_price.currency
        ));
    }
    text.push_str("Sections to fill (bidkit bid add DIR --section ID FILE…):\n");
    for s in &tender.package.sections {
        text.push_str(&format!(
            "  {:<14} {} — {}, accepts {}\n",
            s.id,
            s.title,
            if s.required { "required" } else { "optional" },
            s.accept.join(", ")
        ));
    }
    let value = serde_json::json!({
        "project": args.dir,
        "manifest": m,
        "requirements": tender.package,
    });
    Output::new(text, &value)
}

fn add(args: AddArgs) -> anyhow::Result<Output> {
    let mut project = BidProject::open(&args.dir)?;
    let mut added = Vec::new();
    for file in &args.files {
        let entry = match project.add(&args.section, file) {
            Ok(entry) => entry,
            // The library's error names the file and the reason.
            Err(e) if added.is_empty() => return Err(e.into()),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "the {} file(s) before it were added; this one was not",
                    added.len()
                )));
            }
        };
        added.push(entry);
    }
    let title = project
        .tender()
        .package
        .section(&args.section)
        .map(|s| s.title.clone())
        .unwrap_or_default();
    let mut text = format!("Added to section {} ({title}):\n", args.section);
    for f in &added {
        text.push_str(&format!(
            "  {} — {}, {} bytes, SHA-256 {}\n",
            f.original_name,
            f.file_type.describe(),
            f.size,
            f.sha256
        ));
    }
    let total = project
        .manifest()
        .sections
        .get(&args.section)
        .map_or(0, Vec::len);
    text.push_str(&format!("The section now has {total} file(s).\n"));
    let value = serde_json::json!({ "section": args.section, "added": added, "files": total });
    Output::new(text, &value)
}

fn price(args: PriceArgs) -> anyhow::Result<Output> {
    let mut project = BidProject::open(&args.dir)?;
    let amount = if args.clear {
        None
    } else {
        args.amount.as_deref()
    };
    project.set_quoted_price(amount)?;
    let currency = project.tender().package.quoted_price.currency.clone();
    let text = match amount {
        Some(a) => format!("Quoted price: {a} {currency}"),
        None => "Quoted price cleared.".to_owned(),
    };
    Output::new(
        text,
        &serde_json::json!({ "quoted_price": amount, "currency": currency }),
    )
}

fn build(args: BuildArgs, json: bool) -> anyhow::Result<Output> {
    let mut project = BidProject::open(&args.dir)?;
    let out = args.out.unwrap_or_else(|| args.dir.join("bid.pdf"));
    let out = std::path::absolute(&out).unwrap_or(out);
    let options = BuildOptions {
        font: args.font,
        date: None,
    };
    let mut last: Option<(Stage, Option<String>)> = None;
    let mut on_progress = |p: &Progress| {
        if json {
            return;
        }
        // One line per stage and per section file, not per page.
        let key = (p.stage, p.file.clone());
        if last.as_ref() == Some(&key) {
            return;
        }
        let line = match (p.stage, &p.file) {
            (Stage::Planning, Some(f)) => format!("planning: reading {f}"),
            (Stage::Planning, None) => "planning".to_owned(),
            (Stage::Writing, Some(f)) => {
                format!("writing: page {}/{} ({f})", p.pages_done, p.pages_total)
            }
            (Stage::Writing, None) => {
                format!("writing: page {}/{}", p.pages_done, p.pages_total)
            }
            (Stage::Finishing, _) => "finishing: font subset and bookmarks".to_owned(),
            (Stage::Done, _) => format!("done: {} pages", p.pages_total),
        };
        eprintln!("bidkit: {line}");
        last = Some(key);
    };
    let report = project.build(&out, &options, &mut on_progress)?;

    let bookmarks: usize = report.sections.iter().map(|s| 1 + s.files.len()).sum();
    let mut text = format!(
        "Built {}\n  pages: {} (cover 1, table of contents {}, sections {})\n",
        report.output.display(),
        report.pages,
        report.toc_pages,
        report.pages - 1 - report.toc_pages
    );
    for s in &report.sections {
        text.push_str(&format!(
            "  {:<14} {} — pages {}–{} ({} page(s))\n",
            s.id,
            s.title,
            s.first_page,
            s.first_page + s.pages.saturating_sub(1),
            s.pages
        ));
        for f in &s.files {
            text.push_str(&format!(
                "    {} — from page {}, {} page(s)\n",
                f.name, f.first_page, f.pages
            ));
        }
    }
    text.push_str(&format!(
        "  bookmarks: {bookmarks} ({} section(s), {} file(s))\n  font: {} (subset)\n  size: {} bytes\n  SHA-256: {}\n",
        report.sections.len(),
        bookmarks - report.sections.len(),
        report.font_family,
        report.size,
        report.sha256
    ));
    let mut value = serde_json::to_value(&report)?;
    value["bookmarks"] = bookmarks.into();
    Output::new(text, &value)
}

fn check_bid(args: CheckArgs, ctx: &Context) -> anyhow::Result<Output> {
    let project = BidProject::open(&args.dir)?;
    let sealed = args.sealed.clone().or_else(|| {
        project
            .manifest()
            .built
            .as_ref()
            .map(|b| PathBuf::from(&b.file))
            .filter(|p| p.is_file())
    });
    // No document, nothing to verify: no trust root is needed.
    let options = if args.integrity_only || sealed.is_none() {
        VerifyOptions::integrity_only()
    } else {
        VerifyOptions::new(TrustChoice::from_home_and_pems(
            Some(ctx.home()),
            &args.trust,
        )?)
    };
    let mut list = check(
        project.tender(),
        Some(&project),
        sealed.as_deref(),
        &options,
    )?;
    if let Some(why) = &args.override_reason {
        let who = args
            .by
            .clone()
            .unwrap_or_else(|| project.manifest().bidder.name.clone());
        list.set_override(&who, why)?;
    }
    let saved = args.dir.join(CHECKLIST_FILE);
    list.save(&saved)?;

    let mut text = list.to_text();
    match &sealed {
        Some(p) => text.push_str(&format!(
            "Document checked: {}{}\n",
            p.display(),
            if args.integrity_only {
                " (integrity only: certificate chains not judged)"
            } else {
                ""
            }
        )),
        None => text.push_str("No document checked (build, seal, then check with --sealed).\n"),
    }
    let missing = list
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Missing)
        .count();
    let invalid = list
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Invalid)
        .count();
    if !list.passed() {
        text.push_str(&format!("{missing} missing, {invalid} invalid.\n"));
        if list.override_.is_none() {
            text.push_str(
                "The bid may not go on; fix the items above, or record a decision with --override REASON.\n",
            );
        }
    }
    text.push_str(&format!("Recorded in {}\n", saved.display()));
    let exit = if list.may_proceed() { 0 } else { 1 };
    let mut value = serde_json::to_value(&list)?;
    value["passed"] = list.passed().into();
    value["may_proceed"] = list.may_proceed().into();
    value["saved"] = serde_json::to_value(&saved)?;
    value["integrity_only"] = args.integrity_only.into();
    Ok(Output::new(text, &value)?.with_exit(exit))
}

fn inspect(file: &Path) -> anyhow::Result<Output> {
    let report = bidkit_bidfile::inspect(file);
    let exit = u8::try_from(report.exit_code()).unwrap_or(2);
    Ok(Output::new(report.to_string(), &report)?.with_exit(exit))
}
