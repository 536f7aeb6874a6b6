//! The emulated phone answers every kind of request with its keystore, through a real
//! relay: login (also through the `login` use case), sign a list under one PIN with a
//! seal named by the request, send the encryption certificate, unwrap content keys,
//! approve revoke / submit / withdraw / confirm-opening statements; and refuses what
//! it must (a digest it would not sign, a wrong PIN), with nothing signed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bidkit_app::AppError;
use bidkit_app::login::{LoginObserver, LoginOptions, QrFrame};
use bidkit_app::scan::{Decision, Quiet, ScanOptions, ScanOutcome, ScanReport, ScanUnlock, scan};
use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Home, KeystoreConfig, NewSeal, Operation, PersonDetails, Phone, RecordFilter,
    SealKind,
};
use bidkit_pki::Certificate;
use bidkit_protocol::message::*;
use bidkit_protocol::{Message, Purpose, Timestamp};
use bidkit_relay::{ClientConfig, ClientError, EmbeddedRelay, ToolSession};
use zeroize::Zeroizing;

const PIN: &str = "246810";
const USCC: &str = "91110000600037341L";
const SEAL: &str = "北京某某建设有限公司公章";

struct Fixture {
    _dir: tempfile::TempDir,
    home: std::path::PathBuf,
    phone: Arc<Phone>,
    relay: EmbeddedRelay,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path(), KeystoreConfig::insecure_fast_kdf_for_tests());
    let phone = home.phone("phone").unwrap();
    phone
        .enrol(
            &PersonDetails {
                name: "张三".into(),
                id_number: "11010519491231002X".into(),
                phone_number: "13800000001".into(),
            },
            PIN,
            Suite::Gm,
        )
        .unwrap();
    phone
        .create_organisation("北京某某建设有限公司", USCC, PIN, Suite::Gm)
        .unwrap();
    phone
        .add_seal(&NewSeal {
            kind: SealKind::Official,
            name: SEAL.into(),
            organisation: Some(USCC.into()),
            image: Vec::new(),
            valid_from: None,
            valid_until: None,
        })
        .unwrap();
    Fixture {
        home: dir.path().to_path_buf(),
        _dir: dir,
        phone: Arc::new(phone),
        relay: EmbeddedRelay::start().await.unwrap(),
    }
}

fn pin() -> ScanUnlock {
    ScanUnlock::Pin(Zeroizing::new(PIN.to_owned()))
}

/// Open a `purpose` session, let the phone scan it with `opts`, send `request`;
/// returns the tool's result and the phone's.
async fn exchange(
    f: &Fixture,
    purpose: Purpose,
    request: Message,
    opts: impl FnOnce(String) -> ScanOptions,
) -> (Result<Message, ClientError>, Result<ScanReport, AppError>) {
    let tool = ToolSession::open(
        f.relay.relay_address(),
        Suite::Gm,
        purpose,
        ClientConfig::default(),
    )
    .await
    .unwrap();
    let opts = opts(tool.qr_text(Timestamp::now()).unwrap());
    let phone = f.phone.clone();
    let scanning = tokio::spawn(async move { scan(phone, opts, &mut Quiet).await });
    let mut conn = tool.wait_for_phone().await.unwrap();
    let answer = conn.request(&request).await;
    let ok = answer.is_ok();
    conn.finish(ok, if ok { "accepted" } else { "not accepted" })
        .await
        .unwrap();
    (answer, scanning.await.unwrap())
}

fn signing_cert(f: &Fixture, sel: CertSelector) -> Certificate {
    f.phone.signing_certificate(&sel, Some(Suite::Gm)).unwrap()
}

fn sign_item(id: &str, digest: Vec<u8>, bound: bool) -> SignItem {
    let mut prepared = b"\x31\x69\x30\x18\x06\x09signed-attrs\x04\x20".to_vec();
    if bound {
        prepared.extend_from_slice(&digest);
    }
    SignItem {
        id: id.into(),
        document: DocumentInfo {
            name: "投标文件.pdf".into(),
            page_count: 12,
        },
        seals: vec![SealPlacement {
            seal: SEAL.into(),
            page: 1,
            x_mm: 150.0,
            y_mm: 240.0,
            mode: PlacementMode::Position,
        }],
        digest_algorithm: Suite::Gm.hash(),
        document_digest: digest,
        prepared,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_is_signed_under_one_pin_with_the_seal_the_request_names() {
    let f = fixture().await;
    let items = vec![
        sign_item("a", vec![1; 32], true),
        sign_item("b", vec![2; 32], true),
    ];
    let prepared: Vec<Vec<u8>> = items.iter().map(|i| i.prepared.clone()).collect();
    let (answer, report) = exchange(
        &f,
        Purpose::Sign,
        Message::SignRequest(SignRequest { items }),
        |qr| ScanOptions::new(qr, pin()),
    )
    .await;
    let Message::SignResponse(resp) = answer.unwrap() else {
        panic!("expected a sign response")
    };
    // The seal belongs to the organisation: its certificate signed both items.
    let org = signing_cert(&f, CertSelector::Organisation(USCC.into()));
    assert_eq!(resp.certificate_chain, vec![org.to_der().to_vec()]);
    let key = org.public_key().unwrap();
    for (sig, msg) in resp.signatures.iter().zip(&prepared) {
        key.verify(msg, &sig.signature).unwrap();
    }
    let report = report.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved);
    assert!(
        report.request.iter().any(|l| l.contains(SEAL)),
        "{report:?}"
    );
    // One request, one record: operation seal, with the seal, ok.
    let records = f
        .phone
        .records(&RecordFilter {
            operation: Some(Operation::Seal),
            ..RecordFilter::default()
        })
        .unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].result, "ok");
    assert!(records[0].seal_id.is_some());
    assert_eq!(records[0].detail, "2 messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_that_is_not_what_would_be_signed_is_refused() {
    let f = fixture().await;
    let items = vec![
        sign_item("a", vec![1; 32], true),
        sign_item("b", vec![2; 32], false),
    ];
    let (answer, report) = exchange(
        &f,
        Purpose::Sign,
        Message::SignRequest(SignRequest { items }),
        |qr| ScanOptions::new(qr, pin()),
    )
    .await;
    assert!(
        matches!(
            answer,
            Err(ClientError::Refused {
                reason: RefuseReason::DigestMismatch,
                ..
            })
        ),
        "{answer:?}"
    );
    assert_eq!(report.unwrap_err().code(), "digest-mismatch");
    assert!(
        f.phone
            .records(&RecordFilter::default())
            .unwrap()
            .iter()
            .all(|r| r.operation != Operation::Seal && r.operation != Operation::Sign)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encryption_certificate_and_unwrapped_keys_come_back_through_the_session() {
    let f = fixture().await;
    let (answer, report) = exchange(
        &f,
        Purpose::GetEncryptionCert,
        Message::EncryptionCertRequest(EncryptionCertRequest {
            reason: "某某项目投标".into(),
        }),
        |qr| ScanOptions::new(qr, pin()),
    )
    .await;
    let Message::EncryptionCertResponse(resp) = answer.unwrap() else {
        panic!("expected the encryption certificate")
    };
    report.unwrap();
    let enc = Certificate::from_der(&resp.encryption_certificate).unwrap();
    assert_eq!(enc.purpose(), Some(bidkit_pki::KeyPurpose::Encryption));

    // Wrap two content keys to it, as a bid file does; the phone unwraps them.
    let keys = [[7u8; 16], [9u8; 16]];
    let items = keys
        .iter()
        .enumerate()
        .map(|(i, k)| UnwrapItem {
            id: format!("bid-{i}"),
            label: "投标文件.bkb".into(),
            tender: "某某项目".into(),
            wrapped_key: bidkit_crypto::wrap::wrap(&enc.public_key().unwrap(), k).unwrap(),
        })
        .collect();
    let (answer, report) = exchange(
        &f,
        Purpose::Unwrap,
        Message::UnwrapRequest(UnwrapRequest { items }),
        |qr| ScanOptions::new(qr, pin()),
    )
    .await;
    let Message::UnwrapResponse(resp) = answer.unwrap() else {
        panic!("expected unwrapped keys")
    };
    assert_eq!(resp.keys.len(), 2);
    for (got, want) in resp.keys.iter().zip(&keys) {
        assert_eq!(got.key.expose(), want);
    }
    assert_eq!(report.unwrap().outcome, ScanOutcome::Approved);
    let decrypts = f
        .phone
        .records(&RecordFilter {
            operation: Some(Operation::Decrypt),
            ..RecordFilter::default()
        })
        .unwrap();
    assert_eq!(decrypts.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_approved_with_a_signature() {
    let f = fixture().await;
    let person = signing_cert(&f, CertSelector::Person).public_key().unwrap();
    let org = signing_cert(&f, CertSelector::Organisation(USCC.into()))
        .public_key()
        .unwrap();
    let cases = [
        (
            Purpose::RevokeSeal,
            Message::RevokeSealRequest(RevokeSealRequest {
                document: "投标文件.pdf".into(),
                seal: SEAL.into(),
                reason: "盖错位置".into(),
                prepared: b"revoke".to_vec(),
            }),
            Operation::RevokeSeal,
        ),
        (
            Purpose::Submit,
            Message::SubmitRequest(SubmitRequest {
                tender: "某某项目".into(),
                project_code: "ZB-2026-001".into(),
                bid_file: "投标文件.bkb".into(),
                file_digest: vec![3; 32],
                prepared: b"submit".to_vec(),
            }),
            Operation::SubmitBid,
        ),
        (
            Purpose::Withdraw,
            Message::WithdrawRequest(WithdrawRequest {
                tender: "某某项目".into(),
                project_code: "ZB-2026-001".into(),
                reason: "重新投标".into(),
                prepared: b"withdraw".to_vec(),
            }),
            Operation::WithdrawBid,
        ),
        (
            Purpose::ConfirmOpening,
            Message::ConfirmOpeningRequest(ConfirmOpeningRequest {
                tender: "某某项目".into(),
                project_code: "ZB-2026-001".into(),
                record_digest: vec![4; 32],
                lines: vec!["投标人 A: 100 万元".into()],
                prepared: b"opening".to_vec(),
            }),
            Operation::ConfirmOpening,
        ),
    ];
    for (purpose, request, operation) in cases {
        let prepared = match &request {
            Message::RevokeSealRequest(r) => r.prepared.clone(),
            Message::SubmitRequest(r) => r.prepared.clone(),
            Message::WithdrawRequest(r) => r.prepared.clone(),
            Message::ConfirmOpeningRequest(r) => r.prepared.clone(),
            _ => unreachable!(),
        };
        let (answer, report) =
            exchange(&f, purpose, request, |qr| ScanOptions::new(qr, pin())).await;
        let Message::Approval(a) = answer.unwrap() else {
            panic!("expected an approval for {purpose}")
        };
        // Revoking the organisation's seal is signed with its certificate.
        let key = if purpose == Purpose::RevokeSeal {
            &org
        } else {
            &person
        };
        key.verify(&prepared, &a.signature).unwrap();
        report.unwrap();
        let records = f
            .phone
            .records(&RecordFilter {
                operation: Some(operation),
                ..RecordFilter::default()
            })
            .unwrap();
        assert_eq!(records.len(), 1, "{operation}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuous_session_signs_without_the_pin_and_a_refusal_uses_no_key() {
    let f = fixture().await;
    let session = Arc::new(
        f.phone
            .start_continuous(
                &CertSelector::Organisation(USCC.into()),
                Some(Suite::Gm),
                PIN,
                None,
            )
            .unwrap(),
    );
    let items = vec![sign_item("a", vec![5; 32], true)];
    let (answer, _) = exchange(
        &f,
        Purpose::Sign,
        Message::SignRequest(SignRequest { items }),
        |qr| ScanOptions::new(qr, ScanUnlock::Session(session.clone())),
    )
    .await;
    assert!(matches!(answer.unwrap(), Message::SignResponse(_)));
    let before = f.phone.records(&RecordFilter::default()).unwrap().len();
    let items = vec![sign_item("b", vec![6; 32], true)];
    let (answer, report) = exchange(
        &f,
        Purpose::Sign,
        Message::SignRequest(SignRequest { items }),
        |qr| ScanOptions {
            decision: Decision::Refuse,
            ..ScanOptions::new(qr, ScanUnlock::None)
        },
    )
    .await;
    assert!(matches!(
        answer,
        Err(ClientError::Refused {
            reason: RefuseReason::UserRefused,
            ..
        })
    ));
    assert_eq!(report.unwrap().outcome, ScanOutcome::Refused);
    assert_eq!(
        f.phone.records(&RecordFilter::default()).unwrap().len(),
        before
    );
}

/// Hands each QR frame to the test.
struct Frames(tokio::sync::mpsc::UnboundedSender<String>);

impl LoginObserver for Frames {
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let _ = self.0.send(frame.text.to_owned());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_use_case_verifies_the_phone_against_the_home_ca() {
    let f = fixture().await;
    let mut opts = LoginOptions::new(&f.home, Suite::Gm);
    opts.timeout = Duration::from_secs(30);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let phone = f.phone.clone();
    let scanning = tokio::spawn(async move {
        let qr = rx.recv().await.unwrap();
        scan(phone, ScanOptions::new(qr, pin()), &mut Quiet).await
    });
    let identity = bidkit_app::login::login(&opts, &mut Frames(tx))
        .await
        .unwrap();
    let report = scanning.await.unwrap().unwrap();
    assert_eq!(identity.person.as_ref().unwrap().name, "张三");
    assert_eq!(identity.verification_code, report.verification_code);
    assert_eq!(
        Some(identity.certificate_serial.clone()),
        report.certificate_serial
    );
    assert!(report.tool_message.unwrap().contains("张三"));

    // Trusting another root, the same phone's proof is refused on both sides.
    let other = tempfile::tempdir().unwrap();
    let stranger = bidkit_pki::CertificateAuthority::open_or_create(
        other.path(),
        Suite::Gm,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    opts.trust = bidkit_app::login::TrustRoots::Roots(vec![stranger.root().clone()]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let phone = f.phone.clone();
    let scanning = tokio::spawn(async move {
        let qr = rx.recv().await.unwrap();
        scan(phone, ScanOptions::new(qr, pin()), &mut Quiet).await
    });
    let err = bidkit_app::login::login(&opts, &mut Frames(tx))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "chain_invalid", "{err}");
    let phone_err = scanning.await.unwrap().unwrap_err();
    assert_eq!(phone_err.code(), "tool-rejected", "{phone_err}");
    assert!(
        phone_err.to_string().contains("chain_invalid"),
        "{phone_err}"
    );
}
