//! Property tests: encodings round-trip, parsers never panic, any flipped byte is caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use bidkit_crypto::HashAlgorithm;
use bidkit_crypto::kex::EphemeralSecret;
use bidkit_protocol::fuzz::{self, TestRng};
use bidkit_protocol::message::*;
use bidkit_protocol::qr::QrPayload;
use bidkit_protocol::{Message, Purpose, RelayAddress, SecretBytes, SessionId, Suite};
use proptest::prelude::*;

fn suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Gm), Just(Suite::Nist)]
}

fn purpose() -> impl Strategy<Value = Purpose> {
    (0usize..Purpose::ALL.len()).prop_map(|i| Purpose::ALL[i])
}

fn relay() -> impl Strategy<Value = RelayAddress> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| RelayAddress::from_socket(
            SocketAddr::from((Ipv4Addr::from(ip), port))
        )),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| RelayAddress::from_socket(
            SocketAddr::from((Ipv6Addr::from(ip), port))
        )),
        (
            "[a-z][a-z0-9-]{0,30}(\\.[a-z]{2,6}){1,2}",
            proptest::option::of(1u16..),
            "(/[a-z0-9]{1,10}){0,3}"
        )
            .prop_map(|(host, port, path)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                RelayAddress::new(&format!("https://{host}{port}{path}")).unwrap()
            }),
    ]
}

prop_compose! {
    fn qr_payload()(
        suite in suite(),
        purpose in purpose(),
        relay in relay(),
        sid in any::<[u8; 16]>(),
        seed in any::<u64>(),
        secret in any::<[u8; 16]>(),
        issued_at in any::<u32>(),
        step in any::<u16>(),
        mac in any::<[u8; 8]>(),
    ) -> QrPayload {
        let mut rng = TestRng::new(&seed.to_string());
        let key = EphemeralSecret::generate_with_rng(suite, &mut rng).unwrap().public_key();
        QrPayload {
            suite,
            purpose,
            relay,
            session_id: SessionId(sid),
            tool_key: key,
            secret: zeroize::Zeroizing::new(secret),
            issued_at,
            step,
            mac,
        }
    }
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,40}"
}

fn placement() -> impl Strategy<Value = SealPlacement> {
    (
        text(),
        any::<u32>(),
        -1.0e6f32..1.0e6,
        -1.0e6f32..1.0e6,
        prop_oneof![
            Just(PlacementMode::Position),
            text().prop_map(|keyword| PlacementMode::Keyword { keyword }),
            (any::<u32>(), any::<u32>())
                .prop_map(|(slice, slices)| PlacementMode::Seam { slice, slices }),
            Just(PlacementMode::Batch),
        ],
    )
        .prop_map(|(seal, page, x_mm, y_mm, mode)| SealPlacement {
            seal,
            page,
            x_mm,
            y_mm,
            mode,
        })
}

fn sign_item() -> impl Strategy<Value = SignItem> {
    (
        text(),
        text(),
        any::<u32>(),
        proptest::collection::vec(placement(), 0..4),
        prop_oneof![Just(HashAlgorithm::Sm3), Just(HashAlgorithm::Sha256)],
        bytes(40),
        bytes(200),
    )
        .prop_map(
            |(id, name, page_count, seals, digest_algorithm, document_digest, prepared)| SignItem {
                id,
                document: DocumentInfo { name, page_count },
                seals,
                digest_algorithm,
                document_digest,
                prepared,
            },
        )
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (bytes(40), text()).prop_map(|(challenge, requester)| Message::LoginRequest(
            LoginRequest {
                challenge,
                requester
            }
        )),
        (proptest::collection::vec(bytes(100), 0..3), bytes(80)).prop_map(
            |(certificate_chain, signature)| Message::LoginResponse(LoginResponse {
                certificate_chain,
                signature
            })
        ),
        proptest::collection::vec(sign_item(), 0..4)
            .prop_map(|items| Message::SignRequest(SignRequest { items })),
        (
            proptest::collection::vec(bytes(100), 0..3),
            proptest::collection::vec((text(), bytes(80)), 0..4)
        )
            .prop_map(
                |(certificate_chain, sigs)| Message::SignResponse(SignResponse {
                    certificate_chain,
                    signatures: sigs
                        .into_iter()
                        .map(|(id, signature)| ItemSignature { id, signature })
                        .collect(),
                })
            ),
        text().prop_map(|reason| Message::EncryptionCertRequest(EncryptionCertRequest { reason })),
        (bytes(100), proptest::collection::vec(bytes(100), 0..3)).prop_map(
            |(encryption_certificate, signing_chain)| {
                Message::EncryptionCertResponse(EncryptionCertResponse {
                    encryption_certificate,
                    signing_chain,
                })
            }
        ),
        proptest::collection::vec((text(), text(), text(), bytes(150)), 0..4).prop_map(|items| {
            Message::UnwrapRequest(UnwrapRequest {
                items: items
                    .into_iter()
                    .map(|(id, label, tender, wrapped_key)| UnwrapItem {
                        id,
                        label,
                        tender,
                        wrapped_key,
                    })
                    .collect(),
            })
        }),
        proptest::collection::vec((text(), bytes(48)), 0..4).prop_map(|keys| {
            Message::UnwrapResponse(UnwrapResponse {
                keys: keys
                    .into_iter()
                    .map(|(id, k)| UnwrappedKey {
                        id,
                        key: SecretBytes::new(k),
                    })
                    .collect(),
            })
        }),
        (text(), text(), text(), bytes(60)).prop_map(|(document, seal, reason, prepared)| {
            Message::RevokeSealRequest(RevokeSealRequest {
                document,
                seal,
                reason,
                prepared,
            })
        }),
        (text(), text(), text(), bytes(32), bytes(60)).prop_map(
            |(tender, project_code, bid_file, file_digest, prepared)| {
                Message::SubmitRequest(SubmitRequest {
                    tender,
                    project_code,
                    bid_file,
                    file_digest,
                    prepared,
                })
            }
        ),
        (text(), text(), text(), bytes(60)).prop_map(|(tender, project_code, reason, prepared)| {
            Message::WithdrawRequest(WithdrawRequest {
                tender,
                project_code,
                reason,
                prepared,
            })
        }),
        (
            text(),
            text(),
            bytes(32),
            proptest::collection::vec(text(), 0..4),
            bytes(60)
        )
            .prop_map(|(tender, project_code, record_digest, lines, prepared)| {
                Message::ConfirmOpeningRequest(ConfirmOpeningRequest {
                    tender,
                    project_code,
                    record_digest,
                    lines,
                    prepared,
                })
            }),
        (proptest::collection::vec(bytes(100), 0..3), bytes(80)).prop_map(
            |(certificate_chain, signature)| Message::Approval(Approval {
                certificate_chain,
                signature
            })
        ),
        text().prop_map(|message| Message::Refuse(Refusal {
            reason: RefuseReason::WrongPin,
            message
        })),
        text().prop_map(|reason| Message::Cancel(Cancel { reason })),
        (text(), text()).prop_map(|(code, message)| Message::Error(ErrorReport { code, message })),
        (any::<bool>(), text())
            .prop_map(|(ok, message)| Message::Finished(Finished { ok, message })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn qr_payload_round_trips(qr in qr_payload()) {
        let text = qr.to_text();
        prop_assert!(text.len() <= 4 + (81usize + 1 + 200).div_ceil(5) * 8);
        let back = QrPayload::parse(&text).unwrap();
        prop_assert_eq!(&back, &qr);
        prop_assert_eq!(QrPayload::from_bytes(&qr.to_bytes()).unwrap(), qr);
    }

    #[test]
    fn qr_payload_with_a_changed_byte_never_panics(qr in qr_payload(), at in any::<prop::sample::Index>(), x in 1u8..) {
        let mut b = qr.to_bytes();
        let i = at.index(b.len());
        b[i] ^= x;
        if let Ok(parsed) = QrPayload::from_bytes(&b) {
            // Anything that still parses re-encodes to exactly the same bytes.
            prop_assert_eq!(parsed.to_bytes(), b);
        }
    }

    #[test]
    fn messages_round_trip_through_json(m in message()) {
        let json = m.to_json().unwrap();
        prop_assert_eq!(Message::from_json(&json).unwrap(), m);
    }

    #[test]
    fn messages_round_trip_through_the_channel_and_any_flip_is_caught(
        m in message(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let purpose = purpose_of(&m);
        let (mut tool, mut phone) = fuzz::fixed_channels(Suite::Gm, purpose).unwrap();
        let (sender, receiver) = if m.check_allowed(bidkit_protocol::Role::Tool, purpose).is_ok() {
            (&mut tool, &mut phone)
        } else {
            (&mut phone, &mut tool)
        };
        let rec = sender.seal(&m).unwrap();
        let mut flipped = rec.clone();
        let i = flip.index(flipped.len());
        flipped[i] ^= 1 << bit;
        prop_assert!(receiver.open(&flipped).is_err());
        prop_assert_eq!(receiver.open(&rec).unwrap(), m);
        prop_assert_eq!(receiver.open(&rec).unwrap_err().code(), "replay");
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(data in bytes(400)) {
        fuzz::parse_untrusted(&data);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "BK1:[A-Z2-7]{0,200}") {
        fuzz::parse_untrusted(s.as_bytes());
    }
}

fn purpose_of(m: &Message) -> Purpose {
    Purpose::ALL
        .into_iter()
        .find(|p| {
            m.check_allowed(bidkit_protocol::Role::Tool, *p).is_ok()
                || m.check_allowed(bidkit_protocol::Role::Phone, *p).is_ok()
        })
        .unwrap()
}
