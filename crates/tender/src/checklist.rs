//! The checklist (`bidkit bid check`): is the bid complete and sealed as the tender
//! requires? Every required section present, every required seal present and valid, the
//! quoted price stated, the document unchanged since sealing — each an item with a status
//! and reasons. A bid that does not pass may go on only with an explicit, recorded
//! [`Override`].
//!
//! Seal kinds are matched on the seal's name, which Bidkit's stamping writes into the
//! signature dictionary (`/BidkitSeal`): a name containing the kind's Chinese label
//! (公章, 合同, 财务, 法定代表人, 人名章, 签名 …) matches that kind; a name containing
//! another kind's label does not; a name with no recognisable label, or no name at all (a
//! signature made by another tool), matches loosely and the item says so.

use std::path::{Path, PathBuf};

use bidkit_pdf::verify::{DocumentVerdict, SignatureReport, SignatureVerdict, VerifyOptions};
use bidkit_seal::SealKind;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Result, TenderError};
use crate::package::{LoadedTender, NamedPage, PageRef, SealPlace, SealRequirement};
use crate::project::{BidProject, Bidder};
use crate::util;

/// The schema tag of a saved checklist.
pub const CHECKLIST_SCHEMA: &str = "bidkit.checklist/1";

/// What an item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A bid section (商务标 …).
    Section,
    /// A required seal or signature.
    Seal,
    /// The quoted price.
    QuotedPrice,
    /// The document as a whole: built from this project, its signatures intact and
    /// nothing changed since sealing.
    Document,
}

/// An item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// As required (or optional and absent).
    Ok,
    /// Required and absent.
    Missing,
    /// Present but wrong: a broken or untrusted signature, a changed file, a price above
    /// the ceiling …
    Invalid,
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// What it is about.
    pub kind: ItemKind,
    /// The section or seal id (`price` for the quoted price, `integrity` / `build` for the
    /// document items).
    pub id: String,
    /// A human title (`商务标`, `公章 at keyword "投标人（盖章）"` …).
    pub title: String,
    /// Whether the tender requires it.
    pub required: bool,
    /// The outcome.
    pub status: ItemStatus,
    /// Why, one sentence each (also for `ok`: what was found).
    pub reasons: Vec<String>,
}

/// A decision to go on despite a failed checklist, recorded with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// Who decided.
    pub who: String,
    /// Why.
    pub why: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    /// Always [`CHECKLIST_SCHEMA`].
    pub schema: String,
    /// The tender.
    pub tender_id: String,
    /// SHA-256 of the requirements checked against.
    pub tender_sha256: String,
    /// The bidder, when a project was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bidder: Option<Bidder>,
    /// The PDF checked, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<PathBuf>,
    /// Its SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_sha256: Option<String>,
    /// When the check ran.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Every item.
    pub items: Vec<ChecklistItem>,
    /// The decision to go on anyway, if one was made.
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub override_: Option<Override>,
}

impl Checklist {
    /// Whether every item is `ok`.
    pub fn passed(&self) -> bool {
        self.items.iter().all(|i| i.status == ItemStatus::Ok)
    }

    /// Whether the bid may go on (to encryption): it passed, or someone overrode.
    pub fn may_proceed(&self) -> bool {
        self.passed() || self.override_.is_some()
    }

    /// The items that are not `ok`.
    pub fn failures(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.items.iter().filter(|i| i.status != ItemStatus::Ok)
    }

    /// Record a decision to go on anyway, now. `who` and `why` must not be empty.
    pub fn set_override(&mut self, who: &str, why: &str) -> Result<()> {
        if who.trim().is_empty() || why.trim().is_empty() {
            return Err(TenderError::Invalid {
                path: PathBuf::from("override"),
                problems: vec!["an override needs who decides and why".into()],
            });
        }
        self.override_ = Some(Override {
            who: who.trim().to_owned(),
            why: why.trim().to_owned(),
            at: OffsetDateTime::now_utc(),
        });
        Ok(())
    }

    /// Write the checklist as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        util::write_json(path, self).map(|_| ())
    }

    /// Read a saved checklist.
    pub fn load(path: &Path) -> Result<Checklist> {
        let bytes = util::read(path)?;
        util::parse_json(path, &bytes, CHECKLIST_SCHEMA)
    }

    /// A short human rendering, one line per item.
    pub fn to_text(&self) -> String {
        let mut s = format!("Checklist for tender {}\n", self.tender_id);
        for i in &self.items {
            let mark = match i.status {
                ItemStatus::Ok => "ok",
                ItemStatus::Missing => "MISSING",
                ItemStatus::Invalid => "INVALID",
            };
            let opt = if i.required { "" } else { " (optional)" };
            s.push_str(&format!("  [{mark}] {}{opt}", i.title));
            if !i.reasons.is_empty() {
                s.push_str(&format!(": {}", i.reasons.join("; ")));
            }
            s.push('\n');
        }
        s.push_str(if self.passed() {
            "Passed.\n"
        } else {
            "Not passed.\n"
        });
        if let Some(o) = &self.override_ {
            s.push_str(&format!(
                "Overridden by {} at {}: {}\n",
                o.who,
                crate::package::fmt_time(o.at),
                o.why
            ));
        }
        s
    }
}

/// Check a bid against `tender`: the project's sections and price when `project` is
/// given, and the seals and integrity of `pdf` (the built, sealed document) when given,
/// verified with `options` (the caller's trust choice). Without a project, sections are
/// judged from the PDF's bookmarks; without a PDF, every required seal is missing.
///
/// Fails only when the tender or project cannot be read; every problem with the bid is an
/// item.
pub fn check(
    tender: &LoadedTender,
    project: Option<&BidProject>,
    pdf: Option<&Path>,
    options: &VerifyOptions,
) -> Result<Checklist> {
    let pkg = &tender.package;
    let mut items = Vec::new();
    let mut pdf_sha256 = None;

    if let Some(p) = project
        && !p.follows(tender)
    {
        items.push(ChecklistItem {
            kind: ItemKind::Document,
            id: "requirements".into(),
            title: "tender requirements".into(),
            required: true,
            status: ItemStatus::Invalid,
            reasons: vec![format!(
                "the project follows requirements with SHA-256 {}, not these ({}): the tender was changed; start a new project",
                p.tender().sha256,
                tender.sha256
            )],
        });
    }

    // Bookmarks of the PDF, when there is no project to look at.
    let bookmarks = match (project, pdf) {
        (None, Some(path)) => Some(outline_titles(path)),
        _ => None,
    };

    for s in &pkg.sections {
        let mut reasons = Vec::new();
        let status = match (project, &bookmarks) {
            (Some(p), _) => {
                let files = p
                    .manifest()
                    .sections
                    .get(&s.id)
                    .cloned()
                    .unwrap_or_default();
                let mut bad = false;
                for f in &files {
                    match p.verify_file(f) {
                        Ok(_) if s.accepts(f.file_type) => {}
                        Ok(_) => {
                            bad = true;
                            reasons.push(format!(
                                "{} is {}, which the section does not accept",
                                f.original_name,
                                f.file_type.describe()
                            ));
                        }
                        Err(e) => {
                            bad = true;
                            reasons.push(e.to_string());
                        }
                    }
                }
                if bad {
                    ItemStatus::Invalid
                } else if files.is_empty() {
                    absent(s.required, &mut reasons, "no file added")
                } else {
                    reasons.push(format!("{} file(s)", files.len()));
                    ItemStatus::Ok
                }
            }
            (None, Some(Ok(titles))) => {
                if titles.iter().any(|t| t == &s.title) {
                    reasons.push("bookmarked in the document".into());
                    ItemStatus::Ok
                } else {
                    absent(
                        s.required,
                        &mut reasons,
                        "the document has no bookmark for it",
                    )
                }
            }
            (None, Some(Err(e))) => {
                reasons.push(format!("the document's bookmarks could not be read: {e}"));
                ItemStatus::Invalid
            }
            (None, None) => absent(
                s.required,
                &mut reasons,
                "no project or document to look in",
            ),
        };
        items.push(ChecklistItem {
            kind: ItemKind::Section,
            id: s.id.clone(),
            title: s.title.clone(),
            required: s.required,
            status,
            reasons,
        });
    }

    if let Some(p) = project
        && (pkg.quoted_price.required || p.manifest().quoted_price.is_some())
    {
        let mut reasons = Vec::new();
        let status = match p.manifest().quoted_price.as_deref() {
            None => absent(
                pkg.quoted_price.required,
                &mut reasons,
                "no quoted price stated",
            ),
            Some(v) => match crate::price::parse_amount(v) {
                None => {
                    reasons.push(format!("{v:?} is not an amount"));
                    ItemStatus::Invalid
                }
                Some(c) => match p.ceiling() {
                    Some(max) if c > max => {
                        reasons.push(format!(
                            "{} {} is above the ceiling price {}",
                            crate::price::format_amount(c),
                            pkg.quoted_price.currency,
                            crate::price::format_amount(max)
                        ));
                        ItemStatus::Invalid
                    }
                    _ => {
                        reasons.push(format!(
                            "{} {}",
                            crate::price::format_amount(c),
                            pkg.quoted_price.currency
                        ));
                        ItemStatus::Ok
                    }
                },
            },
        };
        items.push(ChecklistItem {
            kind: ItemKind::QuotedPrice,
            id: "price".into(),
            title: "quoted price (投标报价)".into(),
            required: pkg.quoted_price.required,
            status,
            reasons,
        });
    }

    match pdf {
        None => {
            for r in &pkg.seals {
                let mut reasons = Vec::new();
                let status = absent(r.required, &mut reasons, "no sealed document was checked");
                items.push(seal_item(r, status, reasons));
            }
        }
        Some(path) => {
            let (hash, _) = util::sha256_file(path, None)?;
            pdf_sha256 = Some(hash);
            check_pdf(pkg, project, path, options, &mut items);
        }
    }

    Ok(Checklist {
        schema: CHECKLIST_SCHEMA.into(),
        tender_id: pkg.tender_id.clone(),
        tender_sha256: tender.sha256.clone(),
        bidder: project.map(|p| p.manifest().bidder.clone()),
        pdf: pdf.map(Path::to_path_buf),
        pdf_sha256,
        checked_at: OffsetDateTime::now_utc(),
        items,
        override_: None,
    })
}

fn absent(required: bool, reasons: &mut Vec<String>, why: &str) -> ItemStatus {
    if required {
        reasons.push(why.to_owned());
        ItemStatus::Missing
    } else {
        reasons.push(format!("optional; {why}"));
        ItemStatus::Ok
    }
}

fn seal_item(r: &SealRequirement, status: ItemStatus, reasons: Vec<String>) -> ChecklistItem {
    ChecklistItem {
        kind: ItemKind::Seal,
        id: r.id.clone(),
        title: format!("{} {}", r.kind.label_zh(), r.at),
        required: r.required,
        status,
        reasons,
    }
}

fn check_pdf(
    pkg: &crate::package::TenderPackage,
    project: Option<&BidProject>,
    path: &Path,
    options: &VerifyOptions,
    items: &mut Vec<ChecklistItem>,
) {
    let report = match bidkit_pdf::verify::verify_file(path, options) {
        Ok(r) => r,
        Err(e) => {
            let why = TenderError::pdf(path, e).to_string();
            items.push(ChecklistItem {
                kind: ItemKind::Document,
                id: "integrity".into(),
                title: "document integrity".into(),
                required: true,
                status: ItemStatus::Invalid,
                reasons: vec![format!("the document cannot be read: {why}")],
            });
            for r in &pkg.seals {
                let mut reasons = Vec::new();
                let status = absent(r.required, &mut reasons, "the document cannot be read");
                items.push(seal_item(r, status, reasons));
            }
            return;
        }
    };

    // Built from this project?
    if let Some(built) = project.and_then(|p| p.manifest().built.as_ref()) {
        let end = report.revisions.first().map(|r| r.end);
        let original = end.and_then(|end| util::sha256_file(path, Some(end)).ok());
        let (status, reason) = match original {
            Some((h, _)) if h.eq_ignore_ascii_case(&built.sha256) => (
                ItemStatus::Ok,
                "its original revision is the project's last build".to_owned(),
            ),
            _ => (
                ItemStatus::Invalid,
                format!(
                    "its original revision is not the project's last build ({}, SHA-256 {}): rebuild and seal again, or check the right file",
                    built.file, built.sha256
                ),
            ),
        };
        items.push(ChecklistItem {
            kind: ItemKind::Document,
            id: "build".into(),
            title: "built from this project".into(),
            required: true,
            status,
            reasons: vec![reason],
        });
    }

    let (status, reasons) = match &report.verdict {
        DocumentVerdict::Valid => (
            ItemStatus::Ok,
            vec![format!(
                "{} signature(s), all valid; nothing changed since sealing",
                report.signatures.len()
            )],
        ),
        DocumentVerdict::NoSignatures => (
            ItemStatus::Missing,
            vec!["the document carries no seal or signature".to_owned()],
        ),
        DocumentVerdict::NotValid { problems } => (ItemStatus::Invalid, problems.clone()),
    };
    items.push(ChecklistItem {
        kind: ItemKind::Document,
        id: "integrity".into(),
        title: "document unchanged since sealing".into(),
        required: true,
        status,
        reasons,
    });

    if pkg.seals.is_empty() {
        return;
    }
    let file = bidkit_pdf::PdfFile::open(path, options.limits).ok();
    let page_count = file
        .as_ref()
        .and_then(|f| f.pages().ok())
        .map_or(0, |p| p.len());
    let names: Vec<Option<String>> = report
        .signatures
        .iter()
        .map(|s| file.as_ref().and_then(|f| seal_name(f, s)))
        .collect();

    for r in &pkg.seals {
        let mut notes = Vec::new();
        // Pages the requirement allows (1-based); None = any page with a stamp.
        let allowed: Option<Vec<usize>> = match &r.at {
            SealPlace::Page(PageRef::Number(n)) => Some(vec![*n as usize]),
            SealPlace::Page(PageRef::Named(NamedPage::First)) => Some(vec![1]),
            SealPlace::Page(PageRef::Named(NamedPage::Last)) => Some(vec![page_count]),
            SealPlace::Keyword(k) => match bidkit_pdf::text::find_text(path, k) {
                Ok(hits) if hits.is_empty() => {
                    notes.push(format!("the keyword {k:?} does not occur in the document"));
                    Some(Vec::new())
                }
                Ok(hits) => Some(hits.iter().map(|h| h.page_index + 1).collect()),
                Err(e) => {
                    notes.push(format!(
                        "the keyword could not be searched ({e}); placement not checked"
                    ));
                    None
                }
            },
            SealPlace::Seam(_) => None,
        };
        let mut best: Option<(&SignatureReport, Vec<String>)> = None;
        for (sig, name) in report.signatures.iter().zip(&names) {
            let Some(kind_note) = kind_matches(r.kind, name.as_deref()) else {
                continue;
            };
            let pages: Vec<usize> = sig.stamps.iter().filter_map(|s| s.page).collect();
            let placed = match (&r.at, &allowed) {
                (SealPlace::Seam(_), _) => {
                    let mut distinct = pages.clone();
                    distinct.sort_unstable();
                    distinct.dedup();
                    distinct.len() >= 2
                }
                (_, Some(allowed)) => pages.iter().any(|p| allowed.contains(p)),
                (_, None) => !pages.is_empty(),
            };
            if !placed {
                continue;
            }
            let mut why = Vec::new();
            why.push(format!(
                "signature {}{} on page(s) {}",
                sig.field,
                name.as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                pages
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            why.extend(kind_note);
            let valid = sig.verdict.is_valid();
            if !valid {
                why.push(verdict_text(&sig.verdict));
            }
            let better = match &best {
                None => true,
                Some((b, _)) => valid && !b.verdict.is_valid(),
            };
            if better {
                best = Some((sig, why));
            }
        }
        let (status, mut reasons) = match best {
            Some((sig, why)) if sig.verdict.is_valid() => (ItemStatus::Ok, why),
            Some((_, why)) => (ItemStatus::Invalid, why),
            None => {
                let mut reasons = Vec::new();
                let status = absent(
                    r.required,
                    &mut reasons,
                    &format!("no {} {}", r.kind.label_zh(), r.at),
                );
                (status, reasons)
            }
        };
        reasons.extend(notes);
        items.push(seal_item(r, status, reasons));
    }
}

fn verdict_text(v: &SignatureVerdict) -> String {
    match v {
        SignatureVerdict::Valid => "valid".into(),
        SignatureVerdict::Invalid { reason } => format!("invalid: {reason}"),
        SignatureVerdict::ModifiedAfter { changes } => {
            format!("the document was changed after it: {}", changes.join("; "))
        }
        SignatureVerdict::Untrusted { reason } => format!("untrusted: {reason}"),
    }
}

/// Words in a seal's name that say its kind.
fn labels(kind: SealKind) -> &'static [&'static str] {
    match kind {
        SealKind::Official => &["公章", "单位章", "official"],
        SealKind::Finance => &["财务", "finance"],
        SealKind::Contract => &["合同", "contract"],
        SealKind::LegalRepresentative => &["法定代表人", "法人", "legal"],
        SealKind::PersonalName => &["人名章", "名章", "私章", "personal"],
        SealKind::Handwritten => &["签名", "签字", "手写", "handwrit"],
    }
}

/// `None`: the seal is of another kind. `Some(notes)`: it may be this kind (notes say when
/// that could not be told).
fn kind_matches(kind: SealKind, name: Option<&str>) -> Option<Vec<String>> {
    let Some(name) = name else {
        return Some(vec![
            "the signature does not record its seal's name; kind not checked".into(),
        ]);
    };
    let lower = name.to_lowercase();
    let has = |k: SealKind| labels(k).iter().any(|l| lower.contains(l));
    if has(kind) {
        // 法定代表人章 also contains 名章: the specific kind wins.
        if kind == SealKind::PersonalName && has(SealKind::LegalRepresentative) {
            return None;
        }
        return Some(Vec::new());
    }
    if SealKind::ALL.iter().any(|k| *k != kind && has(*k)) {
        return None;
    }
    Some(vec![format!(
        "the seal name {name:?} does not say its kind; assumed {}",
        kind.label_zh()
    )])
}

/// `/BidkitSeal` of a signature's dictionary.
fn seal_name(file: &bidkit_pdf::PdfFile, sig: &SignatureReport) -> Option<String> {
    let obj = sig.signature_object.as_deref()?;
    let mut parts = obj.split_whitespace();
    let num: u32 = parts.next()?.parse().ok()?;
    let gen_: u16 = parts.next()?.parse().ok()?;
    let dict = match file.object((num, gen_)).ok()? {
        lopdf::Object::Dictionary(d) => d,
        _ => return None,
    };
    let v = dict.get(bidkit_pdf::sign::SEAL_NAME_KEY.as_bytes()).ok()?;
    let v = file.resolve(v).ok()?;
    lopdf::decode_text_string(&v).ok()
}

/// Top-level bookmark titles of a PDF.
fn outline_titles(path: &Path) -> std::result::Result<Vec<String>, String> {
    let file =
        bidkit_pdf::PdfFile::open(path, bidkit_pdf::Limits::DEFAULT).map_err(|e| e.to_string())?;
    let (_, catalog) = file.catalog().map_err(|e| e.to_string())?;
    let Ok(outlines) = catalog.get(b"Outlines") else {
        return Ok(Vec::new());
    };
    let outlines = match file.resolve(outlines).map_err(|e| e.to_string())? {
        lopdf::Object::Dictionary(d) => d,
        _ => return Ok(Vec::new()),
    };
    let mut titles = Vec::new();
    let mut next = outlines.get(b"First").ok().cloned();
    let mut seen = std::collections::HashSet::new();
    while let Some(lopdf::Object::Reference(id)) = next {
        if !seen.insert(id) || seen.len() > 10_000 {
            break;
        }
        let item = match file.object(id).map_err(|e| e.to_string())? {
            lopdf::Object::Dictionary(d) => d,
            _ => break,
        };
        if let Ok(t) = item.get(b"Title")
            && let Ok(t) = file.resolve(t)
            && let Ok(s) = lopdf::decode_text_string(&t)
        {
            titles.push(s);
        }
        next = item.get(b"Next").ok().cloned();
    }
    Ok(titles)
}
