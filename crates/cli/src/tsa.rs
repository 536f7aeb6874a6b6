//! `bidkit tsa …`: RFC 3161 time stamps. `serve` runs the emulated time-stamping
//! authority (test material: its key lives unencrypted in `<home>/tsa/<suite>/`, its
//! certificate comes from the home's emulated CA); `stamp` time-stamps a file's hash
//! with any TSA (or an in-process emulated one) and checks the token.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use bidkit_app::tsa::{EmbeddedTsa, Timestamp, TsaIdentity, fetch_timestamp, serve_tsa};
use bidkit_crypto::{HashAlgorithm, Suite};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpListener;

use crate::context::{Context, block_on};
use crate::output::Output;

/// RFC 3161 time stamps.
#[derive(clap::Subcommand, Debug)]
pub enum TsaCommand {
    /// Run the emulated time-stamping authority until Ctrl-C (or SIGTERM). The first
    /// line on stdout is its URL (`bidkit tsa: listening on http://ADDR/ …`; with
    /// --json one JSON object with `url`). A test TSA: not for production.
    Serve(ServeArgs),
    /// Time-stamp a file's hash and check the token: prints the time, the serial and
    /// the TSA. Without --url (or BIDKIT_TSA_URL) an emulated TSA runs in-process.
    Stamp(StampArgs),
}

/// Options of `bidkit tsa serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed on start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Algorithm suite of the TSA key and tokens: gm (SM2/SM3) or nist (P-256/SHA-256).
    #[arg(long, default_value = "gm")]
    suite: Suite,
}

/// The hash of the file to stamp.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum HashArg {
    /// SM3 (GB/T 32905-2016).
    Sm3,
    /// SHA-256.
    Sha256,
}

impl From<HashArg> for HashAlgorithm {
    fn from(h: HashArg) -> Self {
        match h {
            HashArg::Sm3 => HashAlgorithm::Sm3,
            HashArg::Sha256 => HashAlgorithm::Sha256,
        }
    }
}

/// Options of `bidkit tsa stamp`.
#[derive(clap::Args, Debug)]
pub struct StampArgs {
    /// The file whose hash is stamped.
    file: PathBuf,
    /// The TSA (`http://…`). Without it, an emulated TSA of --suite runs in-process.
    #[arg(long, value_name = "URL", env = "BIDKIT_TSA_URL")]
    url: Option<String>,
    /// Where to write the TimeStampToken (DER).
    #[arg(long, value_name = "TOKEN.tsr")]
    out: Option<PathBuf>,
    /// The hash of the file (default: the suite's, SM3 for gm, SHA-256 for nist).
    #[arg(long, value_enum)]
    hash: Option<HashArg>,
    /// Suite of the in-process emulated TSA (without --url).
    #[arg(long, default_value = "gm")]
    suite: Suite,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    timeout: u64,
}

/// Run a `bidkit tsa` command.
pub fn run(cmd: TsaCommand, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    match cmd {
        TsaCommand::Serve(args) => serve(args, ctx, json),
        TsaCommand::Stamp(args) => stamp(args, ctx),
    }
}

fn serve(args: ServeArgs, ctx: &Context, json: bool) -> anyhow::Result<Output> {
    let identity = TsaIdentity::open_or_create(ctx.home(), args.suite, OffsetDateTime::now_utc())?;
    let serial = identity.certificate().serial_hex();
    let subject = identity.certificate().subject_display();
    let dir = identity.dir().to_path_buf();
    block_on(async move {
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}/");
        let mut out = std::io::stdout();
        let _ = if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({
                    "url": url,
                    "suite": args.suite,
                    "certificate_serial": serial,
                    "certificate_subject": subject,
                    "certificate": dir.join("tsa.pem"),
                    "chain": dir.join("chain.pem"),
                    "pid": std::process::id(),
                })
            )
        } else {
            writeln!(
                out,
                "bidkit tsa: listening on {url} (suite {}; TSA certificate {serial}, {subject}; \
                 chain {}; pid {}) — a test TSA, not for production",
                args.suite,
                dir.join("chain.pem").display(),
                std::process::id()
            )
        };
        let _ = out.flush();
        serve_tsa(listener, identity, crate::context::shutdown_signal("tsa")).await?;
        Output::new(
            format!("bidkit tsa: stopped ({url})"),
            &serde_json::json!({ "stopped": url }),
        )
    })?
}

fn hash_file(path: &Path, hash: HashAlgorithm) -> anyhow::Result<[u8; 32]> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = hash.hasher();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize())
}

fn stamp(args: StampArgs, ctx: &Context) -> anyhow::Result<Output> {
    let hash: HashAlgorithm = args.hash.map_or_else(|| args.suite.hash(), Into::into);
    let imprint = hash_file(&args.file, hash)?;
    let timeout = Duration::from_secs(args.timeout.max(1));
    let home = ctx.home().to_path_buf();
    let emulated = args.url.is_none();
    let (url, stamped) = block_on(async move {
        match args.url {
            Some(url) => {
                let stamped = fetch_timestamp(&url, hash, &imprint, timeout).await?;
                Ok::<(String, Timestamp), anyhow::Error>((url, stamped))
            }
            None => {
                let identity =
                    TsaIdentity::open_or_create(&home, args.suite, OffsetDateTime::now_utc())?;
                let server = EmbeddedTsa::start(identity).await?;
                let url = server.url();
                let stamped = fetch_timestamp(&url, hash, &imprint, timeout).await;
                server.shutdown().await?;
                Ok((url, stamped?))
            }
        }
    })??;
    if let Some(out) = &args.out {
        std::fs::write(out, &stamped.token)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let info = &stamped.info;
    let time = info.time.format(&Rfc3339)?;
    let imprint_hex: String = imprint.iter().map(|b| format!("{b:02x}")).collect();
    let mut text = format!(
        "时间戳 time stamp: {}\n  时间 time:    {time}\n  序列号 serial: {}\n  TSA:          {}\n  \
         hash:         {} {imprint_hex}\n  policy:       {}\n  TSA URL:      {url}{}",
        args.file.display(),
        info.serial,
        info.tsa_subject,
        info.hash_algorithm,
        info.policy,
        if emulated {
            " (in-process emulated TSA)"
        } else {
            ""
        },
    );
    if let Some(out) = &args.out {
        text.push_str(&format!("\n  token:        {}", out.display()));
    }
    if !info.time_stamping_purpose {
        text.push_str(
            "\n  note: the TSA certificate lacks the timeStamping purpose (RFC 3161 §2.3)",
        );
    }
    Output::new(
        text,
        &serde_json::json!({
            "file": args.file,
            "time": time,
            "serial": info.serial,
            "tsa": info.tsa_subject,
            "tsa_certificate_serial": info.tsa_certificate.serial_hex(),
            "time_stamping_purpose": info.time_stamping_purpose,
            "hash": hash,
            "imprint": imprint_hex,
            "policy": info.policy.to_string(),
            "suite": info.suite,
            "url": url,
            "emulated": emulated,
            "token": args.out,
            "token_bytes": stamped.token.len(),
        }),
    )
}
