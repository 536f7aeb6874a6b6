//! `bidkit bench …`: benchmarks, each beside a reference measured in the same run.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bidkit_bench::{BidfileOptions, CryptoOptions, SealMode, SealOptions};

use crate::context::Context;
use crate::output::Output;

/// Benchmarks, each beside a reference measured in the same run.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// SM3, SM4-GCM, AES-256-GCM, SM2 and P-256 against `openssl speed`, and the cost of
    /// the PIN key derivation. Build with `--release` for meaningful figures.
    Crypto(CryptoArgs),
    /// N concurrent sessions through relay nodes on loopback (each opened, joined and
    /// held, then one request/response round trip): hop latency p50/p99 and each
    /// node's peak memory. Nodes run as `bidkit relay serve` child processes; with
    /// --nodes 3 they share one Redis. Build with `--release`.
    Relay(RelayArgs),
    /// Seal and sign a generated large PDF (200 MB) and a long one (1000 pages) in each
    /// placement mode, beside reading and hashing the file once and pyHanko signing the
    /// same file with one visible stamp, with peak memory. Build with `--release`.
    Seal(SealArgs),
    /// Encrypt and decrypt a generated file (1 GiB) as a bid file in each suite, beside
    /// our raw cipher speed and OpenSSL, with peak memory. Build with `--release`.
    Bidfile(BidfileArgs),
}

/// Options of `bidkit bench seal`.
#[derive(clap::Args, Debug)]
pub struct SealArgs {
    /// Size of the large document, MB (10^6 bytes).
    #[arg(long, value_name = "MB", default_value_t = 200)]
    pub size_mb: u64,
    /// Pages of the large document.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub large_pages: u32,
    /// Pages of the long document.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub pages: u32,
    /// Placement modes to measure (comma-separated: page, all, range, seam, keyword).
    #[arg(
        long,
        value_name = "MODES",
        value_delimiter = ',',
        default_value = "page,all,range,seam,keyword"
    )]
    pub modes: Vec<SealMode>,
    /// Runs per measurement (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub runs: u32,
    /// Directory for the generated files (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The Python that has pyHanko (default: $BIDKIT_PYHANKO_PYTHON, else python3).
    #[arg(long, value_name = "PATH")]
    pub pyhanko_python: Option<PathBuf>,
    /// Do not run pyHanko (our figures only).
    #[arg(long, conflicts_with = "pyhanko_python")]
    pub no_pyhanko: bool,
    /// Do not check the outputs with the verifier.
    #[arg(long)]
    pub no_verify: bool,
}

/// Options of `bidkit bench bidfile`.
#[derive(clap::Args, Debug)]
pub struct BidfileArgs {
    /// Size of the generated plaintext, MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub size_mb: u64,
    /// Only this suite (default: both).
    #[arg(long)]
    pub suite: Option<bidkit_crypto::Suite>,
    /// Directory for the generated files (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The `openssl` program used as the reference.
    #[arg(long, value_name = "PATH", default_value = "openssl")]
    pub openssl: PathBuf,
    /// Do not run OpenSSL (our figures only).
    #[arg(long, conflicts_with = "openssl")]
    pub no_openssl: bool,
}

/// Options of `bidkit bench relay`.
#[derive(clap::Args, Debug)]
pub struct RelayArgs {
    /// Sessions opened and held at once.
    #[arg(long, value_name = "N", default_value_t = bidkit_bench::relay::TARGET_SESSIONS)]
    pub sessions: usize,
    /// Relay nodes; more than one share one Redis.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub nodes: usize,
    /// The Redis to use (default with several nodes: a redis-server started on a free
    /// loopback port for the run).
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Round trips started per second once every session is open.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 1000.0)]
    pub rate: f64,
    /// Sessions being opened at the same time.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub open_concurrency: usize,
    /// Algorithm suite of the sessions.
    #[arg(long, default_value = "gm")]
    pub suite: bidkit_crypto::Suite,
    /// Run the relay in this process instead of child processes (memory figures then
    /// include the clients).
    #[arg(long)]
    pub in_process: bool,
    /// The redis-server program.
    #[arg(long, value_name = "PATH", default_value = "redis-server")]
    pub redis_server: PathBuf,
    /// The nodes' `--poll-interval-ms` (their store re-read without a wake-up).
    #[arg(long, value_name = "MS")]
    pub poll_interval_ms: Option<u64>,
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
        BenchCommand::Relay(args) => relay(args),
        BenchCommand::Seal(args) => seal(args),
        BenchCommand::Bidfile(args) => bidfile(args),
    }
}

fn seal(args: SealArgs) -> anyhow::Result<Output> {
    let mut options = SealOptions {
        size_mb: args.size_mb,
        large_pages: args.large_pages,
        pages: args.pages,
        modes: args.modes,
        runs: args.runs,
        dir: args.dir,
        verify: !args.no_verify,
        ..SealOptions::standard()
    };
    if args.no_pyhanko {
        options.pyhanko_python = None;
    } else if let Some(py) = args.pyhanko_python {
        options.pyhanko_python = Some(py);
    }
    let report = bidkit_bench::seal(&options).context("the seal benchmark failed")?;
    let failed = report
        .rows
        .iter()
        .any(|r| r.error.is_some() || r.verified == Some(false));
    let output = Output::new(report.to_string(), &report)?;
    Ok(if failed { output.with_exit(1) } else { output })
}

fn bidfile(args: BidfileArgs) -> anyhow::Result<Output> {
    let mut options = BidfileOptions {
        size_mib: args.size_mb,
        dir: args.dir,
        openssl: (!args.no_openssl).then_some(args.openssl),
        ..BidfileOptions::standard()
    };
    if let Some(suite) = args.suite {
        options.suites = vec![suite];
    }
    let report = bidkit_bench::bidfile(&options).context("the bid-file benchmark failed")?;
    Output::new(report.to_string(), &report)
}

fn relay(args: RelayArgs) -> anyhow::Result<Output> {
    let program = if args.in_process {
        None
    } else {
        Some(std::env::current_exe().context("cannot find this program to start relay nodes")?)
    };
    let mut options = bidkit_bench::RelayOptions::standard(program);
    options.sessions = args.sessions;
    options.nodes = args.nodes;
    options.redis_url = args.redis;
    options.rate = args.rate;
    options.open_concurrency = args.open_concurrency;
    options.suite = args.suite;
    options.redis_server = args.redis_server;
    options.poll_interval = args.poll_interval_ms.map(Duration::from_millis);
    let report = bidkit_bench::relay(&options).context("the relay benchmark failed")?;
    if report.failures > 0 {
        bail!(
            "{} of {} sessions failed (first: {})\n{report}",
            report.failures,
            report.sessions,
            report.first_failure.as_deref().unwrap_or("?")
        );
    }
    Output::new(report.to_string(), &report)
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
        Wrapper::try_parse_from(argv).and_then(|w| match w.cmd {
            BenchCommand::Crypto(a) => Ok(a),
            _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidValue)),
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
    fn parses_the_seal_and_bidfile_options() {
        let w =
            Wrapper::try_parse_from(["bench", "seal", "--size-mb", "20", "--modes", "page,seam"])
                .unwrap();
        let BenchCommand::Seal(a) = w.cmd else {
            panic!("not seal")
        };
        assert_eq!(a.size_mb, 20);
        assert_eq!(a.pages, 1000);
        assert_eq!(a.modes, vec![SealMode::Page, SealMode::Seam]);
        let w = Wrapper::try_parse_from(["bench", "seal"]).unwrap();
        let BenchCommand::Seal(a) = w.cmd else {
            panic!("not seal")
        };
        assert_eq!(a.modes.len(), 5);
        assert!(Wrapper::try_parse_from(["bench", "seal", "--modes", "diagonal"]).is_err());
        let w = Wrapper::try_parse_from(["bench", "bidfile", "--size-mb", "64", "--suite", "gm"])
            .unwrap();
        let BenchCommand::Bidfile(a) = w.cmd else {
            panic!("not bidfile")
        };
        assert_eq!(a.size_mb, 64);
        assert_eq!(a.suite, Some(bidkit_crypto::Suite::Gm));
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
