//! The handshake, the record layer and every refusal, with an injected clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bidkit_crypto::PrivateKey;
use bidkit_protocol::message::{
    self, Cancel, Finished, LoginRequest, LoginResponse, Refusal, RefuseReason, SignRequest,
    SignResponse,
};
use bidkit_protocol::qr::{QR_PREFIX, QrPayload};
use bidkit_protocol::{
    Channel, JoinHello, MAX_MESSAGE_LEN, Message, PhoneHandshake, ProtocolError, Purpose, QrPolicy,
    RelayAddress, Suite, Timestamp, ToolHandshake,
};

const T0: Timestamp = Timestamp(1_767_225_600_000);

fn relay() -> RelayAddress {
    RelayAddress::new("http://127.0.0.1:43111").unwrap()
}

fn tool(suite: Suite, purpose: Purpose) -> ToolHandshake {
    ToolHandshake::new(suite, purpose, relay(), QrPolicy::DEFAULT, T0).unwrap()
}

fn connect(suite: Suite, purpose: Purpose) -> (Channel, Channel) {
    let tool = tool(suite, purpose);
    let qr = QrPayload::parse(&tool.qr_text(T0).unwrap()).unwrap();
    qr.check_fresh(T0, &QrPolicy::DEFAULT).unwrap();
    let (hello, pending) = PhoneHandshake::start(&qr).unwrap();
    let (tool_ch, accept) = tool.accept(&hello, T0).unwrap();
    let phone_ch = pending.finish(&accept).unwrap();
    (tool_ch, phone_ch)
}

fn login_request() -> Message {
    Message::LoginRequest(LoginRequest {
        challenge: vec![9; 32],
        requester: "Bidkit test".into(),
    })
}

#[test]
fn both_suites_agree_on_keys_and_code_and_exchange_messages() {
    for suite in Suite::ALL {
        let (mut tool, mut phone) = connect(suite, Purpose::Login);
        assert_eq!(tool.verification_code(), phone.verification_code());
        assert_eq!(tool.transcript_hash(), phone.transcript_hash());
        assert_eq!(tool.verification_code().digits().len(), 6);

        let req = login_request();
        let rec = tool.seal(&req).unwrap();
        assert_eq!(phone.open(&rec).unwrap(), req);

        // The phone signs the session-bound challenge; the tool checks it.
        let key = PrivateKey::generate(suite).unwrap();
        let data =
            message::login_signed_data(&phone.session_id(), phone.transcript_hash(), &[9; 32]);
        let resp = Message::LoginResponse(LoginResponse {
            certificate_chain: vec![vec![0x30, 0x03, 1, 2, 3]],
            signature: key.sign(&data).unwrap(),
        });
        let rec = phone.seal(&resp).unwrap();
        let Message::LoginResponse(got) = tool.open(&rec).unwrap() else {
            panic!("wrong message")
        };
        message::verify_login_signature(
            &key.public_key(),
            &tool.session_id(),
            tool.transcript_hash(),
            &[9; 32],
            &got.signature,
        )
        .unwrap();

        // The same signature is worthless in another session.
        let (other, _) = connect(suite, Purpose::Login);
        assert!(
            message::verify_login_signature(
                &key.public_key(),
                &other.session_id(),
                other.transcript_hash(),
                &[9; 32],
                &got.signature,
            )
            .is_err()
        );

        let fin = Message::Finished(Finished {
            ok: true,
            message: "logged in".into(),
        });
        let rec = tool.seal(&fin).unwrap();
        assert_eq!(phone.open(&rec).unwrap(), fin);
    }
}

#[test]
fn codes_differ_between_sessions() {
    let codes: std::collections::HashSet<_> = (0..8)
        .map(|_| connect(Suite::Gm, Purpose::Sign).0.verification_code())
        .collect();
    assert!(codes.len() > 1);
}

#[test]
fn qr_text_is_compact_alphanumeric_and_fits_version_6m() {
    for suite in Suite::ALL {
        let text = tool(suite, Purpose::Sign).qr_text(T0).unwrap();
        assert!(text.starts_with(QR_PREFIX));
        assert_eq!(text.len(), 144, "{text}");
        assert!(
            text.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ':')
        );
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .unwrap();
        assert_eq!(code.version(), qrcode::Version::Normal(6));
    }
    // A URL relay costs its length, still a comfortable code.
    let long = ToolHandshake::new(
        Suite::Gm,
        Purpose::Login,
        RelayAddress::new("https://relay.bidkit.example:8443").unwrap(),
        QrPolicy::DEFAULT,
        T0,
    )
    .unwrap();
    let text = long.qr_text(T0).unwrap();
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    assert!(matches!(code.version(), qrcode::Version::Normal(v) if v <= 8));
}

#[test]
fn qr_rotates_every_step_and_old_frames_go_stale() {
    let tool = tool(Suite::Gm, Purpose::Login);
    let f0 = tool.qr_text(T0).unwrap();
    let f0b = tool.qr_text(T0.plus(Duration::from_millis(1999))).unwrap();
    let f1 = tool.qr_text(T0.plus(Duration::from_secs(2))).unwrap();
    assert_eq!(f0, f0b);
    assert_ne!(f0, f1);

    // A screenshot of frame 0 joined 7 s later: 3 steps old, accepted.
    let qr = QrPayload::parse(&f0).unwrap();
    let (hello, _) = PhoneHandshake::start(&qr).unwrap();
    tool.accept(&hello, T0.plus(Duration::from_secs(7)))
        .unwrap();
    // 8 s later: 4 steps old, stale.
    let err = tool
        .accept(&hello, T0.plus(Duration::from_secs(8)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::QrStale {
                age_secs: 8,
                max_age_secs: 6
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "qr-stale");

    // The current frame still works at 100 s, but nothing after the join window.
    let late = T0.plus(Duration::from_secs(100));
    let qr = QrPayload::parse(&tool.qr_text(late).unwrap()).unwrap();
    let (hello, _) = PhoneHandshake::start(&qr).unwrap();
    tool.accept(&hello, late).unwrap();
    let dead = T0.plus(Duration::from_secs(121));
    assert_eq!(tool.qr_text(dead).unwrap_err().code(), "qr-expired");
    assert_eq!(tool.accept(&hello, dead).unwrap_err().code(), "qr-expired");
    // The phone's own pre-check refuses a day-old screenshot.
    let day = T0.plus(Duration::from_secs(86_400));
    assert_eq!(
        qr.check_fresh(day, &QrPolicy::DEFAULT).unwrap_err().code(),
        "qr-expired"
    );
}

#[test]
fn forged_step_is_a_bad_mac() {
    let tool = tool(Suite::Nist, Purpose::Login);
    let mut qr = QrPayload::parse(&tool.qr_text(T0).unwrap()).unwrap();
    // Someone holding frame 0 tries to pass it off as a later frame.
    qr.step = 5;
    let (hello, _) = PhoneHandshake::start(&qr).unwrap();
    let err = tool
        .accept(&hello, T0.plus(Duration::from_secs(10)))
        .unwrap_err();
    assert_eq!(err.code(), "qr-bad-mac");
    // And a flipped MAC byte.
    let mut qr = QrPayload::parse(&tool.qr_text(T0).unwrap()).unwrap();
    qr.mac[0] ^= 1;
    let (hello, _) = PhoneHandshake::start(&qr).unwrap();
    assert_eq!(tool.accept(&hello, T0).unwrap_err().code(), "qr-bad-mac");
}

#[test]
fn swapped_phone_key_is_detected_by_the_tool() {
    let tool = tool(Suite::Gm, Purpose::Sign);
    let qr = QrPayload::parse(&tool.qr_text(T0).unwrap()).unwrap();
    let (hello, _) = PhoneHandshake::start(&qr).unwrap();
    // A relay in the middle replaces E_p with its own key (it cannot recompute the
    // confirmation without the QR secret).
    let mut h = JoinHello::decode(&hello).unwrap();
    let mitm = bidkit_crypto::kex::EphemeralSecret::generate(Suite::Gm).unwrap();
    h.phone_key = mitm.public_key();
    let err = tool.accept(&h.to_bytes(), T0).unwrap_err();
    assert!(matches!(err, ProtocolError::SwappedKey));
    assert_eq!(err.code(), "swapped-key");

    // A relay that also recomputes the confirmation with a guessed secret fails too.
    let mut guessed = qr.clone();
    guessed.secret = zeroize::Zeroizing::new([0u8; 16]);
    let (forged, _) = PhoneHandshake::start(&guessed).unwrap();
    assert_eq!(tool.accept(&forged, T0).unwrap_err().code(), "swapped-key");
}

#[test]
fn phone_detects_a_forged_accept_or_a_broken_commitment() {
    // The accept of another session (different keys) fails key confirmation.
    let tool_a = tool(Suite::Gm, Purpose::Sign);
    let tool_b = tool(Suite::Gm, Purpose::Sign);
    let qr_a = QrPayload::parse(&tool_a.qr_text(T0).unwrap()).unwrap();
    let qr_b = QrPayload::parse(&tool_b.qr_text(T0).unwrap()).unwrap();
    let (_, pending_a) = PhoneHandshake::start(&qr_a).unwrap();
    let (hello_b, _) = PhoneHandshake::start(&qr_b).unwrap();
    let (_, accept_b) = tool_b.accept(&hello_b, T0).unwrap();
    assert_eq!(
        pending_a.finish(&accept_b).unwrap_err().code(),
        "wrong-session"
    );

    // A flipped byte in the accept record is a failed key confirmation.
    let (hello_a, pending_a) = PhoneHandshake::start(&qr_a).unwrap();
    let (_, mut accept_a) = tool_a.accept(&hello_a, T0).unwrap();
    let last = accept_a.len() - 1;
    accept_a[last] ^= 0x80;
    assert_eq!(
        pending_a.finish(&accept_a).unwrap_err().code(),
        "swapped-key"
    );
}

#[test]
fn hello_for_another_session_is_refused() {
    let a = tool(Suite::Gm, Purpose::Login);
    let b = tool(Suite::Gm, Purpose::Login);
    let qr_b = QrPayload::parse(&b.qr_text(T0).unwrap()).unwrap();
    let (hello_b, _) = PhoneHandshake::start(&qr_b).unwrap();
    assert_eq!(a.accept(&hello_b, T0).unwrap_err().code(), "wrong-session");
}

#[test]
fn replay_reorder_flip_reflection_and_transplant_are_refused() {
    let (mut tool, mut phone) = connect(Suite::Gm, Purpose::Login);
    let r1 = tool.seal(&login_request()).unwrap();
    let r2 = tool
        .seal(&Message::Cancel(Cancel {
            reason: "changed my mind".into(),
        }))
        .unwrap();

    // Reordered: record 2 before record 1.
    let err = phone.open(&r2).unwrap_err();
    assert_eq!(err.code(), "out-of-order");
    // Flipped byte: refused, and it does not consume the sequence number.
    let mut flipped = r1.clone();
    flipped[40] ^= 1;
    assert_eq!(phone.open(&flipped).unwrap_err().code(), "bad-mac");
    // A flipped sequence number in the header is caught as well.
    let mut seq_flip = r1.clone();
    seq_flip[26] ^= 1;
    assert!(phone.open(&seq_flip).is_err());
    phone.open(&r1).unwrap();
    // Replayed.
    let err = phone.open(&r1).unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::Replay {
            seq: 1,
            expected: 2
        }
    ));
    phone.open(&r2).unwrap();

    // Reflected: the tool's own record sent back to it.
    let r3 = tool
        .seal(&Message::Finished(Finished {
            ok: false,
            message: "x".into(),
        }))
        .unwrap();
    assert_eq!(tool.open(&r3).unwrap_err().code(), "wrong-direction");

    // Transplanted from another session.
    let (mut other_tool, _) = connect(Suite::Gm, Purpose::Login);
    let foreign = other_tool.seal(&login_request()).unwrap();
    assert_eq!(phone.open(&foreign).unwrap_err().code(), "wrong-session");
    // Even with the header rewritten to this session, it does not authenticate.
    let mut rewritten = foreign.clone();
    rewritten[3..19].copy_from_slice(&phone.session_id().0);
    rewritten[19..27].copy_from_slice(&phone.next_recv_seq().to_be_bytes());
    assert_eq!(phone.open(&rewritten).unwrap_err().code(), "bad-mac");
}

#[test]
fn wrong_messages_for_the_purpose_or_direction_are_refused() {
    let (mut tool, mut phone) = connect(Suite::Nist, Purpose::Login);
    // The tool may not send a sign request in a login session …
    let sign = Message::SignRequest(SignRequest { items: vec![] });
    assert_eq!(tool.seal(&sign).unwrap_err().code(), "unexpected-message");
    // … and the phone may not send requests at all.
    assert_eq!(
        phone.seal(&login_request()).unwrap_err().code(),
        "unexpected-message"
    );
    assert_eq!(
        phone
            .seal(&Message::SignResponse(SignResponse {
                certificate_chain: vec![],
                signatures: vec![]
            }))
            .unwrap_err()
            .code(),
        "unexpected-message"
    );
    // Refusals and cancels are always allowed from the phone.
    let refuse = Message::Refuse(Refusal {
        reason: RefuseReason::UserRefused,
        message: "no".into(),
    });
    let rec = phone.seal(&refuse).unwrap();
    assert_eq!(tool.open(&rec).unwrap(), refuse);
}

#[test]
fn oversized_messages_are_refused_both_ways() {
    let (mut tool, mut phone) = connect(Suite::Gm, Purpose::Login);
    let big = Message::LoginRequest(LoginRequest {
        challenge: vec![0; 32],
        requester: "x".repeat(MAX_MESSAGE_LEN),
    });
    let err = tool.seal(&big).unwrap_err();
    assert_eq!(err.code(), "oversized");
    let junk = vec![1u8; bidkit_protocol::record::MAX_RECORD_LEN + 1];
    assert_eq!(phone.open(&junk).unwrap_err().code(), "oversized");
}

#[test]
fn version_purpose_and_suite_errors_are_typed() {
    let tool = tool(Suite::Gm, Purpose::Login);
    let text = tool.qr_text(T0).unwrap();
    let v2 = text.replacen("BK1:", "BK2:", 1);
    assert_eq!(
        QrPayload::parse(&v2).unwrap_err().code(),
        "version-mismatch"
    );
    assert_eq!(
        QrPayload::parse("hello").unwrap_err().code(),
        "qr-malformed"
    );
    assert_eq!(
        QrPayload::parse("BK1:!!!!").unwrap_err().code(),
        "qr-malformed"
    );

    let mut bytes = QrPayload::parse(&text).unwrap().to_bytes();
    bytes[1] = 99;
    let err = QrPayload::from_bytes(&bytes).unwrap_err();
    assert!(matches!(err, ProtocolError::UnknownPurpose(99)));
    assert_eq!(err.code(), "unknown-purpose");
    bytes[1] = 1;
    bytes[0] |= 0x03;
    assert_eq!(
        QrPayload::from_bytes(&bytes).unwrap_err().code(),
        "unknown-suite"
    );

    // A hello of a future version.
    let qr = QrPayload::parse(&text).unwrap();
    let (mut hello, _) = PhoneHandshake::start(&qr).unwrap();
    hello[0] = 2;
    assert_eq!(
        tool.accept(&hello, T0).unwrap_err().code(),
        "version-mismatch"
    );
    // A truncated hello.
    assert_eq!(
        tool.accept(&hello[..10], T0).unwrap_err().code(),
        "version-mismatch"
    );
    hello[0] = 1;
    assert_eq!(
        tool.accept(&hello[..10], T0).unwrap_err().code(),
        "malformed-frame"
    );
}

#[test]
fn lowercase_and_whitespace_qr_text_still_parses() {
    let tool = tool(Suite::Nist, Purpose::Unwrap);
    let text = tool.qr_text(T0).unwrap();
    let messy = format!("  {}\n", text.to_lowercase());
    let a = QrPayload::parse(&text).unwrap();
    let b = QrPayload::parse(&messy).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.purpose, Purpose::Unwrap);
    assert_eq!(a.relay, relay());
}
