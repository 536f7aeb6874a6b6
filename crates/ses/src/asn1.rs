//! The ASN.1 types of GB/T 38540-2020, as DER structures (`der` derive), field for field.
//!
//! These mirror the standard's module; the friendly types ([`crate::SESeal`],
//! [`crate::SesSignature`] and their parts) convert to and from them. Every type here is
//! public so that a caller who needs a field the friendly types do not surface can decode
//! it directly.

use const_oid::ObjectIdentifier;
use der::Sequence;
use der::asn1::{Any, BitString, GeneralizedTime, Ia5String, OctetString, PrintableString};

/// `SES_Header` (GB/T 38540-2020 §7.1.2): `ID IA5String` (`"ES"`), `version INTEGER`
/// (4), `Vid IA5String` (the vendor's identifier).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SesHeader {
    /// `ID`: always `"ES"`.
    pub id: Ia5String,
    /// `version`: 4 for GB/T 38540-2020.
    pub version: i64,
    /// `Vid`: the vendor (seal maker software) identifier.
    pub vid: Ia5String,
}

/// `CertDigestObj` (GB/T 38540-2020 §7.1.4): `type PrintableString` (the hash
/// algorithm, free text), `value OCTET STRING` (the hash of the certificate).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertDigestObj {
    /// `type`: the hash algorithm's name, e.g. `SM3`.
    pub kind: PrintableString,
    /// `value`: the hash of the certificate's DER.
    pub value: OctetString,
}

/// `SES_ESPropertyInfo` (GB/T 38540-2020 §7.1.3).
///
/// `certList` is the `SES_CertList` CHOICE of `certs SEQUENCE OF OCTET STRING` and
/// `certDigestList SEQUENCE OF CertDigestObj`; both alternatives are untagged
/// SEQUENCEs, told apart by `certListType`, so it is kept here as the raw element.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PropertyInfo {
    /// `type`: 1 organisation seal (单位印章), 2 personal seal (个人印章).
    pub kind: i64,
    /// `name`: the seal's name.
    pub name: String,
    /// `certListType`: 1 certificates, 2 certificate digests.
    pub cert_list_type: i64,
    /// `certList`: the `SES_CertList` element.
    pub cert_list: Any,
    /// `createDate`.
    pub create_date: GeneralizedTime,
    /// `validStart`.
    pub valid_start: GeneralizedTime,
    /// `validEnd`.
    pub valid_end: GeneralizedTime,
}

/// `SES_ESPictrueInfo` (sic, GB/T 38540-2020 §7.1.5): `type IA5String` (`"PNG"` …),
/// `data OCTET STRING`, `width INTEGER`, `height INTEGER` (millimetres).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PictureInfo {
    /// `type`: the picture format, e.g. `PNG`.
    pub kind: Ia5String,
    /// `data`: the picture file.
    pub data: OctetString,
    /// `width`: display width in millimetres.
    pub width: i64,
    /// `height`: display height in millimetres.
    pub height: i64,
}

/// `ExtData` (GB/T 38540-2020 §7.1.6): `extnID OBJECT IDENTIFIER`, `critical BOOLEAN
/// DEFAULT FALSE`, `extnValue OCTET STRING`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ExtDataAsn1 {
    /// `extnID`.
    pub extn_id: ObjectIdentifier,
    /// `critical`.
    #[asn1(default = "Default::default")]
    pub critical: bool,
    /// `extnValue`.
    pub extn_value: OctetString,
}

/// `SES_SealInfo` (GB/T 38540-2020 §7.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SealInfoAsn1 {
    /// `header`.
    pub header: SesHeader,
    /// `esID`: the seal's identifier.
    pub es_id: Ia5String,
    /// `property`.
    pub property: PropertyInfo,
    /// `picture`.
    pub picture: PictureInfo,
    /// `extDatas ExtensionDatas OPTIONAL`.
    #[asn1(optional = "true")]
    pub ext_datas: Option<Vec<ExtDataAsn1>>,
}

/// `SESeal` (GB/T 38540-2020 §7.1): `eSealInfo`, `cert OCTET STRING` (the seal maker's
/// certificate), `signAlgID OBJECT IDENTIFIER`, `signedValue BIT STRING` (the maker's
/// signature over the DER of `eSealInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SESealAsn1 {
    /// `eSealInfo`.
    pub eseal_info: SealInfoAsn1,
    /// `cert`: the maker's X.509 certificate, DER.
    pub cert: OctetString,
    /// `signAlgID`.
    pub sign_alg_id: ObjectIdentifier,
    /// `signedValue`.
    pub signed_value: BitString,
}

/// `TBS_Sign` (GB/T 38540-2020 §7.2.2).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TbsSignAsn1 {
    /// `version`: 4.
    pub version: i64,
    /// `eseal`: the seal applied.
    pub eseal: SESealAsn1,
    /// `timeInfo`: the signing time.
    pub time_info: GeneralizedTime,
    /// `dataHash BIT STRING`: the hash of the signed data.
    pub data_hash: BitString,
    /// `propertyInfo IA5String`: what was signed (for PDF: a free description).
    pub property_info: Ia5String,
    /// `extDatas ExtensionDatas OPTIONAL`.
    #[asn1(optional = "true")]
    pub ext_datas: Option<Vec<ExtDataAsn1>>,
}

/// `SES_Signature` (GB/T 38540-2020 §7.2.1): `toSign`, `cert OCTET STRING` (the
/// signer's certificate), `signatureAlgID`, `signature BIT STRING` (over the DER of
/// `toSign`), `timeStamp [0] EXPLICIT BIT STRING OPTIONAL`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SesSignatureAsn1 {
    /// `toSign`.
    pub to_sign: TbsSignAsn1,
    /// `cert`: the signer's certificate, DER.
    pub cert: OctetString,
    /// `signatureAlgID`.
    pub signature_alg_id: ObjectIdentifier,
    /// `signature`.
    pub signature: BitString,
    /// `timeStamp`: an RFC 3161 token over the signature value.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub time_stamp: Option<BitString>,
}

/// `SES_CertList` alternative `certs`.
pub type CertInfoList = Vec<OctetString>;
/// `SES_CertList` alternative `certDigestList`.
pub type CertDigestList = Vec<CertDigestObj>;

/// Picture size in micrometres (Bidkit extension, see the crate documentation).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PictureSizeUm {
    /// Width in micrometres.
    pub width: i64,
    /// Height in micrometres.
    pub height: i64,
}
