//! Finding and binding the pdfium library (loaded at run time, once per process).
//!
//! pdfium is not re-entrant: it is bound once ([`pdfium`]) and shared; pdfium-render's
//! `thread_safe` feature serialises every call into the library.
//!
//! Where the library is looked for, in order:
//!
//! 1. `PDFIUM_DYNAMIC_LIB_PATH` — the library file itself, or a directory holding it
//!    (`scripts/setup` writes it to `.deps/env.sh`);
//! 2. `.deps/pdfium/lib/` of the workspace: next to the running executable or in any of
//!    its parent directories (so `target/debug/…` finds the workspace's copy);
//! 3. where an installed package puts it: `<prefix>/lib/bidkit/` beside the program's
//!    `<prefix>/bin/` (the .deb), next to the program (Windows), a macOS bundle's
//!    `Frameworks/`;
//! 4. `.deps/pdfium/lib/` of the workspace this crate was built from;
//! 5. the system's library search path.
//!
//! A library that cannot be found or loaded is a [`PdfError::Pdfium`] that says what was
//! tried and what to run (`scripts/setup`), never a panic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pdfium_render::prelude::{PdfDocument, Pdfium, PdfiumError, PdfiumInternalError};

use crate::PdfError;

/// The environment variable naming the pdfium library (a file or a directory).
pub const PDFIUM_PATH_ENV: &str = "PDFIUM_DYNAMIC_LIB_PATH";

static PDFIUM: OnceLock<Result<Pdfium, String>> = OnceLock::new();

/// The process's pdfium binding, made on first use.
///
/// A failure is remembered: later calls return the same error without trying again.
pub fn pdfium() -> Result<&'static Pdfium, PdfError> {
    PDFIUM
        .get_or_init(bind)
        .as_ref()
        .map_err(|e| PdfError::Pdfium(e.clone()))
}

/// The library file names tried, in order (see the module documentation).
pub fn candidate_paths() -> Vec<PathBuf> {
    let name = Pdfium::pdfium_platform_library_name();
    let mut out = Vec::new();
    if let Some(v) = std::env::var_os(PDFIUM_PATH_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        if p.is_dir() {
            out.push(p.join(&name));
        } else {
            out.push(p);
        }
    }
    let deps = Path::new(".deps").join("pdfium").join("lib").join(&name);
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            out.push(dir.join(&deps));
        }
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        // An installed package: `<prefix>/lib/bidkit` beside `<prefix>/bin` (the .deb),
        // beside the program (Windows), in a macOS bundle's `Frameworks`.
        out.push(dir.join("..").join("lib").join("bidkit").join(&name));
        out.push(dir.join(&name));
        out.push(dir.join("..").join("Frameworks").join(&name));
    }
    // The workspace this crate was compiled in (crates/pdf → ../..).
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    out.push(workspace.join(&deps));
    out
}

fn bind() -> Result<Pdfium, String> {
    let mut tried = Vec::new();
    let env_set = std::env::var_os(PDFIUM_PATH_ENV).is_some_and(|v| !v.is_empty());
    for (i, path) in candidate_paths().into_iter().enumerate() {
        let explicit = i == 0 && env_set;
        if !explicit && !path.is_file() {
            continue;
        }
        match Pdfium::bind_to_library(&path) {
            Ok(bindings) => {
                tracing::debug!(path = %path.display(), "pdfium bound");
                return Ok(Pdfium::new(bindings));
            }
            Err(e) => {
                if explicit {
                    return Err(format!(
                        "cannot load the library named by {PDFIUM_PATH_ENV} ({}): {e}; \
                         run scripts/setup and `source .deps/env.sh`",
                        path.display()
                    ));
                }
                tried.push(format!("{}: {e}", path.display()));
            }
        }
    }
    match Pdfium::bind_to_system_library() {
        Ok(bindings) => Ok(Pdfium::new(bindings)),
        Err(e) => {
            let tried = if tried.is_empty() {
                String::new()
            } else {
                format!(" (failed: {})", tried.join("; "))
            };
            Err(format!(
                "the pdfium library was not found: set {PDFIUM_PATH_ENV}, or run scripts/setup \
                 (it installs .deps/pdfium/lib/libpdfium.so and writes .deps/env.sh){tried}; \
                 system library: {e}"
            ))
        }
    }
}

/// Open `path` with pdfium (lazily: pdfium reads only the parts it needs).
///
/// Errors name the file; a password-protected document is [`PdfError::Encrypted`].
pub fn open(path: &Path) -> Result<PdfDocument<'static>, PdfError> {
    let pdfium = pdfium()?;
    pdfium
        .load_pdf_from_file(path, None)
        .map_err(|e| from_pdfium(e, "opening the document").in_file(path))
}

/// A pdfium error as a [`PdfError`], saying what was being done.
pub(crate) fn from_pdfium(e: PdfiumError, doing: &str) -> PdfError {
    match e {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
            PdfError::Encrypted
        }
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FormatError) => {
            PdfError::malformed(None, format!("pdfium could not parse it ({doing})"))
        }
        PdfiumError::IoError(source) => PdfError::io(doing.to_string(), source),
        other => PdfError::Pdfium(format!("{doing}: {other}")),
    }
}
