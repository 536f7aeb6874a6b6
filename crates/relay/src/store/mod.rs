//! Where sessions and their message queues live: in this process ([`MemoryStore`]) or
//! in Redis ([`RedisStore`]) so that any number of relay nodes serve the same sessions.
//!
//! A store keeps, per session, a [`SessionRecord`] (the QR verifier, hashes of the
//! two bearer tokens, the state and its deadlines) and two queues of opaque records,
//! one towards each side. Queued records are dropped as soon as the receiver
//! acknowledges them and, at the latest, when the session is purged: `closed_grace`
//! after it was finished or cancelled, or a minute after it expired. Nothing is
//! written anywhere else.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use bidkit_protocol::{QrVerifier, Role, SessionId, Timestamp};

use crate::api::{SessionState, Status};
use crate::error::RelayError;

mod memory;
mod redis;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;

/// How long a session's record stays readable after it expired, so both sides can
/// still be told "expired" rather than "unknown session".
pub const TOMBSTONE_MS: u64 = 60_000;

/// Everything the relay knows about a session. No key material of the session, no
/// plaintext: the verifier's `k_qr` only checks the QR's rotating code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The QR verifier the tool registered (holds the session id).
    pub verifier: QrVerifier,
    /// SHA-256 of the tool's token, hex.
    pub tool_token_hash: String,
    /// SHA-256 of the phone's token, hex, once a phone joined.
    pub phone_token_hash: Option<String>,
    /// Stored state (never `Expired`: expiry is computed from the deadlines).
    pub state: SessionState,
    /// Who cancelled.
    pub cancelled_by: Option<Role>,
    /// The code given with the cancel.
    pub cancel_code: Option<String>,
    /// When the tool opened it.
    pub created_at: Timestamp,
    /// When the join window closes.
    pub join_deadline: Timestamp,
    /// When the session ends regardless.
    pub expires_at: Timestamp,
    /// How many phones the relay turned away at the join (a stale or forged QR frame,
    /// a second phone), so the tool can say so.
    #[serde(default)]
    pub rejected_joins: u32,
    /// The error code of the last join turned away (`qr-stale`, `already-joined` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rejected_join: Option<String>,
}

impl SessionRecord {
    /// The session id.
    pub fn session_id(&self) -> SessionId {
        self.verifier.session_id
    }

    /// The state at `now`, expiry included.
    pub fn state_at(&self, now: Timestamp) -> SessionState {
        match self.state {
            SessionState::Waiting if now > self.join_deadline || now > self.expires_at => {
                SessionState::Expired
            }
            SessionState::Joined if now > self.expires_at => SessionState::Expired,
            s => s,
        }
    }

    /// The status both sides see at `now`.
    pub fn status(&self, now: Timestamp) -> Status {
        Status {
            session_id: self.session_id(),
            state: self.state_at(now),
            cancelled_by: self.cancelled_by,
            cancel_code: self.cancel_code.clone(),
            join_deadline: self.join_deadline,
            expires_at: self.expires_at,
            rejected_joins: self.rejected_joins,
            last_rejected_join: self.last_rejected_join.clone(),
        }
    }

    /// Which side a token hash belongs to.
    pub fn role_of(&self, token_hash: &str) -> Option<Role> {
        if constant_time_eq(token_hash.as_bytes(), self.tool_token_hash.as_bytes()) {
            Some(Role::Tool)
        } else if self
            .phone_token_hash
            .as_deref()
            .is_some_and(|h| constant_time_eq(token_hash.as_bytes(), h.as_bytes()))
        {
            Some(Role::Phone)
        } else {
            None
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such session.
    #[error("unknown session")]
    NotFound,
    /// The id is taken.
    #[error("session exists")]
    Exists,
    /// The store holds its maximum number of sessions.
    #[error("store full")]
    Full,
    /// A phone already joined.
    #[error("already joined")]
    AlreadyJoined,
    /// The session is not in a state that allows the operation.
    #[error("session is {0}")]
    WrongState(SessionState),
    /// The receiver's queue is full.
    #[error("queue full")]
    QueueFull,
    /// The backend failed.
    #[error("store backend: {0}")]
    Backend(String),
}

impl From<StoreError> for RelayError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RelayError::UnknownSession,
            StoreError::Exists => RelayError::SessionExists,
            StoreError::Full => RelayError::TooManySessions,
            StoreError::AlreadyJoined => RelayError::AlreadyJoined,
            StoreError::WrongState(SessionState::Expired) => RelayError::SessionExpired,
            StoreError::WrongState(SessionState::Waiting) => RelayError::NotJoined,
            StoreError::WrongState(SessionState::Joined) => RelayError::AlreadyJoined,
            StoreError::WrongState(state) => RelayError::SessionClosed { state },
            StoreError::QueueFull => RelayError::QueueFull,
            StoreError::Backend(m) => RelayError::Store(m),
        }
    }
}

/// Limits a store enforces.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    /// Most undelivered messages per direction.
    pub max_queued: usize,
    /// How long a closed session stays readable (ms).
    pub closed_grace_ms: u64,
}

/// A session store. Implementations must make `create`, `join`, `close` and `push`
/// atomic across every relay node that shares the store.
pub trait Store: Clone + Send + Sync + 'static {
    /// Add a new session; fails if the id exists or the store is full.
    fn create(
        &self,
        record: SessionRecord,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Read a session.
    fn get(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Admit the one phone: only a `waiting` session within its join window; queues
    /// the hello to the tool. Returns the updated record.
    fn join(
        &self,
        id: &SessionId,
        phone_token_hash: String,
        hello: Vec<u8>,
        now: Timestamp,
    ) -> impl Future<Output = Result<SessionRecord, StoreError>> + Send;

    /// Finish or cancel (from `waiting` or `joined`); the session is purged
    /// `closed_grace_ms` later. Returns the updated record.
    fn close(
        &self,
        id: &SessionId,
        state: SessionState,
        by: Role,
        code: Option<String>,
        now: Timestamp,
        limits: StoreLimits,
    ) -> impl Future<Output = Result<SessionRecord, StoreError>> + Send;

    /// Queue a record for `to`; returns its index. Only in a `joined` session.
    fn push(
        &self,
        id: &SessionId,
        to: Role,
        data: Vec<u8>,
        now: Timestamp,
        limits: StoreLimits,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Drop `to`'s messages up to `after` (acknowledged) and return the rest.
    fn fetch(
        &self,
        id: &SessionId,
        to: Role,
        after: u64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<(u64, Vec<u8>)>, StoreError>> + Send;

    /// Note that a phone was turned away at the join with `code` (a stale, expired or
    /// forged QR frame, or a second phone) and wake the session's waiters, so the tool
    /// can tell its user. Does nothing for an unknown session. The default does
    /// nothing at all (a store that cannot record it).
    fn note_rejected_join(
        &self,
        id: &SessionId,
        code: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (id, code, now);
        async { Ok(()) }
    }

    /// Purge what is past its time (the in-memory store; Redis expires keys itself).
    fn sweep(&self, now: Timestamp) -> impl Future<Output = ()> + Send;

    /// Wake-ups for waiters on this node (fed by this node's writes, and for Redis by
    /// every node's writes through pub/sub).
    fn hub(&self) -> &WakeHub;

    /// How many sessions this store holds (`None` when it cannot tell cheaply).
    fn session_count(&self) -> Option<usize>;
}

/// Per-session wake-ups for long polls and WebSockets on one node.
#[derive(Debug, Default)]
pub struct WakeHub {
    map: Mutex<HashMap<SessionId, Weak<Notify>>>,
}

impl WakeHub {
    /// The notifier of session `id` (shared by every waiter on it).
    pub fn subscribe(&self, id: &SessionId) -> Arc<Notify> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get(id).and_then(Weak::upgrade) {
            return n;
        }
        if map.len() > 1024 && map.len().is_power_of_two() {
            map.retain(|_, w| w.strong_count() > 0);
        }
        let n = Arc::new(Notify::new());
        map.insert(*id, Arc::downgrade(&n));
        n
    }

    /// Wake every waiter on session `id`.
    pub fn wake(&self, id: &SessionId) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(id).and_then(Weak::upgrade) {
            Some(n) => n.notify_waiters(),
            None => {
                map.remove(id);
            }
        }
    }

    /// How many sessions have live waiters (for tests and metrics).
    pub fn len(&self) -> usize {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.values().filter(|w| w.strong_count() > 0).count()
    }

    /// Whether no session has waiters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Either store, chosen at run time (`--redis URL` or not).
#[derive(Clone, Debug)]
pub enum AnyStore {
    /// In this process.
    Memory(MemoryStore),
    /// In Redis.
    Redis(RedisStore),
}

impl Store for AnyStore {
    async fn create(&self, record: SessionRecord, now: Timestamp) -> Result<(), StoreError> {
        match self {
            AnyStore::Memory(s) => s.create(record, now).await,
            AnyStore::Redis(s) => s.create(record, now).await,
        }
    }

    async fn get(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        match self {
            AnyStore::Memory(s) => s.get(id, now).await,
            AnyStore::Redis(s) => s.get(id, now).await,
        }
    }

    async fn join(
        &self,
        id: &SessionId,
        phone_token_hash: String,
        hello: Vec<u8>,
        now: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        match self {
            AnyStore::Memory(s) => s.join(id, phone_token_hash, hello, now).await,
            AnyStore::Redis(s) => s.join(id, phone_token_hash, hello, now).await,
        }
    }

    async fn close(
        &self,
        id: &SessionId,
        state: SessionState,
        by: Role,
        code: Option<String>,
        now: Timestamp,
        limits: StoreLimits,
    ) -> Result<SessionRecord, StoreError> {
        match self {
            AnyStore::Memory(s) => s.close(id, state, by, code, now, limits).await,
            AnyStore::Redis(s) => s.close(id, state, by, code, now, limits).await,
        }
    }

    async fn push(
        &self,
        id: &SessionId,
        to: Role,
        data: Vec<u8>,
        now: Timestamp,
        limits: StoreLimits,
    ) -> Result<u64, StoreError> {
        match self {
            AnyStore::Memory(s) => s.push(id, to, data, now, limits).await,
            AnyStore::Redis(s) => s.push(id, to, data, now, limits).await,
        }
    }

    async fn fetch(
        &self,
        id: &SessionId,
        to: Role,
        after: u64,
        now: Timestamp,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        match self {
            AnyStore::Memory(s) => s.fetch(id, to, after, now).await,
            AnyStore::Redis(s) => s.fetch(id, to, after, now).await,
        }
    }

    async fn note_rejected_join(
        &self,
        id: &SessionId,
        code: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Memory(s) => s.note_rejected_join(id, code, now).await,
            AnyStore::Redis(s) => s.note_rejected_join(id, code, now).await,
        }
    }

    async fn sweep(&self, now: Timestamp) {
        match self {
            AnyStore::Memory(s) => s.sweep(now).await,
            AnyStore::Redis(s) => s.sweep(now).await,
        }
    }

    fn hub(&self) -> &WakeHub {
        match self {
            AnyStore::Memory(s) => s.hub(),
            AnyStore::Redis(s) => s.hub(),
        }
    }

    fn session_count(&self) -> Option<usize> {
        match self {
            AnyStore::Memory(s) => s.session_count(),
            AnyStore::Redis(s) => s.session_count(),
        }
    }
}
