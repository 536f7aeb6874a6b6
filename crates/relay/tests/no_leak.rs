//! The relay is blind: record every byte it receives and sends (on the wire) and every
//! byte it stores (in memory, and on the wire to Redis) during a sign and an unwrap
//! exchange, and check that no digest, prepared message, signature, key, certificate,
//! PIN or QR secret appears raw, in hex or in base64.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bidkit_crypto::Suite;
use bidkit_protocol::qr::QrPayload;
use bidkit_protocol::{Message, Purpose, RelayAddress, Timestamp};
use bidkit_relay::{AnyStore, EmbeddedRelay, PhoneScan, RedisStore, ToolSession, Transport};
use common::*;

/// Run one sign and one unwrap exchange with the tool and phone both reaching the
/// relay at `relay`; returns every secret involved.
async fn exchange(
    relay: RelayAddress,
    suite: Suite,
    transport: Transport,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut secrets: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let phone = Arc::new(Phone::new(suite));
    secrets.push(("signing private key", phone.signing.to_bytes().to_vec()));
    secrets.push((
        "encryption private key",
        phone.encryption.to_bytes().to_vec(),
    ));
    secrets.push(("PIN", phone.pin.as_bytes().to_vec()));
    for c in &phone.chain {
        secrets.push(("certificate", c.clone()));
    }
    secrets.push(("encryption certificate", phone.encryption_cert.clone()));

    for purpose in [Purpose::Sign, Purpose::Unwrap] {
        let content_key = bidkit_crypto::rng::random_array::<32>().unwrap().to_vec();
        let tool = ToolSession::open(relay.clone(), suite, purpose, client_config(transport))
            .await
            .unwrap();
        let qr = tool.qr_text(Timestamp::now()).unwrap();
        secrets.push(("QR secret", QrPayload::parse(&qr).unwrap().secret.to_vec()));
        let phone_task = {
            let phone = phone.clone();
            tokio::spawn(async move {
                let mut conn = PhoneScan::new(&qr, client_config(transport))
                    .unwrap()
                    .join()
                    .await
                    .unwrap();
                let req = conn.next_request().await.unwrap();
                let answer = phone.answer(&req, &conn, "480915");
                conn.respond(&answer).await.unwrap();
                conn.wait_finished().await.unwrap();
            })
        };
        let mut conn = tool.wait_for_phone().await.unwrap();
        let request = match purpose {
            Purpose::Sign => {
                let (request, digests) = sign_request(suite, 3);
                for d in digests {
                    secrets.push(("document digest", d));
                }
                if let Message::SignRequest(r) = &request {
                    for item in &r.items {
                        secrets.push(("prepared message", item.prepared.clone()));
                    }
                }
                request
            }
            _ => {
                let request = request_for(Purpose::Unwrap, &phone, &content_key);
                if let Message::UnwrapRequest(r) = &request {
                    secrets.push(("wrapped key", r.items[0].wrapped_key.clone()));
                }
                secrets.push(("content key", content_key.clone()));
                request
            }
        };
        match conn.request(&request).await.unwrap() {
            Message::SignResponse(resp) => {
                for s in resp.signatures {
                    secrets.push(("signature", s.signature));
                }
            }
            Message::UnwrapResponse(resp) => {
                assert_eq!(resp.keys[0].key.expose(), content_key.as_slice());
            }
            other => panic!("unexpected {}", other.kind()),
        }
        conn.finish(true, "ok").await.unwrap();
        phone_task.await.unwrap();
    }
    secrets
}

async fn proxied(target: SocketAddr) -> (RelayAddress, Arc<Mutex<Vec<u8>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let addr = recording_proxy(target, log.clone()).await;
    (RelayAddress::from_socket(addr), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_and_its_memory_store_see_only_ciphertext() {
    for (suite, transport) in [
        (Suite::Gm, Transport::WebSocket),
        (Suite::Nist, Transport::LongPoll),
    ] {
        let tap = TapStore::default();
        let relay = EmbeddedRelay::start_with(tap.clone(), relay_config())
            .await
            .unwrap();
        let (address, wire) = proxied(relay.addr()).await;
        let secrets = exchange(address, suite, transport).await;
        let wire = wire.lock().unwrap().clone();
        assert!(
            wire.len() > 2000,
            "the proxy saw the traffic ({} bytes)",
            wire.len()
        );
        assert!(!tap.logged().is_empty());
        assert_no_leak("the relay's wire", &wire, &secrets);
        assert_no_leak("the relay's store", &tap.logged(), &secrets);
        relay.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_and_redis_see_only_ciphertext() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let (redis_proxy, redis_wire) = proxied(SocketAddr::from(([127, 0, 0, 1], redis.port))).await;
    let redis_url = format!("redis://{}/", redis_proxy.socket().unwrap());
    let store = RedisStore::connect(&redis_url).await.unwrap();
    let relay = EmbeddedRelay::start_with(AnyStore::Redis(store), relay_config())
        .await
        .unwrap();
    let (address, wire) = proxied(relay.addr()).await;
    let secrets = exchange(address, Suite::Gm, Transport::WebSocket).await;
    let wire = wire.lock().unwrap().clone();
    let redis_wire = redis_wire.lock().unwrap().clone();
    assert!(redis_wire.len() > 2000, "the Redis proxy saw the traffic");
    assert_no_leak("the relay's wire", &wire, &secrets);
    assert_no_leak("Redis", &redis_wire, &secrets);
    relay.shutdown().await.unwrap();
}

#[test]
fn the_leak_detector_finds_every_form() {
    let secret = b"\x01\x02\x03 a secret of thirty-two bytes!";
    for form in leak_forms(secret) {
        let mut hay = b"prefix ".to_vec();
        hay.extend_from_slice(&form);
        hay.extend_from_slice(b" suffix");
        let found =
            std::panic::catch_unwind(|| assert_no_leak("x", &hay, &[("s", secret.to_vec())]));
        assert!(found.is_err());
    }
    // Base64 of the secret embedded at any offset inside a larger blob is caught.
    use base64::Engine as _;
    for offset in 0..3 {
        let mut blob = vec![9u8; offset];
        blob.extend_from_slice(secret);
        blob.extend_from_slice(b"tail");
        let text = base64::engine::general_purpose::STANDARD.encode(&blob);
        let found = std::panic::catch_unwind(|| {
            assert_no_leak("x", text.as_bytes(), &[("s", secret.to_vec())])
        });
        assert!(found.is_err(), "offset {offset}");
    }
}
