//! External oracles shared by the PDF tests: qpdf, poppler (`pdfsig`, `pdftoppm`,
//! `pdftotext`), pyHanko, and pdfium itself. Use with `mod support;`.
//!
//! All come from `scripts/setup` (apt packages; pyHanko in the venv `.deps/pyhanko/`;
//! `source .deps/env.sh` exports `BIDKIT_PYHANKO_PYTHON` and `PDFIUM_DYNAMIC_LIB_PATH`).
//!
//! A missing tool: with `BIDKIT_REQUIRE_ORACLES=1` (scripts/test sets it) the test fails;
//! otherwise a test may skip. Tests that should skip call [`skip_without`] first and
//! return when it says so (it prints `SKIP <test>: <why>` on stderr). Helpers that return
//! an `Option` ([`pyhanko_validate`], [`pyhanko_sign`], [`pdftotext`]) return `None` after
//! printing the SKIP line; the others ([`qpdf_check`] skips as `Ok(())`, [`pdfsig`],
//! [`pixel_at`]) have no way to skip the caller and panic with what to install.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// An external tool the tests compare against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Oracle {
    /// `qpdf --check`.
    Qpdf,
    /// poppler's `pdfsig`.
    Pdfsig,
    /// poppler's `pdftoppm`.
    Pdftoppm,
    /// poppler's `pdftotext`.
    Pdftotext,
    /// pyHanko in its venv (`BIDKIT_PYHANKO_PYTHON` or `.deps/pyhanko/bin/python`).
    PyHanko,
    /// `openssl` (making throwaway keys and certificates).
    Openssl,
    /// The pdfium library (`bidkit_pdf::pdfium::pdfium()`).
    Pdfium,
}

/// Whether a missing oracle fails the test (`BIDKIT_REQUIRE_ORACLES` set, not `0`).
pub fn require_oracles() -> bool {
    std::env::var("BIDKIT_REQUIRE_ORACLES").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The workspace root (crates/pdf/../..).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// This crate's tests/support directory (the Python scripts live there).
pub fn support_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support")
}

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("-v")
        .output()
        .or_else(|_| Command::new(tool).arg("--version").output())
        .is_ok()
}

/// The python interpreter that has pyHanko, if any.
pub fn pyhanko_python() -> Option<PathBuf> {
    let candidates = std::env::var_os("BIDKIT_PYHANKO_PYTHON")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain([workspace_root().join(".deps/pyhanko/bin/python")]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import pyhanko, pyhanko_certvalidator"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(py);
        }
    }
    None
}

/// Why `oracle` is unusable, or `None` when it is there.
fn missing(oracle: Oracle) -> Option<String> {
    static CACHE: OnceLock<Mutex<HashMap<Oracle, Option<String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = cache.lock().unwrap().get(&oracle) {
        return v.clone();
    }
    let apt = |tool: &str, pkg: &str| {
        (!on_path(tool))
            .then(|| format!("`{tool}` not found (apt package {pkg}; run scripts/setup)"))
    };
    let why = match oracle {
        Oracle::Qpdf => apt("qpdf", "qpdf"),
        Oracle::Pdfsig => apt("pdfsig", "poppler-utils"),
        Oracle::Pdftoppm => apt("pdftoppm", "poppler-utils"),
        Oracle::Pdftotext => apt("pdftotext", "poppler-utils"),
        Oracle::Openssl => apt("openssl", "openssl"),
        Oracle::PyHanko => pyhanko_python().is_none().then(|| {
            "pyHanko not found (BIDKIT_PYHANKO_PYTHON unset and no .deps/pyhanko venv; run \
             scripts/setup and `source .deps/env.sh`)"
                .to_string()
        }),
        Oracle::Pdfium => bidkit_pdf::pdfium::pdfium().err().map(|e| e.to_string()),
    };
    cache.lock().unwrap().insert(oracle, why.clone());
    why
}

fn test_name() -> String {
    std::thread::current().name().unwrap_or("test").to_string()
}

/// Whether `oracle` is usable. Missing: panics under `BIDKIT_REQUIRE_ORACLES=1`, else
/// prints `SKIP …` and returns `false`.
pub fn available(oracle: Oracle) -> bool {
    match missing(oracle) {
        None => true,
        Some(why) if require_oracles() => {
            panic!("{oracle:?} is required (BIDKIT_REQUIRE_ORACLES=1) but unusable: {why}")
        }
        Some(why) => {
            eprintln!("SKIP {}: {oracle:?} unavailable: {why}", test_name());
            false
        }
    }
}

/// `true` when the test should return now because one of `oracles` is missing (and
/// `BIDKIT_REQUIRE_ORACLES` is not set; when it is, a missing oracle panics).
///
/// ```ignore
/// if support::skip_without(&[Oracle::Qpdf, Oracle::Pdfium]) { return; }
/// ```
pub fn skip_without(oracles: &[Oracle]) -> bool {
    // Check all, so every missing one is reported.
    let results: Vec<bool> = oracles.iter().map(|&o| available(o)).collect();
    results.iter().any(|ok| !ok)
}

/// Panics, saying what to install, when `oracle` is missing (for helpers that cannot
/// skip their caller).
fn need(oracle: Oracle) {
    if let Some(why) = missing(oracle) {
        panic!(
            "{oracle:?} unusable: {why} (guard the test with support::skip_without to skip \
             instead)"
        );
    }
}

/// `qpdf --check`: `Ok` when qpdf finds no errors and no warnings, else `Err` with its
/// output. qpdf missing (not required): prints SKIP and returns `Ok(())`.
pub fn qpdf_check(path: &Path) -> Result<(), String> {
    if !available(Oracle::Qpdf) {
        return Ok(());
    }
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
        .map_err(|e| format!("running qpdf: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Exit 0: fine; 2: errors; 3: warnings only (also a failure here).
    if out.status.success() && !text.contains("WARNING") {
        Ok(())
    } else {
        Err(format!(
            "qpdf --check {} failed ({}):\n{text}",
            path.display(),
            out.status
        ))
    }
}

/// poppler's `pdfsig -no-ocsp FILE` (NSS; no network): its stdout, then its stderr.
///
/// For each signature it prints (a self-made CA's chain, not in any NSS database):
///
/// ```text
/// Signature #1:
///   - Signature Field Name: Sig1
///   - Signer Certificate Common Name: …
///   - Signing Time: Nov 22 2026 09:17:47
///   - Signing Hash Algorithm: SHA-256
///   - Signature Type: adbe.pkcs7.detached
///   - Signed Ranges: [0 - 50810], [53502 - 54631]
///   - Total document signed          (only when the ranges reach the end of the file)
///   - Signature Validation: Signature is Valid.
///   - Certificate Validation: Certificate issuer isn't Trusted.
/// ```
///
/// An earlier revision's signature says "Not total document signed" instead; a document
/// without signatures prints "File '…' does not contain any signatures" (exit 2).
pub fn pdfsig(path: &Path) -> String {
    need(Oracle::Pdfsig);
    let out = Command::new("pdfsig")
        .arg("-no-ocsp")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("running pdfsig: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `pdftotext -layout FILE -` (all pages), or `None` after a SKIP line.
pub fn pdftotext(path: &Path) -> Option<String> {
    if !available(Oracle::Pdftotext) {
        return None;
    }
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("running pdftotext: {e}"));
    assert!(
        out.status.success(),
        "pdftotext {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A page drawn by `pdftoppm -r 72` (1 pixel = 1 point), RGB.
#[derive(Clone, Debug)]
pub struct Raster {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Rows top to bottom, 3 bytes a pixel.
    pub rgb: Vec<u8>,
}

impl Raster {
    /// The pixel at (x, y) in points, y measured from the page's **bottom** (PDF user
    /// space of an unrotated page whose MediaBox starts at 0 0). Outside the page: white.
    pub fn at_pt(&self, x_pt: f64, y_pt: f64) -> [u8; 3] {
        let col = x_pt.floor();
        let row = (f64::from(self.height) - y_pt).floor();
        if col < 0.0 || row < 0.0 || col >= f64::from(self.width) || row >= f64::from(self.height) {
            return [255, 255, 255];
        }
        let i = (row as usize * self.width as usize + col as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// Page `page` (1-based) of `pdf` rendered by `pdftoppm -r 72 -f N -l N -png`, cached per
/// file (path, size, modification time) and page.
pub fn render_page(pdf: &Path, page: u32) -> Raster {
    type Key = (PathBuf, u64, u128, u32);
    static CACHE: OnceLock<Mutex<HashMap<Key, Raster>>> = OnceLock::new();
    need(Oracle::Pdftoppm);
    let meta = std::fs::metadata(pdf).unwrap_or_else(|e| panic!("{}: {e}", pdf.display()));
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let key = (pdf.to_path_buf(), meta.len(), mtime, page);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(r) = cache.lock().unwrap().get(&key) {
        return r.clone();
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let n = page.to_string();
    let out = Command::new("pdftoppm")
        .args(["-r", "72", "-f", &n, "-l", &n, "-png", "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .unwrap_or_else(|e| panic!("running pdftoppm: {e}"));
    assert!(
        out.status.success(),
        "pdftoppm page {page} of {} failed: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let png_path = dir.path().join("page.png");
    let raster = decode_png_rgb(&std::fs::read(&png_path).unwrap());
    cache.lock().unwrap().insert(key, raster.clone());
    raster
}

/// A PNG decoded to 8-bit RGB (gray, palette, alpha and 16-bit are converted).
pub fn decode_png_rgb(bytes: &[u8]) -> Raster {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width, info.height);
    let px = (w * h) as usize;
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf[..px * 3].to_vec(),
        png::ColorType::Rgba => buf[..px * 4]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        png::ColorType::Grayscale => buf[..px].iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => buf[..px * 2]
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        png::ColorType::Indexed => panic!("palette PNG after EXPAND"),
    };
    Raster {
        width: w,
        height: h,
        rgb,
    }
}

/// The colour poppler draws at (x, y) points on page `page` (1-based) of `pdf`, y from the
/// page's bottom (see [`Raster::at_pt`]). Renders (once per file and page) with
/// `pdftoppm -r 72`.
pub fn pixel_at(pdf: &Path, page: u32, x_pt: f64, y_pt: f64) -> [u8; 3] {
    render_page(pdf, page).at_pt(x_pt, y_pt)
}

fn run_json(mut cmd: Command, what: &str) -> serde_json::Value {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{stdout}"))
}

/// pyHanko's verdict on every signature of `pdf` (`support/pyhanko_validate.py`), trusting
/// `trust_root_pem` (PEM, may hold several certificates) and nothing else; no fetching.
///
/// `{"pyhanko": "0.38.0", "signatures": [{"field", "intact", "valid", "trusted",
/// "coverage": "ENTIRE_FILE"|"ENTIRE_REVISION"|…, "modification_level":
/// "NONE"|"LTA_UPDATES"|"FORM_FILLING"|"ANNOTATIONS"|"OTHER", "docmdp_ok", "bottom_line",
/// "md_algorithm", "mechanism", "signer", "summary", "diff", "error"}], "error"}` — see the
/// script's docstring. `None` (after a SKIP line) when pyHanko is missing and not required.
pub fn pyhanko_validate(pdf: &Path, trust_root_pem: Option<&Path>) -> Option<serde_json::Value> {
    if !available(Oracle::PyHanko) {
        return None;
    }
    let py = pyhanko_python()?;
    let mut cmd = Command::new(py);
    cmd.arg(support_dir().join("pyhanko_validate.py")).arg(pdf);
    if let Some(root) = trust_root_pem {
        cmd.arg("--trust").arg(root);
    }
    Some(run_json(cmd, "pyhanko_validate.py"))
}

/// What [`pyhanko_sign`] reports.
#[derive(Clone, Debug)]
pub struct PyhankoSigned {
    /// Seconds pyHanko spent signing (reading, stamping, hashing, writing), without Python's
    /// start-up.
    pub seconds: f64,
    /// Size of the output, bytes.
    pub bytes: u64,
}

/// Sign `input` into `output` with pyHanko (`support/pyhanko_sign.py`): one incremental
/// update, field `field`, a visible stamp showing `image` (PNG) in `rect` (points,
/// x0,y0,x1,y1) on page `page` (1-based), with `key`/`cert` (PEM). `None` (after a SKIP
/// line) when pyHanko is missing and not required.
#[allow(clippy::too_many_arguments)]
pub fn pyhanko_sign(
    input: &Path,
    output: &Path,
    key: &Path,
    cert: &Path,
    image: &Path,
    page: u32,
    rect: [f64; 4],
    field: &str,
) -> Option<PyhankoSigned> {
    if !available(Oracle::PyHanko) {
        return None;
    }
    let py = pyhanko_python()?;
    let mut cmd = Command::new(py);
    cmd.arg(support_dir().join("pyhanko_sign.py"))
        .arg(input)
        .arg(output)
        .arg("--key")
        .arg(key)
        .arg("--cert")
        .arg(cert)
        .arg("--image")
        .arg(image)
        .arg("--page")
        .arg(page.to_string())
        .arg("--box")
        .arg(format!("{},{},{},{}", rect[0], rect[1], rect[2], rect[3]))
        .arg("--field")
        .arg(field);
    let v = run_json(cmd, "pyhanko_sign.py");
    Some(PyhankoSigned {
        seconds: v["seconds"].as_f64().unwrap_or(f64::NAN),
        bytes: v["bytes"].as_u64().unwrap_or(0),
    })
}

/// A throwaway self-signed P-256 key and certificate made by `openssl` in `dir`:
/// `(key.pem, cert.pem)`. `None` (after a SKIP line) without openssl.
pub fn openssl_p256_self_signed(dir: &Path, common_name: &str) -> Option<(PathBuf, PathBuf)> {
    if !available(Oracle::Openssl) {
        return None;
    }
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj"])
        .arg(format!("/CN={common_name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap_or_else(|e| panic!("running openssl: {e}"));
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((key, cert))
}

/// A `size`×`size` RGBA PNG of a red ring on a transparent background (a stand-in seal).
pub fn red_ring_png(size: u32) -> Vec<u8> {
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
    {
        let mut enc = png::Encoder::new(&mut out, size, size);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&rgba).unwrap();
    }
    out
}
