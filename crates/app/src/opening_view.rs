//! The opening hall screen (开标, agent mode): the bids and their status before decryption, decrypt by scan per bidder, verification results, the opening record.
//!
//! The same crate functions `bidkit open …` calls ([`crate::opening::load_bids`],
//! [`crate::bid::decrypt_bid`], the PDF verifier, `bidkit_tender::write_opening_record`,
//! [`crate::opening::confirm_opening`], [`crate::seal::seal_documents`]), with their
//! results as values a screen shows and their progress forwarded as
//! [`BidProgress`] values. The files written are those of the CLI, in its formats: each
//! decrypted bid as `USCC.pdf` (or the extracted package `USCC/`) with its record
//! `USCC.opened.json` (`bidkit-opened-bid/1`) in the output directory, the record PDF
//! with `NAME.record.json` (`bidkit-opening-record/1`) beside it, so `bidkit open
//! verify`, `open confirm` and `open verify-record` work on what the app wrote.

use std::path::{Component, Path, PathBuf};

use bidkit_bidfile::{Verdict, hash_file};
use bidkit_keystore::{Home, KeystoreConfig};
use bidkit_pdf::placement::Placement;
use bidkit_pdf::sign::SubFilter;
use bidkit_pdf::verify::{
    DocumentVerdict, SignatureVerdict, TrustChoice, VerificationReport, VerifyOptions, verify_file,
};
use bidkit_pki::TrustStore;
use bidkit_tender::{OpeningRecord, RecordBid, RecordReport, TenderPackage, write_opening_record};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppError;
pub use crate::bid_view::BidProgress;
use crate::bid_view::{Forward, sign_options, tender_error};
use crate::opening::{
    BIDDER_LINE, BidStatus, ConfirmOptions, ConfirmationReport, OpeningOptions, OpeningStatus,
    load_bids, verify_confirmation,
};
use crate::seal::{SealDocument, SealOptions, SealReport};
use crate::session::{TrustRoots, load_trust};
use crate::verify_view::{VerifyView, ViewOptions, verify_for_view};

/// The suffix of the record written beside each decrypted bid (as `bidkit open decrypt`).
pub const OPENED_SUFFIX: &str = ".opened.json";
/// The `format` of that record.
pub const OPENED_FORMAT: &str = "bidkit-opened-bid/1";
/// The `format` of the record's data file (`NAME.record.json`).
pub const RECORD_DATA_FORMAT: &str = "bidkit-opening-record/1";
/// The output directory's default name, inside the bid directory.
pub const OPENED_DIR: &str = "opened";
/// The opening record's default file name, in the output directory.
pub const RECORD_FILE: &str = "opening-record.pdf";

/// How the decrypted bids and records are previewed: small pages, the first few.
pub const PREVIEW: ViewOptions = ViewOptions {
    page_width_px: 360,
    max_pages: 4,
};

// ---------------------------------------------------------------------------------
// The tender and the bids before decryption

/// What the tender package says about the opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenderInfo {
    /// 招标编号.
    pub tender_id: String,
    /// 项目名称.
    pub project_name: String,
    /// 招标代理.
    pub agent: String,
    /// `gm` or `nist`.
    pub suite: String,
}

/// Reads a tender package (its directory or `tender.json`).
pub fn tender_info(path: &Path) -> Result<TenderInfo, AppError> {
    let loaded = TenderPackage::load(path).map_err(tender_error)?;
    let p = &loaded.package;
    Ok(TenderInfo {
        tender_id: p.tender_id.clone(),
        project_name: p.project.name.clone(),
        agent: p.agent.name.clone(),
        suite: p.suite.as_str().to_owned(),
    })
}

/// The opening as the screen shows it before (and between) decryptions.
#[derive(Clone, Debug)]
pub struct OpeningView {
    /// The tender package, when one was chosen.
    pub tender: Option<TenderInfo>,
    /// The bid directory.
    pub bids_dir: PathBuf,
    /// Where decrypted bids go (and where the opened ones are found).
    pub out_dir: PathBuf,
    /// Every bid file before decryption ([`load_bids`]).
    pub status: OpeningStatus,
    /// The bids already opened into `out_dir`, with the bid file's index in
    /// `status.bids` when its hash matches one.
    pub opened: Vec<(Option<usize>, OpenedRecord)>,
}

/// Where the decrypted bids of `bids_dir` go unless another directory is given.
pub fn default_out_dir(bids_dir: &Path) -> PathBuf {
    bids_dir.join(OPENED_DIR)
}

/// Loads the opening: the tender package (optional: it names the tender and project),
/// every bid file of `bids_dir` as [`load_bids`] sees it (trusting the home's emulated
/// CA), and the bids already opened into `out_dir` (default [`default_out_dir`]).
pub fn load_opening(
    home: &Path,
    tender: Option<&Path>,
    bids_dir: &Path,
    out_dir: Option<&Path>,
    now: OffsetDateTime,
) -> Result<OpeningView, AppError> {
    if !bids_dir.is_dir() {
        return Err(AppError::InvalidOption {
            option: "bids_dir",
            reason: format!("{} is not a directory", bids_dir.display()),
        });
    }
    let tender = tender.map(tender_info).transpose()?;
    let status = load_bids(&OpeningOptions {
        inputs: vec![bids_dir.to_path_buf()],
        tender_id: tender.as_ref().map(|t| t.tender_id.clone()),
        trust: TrustRoots::HomeCa,
        home: home.to_path_buf(),
        now,
    })?;
    let out_dir = out_dir.map_or_else(|| default_out_dir(bids_dir), Path::to_path_buf);
    let opened = read_opened(&out_dir)
        .into_iter()
        .map(|r| {
            let index = status
                .bids
                .iter()
                .position(|b| b.bid_file_hash.as_deref() == Some(r.bid_file_hash.as_str()));
            (index, r)
        })
        .collect();
    Ok(OpeningView {
        tender,
        bids_dir: bids_dir.to_path_buf(),
        out_dir,
        status,
        opened,
    })
}

/// Every readable opened-bid record of `dir` (none when it does not exist), by file
/// name.
pub fn read_opened(dir: &Path) -> Vec<OpenedRecord> {
    opened_paths(dir)
        .iter()
        .filter_map(|p| read_opened_record(p).ok())
        .collect()
}

fn opened_paths(dir: &Path) -> Vec<PathBuf> {
    opened_record_paths(dir).unwrap_or_default()
}

/// The opened-bid records (`*.opened.json`) of `dir`, sorted by path.
pub fn opened_record_paths(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(OPENED_SUFFIX))
        .collect();
    paths.sort();
    Ok(paths)
}

fn read_opened_record(path: &Path) -> Result<OpenedRecord, String> {
    let record: OpenedRecord = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| format!("{} is not a readable record: {e}", path.display()))?;
    if record.format != OPENED_FORMAT {
        return Err(format!(
            "{}: format {:?} (expected {OPENED_FORMAT:?})",
            path.display(),
            record.format
        ));
    }
    Ok(record)
}

// ---------------------------------------------------------------------------------
// Decrypt

/// What is kept beside each decrypted bid (`USCC.opened.json`), the format of `bidkit
/// open decrypt`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenedRecord {
    /// Always [`OPENED_FORMAT`].
    pub format: String,
    /// The tender opened.
    pub tender_id: Option<String>,
    /// The bidder's name (from the signed header).
    pub bidder_name: String,
    /// The bidder's code.
    pub bidder_uscc: String,
    /// The bid file.
    pub bid_file: PathBuf,
    /// Its whole-file hash (hex).
    pub bid_file_hash: String,
    /// When it was submitted (the receipt).
    pub submitted_at: Option<String>,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    /// The decrypted PDF, relative to the record's directory.
    pub output: PathBuf,
    /// The suite.
    pub suite: String,
    /// Suite hash of the plaintext (hex).
    pub content_hash: String,
    /// Plaintext bytes.
    pub content_size: u64,
    /// The header signer.
    pub signer: String,
    /// The verification code of the unwrap scan.
    pub unwrap_verification_code: String,
    /// The quoted price from the bid package's manifest (a bare PDF has none).
    #[serde(default)]
    pub quoted_price: Option<String>,
    /// What the package's manifest said, when the payload was a package.
    #[serde(default)]
    pub package: Option<OpenedPackage>,
    /// The verification as it was at the opening.
    pub verification: Summary,
}

/// What is kept of a bid package's manifest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenedPackage {
    /// The extracted package's directory, relative to the record's directory.
    pub dir: PathBuf,
    /// SHA-256 of its bid.pdf, as the manifest says.
    pub pdf_sha256: String,
    /// The tender the manifest names.
    pub tender_id: String,
    /// The bidder's name the manifest names.
    pub bidder_name: String,
    /// The bidder's code the manifest names.
    pub bidder_uscc: String,
    /// The attachments' names.
    pub attachments: Vec<String>,
    /// Where the manifest disagrees with the bid file's signed header.
    pub problems: Vec<String>,
}

/// A verification in short (as `bidkit open` keeps it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The document verdict is valid.
    pub valid: bool,
    /// Signatures found.
    pub signatures: usize,
    /// Signatures valid.
    pub valid_signatures: usize,
    /// Stamps in all.
    pub stamps: usize,
    /// Every problem.
    pub problems: Vec<String>,
    /// The signers' common names.
    pub signers: Vec<String>,
}

/// The summary of a verifier's report.
pub fn summarise(r: &VerificationReport) -> Summary {
    let problems = match &r.verdict {
        DocumentVerdict::Valid => Vec::new(),
        DocumentVerdict::NoSignatures => vec!["the document has no seal or signature".into()],
        DocumentVerdict::NotValid { problems } => problems.clone(),
    };
    let mut signers: Vec<String> = r
        .signatures
        .iter()
        .filter_map(|s| s.signer.as_ref().map(|g| common_name(&g.subject)))
        .collect();
    signers.dedup();
    Summary {
        valid: r.verdict == DocumentVerdict::Valid,
        signatures: r.signatures.len(),
        valid_signatures: r
            .signatures
            .iter()
            .filter(|s| matches!(s.verdict, SignatureVerdict::Valid))
            .count(),
        stamps: r.signatures.iter().map(|s| s.stamps.len()).sum(),
        problems,
        signers,
    }
}

/// The summary of a PDF that could not be verified at all (`e` says why).
pub fn unreadable(pdf: &Path, e: &dyn std::fmt::Display) -> Summary {
    Summary {
        valid: false,
        signatures: 0,
        valid_signatures: 0,
        stamps: 0,
        problems: vec![format!("cannot verify {}: {e}", pdf.display())],
        signers: Vec::new(),
    }
}

/// A decrypted bid.
#[derive(Clone, Debug)]
pub struct Decrypted {
    /// The bid file as it was before decryption.
    pub bid: BidStatus,
    /// What [`crate::bid::decrypt_bid`] reported.
    pub report: crate::bid::DecryptReport,
    /// The record written beside it.
    pub record: OpenedRecord,
    /// Where that record is.
    pub record_path: PathBuf,
    /// The decrypted PDF verified and its first pages drawn (`None`: not a readable
    /// PDF; the summary says why).
    pub view: Option<VerifyView>,
}

/// A bidder code as a file-name stem (anything but ASCII letters and digits is `_`).
pub fn safe_name(uscc: &str) -> String {
    uscc.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Decrypts the bid of bidder `uscc` from `bids_dir` into `out_dir` by that bidder's
/// unwrap scan, as `bidkit open decrypt` does: the bid must be decryptable
/// ([`OpeningStatus::decryptable`]), the session runs in the bid file's suite on the
/// relay of the home's settings; the decrypted PDF is verified and the opened-bid
/// record written beside it. Blocking (own runtime): call it from a plain thread.
pub fn decrypt_bidder<F: FnMut(BidProgress) + Send>(
    home: &Path,
    bids_dir: &Path,
    tender_id: Option<&str>,
    uscc: &str,
    out_dir: &Path,
    on_progress: F,
) -> Result<Decrypted, AppError> {
    let now = OffsetDateTime::now_utc();
    let status = load_bids(&OpeningOptions {
        inputs: vec![bids_dir.to_path_buf()],
        tender_id: tender_id.map(str::to_owned),
        trust: TrustRoots::HomeCa,
        home: home.to_path_buf(),
        now,
    })?;
    let bid = status.decryptable(uscc)?.clone();
    let suite = bid.suite.ok_or_else(|| AppError::InvalidOption {
        option: "bidder",
        reason: "the bid file's suite is unknown (its header could not be read)".into(),
    })?;
    std::fs::create_dir_all(out_dir).map_err(|source| AppError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let targets = OpenedTargets::new(out_dir, uscc, &bid);
    let mut sign = sign_options(home)?;
    sign.suite = suite;
    let opts = crate::bid::DecryptOptions::new(sign, &bid.file, &targets.target);
    let report = crate::bid::decrypt_bid_blocking(&opts, &mut Forward(on_progress))?;

    let (view, summary) = match verify_for_view(home, &report.pdf, &PREVIEW) {
        Ok(v) => {
            let summary = summarise(&v.report);
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
        summary,
    );
    write_json(&targets.record, &record)?;
    Ok(Decrypted {
        bid,
        report,
        record,
        record_path: targets.record,
        view,
    })
}

/// Where a decrypted bid and its record go in the output directory (as `bidkit open
/// decrypt` writes them): a bid package is extracted into `USCC/` (`bid.pdf`,
/// `manifest.json`, attachments), a plain payload is `USCC.pdf`; the record is
/// `USCC.opened.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedTargets {
    /// The bidder code as a file-name stem ([`safe_name`]).
    pub name: String,
    /// What the decryption writes: the package directory or the PDF.
    pub target: PathBuf,
    /// The decrypted PDF, relative to the output directory.
    pub relative_pdf: PathBuf,
    /// The opened-bid record.
    pub record: PathBuf,
}

impl OpenedTargets {
    /// The targets of bidder `uscc`'s bid `bid` in `out_dir`.
    pub fn new(out_dir: &Path, uscc: &str, bid: &BidStatus) -> Self {
        let name = safe_name(uscc);
        let is_package = bid.content_type.as_deref() == Some(crate::package::CONTENT_TYPE);
        let (target, relative_pdf) = if is_package {
            (
                out_dir.join(&name),
                PathBuf::from(&name).join(crate::package::PDF_MEMBER),
            )
        } else {
            (
                out_dir.join(format!("{name}.pdf")),
                PathBuf::from(format!("{name}.pdf")),
            )
        };
        let record = out_dir.join(format!("{name}{OPENED_SUFFIX}"));
        Self {
            name,
            target,
            relative_pdf,
            record,
        }
    }
}

/// The opened-bid record of a decryption: bid file `bid` of tender `tender_id`,
/// decrypted as `report` into `targets` at `now` in `suite`, its PDF verified as
/// `summary`; what the manifest says when the payload was a bid package.
pub fn opened_record(
    tender_id: Option<String>,
    bid: &BidStatus,
    report: &crate::bid::DecryptReport,
    targets: &OpenedTargets,
    suite: bidkit_crypto::Suite,
    now: OffsetDateTime,
    summary: Summary,
) -> OpenedRecord {
    let package = report.manifest.as_ref().map(|m| {
        let mut problems = Vec::new();
        if m.tender_id() != report.tender_id {
            problems.push(format!(
                "the manifest is for tender {}, the signed header for {}",
                m.tender_id(),
                report.tender_id
            ));
        }
        OpenedPackage {
            dir: PathBuf::from(&targets.name),
            pdf_sha256: m.pdf.sha256.clone(),
            tender_id: m.tender_id().to_owned(),
            bidder_name: m.bidder().name.clone(),
            bidder_uscc: m.bidder().uscc.clone(),
            attachments: m.attachments.iter().map(|a| a.name.clone()).collect(),
            problems,
        }
    });
    OpenedRecord {
        format: OPENED_FORMAT.into(),
        tender_id,
        bidder_name: report.bidder.name.clone(),
        bidder_uscc: report.bidder.uscc.clone(),
        bid_file: bid.file.clone(),
        bid_file_hash: bid.bid_file_hash.clone().unwrap_or_default(),
        submitted_at: bid.submitted_at.clone(),
        opened_at: now,
        output: targets.relative_pdf.clone(),
        suite: suite.to_string(),
        content_hash: report.content_hash.clone(),
        content_size: report.content_size,
        signer: report.signer.clone(),
        unwrap_verification_code: report.session.verification_code.clone(),
        quoted_price: report
            .manifest
            .as_ref()
            .and_then(|m| m.quoted_price().map(str::to_owned)),
        package,
        verification: summary,
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), AppError> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| AppError::InvalidOption {
        option: "output",
        reason: format!("cannot encode {}: {e}", path.display()),
    })?;
    crate::qr::write_atomically(path, &json)
}

// ---------------------------------------------------------------------------------
// Opened bids checked again

/// One opened bid, checked again before the record is written (as `bidkit open verify`).
#[derive(Clone, Debug)]
pub struct Checked {
    /// The record file.
    pub record_path: PathBuf,
    /// The record, when readable.
    pub record: Option<OpenedRecord>,
    /// The decrypted PDF.
    pub pdf: PathBuf,
    /// It still hashes to the signed content hash (or the package's manifest is
    /// unchanged).
    pub content_unchanged: bool,
    /// Its verification now.
    pub verification: Option<Summary>,
    /// Everything wrong.
    pub problems: Vec<String>,
    /// Unchanged, no problems and every signature valid.
    pub valid: bool,
}

/// The verifier's options with the home's emulated roots (none: nothing trusted).
pub fn verify_options(home: &Path) -> Result<VerifyOptions, AppError> {
    let has_roots = ["gm", "nist"]
        .iter()
        .any(|suite| home.join("ca").join(suite).join("root.pem").is_file());
    let trust = if has_roots {
        TrustChoice::from_home_and_pems(Some(home), &[])?
    } else {
        TrustChoice::Roots(TrustStore::new())
    };
    Ok(VerifyOptions::new(trust))
}

fn plain_relative(p: &Path, max: usize) -> bool {
    p.components().count() <= max && p.components().all(|c| matches!(c, Component::Normal(_)))
}

fn hex_eq(bytes: &[u8], hex: &str) -> bool {
    hex::encode(bytes).eq_ignore_ascii_case(hex)
}

/// Checks the opened bid recorded at `path` in `dir` again.
pub fn check_opened(path: &Path, dir: &Path, options: &VerifyOptions) -> Checked {
    let mut c = Checked {
        record_path: path.to_path_buf(),
        record: None,
        pdf: PathBuf::new(),
        content_unchanged: false,
        verification: None,
        problems: Vec::new(),
        valid: false,
    };
    let record = match read_opened_record(path) {
        Ok(r) => r,
        Err(e) => {
            c.problems.push(e);
            return c;
        }
    };
    if !plain_relative(&record.output, 2) {
        c.problems.push(format!(
            "{}: the decrypted PDF {} is not a plain file name",
            path.display(),
            record.output.display()
        ));
        return c;
    }
    let pdf = dir.join(&record.output);
    c.pdf = pdf.clone();
    if let Some(package) = &record.package {
        if !plain_relative(&package.dir, usize::MAX) {
            c.problems.push(format!(
                "{}: the package directory {} is not a plain name",
                path.display(),
                package.dir.display()
            ));
        } else {
            let extracted = dir.join(&package.dir);
            match crate::package::read_extracted(&extracted) {
                Ok(m) if m.pdf.sha256 != package.pdf_sha256 => c.problems.push(format!(
                    "{}: the manifest changed since the bid was opened",
                    extracted.display()
                )),
                Ok(m) if m.quoted_price() != record.quoted_price.as_deref() => {
                    c.problems.push(format!(
                        "the quoted price in {} is not the one recorded at the opening",
                        extracted.display()
                    ))
                }
                Ok(_) => c.content_unchanged = true,
                Err(e) => c.problems.push(e.to_string()),
            }
        }
        c.problems.extend(package.problems.iter().cloned());
    } else {
        match record
            .suite
            .parse()
            .map_err(|_| format!("unknown suite {:?}", record.suite))
            .and_then(|suite| hash_file(&pdf, suite).map_err(|e| e.to_string()))
        {
            Ok(h) if hex_eq(&h, &record.content_hash) => c.content_unchanged = true,
            Ok(_) => c.problems.push(format!(
                "{} changed since it was decrypted (its hash is not the signed content hash)",
                pdf.display()
            )),
            Err(e) => c.problems.push(e),
        }
    }
    c.verification = Some(match verify_file(&pdf, options) {
        Ok(report) => summarise(&report),
        Err(e) => unreadable(&pdf, &e),
    });
    c.valid = c.content_unchanged
        && c.problems.is_empty()
        && c.verification.as_ref().is_some_and(|s| s.valid);
    c.record = Some(record);
    c
}

// ---------------------------------------------------------------------------------
// The opening record

/// What the record's data file (`NAME.record.json`) keeps: what the record says and
/// which PDF (by SHA-256) says it; the format of `bidkit open record`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordData {
    /// Always [`RECORD_DATA_FORMAT`].
    pub format: String,
    /// The PDF's file name.
    pub pdf: String,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// The suite of each bidder's bid (by USCC).
    pub suites: std::collections::BTreeMap<String, String>,
    /// What the record says.
    pub record: OpeningRecord,
}

/// `DIR/NAME.pdf` → `DIR/NAME.record.json`.
pub fn record_data_path(record: &Path) -> PathBuf {
    record.with_file_name(format!("{}.record.json", stem(record)))
}

/// `DIR/NAME.pdf`, bidder `USCC` → `DIR/NAME.confirm-USCC.json` (as `bidkit open
/// confirm` names it).
pub fn confirmation_path(record: &Path, uscc: &str) -> PathBuf {
    record.with_file_name(format!(
        "{}{}.json",
        confirmation_prefix(record),
        safe_name(uscc)
    ))
}

/// `DIR/NAME.pdf` → the prefix of its confirmations' file names, `NAME.confirm-`.
pub fn confirmation_prefix(record: &Path) -> String {
    format!("{}.confirm-", stem(record))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "record".into())
}

/// Reads a record's data file.
pub fn read_record_data(path: &Path) -> Result<RecordData, AppError> {
    let bytes = std::fs::read(path).map_err(|source| AppError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let data: RecordData = serde_json::from_slice(&bytes).map_err(|e| AppError::InvalidOption {
        option: "record",
        reason: format!("{} is not an opening record's data: {e}", path.display()),
    })?;
    if data.format != RECORD_DATA_FORMAT {
        return Err(AppError::InvalidOption {
            option: "record",
            reason: format!(
                "{}: format {:?} (expected {RECORD_DATA_FORMAT:?})",
                path.display(),
                data.format
            ),
        });
    }
    Ok(data)
}

/// What to put in the opening record.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// The home (trust roots).
    pub home: PathBuf,
    /// The bid directory (to list the bids withdrawn or not opened too).
    pub bids_dir: PathBuf,
    /// The directory the bids were opened into.
    pub out_dir: PathBuf,
    /// The tender package (tender id, project, agent), when chosen.
    pub tender: Option<PathBuf>,
    /// The PDF to write (default: `out_dir/opening-record.pdf`).
    pub output: Option<PathBuf>,
}

/// The written record.
#[derive(Clone, Debug)]
pub struct RecordMade {
    /// What it says.
    pub record: OpeningRecord,
    /// The PDF written.
    pub report: RecordReport,
    /// Its data file.
    pub data_path: PathBuf,
    /// Every opened bid valid and no bid left unopened.
    pub all_valid: bool,
    /// The record verified (no signature yet) and its pages drawn.
    pub view: Option<VerifyView>,
}

/// Writes the opening record (开标记录) as `bidkit open record DIR --bids BIDS`: every
/// opened bid checked again (hash, manifest, seals) with its quoted price, then every
/// other bid (withdrawn, not opened); its data file beside it for confirmations.
pub fn make_record(opts: &RecordOptions) -> Result<RecordMade, AppError> {
    let now = OffsetDateTime::now_utc();
    let options = verify_options(&opts.home)?;
    let tender = opts.tender.as_deref().map(tender_info).transpose()?;
    let opened: Vec<Checked> = opened_paths(&opts.out_dir)
        .iter()
        .map(|p| check_opened(p, &opts.out_dir, &options))
        .collect();
    let status = load_bids(&OpeningOptions {
        inputs: vec![opts.bids_dir.clone()],
        tender_id: tender.as_ref().map(|t| t.tender_id.clone()),
        trust: TrustRoots::HomeCa,
        home: opts.home.clone(),
        now,
    })?;
    if opened.is_empty() && status.bids.is_empty() {
        return Err(AppError::InvalidOption {
            option: "bids_dir",
            reason: format!(
                "{} holds no bid file and {} no opened bid",
                opts.bids_dir.display(),
                opts.out_dir.display()
            ),
        });
    }
    let tender_id = tender
        .as_ref()
        .map(|t| t.tender_id.clone())
        .or_else(|| status.tender_id.clone())
        .or_else(|| {
            opened
                .iter()
                .find_map(|c| c.record.as_ref().and_then(|r| r.tender_id.clone()))
        })
        .unwrap_or_else(|| "—".to_owned());
    let (bids, notes, all_valid, opened_hashes) = record_rows(&opened, &status.bids);
    let record = OpeningRecord {
        tender_id,
        project_name: tender.as_ref().map(|t| t.project_name.clone()),
        opened_at: bidkit_pki::fmt_time(now),
        agent: tender.as_ref().map(|t| t.agent.clone()),
        bids,
        notes,
    };
    let output = opts
        .output
        .clone()
        .unwrap_or_else(|| opts.out_dir.join(RECORD_FILE));
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let report = write_opening_record(&record, &output, None).map_err(tender_error)?;
    let _ = opened_hashes;
    let suites = opened
        .iter()
        .filter_map(|c| c.record.as_ref())
        .map(|r| (r.bidder_uscc.clone(), r.suite.clone()))
        .chain(
            status
                .bids
                .iter()
                .filter_map(|b| Some((b.bidder.as_ref()?.uscc.clone(), b.suite?.to_string()))),
        )
        .collect();
    let data = RecordData {
        format: RECORD_DATA_FORMAT.into(),
        pdf: output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: report.sha256.clone(),
        size: report.size,
        suites,
        record: record.clone(),
    };
    let data_path = record_data_path(&output);
    write_json(&data_path, &data)?;
    let view = verify_for_view(&opts.home, &report.output, &PREVIEW).ok();
    Ok(RecordMade {
        record,
        report,
        data_path,
        all_valid,
        view,
    })
}

/// The record's rows (as `bidkit open record`): the opened bids checked again, then
/// the bid files of `others` not among them (withdrawn, not opened); notes (the
/// records that could not be read); whether all is valid; the hashes of the opened bid
/// files.
pub fn record_rows(
    opened: &[Checked],
    others: &[BidStatus],
) -> (Vec<RecordBid>, Vec<String>, bool, Vec<String>) {
    let mut bids = Vec::new();
    let mut notes = Vec::new();
    let mut all_valid = true;
    let mut hashes = Vec::new();
    for c in opened {
        let Some(r) = &c.record else {
            notes.extend(c.problems.iter().cloned());
            all_valid = false;
            continue;
        };
        hashes.push(r.bid_file_hash.clone());
        all_valid &= c.valid;
        let mut verification = Vec::new();
        if let Some(s) = &c.verification {
            verification.push(format!(
                "{} — {} of {} signature(s) valid, {} stamp(s){}",
                if s.valid {
                    "有效 / VALID"
                } else {
                    "无效 / NOT VALID"
                },
                s.valid_signatures,
                s.signatures,
                s.stamps,
                if s.signers.is_empty() {
                    String::new()
                } else {
                    format!(", by {}", s.signers.join("; "))
                }
            ));
            verification.extend(s.problems.iter().cloned());
        }
        match &r.package {
            Some(p) => verification.push(format!(
                "报价取自投标包清单，清单在投标人签名的密文内 / the quoted price is from the bid package's manifest, inside the payload the bidder signed (content hash in the signed header); manifest: {} ({}), tender {}{}",
                p.bidder_name,
                p.bidder_uscc,
                p.tender_id,
                if p.attachments.is_empty() {
                    String::new()
                } else {
                    format!(", {} attachment(s)", p.attachments.len())
                }
            )),
            None => verification.push(
                "无投标包清单 / no manifest in the payload (a bare PDF): no quoted price".into(),
            ),
        }
        verification.extend(c.problems.iter().cloned());
        bids.push(RecordBid {
            bidder_name: r.bidder_name.clone(),
            bidder_uscc: r.bidder_uscc.clone(),
            state: "已开启 / opened".into(),
            quoted_price: r.quoted_price.clone(),
            submitted_at: r.submitted_at.clone(),
            file_hash: Some(r.bid_file_hash.clone()),
            verification,
        });
    }
    for b in others {
        if b.bid_file_hash.as_ref().is_some_and(|h| hashes.contains(h)) {
            continue;
        }
        let (name, uscc) = b
            .bidder
            .as_ref()
            .map(|d| (d.name.clone(), d.uscc.clone()))
            .unwrap_or_else(|| ("—".into(), "—".into()));
        let state = if b.withdrawn {
            "已撤标 / withdrawn".to_owned()
        } else {
            all_valid = false;
            "未开启 / not opened".to_owned()
        };
        let mut verification = b.problems.clone();
        if verification.is_empty() && !b.withdrawn {
            let file = b.file.file_name().map_or_else(
                || b.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            verification.push(format!("{file} — not decrypted"));
        }
        bids.push(RecordBid {
            bidder_name: name,
            bidder_uscc: uscc,
            state,
            quoted_price: None,
            submitted_at: b.submitted_at.clone(),
            file_hash: b.bid_file_hash.clone(),
            verification,
        });
    }
    (bids, notes, all_valid, hashes)
}

// ---------------------------------------------------------------------------------
// Confirm, seal, check the record

/// A bidder confirms the opening record by scan (`bidkit open confirm`): the phone is
/// shown the bidder's row; the confirmation goes beside the record
/// ([`confirmation_path`]). Blocking (own runtime).
pub fn confirm_record<F: FnMut(BidProgress) + Send>(
    home: &Path,
    record: &Path,
    uscc: &str,
    on_progress: F,
) -> Result<ConfirmationReport, AppError> {
    let data_path = record_data_path(record);
    let data = read_record_data(&data_path)?;
    let sha: String = hex::encode(hash_file(record, bidkit_crypto::Suite::Nist)?);
    if !sha.eq_ignore_ascii_case(&data.sha256) {
        return Err(AppError::InvalidOption {
            option: "record",
            reason: format!(
                "{} is not the record {} describes (confirm the record as it was written, before it is sealed)",
                record.display(),
                data_path.display()
            ),
        });
    }
    let row = data
        .record
        .bids
        .iter()
        .find(|b| b.bidder_uscc == uscc)
        .ok_or_else(|| AppError::InvalidOption {
            option: "bidder",
            reason: format!("bidder {uscc} is not in the opening record"),
        })?;
    let lines = confirmation_lines(&data.record, row);
    let mut sign = sign_options(home)?;
    if let Some(suite) = data.suites.get(uscc).and_then(|s| s.parse().ok()) {
        sign.suite = suite;
    }
    let output = confirmation_path(record, uscc);
    let mut opts = ConfirmOptions::new(sign, record, &data.record.tender_id, uscc, &output);
    opts.lines = lines;
    crate::opening::confirm_opening_blocking(&opts, &mut Forward(on_progress))
}

/// What a bidder's phone is shown of the opening `record` before confirming it: the
/// bidder's row and how many bids the record lists.
pub fn confirmation_lines(record: &OpeningRecord, row: &RecordBid) -> Vec<String> {
    let mut lines = vec![
        format!("{BIDDER_LINE}{}", row.bidder_name),
        format!("统一社会信用代码 / USCC: {}", row.bidder_uscc),
        format!("状态 / state: {}", row.state),
        format!(
            "投标报价 / quoted price: {}",
            row.quoted_price.as_deref().unwrap_or("—")
        ),
    ];
    if let Some(hash) = &row.file_hash {
        lines.push(format!("文件哈希 / bid-file hash: {hash}"));
    }
    lines.push(format!(
        "投标文件 / bids in the record: {}",
        record.bids.len()
    ));
    lines
}

/// One confirmation beside a record, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfirmationCheck {
    /// The file.
    pub file: PathBuf,
    /// It verified (and is about this record and a bidder in it).
    pub valid: bool,
    /// The bidder's code.
    pub bidder_uscc: Option<String>,
    /// The bidder's name.
    pub bidder_name: Option<String>,
    /// The signer.
    pub signer: Option<String>,
    /// When.
    pub confirmed_at: Option<String>,
    /// Why not valid.
    pub problem: Option<String>,
}

/// The directory `record` is in (`.` for a bare file name).
pub fn record_dir(record: &Path) -> &Path {
    record
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

/// The confirmations beside `record` (`*.json` named after it, or after the record
/// `data` names when `record` is the sealed copy), sorted. Err: its directory
/// ([`record_dir`]) could not be read.
pub fn confirmation_files(
    record: &Path,
    data: Option<&RecordData>,
) -> std::io::Result<Vec<PathBuf>> {
    let prefixes: Vec<String> = std::iter::once(confirmation_prefix(record))
        .chain(data.map(|d| confirmation_prefix(Path::new(&d.pdf))))
        .collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(record_dir(record))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.ends_with(".json") && prefixes.iter().any(|x| name.starts_with(x))
        })
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// The suite a confirmation file says it is in (`statement.suite`; GM when it says
/// none or cannot be read).
pub fn confirmation_suite(file: &Path) -> bidkit_crypto::Suite {
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["statement"]["suite"]
                .as_str()
                .and_then(|s| s.parse().ok())
        })
        .unwrap_or(bidkit_crypto::Suite::Gm)
}

/// Every confirmation beside `record` (named after it, or after the record its data
/// file names when `record` is the sealed copy), checked against `record`.
pub fn check_confirmations(
    home: &Path,
    record: &Path,
    data: Option<&RecordData>,
) -> Vec<ConfirmationCheck> {
    let now = OffsetDateTime::now_utc();
    confirmation_files(record, data)
        .unwrap_or_default()
        .into_iter()
        .map(|file| {
            let suite = confirmation_suite(&file);
            let checked = load_trust(&TrustRoots::HomeCa, home, suite, now)
                .and_then(|trust| verify_confirmation(&file, Some(record), &trust, now));
            match checked {
                Ok(v) => {
                    let known = data.is_none_or(|d| {
                        d.record
                            .bids
                            .iter()
                            .any(|b| b.bidder_uscc == v.statement.bidder.uscc)
                    });
                    ConfirmationCheck {
                        file,
                        valid: known,
                        bidder_uscc: Some(v.statement.bidder.uscc.clone()),
                        bidder_name: Some(v.statement.bidder.name.clone()),
                        signer: Some(v.signer.clone()),
                        confirmed_at: Some(v.statement.confirmed_at.clone()),
                        problem: (!known).then(|| {
                            format!("bidder {} is not in the record", v.statement.bidder.uscc)
                        }),
                    }
                }
                Err(e) => ConfirmationCheck {
                    file,
                    valid: false,
                    bidder_uscc: None,
                    bidder_name: None,
                    signer: None,
                    confirmed_at: None,
                    problem: Some(e.to_string()),
                },
            }
        })
        .collect()
}

/// Where the sealed copy of `record` goes by default: `NAME-sealed.pdf` beside it.
pub fn sealed_record_path(record: &Path) -> PathBuf {
    record.with_file_name(format!("{}-sealed.pdf", stem(record)))
}

/// The sealed record.
#[derive(Clone, Debug)]
pub struct SealedRecord {
    /// What the seal use case reported.
    pub report: SealReport,
    /// The sealed PDF.
    pub output: PathBuf,
    /// It verified, with its first pages drawn.
    pub view: Option<VerifyView>,
    /// Why it could not be verified, when it could not.
    pub view_error: Option<String>,
}

/// The agent seals the opening record (seal `seal_id` on page 1, as the demo does) by
/// the agent's scan, into `output` (default [`sealed_record_path`]); the sealed record
/// is then verified. Blocking (own runtime).
pub fn seal_record<F: FnMut(BidProgress) + Send>(
    home: &Path,
    record: &Path,
    seal_id: i64,
    output: Option<&Path>,
    on_progress: F,
) -> Result<SealedRecord, AppError> {
    let output = output.map_or_else(|| sealed_record_path(record), Path::to_path_buf);
    if output == record {
        return Err(AppError::InvalidOption {
            option: "output",
            reason: format!(
                "{} is the record; inputs are never overwritten",
                output.display()
            ),
        });
    }
    let opts = SealOptions {
        sign: sign_options(home)?,
        seal_id,
        placement: Placement::Page { page: 1, at: None },
        sub_filter: SubFilter::default(),
        documents: vec![SealDocument {
            input: record.to_path_buf(),
            output: output.clone(),
        }],
        ses: false,
        tsa_url: None,
    };
    let mut observer = Forward(on_progress);
    let report = crate::sign::block_on(crate::seal::seal_documents(&opts, &mut observer))??;
    let (view, view_error) = match verify_for_view(home, &output, &PREVIEW) {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(SealedRecord {
        report,
        output,
        view,
        view_error,
    })
}

/// An opening record as found on disk: the file (as written, or the agent's sealed
/// copy), the record as written, what it says, its verification and preview, and the
/// confirmations beside it checked against this file.
#[derive(Clone, Debug)]
pub struct RecordState {
    /// The file looked at.
    pub path: PathBuf,
    /// The record as written (the one bidders confirm); equal to `path` unless `path`
    /// is a sealed copy.
    pub written: PathBuf,
    /// What it says (its data file).
    pub data: RecordData,
    /// SHA-256 of `path` (hex).
    pub sha256: String,
    /// Size of `path`.
    pub size: u64,
    /// `path` verified, its first pages drawn (`None`: unreadable).
    pub view: Option<VerifyView>,
    /// Confirmations beside it.
    pub confirmations: Vec<ConfirmationCheck>,
}

/// Looks at the opening record `path`: its data file is `NAME.record.json` beside it,
/// or, for a sealed copy `NAME-sealed.pdf`, the written record's. `view` is `path`
/// verified if the caller already has it (else it is verified here).
pub fn record_state(
    home: &Path,
    path: &Path,
    view: Option<VerifyView>,
) -> Result<RecordState, AppError> {
    let own = record_data_path(path);
    let written = if own.is_file() {
        path.to_path_buf()
    } else {
        let s = stem(path);
        let base = s.strip_suffix("-sealed").unwrap_or(&s);
        path.with_file_name(format!("{base}.pdf"))
    };
    let data = read_record_data(&record_data_path(&written))?;
    let sha256 = hex::encode(hash_file(path, bidkit_crypto::Suite::Nist)?);
    let size = std::fs::metadata(path)
        .map_err(|source| AppError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let view = match view {
        Some(v) => Some(v),
        None => verify_for_view(home, path, &PREVIEW).ok(),
    };
    let confirmations = check_confirmations(home, path, Some(&data));
    Ok(RecordState {
        path: path.to_path_buf(),
        written,
        data,
        sha256,
        size,
        view,
        confirmations,
    })
}

/// A seal the agent may seal the record with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealChoice {
    /// Its platform id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The phone (of the home) whose holder sees it.
    pub phone: String,
    /// Whether that holder may apply it now.
    pub usable: bool,
}

/// The seals the home's phones see (each once, usable first).
pub fn seal_choices(home: &Path) -> Vec<SealChoice> {
    let keystore = Home::new(home, KeystoreConfig::default());
    let mut names: Vec<String> = std::fs::read_dir(home.join("phones"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out: Vec<SealChoice> = Vec::new();
    for name in names {
        let Ok(phone) = keystore.phone(&name) else {
            continue;
        };
        let Ok(seals) = phone.seals() else { continue };
        for s in seals {
            if let Some(existing) = out.iter_mut().find(|c| c.id == s.seal.id) {
                if s.usable && !existing.usable {
                    existing.usable = true;
                    existing.phone = name.clone();
                }
                continue;
            }
            out.push(SealChoice {
                id: s.seal.id,
                name: s.seal.name,
                phone: name.clone(),
                usable: s.usable,
            });
        }
    }
    out.sort_by_key(|c| (!c.usable, c.id));
    out
}

/// The common name of a displayed subject (`C=CN, CN=张三, …` → `张三`).
pub fn common_name(subject: &str) -> String {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::to_owned)
        .unwrap_or_else(|| subject.to_owned())
}

/// The integrity verdict as one word (`intact`, `damaged`, `unreadable`).
pub fn integrity_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Intact => "intact",
        Verdict::Damaged => "damaged",
        Verdict::Unreadable => "unreadable",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn names_and_paths_follow_the_cli() {
        assert_eq!(safe_name("91110000MA0000001X"), "91110000MA0000001X");
        assert_eq!(safe_name("../a b"), "___a_b");
        let rec = Path::new("/x/opening-record.pdf");
        assert_eq!(
            record_data_path(rec),
            Path::new("/x/opening-record.record.json")
        );
        assert_eq!(
            confirmation_path(rec, "9111/X"),
            Path::new("/x/opening-record.confirm-9111_X.json")
        );
        assert_eq!(
            sealed_record_path(rec),
            Path::new("/x/opening-record-sealed.pdf")
        );
        assert_eq!(common_name("C=CN, CN=张三, O=x"), "张三");
        assert_eq!(common_name("plain"), "plain");
        assert_eq!(integrity_word(Verdict::Damaged), "damaged");
        assert_eq!(default_out_dir(Path::new("/b")), Path::new("/b/opened"));
    }

    #[test]
    fn a_damaged_bid_file_is_listed_as_a_problem_and_not_decryptable() {
        let tmp = tempfile::tempdir().unwrap();
        let bids = tmp.path().join("bids");
        std::fs::create_dir_all(&bids).unwrap();
        std::fs::write(bids.join("junk.bid"), b"not a bid file").unwrap();
        std::fs::write(bids.join("notes.json"), b"{}").unwrap();
        let v = load_opening(tmp.path(), None, &bids, None, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(v.out_dir, bids.join(OPENED_DIR));
        assert_eq!(v.status.bids.len(), 1);
        let b = &v.status.bids[0];
        assert_eq!(integrity_word(b.integrity), "unreadable");
        assert_eq!(b.state(), "problem");
        assert!(!b.problems.is_empty());
        assert!(v.opened.is_empty());
        assert!(v.status.decryptable("91110000MA0000001X").is_err());
        // Not a directory: a coded error naming it.
        let err = load_opening(
            tmp.path(),
            None,
            &tmp.path().join("missing"),
            None,
            OffsetDateTime::now_utc(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid-option");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn the_tender_package_names_the_tender() {
        let tmp = tempfile::tempdir().unwrap();
        let doc = tmp.path().join("doc.pdf");
        bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(1), &doc)
            .unwrap();
        let pkg = tmp.path().join("tender");
        TenderPackage::new_template(OffsetDateTime::now_utc())
            .write_package(&pkg, Some(&doc))
            .unwrap();
        let t = tender_info(&pkg).unwrap();
        assert_eq!(t.tender_id, "ZB-2026-0001");
        assert_eq!(t.suite, "gm");
        let bids = tmp.path().join("bids");
        std::fs::create_dir_all(&bids).unwrap();
        let v = load_opening(
            tmp.path(),
            Some(&pkg),
            &bids,
            None,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert_eq!(v.status.tender_id.as_deref(), Some("ZB-2026-0001"));
        assert!(tender_info(&tmp.path().join("nope")).is_err());
        // Nothing to record: refused before anything is written.
        let err = make_record(&RecordOptions {
            home: tmp.path().to_path_buf(),
            bids_dir: bids.clone(),
            out_dir: bids.join(OPENED_DIR),
            tender: Some(pkg),
            output: None,
        })
        .unwrap_err();
        assert_eq!(err.code(), "invalid-option");
        assert!(!bids.join(OPENED_DIR).join(RECORD_FILE).exists());
    }

    #[test]
    fn opened_records_are_checked_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let pdf = dir.join("X.pdf");
        bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(1), &pdf)
            .unwrap();
        let hash = hex::encode(hash_file(&pdf, bidkit_crypto::Suite::Gm).unwrap());
        let record = OpenedRecord {
            format: OPENED_FORMAT.into(),
            tender_id: Some("T-1".into()),
            bidder_name: "某某公司".into(),
            bidder_uscc: "X".into(),
            bid_file: dir.join("x.bid"),
            bid_file_hash: "ab".into(),
            submitted_at: None,
            opened_at: OffsetDateTime::now_utc(),
            output: PathBuf::from("X.pdf"),
            suite: "gm".into(),
            content_hash: hash,
            content_size: 1,
            signer: "CN=x".into(),
            unwrap_verification_code: "123456".into(),
            quoted_price: None,
            package: None,
            verification: unreadable(&pdf, &"x"),
        };
        let path = dir.join(format!("X{OPENED_SUFFIX}"));
        write_json(&path, &record).unwrap();
        assert_eq!(read_opened(dir).len(), 1);
        let opts = verify_options(dir).unwrap();
        let c = check_opened(&path, dir, &opts);
        assert!(c.content_unchanged, "{:?}", c.problems);
        // An unsigned PDF is not a valid bid.
        assert!(!c.valid);
        assert_eq!(c.verification.as_ref().unwrap().signatures, 0);
        // The PDF changed afterwards: found.
        std::fs::write(&pdf, b"%PDF-1.7 changed").unwrap();
        let c = check_opened(&path, dir, &opts);
        assert!(!c.content_unchanged);
        assert!(c.problems.iter().any(|p| p.contains("changed")), "{:?}", c);
        // A record naming a file outside the directory is refused.
        let mut evil = record.clone();
        evil.output = PathBuf::from("../../etc/passwd");
        write_json(&path, &evil).unwrap();
        let c = check_opened(&path, dir, &opts);
        assert!(!c.valid && c.problems[0].contains("plain"), "{c:?}");
        // The record rows: an opened bid (not valid) and no others.
        let status = OpeningStatus {
            tender_id: Some("T-1".into()),
            checked_at: OffsetDateTime::now_utc(),
            bids: Vec::new(),
            unmatched_statements: Vec::new(),
        };
        write_json(&path, &record).unwrap();
        let c = check_opened(&path, dir, &opts);
        let (rows, notes, valid, hashes) = record_rows(&[c], &status.bids);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, "已开启 / opened");
        assert!(rows[0].verification[0].contains("NOT VALID"));
        assert!(notes.is_empty() && !valid);
        assert_eq!(hashes, vec!["ab".to_owned()]);
    }

    #[test]
    fn no_phones_no_seals_and_no_confirmations() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(seal_choices(tmp.path()).is_empty());
        let rec = tmp.path().join("opening-record.pdf");
        assert!(check_confirmations(tmp.path(), &rec, None).is_empty());
        std::fs::write(tmp.path().join("opening-record.confirm-X.json"), b"{}").unwrap();
        let checks = check_confirmations(tmp.path(), &rec, None);
        assert_eq!(checks.len(), 1);
        assert!(!checks[0].valid && checks[0].problem.is_some());
        assert!(confirm_record(tmp.path(), &rec, "X", |_| {}).is_err());
    }
}
