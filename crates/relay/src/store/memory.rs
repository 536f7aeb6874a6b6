use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bidkit_protocol::{Role, SessionId, Timestamp};

use super::{SessionRecord, Store, StoreError, StoreLimits, TOMBSTONE_MS, WakeHub};
use crate::api::SessionState;

struct Entry {
    record: SessionRecord,
    /// Queued bytes (both queues).
    bytes: usize,
    /// Index 0: towards the tool; 1: towards the phone.
    queues: [VecDeque<(u64, Vec<u8>)>; 2],
    next: [u64; 2],
    purge_at: Timestamp,
}

fn q(to: Role) -> usize {
    match to {
        Role::Tool => 0,
        Role::Phone => 1,
    }
}

#[derive(Default)]
struct Inner {
    map: HashMap<SessionId, Entry>,
    /// Queued bytes over all sessions.
    bytes: usize,
}

impl Inner {
    fn remove_expired(&mut self, now: Timestamp) {
        let mut freed = 0;
        self.map.retain(|_, e| {
            let keep = e.purge_at >= now;
            if !keep {
                freed += e.bytes;
            }
            keep
        });
        self.bytes -= freed.min(self.bytes);
    }

    fn live(&mut self, id: &SessionId, now: Timestamp) -> Option<&mut Entry> {
        if self.map.get(id).is_some_and(|e| e.purge_at < now)
            && let Some(e) = self.map.remove(id)
        {
            self.bytes -= e.bytes.min(self.bytes);
        }
        self.map.get_mut(id)
    }
}

/// Sessions in this process's memory, for the embedded relay and single-node
/// deployments. Memory is bounded three ways: a session limit, the per-session queue
/// limits, and a cap on the bytes queued over all sessions.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    hub: Arc<WakeHub>,
    max_sessions: usize,
    max_total_bytes: usize,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_sessions", &self.max_sessions)
            .field("max_total_bytes", &self.max_total_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_SESSIONS)
    }
}

impl MemoryStore {
    /// The default session limit.
    pub const DEFAULT_MAX_SESSIONS: usize = 50_000;
    /// The default cap on queued bytes over all sessions (256 MiB).
    pub const DEFAULT_MAX_TOTAL_BYTES: usize = 256 * 1024 * 1024;

    /// An empty store holding at most `max_sessions` sessions (expired ones included
    /// until they are purged) and the default byte cap.
    pub fn new(max_sessions: usize) -> Self {
        Self::with_limits(max_sessions, Self::DEFAULT_MAX_TOTAL_BYTES)
    }

    /// An empty store with both limits given.
    pub fn with_limits(max_sessions: usize, max_total_bytes: usize) -> Self {
        MemoryStore {
            inner: Arc::default(),
            hub: Arc::default(),
            max_sessions,
            max_total_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes queued over all sessions.
    pub fn queued_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Every stored byte of every session (records as JSON, queued messages), for
    /// audits and tests that check what the relay keeps.
    pub fn dump(&self) -> Vec<Vec<u8>> {
        let inner = self.lock();
        let mut out = Vec::new();
        for e in inner.map.values() {
            out.push(serde_json::to_vec(&e.record).unwrap_or_default());
            for queue in &e.queues {
                out.extend(queue.iter().map(|(_, d)| d.clone()));
            }
        }
        out
    }
}

impl Store for MemoryStore {
    async fn create(&self, record: SessionRecord, now: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let id = record.session_id();
        if inner.live(&id, now).is_some() {
            return Err(StoreError::Exists);
        }
        if inner.map.len() >= self.max_sessions {
            inner.remove_expired(now);
            if inner.map.len() >= self.max_sessions {
                return Err(StoreError::Full);
            }
        }
        let purge_at = Timestamp(record.expires_at.as_millis().saturating_add(TOMBSTONE_MS));
        inner.map.insert(
            id,
            Entry {
                record,
                bytes: 0,
                queues: [VecDeque::new(), VecDeque::new()],
                next: [1, 1],
                purge_at,
            },
        );
        Ok(())
    }

    async fn get(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().live(id, now).map(|e| e.record.clone()))
    }

    async fn join(
        &self,
        id: &SessionId,
        phone_token_hash: String,
        hello: Vec<u8>,
        now: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let record = {
            let mut inner = self.lock();
            let total = inner.bytes;
            let entry = inner.live(id, now).ok_or(StoreError::NotFound)?;
            match entry.record.state_at(now) {
                SessionState::Waiting => {}
                SessionState::Joined => return Err(StoreError::AlreadyJoined),
                other => return Err(StoreError::WrongState(other)),
            }
            entry.record.state = SessionState::Joined;
            entry.record.phone_token_hash = Some(phone_token_hash);
            if total + hello.len() > self.max_total_bytes {
                return Err(StoreError::Full);
            }
            let i = entry.next[0];
            entry.next[0] += 1;
            entry.bytes += hello.len();
            let added = hello.len();
            entry.queues[0].push_back((i, hello));
            let record = entry.record.clone();
            inner.bytes += added;
            record
        };
        self.hub.wake(id);
        Ok(record)
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
        let record = {
            let mut inner = self.lock();
            let entry = inner.live(id, now).ok_or(StoreError::NotFound)?;
            match entry.record.state_at(now) {
                SessionState::Waiting | SessionState::Joined => {}
                other => return Err(StoreError::WrongState(other)),
            }
            entry.record.state = state;
            if state == SessionState::Cancelled {
                entry.record.cancelled_by = Some(by);
                entry.record.cancel_code = code;
            }
            entry.purge_at = Timestamp(now.as_millis().saturating_add(limits.closed_grace_ms));
            entry.record.clone()
        };
        self.hub.wake(id);
        Ok(record)
    }

    async fn push(
        &self,
        id: &SessionId,
        to: Role,
        data: Vec<u8>,
        now: Timestamp,
        limits: StoreLimits,
    ) -> Result<u64, StoreError> {
        let index = {
            let mut inner = self.lock();
            let total = inner.bytes;
            let entry = inner.live(id, now).ok_or(StoreError::NotFound)?;
            match entry.record.state_at(now) {
                SessionState::Joined => {}
                other => return Err(StoreError::WrongState(other)),
            }
            let k = q(to);
            if entry.queues[k].len() >= limits.max_queued
                || total + data.len() > self.max_total_bytes
            {
                return Err(StoreError::QueueFull);
            }
            let i = entry.next[k];
            entry.next[k] += 1;
            let added = data.len();
            entry.bytes += added;
            entry.queues[k].push_back((i, data));
            inner.bytes += added;
            i
        };
        self.hub.wake(id);
        Ok(index)
    }

    async fn fetch(
        &self,
        id: &SessionId,
        to: Role,
        after: u64,
        now: Timestamp,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut inner = self.lock();
        let entry = inner.live(id, now).ok_or(StoreError::NotFound)?;
        let queue = &mut entry.queues[q(to)];
        let mut freed = 0;
        while queue.front().is_some_and(|(i, _)| *i <= after) {
            if let Some((_, d)) = queue.pop_front() {
                freed += d.len();
            }
        }
        let out = queue.iter().cloned().collect();
        entry.bytes -= freed.min(entry.bytes);
        inner.bytes -= freed.min(inner.bytes);
        Ok(out)
    }

    async fn note_rejected_join(
        &self,
        id: &SessionId,
        code: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        {
            let mut inner = self.lock();
            let Some(entry) = inner.live(id, now) else {
                return Ok(());
            };
            entry.record.rejected_joins = entry.record.rejected_joins.saturating_add(1);
            entry.record.last_rejected_join = Some(code.to_owned());
        }
        self.hub.wake(id);
        Ok(())
    }

    async fn sweep(&self, now: Timestamp) {
        self.lock().remove_expired(now);
    }

    fn hub(&self) -> &WakeHub {
        &self.hub
    }

    fn session_count(&self) -> Option<usize> {
        Some(self.lock().map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bidkit_protocol::{QrPolicy, QrVerifier, Suite};

    fn record(n: u8, now: Timestamp) -> SessionRecord {
        SessionRecord {
            verifier: QrVerifier {
                suite: Suite::Gm,
                session_id: SessionId([n; 16]),
                key: [0; 32],
                issued_at: u32::try_from(now.as_secs()).unwrap_or(0),
                policy: QrPolicy::DEFAULT,
            },
            tool_token_hash: "t".into(),
            phone_token_hash: None,
            state: SessionState::Waiting,
            cancelled_by: None,
            cancel_code: None,
            created_at: now,
            join_deadline: now.plus(std::time::Duration::from_secs(60)),
            expires_at: now.plus(std::time::Duration::from_secs(600)),
            rejected_joins: 0,
            last_rejected_join: None,
        }
    }

    #[tokio::test]
    async fn sessions_and_bytes_are_bounded_and_freed() {
        let now = Timestamp::from_secs(1_767_225_600);
        let limits = StoreLimits {
            max_queued: 4,
            closed_grace_ms: 1000,
        };
        let store = MemoryStore::with_limits(2, 100);
        store.create(record(1, now), now).await.unwrap();
        store.create(record(2, now), now).await.unwrap();
        assert!(matches!(
            store.create(record(3, now), now).await,
            Err(StoreError::Full)
        ));
        let id = SessionId([1; 16]);
        store.join(&id, "p".into(), vec![0; 10], now).await.unwrap();
        assert!(matches!(
            store.join(&id, "q".into(), vec![0; 10], now).await,
            Err(StoreError::AlreadyJoined)
        ));
        store
            .push(&id, Role::Phone, vec![1; 80], now, limits)
            .await
            .unwrap();
        assert_eq!(store.queued_bytes(), 90);
        assert!(matches!(
            store.push(&id, Role::Phone, vec![1; 20], now, limits).await,
            Err(StoreError::QueueFull)
        ));
        // Acknowledged messages are dropped and their bytes freed.
        assert_eq!(
            store.fetch(&id, Role::Phone, 1, now).await.unwrap().len(),
            0
        );
        assert_eq!(store.queued_bytes(), 10);
        // Past the purge time the session and its bytes are gone.
        let later = now.plus(std::time::Duration::from_secs(3600));
        store.sweep(later).await;
        assert_eq!(store.queued_bytes(), 0);
        assert_eq!(store.session_count(), Some(0));
        store.create(record(3, later), later).await.unwrap();
    }
}
