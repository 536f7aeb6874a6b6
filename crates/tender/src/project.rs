//! The bidder's bid project: a directory with `bid.json` (schema `bidkit.bid/1`), a copy
//! of the tender's `tender.json`, and the section files copied under `files/`.
//!
//! ```text
//! MY-BID/
//!   bid.json        the project: tender id + requirements hash, bidder, price, files
//!   tender.json     the requirements the project follows (byte-for-byte copy)
//!   files/business/01-营业执照.pdf …
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Result, TenderError};
use crate::package::{FileType, LoadedTender, Section, TENDER_FILE, TenderPackage};
use crate::util;

/// The schema tag of `bid.json`.
pub const BID_SCHEMA: &str = "bidkit.bid/1";
/// The project file's name inside a bid project directory.
pub const BID_FILE: &str = "bid.json";
/// Where section files are copied, inside the project directory.
pub const FILES_DIR: &str = "files";

/// Who bids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bidder {
    /// Organisation name (投标人名称).
    pub name: String,
    /// Unified social credit code (统一社会信用代码), 18 characters.
    pub uscc: String,
}

/// One file of a section, as added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionFile {
    /// Path relative to the project directory (`files/<section>/NN-name`).
    pub file: String,
    /// The name it was added under.
    pub original_name: String,
    /// Its type, recognised from its content.
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// What the last build produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltRecord {
    /// Where it was written (as given to `build`).
    pub file: String,
    /// SHA-256 of the built PDF (the original revision of every sealed copy of it).
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Pages.
    pub pages: u32,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The content of `bid.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidManifest {
    /// Always [`BID_SCHEMA`].
    pub schema: String,
    /// The tender's identifier.
    pub tender_id: String,
    /// SHA-256 of the `tender.json` the project follows (its copy in the project).
    pub tender_sha256: String,
    /// The bidder.
    pub bidder: Bidder,
    /// The quoted price (投标报价), a decimal with at most two places, in the tender's
    /// currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_price: Option<String>,
    /// Per section id, the files in order.
    pub sections: std::collections::BTreeMap<String, Vec<SectionFile>>,
    /// When the project was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The last build, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built: Option<BuiltRecord>,
}

/// An open bid project.
#[derive(Debug, Clone)]
pub struct BidProject {
    dir: PathBuf,
    manifest: BidManifest,
    tender: LoadedTender,
}

impl BidProject {
    /// Create a bid project in `dir` (created if missing; it must not already hold a
    /// `bid.json`) following `tender`: copies its `tender.json` and writes `bid.json`.
    pub fn init(tender: &LoadedTender, dir: &Path, bidder: Bidder) -> Result<BidProject> {
        let bid = dir.join(BID_FILE);
        let mut problems = Vec::new();
        if bidder.name.trim().is_empty() {
            problems.push("the bidder's name is empty".to_owned());
        }
        if !crate::uscc::is_valid(&bidder.uscc) {
            problems.push(format!(
                "{:?} is not a valid unified social credit code (18 characters, upper case, with a check character)",
                bidder.uscc
            ));
        }
        if !problems.is_empty() {
            return Err(TenderError::Invalid {
                path: bid,
                problems,
            });
        }
        if bid.exists() {
            return Err(TenderError::project(
                &bid,
                "a bid project already exists here; open it instead",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| TenderError::io(dir, "creating", e))?;
        let tender_bytes = util::read(&tender.path)?;
        if util::sha256_hex(&tender_bytes) != tender.sha256 {
            return Err(TenderError::project(
                &tender.path,
                "the tender requirements changed on disk since they were loaded",
            ));
        }
        util::write_atomic(&dir.join(TENDER_FILE), &tender_bytes)?;
        let manifest = BidManifest {
            schema: BID_SCHEMA.into(),
            tender_id: tender.package.tender_id.clone(),
            tender_sha256: tender.sha256.clone(),
            bidder,
            quoted_price: None,
            sections: Default::default(),
            created: OffsetDateTime::now_utc(),
            built: None,
        };
        util::write_json(&bid, &manifest)?;
        Ok(BidProject {
            dir: dir.to_path_buf(),
            manifest,
            tender: LoadedTender {
                package: tender.package.clone(),
                path: dir.join(TENDER_FILE),
                sha256: tender.sha256.clone(),
            },
        })
    }

    /// Open the project in `dir`: reads `bid.json` and the project's copy of
    /// `tender.json`, and checks that the copy is the one the project was made for.
    pub fn open(dir: &Path) -> Result<BidProject> {
        let bid = dir.join(BID_FILE);
        let bytes = util::read(&bid)?;
        let manifest: BidManifest = util::parse_json(&bid, &bytes, BID_SCHEMA)?;
        // The project holds the requirements but not the tender document they name.
        let tender = TenderPackage::load_requirements(&dir.join(TENDER_FILE))?;
        if !tender.sha256.eq_ignore_ascii_case(&manifest.tender_sha256) {
            return Err(TenderError::project(
                &bid,
                format!(
                    "the project was made for requirements with SHA-256 {}, but {} has {}: the tender requirements were replaced",
                    manifest.tender_sha256,
                    tender.path.display(),
                    tender.sha256
                ),
            ));
        }
        if tender.package.tender_id != manifest.tender_id {
            return Err(TenderError::project(
                &bid,
                format!(
                    "the project is for tender {:?} but its tender.json is for {:?}",
                    manifest.tender_id, tender.package.tender_id
                ),
            ));
        }
        Ok(BidProject {
            dir: dir.to_path_buf(),
            manifest,
            tender,
        })
    }

    /// The project directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The project's `bid.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(BID_FILE)
    }

    /// What `bid.json` says.
    pub fn manifest(&self) -> &BidManifest {
        &self.manifest
    }

    /// The requirements the project follows.
    pub fn tender(&self) -> &LoadedTender {
        &self.tender
    }

    /// Whether the project follows exactly `tender` (same requirements bytes).
    pub fn follows(&self, tender: &LoadedTender) -> bool {
        self.tender.sha256.eq_ignore_ascii_case(&tender.sha256)
    }

    fn section(&self, id: &str) -> Result<&Section> {
        self.tender.package.section(id).ok_or_else(|| {
            TenderError::project(
                &self.manifest_path(),
                format!(
                    "the tender has no section {id:?}; its sections are {}",
                    self.tender
                        .package
                        .sections
                        .iter()
                        .map(|s| format!("{} ({})", s.id, s.title))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }

    /// Add `file` at the end of section `section_id`: its type is recognised from its
    /// content and must match its name and be one the section accepts, and its size must
    /// be within the section's limit; PDFs must open (page count read), images must have a
    /// readable header. The file is copied into the project (the original is only read).
    pub fn add(&mut self, section_id: &str, file: &Path) -> Result<SectionFile> {
        let section = self.section(section_id)?.clone();
        let meta = std::fs::metadata(file).map_err(|e| TenderError::io(file, "reading", e))?;
        if !meta.is_file() {
            return Err(TenderError::bad_file(file, "not a regular file"));
        }
        let size = meta.len();
        if let Some(mb) = section.max_size_mb
            && size > u64::from(mb) * 1024 * 1024
        {
            return Err(TenderError::bad_file(
                file,
                format!(
                    "{size} bytes is over the {mb} MiB the tender allows for a file of section {}",
                    section.label()
                ),
            ));
        }
        let file_type = check_content(file, &section)?;
        let original_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let existing = self.manifest.sections.get(section_id).map_or(0, Vec::len);
        let safe: String = original_name
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let safe = safe.trim_start_matches('.').to_owned();
        let rel = format!("{FILES_DIR}/{section_id}/{:02}-{safe}", existing + 1);
        let dest = self.dir.join(&rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| TenderError::io(parent, "creating", e))?;
        }
        let sha256 = copy_atomic(file, &dest)?;
        let entry = SectionFile {
            file: rel,
            original_name,
            file_type,
            size,
            sha256,
        };
        self.manifest
            .sections
            .entry(section_id.to_owned())
            .or_default()
            .push(entry.clone());
        self.save()?;
        Ok(entry)
    }

    /// Remove the `index`-th (0-based) file of a section (its copy is deleted).
    pub fn remove(&mut self, section_id: &str, index: usize) -> Result<SectionFile> {
        self.section(section_id)?;
        let path = self.manifest_path();
        let files = self
            .manifest
            .sections
            .get_mut(section_id)
            .filter(|f| index < f.len())
            .ok_or_else(|| {
                TenderError::project(
                    &path,
                    format!("section {section_id:?} has no file {}", index + 1),
                )
            })?;
        let removed = files.remove(index);
        if files.is_empty() {
            self.manifest.sections.remove(section_id);
        }
        self.save()?;
        let _ = std::fs::remove_file(self.dir.join(&removed.file));
        Ok(removed)
    }

    /// Set (or clear) the quoted price: a positive decimal with at most two places; above
    /// the tender's ceiling is an error.
    pub fn set_quoted_price(&mut self, price: Option<&str>) -> Result<()> {
        if let Some(p) = price {
            let cents = crate::price::parse_amount(p).ok_or_else(|| TenderError::Invalid {
                path: self.manifest_path(),
                problems: vec![format!(
                    "quoted price {p:?} must be a positive amount with at most two decimals, e.g. \"1234567.89\""
                )],
            })?;
            if let Some(max) = self.ceiling()
                && cents > max
            {
                return Err(TenderError::Invalid {
                    path: self.manifest_path(),
                    problems: vec![format!(
                        "quoted price {} is above the ceiling price {} of the tender",
                        crate::price::format_amount(cents),
                        crate::price::format_amount(max)
                    )],
                });
            }
        }
        self.manifest.quoted_price = price.map(str::to_owned);
        self.save()
    }

    pub(crate) fn ceiling(&self) -> Option<u64> {
        self.tender
            .package
            .quoted_price
            .max
            .as_deref()
            .and_then(crate::price::parse_amount)
    }

    pub(crate) fn record_build(&mut self, record: BuiltRecord) -> Result<()> {
        self.manifest.built = Some(record);
        self.save()
    }

    fn save(&self) -> Result<()> {
        util::write_json(&self.manifest_path(), &self.manifest).map(|_| ())
    }

    /// The path of a section file inside the project.
    pub fn file_path(&self, f: &SectionFile) -> PathBuf {
        self.dir.join(&f.file)
    }

    /// Check that a section file is still what was added (size and SHA-256), and its type.
    pub fn verify_file(&self, f: &SectionFile) -> Result<PathBuf> {
        let path = self.file_path(f);
        let (hash, size) = util::sha256_file(&path, None)?;
        if size != f.size || !hash.eq_ignore_ascii_case(&f.sha256) {
            return Err(TenderError::project(
                &path,
                "the file changed since it was added to the project; add it again",
            ));
        }
        Ok(path)
    }
}

/// Recognise `file`'s type from its content, check it against the section, and check
/// that it opens.
pub(crate) fn check_content(file: &Path, section: &Section) -> Result<FileType> {
    let t = crate::sniff::sniff_file(file)?;
    if !section.accepts(t) {
        return Err(TenderError::bad_file(
            file,
            format!(
                "it is {}, but section {} accepts only {}",
                t.describe(),
                section.label(),
                section.accept.join(", ")
            ),
        ));
    }
    match t {
        FileType::Pdf => {
            let pdf = bidkit_pdf::PdfFile::open(file, bidkit_pdf::Limits::DEFAULT)
                .map_err(|e| TenderError::pdf(file, e))?;
            let pages = pdf.pages().map_err(|e| TenderError::pdf(file, e))?;
            if pages.is_empty() {
                return Err(TenderError::bad_file(file, "the PDF has no pages"));
            }
        }
        FileType::Jpeg => {
            crate::image::jpeg_info(file)?;
        }
        FileType::Png => {
            crate::image::png_size(file)?;
        }
        FileType::Txt | FileType::Md => {
            let size = std::fs::metadata(file)
                .map_err(|e| TenderError::io(file, "reading", e))?
                .len();
            if size > crate::build::MAX_TEXT_BYTES {
                return Err(TenderError::bad_file(
                    file,
                    format!(
                        "a text section file may be at most {} MiB; convert longer documents to PDF",
                        crate::build::MAX_TEXT_BYTES >> 20
                    ),
                ));
            }
        }
    }
    Ok(t)
}

/// Copy `src` to `dest` through a temporary file and a rename; returns the SHA-256 of
/// what was copied.
pub(crate) fn copy_atomic(src: &Path, dest: &Path) -> Result<String> {
    use sha2::Digest;
    use std::io::{Read, Write};
    let mut input = std::fs::File::open(src).map_err(|e| TenderError::io(src, "opening", e))?;
    let mut tmp = util::temp_beside(dest)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = input
            .read(&mut buf)
            .map_err(|e| TenderError::io(src, "reading", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(|e| TenderError::io(dest, "writing", e))?;
    }
    util::persist(tmp, dest)?;
    Ok(hex::encode(hasher.finalize()))
}
