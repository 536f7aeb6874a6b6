//! `bidkit open …`: the opening hall (开标), the tender agent's side.
//!
//! * `status` — every bid file of a tender before any decryption
//!   ([`bidkit_app::opening::load_bids`]): bidder, header signer and chain, submission
//!   time, withdrawal, integrity. Exit 0 when every bid not withdrawn is sound.
//! * `decrypt` — one bidder's bid, by that bidder's unwrap scan
//!   ([`bidkit_app::bid::decrypt_bid`]), then every seal and signature of the decrypted
//!   PDF verified ([`bidkit_pdf::verify::verify_file`]); the PDF and a record of the
//!   opening (`USCC.opened.json`) go to the output directory.
//! * `verify` — the opened bids of an output directory, checked again and summarised.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bidkit_app::AppError;
use bidkit_app::bid::{BidObserver, BidStep, DecryptOptions, DecryptReport};
use bidkit_app::opening::{BidStatus, OpeningOptions, OpeningStatus, load_bids};
use bidkit_app::opening_view::{
    Checked, ConfirmationCheck, OPENED_SUFFIX, OpenedTargets, RECORD_DATA_FORMAT, RecordData,
    Summary, check_opened, confirmation_files, confirmation_lines, confirmation_path,
    confirmation_suite, opened_record, opened_record_paths, record_data_path, record_dir,
    record_rows, summarise, unreadable,
};
use bidkit_app::session::{QrFrame, SessionObserver, TrustRoots};
use bidkit_bidfile::{Progress, Verdict, hash_file};
use bidkit_pdf::verify::{TrustChoice, VerifyOptions, verify_file};
use bidkit_pki::Certificate;
use bidkit_protocol::RelayAddress;
use bidkit_tender::{OpeningRecord, write_opening_record};
use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;

use crate::context::{Context, block_on};
use crate::output::Output;
use crate::screen::{RelayArgs, Screen, ScreenArgs};

/// `bidkit open …`.
#[derive(Subcommand, Debug)]
pub enum OpenCommand {
    /// Every bid file of a tender before decryption: bidder, signer and chain,
    /// submission time (receipt), withdrawal, integrity. Exit 0: every bid not
    /// withdrawn is intact, signed and for the tender; 1 otherwise.
    Status(StatusArgs),
    /// Decrypt one bidder's bid by that bidder's scan (解密), then verify every seal
    /// and signature of the decrypted PDF. Exit 0: decrypted and every signature
    /// valid; 1: decrypted, but the verification found problems.
    Decrypt(DecryptArgs),
    /// Check the bids opened into a directory again (hashes, seals, signatures) and
    /// summarise. Exit 0: all valid; 1 otherwise.
    Verify(VerifyArgs),
    /// Write the opening record (开标记录) as a PDF: every bid (with --bids, also
    /// those withdrawn or not opened), bidder, quoted price, submission time, bid-file
    /// hash and the verification of its seals. Exit 0: written and every opened bid
    /// valid; 1: written, with problems named in it. Beside it, RECORD.record.json
    /// keeps what it says for `open confirm`.
    Record(RecordArgs),
    /// A bidder confirms the opening record by scan (开标记录确认): the bidder's phone
    /// is shown their row of the record and signs a confirmation of the record's
    /// exact bytes, written as JSON (default: RECORD.confirm-USCC.json beside it).
    /// Refused unless the signing certificate is that bidder's.
    Confirm(ConfirmArgs),
    /// Check an opening record: every bidder's confirmation (beside it, or named),
    /// that the record is the one confirmed (a record sealed afterwards still is),
    /// and the agent's seal when it has one. Exit 0: every confirmation and seal
    /// valid; 1 otherwise.
    VerifyRecord(VerifyRecordArgs),
}

/// Arguments of `bidkit open confirm`.
#[derive(clap::Args, Debug)]
pub struct ConfirmArgs {
    /// The opening record (the PDF `open record` wrote; only read).
    #[arg(value_name = "RECORD.pdf")]
    record: PathBuf,
    /// The confirming bidder (统一社会信用代码, as the record shows it).
    #[arg(long, value_name = "USCC")]
    bidder: String,
    /// Where the confirmation goes (default: RECORD.confirm-USCC.json beside it).
    #[arg(short, long, value_name = "CONFIRMATION.json")]
    output: Option<PathBuf>,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Arguments of `bidkit open verify-record`.
#[derive(clap::Args, Debug)]
pub struct VerifyRecordArgs {
    /// The opening record (sealed or not).
    #[arg(value_name = "RECORD.pdf")]
    record: PathBuf,
    /// A confirmation to check (default: every RECORD.confirm-*.json beside the
    /// record, named after the unsealed record); repeatable.
    #[arg(long, value_name = "CONFIRMATION.json")]
    confirmation: Vec<PathBuf>,
    /// The record as `open record` wrote it (default: RECORD.record.json beside it),
    /// for the list of bidders who have not confirmed.
    #[arg(long, value_name = "RECORD.record.json")]
    data: Option<PathBuf>,
    /// Trust these root certificates (PEM) as well as the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
}

/// Arguments of `bidkit open record`.
#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// The directory `open decrypt` wrote to.
    #[arg(value_name = "OUT_DIR")]
    dir: PathBuf,
    /// The directory of the bid files (to list the bids withdrawn or not opened too);
    /// repeatable.
    #[arg(long, value_name = "DIR")]
    bids: Vec<PathBuf>,
    /// The PDF to write.
    #[arg(short, long, value_name = "RECORD.pdf")]
    output: PathBuf,
    /// The tender (default: the opened bids').
    #[arg(long, value_name = "ID")]
    tender_id: Option<String>,
    /// The project's name, shown in the record.
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// The tender agent, shown in the record.
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// The CJK font (TTF/OTF/TTC; default: $BIDKIT_FONT, then well-known system fonts).
    #[arg(long, value_name = "FONT")]
    font: Option<PathBuf>,
    /// Trust these root certificates (PEM) as well as the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
}

/// Which bid files, for which tender, trusting what.
#[derive(clap::Args, Debug)]
pub struct BidsArgs {
    /// Directories of bid files (`*.bid`, with receipts and withdrawals as `*.json`
    /// beside them) or the files themselves.
    #[arg(required = true, value_name = "DIR")]
    inputs: Vec<PathBuf>,
    /// The tender being opened (default: the first bid file's).
    #[arg(long, value_name = "ID")]
    tender_id: Option<String>,
}

/// Arguments of `bidkit open status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    bids: BidsArgs,
    /// Trust these root certificates (PEM) instead of the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
}

/// Arguments of `bidkit open decrypt`.
#[derive(clap::Args, Debug)]
pub struct DecryptArgs {
    #[command(flatten)]
    bids: BidsArgs,
    /// The bidder whose bid is opened (统一社会信用代码, as `open status` shows it).
    #[arg(long, value_name = "USCC")]
    bidder: String,
    /// The directory the decrypted PDF (`USCC.pdf`) and its record go to (created).
    #[arg(short, long, value_name = "OUT_DIR")]
    output: PathBuf,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Arguments of `bidkit open verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The directory `open decrypt` wrote to.
    #[arg(value_name = "OUT_DIR")]
    dir: PathBuf,
    /// Trust these root certificates (PEM) as well as the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
}

/// Run `bidkit open …`.
pub fn run(cmd: OpenCommand, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    match cmd {
        OpenCommand::Status(args) => status(args, ctx),
        OpenCommand::Decrypt(args) => decrypt(args, ctx, json),
        OpenCommand::Verify(args) => verify(args, ctx),
        OpenCommand::Record(args) => record(args, ctx),
        OpenCommand::Confirm(args) => confirm(args, ctx, json),
        OpenCommand::VerifyRecord(args) => verify_record(args, ctx),
    }
}

fn opening_options(
    bids: &BidsArgs,
    trust: TrustRoots,
    ctx: &Context,
    now: OffsetDateTime,
) -> OpeningOptions {
    OpeningOptions {
        inputs: bids.inputs.clone(),
        tender_id: bids.tender_id.clone(),
        trust,
        home: ctx.home().to_path_buf(),
        now,
    }
}

fn trust_roots(paths: &[PathBuf]) -> anyhow::Result<TrustRoots> {
    if paths.is_empty() {
        return Ok(TrustRoots::HomeCa);
    }
    let mut roots = Vec::new();
    for path in paths {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        roots.extend(
            Certificate::all_from_pem(&pem)
                .with_context(|| format!("{} holds no readable certificate", path.display()))?,
        );
    }
    Ok(TrustRoots::Roots(roots))
}

// ---------------------------------------------------------------------------------
// status

fn status(args: StatusArgs, ctx: &Context) -> anyhow::Result<Output> {
    let opts = opening_options(
        &args.bids,
        trust_roots(&args.trust)?,
        ctx,
        OffsetDateTime::now_utc(),
    );
    let status = load_bids(&opts)?;
    // No bid file at all is not a successful opening.
    let exit = if status.bids.is_empty() {
        1
    } else {
        status.exit_code()
    };
    Ok(Output::new(status_text(&status), &status)?.with_exit(exit))
}

fn status_text(s: &OpeningStatus) -> String {
    let mut t = format!(
        "开标 / opening of tender {}: {} bid file(s), checked {}\n",
        s.tender_id.as_deref().unwrap_or("(unknown)"),
        s.bids.len(),
        bidkit_pki::fmt_time(s.checked_at)
    );
    let _ = writeln!(
        t,
        "  {:<4} {:<10} {:<20} {} {:<20} {:<9} {:<9} FILE",
        "#",
        "STATE",
        "USCC",
        pad("BIDDER", 24),
        "SUBMITTED",
        "INTEGRITY",
        "SIGNER"
    );
    for (i, b) in s.bids.iter().enumerate() {
        let (name, uscc) = b
            .bidder
            .as_ref()
            .map(|d| (d.name.as_str(), d.uscc.as_str()))
            .unwrap_or(("—", "—"));
        let signer = match &b.signer {
            Some(sg) if sg.verified() => "verified",
            Some(_) => "INVALID",
            None => "—",
        };
        let integrity = match b.integrity {
            Verdict::Intact => "intact",
            Verdict::Damaged => "DAMAGED",
            Verdict::Unreadable => "UNREADABLE",
        };
        let _ = writeln!(
            t,
            "  {:<4} {:<10} {:<20} {} {:<20} {:<9} {:<9} {}",
            i + 1,
            b.state(),
            uscc,
            pad(name, 24),
            b.submitted_at.as_deref().unwrap_or("(no receipt)"),
            integrity,
            signer,
            file_name(&b.file)
        );
    }
    for (i, b) in s.bids.iter().enumerate() {
        if let Some(sg) = &b.signer
            && sg.verified()
        {
            let _ = writeln!(t, "  [{}] 签名 / signed by {}", i + 1, sg.chain.join(" ← "));
        }
        if let Some(hash) = &b.bid_file_hash {
            let _ = writeln!(t, "  [{}] 文件哈希 / file hash {hash}", i + 1);
        }
        for st in b.statements.iter().filter(|st| st.valid) {
            let _ = writeln!(
                t,
                "  [{}] {:?} {} at {}{}",
                i + 1,
                st.kind,
                file_name(&st.file),
                st.at.as_deref().unwrap_or("?"),
                st.reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            );
        }
        for p in &b.problems {
            let _ = writeln!(t, "  [{}] 问题 / problem: {p}", i + 1);
        }
    }
    for st in &s.unmatched_statements {
        let _ = writeln!(
            t,
            "  statement {} is about no bid file here{}",
            st.file.display(),
            st.problem
                .as_deref()
                .map(|p| format!(" (and does not verify: {p})"))
                .unwrap_or_default()
        );
    }
    if s.bids.is_empty() {
        let _ = writeln!(
            t,
            "没有投标文件 / no bid file (*.{}) was found.",
            bidkit_app::opening::BID_EXTENSION
        );
        return t;
    }
    let open = s.bids.iter().filter(|b| !b.withdrawn).count();
    let sound = s
        .bids
        .iter()
        .filter(|b| !b.withdrawn && b.is_sound())
        .count();
    let _ = writeln!(
        t,
        "{sound} of {open} bid(s) not withdrawn are intact and signed; {} withdrawn.",
        s.bids.len() - open
    );
    t
}

// ---------------------------------------------------------------------------------
// decrypt

fn decrypt(args: DecryptArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let now = OffsetDateTime::now_utc();
    let opts = opening_options(&args.bids, args.relay.trust_roots()?, ctx, now);
    // Trust for the seals, before any scan: a missing root fails here, not after.
    let verify_opts = verify_options(ctx, &args.relay.trust)?;
    let status = load_bids(&opts)?;
    let bid = status.decryptable(&args.bidder)?.clone();
    let suite = bid
        .suite
        .context("the bid file's suite is unknown (its header could not be read)")?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    // A bid package is extracted into USCC/ (bid.pdf, manifest.json, attachments/),
    // a plain payload is USCC.pdf.
    let targets = OpenedTargets::new(&args.output, &args.bidder, &bid);

    let mut sign = args.relay.sign_options(ctx.home())?;
    sign.suite = suite;
    let decrypt_opts = DecryptOptions::new(sign, &bid.file, &targets.target);
    let mut screen = OpenScreen {
        screen: Screen::new(&args.screen, "解密 / unwrap the content key"),
        json,
    };
    let report = block_on(bidkit_app::bid::decrypt_bid(&decrypt_opts, &mut screen))??;

    // A payload that is not a readable PDF is a finding of the opening, not an error:
    // the bid was decrypted and its record is kept.
    let (verification, summary) = match verify_file(&report.pdf, &verify_opts) {
        Ok(v) => {
            let summary = summarise(&v);
            (Some(v), summary)
        }
        Err(e) => (None, unreadable(&report.pdf, &e)),
    };
    let record = opened_record(
        status.tender_id.clone(),
        &bid,
        &report,
        &targets,
        suite,
        now,
        summary.clone(),
    );
    let record_path = targets.record;
    bidkit_app::qr::write_atomically(&record_path, &serde_json::to_vec_pretty(&record)?)?;

    let text = decrypt_text(&report, &bid, &summary, &record_path);
    let exit = u8::from(!summary.valid);
    let value = serde_json::json!({
        "bid": bid,
        "decrypt": report,
        "verification": verification,
        "summary": summary,
        "record": record_path,
    });
    Ok(Output::new(text, &value)?.with_exit(exit))
}

fn verify_options(ctx: &Context, trust: &[PathBuf]) -> anyhow::Result<VerifyOptions> {
    Ok(VerifyOptions::new(TrustChoice::from_home_and_pems(
        Some(ctx.home()),
        trust,
    )?))
}

fn decrypt_text(r: &DecryptReport, bid: &BidStatus, s: &Summary, record: &Path) -> String {
    let mut t = format!(
        "已开启 / opened the bid of {} ({}): {} → {} ({} bytes)\n",
        r.bidder.name,
        r.bidder.uscc,
        bid.file.display(),
        r.output.display(),
        r.content_size
    );
    let _ = writeln!(t, "  内容哈希 / content hash: {}", r.content_hash);
    if let Some(m) = &r.manifest {
        let _ = writeln!(
            t,
            "  投标报价 / quoted price (manifest): {}",
            m.quoted_price().unwrap_or("—")
        );
    }
    let _ = writeln!(
        t,
        "  验证码 / verification code of the unwrap scan: {}",
        r.session.verification_code
    );
    summary_lines(&mut t, s);
    let _ = writeln!(t, "  记录 / record: {}", record.display());
    t
}

fn summary_lines(t: &mut String, s: &Summary) {
    let _ = writeln!(
        t,
        "  签章验证 / seals and signatures: {} — {} of {} valid, {} stamp(s){}",
        if s.valid { "VALID" } else { "NOT VALID" },
        s.valid_signatures,
        s.signatures,
        s.stamps,
        if s.signers.is_empty() {
            String::new()
        } else {
            format!(", by {}", s.signers.join("; "))
        }
    );
    for p in &s.problems {
        let _ = writeln!(t, "    - {p}");
    }
}

/// The screen of the one unwrap scan; with `--json`, only the session's own lines.
struct OpenScreen {
    screen: Screen,
    json: bool,
}

impl SessionObserver for OpenScreen {
    fn session_opened(&mut self, relay: &RelayAddress, embedded: bool) {
        self.screen.session_opened(relay, embedded);
    }

    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        self.screen.qr_frame(frame)
    }

    fn join_rejected(&mut self, code: &str, hint: &str, total: u32) {
        self.screen.join_rejected(code, hint, total);
    }

    fn phone_joined(&mut self, code: &str) {
        self.screen.phone_joined(code);
    }

    fn request_sent(&mut self, summary: &[String]) {
        self.screen.request_sent(summary);
    }
}

impl BidObserver for OpenScreen {
    fn step(&mut self, step: BidStep, detail: &str) {
        if !self.json {
            self.screen.step(step, detail);
        }
    }

    fn progress(&mut self, progress: &Progress) {
        if !self.json {
            self.screen.progress(progress);
        }
    }
}

// ---------------------------------------------------------------------------------
// verify

/// One opened bid, checked again, as `open verify --json` shows it.
#[derive(Debug, Serialize)]
struct CheckedView {
    record: PathBuf,
    bidder_name: String,
    bidder_uscc: String,
    output: PathBuf,
    /// The decrypted PDF still hashes to the signed content hash.
    content_unchanged: bool,
    verification: Option<Summary>,
    problems: Vec<String>,
    valid: bool,
}

impl From<Checked> for CheckedView {
    fn from(c: Checked) -> Self {
        let (bidder_name, bidder_uscc) = c
            .record
            .map(|r| (r.bidder_name, r.bidder_uscc))
            .unwrap_or_default();
        Self {
            record: c.record_path,
            bidder_name,
            bidder_uscc,
            output: c.pdf,
            content_unchanged: c.content_unchanged,
            verification: c.verification,
            problems: c.problems,
            valid: c.valid,
        }
    }
}

/// Every opened bid of `dir`, checked again.
fn check_dir(dir: &Path, options: &VerifyOptions) -> anyhow::Result<Vec<Checked>> {
    let records =
        opened_record_paths(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if records.is_empty() {
        anyhow::bail!(
            "{} holds no opened bid (no *{OPENED_SUFFIX}; run bidkit open decrypt first)",
            dir.display()
        );
    }
    Ok(records
        .iter()
        .map(|r| check_opened(r, dir, options))
        .collect())
}

fn verify(args: VerifyArgs, ctx: &Context) -> anyhow::Result<Output> {
    let options = verify_options(ctx, &args.trust)?;
    let checked: Vec<CheckedView> = check_dir(&args.dir, &options)?
        .into_iter()
        .map(CheckedView::from)
        .collect();
    let valid = checked.iter().filter(|c| c.valid).count();
    let mut t = format!(
        "已开启的投标 / opened bids in {}: {valid} of {} valid\n",
        args.dir.display(),
        checked.len()
    );
    for c in &checked {
        let _ = writeln!(
            t,
            "  {:<9} {:<20} {} — {}",
            if c.valid { "VALID" } else { "NOT VALID" },
            c.bidder_uscc,
            c.bidder_name,
            c.output.display()
        );
        if let Some(s) = &c.verification {
            summary_lines(&mut t, s);
        }
        for p in &c.problems {
            let _ = writeln!(t, "    - {p}");
        }
    }
    let exit = u8::from(valid != checked.len());
    let value =
        serde_json::json!({ "dir": args.dir, "valid": valid == checked.len(), "bids": checked });
    Ok(Output::new(t, &value)?.with_exit(exit))
}

// ---------------------------------------------------------------------------------
// record

fn record(args: RecordArgs, ctx: &Context) -> anyhow::Result<Output> {
    let now = OffsetDateTime::now_utc();
    let options = verify_options(ctx, &args.trust)?;
    let opened = check_dir(&args.dir, &options)?;
    let status = if args.bids.is_empty() {
        None
    } else {
        Some(load_bids(&OpeningOptions {
            inputs: args.bids.clone(),
            tender_id: args.tender_id.clone(),
            trust: trust_roots(&args.trust)?,
            home: ctx.home().to_path_buf(),
            now,
        })?)
    };
    let tender_id = args
        .tender_id
        .clone()
        .or_else(|| status.as_ref().and_then(|s| s.tender_id.clone()))
        .or_else(|| {
            opened
                .iter()
                .find_map(|c| c.record.as_ref().and_then(|r| r.tender_id.clone()))
        })
        .unwrap_or_else(|| "—".to_owned());

    let others = status.as_ref().map_or(&[][..], |s| s.bids.as_slice());
    let (bids, notes, all_valid, _) = record_rows(&opened, others);
    let record = OpeningRecord {
        tender_id,
        project_name: args.project.clone(),
        opened_at: bidkit_pki::fmt_time(now),
        agent: args.agent.clone(),
        bids,
        notes,
    };
    let report = write_opening_record(&record, &args.output, args.font.as_deref())?;
    let suites = opened
        .iter()
        .filter_map(|c| c.record.as_ref())
        .map(|r| (r.bidder_uscc.clone(), r.suite.clone()))
        .chain(status.iter().flat_map(|s| {
            s.bids
                .iter()
                .filter_map(|b| Some((b.bidder.as_ref()?.uscc.clone(), b.suite?.to_string())))
        }))
        .collect();
    let sidecar = RecordData {
        format: RECORD_DATA_FORMAT.into(),
        pdf: file_name(&report.output),
        sha256: report.sha256.clone(),
        size: report.size,
        suites,
        record: record.clone(),
    };
    let sidecar_path = record_data_path(&args.output);
    bidkit_app::qr::write_atomically(&sidecar_path, &serde_json::to_vec_pretty(&sidecar)?)?;
    let mut t = format!(
        "开标记录 / opening record {} written: {} page(s), {} bid(s), font {}\n",
        report.output.display(),
        report.pages,
        record.bids.len(),
        report.font_family
    );
    let _ = writeln!(t, "  SHA-256: {}", report.sha256);
    for b in &record.bids {
        let _ = writeln!(
            t,
            "  {:<20} {} — {}; {}",
            b.bidder_uscc,
            b.bidder_name,
            b.state,
            b.verification.first().map(String::as_str).unwrap_or("—")
        );
    }
    let _ = writeln!(
        t,
        "  数据 / data for confirmations: {}",
        sidecar_path.display()
    );
    let value = serde_json::json!({ "report": report, "record": record, "valid": all_valid, "data": sidecar_path });
    Ok(Output::new(t, &value)?.with_exit(u8::from(!all_valid)))
}

// ---------------------------------------------------------------------------------
// confirm and verify-record

fn read_record_data(path: &Path) -> anyhow::Result<RecordData> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {} (written by `bidkit open record` beside the record)",
            path.display()
        )
    })?;
    let data: RecordData = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not an opening record's data", path.display()))?;
    if data.format != RECORD_DATA_FORMAT {
        anyhow::bail!(
            "{}: format {:?} (expected {RECORD_DATA_FORMAT:?})",
            path.display(),
            data.format
        );
    }
    Ok(data)
}

/// A SHA-256 of a file, hex (the NIST suite's hash).
fn sha256_hex(path: &Path) -> anyhow::Result<String> {
    Ok(hash_file(path, bidkit_crypto::Suite::Nist)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn confirm(args: ConfirmArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let data_path = record_data_path(&args.record);
    let data = read_record_data(&data_path)?;
    let sha = sha256_hex(&args.record)?;
    if !sha.eq_ignore_ascii_case(&data.sha256) {
        anyhow::bail!(
            "{} is not the record {} describes (SHA-256 {sha}, expected {}): confirm the record as `bidkit open record` wrote it, before it is sealed",
            args.record.display(),
            data_path.display(),
            data.sha256
        );
    }
    let row = data
        .record
        .bids
        .iter()
        .find(|b| b.bidder_uscc == args.bidder)
        .with_context(|| {
            format!(
                "bidder {} is not in the opening record {}",
                args.bidder,
                args.record.display()
            )
        })?;
    let lines = confirmation_lines(&data.record, row);
    let mut sign = args.relay.sign_options(ctx.home())?;
    if let Some(suite) = data.suites.get(&args.bidder).and_then(|s| s.parse().ok()) {
        sign.suite = suite;
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| confirmation_path(&args.record, &args.bidder));
    let mut opts = bidkit_app::opening::ConfirmOptions::new(
        sign,
        &args.record,
        &data.record.tender_id,
        &args.bidder,
        &output,
    );
    opts.lines = lines;
    let mut screen = OpenScreen {
        screen: Screen::new(&args.screen, "确认开标记录 / confirm the opening record"),
        json,
    };
    let report = block_on(bidkit_app::opening::confirm_opening(&opts, &mut screen))??;
    let mut t = format!(
        "已确认 / {} confirmed the opening record {} → {}\n",
        report.signer,
        args.record.display(),
        report.file.display()
    );
    let _ = writeln!(
        t,
        "  记录哈希 / record hash ({}): {}",
        report.statement.suite, report.statement.record_hash
    );
    for l in &report.statement.lines {
        let _ = writeln!(t, "  {l}");
    }
    Output::new(t, &report)
}

fn verify_record(args: VerifyRecordArgs, ctx: &Context) -> anyhow::Result<Output> {
    let now = OffsetDateTime::now_utc();
    let roots = trust_roots(&args.trust)?;
    let data_path = args
        .data
        .clone()
        .unwrap_or_else(|| record_data_path(&args.record));
    let data = if data_path.exists() {
        Some(read_record_data(&data_path)?)
    } else {
        None
    };
    let mut files = args.confirmation.clone();
    if files.is_empty() {
        // Confirmations are named after the record `open record` wrote.
        files = confirmation_files(&args.record, data.as_ref())
            .with_context(|| format!("cannot read {}", record_dir(&args.record).display()))?;
    }
    let mut checks = Vec::new();
    for file in &files {
        let suite = confirmation_suite(file);
        let verified =
            bidkit_app::session::load_trust(&roots, ctx.home(), suite, now).and_then(|trust| {
                bidkit_app::opening::verify_confirmation(file, Some(&args.record), &trust, now)
            });
        checks.push(match verified {
            Ok(v) => ConfirmationCheck {
                file: file.clone(),
                valid: true,
                bidder_uscc: Some(v.statement.bidder.uscc.clone()),
                bidder_name: Some(v.statement.bidder.name.clone()),
                signer: Some(v.signer.clone()),
                confirmed_at: Some(v.statement.confirmed_at.clone()),
                problem: None,
            },
            Err(e) => ConfirmationCheck {
                file: file.clone(),
                valid: false,
                bidder_uscc: None,
                bidder_name: None,
                signer: None,
                confirmed_at: None,
                problem: Some(e.to_string()),
            },
        });
    }
    // A confirmation must be for the tender of the record and by a bidder in it.
    if let Some(d) = &data {
        for c in checks.iter_mut().filter(|c| c.valid) {
            let known = c
                .bidder_uscc
                .as_ref()
                .is_some_and(|u| d.record.bids.iter().any(|b| &b.bidder_uscc == u));
            if !known {
                c.valid = false;
                c.problem = Some(format!(
                    "bidder {} is not in the record",
                    c.bidder_uscc.as_deref().unwrap_or("?")
                ));
            }
        }
    }
    let options = verify_options(ctx, &args.trust)?;
    let seal = match verify_file(&args.record, &options) {
        Ok(r) => summarise(&r),
        Err(e) => unreadable(&args.record, &e),
    };
    let sealed = seal.signatures > 0;
    let seal_ok = !sealed || seal.valid;
    let pending: Vec<String> = data
        .as_ref()
        .map(|d| {
            d.record
                .bids
                .iter()
                .filter(|b| {
                    !checks
                        .iter()
                        .any(|c| c.valid && c.bidder_uscc.as_deref() == Some(&b.bidder_uscc))
                })
                .map(|b| format!("{} ({})", b.bidder_name, b.bidder_uscc))
                .collect()
        })
        .unwrap_or_default();
    let all_valid = checks.iter().all(|c| c.valid) && seal_ok;
    let mut t = format!(
        "开标记录 / opening record {}: {} confirmation(s), {} valid; {}\n",
        args.record.display(),
        checks.len(),
        checks.iter().filter(|c| c.valid).count(),
        if !sealed {
            "not sealed yet".to_owned()
        } else if seal.valid {
            format!("sealed, VALID ({})", seal.signers.join("; "))
        } else {
            "sealed, NOT VALID".to_owned()
        }
    );
    for c in &checks {
        match &c.problem {
            None => {
                let _ = writeln!(
                    t,
                    "  已确认 / confirmed by {} ({}) at {} — signed by {}",
                    c.bidder_name.as_deref().unwrap_or("?"),
                    c.bidder_uscc.as_deref().unwrap_or("?"),
                    c.confirmed_at.as_deref().unwrap_or("?"),
                    c.signer.as_deref().unwrap_or("?")
                );
            }
            Some(p) => {
                let _ = writeln!(t, "  无效 / INVALID {}: {p}", c.file.display());
            }
        }
    }
    for p in &pending {
        let _ = writeln!(t, "  未确认 / not confirmed: {p}");
    }
    if sealed {
        summary_lines(&mut t, &seal);
    }
    let value = serde_json::json!({
        "record": args.record,
        "valid": all_valid,
        "confirmations": checks,
        "not_confirmed": pending,
        "sealed": sealed,
        "seal": seal,
    });
    Ok(Output::new(t, &value)?.with_exit(u8::from(!all_valid)))
}

/// `text` padded with spaces to `width` terminal columns (CJK characters take two).
fn pad(text: &str, width: usize) -> String {
    let wide = |c: char| matches!(u32::from(c), 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6);
    let columns: usize = text.chars().map(|c| if wide(c) { 2 } else { 1 }).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(columns)))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
