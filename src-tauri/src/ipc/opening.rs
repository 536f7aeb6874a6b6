//! IPC types of 开标 (the opening hall, agent mode): the bids before decryption, the
//! decrypt / confirm / seal jobs and their `opening-progress` events, the decrypted bid's
//! verification and the opening record.

use base64::Engine as _;
use bidkit_app::bid::StatementKind;
use bidkit_app::opening::{BidStatus, StatementStatus};
use bidkit_app::opening_view::{
    BidProgress, ConfirmationCheck, Decrypted, OpenedRecord, OpeningView, RecordState, SealChoice,
    Summary, integrity_word,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::VerifyResult;
use crate::error::IpcError;

/// The name of the event the opening's phone jobs emit ([`OpeningEvent`]).
pub const OPENING_EVENT: &str = "opening-progress";

fn n(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// `opening_load`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct OpeningLoadRequest {
    /// The tender package (directory or `tender.json`); empty: the bid files' tender.
    pub tender: Option<String>,
    /// The directory of bid files (`*.bid`, receipts and withdrawals as `*.json`).
    pub bids_dir: String,
    /// Where decrypted bids go; empty: `BIDS/opened`.
    pub out_dir: Option<String>,
}

/// The opening before (and between) decryptions.
#[derive(Clone, Debug, Serialize, TS)]
pub struct OpeningStatusView {
    /// The tender opened (the package's, else the first bid file's).
    pub tender_id: Option<String>,
    /// The project's name (from the package).
    pub project_name: Option<String>,
    /// The tender agent (from the package).
    pub agent: Option<String>,
    /// The bid directory.
    pub bids_dir: String,
    /// Where decrypted bids go.
    pub out_dir: String,
    /// Where the opening record goes by default.
    pub record_path: String,
    /// When the chains were judged (RFC 3339).
    pub checked_at: String,
    /// Every bid not withdrawn is intact, signed and for the tender.
    pub all_sound: bool,
    /// Every bid file, in file-name order.
    pub bids: Vec<BidRow>,
    /// Statement files about none of the bid files.
    pub unmatched_statements: Vec<StatementRow>,
}

/// One bid file before decryption.
#[derive(Clone, Debug, Serialize, TS)]
pub struct BidRow {
    /// The bid file.
    pub file: String,
    /// Its name.
    pub file_name: String,
    /// Bytes (`null`: unreadable).
    pub file_len: Option<f64>,
    /// The bidder's name (from the signed header).
    pub bidder_name: Option<String>,
    /// The bidder's code (统一社会信用代码).
    pub bidder_uscc: Option<String>,
    /// `gm` or `nist`.
    pub suite: Option<String>,
    /// The tender in its header.
    pub tender_id: Option<String>,
    /// It is for the tender opened.
    pub tender_matches: bool,
    /// When the header says it was made (RFC 3339).
    pub created_at: Option<String>,
    /// When it was submitted (the earliest valid receipt).
    pub submitted_at: Option<String>,
    /// `intact`, `damaged` or `unreadable` (header signature, payload hashes).
    pub integrity: String,
    /// The header signer.
    pub signer: Option<String>,
    /// The header signature verifies.
    pub signature_valid: bool,
    /// The signer's chain, signer first (when verified).
    pub signer_chain: Vec<String>,
    /// Why the chain did not verify.
    pub chain_problem: Option<String>,
    /// A valid withdrawal names it.
    pub withdrawn: bool,
    /// `ok`, `withdrawn`, `problem`, or `opened` when already decrypted.
    pub state: String,
    /// Whole-file hash (hex).
    pub bid_file_hash: Option<String>,
    /// Plaintext bytes (header).
    pub content_size: Option<f64>,
    /// A bid package (manifest with the quoted price) rather than a bare PDF.
    pub is_package: bool,
    /// Receipts and withdrawals about it.
    pub statements: Vec<StatementRow>,
    /// Everything wrong, one sentence each.
    pub problems: Vec<String>,
    /// When it was already opened into the output directory.
    pub opened: Option<OpenedView>,
}

/// A receipt or withdrawal.
#[derive(Clone, Debug, Serialize, TS)]
pub struct StatementRow {
    /// The file's name.
    pub file: String,
    /// `submission-receipt` or `withdrawal`.
    pub kind: String,
    /// When, as stated.
    pub at: Option<String>,
    /// It verified.
    pub valid: bool,
    /// The signer, when it verified.
    pub signer: Option<String>,
    /// Why not valid.
    pub problem: Option<String>,
}

/// A bid opened into the output directory (its `USCC.opened.json`).
#[derive(Clone, Debug, Serialize, TS)]
pub struct OpenedView {
    /// The decrypted PDF.
    pub pdf: String,
    /// When it was opened (RFC 3339).
    pub opened_at: String,
    /// The quoted price from the package's manifest.
    pub quoted_price: Option<String>,
    /// Its verification at the opening.
    pub summary: SummaryView,
}

/// A verification in short.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SummaryView {
    /// Every signature valid.
    pub valid: bool,
    /// Signatures.
    pub signatures: u32,
    /// Valid ones.
    pub valid_signatures: u32,
    /// Stamps.
    pub stamps: u32,
    /// Signers.
    pub signers: Vec<String>,
    /// Problems.
    pub problems: Vec<String>,
}

impl From<&Summary> for SummaryView {
    fn from(s: &Summary) -> Self {
        SummaryView {
            valid: s.valid,
            signatures: n(s.signatures),
            valid_signatures: n(s.valid_signatures),
            stamps: n(s.stamps),
            signers: s.signers.clone(),
            problems: s.problems.clone(),
        }
    }
}

fn opened_view(dir: &std::path::Path, r: &OpenedRecord) -> OpenedView {
    OpenedView {
        pdf: dir.join(&r.output).display().to_string(),
        opened_at: super::rfc3339(r.opened_at).unwrap_or_default(),
        quoted_price: r.quoted_price.clone(),
        summary: SummaryView::from(&r.verification),
    }
}

fn statement_row(s: &StatementStatus) -> StatementRow {
    StatementRow {
        file: name(&s.file),
        kind: match s.kind {
            StatementKind::SubmissionReceipt => "submission-receipt",
            StatementKind::Withdrawal => "withdrawal",
        }
        .to_owned(),
        at: s.at.clone(),
        valid: s.valid,
        signer: s.signer.clone(),
        problem: s.problem.clone(),
    }
}

fn bid_row(b: &BidStatus, opened: Option<OpenedView>) -> BidRow {
    let state = if opened.is_some() && !b.withdrawn {
        "opened"
    } else {
        b.state()
    };
    BidRow {
        file: b.file.display().to_string(),
        file_name: name(&b.file),
        file_len: b.file_len.map(|l| l as f64),
        bidder_name: b.bidder.as_ref().map(|d| d.name.clone()),
        bidder_uscc: b.bidder.as_ref().map(|d| d.uscc.clone()),
        suite: b.suite.map(|s| s.to_string()),
        tender_id: b.tender_id.clone(),
        tender_matches: b.tender_matches,
        created_at: b.created_at.and_then(super::rfc3339),
        submitted_at: b.submitted_at.clone(),
        integrity: integrity_word(b.integrity).to_owned(),
        signer: b.signer.as_ref().map(|s| s.subject.clone()),
        signature_valid: b.signer.as_ref().is_some_and(|s| s.signature_valid),
        signer_chain: b
            .signer
            .as_ref()
            .map(|s| s.chain.clone())
            .unwrap_or_default(),
        chain_problem: b.signer.as_ref().and_then(|s| s.chain_problem.clone()),
        withdrawn: b.withdrawn,
        state: state.to_owned(),
        bid_file_hash: b.bid_file_hash.clone(),
        content_size: b.content_size.map(|s| s as f64),
        is_package: b.content_type.as_deref() == Some(bidkit_app::package::CONTENT_TYPE),
        statements: b.statements.iter().map(statement_row).collect(),
        problems: b.problems.clone(),
        opened,
    }
}

impl From<OpeningView> for OpeningStatusView {
    fn from(v: OpeningView) -> Self {
        let s = &v.status;
        let bids = s
            .bids
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let opened = v
                    .opened
                    .iter()
                    .find(|(index, _)| *index == Some(i))
                    .map(|(_, r)| opened_view(&v.out_dir, r));
                bid_row(b, opened)
            })
            .collect();
        OpeningStatusView {
            tender_id: s.tender_id.clone(),
            project_name: v.tender.as_ref().map(|t| t.project_name.clone()),
            agent: v.tender.as_ref().map(|t| t.agent.clone()),
            bids_dir: v.bids_dir.display().to_string(),
            out_dir: v.out_dir.display().to_string(),
            record_path: v
                .out_dir
                .join(bidkit_app::opening_view::RECORD_FILE)
                .display()
                .to_string(),
            checked_at: super::rfc3339(s.checked_at).unwrap_or_default(),
            all_sound: s.all_sound(),
            bids,
            unmatched_statements: s.unmatched_statements.iter().map(statement_row).collect(),
        }
    }
}

/// `opening_decrypt`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct DecryptBidRequest {
    /// The directory of bid files.
    pub bids_dir: String,
    /// The tender opened (`null`: the bid files').
    pub tender_id: Option<String>,
    /// The bidder whose bid is opened (统一社会信用代码).
    pub bidder: String,
    /// Where the decrypted bid goes (`null`: `BIDS/opened`).
    pub out_dir: Option<String>,
}

/// `opening_record`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct RecordRequest {
    /// The directory of bid files.
    pub bids_dir: String,
    /// Where the bids were opened (`null`: `BIDS/opened`).
    pub out_dir: Option<String>,
    /// The tender package (project, agent), when chosen.
    pub tender: Option<String>,
    /// The PDF to write (`null`: `OUT/opening-record.pdf`).
    pub output: Option<String>,
}

/// `opening_seal_record`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct SealRecordRequest {
    /// The opening record.
    pub record: String,
    /// The agent's seal (platform id).
    pub seal_id: u32,
    /// The sealed copy (`null`: `NAME-sealed.pdf` beside it).
    pub output: Option<String>,
}

/// `opening_confirm`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct ConfirmRequest {
    /// The opening record (as written, before sealing).
    pub record: String,
    /// The confirming bidder (统一社会信用代码).
    pub bidder: String,
}

/// `opening_check_record`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct CheckRecordRequest {
    /// The opening record (sealed or not).
    pub record: String,
}

/// A phone job's number, carried by its events.
#[derive(Clone, Copy, Debug, Serialize, TS)]
pub struct OpeningJob {
    /// The job.
    pub job: u32,
}

/// The decrypted bid, checked.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DecryptedView {
    /// The bidder's name.
    pub bidder_name: String,
    /// The bidder's code.
    pub bidder_uscc: String,
    /// The bid file.
    pub bid_file: String,
    /// The decrypted PDF.
    pub pdf: String,
    /// The output (the PDF, or the extracted package's directory).
    pub output: String,
    /// The record kept beside it (`USCC.opened.json`).
    pub record: String,
    /// Suite hash of the plaintext (equal to the signed header's).
    pub content_hash: String,
    /// Plaintext bytes.
    pub content_size: f64,
    /// Chunks authenticated.
    pub chunks: f64,
    /// The header signer.
    pub signer: String,
    /// The verification code of the unwrap scan.
    pub verification_code: String,
    /// The quoted price from the manifest.
    pub quoted_price: Option<String>,
    /// The manifest, for a bid package.
    pub manifest: Option<ManifestView>,
    /// The verification in short.
    pub summary: SummaryView,
    /// The verifier's report with the first pages (`null`: not a readable PDF).
    pub verify: Option<VerifyResult>,
}

/// A bid package's manifest.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ManifestView {
    /// The tender it names.
    pub tender_id: String,
    /// The bidder it names.
    pub bidder_name: String,
    /// Their code.
    pub bidder_uscc: String,
    /// SHA-256 of bid.pdf.
    pub pdf_sha256: String,
    /// Attachments' names.
    pub attachments: Vec<String>,
    /// Where it disagrees with the signed header.
    pub problems: Vec<String>,
}

impl From<Decrypted> for DecryptedView {
    fn from(d: Decrypted) -> Self {
        let r = &d.report;
        DecryptedView {
            bidder_name: r.bidder.name.clone(),
            bidder_uscc: r.bidder.uscc.clone(),
            bid_file: r.bid_file.display().to_string(),
            pdf: r.pdf.display().to_string(),
            output: r.output.display().to_string(),
            record: d.record_path.display().to_string(),
            content_hash: r.content_hash.clone(),
            content_size: r.content_size as f64,
            chunks: r.chunks as f64,
            signer: r.signer.clone(),
            verification_code: r.session.verification_code.clone(),
            quoted_price: d.record.quoted_price.clone(),
            manifest: d.record.package.as_ref().map(|p| ManifestView {
                tender_id: p.tender_id.clone(),
                bidder_name: p.bidder_name.clone(),
                bidder_uscc: p.bidder_uscc.clone(),
                pdf_sha256: p.pdf_sha256.clone(),
                attachments: p.attachments.clone(),
                problems: p.problems.clone(),
            }),
            summary: SummaryView::from(&d.record.verification),
            verify: d.view.map(VerifyResult::from),
        }
    }
}

/// One row of the opening record.
#[derive(Clone, Debug, Serialize, TS)]
pub struct RecordRowView {
    /// The bidder's name.
    pub bidder_name: String,
    /// The bidder's code.
    pub bidder_uscc: String,
    /// `已开启 / opened`, `已撤标 / withdrawn`, `未开启 / not opened`.
    pub state: String,
    /// The quoted price.
    pub quoted_price: Option<String>,
    /// When submitted.
    pub submitted_at: Option<String>,
    /// The bid file's hash.
    pub file_hash: Option<String>,
    /// The verification lines.
    pub verification: Vec<String>,
}

/// A confirmation beside the record, checked.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ConfirmationView {
    /// The file.
    pub file: String,
    /// It verified.
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

impl From<ConfirmationCheck> for ConfirmationView {
    fn from(c: ConfirmationCheck) -> Self {
        ConfirmationView {
            file: c.file.display().to_string(),
            valid: c.valid,
            bidder_uscc: c.bidder_uscc,
            bidder_name: c.bidder_name,
            signer: c.signer,
            confirmed_at: c.confirmed_at,
            problem: c.problem,
        }
    }
}

/// The opening record (written, or sealed).
#[derive(Clone, Debug, Serialize, TS)]
pub struct RecordView {
    /// The PDF.
    pub path: String,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Its size.
    pub size: f64,
    /// Pages (0 when unknown).
    pub pages: u32,
    /// `written` (as made, confirmable) or `sealed` (by the agent).
    pub kind: String,
    /// Every opened bid valid and none left unopened (for a written record).
    pub all_valid: bool,
    /// The tender.
    pub tender_id: String,
    /// Its rows.
    pub rows: Vec<RecordRowView>,
    /// The record as written (the one bidders confirm).
    pub written: String,
    /// The verifier's report and preview (`null`: could not be read).
    pub verify: Option<VerifyResult>,
    /// Confirmations beside it, checked against this file.
    pub confirmations: Vec<ConfirmationView>,
    /// The seal session's verification code (for a sealed record).
    pub verification_code: Option<String>,
}

fn rows(record: &bidkit_app::opening_view::RecordData) -> Vec<RecordRowView> {
    record
        .record
        .bids
        .iter()
        .map(|b| RecordRowView {
            bidder_name: b.bidder_name.clone(),
            bidder_uscc: b.bidder_uscc.clone(),
            state: b.state.clone(),
            quoted_price: b.quoted_price.clone(),
            submitted_at: b.submitted_at.clone(),
            file_hash: b.file_hash.clone(),
            verification: b.verification.clone(),
        })
        .collect()
}

impl From<RecordState> for RecordView {
    fn from(s: RecordState) -> Self {
        let sealed = s.path != s.written;
        RecordView {
            path: s.path.display().to_string(),
            sha256: s.sha256,
            size: s.size as f64,
            pages: s.view.as_ref().map(|v| n(v.page_count)).unwrap_or(0),
            kind: if sealed { "sealed" } else { "written" }.into(),
            all_valid: !s.data.record.bids.iter().any(|b| {
                b.state.contains("not opened")
                    || b.verification.iter().any(|l| l.contains("NOT VALID"))
            }),
            tender_id: s.data.record.tender_id.clone(),
            rows: rows(&s.data),
            written: s.written.display().to_string(),
            verify: s.view.map(VerifyResult::from),
            confirmations: s
                .confirmations
                .into_iter()
                .map(ConfirmationView::from)
                .collect(),
            verification_code: None,
        }
    }
}

/// A seal the agent may use.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SealChoiceView {
    /// Its platform id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// The phone whose holder sees it.
    pub phone: String,
    /// Usable now by that holder.
    pub usable: bool,
}

impl From<SealChoice> for SealChoiceView {
    fn from(s: SealChoice) -> Self {
        SealChoiceView {
            id: u32::try_from(s.id).unwrap_or(u32::MAX),
            name: s.name,
            phone: s.phone,
            usable: s.usable,
        }
    }
}

/// What a running phone job of the opening reports, as the `opening-progress` event's
/// payload; `job` is the number the command returned, `task` what it does (`decrypt`,
/// `confirm`, `seal`).
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpeningEvent {
    /// A step begins.
    Step {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// The step's name (`opening`, `unwrapping`, `decrypting` …).
        step: String,
        /// For people.
        detail: String,
    },
    /// A QR frame to show.
    Qr {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// The QR code as a `data:image/png;base64,…` URL.
        image: String,
        /// The text it encodes.
        text: String,
    },
    /// A phone joined: the verification code.
    Joined {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// The six digits.
        code: String,
    },
    /// The request is on the phone.
    Waiting {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// What the phone shows.
        summary: Vec<String>,
    },
    /// Bytes decrypted so far.
    Bytes {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// Done.
        done: f64,
        /// In all.
        total: f64,
    },
    /// A bid decrypted and verified.
    Decrypted {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// The result.
        result: Box<DecryptedView>,
    },
    /// A bidder confirmed the record.
    Confirmed {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// The record with every confirmation.
        record: Box<RecordView>,
    },
    /// The agent sealed the record.
    Sealed {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// The sealed record.
        record: Box<RecordView>,
    },
    /// The job failed.
    Failed {
        /// The job.
        job: u32,
        /// What it does.
        task: String,
        /// Why.
        error: IpcError,
    },
}

impl OpeningEvent {
    /// The event for one progress step of job `job`.
    pub fn progress(job: u32, task: &str, p: BidProgress) -> Self {
        let task = task.to_owned();
        match p {
            BidProgress::Step { step, detail } => OpeningEvent::Step {
                job,
                task,
                step,
                detail,
            },
            BidProgress::Qr { text, png } => OpeningEvent::Qr {
                job,
                task,
                image: format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(&png)
                ),
                text,
            },
            BidProgress::Joined { code } => OpeningEvent::Joined { job, task, code },
            BidProgress::Waiting { summary } => OpeningEvent::Waiting { job, task, summary },
            BidProgress::Bytes { done, total } => OpeningEvent::Bytes {
                job,
                task,
                done: done as f64,
                total: total as f64,
            },
        }
    }
}

/// The TypeScript declarations of this module's IPC types (see [`super::bindings`]).
#[cfg(test)]
pub(crate) fn decls() -> Vec<String> {
    vec![
        OpeningLoadRequest::decl(),
        OpeningStatusView::decl(),
        BidRow::decl(),
        StatementRow::decl(),
        OpenedView::decl(),
        SummaryView::decl(),
        DecryptBidRequest::decl(),
        RecordRequest::decl(),
        SealRecordRequest::decl(),
        ConfirmRequest::decl(),
        CheckRecordRequest::decl(),
        OpeningJob::decl(),
        DecryptedView::decl(),
        ManifestView::decl(),
        RecordRowView::decl(),
        ConfirmationView::decl(),
        RecordView::decl(),
        SealChoiceView::decl(),
        OpeningEvent::decl(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_events_are_tagged_and_carry_the_qr_text() {
        let e = OpeningEvent::progress(
            3,
            "decrypt",
            BidProgress::Qr {
                text: "BK1:X".into(),
                png: vec![1, 2, 3],
            },
        );
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["kind"], "qr");
        assert_eq!(v["job"], 3);
        assert_eq!(v["task"], "decrypt");
        assert_eq!(v["text"], "BK1:X");
        assert_eq!(v["image"], "data:image/png;base64,AQID");
        let e = OpeningEvent::progress(3, "decrypt", BidProgress::Bytes { done: 5, total: 10 });
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            serde_json::json!({"kind": "bytes", "job": 3, "task": "decrypt", "done": 5.0, "total": 10.0})
        );
        let failed = OpeningEvent::Failed {
            job: 1,
            task: "seal".into(),
            error: IpcError::new("user-refused", "no"),
        };
        assert_eq!(
            serde_json::to_value(failed).unwrap()["error"]["code"],
            "user-refused"
        );
        assert!(decls().iter().any(|d| d.contains("type OpeningEvent")));
    }
}
