//! Small value types shared by the QR payload, the handshake and the relay.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::ProtocolError;

/// A point in wall-clock time, milliseconds since the Unix epoch.
///
/// The protocol never reads the clock itself: every function that depends on time
/// takes a `Timestamp`, so tests move time by hand.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The system clock now (for callers; the protocol itself never calls it).
    pub fn now() -> Self {
        Self::from_system(SystemTime::now())
    }

    /// Convert a [`SystemTime`] (times before 1970 become 0).
    pub fn from_system(t: SystemTime) -> Self {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// From whole seconds since the epoch.
    pub fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded down).
    pub fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// This time plus `d` (saturating).
    pub fn plus(self, d: Duration) -> Self {
        Timestamp(
            self.0
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }

    /// How long after `earlier` this is (zero if it is not later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// What a session is for. Each purpose allows exactly one kind of request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Purpose {
    /// Log in: the phone proves the identity with its signing certificate.
    Login,
    /// Sign or seal: one or more prepared messages, one approval and one PIN.
    Sign,
    /// Fetch the encryption certificate (to encrypt a bid to it).
    GetEncryptionCert,
    /// Decrypt: unwrap content keys on the phone.
    Unwrap,
    /// Revoke a seal (撤章).
    RevokeSeal,
    /// Submit a bid.
    Submit,
    /// Withdraw a bid (撤标).
    Withdraw,
    /// Confirm the bid-opening result (开标记录).
    ConfirmOpening,
}

impl Purpose {
    /// Every purpose, in code order.
    pub const ALL: [Purpose; 8] = [
        Purpose::Login,
        Purpose::Sign,
        Purpose::GetEncryptionCert,
        Purpose::Unwrap,
        Purpose::RevokeSeal,
        Purpose::Submit,
        Purpose::Withdraw,
        Purpose::ConfirmOpening,
    ];

    /// The one-byte code used in QR payloads.
    pub fn code(self) -> u8 {
        match self {
            Purpose::Login => 1,
            Purpose::Sign => 2,
            Purpose::GetEncryptionCert => 3,
            Purpose::Unwrap => 4,
            Purpose::RevokeSeal => 5,
            Purpose::Submit => 6,
            Purpose::Withdraw => 7,
            Purpose::ConfirmOpening => 8,
        }
    }

    /// The purpose with QR code `code`.
    pub fn from_code(code: u8) -> Result<Self, ProtocolError> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.code() == code)
            .ok_or(ProtocolError::UnknownPurpose(code))
    }

    /// Kebab-case name (`login`, `sign`, `get-encryption-cert` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Sign => "sign",
            Purpose::GetEncryptionCert => "get-encryption-cert",
            Purpose::Unwrap => "unwrap",
            Purpose::RevokeSeal => "revoke-seal",
            Purpose::Submit => "submit",
            Purpose::Withdraw => "withdraw",
            Purpose::ConfirmOpening => "confirm-opening",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ProtocolError::qr(format!("unknown purpose name {s:?}")))
    }
}

/// Which end of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The desktop tool: shows the QR code, sends requests.
    Tool,
    /// The phone: scans, joins, answers.
    Phone,
}

impl Role {
    /// The other end.
    pub fn peer(self) -> Role {
        match self {
            Role::Tool => Role::Phone,
            Role::Phone => Role::Tool,
        }
    }

    /// The direction byte of records this role sends (1 tool→phone, 2 phone→tool).
    pub fn direction(self) -> u8 {
        match self {
            Role::Tool => 1,
            Role::Phone => 2,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Tool => "tool",
            Role::Phone => "phone",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A session's routing id on the relay: 16 bytes, printed as 32 lowercase hex digits.
///
/// The tool derives it from its commitment nonce (see [`crate::handshake`]), so it is
/// unpredictable and unique; the relay sees nothing else about the session.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// The id as 32 lowercase hex digits (its form in relay URLs and keys).
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }

    /// Parse 32 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, ProtocolError> {
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return Err(ProtocolError::frame("session id", "expected 32 hex digits"));
        }
        let mut out = [0u8; 16];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hi = hex_val(pair[0]);
            let lo = hex_val(pair[1]);
            match (hi, lo) {
                (Some(h), Some(l)) => out[i] = (h << 4) | l,
                _ => return Err(ProtocolError::frame("session id", "not hex")),
            }
        }
        Ok(SessionId(out))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.to_hex())
    }
}

impl Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SessionId::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Where the relay is: a base URL such as `http://127.0.0.1:43111` or
/// `https://relay.example.org/bidkit`.
///
/// In the QR payload an `http://IP:port` address takes 6 (IPv4) or 18 (IPv6) bytes;
/// anything else is carried as its URL text (at most [`RelayAddress::MAX_URL_LEN`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RelayAddress(String);

impl RelayAddress {
    /// Longest URL text a QR payload carries.
    pub const MAX_URL_LEN: usize = 200;

    /// Check and normalise a base URL (scheme `http` or `https`, no trailing `/`).
    pub fn new(url: &str) -> Result<Self, ProtocolError> {
        let trimmed = url.trim().trim_end_matches('/');
        let lower = trimmed.to_ascii_lowercase();
        let rest = if let Some(r) = lower.strip_prefix("http://") {
            r
        } else if let Some(r) = lower.strip_prefix("https://") {
            r
        } else {
            return Err(ProtocolError::qr(
                "relay address must start with http:// or https://",
            ));
        };
        if rest.is_empty() || trimmed.len() > Self::MAX_URL_LEN {
            return Err(ProtocolError::qr("relay address is empty or too long"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
        {
            return Err(ProtocolError::qr(
                "relay address may not contain spaces, a query or a fragment",
            ));
        }
        // Normalise the scheme and `host:port` to lowercase, keep the path as given.
        let scheme_len = if lower.starts_with("https://") { 8 } else { 7 };
        let (head, path) = match trimmed[scheme_len..].find('/') {
            Some(i) => trimmed.split_at(scheme_len + i),
            None => (trimmed, ""),
        };
        Ok(RelayAddress(format!(
            "{}{}",
            head.to_ascii_lowercase(),
            path
        )))
    }

    /// An `http://` address for a socket (used for the embedded relay).
    pub fn from_socket(addr: SocketAddr) -> Self {
        RelayAddress(format!("http://{addr}"))
    }

    /// The base URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The socket address when this is a plain `http://IP:port` address.
    pub fn socket(&self) -> Option<SocketAddr> {
        self.0
            .strip_prefix("http://")
            .and_then(|rest| rest.parse::<SocketAddr>().ok())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> u8 {
        match self.socket() {
            Some(SocketAddr::V4(a)) => {
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
                0
            }
            Some(SocketAddr::V6(a)) => {
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
                1
            }
            None => {
                let bytes = self.0.as_bytes();
                // `new` bounds the length to MAX_URL_LEN (< 256).
                out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
                out.extend_from_slice(&bytes[..bytes.len().min(255)]);
                2
            }
        }
    }

    /// Decode from `kind` and the tail of a QR payload; returns the address and the
    /// number of bytes used.
    pub(crate) fn decode(kind: u8, bytes: &[u8]) -> Result<(Self, usize), ProtocolError> {
        let short = || ProtocolError::qr("truncated relay address");
        match kind {
            0 => {
                let b: [u8; 6] = bytes
                    .get(..6)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(short)?;
                let ip = IpAddr::from([b[0], b[1], b[2], b[3]]);
                let port = u16::from_be_bytes([b[4], b[5]]);
                Ok((Self::from_socket(SocketAddr::new(ip, port)), 6))
            }
            1 => {
                let b: [u8; 18] = bytes
                    .get(..18)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(short)?;
                let mut ip = [0u8; 16];
                ip.copy_from_slice(&b[..16]);
                let port = u16::from_be_bytes([b[16], b[17]]);
                Ok((
                    Self::from_socket(SocketAddr::new(IpAddr::from(ip), port)),
                    18,
                ))
            }
            2 => {
                let len = usize::from(*bytes.first().ok_or_else(short)?);
                let text = bytes.get(1..1 + len).ok_or_else(short)?;
                let text = std::str::from_utf8(text)
                    .map_err(|_| ProtocolError::qr("relay address is not UTF-8"))?;
                let addr = Self::new(text)?;
                if addr.socket().is_some() || addr.0 != text {
                    // One address, one encoding: keeps payloads canonical.
                    return Err(ProtocolError::qr("relay address is not in canonical form"));
                }
                Ok((addr, 1 + len))
            }
            other => Err(ProtocolError::qr(format!(
                "unknown relay address kind {other}"
            ))),
        }
    }
}

impl fmt::Display for RelayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayAddress({})", self.0)
    }
}

impl Serialize for RelayAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RelayAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RelayAddress::new(&s).map_err(serde::de::Error::custom)
    }
}

/// The timing rules of a QR code.
///
/// The tool re-renders the code every `step_secs`; a frame is accepted while it is at
/// most `max_age_steps` steps old, and no frame is accepted `join_window_secs` after
/// the session was opened. With the defaults a photographed code is stale after
/// 6–8 s and the session is dead after two minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrPolicy {
    /// Seconds per rotation step (1–60).
    pub step_secs: u32,
    /// How many steps old a scanned frame may be (the current step is age 0).
    pub max_age_steps: u32,
    /// Seconds from issue during which a phone may join (at most 65 535 steps).
    pub join_window_secs: u32,
    /// Clock difference the phone tolerates when it pre-checks a code's issue time.
    pub phone_clock_skew_secs: u32,
}

impl QrPolicy {
    /// 2 s steps, frames up to 3 steps old, a 120 s join window, 10 min phone skew.
    pub const DEFAULT: QrPolicy = QrPolicy {
        step_secs: 2,
        max_age_steps: 3,
        join_window_secs: 120,
        phone_clock_skew_secs: 600,
    };

    /// Reject nonsensical settings.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        let bad = |r: &str| ProtocolError::qr(format!("bad QR policy: {r}"));
        if !(1..=60).contains(&self.step_secs) {
            return Err(bad("step must be 1–60 s"));
        }
        if self.join_window_secs == 0
            || self.join_window_secs / self.step_secs > u32::from(u16::MAX)
        {
            return Err(bad("join window must be positive and at most 65 535 steps"));
        }
        Ok(())
    }
}

impl Default for QrPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}
