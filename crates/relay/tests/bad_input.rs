//! Every bad input named in issue 3 ends in a typed error on both sides, and nothing
//! is signed or decrypted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_crypto::kex::EphemeralSecret;
use bidkit_protocol::message::{LoginRequest, Message};
use bidkit_protocol::qr::QrPayload;
use bidkit_protocol::{JoinHello, Purpose, QrPolicy, RelayAddress, Role, Timestamp, ToolHandshake};
use bidkit_relay::Clock as _;
use bidkit_relay::api::{CreateSession, Created, ErrorBody, SessionState};
use bidkit_relay::{
    ClientConfig, ClientError, EmbeddedRelay, ManualClock, PhoneScan, RateLimit, RelayConfig,
    ToolSession, Transport,
};
use common::*;

const T0: Timestamp = Timestamp(1_767_225_600_000);

fn manual_configs(clock: &ManualClock) -> (RelayConfig, ClientConfig) {
    let relay = RelayConfig {
        clock: Arc::new(clock.clone()),
        ..relay_config()
    };
    let client = ClientConfig {
        clock: Arc::new(clock.clone()),
        ..client_config(Transport::WebSocket)
    };
    (relay, client)
}

async fn tap_relay(config: RelayConfig) -> (EmbeddedRelay, TapStore) {
    let tap = TapStore::default();
    let relay = EmbeddedRelay::start_with(tap.clone(), config)
        .await
        .unwrap();
    (relay, tap)
}

fn login() -> Message {
    Message::LoginRequest(LoginRequest {
        challenge: vec![1; 32],
        requester: "test".into(),
    })
}

fn relay_code(e: &ClientError) -> &str {
    match e {
        ClientError::Relay { code, .. } => code,
        other => panic!("expected a relay refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_forwarded_qr_is_refused_and_the_current_one_still_works() {
    let clock = ManualClock::new(T0);
    let (rc, cc) = manual_configs(&clock);
    let (relay, _) = tap_relay(rc).await;
    let tool = ToolSession::open(relay.relay_address(), Suite::Gm, Purpose::Login, cc.clone())
        .await
        .unwrap();
    let screenshot = tool.qr_text(clock.now()).unwrap();
    let qr = tool.qr_source();
    // The tool waits, and is told about every phone turned away, and why.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let waiting = tokio::spawn({
        let seen = seen.clone();
        async move {
            tool.wait_for_phone_observed(&mut |s| {
                if let Some(code) = &s.last_rejected_join {
                    seen.lock().unwrap().push((s.rejected_joins, code.clone()));
                }
            })
            .await
        }
    });
    clock.advance(Duration::from_secs(9));
    // The forwarded screenshot is four steps old: stale.
    let err = PhoneScan::new(&screenshot, cc.clone())
        .unwrap()
        .join()
        .await
        .unwrap_err();
    assert_eq!(relay_code(&err), "qr-stale");
    for _ in 0..200 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        seen.lock().unwrap().first(),
        Some(&(1, "qr-stale".to_owned()))
    );
    // The code on the screen now works.
    let current = qr.text(clock.now()).unwrap();
    let phone = tokio::spawn({
        let cc = cc.clone();
        async move {
            PhoneScan::new(&current, cc)
                .unwrap()
                .join()
                .await
                .map(|c| c.verification_code())
        }
    });
    let conn = waiting.await.unwrap().unwrap();
    assert_eq!(phone.await.unwrap().unwrap(), conn.verification_code());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_qr_is_dead_for_the_phone_and_the_tool_reports_no_phone() {
    let clock = ManualClock::new(T0);
    let (rc, cc) = manual_configs(&clock);
    let (relay, _) = tap_relay(rc).await;
    let tool = ToolSession::open(
        relay.relay_address(),
        Suite::Nist,
        Purpose::Sign,
        cc.clone(),
    )
    .await
    .unwrap();
    let last = tool
        .qr_text(clock.now().plus(Duration::from_secs(119)))
        .unwrap();
    let waiting = tokio::spawn(tool.wait_for_phone());
    tokio::time::sleep(Duration::from_millis(100)).await;
    clock.advance(Duration::from_secs(121));
    let err = waiting.await.unwrap().unwrap_err();
    assert!(matches!(err, ClientError::NoPhone), "{err:?}");
    assert_eq!(err.code(), "no-phone");
    let err = PhoneScan::new(&last, cc.clone())
        .unwrap()
        .join()
        .await
        .unwrap_err();
    assert_eq!(relay_code(&err), "session-expired");
    // A day later the phone refuses the code itself, before any network traffic.
    clock.advance(Duration::from_secs(86_400));
    let err = PhoneScan::new(&last, cc).unwrap_err();
    assert_eq!(err.code(), "qr-expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_phone_is_refused() {
    let (relay, _) = tap_relay(relay_config()).await;
    let cc = client_config(Transport::LongPoll);
    let tool = ToolSession::open(relay.relay_address(), Suite::Gm, Purpose::Login, cc.clone())
        .await
        .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let first = tokio::spawn({
        let (qr, cc) = (qr.clone(), cc.clone());
        async move { PhoneScan::new(&qr, cc).unwrap().join().await.unwrap() }
    });
    let _tool_conn = tool.wait_for_phone().await.unwrap();
    let _first = first.await.unwrap();
    let err = PhoneScan::new(&qr, cc).unwrap().join().await.unwrap_err();
    assert_eq!(relay_code(&err), "already-joined");
    assert!(matches!(err, ClientError::Relay { status: 409, .. }));
    // Both sides can see that a second phone was turned away.
    let status = _tool_conn.status().await.unwrap();
    assert_eq!(status.rejected_joins, 1);
    assert_eq!(status.last_rejected_join.as_deref(), Some("already-joined"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_ephemeral_key_is_detected_by_both_sides() {
    let (relay, tap) = tap_relay(relay_config()).await;
    // The relay replaces the phone's key with its own on the way to the tool.
    *tap.hello_rewrite.lock().unwrap() = Some(Box::new(|_, hello| {
        let mut h = JoinHello::decode(&hello).unwrap();
        h.phone_key = EphemeralSecret::generate(h.suite).unwrap().public_key();
        h.to_bytes()
    }));
    let cc = client_config(Transport::WebSocket);
    let tool = ToolSession::open(relay.relay_address(), Suite::Gm, Purpose::Sign, cc.clone())
        .await
        .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let phone = tokio::spawn(async move { PhoneScan::new(&qr, cc).unwrap().join().await });
    let err = tool.wait_for_phone().await.unwrap_err();
    assert_eq!(err.code(), "swapped-key");
    let err = phone.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, ClientError::JoinRejected { code } if code == "swapped-key"),
        "{err:?}"
    );
}

/// Open a session, join, and have the tool send a login request; returns the
/// connections with the request still queued for the phone.
async fn joined_pair(
    relay: &EmbeddedRelay,
    transport: Transport,
) -> (bidkit_relay::ToolConnection, bidkit_relay::PhoneConnection) {
    let cc = client_config(transport);
    let tool = ToolSession::open(relay.relay_address(), Suite::Gm, Purpose::Login, cc.clone())
        .await
        .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let phone = tokio::spawn(async move { PhoneScan::new(&qr, cc).unwrap().join().await.unwrap() });
    let tool = tool.wait_for_phone().await.unwrap();
    (tool, phone.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_message_is_refused() {
    let (relay, tap) = tap_relay(relay_config()).await;
    let (mut tool, mut phone) = joined_pair(&relay, Transport::WebSocket).await;
    tool.send(&login()).await.unwrap();
    assert_eq!(phone.next_request().await.unwrap(), login());
    // The relay replays the last record it carried to the phone.
    let replayed = tap.log.lock().unwrap().last().unwrap().clone();
    let sid = tool.session_id();
    use bidkit_relay::Store as _;
    let limits = bidkit_relay::store::StoreLimits {
        max_queued: 8,
        closed_grace_ms: 1000,
    };
    tap.inner
        .push(&sid, Role::Phone, replayed, Timestamp::now(), limits)
        .await
        .unwrap();
    let err = phone.receive(Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(err.code(), "replay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_is_refused() {
    let (relay, tap) = tap_relay(relay_config()).await;
    let (mut tool, mut phone) = joined_pair(&relay, Transport::LongPoll).await;
    *tap.push_rewrite.lock().unwrap() = Some(Box::new(|_, mut record| {
        let last = record.len() - 1;
        record[last] ^= 0x01;
        record
    }));
    tool.send(&login()).await.unwrap();
    let err = phone.next_request().await.unwrap_err();
    assert_eq!(err.code(), "bad-mac");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_another_session_is_refused() {
    let (relay, tap) = tap_relay(relay_config()).await;
    let (tool_a, mut phone_a) = joined_pair(&relay, Transport::WebSocket).await;
    let (mut tool_b, _phone_b) = joined_pair(&relay, Transport::WebSocket).await;
    tool_b.send(&login()).await.unwrap();
    let foreign = tap.log.lock().unwrap().last().unwrap().clone();
    use bidkit_relay::Store as _;
    let limits = bidkit_relay::store::StoreLimits {
        max_queued: 8,
        closed_grace_ms: 1000,
    };
    tap.inner
        .push(
            &tool_a.session_id(),
            Role::Phone,
            foreign,
            Timestamp::now(),
            limits,
        )
        .await
        .unwrap();
    let err = phone_a.next_request().await.unwrap_err();
    assert_eq!(err.code(), "wrong-session");
    // The tool can still end the session cleanly.
    tool_a.cancel("test over").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_purpose_is_refused_by_the_phone() {
    let tool = ToolHandshake::new(
        Suite::Gm,
        Purpose::Login,
        RelayAddress::new("http://127.0.0.1:9").unwrap(),
        QrPolicy::DEFAULT,
        Timestamp::now(),
    )
    .unwrap();
    let mut bytes = tool.qr(Timestamp::now()).unwrap().to_bytes();
    bytes[1] = 42;
    let text = format!("BK1:{}", data_encoding_base32(&bytes));
    let err = PhoneScan::new(&text, client_config(Transport::WebSocket)).unwrap_err();
    assert_eq!(err.code(), "unknown-purpose");
    // A future protocol version.
    let v2 = tool
        .qr_text(Timestamp::now())
        .unwrap()
        .replacen("BK1:", "BK2:", 1);
    let err = PhoneScan::new(&v2, client_config(Transport::WebSocket)).unwrap_err();
    assert_eq!(err.code(), "version-mismatch");
}

fn data_encoding_base32(bytes: &[u8]) -> String {
    // RFC 4648 base32 without padding, as the QR payload uses.
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_are_refused_by_the_protocol_and_by_the_relay() {
    let (relay, _) = tap_relay(relay_config()).await;
    let (mut tool, _phone) = joined_pair(&relay, Transport::WebSocket).await;
    let huge = Message::LoginRequest(LoginRequest {
        challenge: vec![0; 32],
        requester: "x".repeat(bidkit_protocol::MAX_MESSAGE_LEN + 1),
    });
    assert_eq!(tool.send(&huge).await.unwrap_err().code(), "oversized");

    // A raw client posting more than the relay's limit gets a typed 413.
    let http = reqwest::Client::new();
    let base = format!("http://{}", relay.addr());
    let hs = ToolHandshake::new(
        Suite::Gm,
        Purpose::Login,
        relay.relay_address(),
        QrPolicy::DEFAULT,
        Timestamp::now(),
    )
    .unwrap();
    let created: Created = http
        .post(format!("{base}/v1/sessions"))
        .json(&CreateSession {
            verifier: hs.verifier().clone(),
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let qr = QrPayload::parse(&hs.qr_text(Timestamp::now()).unwrap()).unwrap();
    let (hello, _) = bidkit_protocol::PhoneHandshake::start(&qr).unwrap();
    let sid = hs.session_id().to_hex();
    let resp = http
        .post(format!("{base}/v1/sessions/{sid}/join"))
        .body(hello)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http
        .post(format!("{base}/v1/sessions/{sid}/messages"))
        .bearer_auth(&created.tool_token)
        .body(vec![0u8; bidkit_protocol::record::MAX_RECORD_LEN + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: ErrorBody = resp.json().await.unwrap();
    assert_eq!(body.code, "message-too-large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_never_answers_times_out_with_a_typed_error() {
    let (relay, _) = tap_relay(relay_config()).await;
    let cc = ClientConfig {
        answer_timeout: Duration::from_millis(400),
        ..client_config(Transport::WebSocket)
    };
    let tool = ToolSession::open(relay.relay_address(), Suite::Gm, Purpose::Sign, cc.clone())
        .await
        .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let phone = tokio::spawn(async move {
        let mut conn = PhoneScan::new(&qr, client_config(Transport::WebSocket))
            .unwrap()
            .join()
            .await
            .unwrap();
        let _request = conn.next_request().await.unwrap();
        // … and the holder walks away. Later the phone learns the tool gave up.
        conn.receive(Duration::from_secs(10)).await.unwrap_err()
    });
    let mut conn = tool.wait_for_phone().await.unwrap();
    let err = conn
        .request(&sign_request(Suite::Gm, 1).0)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::PhoneNeverAnswered { .. }));
    assert_eq!(err.code(), "phone-timeout");
    let phone_err = phone.await.unwrap();
    assert_eq!(phone_err.code(), "cancelled", "{phone_err:?}");
    let status = conn.status().await.unwrap();
    assert_eq!(status.state, SessionState::Cancelled);
    assert_eq!(status.cancel_code.as_deref(), Some("phone-timeout"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_that_never_sends_its_request_times_out_on_the_phone() {
    let (relay, _) = tap_relay(relay_config()).await;
    let (_tool, phone) = joined_pair(&relay, Transport::LongPoll).await;
    let mut phone = phone;
    let err = phone.receive(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(err.code(), "tool-timeout");
}

async fn error_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: ErrorBody = resp.json().await.unwrap();
    (status, body.code)
}

async fn raw_session(http: &reqwest::Client, relay: &EmbeddedRelay) -> (ToolHandshake, Created) {
    let hs = ToolHandshake::new(
        Suite::Gm,
        Purpose::Login,
        relay.relay_address(),
        QrPolicy::DEFAULT,
        Timestamp::now(),
    )
    .unwrap();
    let created: Created = http
        .post(format!("http://{}/v1/sessions", relay.addr()))
        .json(&CreateSession {
            verifier: hs.verifier().clone(),
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (hs, created)
}

fn hello_for(hs: &ToolHandshake) -> Vec<u8> {
    let qr = QrPayload::parse(&hs.qr_text(Timestamp::now()).unwrap()).unwrap();
    bidkit_protocol::PhoneHandshake::start(&qr).unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_refusals_are_typed_json() {
    let (relay, _) = tap_relay(relay_config()).await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", relay.addr());
    let (hs, created) = raw_session(&http, &relay).await;
    let sid = hs.session_id().to_hex();

    // Wrong token.
    let r = http
        .get(format!("{base}/v1/sessions/{sid}"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (401, "unauthorized".into()));
    // Unknown session.
    let r = http
        .get(format!("{base}/v1/sessions/{}", "00".repeat(16)))
        .bearer_auth(&created.tool_token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (404, "unknown-session".into()));
    // Posting before a phone joined.
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/messages"))
        .bearer_auth(&created.tool_token)
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (409, "not-joined".into()));
    // A hello of a future version.
    let mut hello = hello_for(&hs);
    hello[0] = 2;
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/join"))
        .body(hello.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "version-mismatch".into()));
    // A hello with a forged rotating code.
    hello[0] = 1;
    let mut forged = JoinHello::decode(&hello).unwrap();
    forged.mac[0] ^= 1;
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/join"))
        .body(forged.to_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (403, "qr-bad-mac".into()));
    // A hello of another session posted to this one.
    let (other, _) = raw_session(&http, &relay).await;
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/join"))
        .body(hello_for(&other))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "wrong-session".into()));
    // The phone may not mark a session done.
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/join"))
        .body(hello)
        .send()
        .await
        .unwrap();
    let joined: bidkit_relay::api::Joined = r.json().await.unwrap();
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/done"))
        .bearer_auth(&joined.phone_token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (403, "forbidden".into()));
    // Cancelled sessions refuse further messages.
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/cancel"))
        .bearer_auth(&created.tool_token)
        .json(&bidkit_relay::api::CancelBody {
            code: Some("user-cancelled".into()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{base}/v1/sessions/{sid}/messages"))
        .bearer_auth(&joined.phone_token)
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (409, "session-closed".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_and_joining_are_rate_limited_per_address() {
    let config = RelayConfig {
        session_rate: Some(RateLimit {
            per_second: 0.001,
            burst: 3.0,
        }),
        ..relay_config()
    };
    let (relay, _) = tap_relay(config).await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        raw_session(&http, &relay).await;
    }
    let hs = ToolHandshake::new(
        Suite::Gm,
        Purpose::Login,
        relay.relay_address(),
        QrPolicy::DEFAULT,
        Timestamp::now(),
    )
    .unwrap();
    let r = http
        .post(format!("http://{}/v1/sessions", relay.addr()))
        .json(&CreateSession {
            verifier: hs.verifier().clone(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (429, "rate-limited".into()));
}
