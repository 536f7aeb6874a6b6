//! IPC types of 投标文件, 加密/递交/撤标.

use base64::Engine as _;
use bidkit_app::bid::{EncryptReport, StatementKind, StatementReport};
use bidkit_app::bid_view::{
    BidProgress, BuildProgress, BuildView, ChecklistView, InspectView, ProjectView, TenderSummary,
};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use ts_rs::TS;

/// The event a build emits ([`BuildEvent`]).
pub const BUILD_EVENT: &str = "bid-build-progress";
/// The event an encryption, submission or withdrawal emits ([`BidEvent`]).
pub const BID_EVENT: &str = "bid-progress";

fn png_url(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// A `u64` as a JSON number (exact up to 2^53).
#[allow(clippy::cast_precision_loss)]
fn num(v: u64) -> f64 {
    v as f64
}

/// A section the tender asks for.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SectionReqView {
    /// Its id (`business` …).
    pub id: String,
    /// Its title (商务标 …).
    pub title: String,
    /// Whether a bid must have it.
    pub required: bool,
    /// Accepted file types (`pdf`, `jpeg`, `png`, `txt`, `md`).
    pub accept: Vec<String>,
}

/// A seal the tender requires.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SealReqView {
    /// Its id.
    pub id: String,
    /// Kind, in Chinese (公章 …).
    pub kind: String,
    /// Where it goes.
    pub at: String,
    /// Whether it is required.
    pub required: bool,
    /// The agent's note.
    pub note: Option<String>,
}

/// A tender package.
#[derive(Clone, Debug, Serialize, TS)]
pub struct TenderView {
    /// The package directory.
    pub dir: String,
    /// SHA-256 of tender.json.
    pub sha256: String,
    /// 招标编号.
    pub tender_id: String,
    /// 项目名称.
    pub project_name: String,
    /// 项目编号.
    pub project_number: String,
    /// 招标代理.
    pub agent: String,
    /// Deadline (RFC 3339).
    pub deadline: String,
    /// Opening time (RFC 3339).
    pub opening: String,
    /// `gm` or `nist`.
    pub suite: String,
    /// Sections.
    pub sections: Vec<SectionReqView>,
    /// Seals.
    pub seals: Vec<SealReqView>,
    /// Whether a quoted price is required.
    pub price_required: bool,
    /// Currency.
    pub currency: String,
    /// Ceiling price.
    pub max_price: Option<String>,
}

impl From<TenderSummary> for TenderView {
    fn from(t: TenderSummary) -> Self {
        TenderView {
            dir: t.dir,
            sha256: t.sha256,
            tender_id: t.tender_id,
            project_name: t.project_name,
            project_number: t.project_number,
            agent: t.agent,
            deadline: t.deadline,
            opening: t.opening,
            suite: t.suite,
            sections: t
                .sections
                .into_iter()
                .map(|s| SectionReqView {
                    id: s.id,
                    title: s.title,
                    required: s.required,
                    accept: s.accept,
                })
                .collect(),
            seals: t
                .seals
                .into_iter()
                .map(|s| SealReqView {
                    id: s.id,
                    kind: s.kind,
                    at: s.at,
                    required: s.required,
                    note: s.note,
                })
                .collect(),
            price_required: t.price_required,
            currency: t.currency,
            max_price: t.max_price,
        }
    }
}

/// A file in a project section.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ProjectFileView {
    /// Name it was added under.
    pub name: String,
    /// Type (`pdf` …).
    pub file_type: String,
    /// Size in bytes.
    pub size: f64,
}

/// A project section against its requirement.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ProjectSectionView {
    /// The requirement.
    pub requirement: SectionReqView,
    /// Whether it has files.
    pub present: bool,
    /// The files.
    pub files: Vec<ProjectFileView>,
}

/// A bid project.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ProjectInfo {
    /// The project directory.
    pub dir: String,
    /// The tender it follows.
    pub tender: TenderView,
    /// Bidder name.
    pub bidder: String,
    /// Bidder USCC.
    pub uscc: String,
    /// Quoted price.
    pub quoted_price: Option<String>,
    /// Sections.
    pub sections: Vec<ProjectSectionView>,
    /// Last build file.
    pub built_file: Option<String>,
    /// Last build pages.
    pub built_pages: Option<u32>,
}

impl From<ProjectView> for ProjectInfo {
    fn from(p: ProjectView) -> Self {
        ProjectInfo {
            dir: p.dir,
            tender: p.tender.into(),
            bidder: p.bidder,
            uscc: p.uscc,
            quoted_price: p.quoted_price,
            sections: p
                .sections
                .into_iter()
                .map(|s| ProjectSectionView {
                    present: s.present(),
                    requirement: SectionReqView {
                        id: s.requirement.id,
                        title: s.requirement.title,
                        required: s.requirement.required,
                        accept: s.requirement.accept,
                    },
                    files: s
                        .files
                        .into_iter()
                        .map(|f| ProjectFileView {
                            name: f.name,
                            file_type: f.file_type,
                            size: num(f.size),
                        })
                        .collect(),
                })
                .collect(),
            built_file: p.built.as_ref().map(|b| b.0.clone()),
            built_pages: p.built.map(|b| b.1),
        }
    }
}

/// `bid_project_init`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct ProjectInitRequest {
    /// The tender package (directory or tender.json).
    pub tender: String,
    /// The project directory to create.
    pub dir: String,
    /// Bidder name.
    pub bidder: String,
    /// Bidder USCC.
    pub uscc: String,
    /// Quoted price.
    pub quoted_price: Option<String>,
}

/// `bid_project_add`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct AddFileRequest {
    /// The project directory.
    pub dir: String,
    /// The section id.
    pub section: String,
    /// The file to add.
    pub file: String,
}

/// `bid_build`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct BuildRequest {
    /// The project directory.
    pub dir: String,
    /// The PDF to write (default DIR/bid.pdf).
    pub out: Option<String>,
}

/// A build's progress, the `bid-build-progress` payload.
#[derive(Clone, Debug, Serialize, TS)]
pub struct BuildEvent {
    /// `planning`, `writing`, `finishing`, `done`.
    pub stage: String,
    /// Pages written.
    pub pages_done: u32,
    /// Pages in all.
    pub pages_total: u32,
    /// The file being processed.
    pub file: Option<String>,
}

impl From<BuildProgress> for BuildEvent {
    fn from(p: BuildProgress) -> Self {
        BuildEvent {
            stage: p.stage.to_owned(),
            pages_done: p.pages_done,
            pages_total: p.pages_total,
            file: p.file,
        }
    }
}

/// A section of the built PDF.
#[derive(Clone, Debug, Serialize, TS)]
pub struct BuiltSectionInfo {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// First page.
    pub first_page: u32,
    /// Pages.
    pub pages: u32,
    /// Files in it.
    pub files: Vec<String>,
}

/// A thumbnail of a built page.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PreviewPage {
    /// 1-based page.
    pub page: u32,
    /// PNG `data:` URL.
    pub image: String,
}

/// `bid_build`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct BuildResult {
    /// The PDF written.
    pub output: String,
    /// Pages.
    pub pages: u32,
    /// Table-of-contents pages.
    pub toc_pages: u32,
    /// Bookmarks.
    pub bookmarks: u32,
    /// Sections.
    pub sections: Vec<BuiltSectionInfo>,
    /// Font family.
    pub font_family: String,
    /// Size in bytes.
    pub size: f64,
    /// SHA-256.
    pub sha256: String,
    /// The first pages drawn by pdfium.
    pub previews: Vec<PreviewPage>,
    /// Why no preview, if none.
    pub preview_error: Option<String>,
}

impl From<BuildView> for BuildResult {
    fn from(b: BuildView) -> Self {
        BuildResult {
            output: b.output,
            pages: b.pages,
            toc_pages: b.toc_pages,
            bookmarks: b.bookmarks,
            sections: b
                .sections
                .into_iter()
                .map(|s| BuiltSectionInfo {
                    id: s.id,
                    title: s.title,
                    first_page: s.first_page,
                    pages: s.pages,
                    files: s.files.into_iter().map(|f| f.0).collect(),
                })
                .collect(),
            font_family: b.font_family,
            size: num(b.size),
            sha256: b.sha256,
            previews: b
                .previews
                .iter()
                .map(|(page, png)| PreviewPage {
                    page: *page,
                    image: png_url(png),
                })
                .collect(),
            preview_error: b.preview_error,
        }
    }
}

/// `bid_check`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct CheckRequest {
    /// The project directory.
    pub dir: String,
    /// The sealed PDF (default: the last build).
    pub sealed: Option<String>,
    /// Go on despite failures, for this reason (recorded).
    pub override_reason: Option<String>,
    /// Who overrides (default: the bidder).
    pub by: Option<String>,
    /// Don't judge certificate chains.
    pub integrity_only: bool,
}

/// One checklist item.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CheckItem {
    /// `section`, `seal`, `quoted_price`, `document`.
    pub kind: String,
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Required.
    pub required: bool,
    /// `ok`, `missing`, `invalid`.
    pub status: String,
    /// Why not ok.
    pub reasons: Vec<String>,
}

/// The recorded override.
#[derive(Clone, Debug, Serialize, TS)]
pub struct OverrideView {
    /// Who.
    pub who: String,
    /// Why.
    pub why: String,
    /// When (RFC 3339).
    pub at: String,
}

/// `bid_check`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CheckResult {
    /// Items.
    pub items: Vec<CheckItem>,
    /// Every required item ok.
    pub passed: bool,
    /// Passed or overridden.
    pub may_proceed: bool,
    /// The override.
    pub override_record: Option<OverrideView>,
    /// The PDF checked.
    pub pdf: Option<String>,
    /// Chains not judged.
    pub integrity_only: bool,
    /// Where it was recorded.
    pub saved: String,
}

impl From<ChecklistView> for CheckResult {
    fn from(c: ChecklistView) -> Self {
        CheckResult {
            items: c
                .items
                .into_iter()
                .map(|i| CheckItem {
                    kind: i.kind,
                    id: i.id,
                    title: i.title,
                    required: i.required,
                    status: i.status,
                    reasons: i.reasons,
                })
                .collect(),
            passed: c.passed,
            may_proceed: c.may_proceed,
            override_record: c
                .override_
                .map(|(who, why, at)| OverrideView { who, why, at }),
            pdf: c.pdf,
            integrity_only: c.integrity_only,
            saved: c.saved,
        }
    }
}

/// `bid_encrypt`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct EncryptRequest {
    /// The sealed PDF.
    pub pdf: String,
    /// The project (its bid.json makes the payload a bid package).
    pub project: Option<String>,
    /// The bid file to write (default: beside the PDF, .bid).
    pub output: Option<String>,
    /// The tender id (default: the project's).
    pub tender_id: Option<String>,
}

/// `bid_submit` / `bid_withdraw`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct StatementRequest {
    /// The bid file.
    pub bid_file: String,
    /// Where the statement goes (default: beside the bid file).
    pub output: Option<String>,
    /// Why (withdrawal only).
    pub reason: Option<String>,
}

/// What a running encryption, submission or withdrawal reports (`bid-progress`).
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BidEvent {
    /// A step begins.
    Step {
        /// `encrypt`, `submit`, `withdraw`.
        op: String,
        /// The step (`fetch-encryption-certificate` …).
        step: String,
        /// For people.
        detail: String,
    },
    /// A QR frame.
    Qr {
        /// The operation.
        op: String,
        /// The QR text.
        text: String,
        /// PNG `data:` URL.
        image: String,
    },
    /// The verification code.
    Joined {
        /// The operation.
        op: String,
        /// The code.
        code: String,
    },
    /// Waiting for the holder's approval.
    Waiting {
        /// The operation.
        op: String,
        /// What the phone shows.
        summary: Vec<String>,
    },
    /// Bytes done.
    Bytes {
        /// The operation.
        op: String,
        /// Done.
        done: f64,
        /// Total.
        total: f64,
    },
}

impl BidEvent {
    /// The event of `op` for a progress step.
    pub fn new(op: &str, p: BidProgress) -> Self {
        let op = op.to_owned();
        match p {
            BidProgress::Step { step, detail } => BidEvent::Step { op, step, detail },
            BidProgress::Qr { text, png } => BidEvent::Qr {
                op,
                text,
                image: png_url(&png),
            },
            BidProgress::Joined { code } => BidEvent::Joined { op, code },
            BidProgress::Waiting { summary } => BidEvent::Waiting { op, summary },
            BidProgress::Bytes { done, total } => BidEvent::Bytes {
                op,
                done: num(done),
                total: num(total),
            },
        }
    }
}

/// A recipient.
#[derive(Clone, Debug, Serialize, TS)]
pub struct RecipientInfo {
    /// `bidder` or `extra`.
    pub role: String,
    /// Serial (hex).
    pub serial: String,
    /// Subject.
    pub subject: String,
}

/// `bid_inspect`'s answer (and part of the others').
#[derive(Clone, Debug, Serialize, TS)]
pub struct InspectResult {
    /// The file.
    pub path: String,
    /// `intact`, `damaged`, `unreadable`.
    pub verdict: String,
    /// Problems.
    pub problems: Vec<String>,
    /// Tender id.
    pub tender_id: Option<String>,
    /// Bidder name.
    pub bidder: Option<String>,
    /// Bidder USCC.
    pub uscc: Option<String>,
    /// Suite.
    pub suite: Option<String>,
    /// Recipients.
    pub recipients: Vec<RecipientInfo>,
    /// Plaintext bytes.
    pub content_size: Option<f64>,
    /// Chunks.
    pub chunks: Option<f64>,
    /// Header signer.
    pub signer: Option<String>,
    /// Header signature valid.
    pub signature_valid: Option<bool>,
    /// Ciphertext hash matches.
    pub ciphertext_hash_ok: Option<bool>,
}

impl From<InspectView> for InspectResult {
    fn from(i: InspectView) -> Self {
        InspectResult {
            path: i.path,
            verdict: i.verdict,
            problems: i.problems,
            tender_id: i.tender_id,
            bidder: i.bidder.as_ref().map(|b| b.0.clone()),
            uscc: i.bidder.map(|b| b.1),
            suite: i.suite,
            recipients: i
                .recipients
                .into_iter()
                .map(|r| RecipientInfo {
                    role: r.role,
                    serial: r.serial,
                    subject: r.subject,
                })
                .collect(),
            content_size: i.content_size.map(num),
            chunks: i.chunks.map(num),
            signer: i.signer.as_ref().map(|s| s.0.clone()),
            signature_valid: i.signer.map(|s| s.1),
            ciphertext_hash_ok: i.ciphertext_hash_ok,
        }
    }
}

/// `bid_encrypt`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct EncryptResult {
    /// The bid file.
    pub file: String,
    /// Its length.
    pub file_len: f64,
    /// Tender id.
    pub tender_id: String,
    /// File id (hex).
    pub file_id: String,
    /// Plaintext bytes.
    pub content_size: f64,
    /// Chunks.
    pub chunks: f64,
    /// Header signer.
    pub signer: String,
    /// Whether the payload is a bid package (with the manifest).
    pub package: bool,
    /// Verification codes of the two scans.
    pub codes: Vec<String>,
    /// `bid inspect` of the file.
    pub inspect: InspectResult,
}

impl EncryptResult {
    /// The answer from the report and the inspection.
    pub fn new(r: &EncryptReport, inspect: InspectView) -> Self {
        EncryptResult {
            file: r.file.display().to_string(),
            file_len: num(r.file_len),
            tender_id: r.tender_id.clone(),
            file_id: r.file_id.clone(),
            content_size: num(r.content_size),
            chunks: num(r.chunks),
            signer: r.signer.clone(),
            package: r.manifest.is_some(),
            codes: r
                .sessions
                .iter()
                .map(|s| s.verification_code.clone())
                .collect(),
            inspect: inspect.into(),
        }
    }
}

/// `bid_submit` / `bid_withdraw`'s answer: the signed statement's fields.
#[derive(Clone, Debug, Serialize, TS)]
pub struct StatementResult {
    /// The statement file.
    pub file: String,
    /// `submission-receipt` or `withdrawal`.
    pub kind: String,
    /// The bid file.
    pub bid_file: String,
    /// Its hash (hex).
    pub bid_file_hash: String,
    /// Tender id.
    pub tender_id: String,
    /// Bidder name.
    pub bidder: String,
    /// Bidder USCC.
    pub uscc: String,
    /// When (RFC 3339).
    pub at: String,
    /// Signer subject.
    pub signer: String,
    /// Signer serial.
    pub signer_serial: String,
    /// Verification code.
    pub code: String,
}

impl From<&StatementReport> for StatementResult {
    fn from(r: &StatementReport) -> Self {
        StatementResult {
            file: r.file.display().to_string(),
            kind: match r.kind {
                StatementKind::SubmissionReceipt => "submission-receipt",
                StatementKind::Withdrawal => "withdrawal",
            }
            .to_owned(),
            bid_file: r.bid_file.display().to_string(),
            bid_file_hash: r.bid_file_hash.clone(),
            tender_id: r.tender_id.clone(),
            bidder: r.bidder.name.clone(),
            uscc: r.bidder.uscc.clone(),
            at: r.at.format(&Rfc3339).unwrap_or_default(),
            signer: r.signer.clone(),
            signer_serial: r.signer_serial.clone(),
            code: r.session.verification_code.clone(),
        }
    }
}

/// A path argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PathRequest {
    /// The path.
    pub path: String,
}

/// The TypeScript declarations of this module's IPC types (see [`super::bindings`]).
#[cfg(test)]
pub(crate) fn decls() -> Vec<String> {
    vec![
        SectionReqView::decl(),
        SealReqView::decl(),
        TenderView::decl(),
        ProjectFileView::decl(),
        ProjectSectionView::decl(),
        ProjectInfo::decl(),
        ProjectInitRequest::decl(),
        AddFileRequest::decl(),
        BuildRequest::decl(),
        BuildEvent::decl(),
        BuiltSectionInfo::decl(),
        PreviewPage::decl(),
        BuildResult::decl(),
        CheckRequest::decl(),
        CheckItem::decl(),
        OverrideView::decl(),
        CheckResult::decl(),
        EncryptRequest::decl(),
        StatementRequest::decl(),
        BidEvent::decl(),
        RecipientInfo::decl(),
        InspectResult::decl(),
        EncryptResult::decl(),
        StatementResult::decl(),
        PathRequest::decl(),
    ]
}
