//! `bidkit bench seal`: seal and sign a generated large document (200 MB by default) and
//! a long one (1000 pages) in each placement mode, beside two references measured in the
//! same run on the same files:
//!
//! * the floor: reading the file once and hashing it (streaming, 1 MiB reads) with the
//!   suite's hash — a signature over the whole file cannot cost less; and, for scale,
//!   copying it while hashing and syncing the copy (what any durable signed copy costs),
//!   in one thread through a buffer, and in three as our writer does (the kernel copies,
//!   one thread hashes, one syncs the copy as it grows);
//! * pyHanko signing the same file with one comparable visible stamp (the same seal
//!   picture in the same rectangle, P-256/SHA-256 with the same key and certificate),
//!   through `pyhanko/sign.py`, which reports its own signing time without Python's
//!   start-up and syncs its output as we do.
//!
//! Our side is the staged pipeline in this process ([`bidkit_pdf::sign::seal_with`] with a
//! local key issued by a throw-away CA): open, place, write the incremental update while
//! hashing the byte ranges, sign, embed, sync, rename. Every output is checked with
//! [`bidkit_pdf::verify::verify_file`] (not timed).
//!
//! Times are the median of `runs` wall-clock runs. Peak memory is the kernel's resident
//! high-water mark (`VmHWM`): for us, this process's, reset before each run by writing
//! `5` to `/proc/self/clear_refs` (Linux), so it is the run's own peak (the resident
//! memory before the run — program, allocator caches — is given beside it); for pyHanko,
//! its process's `VmHWM` when signing is done (interpreter and imports included; its
//! resident memory before signing is given beside it).

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bidkit_crypto::hash::HashAlgorithm;
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pdf::generate::{DocumentSpec, KeywordLine, write_document};
use bidkit_pdf::picture::SealPicture;
use bidkit_pdf::placement::{DEFAULT_SEAM_SLICES, Occurrence, Parity, Placement};
use bidkit_pdf::sign::{SealJob, seal_with};
use bidkit_pdf::verify::{TrustChoice, VerifyOptions, verify_file};
use bidkit_pki::{
    Certificate, CertificateAuthority, KeyPurpose, OffsetDateTime, Subject, TrustStore,
};
use serde::Serialize;

use crate::{BenchError, Result};

/// The keyword drawn on some pages of both documents (keyword mode seals on it).
pub const KEYWORD: &str = "投标人（盖章）";
/// Target: pyHanko's time / ours, same file, one visible stamp (page mode, NIST).
pub const TARGET_VS_PYHANKO: f64 = 5.0;
/// Target: our page-mode time / reading and hashing the file once.
pub const TARGET_VS_BASELINE: f64 = 1.3;
/// Target: all-pages and seam sealing of the long document / its single-page time.
pub const TARGET_MANY_VS_PAGE: f64 = 2.0;
/// Target ("well below the file size"): our peak resident memory on the large document
/// at most this fraction of its size.
pub const TARGET_PEAK_FRACTION: f64 = 0.25;

/// The pyHanko script, written to the work directory at run time.
const PYHANKO_SCRIPT: &str = include_str!("../pyhanko/sign.py");

/// A placement mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One stamp on page 1 at the default corner.
    Page,
    /// Every page.
    All,
    /// The first half of the pages.
    Range,
    /// A seam seal over the whole document (groups of 12 slices).
    Seam,
    /// On every occurrence of [`KEYWORD`].
    Keyword,
}

impl Mode {
    /// Every mode, in the order they are measured.
    pub const ALL: [Mode; 5] = [
        Mode::Page,
        Mode::All,
        Mode::Range,
        Mode::Seam,
        Mode::Keyword,
    ];

    /// The mode's name (`page`, `all`, `range`, `seam`, `keyword`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Page => "page",
            Mode::All => "all",
            Mode::Range => "range",
            Mode::Seam => "seam",
            Mode::Keyword => "keyword",
        }
    }

    fn placement(self, pages: u32) -> Placement {
        match self {
            Mode::Page => Placement::Page { page: 1, at: None },
            Mode::All => Placement::AllPages { at: None },
            Mode::Range => Placement::Range {
                first: 1,
                last: (pages / 2).max(1),
                at: None,
            },
            Mode::Seam => Placement::Seam {
                pages: None,
                parity: Parity::All,
                max_slices: DEFAULT_SEAM_SLICES,
                y_mm: None,
            },
            Mode::Keyword => Placement::Keyword {
                keyword: KEYWORD.into(),
                occurrence: Occurrence::All,
                offset_mm: (0.0, 0.0),
            },
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Mode, String> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown mode `{s}` (page, all, range, seam, keyword)"))
    }
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct SealOptions {
    /// Size of the large document, MB (10^6 bytes).
    pub size_mb: u64,
    /// Pages of the large document.
    pub large_pages: u32,
    /// Pages of the long document (no padding).
    pub pages: u32,
    /// The modes to measure (in NIST; page mode also in GM).
    pub modes: Vec<Mode>,
    /// Runs per measurement (the median is reported).
    pub runs: u32,
    /// Directory for the generated files (default: the system's temporary directory);
    /// needs about three times the large size free.
    pub dir: Option<PathBuf>,
    /// The Python that has pyHanko; `None` skips the pyHanko column.
    pub pyhanko_python: Option<PathBuf>,
    /// Check every output with our verifier (not timed).
    pub verify: bool,
}

impl SealOptions {
    /// The standard run: 200 MB in 100 pages, 1000 pages, every mode, 3 runs, pyHanko
    /// from `BIDKIT_PYHANKO_PYTHON` (else `python3`).
    pub fn standard() -> SealOptions {
        SealOptions {
            size_mb: 200,
            large_pages: 100,
            pages: 1000,
            modes: Mode::ALL.to_vec(),
            runs: 3,
            dir: None,
            pyhanko_python: Some(
                std::env::var_os("BIDKIT_PYHANKO_PYTHON")
                    .filter(|v| !v.is_empty())
                    .map_or_else(|| PathBuf::from("python3"), PathBuf::from),
            ),
            verify: true,
        }
    }
}

impl Default for SealOptions {
    fn default() -> Self {
        Self::standard()
    }
}

/// Which implementation a row measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowKind {
    /// Our sealing.
    Bidkit,
    /// Read the file once and hash it (the floor).
    ReadHash,
    /// Copy the file while hashing it, and sync the copy.
    CopyHashSync,
    /// The same, in parallel: the kernel copies the file (`copy_file_range`) while
    /// another thread hashes it and a third syncs the copy as it grows.
    ParallelCopyHashSync,
    /// pyHanko, one visible stamp.
    Pyhanko,
}

impl RowKind {
    fn label(self) -> &'static str {
        match self {
            RowKind::Bidkit => "bidkit",
            RowKind::ReadHash => "read+hash",
            RowKind::CopyHashSync => "copy+hash+sync",
            RowKind::ParallelCopyHashSync => "copy∥hash∥sync",
            RowKind::Pyhanko => "pyHanko",
        }
    }
}

/// One generated document.
#[derive(Clone, Debug, Serialize)]
pub struct SealFile {
    /// `large` or `long`.
    pub name: String,
    /// Size, bytes.
    pub bytes: u64,
    /// Pages.
    pub pages: u32,
    /// Pages with the keyword.
    pub keyword_pages: usize,
}

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub struct SealRow {
    /// The document (`large`, `long`).
    pub file: String,
    /// What was measured.
    pub kind: RowKind,
    /// The placement mode (our rows and pyHanko's, which is one stamp: `page`).
    pub mode: Option<Mode>,
    /// The suite (hash for the baselines).
    pub suite: Suite,
    /// Stamps drawn.
    pub stamps: usize,
    /// Median wall-clock seconds.
    pub seconds: f64,
    /// Every run's seconds.
    pub runs: Vec<f64>,
    /// File MB (10^6 bytes) per second.
    pub mb_s: f64,
    /// `seconds / read+hash seconds` (same file, same hash).
    pub vs_baseline: Option<f64>,
    /// `pyHanko seconds / seconds` (page mode, NIST).
    pub vs_pyhanko: Option<f64>,
    /// Peak resident memory, MiB (largest over the runs).
    pub peak_mib: Option<f64>,
    /// Resident memory just before the run, MiB.
    pub rss_before_mib: Option<f64>,
    /// The output verified with our verifier (`None`: not checked).
    pub verified: Option<bool>,
    /// Why the measurement failed.
    pub error: Option<String>,
}

/// A target of the issue, judged.
#[derive(Clone, Debug, Serialize)]
pub struct SealTarget {
    /// What is measured.
    pub name: String,
    /// The figure.
    pub value: Option<f64>,
    /// The limit (a minimum for ratios vs pyHanko, a maximum otherwise).
    pub limit: f64,
    /// Met, missed, or not measured.
    pub met: Option<bool>,
}

/// Everything `bidkit bench seal` measured.
#[derive(Clone, Debug, Serialize)]
pub struct SealReport {
    /// Whether this program was built with optimisations.
    pub optimized_build: bool,
    /// Logical CPUs.
    pub cpus: usize,
    /// Runs per measurement.
    pub runs: u32,
    /// pyHanko's version, when it ran.
    pub pyhanko: Option<String>,
    /// The documents.
    pub files: Vec<SealFile>,
    /// The measurements.
    pub rows: Vec<SealRow>,
    /// The issue's targets.
    pub targets: Vec<SealTarget>,
    /// Caveats.
    pub notes: Vec<String>,
}

/// Run the benchmark: see the module documentation.
pub fn seal(options: &SealOptions) -> Result<SealReport> {
    if options.size_mb == 0 || options.pages == 0 || options.large_pages == 0 {
        return Err(BenchError::InvalidOption(
            "sizes and page counts must be at least 1".into(),
        ));
    }
    if options.runs == 0 {
        return Err(BenchError::InvalidOption("at least one run".into()));
    }
    if options.modes.is_empty() {
        return Err(BenchError::InvalidOption("no mode to measure".into()));
    }
    let base = options.dir.clone().unwrap_or_else(std::env::temp_dir);
    let random: [u8; 6] = bidkit_crypto::rng::random_array()?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let work = base.join(format!("bidkit-bench-seal-{hex}"));
    std::fs::create_dir_all(&work).map_err(|e| setup("create", &work, e))?;
    let result = run_in(&work, options);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A throw-away CA and a signing key issued by it.
struct TestSigner {
    key: PrivateKey,
    chain: Vec<Certificate>,
    trust: VerifyOptions,
    ca_dir: PathBuf,
}

impl TestSigner {
    fn new(work: &Path, suite: Suite) -> Result<TestSigner> {
        let now = OffsetDateTime::now_utc() - Duration::from_secs(300);
        let ca_dir = work.join(format!("ca-{suite}"));
        let err = |e: bidkit_pki::PkiError| BenchError::Setup(e.to_string());
        let mut ca = CertificateAuthority::open_or_create(&ca_dir, suite, now).map_err(err)?;
        let key = PrivateKey::generate(suite)?;
        let subject = Subject::Organisation {
            name: "某某建设有限公司".into(),
            uscc: "91350100M000100Y43".into(),
        };
        let cert = ca
            .issue(&subject, KeyPurpose::Signing, &key.public_key(), now)
            .map_err(err)?;
        let root = ca.root().clone();
        let mut store = TrustStore::new();
        store.add_root(root.clone()).map_err(err)?;
        Ok(TestSigner {
            key,
            chain: vec![cert, root],
            trust: VerifyOptions::new(TrustChoice::Roots(store)),
            ca_dir,
        })
    }
}

fn run_in(work: &Path, options: &SealOptions) -> Result<SealReport> {
    let mut notes = Vec::new();
    let optimized_build = !cfg!(debug_assertions);
    if !optimized_build {
        notes.push(
            "this is a debug build: figures are not meaningful (build with --release)".into(),
        );
    }

    // The seal picture, as a PNG file too for pyHanko.
    let (png, picture_note) = seal_png();
    if let Some(n) = picture_note {
        notes.push(n);
    }
    let picture =
        SealPicture::from_png(&png, None).map_err(|e| BenchError::Setup(e.to_string()))?;
    let png_path = work.join("seal.png");
    std::fs::write(&png_path, &png).map_err(|e| setup("write", &png_path, e))?;

    let nist = TestSigner::new(work, Suite::Nist)?;
    let gm = TestSigner::new(work, Suite::Gm)?;

    // pyHanko: the same P-256 key and certificate, as files.
    let pyhanko = match &options.pyhanko_python {
        Some(py) => match pyhanko_version(py) {
            Some(v) => Some((py.clone(), v)),
            None => {
                notes.push(format!(
                    "pyHanko is not importable by `{}`: no pyHanko column (set \
                     BIDKIT_PYHANKO_PYTHON or --pyhanko-python)",
                    py.display()
                ));
                None
            }
        },
        None => None,
    };
    let script = work.join("pyhanko-sign.py");
    let key_path = work.join("signer-key.der");
    let cert_path = work.join("signer-cert.pem");
    let root_path = nist.ca_dir.join("pyhanko-root.pem");
    if pyhanko.is_some() {
        std::fs::write(&script, PYHANKO_SCRIPT).map_err(|e| setup("write", &script, e))?;
        std::fs::write(&key_path, p256_pkcs8_der(&nist.key.to_bytes()))
            .map_err(|e| setup("write", &key_path, e))?;
        std::fs::write(&cert_path, nist.chain[0].to_pem())
            .map_err(|e| setup("write", &cert_path, e))?;
        std::fs::write(&root_path, nist.chain[1].to_pem())
            .map_err(|e| setup("write", &root_path, e))?;
    }

    // The documents.
    let large_path = work.join("large.pdf");
    let long_path = work.join("long.pdf");
    let large_spec = with_keywords(DocumentSpec::a4(options.large_pages))
        .with_target_size(options.size_mb.saturating_mul(1_000_000));
    let long_spec = with_keywords(DocumentSpec::a4(options.pages));
    let mut files = Vec::new();
    for (name, spec, path) in [
        ("large", &large_spec, &large_path),
        ("long", &long_spec, &long_path),
    ] {
        let generated = write_document(spec, path).map_err(|e| BenchError::Setup(e.to_string()))?;
        files.push(SealFile {
            name: name.into(),
            bytes: generated.file_size,
            pages: generated.pages,
            keyword_pages: spec.keywords.len(),
        });
    }

    let mut rows = Vec::new();
    let mut pyhanko_version_seen = None;
    for (file, path) in files.iter().zip([&large_path, &long_path]) {
        let out = work.join(format!("{}-out.pdf", file.name));
        let mb = file.bytes as f64 / 1e6;
        // The floor, in both hashes.
        let mut baseline = |suite: Suite| -> Result<f64> {
            let (secs, peak, before, _) = repeat(options.runs, None, || {
                read_and_hash(path, suite.hash()).map(|_| 0)
            })?;
            let median = median(&secs);
            rows.push(SealRow {
                file: file.name.clone(),
                kind: RowKind::ReadHash,
                mode: None,
                suite,
                stamps: 0,
                seconds: median,
                mb_s: mb / median.max(1e-9),
                runs: secs,
                vs_baseline: Some(1.0),
                vs_pyhanko: None,
                peak_mib: peak,
                rss_before_mib: before,
                verified: None,
                error: None,
            });
            Ok(median)
        };
        let base_nist = baseline(Suite::Nist)?;
        let base_gm = baseline(Suite::Gm)?;
        let (secs, peak, before, _) = repeat(options.runs, Some(&out), || {
            copy_hash_sync(path, &out, HashAlgorithm::Sha256).map(|_| 0)
        })?;
        let _ = std::fs::remove_file(&out);
        let copy = median(&secs);
        rows.push(SealRow {
            file: file.name.clone(),
            kind: RowKind::CopyHashSync,
            mode: None,
            suite: Suite::Nist,
            stamps: 0,
            seconds: copy,
            mb_s: mb / copy.max(1e-9),
            runs: secs,
            vs_baseline: Some(copy / base_nist),
            vs_pyhanko: None,
            peak_mib: peak,
            rss_before_mib: before,
            verified: None,
            error: None,
        });

        let (secs, peak, before, _) = repeat(options.runs, Some(&out), || {
            parallel_copy_hash_sync(path, &out, HashAlgorithm::Sha256).map(|_| 0)
        })?;
        let _ = std::fs::remove_file(&out);
        let parallel = median(&secs);
        rows.push(SealRow {
            file: file.name.clone(),
            kind: RowKind::ParallelCopyHashSync,
            mode: None,
            suite: Suite::Nist,
            stamps: 0,
            seconds: parallel,
            mb_s: mb / parallel.max(1e-9),
            runs: secs,
            vs_baseline: Some(parallel / base_nist),
            vs_pyhanko: None,
            peak_mib: peak,
            rss_before_mib: before,
            verified: None,
            error: None,
        });

        // pyHanko first among the signers, so its rectangle is known: the rectangle our
        // page mode uses (planned without writing).
        let mut pyhanko_secs = None;
        if let Some((py, _)) = &pyhanko {
            let placement = Mode::Page.placement(file.pages);
            let seal_mm = (picture.width_mm, picture.height_mm);
            let (stamps, _) =
                bidkit_pdf::sign::plan(path, &placement, seal_mm, bidkit_pdf::Limits::DEFAULT)
                    .map_err(|e| BenchError::Setup(e.to_string()))?;
            let stamp = stamps
                .first()
                .ok_or_else(|| BenchError::Setup("page mode placed no stamp".into()))?;
            let r = stamp.rect;
            let page = u32::try_from(stamp.page_index + 1).unwrap_or(1);
            let mut runs = Vec::new();
            let mut peak: Option<f64> = None;
            let mut before = None;
            let mut error = None;
            for _ in 0..options.runs {
                let _ = std::fs::remove_file(&out);
                let mut cmd = Command::new(py);
                cmd.arg(&script)
                    .arg(path)
                    .arg(&out)
                    .arg("--key")
                    .arg(&key_path)
                    .arg("--cert")
                    .arg(&cert_path)
                    .arg("--chain")
                    .arg(&root_path)
                    .arg("--image")
                    .arg(&png_path)
                    .arg("--page")
                    .arg(page.to_string())
                    .arg("--box")
                    .arg(format!("{},{},{},{}", r.x0, r.y0, r.x1, r.y1))
                    .arg("--field")
                    .arg("PyHanko-Seal")
                    .arg("--fsync");
                match run_pyhanko(cmd) {
                    Ok(v) => {
                        runs.push(v.seconds);
                        peak = max_opt(peak, v.peak_mib);
                        before = before.or(v.rss_before_mib);
                        pyhanko_version_seen = Some(v.version);
                    }
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            let verified = if error.is_none() && options.verify {
                Some(verifies(&out, &nist.trust))
            } else {
                None
            };
            let _ = std::fs::remove_file(&out);
            let seconds = if runs.is_empty() {
                f64::NAN
            } else {
                median(&runs)
            };
            if error.is_none() {
                pyhanko_secs = Some(seconds);
            }
            rows.push(SealRow {
                file: file.name.clone(),
                kind: RowKind::Pyhanko,
                mode: Some(Mode::Page),
                suite: Suite::Nist,
                stamps: 1,
                seconds,
                mb_s: mb / seconds.max(1e-9),
                runs,
                vs_baseline: Some(seconds / base_nist),
                vs_pyhanko: Some(1.0),
                peak_mib: peak,
                rss_before_mib: before,
                verified,
                error,
            });
        }

        // Ours: every mode in NIST, page mode in GM too.
        let mut jobs: Vec<(Mode, Suite)> =
            options.modes.iter().map(|&m| (m, Suite::Nist)).collect();
        if options.modes.contains(&Mode::Page) {
            jobs.insert(1, (Mode::Page, Suite::Gm));
        }
        for (mode, suite) in jobs {
            let signer = match suite {
                Suite::Gm => &gm,
                Suite::Nist => &nist,
            };
            let job = SealJob::new(
                path,
                &out,
                picture.clone(),
                "某某建设有限公司公章",
                mode.placement(file.pages),
                signer.chain[0].clone(),
                OffsetDateTime::now_utc(),
            );
            let measured = repeat(options.runs, Some(&out), || {
                seal_with(&job, &signer.key, &signer.chain)
                    .map(|o| o.stamps.len())
                    .map_err(|e| BenchError::Setup(e.to_string()))
            });
            let base = match suite {
                Suite::Gm => base_gm,
                Suite::Nist => base_nist,
            };
            let row = match measured {
                Ok((secs, peak, before, stamps)) => {
                    let verified = options.verify.then(|| verifies(&out, &signer.trust));
                    let seconds = median(&secs);
                    SealRow {
                        file: file.name.clone(),
                        kind: RowKind::Bidkit,
                        mode: Some(mode),
                        suite,
                        stamps,
                        seconds,
                        mb_s: mb / seconds.max(1e-9),
                        runs: secs,
                        vs_baseline: Some(seconds / base),
                        vs_pyhanko: match (mode, suite, pyhanko_secs) {
                            (Mode::Page, Suite::Nist, Some(p)) => Some(p / seconds),
                            _ => None,
                        },
                        peak_mib: peak,
                        rss_before_mib: before,
                        verified,
                        error: None,
                    }
                }
                Err(e) => SealRow {
                    file: file.name.clone(),
                    kind: RowKind::Bidkit,
                    mode: Some(mode),
                    suite,
                    stamps: 0,
                    seconds: f64::NAN,
                    mb_s: f64::NAN,
                    runs: Vec::new(),
                    vs_baseline: None,
                    vs_pyhanko: None,
                    peak_mib: None,
                    rss_before_mib: None,
                    verified: None,
                    error: Some(e.to_string()),
                },
            };
            let _ = std::fs::remove_file(&out);
            rows.push(row);
        }
    }

    if rows
        .iter()
        .any(|r| r.kind == RowKind::Bidkit && r.peak_mib.is_none() && r.error.is_none())
    {
        notes.push("peak memory needs Linux /proc/self/clear_refs: not measured".into());
    }
    notes.push(
        "bidkit rows: open, place, write the incremental update while hashing the byte \
         ranges, sign, embed, sync the output and rename it into place; keyword mode \
         includes finding the keyword with pdfium"
            .into(),
    );
    notes.push(
        "copy∥hash∥sync: the kernel copies the file (copy_file_range) while a second thread \
         hashes it and a third syncs the copy as it grows, the way our writer does; it needs \
         free cores (on a loaded machine it is no faster than copy+hash+sync). Every run \
         writes a new file: the previous run's output is deleted before the clock starts"
            .into(),
    );
    if pyhanko.is_some() {
        notes.push(
            "pyHanko: one visible stamp (the same picture and rectangle as our page mode), \
             P-256/SHA-256 with the same key and chain, its output synced like ours; its \
             seconds exclude Python's start-up and imports, its peak includes them"
                .into(),
        );
    }
    let targets = judge(&files, &rows);
    Ok(SealReport {
        optimized_build,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs: options.runs,
        pyhanko: pyhanko_version_seen.or_else(|| pyhanko.map(|(_, v)| v)),
        files,
        rows,
        targets,
        notes,
    })
}

fn verifies(path: &Path, trust: &VerifyOptions) -> bool {
    verify_file(path, trust).is_ok_and(|r| r.exit_code() == 0)
}

/// The issue's targets, judged on the rows.
fn judge(files: &[SealFile], rows: &[SealRow]) -> Vec<SealTarget> {
    let find = |file: &str, kind: RowKind, mode: Option<Mode>, suite: Suite| {
        rows.iter()
            .find(|r| {
                r.file == file
                    && r.kind == kind
                    && r.mode == mode
                    && r.suite == suite
                    && r.error.is_none()
            })
            .map(|r| r.seconds)
    };
    let mut targets = Vec::new();
    let mut push = |name: String, value: Option<f64>, limit: f64, at_least: bool| {
        let met = value.map(|v| if at_least { v >= limit } else { v <= limit });
        targets.push(SealTarget {
            name,
            value,
            limit,
            met,
        });
    };
    for f in files {
        let page = find(&f.name, RowKind::Bidkit, Some(Mode::Page), Suite::Nist);
        let py = find(&f.name, RowKind::Pyhanko, Some(Mode::Page), Suite::Nist);
        let base = find(&f.name, RowKind::ReadHash, None, Suite::Nist);
        push(
            format!("{}: pyHanko / bidkit, page mode (≥)", f.name),
            py.zip(page).map(|(p, o)| p / o),
            TARGET_VS_PYHANKO,
            true,
        );
        push(
            format!("{}: bidkit page mode / read+SHA-256 (≤)", f.name),
            page.zip(base).map(|(o, b)| o / b),
            TARGET_VS_BASELINE,
            false,
        );
    }
    if let Some(long) = files.iter().find(|f| f.name == "long") {
        let page = find(&long.name, RowKind::Bidkit, Some(Mode::Page), Suite::Nist);
        for mode in [Mode::All, Mode::Seam] {
            let t = find(&long.name, RowKind::Bidkit, Some(mode), Suite::Nist);
            push(
                format!("long ({} pages): {mode} / page mode (≤)", long.pages),
                t.zip(page).map(|(t, p)| t / p),
                TARGET_MANY_VS_PAGE,
                false,
            );
        }
    }
    if let Some(large) = files.iter().find(|f| f.name == "large") {
        let size_mib = large.bytes as f64 / f64::from(1u32 << 20);
        // Keyword mode apart: finding the text loads pdfium and its page text.
        for (label, keyword) in [("page/all/range/seam", false), ("keyword", true)] {
            let peak = rows
                .iter()
                .filter(|r| r.file == "large" && r.kind == RowKind::Bidkit)
                .filter(|r| (r.mode == Some(Mode::Keyword)) == keyword)
                .filter_map(|r| r.peak_mib)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            push(
                format!("large: bidkit peak memory / file size, {label} (≤)"),
                peak.map(|p| p / size_mib),
                TARGET_PEAK_FRACTION,
                false,
            );
        }
    }
    targets
}

/// Keyword lines on about one page in ten (and the last page).
fn with_keywords(mut spec: DocumentSpec) -> DocumentSpec {
    let pages = spec.pages;
    let stride = (pages / 10).max(1);
    for page in (1..=pages).filter(|p| p % stride == 0 || *p == pages) {
        spec.keywords.push(KeywordLine {
            page,
            x: 330.0,
            y: 200.0,
            font_size: 12.0,
            text: KEYWORD.into(),
        });
    }
    spec
}

/// What [`repeat`] measured: each run's seconds, the largest peak and the first
/// resident size before a run (MiB), and the last run's value.
type Repeated = (Vec<f64>, Option<f64>, Option<f64>, usize);

/// Run `op` `runs` times, first removing `output` (not timed: deleting the previous
/// run's output, and freeing its cached pages, is no part of what is measured).
fn repeat<F>(runs: u32, output: Option<&Path>, mut op: F) -> Result<Repeated>
where
    F: FnMut() -> Result<usize>,
{
    let mut secs = Vec::new();
    let mut peak = None;
    let mut before = None;
    let mut last = 0;
    for _ in 0..runs {
        if let Some(path) = output {
            let _ = std::fs::remove_file(path);
        }
        let reset = PeakMemory::reset();
        before = before.or_else(|| reset.as_ref().and_then(|_| PeakMemory::read("VmRSS")));
        let start = Instant::now();
        last = op()?;
        secs.push(start.elapsed().as_secs_f64());
        if reset.is_some() {
            peak = max_opt(peak, PeakMemory::read("VmHWM"));
        }
    }
    Ok((secs, peak, before, last))
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Read `path` once, 1 MiB at a time, hashing it.
fn read_and_hash(path: &Path, hash: HashAlgorithm) -> Result<[u8; 32]> {
    let mut f = File::open(path).map_err(|e| setup("open", path, e))?;
    let mut h = hash.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| setup("read", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize())
}

/// Copy `path` to `out` while hashing it, and sync the copy.
fn copy_hash_sync(path: &Path, out: &Path, hash: HashAlgorithm) -> Result<[u8; 32]> {
    let mut f = File::open(path).map_err(|e| setup("open", path, e))?;
    let mut o = File::create(out).map_err(|e| setup("create", out, e))?;
    let mut h = hash.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| setup("read", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        o.write_all(&buf[..n]).map_err(|e| setup("write", out, e))?;
    }
    o.sync_all().map_err(|e| setup("sync", out, e))?;
    Ok(h.finalize())
}

/// Copy `path` to `out` as the sealing writer does, without any PDF work: one thread
/// has the kernel copy it (`std::io::copy` between files: `copy_file_range` on Linux) in
/// 8 MiB steps, another `fdatasync`s the copy every 16 MiB, and this one hashes each step
/// once copied (reading it from the input, a second handle: same page cache); then the
/// copy is synced.
fn parallel_copy_hash_sync(path: &Path, out: &Path, hash: HashAlgorithm) -> Result<[u8; 32]> {
    use std::sync::mpsc;
    const STEP: u64 = 8 << 20;
    const SYNC: u64 = 16 << 20;
    let input = File::open(path).map_err(|e| setup("open", path, e))?;
    let len = input
        .metadata()
        .map_err(|e| setup("read the size of", path, e))?
        .len();
    let o = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)
        .map_err(|e| setup("create", out, e))?;
    let mut h = hash.hasher();
    let (copied_tx, copied_rx) = mpsc::channel::<u64>();
    let (sync_tx, sync_rx) = mpsc::channel::<u64>();
    let (copied, synced, hashed) = std::thread::scope(|scope| {
        let o = &o;
        let input = &input;
        let syncer = scope.spawn(move || -> std::io::Result<()> {
            let (mut synced, mut copied) = (0u64, 0u64);
            while let Ok(done) = sync_rx.recv() {
                copied = sync_rx.try_iter().last().unwrap_or(done);
                if copied - synced >= SYNC {
                    o.sync_data()?;
                    synced = copied;
                }
            }
            if copied > synced {
                o.sync_data()?;
            }
            Ok(())
        });
        let copier = scope.spawn(move || -> std::io::Result<u64> {
            let (reader, mut writer, mut pos) = (input, o, 0u64);
            while pos < len {
                let n = std::io::copy(&mut reader.take(STEP.min(len - pos)), &mut writer)?;
                if n == 0 {
                    break;
                }
                pos += n;
                let _ = sync_tx.send(pos);
                if copied_tx.send(pos).is_err() {
                    break;
                }
            }
            Ok(pos)
        });
        let mut buf = vec![0u8; 2 << 20];
        let mut hashed = 0u64;
        let mut read = || -> std::io::Result<()> {
            let mut again = File::open(path)?;
            for done in copied_rx.iter() {
                while hashed < done {
                    let want = ((done - hashed) as usize).min(buf.len());
                    let n = again.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    h.update(&buf[..n]);
                    hashed += n as u64;
                }
            }
            Ok(())
        };
        let hashed = read().map(|()| hashed);
        drop(copied_rx);
        let gone = || std::io::Error::other("a thread panicked");
        (
            copier.join().unwrap_or_else(|_| Err(gone())),
            syncer.join().unwrap_or_else(|_| Err(gone())),
            hashed,
        )
    });
    let copied = copied.map_err(|e| setup("copy", path, e))?;
    synced.map_err(|e| setup("sync", out, e))?;
    let hashed = hashed.map_err(|e| setup("read back", out, e))?;
    if copied != len || hashed != len {
        return Err(setup(
            "copy",
            path,
            std::io::Error::other(format!("copied {copied}, hashed {hashed} of {len} bytes")),
        ));
    }
    o.sync_all().map_err(|e| setup("sync", out, e))?;
    Ok(h.finalize())
}

/// A 42 mm round 公章 from bidkit-seal's template, or (without a CJK font) a red ring.
fn seal_png() -> (Vec<u8>, Option<String>) {
    let rendered = bidkit_seal::SealFont::discover(None)
        .map_err(|e| e.to_string())
        .and_then(|font| {
            bidkit_seal::SealTemplate::Round(bidkit_seal::RoundSeal::official("某某建设有限公司"))
                .render(&font, &bidkit_seal::RenderOptions::default())
                .map_err(|e| e.to_string())
        });
    match rendered {
        Ok(image) => (image.png, None),
        Err(e) => (
            red_ring_png(496),
            Some(format!(
                "no seal template ({e}): the seal picture is a plain red ring of the same size"
            )),
        ),
    }
}

/// A `size`×`size` RGBA PNG of a red ring (42 mm at 300 dpi for 496 px).
fn red_ring_png(size: u32) -> Vec<u8> {
    let mut rgba = vec![0u8; (size * size * 4) as usize];
    let c = f64::from(size) / 2.0;
    let (outer, inner) = (c - 1.0, c * 0.85);
    for y in 0..size {
        for x in 0..size {
            let d = ((f64::from(x) + 0.5 - c).powi(2) + (f64::from(y) + 0.5 - c).powi(2)).sqrt();
            if d <= outer && d >= inner {
                let i = ((y * size + x) * 4) as usize;
                rgba[i..i + 4].copy_from_slice(&[220, 20, 20, 255]);
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size, size);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let written = enc
        .write_header()
        .and_then(|mut w| w.write_image_data(&rgba));
    if written.is_err() {
        return Vec::new();
    }
    out
}

/// A P-256 private key as PKCS#8 DER (what pyHanko loads).
fn p256_pkcs8_der(scalar: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x41, // PrivateKeyInfo
        0x02, 0x01, 0x00, // version 0
        0x30, 0x13, // AlgorithmIdentifier
        0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // prime256v1
        0x04, 0x27, // OCTET STRING { ECPrivateKey }
        0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    der.extend_from_slice(scalar);
    der
}

fn pyhanko_version(py: &Path) -> Option<String> {
    let out = Command::new(py)
        .args([
            "-c",
            "from importlib.metadata import version; import pyhanko; print(version('pyhanko'))",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

struct PyhankoRun {
    version: String,
    seconds: f64,
    peak_mib: Option<f64>,
    rss_before_mib: Option<f64>,
}

fn run_pyhanko(mut cmd: Command) -> Result<PyhankoRun> {
    let program = format!("{cmd:?}");
    let out = cmd.output().map_err(|source| BenchError::Spawn {
        program: program.clone(),
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(BenchError::ReferenceFailed {
            command: program,
            status: out.status.to_string(),
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    let v: serde_json::Value =
        line.and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| BenchError::ReferenceOutput {
                command: program.clone(),
                reason: format!("no JSON line in {stdout:?}"),
            })?;
    let seconds = v["seconds"]
        .as_f64()
        .ok_or_else(|| BenchError::ReferenceOutput {
            command: program,
            reason: "no \"seconds\"".into(),
        })?;
    Ok(PyhankoRun {
        version: v["pyhanko"].as_str().unwrap_or("?").to_owned(),
        seconds,
        peak_mib: v["peak_rss_mib"].as_f64(),
        rss_before_mib: v["rss_before_mib"].as_f64(),
    })
}

fn setup(action: &str, path: &Path, e: std::io::Error) -> BenchError {
    BenchError::Setup(format!("cannot {action} {}: {e}", path.display()))
}

/// The process's resident high-water mark, reset per operation (Linux).
struct PeakMemory;

impl PeakMemory {
    /// Reset the high-water mark to the current RSS; `None` where unsupported.
    fn reset() -> Option<PeakMemory> {
        std::fs::write("/proc/self/clear_refs", b"5").ok()?;
        Some(PeakMemory)
    }

    /// A `/proc/self/status` figure (`VmHWM`, `VmRSS`) in MiB.
    fn read(field: &str) -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status
            .lines()
            .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.filter(|v| v.is_finite())
        .map(f)
        .unwrap_or_else(|| "-".into())
}

impl fmt::Display for SealReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bidkit bench seal — {} CPU(s), median of {} run(s){}",
            self.cpus,
            self.runs,
            if self.optimized_build {
                ""
            } else {
                ", DEBUG BUILD"
            }
        )?;
        for file in &self.files {
            writeln!(
                f,
                "  {}: {:.1} MB, {} pages, keyword on {} pages",
                file.name,
                file.bytes as f64 / 1e6,
                file.pages,
                file.keyword_pages
            )?;
        }
        writeln!(
            f,
            "reference: {}",
            self.pyhanko
                .as_deref()
                .map_or_else(|| "pyHanko not run".to_owned(), |v| format!("pyHanko {v}"))
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<6} {:<15} {:<8} {:<7} {:>6} {:>9} {:>8} {:>10} {:>10} {:>16}  ok",
            "file",
            "what",
            "mode",
            "suite",
            "stamps",
            "seconds",
            "MB/s",
            "×baseline",
            "×pyHanko",
            "peak MiB (pre)"
        )?;
        for r in &self.rows {
            let ok = match (&r.error, r.verified) {
                (Some(e), _) => format!("ERROR: {e}"),
                (None, Some(true)) => "verified".into(),
                (None, Some(false)) => "NOT VERIFIED".into(),
                (None, None) => String::new(),
            };
            let suite = match r.kind {
                RowKind::ReadHash | RowKind::CopyHashSync | RowKind::ParallelCopyHashSync => {
                    r.suite.hash().to_string()
                }
                _ => r.suite.to_string(),
            };
            writeln!(
                f,
                "{:<6} {:<15} {:<8} {:<7} {:>6} {:>9} {:>8} {:>10} {:>10} {:>16}  {ok}",
                r.file,
                r.kind.label(),
                r.mode.map_or("-", Mode::name),
                suite,
                r.stamps,
                opt(Some(r.seconds), |v| format!("{v:.3}")),
                opt(Some(r.mb_s), |v| format!("{v:.0}")),
                opt(r.vs_baseline, |v| format!("{v:.2}")),
                opt(r.vs_pyhanko, |v| format!("{v:.1}")),
                format!(
                    "{} ({})",
                    opt(r.peak_mib, |v| format!("{v:.0}")),
                    opt(r.rss_before_mib, |v| format!("{v:.0}"))
                ),
            )?;
        }
        writeln!(f)?;
        writeln!(f, "targets:")?;
        for t in &self.targets {
            writeln!(
                f,
                "  {:<62} {:>6} (limit {}): {}",
                t.name,
                opt(t.value, |v| format!("{v:.2}")),
                t.limit,
                match t.met {
                    Some(true) => "met",
                    Some(false) => "MISSED",
                    None => "not measured",
                }
            )?;
        }
        if !self.notes.is_empty() {
            writeln!(f)?;
            for n in &self.notes {
                writeln!(f, "note: {n}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name() {
        for m in Mode::ALL {
            assert_eq!(m.name().parse::<Mode>().unwrap(), m);
        }
        assert!("diagonal".parse::<Mode>().is_err());
    }

    #[test]
    fn the_median_is_the_middle() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn bad_options_are_refused() {
        for options in [
            SealOptions {
                runs: 0,
                ..SealOptions::standard()
            },
            SealOptions {
                pages: 0,
                ..SealOptions::standard()
            },
            SealOptions {
                modes: Vec::new(),
                ..SealOptions::standard()
            },
        ] {
            assert!(matches!(seal(&options), Err(BenchError::InvalidOption(_))));
        }
    }
}
