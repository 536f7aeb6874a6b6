//! The opening hall (开标), the tender agent's side: every bid file of a tender, what
//! can be known about it **before any decryption**, and, at the opening, the bids
//! decrypted one bidder at a time by the bidder's scan.
//!
//! * [`load_bids`] — for every bid file (`*.bid`) in the given directories (or named
//!   directly) and every submission receipt or withdrawal (`*.json` statement files,
//!   see [`crate::bid::StatementFile`]) beside them: the tender and bidder from the
//!   header, the header signer and its chain to the trust roots, the integrity of the
//!   file without the key ([`bidkit_bidfile::inspect`]: header signature and payload
//!   hashes), when it was submitted (the earliest valid receipt) and whether it was
//!   withdrawn (a valid withdrawal). Statements are matched to bid files by the
//!   whole-file hash they sign; a statement that does not verify, or is about no bid
//!   file present, is reported, never silently used. Nothing is decrypted, nothing is
//!   written, no phone is needed.
//! * [`OpeningStatus::decryptable`] — the bid of one bidder that may be opened
//!   (present, intact, signer verified, for the tender, not withdrawn); the CLI then
//!   runs [`crate::bid::decrypt_bid`] on it (one unwrap scan by that bidder's phone).
//! * [`confirm_opening`] — a bidder confirms the opening record (开标记录) by scan: a
//!   `confirm-opening` session in which the bidder's phone (its signing certificate
//!   must be that bidder's) signs a [`ConfirmationStatement`] naming the record by the
//!   suite hash of its bytes; [`verify_confirmation`] checks such a file, also against
//!   a record the agent sealed afterwards (an incremental update keeps those bytes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bidkit_bidfile::{Bidder, Decryptor, Verdict, hash_file, inspect};
use bidkit_crypto::Suite;
use bidkit_pki::TrustStore;
use serde::Serialize;
use time::OffsetDateTime;

use crate::AppError;
use crate::bid::{StatementFile, StatementKind, verify_statement};
use crate::session::{SessionObserver, TrustRoots, describe, load_trust};
use bidkit_protocol::Purpose;

/// The extension of bid files looked for in a directory.
pub const BID_EXTENSION: &str = "bid";

/// What [`load_bids`] looks at, and against what.
#[derive(Clone, Debug)]
pub struct OpeningOptions {
    /// Directories (every `*.bid` and `*.json` in them, not recursing) and files
    /// (`*.json` are statement files, anything else a bid file).
    pub inputs: Vec<PathBuf>,
    /// The tender being opened; `None`: the tender of the bid files (all must agree,
    /// or each is reported as for another tender than the first).
    pub tender_id: Option<String>,
    /// Trust roots for the header signers and the statements' signers.
    pub trust: TrustRoots,
    /// The home (for [`TrustRoots::HomeCa`]).
    pub home: PathBuf,
    /// The time at which chains are judged.
    pub now: OffsetDateTime,
}

/// The header signer of a bid file and its chain.
#[derive(Clone, Debug, Serialize)]
pub struct SignerStatus {
    /// The signer certificate's serial (hex).
    pub serial: String,
    /// The signer as the certificate names it.
    pub subject: String,
    /// The header signature verifies, by the bidder's signing certificate valid when the
    /// file was made.
    pub signature_valid: bool,
    /// The verified path (signer first, root last), when it verified.
    pub chain: Vec<String>,
    /// Why the chain did not verify (`None`: it did).
    pub chain_problem: Option<String>,
}

impl SignerStatus {
    /// Signature and chain both verified.
    pub fn verified(&self) -> bool {
        self.signature_valid && self.chain_problem.is_none()
    }
}

/// A submission receipt or withdrawal found beside the bid files.
#[derive(Clone, Debug, Serialize)]
pub struct StatementStatus {
    /// The statement file.
    pub file: PathBuf,
    /// What it is.
    pub kind: StatementKind,
    /// When it says it was submitted or withdrawn (RFC 3339), as stated.
    pub at: Option<String>,
    /// The withdrawal's reason.
    pub reason: Option<String>,
    /// The whole-file hash it is about (hex), as stated.
    pub bid_file_hash: Option<String>,
    /// The signer as the certificate names it, when it verified.
    pub signer: Option<String>,
    /// The bidder (USCC), file id (hex) and tender the signed statement names, when it
    /// verified: they must be the bid file's.
    pub bidder_uscc: Option<String>,
    /// See `bidder_uscc`.
    pub file_id: Option<String>,
    /// See `bidder_uscc`.
    pub tender_id: Option<String>,
    /// It verified (signature, signer is the bidder, chain); see `problem` otherwise.
    pub valid: bool,
    /// Why it is not valid.
    pub problem: Option<String>,
}

/// Everything known about one bid file before decryption.
#[derive(Clone, Debug, Serialize)]
pub struct BidStatus {
    /// The bid file.
    pub file: PathBuf,
    /// Its length in bytes (`None`: unreadable).
    pub file_len: Option<u64>,
    /// Suite hash of the whole file (hex), what receipts and the opening record name.
    pub bid_file_hash: Option<String>,
    /// The suite, when the header could be read.
    pub suite: Option<Suite>,
    /// The tender, from the header.
    pub tender_id: Option<String>,
    /// The header's tender is the one being opened.
    pub tender_matches: bool,
    /// Who submitted (the header's bidder).
    pub bidder: Option<Bidder>,
    /// The file id (hex).
    pub file_id: Option<String>,
    /// When the header says the file was made.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Plaintext bytes, as the header says.
    pub content_size: Option<u64>,
    /// What the payload is, as the header says (a bid package is
    /// [`crate::package::CONTENT_TYPE`]).
    pub content_type: Option<String>,
    /// The header signer, when the signature block could be read.
    pub signer: Option<SignerStatus>,
    /// [`bidkit_bidfile::inspect`]'s verdict: intact, damaged (tampered, truncated) or
    /// unreadable.
    pub integrity: Verdict,
    /// When it was submitted: the earliest valid receipt's time (`None`: no valid
    /// receipt).
    pub submitted_at: Option<String>,
    /// A valid withdrawal (撤标) is about this file.
    pub withdrawn: bool,
    /// The statements about this file (valid or not).
    pub statements: Vec<StatementStatus>,
    /// Everything that is wrong, one sentence each (integrity, signer, tender,
    /// statements).
    pub problems: Vec<String>,
}

impl BidStatus {
    /// Intact, signed by the bidder with a verified chain, for the tender opened.
    pub fn is_sound(&self) -> bool {
        self.integrity == Verdict::Intact
            && self.signer.as_ref().is_some_and(SignerStatus::verified)
            && self.tender_matches
    }

    /// What the opening does with it, in one word: `withdrawn`, `ok` or `problem`.
    pub fn state(&self) -> &'static str {
        if self.withdrawn {
            "withdrawn"
        } else if self.is_sound() {
            "ok"
        } else {
            "problem"
        }
    }
}

/// The bid files of a tender as found before decryption.
#[derive(Clone, Debug, Serialize)]
pub struct OpeningStatus {
    /// The tender opened (given, or the first bid file's).
    pub tender_id: Option<String>,
    /// When the chains were judged.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Every bid file, in file-name order.
    pub bids: Vec<BidStatus>,
    /// Statement files about none of the bid files (or unreadable as statements).
    pub unmatched_statements: Vec<StatementStatus>,
}

impl OpeningStatus {
    /// Every bid file that is not withdrawn is sound ([`BidStatus::is_sound`]).
    pub fn all_sound(&self) -> bool {
        self.bids.iter().all(|b| b.withdrawn || b.is_sound())
    }

    /// `0` when [`OpeningStatus::all_sound`], else `1`.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.all_sound())
    }

    /// The bid file of the bidder `uscc` to open: the one sound, not withdrawn bid
    /// file of that bidder. An error says why there is none (or more than one).
    pub fn decryptable(&self, uscc: &str) -> Result<&BidStatus, AppError> {
        let theirs: Vec<&BidStatus> = self
            .bids
            .iter()
            .filter(|b| b.bidder.as_ref().is_some_and(|d| d.uscc == uscc))
            .collect();
        let bad = |reason: String| AppError::InvalidOption {
            option: "bidder",
            reason,
        };
        if theirs.is_empty() {
            return Err(bad(format!("no bid file of bidder {uscc} was found")));
        }
        let open: Vec<&&BidStatus> = theirs.iter().filter(|b| !b.withdrawn).collect();
        match open.as_slice() {
            [] => Err(bad(format!("bidder {uscc} withdrew (撤标) every bid file"))),
            [one] if one.is_sound() => Ok(one),
            [one] => Err(bad(format!(
                "the bid file {} of bidder {uscc} may not be opened: {}",
                one.file.display(),
                one.problems.join("; ")
            ))),
            many => Err(bad(format!(
                "bidder {uscc} has {} bid files that are not withdrawn ({})",
                many.len(),
                many.iter()
                    .map(|b| b.file.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Look at every bid file of a tender before any decryption: see the module
/// documentation. Fails only when an input cannot be listed or read as a directory
/// entry; a damaged bid file or an invalid statement is a finding, not an error.
pub fn load_bids(opts: &OpeningOptions) -> Result<OpeningStatus, AppError> {
    let (bid_files, json_files) = collect_inputs(&opts.inputs)?;
    let mut trusts = TrustCache::new(opts);

    let mut bids: Vec<BidStatus> = bid_files
        .iter()
        .map(|path| bid_status(path, &mut trusts, opts.now))
        .collect();
    let tender_id = opts
        .tender_id
        .clone()
        .or_else(|| bids.iter().find_map(|b| b.tender_id.clone()));
    for bid in &mut bids {
        bid.tender_matches = match (&bid.tender_id, &tender_id) {
            (Some(t), Some(want)) => t == want,
            _ => false,
        };
        if let (Some(t), Some(want)) = (&bid.tender_id, &tender_id)
            && t != want
        {
            bid.problems
                .push(format!("it is a bid for tender {t}, not for {want}"));
        }
    }

    let mut unmatched = Vec::new();
    for path in &json_files {
        let Some((file, suite)) = read_statement_file(path) else {
            continue; // Not a statement file: other JSON beside the bids.
        };
        let status = statement_status(path, &file, suite, &mut trusts, opts.now);
        let target = status.bid_file_hash.as_ref().and_then(|h| {
            bids.iter_mut()
                .find(|b| b.bid_file_hash.as_ref() == Some(h))
        });
        match target {
            Some(bid) => bid.statements.push(status),
            None => unmatched.push(status),
        }
    }
    for bid in &mut bids {
        settle_statements(bid);
    }
    Ok(OpeningStatus {
        tender_id,
        checked_at: opts.now,
        bids,
        unmatched_statements: unmatched,
    })
}

/// Trust stores per suite, loaded once; a suite whose roots cannot be loaded gives
/// its reason to every chain of that suite.
struct TrustCache<'a> {
    opts: &'a OpeningOptions,
    stores: BTreeMap<&'static str, Result<TrustStore, String>>,
}

impl<'a> TrustCache<'a> {
    fn new(opts: &'a OpeningOptions) -> Self {
        TrustCache {
            opts,
            stores: BTreeMap::new(),
        }
    }

    fn get(&mut self, suite: Suite) -> Result<&TrustStore, String> {
        let opts = self.opts;
        self.stores
            .entry(suite.as_str())
            .or_insert_with(|| {
                load_trust(&opts.trust, &opts.home, suite, opts.now).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The bid files and the JSON files among the inputs, each list sorted and without
/// duplicates.
fn collect_inputs(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), AppError> {
    let mut bids = Vec::new();
    let mut jsons = Vec::new();
    let is_json = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    };
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|source| AppError::Io {
                path: input.clone(),
                source,
            })?;
            for entry in entries {
                let entry = entry.map_err(|source| AppError::Io {
                    path: input.clone(),
                    source,
                })?;
                let path = entry.path();
                if !path.is_file() {
                    continue;
                }
                if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case(BID_EXTENSION))
                {
                    bids.push(path);
                } else if is_json(&path) {
                    jsons.push(path);
                }
            }
        } else if input.exists() {
            if is_json(input) {
                jsons.push(input.clone());
            } else {
                bids.push(input.clone());
            }
        } else {
            return Err(AppError::Io {
                path: input.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    for list in [&mut bids, &mut jsons] {
        list.sort();
        list.dedup();
    }
    Ok((bids, jsons))
}

fn bid_status(path: &Path, trusts: &mut TrustCache<'_>, now: OffsetDateTime) -> BidStatus {
    let report = inspect(path);
    let mut status = BidStatus {
        file: path.to_path_buf(),
        file_len: std::fs::metadata(path).ok().map(|m| m.len()),
        bid_file_hash: None,
        suite: None,
        tender_id: None,
        tender_matches: false,
        bidder: None,
        file_id: None,
        created_at: None,
        content_size: None,
        content_type: None,
        signer: None,
        integrity: report.verdict,
        submitted_at: None,
        withdrawn: false,
        statements: Vec::new(),
        problems: report.problems.clone(),
    };
    if let Some(header) = &report.header {
        status.suite = Some(header.suite());
        status.tender_id = Some(header.tender_id().to_owned());
        status.bidder = Some(header.bidder().clone());
        status.file_id = Some(hex::encode(header.draft().file_id()));
        status.created_at = Some(header.draft().created_at());
        status.content_size = Some(header.payload().content_size);
        status.content_type = Some(header.draft().content_type().to_owned());
        match hash_file(path, header.suite()) {
            Ok(h) => status.bid_file_hash = Some(hex::encode(h)),
            Err(e) => status.problems.push(e.to_string()),
        }
    }
    if let Some(check) = &report.signature {
        let mut signer = SignerStatus {
            serial: check.signer_serial.clone(),
            subject: check.signer_subject.clone(),
            signature_valid: check.is_acceptable(),
            chain: Vec::new(),
            chain_problem: None,
        };
        // The chain needs the certificate itself: open the file (header part only).
        let chain = match Decryptor::open(path) {
            Ok(opened) => match trusts.get(opened.header().suite()) {
                Ok(trust) => opened
                    .verify_signer_chain(trust, now)
                    .map(|v| v.certificates().iter().map(describe).collect())
                    .map_err(|e| format!("signer {}: {e}", describe(opened.signer()))),
                Err(e) => Err(e),
            },
            Err(e) => Err(e.to_string()),
        };
        match chain {
            Ok(chain) => signer.chain = chain,
            Err(problem) => {
                status
                    .problems
                    .push(format!("the header signer's chain: {problem}"));
                signer.chain_problem = Some(problem);
            }
        }
        status.signer = Some(signer);
    } else if status.integrity != Verdict::Unreadable {
        status
            .problems
            .push("the header signature could not be read".into());
    }
    status.problems.dedup();
    status
}

/// The statement file at `path` and the suite it says it is in, or `None` when it
/// is not a Bidkit statement file at all.
fn read_statement_file(path: &Path) -> Option<(StatementFile, Option<Suite>)> {
    let bytes = std::fs::read(path).ok()?;
    let file: StatementFile = serde_json::from_slice(&bytes).ok()?;
    if file.format != StatementFile::FORMAT {
        return None;
    }
    let suite = file
        .statement
        .get("suite")
        .and_then(|s| s.as_str())
        .and_then(|s| s.parse().ok());
    Some((file, suite))
}

fn statement_status(
    path: &Path,
    file: &StatementFile,
    suite: Option<Suite>,
    trusts: &mut TrustCache<'_>,
    now: OffsetDateTime,
) -> StatementStatus {
    let text = |key: &str| {
        file.statement
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let at = match file.kind {
        StatementKind::SubmissionReceipt => text("submitted_at"),
        StatementKind::Withdrawal => text("withdrawn_at"),
    };
    let mut status = StatementStatus {
        file: path.to_path_buf(),
        kind: file.kind,
        at,
        reason: text("reason"),
        bid_file_hash: text("bid_file_hash"),
        signer: None,
        bidder_uscc: None,
        file_id: None,
        tender_id: None,
        valid: false,
        problem: None,
    };
    let verified = match suite {
        None => Err("it names no known suite".to_owned()),
        Some(suite) => match trusts.get(suite) {
            Err(e) => Err(e),
            Ok(trust) => verify_statement(path, None, trust, now).map_err(|e| e.to_string()),
        },
    };
    match verified {
        Ok(v) => {
            // What counts is what was signed.
            let signed = |key: &str| {
                v.statement
                    .get(key)
                    .and_then(|x| x.as_str())
                    .map(str::to_owned)
            };
            status.bid_file_hash = signed("bid_file_hash");
            status.at = match v.kind {
                StatementKind::SubmissionReceipt => signed("submitted_at"),
                StatementKind::Withdrawal => signed("withdrawn_at"),
            };
            status.reason = signed("reason");
            status.file_id = signed("file_id");
            status.tender_id = signed("tender_id");
            status.bidder_uscc = v
                .statement
                .get("bidder")
                .and_then(|b| b.get("uscc"))
                .and_then(|u| u.as_str())
                .map(str::to_owned);
            status.signer = Some(v.signer);
            status.valid = true;
        }
        Err(problem) => status.problem = Some(problem),
    }
    status
}

/// From the statements matched to a bid file: the submission time, the withdrawal,
/// and a problem for each statement that did not verify.
fn settle_statements(bid: &mut BidStatus) {
    bid.statements.sort_by(|a, b| a.file.cmp(&b.file));
    // A statement counts only when the bidder who signed it is the bid file's and it
    // names the file's id and tender: nobody else can withdraw (or submit) it.
    let (uscc, file_id, tender) = (
        bid.bidder.as_ref().map(|b| b.uscc.clone()),
        bid.file_id.clone(),
        bid.tender_id.clone(),
    );
    for s in bid.statements.iter_mut().filter(|s| s.valid) {
        let mismatch = if s.bidder_uscc != uscc {
            Some(format!(
                "it is signed for bidder {}, the bid file is bidder {}'s",
                s.bidder_uscc.as_deref().unwrap_or("?"),
                uscc.as_deref().unwrap_or("?")
            ))
        } else if s.file_id != file_id {
            Some("it names another file id than the bid file's".to_owned())
        } else if s.tender_id != tender {
            Some(format!(
                "it names tender {}, the bid file is for {}",
                s.tender_id.as_deref().unwrap_or("?"),
                tender.as_deref().unwrap_or("?")
            ))
        } else {
            None
        };
        if let Some(problem) = mismatch {
            s.valid = false;
            s.problem = Some(problem);
        }
    }
    let mut submitted: Option<(OffsetDateTime, String)> = None;
    for s in &bid.statements {
        if !s.valid {
            bid.problems.push(format!(
                "the {} {} is not valid for this bid file: {}",
                what(s.kind),
                s.file.display(),
                s.problem.as_deref().unwrap_or("unknown reason")
            ));
            continue;
        }
        match s.kind {
            StatementKind::Withdrawal => bid.withdrawn = true,
            StatementKind::SubmissionReceipt => {
                let Some(at) = &s.at else { continue };
                let parsed =
                    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339);
                if let Ok(t) = parsed
                    && submitted.as_ref().is_none_or(|(first, _)| t < *first)
                {
                    submitted = Some((t, at.clone()));
                }
            }
        }
    }
    bid.submitted_at = submitted.map(|(_, at)| at);
}

fn what(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::SubmissionReceipt => "submission receipt",
        StatementKind::Withdrawal => "withdrawal",
    }
}

// ---------------------------------------------------------------------------------
// Bidders confirm the opening record by scan (开标记录确认)

/// The `format` of an opening-record confirmation file.
pub const CONFIRMATION_FORMAT: &str = "bidkit-opening-confirmation/1";
/// The bytes every signed confirmation starts with: they keep a confirmation from ever
/// being taken for a bid-file header, a receipt or a withdrawal.
pub const CONFIRMATION_DOMAIN: &[u8] = b"BIDKIT-CONFIRM-OPENING\0";

/// What a bidder confirms: this opening record (by the suite hash of its bytes as
/// written, so a record sealed afterwards by incremental update still starts with
/// them), for this tender, with the lines of the record the phone showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationStatement {
    /// Always 1.
    pub version: u32,
    /// The suite of the signature and of `record_hash`.
    pub suite: Suite,
    /// The tender whose opening is confirmed.
    pub tender_id: String,
    /// The record's file name when it was confirmed (informative).
    pub record_file: String,
    /// The record's length in bytes when it was confirmed.
    pub record_size: u64,
    /// The suite hash (hex) of the record's first `record_size` bytes.
    pub record_hash: String,
    /// The confirming bidder (the signing certificate's holder): name and unified
    /// social credit code.
    pub bidder: bidkit_tender::Bidder,
    /// What the phone showed of the record (the bidder's row: state, quoted price …).
    pub lines: Vec<String>,
    /// When (RFC 3339).
    pub confirmed_at: String,
}

impl ConfirmationStatement {
    /// The exact bytes the phone signs: [`CONFIRMATION_DOMAIN`] and the statement as
    /// compact JSON (fields in declaration order).
    pub fn to_be_signed(&self) -> Result<Vec<u8>, AppError> {
        let json = serde_json::to_vec(self).map_err(|e| AppError::InvalidOption {
            option: "confirmation",
            reason: format!("cannot encode: {e}"),
        })?;
        let mut out = CONFIRMATION_DOMAIN.to_vec();
        out.extend_from_slice(&json);
        Ok(out)
    }
}

/// A confirmation as written to disk (JSON): the statement in readable form and what
/// counts — the signed bytes, the signer's certificate and the signature, hex.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ConfirmationFile {
    /// Always [`CONFIRMATION_FORMAT`].
    pub format: String,
    /// The statement (must equal the signed one).
    pub statement: ConfirmationStatement,
    /// The signer as the certificate names it.
    pub signer: String,
    /// The signer certificate's serial (hex).
    pub signer_serial: String,
    /// The signed bytes ([`ConfirmationStatement::to_be_signed`]), hex.
    pub signed: String,
    /// The signer's certificate (DER, hex).
    pub certificate: String,
    /// The signature (DER, hex).
    pub signature: String,
}

/// What to confirm, by whom, and how to reach the phone.
#[derive(Clone, Debug)]
pub struct ConfirmOptions {
    /// Relay, trust roots, suite (the bidder's certificates'), timeout, clock.
    pub sign: crate::sign::SignOptions,
    /// The opening record PDF (only read).
    pub record: PathBuf,
    /// The tender.
    pub tender_id: String,
    /// The bidder who must confirm (unified social credit code, as the bid file's
    /// header names it): the phone's signing certificate must be theirs.
    pub bidder_uscc: String,
    /// What the phone shows of the record (the bidder's row).
    pub lines: Vec<String>,
    /// Where the confirmation (JSON) goes.
    pub output: PathBuf,
}

impl ConfirmOptions {
    /// Confirm `record` for tender `tender_id` by bidder `bidder_uscc`, written to
    /// `output`, with the defaults of `sign` and no lines.
    pub fn new(
        sign: crate::sign::SignOptions,
        record: impl Into<PathBuf>,
        tender_id: &str,
        bidder_uscc: &str,
        output: impl Into<PathBuf>,
    ) -> Self {
        ConfirmOptions {
            sign,
            record: record.into(),
            tender_id: tender_id.to_owned(),
            bidder_uscc: bidder_uscc.to_owned(),
            lines: Vec::new(),
            output: output.into(),
        }
    }
}

/// A confirmation that was made or verified.
#[derive(Clone, Debug, Serialize)]
pub struct ConfirmationReport {
    /// The confirmation file.
    pub file: PathBuf,
    /// The statement as signed.
    pub statement: ConfirmationStatement,
    /// The signer's certificate serial (hex).
    pub signer_serial: String,
    /// The signer as the certificate names it.
    pub signer: String,
    /// The signer's verified path (signer first, root last).
    pub signer_chain: Vec<String>,
    /// Whether the record given has more bytes after those confirmed (a later
    /// incremental update, e.g. the agent's seal: check it with the PDF verifier).
    /// `None`: no record was given.
    pub record_extended: Option<bool>,
    /// The confirm session (`None` when only verified).
    pub session: Option<crate::bid::SessionSummary>,
}

/// Suite hash of the first `len` bytes of `path` (all of them when `None`), and the
/// file's length.
fn hash_prefix(path: &Path, suite: Suite, len: Option<u64>) -> Result<([u8; 32], u64), AppError> {
    use std::io::Read as _;
    let io = |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let total = file.metadata().map_err(io)?.len();
    let want = len.unwrap_or(total).min(total);
    let mut reader = file.take(want);
    let mut hasher = suite.hash().hasher();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok((hasher.finalize(), total))
}

/// Have a bidder confirm the opening record by scan: a `confirm-opening` session
/// ([`bidkit_protocol::message::ConfirmOpeningRequest`]: the tender, the record's
/// digest, the bidder's lines, the exact [`ConfirmationStatement`] to sign); the
/// phone's approval must come from a signing certificate of the bidder
/// (`opts.bidder_uscc`) that chains to the trust roots and verify over the statement.
/// The confirmation file is written (temporary file renamed) only then; the record is
/// only read, and must not change during the session.
pub async fn confirm_opening(
    opts: &ConfirmOptions,
    observer: &mut dyn SessionObserver,
) -> Result<ConfirmationReport, AppError> {
    use bidkit_protocol::message::{ConfirmOpeningRequest, Message};

    if opts.output == opts.record {
        return Err(AppError::InvalidOption {
            option: "output",
            reason: format!(
                "{} is the record; inputs are never overwritten",
                opts.output.display()
            ),
        });
    }
    let suite = opts.sign.suite;
    let now = crate::session::date_time(&opts.sign.clock);
    // The trust roots load before any scan.
    load_trust(&opts.sign.trust, &opts.sign.home, suite, now)?;
    let (hash, size) = hash_prefix(&opts.record, suite, None)?;
    let record_file = opts
        .record
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut statement = ConfirmationStatement {
        version: 1,
        suite,
        tender_id: opts.tender_id.clone(),
        record_file,
        record_size: size,
        record_hash: hex::encode(hash),
        // The holder is known once the phone answers; the phone signs the bidder the
        // tool names, and the answer is refused unless the certificate is theirs.
        bidder: bidkit_tender::Bidder {
            name: String::new(),
            uscc: opts.bidder_uscc.clone(),
        },
        lines: opts.lines.clone(),
        confirmed_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| AppError::InvalidOption {
                option: "clock",
                reason: e.to_string(),
            })?,
    };
    // The bidder's name is what the record shows; the certificate must match the code.
    if let Some(name) = opts.lines.iter().find_map(|l| l.strip_prefix(BIDDER_LINE)) {
        statement.bidder.name = name.trim().to_owned();
    }
    let prepared = statement.to_be_signed()?;
    let request = Message::ConfirmOpeningRequest(ConfirmOpeningRequest {
        tender: opts.tender_id.clone(),
        project_code: opts.tender_id.clone(),
        record_digest: hash.to_vec(),
        lines: opts.lines.clone(),
        prepared: prepared.clone(),
    });
    let uscc = opts.bidder_uscc.clone();
    let ((leaf, chain, signature), session) = crate::sign::exchange(
        &opts.sign,
        Purpose::ConfirmOpening,
        &request,
        observer,
        "确认已取消 / confirmation cancelled: the phone refused",
        |answer, trust, now| {
            let approval = match answer {
                Message::Approval(a) => a,
                other => {
                    return Err(AppError::AnswerInvalid {
                        reason: format!("expected an approval, got {}", other.kind()),
                    });
                }
            };
            let (leaf, verified) =
                crate::session::verify_signer(&approval.certificate_chain, None, trust, now)?;
            let holder = leaf.subject()?.identifier().to_owned();
            if holder != uscc {
                return Err(AppError::AnswerInvalid {
                    reason: format!(
                        "the confirmation was signed by {} ({holder}), not by bidder {uscc}",
                        describe(&leaf)
                    ),
                });
            }
            leaf.public_key()?
                .verify(&prepared, &approval.signature)
                .map_err(|e| AppError::SignatureInvalid {
                    item: "confirmation".into(),
                    reason: e.to_string(),
                })?;
            let chain: Vec<String> = verified.certificates().iter().map(describe).collect();
            Ok((leaf, chain, approval.signature))
        },
        |(leaf, _, _)| {
            format!(
                "已确认 / the opening record is confirmed with certificate {}",
                leaf.serial_hex()
            )
        },
    )
    .await?;
    // The record must still be what was shown and signed.
    let (again, _) = hash_prefix(&opts.record, suite, None)?;
    if again != hash {
        return Err(AppError::BidStatement {
            path: opts.record.clone(),
            what: "opening confirmation",
            reason: "the record changed while it was being confirmed".into(),
        });
    }
    let file = ConfirmationFile {
        format: CONFIRMATION_FORMAT.into(),
        statement: statement.clone(),
        signer: leaf.subject_display(),
        signer_serial: leaf.serial_hex(),
        signed: hex::encode(statement.to_be_signed()?),
        certificate: hex::encode(leaf.to_der()),
        signature: hex::encode(&signature),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| AppError::InvalidOption {
        option: "confirmation",
        reason: format!("cannot encode: {e}"),
    })?;
    crate::qr::write_atomically(&opts.output, &json)?;
    Ok(ConfirmationReport {
        file: opts.output.clone(),
        statement,
        signer_serial: leaf.serial_hex(),
        signer: leaf.subject_display(),
        signer_chain: chain,
        record_extended: Some(false),
        session: Some(crate::bid::SessionSummary {
            purpose: Purpose::ConfirmOpening,
            verification_code: session.verification_code,
            session_id: session.session_id,
            relay: session.relay,
        }),
    })
}

/// The prefix of the line in [`ConfirmOptions::lines`] that names the bidder (its
/// rest becomes the statement's bidder name).
pub const BIDDER_LINE: &str = "投标人 / bidder: ";

/// Verify an opening-record confirmation: the file decodes, its readable statement is
/// exactly the signed one, the signed bytes are canonical, the signature verifies
/// under the certificate in it, which is a signing certificate of the statement's
/// suite, chains to `trust` at `now` and belongs to the bidder the statement names;
/// and, when `record` is given, the record still starts with the confirmed bytes
/// (a record sealed afterwards by incremental update does; any other change does
/// not). Anything else is [`AppError::BidStatement`] naming the file.
pub fn verify_confirmation(
    path: &Path,
    record: Option<&Path>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<ConfirmationReport, AppError> {
    let invalid = |reason: String| AppError::BidStatement {
        path: path.to_path_buf(),
        what: "opening confirmation",
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| AppError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file: ConfirmationFile = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("not a Bidkit confirmation file: {e}")))?;
    if file.format != CONFIRMATION_FORMAT {
        return Err(invalid(format!(
            "format {:?} (expected {CONFIRMATION_FORMAT:?})",
            file.format
        )));
    }
    let signed = hex::decode(file.signed.trim())
        .map_err(|e| invalid(format!("the signed bytes are not hex: {e}")))?;
    let json = signed
        .strip_prefix(CONFIRMATION_DOMAIN)
        .ok_or_else(|| invalid("the signed bytes are not a confirmation".into()))?;
    let statement: ConfirmationStatement = serde_json::from_slice(json)
        .map_err(|e| invalid(format!("the signed statement does not decode: {e}")))?;
    if statement.to_be_signed()? != signed {
        return Err(invalid(
            "the signed statement is not in canonical form".into(),
        ));
    }
    if statement != file.statement {
        return Err(invalid(
            "its readable part differs from what was signed".into(),
        ));
    }
    if statement.version != 1 {
        return Err(invalid(format!("version {}", statement.version)));
    }
    let der = hex::decode(file.certificate.trim())
        .map_err(|e| invalid(format!("the certificate is not hex: {e}")))?;
    let cert = bidkit_pki::Certificate::from_der(&der)
        .map_err(|e| invalid(format!("the certificate does not decode: {e}")))?;
    if cert.suite() != statement.suite {
        return Err(invalid(format!(
            "a {} certificate signed a {} statement",
            cert.suite(),
            statement.suite
        )));
    }
    let signature = hex::decode(file.signature.trim())
        .map_err(|e| invalid(format!("the signature is not hex: {e}")))?;
    cert.public_key()
        .map_err(|e| invalid(e.to_string()))?
        .verify(&signed, &signature)
        .map_err(|e| invalid(format!("the signature does not verify: {e}")))?;
    let holder = cert
        .subject()
        .map_err(|e| invalid(e.to_string()))?
        .identifier()
        .to_owned();
    if holder != statement.bidder.uscc {
        return Err(invalid(format!(
            "it names bidder {} but was signed by {} ({holder})",
            statement.bidder.uscc,
            describe(&cert)
        )));
    }
    let chain = bidkit_pki::verify_chain(
        &cert,
        &[],
        trust,
        now,
        Some(bidkit_pki::KeyPurpose::Signing),
    )
    .map_err(|e| invalid(format!("signer {}: {e}", describe(&cert))))?;
    let record_extended = match record {
        None => None,
        Some(record) => {
            let (hash, total) = hash_prefix(record, statement.suite, Some(statement.record_size))?;
            if total < statement.record_size || hex::encode(hash) != statement.record_hash {
                return Err(invalid(format!(
                    "{} is not the record that was confirmed (its first {} bytes do not hash to {})",
                    record.display(),
                    statement.record_size,
                    statement.record_hash
                )));
            }
            Some(total > statement.record_size)
        }
    };
    Ok(ConfirmationReport {
        file: path.to_path_buf(),
        signer_serial: cert.serial_hex(),
        signer: cert.subject_display(),
        signer_chain: chain.certificates().iter().map(describe).collect(),
        statement,
        record_extended,
        session: None,
    })
}

/// [`confirm_opening`] for callers without an async runtime.
pub fn confirm_opening_blocking(
    opts: &ConfirmOptions,
    observer: &mut dyn SessionObserver,
) -> Result<ConfirmationReport, AppError> {
    crate::sign::block_on(confirm_opening(opts, observer))?
}
