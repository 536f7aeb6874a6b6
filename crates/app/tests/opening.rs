//! The opening hall before decryption ([`bidkit_app::opening::load_bids`]), in both
//! suites, with two bidders' phones answering in this process over the embedded
//! relay: bid files encrypted and submitted by scan; then the status of each (bidder,
//! signer and chain, submission time, withdrawal, integrity), a withdrawal, a
//! receipt whose readable part was edited, a statement about no bid file present, a
//! tampered and a truncated bid file, another tender, and which bid may be opened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bidkit_app::AppError;
use bidkit_app::bid::{
    BidObserver, EncryptOptions, EncryptReport, StatementFile, StatementKind, SubmitOptions,
    WithdrawOptions, encrypt_bid, submit_bid, withdraw_bid,
};
use bidkit_app::opening::{OpeningOptions, OpeningStatus, load_bids};
use bidkit_app::scan::{Quiet, ScanOptions, ScanUnlock, scan};
use bidkit_app::session::{QrFrame, SessionObserver, TrustRoots};
use bidkit_app::sign::SignOptions;
use bidkit_bidfile::{BidFileRef, Statement, Verdict, Withdrawal};
use bidkit_crypto::Suite;
use bidkit_keystore::{CertSelector, Home, KeystoreConfig, PersonDetails, Phone};
use time::OffsetDateTime;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use zeroize::Zeroizing;

const PIN: &str = "246810";
const TENDER: &str = "ZB-2026-101";

struct Fixture {
    dir: tempfile::TempDir,
    home: PathBuf,
    suite: Suite,
}

impl Fixture {
    fn new(suite: Suite) -> (Fixture, Arc<Phone>, Arc<Phone>) {
        let dir = tempfile::tempdir().unwrap();
        let home_dir = dir.path().join("home");
        let home = Home::new(&home_dir, KeystoreConfig::insecure_fast_kdf_for_tests());
        let enrol = |name: &str, person: &str, id: &str, mobile: &str| {
            let phone = home.phone(name).unwrap();
            phone
                .enrol(
                    &PersonDetails {
                        name: person.into(),
                        id_number: id.into(),
                        phone_number: mobile.into(),
                    },
                    PIN,
                    suite,
                )
                .unwrap();
            Arc::new(phone)
        };
        let a = enrol("a", "张三", "11010519491231002X", "13800000001");
        let b = enrol("b", "李四", "110105194912310038", "13800000002");
        std::fs::create_dir(dir.path().join("bids")).unwrap();
        (
            Fixture {
                home: home_dir,
                dir,
                suite,
            },
            a,
            b,
        )
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn bids(&self) -> PathBuf {
        self.path("bids")
    }

    fn sign_options(&self) -> SignOptions {
        let mut opts = SignOptions::new(&self.home, self.suite);
        opts.timeout = Duration::from_secs(30);
        opts
    }

    /// Encrypt a payload into `bids/NAME.bid` for `tender`, `phone` answering both
    /// scans, and submit it (receipt `bids/NAME-receipt.json`).
    async fn bid(&self, phone: &Arc<Phone>, name: &str, tender: &str) -> EncryptReport {
        let input = self.path(&format!("{name}.pdf"));
        let bytes: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 8) as u8)
            .collect();
        std::fs::write(&input, bytes).unwrap();
        let mut opts = EncryptOptions::new(
            self.sign_options(),
            &input,
            self.bids().join(format!("{name}.bid")),
            tender,
        );
        opts.chunk_size = Some(16 * 1024);
        let report = with_phone(phone, 2, |screen| {
            Box::pin(async move { encrypt_bid(&opts, screen).await })
        })
        .await;
        let receipt = self.bids().join(format!("{name}-receipt.json"));
        let opts = SubmitOptions::new(self.sign_options(), &report.file, &receipt);
        with_phone(phone, 1, |screen| {
            Box::pin(async move { submit_bid(&opts, screen).await })
        })
        .await;
        report
    }

    fn load(&self, inputs: Vec<PathBuf>, tender: Option<&str>) -> OpeningStatus {
        load_bids(&OpeningOptions {
            inputs,
            tender_id: tender.map(str::to_owned),
            trust: TrustRoots::HomeCa,
            home: self.home.clone(),
            now: OffsetDateTime::now_utc(),
        })
        .unwrap()
    }
}

type Work<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, AppError>> + Send + 'a>>;

/// Run a use case while `phone` answers `scans` sessions one after the other.
async fn with_phone<T>(
    phone: &Arc<Phone>,
    scans: u32,
    work: impl for<'a> FnOnce(&'a mut Screen) -> Work<'a, T>,
) -> T {
    let (mut screen, frames) = Screen::new();
    let scanning = phone_scans(phone.clone(), frames, scans);
    let result = work(&mut screen).await;
    for s in scanning.await.unwrap() {
        s.unwrap();
    }
    result.unwrap()
}

fn phone_scans(
    phone: Arc<Phone>,
    mut frames: UnboundedReceiver<(u32, String)>,
    count: u32,
) -> tokio::task::JoinHandle<Vec<Result<bidkit_app::scan::ScanReport, AppError>>> {
    tokio::spawn(async move {
        let mut reports = Vec::new();
        for session in 1..=count {
            let qr = loop {
                match frames.recv().await {
                    Some((n, text)) if n == session => break Some(text),
                    Some(_) => {}
                    None => break None,
                }
            };
            let Some(qr) = qr else { break };
            let opts = ScanOptions::new(qr, ScanUnlock::Pin(Zeroizing::new(PIN.to_owned())));
            reports.push(scan(phone.clone(), opts, &mut Quiet).await);
        }
        reports
    })
}

/// Hands QR frames (numbered by session) to the phone.
struct Screen {
    frames: UnboundedSender<(u32, String)>,
    sessions: u32,
}

impl Screen {
    fn new() -> (Screen, UnboundedReceiver<(u32, String)>) {
        let (tx, rx) = unbounded_channel();
        (
            Screen {
                frames: tx,
                sessions: 0,
            },
            rx,
        )
    }
}

impl SessionObserver for Screen {
    fn session_opened(&mut self, _relay: &bidkit_protocol::RelayAddress, _embedded: bool) {
        self.sessions += 1;
    }
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let _ = self.frames.send((self.sessions, frame.text.to_owned()));
        Ok(())
    }
}

impl BidObserver for Screen {}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn opening_status_before_decryption(suite: Suite) {
    let (f, a, b) = Fixture::new(suite);
    let ra = f.bid(&a, "a", TENDER).await;
    let rb = f.bid(&b, "b", TENDER).await;
    let before = names(&f.bids());

    // Both intact, signed with a verified chain, submitted, for the tender.
    let status = f.load(vec![f.bids()], None);
    assert_eq!(status.tender_id.as_deref(), Some(TENDER));
    assert_eq!(status.bids.len(), 2);
    for (bid, report) in status.bids.iter().zip([&ra, &rb]) {
        assert_eq!(bid.integrity, Verdict::Intact, "{bid:?}");
        assert!(bid.is_sound(), "{bid:?}");
        assert_eq!(bid.state(), "ok");
        assert_eq!(bid.suite, Some(suite));
        assert_eq!(bid.bidder.as_ref(), Some(&report.bidder));
        assert_eq!(bid.file_id.as_deref(), Some(report.file_id.as_str()));
        assert_eq!(bid.content_size, Some(50_000));
        let signer = bid.signer.as_ref().unwrap();
        assert_eq!(signer.serial, report.signer_serial);
        assert!(signer.verified(), "{signer:?}");
        assert!(signer.chain.len() >= 2, "{signer:?}");
        assert!(bid.submitted_at.is_some(), "{bid:?}");
        assert!(!bid.withdrawn);
        assert_eq!(bid.statements.len(), 1);
        assert!(bid.problems.is_empty(), "{:?}", bid.problems);
    }
    assert!(status.unmatched_statements.is_empty());
    assert!(status.all_sound());
    assert_eq!(status.exit_code(), 0);
    let uscc_a = ra.bidder.uscc.clone();
    assert_eq!(
        status.decryptable(&uscc_a).unwrap().file,
        f.bids().join("a.bid")
    );
    assert!(status.decryptable("000000000000000000").is_err());
    // Nothing was written beside the bids.
    assert_eq!(names(&f.bids()), before);

    // Another tender: unsound, named.
    let other = f.load(vec![f.bids()], Some("ZB-OTHER"));
    assert!(!other.all_sound());
    assert!(other.bids.iter().all(|b| !b.tender_matches));
    assert!(other.bids[0].problems[0].contains("ZB-OTHER"));

    // B withdraws: B is withdrawn, cannot be opened, and does not count against the
    // opening.
    let withdrawal = f.bids().join("b-withdrawal.json");
    let opts = WithdrawOptions {
        submit: SubmitOptions::new(f.sign_options(), &rb.file, &withdrawal),
        reason: "报价有误".into(),
    };
    with_phone(&b, 1, |screen| {
        Box::pin(async move { withdraw_bid(&opts, screen).await })
    })
    .await;
    let status = f.load(vec![f.bids()], None);
    let bid_b = &status.bids[1];
    assert!(bid_b.withdrawn);
    assert_eq!(bid_b.state(), "withdrawn");
    let reasons: Vec<_> = bid_b
        .statements
        .iter()
        .filter(|s| s.kind == StatementKind::Withdrawal)
        .map(|s| s.reason.clone())
        .collect();
    assert_eq!(reasons, [Some("报价有误".to_owned())]);
    let err = status.decryptable(&rb.bidder.uscc).unwrap_err();
    assert!(err.to_string().contains("withdrew"), "{err}");
    assert!(status.all_sound());

    // B signs a withdrawal of A's file (naming B as the bidder): it verifies as a
    // statement, but is not A's, so A is not withdrawn.
    let signer = b.signer(&CertSelector::Person, Some(suite), PIN).unwrap();
    let mut about_a = BidFileRef::of_file(&ra.file).unwrap();
    about_a.bidder = rb.bidder.clone();
    let forged = Withdrawal::new(about_a, "冒名撤标", OffsetDateTime::now_utc());
    let signature = signer
        .sign_all(&[&forged.to_be_signed().unwrap()])
        .unwrap()
        .remove(0);
    let signed = forged
        .with_signature(signer.certificate(), &signature)
        .unwrap();
    let file = StatementFile {
        format: StatementFile::FORMAT.into(),
        kind: StatementKind::Withdrawal,
        statement: serde_json::to_value(signed.statement()).unwrap(),
        signer_serial: signed.certificate().serial_hex(),
        signer: signed.certificate().subject_display(),
        signed_der: hex::encode(signed.to_der().unwrap()),
    };
    let forged_dir = f.path("forged");
    std::fs::create_dir(&forged_dir).unwrap();
    std::fs::copy(&ra.file, forged_dir.join("a.bid")).unwrap();
    std::fs::write(
        forged_dir.join("b-withdraws-a.json"),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
    let status = f.load(vec![forged_dir], None);
    let bid = &status.bids[0];
    assert!(!bid.withdrawn, "{bid:?}");
    assert!(!bid.statements[0].valid);
    assert!(
        bid.problems.iter().any(|p| p.contains("signed for bidder")),
        "{:?}",
        bid.problems
    );

    // A receipt whose readable time was edited: does not verify, named as a problem,
    // and gives no submission time.
    let receipt = f.bids().join("a-receipt.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    json["statement"]["submitted_at"] = "2020-01-01T00:00:00Z".into();
    let edited_dir = f.path("edited");
    std::fs::create_dir(&edited_dir).unwrap();
    std::fs::copy(f.bids().join("a.bid"), edited_dir.join("a.bid")).unwrap();
    std::fs::write(
        edited_dir.join("a-receipt.json"),
        serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
    let status = f.load(vec![edited_dir.clone()], None);
    let bid = &status.bids[0];
    assert!(bid.submitted_at.is_none(), "{bid:?}");
    assert!(!bid.statements[0].valid);
    assert!(
        bid.problems.iter().any(|p| p.contains("a-receipt.json")),
        "{:?}",
        bid.problems
    );

    // Files named directly; a receipt about a bid file not given is unmatched.
    let status = f.load(
        vec![f.bids().join("a.bid"), f.bids().join("b-receipt.json")],
        None,
    );
    assert_eq!(status.bids.len(), 1);
    assert_eq!(status.unmatched_statements.len(), 1);
    assert!(status.unmatched_statements[0].valid);

    // A flipped ciphertext bit and a truncated file: damaged, not sound, the receipt
    // no longer matches.
    let bytes = std::fs::read(f.bids().join("a.bid")).unwrap();
    let damaged = f.path("damaged");
    std::fs::create_dir(&damaged).unwrap();
    let mut flipped = bytes.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x80;
    std::fs::write(damaged.join("flipped.bid"), &flipped).unwrap();
    std::fs::write(damaged.join("truncated.bid"), &bytes[..bytes.len() - 7]).unwrap();
    std::fs::write(damaged.join("junk.bid"), b"not a bid file").unwrap();
    std::fs::copy(&receipt, damaged.join("a-receipt.json")).unwrap();
    let status = f.load(vec![damaged], Some(TENDER));
    assert_eq!(status.bids.len(), 3);
    let by_name = |n: &str| {
        status
            .bids
            .iter()
            .find(|b| b.file.file_name().unwrap() == n)
            .unwrap()
    };
    assert_eq!(by_name("flipped.bid").integrity, Verdict::Damaged);
    assert_eq!(by_name("truncated.bid").integrity, Verdict::Damaged);
    assert_eq!(by_name("junk.bid").integrity, Verdict::Unreadable);
    assert!(status.bids.iter().all(|b| !b.is_sound() && !b.withdrawn));
    assert_eq!(status.exit_code(), 1);
    assert_eq!(status.unmatched_statements.len(), 1);
    // The damaged file still names its bidder, from the header.
    assert_eq!(
        by_name("flipped.bid")
            .bidder
            .as_ref()
            .map(|b| b.uscc.as_str()),
        Some(uscc_a.as_str())
    );
    assert!(status.decryptable(&uscc_a).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_status_before_decryption_gm() {
    opening_status_before_decryption(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_status_before_decryption_nist() {
    opening_status_before_decryption(Suite::Nist).await;
}

#[test]
fn a_missing_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_bids(&OpeningOptions {
        inputs: vec![dir.path().join("nowhere")],
        tender_id: None,
        trust: TrustRoots::HomeCa,
        home: dir.path().to_path_buf(),
        now: OffsetDateTime::now_utc(),
    })
    .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}

// ---------------------------------------------------------------------------------
// Bidders confirm the opening record by scan

use bidkit_app::opening::{
    BIDDER_LINE, ConfirmOptions, ConfirmationFile, confirm_opening, verify_confirmation,
};

async fn bidders_confirm_the_record_by_scan(suite: Suite) {
    let (f, a, b) = Fixture::new(suite);
    let ra = f.bid(&a, "a", TENDER).await;
    // The record (any bytes stand in for the PDF here; the CLI test uses the real one).
    let record = f.path("开标记录.pdf");
    let record_bytes = b"%PDF-1.7\n% opening record\n%%EOF\n".to_vec();
    std::fs::write(&record, &record_bytes).unwrap();
    let uscc = ra.bidder.uscc.clone();
    let confirmation = f.path("开标记录.confirm-a.json");
    let mut opts = ConfirmOptions::new(f.sign_options(), &record, TENDER, &uscc, &confirmation);
    opts.lines = vec![
        format!("{BIDDER_LINE}{}", ra.bidder.name),
        "投标报价 / quoted price: 9876543.21".into(),
    ];

    // The wrong bidder's phone: refused by the tool, nothing written.
    let (mut screen, frames) = Screen::new();
    let scanning = phone_scans(b.clone(), frames, 1);
    let err = confirm_opening(&opts, &mut screen).await.unwrap_err();
    let _ = scanning.await.unwrap();
    assert_eq!(err.code(), "answer-invalid", "{err}");
    assert!(err.to_string().contains("not by bidder"), "{err}");
    assert!(!confirmation.exists());

    // The bidder's phone: confirmed, and it verifies against the record.
    let report = with_phone(&a, 1, |screen| {
        Box::pin(async move { confirm_opening(&opts, screen).await })
    })
    .await;
    assert_eq!(report.statement.bidder.uscc, uscc);
    assert_eq!(report.statement.bidder.name, ra.bidder.name);
    assert_eq!(report.statement.record_size, record_bytes.len() as u64);
    let trust = bidkit_app::session::home_trust(&f.home, suite).unwrap();
    let now = OffsetDateTime::now_utc();
    let v = verify_confirmation(&confirmation, Some(&record), &trust, now).unwrap();
    assert_eq!(v.record_extended, Some(false));
    assert_eq!(v.statement.lines[1], "投标报价 / quoted price: 9876543.21");
    // The agent's seal appends a revision: still the confirmed record.
    let mut sealed = record_bytes.clone();
    sealed.extend_from_slice(b"1 0 obj\n<<>>\nendobj\n%%EOF\n");
    let sealed_path = f.path("开标记录-sealed.pdf");
    std::fs::write(&sealed_path, &sealed).unwrap();
    let v = verify_confirmation(&confirmation, Some(&sealed_path), &trust, now).unwrap();
    assert_eq!(v.record_extended, Some(true));
    // A changed record is not the one confirmed.
    let mut changed = record_bytes.clone();
    changed[10] ^= 1;
    let changed_path = f.path("开标记录-changed.pdf");
    std::fs::write(&changed_path, &changed).unwrap();
    let err = verify_confirmation(&confirmation, Some(&changed_path), &trust, now).unwrap_err();
    assert_eq!(err.code(), "statement-invalid", "{err}");
    assert!(
        err.to_string()
            .contains("not the record that was confirmed"),
        "{err}"
    );
    // An edited readable part, or a statement claiming another bidder, is refused.
    let file: ConfirmationFile =
        serde_json::from_slice(&std::fs::read(&confirmation).unwrap()).unwrap();
    let mut edited = file.clone();
    edited.statement.lines[1] = "投标报价 / quoted price: 1.00".into();
    let edited_path = f.path("edited.json");
    std::fs::write(&edited_path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let err = verify_confirmation(&edited_path, None, &trust, now).unwrap_err();
    assert!(err.to_string().contains("readable part"), "{err}");
    let mut other = file.statement.clone();
    other.bidder.uscc = "110105194912310038".into();
    let mut forged = file.clone();
    forged.statement = other.clone();
    forged.signed = hex::encode(other.to_be_signed().unwrap());
    std::fs::write(&edited_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let err = verify_confirmation(&edited_path, None, &trust, now).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
    let _ = names(f.dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidders_confirm_the_record_by_scan_gm() {
    bidders_confirm_the_record_by_scan(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidders_confirm_the_record_by_scan_nist() {
    bidders_confirm_the_record_by_scan(Suite::Nist).await;
}
