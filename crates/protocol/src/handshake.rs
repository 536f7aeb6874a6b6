//! The handshake: tool and phone agree on directional AEAD keys and a verification code.
//!
//! ```text
//! tool                                     relay                         phone
//! n_t ← random(32); sid = H("bidkit/v1/sid" ‖ n_t)[..16]
//! e_t ← ephemeral key; s ← random(16); k_qr ← random(32)
//! register(sid, k_qr, issue time, policy) ──►
//! QR frame t: (suite, purpose, relay, sid, E_t, s, issued, t, mac_t) ─ screen ─► camera
//!                                                            e_p ← ephemeral key
//!                                          ◄── hello(sid, t, mac_t, E_p, confirm_p)
//!                              relay checks mac_t and t, admits one phone
//! check t, mac_t; Z = ECDH(e_t, E_p)                         Z = ECDH(e_p, E_t)
//! check confirm_p
//! record 0 (tool→phone): Accept(n_t) ──────────────────────────────────►
//!                                                            check sid = H(n_t)[..16]
//! both: code = 6 digits from the key schedule and n_t
//! ```
//!
//! Key schedule (`H`, `HMAC`, `HKDF` use SM3 in the GM suite and SHA-256 in NIST):
//!
//! ```text
//! th   = H("bidkit/v1/transcript" ‖ version ‖ suite ‖ purpose ‖ sid ‖ issued
//!          ‖ relay kind ‖ relay bytes ‖ E_t ‖ E_p ‖ t ‖ mac_t)
//! prk  = HKDF-Extract(salt = s, ikm = Z)
//! okm  = HKDF-Expand(prk, "bidkit/v1/keys" ‖ th, 2·klen + 2·12 + 32)
//!      = k_t2p ‖ k_p2t ‖ iv_t2p ‖ iv_p2t ‖ k_confirm   (klen 16 for SM4, 32 for AES-256)
//! confirm_p = HMAC(k_confirm, "bidkit/v1/phone-confirm" ‖ th)
//! code = u64(HKDF-Expand(prk, "bidkit/v1/code" ‖ th ‖ n_t, 8)) mod 10^6
//! ```
//!
//! Why each piece:
//! * **`s` in the salt.** The relay never sees `s` (it travels only from screen to
//!   camera), so a relay that swaps `E_p` for its own key cannot derive the keys: the
//!   tool's check of `confirm_p` fails ([`ProtocolError::SwappedKey`]). `E_t` cannot
//!   be swapped at all: it is read from the screen.
//! * **ECDH on top of `s`.** Someone who later obtains a photo of the QR code (and so
//!   `s`) and a recording of the relay traffic still cannot decrypt it.
//! * **The commitment `sid = H(n_t)`.** The code depends on `n_t`, which the tool
//!   committed to in the QR code before the phone chose `E_p`, and reveals only after
//!   it received `E_p`. Neither end of a man in the middle can search for keys that
//!   make the two codes agree: each code is fixed before the attacker learns what it
//!   must match, so the chance is 10⁻⁶ per attempt.
//! * **`t` and `mac_t` in `th`.** The frame the phone joined with is authenticated
//!   end to end; the tool re-checks its age itself instead of trusting the relay.

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use bidkit_crypto::aead::{AeadKey, NONCE_LEN};
use bidkit_crypto::kex::{self, EphemeralPublicKey, EphemeralSecret, Prk};
use bidkit_crypto::rng::SystemRng;
use bidkit_crypto::{CryptoError, Suite};

use crate::qr::{QR_KEY_LEN, QR_MAC_LEN, QR_SECRET_LEN, suite_code, suite_from_code};
use crate::record::{CONTENT_ACCEPT, Channel, DirectionKeys, RecordHeader, open_record};
use crate::{
    PROTOCOL_VERSION, ProtocolError, Purpose, QrPayload, QrPolicy, QrVerifier, RelayAddress, Role,
    SessionId, Timestamp, VerificationCode,
};

/// Frame kind byte of a hello.
pub(crate) const KIND_HELLO: u8 = 1;
/// Length of a hello frame.
pub const HELLO_LEN: usize = 3 + 16 + 2 + QR_MAC_LEN + kex::PUBLIC_KEY_LEN + kex::MAC_LEN;
/// Length of the tool's commitment nonce.
const NONCE_T_LEN: usize = 32;

/// The phone's join message, as the relay and the tool see it.
///
/// ```text
/// version(1) ‖ kind = 1 ‖ suite(1) ‖ sid(16) ‖ t(2) ‖ mac_t(8) ‖ E_p(33) ‖ confirm_p(32)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinHello {
    /// The suite the phone uses (must be the session's).
    pub suite: Suite,
    /// The session the phone joins.
    pub session_id: SessionId,
    /// The QR frame's step.
    pub step: u16,
    /// The QR frame's rotating code.
    pub mac: [u8; QR_MAC_LEN],
    /// The phone's ephemeral public key.
    pub phone_key: EphemeralPublicKey,
    /// The phone's key confirmation.
    pub confirm: [u8; kex::MAC_LEN],
}

impl JoinHello {
    /// The binary frame.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HELLO_LEN);
        out.push(PROTOCOL_VERSION);
        out.push(KIND_HELLO);
        out.push(suite_code(self.suite));
        out.extend_from_slice(&self.session_id.0);
        out.extend_from_slice(&self.step.to_be_bytes());
        out.extend_from_slice(&self.mac);
        out.extend_from_slice(self.phone_key.as_bytes());
        out.extend_from_slice(&self.confirm);
        out
    }

    /// Parse untrusted bytes (the relay does this to route and check the frame).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let version = *bytes
            .first()
            .ok_or_else(|| ProtocolError::frame("hello", "empty"))?;
        if version != PROTOCOL_VERSION {
            return Err(ProtocolError::VersionMismatch {
                got: version,
                supported: PROTOCOL_VERSION,
            });
        }
        if bytes.len() != HELLO_LEN {
            return Err(ProtocolError::frame(
                "hello",
                format!("{} bytes, expected {HELLO_LEN}", bytes.len()),
            ));
        }
        if bytes[1] != KIND_HELLO {
            return Err(ProtocolError::frame("hello", "not a hello frame"));
        }
        let suite = suite_from_code(bytes[2])?;
        let mut sid = [0u8; 16];
        sid.copy_from_slice(&bytes[3..19]);
        let step = u16::from_be_bytes([bytes[19], bytes[20]]);
        let mut mac = [0u8; QR_MAC_LEN];
        mac.copy_from_slice(&bytes[21..29]);
        let phone_key = EphemeralPublicKey::from_sec1_bytes(suite, &bytes[29..62])
            .map_err(|_| ProtocolError::frame("hello", "the phone key is not on the curve"))?;
        let mut confirm = [0u8; kex::MAC_LEN];
        confirm.copy_from_slice(&bytes[62..94]);
        Ok(JoinHello {
            suite,
            session_id: SessionId(sid),
            step,
            mac,
            phone_key,
            confirm,
        })
    }
}

/// Everything both sides hash into the transcript, in order.
struct TranscriptInput<'a> {
    suite: Suite,
    purpose: Purpose,
    session_id: &'a SessionId,
    issued_at: u32,
    relay: &'a RelayAddress,
    tool_key: &'a EphemeralPublicKey,
    phone_key: &'a EphemeralPublicKey,
    step: u16,
    mac: &'a [u8; QR_MAC_LEN],
}

impl TranscriptInput<'_> {
    fn hash(&self) -> [u8; 32] {
        let mut relay = Vec::new();
        let kind = self.relay.encode(&mut relay);
        let mut h = self.suite.hash().hasher();
        h.update(b"bidkit/v1/transcript");
        h.update(&[
            PROTOCOL_VERSION,
            suite_code(self.suite),
            self.purpose.code(),
        ]);
        h.update(&self.session_id.0);
        h.update(&self.issued_at.to_be_bytes());
        h.update(&[kind]);
        h.update(&relay);
        h.update(self.tool_key.as_bytes());
        h.update(self.phone_key.as_bytes());
        h.update(&self.step.to_be_bytes());
        h.update(self.mac);
        h.finalize()
    }
}

/// The derived session secrets, before a [`Channel`] is built from them.
struct Keys {
    prk: Prk,
    transcript: [u8; 32],
    t2p: DirectionKeys,
    p2t: DirectionKeys,
    confirm_key: Zeroizing<[u8; 32]>,
}

fn derive(
    suite: Suite,
    secret: &EphemeralSecret,
    peer: &EphemeralPublicKey,
    s: &[u8; QR_SECRET_LEN],
    transcript: [u8; 32],
) -> Result<Keys, ProtocolError> {
    let z = secret.diffie_hellman(peer)?;
    let prk = kex::hkdf_extract(suite.hash(), s, z.as_bytes());
    let alg = suite.aead();
    let klen = alg.key_len();
    let mut okm = Zeroizing::new(vec![0u8; 2 * klen + 2 * NONCE_LEN + 32]);
    kex::hkdf_expand(&prk, &[b"bidkit/v1/keys", &transcript], &mut okm)?;
    let (k_t2p, rest) = okm.split_at(klen);
    let (k_p2t, rest) = rest.split_at(klen);
    let (iv_t2p, rest) = rest.split_at(NONCE_LEN);
    let (iv_p2t, k_confirm) = rest.split_at(NONCE_LEN);
    let iv = |b: &[u8]| {
        let mut out = [0u8; NONCE_LEN];
        out.copy_from_slice(b);
        out
    };
    let mut confirm_key = Zeroizing::new([0u8; 32]);
    confirm_key.copy_from_slice(k_confirm);
    Ok(Keys {
        t2p: DirectionKeys::new(AeadKey::new(alg, k_t2p)?, iv(iv_t2p)),
        p2t: DirectionKeys::new(AeadKey::new(alg, k_p2t)?, iv(iv_p2t)),
        prk,
        transcript,
        confirm_key,
    })
}

fn phone_confirm(suite: Suite, keys: &Keys) -> Result<[u8; 32], ProtocolError> {
    Ok(kex::hmac(
        suite.hash(),
        keys.confirm_key.as_ref(),
        &[b"bidkit/v1/phone-confirm", &keys.transcript],
    )?)
}

fn code(
    prk: &Prk,
    transcript: &[u8; 32],
    nonce_t: &[u8],
) -> Result<VerificationCode, ProtocolError> {
    let mut out = [0u8; 8];
    kex::hkdf_expand(prk, &[b"bidkit/v1/code", transcript, nonce_t], &mut out)?;
    Ok(VerificationCode::from_u64(u64::from_be_bytes(out)))
}

fn session_id_for(suite: Suite, nonce_t: &[u8]) -> SessionId {
    let mut h = suite.hash().hasher();
    h.update(b"bidkit/v1/sid");
    h.update(nonce_t);
    let d = h.finalize();
    let mut sid = [0u8; 16];
    sid.copy_from_slice(&d[..16]);
    SessionId(sid)
}

/// The tool's half of a session, from opening to the phone's hello.
///
/// It owns the secrets shown in the QR code; drop it once the channel is established.
pub struct ToolHandshake {
    suite: Suite,
    purpose: Purpose,
    relay: RelayAddress,
    verifier: QrVerifier,
    ephemeral: EphemeralSecret,
    tool_key: EphemeralPublicKey,
    secret: Zeroizing<[u8; QR_SECRET_LEN]>,
    nonce_t: Zeroizing<[u8; NONCE_T_LEN]>,
}

impl std::fmt::Debug for ToolHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolHandshake")
            .field("suite", &self.suite)
            .field("purpose", &self.purpose)
            .field("relay", &self.relay)
            .field("session_id", &self.verifier.session_id)
            .finish_non_exhaustive()
    }
}

impl ToolHandshake {
    /// Open a session at `now` with fresh secrets from the system random source.
    pub fn new(
        suite: Suite,
        purpose: Purpose,
        relay: RelayAddress,
        policy: QrPolicy,
        now: Timestamp,
    ) -> Result<Self, ProtocolError> {
        Self::new_with_rng(suite, purpose, relay, policy, now, &mut SystemRng)
    }

    /// [`ToolHandshake::new`] with an explicit random source (tests).
    pub fn new_with_rng<R: TryCryptoRng + ?Sized>(
        suite: Suite,
        purpose: Purpose,
        relay: RelayAddress,
        policy: QrPolicy,
        now: Timestamp,
        rng: &mut R,
    ) -> Result<Self, ProtocolError> {
        policy.validate()?;
        let issued_at = u32::try_from(now.as_secs()).map_err(|_| ProtocolError::QrExpired {
            reason: "the clock is past 2106".into(),
        })?;
        let mut fill = |buf: &mut [u8]| rng.try_fill_bytes(buf).map_err(|_| CryptoError::Random);
        let mut nonce_t = Zeroizing::new([0u8; NONCE_T_LEN]);
        fill(nonce_t.as_mut())?;
        let mut secret = Zeroizing::new([0u8; QR_SECRET_LEN]);
        fill(secret.as_mut())?;
        let mut qr_key = [0u8; QR_KEY_LEN];
        fill(&mut qr_key)?;
        let ephemeral = EphemeralSecret::generate_with_rng(suite, rng)?;
        let session_id = session_id_for(suite, nonce_t.as_ref());
        Ok(ToolHandshake {
            suite,
            purpose,
            relay,
            verifier: QrVerifier {
                suite,
                session_id,
                key: qr_key,
                issued_at,
                policy,
            },
            tool_key: ephemeral.public_key(),
            ephemeral,
            secret,
            nonce_t,
        })
    }

    /// The session's routing id.
    pub fn session_id(&self) -> SessionId {
        self.verifier.session_id
    }

    /// The session's purpose.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The session's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// What the relay is given when the session is opened: the routing id and the
    /// rotating-code verifier. Nothing in it helps to derive the session keys.
    pub fn verifier(&self) -> &QrVerifier {
        &self.verifier
    }

    /// The QR frame to show at `now`; [`ProtocolError::QrExpired`] once the join
    /// window is over.
    pub fn qr(&self, now: Timestamp) -> Result<QrPayload, ProtocolError> {
        let step = self
            .verifier
            .current_step(now)
            .ok_or_else(|| ProtocolError::QrExpired {
                reason: format!(
                    "the join window of {} s is over",
                    self.verifier.policy.join_window_secs
                ),
            })?;
        Ok(QrPayload {
            suite: self.suite,
            purpose: self.purpose,
            relay: self.relay.clone(),
            session_id: self.verifier.session_id,
            tool_key: self.tool_key,
            secret: self.secret.clone(),
            issued_at: self.verifier.issued_at,
            step,
            mac: self.verifier.mac(step)?,
        })
    }

    /// The QR text to show at `now` (`BK1:…`).
    pub fn qr_text(&self, now: Timestamp) -> Result<String, ProtocolError> {
        Ok(self.qr(now)?.to_text())
    }

    /// Accept the phone's hello at `now`: check the frame it scanned, derive the
    /// keys, check the phone's key confirmation. Returns the channel and the `Accept`
    /// record (record 0) to send to the phone.
    pub fn accept(
        &self,
        hello: &[u8],
        now: Timestamp,
    ) -> Result<(Channel, Vec<u8>), ProtocolError> {
        let hello = JoinHello::decode(hello)?;
        if hello.session_id != self.verifier.session_id {
            return Err(ProtocolError::WrongSession);
        }
        if hello.suite != self.suite {
            return Err(ProtocolError::UnknownSuite(suite_code(hello.suite)));
        }
        self.verifier
            .verify(&hello.session_id, hello.step, &hello.mac, now)?;
        let transcript = TranscriptInput {
            suite: self.suite,
            purpose: self.purpose,
            session_id: &self.verifier.session_id,
            issued_at: self.verifier.issued_at,
            relay: &self.relay,
            tool_key: &self.tool_key,
            phone_key: &hello.phone_key,
            step: hello.step,
            mac: &hello.mac,
        }
        .hash();
        let keys = derive(
            self.suite,
            &self.ephemeral,
            &hello.phone_key,
            &self.secret,
            transcript,
        )?;
        if !kex::hmac_verify(
            self.suite.hash(),
            keys.confirm_key.as_ref(),
            &[b"bidkit/v1/phone-confirm", &keys.transcript],
            &hello.confirm,
        ) {
            return Err(ProtocolError::SwappedKey);
        }
        let code = code(&keys.prk, &keys.transcript, self.nonce_t.as_ref())?;
        let mut channel = Channel::new(
            Role::Tool,
            self.suite,
            self.purpose,
            self.verifier.session_id,
            keys.transcript,
            keys.t2p,
            keys.p2t,
            code,
        );
        let accept = channel.seal_content(CONTENT_ACCEPT, self.nonce_t.as_ref())?;
        Ok((channel, accept))
    }
}

/// The phone's half of a session, between sending its hello and receiving the tool's
/// `Accept` record.
pub struct PhoneHandshake {
    suite: Suite,
    purpose: Purpose,
    session_id: SessionId,
    keys: Keys,
}

impl std::fmt::Debug for PhoneHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneHandshake")
            .field("suite", &self.suite)
            .field("purpose", &self.purpose)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl PhoneHandshake {
    /// Start joining the session of a scanned QR frame: returns the hello to post to
    /// the relay and the pending handshake. Check the frame first with
    /// [`QrPayload::check_fresh`].
    pub fn start(qr: &QrPayload) -> Result<(Vec<u8>, PhoneHandshake), ProtocolError> {
        Self::start_with_rng(qr, &mut SystemRng)
    }

    /// [`PhoneHandshake::start`] with an explicit random source (tests).
    pub fn start_with_rng<R: TryCryptoRng + ?Sized>(
        qr: &QrPayload,
        rng: &mut R,
    ) -> Result<(Vec<u8>, PhoneHandshake), ProtocolError> {
        let ephemeral = EphemeralSecret::generate_with_rng(qr.suite, rng)?;
        let phone_key = ephemeral.public_key();
        let transcript = TranscriptInput {
            suite: qr.suite,
            purpose: qr.purpose,
            session_id: &qr.session_id,
            issued_at: qr.issued_at,
            relay: &qr.relay,
            tool_key: &qr.tool_key,
            phone_key: &phone_key,
            step: qr.step,
            mac: &qr.mac,
        }
        .hash();
        let keys = derive(qr.suite, &ephemeral, &qr.tool_key, &qr.secret, transcript)?;
        let hello = JoinHello {
            suite: qr.suite,
            session_id: qr.session_id,
            step: qr.step,
            mac: qr.mac,
            phone_key,
            confirm: phone_confirm(qr.suite, &keys)?,
        };
        Ok((
            hello.to_bytes(),
            PhoneHandshake {
                suite: qr.suite,
                purpose: qr.purpose,
                session_id: qr.session_id,
                keys,
            },
        ))
    }

    /// The session being joined.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// Finish with the tool's `Accept` record: it must decrypt under the derived key
    /// (key confirmation) and reveal the nonce the session id commits to.
    pub fn finish(self, accept: &[u8]) -> Result<Channel, ProtocolError> {
        let header = RecordHeader::parse(accept)?;
        if header.session_id != self.session_id {
            return Err(ProtocolError::WrongSession);
        }
        if header.direction != Role::Tool.direction() {
            return Err(ProtocolError::WrongDirection);
        }
        if header.seq != 0 {
            return Err(ProtocolError::OutOfOrder {
                seq: header.seq,
                expected: 0,
            });
        }
        let (content, body) = match open_record(&self.keys.t2p, accept, &header) {
            Ok(x) => x,
            Err(ProtocolError::BadMac) => return Err(ProtocolError::SwappedKey),
            Err(e) => return Err(e),
        };
        if content != CONTENT_ACCEPT || body.len() != NONCE_T_LEN {
            return Err(ProtocolError::frame("accept", "not an accept record"));
        }
        if session_id_for(self.suite, &body) != self.session_id {
            return Err(ProtocolError::SwappedKey);
        }
        let code = code(&self.keys.prk, &self.keys.transcript, &body)?;
        let mut channel = Channel::new(
            Role::Phone,
            self.suite,
            self.purpose,
            self.session_id,
            self.keys.transcript,
            self.keys.p2t,
            self.keys.t2p,
            code,
        );
        channel.skip_received(1);
        Ok(channel)
    }
}
