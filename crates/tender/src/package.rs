//! The tender package: the agent's machine-readable requirements (`tender.json`, schema
//! `bidkit.tender/1`) beside the tender document PDF, in one directory.
//!
//! See `docs/tender-package.md` for the schema with an example.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use bidkit_seal::SealKind;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Result, TenderError};
use crate::util;

/// The schema tag of `tender.json` this crate reads and writes.
pub const TENDER_SCHEMA: &str = "bidkit.tender/1";

/// The requirements file's name inside a tender package directory.
pub const TENDER_FILE: &str = "tender.json";

/// Largest `max_size_mb` a section may declare (4 GiB).
pub const MAX_SECTION_SIZE_MB: u32 = 4096;

/// The file types a section may accept, as written in `accept`.
pub const FILE_TYPES: [&str; 5] = ["pdf", "jpeg", "png", "txt", "md"];

/// A section file's type, as recognised from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    /// A PDF document (`%PDF-`).
    Pdf,
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// UTF-8 plain text.
    Txt,
    /// UTF-8 Markdown (`.md`, `.markdown`).
    Md,
}

impl FileType {
    /// The name used in `accept` (`pdf`, `jpeg`, `png`, `txt`, `md`).
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Txt => "txt",
            FileType::Md => "md",
        }
    }

    /// Parse an `accept` entry (`jpg` is taken for `jpeg`, `markdown` for `md`).
    pub fn parse(s: &str) -> Option<FileType> {
        match s.to_ascii_lowercase().as_str() {
            "pdf" => Some(FileType::Pdf),
            "jpeg" | "jpg" => Some(FileType::Jpeg),
            "png" => Some(FileType::Png),
            "txt" | "text" => Some(FileType::Txt),
            "md" | "markdown" => Some(FileType::Md),
            _ => None,
        }
    }

    /// Whether this is text (plain or Markdown).
    pub fn is_text(self) -> bool {
        matches!(self, FileType::Txt | FileType::Md)
    }

    /// A human description (`a PDF document`, `a PNG image` …).
    pub fn describe(self) -> &'static str {
        match self {
            FileType::Pdf => "a PDF document",
            FileType::Jpeg => "a JPEG image",
            FileType::Png => "a PNG image",
            FileType::Txt => "a plain text file",
            FileType::Md => "a Markdown file",
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The project the tender is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Project name (项目名称), e.g. `某市第一中学教学楼建设工程`.
    pub name: String,
    /// Project number (项目编号), e.g. `SZ-2026-ZB-0042`.
    pub number: String,
}

/// The tender agent (招标代理机构) or the purchaser running the tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    /// Organisation name.
    pub name: String,
    /// Its unified social credit code (统一社会信用代码), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
}

/// The tender document (招标文件) that the requirements belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderDocument {
    /// Its file name inside the package directory (no directory part).
    pub file: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Which algorithm suite bids must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// SM2 / SM3 / SM4 (国密).
    Gm,
    /// P-256 / SHA-256 / AES-256.
    Nist,
}

impl Suite {
    /// `gm` or `nist`.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Gm => "gm",
            Suite::Nist => "nist",
        }
    }
}

/// One part of the bid (商务标, 技术标, 报价, 资格审查 …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Short stable identifier (`business`, `technical`, `price`, `qualification`):
    /// ASCII letters, digits, `-` and `_`.
    pub id: String,
    /// Title shown on the table of contents and bookmarks (e.g. `商务标`).
    pub title: String,
    /// Whether a bid without this section is incomplete.
    pub required: bool,
    /// Accepted file types, among `pdf`, `jpeg`, `png`, `txt`, `md`.
    pub accept: Vec<String>,
    /// Largest size of one file of this section, in MiB (none: no limit but the builder's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size_mb: Option<u32>,
}

impl Section {
    /// Whether a file of type `t` may be added to this section (a text section accepting
    /// `txt` or `md` takes both: Markdown is plain text too).
    pub fn accepts(&self, t: FileType) -> bool {
        self.accepted_types()
            .iter()
            .any(|a| *a == t || (a.is_text() && t.is_text()))
    }

    /// The accepted types that parse (validation rejects the others).
    pub fn accepted_types(&self) -> Vec<FileType> {
        self.accept
            .iter()
            .filter_map(|s| FileType::parse(s))
            .collect()
    }

    /// `id (title)`, as errors name a section.
    pub fn label(&self) -> String {
        format!("{} ({})", self.id, self.title)
    }
}

/// Which page a seal goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PageRef {
    /// A 1-based page number.
    Number(u32),
    /// `first` or `last`.
    Named(NamedPage),
}

/// A page named rather than numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamedPage {
    /// The first page (the cover).
    First,
    /// The last page.
    Last,
}

/// Where a required seal goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SealPlace {
    /// Wherever this text occurs (关键字签章), e.g. `{ "keyword": "投标人（盖章）" }`.
    Keyword(String),
    /// On a page: `{ "page": 1 }`, `{ "page": "last" }`.
    Page(PageRef),
    /// Across the edge of every page (骑缝章): `{ "seam": true }`.
    Seam(bool),
}

impl fmt::Display for SealPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealPlace::Keyword(k) => write!(f, "at keyword {k:?}"),
            SealPlace::Page(PageRef::Number(n)) => write!(f, "on page {n}"),
            SealPlace::Page(PageRef::Named(NamedPage::First)) => f.write_str("on the first page"),
            SealPlace::Page(PageRef::Named(NamedPage::Last)) => f.write_str("on the last page"),
            SealPlace::Seam(_) => f.write_str("across the page edges (seam)"),
        }
    }
}

/// A seal or signature the bid must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealRequirement {
    /// Short stable identifier (`official-cover`, `legal-rep-sign` …).
    pub id: String,
    /// Which seal: `official`, `contract`, `finance`, `legal-representative`,
    /// `personal-name` or `handwritten`.
    pub kind: SealKind,
    /// Where it goes.
    pub at: SealPlace,
    /// Whether a bid without it is incomplete (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// A note shown to the bidder (e.g. `法定代表人或其授权代理人签字`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SealRequirement {
    /// `id (公章 at keyword "投标人（盖章）")`.
    pub fn label(&self) -> String {
        format!("{} ({} {})", self.id, self.kind.label_zh(), self.at)
    }
}

fn yes() -> bool {
    true
}

/// What the bid must say about its price (报价).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotedPriceRule {
    /// Whether the bid must state a quoted price (it goes into the bid file's manifest and
    /// the opening record).
    pub required: bool,
    /// Currency, ISO 4217 (default `CNY`).
    #[serde(default = "cny")]
    pub currency: String,
    /// The ceiling price (最高投标限价), a decimal with at most two places, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

fn cny() -> String {
    "CNY".into()
}

/// The tender agent's machine-readable requirements (`tender.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderPackage {
    /// Always [`TENDER_SCHEMA`].
    pub schema: String,
    /// The tender's identifier (招标编号), which every bid file names.
    pub tender_id: String,
    /// The project.
    pub project: Project,
    /// Who runs the tender.
    pub agent: Agent,
    /// The tender document PDF in the package directory, if the package has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<TenderDocument>,
    /// Bid submission deadline (投标截止时间), RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// Bid opening time (开标时间), RFC 3339; not before the deadline.
    #[serde(with = "time::serde::rfc3339")]
    pub opening: OffsetDateTime,
    /// The algorithm suite bids are signed and encrypted with.
    pub suite: Suite,
    /// The parts of the bid, in the order the bid document has them.
    pub sections: Vec<Section>,
    /// The seals and signatures the bid must carry.
    #[serde(default)]
    pub seals: Vec<SealRequirement>,
    /// The quoted-price rule.
    pub quoted_price: QuotedPriceRule,
}

/// A tender package loaded from disk: the requirements, where they came from, and the
/// SHA-256 of the exact `tender.json` bytes (the "requirements hash" bids refer to).
#[derive(Debug, Clone)]
pub struct LoadedTender {
    /// The validated requirements.
    pub package: TenderPackage,
    /// The `tender.json` read.
    pub path: PathBuf,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

impl TenderPackage {
    /// An example package (`bidkit tender new`): a construction project with the four
    /// usual sections, an official seal at the bidder's signature line, the legal
    /// representative's seal on the last page, a seam seal, a GM suite, and a deadline
    /// thirty days from `now` at 09:30 Beijing time (opening at the same time).
    pub fn new_template(now: OffsetDateTime) -> TenderPackage {
        let beijing = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
        let day = (now + time::Duration::days(30)).to_offset(beijing).date();
        let deadline = day
            .with_hms(9, 30, 0)
            .map(|t| t.assume_offset(beijing))
            .unwrap_or(now);
        let section = |id: &str, title: &str, required: bool, accept: &[&str]| Section {
            id: id.into(),
            title: title.into(),
            required,
            accept: accept.iter().map(|s| (*s).to_owned()).collect(),
            max_size_mb: Some(200),
        };
        TenderPackage {
            schema: TENDER_SCHEMA.into(),
            tender_id: "ZB-2026-0001".into(),
            project: Project {
                name: "某市第一中学教学楼建设工程".into(),
                number: "SZ-2026-GC-0001".into(),
            },
            agent: Agent {
                name: "某某招标代理有限公司".into(),
                uscc: None,
            },
            document: None,
            deadline,
            opening: deadline,
            suite: Suite::Gm,
            sections: vec![
                section("business", "商务标", true, &["pdf", "jpeg", "png"]),
                section("technical", "技术标", true, &["pdf", "md", "txt"]),
                section("price", "报价（经济标）", true, &["pdf"]),
                section("qualification", "资格审查", false, &["pdf", "jpeg", "png"]),
            ],
            seals: vec![
                SealRequirement {
                    id: "official-signature-line".into(),
                    kind: SealKind::Official,
                    at: SealPlace::Keyword("投标人（盖章）".into()),
                    required: true,
                    note: Some("投标人公章，盖在每处“投标人（盖章）”".into()),
                },
                SealRequirement {
                    id: "legal-representative-last-page".into(),
                    kind: SealKind::LegalRepresentative,
                    at: SealPlace::Page(PageRef::Named(NamedPage::Last)),
                    required: true,
                    note: None,
                },
                SealRequirement {
                    id: "official-seam".into(),
                    kind: SealKind::Official,
                    at: SealPlace::Seam(true),
                    required: false,
                    note: Some("骑缝章".into()),
                },
            ],
            quoted_price: QuotedPriceRule {
                required: true,
                currency: "CNY".into(),
                max: Some("12000000.00".into()),
            },
        }
    }

    /// Parse `tender.json` bytes (named `path` in errors) and validate them.
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<TenderPackage> {
        let package: TenderPackage = util::parse_json(path, bytes, TENDER_SCHEMA)?;
        package.validate(path)?;
        Ok(package)
    }

    /// Load a tender package: `path` is the package directory (holding `tender.json`) or
    /// the `tender.json` itself. Validates the requirements and, when they name a tender
    /// document, that it is in the directory with the hash given.
    pub fn load(path: &Path) -> Result<LoadedTender> {
        let json = if path.is_dir() {
            path.join(TENDER_FILE)
        } else {
            path.to_path_buf()
        };
        let loaded = TenderPackage::load_requirements(&json)?;
        let package = &loaded.package;
        if let Some(doc) = &package.document {
            let doc_path = util::parent_dir(&json).join(&doc.file);
            if !doc_path.is_file() {
                return Err(TenderError::Invalid {
                    path: json,
                    problems: vec![format!(
                        "the tender document {:?} is not in the package directory",
                        doc.file
                    )],
                });
            }
            let (hash, _) = util::sha256_file(&doc_path, None)?;
            if !hash.eq_ignore_ascii_case(&doc.sha256) {
                return Err(TenderError::Invalid {
                    path: json,
                    problems: vec![format!(
                        "the tender document {:?} has SHA-256 {hash}, not the {} the requirements name: it was changed or replaced",
                        doc.file, doc.sha256
                    )],
                });
            }
        }
        Ok(loaded)
    }

    /// Load and validate a `tender.json` alone, without looking for the tender document
    /// it names: a bid project keeps a copy of the requirements (pinned by their hash,
    /// which covers the document's hash) but not the document itself.
    pub(crate) fn load_requirements(json: &Path) -> Result<LoadedTender> {
        let bytes = util::read(json)?;
        let package = TenderPackage::from_json(json, &bytes)?;
        Ok(LoadedTender {
            package,
            path: json.to_path_buf(),
            sha256: util::sha256_hex(&bytes),
        })
    }

    /// Write a package directory: `dir/tender.json` and, when `document` is given, a copy
    /// of that PDF beside it (its name and hash are filled into the requirements). The
    /// package is validated first; nothing is written when it does not validate. Returns
    /// the package as written.
    pub fn write_package(&self, dir: &Path, document: Option<&Path>) -> Result<LoadedTender> {
        let mut package = self.clone();
        std::fs::create_dir_all(dir).map_err(|e| TenderError::io(dir, "creating", e))?;
        let json = dir.join(TENDER_FILE);
        if let Some(src) = document {
            let name = src
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| util::is_plain_file_name(n))
                .ok_or_else(|| {
                    TenderError::bad_file(src, "the tender document needs a plain UTF-8 file name")
                })?
                .to_owned();
            let kind = crate::sniff::sniff_file(src)?;
            if kind != FileType::Pdf {
                return Err(TenderError::bad_file(
                    src,
                    format!(
                        "the tender document must be a PDF, this is {}",
                        kind.describe()
                    ),
                ));
            }
            let (sha256, _) = util::sha256_file(src, None)?;
            package.document = Some(TenderDocument { file: name, sha256 });
        }
        package.validate(&json)?;
        if let (Some(src), Some(doc)) = (document, &package.document) {
            let dest = dir.join(&doc.file);
            if src.canonicalize().ok() != dest.canonicalize().ok() {
                crate::project::copy_atomic(src, &dest)?;
            }
        }
        let bytes = util::write_json(&json, &package)?;
        Ok(LoadedTender {
            package,
            path: json,
            sha256: util::sha256_hex(&bytes),
        })
    }

    /// The section with this id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// Check everything serde cannot: every problem is collected, then reported together
    /// as [`TenderError::Invalid`] naming `path`.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TenderError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }

    /// Every validation problem, one sentence each (empty: the package is valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.schema != TENDER_SCHEMA {
            p.push(format!(
                "unknown schema {:?}; this version of Bidkit reads {TENDER_SCHEMA:?}",
                self.schema
            ));
        }
        check_text(&mut p, "tender_id", &self.tender_id, 128);
        check_text(&mut p, "project.name", &self.project.name, 500);
        check_text(&mut p, "project.number", &self.project.number, 128);
        check_text(&mut p, "agent.name", &self.agent.name, 500);
        if let Some(uscc) = &self.agent.uscc
            && !crate::uscc::is_valid(uscc)
        {
            p.push(format!(
                "agent.uscc {uscc:?} is not a valid unified social credit code (18 characters with a check digit)"
            ));
        }
        if let Some(doc) = &self.document {
            if !util::is_plain_file_name(&doc.file) {
                p.push(format!(
                    "document.file {:?} must be a file name in the package directory, without a directory part",
                    doc.file
                ));
            }
            if !util::is_sha256_hex(&doc.sha256) {
                p.push(format!(
                    "document.sha256 {:?} is not a SHA-256 (64 hex digits)",
                    doc.sha256
                ));
            }
        }
        if self.deadline > self.opening {
            p.push(format!(
                "the deadline {} is after the opening time {}: bids must close before they are opened",
                fmt_time(self.deadline),
                fmt_time(self.opening)
            ));
        }
        if self.sections.is_empty() {
            p.push("there are no sections: a bid needs at least one".into());
        }
        let mut ids = HashSet::new();
        for (i, s) in self.sections.iter().enumerate() {
            let n = i + 1;
            let name = if s.title.trim().is_empty() {
                format!("section {n}")
            } else {
                format!("section {n} ({})", s.title)
            };
            if !is_identifier(&s.id) {
                p.push(format!(
                    "{name}: id {:?} must be 1 to 64 ASCII letters, digits, '-' or '_'",
                    s.id
                ));
            } else if !ids.insert(s.id.as_str()) {
                p.push(format!("{name}: duplicate section id {:?}", s.id));
            }
            if s.title.trim().is_empty() {
                p.push(format!("{name}: the title is empty"));
            } else if s.title.chars().count() > 100 || s.title.chars().any(char::is_control) {
                p.push(format!(
                    "{name}: the title must be at most 100 characters on one line"
                ));
            }
            if s.accept.is_empty() {
                p.push(format!(
                    "{name}: accepts no file type; list some of {}",
                    types_list()
                ));
            }
            for a in &s.accept {
                if FileType::parse(a).is_none() {
                    p.push(format!(
                        "{name}: accepted type {a:?} is not supported; use {}",
                        types_list()
                    ));
                }
            }
            if let Some(mb) = s.max_size_mb
                && (mb == 0 || mb > MAX_SECTION_SIZE_MB)
            {
                p.push(format!(
                    "{name}: max_size_mb {mb} must be between 1 and {MAX_SECTION_SIZE_MB}"
                ));
            }
        }
        let mut seal_ids = HashSet::new();
        for (i, r) in self.seals.iter().enumerate() {
            let name = format!("seal {} ({})", i + 1, r.kind.label_zh());
            if !is_identifier(&r.id) {
                p.push(format!(
                    "{name}: id {:?} must be 1 to 64 ASCII letters, digits, '-' or '_'",
                    r.id
                ));
            } else if !seal_ids.insert(r.id.as_str()) {
                p.push(format!("{name}: duplicate seal id {:?}", r.id));
            }
            match &r.at {
                SealPlace::Keyword(k) if k.trim().is_empty() => {
                    p.push(format!("{name}: the keyword is empty"));
                }
                SealPlace::Keyword(k) if k.chars().count() > 64 => {
                    p.push(format!("{name}: the keyword is longer than 64 characters"));
                }
                SealPlace::Page(PageRef::Number(0)) => {
                    p.push(format!(
                        "{name}: page numbers start at 1 (or use \"first\" / \"last\")"
                    ));
                }
                SealPlace::Seam(false) => {
                    p.push(format!(
                        "{name}: \"seam\": false places the seal nowhere; write \"seam\": true or another place"
                    ));
                }
                _ => {}
            }
        }
        let q = &self.quoted_price;
        if q.currency.len() != 3 || !q.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            p.push(format!(
                "quoted_price.currency {:?} must be an ISO 4217 code such as \"CNY\"",
                q.currency
            ));
        }
        if let Some(max) = &q.max
            && crate::price::parse_amount(max).is_none()
        {
            p.push(format!(
                "quoted_price.max {max:?} must be a positive amount with at most two decimals, e.g. \"1200000.00\""
            ));
        }
        p
    }
}

fn check_text(p: &mut Vec<String>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        p.push(format!("{field} is empty"));
    } else if value.chars().count() > max {
        p.push(format!("{field} is longer than {max} characters"));
    } else if value.chars().any(char::is_control) {
        p.push(format!("{field} must be on one line"));
    }
}

fn is_identifier(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn types_list() -> String {
    "pdf, jpeg, png, txt or md".into()
}

pub(crate) fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
