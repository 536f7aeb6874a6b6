//! `bidkit bid encrypt | decrypt | submit | withdraw | verify-statement`: the bid-file
//! use cases of `bidkit_app::bid` with the bidder's phone over the relay. This module
//! parses flags, shows the QR codes and steps (via [`Screen`]) and prints the reports.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bidkit_app::AppError;
use bidkit_app::bid::{
    BidObserver, BidStep, DecryptOptions, DecryptReport, EncryptOptions, EncryptReport,
    SessionSummary, StatementFile, StatementReport, StatementVerification, SubmitOptions,
    WithdrawOptions,
};
use bidkit_app::session::{QrFrame, SessionObserver, TrustRoots, load_trust};
use bidkit_app::sign::SignOptions;
use bidkit_bidfile::{Decryptor, Progress};
use bidkit_crypto::Suite;
use bidkit_pki::Certificate;
use bidkit_protocol::RelayAddress;
use time::OffsetDateTime;

use crate::context::{Context, block_on};
use crate::output::Output;
use crate::screen::{RelayArgs, Screen, ScreenArgs};

/// Arguments of `bidkit bid encrypt`.
#[derive(clap::Args, Debug)]
pub struct EncryptArgs {
    /// A bid project directory (the payload is then a bid package: the sealed PDF
    /// the project's checklist passed — or --pdf — with the project's manifest), or
    /// the sealed bid document (with --manifest: packaged with it; without: the
    /// payload as it is). Only read.
    #[arg(value_name = "PROJECT|SEALED.pdf")]
    input: PathBuf,
    /// The bid file to write (named only once complete and signed by the phone).
    #[arg(short, long, value_name = "BID.bid")]
    output: PathBuf,
    /// The tender this bid is for (default with a project or --manifest: the
    /// manifest's; required otherwise).
    #[arg(long, value_name = "ID")]
    tender_id: Option<String>,
    /// Package the PDF with this project manifest (a bid.json) as a bid package.
    #[arg(long, value_name = "bid.json")]
    manifest: Option<PathBuf>,
    /// With a project directory: the sealed PDF (default: the one `bid check
    /// --sealed` last checked; it must be unchanged since).
    #[arg(long, value_name = "SEALED.pdf")]
    pdf: Option<PathBuf>,
    /// Add this file to the bid package under attachments/ (with a project or
    /// --manifest); repeatable.
    #[arg(long = "attach", value_name = "FILE")]
    attachments: Vec<PathBuf>,
    /// Also encrypt to this encryption certificate (PEM, e.g. a platform's escrow
    /// certificate; must chain to the trust roots); repeatable.
    #[arg(long, value_name = "CERT.pem")]
    recipient: Vec<PathBuf>,
    /// Plaintext bytes per chunk (default: the format's, 1 MiB).
    #[arg(long, value_name = "N")]
    chunk_size: Option<u32>,
    /// The payload's media type (default: application/pdf for a .pdf input, else
    /// application/octet-stream).
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Arguments of `bidkit bid decrypt`.
#[derive(clap::Args, Debug)]
pub struct DecryptArgs {
    /// The bid file (only read). Its suite is the session's (--suite is not needed).
    #[arg(value_name = "BID.bid")]
    input: PathBuf,
    /// Where the payload goes (named only when every chunk authenticated).
    #[arg(short, long, value_name = "OUT.pdf")]
    output: PathBuf,
    /// The recipient whose phone scans, by encryption-certificate serial (hex, as
    /// `bidkit bid inspect` shows it); default: the bidder.
    #[arg(long, value_name = "SERIAL")]
    recipient: Option<String>,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Arguments of `bidkit bid submit`.
#[derive(clap::Args, Debug)]
pub struct SubmitArgs {
    /// The bid file (only read). Its suite is the session's (--suite is not needed).
    #[arg(value_name = "BID.bid")]
    bid_file: PathBuf,
    /// Where the signed receipt (JSON) goes.
    #[arg(short, long, value_name = "RECEIPT.json")]
    output: PathBuf,
    #[command(flatten)]
    statement: StatementArgs,
}

/// Arguments of `bidkit bid withdraw`.
#[derive(clap::Args, Debug)]
pub struct WithdrawArgs {
    /// The bid file (only read). Its suite is the session's (--suite is not needed).
    #[arg(value_name = "BID.bid")]
    bid_file: PathBuf,
    /// Where the signed withdrawal (JSON) goes.
    #[arg(short, long, value_name = "WITHDRAWAL.json")]
    output: PathBuf,
    /// Why (shown on the phone and signed; may be empty).
    #[arg(long, value_name = "TEXT")]
    reason: String,
    #[command(flatten)]
    statement: StatementArgs,
}

/// What `submit` and `withdraw` share.
#[derive(clap::Args, Debug)]
pub struct StatementArgs {
    /// The tender's name as the phone shows it (default: the bid file's tender id).
    #[arg(long, value_name = "NAME")]
    tender_name: Option<String>,
    /// The project code as the phone shows it (default: the tender id).
    #[arg(long, value_name = "CODE")]
    project_code: Option<String>,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Arguments of `bidkit bid verify-statement`.
#[derive(clap::Args, Debug)]
pub struct VerifyStatementArgs {
    /// The statement file (a submission receipt or withdrawal, JSON).
    #[arg(value_name = "STATEMENT.json")]
    file: PathBuf,
    /// Also check that the statement is about this bid file (its whole-file hash).
    #[arg(long, value_name = "BID.bid")]
    bid: Option<PathBuf>,
    /// Trust these root certificates (PEM) instead of the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
}

/// Run `bidkit bid encrypt`.
pub fn encrypt(args: EncryptArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let sign = args.relay.sign_options(ctx.home())?;
    let (pdf, manifest) = encrypt_payload(&args)?;
    let tender_id = match (&args.tender_id, &manifest) {
        (Some(t), _) => t.clone(),
        (None, Some(m)) => bidkit_app::package::read_bid_manifest(m)?.tender_id,
        (None, None) => anyhow::bail!(
            "--tender-id is required for a payload without a manifest (a project directory or --manifest names it)"
        ),
    };
    if manifest.is_none() && !args.attachments.is_empty() {
        anyhow::bail!("--attach needs a bid package: a project directory or --manifest");
    }
    let mut opts = EncryptOptions::new(sign, &pdf, &args.output, &tender_id);
    opts.manifest = manifest;
    opts.attachments = args.attachments.clone();
    opts.chunk_size = args.chunk_size;
    opts.content_type = args.content_type.clone();
    opts.extra_recipients = args.recipient.clone();
    let mut screen = BidScreen::new(&args.screen, json);
    let report = block_on(bidkit_app::bid::encrypt_bid(&opts, &mut screen))??;
    Output::new(encrypt_text(&report), &report)
}

/// The PDF to encrypt and the manifest to package it with: a project directory gives
/// its `bid.json` and the sealed PDF (`--pdf`, else the one its checklist passed, which
/// must be unchanged and allowed to proceed); a file with `--manifest` is packaged
/// with it; a file alone is the payload as it is.
fn encrypt_payload(args: &EncryptArgs) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
    if !args.input.is_dir() {
        if args.pdf.is_some() {
            anyhow::bail!("--pdf is for a project directory; the input is already a file");
        }
        return Ok((args.input.clone(), args.manifest.clone()));
    }
    if args.manifest.is_some() {
        anyhow::bail!(
            "{} is a project directory: its bid.json is the manifest (drop --manifest)",
            args.input.display()
        );
    }
    let project = bidkit_tender::BidProject::open(&args.input)?;
    let manifest = args.input.join(bidkit_tender::BID_FILE);
    if let Some(pdf) = &args.pdf {
        return Ok((pdf.clone(), Some(manifest)));
    }
    let checklist_path = args.input.join(super::CHECKLIST_FILE);
    let checklist = bidkit_tender::Checklist::load(&checklist_path).with_context(|| {
        format!(
            "{}: run `bidkit bid check {} --sealed SEALED.pdf` first, or name the PDF with --pdf",
            args.input.display(),
            args.input.display()
        )
    })?;
    if !checklist.may_proceed() {
        anyhow::bail!(
            "the checklist {} did not pass (and was not overridden): {}",
            checklist_path.display(),
            checklist
                .failures()
                .map(|i| i.title.clone())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let (Some(pdf), Some(sha)) = (&checklist.pdf, &checklist.pdf_sha256) else {
        anyhow::bail!(
            "the checklist {} checked no sealed PDF; run `bidkit bid check --sealed` or name it with --pdf",
            checklist_path.display()
        );
    };
    let pdf = if pdf.is_absolute() {
        pdf.clone()
    } else {
        // As given to `bid check`, relative to where it ran; fall back to the project.
        if pdf.exists() {
            pdf.clone()
        } else {
            project.dir().join(pdf)
        }
    };
    // SHA-256 is the NIST suite's hash.
    let now: String = bidkit_bidfile::hash_file(&pdf, Suite::Nist)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !now.eq_ignore_ascii_case(sha) {
        anyhow::bail!(
            "{} changed since the checklist passed (SHA-256 {now}, checked {sha}); run `bidkit bid check` again",
            pdf.display()
        );
    }
    Ok((pdf, Some(manifest)))
}

/// Run `bidkit bid decrypt`.
pub fn decrypt(args: DecryptArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let sign = file_session(&args.relay, ctx, &args.input)?;
    let mut opts = DecryptOptions::new(sign, &args.input, &args.output);
    opts.recipient = args.recipient.clone();
    let mut screen = BidScreen::new(&args.screen, json);
    let report = block_on(bidkit_app::bid::decrypt_bid(&opts, &mut screen))??;
    Output::new(decrypt_text(&report), &report)
}

/// Run `bidkit bid submit`.
pub fn submit(args: SubmitArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let opts = submit_options(&args.statement, ctx, &args.bid_file, &args.output)?;
    let mut screen = BidScreen::new(&args.statement.screen, json);
    let report = block_on(bidkit_app::bid::submit_bid(&opts, &mut screen))??;
    Output::new(statement_text("已递交 / submitted", &report), &report)
}

/// Run `bidkit bid withdraw`.
pub fn withdraw(args: WithdrawArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let opts = WithdrawOptions {
        submit: submit_options(&args.statement, ctx, &args.bid_file, &args.output)?,
        reason: args.reason.clone(),
    };
    let mut screen = BidScreen::new(&args.statement.screen, json);
    let report = block_on(bidkit_app::bid::withdraw_bid(&opts, &mut screen))??;
    let mut text = statement_text("已撤标 / withdrawn", &report);
    let _ = writeln!(text, "  理由 / reason: {}", args.reason);
    Output::new(text, &report)
}

/// Run `bidkit bid verify-statement`: exit 0 when the statement verifies, 1 when it
/// does not (the reason is printed, and in JSON `valid: false`); an unreadable file or
/// missing trust roots is an error (exit 1 too).
pub fn verify_statement(args: VerifyStatementArgs, ctx: &Context) -> anyhow::Result<Output> {
    let suite = statement_suite(&args.file).unwrap_or(Suite::Gm);
    let now = OffsetDateTime::now_utc();
    let roots = trust_roots(&args.trust)?;
    let trust = load_trust(&roots, ctx.home(), suite, now)?;
    match bidkit_app::bid::verify_statement(&args.file, args.bid.as_deref(), &trust, now) {
        Ok(v) => {
            let mut value = serde_json::to_value(&v)?;
            value["valid"] = true.into();
            Ok(Output::new(verification_text(&v), &value)?)
        }
        Err(e @ AppError::BidStatement { .. }) => {
            let value = serde_json::json!({
                "file": args.file,
                "valid": false,
                "code": e.code(),
                "reason": e.to_string(),
            });
            Ok(Output::new(format!("无效 / INVALID: {e}\n"), &value)?.with_exit(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// What a bid package's manifest says, for people.
fn manifest_lines(t: &mut String, m: &bidkit_app::package::PackageManifest) {
    let _ = writeln!(
        t,
        "  投标包 / bid package: {} + {} ({} bytes, SHA-256 {}){}",
        bidkit_app::package::MANIFEST_MEMBER,
        m.pdf.name,
        m.pdf.size,
        m.pdf.sha256,
        if m.attachments.is_empty() {
            String::new()
        } else {
            format!(", {} attachment(s)", m.attachments.len())
        }
    );
    let _ = writeln!(
        t,
        "  投标报价 / quoted price: {}",
        m.quoted_price().unwrap_or("—")
    );
}

/// The session options of a command on an existing bid file: the flags', with the
/// suite the bid file's (when it can be opened; otherwise the use case reports why).
fn file_session(relay: &RelayArgs, ctx: &Context, bid_file: &Path) -> anyhow::Result<SignOptions> {
    let mut sign = relay.sign_options(ctx.home())?;
    if let Ok(opened) = Decryptor::open(bid_file) {
        sign.suite = opened.header().suite();
    }
    Ok(sign)
}

fn submit_options(
    args: &StatementArgs,
    ctx: &Context,
    bid_file: &Path,
    output: &Path,
) -> anyhow::Result<SubmitOptions> {
    let sign = file_session(&args.relay, ctx, bid_file)?;
    let mut opts = SubmitOptions::new(sign, bid_file, output);
    opts.tender_name = args.tender_name.clone();
    opts.project_code = args.project_code.clone();
    Ok(opts)
}

/// The suite a statement file says it is in (its readable part; what was signed is
/// checked by the verification, which fails under the wrong suite's roots anyway).
fn statement_suite(path: &Path) -> Option<Suite> {
    let bytes = std::fs::read(path).ok()?;
    let file: StatementFile = serde_json::from_slice(&bytes).ok()?;
    file.statement.get("suite")?.as_str()?.parse().ok()
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

fn session_line(t: &mut String, s: &SessionSummary) {
    let _ = writeln!(
        t,
        "  {} 验证码 / verification code: {} (session {})",
        s.purpose, s.verification_code, s.session_id
    );
}

fn encrypt_text(r: &EncryptReport) -> String {
    let mut t = format!(
        "已加密 / bid file {} written ({} bytes, {})\n",
        r.file.display(),
        r.file_len,
        r.suite
    );
    let _ = writeln!(t, "  招标 / tender: {}", r.tender_id);
    let _ = writeln!(
        t,
        "  投标人 / bidder: {} ({})",
        r.bidder.name, r.bidder.uscc
    );
    let _ = writeln!(
        t,
        "  内容 / payload: {} ({} bytes, {} chunk(s)), hash {}",
        r.input.display(),
        r.content_size,
        r.chunks,
        r.content_hash
    );
    if let Some(m) = &r.manifest {
        manifest_lines(&mut t, m);
    }
    let _ = writeln!(t, "  文件 / file id: {}", r.file_id);
    for rec in &r.recipients {
        let _ = writeln!(
            t,
            "  接收者 / recipient ({:?}): {} ({})",
            rec.role, rec.serial, rec.subject
        );
    }
    let _ = writeln!(t, "  签名 / signed by {} ({})", r.signer_serial, r.signer);
    for s in &r.sessions {
        session_line(&mut t, s);
    }
    t
}

fn decrypt_text(r: &DecryptReport) -> String {
    let mut t = format!(
        "已解密 / {} decrypted into {} ({} bytes, {} chunk(s) authenticated)\n",
        r.bid_file.display(),
        r.output.display(),
        r.content_size,
        r.chunks
    );
    let _ = writeln!(t, "  招标 / tender: {}", r.tender_id);
    let _ = writeln!(
        t,
        "  投标人 / bidder: {} ({})",
        r.bidder.name, r.bidder.uscc
    );
    let _ = writeln!(
        t,
        "  内容 / payload: {}, hash {}",
        r.content_type, r.content_hash
    );
    if let Some(m) = &r.manifest {
        let _ = writeln!(t, "  投标文件 / bid document: {}", r.pdf.display());
        manifest_lines(&mut t, m);
    }
    let _ = writeln!(
        t,
        "  签名 / header signed by {}",
        r.signer_chain.join(" ← ")
    );
    let _ = writeln!(
        t,
        "  接收者 / recipient ({:?}): {} ({})",
        r.recipient.role, r.recipient.serial, r.recipient.subject
    );
    session_line(&mut t, &r.session);
    t
}

fn statement_text(head: &str, r: &StatementReport) -> String {
    let mut t = format!(
        "{head}: {} — statement written to {}\n",
        r.bid_file.display(),
        r.file.display()
    );
    let _ = writeln!(t, "  招标 / tender: {}", r.tender_id);
    let _ = writeln!(
        t,
        "  投标人 / bidder: {} ({})",
        r.bidder.name, r.bidder.uscc
    );
    let _ = writeln!(t, "  文件哈希 / bid-file hash: {}", r.bid_file_hash);
    let _ = writeln!(t, "  时间 / at: {}", bidkit_pki::fmt_time(r.at));
    let _ = writeln!(t, "  签名 / signed by {} ({})", r.signer_serial, r.signer);
    session_line(&mut t, &r.session);
    t
}

fn verification_text(v: &StatementVerification) -> String {
    let mut t = format!("有效 / VALID: {} ({:?})\n", v.file.display(), v.kind);
    for key in ["tender_id", "submitted_at", "withdrawn_at", "reason"] {
        if let Some(value) = v.statement.get(key) {
            let shown = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            let _ = writeln!(t, "  {key}: {shown}");
        }
    }
    let _ = writeln!(t, "  签名 / signed by {} ({})", v.signer_serial, v.signer);
    let _ = writeln!(t, "  证书链 / chain: {}", v.signer_chain.join(" ← "));
    if v.bid_file_matches == Some(true) {
        t.push_str("  与投标文件一致 / it is about the given bid file\n");
    }
    t
}

/// The screen of a bid-file use case: a fresh [`Screen`] for every scan (so each QR
/// code is announced and drawn from the start), showing steps and progress in text
/// mode; with `--json`, only the session's own lines (QR code, verification code).
struct BidScreen<'a> {
    args: &'a ScreenArgs,
    screen: Screen,
    json: bool,
}

impl<'a> BidScreen<'a> {
    fn new(args: &'a ScreenArgs, json: bool) -> Self {
        BidScreen {
            args,
            screen: Screen::new(args, "投标文件 / bid file"),
            json,
        }
    }
}

impl SessionObserver for BidScreen<'_> {
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

impl BidObserver for BidScreen<'_> {
    fn step(&mut self, step: BidStep, detail: &str) {
        let scan = match step {
            BidStep::FetchEncryptionCertificate => {
                Some("获取加密证书 / send the encryption certificate")
            }
            BidStep::SignHeader => Some("签名 / sign the bid-file header"),
            BidStep::Unwrapping => Some("解密 / unwrap the content key"),
            BidStep::Statement => Some("确认 / approve the statement"),
            _ => None,
        };
        if let Some(action) = scan {
            self.screen = Screen::new(self.args, action);
        }
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
