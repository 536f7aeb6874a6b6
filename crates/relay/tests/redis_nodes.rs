//! Scale-out: relay nodes sharing one real redis-server serve the same sessions, and a
//! node restart in the middle of a session loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_protocol::{Message, Purpose, RelayAddress, Timestamp};
use bidkit_relay::{AnyStore, EmbeddedRelay, PhoneScan, RedisStore, ToolSession, Transport};
use common::*;
use tokio::net::TcpListener;

async fn node(redis: &RedisServer) -> EmbeddedRelay {
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    EmbeddedRelay::start_with(AnyStore::Redis(store), relay_config())
        .await
        .unwrap()
}

async fn node_on(redis: &RedisServer, port: u16) -> EmbeddedRelay {
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let mut last_err = None;
    for _ in 0..50 {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => {
                return EmbeddedRelay::start_on(listener, AnyStore::Redis(store), relay_config())
                    .unwrap();
            }
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not rebind port {port}: {last_err:?}");
}

/// The same QR frame with the relay address of `node` (a phone reaching the service
/// through another node).
fn conn_qr_for(node: &EmbeddedRelay, qr: &str) -> String {
    let mut payload = bidkit_protocol::qr::QrPayload::parse(qr).unwrap();
    payload.relay = node.relay_address();
    payload.to_text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_on_node_a_and_phone_on_node_b() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let a = node(&redis).await;
    let b = node(&redis).await;
    for (suite, transport) in [
        (Suite::Gm, Transport::WebSocket),
        (Suite::Nist, Transport::LongPoll),
    ] {
        let phone_keys = Phone::new(suite);
        // The tool talks to node A; its QR code sends the phone to node B.
        let tool = ToolSession::open_via(
            a.relay_address(),
            b.relay_address(),
            suite,
            Purpose::Sign,
            client_config(transport),
        )
        .await
        .unwrap();
        let qr = tool.qr_text(Timestamp::now()).unwrap();
        let qr_copy = qr.clone();
        let phone = tokio::spawn(async move {
            let scan = PhoneScan::new(&qr, client_config(transport)).unwrap();
            let mut conn = scan.join().await.unwrap();
            let req = conn.next_request().await.unwrap();
            let answer = phone_keys.answer(&req, &conn, "480915");
            conn.respond(&answer).await.unwrap();
            conn.wait_finished().await.unwrap();
            conn.verification_code()
        });
        let mut conn = tool.wait_for_phone().await.unwrap();
        // A second phone scanning the same code on node A is turned away, and the
        // tool (on node A too, the store is shared) sees that it was.
        let second = PhoneScan::new(
            &conn_qr_for(&a, &qr_copy),
            client_config(Transport::LongPoll),
        )
        .unwrap()
        .join()
        .await
        .unwrap_err();
        assert_eq!(second.code(), "already-joined");
        let status = conn.status().await.unwrap();
        assert_eq!(status.rejected_joins, 1);
        assert_eq!(status.last_rejected_join.as_deref(), Some("already-joined"));
        let (request, _) = sign_request(suite, 3);
        let Message::SignResponse(resp) = conn.request(&request).await.unwrap() else {
            panic!("expected a sign response")
        };
        assert_eq!(resp.signatures.len(), 3);
        let code = conn.verification_code();
        conn.finish(true, "sealed").await.unwrap();
        assert_eq!(phone.await.unwrap(), code);
    }
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_on_one_node_is_joined_and_served_on_another() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let a = node(&redis).await;
    let b = node(&redis).await;
    let suite = Suite::Gm;
    let phone_keys = Phone::new(suite);
    // The tool talks to node A; the address in the QR code is node B's (two nodes
    // behind one service name): the phone joins and answers through B.
    let tool = ToolSession::open_via(
        a.relay_address(),
        b.relay_address(),
        suite,
        Purpose::Login,
        client_config(Transport::WebSocket),
    )
    .await
    .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    assert_eq!(
        bidkit_protocol::qr::QrPayload::parse(&qr).unwrap().relay,
        b.relay_address()
    );
    let phone = tokio::spawn(async move {
        let mut conn = PhoneScan::new(&qr, client_config(Transport::LongPoll))
            .unwrap()
            .join()
            .await
            .unwrap();
        let req = conn.next_request().await.unwrap();
        let answer = phone_keys.answer(&req, &conn, "480915");
        conn.respond(&answer).await.unwrap();
        conn.wait_finished().await.unwrap();
        conn.verification_code()
    });
    let mut conn = tool.wait_for_phone().await.unwrap();
    let answer = conn
        .request(&request_for(Purpose::Login, &Phone::new(suite), &[]))
        .await
        .unwrap();
    assert_eq!(answer.kind(), "login-response");
    let code = conn.verification_code();
    conn.finish(true, "logged in").await.unwrap();
    assert_eq!(phone.await.unwrap(), code);
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restart_mid_session_loses_nothing() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let port_a = free_port();
    let a = node_on(&redis, port_a).await;
    let port_b = free_port();
    let b = node_on(&redis, port_b).await;
    let suite = Suite::Nist;
    let phone_keys = Phone::new(suite);
    let tool = ToolSession::open_via(
        a.relay_address(),
        RelayAddress::from_socket(b.addr()),
        suite,
        Purpose::Sign,
        client_config(Transport::WebSocket),
    )
    .await
    .unwrap();
    let qr = tool.qr_text(Timestamp::now()).unwrap();
    let (joined_tx, joined_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let phone = tokio::spawn(async move {
        let mut conn = PhoneScan::new(&qr, client_config(Transport::WebSocket))
            .unwrap()
            .join()
            .await
            .unwrap();
        joined_tx.send(()).unwrap();
        // Wait while node B restarts, then carry on through the new node B.
        go_rx.await.unwrap();
        let req = conn.next_request().await.unwrap();
        let answer = phone_keys.answer(&req, &conn, "480915");
        conn.respond(&answer).await.unwrap();
        conn.wait_finished().await.unwrap();
        conn.verification_code()
    });
    let mut conn = tool.wait_for_phone().await.unwrap();
    joined_rx.await.unwrap();

    // Restart node B (the phone's node) in the middle of the session.
    b.shutdown().await.unwrap();
    let (request, _) = sign_request(suite, 2);
    conn.send(&request).await.unwrap(); // queued in Redis while B is down
    let b2 = node_on(&redis, port_b).await;
    // The tool's node restarts too, while the phone works on the answer.
    a.shutdown().await.unwrap();
    go_tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a2 = node_on(&redis, port_a).await;

    let Message::SignResponse(resp) = conn.receive(Duration::from_secs(20)).await.unwrap() else {
        panic!("expected a sign response")
    };
    assert_eq!(resp.signatures.len(), 2);
    let code = conn.verification_code();
    conn.finish(true, "sealed").await.unwrap();
    assert_eq!(phone.await.unwrap(), code);

    a2.shutdown().await.unwrap();
    b2.shutdown().await.unwrap();
}
