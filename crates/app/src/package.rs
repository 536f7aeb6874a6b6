//! The **bid package** (投标包): what a bid file's payload holds when it is more than a
//! bare PDF — the sealed bid document, the bidder's manifest (tender, bidder, quoted
//! price, sections, the PDF's hash) and optional attachments, as one POSIX ustar
//! archive (`docs/bidfile-format.md`, "Payload package").
//!
//! ```text
//! manifest.json          always the first member: PackageManifest, schema bidkit.bid-package/1
//! bid.pdf                the sealed bid document; size and SHA-256 as the manifest says
//! attachments/<name>     optional, each listed in the manifest with size and SHA-256
//! ```
//!
//! * [`pack`] writes a package into an open file, streaming (the PDF and the
//!   attachments are read twice — once to hash them for the manifest, which comes
//!   first, once to copy them — through a fixed buffer; memory does not grow with the
//!   size). A file that changes between the two reads is refused.
//! * [`extract`] reads a package as untrusted input, streaming, into a temporary
//!   directory beside the destination that is renamed into place only when every
//!   check passed: only regular files, only the member names above (no absolute
//!   path, no `..`, no links, devices or other entry types, no duplicates), the
//!   manifest first and within [`MAX_MANIFEST_BYTES`], valid against its schema,
//!   every member within the [`PackageLimits`] and exactly the size and SHA-256 the
//!   manifest declares, every declared member present. On any error nothing is left.
//!
//! The package sits inside the bid file's encrypted payload, so the manifest — and the
//! quoted price in it — is covered by the content hash in the header the bidder's
//! phone signed: what the opening reads is what the bidder signed.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bidkit_crypto::HashAlgorithm;
use bidkit_tender::{BID_SCHEMA, BidManifest, Bidder};
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The media type of a bid package (the bid-file header's `contentType`).
pub const CONTENT_TYPE: &str = "application/vnd.bidkit.bid-package+tar";
/// The schema tag of `manifest.json`.
pub const MANIFEST_SCHEMA: &str = "bidkit.bid-package/1";
/// The manifest's member name (always the first member).
pub const MANIFEST_MEMBER: &str = "manifest.json";
/// The sealed bid document's member name.
pub const PDF_MEMBER: &str = "bid.pdf";
/// The directory attachments are under.
pub const ATTACHMENTS_DIR: &str = "attachments";
/// The name of the decrypted archive inside the temporary directory a package is
/// decrypted into (never seen outside it).
pub const PAYLOAD_FILE: &str = "payload.tar";
/// The largest manifest accepted (1 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The most attachments a package may hold.
pub const MAX_ATTACHMENTS: usize = 256;
/// The longest attachment file name, in bytes (ustar's name field).
pub const MAX_NAME_BYTES: usize = 100;

const BUF: usize = 256 * 1024;

/// One member of a package as the manifest declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageMember {
    /// The member's name in the archive (`bid.pdf`, `attachments/<name>`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// `manifest.json`: the bidder's project manifest as it was when the bid was
/// encrypted, and what the package holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageManifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// The project's `bid.json` (schema `bidkit.bid/1`): tender id, bidder, quoted
    /// price (set by `bidkit bid price`), sections and their files' hashes, the last
    /// build.
    pub bid: BidManifest,
    /// The sealed bid document ([`PDF_MEMBER`]).
    pub pdf: PackageMember,
    /// The attachments, in archive order.
    #[serde(default)]
    pub attachments: Vec<PackageMember>,
}

impl PackageManifest {
    /// The tender the bid is for.
    pub fn tender_id(&self) -> &str {
        &self.bid.tender_id
    }

    /// The bidder the project names.
    pub fn bidder(&self) -> &Bidder {
        &self.bid.bidder
    }

    /// The quoted price (投标报价), as written in the project.
    pub fn quoted_price(&self) -> Option<&str> {
        self.bid.quoted_price.as_deref()
    }

    /// Every problem with the manifest's content (empty: valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.schema != MANIFEST_SCHEMA {
            p.push(format!(
                "schema {:?} (expected {MANIFEST_SCHEMA:?})",
                self.schema
            ));
        }
        if self.bid.schema != BID_SCHEMA {
            p.push(format!(
                "bid.schema {:?} (expected {BID_SCHEMA:?})",
                self.bid.schema
            ));
        }
        if self.bid.tender_id.trim().is_empty() || self.bid.tender_id.chars().any(char::is_control)
        {
            p.push("bid.tender_id is empty or has control characters".into());
        }
        if self.bid.bidder.name.trim().is_empty() {
            p.push("bid.bidder.name is empty".into());
        }
        if !bidkit_tender::uscc::is_valid(&self.bid.bidder.uscc) {
            p.push(format!(
                "bid.bidder.uscc {:?} is not a valid unified social credit code",
                self.bid.bidder.uscc
            ));
        }
        if let Some(price) = &self.bid.quoted_price
            && bidkit_tender::price::parse_amount(price).is_none()
        {
            p.push(format!(
                "bid.quoted_price {price:?} is not a positive amount with at most two decimals"
            ));
        }
        if self.pdf.name != PDF_MEMBER {
            p.push(format!(
                "pdf.name {:?} (expected {PDF_MEMBER:?})",
                self.pdf.name
            ));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            p.push(format!(
                "{} attachments (at most {MAX_ATTACHMENTS})",
                self.attachments.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in std::iter::once(&self.pdf).chain(&self.attachments) {
            if !is_sha256_hex(&m.sha256) {
                p.push(format!(
                    "{}: sha256 {:?} is not 64 lowercase hex digits",
                    m.name, m.sha256
                ));
            }
            if !seen.insert(m.name.as_str()) {
                p.push(format!("{} is listed twice", m.name));
            }
        }
        for a in &self.attachments {
            if let Err(reason) = attachment_name(&a.name) {
                p.push(format!("attachment {:?}: {reason}", a.name));
            }
        }
        p
    }
}

/// Size limits for [`extract`] (the manifest is always capped at
/// [`MAX_MANIFEST_BYTES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackageLimits {
    /// The largest member (the PDF or an attachment), in bytes.
    pub max_member: u64,
    /// The largest total of all members, in bytes.
    pub max_total: u64,
}

impl Default for PackageLimits {
    /// 16 GiB per member, 32 GiB in all.
    fn default() -> Self {
        PackageLimits {
            max_member: 16 << 30,
            max_total: 32 << 30,
        }
    }
}

/// An attachment to put in a package: its name in the package (under
/// `attachments/`) and the file to read.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// The file name in the package (no `/`, at most [`MAX_NAME_BYTES`] bytes).
    pub name: String,
    /// The file (only read).
    pub path: PathBuf,
}

impl Attachment {
    /// An attachment named after its file's name.
    pub fn from_path(path: &Path) -> Result<Attachment, AppError> {
        let name =
            path.file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| AppError::InvalidOption {
                    option: "attachment",
                    reason: format!("{} has no UTF-8 file name", path.display()),
                })?;
        Ok(Attachment {
            name: name.to_owned(),
            path: path.to_path_buf(),
        })
    }
}

/// What an attachment may be called: `attachments/<name>` with a plain, printable file
/// name. Returns the bare name.
fn attachment_name(member: &str) -> Result<&str, String> {
    let name = member
        .strip_prefix(ATTACHMENTS_DIR)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| format!("not under {ATTACHMENTS_DIR}/"))?;
    plain_name(name).map(|()| name)
}

fn plain_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err("an empty, `.` or `..` name".into());
    }
    if name.contains('/') || name.contains('\\') {
        return Err("a name with a directory part".into());
    }
    if name.chars().any(char::is_control) {
        return Err("control characters in the name".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("a name over {MAX_NAME_BYTES} bytes"));
    }
    Ok(())
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn package_error(path: &Path, reason: impl Into<String>) -> AppError {
    AppError::BidPackage {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SHA-256 and length of a file, streaming.
fn sha256_file(path: &Path) -> Result<(String, u64), AppError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    let mut hasher = HashAlgorithm::Sha256.hasher();
    let mut buf = vec![0u8; BUF];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(path)(e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// A reader that hashes what passes through it.
struct HashingReader<R> {
    inner: R,
    hasher: bidkit_crypto::Hasher,
    len: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        self.len += n as u64;
        Ok(n)
    }
}

fn ustar_header(name: &str, size: u64) -> Result<tar::Header, std::io::Error> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

/// Write a bid package into `out` (from its current position): `manifest.json` made
/// from `bid` and the hashes of `pdf` and `attachments`, then the PDF, then each
/// attachment. `out_path` names `out` in errors. Returns the manifest written.
///
/// Refused: a manifest that does not validate ([`PackageManifest::problems`]), an
/// attachment name that is not a plain file name or given twice, an input that
/// changes while it is packaged.
pub fn pack(
    pdf: &Path,
    bid: &BidManifest,
    attachments: &[Attachment],
    out: &mut File,
    out_path: &Path,
) -> Result<PackageManifest, AppError> {
    let (sha256, size) = sha256_file(pdf)?;
    let mut members = Vec::new();
    for a in attachments {
        let (sha256, size) = sha256_file(&a.path)?;
        members.push(PackageMember {
            name: format!("{ATTACHMENTS_DIR}/{}", a.name),
            size,
            sha256,
        });
    }
    let manifest = PackageManifest {
        schema: MANIFEST_SCHEMA.into(),
        bid: bid.clone(),
        pdf: PackageMember {
            name: PDF_MEMBER.into(),
            size,
            sha256,
        },
        attachments: members,
    };
    let problems = manifest.problems();
    if !problems.is_empty() {
        return Err(AppError::InvalidOption {
            option: "manifest",
            reason: problems.join("; "),
        });
    }
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::InvalidOption {
        option: "manifest",
        reason: format!("cannot encode: {e}"),
    })?;
    if json.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(AppError::InvalidOption {
            option: "manifest",
            reason: format!("it is over {MAX_MANIFEST_BYTES} bytes"),
        });
    }
    let mut builder = tar::Builder::new(std::io::BufWriter::with_capacity(BUF, &mut *out));
    let write_err = io_error(out_path);
    let header = ustar_header(MANIFEST_MEMBER, json.len() as u64).map_err(&write_err)?;
    builder
        .append(&header, json.as_slice())
        .map_err(&write_err)?;
    let files = std::iter::once((pdf, &manifest.pdf)).chain(
        attachments
            .iter()
            .map(|a| a.path.as_path())
            .zip(&manifest.attachments),
    );
    for (path, member) in files {
        let header =
            ustar_header(&member.name, member.size).map_err(|e| AppError::InvalidOption {
                option: "attachment",
                reason: format!("{}: {e}", member.name),
            })?;
        let file = File::open(path).map_err(io_error(path))?;
        let mut reader = HashingReader {
            inner: file.take(member.size),
            hasher: HashAlgorithm::Sha256.hasher(),
            len: 0,
        };
        builder.append(&header, &mut reader).map_err(&write_err)?;
        let (len, hash) = (reader.len, hex::encode(reader.hasher.finalize()));
        if len != member.size || hash != member.sha256 {
            return Err(AppError::InvalidOption {
                option: "input",
                reason: format!("{} changed while it was packaged", path.display()),
            });
        }
    }
    let mut w = builder.into_inner().map_err(&write_err)?;
    w.flush().map_err(&write_err)?;
    drop(w);
    out.sync_all().map_err(&write_err)?;
    Ok(manifest)
}

/// Read a bid package at `package` (untrusted) and extract it into the directory
/// `dest`, which must not exist (or be an empty directory): see the module
/// documentation. Returns the manifest. On error nothing is left at `dest` or beside
/// it; every error names `package` and the reason.
pub fn extract(
    package: &Path,
    dest: &Path,
    limits: &PackageLimits,
) -> Result<PackageManifest, AppError> {
    check_destination(dest)?;
    let parent = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let stem = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "package".into());
    let work = tempfile::Builder::new()
        .prefix(&format!(".{stem}."))
        .suffix(".bidkit-partial")
        .tempdir_in(parent)
        .map_err(io_error(parent))?;
    let manifest = extract_into(package, work.path(), limits)?;
    // Named only now: everything checked.
    let done = work.keep();
    std::fs::rename(&done, dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&done);
        io_error(dest)(e)
    })?;
    Ok(manifest)
}

/// `dest` must not exist, or be an empty directory (which the package replaces).
pub fn check_destination(dest: &Path) -> Result<(), AppError> {
    match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(dest)(e)),
        Ok(m) if m.is_dir() => {
            let mut entries = std::fs::read_dir(dest).map_err(io_error(dest))?;
            if entries.next().is_none() {
                Ok(())
            } else {
                Err(AppError::InvalidOption {
                    option: "output",
                    reason: format!(
                        "{} is a directory that is not empty; a bid package is extracted into a new directory",
                        dest.display()
                    ),
                })
            }
        }
        Ok(_) => Err(AppError::InvalidOption {
            option: "output",
            reason: format!(
                "{} exists and is not a directory; a bid package is extracted into a new directory",
                dest.display()
            ),
        }),
    }
}

fn extract_into(
    package: &Path,
    dir: &Path,
    limits: &PackageLimits,
) -> Result<PackageManifest, AppError> {
    let bad = |reason: String| package_error(package, reason);
    let file = File::open(package).map_err(io_error(package))?;
    let mut archive = tar::Archive::new(std::io::BufReader::with_capacity(BUF, file));
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar archive: {e}")))?;
    let mut manifest: Option<PackageManifest> = None;
    let mut seen: Vec<String> = Vec::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; BUF];
    for (index, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| bad(format!("member {}: {e}", index + 1)))?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw)
            .map_err(|_| bad(format!("member {}: its name is not UTF-8", index + 1)))?;
        let kind = entry.header().entry_type();
        if !matches!(kind, tar::EntryType::Regular) {
            return Err(bad(format!(
                "member {name:?} is a {} (only regular files are allowed: no links, devices or directories)",
                entry_kind(kind)
            )));
        }
        if name.starts_with('/') {
            return Err(bad(format!("member {name:?} has an absolute path")));
        }
        if name.split('/').any(|c| c == "..") {
            return Err(bad(format!("member {name:?} climbs out with `..`")));
        }
        // The size as read (a pax header may override the ustar field).
        let size = entry.size();
        if seen.contains(&name) {
            return Err(bad(format!("member {name:?} appears twice")));
        }
        if seen.len() > MAX_ATTACHMENTS + 1 {
            return Err(bad(format!("more than {} members", MAX_ATTACHMENTS + 2)));
        }
        seen.push(name.clone());
        let Some(m) = &manifest else {
            if name != MANIFEST_MEMBER {
                return Err(bad(format!(
                    "the first member is {name:?}, not {MANIFEST_MEMBER}"
                )));
            }
            if size > MAX_MANIFEST_BYTES {
                return Err(bad(format!(
                    "{MANIFEST_MEMBER} is {size} bytes (at most {MAX_MANIFEST_BYTES})"
                )));
            }
            let mut json = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST_BYTES)
                .read_to_end(&mut json)
                .map_err(|e| bad(format!("reading {MANIFEST_MEMBER}: {e}")))?;
            let parsed: PackageManifest = serde_json::from_slice(&json).map_err(|e| {
                bad(format!(
                    "{MANIFEST_MEMBER} does not follow {MANIFEST_SCHEMA}: {e}"
                ))
            })?;
            let problems = parsed.problems();
            if !problems.is_empty() {
                return Err(bad(format!(
                    "{MANIFEST_MEMBER} is not valid: {}",
                    problems.join("; ")
                )));
            }
            std::fs::write(dir.join(MANIFEST_MEMBER), &json).map_err(io_error(dir))?;
            manifest = Some(parsed);
            continue;
        };
        let declared = std::iter::once(&m.pdf)
            .chain(&m.attachments)
            .find(|d| d.name == name)
            .ok_or_else(|| {
                bad(format!(
                    "member {name:?} is not listed in {MANIFEST_MEMBER}"
                ))
            })?;
        if size > limits.max_member {
            return Err(bad(format!(
                "member {name:?} is {size} bytes (at most {} allowed)",
                limits.max_member
            )));
        }
        total = total.saturating_add(size);
        if total > limits.max_total {
            return Err(bad(format!(
                "the members add up to more than {} bytes",
                limits.max_total
            )));
        }
        if size != declared.size {
            return Err(bad(format!(
                "member {name:?} is {size} bytes, {MANIFEST_MEMBER} says {}",
                declared.size
            )));
        }
        let target = if name == PDF_MEMBER {
            dir.join(PDF_MEMBER)
        } else {
            let bare = attachment_name(&name).map_err(|r| bad(format!("member {name:?}: {r}")))?;
            let sub = dir.join(ATTACHMENTS_DIR);
            std::fs::create_dir_all(&sub).map_err(io_error(&sub))?;
            sub.join(bare)
        };
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(io_error(&target))?;
        let mut hasher = HashAlgorithm::Sha256.hasher();
        let mut copied = 0u64;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(bad(format!("reading member {name:?}: {e}"))),
            };
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            out.write_all(chunk).map_err(io_error(&target))?;
            copied += n as u64;
        }
        if copied != declared.size {
            return Err(bad(format!(
                "member {name:?} ends after {copied} of {} bytes",
                declared.size
            )));
        }
        let hash = hex::encode(hasher.finalize());
        if hash != declared.sha256 {
            return Err(bad(format!(
                "member {name:?} has SHA-256 {hash}, {MANIFEST_MEMBER} says {}",
                declared.sha256
            )));
        }
        out.sync_all().map_err(io_error(&target))?;
    }
    let manifest = manifest.ok_or_else(|| bad("the package is empty (no manifest.json)".into()))?;
    for d in std::iter::once(&manifest.pdf).chain(&manifest.attachments) {
        if !seen.contains(&d.name) {
            return Err(bad(format!(
                "{MANIFEST_MEMBER} lists {:?} but the package does not hold it",
                d.name
            )));
        }
    }
    Ok(manifest)
}

fn entry_kind(kind: tar::EntryType) -> &'static str {
    use tar::EntryType as E;
    match kind {
        E::Symlink => "symbolic link",
        E::Link => "hard link",
        E::Char => "character device",
        E::Block => "block device",
        E::Directory => "directory",
        E::Fifo => "FIFO",
        E::GNUSparse => "sparse file",
        _ => "special entry",
    }
}

/// Read and check a project manifest (`bid.json`, schema `bidkit.bid/1`) from a file.
pub fn read_bid_manifest(path: &Path) -> Result<BidManifest, AppError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let bid: BidManifest = serde_json::from_slice(&bytes).map_err(|e| AppError::InvalidOption {
        option: "manifest",
        reason: format!(
            "{}: not a bid project manifest ({BID_SCHEMA}): {e}",
            path.display()
        ),
    })?;
    if bid.schema != BID_SCHEMA {
        return Err(AppError::InvalidOption {
            option: "manifest",
            reason: format!(
                "{}: schema {:?} (expected {BID_SCHEMA:?})",
                path.display(),
                bid.schema
            ),
        });
    }
    Ok(bid)
}

/// Read `manifest.json` of an extracted package (a directory [`extract`] made) and
/// check it again, with the PDF's SHA-256.
pub fn read_extracted(dir: &Path) -> Result<PackageManifest, AppError> {
    let path = dir.join(MANIFEST_MEMBER);
    let bytes = std::fs::read(&path).map_err(io_error(&path))?;
    let manifest: PackageManifest = serde_json::from_slice(&bytes)
        .map_err(|e| package_error(&path, format!("not a {MANIFEST_SCHEMA} manifest: {e}")))?;
    let problems = manifest.problems();
    if !problems.is_empty() {
        return Err(package_error(&path, problems.join("; ")));
    }
    let pdf = dir.join(PDF_MEMBER);
    let (sha256, _) = sha256_file(&pdf)?;
    if sha256 != manifest.pdf.sha256 {
        return Err(package_error(
            &pdf,
            format!(
                "SHA-256 {sha256}, the manifest says {}: it changed since it was extracted",
                manifest.pdf.sha256
            ),
        ));
    }
    Ok(manifest)
}
