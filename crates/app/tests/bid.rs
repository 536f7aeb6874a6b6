//! Bid files with the phone, end to end over the embedded relay with the emulated
//! phone (`scan`, in this process), in both suites: encrypt (scan for the encryption
//! certificate, scan to sign the header) gives an intact file; decrypting by scan
//! gives the same bytes back, also for an extra recipient; another person's phone
//! cannot decrypt and leaves nothing behind; submission receipts and withdrawals
//! verify, and a tampered one does not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bidkit_app::AppError;
use bidkit_app::bid::{
    BidObserver, BidStep, DecryptOptions, EncryptOptions, EncryptReport, StatementKind,
    SubmitOptions, WithdrawOptions, decrypt_bid, encrypt_bid, submit_bid, verify_statement,
    withdraw_bid,
};
use bidkit_app::scan::{Decision, Quiet, ScanOptions, ScanReport, ScanUnlock, scan};
use bidkit_app::session::{QrFrame, SessionObserver, home_trust};
use bidkit_app::sign::SignOptions;
use bidkit_bidfile::{Progress, RecipientRole, Verdict};
use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Home, KeystoreConfig, Operation, PersonDetails, Phone, RecordFilter,
};
use bidkit_pki::Certificate;
use time::OffsetDateTime;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use zeroize::Zeroizing;

const PIN: &str = "246810";
const TENDER: &str = "ZB-2026-001";

struct Fixture {
    dir: tempfile::TempDir,
    home: PathBuf,
    bidder: Arc<Phone>,
    other: Arc<Phone>,
    suite: Suite,
}

fn enrol(home: &Home, name: &str, person: &str, id: &str, mobile: &str, suite: Suite) -> Phone {
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
    phone
}

/// A home with two phones of two people: the bidder (张三) and someone else (李四).
fn fixture(suite: Suite) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(
        dir.path().join("home"),
        KeystoreConfig::insecure_fast_kdf_for_tests(),
    );
    let bidder = enrol(
        &home,
        "bidder",
        "张三",
        "11010519491231002X",
        "13800000001",
        suite,
    );
    let other = enrol(
        &home,
        "other",
        "李四",
        "110105194912310038",
        "13800000002",
        suite,
    );
    Fixture {
        home: dir.path().join("home"),
        dir,
        bidder: Arc::new(bidder),
        other: Arc::new(other),
        suite,
    }
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sign_options(&self) -> SignOptions {
        let mut opts = SignOptions::new(&self.home, self.suite);
        opts.timeout = Duration::from_secs(30);
        opts
    }

    /// A payload of `len` bytes that is not all alike.
    fn payload(&self, len: usize) -> PathBuf {
        let path = self.path("投标文件.pdf");
        let bytes: Vec<u8> = (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[1])
            .collect();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn encryption_cert(&self, phone: &Phone) -> Certificate {
        phone
            .encryption_certificate(&CertSelector::Person, Some(self.suite))
            .unwrap()
    }

    /// Encrypt `input` for the bidder (plus `extras`), the bidder's phone answering
    /// both scans.
    async fn encrypt(&self, input: &Path, extras: Vec<PathBuf>) -> (EncryptReport, Screen) {
        let mut opts =
            EncryptOptions::new(self.sign_options(), input, self.path("bid.bkb"), TENDER);
        opts.chunk_size = Some(64 * 1024);
        opts.extra_recipients = extras;
        let (mut screen, frames) = Screen::new();
        let phone = phone_scans(self.bidder.clone(), frames, 2);
        let report = encrypt_bid(&opts, &mut screen).await;
        let scans = phone.await.unwrap();
        let report = report.unwrap();
        assert_eq!(scans.len(), 2, "two scans: {scans:?}");
        for s in scans {
            s.unwrap();
        }
        (report, screen)
    }

    /// Decrypt the bid file by the scan of `phone` (as `recipient`, when given).
    async fn decrypt(
        &self,
        phone: &Arc<Phone>,
        recipient: Option<String>,
        output: &Path,
    ) -> (
        Result<bidkit_app::bid::DecryptReport, AppError>,
        Result<ScanReport, AppError>,
        Screen,
    ) {
        let mut opts = DecryptOptions::new(self.sign_options(), self.path("bid.bkb"), output);
        opts.recipient = recipient;
        let (mut screen, frames) = Screen::new();
        let scanning = phone_scans(phone.clone(), frames, 1);
        let report = decrypt_bid(&opts, &mut screen).await;
        let mut scans = scanning.await.unwrap();
        (report, scans.pop().unwrap(), screen)
    }

    fn records(&self, phone: &Phone, operation: Operation) -> usize {
        phone
            .records(&RecordFilter {
                operation: Some(operation),
                ..RecordFilter::default()
            })
            .unwrap()
            .len()
    }
}

fn pin() -> ScanUnlock {
    ScanUnlock::Pin(Zeroizing::new(PIN.to_owned()))
}

/// The phone scans `count` sessions one after the other: for each, it waits for
/// the first QR frame of the next session the tool opens.
fn phone_scans(
    phone: Arc<Phone>,
    frames: UnboundedReceiver<(u32, String)>,
    count: u32,
) -> tokio::task::JoinHandle<Vec<Result<ScanReport, AppError>>> {
    phone_scans_refusing(phone, frames, count, None)
}

/// [`phone_scans`], the holder refusing at scan `refuse_at` (1-based), if given.
fn phone_scans_refusing(
    phone: Arc<Phone>,
    mut frames: UnboundedReceiver<(u32, String)>,
    count: u32,
    refuse_at: Option<u32>,
) -> tokio::task::JoinHandle<Vec<Result<ScanReport, AppError>>> {
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
            let mut opts = ScanOptions::new(qr, pin());
            if refuse_at == Some(session) {
                opts.decision = Decision::Refuse;
            }
            reports.push(scan(phone.clone(), opts, &mut Quiet).await);
        }
        reports
    })
}

/// The tool's screen: hands QR frames (numbered by session) to the phone, keeps the
/// steps and the progress it was shown.
struct Screen {
    frames: UnboundedSender<(u32, String)>,
    sessions: u32,
    codes: Vec<String>,
    steps: Vec<BidStep>,
    progress: Vec<Progress>,
    requests: Vec<Vec<String>>,
}

impl Screen {
    fn new() -> (Screen, UnboundedReceiver<(u32, String)>) {
        let (tx, rx) = unbounded_channel();
        (
            Screen {
                frames: tx,
                sessions: 0,
                codes: Vec::new(),
                steps: Vec::new(),
                progress: Vec::new(),
                requests: Vec::new(),
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
    fn phone_joined(&mut self, code: &str) {
        self.codes.push(code.to_owned());
    }
    fn request_sent(&mut self, summary: &[String]) {
        self.requests.push(summary.to_vec());
    }
}

impl BidObserver for Screen {
    fn step(&mut self, step: BidStep, _detail: &str) {
        self.steps.push(step);
    }
    fn progress(&mut self, progress: &Progress) {
        self.progress.push(*progress);
    }
}

/// The names in `dir` (to see that nothing partial is left).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn encrypted_bid_decrypts_by_scan(suite: Suite) {
    let f = fixture(suite);
    let input = f.payload(200_000);
    // An extra recipient: the other person's encryption certificate, from PEM.
    let other_enc = f.encryption_cert(&f.other);
    let extra_pem = f.path("extra.pem");
    std::fs::write(&extra_pem, other_enc.to_pem()).unwrap();

    let (report, screen) = f.encrypt(&input, vec![extra_pem]).await;

    // The report: the bidder, the recipients, the signer, two sessions.
    let bidder_enc = f.encryption_cert(&f.bidder);
    let bidder_sign = f
        .bidder
        .signing_certificate(&CertSelector::Person, Some(suite))
        .unwrap();
    assert_eq!(report.suite, suite);
    assert_eq!(report.tender_id, TENDER);
    assert_eq!(report.bidder.name, "张三");
    assert_eq!(report.content_size, 200_000);
    assert_eq!(report.chunks, 4);
    assert_eq!(report.recipients.len(), 2);
    assert_eq!(report.recipients[0].role, RecipientRole::Bidder);
    assert_eq!(report.recipients[0].serial, bidder_enc.serial_hex());
    assert_eq!(report.recipients[1].role, RecipientRole::Extra);
    assert_eq!(report.recipients[1].serial, other_enc.serial_hex());
    assert_eq!(report.signer_serial, bidder_sign.serial_hex());
    assert_eq!(report.sessions.len(), 2);
    assert_eq!(
        screen.codes,
        report
            .sessions
            .iter()
            .map(|s| s.verification_code.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        screen.steps,
        [
            BidStep::FetchEncryptionCertificate,
            BidStep::Encrypting,
            BidStep::SignHeader,
            BidStep::Written
        ]
    );
    let last = screen.progress.last().unwrap();
    assert_eq!(last.bytes_done, 200_000);
    assert_eq!(last.chunks_done, 4);
    assert_eq!(
        std::fs::metadata(&report.file).unwrap().len(),
        report.file_len
    );
    // The phone showed the header's content-hash fingerprint before signing.
    assert!(
        screen.requests[1].iter().any(|l| l.contains("bid.bkb")),
        "{:?}",
        screen.requests
    );
    assert_eq!(f.records(&f.bidder, Operation::Encrypt), 1);

    // Intact without the key.
    let inspected = bidkit_bidfile::inspect(&report.file);
    assert_eq!(
        inspected.verdict,
        Verdict::Intact,
        "{:?}",
        inspected.problems
    );

    // The bidder decrypts by scan: the same bytes.
    let out = f.path("decrypted.pdf");
    let (decrypted, phone, screen) = f.decrypt(&f.bidder, None, &out).await;
    let decrypted = decrypted.unwrap();
    phone.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&input).unwrap());
    assert_eq!(decrypted.content_size, 200_000);
    assert_eq!(decrypted.content_hash, report.content_hash);
    assert_eq!(decrypted.chunks, 4);
    assert_eq!(decrypted.bidder.name, "张三");
    assert_eq!(decrypted.signer_serial, bidder_sign.serial_hex());
    assert_eq!(decrypted.signer_chain.len(), 2, "signer and root");
    assert_eq!(decrypted.recipient.serial, bidder_enc.serial_hex());
    assert_eq!(decrypted.content_type, "application/pdf");
    assert_eq!(decrypted.file_len, report.file_len);
    assert_eq!(screen.steps.last(), Some(&BidStep::Decrypting));
    assert_eq!(screen.progress.last().unwrap().bytes_done, 200_000);
    assert_eq!(f.records(&f.bidder, Operation::Decrypt), 1);

    // The extra recipient decrypts with its own phone, naming its entry.
    let out2 = f.path("decrypted-extra.pdf");
    let (decrypted, phone, _) = f
        .decrypt(&f.other, Some(other_enc.serial_hex()), &out2)
        .await;
    decrypted.unwrap();
    phone.unwrap();
    assert_eq!(
        std::fs::read(&out2).unwrap(),
        std::fs::read(&input).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_bid_decrypts_by_scan_gm() {
    encrypted_bid_decrypts_by_scan(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_bid_decrypts_by_scan_nist() {
    encrypted_bid_decrypts_by_scan(Suite::Nist).await;
}

async fn a_wrong_phone_cannot_decrypt(suite: Suite) {
    let f = fixture(suite);
    let input = f.payload(70_000);
    let (report, _) = f.encrypt(&input, Vec::new()).await;
    let before = names(f.dir.path());

    // Another person's phone scans the decrypt QR code: its key does not unwrap the
    // bidder's content key; nothing is written.
    let out = f.path("stolen.pdf");
    let (decrypted, phone, _) = f.decrypt(&f.other, None, &out).await;
    let err = decrypted.unwrap_err();
    assert!(
        matches!(err, AppError::Refused { .. }),
        "{err:?} ({})",
        err.code()
    );
    assert!(phone.is_err(), "the phone could not unwrap: {phone:?}");
    assert!(!out.exists());
    assert_eq!(names(f.dir.path()), before, "nothing partial left behind");
    // The bid file is untouched.
    assert_eq!(
        bidkit_bidfile::inspect(&report.file).verdict,
        Verdict::Intact
    );

    // Naming a recipient that is not in the file is refused before any scan.
    let mut opts = DecryptOptions::new(f.sign_options(), &report.file, &out);
    opts.recipient = Some("abcdef".into());
    let err = decrypt_bid(&opts, &mut bidkit_app::session::Silent)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bidfile-no-recipient", "{err}");

    // A tampered bid file is refused before any scan, with nothing written.
    let tampered = f.path("tampered.bkb");
    let mut bytes = std::fs::read(&report.file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&tampered, &bytes).unwrap();
    let opts = DecryptOptions::new(f.sign_options(), &tampered, &out);
    let (mut screen, frames) = Screen::new();
    let scanning = phone_scans(f.bidder.clone(), frames, 1);
    let err = decrypt_bid(&opts, &mut screen).await.unwrap_err();
    drop(screen);
    let _ = scanning.await;
    assert_eq!(err.code(), "bidfile-damaged", "{err}");
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_phone_cannot_decrypt_gm() {
    a_wrong_phone_cannot_decrypt(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_phone_cannot_decrypt_nist() {
    a_wrong_phone_cannot_decrypt(Suite::Nist).await;
}

async fn statements_verify_and_tampered_ones_do_not(suite: Suite) {
    let f = fixture(suite);
    let input = f.payload(10_000);
    let (report, _) = f.encrypt(&input, Vec::new()).await;
    let trust = home_trust(&f.home, suite).unwrap();
    let now = OffsetDateTime::now_utc();

    // Submit: the receipt verifies, also against the bid file.
    let receipt = f.path("receipt.json");
    let opts = SubmitOptions::new(f.sign_options(), &report.file, &receipt);
    let (mut screen, frames) = Screen::new();
    let scanning = phone_scans(f.bidder.clone(), frames, 1);
    let submitted = submit_bid(&opts, &mut screen).await.unwrap();
    scanning.await.unwrap().pop().unwrap().unwrap();
    assert_eq!(submitted.kind, StatementKind::SubmissionReceipt);
    assert_eq!(submitted.tender_id, TENDER);
    assert_eq!(submitted.bidder.name, "张三");
    assert_eq!(submitted.signer_serial, report.signer_serial);
    assert!(
        screen.requests[0][0].contains("Submit bid.bkb"),
        "{:?}",
        screen.requests
    );
    let verified = verify_statement(&receipt, Some(&report.file), &trust, now).unwrap();
    assert_eq!(verified.kind, StatementKind::SubmissionReceipt);
    assert_eq!(verified.bid_file_matches, Some(true));
    assert_eq!(verified.statement["tender_id"], TENDER);
    assert_eq!(f.records(&f.bidder, Operation::SubmitBid), 1);

    // Withdraw: verifies too.
    let withdrawal = f.path("withdrawal.json");
    let opts = WithdrawOptions {
        submit: SubmitOptions::new(f.sign_options(), &report.file, &withdrawal),
        reason: "报价有误，重新投标".into(),
    };
    let (mut screen, frames) = Screen::new();
    let scanning = phone_scans(f.bidder.clone(), frames, 1);
    let withdrawn = withdraw_bid(&opts, &mut screen).await.unwrap();
    scanning.await.unwrap().pop().unwrap().unwrap();
    assert_eq!(withdrawn.kind, StatementKind::Withdrawal);
    let verified = verify_statement(&withdrawal, Some(&report.file), &trust, now).unwrap();
    assert_eq!(verified.statement["reason"], "报价有误，重新投标");
    assert_eq!(f.records(&f.bidder, Operation::WithdrawBid), 1);

    // Tampered: the readable part changed …
    let text = std::fs::read_to_string(&receipt).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["statement"]["submitted_at"] = "2020-01-01T00:00:00Z".into();
    let edited = f.path("receipt-edited.json");
    std::fs::write(&edited, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = verify_statement(&edited, None, &trust, now).unwrap_err();
    assert_eq!(err.code(), "statement-invalid", "{err}");
    assert!(err.to_string().contains("submitted_at"), "{err}");

    // … or the signed statement itself (a byte of the withdrawal's reason).
    let text = std::fs::read_to_string(&withdrawal).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let der_hex = json["signed_der"].as_str().unwrap().to_owned();
    let mut der = hex::decode(&der_hex).unwrap();
    let reason = "报价有误".as_bytes();
    let at = der.windows(reason.len()).position(|w| w == reason).unwrap();
    der[at + reason.len() - 1] ^= 1;
    json["signed_der"] = hex::encode(&der).into();
    let forged = f.path("withdrawal-forged.json");
    std::fs::write(&forged, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = verify_statement(&forged, None, &trust, now).unwrap_err();
    assert_eq!(err.code(), "statement-invalid", "{err}");

    // … or a receipt held against another bid file.
    let err = verify_statement(&receipt, Some(&input), &trust, now).unwrap_err();
    assert_eq!(err.code(), "statement-invalid", "{err}");

    // Another person's phone cannot approve the bidder's submission.
    let receipt2 = f.path("receipt-other.json");
    let opts = SubmitOptions::new(f.sign_options(), &report.file, &receipt2);
    let (mut screen, frames) = Screen::new();
    let scanning = phone_scans(f.other.clone(), frames, 1);
    let err = submit_bid(&opts, &mut screen).await.unwrap_err();
    let _ = scanning.await;
    assert_eq!(err.code(), "signer-mismatch", "{err}");
    assert!(!receipt2.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_verify_and_tampered_ones_do_not_gm() {
    statements_verify_and_tampered_ones_do_not(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_verify_and_tampered_ones_do_not_nist() {
    statements_verify_and_tampered_ones_do_not(Suite::Nist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_header_signature_leaves_no_bid_file() {
    let f = fixture(Suite::Gm);
    let input = f.payload(70_000);
    let before = names(f.dir.path());
    let opts = EncryptOptions::new(f.sign_options(), &input, f.path("bid.bkb"), TENDER);
    let (mut screen, frames) = Screen::new();
    let phone = phone_scans_refusing(f.bidder.clone(), frames, 2, Some(2));
    let err = encrypt_bid(&opts, &mut screen).await.unwrap_err();
    let scans = phone.await.unwrap();
    assert_eq!(err.code(), "user-refused", "{err}");
    assert_eq!(scans.len(), 2);
    assert_eq!(
        screen.steps,
        [
            BidStep::FetchEncryptionCertificate,
            BidStep::Encrypting,
            BidStep::SignHeader
        ]
    );
    assert!(!f.path("bid.bkb").exists());
    assert_eq!(names(f.dir.path()), before, "nothing partial left behind");
}

// ---------------------------------------------------------------------------------
// Bid packages (sealed PDF + manifest + attachments) as the payload

use bidkit_app::package::{
    self, CONTENT_TYPE, MANIFEST_MEMBER, PDF_MEMBER, PackageLimits, PackageManifest,
};

const USCC: &str = "91110000MA01ABCD2Q";

/// A project manifest (`bid.json`) for `tender` with a quoted price.
fn write_bid_json(path: &Path, tender: &str, price: &str) {
    let bid = bidkit_tender::BidManifest {
        schema: bidkit_tender::BID_SCHEMA.into(),
        tender_id: tender.into(),
        tender_sha256: "ab".repeat(32),
        bidder: bidkit_tender::Bidder {
            name: "北京某某建设有限公司".into(),
            uscc: USCC.into(),
        },
        quoted_price: Some(price.into()),
        sections: Default::default(),
        created: OffsetDateTime::now_utc(),
        built: None,
    };
    std::fs::write(path, serde_json::to_vec_pretty(&bid).unwrap()).unwrap();
}

async fn bid_package_round_trips_by_scan(suite: Suite) {
    let f = fixture(suite);
    let pdf = f.payload(150_000);
    let manifest = f.path("bid.json");
    write_bid_json(&manifest, TENDER, "9876543.21");
    let attachment = f.path("业绩证明.txt");
    std::fs::write(&attachment, "三个类似工程业绩".repeat(1000)).unwrap();
    let pdf_before = std::fs::read(&pdf).unwrap();

    let mut opts = EncryptOptions::new(f.sign_options(), &pdf, f.path("bid.bkb"), TENDER);
    opts.chunk_size = Some(64 * 1024);
    opts.manifest = Some(manifest.clone());
    opts.attachments = vec![attachment.clone()];
    let (mut screen, frames) = Screen::new();
    let phone = phone_scans(f.bidder.clone(), frames, 2);
    let report = encrypt_bid(&opts, &mut screen).await;
    for s in phone.await.unwrap() {
        s.unwrap();
    }
    let report = report.unwrap();
    let m = report.manifest.as_ref().unwrap();
    assert_eq!(m.quoted_price(), Some("9876543.21"));
    assert_eq!(m.pdf.size, 150_000);
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "attachments/业绩证明.txt");
    // The package is bigger than the PDF (manifest, attachment, ustar headers) and
    // the temporary package is gone; the inputs are unchanged.
    assert!(report.content_size > 150_000, "{}", report.content_size);
    assert_eq!(std::fs::read(&pdf).unwrap(), pdf_before);
    assert_eq!(
        names(f.dir.path()),
        [
            "bid.bkb",
            "bid.json",
            "home",
            "业绩证明.txt",
            "投标文件.pdf"
        ]
    );
    let inspected = bidkit_bidfile::inspect(&report.file);
    assert_eq!(inspected.verdict, Verdict::Intact);
    assert_eq!(
        inspected.header.unwrap().draft().content_type(),
        CONTENT_TYPE
    );

    // Decrypt by scan: a directory with bid.pdf, manifest.json and the attachment.
    let out = f.path("opened");
    let (decrypted, scanned, _) = f.decrypt(&f.bidder, None, &out).await;
    scanned.unwrap();
    let decrypted = decrypted.unwrap();
    assert_eq!(decrypted.output, out);
    assert_eq!(decrypted.pdf, out.join(PDF_MEMBER));
    assert_eq!(decrypted.content_type, CONTENT_TYPE);
    let m = decrypted.manifest.as_ref().unwrap();
    assert_eq!(m.quoted_price(), Some("9876543.21"));
    assert_eq!(m.tender_id(), TENDER);
    assert_eq!(m.bidder().uscc, USCC);
    assert_eq!(std::fs::read(out.join(PDF_MEMBER)).unwrap(), pdf_before);
    assert_eq!(
        std::fs::read(out.join("attachments/业绩证明.txt")).unwrap(),
        std::fs::read(&attachment).unwrap()
    );
    let again = package::read_extracted(&out).unwrap();
    assert_eq!(&again, m);
    // Nothing else appeared (no temporary directory, no archive).
    assert_eq!(
        names(f.dir.path()),
        [
            "bid.bkb",
            "bid.json",
            "home",
            "opened",
            "业绩证明.txt",
            "投标文件.pdf"
        ]
    );
    assert_eq!(names(&out), ["attachments", PDF_MEMBER, MANIFEST_MEMBER]);

    // A second decryption into the same (now full) directory is refused before any
    // QR code is shown.
    let opts = DecryptOptions::new(f.sign_options(), f.path("bid.bkb"), &out);
    let err = decrypt_bid(&opts, &mut Screen::new().0).await.unwrap_err();
    assert_eq!(err.code(), "invalid-option", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bid_package_round_trips_by_scan_gm() {
    bid_package_round_trips_by_scan(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bid_package_round_trips_by_scan_nist() {
    bid_package_round_trips_by_scan(Suite::Nist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_for_another_tender_or_a_bad_one_is_refused_before_any_scan() {
    let f = fixture(Suite::Gm);
    let pdf = f.payload(1000);
    let manifest = f.path("bid.json");
    write_bid_json(&manifest, "ZB-OTHER", "100");
    let mut opts = EncryptOptions::new(f.sign_options(), &pdf, f.path("bid.bkb"), TENDER);
    opts.manifest = Some(manifest.clone());
    let mut screen = Screen::new().0;
    let err = encrypt_bid(&opts, &mut screen).await.unwrap_err();
    assert!(err.to_string().contains("ZB-OTHER"), "{err}");
    write_bid_json(&manifest, TENDER, "12.345");
    let err = encrypt_bid(&opts, &mut screen).await.unwrap_err();
    assert!(err.to_string().contains("quoted_price"), "{err}");
    assert_eq!(screen.sessions, 0, "no QR code was shown");
    assert_eq!(names(f.dir.path()), ["bid.json", "home", "投标文件.pdf"]);
}

/// A raw ustar member: name bytes written as they are (so `..`, absolute paths and
/// links can be made), `size` bytes of `data`.
fn raw_member(out: &mut Vec<u8>, name: &[u8], kind: tar::EntryType, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    if kind == tar::EntryType::Symlink {
        h.set_link_name("/etc/passwd").unwrap();
    }
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(bidkit_crypto::HashAlgorithm::Sha256.digest(data))
}

fn manifest_json(pdf: &[u8], price: &str, attachments: &[(&str, &[u8])]) -> Vec<u8> {
    let bid = bidkit_tender::BidManifest {
        schema: bidkit_tender::BID_SCHEMA.into(),
        tender_id: TENDER.into(),
        tender_sha256: "ab".repeat(32),
        bidder: bidkit_tender::Bidder {
            name: "北京某某建设有限公司".into(),
            uscc: USCC.into(),
        },
        quoted_price: Some(price.into()),
        sections: Default::default(),
        created: OffsetDateTime::UNIX_EPOCH,
        built: None,
    };
    let m = PackageManifest {
        schema: package::MANIFEST_SCHEMA.into(),
        bid,
        pdf: package::PackageMember {
            name: PDF_MEMBER.into(),
            size: pdf.len() as u64,
            sha256: sha256_hex(pdf),
        },
        attachments: attachments
            .iter()
            .map(|(n, d)| package::PackageMember {
                name: (*n).into(),
                size: d.len() as u64,
                sha256: sha256_hex(d),
            })
            .collect(),
    };
    serde_json::to_vec(&m).unwrap()
}

fn finish(mut tar: Vec<u8>) -> Vec<u8> {
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

#[test]
fn hostile_packages_are_refused_and_leave_nothing() {
    use tar::EntryType::{Regular, Symlink};
    let dir = tempfile::tempdir().unwrap();
    let pdf: &[u8] = b"%PDF-1.7 not really";
    let evil: &[u8] = b"owned";
    let good_manifest = manifest_json(pdf, "100.00", &[]);
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // Path traversal, declared in the manifest too.
    let m = manifest_json(pdf, "100.00", &[("attachments/../../evil", evil)]);
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &m);
    raw_member(&mut t, b"bid.pdf", Regular, pdf);
    raw_member(&mut t, b"attachments/../../evil", Regular, evil);
    cases.push(("traversal", finish(t), ".."));
    // An absolute path.
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    raw_member(&mut t, b"/tmp/evil", Regular, evil);
    cases.push(("absolute", finish(t), "absolute"));
    // A symbolic link.
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    raw_member(&mut t, b"bid.pdf", Symlink, b"");
    cases.push(("symlink", finish(t), "symbolic link"));
    // Oversize: a member over the limit (limits below: 64 bytes per member).
    let big = vec![b'x'; 100];
    let m = manifest_json(&big, "100.00", &[]);
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &m);
    raw_member(&mut t, b"bid.pdf", Regular, &big);
    cases.push(("oversize", finish(t), "at most 64"));
    // A bad manifest: not the schema, then a bad price.
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, b"{\"schema\": \"x\"}");
    raw_member(&mut t, b"bid.pdf", Regular, pdf);
    cases.push(("bad manifest", finish(t), "does not follow"));
    let mut t = Vec::new();
    raw_member(
        &mut t,
        b"manifest.json",
        Regular,
        &manifest_json(pdf, "-5", &[]),
    );
    raw_member(&mut t, b"bid.pdf", Regular, pdf);
    cases.push(("bad price", finish(t), "quoted_price"));
    // The PDF is not the one the manifest names.
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    raw_member(&mut t, b"bid.pdf", Regular, b"%PDF-1.7 not REALLY");
    cases.push(("hash mismatch", finish(t), "SHA-256"));
    // The manifest not first, a member not listed, a member missing.
    let mut t = Vec::new();
    raw_member(&mut t, b"bid.pdf", Regular, pdf);
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    cases.push(("manifest not first", finish(t), "first member"));
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    raw_member(&mut t, b"bid.pdf", Regular, pdf);
    raw_member(&mut t, b"attachments/extra", Regular, evil);
    cases.push(("unlisted", finish(t), "not listed"));
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    cases.push(("missing pdf", finish(t), "does not hold"));
    cases.push(("not a tar", b"garbage".to_vec(), "not acceptable"));

    let limits = PackageLimits {
        max_member: 64,
        max_total: 1 << 20,
    };
    for (what, bytes, reason) in cases {
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let archive = dir.path().join("package.tar");
        std::fs::write(&archive, &bytes).unwrap();
        let dest = work.join("out");
        let err = package::extract(&archive, &dest, &limits).unwrap_err();
        assert_eq!(err.code(), "bid-package-invalid", "{what}: {err}");
        assert!(err.to_string().contains(reason), "{what}: {err}");
        assert!(err.to_string().contains("package.tar"), "{what}: {err}");
        // Nothing left: no output, no temporary directory, nothing outside.
        assert!(names(&work).is_empty(), "{what}: {:?}", names(&work));
        assert!(!dir.path().join("evil").exists(), "{what}");
        assert_eq!(
            std::fs::read(&archive).unwrap(),
            bytes,
            "{what}: input unchanged"
        );
        std::fs::remove_dir_all(&work).unwrap();
    }

    // The same well-formed package extracts.
    let mut t = Vec::new();
    raw_member(&mut t, b"manifest.json", Regular, &good_manifest);
    raw_member(&mut t, b"bid.pdf", Regular, pdf);
    let archive = dir.path().join("good.tar");
    std::fs::write(&archive, finish(t)).unwrap();
    let m = package::extract(&archive, &dir.path().join("good"), &limits).unwrap();
    assert_eq!(m.quoted_price(), Some("100.00"));
    assert_eq!(std::fs::read(dir.path().join("good/bid.pdf")).unwrap(), pdf);
}

/// A hostile package that the bidder signed and encrypted is still refused after
/// decryption, and the decrypted archive does not stay behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_package_in_a_bid_file_is_refused_after_decryption() {
    let f = fixture(Suite::Gm);
    let pdf: &[u8] = b"%PDF-1.7 not really";
    let mut t = Vec::new();
    raw_member(
        &mut t,
        b"manifest.json",
        tar::EntryType::Regular,
        &manifest_json(pdf, "100.00", &[]),
    );
    raw_member(&mut t, b"../escape.pdf", tar::EntryType::Regular, pdf);
    let input = f.path("hostile.tar");
    std::fs::write(&input, finish(t)).unwrap();
    let mut opts = EncryptOptions::new(f.sign_options(), &input, f.path("bid.bkb"), TENDER);
    opts.content_type = Some(CONTENT_TYPE.into());
    let (mut screen, frames) = Screen::new();
    let phone = phone_scans(f.bidder.clone(), frames, 2);
    encrypt_bid(&opts, &mut screen).await.unwrap();
    for s in phone.await.unwrap() {
        s.unwrap();
    }
    let before = names(f.dir.path());
    let (decrypted, _, _) = f.decrypt(&f.bidder, None, &f.path("opened")).await;
    let err = decrypted.unwrap_err();
    assert_eq!(err.code(), "bid-package-invalid", "{err}");
    assert!(err.to_string().contains(".."), "{err}");
    assert!(err.to_string().contains("bid.bkb"), "{err}");
    assert_eq!(names(f.dir.path()), before);
    assert!(!f.path("escape.pdf").exists());
}
