//! RFC 3161 time stamps: requests, an emulated time-stamping authority, and token
//! verification. No HTTP here: the caller posts [`TimestampRequest::to_der`] to a TSA
//! (`application/timestamp-query`) and hands the answer to [`parse_response`].
//!
//! For a PDF signature timestamp the message imprint is the hash of the SignerInfo's
//! signature value (RFC 3161 Appendix A): [`signature_imprint`].

use bidkit_crypto::hash::HashAlgorithm;
use bidkit_crypto::{Signer, Suite};
use bidkit_pki::Certificate;
use const_oid::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::asn1::{self, INTEGER, OCTET_STRING, SEQUENCE};
use crate::attributes::{self, SignedAttributes};
use crate::container::{self, SignedDataParts};
use crate::{CmsError, Result, oid};

/// The policy the emulated TSA stamps under (an arc under the example OID
/// 1.3.6.1.4.1.55555, marking it as a test policy).
pub const EMULATED_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.3161.1");

fn bad_token(reason: impl Into<String>) -> CmsError {
    CmsError::InvalidTimestamp(reason.into())
}

/// The message imprint of a signature timestamp: the hash of the signature value
/// (RFC 3161 Appendix A).
pub fn signature_imprint(hash: HashAlgorithm, signature: &[u8]) -> [u8; 32] {
    hash.digest(signature)
}

/// `MessageImprint ::= SEQUENCE { hashAlgorithm, hashedMessage OCTET STRING }`
/// (RFC 3161 §2.4.1).
fn encode_imprint(hash: HashAlgorithm, imprint: &[u8]) -> Vec<u8> {
    asn1::sequence(&[
        &asn1::algorithm(&attributes::hash_oid(hash)),
        &asn1::octet_string(imprint),
    ])
}

fn read_imprint(t: asn1::Tlv<'_>, what: &'static str) -> Result<(ObjectIdentifier, Vec<u8>)> {
    let mut r = t.reader(what);
    let alg = r
        .next(SEQUENCE, "hashAlgorithm")?
        .reader(what)
        .next(asn1::OID, "hashAlgorithm")?
        .oid(what)?;
    let hashed = r.next(OCTET_STRING, "hashedMessage")?.value.to_vec();
    Ok((alg, hashed))
}

/// An RFC 3161 `TimeStampReq` (§2.4.1): version 1, the message imprint, a nonce and
/// `certReq TRUE` (so the token carries the TSA certificate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampRequest {
    hash: HashAlgorithm,
    imprint: Vec<u8>,
    nonce: Option<Vec<u8>>,
    cert_req: bool,
    der: Vec<u8>,
}

impl TimestampRequest {
    /// A request for `message_imprint` (a 32-byte `hash_alg` digest), with a nonce
    /// derived from the imprint and the current time.
    pub fn new(hash_alg: HashAlgorithm, message_imprint: &[u8]) -> Result<Self> {
        let mut seed = message_imprint.to_vec();
        seed.extend_from_slice(
            &OffsetDateTime::now_utc()
                .unix_timestamp_nanos()
                .to_be_bytes(),
        );
        let digest = hash_alg.digest(&seed);
        let nonce = digest.get(..8).unwrap_or_default().to_vec();
        Self::with_nonce(hash_alg, message_imprint, Some(&nonce))
    }

    /// A request with the given nonce (unsigned big-endian), or none.
    pub fn with_nonce(
        hash_alg: HashAlgorithm,
        message_imprint: &[u8],
        nonce: Option<&[u8]>,
    ) -> Result<Self> {
        if message_imprint.len() != HashAlgorithm::OUTPUT_LEN {
            return Err(CmsError::InvalidInput(format!(
                "a {hash_alg} message imprint has 32 bytes, got {}",
                message_imprint.len()
            )));
        }
        let mut parts = vec![
            asn1::small_integer(1),
            encode_imprint(hash_alg, message_imprint),
        ];
        if let Some(n) = nonce {
            parts.push(asn1::unsigned_integer(n));
        }
        // certReq BOOLEAN TRUE (DER: 0xff, X.690 §11.1).
        parts.push(asn1::tlv(asn1::BOOLEAN, &[0xff]));
        Ok(TimestampRequest {
            hash: hash_alg,
            imprint: message_imprint.to_vec(),
            nonce: nonce.map(asn1::unsigned_integer),
            cert_req: true,
            der: asn1::tlv(SEQUENCE, &parts.concat()),
        })
    }

    /// Read a `TimeStampReq` (what a TSA receives).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let what = "TimeStampReq";
        let req = asn1::read_single(der, what)?;
        if req.tag != SEQUENCE {
            return Err(CmsError::Malformed(format!("{what}: not a SEQUENCE")));
        }
        let mut r = req.reader(what);
        let version = r.next(INTEGER, "version")?.small_integer(what)?;
        if version != 1 {
            return Err(CmsError::Malformed(format!("{what}: version {version}")));
        }
        let (alg, imprint) = read_imprint(r.next(SEQUENCE, "messageImprint")?, what)?;
        let hash = attributes::hash_of_oid(&alg)
            .ok_or_else(|| CmsError::UnsupportedAlgorithm(format!("message imprint hash {alg}")))?;
        if imprint.len() != HashAlgorithm::OUTPUT_LEN {
            return Err(CmsError::Malformed(format!(
                "{what}: the imprint has {} bytes, not 32",
                imprint.len()
            )));
        }
        let _policy = r.optional(asn1::OID)?;
        let nonce = r.optional(INTEGER)?.map(|n| n.raw.to_vec());
        let cert_req = match r.optional(asn1::BOOLEAN)? {
            Some(b) => b.value != [0],
            None => false,
        };
        let _extensions = r.optional(asn1::context(0))?;
        if !r.is_empty() {
            return Err(CmsError::Malformed(format!("{what}: unexpected fields")));
        }
        Ok(TimestampRequest {
            hash,
            imprint,
            nonce,
            cert_req,
            der: der.to_vec(),
        })
    }

    /// The DER to send (`application/timestamp-query`).
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The hash algorithm of the imprint.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    /// The message imprint.
    pub fn message_imprint(&self) -> &[u8] {
        &self.imprint
    }
}

/// `PKIStatusInfo` failure bits (RFC 3161 §2.4.2), as DER named `BIT STRING`s.
const BAD_ALG: [u8; 4] = [0x03, 0x02, 0x07, 0x80]; // bit 0
const BAD_DATA_FORMAT: [u8; 4] = [0x03, 0x02, 0x02, 0x04]; // bit 5

/// A time-stamping authority for tests and offline use: answers `TimeStampReq`s with
/// tokens signed by `signer` under `certificate` (RFC 3161 §2.4.2).
pub struct EmulatedTsa<'a> {
    /// Holds the TSA key.
    pub signer: &'a dyn Signer,
    /// The TSA certificate (its key must be the signer's).
    pub certificate: Certificate,
    /// The TSA policy written into `TSTInfo.policy`.
    pub policy: ObjectIdentifier,
}

impl std::fmt::Debug for EmulatedTsa<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedTsa")
            .field("certificate", &self.certificate.subject_display())
            .field("policy", &self.policy)
            .finish()
    }
}

impl<'a> EmulatedTsa<'a> {
    /// A TSA with the [`EMULATED_POLICY`].
    pub fn new(signer: &'a dyn Signer, certificate: Certificate) -> Self {
        EmulatedTsa {
            signer,
            certificate,
            policy: EMULATED_POLICY,
        }
    }

    /// Answer `request` (DER `TimeStampReq`) at `at` with a DER `TimeStampResp`.
    ///
    /// A well-formed request gets status `granted` and a token: a `SignedData` (the
    /// certificate's suite's identifiers) whose eContent is the DER `TSTInfo` { version
    /// 1, policy, the request's imprint, a serial derived from request and time,
    /// `genTime` = `at` in whole seconds, the request's nonce }, signed with contentType
    /// `id-ct-TSTInfo`, messageDigest and ESS signing-certificate-v2 attributes (RFC 3161
    /// §2.4.2, RFC 5816). An unreadable request gets `rejection` with `badDataFormat`,
    /// an unsupported hash `rejection` with `badAlg`. Fails only when the TSA itself
    /// cannot sign.
    pub fn respond(&self, request: &[u8], at: OffsetDateTime) -> Result<Vec<u8>> {
        let req = match TimestampRequest::from_der(request) {
            Ok(r) => r,
            Err(CmsError::UnsupportedAlgorithm(_)) => return Ok(rejection(&BAD_ALG)),
            Err(_) => return Ok(rejection(&BAD_DATA_FORMAT)),
        };
        let suite = self.certificate.suite();
        if self.signer.algorithm().suite() != suite {
            return Err(CmsError::InvalidInput(format!(
                "the TSA signer is {} but its certificate is {}",
                self.signer.algorithm().suite(),
                suite
            )));
        }
        let at = at.replace_nanosecond(0).unwrap_or(at);
        // Serial: unique per request and time (RFC 3161 §2.4.2 only asks uniqueness).
        let mut seed = request.to_vec();
        seed.extend_from_slice(&at.unix_timestamp().to_be_bytes());
        let serial = suite.hash().digest(&seed);
        let mut tst_parts = vec![
            asn1::small_integer(1),
            asn1::oid(&self.policy),
            encode_imprint(req.hash, &req.imprint),
            asn1::unsigned_integer(serial.get(..16).unwrap_or_default()),
            asn1::generalized_time(at)?,
        ];
        if let Some(nonce) = &req.nonce {
            tst_parts.push(nonce.clone());
        }
        let tst_info = asn1::tlv(SEQUENCE, &tst_parts.concat());

        let econtent_digest = suite.hash().digest(&tst_info);
        let attrs = SignedAttributes::for_content(
            suite,
            oid::TST_INFO,
            &econtent_digest,
            &self.certificate,
            at,
        )?;
        let signature = self
            .signer
            .sign(attrs.to_be_signed())
            .map_err(|e| CmsError::Encode(format!("the TSA could not sign: {e}")))?;
        // certReq TRUE: carry the TSA certificate; otherwise none (RFC 3161 §2.4.1).
        let carried = [self.certificate.clone()];
        let certificates: &[Certificate] = if req.cert_req { &carried } else { &[] };
        let token = container::encode_signed_data(&SignedDataParts {
            suite,
            content_info_type: container::signed_data_oid(suite),
            econtent_type: oid::TST_INFO,
            econtent: Some(&tst_info),
            signed_attributes: attrs.to_be_signed(),
            signature: &signature,
            signer: &self.certificate,
            certificates,
            unsigned_attributes: None,
        })?;
        // TimeStampResp { PKIStatusInfo { granted (0) }, timeStampToken }.
        Ok(asn1::sequence(&[
            &asn1::sequence(&[&asn1::small_integer(0)]),
            &token,
        ]))
    }
}

/// `TimeStampResp { PKIStatusInfo { rejection (2), failInfo } }`.
fn rejection(fail_info: &[u8]) -> Vec<u8> {
    asn1::sequence(&[&asn1::sequence(&[&asn1::small_integer(2), fail_info])])
}

/// The token of a `TimeStampResp` (RFC 3161 §2.4.2) whose status is `granted` or
/// `grantedWithMods`; any other status is [`CmsError::InvalidTimestamp`] naming it.
pub fn parse_response(response: &[u8]) -> Result<Vec<u8>> {
    let what = "TimeStampResp";
    let resp = asn1::read_single(response, what)?;
    if resp.tag != SEQUENCE {
        return Err(CmsError::Malformed(format!("{what}: not a SEQUENCE")));
    }
    let mut r = resp.reader(what);
    let status_info = r.next(SEQUENCE, "status")?;
    let status = status_info
        .reader(what)
        .next(INTEGER, "status")?
        .small_integer(what)?;
    if status > 1 {
        let name = match status {
            2 => "rejection",
            3 => "waiting",
            4 => "revocationWarning",
            5 => "revocationNotification",
            _ => "unknown",
        };
        return Err(bad_token(format!(
            "the TSA did not grant the time stamp (status {status}, {name})"
        )));
    }
    let token = r.next(SEQUENCE, "timeStampToken")?;
    Ok(token.raw.to_vec())
}

/// What a verified time-stamp token says.
#[derive(Clone, Debug)]
pub struct TimestampInfo {
    /// `genTime`: when the TSA saw the imprint.
    pub time: OffsetDateTime,
    /// The token's serial number (lowercase hex, no leading zeros).
    pub serial: String,
    /// The TSA certificate's subject, for people.
    pub tsa_subject: String,
    /// The TSA certificate.
    pub tsa_certificate: Certificate,
    /// The hash algorithm of the imprint.
    pub hash_algorithm: HashAlgorithm,
    /// The TSA policy.
    pub policy: ObjectIdentifier,
    /// The suite of the token's signature.
    pub suite: Suite,
    /// Whether the TSA certificate has the `id-kp-timeStamping` extended key usage
    /// (RFC 3161 §2.3). Not required by [`verify_token`]; a chain check should be.
    pub time_stamping_purpose: bool,
}

/// Whether `cert` has the `id-kp-timeStamping` extended key usage (RFC 3161 §2.3).
fn has_time_stamping_purpose(cert: &Certificate) -> bool {
    matches!(
        cert.x509().tbs_certificate().get_extension::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&oid::KP_TIME_STAMPING)
    )
}

/// Verify a `TimeStampToken` (DER `ContentInfo`) against the imprint it should stamp.
///
/// Checks (RFC 3161 §2.4.2, RFC 5652 §5.4–5.6): the token is a SignedData over eContent
/// of type `id-ct-TSTInfo`; its messageDigest is the hash of that eContent; the
/// signature verifies with the TSA certificate carried in it; the ESS
/// signing-certificate(-v2) attribute names that certificate; `TSTInfo.messageImprint`
/// equals `expected_imprint`. Whether the TSA certificate chains to a trusted root and
/// has the timeStamping purpose is for the caller (`bidkit-pki`).
pub fn verify_token(token: &[u8], expected_imprint: &[u8]) -> Result<TimestampInfo> {
    let (signed, econtent) = container::parse_signed_data(token)?;
    let tst_info = econtent.ok_or_else(|| bad_token("the token carries no TSTInfo"))?;
    if signed.content_type != oid::TST_INFO {
        return Err(bad_token(format!(
            "the token's content type is {}, not id-ct-TSTInfo",
            signed.content_type
        )));
    }
    let check = signed.verify(&signed.digest_algorithm.digest(&tst_info));
    if !check.is_valid() {
        return Err(bad_token(format!(
            "the token's signature is not valid: {}",
            check.problems.join("; ")
        )));
    }
    if check.signing_certificate_matches.is_none() {
        return Err(bad_token(
            "the token has no checkable ESS signing-certificate attribute (RFC 3161 §2.4.1)",
        ));
    }

    let what = "TSTInfo";
    let t = asn1::read_single(&tst_info, what)?;
    if t.tag != SEQUENCE {
        return Err(CmsError::Malformed(format!("{what}: not a SEQUENCE")));
    }
    let mut r = t.reader(what);
    let version = r.next(INTEGER, "version")?.small_integer(what)?;
    if version != 1 {
        return Err(bad_token(format!("TSTInfo version {version}")));
    }
    let policy = r.next(asn1::OID, "policy")?.oid(what)?;
    let (alg, imprint) = read_imprint(r.next(SEQUENCE, "messageImprint")?, what)?;
    let hash_algorithm = attributes::hash_of_oid(&alg)
        .ok_or_else(|| CmsError::UnsupportedAlgorithm(format!("message imprint hash {alg}")))?;
    let serial = r.next(INTEGER, "serialNumber")?.value;
    let time = r.next(asn1::GENERALIZED_TIME, "genTime")?.time(what)?;
    if imprint != expected_imprint {
        return Err(bad_token(
            "the token stamps another message imprint than the expected one",
        ));
    }
    let skip = serial.iter().take_while(|b| **b == 0).count();
    let serial_hex = serial
        .get(skip..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok(TimestampInfo {
        time,
        serial: if serial_hex.is_empty() {
            "0".into()
        } else {
            serial_hex
        },
        tsa_subject: signed.signer.subject_display(),
        time_stamping_purpose: has_time_stamping_purpose(&signed.signer),
        tsa_certificate: signed.signer,
        hash_algorithm,
        policy,
        suite: signed.suite,
    })
}
