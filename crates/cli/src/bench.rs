//! `bidkit bench …`: benchmarks, each beside a reference measured in the same run.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bidkit_bench::CryptoOptions;

use crate::context::Context;
use crate::output::Output;

/// Benchmarks, each beside a reference measured in the same run.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// SM3, SM4-GCM, AES-256-GCM, SM2 and P-256 against `openssl speed`, and the cost of
    /// the PIN key derivation. Build with `--release` for meaningful figures.
    Crypto(CryptoArgs),
}

/// Options of `bidkit bench crypto`.
#[derive(clap::Args, Debug)]
pub struct CryptoArgs {
    /// Seconds spent on each measurement of ours (OpenSSL runs whole seconds, at least 1).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        conflicts_with = "quick"
    )]
    pub seconds: f64,

    /// A quick run: 0.2 s per measurement.
    #[arg(long)]
    pub quick: bool,

    /// The `openssl` program used as the reference.
    #[arg(long, value_name = "PATH", default_value = "openssl")]
    pub openssl: PathBuf,

    /// Do not run OpenSSL (our figures only).
    #[arg(long, conflicts_with = "openssl")]
    pub no_openssl: bool,
}

/// Run a `bidkit bench` command.
pub fn run(cmd: BenchCommand, _ctx: &Context) -> anyhow::Result<Output> {
    match cmd {
        BenchCommand::Crypto(args) => crypto(args),
    }
}

fn crypto(args: CryptoArgs) -> anyhow::Result<Output> {
    let mut options = if args.quick {
        CryptoOptions::quick()
    } else {
        if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
            bail!(
                "--seconds must be a positive number of seconds up to 3600, got {}",
                args.seconds
            );
        }
        CryptoOptions {
            duration: Duration::from_secs_f64(args.seconds),
            ..CryptoOptions::standard()
        }
    };
    options.openssl = (!args.no_openssl).then_some(args.openssl);
    let report = bidkit_bench::crypto(&options).context("the crypto benchmark failed")?;
    Output::new(report.to_string(), &report)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(subcommand)]
        cmd: BenchCommand,
    }

    fn parse(args: &[&str]) -> Result<CryptoArgs, clap::Error> {
        let mut argv = vec!["bench"];
        argv.extend_from_slice(args);
        Wrapper::try_parse_from(argv).map(|w| match w.cmd {
            BenchCommand::Crypto(a) => a,
        })
    }

    #[test]
    fn parses_the_options() {
        let a = parse(&["crypto"]).unwrap();
        assert_eq!(a.seconds, 1.0);
        assert!(!a.quick && !a.no_openssl);
        assert_eq!(a.openssl, PathBuf::from("openssl"));
        let a = parse(&["crypto", "--seconds", "0.5", "--openssl", "/opt/openssl"]).unwrap();
        assert_eq!(a.seconds, 0.5);
        assert_eq!(a.openssl, PathBuf::from("/opt/openssl"));
        assert!(parse(&["crypto", "--quick"]).unwrap().quick);
        assert!(parse(&["crypto", "--no-openssl"]).unwrap().no_openssl);
    }

    #[test]
    fn contradictory_options_are_refused() {
        assert!(parse(&["crypto", "--quick", "--seconds", "2"]).is_err());
        assert!(parse(&["crypto", "--no-openssl", "--openssl", "x"]).is_err());
    }

    #[test]
    fn a_bad_duration_is_refused_before_measuring() {
        for bad in ["0", "-1", "NaN", "inf", "4000"] {
            let seconds = format!("--seconds={bad}");
            let args = parse(&["crypto", "--no-openssl", &seconds]).unwrap();
            let err = crypto(args).unwrap_err().to_string();
            assert!(err.contains("--seconds"), "{bad}: {err}");
        }
    }
}
