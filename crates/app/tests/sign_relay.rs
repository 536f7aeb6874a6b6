//! The tool side of signing and revoking over the relay, against the emulated phone
//! (`scan`, in this process) on the embedded relay: prepared messages come back
//! signed and verified (signer, chain, every signature) under one approval; a
//! refusal, a wrong PIN, a digest the phone would not sign are typed errors with
//! nothing returned; a phone that signs with another certificate than the one the
//! request was prepared for is `signer-mismatch` (and the phone is told); forged or
//! shuffled signatures are not accepted; the staged flow (the phone names its signer,
//! the tool prepares for it, then the phone signs) runs in one session; a revoke
//! approval comes back verified.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bidkit_app::AppError;
use bidkit_app::revoke::{request_revoke_approval, request_revoke_approval_blocking};
use bidkit_app::scan::{Decision, Quiet, ScanOptions, ScanOutcome, ScanReport, ScanUnlock, scan};
use bidkit_app::session::{QrFrame, SessionObserver, TrustRoots};
use bidkit_app::sign::{
    SignOptions, SignSession, SignedItems, request_signatures, request_signatures_blocking,
};
use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Home, KeystoreConfig, NewSeal, Operation, PersonDetails, Phone, RecordFilter,
    SealKind,
};
use bidkit_pki::Certificate;
use bidkit_protocol::Message;
use bidkit_protocol::message::{
    DocumentInfo, ItemSignature, PlacementMode, RefuseReason, RevokeSealRequest, SealPlacement,
    SignItem, SignResponse,
};
use bidkit_relay::{ClientConfig, ClientError, PhoneScan};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use zeroize::Zeroizing;

const PIN: &str = "246810";
const USCC: &str = "91110000600037341L";
const SEAL: &str = "北京某某建设有限公司公章";

struct Fixture {
    _dir: tempfile::TempDir,
    home: std::path::PathBuf,
    phone: Arc<Phone>,
    suite: Suite,
}

/// A home with one phone: a person, an organisation and its official seal, `suite`.
fn fixture(suite: Suite) -> Fixture {
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
            suite,
        )
        .unwrap();
    phone
        .create_organisation("北京某某建设有限公司", USCC, PIN, suite)
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
        suite,
    }
}

impl Fixture {
    fn options(&self) -> SignOptions {
        let mut opts = SignOptions::new(&self.home, self.suite);
        opts.timeout = Duration::from_secs(30);
        opts
    }

    fn cert(&self, sel: CertSelector) -> Certificate {
        self.phone
            .signing_certificate(&sel, Some(self.suite))
            .unwrap()
    }

    fn org_cert(&self) -> Certificate {
        self.cert(CertSelector::Organisation(USCC.into()))
    }

    fn item(&self, id: &str, fill: u8, bound: bool) -> SignItem {
        let digest = vec![fill; 32];
        // Like CMS signed attributes: the messageDigest attribute carries the digest.
        let mut prepared = format!("\x31\x69\x30\x18signed-attrs-of-{id}\x04\x20").into_bytes();
        if bound {
            prepared.extend_from_slice(&digest);
        }
        SignItem {
            id: id.into(),
            document: DocumentInfo {
                name: format!("投标文件-{id}.pdf"),
                page_count: 12,
            },
            seals: vec![SealPlacement {
                seal: SEAL.into(),
                page: 1,
                x_mm: 150.0,
                y_mm: 240.0,
                mode: PlacementMode::Position,
            }],
            digest_algorithm: self.suite.hash(),
            document_digest: digest,
            prepared,
        }
    }

    /// The phone, waiting for the tool's first QR frame, then scanning it.
    fn phone_scans(
        &self,
        mut frames: UnboundedReceiver<String>,
        opts: impl FnOnce(String) -> ScanOptions + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<ScanReport, AppError>> {
        let phone = self.phone.clone();
        tokio::spawn(async move {
            let qr = frames.recv().await.unwrap();
            scan(phone, opts(qr), &mut Quiet).await
        })
    }

    /// Ask for `items` to be signed while the phone answers with `opts`.
    async fn sign(
        &self,
        items: Vec<SignItem>,
        expected: Option<&Certificate>,
        opts: impl FnOnce(String) -> ScanOptions + Send + 'static,
    ) -> (Result<SignedItems, AppError>, Screen, ScanReportResult) {
        let (mut screen, frames) = Screen::new();
        let phone = self.phone_scans(frames, opts);
        let signed = request_signatures(&self.options(), items, expected, &mut screen).await;
        (signed, screen, phone.await.unwrap())
    }

    fn records(&self, operation: Operation) -> usize {
        self.phone
            .records(&RecordFilter {
                operation: Some(operation),
                ..RecordFilter::default()
            })
            .unwrap()
            .len()
    }
}

type ScanReportResult = Result<ScanReport, AppError>;

fn pin() -> ScanUnlock {
    ScanUnlock::Pin(Zeroizing::new(PIN.to_owned()))
}

/// The tool's screen: hands QR frames to the phone, keeps what it was shown.
struct Screen {
    frames: UnboundedSender<String>,
    joined_code: Option<String>,
    request: Vec<String>,
}

impl Screen {
    fn new() -> (Screen, UnboundedReceiver<String>) {
        let (tx, rx) = unbounded_channel();
        (
            Screen {
                frames: tx,
                joined_code: None,
                request: Vec::new(),
            },
            rx,
        )
    }
}

impl SessionObserver for Screen {
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let _ = self.frames.send(frame.text.to_owned());
        Ok(())
    }
    fn phone_joined(&mut self, code: &str) {
        self.joined_code = Some(code.to_owned());
    }
    fn request_sent(&mut self, summary: &[String]) {
        self.request = summary.to_vec();
    }
}

async fn three_items_are_signed_with_the_seal_and_verified(suite: Suite) {
    let f = fixture(suite);
    let org = f.org_cert();
    let items = vec![
        f.item("a", 1, true),
        f.item("b", 2, true),
        f.item("c", 3, true),
    ];
    let prepared: Vec<Vec<u8>> = items.iter().map(|i| i.prepared.clone()).collect();
    let (signed, screen, report) = f
        .sign(items, Some(&org), |qr| ScanOptions::new(qr, pin()))
        .await;
    let signed = signed.unwrap();
    let report = report.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved);

    // One signature per item, in order, each over its prepared bytes with the
    // organisation's certificate (the seal's), whose path ends at the home's root.
    let ids: Vec<&str> = signed
        .signatures
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(signed.signer().unwrap(), &org);
    assert_eq!(signed.chain.len(), 2, "signer and root");
    assert!(signed.chain[1].is_ca() && signed.chain[1].is_self_issued());
    let key = org.public_key().unwrap();
    for ((_, sig), msg) in signed.signatures.iter().zip(&prepared) {
        key.verify(msg, sig).unwrap();
    }
    assert_eq!(
        signed.signature("b"),
        Some(signed.signatures[1].1.as_slice())
    );

    // Both screens showed the same code; the tool's screen said what the phone shows.
    assert_eq!(signed.verification_code, report.verification_code);
    assert_eq!(
        screen.joined_code.as_deref(),
        Some(report.verification_code.as_str())
    );
    assert_eq!(signed.session_id, report.session_id);
    assert!(
        screen.request.iter().any(|l| l.contains(SEAL)),
        "{:?}",
        screen.request
    );
    assert!(
        report
            .tool_message
            .as_deref()
            .unwrap()
            .contains("3 item(s)"),
        "{report:?}"
    );
    assert_eq!(Some(org.serial_hex()), report.certificate_serial);
    // One approval, one PIN: one usage record for the three items.
    assert_eq!(f.records(Operation::Seal), 1);

    // Without an expected signer the same answer is accepted too.
    let (signed, _, _) = f
        .sign(vec![f.item("d", 4, true)], None, |qr| {
            ScanOptions::new(qr, pin())
        })
        .await;
    assert_eq!(signed.unwrap().signer().unwrap(), &org);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_items_are_signed_with_the_seal_and_verified_sm2() {
    three_items_are_signed_with_the_seal_and_verified(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_items_are_signed_with_the_seal_and_verified_p256() {
    three_items_are_signed_with_the_seal_and_verified(Suite::Nist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_on_the_phone_is_a_typed_error_and_nothing_is_signed() {
    let f = fixture(Suite::Gm);
    let (signed, _, report) = f
        .sign(vec![f.item("a", 1, true)], None, |qr| ScanOptions {
            decision: Decision::Refuse,
            ..ScanOptions::new(qr, ScanUnlock::None)
        })
        .await;
    let err = signed.unwrap_err();
    assert_eq!(err.code(), "user-refused", "{err}");
    assert!(
        matches!(
            err,
            AppError::Refused {
                reason: RefuseReason::UserRefused,
                ..
            }
        ),
        "{err:?}"
    );
    let report = report.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Refused);
    assert!(
        report.tool_message.unwrap().contains("cancelled"),
        "the tool's final word says it gave up"
    );
    assert_eq!(f.records(Operation::Seal), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_is_a_typed_error() {
    let f = fixture(Suite::Gm);
    let (signed, _, report) = f
        .sign(vec![f.item("a", 1, true)], None, |qr| {
            ScanOptions::new(qr, ScanUnlock::Pin(Zeroizing::new("000000".into())))
        })
        .await;
    let err = signed.unwrap_err();
    assert_eq!(err.code(), "wrong-pin", "{err}");
    assert!(matches!(
        err,
        AppError::Refused {
            reason: RefuseReason::WrongPin,
            ..
        }
    ));
    // The phone reports its own side of it.
    assert!(report.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_certificate_than_the_expected_signer_is_signer_mismatch() {
    let f = fixture(Suite::Gm);
    // The request was prepared for the person's certificate, but the seal makes the
    // phone sign with the organisation's.
    let person = f.cert(CertSelector::Person);
    let (signed, _, report) = f
        .sign(vec![f.item("a", 1, true)], Some(&person), |qr| {
            ScanOptions::new(qr, pin())
        })
        .await;
    let err = signed.unwrap_err();
    assert_eq!(err.code(), "signer-mismatch", "{err}");
    assert!(err.to_string().contains(&person.serial_hex()), "{err}");
    // The phone was told why its answer was not used.
    let phone_err = report.unwrap_err();
    assert_eq!(phone_err.code(), "tool-rejected", "{phone_err}");
    assert!(
        phone_err.to_string().contains("signer-mismatch"),
        "{phone_err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_whose_prepared_bytes_miss_its_digest_is_refused_by_the_phone() {
    let f = fixture(Suite::Gm);
    let items = vec![f.item("a", 1, true), f.item("b", 2, false)];
    let (signed, _, report) = f.sign(items, None, |qr| ScanOptions::new(qr, pin())).await;
    let err = signed.unwrap_err();
    assert_eq!(err.code(), "digest-mismatch", "{err}");
    assert_eq!(report.unwrap_err().code(), "digest-mismatch");
    assert_eq!(f.records(Operation::Seal), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_outside_the_trust_roots_is_refused() {
    let f = fixture(Suite::Gm);
    let other = tempfile::tempdir().unwrap();
    let stranger = bidkit_pki::CertificateAuthority::open_or_create(
        other.path(),
        Suite::Gm,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let mut opts = f.options();
    opts.trust = TrustRoots::Roots(vec![stranger.root().clone()]);
    let (mut screen, frames) = Screen::new();
    let phone = f.phone_scans(frames, |qr| ScanOptions::new(qr, pin()));
    let err = request_signatures(&opts, vec![f.item("a", 1, true)], None, &mut screen)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "chain_invalid", "{err}");
    assert_eq!(phone.await.unwrap().unwrap_err().code(), "tool-rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_before_any_qr_code() {
    let f = fixture(Suite::Gm);
    let (mut screen, _frames) = Screen::new();
    let err = request_signatures(&f.options(), Vec::new(), None, &mut screen)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid-option");
    let twice = vec![f.item("a", 1, true), f.item("a", 2, true)];
    let err = request_signatures(&f.options(), twice, None, &mut screen)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"a\""), "{err}");
    // The blocking form refuses to nest runtimes instead of panicking.
    let err =
        request_signatures_blocking(&f.options(), vec![f.item("a", 1, true)], None, &mut screen)
            .unwrap_err();
    assert_eq!(err.code(), "invalid-option");
}

async fn staged_signing(suite: Suite) {
    let f = fixture(suite);
    let org = f.org_cert();
    let (mut screen, frames) = Screen::new();
    let phone = f.phone_scans(frames, |qr| ScanOptions::new(qr, pin()));
    let session = SignSession::open(&f.options(), &mut screen).await.unwrap();
    let session = session.ask_signer(Some(SEAL), &mut screen).await.unwrap();
    // The seal's organisation signs; its chain was verified before anything is
    // prepared. No key was used yet.
    assert_eq!(session.signer().unwrap(), &org);
    assert_eq!(session.signer_chain().len(), 2);
    assert_eq!(f.records(Operation::Seal), 0);
    let code = session.verification_code().to_owned();
    // Prepare for that certificate (the CMS signed attributes would carry its hash).
    let mut items = vec![f.item("a", 1, true), f.item("b", 2, true)];
    for item in &mut items {
        item.prepared
            .extend_from_slice(session.signer().unwrap().fingerprint().as_bytes());
    }
    let signed = session.sign(items, None, &mut screen).await.unwrap();
    assert_eq!(signed.signer().unwrap(), &org);
    assert_eq!(signed.signatures.len(), 2);
    assert_eq!(signed.verification_code, code);
    assert!(
        screen.request.iter().any(|l| l.contains(SEAL)),
        "{:?}",
        screen.request
    );
    let report = phone.await.unwrap().unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved);
    assert_eq!(report.verification_code, code);
    assert_eq!(f.records(Operation::Seal), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_the_phone_names_the_signer_then_signs_sm2() {
    staged_signing(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_the_phone_names_the_signer_then_signs_p256() {
    staged_signing(Suite::Nist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_a_named_signer_other_than_the_expected_one_ends_the_session() {
    let f = fixture(Suite::Gm);
    let person = f.cert(CertSelector::Person);
    let (mut screen, frames) = Screen::new();
    let phone = f.phone_scans(frames, |qr| ScanOptions::new(qr, pin()));
    let session = SignSession::open(&f.options(), &mut screen)
        .await
        .unwrap()
        .ask_signer(Some(SEAL), &mut screen)
        .await
        .unwrap();
    let err = session
        .sign(vec![f.item("a", 1, true)], Some(&person), &mut screen)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "signer-mismatch", "{err}");
    // The phone was waiting for the request; the tool cancelled. Nothing was signed.
    assert!(phone.await.unwrap().is_err());
    assert_eq!(f.records(Operation::Seal), 0);
}

/// A phone that answers a sign request with `forge(request items, real signatures)`.
async fn rogue_phone(
    f: &Fixture,
    forge: fn(&[SignItem], Vec<Vec<u8>>) -> Vec<ItemSignature>,
) -> (AppError, ClientError) {
    let (mut screen, mut frames) = Screen::new();
    let phone = f.phone.clone();
    let suite = f.suite;
    let rogue = tokio::spawn(async move {
        let qr = frames.recv().await.unwrap();
        let mut conn = PhoneScan::new(&qr, ClientConfig::default())
            .unwrap()
            .join()
            .await
            .unwrap();
        let Message::SignRequest(r) = conn.next_request().await.unwrap() else {
            panic!("expected a sign request")
        };
        let org = CertSelector::Organisation(USCC.into());
        let signer = phone.signer(&org, Some(suite), PIN).unwrap();
        let messages: Vec<&[u8]> = r.items.iter().map(|i| i.prepared.as_slice()).collect();
        let real = signer.sign_all(&messages).unwrap();
        conn.respond(&Message::SignResponse(SignResponse {
            certificate_chain: vec![signer.certificate().to_der().to_vec()],
            signatures: forge(&r.items, real),
        }))
        .await
        .unwrap();
        conn.wait_finished().await.unwrap_err()
    });
    let items = vec![f.item("a", 1, true), f.item("b", 2, true)];
    let err = request_signatures(&f.options(), items, None, &mut screen)
        .await
        .unwrap_err();
    (err, rogue.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_shuffled_signatures_are_not_accepted() {
    let f = fixture(Suite::Gm);
    // Each signature under the other item's id: the ids are right, the signatures
    // are not over those items' prepared bytes.
    let (err, phone) = rogue_phone(&f, |items, real| {
        items
            .iter()
            .zip(real.into_iter().rev())
            .map(|(i, signature)| ItemSignature {
                id: i.id.clone(),
                signature,
            })
            .collect()
    })
    .await;
    assert_eq!(err.code(), "signature-invalid", "{err}");
    assert!(phone.to_string().contains("signature-invalid"), "{phone}");
    // The right signatures in the wrong order.
    let (err, _) = rogue_phone(&f, |items, real| {
        items
            .iter()
            .zip(real)
            .map(|(i, signature)| ItemSignature {
                id: i.id.clone(),
                signature,
            })
            .rev()
            .collect()
    })
    .await;
    assert_eq!(err.code(), "answer-invalid", "{err}");
    // One signature missing.
    let (err, _) = rogue_phone(&f, |items, real| {
        vec![ItemSignature {
            id: items[0].id.clone(),
            signature: real[0].clone(),
        }]
    })
    .await;
    assert_eq!(err.code(), "answer-invalid", "{err}");
}

async fn revoke_round_trip(suite: Suite) {
    let f = fixture(suite);
    let org = f.org_cert();
    let statement = b"bidkit/v1/revoke-seal\0\x01\x02\x03".to_vec();
    let request = RevokeSealRequest {
        document: "投标文件.pdf".into(),
        seal: SEAL.into(),
        reason: "盖错位置".into(),
        prepared: statement.clone(),
    };
    let (mut screen, frames) = Screen::new();
    let phone = f.phone_scans(frames, |qr| ScanOptions::new(qr, pin()));
    let approval = request_revoke_approval(&f.options(), request.clone(), Some(&org), &mut screen)
        .await
        .unwrap();
    let report = phone.await.unwrap().unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved);
    assert_eq!(approval.signer().unwrap(), &org);
    org.public_key()
        .unwrap()
        .verify(&statement, &approval.signature)
        .unwrap();
    assert_eq!(approval.verification_code, report.verification_code);
    assert!(
        screen.request.iter().any(|l| l.contains("盖错位置")),
        "{:?}",
        screen.request
    );
    assert_eq!(f.records(Operation::RevokeSeal), 1);

    // Expecting the person's certificate: the organisation's approval is not used.
    let person = f.cert(CertSelector::Person);
    let (mut screen, frames) = Screen::new();
    let phone = f.phone_scans(frames, |qr| ScanOptions::new(qr, pin()));
    let err = request_revoke_approval(&f.options(), request, Some(&person), &mut screen)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "signer-mismatch", "{err}");
    assert_eq!(phone.await.unwrap().unwrap_err().code(), "tool-rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_approval_comes_back_verified_sm2() {
    revoke_round_trip(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_approval_comes_back_verified_p256() {
    revoke_round_trip(Suite::Nist).await;
}

/// The blocking forms, from a thread without a runtime (the phone runs on another).
#[test]
fn the_blocking_forms_work_without_a_runtime() {
    let f = fixture(Suite::Gm);
    let phone_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let org = f.org_cert();

    let (mut screen, mut frames) = Screen::new();
    let p = f.phone.clone();
    let phone = phone_rt.spawn(async move {
        let qr = frames.recv().await.unwrap();
        scan(p, ScanOptions::new(qr, pin()), &mut Quiet).await
    });
    let signed = request_signatures_blocking(
        &f.options(),
        vec![f.item("a", 1, true), f.item("b", 2, true)],
        Some(&org),
        &mut screen,
    )
    .unwrap();
    assert_eq!(signed.signatures.len(), 2);
    assert_eq!(
        phone_rt.block_on(phone).unwrap().unwrap().outcome,
        ScanOutcome::Approved
    );

    let (mut screen, mut frames) = Screen::new();
    let p = f.phone.clone();
    let phone = phone_rt.spawn(async move {
        let qr = frames.recv().await.unwrap();
        scan(p, ScanOptions::new(qr, pin()), &mut Quiet).await
    });
    let approval = request_revoke_approval_blocking(
        &f.options(),
        RevokeSealRequest {
            document: "投标文件.pdf".into(),
            seal: SEAL.into(),
            reason: "重新盖章".into(),
            prepared: b"revoke".to_vec(),
        },
        None,
        &mut screen,
    )
    .unwrap();
    assert_eq!(approval.signer().unwrap(), &org);
    phone_rt.block_on(phone).unwrap().unwrap();
}
