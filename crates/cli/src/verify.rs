//! `bidkit verify FILE.pdf`: the signature report of a PDF. Exit status: 0 when every
//! signature is valid (and trusted, unless `--integrity-only`) and only allowed later
//! signatures follow each; 1 when any signature is invalid or untrusted or the document
//! was modified after a signature (or has none); 2 when the file cannot be read.

use std::path::PathBuf;

use bidkit_pdf::verify::{TrustChoice, VerifyOptions, verify_file};

use crate::context::Context;
use crate::output::Output;

/// Arguments of `bidkit verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The PDF to verify (read only).
    file: PathBuf,
    /// Also trust the root certificates in this PEM file (real CAs' roots); repeatable.
    /// The home's emulated roots are always trusted.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// Judge the signatures and the changes after them, but not the certificate chains
    /// (documents signed under other CAs).
    #[arg(long)]
    integrity_only: bool,
}

/// Run `bidkit verify`.
pub fn run(args: VerifyArgs, ctx: &Context) -> anyhow::Result<Output> {
    let options = if args.integrity_only {
        VerifyOptions::integrity_only()
    } else {
        VerifyOptions::new(TrustChoice::from_home_and_pems(
            Some(ctx.home()),
            &args.trust,
        )?)
    };
    let report = verify_file(&args.file, &options)?;
    let exit = u8::try_from(report.exit_code()).unwrap_or(1);
    Ok(Output::new(report.to_text(), &report)?.with_exit(exit))
}
