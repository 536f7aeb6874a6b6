//! `bidkit relay serve`: a standalone relay node (in memory, or in Redis so that any
//! number of nodes serve the same sessions). Ctrl-C or SIGTERM shut it down cleanly.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use bidkit_relay::{AnyStore, MemoryStore, RedisStore, RelayConfig};
use tokio::net::TcpListener;

use crate::context::{Context, block_on};
use crate::output::Output;

/// The relay.
#[derive(clap::Subcommand, Debug)]
pub enum RelayCommand {
    /// Run a relay node until Ctrl-C (or SIGTERM). The first line on stdout says where
    /// it listens (`bidkit relay: listening on http://ADDR …`; with --json a JSON
    /// object with `listening`).
    Serve(ServeArgs),
}

/// Options of `bidkit relay serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed on start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Keep sessions in Redis (`redis://host:port/db`), shared by every node using
    /// the same Redis; without it sessions live in this process.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Key prefix in Redis (to share one Redis between deployments).
    #[arg(long, value_name = "PREFIX", requires = "redis")]
    redis_prefix: Option<String>,
    /// Most sessions held in memory (without --redis).
    #[arg(long, value_name = "N", default_value_t = MemoryStore::DEFAULT_MAX_SESSIONS)]
    max_sessions: usize,
    /// Switch off the per-address rate limits (benchmarks and load tests from one
    /// address; never on a public address).
    #[arg(long)]
    no_rate_limits: bool,
    /// How often a waiting long poll or WebSocket re-reads the store without a
    /// wake-up (the fallback for a lost Redis notification), in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    poll_interval_ms: u64,
}

/// Run a `bidkit relay` command.
pub fn run(cmd: RelayCommand, _ctx: &Context, json: bool) -> anyhow::Result<Output> {
    match cmd {
        RelayCommand::Serve(args) => serve(args, json),
    }
}

fn serve(args: ServeArgs, json: bool) -> anyhow::Result<Output> {
    // Each connection is a file descriptor: take the hard limit as the soft one.
    let fd_limit = rlimit::increase_nofile_limit(u64::MAX).ok();
    block_on(async move {
        let store = match &args.redis {
            Some(url) => {
                let prefix = args
                    .redis_prefix
                    .as_deref()
                    .unwrap_or(RedisStore::DEFAULT_PREFIX);
                AnyStore::Redis(
                    RedisStore::connect_with_prefix(url, prefix)
                        .await
                        .with_context(|| format!("cannot connect to Redis at {url}"))?,
                )
            }
            None => AnyStore::Memory(MemoryStore::new(args.max_sessions.max(1))),
        };
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let store_name = match &args.redis {
            Some(url) => format!("redis {url}"),
            None => "memory".to_owned(),
        };
        let mut config = RelayConfig::default();
        if args.no_rate_limits {
            config.session_rate = None;
            config.request_rate = None;
        }
        config.poll_interval =
            std::time::Duration::from_millis(args.poll_interval_ms.clamp(10, 60_000));
        let mut out = std::io::stdout();
        let _ = if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({
                    "listening": format!("http://{addr}"),
                    "store": store_name,
                    "pid": std::process::id(),
                    "fd_limit": fd_limit,
                })
            )
        } else {
            writeln!(
                out,
                "bidkit relay: listening on http://{addr} (store: {store_name}; pid {}; open-files limit {})",
                std::process::id(),
                fd_limit.map_or_else(|| "unknown".to_owned(), |n| n.to_string())
            )
        };
        let _ = out.flush();
        bidkit_relay::serve(
            listener,
            store,
            config,
            crate::context::shutdown_signal("relay"),
        )
        .await?;
        Output::new(
            format!("bidkit relay: stopped (http://{addr})"),
            &serde_json::json!({ "stopped": format!("http://{addr}") }),
        )
    })?
}
