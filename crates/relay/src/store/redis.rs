use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::Script;
use redis::aio::MultiplexedConnection;

use bidkit_protocol::{Role, SessionId, Timestamp};

use super::{SessionRecord, Store, StoreError, StoreLimits, TOMBSTONE_MS, WakeHub};
use crate::api::SessionState;

// Key layout under the prefix (default `bidkit:relay:`), every key with a TTL:
//   s:{sid}          hash: rec (JSON of the record), state, phone, by, code, jd, ex,
//                    rj (joins turned away), rjc (the last one's code)
//   q:{sid}:{t|p}    list of "index:record" towards the tool / the phone
//   n:{sid}:{t|p}    the queue's index counter
//   wake             pub/sub channel; the payload is the session id in hex

const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'state', 'waiting', 'jd', ARGV[2], 'ex', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 'ok'
";

const STATE_CHECK: &str = r"
local function state_at(key, now)
  local st = redis.call('HGET', key, 'state')
  local jd = tonumber(redis.call('HGET', key, 'jd'))
  local ex = tonumber(redis.call('HGET', key, 'ex'))
  if st == 'waiting' and (now > jd or now > ex) then return 'expired' end
  if st == 'joined' and now > ex then return 'expired' end
  return st
end
";

const JOIN: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local st = state_at(KEYS[1], tonumber(ARGV[2]))
if st ~= 'waiting' then return st end
redis.call('HSET', KEYS[1], 'state', 'joined', 'phone', ARGV[1])
local i = redis.call('INCR', KEYS[3])
redis.call('RPUSH', KEYS[2], i .. ':' .. ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return 'ok'
";

const CLOSE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local st = state_at(KEYS[1], tonumber(ARGV[4]))
if st ~= 'waiting' and st ~= 'joined' then return st end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if ARGV[1] == 'cancelled' then redis.call('HSET', KEYS[1], 'by', ARGV[2], 'code', ARGV[3]) end
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
return 'ok'
";

const PUSH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local st = state_at(KEYS[1], tonumber(ARGV[2]))
if st ~= 'joined' then return st end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3]) then return 'full' end
local i = redis.call('INCR', KEYS[3])
redis.call('RPUSH', KEYS[2], i .. ':' .. ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return 'ok:' .. i
";

const REJECTED: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'rjc', ARGV[1])
local n = tonumber(redis.call('HGET', KEYS[1], 'rj') or '0')
if n < 4294967295 then n = redis.call('HINCRBY', KEYS[1], 'rj', 1) end
return n
";

const FETCH: &str = r"
local after = tonumber(ARGV[1])
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local i = tonumber(string.match(head, '^(%d+):'))
  if i and i <= after then redis.call('LPOP', KEYS[1]) else break end
end
return redis.call('LRANGE', KEYS[1], 0, -1)
";

struct Scripts {
    create: Script,
    join: Script,
    close: Script,
    push: Script,
    fetch: Script,
    rejected: Script,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sessions in Redis, so that any number of relay nodes serve the same sessions and a
/// node restart loses nothing. Atomic steps are Lua scripts; every key carries a TTL;
/// wake-ups travel over pub/sub (and waiters also poll, so a lost notification only
/// costs one poll interval).
#[derive(Clone)]
pub struct RedisStore {
    conn: MultiplexedConnection,
    prefix: Arc<str>,
    scripts: Arc<Scripts>,
    hub: Arc<WakeHub>,
    _listener: Arc<AbortOnDrop>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl RedisStore {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "bidkit:relay:";

    /// Connect to `url` (`redis://host:port/db`) with the default prefix.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_prefix(url, Self::DEFAULT_PREFIX).await
    }

    /// Connect with a key prefix (to share one Redis between deployments).
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(backend)?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(backend)?;
        let hub = Arc::new(WakeHub::default());
        let channel = format!("{prefix}wake");
        // Subscribe before returning, so no wake-up after `connect` is missed.
        let mut pubsub = client.get_async_pubsub().await.map_err(backend)?;
        pubsub.subscribe(&channel).await.map_err(backend)?;
        let listener = tokio::spawn(listen(client, channel, Arc::downgrade(&hub), pubsub));
        let with_states = |body: &str| Script::new(&format!("{STATE_CHECK}\n{body}"));
        Ok(RedisStore {
            conn,
            prefix: prefix.into(),
            scripts: Arc::new(Scripts {
                create: Script::new(CREATE),
                join: with_states(JOIN),
                close: with_states(CLOSE),
                push: with_states(PUSH),
                fetch: Script::new(FETCH),
                rejected: Script::new(REJECTED),
            }),
            hub,
            _listener: Arc::new(AbortOnDrop(listener)),
        })
    }

    fn session_key(&self, id: &SessionId) -> String {
        format!("{}s:{}", self.prefix, id.to_hex())
    }

    fn queue_key(&self, id: &SessionId, to: Role) -> String {
        format!("{}q:{}:{}", self.prefix, id.to_hex(), side(to))
    }

    fn counter_key(&self, id: &SessionId, to: Role) -> String {
        format!("{}n:{}:{}", self.prefix, id.to_hex(), side(to))
    }

    async fn publish(&self, id: &SessionId) {
        self.hub.wake(id);
        let mut conn = self.conn.clone();
        let channel = format!("{}wake", self.prefix);
        let sent: Result<i64, _> = conn.publish(channel, id.to_hex()).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "relay: could not publish a wake-up");
        }
    }
}

fn side(to: Role) -> &'static str {
    match to {
        Role::Tool => "t",
        Role::Phone => "p",
    }
}

fn state_from(s: &str) -> Result<SessionState, StoreError> {
    match s {
        "waiting" => Ok(SessionState::Waiting),
        "joined" => Ok(SessionState::Joined),
        "done" => Ok(SessionState::Done),
        "cancelled" => Ok(SessionState::Cancelled),
        "expired" => Ok(SessionState::Expired),
        "missing" => Err(StoreError::NotFound),
        "exists" => Err(StoreError::Exists),
        "full" => Err(StoreError::QueueFull),
        other => Err(StoreError::Backend(format!(
            "unexpected script answer {other:?}"
        ))),
    }
}

/// Turn a script's non-`ok` answer into the matching error.
fn refusal(answer: &str) -> StoreError {
    match state_from(answer) {
        Ok(state) => StoreError::WrongState(state),
        Err(e) => e,
    }
}

async fn listen(
    client: redis::Client,
    channel: String,
    hub: Weak<WakeHub>,
    first: redis::aio::PubSub,
) {
    let mut pubsub = Some(first);
    loop {
        if let Some(mut ps) = pubsub.take() {
            let mut stream = ps.on_message();
            while let Some(msg) = stream.next().await {
                let Some(hub) = hub.upgrade() else { return };
                if let Some(id) = std::str::from_utf8(msg.get_payload_bytes())
                    .ok()
                    .and_then(|s| SessionId::from_hex(s).ok())
                {
                    hub.wake(&id);
                }
            }
        }
        if hub.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(mut ps) = client.get_async_pubsub().await
            && ps.subscribe(&channel).await.is_ok()
        {
            pubsub = Some(ps);
        }
    }
}

impl Store for RedisStore {
    async fn create(&self, record: SessionRecord, now: Timestamp) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(&record).map_err(|e| StoreError::Backend(e.to_string()))?;
        let purge_at = record.expires_at.as_millis().saturating_add(TOMBSTONE_MS);
        let ttl = purge_at.saturating_sub(now.as_millis()).max(1);
        let mut conn = self.conn.clone();
        let answer: String = self
            .scripts
            .create
            .key(self.session_key(&record.session_id()))
            .arg(json)
            .arg(record.join_deadline.as_millis())
            .arg(record.expires_at.as_millis())
            .arg(ttl)
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        if answer == "ok" {
            Ok(())
        } else {
            Err(refusal(&answer))
        }
    }

    async fn get(
        &self,
        id: &SessionId,
        _now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, Vec<u8>> =
            conn.hgetall(self.session_key(id)).await.map_err(backend)?;
        let Some(rec) = fields.get("rec") else {
            return Ok(None);
        };
        let text = |k: &str| {
            fields
                .get(k)
                .and_then(|v| String::from_utf8(v.clone()).ok())
                .filter(|s| !s.is_empty())
        };
        let mut record: SessionRecord =
            serde_json::from_slice(rec).map_err(|e| StoreError::Backend(e.to_string()))?;
        if let Some(s) = text("state") {
            record.state = state_from(&s)?;
        }
        record.phone_token_hash = text("phone");
        record.cancelled_by = match text("by").as_deref() {
            Some("tool") => Some(Role::Tool),
            Some("phone") => Some(Role::Phone),
            _ => None,
        };
        record.cancel_code = text("code");
        record.rejected_joins = text("rj").and_then(|n| n.parse().ok()).unwrap_or(0);
        record.last_rejected_join = text("rjc");
        Ok(Some(record))
    }

    async fn join(
        &self,
        id: &SessionId,
        phone_token_hash: String,
        hello: Vec<u8>,
        now: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let mut conn = self.conn.clone();
        let answer: String = self
            .scripts
            .join
            .key(self.session_key(id))
            .key(self.queue_key(id, Role::Tool))
            .key(self.counter_key(id, Role::Tool))
            .arg(phone_token_hash)
            .arg(now.as_millis())
            .arg(hello)
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        match answer.as_str() {
            "ok" => {}
            "joined" => return Err(StoreError::AlreadyJoined),
            other => return Err(refusal(other)),
        }
        self.publish(id).await;
        self.get(id, now).await?.ok_or(StoreError::NotFound)
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
        let mut conn = self.conn.clone();
        let answer: String = self
            .scripts
            .close
            .key(self.session_key(id))
            .key(self.queue_key(id, Role::Tool))
            .key(self.queue_key(id, Role::Phone))
            .key(self.counter_key(id, Role::Tool))
            .key(self.counter_key(id, Role::Phone))
            .arg(state.as_str())
            .arg(by.as_str())
            .arg(code.unwrap_or_default())
            .arg(now.as_millis())
            .arg(limits.closed_grace_ms.max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        if answer != "ok" {
            return Err(refusal(&answer));
        }
        self.publish(id).await;
        self.get(id, now).await?.ok_or(StoreError::NotFound)
    }

    async fn push(
        &self,
        id: &SessionId,
        to: Role,
        data: Vec<u8>,
        now: Timestamp,
        limits: StoreLimits,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let answer: String = self
            .scripts
            .push
            .key(self.session_key(id))
            .key(self.queue_key(id, to))
            .key(self.counter_key(id, to))
            .arg(data)
            .arg(now.as_millis())
            .arg(limits.max_queued)
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        let Some(index) = answer.strip_prefix("ok:") else {
            return Err(refusal(&answer));
        };
        let index = index
            .parse()
            .map_err(|_| StoreError::Backend("bad index from Redis".into()))?;
        self.publish(id).await;
        Ok(index)
    }

    async fn fetch(
        &self,
        id: &SessionId,
        to: Role,
        after: u64,
        _now: Timestamp,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut conn = self.conn.clone();
        let entries: Vec<Vec<u8>> = self
            .scripts
            .fetch
            .key(self.queue_key(id, to))
            .arg(after)
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        let mut out = Vec::with_capacity(entries.len());
        for mut e in entries {
            let Some(colon) = e.iter().position(|b| *b == b':') else {
                return Err(StoreError::Backend("bad queue entry".into()));
            };
            let index = std::str::from_utf8(&e[..colon])
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| StoreError::Backend("bad queue index".into()))?;
            let data = e.split_off(colon + 1);
            out.push((index, data));
        }
        Ok(out)
    }

    async fn note_rejected_join(
        &self,
        id: &SessionId,
        code: &str,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let count: i64 = self
            .scripts
            .rejected
            .key(self.session_key(id))
            .arg(code)
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        if count > 0 {
            self.publish(id).await;
        }
        Ok(())
    }

    async fn sweep(&self, _now: Timestamp) {}

    fn hub(&self) -> &WakeHub {
        &self.hub
    }

    fn session_count(&self) -> Option<usize> {
        None
    }
}
