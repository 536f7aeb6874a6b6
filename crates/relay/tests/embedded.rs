//! Full sessions over the embedded relay (in-memory store), every purpose, both
//! transports and both suites.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bidkit_crypto::Suite;
use bidkit_protocol::message::{self, RefuseReason};
use bidkit_protocol::{Message, Purpose, Timestamp};
use bidkit_relay::{EmbeddedRelay, MemoryStore, PhoneScan, ToolSession, Transport};
use common::*;

/// Requests whose keys the phone side can use: the test phone is rebuilt from a fixed
/// label so both tasks agree on its keys.
fn request_for_phone(
    purpose: Purpose,
    suite: Suite,
    content_key: &[u8],
) -> (Message, Option<bidkit_crypto::PublicKey>) {
    let phone = fixed_phone(suite);
    let key = phone.signing.public_key();
    (request_for(purpose, &phone, content_key), Some(key))
}

fn fixed_phone(suite: Suite) -> Phone {
    let mut p = Phone::new(suite);
    p.signing = bidkit_crypto::PrivateKey::for_tests(suite, "relay test signing");
    p.encryption = bidkit_crypto::PrivateKey::for_tests(suite, "relay test encryption");
    p
}

async fn run_fixed(relay: &EmbeddedRelay, suite: Suite, purpose: Purpose, transport: Transport) {
    // Same as `run`, with the phone's keys fixed so the tool can wrap to them.
    let content_key = [0x5au8; 16];
    let tool = ToolSession::open(
        relay.relay_address(),
        suite,
        purpose,
        client_config(transport),
    )
    .await
    .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let phone_task = tokio::spawn(async move {
        let phone = fixed_phone(suite);
        let mut conn = PhoneScan::new(&qr, client_config(transport))
            .unwrap()
            .join()
            .await
            .unwrap();
        let request = conn.next_request().await.unwrap();
        let answer = phone.answer(&request, &conn, "480915");
        conn.respond(&answer).await.unwrap();
        assert!(conn.wait_finished().await.unwrap().ok);
        conn.verification_code()
    });
    let mut conn = tool.wait_for_phone().await.unwrap();
    let (request, key) = request_for_phone(purpose, suite, &content_key);
    let answer = conn.request(&request).await.unwrap();
    match (&request, &answer) {
        (Message::LoginRequest(r), Message::LoginResponse(resp)) => {
            message::verify_login_signature(
                key.as_ref().unwrap(),
                &conn.session_id(),
                conn.channel().transcript_hash(),
                &r.challenge,
                &resp.signature,
            )
            .unwrap();
        }
        (Message::SignRequest(r), Message::SignResponse(resp)) => {
            for (item, sig) in r.items.iter().zip(&resp.signatures) {
                key.as_ref()
                    .unwrap()
                    .verify(&item.prepared, &sig.signature)
                    .unwrap();
            }
        }
        (Message::UnwrapRequest(_), Message::UnwrapResponse(resp)) => {
            assert_eq!(resp.keys[0].key.expose(), &content_key);
        }
        (Message::EncryptionCertRequest(_), Message::EncryptionCertResponse(resp)) => {
            assert!(!resp.encryption_certificate.is_empty());
        }
        (_, Message::Approval(a)) => assert!(!a.signature.is_empty()),
        (q, a) => panic!("{} answered with {}", q.kind(), a.kind()),
    }
    let tool_code = conn.verification_code();
    conn.finish(true, "ok").await.unwrap();
    assert_eq!(phone_task.await.unwrap(), tool_code);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_over_the_embedded_relay_with_websocket_and_long_poll() {
    let relay = EmbeddedRelay::start_with(MemoryStore::default(), relay_config())
        .await
        .unwrap();
    run_fixed(&relay, Suite::Gm, Purpose::Login, Transport::WebSocket).await;
    run_fixed(&relay, Suite::Nist, Purpose::Login, Transport::LongPoll).await;
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_purpose_round_trips_in_both_suites() {
    let relay = EmbeddedRelay::start_with(MemoryStore::default(), relay_config())
        .await
        .unwrap();
    for suite in Suite::ALL {
        for purpose in Purpose::ALL {
            let transport = if purpose.code() % 2 == 0 {
                Transport::WebSocket
            } else {
                Transport::LongPoll
            };
            run_fixed(&relay, suite, purpose, transport).await;
        }
    }
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_embedded_relay_starts_and_serves() {
    let relay = EmbeddedRelay::start().await.unwrap();
    assert!(relay.addr().ip().is_loopback());
    let body = reqwest::get(format!("http://{}/healthz", relay.addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "ok");
    run_fixed(&relay, Suite::Gm, Purpose::Sign, Transport::WebSocket).await;
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_is_a_typed_error_and_nothing_is_signed() {
    let relay = EmbeddedRelay::start_with(MemoryStore::default(), relay_config())
        .await
        .unwrap();
    let tool = ToolSession::open(
        relay.relay_address(),
        Suite::Gm,
        Purpose::Sign,
        client_config(Transport::WebSocket),
    )
    .await
    .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let phone = tokio::spawn(async move {
        let mut conn = PhoneScan::new(&qr, client_config(Transport::WebSocket))
            .unwrap()
            .join()
            .await
            .unwrap();
        let _ = conn.next_request().await.unwrap();
        conn.refuse(RefuseReason::UserRefused, "拒绝签章")
            .await
            .unwrap();
        conn.wait_finished().await.unwrap()
    });
    let mut conn = tool.wait_for_phone().await.unwrap();
    let err = conn
        .request(&sign_request(Suite::Gm, 2).0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "refused");
    assert!(matches!(
        err,
        bidkit_relay::ClientError::Refused {
            reason: RefuseReason::UserRefused,
            ..
        }
    ));
    conn.finish(false, "refused on the phone").await.unwrap();
    let fin = phone.await.unwrap();
    assert!(!fin.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_sessions_on_one_relay() {
    let relay = EmbeddedRelay::start_with(MemoryStore::default(), relay_config())
        .await
        .unwrap();
    let address = relay.relay_address();
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let address = address.clone();
        tasks.push(tokio::spawn(async move {
            let transport = if i % 2 == 0 {
                Transport::WebSocket
            } else {
                Transport::LongPoll
            };
            let suite = if i % 3 == 0 { Suite::Nist } else { Suite::Gm };
            let tool = ToolSession::open(address, suite, Purpose::Sign, client_config(transport))
                .await
                .unwrap();
            let qr = tool.qr_text(Timestamp::now()).unwrap();
            let phone = tokio::spawn(async move {
                let keys = Phone::new(suite);
                let mut conn = PhoneScan::new(&qr, client_config(transport))
                    .unwrap()
                    .join()
                    .await
                    .unwrap();
                let req = conn.next_request().await.unwrap();
                let answer = keys.answer(&req, &conn, "480915");
                conn.respond(&answer).await.unwrap();
                conn.wait_finished().await.unwrap();
            });
            let mut conn = tool.wait_for_phone().await.unwrap();
            let answer = conn.request(&sign_request(suite, 2).0).await.unwrap();
            assert_eq!(answer.kind(), "sign-response");
            conn.finish(true, "ok").await.unwrap();
            phone.await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    relay.shutdown().await.unwrap();
}
