//! The headless end-to-end story of a tender, on one machine (`bidkit demo`).
//!
//! Two emulated phones — the bidder's and the tender agent's — and a relay node run
//! on their own threads and meet the tool only through loopback sockets and the QR
//! codes the tool draws (the phone's camera decodes the PNG). The story: the agent
//! publishes a tender package; the bidder builds the bid document, seals it on the
//! keyword, on the last page and across the pages (seam), checks it against the
//! tender, encrypts the bid package (the sealed PDF, the project's manifest with the
//! quoted price, an attachment) to the phone's encryption certificate and submits it;
//! at the opening the agent sees every bid before decryption, the bidder decrypts by
//! scan (the package is checked and extracted), every seal is verified, the opening
//! record shows the quoted price from the manifest, the bidder confirms the record by
//! scan and the agent seals it. Every artifact is kept in the output directory under
//! stable names (see [`DemoReport::artifacts`]).

mod cast;
mod devices;
mod story;

use std::path::{Path, PathBuf};

use bidkit_crypto::Suite;
use serde::Serialize;

use crate::AppError;

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Directory for the demo's state and artifacts (created if missing; must not
    /// already hold a demo).
    pub out: PathBuf,
    /// Algorithm suite.
    pub suite: Suite,
}

/// One step of the story, as printed.
#[derive(Clone, Debug, Serialize)]
pub struct DemoStep {
    /// Stable step id for scripts (`tender`, `seal-keyword`, `decrypt` …).
    pub id: &'static str,
    /// What happened, for people.
    pub detail: String,
    /// Files this step wrote, relative to the output directory.
    pub artifacts: Vec<String>,
    /// Phone scans this step took (each: a QR code shown, scanned, PIN, answer).
    pub scans: u32,
    /// How long the step took, milliseconds.
    pub millis: u64,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Suite used.
    pub suite: Suite,
    /// Where state and artifacts are.
    pub out: String,
    /// The relay node every session went through.
    pub relay: String,
    /// Steps in order.
    pub steps: Vec<DemoStep>,
    /// Every file written, relative to `out`, in the order written.
    pub artifacts: Vec<String>,
    /// The quoted price (投标报价) the opening read from the decrypted bid package's
    /// manifest, as the opening record shows it.
    pub quoted_price: String,
    /// The bidder's signed confirmation of the opening record, relative to `out`
    /// (`opening-record.confirm-USCC.json`, as `bidkit open confirm` names it).
    pub confirmation: String,
}

/// The step ids, in the order the story runs them.
pub const STEP_IDS: &[&str] = &[
    "relay",
    "bidder-phone",
    "agent-phone",
    "tender",
    "bid-build",
    "seal-keyword",
    "seal-page",
    "seal-seam",
    "check",
    "encrypt",
    "submit",
    "opening-status",
    "decrypt",
    "verify",
    "opening-record",
    "confirm-record",
    "seal-record",
    "records",
];

/// Run the story; `on_step` sees each step as it completes. Blocking: call it from a
/// thread without an async runtime.
pub fn run(opts: &DemoOptions, on_step: &mut dyn FnMut(&DemoStep)) -> Result<DemoReport, AppError> {
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    if out.join(story::HOME_DIR).exists() {
        return Err(demo_err(
            "start",
            format!(
                "{} already holds a demo; choose an empty directory",
                out.display()
            ),
        ));
    }
    story::Story::new(out, opts.suite, on_step)?.play()
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn demo_err(step: &str, detail: String) -> AppError {
    AppError::Demo {
        step: step.to_owned(),
        detail,
    }
}
