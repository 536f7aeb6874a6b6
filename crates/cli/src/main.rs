//! `bidkit`: the command line over Bidkit's crates.
//!
//! Flags are parsed here and turned into calls on the library crates; every command
//! returns an [`output::Output`] that is printed as text, or as JSON with `--json`.
//! Errors go to stderr with a non-zero exit status.

mod bench;
mod bid;
mod ca;
mod context;
mod demo;
mod login;
mod open;
mod output;
mod phone;
mod relay;
mod revoke;
mod screen;
mod seal;
mod tender;
mod tsa;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::Context;
use crate::output::Output;

/// Bidkit 投标签章工具 — desktop signing client for e-tendering, and its emulated phone.
#[derive(Parser, Debug)]
#[command(name = "bidkit", version, about, propagate_version = true)]
struct Cli {
    /// State directory (emulated phones, CA, settings). Defaults to $BIDKIT_HOME, else
    /// the platform data directory.
    #[arg(long, global = true, env = "BIDKIT_HOME")]
    home: Option<PathBuf>,

    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Log in by scan (扫码登录): show a rotating QR code, wait for the phone, print
    /// the verified identity (person, organisation, certificate serial, code).
    Login(login::LoginArgs),
    /// The emulated phone keystore: enrol, certificates, PIN, grants, records, and
    /// `scan` (the phone side of every QR flow).
    #[command(subcommand)]
    Phone(phone::PhoneCommand),
    /// The emulated certificate authority (a test root).
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// The relay between the tool and the phone: `serve` runs a standalone node.
    #[command(subcommand)]
    Relay(relay::RelayCommand),
    /// Benchmarks, each beside a reference measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Run the end-to-end story headless on one machine and print each step.
    Demo(demo::DemoArgs),
    /// Verify the signatures of a PDF: signer, chain, coverage, stamps and changes after
    /// each signature. Exit 0: all valid; 1: invalid, untrusted or modified; 2: unreadable.
    Verify(verify::VerifyArgs),
    /// Seal PDF documents with the phone (签章): page, all, range, seam or keyword.
    Seal(seal::SealArgs),
    /// Remove a document's newest seal once the phone approves (撤章).
    RevokeSeal(revoke::RevokeArgs),
    /// The tender agent's side: make (`new`) and validate (`check`) a tender package.
    #[command(subcommand)]
    Tender(tender::TenderCommand),
    /// The bidder's side: a bid project (`init`, `add`, `price`), the bid document
    /// (`build`), the checklist (`check`), the bid file (`encrypt`, `inspect`, `decrypt`
    /// by scan) and signed `submit` / `withdraw` statements (`verify-statement`).
    #[command(subcommand)]
    Bid(bid::BidCommand),
    /// The opening hall (开标): bid files before decryption (`status`), each bidder's
    /// bid decrypted by scan and its seals verified (`decrypt`), the opened bids
    /// checked again (`verify`), the opening record PDF (`record`, 开标记录).
    #[command(subcommand)]
    Open(open::OpenCommand),
    /// RFC 3161 time stamps: `serve` runs the emulated TSA, `stamp` stamps a file.
    #[command(subcommand)]
    Tsa(tsa::TsaCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BIDKIT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let json = cli.json;
    match run(cli) {
        Ok(output) => {
            output.print(json);
            ExitCode::from(output.exit)
        }
        Err(err) => {
            output::print_error(&err, json);
            ExitCode::from(output::exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Output> {
    let ctx = Context::new(cli.home)?;
    match cli.command {
        Command::Login(args) => login::run(args, &ctx),
        Command::Phone(cmd) => phone::run(cmd, &ctx),
        Command::Relay(cmd) => relay::run(cmd, &ctx, cli.json),
        Command::Ca(cmd) => ca::run(cmd, &ctx),
        Command::Bench(cmd) => bench::run(cmd, &ctx),
        Command::Demo(args) => demo::run(args, &ctx),
        Command::Verify(args) => verify::run(args, &ctx),
        Command::Seal(args) => seal::run(args, &ctx),
        Command::RevokeSeal(args) => revoke::run(args, &ctx),
        Command::Tsa(cmd) => tsa::run(cmd, &ctx, cli.json),
        Command::Tender(cmd) => tender::run(cmd, &ctx),
        Command::Bid(cmd) => bid::run(cmd, &ctx, cli.json),
        Command::Open(cmd) => open::run(cmd, &ctx, cli.json),
    }
}
