//! HTTP calls with retries, and a mailbox that receives over WebSocket or long poll.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use bidkit_protocol::{RelayAddress, Role, SessionId};

use super::{ClientConfig, Transport};
use crate::api::{CancelBody, ErrorBody, Inbox, Posted, Status, WsAck, WsEvent};
use crate::error::ClientError;

/// One relay's HTTP endpoint.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    base: Arc<str>,
    config: Arc<ClientConfig>,
}

impl Http {
    pub(crate) fn new(
        relay: &RelayAddress,
        config: Arc<ClientConfig>,
    ) -> Result<Self, ClientError> {
        let client = match &config.http_client {
            Some(shared) => shared.clone(),
            None => reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .build()
                .map_err(|e| ClientError::Transport(e.to_string()))?,
        };
        Ok(Http {
            client,
            base: relay.as_str().into(),
            config,
        })
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send a request built by `build`, retrying while the relay cannot be reached
    /// (nothing was delivered) until the retry budget runs out.
    async fn send<T: DeserializeOwned>(
        &self,
        timeout: Duration,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let give_up = Instant::now() + self.config.retry_for;
        let mut backoff = Duration::from_millis(50);
        loop {
            let result = build(&self.client).timeout(timeout).send().await;
            match result {
                Ok(resp) => {
                    let status = resp.status();
                    let bytes = resp
                        .bytes()
                        .await
                        .map_err(|e| ClientError::Transport(e.to_string()))?;
                    if status.is_success() {
                        return serde_json::from_slice(&bytes).map_err(|e| {
                            ClientError::Transport(format!("unreadable relay answer: {e}"))
                        });
                    }
                    let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
                    let retryable = status.as_u16() == 503
                        && body.as_ref().is_some_and(|b| b.code == "store-unavailable");
                    if !retryable || Instant::now() >= give_up {
                        return Err(match body {
                            Some(b) => ClientError::Relay {
                                status: status.as_u16(),
                                code: b.code,
                                message: b.message,
                            },
                            None => ClientError::Relay {
                                status: status.as_u16(),
                                code: format!("http-{}", status.as_u16()),
                                message: String::from_utf8_lossy(&bytes)
                                    .chars()
                                    .take(200)
                                    .collect(),
                            },
                        });
                    }
                }
                Err(e) if e.is_connect() && Instant::now() < give_up => {}
                Err(e) if e.is_connect() => {
                    return Err(ClientError::Unreachable {
                        url: self.base.to_string(),
                        reason: e.to_string(),
                    });
                }
                Err(e) => return Err(ClientError::Transport(e.to_string())),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }

    pub(crate) async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let json = serde_json::to_vec(body).map_err(|e| ClientError::Transport(e.to_string()))?;
        self.send(self.config.request_timeout, |c| {
            let mut r = c
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json.clone());
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r
        })
        .await
    }

    pub(crate) async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        self.send(self.config.request_timeout, |c| {
            let mut r = c
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body.to_vec());
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r
        })
        .await
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        timeout: Duration,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        self.send(timeout, |c| c.get(&url).bearer_auth(token)).await
    }

    fn ws_url(&self, path: &str) -> Option<String> {
        let base = &*self.base;
        if let Some(rest) = base.strip_prefix("http://") {
            Some(format!("ws://{rest}{path}"))
        } else {
            base.strip_prefix("https://")
                .map(|rest| format!("wss://{rest}{path}"))
        }
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What arrived for this side.
pub(crate) enum Inbound {
    /// A record from the other side.
    Record(Vec<u8>),
    /// The session is closed (and every record before it was delivered).
    Closed(Status),
}

/// One side's view of a joined (or waiting) session: posts records, receives them in
/// order over a WebSocket, or by long poll when the socket cannot be opened.
pub(crate) struct Mailbox {
    pub(crate) http: Http,
    pub(crate) session_id: SessionId,
    pub(crate) token: String,
    role: Role,
    /// Highest index received.
    seen: u64,
    pending: VecDeque<Vec<u8>>,
    ws: Option<Ws>,
    ws_refused: bool,
    last_status: Option<Status>,
}

impl Mailbox {
    pub(crate) fn new(http: Http, session_id: SessionId, token: String, role: Role) -> Self {
        let ws_refused = http.config().transport == Transport::LongPoll;
        Mailbox {
            http,
            session_id,
            token,
            role,
            seen: 0,
            pending: VecDeque::new(),
            ws: None,
            ws_refused,
            last_status: None,
        }
    }

    fn path(&self, tail: &str) -> String {
        format!("/v1/sessions/{}{tail}", self.session_id.to_hex())
    }

    /// Post one record to the other side.
    pub(crate) async fn post(&self, record: &[u8]) -> Result<u64, ClientError> {
        let posted: Posted = self
            .http
            .post_bytes(&self.path("/messages"), Some(&self.token), record)
            .await?;
        Ok(posted.index)
    }

    /// Cancel the session at the relay, with a machine code.
    pub(crate) async fn cancel(&self, code: Option<&str>) -> Result<Status, ClientError> {
        let body = CancelBody {
            code: code.map(str::to_owned),
        };
        self.http
            .post_json(&self.path("/cancel"), Some(&self.token), &body)
            .await
    }

    /// Mark the session done (tool only).
    pub(crate) async fn done(&self) -> Result<Status, ClientError> {
        self.http
            .post_bytes(&self.path("/done"), Some(&self.token), &[])
            .await
    }

    /// The relay's current view of the session.
    pub(crate) async fn status(&self) -> Result<Status, ClientError> {
        self.http
            .get(
                &self.path(""),
                &self.token,
                self.http.config().request_timeout,
            )
            .await
    }

    /// The next record, or the session's close, or `None` at `deadline`.
    pub(crate) async fn next(&mut self, deadline: Instant) -> Result<Option<Inbound>, ClientError> {
        self.next_observed(deadline, &mut |_| {}).await
    }

    /// The last status the relay reported.
    pub(crate) fn last_status(&self) -> Option<&Status> {
        self.last_status.as_ref()
    }

    /// [`Mailbox::next`], calling `on_status` whenever the relay reports a status
    /// different from the last one.
    pub(crate) async fn next_observed(
        &mut self,
        deadline: Instant,
        on_status: &mut (dyn FnMut(&Status) + Send),
    ) -> Result<Option<Inbound>, ClientError> {
        let mut reported = self.last_status.clone();
        let mut backoff = Duration::from_millis(50);
        let mut unreachable_since: Option<Instant> = None;
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(Inbound::Record(r)));
            }
            if let Some(s) = &self.last_status
                && s.state.is_closed()
            {
                return Ok(Some(Inbound::Closed(s.clone())));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            let step = if self.ws_refused {
                self.poll_once(deadline).await
            } else {
                self.ws_once(deadline).await
            };
            if let Some(s) = &self.last_status
                && reported.as_ref() != Some(s)
            {
                on_status(s);
                reported = Some(s.clone());
            }
            match step {
                Ok(()) => {
                    unreachable_since = None;
                    backoff = Duration::from_millis(50);
                }
                Err(ClientError::Unreachable { .. } | ClientError::Transport(_))
                    if Instant::now() < deadline =>
                {
                    // The node may be restarting: retry within the retry budget.
                    let since = *unreachable_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > self.http.config().retry_for {
                        return Err(ClientError::Unreachable {
                            url: self.http.base.to_string(),
                            reason: "the relay stayed unreachable".into(),
                        });
                    }
                    tokio::time::sleep(
                        backoff.min(deadline.saturating_duration_since(Instant::now())),
                    )
                    .await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn poll_once(&mut self, deadline: Instant) -> Result<(), ClientError> {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(self.http.config().long_poll_wait);
        let path = format!(
            "{}?after={}&wait_ms={}",
            self.path("/messages"),
            self.seen,
            wait.as_millis()
        );
        let inbox: Inbox = self
            .http
            .get(
                &path,
                &self.token,
                wait + self.http.config().request_timeout,
            )
            .await?;
        for m in inbox.messages {
            if m.index > self.seen {
                self.seen = m.index;
                self.pending.push_back(m.data);
            }
        }
        self.last_status = Some(inbox.status);
        Ok(())
    }

    async fn connect_ws(&mut self) -> Result<(), ClientError> {
        let path = format!("{}?after={}", self.path("/ws"), self.seen);
        let Some(url) = self.http.ws_url(&path) else {
            self.ws_refused = true;
            return Ok(());
        };
        let mut request = url
            .into_client_request()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let value = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| ClientError::Transport("bad token".into()))?;
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
        // Small initial buffers (they grow for a large record), as on the relay.
        let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 * 1024)
            .write_buffer_size(8 * 1024);
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(ws_config), false);
        match tokio::time::timeout(self.http.config().connect_timeout, connect).await {
            Ok(Ok((ws, _))) => {
                self.ws = Some(ws);
                Ok(())
            }
            Ok(Err(tokio_tungstenite::tungstenite::Error::Io(e))) => {
                Err(ClientError::Unreachable {
                    url: self.http.base.to_string(),
                    reason: e.to_string(),
                })
            }
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
                // The relay answered but refused the upgrade: a real error (token,
                // session) is reported as such; anything else means fall back.
                let body: Option<ErrorBody> = resp
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice(b).ok());
                match body {
                    Some(b) => Err(ClientError::Relay {
                        status: resp.status().as_u16(),
                        code: b.code,
                        message: b.message,
                    }),
                    None => {
                        self.ws_refused = true;
                        Ok(())
                    }
                }
            }
            Ok(Err(_)) => {
                self.ws_refused = true;
                Ok(())
            }
            Err(_) => Err(ClientError::Unreachable {
                url: self.http.base.to_string(),
                reason: "WebSocket connect timed out".into(),
            }),
        }
    }

    async fn ws_once(&mut self, deadline: Instant) -> Result<(), ClientError> {
        if self.ws.is_none() {
            self.connect_ws().await?;
            if self.ws.is_none() {
                return Ok(()); // fell back to long poll
            }
        }
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Ok(()), // deadline; the caller reports it
            Ok(f) => f,
        };
        match frame {
            Some(Ok(WsMessage::Binary(data))) => {
                if data.len() < 8 {
                    return Err(ClientError::Transport("short WebSocket frame".into()));
                }
                let mut idx = [0u8; 8];
                idx.copy_from_slice(&data[..8]);
                let index = u64::from_be_bytes(idx);
                if index > self.seen {
                    self.seen = index;
                    self.pending.push_back(data[8..].to_vec());
                }
                let ack = serde_json::to_string(&WsAck { ack: self.seen })
                    .map_err(|e| ClientError::Transport(e.to_string()))?;
                let _ = ws.send(WsMessage::Text(ack.into())).await;
                Ok(())
            }
            Some(Ok(WsMessage::Text(text))) => {
                match serde_json::from_str::<WsEvent>(text.as_str()) {
                    Ok(WsEvent::State(status)) => self.last_status = Some(status),
                    Ok(WsEvent::Error(b)) => {
                        self.ws = None;
                        return Err(ClientError::Relay {
                            status: 0,
                            code: b.code,
                            message: b.message,
                        });
                    }
                    Err(_) => {}
                }
                Ok(())
            }
            Some(Ok(WsMessage::Close(_))) | None => {
                self.ws = None;
                // Closed by the relay: either the session closed (we have its state)
                // or the node is going away; reconnect on the next turn.
                if !self
                    .last_status
                    .as_ref()
                    .is_some_and(|s| s.state.is_closed())
                {
                    return Err(ClientError::Transport("WebSocket closed".into()));
                }
                Ok(())
            }
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => {
                self.ws = None;
                Err(ClientError::Transport(e.to_string()))
            }
        }
    }

    /// Which side this mailbox belongs to.
    pub(crate) fn role(&self) -> Role {
        self.role
    }
}
