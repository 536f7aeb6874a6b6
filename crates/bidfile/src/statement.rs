//! Submission receipts and withdrawals (撤标): small statements about one bid file,
//! signed by the bidder through the phone, staged like the header (`to_be_signed`, then
//! `with_signature`).
//!
//! ```text
//! SubmissionReceipt ::= SEQUENCE {
//!     version      INTEGER,          -- 1
//!     suite        UTF8String,
//!     bidFileHash  OCTET STRING,     -- suite hash of the whole bid file
//!     fileId       OCTET STRING,     -- the bid file's id
//!     tenderId     UTF8String,
//!     bidder       Bidder,
//!     submittedAt  GeneralizedTime }
//!
//! Withdrawal ::= SEQUENCE {
//!     version, suite, bidFileHash, fileId, tenderId, bidder  -- as above
//!     reason       UTF8String,
//!     withdrawnAt  GeneralizedTime }
//!
//! SignedStatement ::= SEQUENCE {
//!     statement    ANY,              -- the DER above, exactly as signed
//!     certificate  Certificate,
//!     signature    OCTET STRING }
//! ```
//!
//! The bytes signed are a domain string followed by the statement DER:
//! `"BIDKIT-RECEIPT\0" ‖ DER` or `"BIDKIT-WITHDRAW\0" ‖ DER`, so neither can be taken
//! for the other or for a bid-file header (`"BIDKIT-BID\0" …`).

use std::io::{ErrorKind, Read};
use std::path::Path;

use bidkit_crypto::Suite;
use bidkit_pki::{Certificate, KeyPurpose, OffsetDateTime};
use der::asn1::{Any, GeneralizedTime, OctetString};
use der::{Decode, Encode, Sequence};
use serde::Serialize;

use crate::header::{Bidder, FILE_ID_LEN, from_generalized, to_generalized};
use crate::{BidFileError, Decryptor, Result};

const STATEMENT_VERSION: u8 = 1;

/// What the bidder states: a submission or a withdrawal.
pub trait Statement: Sized + Clone {
    /// Domain string prefixed to the signed bytes.
    const DOMAIN: &'static [u8];
    /// Name in messages (`submission receipt`, `withdrawal`).
    const WHAT: &'static str;
    /// The DER of the statement.
    fn to_der(&self) -> Result<Vec<u8>>;
    /// Decode the DER of the statement.
    fn from_der(der: &[u8]) -> Result<Self>;
    /// The statement's common part.
    fn subject(&self) -> &BidFileRef;

    /// The bytes to sign: the domain string, then the DER.
    fn to_be_signed(&self) -> Result<Vec<u8>> {
        let mut out = Self::DOMAIN.to_vec();
        out.extend(self.to_der()?);
        Ok(out)
    }

    /// Attach the bidder's detached signature (DER, over [`Statement::to_be_signed`])
    /// made with `certificate`; refused unless it verifies and the certificate is the
    /// bidder's signing certificate of the statement's suite.
    fn with_signature(self, certificate: &Certificate, signature: &[u8]) -> Result<Signed<Self>> {
        let signed = Signed {
            der: self.to_der()?,
            statement: self,
            certificate: certificate.clone(),
            signature: signature.to_vec(),
        };
        signed.verify()?;
        Ok(signed)
    }
}

/// Which bid file a statement is about, and who states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BidFileRef {
    /// The suite of the bid file (and of the hash and signature).
    pub suite: Suite,
    /// Suite hash of the whole bid file, as submitted.
    #[serde(serialize_with = "crate::hex_bytes")]
    pub bid_file_hash: [u8; 32],
    /// The bid file's id (from its header).
    #[serde(serialize_with = "crate::hex_bytes")]
    pub file_id: [u8; FILE_ID_LEN],
    /// The tender.
    pub tender_id: String,
    /// The bidder.
    pub bidder: Bidder,
}

impl BidFileRef {
    /// Describe the bid file at `path` (opened and checked, then hashed whole).
    pub fn of_file(path: &Path) -> Result<Self> {
        let opened = Decryptor::open(path)?;
        let header = opened.header();
        Ok(BidFileRef {
            suite: header.suite(),
            bid_file_hash: hash_file(path, header.suite())?,
            file_id: *header.draft().file_id(),
            tender_id: header.tender_id().to_owned(),
            bidder: header.bidder().clone(),
        })
    }

    /// Whether the bid file at `path` is the one described (same whole-file hash).
    pub fn matches_file(&self, path: &Path) -> Result<bool> {
        Ok(hash_file(path, self.suite)? == self.bid_file_hash)
    }
}

/// A submission receipt (递交回执): this bid file was submitted at this time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The bid file and bidder.
    #[serde(flatten)]
    pub bid_file: BidFileRef,
    /// When it was submitted (UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
}

/// A withdrawal (撤标): the bidder withdraws this bid file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    /// The bid file and bidder.
    #[serde(flatten)]
    pub bid_file: BidFileRef,
    /// Why (as typed by the bidder; may be empty).
    pub reason: String,
    /// When (UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub withdrawn_at: OffsetDateTime,
}

impl Receipt {
    /// A receipt for `bid_file` submitted at `submitted_at`.
    pub fn new(bid_file: BidFileRef, submitted_at: OffsetDateTime) -> Self {
        Receipt {
            bid_file,
            submitted_at: whole_seconds(submitted_at),
        }
    }
}

impl Withdrawal {
    /// A withdrawal of `bid_file` at `withdrawn_at`.
    pub fn new(bid_file: BidFileRef, reason: &str, withdrawn_at: OffsetDateTime) -> Self {
        Withdrawal {
            bid_file,
            reason: reason.to_owned(),
            withdrawn_at: whole_seconds(withdrawn_at),
        }
    }
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

#[derive(Sequence)]
struct ReceiptAsn1 {
    version: u8,
    suite: String,
    bid_file_hash: OctetString,
    file_id: OctetString,
    tender_id: String,
    bidder: BidderAsn1,
    submitted_at: GeneralizedTime,
}

#[derive(Sequence)]
struct WithdrawalAsn1 {
    version: u8,
    suite: String,
    bid_file_hash: OctetString,
    file_id: OctetString,
    tender_id: String,
    bidder: BidderAsn1,
    reason: String,
    withdrawn_at: GeneralizedTime,
}

#[derive(Sequence)]
struct BidderAsn1 {
    name: String,
    uscc: String,
}

#[derive(Sequence)]
struct SignedAsn1 {
    statement: Any,
    certificate: Any,
    signature: OctetString,
}

fn der_err(what: &'static str) -> impl Fn(der::Error) -> BidFileError {
    move |e| BidFileError::MalformedStatement {
        what,
        reason: e.to_string(),
    }
}

struct Common {
    suite: String,
    hash: OctetString,
    file_id: OctetString,
    tender_id: String,
    bidder: BidderAsn1,
}

fn common(r: &BidFileRef, what: &'static str) -> Result<Common> {
    Ok(Common {
        suite: r.suite.as_str().to_owned(),
        hash: OctetString::new(r.bid_file_hash.as_slice()).map_err(der_err(what))?,
        file_id: OctetString::new(r.file_id.as_slice()).map_err(der_err(what))?,
        tender_id: r.tender_id.clone(),
        bidder: BidderAsn1 {
            name: r.bidder.name.clone(),
            uscc: r.bidder.uscc.clone(),
        },
    })
}

fn parse_common(c: Common, what: &'static str) -> Result<BidFileRef> {
    let bad = |reason: &str| BidFileError::MalformedStatement {
        what,
        reason: reason.to_owned(),
    };
    Ok(BidFileRef {
        suite: c.suite.parse().map_err(|_| bad("unknown suite"))?,
        bid_file_hash: c
            .hash
            .as_bytes()
            .try_into()
            .map_err(|_| bad("the bid-file hash is not 32 bytes"))?,
        file_id: c
            .file_id
            .as_bytes()
            .try_into()
            .map_err(|_| bad("the file id is not 16 bytes"))?,
        tender_id: c.tender_id,
        bidder: Bidder {
            name: c.bidder.name,
            uscc: c.bidder.uscc,
        },
    })
}

fn check_version(version: u8, what: &'static str) -> Result<()> {
    if version == STATEMENT_VERSION {
        Ok(())
    } else {
        Err(BidFileError::MalformedStatement {
            what,
            reason: format!("version {version} (expected {STATEMENT_VERSION})"),
        })
    }
}

fn time_of(t: GeneralizedTime, what: &'static str) -> Result<OffsetDateTime> {
    from_generalized(t).map_err(|reason| BidFileError::MalformedStatement { what, reason })
}

impl Statement for Receipt {
    const DOMAIN: &'static [u8] = b"BIDKIT-RECEIPT\0";
    const WHAT: &'static str = "submission receipt";

    fn to_der(&self) -> Result<Vec<u8>> {
        let c = common(&self.bid_file, Self::WHAT)?;
        ReceiptAsn1 {
            version: STATEMENT_VERSION,
            suite: c.suite,
            bid_file_hash: c.hash,
            file_id: c.file_id,
            tender_id: c.tender_id,
            bidder: c.bidder,
            submitted_at: to_generalized(self.submitted_at)?,
        }
        .to_der()
        .map_err(der_err(Self::WHAT))
    }

    fn from_der(der: &[u8]) -> Result<Self> {
        let a = ReceiptAsn1::from_der(der).map_err(der_err(Self::WHAT))?;
        check_version(a.version, Self::WHAT)?;
        Ok(Receipt {
            submitted_at: time_of(a.submitted_at, Self::WHAT)?,
            bid_file: parse_common(
                Common {
                    suite: a.suite,
                    hash: a.bid_file_hash,
                    file_id: a.file_id,
                    tender_id: a.tender_id,
                    bidder: a.bidder,
                },
                Self::WHAT,
            )?,
        })
    }

    fn subject(&self) -> &BidFileRef {
        &self.bid_file
    }
}

impl Statement for Withdrawal {
    const DOMAIN: &'static [u8] = b"BIDKIT-WITHDRAW\0";
    const WHAT: &'static str = "withdrawal";

    fn to_der(&self) -> Result<Vec<u8>> {
        let c = common(&self.bid_file, Self::WHAT)?;
        WithdrawalAsn1 {
            version: STATEMENT_VERSION,
            suite: c.suite,
            bid_file_hash: c.hash,
            file_id: c.file_id,
            tender_id: c.tender_id,
            bidder: c.bidder,
            reason: self.reason.clone(),
            withdrawn_at: to_generalized(self.withdrawn_at)?,
        }
        .to_der()
        .map_err(der_err(Self::WHAT))
    }

    fn from_der(der: &[u8]) -> Result<Self> {
        let a = WithdrawalAsn1::from_der(der).map_err(der_err(Self::WHAT))?;
        check_version(a.version, Self::WHAT)?;
        Ok(Withdrawal {
            reason: a.reason,
            withdrawn_at: time_of(a.withdrawn_at, Self::WHAT)?,
            bid_file: parse_common(
                Common {
                    suite: a.suite,
                    hash: a.bid_file_hash,
                    file_id: a.file_id,
                    tender_id: a.tender_id,
                    bidder: a.bidder,
                },
                Self::WHAT,
            )?,
        })
    }

    fn subject(&self) -> &BidFileRef {
        &self.bid_file
    }
}

/// A statement with the bidder's signature and certificate.
#[derive(Clone, Debug)]
pub struct Signed<T: Statement> {
    statement: T,
    der: Vec<u8>,
    certificate: Certificate,
    signature: Vec<u8>,
}

/// A signed submission receipt.
pub type SignedReceipt = Signed<Receipt>;
/// A signed withdrawal.
pub type SignedWithdrawal = Signed<Withdrawal>;

impl<T: Statement> Signed<T> {
    /// The statement.
    pub fn statement(&self) -> &T {
        &self.statement
    }

    /// The signer's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The DER signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Check that the signature verifies over the statement under the certificate,
    /// and that the certificate is a signing certificate of the statement's suite held
    /// by the bidder named in it. Chain and revocation are the caller's
    /// ([`bidkit_pki::verify_chain`]).
    pub fn verify(&self) -> Result<()> {
        let what = T::WHAT;
        let cert = &self.certificate;
        let subject = self.statement.subject();
        let unusable = |reason: String| BidFileError::UnusableSigner {
            serial: cert.serial_hex(),
            subject: cert.subject_display(),
            reason,
        };
        if cert.suite() != subject.suite {
            return Err(unusable(format!(
                "it is a {} certificate and the {what} is {}",
                cert.suite(),
                subject.suite
            )));
        }
        if cert.purpose() != Some(KeyPurpose::Signing) {
            return Err(unusable("it is not a signing certificate".into()));
        }
        let identifier = cert.subject()?.identifier().to_owned();
        if identifier != subject.bidder.uscc {
            return Err(unusable(format!(
                "its holder {identifier} is not the bidder {} ({})",
                subject.bidder.name, subject.bidder.uscc
            )));
        }
        let mut message = T::DOMAIN.to_vec();
        message.extend_from_slice(&self.der);
        cert.public_key()?
            .verify(&message, &self.signature)
            .map_err(|_| BidFileError::BadSignature {
                what,
                serial: cert.serial_hex(),
            })
    }

    /// The DER of the signed statement.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        let err = der_err(T::WHAT);
        SignedAsn1 {
            statement: Any::from_der(&self.der).map_err(&err)?,
            certificate: Any::from_der(self.certificate.to_der()).map_err(&err)?,
            signature: OctetString::new(self.signature.as_slice()).map_err(&err)?,
        }
        .to_der()
        .map_err(err)
    }

    /// Decode a signed statement and verify it ([`Signed::verify`]).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let err = der_err(T::WHAT);
        let a = SignedAsn1::from_der(der).map_err(&err)?;
        let statement_der = a.statement.to_der().map_err(&err)?;
        let cert_der = a.certificate.to_der().map_err(&err)?;
        let signed = Signed {
            statement: T::from_der(&statement_der)?,
            der: statement_der,
            certificate: Certificate::from_der(&cert_der)?,
            signature: a.signature.as_bytes().to_vec(),
        };
        signed.verify()?;
        Ok(signed)
    }
}

/// The suite hash of a whole file, read in 256 KiB pieces.
pub fn hash_file(path: &Path, suite: Suite) -> Result<[u8; 32]> {
    let mut file = std::fs::File::open(path).map_err(|e| BidFileError::io("open", path, e))?;
    let mut hasher = suite.hash().hasher();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hasher.finalize()),
            Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(BidFileError::io("read", path, e)),
        }
    }
}
