//! The electronic seal `SESeal` (GB/T 38540-2020 §7.1): its information, made and
//! signed by a seal maker (制章者), and checked by anyone holding the maker's certificate
//! or a root it chains to.

use bidkit_crypto::{SignatureAlgorithm, Signer};
use bidkit_pki::{Certificate, KeyPurpose, TrustStore, VerifiedChain, verify_chain};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BitString, GeneralizedTime, Ia5String, OctetString, PrintableString};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::asn1::{
    CertDigestList, CertDigestObj, CertInfoList, ExtDataAsn1, PictureInfo, PictureSizeUm,
    PropertyInfo, SESealAsn1, SealInfoAsn1, SesHeader,
};
use crate::{
    HEADER_ID, MAX_DER_LEN, OID_BINDING_NOTE, OID_PICTURE_SIZE_UM, OID_SEAL_KIND, SES_VERSION,
    SesError,
};

/// `SES_ESPropertyInfo.type` (GB/T 38540-2020 §7.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SealType {
    /// 1: an organisation's seal (单位印章).
    Organisation,
    /// 2: a person's seal or signature (个人印章).
    Personal,
}

impl SealType {
    /// The INTEGER the standard uses.
    pub fn code(self) -> i64 {
        match self {
            SealType::Organisation => 1,
            SealType::Personal => 2,
        }
    }

    /// The type for a standard INTEGER.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(SealType::Organisation),
            2 => Some(SealType::Personal),
            _ => None,
        }
    }
}

/// A certificate digest of `certDigestList` (`CertDigestObj`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertDigest {
    /// The hash algorithm's name (PrintableString), e.g. `SM3`.
    pub algorithm: String,
    /// The hash of the certificate's DER.
    pub value: Vec<u8>,
}

/// The certificates a seal is bound to: whoever applies it must sign with one of them
/// (`certListType` and `certList`, GB/T 38540-2020 §7.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertBinding {
    /// `certListType` 1: the certificates themselves (DER). May be empty: a seal made
    /// before its holder had a signing certificate (Bidkit then says why in the
    /// binding note).
    Certificates(Vec<Vec<u8>>),
    /// `certListType` 2: hashes of the certificates.
    Digests(Vec<CertDigest>),
}

impl CertBinding {
    /// Whether the list names no certificate at all.
    pub fn is_empty(&self) -> bool {
        match self {
            CertBinding::Certificates(c) => c.is_empty(),
            CertBinding::Digests(d) => d.is_empty(),
        }
    }

    /// Whether `cert` is one of the bound certificates (by DER, or by SM3 / SHA-256
    /// digest for a digest list).
    pub fn binds(&self, cert: &Certificate) -> bool {
        match self {
            CertBinding::Certificates(list) => list.iter().any(|c| c == cert.to_der()),
            CertBinding::Digests(list) => list.iter().any(|d| {
                let alg = match d.algorithm.to_ascii_uppercase().replace('-', "").as_str() {
                    "SM3" => bidkit_crypto::HashAlgorithm::Sm3,
                    "SHA256" => bidkit_crypto::HashAlgorithm::Sha256,
                    _ => return false,
                };
                alg.digest(cert.to_der()).as_slice() == d.value.as_slice()
            }),
        }
    }
}

/// `SES_ESPictrueInfo`: the seal's picture and its display size.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    /// The format (`type`, IA5String): `PNG` for every picture Bidkit makes.
    pub format: String,
    /// The picture file.
    pub data: Vec<u8>,
    /// Display width in millimetres. The standard's field is an INTEGER of whole
    /// millimetres; the exact value travels in a Bidkit extension.
    pub width_mm: f32,
    /// Display height in millimetres (see `width_mm`).
    pub height_mm: f32,
}

/// An extension (`ExtData`) Bidkit does not interpret, kept as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtData {
    /// `extnID`.
    pub id: ObjectIdentifier,
    /// `critical`.
    pub critical: bool,
    /// `extnValue`.
    pub value: Vec<u8>,
}

/// The information of a seal (`SES_SealInfo` with its header, property and picture).
#[derive(Clone, Debug, PartialEq)]
pub struct SealInfo {
    /// `header.Vid`: the maker software's identifier (IA5String).
    pub vendor_id: String,
    /// `esID`: the seal's identifier (IA5String).
    pub es_id: String,
    /// `property.type`.
    pub seal_type: SealType,
    /// `property.name`.
    pub name: String,
    /// Bidkit's kind of seal (`official`, `finance` …), in a Bidkit extension.
    pub kind: Option<String>,
    /// `property.certListType` and `certList`.
    pub binding: CertBinding,
    /// Why the binding is as it is (e.g. no signing certificate yet), in a Bidkit
    /// extension.
    pub binding_note: Option<String>,
    /// `property.createDate`.
    pub created: OffsetDateTime,
    /// `property.validStart`.
    pub valid_start: OffsetDateTime,
    /// `property.validEnd`.
    pub valid_end: OffsetDateTime,
    /// `picture`.
    pub picture: Picture,
    /// Other `extDatas`, kept in order.
    pub extensions: Vec<ExtData>,
}

/// How a seal's maker is trusted.
#[derive(Clone, Copy, Debug)]
pub enum SealTrust<'a> {
    /// Exactly this seal maker certificate (pinned); its chain is not checked.
    Maker(&'a Certificate),
    /// Any maker whose certificate chains to one of these roots (with their CRLs) and
    /// was valid, for signing, when the seal was made.
    Roots(&'a TrustStore),
}

/// A seal whose maker's signature, maker, picture and validity have been checked.
#[derive(Clone, Debug)]
pub struct VerifiedSeal {
    /// The seal's information.
    pub info: SealInfo,
    /// The seal maker's certificate.
    pub maker: Certificate,
    /// The maker's chain, when verified against roots.
    pub chain: Option<VerifiedChain>,
}

/// An electronic seal (`SESeal`): the seal information signed by a seal maker.
#[derive(Clone, Debug)]
pub struct SESeal {
    asn1: SESealAsn1,
    info: SealInfo,
    der: Vec<u8>,
}

impl SESeal {
    /// Make a seal: encode `info`, have the seal maker sign the DER of `eSealInfo`
    /// (GB/T 38540-2020 §7.1, `signedValue`) and attach the maker's certificate.
    ///
    /// Fails if a field cannot be encoded (non-ASCII identifiers, times before 1970
    /// or after 9999, a picture without data), if `maker`'s key is not the key of
    /// `maker_cert`, or if the signer fails.
    pub fn make(
        info: SealInfo,
        maker: &dyn Signer,
        maker_cert: &Certificate,
    ) -> Result<SESeal, SesError> {
        check_key(maker, maker_cert, "seal maker certificate")?;
        let info_asn1 = info_to_asn1(&info)?;
        let info_der = info_asn1
            .to_der()
            .map_err(|e| SesError::field("SES_SealInfo", "(encoding)", e.to_string()))?;
        let signed = maker.sign(&info_der)?;
        let asn1 = SESealAsn1 {
            eseal_info: info_asn1,
            cert: octets(maker_cert.to_der(), "SESeal", "cert")?,
            sign_alg_id: algorithm_oid(maker.algorithm())?,
            signed_value: bits(&signed, "SESeal", "signedValue")?,
        };
        let der = asn1
            .to_der()
            .map_err(|e| SesError::field("SESeal", "(encoding)", e.to_string()))?;
        Ok(SESeal { asn1, info, der })
    }

    /// Read a seal from DER. Hostile input gives an error, never a panic: the input
    /// must be canonical DER of at most [`MAX_DER_LEN`] bytes with every field in range.
    pub fn from_der(der: &[u8]) -> Result<SESeal, SesError> {
        if der.len() > MAX_DER_LEN {
            return Err(SesError::TooLarge {
                what: "SESeal",
                len: der.len(),
                max: MAX_DER_LEN,
            });
        }
        let asn1 = SESealAsn1::from_der(der).map_err(|e| SesError::malformed("SESeal", e))?;
        Self::from_asn1(asn1, Some(der))
    }

    /// Wrap a decoded structure, checking it; `original`, when given, must be its DER.
    pub(crate) fn from_asn1(asn1: SESealAsn1, original: Option<&[u8]>) -> Result<SESeal, SesError> {
        let der = asn1
            .to_der()
            .map_err(|e| SesError::malformed("SESeal", e))?;
        if original.is_some_and(|o| o != der.as_slice()) {
            return Err(SesError::malformed(
                "SESeal",
                "not in canonical DER form (re-encoding differs)",
            ));
        }
        let info = info_from_asn1(&asn1.eseal_info)?;
        Ok(SESeal { asn1, info, der })
    }

    /// The DER encoding.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The seal's information.
    pub fn info(&self) -> &SealInfo {
        &self.info
    }

    /// The ASN.1 structure, for fields the friendly view does not show.
    pub fn asn1(&self) -> &SESealAsn1 {
        &self.asn1
    }

    /// The seal maker's certificate (DER, as carried in `cert`).
    pub fn maker_certificate_der(&self) -> &[u8] {
        self.asn1.cert.as_bytes()
    }

    /// The seal maker's certificate, parsed.
    pub fn maker_certificate(&self) -> Result<Certificate, SesError> {
        Certificate::from_der(self.maker_certificate_der()).map_err(|source| {
            SesError::Certificate {
                what: "seal maker certificate",
                source,
            }
        })
    }

    /// `signAlgID`, dotted.
    pub fn algorithm_oid(&self) -> String {
        self.asn1.sign_alg_id.to_string()
    }

    /// The maker's signature value (`signedValue`).
    pub fn signed_value(&self) -> &[u8] {
        self.asn1.signed_value.raw_bytes()
    }

    /// Verify the seal (GB/T 38540-2020 §8.2, the seal-side checks): the maker's
    /// certificate is trusted (`trust`; for roots: a valid chain at the seal's
    /// `createDate`, signing purpose), the algorithm matches the maker's key, the
    /// maker's signature over `eSealInfo` verifies, the header is `ES` version 4, a
    /// picture is present, and the seal is within its validity at `at`.
    pub fn verify(
        &self,
        trust: &SealTrust<'_>,
        at: OffsetDateTime,
    ) -> Result<VerifiedSeal, SesError> {
        let maker = self.maker_certificate()?;
        let chain = match trust {
            SealTrust::Maker(pinned) => {
                if pinned.to_der() != maker.to_der() {
                    return Err(SesError::UnknownMaker {
                        subject: maker.subject_display(),
                        serial: maker.serial_hex(),
                    });
                }
                None
            }
            SealTrust::Roots(store) => Some(
                verify_chain(
                    &maker,
                    &[],
                    store,
                    self.info.created,
                    Some(KeyPurpose::Signing),
                )
                .map_err(SesError::UntrustedMaker)?,
            ),
        };
        let info_der = self
            .asn1
            .eseal_info
            .to_der()
            .map_err(|e| SesError::malformed("SES_SealInfo", e))?;
        verify_signature(
            "seal maker's signature",
            &maker,
            &self.asn1.sign_alg_id,
            &info_der,
            &self.asn1.signed_value,
        )?;
        if self.info.picture.data.is_empty() {
            return Err(SesError::NoPicture {
                name: self.info.name.clone(),
            });
        }
        if at < self.info.valid_start {
            return Err(SesError::SealNotYetValid {
                name: self.info.name.clone(),
                valid_start: self.info.valid_start,
            });
        }
        if at > self.info.valid_end {
            return Err(SesError::SealExpired {
                name: self.info.name.clone(),
                valid_end: self.info.valid_end,
            });
        }
        Ok(VerifiedSeal {
            info: self.info.clone(),
            maker,
            chain,
        })
    }
}

/// The signer's key must be the certificate's key.
pub(crate) fn check_key(
    signer: &dyn Signer,
    cert: &Certificate,
    what: &'static str,
) -> Result<(), SesError> {
    let key = cert
        .public_key()
        .map_err(|source| SesError::Certificate { what, source })?;
    if key != signer.public_key() {
        return Err(SesError::KeyMismatch {
            what,
            serial: cert.serial_hex(),
        });
    }
    Ok(())
}

/// Verify `signature` over `message` with `cert`'s key, `oid` naming the algorithm.
pub(crate) fn verify_signature(
    what: &'static str,
    cert: &Certificate,
    oid: &ObjectIdentifier,
    message: &[u8],
    signature: &BitString,
) -> Result<(), SesError> {
    let oid_s = oid.to_string();
    let alg = algorithm_from_oid(&oid_s)?;
    if alg.suite() != cert.suite() {
        return Err(SesError::AlgorithmMismatch {
            what,
            oid: oid_s,
            suite: cert.suite(),
        });
    }
    let sig = signature.as_bytes().ok_or_else(|| SesError::BadSignature {
        what,
        reason: "the BIT STRING has unused bits".into(),
    })?;
    let key = cert.public_key().map_err(|source| SesError::Certificate {
        what: "certificate",
        source,
    })?;
    key.verify(message, sig)
        .map_err(|e| SesError::BadSignature {
            what,
            reason: e.to_string(),
        })
}

/// The algorithm of a dotted OID.
pub(crate) fn algorithm_from_oid(oid: &str) -> Result<SignatureAlgorithm, SesError> {
    [
        SignatureAlgorithm::Sm2WithSm3,
        SignatureAlgorithm::EcdsaP256WithSha256,
    ]
    .into_iter()
    .find(|a| a.oid() == oid)
    .ok_or_else(|| SesError::UnsupportedAlgorithm {
        oid: oid.to_owned(),
    })
}

pub(crate) fn algorithm_oid(alg: SignatureAlgorithm) -> Result<ObjectIdentifier, SesError> {
    ObjectIdentifier::new(alg.oid()).map_err(|e| SesError::UnsupportedAlgorithm {
        oid: format!("{} ({e})", alg.oid()),
    })
}

pub(crate) fn octets(
    data: &[u8],
    structure: &'static str,
    field: &'static str,
) -> Result<OctetString, SesError> {
    OctetString::new(data.to_vec()).map_err(|e| SesError::field(structure, field, e.to_string()))
}

pub(crate) fn bits(
    data: &[u8],
    structure: &'static str,
    field: &'static str,
) -> Result<BitString, SesError> {
    BitString::from_bytes(data).map_err(|e| SesError::field(structure, field, e.to_string()))
}

pub(crate) fn ia5(
    s: &str,
    structure: &'static str,
    field: &'static str,
) -> Result<Ia5String, SesError> {
    Ia5String::new(s).map_err(|_| {
        SesError::field(
            structure,
            field,
            format!("{s:?} is not an IA5String (ASCII only)"),
        )
    })
}

/// A time as GeneralizedTime, whole seconds, UTC.
pub(crate) fn gen_time(
    t: OffsetDateTime,
    structure: &'static str,
    field: &'static str,
) -> Result<GeneralizedTime, SesError> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| SesError::field(structure, field, "times before 1970 are not encoded"))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|e| SesError::field(structure, field, e.to_string()))
}

pub(crate) fn from_gen_time(
    t: &GeneralizedTime,
    structure: &'static str,
    field: &'static str,
) -> Result<OffsetDateTime, SesError> {
    let secs = i64::try_from(t.to_unix_duration().as_secs())
        .map_err(|_| SesError::field(structure, field, "out of range"))?;
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| SesError::field(structure, field, e.to_string()))
}

pub(crate) fn ext_to_asn1(ext: &ExtData) -> Result<ExtDataAsn1, SesError> {
    Ok(ExtDataAsn1 {
        extn_id: ext.id,
        critical: ext.critical,
        extn_value: octets(&ext.value, "ExtData", "extnValue")?,
    })
}

pub(crate) fn ext_from_asn1(ext: &ExtDataAsn1) -> ExtData {
    ExtData {
        id: ext.extn_id,
        critical: ext.critical,
        value: ext.extn_value.as_bytes().to_vec(),
    }
}

fn mm_to_um(mm: f32, field: &'static str) -> Result<i64, SesError> {
    if !mm.is_finite() || mm <= 0.0 || mm > 10_000.0 {
        return Err(SesError::field(
            "SES_ESPictrueInfo",
            field,
            format!("{mm} mm is not a usable size"),
        ));
    }
    Ok((f64::from(mm) * 1000.0).round() as i64)
}

fn info_to_asn1(info: &SealInfo) -> Result<SealInfoAsn1, SesError> {
    const P: &str = "SES_ESPropertyInfo";
    if info.picture.data.is_empty() {
        return Err(SesError::field(
            "SES_ESPictrueInfo",
            "data",
            "the picture is empty",
        ));
    }
    if info.valid_end < info.valid_start {
        return Err(SesError::field(P, "validEnd", "it is before validStart"));
    }
    let (list_type, list_der) = match &info.binding {
        CertBinding::Certificates(certs) => {
            let list: CertInfoList = certs
                .iter()
                .map(|c| octets(c, P, "certList"))
                .collect::<Result<_, _>>()?;
            (1, list.to_der())
        }
        CertBinding::Digests(digests) => {
            let list: CertDigestList = digests
                .iter()
                .map(|d| {
                    Ok(CertDigestObj {
                        kind: PrintableString::new(&d.algorithm).map_err(|_| {
                            SesError::field(
                                "CertDigestObj",
                                "type",
                                format!("{:?} is not a PrintableString", d.algorithm),
                            )
                        })?,
                        value: octets(&d.value, "CertDigestObj", "value")?,
                    })
                })
                .collect::<Result<_, SesError>>()?;
            (2, list.to_der())
        }
    };
    let list_der = list_der.map_err(|e| SesError::field(P, "certList", e.to_string()))?;
    let cert_list =
        Any::from_der(&list_der).map_err(|e| SesError::field(P, "certList", e.to_string()))?;
    let w_um = mm_to_um(info.picture.width_mm, "width")?;
    let h_um = mm_to_um(info.picture.height_mm, "height")?;
    let mut exts = Vec::new();
    if let Some(kind) = &info.kind {
        exts.push(ExtDataAsn1 {
            extn_id: OID_SEAL_KIND,
            critical: false,
            extn_value: encoded_octets(&kind.clone(), "seal kind")?,
        });
    }
    exts.push(ExtDataAsn1 {
        extn_id: OID_PICTURE_SIZE_UM,
        critical: false,
        extn_value: encoded_octets(
            &PictureSizeUm {
                width: w_um,
                height: h_um,
            },
            "picture size",
        )?,
    });
    if let Some(note) = &info.binding_note {
        exts.push(ExtDataAsn1 {
            extn_id: OID_BINDING_NOTE,
            critical: false,
            extn_value: encoded_octets(&note.clone(), "binding note")?,
        });
    }
    for e in &info.extensions {
        exts.push(ext_to_asn1(e)?);
    }
    Ok(SealInfoAsn1 {
        header: SesHeader {
            id: ia5(HEADER_ID, "SES_Header", "ID")?,
            version: SES_VERSION,
            vid: ia5(&info.vendor_id, "SES_Header", "Vid")?,
        },
        es_id: ia5(&info.es_id, "SES_SealInfo", "esID")?,
        property: PropertyInfo {
            kind: info.seal_type.code(),
            name: info.name.clone(),
            cert_list_type: list_type,
            cert_list,
            create_date: gen_time(info.created, P, "createDate")?,
            valid_start: gen_time(info.valid_start, P, "validStart")?,
            valid_end: gen_time(info.valid_end, P, "validEnd")?,
        },
        picture: PictureInfo {
            kind: ia5(&info.picture.format, "SES_ESPictrueInfo", "type")?,
            data: octets(&info.picture.data, "SES_ESPictrueInfo", "data")?,
            // Whole millimetres, at least 1 (the standard's INTEGER).
            width: ((w_um + 500) / 1000).max(1),
            height: ((h_um + 500) / 1000).max(1),
        },
        ext_datas: Some(exts),
    })
}

fn encoded_octets<T: Encode>(value: &T, what: &'static str) -> Result<OctetString, SesError> {
    let der = value
        .to_der()
        .map_err(|e| SesError::field("ExtData", "extnValue", format!("{what}: {e}")))?;
    octets(&der, "ExtData", "extnValue")
}

fn info_from_asn1(a: &SealInfoAsn1) -> Result<SealInfo, SesError> {
    const P: &str = "SES_ESPropertyInfo";
    if a.header.id.as_str() != HEADER_ID {
        return Err(SesError::field(
            "SES_Header",
            "ID",
            format!("{:?}, expected \"ES\"", a.header.id.as_str()),
        ));
    }
    if a.header.version != SES_VERSION {
        return Err(SesError::field(
            "SES_Header",
            "version",
            format!(
                "{} (only version 4, GB/T 38540-2020, is read)",
                a.header.version
            ),
        ));
    }
    let seal_type = SealType::from_code(a.property.kind).ok_or_else(|| {
        SesError::field(P, "type", format!("{} (expected 1 or 2)", a.property.kind))
    })?;
    let list_der = a
        .property
        .cert_list
        .to_der()
        .map_err(|e| SesError::malformed("SES_CertList", e))?;
    let binding = match a.property.cert_list_type {
        1 => CertBinding::Certificates(
            CertInfoList::from_der(&list_der)
                .map_err(|e| SesError::malformed("SES_CertList (certs)", e))?
                .iter()
                .map(|o| o.as_bytes().to_vec())
                .collect(),
        ),
        2 => CertBinding::Digests(
            CertDigestList::from_der(&list_der)
                .map_err(|e| SesError::malformed("SES_CertList (certDigestList)", e))?
                .iter()
                .map(|d| CertDigest {
                    algorithm: d.kind.as_str().to_owned(),
                    value: d.value.as_bytes().to_vec(),
                })
                .collect(),
        ),
        other => {
            return Err(SesError::field(
                P,
                "certListType",
                format!("{other} (expected 1 or 2)"),
            ));
        }
    };
    let created = from_gen_time(&a.property.create_date, P, "createDate")?;
    let valid_start = from_gen_time(&a.property.valid_start, P, "validStart")?;
    let valid_end = from_gen_time(&a.property.valid_end, P, "validEnd")?;
    if a.picture.width < 0 || a.picture.height < 0 {
        return Err(SesError::field(
            "SES_ESPictrueInfo",
            "width",
            "a negative size",
        ));
    }
    let mut width_mm = a.picture.width as f32;
    let mut height_mm = a.picture.height as f32;
    let mut kind = None;
    let mut binding_note = None;
    let mut extensions = Vec::new();
    for e in a.ext_datas.iter().flatten() {
        let value = e.extn_value.as_bytes();
        if e.extn_id == OID_SEAL_KIND {
            kind = Some(
                String::from_der(value)
                    .map_err(|err| SesError::malformed("seal kind extension", err))?,
            );
        } else if e.extn_id == OID_PICTURE_SIZE_UM {
            let size = PictureSizeUm::from_der(value)
                .map_err(|err| SesError::malformed("picture size extension", err))?;
            if !(1..=10_000_000).contains(&size.width) || !(1..=10_000_000).contains(&size.height) {
                return Err(SesError::field(
                    "picture size extension",
                    "width/height",
                    "out of range",
                ));
            }
            width_mm = size.width as f32 / 1000.0;
            height_mm = size.height as f32 / 1000.0;
        } else if e.extn_id == OID_BINDING_NOTE {
            binding_note = Some(
                String::from_der(value)
                    .map_err(|err| SesError::malformed("binding note extension", err))?,
            );
        } else {
            extensions.push(ext_from_asn1(e));
        }
    }
    Ok(SealInfo {
        vendor_id: a.header.vid.as_str().to_owned(),
        es_id: a.es_id.as_str().to_owned(),
        seal_type,
        name: a.property.name.clone(),
        kind,
        binding,
        binding_note,
        created,
        valid_start,
        valid_end,
        picture: Picture {
            format: a.picture.kind.as_str().to_owned(),
            data: a.picture.data.as_bytes().to_vec(),
            width_mm,
            height_mm,
        },
        extensions,
    })
}
