//! The sealed record layer: every message after the handshake.
//!
//! ```text
//! record = version(1) ‖ kind = 2 ‖ direction(1) ‖ sid(16) ‖ seq(8, big-endian)
//!          ‖ AEAD(k_dir, nonce = iv_dir XOR (0⁴ ‖ seq), aad = the 27 header bytes,
//!                 content type(1) ‖ body) ‖ tag(16)
//! ```
//!
//! Direction 1 is tool→phone, 2 is phone→tool; each direction has its own key, IV and
//! counter starting at 0 (the tool's record 0 is the handshake's `Accept`). The header
//! is the associated data, so the session id, direction and sequence number are
//! authenticated; a receiver accepts exactly the next sequence number, so a replayed,
//! reordered, dropped, reflected or transplanted record is refused with its own error.
//! A record that fails authentication does not advance the counter.

use zeroize::Zeroizing;

use bidkit_crypto::Suite;
use bidkit_crypto::aead::{AeadKey, NONCE_LEN, TAG_LEN};

use crate::{
    MAX_MESSAGE_LEN, Message, PROTOCOL_VERSION, ProtocolError, Purpose, Role, SessionId,
    VerificationCode,
};

/// Frame kind byte of a record.
pub(crate) const KIND_RECORD: u8 = 2;
/// Content type of the handshake's `Accept` record.
pub(crate) const CONTENT_ACCEPT: u8 = 0;
/// Content type of a JSON [`Message`].
pub(crate) const CONTENT_MESSAGE: u8 = 1;
/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 27;
/// The largest record: header, content type, the largest message and the tag.
pub const MAX_RECORD_LEN: usize = RECORD_HEADER_LEN + 1 + MAX_MESSAGE_LEN + TAG_LEN;

/// The clear header of a record (what the relay could read if it cared to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// 1 tool→phone, 2 phone→tool.
    pub direction: u8,
    /// The session.
    pub session_id: SessionId,
    /// The sequence number.
    pub seq: u64,
}

impl RecordHeader {
    /// Parse the header of untrusted bytes (length, version and kind are checked).
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() > MAX_RECORD_LEN {
            return Err(ProtocolError::Oversized {
                len: bytes.len(),
                max: MAX_RECORD_LEN,
            });
        }
        let version = *bytes
            .first()
            .ok_or_else(|| ProtocolError::frame("record", "empty"))?;
        if version != PROTOCOL_VERSION {
            return Err(ProtocolError::VersionMismatch {
                got: version,
                supported: PROTOCOL_VERSION,
            });
        }
        if bytes.len() < RECORD_HEADER_LEN + 1 + TAG_LEN {
            return Err(ProtocolError::frame("record", "truncated"));
        }
        if bytes[1] != KIND_RECORD {
            return Err(ProtocolError::frame("record", "not a record frame"));
        }
        let direction = bytes[2];
        if direction != 1 && direction != 2 {
            return Err(ProtocolError::frame("record", "bad direction byte"));
        }
        let mut sid = [0u8; 16];
        sid.copy_from_slice(&bytes[3..19]);
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&bytes[19..27]);
        Ok(RecordHeader {
            direction,
            session_id: SessionId(sid),
            seq: u64::from_be_bytes(seq),
        })
    }

    fn to_bytes(self) -> [u8; RECORD_HEADER_LEN] {
        let mut out = [0u8; RECORD_HEADER_LEN];
        out[0] = PROTOCOL_VERSION;
        out[1] = KIND_RECORD;
        out[2] = self.direction;
        out[3..19].copy_from_slice(&self.session_id.0);
        out[19..27].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

/// One direction's key and IV.
pub(crate) struct DirectionKeys {
    aead: AeadKey,
    iv: Zeroizing<[u8; NONCE_LEN]>,
}

impl DirectionKeys {
    pub(crate) fn new(aead: AeadKey, iv: [u8; NONCE_LEN]) -> Self {
        DirectionKeys {
            aead,
            iv: Zeroizing::new(iv),
        }
    }

    fn nonce(&self, seq: u64) -> [u8; NONCE_LEN] {
        let mut n = *self.iv;
        for (i, b) in seq.to_be_bytes().iter().enumerate() {
            n[NONCE_LEN - 8 + i] ^= b;
        }
        n
    }
}

/// Decrypt a record whose header was parsed; returns content type and body.
pub(crate) fn open_record(
    keys: &DirectionKeys,
    bytes: &[u8],
    header: &RecordHeader,
) -> Result<(u8, Zeroizing<Vec<u8>>), ProtocolError> {
    let aad = &bytes[..RECORD_HEADER_LEN];
    let mut plain = keys
        .aead
        .open(
            &keys.nonce(header.seq),
            aad,
            &bytes[RECORD_HEADER_LEN..],
            "record",
        )
        .map_err(|_| ProtocolError::BadMac)?;
    if plain.is_empty() {
        return Err(ProtocolError::frame("record", "no content type"));
    }
    let content = plain[0];
    let body = Zeroizing::new(plain.split_off(1));
    Ok((content, body))
}

/// An established, end-to-end encrypted session: seal outgoing messages, open
/// incoming records.
///
/// Built by [`crate::ToolHandshake::accept`] or [`crate::PhoneHandshake::finish`].
pub struct Channel {
    role: Role,
    suite: Suite,
    purpose: Purpose,
    session_id: SessionId,
    transcript: [u8; 32],
    send: DirectionKeys,
    send_seq: u64,
    recv: DirectionKeys,
    recv_seq: u64,
    code: VerificationCode,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("role", &self.role)
            .field("suite", &self.suite)
            .field("purpose", &self.purpose)
            .field("session_id", &self.session_id)
            .field("send_seq", &self.send_seq)
            .field("recv_seq", &self.recv_seq)
            .finish_non_exhaustive()
    }
}

impl Channel {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        role: Role,
        suite: Suite,
        purpose: Purpose,
        session_id: SessionId,
        transcript: [u8; 32],
        send: DirectionKeys,
        recv: DirectionKeys,
        code: VerificationCode,
    ) -> Self {
        Channel {
            role,
            suite,
            purpose,
            session_id,
            transcript,
            send,
            send_seq: 0,
            recv,
            recv_seq: 0,
            code,
        }
    }

    pub(crate) fn skip_received(&mut self, n: u64) {
        self.recv_seq += n;
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The session's purpose.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The session's routing id.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// The verification code both screens show.
    pub fn verification_code(&self) -> VerificationCode {
        self.code
    }

    /// The handshake transcript hash: binds signatures (e.g. the login proof) to this
    /// session. Public, not secret.
    pub fn transcript_hash(&self) -> &[u8; 32] {
        &self.transcript
    }

    /// The next sequence number this end will send.
    pub fn next_send_seq(&self) -> u64 {
        self.send_seq
    }

    /// The next sequence number this end expects.
    pub fn next_recv_seq(&self) -> u64 {
        self.recv_seq
    }

    pub(crate) fn seal_content(
        &mut self,
        content: u8,
        body: &[u8],
    ) -> Result<Vec<u8>, ProtocolError> {
        if body.len() > MAX_MESSAGE_LEN {
            return Err(ProtocolError::Oversized {
                len: body.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        let header = RecordHeader {
            direction: self.role.direction(),
            session_id: self.session_id,
            seq: self.send_seq,
        }
        .to_bytes();
        let mut buf = Zeroizing::new(Vec::with_capacity(1 + body.len()));
        buf.push(content);
        buf.extend_from_slice(body);
        let seq = self.send_seq;
        let tag = self
            .send
            .aead
            .seal_in_place(&self.send.nonce(seq), &header, &mut buf)?;
        let mut out = Vec::with_capacity(RECORD_HEADER_LEN + buf.len() + TAG_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
        self.send_seq = self
            .send_seq
            .checked_add(1)
            .ok_or_else(|| ProtocolError::frame("record", "sequence number exhausted"))?;
        Ok(out)
    }

    /// Seal `message` as the next record. Refuses messages this end may not send in
    /// this session's purpose, and messages over [`MAX_MESSAGE_LEN`].
    pub fn seal(&mut self, message: &Message) -> Result<Vec<u8>, ProtocolError> {
        message.check_allowed(self.role, self.purpose)?;
        let json = Zeroizing::new(message.to_json()?);
        self.seal_content(CONTENT_MESSAGE, &json)
    }

    /// Open the next record from the other end.
    ///
    /// Checks, in order: size, version, session, direction, sequence (replay or
    /// reorder), authentication, content type, JSON, and whether the peer may send
    /// this message in this purpose. Only a fully valid record advances the counter.
    pub fn open(&mut self, record: &[u8]) -> Result<Message, ProtocolError> {
        let header = RecordHeader::parse(record)?;
        if header.session_id != self.session_id {
            return Err(ProtocolError::WrongSession);
        }
        if header.direction != self.role.peer().direction() {
            return Err(ProtocolError::WrongDirection);
        }
        if header.seq < self.recv_seq {
            return Err(ProtocolError::Replay {
                seq: header.seq,
                expected: self.recv_seq,
            });
        }
        if header.seq > self.recv_seq {
            return Err(ProtocolError::OutOfOrder {
                seq: header.seq,
                expected: self.recv_seq,
            });
        }
        let (content, body) = open_record(&self.recv, record, &header)?;
        if content != CONTENT_MESSAGE {
            return Err(ProtocolError::frame("record", "unexpected content type"));
        }
        let message = Message::from_json(&body)?;
        message.check_allowed(self.role.peer(), self.purpose)?;
        self.recv_seq += 1;
        Ok(message)
    }
}
