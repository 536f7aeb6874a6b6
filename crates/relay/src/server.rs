//! The relay server: axum routes over a [`Store`].

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

use bidkit_protocol::record::MAX_RECORD_LEN;
use bidkit_protocol::{JoinHello, ProtocolError, RelayAddress, Role, SessionId, Timestamp};

use crate::api::{
    CancelBody, CreateSession, Created, Envelope, ErrorBody, Inbox, Joined, Posted, SessionState,
    Status, WsAck, WsEvent,
};
use crate::clock::{SharedClock, SystemClock};
use crate::error::RelayError;
use crate::store::{AnyStore, MemoryStore, SessionRecord, Store, StoreLimits};

/// A token-bucket rate: `per_second` sustained, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size.
    pub burst: f64,
}

/// The relay's limits and timing. `Default` is what the embedded relay uses.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Largest record accepted (bytes); larger posts get `message-too-large`.
    pub max_message_bytes: usize,
    /// Most undelivered records per direction and session.
    pub max_queued_messages: usize,
    /// A session's lifetime from creation, whatever happens.
    pub session_ttl: Duration,
    /// The longest join window a tool may ask for.
    pub max_join_window: Duration,
    /// How far a tool's issue time may be from the relay's clock.
    pub max_clock_skew: Duration,
    /// How long a finished or cancelled session stays readable.
    pub closed_grace: Duration,
    /// The longest a long poll is held open.
    pub max_wait: Duration,
    /// How often waiters re-read the store even without a wake-up.
    pub poll_interval: Duration,
    /// Per-address limit on opening and joining sessions (`None`: unlimited).
    pub session_rate: Option<RateLimit>,
    /// Per-address limit on all requests (`None`: unlimited).
    pub request_rate: Option<RateLimit>,
    /// Most addresses tracked by the rate limiter (bounded memory).
    pub max_tracked_addresses: usize,
    /// The wall clock (inject a [`crate::ManualClock`] in tests).
    pub clock: SharedClock,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            max_message_bytes: MAX_RECORD_LEN,
            max_queued_messages: 32,
            session_ttl: Duration::from_secs(15 * 60),
            max_join_window: Duration::from_secs(10 * 60),
            max_clock_skew: Duration::from_secs(5 * 60),
            closed_grace: Duration::from_secs(30),
            max_wait: Duration::from_secs(25),
            poll_interval: Duration::from_secs(1),
            session_rate: Some(RateLimit {
                per_second: 20.0,
                burst: 100.0,
            }),
            request_rate: Some(RateLimit {
                per_second: 200.0,
                burst: 1000.0,
            }),
            max_tracked_addresses: 10_000,
            clock: Arc::new(SystemClock),
        }
    }
}

impl RelayConfig {
    fn limits(&self) -> StoreLimits {
        StoreLimits {
            max_queued: self.max_queued_messages,
            closed_grace_ms: u64::try_from(self.closed_grace.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    Session,
    Request,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct Limiter {
    session: Option<RateLimit>,
    request: Option<RateLimit>,
    max_tracked: usize,
    buckets: Mutex<HashMap<(IpAddr, Class), Bucket>>,
}

impl Limiter {
    fn check(&self, ip: IpAddr, class: Class) -> Result<(), RelayError> {
        let Some(rate) = (match class {
            Class::Session => self.session,
            Class::Request => self.request,
        }) else {
            return Ok(());
        };
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.max_tracked && !map.contains_key(&(ip, class)) {
            // Forget idle (refilled) buckets first; if every bucket is busy, start over
            // rather than grow without bound.
            map.retain(|(_, c), b| {
                let r = match c {
                    Class::Session => self.session,
                    Class::Request => self.request,
                };
                r.is_some_and(|r| {
                    b.tokens + now.duration_since(b.last).as_secs_f64() * r.per_second < r.burst
                })
            });
            if map.len() >= self.max_tracked {
                map.clear();
            }
        }
        let b = map.entry((ip, class)).or_insert(Bucket {
            tokens: rate.burst,
            last: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.last).as_secs_f64() * rate.per_second).min(rate.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(RelayError::RateLimited)
        }
    }
}

struct Shared<S> {
    store: S,
    config: RelayConfig,
    limiter: Limiter,
    shutdown: watch::Receiver<bool>,
}

type AppState<S> = Arc<Shared<S>>;

/// An error answer: `{code, message}` with the error's HTTP status.
struct ApiError(RelayError);

impl From<RelayError> for ApiError {
    fn from(e: RelayError) -> Self {
        ApiError(e)
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        ApiError(RelayError::Join(e))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST);
        tracing::debug!(code = self.0.code(), "relay: refused");
        let body = ErrorBody {
            code: self.0.code().to_owned(),
            message: self.0.to_string(),
        };
        (status, axum::Json(body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn new_token() -> Result<String, RelayError> {
    let bytes = bidkit_crypto::rng::random_array::<32>()
        .map_err(|e| RelayError::Store(format!("random source: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a bearer token, hex: the store keeps only this.
fn token_hash(token: &str) -> String {
    hex_lower(&bidkit_crypto::HashAlgorithm::Sha256.digest(token.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn parse_sid(s: &str) -> Result<SessionId, RelayError> {
    SessionId::from_hex(s).map_err(|_| RelayError::UnknownSession)
}

async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<bytes::Bytes, RelayError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared
        && len > limit
    {
        // Read and drop the body before answering: a server that answers and closes
        // while the client is still sending makes the client's TCP stack see a reset,
        // and the client reports a broken connection instead of our 413.
        drain(body, len).await;
        return Err(RelayError::MessageTooLarge { len, max: limit });
    }
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| RelayError::BadRequest(format!("request body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            let len = buf.len() + chunk.len();
            drop(buf);
            drain_stream(stream, len).await;
            return Err(RelayError::MessageTooLarge { len, max: limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The most an oversized body is read (and dropped) before the refusal is sent; past
/// this, or after [`DRAIN_TIME`], the connection is simply closed.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;
/// How long an oversized body is read before the refusal is sent anyway.
const DRAIN_TIME: Duration = Duration::from_secs(5);

async fn drain(body: Body, declared: usize) {
    if declared <= DRAIN_LIMIT {
        drain_stream(body.into_data_stream(), 0).await;
    }
}

async fn drain_stream(mut stream: axum::body::BodyDataStream, mut seen: usize) {
    let reading = async {
        while seen <= DRAIN_LIMIT {
            match stream.next().await {
                Some(Ok(chunk)) => seen += chunk.len(),
                Some(Err(_)) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

impl<S: Store> Shared<S> {
    fn now(&self) -> Timestamp {
        self.config.clock.now()
    }

    async fn authorize(
        &self,
        id: &SessionId,
        headers: &HeaderMap,
    ) -> Result<(SessionRecord, Role), RelayError> {
        let token = bearer(headers).ok_or(RelayError::Unauthorized)?;
        let record = self
            .store
            .get(id, self.now())
            .await?
            .ok_or(RelayError::UnknownSession)?;
        let role = record
            .role_of(&token_hash(token))
            .ok_or(RelayError::Unauthorized)?;
        Ok((record, role))
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn create<S: Store>(
    State(st): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<Created>)> {
    st.limiter.check(peer.ip(), Class::Session)?;
    let bytes = read_body(&headers, body, 16 * 1024).await?;
    let req: CreateSession = serde_json::from_slice(&bytes)
        .map_err(|e| RelayError::BadRequest(format!("create body: {e}")))?;
    let v = req.verifier;
    v.policy
        .validate()
        .map_err(|e| RelayError::BadRequest(e.to_string()))?;
    if u64::from(v.policy.join_window_secs) > st.config.max_join_window.as_secs() {
        return Err(RelayError::BadRequest(format!(
            "join window of {} s exceeds this relay's maximum of {} s",
            v.policy.join_window_secs,
            st.config.max_join_window.as_secs()
        ))
        .into());
    }
    let now = st.now();
    let issued = Timestamp::from_secs(u64::from(v.issued_at));
    let skew = if issued > now {
        issued.since(now)
    } else {
        now.since(issued)
    };
    if skew > st.config.max_clock_skew {
        return Err(RelayError::BadRequest(format!(
            "the tool's clock differs from the relay's by {} s",
            skew.as_secs()
        ))
        .into());
    }
    let token = new_token()?;
    let record = SessionRecord {
        join_deadline: v.join_deadline(),
        verifier: v,
        tool_token_hash: token_hash(&token),
        phone_token_hash: None,
        state: SessionState::Waiting,
        cancelled_by: None,
        cancel_code: None,
        created_at: now,
        expires_at: now.plus(st.config.session_ttl),
        rejected_joins: 0,
        last_rejected_join: None,
    };
    let status = record.status(now);
    st.store.create(record, now).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            tool_token: token,
            status,
        }),
    ))
}

async fn join<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<Joined>> {
    st.limiter.check(peer.ip(), Class::Session)?;
    let id = parse_sid(&sid)?;
    let bytes = read_body(&headers, body, 1024).await?;
    let hello = JoinHello::decode(&bytes)?;
    if hello.session_id != id {
        return Err(RelayError::Join(ProtocolError::WrongSession).into());
    }
    let now = st.now();
    let record = st
        .store
        .get(&id, now)
        .await?
        .ok_or(RelayError::UnknownSession)?;
    match record.state_at(now) {
        SessionState::Waiting => {}
        SessionState::Joined => {
            return Err(rejected_join(&st, &id, RelayError::AlreadyJoined, now).await);
        }
        SessionState::Expired => return Err(RelayError::SessionExpired.into()),
        state => return Err(RelayError::SessionClosed { state }.into()),
    }
    if let Err(e) = record.verifier.verify(&id, hello.step, &hello.mac, now) {
        return Err(rejected_join(&st, &id, RelayError::Join(e), now).await);
    }
    let token = new_token()?;
    let record = match st
        .store
        .join(&id, token_hash(&token), bytes.to_vec(), now)
        .await
    {
        Ok(record) => record,
        Err(crate::store::StoreError::AlreadyJoined) => {
            return Err(rejected_join(&st, &id, RelayError::AlreadyJoined, now).await);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(axum::Json(Joined {
        phone_token: token,
        status: record.status(now),
    }))
}

/// Tell the session's tool that a phone was turned away (its screen says so; the
/// refused phone cannot), then answer the phone with `err`.
async fn rejected_join<S: Store>(
    st: &Shared<S>,
    id: &SessionId,
    err: RelayError,
    now: Timestamp,
) -> ApiError {
    if let Err(e) = st.store.note_rejected_join(id, err.code(), now).await {
        tracing::debug!(error = %e, "relay: could not note a refused join");
    }
    ApiError(err)
}

async fn status<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Status>> {
    st.limiter.check(peer.ip(), Class::Request)?;
    let id = parse_sid(&sid)?;
    let (record, _) = st.authorize(&id, &headers).await?;
    Ok(axum::Json(record.status(st.now())))
}

async fn post_message<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<Posted>)> {
    st.limiter.check(peer.ip(), Class::Request)?;
    let id = parse_sid(&sid)?;
    let bytes = read_body(&headers, body, st.config.max_message_bytes).await?;
    let (_, role) = st.authorize(&id, &headers).await?;
    let index = st
        .store
        .push(
            &id,
            role.peer(),
            bytes.to_vec(),
            st.now(),
            st.config.limits(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Posted { index })))
}

#[derive(Deserialize)]
struct PollQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    wait_ms: u64,
}

async fn poll_messages<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    Query(q): Query<PollQuery>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Inbox>> {
    st.limiter.check(peer.ip(), Class::Request)?;
    let id = parse_sid(&sid)?;
    let (_, role) = st.authorize(&id, &headers).await?;
    let wait = Duration::from_millis(q.wait_ms).min(st.config.max_wait);
    let deadline = Instant::now() + wait;
    let notify = st.store.hub().subscribe(&id);
    let mut shutdown = st.shutdown.clone();
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = st.now();
        let record = st
            .store
            .get(&id, now)
            .await?
            .ok_or(RelayError::UnknownSession)?;
        let status = record.status(now);
        let messages = st.store.fetch(&id, role, q.after, now).await?;
        if !messages.is_empty()
            || status.state.is_closed()
            || Instant::now() >= deadline
            || *shutdown.borrow()
        {
            return Ok(axum::Json(Inbox {
                status,
                messages: messages
                    .into_iter()
                    .map(|(index, data)| Envelope { index, data })
                    .collect(),
            }));
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(st.config.poll_interval) => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Initial WebSocket buffer size on the relay.
const WS_BUFFER: usize = 4 * 1024;

#[derive(Deserialize)]
struct WsQuery {
    #[serde(default)]
    after: u64,
}

async fn websocket<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    Query(q): Query<WsQuery>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    st.limiter.check(peer.ip(), Class::Request)?;
    let id = parse_sid(&sid)?;
    let (_, role) = st.authorize(&id, &headers).await?;
    let max = st.config.max_message_bytes;
    // Small initial buffers (they grow for a large record): with the defaults
    // (128 KiB read buffer, allocated up front) ten thousand waiting sockets would
    // take more than a gigabyte.
    Ok(ws
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .max_message_size(max + 64)
        .max_frame_size(max + 64)
        .on_upgrade(move |socket| ws_session(socket, st, id, role, q.after)))
}

async fn ws_send_event(socket: &mut WebSocket, event: &WsEvent) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(WsMessage::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn ws_session<S: Store>(
    mut socket: WebSocket,
    st: AppState<S>,
    id: SessionId,
    role: Role,
    mut acked: u64,
) {
    let notify = st.store.hub().subscribe(&id);
    let mut shutdown = st.shutdown.clone();
    let mut sent = acked;
    let mut last: Option<Status> = None;
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = st.now();
        let record = match st.store.get(&id, now).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                let e = RelayError::UnknownSession;
                let body = ErrorBody {
                    code: e.code().into(),
                    message: e.to_string(),
                };
                ws_send_event(&mut socket, &WsEvent::Error(body)).await;
                return;
            }
            Err(e) => {
                let e = RelayError::from(e);
                let body = ErrorBody {
                    code: e.code().into(),
                    message: e.to_string(),
                };
                ws_send_event(&mut socket, &WsEvent::Error(body)).await;
                return;
            }
        };
        let status = record.status(now);
        if let Ok(messages) = st.store.fetch(&id, role, acked, now).await {
            for (index, data) in messages {
                if index <= sent {
                    continue;
                }
                let mut frame = Vec::with_capacity(8 + data.len());
                frame.extend_from_slice(&index.to_be_bytes());
                frame.extend_from_slice(&data);
                if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
                    return;
                }
                sent = index;
            }
        }
        if last.as_ref() != Some(&status) {
            if !ws_send_event(&mut socket, &WsEvent::State(status.clone())).await {
                return;
            }
            last = Some(status.clone());
        }
        if status.state.is_closed() || *shutdown.borrow() {
            let _ = socket.send(WsMessage::Close(None)).await;
            return;
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(st.config.poll_interval) => {}
            _ = shutdown.changed() => {}
            incoming = socket.next() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    if let Ok(WsAck { ack }) = serde_json::from_str::<WsAck>(text.as_str()) {
                        acked = acked.max(ack.min(sent));
                    }
                }
                Some(Ok(WsMessage::Binary(data))) => {
                    // A record posted over the socket (clients may also POST).
                    let result = if data.len() > st.config.max_message_bytes {
                        Err(RelayError::MessageTooLarge { len: data.len(), max: st.config.max_message_bytes })
                    } else {
                        st.store
                            .push(&id, role.peer(), data.to_vec(), st.now(), st.config.limits())
                            .await
                            .map_err(RelayError::from)
                    };
                    if let Err(e) = result {
                        let body = ErrorBody { code: e.code().into(), message: e.to_string() };
                        ws_send_event(&mut socket, &WsEvent::Error(body)).await;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
        }
    }
}

async fn cancel<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<Status>> {
    st.limiter.check(peer.ip(), Class::Request)?;
    let id = parse_sid(&sid)?;
    let bytes = read_body(&headers, body, 1024).await?;
    let req: CancelBody = if bytes.is_empty() {
        CancelBody::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| RelayError::BadRequest(format!("cancel body: {e}")))?
    };
    if let Some(code) = &req.code
        && (code.len() > 64
            || !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    {
        return Err(RelayError::BadRequest("cancel code must be ≤ 64 of [a-z0-9-]".into()).into());
    }
    let (_, role) = st.authorize(&id, &headers).await?;
    let now = st.now();
    let record = st
        .store
        .close(
            &id,
            SessionState::Cancelled,
            role,
            req.code,
            now,
            st.config.limits(),
        )
        .await?;
    Ok(axum::Json(record.status(now)))
}

async fn done<S: Store>(
    State(st): State<AppState<S>>,
    Path(sid): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Status>> {
    st.limiter.check(peer.ip(), Class::Request)?;
    let id = parse_sid(&sid)?;
    let (_, role) = st.authorize(&id, &headers).await?;
    if role != Role::Tool {
        return Err(RelayError::Forbidden(role).into());
    }
    let now = st.now();
    let record = st
        .store
        .close(&id, SessionState::Done, role, None, now, st.config.limits())
        .await?;
    Ok(axum::Json(record.status(now)))
}

fn router<S: Store>(state: AppState<S>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/sessions", post(create::<S>))
        .route("/v1/sessions/{sid}", get(status::<S>))
        .route("/v1/sessions/{sid}/join", post(join::<S>))
        .route(
            "/v1/sessions/{sid}/messages",
            post(post_message::<S>).get(poll_messages::<S>),
        )
        .route("/v1/sessions/{sid}/ws", get(websocket::<S>))
        .route("/v1/sessions/{sid}/cancel", post(cancel::<S>))
        .route("/v1/sessions/{sid}/done", post(done::<S>))
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Serve the relay on `listener` until `shutdown` completes (mini-redis style).
///
/// Long polls and WebSockets are ended promptly on shutdown; sessions survive in the
/// store (for Redis, across restarts and across nodes).
pub async fn serve<S: Store>(
    listener: TcpListener,
    store: S,
    config: RelayConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let limiter = Limiter {
        session: config.session_rate,
        request: config.request_rate,
        max_tracked: config.max_tracked_addresses.max(16),
        buckets: Mutex::new(HashMap::new()),
    };
    let state = Arc::new(Shared {
        store: store.clone(),
        config,
        limiter,
        shutdown: stop_rx.clone(),
    });
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    // Purge expired sessions of the in-memory store.
    let sweeper_state = state.clone();
    let mut sweeper_stop = stop_rx.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {
                    sweeper_state.store.sweep(sweeper_state.now()).await;
                }
                _ = sweeper_stop.changed() => return,
            }
        }
    });
    let mut graceful = stop_rx;
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    })
    .await?;
    Ok(())
}

/// A relay running inside this process on a loopback port: what the CLI and the app
/// use by default (nothing to install). Stops when [`EmbeddedRelay::shutdown`] is
/// called or the handle is dropped.
#[derive(Debug)]
pub struct EmbeddedRelay {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), RelayError>>>,
}

impl EmbeddedRelay {
    /// Start on `127.0.0.1:0` with an in-memory store and the default configuration.
    pub async fn start() -> Result<Self, RelayError> {
        Self::start_with(
            AnyStore::Memory(MemoryStore::default()),
            RelayConfig::default(),
        )
        .await
    }

    /// Start on `127.0.0.1:0` with `store` and `config`.
    pub async fn start_with<S: Store>(store: S, config: RelayConfig) -> Result<Self, RelayError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::start_on(listener, store, config)
    }

    /// Start on an already bound listener.
    pub fn start_on<S: Store>(
        listener: TcpListener,
        store: S,
        config: RelayConfig,
    ) -> Result<Self, RelayError> {
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, store, config, async move {
            let _ = rx.await;
        }));
        Ok(EmbeddedRelay {
            addr,
            stop: Some(tx),
            task: Some(task),
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its address as it goes into QR codes (`http://127.0.0.1:PORT`).
    pub fn relay_address(&self) -> RelayAddress {
        RelayAddress::from_socket(self.addr)
    }

    /// Stop and wait until the server has finished.
    pub async fn shutdown(mut self) -> Result<(), RelayError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| RelayError::Io(std::io::Error::other(e.to_string())))?,
            None => Ok(()),
        }
    }
}

impl Drop for EmbeddedRelay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
