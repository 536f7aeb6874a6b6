//! `bidkit demo`: the whole tender story, headless, with two emulated phones talking
//! to the tool through a relay over loopback; each step is printed as it completes (on
//! stderr, so `--json` keeps stdout for the summary).

use std::path::PathBuf;

use anyhow::Context as _;
use bidkit_app::demo::{DemoOptions, run as run_demo};
use bidkit_crypto::Suite;

use crate::context::Context;
use crate::output::Output;

/// Arguments of `bidkit demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Algorithm suite: gm (SM2/SM3/SM4) or nist (P-256/SHA-256/AES).
    #[arg(long, default_value = "gm")]
    suite: Suite,
    /// Keep the demo's state and every artifact in this (empty) directory; by
    /// default a fresh directory under the home's `demo/`.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Run the demo.
pub fn run(args: DemoArgs, ctx: &Context) -> anyhow::Result<Output> {
    let out = match args.out {
        Some(dir) => dir,
        None => fresh_dir(ctx)?,
    };
    let opts = DemoOptions {
        out,
        suite: args.suite,
    };
    let mut n = 0;
    let report = run_demo(&opts, &mut |step| {
        n += 1;
        let scans = match step.scans {
            0 => String::new(),
            1 => ", 1 scan".to_owned(),
            k => format!(", {k} scans"),
        };
        eprintln!(
            "[{n:>2}] {:<15} {} ({:.1} s{scans})",
            step.id,
            step.detail,
            step.millis as f64 / 1000.0
        );
    })?;
    let scans: u32 = report.steps.iter().map(|s| s.scans).sum();
    let text = format!(
        "演示完成 / demo finished: {} steps, {scans} phone scans, suite {}, relay {}; {} artifacts in {}",
        report.steps.len(),
        report.suite,
        report.relay,
        report.artifacts.len(),
        report.out
    );
    Output::new(text, &report)
}

fn fresh_dir(ctx: &Context) -> anyhow::Result<PathBuf> {
    let base = ctx.home().join("demo");
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    for i in 0..1000 {
        let dir = base.join(format!("run-{stamp}-{i}"));
        if !dir.exists() {
            return Ok(dir);
        }
    }
    anyhow::bail!("no free directory name under {}", base.display())
}
