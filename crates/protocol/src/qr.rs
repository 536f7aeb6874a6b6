//! The rotating QR payload and the check of its rotating code.
//!
//! Text form: `BK1:` followed by the RFC 4648 base32 encoding (upper case, no padding)
//! of the binary payload below. Every character is in the QR alphanumeric set, so a
//! QR encoder uses alphanumeric mode (5.5 bits per character). With an `IP:port` relay
//! the text is 144 characters: a version 6 symbol (41 × 41 modules) at error
//! correction level M.
//!
//! ```text
//! offset len  field
//!      0   1  flags: bits 0-1 suite (0 GM, 1 NIST), bits 2-3 relay kind
//!                    (0 IPv4+port, 1 IPv6+port, 2 URL text), bits 4-7 zero
//!      1   1  purpose code (1 login … 8 confirm-opening)
//!      2  16  session id
//!     18  33  the tool's ephemeral public key (compressed SEC1)
//!     51  16  the QR secret s (never sent to the relay)
//!     67   4  issue time, Unix seconds, big-endian
//!     71   2  time step t since issue, big-endian
//!     73   8  rotating code: HMAC(k_qr, "bidkit/v1/qr" ‖ session id ‖ t)[..8]
//!     81   …  relay address: 6 or 18 bytes, or a length byte and URL text
//! ```
//!
//! The rotating code is keyed with `k_qr`, which is *not* in the QR code: the tool
//! gives it to the relay when it opens the session. The relay and the tool check that
//! the frame a phone joins with is current; whoever holds a screenshot holds one old
//! frame and cannot make a newer one.

use data_encoding::BASE32_NOPAD;
use zeroize::Zeroizing;

use bidkit_crypto::kex::{self, EphemeralPublicKey};
use bidkit_crypto::{HashAlgorithm, Suite};
use serde::{Deserialize, Serialize};

use crate::{
    PROTOCOL_VERSION, ProtocolError, Purpose, QrPolicy, RelayAddress, SessionId, Timestamp,
};

/// The text every version-1 QR payload starts with.
pub const QR_PREFIX: &str = "BK1:";
/// Length of the QR secret `s`.
pub const QR_SECRET_LEN: usize = 16;
/// Length of the truncated rotating code.
pub const QR_MAC_LEN: usize = 8;
/// Length of the rotation key `k_qr`.
pub const QR_KEY_LEN: usize = 32;
/// Length of the fixed part of the binary payload (before the relay address).
const FIXED_LEN: usize = 81;
/// Longest QR text accepted by the decoder (before anything is allocated for it).
pub const MAX_QR_TEXT_LEN: usize = 512;

/// Suite code in the QR flags and the hello frame.
pub(crate) fn suite_code(suite: Suite) -> u8 {
    match suite {
        Suite::Gm => 0,
        Suite::Nist => 1,
    }
}

/// The suite with code `c`.
pub(crate) fn suite_from_code(c: u8) -> Result<Suite, ProtocolError> {
    match c {
        0 => Ok(Suite::Gm),
        1 => Ok(Suite::Nist),
        other => Err(ProtocolError::UnknownSuite(other)),
    }
}

/// One frame of a rotating QR code, as shown by the tool and scanned by the phone.
#[derive(Clone, PartialEq, Eq)]
pub struct QrPayload {
    /// Algorithm suite of the session.
    pub suite: Suite,
    /// What the session is for.
    pub purpose: Purpose,
    /// Where the relay is.
    pub relay: RelayAddress,
    /// The session's routing id.
    pub session_id: SessionId,
    /// The tool's ephemeral public key.
    pub tool_key: EphemeralPublicKey,
    /// The QR secret `s`: a pre-shared key between the screen and the camera.
    pub secret: Zeroizing<[u8; QR_SECRET_LEN]>,
    /// When the session was opened (Unix seconds).
    pub issued_at: u32,
    /// The time step of this frame.
    pub step: u16,
    /// The rotating code of this frame.
    pub mac: [u8; QR_MAC_LEN],
}

impl std::fmt::Debug for QrPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrPayload")
            .field("suite", &self.suite)
            .field("purpose", &self.purpose)
            .field("relay", &self.relay)
            .field("session_id", &self.session_id)
            .field("issued_at", &self.issued_at)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl QrPayload {
    /// The binary payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut relay = Vec::with_capacity(24);
        let kind = self.relay.encode(&mut relay);
        let mut out = Vec::with_capacity(FIXED_LEN + relay.len());
        out.push(suite_code(self.suite) | (kind << 2));
        out.push(self.purpose.code());
        out.extend_from_slice(&self.session_id.0);
        out.extend_from_slice(self.tool_key.as_bytes());
        out.extend_from_slice(self.secret.as_ref());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&self.step.to_be_bytes());
        out.extend_from_slice(&self.mac);
        out.extend_from_slice(&relay);
        out
    }

    /// The text to put in the QR code: `BK1:` and base32.
    pub fn to_text(&self) -> String {
        format!("{QR_PREFIX}{}", BASE32_NOPAD.encode(&self.to_bytes()))
    }

    /// Parse a scanned text (case-insensitive, surrounding whitespace ignored).
    ///
    /// Checks the structure only; freshness needs a clock ([`QrPayload::check_fresh`])
    /// and the rotating code needs the relay's or the tool's key ([`QrVerifier`]).
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let text = text.trim();
        if text.len() > MAX_QR_TEXT_LEN {
            return Err(ProtocolError::qr("too long for a Bidkit QR code"));
        }
        let upper = text.to_ascii_uppercase();
        let Some(rest) = upper.strip_prefix("BK") else {
            return Err(ProtocolError::qr("not a Bidkit QR code (no BK prefix)"));
        };
        let Some((version, body)) = rest.split_once(':') else {
            return Err(ProtocolError::qr("not a Bidkit QR code (no version)"));
        };
        let version: u8 = version
            .parse()
            .map_err(|_| ProtocolError::qr("not a Bidkit QR code (bad version)"))?;
        if version != PROTOCOL_VERSION {
            return Err(ProtocolError::VersionMismatch {
                got: version,
                supported: PROTOCOL_VERSION,
            });
        }
        let bytes = BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|e| ProtocolError::qr(format!("bad base32: {e}")))?;
        Self::from_bytes(&bytes)
    }

    /// Parse the binary payload.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() < FIXED_LEN {
            return Err(ProtocolError::qr(format!(
                "payload has {} bytes, at least {FIXED_LEN} needed",
                bytes.len()
            )));
        }
        let flags = bytes[0];
        if flags & 0xF0 != 0 {
            return Err(ProtocolError::qr("reserved flag bits are set"));
        }
        let suite = suite_from_code(flags & 0x03)?;
        let kind = (flags >> 2) & 0x03;
        let purpose = Purpose::from_code(bytes[1])?;
        let mut sid = [0u8; 16];
        sid.copy_from_slice(&bytes[2..18]);
        let tool_key = EphemeralPublicKey::from_sec1_bytes(suite, &bytes[18..51])
            .map_err(|_| ProtocolError::qr("the tool key is not a point on the curve"))?;
        let mut secret = Zeroizing::new([0u8; QR_SECRET_LEN]);
        secret.copy_from_slice(&bytes[51..67]);
        let issued_at = u32::from_be_bytes([bytes[67], bytes[68], bytes[69], bytes[70]]);
        let step = u16::from_be_bytes([bytes[71], bytes[72]]);
        let mut mac = [0u8; QR_MAC_LEN];
        mac.copy_from_slice(&bytes[73..81]);
        let (relay, used) = RelayAddress::decode(kind, &bytes[FIXED_LEN..])?;
        if FIXED_LEN + used != bytes.len() {
            return Err(ProtocolError::qr("trailing bytes after the relay address"));
        }
        Ok(QrPayload {
            suite,
            purpose,
            relay,
            session_id: SessionId(sid),
            tool_key,
            secret,
            issued_at,
            step,
            mac,
        })
    }

    /// When this frame was shown, by the tool's clock.
    pub fn frame_time(&self, policy: &QrPolicy) -> Timestamp {
        Timestamp::from_secs(
            u64::from(self.issued_at) + u64::from(self.step) * u64::from(policy.step_secs),
        )
    }

    /// The phone's own pre-check, before it contacts the relay: the code must not be
    /// from the future nor older than the join window, allowing
    /// `phone_clock_skew_secs` of clock difference. The precise check of the step is
    /// done by the relay and the tool, whose clocks issued the code.
    pub fn check_fresh(&self, now: Timestamp, policy: &QrPolicy) -> Result<(), ProtocolError> {
        let skew = u64::from(policy.phone_clock_skew_secs);
        let issued = u64::from(self.issued_at);
        let now_s = now.as_secs();
        if u64::from(self.step) * u64::from(policy.step_secs) > u64::from(policy.join_window_secs) {
            return Err(ProtocolError::QrExpired {
                reason: "the frame is past the join window".into(),
            });
        }
        if issued > now_s + skew {
            return Err(ProtocolError::QrExpired {
                reason: "the code was issued in the future (check the clock)".into(),
            });
        }
        if now_s > issued + u64::from(policy.join_window_secs) + skew {
            return Err(ProtocolError::QrExpired {
                reason: format!(
                    "the code was issued {} s ago; the join window is {} s",
                    now_s - issued,
                    policy.join_window_secs
                ),
            });
        }
        Ok(())
    }
}

/// What the relay (and the tool) need to check a QR frame's rotating code.
///
/// It holds `k_qr`, which is not in the QR code and reveals nothing about the session
/// keys; the relay stores it with the session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrVerifier {
    /// The suite (decides HMAC-SM3 or HMAC-SHA-256).
    pub suite: Suite,
    /// The session this verifier belongs to.
    pub session_id: SessionId,
    /// The rotation key `k_qr`.
    #[serde(with = "crate::b64::array32")]
    pub key: [u8; QR_KEY_LEN],
    /// When the session was opened (Unix seconds).
    pub issued_at: u32,
    /// The timing rules.
    pub policy: QrPolicy,
}

impl std::fmt::Debug for QrVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrVerifier")
            .field("suite", &self.suite)
            .field("session_id", &self.session_id)
            .field("issued_at", &self.issued_at)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl QrVerifier {
    fn hash(&self) -> HashAlgorithm {
        self.suite.hash()
    }

    /// The rotating code of step `step`.
    pub fn mac(&self, step: u16) -> Result<[u8; QR_MAC_LEN], ProtocolError> {
        let full = kex::hmac(
            self.hash(),
            &self.key,
            &[b"bidkit/v1/qr", &self.session_id.0, &step.to_be_bytes()],
        )?;
        let mut out = [0u8; QR_MAC_LEN];
        out.copy_from_slice(&full[..QR_MAC_LEN]);
        Ok(out)
    }

    /// The step that is current at `now` (`None` once the join window is over).
    pub fn current_step(&self, now: Timestamp) -> Option<u16> {
        let issued = u64::from(self.issued_at);
        let now_s = now.as_secs();
        let elapsed = now_s.saturating_sub(issued);
        if elapsed > u64::from(self.policy.join_window_secs) {
            return None;
        }
        u16::try_from(elapsed / u64::from(self.policy.step_secs.max(1))).ok()
    }

    /// When the join window closes.
    pub fn join_deadline(&self) -> Timestamp {
        Timestamp::from_secs(u64::from(self.issued_at) + u64::from(self.policy.join_window_secs))
    }

    /// Check a scanned frame's `(session, step, mac)` at `now`.
    ///
    /// Order: the session, the code itself (so a forged step is reported as forged),
    /// the join window, then the frame's age. One step of clock difference into the
    /// future is tolerated (relay nodes and the tool may disagree slightly).
    pub fn verify(
        &self,
        session_id: &SessionId,
        step: u16,
        mac: &[u8; QR_MAC_LEN],
        now: Timestamp,
    ) -> Result<(), ProtocolError> {
        if *session_id != self.session_id {
            return Err(ProtocolError::WrongSession);
        }
        if !kex::hmac_verify(
            self.hash(),
            &self.key,
            &[b"bidkit/v1/qr", &self.session_id.0, &step.to_be_bytes()],
            mac,
        ) {
            return Err(ProtocolError::QrBadMac);
        }
        let Some(current) = self.current_step(now) else {
            return Err(ProtocolError::QrExpired {
                reason: format!(
                    "the join window of {} s is over",
                    self.policy.join_window_secs
                ),
            });
        };
        if step > current.saturating_add(1) {
            return Err(ProtocolError::QrExpired {
                reason: "the frame is from the future (check the clock)".into(),
            });
        }
        let age = u32::from(current.saturating_sub(step));
        if age > self.policy.max_age_steps {
            let step_secs = u64::from(self.policy.step_secs);
            return Err(ProtocolError::QrStale {
                age_secs: u64::from(age) * step_secs,
                max_age_secs: u64::from(self.policy.max_age_steps) * step_secs,
            });
        }
        Ok(())
    }
}
