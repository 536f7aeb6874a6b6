//! Continuous signing mode (连续签章): after one PIN (the app offers the fingerprint
//! there), the phone signs without asking again for a bounded time **and** a bounded
//! number of requests.
//!
//! A [`ContinuousSession`] lives in memory only — it holds the certificate's data key
//! and is wiped when it ends: when its time is up, when its count is used up, when the
//! certificate locks, when [`ContinuousSession::end`] is called, or when the process
//! ends (a restart always needs the PIN again). Limits are inclusive: a session of
//! `max_duration` D and `max_uses` N opened at T serves requests at times ≤ T + D, and
//! N of them; the request at T + D + 1 s, or the (N + 1)-th, is refused.

use std::fmt;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

use crate::phone::vault::DataKey;
use crate::{KeystoreError, Result};

/// Limits of continuous mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContinuousPolicy {
    /// How long after the PIN the session serves requests.
    pub max_duration: Duration,
    /// How many requests (a batch counts once) it serves.
    pub max_uses: u32,
}

impl Default for ContinuousPolicy {
    /// Ten minutes, twenty requests.
    fn default() -> Self {
        ContinuousPolicy {
            max_duration: Duration::minutes(10),
            max_uses: 20,
        }
    }
}

/// An open continuous signing session for one certificate on one phone.
pub struct ContinuousSession {
    device_id: String,
    pair_id: i64,
    serial: String,
    started_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    max_uses: u32,
    state: Mutex<SessionState>,
}

struct SessionState {
    used: u32,
    data_key: Option<DataKey>,
    ended: Option<String>,
}

impl fmt::Debug for ContinuousSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContinuousSession")
            .field("serial", &self.serial)
            .field("started_at", &self.started_at)
            .field("expires_at", &self.expires_at)
            .field("max_uses", &self.max_uses)
            .field("uses_left", &self.uses_left())
            .finish_non_exhaustive()
    }
}

impl ContinuousSession {
    pub(crate) fn new(
        device_id: &str,
        pair_id: i64,
        serial: &str,
        data_key: DataKey,
        now: OffsetDateTime,
        policy: ContinuousPolicy,
    ) -> Self {
        ContinuousSession {
            device_id: device_id.to_owned(),
            pair_id,
            serial: serial.to_owned(),
            started_at: now,
            expires_at: now + policy.max_duration,
            max_uses: policy.max_uses,
            state: Mutex::new(SessionState {
                used: 0,
                data_key: Some(data_key),
                ended: None,
            }),
        }
    }

    /// The signing serial of the certificate the session is for.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// When the session was opened.
    pub fn started_at(&self) -> OffsetDateTime {
        self.started_at
    }

    /// The last instant at which it serves requests.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Requests it will still serve (0 once ended).
    pub fn uses_left(&self) -> u32 {
        let st = self.lock();
        if st.ended.is_some() {
            0
        } else {
            self.max_uses.saturating_sub(st.used)
        }
    }

    /// Why it ended, if it has.
    pub fn ended(&self) -> Option<String> {
        self.lock().ended.clone()
    }

    /// End the session now (the user taps "exit"); the data key is wiped.
    pub fn end(&self) {
        self.finish(&mut self.lock(), "ended by the user");
    }

    pub(crate) fn pair_id(&self) -> i64 {
        self.pair_id
    }

    pub(crate) fn device_id(&self) -> &str {
        &self.device_id
    }

    /// End because the certificate locked.
    pub(crate) fn end_locked(&self) {
        self.finish(&mut self.lock(), "the certificate is locked");
    }

    /// Use the session once at `now`: the data key, or why not.
    pub(crate) fn take(&self, now: OffsetDateTime) -> Result<DataKey> {
        let mut st = self.lock();
        if st.ended.is_none() && now > self.expires_at {
            self.finish(&mut st, &format!("its time ran out at {}", self.expires_at));
        }
        if st.ended.is_none() && st.used >= self.max_uses {
            self.finish(&mut st, &format!("its {} uses are used up", self.max_uses));
        }
        if let Some(reason) = &st.ended {
            return Err(KeystoreError::SessionEnded {
                serial: self.serial.clone(),
                reason: reason.clone(),
            });
        }
        let dk = st
            .data_key
            .clone()
            .ok_or_else(|| KeystoreError::SessionEnded {
                serial: self.serial.clone(),
                reason: "it holds no key".into(),
            })?;
        st.used += 1;
        Ok(dk)
    }

    fn finish(&self, st: &mut SessionState, reason: &str) {
        if st.ended.is_none() {
            st.ended = Some(reason.to_owned());
        }
        st.data_key = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
