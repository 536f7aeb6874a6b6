//! The bid screens (投标文件, 加密/递交/撤标): tender import, checklist, build with progress, encrypt, submit and withdraw as values for a screen.
//!
//! The same crate functions the CLI's `bidkit tender` and `bidkit bid …` call
//! (`bidkit-tender`'s package, project, builder and checklist; [`crate::bid`]'s
//! phone use cases; `bidkit-bidfile`'s inspection), with their results turned into
//! plain values (strings, numbers, PNG bytes) a UI can show, and their progress into
//! [`BidProgress`] / [`BuildProgress`] values forwarded to a callback.

use std::path::{Path, PathBuf};

pub use bidkit_bidfile::{InspectReport, Verdict, inspect};
use bidkit_pdf::verify::{TrustChoice, VerifyOptions};
pub use bidkit_tender;
use bidkit_tender::{
    BidProject, Bidder, BuildOptions, Checklist, ItemStatus, LoadedTender, SealPlace, Stage,
    TenderError, TenderPackage,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppError;
use crate::bid::{
    BidObserver, BidStep, EncryptOptions, EncryptReport, StatementReport, SubmitOptions,
    WithdrawOptions,
};
use crate::qr::QrImage;
use crate::session::{QrFrame, RelayChoice, SessionObserver};
use crate::settings::Settings;
use crate::sign::SignOptions;

/// Where `bid check` records the checklist inside the project (as the CLI).
pub const CHECKLIST_FILE: &str = "checklist.json";

/// How many pages of a built document are drawn as thumbnails.
pub const PREVIEW_PAGES: usize = 4;

/// Thumbnail width in pixels.
pub const PREVIEW_WIDTH_PX: u32 = 240;

/// A tender package's error as the app's: I/O stays I/O, the rest is an invalid input
/// naming the file and every problem.
pub fn tender_error(e: TenderError) -> AppError {
    match e {
        TenderError::Io { path, source, .. } => AppError::Io { path, source },
        TenderError::Pdf { source, .. } => AppError::Pdf(source),
        other => AppError::InvalidOption {
            option: "tender",
            reason: other.to_string(),
        },
    }
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

// ---------------------------------------------------------------------------------
// Tender package

/// One section the tender asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionRequirement {
    /// Its id (`business`, `technical` …).
    pub id: String,
    /// Its title (商务标 …).
    pub title: String,
    /// Whether a bid must have it.
    pub required: bool,
    /// The accepted file types (`pdf`, `jpeg`, `png`, `txt`, `md`).
    pub accept: Vec<String>,
}

/// One seal the tender requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealRequirementView {
    /// Its id.
    pub id: String,
    /// The seal's kind, in Chinese (公章 …).
    pub kind: String,
    /// Where it goes, for people (`keyword "投标人（盖章）"`, `page last`, `seam`).
    pub at: String,
    /// Whether it is required.
    pub required: bool,
    /// The agent's note.
    pub note: Option<String>,
}

/// A tender package as the 投标文件 screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenderSummary {
    /// The package directory.
    pub dir: String,
    /// SHA-256 of `tender.json`.
    pub sha256: String,
    /// 招标编号.
    pub tender_id: String,
    /// 项目名称.
    pub project_name: String,
    /// 项目编号.
    pub project_number: String,
    /// 招标代理.
    pub agent: String,
    /// Submission deadline, RFC 3339.
    pub deadline: String,
    /// Opening time, RFC 3339.
    pub opening: String,
    /// `gm` or `nist`.
    pub suite: String,
    /// The sections.
    pub sections: Vec<SectionRequirement>,
    /// The seals.
    pub seals: Vec<SealRequirementView>,
    /// Whether a quoted price is required, its currency and ceiling.
    pub price_required: bool,
    /// The currency (CNY).
    pub currency: String,
    /// The ceiling price, if any.
    pub max_price: Option<String>,
}

impl TenderSummary {
    /// The summary of a loaded package found in `dir`.
    pub fn new(dir: &Path, loaded: &LoadedTender) -> TenderSummary {
        let p: &TenderPackage = &loaded.package;
        TenderSummary {
            dir: dir.display().to_string(),
            sha256: loaded.sha256.clone(),
            tender_id: p.tender_id.clone(),
            project_name: p.project.name.clone(),
            project_number: p.project.number.clone(),
            agent: p.agent.name.clone(),
            deadline: fmt_time(p.deadline),
            opening: fmt_time(p.opening),
            suite: p.suite.as_str().to_owned(),
            sections: p
                .sections
                .iter()
                .map(|s| SectionRequirement {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    required: s.required,
                    accept: s.accept.clone(),
                })
                .collect(),
            seals: p
                .seals
                .iter()
                .map(|r| SealRequirementView {
                    id: r.id.clone(),
                    kind: r.kind.label_zh().to_owned(),
                    at: match &r.at {
                        SealPlace::Keyword(k) => format!("keyword {k:?}"),
                        other => other.to_string(),
                    },
                    required: r.required,
                    note: r.note.clone(),
                })
                .collect(),
            price_required: p.quoted_price.required,
            currency: p.quoted_price.currency.clone(),
            max_price: p.quoted_price.max.clone(),
        }
    }
}

/// Reads and validates a tender package (its directory or its `tender.json`), as
/// `bidkit tender check`.
pub fn load_tender(path: &Path) -> Result<TenderSummary, AppError> {
    let loaded = TenderPackage::load(path).map_err(tender_error)?;
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        loaded
            .path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    Ok(TenderSummary::new(&dir, &loaded))
}

// ---------------------------------------------------------------------------------
// Bid project

/// A file in a section of the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectFile {
    /// The name it was added under.
    pub name: String,
    /// Its type (`pdf` …).
    pub file_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A section of the project against the tender's requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSection {
    /// The requirement.
    pub requirement: SectionRequirement,
    /// The files added, in order.
    pub files: Vec<ProjectFile>,
}

impl ProjectSection {
    /// Whether the section has at least one file.
    pub fn present(&self) -> bool {
        !self.files.is_empty()
    }
}

/// A bid project as the 投标文件 screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectView {
    /// The project directory.
    pub dir: String,
    /// The tender it follows.
    pub tender: TenderSummary,
    /// The bidder's name.
    pub bidder: String,
    /// The bidder's USCC.
    pub uscc: String,
    /// The quoted price, if set.
    pub quoted_price: Option<String>,
    /// Every section of the tender with the files added to it.
    pub sections: Vec<ProjectSection>,
    /// The last build (file, pages), if any.
    pub built: Option<(String, u32)>,
}

impl ProjectView {
    /// The view of an opened project.
    pub fn new(project: &BidProject) -> ProjectView {
        let m = project.manifest();
        let tender_dir = project
            .tender()
            .path
            .parent()
            .map_or_else(|| project.dir().to_path_buf(), Path::to_path_buf);
        let tender = TenderSummary::new(&tender_dir, project.tender());
        let sections = tender
            .sections
            .iter()
            .map(|req| ProjectSection {
                requirement: req.clone(),
                files: m
                    .sections
                    .get(&req.id)
                    .map(|files| {
                        files
                            .iter()
                            .map(|f| ProjectFile {
                                name: f.original_name.clone(),
                                file_type: f.file_type.as_str().to_owned(),
                                size: f.size,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        ProjectView {
            dir: project.dir().display().to_string(),
            tender,
            bidder: m.bidder.name.clone(),
            uscc: m.bidder.uscc.clone(),
            quoted_price: m.quoted_price.clone(),
            sections,
            built: m.built.as_ref().map(|b| (b.file.clone(), b.pages)),
        }
    }
}

/// Starts a bid project in `dir` following the tender package `tender` (as `bidkit bid
/// init`), with the quoted price when given.
pub fn init_project(
    tender: &Path,
    dir: &Path,
    bidder: &str,
    uscc: &str,
    quoted_price: Option<&str>,
) -> Result<ProjectView, AppError> {
    let loaded = TenderPackage::load(tender).map_err(tender_error)?;
    let mut project = BidProject::init(
        &loaded,
        dir,
        Bidder {
            name: bidder.trim().to_owned(),
            uscc: uscc.trim().to_owned(),
        },
    )
    .map_err(tender_error)?;
    if let Some(p) = quoted_price.map(str::trim).filter(|p| !p.is_empty()) {
        project.set_quoted_price(Some(p)).map_err(tender_error)?;
    }
    Ok(ProjectView::new(&project))
}

/// Opens an existing bid project.
pub fn open_project(dir: &Path) -> Result<ProjectView, AppError> {
    let project = BidProject::open(dir).map_err(tender_error)?;
    Ok(ProjectView::new(&project))
}

/// Adds `file` to section `section` (as `bidkit bid add`: recognised by its content,
/// refused when the section does not accept it).
pub fn add_file(dir: &Path, section: &str, file: &Path) -> Result<ProjectView, AppError> {
    let mut project = BidProject::open(dir).map_err(tender_error)?;
    project.add(section, file).map_err(tender_error)?;
    Ok(ProjectView::new(&project))
}

/// Sets or clears the quoted price (as `bidkit bid price`).
pub fn set_price(dir: &Path, price: Option<&str>) -> Result<ProjectView, AppError> {
    let mut project = BidProject::open(dir).map_err(tender_error)?;
    project
        .set_quoted_price(price.map(str::trim).filter(|p| !p.is_empty()))
        .map_err(tender_error)?;
    Ok(ProjectView::new(&project))
}

// ---------------------------------------------------------------------------------
// Build

/// One step of a build, for the screen's progress bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildProgress {
    /// `planning`, `writing`, `finishing` or `done`.
    pub stage: &'static str,
    /// Pages written so far.
    pub pages_done: u32,
    /// Pages in all (0 while planning).
    pub pages_total: u32,
    /// The section file being read or written.
    pub file: Option<String>,
}

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::Planning => "planning",
        Stage::Writing => "writing",
        Stage::Finishing => "finishing",
        Stage::Done => "done",
    }
}

/// A section of the built document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltSectionView {
    /// Section id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its first page (1-based).
    pub first_page: u32,
    /// Its pages.
    pub pages: u32,
    /// Its files (name, first page, pages).
    pub files: Vec<(String, u32, u32)>,
}

/// A built bid document with its first pages drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildView {
    /// The PDF written.
    pub output: String,
    /// Its pages.
    pub pages: u32,
    /// Table-of-contents pages.
    pub toc_pages: u32,
    /// Bookmarks (one per section and per file).
    pub bookmarks: u32,
    /// The sections.
    pub sections: Vec<BuiltSectionView>,
    /// The embedded font's family.
    pub font_family: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// The first pages as PNG (page number, bytes).
    pub previews: Vec<(u32, Vec<u8>)>,
    /// Why the previews could not be drawn, if they could not.
    pub preview_error: Option<String>,
}

/// Builds the project's bid document to `out` (default `DIR/bid.pdf`) as `bidkit bid
/// build`, calling `on_progress` per stage and page, then draws its first pages with
/// pdfium. Blocking.
pub fn build_project(
    dir: &Path,
    out: Option<&Path>,
    on_progress: &mut dyn FnMut(BuildProgress),
) -> Result<BuildView, AppError> {
    let mut project = BidProject::open(dir).map_err(tender_error)?;
    let out = out.map_or_else(|| dir.join("bid.pdf"), Path::to_path_buf);
    let out = std::path::absolute(&out).unwrap_or(out);
    let options = BuildOptions {
        font: None,
        date: None,
    };
    let report = project
        .build(&out, &options, &mut |p| {
            on_progress(BuildProgress {
                stage: stage_name(p.stage),
                pages_done: p.pages_done,
                pages_total: p.pages_total,
                file: p.file.clone(),
            });
        })
        .map_err(tender_error)?;
    let (previews, preview_error) = match previews(&report.output, PREVIEW_PAGES) {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let bookmarks: usize = report.sections.iter().map(|s| 1 + s.files.len()).sum();
    Ok(BuildView {
        output: report.output.display().to_string(),
        pages: report.pages,
        toc_pages: report.toc_pages,
        bookmarks: u32::try_from(bookmarks).unwrap_or(u32::MAX),
        sections: report
            .sections
            .iter()
            .map(|s| BuiltSectionView {
                id: s.id.clone(),
                title: s.title.clone(),
                first_page: s.first_page,
                pages: s.pages,
                files: s
                    .files
                    .iter()
                    .map(|f| (f.name.clone(), f.first_page, f.pages))
                    .collect(),
            })
            .collect(),
        font_family: report.font_family.clone(),
        size: report.size,
        sha256: report.sha256.clone(),
        previews,
        preview_error,
    })
}

/// The first `max` pages of `pdf` drawn by pdfium as PNG thumbnails.
pub fn previews(pdf: &Path, max: usize) -> Result<Vec<(u32, Vec<u8>)>, AppError> {
    let count = bidkit_pdf::text::page_count(pdf)? as usize;
    let mut out = Vec::new();
    for index in 0..count.min(max) {
        let png = bidkit_pdf::text::render_page_png(pdf, index, PREVIEW_WIDTH_PX)?;
        out.push((u32::try_from(index + 1).unwrap_or(u32::MAX), png));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------
// Checklist

/// One checklist item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckItemView {
    /// `section`, `seal`, `quoted_price` or `document`.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Whether it is required.
    pub required: bool,
    /// `ok`, `missing` or `invalid`.
    pub status: String,
    /// Why it is not ok.
    pub reasons: Vec<String>,
}

/// The checklist as the screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecklistView {
    /// Every item.
    pub items: Vec<CheckItemView>,
    /// Whether every required item is ok.
    pub passed: bool,
    /// Whether the bid may go on (passed, or overridden).
    pub may_proceed: bool,
    /// The recorded override (who, why, when).
    pub override_: Option<(String, String, String)>,
    /// The sealed PDF checked, if any.
    pub pdf: Option<String>,
    /// Whether certificate chains were left unjudged.
    pub integrity_only: bool,
    /// Where the checklist was recorded.
    pub saved: String,
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs the checklist (`bidkit bid check`) on the project and `sealed` (default: its
/// last build, if still there), records an override when `override_reason` is given,
/// and saves it in `DIR/checklist.json`. The home's emulated roots are trusted unless
/// `integrity_only` (or the home has none: then only integrity is judged, and the view
/// says so).
pub fn check_project(
    home: &Path,
    dir: &Path,
    sealed: Option<&Path>,
    override_reason: Option<&str>,
    by: Option<&str>,
    integrity_only: bool,
) -> Result<ChecklistView, AppError> {
    let project = BidProject::open(dir).map_err(tender_error)?;
    let sealed = sealed.map(Path::to_path_buf).or_else(|| {
        project
            .manifest()
            .built
            .as_ref()
            .map(|b| PathBuf::from(&b.file))
            .filter(|p| p.is_file())
    });
    // A home without an emulated root has nothing to judge chains against (as the
    // verify screen): integrity only, and said so.
    let has_roots = ["gm", "nist"]
        .iter()
        .any(|suite| home.join("ca").join(suite).join("root.pem").is_file());
    let integrity_only = integrity_only || !has_roots;
    let options = if integrity_only || sealed.is_none() {
        VerifyOptions::integrity_only()
    } else {
        VerifyOptions::new(TrustChoice::from_home_and_pems(Some(home), &[])?)
    };
    let mut list = bidkit_tender::check(
        project.tender(),
        Some(&project),
        sealed.as_deref(),
        &options,
    )
    .map_err(tender_error)?;
    if let Some(why) = override_reason.map(str::trim).filter(|w| !w.is_empty()) {
        let who = by
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map_or_else(|| project.manifest().bidder.name.clone(), str::to_owned);
        list.set_override(&who, why).map_err(tender_error)?;
    }
    let saved = dir.join(CHECKLIST_FILE);
    list.save(&saved).map_err(tender_error)?;
    Ok(checklist_view(&list, integrity_only, &saved))
}

/// The view of a checklist.
pub fn checklist_view(list: &Checklist, integrity_only: bool, saved: &Path) -> ChecklistView {
    ChecklistView {
        items: list
            .items
            .iter()
            .map(|i| CheckItemView {
                kind: json_name(&i.kind),
                id: i.id.clone(),
                title: i.title.clone(),
                required: i.required,
                status: match i.status {
                    ItemStatus::Ok => "ok",
                    ItemStatus::Missing => "missing",
                    ItemStatus::Invalid => "invalid",
                }
                .to_owned(),
                reasons: i.reasons.clone(),
            })
            .collect(),
        passed: list.passed(),
        may_proceed: list.may_proceed(),
        override_: list
            .override_
            .as_ref()
            .map(|o| (o.who.clone(), o.why.clone(), fmt_time(o.at))),
        pdf: list.pdf.as_ref().map(|p| p.display().to_string()),
        integrity_only,
        saved: saved.display().to_string(),
    }
}

// ---------------------------------------------------------------------------------
// Encrypt, submit, withdraw

/// One step of a phone use case, for the 加密/递交/撤标 screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BidProgress {
    /// A step begins (`fetch-encryption-certificate`, `encrypting`, `sign-header` …).
    Step {
        /// The step's name.
        step: String,
        /// What it does, for people.
        detail: String,
    },
    /// A QR frame to show.
    Qr {
        /// The text the QR code encodes.
        text: String,
        /// The QR code as PNG.
        png: Vec<u8>,
    },
    /// A phone joined: the verification code.
    Joined {
        /// The code.
        code: String,
    },
    /// The request is on the phone, waiting for the holder.
    Waiting {
        /// What the phone shows.
        summary: Vec<String>,
    },
    /// Bytes encrypted (or decrypted) so far.
    Bytes {
        /// Done.
        done: u64,
        /// In all.
        total: u64,
    },
}

/// Forwards a use case's progress to a callback.
pub struct Forward<F>(pub F);

impl<F: FnMut(BidProgress) + Send> SessionObserver for Forward<F> {
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let png = QrImage::encode(frame.text)?.to_png()?;
        (self.0)(BidProgress::Qr {
            text: frame.text.to_owned(),
            png,
        });
        Ok(())
    }

    fn phone_joined(&mut self, code: &str) {
        (self.0)(BidProgress::Joined {
            code: code.to_owned(),
        });
    }

    fn request_sent(&mut self, summary: &[String]) {
        (self.0)(BidProgress::Waiting {
            summary: summary.to_vec(),
        });
    }
}

impl<F: FnMut(BidProgress) + Send> BidObserver for Forward<F> {
    fn step(&mut self, step: BidStep, detail: &str) {
        (self.0)(BidProgress::Step {
            step: json_name(&step),
            detail: detail.to_owned(),
        });
    }

    fn progress(&mut self, progress: &bidkit_bidfile::Progress) {
        (self.0)(BidProgress::Bytes {
            done: progress.bytes_done,
            total: progress.bytes_total.unwrap_or(progress.bytes_done),
        });
    }
}

/// The session options from the home's settings: their relay (embedded when none) and
/// suite, trusting the home's emulated CA.
pub fn sign_options(home: &Path) -> Result<SignOptions, AppError> {
    let settings = Settings::load(home)?;
    let mut sign = SignOptions::new(home, settings.suite);
    if let Some(url) = settings.relay.as_deref().filter(|u| !u.trim().is_empty()) {
        sign.relay = RelayChoice::Remote {
            connect: bidkit_protocol::RelayAddress::new(url.trim()).map_err(|e| {
                AppError::InvalidOption {
                    option: "relay",
                    reason: format!("{url}: {e}"),
                }
            })?,
            advertise: None,
        };
    }
    Ok(sign)
}

/// The options of an encryption: the sealed `pdf` into `output` (default: beside it,
/// `.bid`); with a `project` the payload is a bid package of the PDF and the project's
/// manifest (`bid.json`, as `bidkit bid encrypt PROJECT --pdf`), and the tender id is
/// the manifest's; without, `tender_id` is required.
pub fn encrypt_options(
    home: &Path,
    pdf: &Path,
    project: Option<&Path>,
    output: Option<&Path>,
    tender_id: Option<&str>,
) -> Result<EncryptOptions, AppError> {
    let sign = sign_options(home)?;
    let output = output.map_or_else(|| pdf.with_extension("bid"), Path::to_path_buf);
    let manifest = project.map(|dir| dir.join(bidkit_tender::BID_FILE));
    let tender_id = match (
        tender_id.map(str::trim).filter(|t| !t.is_empty()),
        &manifest,
    ) {
        (Some(t), _) => t.to_owned(),
        (None, Some(m)) => crate::package::read_bid_manifest(m)?.tender_id,
        (None, None) => {
            return Err(AppError::InvalidOption {
                option: "tender_id",
                reason: "the tender id is required for a PDF without a project".into(),
            });
        }
    };
    let mut opts = EncryptOptions::new(sign, pdf, output, &tender_id);
    opts.manifest = manifest;
    Ok(opts)
}

/// The options of a submission (or withdrawal) of `bid_file`, the statement to
/// `output` (default: beside it, `-receipt.json` / `-withdrawal.json` by `suffix`), in
/// the bid file's suite.
pub fn submit_options(
    home: &Path,
    bid_file: &Path,
    output: Option<&Path>,
    suffix: &str,
) -> Result<SubmitOptions, AppError> {
    let mut sign = sign_options(home)?;
    if let Ok(opened) = bidkit_bidfile::Decryptor::open(bid_file) {
        sign.suite = opened.header().suite();
    }
    let output = output.map_or_else(
        || {
            let stem = bid_file
                .file_stem()
                .map_or_else(|| "bid".into(), |s| s.to_string_lossy().into_owned());
            bid_file.with_file_name(format!("{stem}-{suffix}.json"))
        },
        Path::to_path_buf,
    );
    Ok(SubmitOptions::new(sign, bid_file, output))
}

/// Encrypts as [`crate::bid::encrypt_bid`], forwarding progress. Blocking.
pub fn encrypt_with_progress<F: FnMut(BidProgress) + Send>(
    opts: &EncryptOptions,
    on_progress: F,
) -> Result<EncryptReport, AppError> {
    crate::bid::encrypt_bid_blocking(opts, &mut Forward(on_progress))
}

/// Submits as [`crate::bid::submit_bid`], forwarding progress. Blocking.
pub fn submit_with_progress<F: FnMut(BidProgress) + Send>(
    opts: &SubmitOptions,
    on_progress: F,
) -> Result<StatementReport, AppError> {
    crate::bid::submit_bid_blocking(opts, &mut Forward(on_progress))
}

/// Withdraws as [`crate::bid::withdraw_bid`], forwarding progress. Blocking.
pub fn withdraw_with_progress<F: FnMut(BidProgress) + Send>(
    opts: &WithdrawOptions,
    on_progress: F,
) -> Result<StatementReport, AppError> {
    crate::bid::withdraw_bid_blocking(opts, &mut Forward(on_progress))
}

// ---------------------------------------------------------------------------------
// Inspect

/// A recipient of a bid file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientView {
    /// `bidder` or `extra`.
    pub role: String,
    /// Encryption-certificate serial (hex).
    pub serial: String,
    /// Its subject.
    pub subject: String,
}

/// `bid inspect` as the screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectView {
    /// The file.
    pub path: String,
    /// `intact`, `damaged` or `unreadable`.
    pub verdict: String,
    /// The problems found.
    pub problems: Vec<String>,
    /// The tender id from the header.
    pub tender_id: Option<String>,
    /// The bidder (name, USCC).
    pub bidder: Option<(String, String)>,
    /// The suite.
    pub suite: Option<String>,
    /// The recipients.
    pub recipients: Vec<RecipientView>,
    /// Plaintext bytes.
    pub content_size: Option<u64>,
    /// Chunks.
    pub chunks: Option<u64>,
    /// The header signer (subject) and whether its signature verified.
    pub signer: Option<(String, bool)>,
    /// Whether the ciphertext hash matches the header.
    pub ciphertext_hash_ok: Option<bool>,
}

/// Inspects a bid file without decrypting (as `bidkit bid inspect`).
pub fn inspect_view(path: &Path) -> InspectView {
    let r = inspect(path);
    let header = r.header.as_ref();
    InspectView {
        path: path.display().to_string(),
        verdict: json_name(&r.verdict),
        problems: r.problems.clone(),
        tender_id: header.map(|h| h.tender_id().to_owned()),
        bidder: header.map(|h| (h.bidder().name.clone(), h.bidder().uscc.clone())),
        suite: header.map(|h| h.suite().to_string()),
        recipients: header
            .map(|h| {
                h.recipients()
                    .iter()
                    .map(|rc| RecipientView {
                        role: rc.role.as_str().to_owned(),
                        serial: rc.certificate_serial.clone(),
                        subject: rc.subject.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        content_size: header.map(|h| h.payload().content_size),
        chunks: header.map(|h| h.payload().chunk_count),
        signer: r
            .signature
            .as_ref()
            .map(|s| (s.signer_subject.clone(), s.valid)),
        ciphertext_hash_ok: r.ciphertext_hash_ok,
    }
}

// ---------------------------------------------------------------------------------
// History

/// Appends an operation to the home's history; a history that cannot be written does
/// not undo the operation, so the failure is only returned for logging.
pub fn record(
    home: &Path,
    kind: &str,
    summary: impl Into<String>,
    files: Vec<String>,
    error: Option<&AppError>,
) -> Result<(), AppError> {
    let mut entry = crate::history::HistoryEntry::now(kind, summary, files, error.is_none());
    entry.error = error.map(|e| e.code().to_owned());
    crate::history::append(home, &entry)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn tender(dir: &Path) -> PathBuf {
        let doc = dir.join("tender-doc.pdf");
        bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(1), &doc)
            .unwrap();
        let pkg = dir.join("tender");
        TenderPackage::new_template(OffsetDateTime::now_utc())
            .write_package(&pkg, Some(&doc))
            .unwrap();
        pkg
    }

    #[test]
    fn tender_summary_lists_sections_and_seals() {
        let tmp = tempfile::tempdir().unwrap();
        let t = load_tender(&tender(tmp.path())).unwrap();
        assert_eq!(t.tender_id, "ZB-2026-0001");
        assert_eq!(t.suite, "gm");
        assert_eq!(t.sections.len(), 4);
        assert!(t.sections[0].required && !t.sections[3].required);
        assert_eq!(t.seals.len(), 3);
        assert!(t.seals[0].at.contains("投标人（盖章）"), "{:?}", t.seals[0]);
        assert!(load_tender(&tmp.path().join("nothing")).is_err());
    }

    #[test]
    fn project_sections_track_files_and_refuse_wrong_types() {
        let tmp = tempfile::tempdir().unwrap();
        let pkg = tender(tmp.path());
        let dir = tmp.path().join("project");
        let p = init_project(
            &pkg,
            &dir,
            "北京某某建设有限公司",
            "91110000600037341L",
            Some("100.00"),
        )
        .unwrap();
        assert_eq!(p.quoted_price.as_deref(), Some("100.00"));
        assert!(p.sections.iter().all(|s| !s.present()));
        let pdf = tmp.path().join("a.pdf");
        bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(2), &pdf)
            .unwrap();
        let p = add_file(&dir, "business", &pdf).unwrap();
        let business = &p.sections[0];
        assert!(business.present());
        assert_eq!(business.files[0].file_type, "pdf");
        // The price section accepts only PDF: a text file is refused.
        let txt = tmp.path().join("a.txt");
        std::fs::write(&txt, "报价说明").unwrap();
        assert!(add_file(&dir, "price", &txt).is_err());
        assert!(!open_project(&dir).unwrap().sections[2].present());
    }

    #[test]
    fn checklist_without_a_document_fails_and_records_an_override() {
        let tmp = tempfile::tempdir().unwrap();
        let pkg = tender(tmp.path());
        let dir = tmp.path().join("project");
        init_project(
            &pkg,
            &dir,
            "北京某某建设有限公司",
            "91110000600037341L",
            None,
        )
        .unwrap();
        let c = check_project(tmp.path(), &dir, None, None, None, false).unwrap();
        assert!(!c.passed && !c.may_proceed);
        assert!(c.items.iter().any(|i| i.status == "missing"), "{c:?}");
        let c = check_project(tmp.path(), &dir, None, Some("测试"), None, false).unwrap();
        assert!(!c.passed && c.may_proceed);
        let (who, why, _) = c.override_.unwrap();
        assert_eq!(
            (who.as_str(), why.as_str()),
            ("北京某某建设有限公司", "测试")
        );
        assert!(Path::new(&c.saved).is_file());
    }

    #[test]
    fn progress_is_forwarded() {
        let mut seen = Vec::new();
        {
            let mut f = Forward(|p| seen.push(p));
            f.step(BidStep::Encrypting, "x");
            f.progress(&bidkit_bidfile::Progress {
                bytes_done: 5,
                bytes_total: Some(10),
                chunks_done: 1,
                chunks_total: Some(2),
            });
            f.phone_joined("123456");
            f.qr_frame(&QrFrame {
                text: "BK1:TEST",
                step: std::time::Duration::from_secs(10),
                join_deadline: bidkit_protocol::Timestamp::from_secs(1),
            })
            .unwrap();
        }
        assert_eq!(
            seen[0],
            BidProgress::Step {
                step: "encrypting".into(),
                detail: "x".into()
            }
        );
        assert_eq!(seen[1], BidProgress::Bytes { done: 5, total: 10 });
        assert_eq!(
            seen[2],
            BidProgress::Joined {
                code: "123456".into()
            }
        );
        let BidProgress::Qr { text, png } = &seen[3] else {
            unreachable!()
        };
        assert_eq!(crate::qr::decode_png(png, "qr").unwrap(), *text);
    }

    #[test]
    fn encrypt_options_from_a_project_package_its_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let pkg = tender(tmp.path());
        let dir = tmp.path().join("project");
        init_project(
            &pkg,
            &dir,
            "北京某某建设有限公司",
            "91110000600037341L",
            None,
        )
        .unwrap();
        let pdf = tmp.path().join("sealed.pdf");
        let o = encrypt_options(tmp.path(), &pdf, Some(&dir), None, None).unwrap();
        assert_eq!(o.tender_id, "ZB-2026-0001");
        assert_eq!(o.manifest.as_deref(), Some(dir.join("bid.json").as_path()));
        // The settings' suite and relay are the session's.
        let settings = Settings {
            relay: Some("http://127.0.0.1:9".into()),
            suite: bidkit_crypto::Suite::Nist,
            language: "en".into(),
        };
        settings.save(tmp.path()).unwrap();
        let o = encrypt_options(tmp.path(), &pdf, Some(&dir), None, Some("T-2")).unwrap();
        assert_eq!(o.tender_id, "T-2");
        assert_eq!(o.sign.suite, bidkit_crypto::Suite::Nist);
        assert!(matches!(o.sign.relay, RelayChoice::Remote { .. }));
    }

    #[test]
    fn encrypt_options_take_the_tender_from_the_project_or_require_it() {
        let tmp = tempfile::tempdir().unwrap();
        let pdf = tmp.path().join("sealed.pdf");
        let err = encrypt_options(tmp.path(), &pdf, None, None, None).unwrap_err();
        assert_eq!(err.code(), "invalid-option");
        let o = encrypt_options(tmp.path(), &pdf, None, None, Some("T-1")).unwrap();
        assert_eq!(o.tender_id, "T-1");
        assert_eq!(o.output, tmp.path().join("sealed.bid"));
        let s = submit_options(tmp.path(), &o.output, None, "receipt").unwrap();
        assert_eq!(s.output, tmp.path().join("sealed-receipt.json"));
        let i = inspect_view(&o.output);
        assert_eq!(i.verdict, "unreadable");
    }
}
