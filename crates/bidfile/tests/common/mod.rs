//! Shared fixtures: a test CA per suite, a bidder and an intruder with dual
//! certificates, and helpers to make, take apart and reassemble bid files.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use bidkit_bidfile::{
    BidFileOutcome, Bidder, ContentKey, Encryptor, HeaderDraft, MAGIC, RecipientRole,
};
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::{Certificate, CertificateAuthority, OffsetDateTime, Subject};

/// When the CA and certificates start.
pub const T0: OffsetDateTime = time::macros::datetime!(2026-03-01 08:00:00 UTC);
/// When the bid files are made.
pub const CREATED: OffsetDateTime = time::macros::datetime!(2026-03-02 09:30:00 UTC);

/// A holder with a signing and an encryption key and certificate.
pub struct Holder {
    pub subject: Subject,
    pub signing_key: PrivateKey,
    pub signing: Certificate,
    pub encryption_key: PrivateKey,
    pub encryption: Certificate,
}

impl Holder {
    pub fn bidder(&self) -> Bidder {
        Bidder::from_certificate(&self.signing).unwrap()
    }
}

/// A CA of one suite with three organisations: the bidder, an intruder (another
/// bidder) and a platform (an extra recipient).
pub struct Fixture {
    pub suite: Suite,
    pub dir: tempfile::TempDir,
    pub bidder: Holder,
    pub intruder: Holder,
    pub platform: Holder,
}

fn holder(ca: &mut CertificateAuthority, suite: Suite, name: &str, uscc: &str) -> Holder {
    let subject = Subject::Organisation {
        name: name.into(),
        uscc: uscc.into(),
    };
    let signing_key = PrivateKey::for_tests(suite, &format!("{uscc}/sign"));
    let encryption_key = PrivateKey::for_tests(suite, &format!("{uscc}/enc"));
    let dual = ca
        .issue_dual(
            &subject,
            &signing_key.public_key(),
            &encryption_key.public_key(),
            T0,
        )
        .unwrap();
    Holder {
        subject,
        signing_key,
        signing: dual.signing,
        encryption_key,
        encryption: dual.encryption,
    }
}

impl Fixture {
    pub fn new(suite: Suite) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut ca =
            CertificateAuthority::open_or_create(&dir.path().join("ca"), suite, T0).unwrap();
        let bidder = holder(&mut ca, suite, "北京某某建设有限公司", "91110000600037341L");
        let intruder = holder(&mut ca, suite, "上海另一建筑有限公司", "91310000MA1FL0XX4M");
        let platform = holder(&mut ca, suite, "某某公共资源交易中心", "121100004000000001");
        Fixture {
            suite,
            dir,
            bidder,
            intruder,
            platform,
        }
    }

    /// A directory for one test's files.
    pub fn work_dir(&self, name: &str) -> PathBuf {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A draft for the bidder with the bidder's encryption certificate as recipient.
    pub fn draft(&self, key: &ContentKey, chunk_size: u32) -> HeaderDraft {
        let mut draft = HeaderDraft::new(
            self.suite,
            "ZB-2026-0042 某某道路改造工程施工",
            self.bidder.bidder(),
            CREATED,
        )
        .unwrap()
        .with_chunk_size(chunk_size)
        .unwrap();
        draft
            .add_recipient(RecipientRole::Bidder, &self.bidder.encryption, key)
            .unwrap();
        draft
    }

    /// Encrypt `plaintext` (written to `dir/plain.bin`) into `dir/bid.bkb`, signed by
    /// the bidder. Returns the key and the outcome.
    pub fn make_bid(
        &self,
        dir: &Path,
        plaintext: &[u8],
        chunk_size: u32,
    ) -> (ContentKey, BidFileOutcome) {
        let input = dir.join("plain.bin");
        std::fs::write(&input, plaintext).unwrap();
        let key = ContentKey::generate(self.suite).unwrap();
        let draft = self.draft(&key, chunk_size);
        let prepared = Encryptor::new(draft, key.clone())
            .unwrap()
            .encrypt_file(&input, &dir.join("bid.bkb"), |_| {})
            .unwrap();
        let outcome = prepared
            .sign_with(&self.bidder.signing_key, &self.bidder.signing)
            .unwrap();
        (key, outcome)
    }
}

/// A deterministic byte pattern.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// xorshift64*: deterministic offsets for the random-position tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A bid file taken apart along the documented layout (independently of the crate's
/// parser).
#[derive(Clone, Debug)]
pub struct Parts {
    pub header: Vec<u8>,
    pub certificate: Vec<u8>,
    pub signature: Vec<u8>,
    pub padding: usize,
    pub payload: Vec<u8>,
    /// Offsets of header, certificate, signature and payload in the file.
    pub header_offset: usize,
    pub certificate_offset: usize,
    pub signature_offset: usize,
    pub payload_offset: usize,
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes(b.try_into().unwrap()) as usize
}

pub fn split(bytes: &[u8]) -> Parts {
    assert_eq!(&bytes[..11], MAGIC);
    assert_eq!(bytes[11], 1, "format version");
    let h = be32(&bytes[12..16]);
    let header_offset = 16;
    let c_at = header_offset + h;
    let c = be32(&bytes[c_at..c_at + 4]);
    let certificate_offset = c_at + 4;
    let s_at = certificate_offset + c;
    let s = be32(&bytes[s_at..s_at + 4]);
    let signature_offset = s_at + 4;
    let z_at = signature_offset + s;
    let z = be32(&bytes[z_at..z_at + 4]);
    let payload_offset = z_at + 4 + z;
    assert!(bytes[z_at + 4..payload_offset].iter().all(|b| *b == 0));
    Parts {
        header: bytes[header_offset..c_at].to_vec(),
        certificate: bytes[certificate_offset..s_at].to_vec(),
        signature: bytes[signature_offset..z_at].to_vec(),
        padding: z,
        payload: bytes[payload_offset..].to_vec(),
        header_offset,
        certificate_offset,
        signature_offset,
        payload_offset,
    }
}

/// The bytes signed for `header` and `certificate` (the documented rule).
pub fn to_be_signed(header: &[u8], certificate: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(1);
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(&(certificate.len() as u32).to_be_bytes());
    out.extend_from_slice(certificate);
    out
}

/// Assemble a file from a header, a signer (key + certificate) and a payload (no
/// padding).
pub fn assemble(header: &[u8], key: &PrivateKey, cert: &Certificate, payload: &[u8]) -> Vec<u8> {
    let tbs = to_be_signed(header, cert.to_der());
    let sig = key.sign(&tbs).unwrap();
    with_signature(tbs, &sig, payload)
}

/// `tbs ‖ signature length ‖ signature ‖ padding length 0 ‖ payload`.
pub fn with_signature(mut tbs: Vec<u8>, sig: &[u8], payload: &[u8]) -> Vec<u8> {
    tbs.extend_from_slice(&(sig.len() as u32).to_be_bytes());
    tbs.extend_from_slice(sig);
    tbs.extend_from_slice(&0u32.to_be_bytes());
    tbs.extend_from_slice(payload);
    tbs
}

/// Stored lengths of each chunk record of a payload (`chunk size + 16`, last shorter).
pub fn records(content_size: u64, chunk_size: u32) -> Vec<usize> {
    let cs = chunk_size as u64;
    let n = content_size.div_ceil(cs).max(1);
    (0..n)
        .map(|i| {
            let plain = if i + 1 < n {
                cs
            } else {
                content_size - (n - 1) * cs
            };
            plain as usize + 16
        })
        .collect()
}

/// Every file name in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Hash of the payload with the suite hash (to re-sign headers with a fixed
/// ciphertext hash).
pub fn suite_hash(suite: Suite, data: &[u8]) -> [u8; 32] {
    suite.hash().digest(data)
}
