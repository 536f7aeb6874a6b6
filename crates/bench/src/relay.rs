//! `bidkit bench relay`: many concurrent sessions through the relay on loopback.
//!
//! **What is measured.** `N` sessions are opened and joined (tool on one node, phone on
//! the next one with several nodes), each with the real clients and the real protocol
//! (ephemeral ECDH, AEAD records). All `N` stay open at once, each tool holding its
//! WebSocket to the relay as a waiting desktop does. Then every session makes one
//! request/response round trip, started at a steady rate: the phone long-polls, the
//! tool posts a sealed sign request, the phone answers with a sealed response that
//! reaches the tool over its WebSocket. A **hop** is one message from the moment its
//! sender starts posting it to the moment the receiver has opened it (both ends run
//! in this process, so one clock times both). The relay runs as child processes
//! (`bidkit relay serve`) so that its **peak memory** is its own: the kernel's
//! high-water mark of resident memory (`VmHWM` in `/proc/PID/status`), read at the
//! end. With several nodes they share one Redis (a `redis-server` started on a free
//! loopback port when no URL is given).
//!
//! **File descriptors.** Every open session holds one socket in this process and one
//! in the relay. The soft limit is raised to the hard one; a run that cannot fit is
//! refused before it starts, with the numbers.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bidkit_crypto::Suite;
use bidkit_protocol::message::{
    DocumentInfo, ItemSignature, Message, PlacementMode, SealPlacement, SignItem, SignRequest,
    SignResponse,
};
use bidkit_protocol::{Purpose, RelayAddress, Timestamp};
use bidkit_relay::{
    AnyStore, ClientConfig, EmbeddedRelay, MemoryStore, PhoneConnection, PhoneScan, RedisStore,
    RelayConfig, ToolConnection, ToolSession, Transport,
};
use serde::Serialize;

use crate::{BenchError, Result};

/// The targets for one node.
pub const TARGET_SESSIONS: usize = 10_000;
/// p99 hop latency target (ms).
pub const TARGET_P99_MS: f64 = 20.0;
/// Peak relay memory target (MB).
pub const TARGET_PEAK_MB: f64 = 200.0;

/// How to run the relay benchmark.
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// Concurrent sessions.
    pub sessions: usize,
    /// Relay nodes (1, or several sharing one Redis).
    pub nodes: usize,
    /// Redis to use (several nodes, or one node with `redis` true); `None`: start a
    /// `redis-server` when one is needed.
    pub redis_url: Option<String>,
    /// Use Redis even with one node.
    pub redis: bool,
    /// The `bidkit` program to run nodes with (`bidkit relay serve`); `None`: run the
    /// relay in this process (memory figures then include the clients).
    pub relay_program: Option<PathBuf>,
    /// The `redis-server` program.
    pub redis_server: PathBuf,
    /// Round trips started per second in the exchange phase.
    pub rate: f64,
    /// Sessions being opened at the same time.
    pub open_concurrency: usize,
    /// Algorithm suite of the sessions.
    pub suite: Suite,
    /// The nodes' store re-read interval without a wake-up (`None`: their default).
    pub poll_interval: Option<Duration>,
}

impl RelayOptions {
    /// The benchmark: 10 000 sessions, one node, 1 000 round trips per second.
    pub fn standard(relay_program: Option<PathBuf>) -> Self {
        RelayOptions {
            sessions: TARGET_SESSIONS,
            nodes: 1,
            redis_url: None,
            redis: false,
            relay_program,
            redis_server: PathBuf::from("redis-server"),
            rate: 1000.0,
            open_concurrency: 64,
            suite: Suite::Gm,
            poll_interval: None,
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Latency {
    /// Messages measured.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i].as_secs_f64() * 1000.0
        };
        Latency {
            count: samples.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// One relay node's memory.
#[derive(Clone, Debug, Serialize)]
pub struct NodeMemory {
    /// Its address.
    pub address: String,
    /// Resident memory with every session open (MB), sampled.
    pub open_rss_mb: Option<f64>,
    /// Peak resident memory over the run (MB, the kernel's high-water mark).
    pub peak_rss_mb: Option<f64>,
}

/// The benchmark's figures.
#[derive(Clone, Debug, Serialize)]
pub struct RelayReport {
    /// Sessions opened and held at once.
    pub sessions: usize,
    /// Relay nodes.
    pub nodes: usize,
    /// Where sessions live: `memory` or `redis`.
    pub store: String,
    /// Whether the relay ran in child processes (its memory is then its own).
    pub relay_in_child_processes: bool,
    /// Whether this is an optimised build.
    pub optimized_build: bool,
    /// The open-files limit of this process.
    pub fd_limit: Option<u64>,
    /// Seconds to open and join every session.
    pub open_seconds: f64,
    /// Sessions opened per second.
    pub opened_per_second: f64,
    /// Round trips started per second in the exchange phase.
    pub rate: f64,
    /// Every hop (tool → phone and phone → tool).
    pub hop: Latency,
    /// Tool → phone hops (posted, then fetched by the phone's long poll).
    pub hop_to_phone: Latency,
    /// Phone → tool hops (posted, then pushed over the tool's WebSocket).
    pub hop_to_tool: Latency,
    /// Sessions that failed (should be 0).
    pub failures: usize,
    /// The first failure, if any.
    pub first_failure: Option<String>,
    /// Memory of each node.
    pub node_memory: Vec<NodeMemory>,
    /// Peak of the largest node (MB).
    pub peak_node_mb: Option<f64>,
    /// Peak of the Redis server, when this run started it (MB).
    pub redis_peak_mb: Option<f64>,
    /// Whether the one-node targets were met (p99 hop < 20 ms, peak < 200 MB, no
    /// failure); `None` unless one node in a child process held 10 000 sessions.
    pub targets_met: Option<bool>,
}

impl std::fmt::Display for RelayReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "bidkit bench relay — {} sessions held at once, {} node(s), {} store{}{}",
            self.sessions,
            self.nodes,
            self.store,
            if self.relay_in_child_processes {
                ""
            } else {
                ", relay in this process (memory includes the clients)"
            },
            if self.optimized_build {
                ""
            } else {
                ", DEBUG BUILD"
            }
        )?;
        writeln!(
            f,
            "open + join: {:.1} s ({:.0} sessions/s); round trips started at {:.0}/s",
            self.open_seconds, self.opened_per_second, self.rate
        )?;
        let row = |f: &mut std::fmt::Formatter<'_>, name: &str, l: &Latency| {
            writeln!(
                f,
                "{name:<22} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                l.count, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
            )
        };
        writeln!(
            f,
            "{:<22} {:>7} {:>9} {:>9} {:>9} {:>9}",
            "hop latency (ms)", "count", "p50", "p90", "p99", "max"
        )?;
        row(f, "all hops", &self.hop)?;
        row(f, "tool → phone (poll)", &self.hop_to_phone)?;
        row(f, "phone → tool (ws)", &self.hop_to_tool)?;
        for n in &self.node_memory {
            writeln!(
                f,
                "relay {}: {} MB with every session open, peak {} MB",
                n.address,
                mb(n.open_rss_mb),
                mb(n.peak_rss_mb)
            )?;
        }
        if let Some(r) = self.redis_peak_mb {
            writeln!(f, "redis-server peak: {r:.1} MB")?;
        }
        if self.failures > 0 {
            writeln!(
                f,
                "FAILURES: {} session(s); first: {}",
                self.failures,
                self.first_failure.as_deref().unwrap_or("?")
            )?;
        }
        match self.targets_met {
            Some(true) => writeln!(
                f,
                "targets (10 000 sessions, p99 hop < {TARGET_P99_MS} ms, peak < {TARGET_PEAK_MB} MB): met"
            ),
            Some(false) => writeln!(
                f,
                "targets (10 000 sessions, p99 hop < {TARGET_P99_MS} ms, peak < {TARGET_PEAK_MB} MB): NOT met"
            ),
            None => Ok(()),
        }
    }
}

fn mb(v: Option<f64>) -> String {
    v.map_or_else(|| "?".to_owned(), |v| format!("{v:.1}"))
}

/// Run the relay benchmark.
pub fn relay(opts: &RelayOptions) -> Result<RelayReport> {
    if opts.sessions == 0 || opts.sessions > 100_000 {
        return Err(BenchError::InvalidOption(format!(
            "--sessions must be 1–100000, got {}",
            opts.sessions
        )));
    }
    if !(1..=8).contains(&opts.nodes) {
        return Err(BenchError::InvalidOption(format!(
            "--nodes must be 1–8, got {}",
            opts.nodes
        )));
    }
    if !(opts.rate.is_finite() && opts.rate > 0.0) {
        return Err(BenchError::InvalidOption(format!(
            "--rate must be positive, got {}",
            opts.rate
        )));
    }
    let fd_limit = rlimit::increase_nofile_limit(u64::MAX).ok();
    let concurrency = opts.open_concurrency.clamp(1, 1024);
    // This process: one WebSocket per session, a pool of HTTP connections, spare.
    let needed = opts.sessions as u64 + 2 * concurrency as u64 + 600;
    if let Some(limit) = fd_limit
        && needed > limit
    {
        return Err(BenchError::InvalidOption(format!(
            "{} sessions need about {needed} open files in this process; the limit is {limit} \
             (raise it with `ulimit -n`, or use fewer sessions)",
            opts.sessions
        )));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| BenchError::Setup(format!("async runtime: {e}")))?;
    rt.block_on(run(opts, fd_limit, concurrency))
}

/// A relay node: a child process or an in-process relay.
enum Node {
    Child { child: Child, address: RelayAddress },
    InProcess(EmbeddedRelay),
}

impl Node {
    fn address(&self) -> RelayAddress {
        match self {
            Node::Child { address, .. } => address.clone(),
            Node::InProcess(r) => r.relay_address(),
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Node::Child { child, .. } => child.id(),
            Node::InProcess(_) => std::process::id(),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Node::Child { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `redis-server` on a free loopback port in a temporary directory.
struct RedisChild {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn run(
    opts: &RelayOptions,
    fd_limit: Option<u64>,
    concurrency: usize,
) -> Result<RelayReport> {
    let use_redis = opts.nodes > 1 || opts.redis || opts.redis_url.is_some();
    let redis_child = match (&opts.redis_url, use_redis) {
        (None, true) => Some(start_redis(&opts.redis_server).await?),
        _ => None,
    };
    let redis_url = opts
        .redis_url
        .clone()
        .or_else(|| redis_child.as_ref().map(|r| r.url.clone()));
    let mut nodes = Vec::new();
    for _ in 0..opts.nodes {
        nodes.push(
            start_node(
                opts.relay_program.as_deref(),
                redis_url.as_deref(),
                opts.poll_interval,
            )
            .await?,
        );
    }
    let addresses: Vec<RelayAddress> = nodes.iter().map(Node::address).collect();

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| BenchError::Setup(format!("HTTP client: {e}")))?;
    let base = ClientConfig {
        http_client: Some(http),
        request_timeout: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(10),
        retry_for: Duration::from_secs(10),
        answer_timeout: Duration::from_secs(120),
        peer_timeout: Duration::from_secs(120),
        long_poll_wait: Duration::from_secs(20),
        ..ClientConfig::default()
    };
    let tool_config = ClientConfig {
        transport: Transport::WebSocket,
        ..base.clone()
    };
    let phone_config = ClientConfig {
        transport: Transport::LongPoll,
        ..base
    };

    // Phase 1: open and join every session; keep them all.
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut opening = tokio::task::JoinSet::new();
    for i in 0..opts.sessions {
        let tool_node = addresses[i % addresses.len()].clone();
        let phone_node = addresses[(i + 1) % addresses.len()].clone();
        let (tc, pc) = (tool_config.clone(), phone_config.clone());
        let permits = permits.clone();
        let suite = opts.suite;
        opening.spawn(async move {
            let _permit = permits.acquire_owned().await;
            open_pair(tool_node, phone_node, suite, tc, pc).await
        });
    }
    let mut pairs = Vec::with_capacity(opts.sessions);
    let mut failures = 0usize;
    let mut first_failure = None;
    while let Some(done) = opening.join_next().await {
        match done {
            Ok(Ok(pair)) => pairs.push(pair),
            Ok(Err(e)) => {
                failures += 1;
                first_failure.get_or_insert(format!("open: {e}"));
            }
            Err(e) => {
                failures += 1;
                first_failure.get_or_insert(format!("open task: {e}"));
            }
        }
    }
    let open_seconds = started.elapsed().as_secs_f64();
    // Let the relay settle, then sample its memory with everything open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let open_rss: Vec<Option<f64>> = nodes.iter().map(|n| proc_mb(n.pid(), "VmRSS")).collect();

    // Phase 2: one round trip per session, started at a steady rate.
    let request = sign_request(opts.suite);
    let response = sign_response();
    let interval = Duration::from_secs_f64(1.0 / opts.rate);
    let t0 = tokio::time::Instant::now();
    let mut exchanging = tokio::task::JoinSet::new();
    for (i, (tool, phone)) in pairs.into_iter().enumerate() {
        let at = t0 + interval.mul_f64(i as f64);
        let (request, response) = (request.clone(), response.clone());
        exchanging.spawn(async move {
            tokio::time::sleep_until(at).await;
            exchange(tool, phone, &request, &response).await
        });
    }
    let mut to_phone = Vec::new();
    let mut to_tool = Vec::new();
    let mut finished = Vec::new();
    while let Some(done) = exchanging.join_next().await {
        match done {
            Ok(Ok((a, b, tool))) => {
                to_phone.push(a);
                to_tool.push(b);
                finished.push(tool);
            }
            Ok(Err(e)) => {
                failures += 1;
                first_failure.get_or_insert(format!("exchange: {e}"));
            }
            Err(e) => {
                failures += 1;
                first_failure.get_or_insert(format!("exchange task: {e}"));
            }
        }
    }

    // Close every session (the tool's final word and `done`), a few at a time.
    let mut closing = tokio::task::JoinSet::new();
    for tool in finished {
        let permits = permits.clone();
        closing.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let _ = tool.finish(true, "done").await;
        });
    }
    while closing.join_next().await.is_some() {}

    let node_memory: Vec<NodeMemory> = nodes
        .iter()
        .zip(open_rss)
        .map(|(n, open)| NodeMemory {
            address: n.address().to_string(),
            open_rss_mb: open,
            peak_rss_mb: proc_mb(n.pid(), "VmHWM"),
        })
        .collect();
    let peak_node_mb = node_memory
        .iter()
        .filter_map(|n| n.peak_rss_mb)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let redis_peak_mb = redis_child
        .as_ref()
        .and_then(|r| proc_mb(r.child.id(), "VmHWM"));
    let mut all = to_phone.clone();
    all.extend_from_slice(&to_tool);
    let hop = Latency::of(all);
    let relay_in_child_processes = opts.relay_program.is_some();
    let targets_met = (opts.nodes == 1
        && relay_in_child_processes
        && opts.sessions >= TARGET_SESSIONS)
        .then(|| {
            failures == 0
                && hop.p99_ms < TARGET_P99_MS
                && peak_node_mb.is_some_and(|p| p < TARGET_PEAK_MB)
        });
    let report = RelayReport {
        sessions: opts.sessions,
        nodes: opts.nodes,
        store: if use_redis { "redis" } else { "memory" }.to_owned(),
        relay_in_child_processes,
        optimized_build: !cfg!(debug_assertions),
        fd_limit,
        open_seconds,
        opened_per_second: opts.sessions as f64 / open_seconds.max(1e-9),
        rate: opts.rate,
        hop,
        hop_to_phone: Latency::of(to_phone),
        hop_to_tool: Latency::of(to_tool),
        failures,
        first_failure,
        node_memory,
        peak_node_mb,
        redis_peak_mb,
        targets_met,
    };
    drop(nodes);
    drop(redis_child);
    Ok(report)
}

async fn open_pair(
    tool_node: RelayAddress,
    phone_node: RelayAddress,
    suite: Suite,
    tool_config: ClientConfig,
    phone_config: ClientConfig,
) -> std::result::Result<(ToolConnection, PhoneConnection), bidkit_relay::ClientError> {
    let session =
        ToolSession::open_via(tool_node, phone_node, suite, Purpose::Sign, tool_config).await?;
    let qr = session.qr_text(Timestamp::now())?;
    let phone = async move { PhoneScan::new(&qr, phone_config)?.join().await };
    let (tool, phone) = tokio::join!(session.wait_for_phone(), phone);
    Ok((tool?, phone?))
}

/// One round trip; returns the two hops and the tool's end (to close it).
async fn exchange(
    mut tool: ToolConnection,
    mut phone: PhoneConnection,
    request: &Message,
    response: &Message,
) -> std::result::Result<(Duration, Duration, ToolConnection), bidkit_relay::ClientError> {
    let receiving = async {
        let got = phone.next_request().await;
        (got, Instant::now())
    };
    let sending = async {
        // Let the phone's poll go out first, as a waiting phone's would be.
        tokio::task::yield_now().await;
        let t = Instant::now();
        tool.send(request).await.map(|()| t)
    };
    let ((got, received_at), sent_at) = tokio::join!(receiving, sending);
    let sent_at = sent_at?;
    got?;
    let to_phone = received_at.saturating_duration_since(sent_at);
    let t = Instant::now();
    let (answered, reply) = tokio::join!(
        phone.respond(response),
        tool.receive(Duration::from_secs(120))
    );
    answered?;
    reply?;
    let to_tool = t.elapsed();
    Ok((to_phone, to_tool, tool))
}

fn sign_request(suite: Suite) -> Message {
    let digest = vec![0x5a; 32];
    let mut prepared = b"\x31\x69\x30\x18\x06\x09signed-attrs\x04\x20".to_vec();
    prepared.extend_from_slice(&digest);
    Message::SignRequest(SignRequest {
        items: vec![SignItem {
            id: "op-1".into(),
            document: DocumentInfo {
                name: "投标文件.pdf".into(),
                page_count: 100,
            },
            seals: vec![SealPlacement {
                seal: "某某公司公章".into(),
                page: 1,
                x_mm: 150.0,
                y_mm: 240.0,
                mode: PlacementMode::Position,
            }],
            digest_algorithm: suite.hash(),
            document_digest: digest,
            prepared,
        }],
    })
}

fn sign_response() -> Message {
    Message::SignResponse(SignResponse {
        // About the size of a real signing certificate and signature.
        certificate_chain: vec![vec![0x30; 640]],
        signatures: vec![ItemSignature {
            id: "op-1".into(),
            signature: vec![0x30; 72],
        }],
    })
}

/// Start a relay node: `program relay serve` in a child process, or in this process.
async fn start_node(
    program: Option<&Path>,
    redis: Option<&str>,
    poll_interval: Option<Duration>,
) -> Result<Node> {
    let Some(program) = program else {
        let store = match redis {
            Some(url) => AnyStore::Redis(
                RedisStore::connect(url)
                    .await
                    .map_err(|e| BenchError::Setup(format!("Redis at {url}: {e}")))?,
            ),
            None => AnyStore::Memory(MemoryStore::default()),
        };
        let mut config = RelayConfig {
            session_rate: None,
            request_rate: None,
            ..RelayConfig::default()
        };
        if let Some(p) = poll_interval {
            config.poll_interval = p;
        }
        let relay = EmbeddedRelay::start_with(store, config)
            .await
            .map_err(|e| BenchError::Setup(format!("relay: {e}")))?;
        return Ok(Node::InProcess(relay));
    };
    let mut cmd = Command::new(program);
    cmd.args([
        "relay",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--no-rate-limits",
    ]);
    if let Some(url) = redis {
        cmd.args(["--redis", url]);
    }
    if let Some(p) = poll_interval {
        cmd.arg(format!("--poll-interval-ms={}", p.as_millis()));
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| BenchError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BenchError::Setup("relay node: no stdout".into()))?;
    // The first line says where it listens.
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let read = reader.read_line(&mut line);
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        read.map(|_| line)
    });
    let line = match tokio::time::timeout(Duration::from_secs(30), line).await {
        Ok(Ok(Ok(line))) => line,
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(BenchError::Setup(
                "the relay node did not say where it listens within 30 s".into(),
            ));
        }
    };
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| {
            BenchError::Setup(format!(
                "unexpected first line from the relay node: {line:?}"
            ))
        })?;
    let address = RelayAddress::new(url)
        .map_err(|e| BenchError::Setup(format!("relay node address {url:?}: {e}")))?;
    Ok(Node::Child { child, address })
}

async fn start_redis(program: &Path) -> Result<RedisChild> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| BenchError::Setup(format!("no free port: {e}")))?
        .port();
    let dir =
        std::env::temp_dir().join(format!("bidkit-bench-redis-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| BenchError::Setup(format!("{}: {e}", dir.display())))?;
    let child = Command::new(program)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxclients",
            "50000",
        ])
        .arg("--dir")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| BenchError::Spawn {
            program: format!(
                "{} (install it: apt-get install -y redis-server, or pass --redis URL)",
                program.display()
            ),
            source,
        })?;
    let redis = RedisChild {
        child,
        url: format!("redis://127.0.0.1:{port}/"),
        dir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(redis);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(BenchError::Setup(format!(
        "redis-server did not come up on port {port}"
    )))
}

/// A `/proc/PID/status` memory field in MB (Linux; `None` elsewhere).
fn proc_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let l = Latency::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!(l.count, 100);
        assert!((l.p50_ms - 50.0).abs() < 1e-9);
        assert!((l.p99_ms - 99.0).abs() < 1e-9);
        assert!((l.max_ms - 100.0).abs() < 1e-9);
        assert_eq!(Latency::of(Vec::new()).count, 0);
    }

    #[test]
    fn bad_options_are_refused_before_anything_starts() {
        let mut o = RelayOptions::standard(None);
        o.sessions = 0;
        assert!(matches!(relay(&o), Err(BenchError::InvalidOption(_))));
        let mut o = RelayOptions::standard(None);
        o.nodes = 0;
        assert!(matches!(relay(&o), Err(BenchError::InvalidOption(_))));
        let mut o = RelayOptions::standard(None);
        o.rate = f64::NAN;
        assert!(matches!(relay(&o), Err(BenchError::InvalidOption(_))));
    }
}
