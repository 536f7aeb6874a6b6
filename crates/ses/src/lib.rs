//! GB/T 38540-2020 (信息安全技术 安全电子签章密码技术规范) electronic seal structures:
//! the seal `SESeal` made by a seal maker (制章者) and the electronic signature
//! `SES_Signature` made when a seal is applied, as DER.
//!
//! This crate owns:
//!
//! * the ASN.1 types of the standard's version 4 ([`asn1`]), field for field;
//! * [`SESeal`]: [`SESeal::make`] (the maker signs the DER of `eSealInfo`),
//!   [`SESeal::from_der`], [`SESeal::verify`] (maker trust, signature, header, picture,
//!   validity);
//! * [`SesSignature`] over a [`TbsSign`]: [`TbsSign::to_be_signed`] for a signer elsewhere
//!   (the phone), [`SesSignature::assemble`], [`SesSignature::from_der`],
//!   [`SesSignature::verify`] (signature, signer bound to the seal, seal, data hash).
//!
//! What it must not do: hold keys (signing goes through [`bidkit_crypto::Signer`]), read
//! the clock (callers pass every time), store anything, or know about PDF or OFD (the
//! data hash is computed by the caller).
//!
//! # The structures (GB/T 38540-2020 §7)
//!
//! ```text
//! SESeal ::= SEQUENCE {                         -- §7.1
//!   eSealInfo    SES_SealInfo,
//!   cert         OCTET STRING,                  -- the seal maker's certificate
//!   signAlgID    OBJECT IDENTIFIER,
//!   signedValue  BIT STRING }                   -- maker's signature over DER(eSealInfo)
//! SES_SealInfo ::= SEQUENCE {
//!   header SES_Header, esID IA5String, property SES_ESPropertyInfo,
//!   picture SES_ESPictrueInfo, extDatas ExtensionDatas OPTIONAL }
//! SES_Header ::= SEQUENCE { ID IA5String ("ES"), version INTEGER (4), Vid IA5String }
//! SES_ESPropertyInfo ::= SEQUENCE {
//!   type INTEGER (1 organisation, 2 personal), name UTF8String,
//!   certListType INTEGER (1 certs, 2 certDigestList), certList SES_CertList,
//!   createDate GeneralizedTime, validStart GeneralizedTime, validEnd GeneralizedTime }
//! SES_CertList ::= CHOICE { certs SEQUENCE OF OCTET STRING,
//!                           certDigestList SEQUENCE OF CertDigestObj }
//! CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }
//! SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING,
//!                                  width INTEGER, height INTEGER }     -- millimetres
//! ExtData ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
//!                        extnValue OCTET STRING }
//!
//! SES_Signature ::= SEQUENCE {                  -- §7.2
//!   toSign TBS_Sign, cert OCTET STRING (signer), signatureAlgID OBJECT IDENTIFIER,
//!   signature BIT STRING (over DER(toSign)), timeStamp [0] EXPLICIT BIT STRING OPTIONAL }
//! TBS_Sign ::= SEQUENCE { version INTEGER (4), eseal SESeal, timeInfo GeneralizedTime,
//!   dataHash BIT STRING, propertyInfo IA5String, extDatas ExtensionDatas OPTIONAL }
//! ```
//!
//! Signatures are SM2-with-SM3 (OID 1.2.156.10197.1.501, GM/T 0006; SM2 with the
//! default distinguishing id `1234567812345678`) or, in the NIST suite, ECDSA-P256 with
//! SHA-256 (1.2.840.10045.4.3.2); signature values are DER `SEQUENCE { r, s }` in the
//! BIT STRING, as in GM/T 0009.
//!
//! # Where Bidkit deviates or adds
//!
//! * The structure was written from the standard's published ASN.1 as recalled and
//!   cross-checked against open implementations (ofdrw's `org.ofdrw.gm.ses.v4`), not
//!   against the standard's text; the standard itself is not in the repository.
//! * Only version 4 (GB/T 38540-2020) is read and written. GM/T 0031-2014 structures
//!   (version 2: UTCTime, a separate `SES_SignInfo`, certificate and algorithm inside
//!   `TBS_Sign`) do not decode as version 4 and give [`SesError::Malformed`]; a version-4
//!   shape with another `version` gives [`SesError::InvalidField`].
//! * [`SesSignature::verify`] takes, beside the data hash, how the seal maker is trusted
//!   ([`SealTrust`]); with roots it also checks the signer's chain at `timeInfo`.
//! * Extensions in `extDatas` under Bidkit's arc. Bidkit has no registered OID arc; they
//!   sit under IANA's documentation enterprise number 32473 (RFC 5612),
//!   `1.3.6.1.4.1.32473.5717.1.*`, and must move to a registered arc before
//!   interworking with other vendors' verifiers (all are non-critical, so those ignore
//!   them):
//!   `…1.1` the seal kind (`official`, `finance`, … as UTF8String);
//!   `…1.2` the exact picture size `SEQUENCE { width INTEGER, height INTEGER }` in
//!   micrometres (the standard's `width`/`height` are whole millimetres, and a scanned
//!   seal is rarely a whole number of them);
//!   `…1.3` a binding note (UTF8String), e.g. that the seal was made before its holder
//!   had a signing certificate and so `certList` is empty (the standard expects at least
//!   one certificate; a signature with such a seal fails [`SesSignature::verify`]).
//! * The maker's certificate is checked for the **time the seal was made**
//!   (`createDate`), like a timestamped signature: the emulated maker certificate lasts
//!   one year while seals last until voided.
//! * Input must be canonical DER (re-encoding must give the same bytes), at most
//!   [`MAX_DER_LEN`] bytes.

pub mod asn1;
mod error;
mod seal;
mod signature;

pub use error::SesError;
pub use seal::{
    CertBinding, CertDigest, ExtData, Picture, SESeal, SealInfo, SealTrust, SealType, VerifiedSeal,
};
pub use signature::{SesSignature, TbsSign, VerifiedSignature, decode_tbs_sign};

use const_oid::ObjectIdentifier;

/// `SES_Header.ID` (GB/T 38540-2020 §7.1.2).
pub const HEADER_ID: &str = "ES";
/// `SES_Header.version` and `TBS_Sign.version` of GB/T 38540-2020.
pub const SES_VERSION: i64 = 4;
/// `SES_Header.Vid` of seals Bidkit's emulated seal maker makes.
pub const BIDKIT_VENDOR_ID: &str = "BIDKIT-EMULATED";
/// Largest seal or signature read (16 MiB; a seal picture is a few hundred KiB).
pub const MAX_DER_LEN: usize = 16 * 1024 * 1024;

/// Bidkit extension: the seal kind (UTF8String).
pub const OID_SEAL_KIND: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.5717.1.1");
/// Bidkit extension: exact picture size in micrometres.
pub const OID_PICTURE_SIZE_UM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.5717.1.2");
/// Bidkit extension: a note on the certificate binding (UTF8String).
pub const OID_BINDING_NOTE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.5717.1.3");

/// Result type of this crate.
pub type Result<T, E = SesError> = std::result::Result<T, E>;
