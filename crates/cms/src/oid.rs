//! Object identifiers Bidkit writes and accepts in signature containers, each with the
//! clause that defines it.

use const_oid::ObjectIdentifier;

/// `id-data` (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData` (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// GM/T 0010-2012 §5 (GB/T 35275-2017 §5) `data` content type.
pub const GM_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.1");
/// GM/T 0010-2012 §5 (GB/T 35275-2017 §5) `signedData` content type.
pub const GM_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.2");

/// `id-contentType` attribute (RFC 5652 §11.1).
pub const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// `id-messageDigest` attribute (RFC 5652 §11.2).
pub const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// `id-signingTime` attribute (RFC 5652 §11.3).
pub const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// `id-aa-signingCertificate` (ESS v1, SHA-1 only; RFC 2634 §5.4). Read, not written.
pub const SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// `id-aa-signingCertificateV2` (RFC 5035 §3).
pub const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// `id-aa-signatureTimeStampToken` unsigned attribute (RFC 3161 Appendix A).
pub const SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// `id-ct-TSTInfo` content type (RFC 3161 §2.4.2).
pub const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-kp-timeStamping` extended key usage (RFC 3161 §2.3).
pub const KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// SHA-256 (RFC 5754 §2.2; parameters absent).
pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SM3 (GM/T 0006-2012, as used by GM/T 0010-2012 §5 for digestAlgorithm).
pub const SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");

/// `ecdsa-with-SHA256` (RFC 5758 §3.2; parameters absent).
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// `id-ecPublicKey` (RFC 5480 §2.1.1); some products put it in `signatureAlgorithm`.
pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `sm2-1`, the SM2 digital signature algorithm: what GM/T 0010-2012 §8 names as the
/// SignerInfo `digestEncryptionAlgorithm` (GM/T 0006-2012). Written by Bidkit.
pub const SM2_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301.1");
/// `sm2sign-with-sm3` (GM/T 0006-2012); used by many products instead of [`SM2_1`].
/// Accepted when reading.
pub const SM2_SIGN_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// The SM2 key algorithm (GM/T 0006-2012); some products put it in
/// `signatureAlgorithm`. Accepted when reading.
pub const SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
