//! The holder's consent ([`ScanObserver::consent`]): asked once the verification code and
//! the full request (after a sign session's signer question) have been shown, before any
//! key use. Approving with a PIN given only there signs; refusing there tells the tool
//! `user-refused` and uses no key; "the codes differ" refuses with `code-mismatch`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use bidkit_app::AppError;
use bidkit_app::scan::{
    Consent, ScanObserver, ScanOptions, ScanOutcome, ScanReport, ScanUnlock, scan,
};
use bidkit_crypto::Suite;
use bidkit_keystore::{Home, KeystoreConfig, Operation, PersonDetails, Phone, RecordFilter};
use bidkit_protocol::message::*;
use bidkit_protocol::{Message, Purpose, Timestamp};
use bidkit_relay::{ClientConfig, ClientError, EmbeddedRelay, ToolSession};
use zeroize::Zeroizing;

const PIN: &str = "246810";

/// What the phone showed, in order, and what the holder answers when asked.
struct Holder {
    seen: Vec<String>,
    answer: Option<Consent>,
}

impl ScanObserver for Holder {
    fn joined(&mut self, _purpose: Purpose, _relay: &str, code: &str) {
        self.seen.push(format!("code {code}"));
    }
    fn request(&mut self, summary: &[String]) {
        self.seen.push(format!("request {}", summary.join(" / ")));
    }
    fn consent(&mut self) -> Option<Consent> {
        self.seen.push("consent".into());
        self.answer.take()
    }
}

async fn phone() -> (tempfile::TempDir, Arc<Phone>, EmbeddedRelay) {
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
    (dir, Arc::new(phone), EmbeddedRelay::start().await.unwrap())
}

fn sign_request() -> Message {
    let digest = vec![7; 32];
    let mut prepared = b"\x31\x69\x30\x18\x06\x09signed-attrs\x04\x20".to_vec();
    prepared.extend_from_slice(&digest);
    Message::SignRequest(SignRequest {
        items: vec![SignItem {
            id: "a".into(),
            document: DocumentInfo {
                name: "投标文件.pdf".into(),
                page_count: 3,
            },
            seals: Vec::new(),
            digest_algorithm: Suite::Gm.hash(),
            document_digest: digest,
            prepared,
        }],
    })
}

/// A sign session: the tool first asks which certificate will sign, then sends the
/// request; the phone scans with no PIN in its options and `answer` as consent.
async fn sign_session(
    phone: &Arc<Phone>,
    relay: &EmbeddedRelay,
    answer: Consent,
) -> (
    Result<Message, ClientError>,
    Result<ScanReport, AppError>,
    Vec<String>,
) {
    let tool = ToolSession::open(
        relay.relay_address(),
        Suite::Gm,
        Purpose::Sign,
        ClientConfig::default(),
    )
    .await
    .unwrap();
    let opts = ScanOptions::new(tool.qr_text(Timestamp::now()).unwrap(), ScanUnlock::None);
    let p = phone.clone();
    let scanning = tokio::spawn(async move {
        let mut holder = Holder {
            seen: Vec::new(),
            answer: Some(answer),
        };
        let report = scan(p, opts, &mut holder).await;
        (report, holder.seen)
    });
    let mut conn = tool.wait_for_phone().await.unwrap();
    let signer = conn
        .request(&Message::SignerRequest(SignerRequest { seal: None }))
        .await
        .unwrap();
    assert!(matches!(signer, Message::SignerResponse(_)), "{signer:?}");
    let answer = conn.request(&sign_request()).await;
    let ok = answer.is_ok();
    conn.finish(ok, if ok { "accepted" } else { "not accepted" })
        .await
        .unwrap();
    let (report, seen) = scanning.await.unwrap();
    (answer, report, seen)
}

fn key_uses(phone: &Phone) -> usize {
    phone
        .records(&RecordFilter::default())
        .unwrap()
        .iter()
        .filter(|r| r.operation == Operation::Sign)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_comes_after_the_full_request_and_its_pin_signs() {
    let (_dir, phone, relay) = phone().await;
    let (answer, report, seen) = sign_session(
        &phone,
        &relay,
        Consent::Approve(ScanUnlock::Pin(Zeroizing::new(PIN.to_owned()))),
    )
    .await;
    assert!(matches!(answer, Ok(Message::SignResponse(_))), "{answer:?}");
    let report = report.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved);
    // The code, the signer question, the real request, then consent — last.
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen[0].starts_with("code "), "{seen:?}");
    assert!(seen[2].contains("投标文件.pdf"), "{seen:?}");
    assert_eq!(seen[3], "consent", "{seen:?}");
    assert_eq!(report.request.join(" / "), seen[2]["request ".len()..]);
    assert_eq!(key_uses(&phone), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_at_consent_tells_the_tool_and_uses_no_key() {
    let (_dir, phone, relay) = phone().await;
    let before = phone.records(&RecordFilter::default()).unwrap().len();
    let (answer, report, seen) = sign_session(&phone, &relay, Consent::Refuse).await;
    assert!(
        matches!(
            answer,
            Err(ClientError::Refused {
                reason: RefuseReason::UserRefused,
                ..
            })
        ),
        "{answer:?}"
    );
    let report = report.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Refused);
    assert_eq!(report.refusal, Some(RefuseReason::UserRefused));
    assert!(report.certificate_serial.is_none());
    assert_eq!(seen.last().map(String::as_str), Some("consent"), "{seen:?}");
    assert_eq!(
        phone.records(&RecordFilter::default()).unwrap().len(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_that_differ_at_consent_refuse_with_code_mismatch() {
    let (_dir, phone, relay) = phone().await;
    let before = phone.records(&RecordFilter::default()).unwrap().len();
    let (answer, report, _) = sign_session(&phone, &relay, Consent::CodesDiffer).await;
    assert!(
        matches!(
            answer,
            Err(ClientError::Refused {
                reason: RefuseReason::CodeMismatch,
                ..
            })
        ),
        "{answer:?}"
    );
    assert_eq!(report.unwrap_err().code(), "code-mismatch");
    assert_eq!(
        phone.records(&RecordFilter::default()).unwrap().len(),
        before
    );
}
