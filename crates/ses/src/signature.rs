//! The electronic signature `SES_Signature` (GB/T 38540-2020 §7.2): a seal applied to
//! data, signed by the seal's user. In a PDF it is the optional `/Contents` format for
//! platforms that require it; the PDF crate prepares the data hash and embeds the DER.

use bidkit_crypto::Signer;
use bidkit_pki::{Certificate, KeyPurpose, VerifiedChain, verify_chain};
use der::asn1::BitString;
use der::{Decode, Encode};
use time::OffsetDateTime;

use crate::asn1::{SesSignatureAsn1, TbsSignAsn1};
use crate::seal::{
    ExtData, SESeal, SealTrust, VerifiedSeal, algorithm_oid, bits, check_key, ext_from_asn1,
    ext_to_asn1, from_gen_time, gen_time, ia5, octets, verify_signature,
};
use crate::{MAX_DER_LEN, SES_VERSION, SesError};

/// The signed part of a signature (`TBS_Sign`, GB/T 38540-2020 §7.2.2).
#[derive(Clone, Debug)]
pub struct TbsSign {
    /// The seal applied (`eseal`).
    pub eseal: SESeal,
    /// The signing time (`timeInfo`, GeneralizedTime, whole seconds).
    pub time_info: OffsetDateTime,
    /// The hash of the signed data (`dataHash`, a BIT STRING of whole bytes).
    pub data_hash: Vec<u8>,
    /// What was signed (`propertyInfo`, IA5String), e.g. a description of the byte
    /// ranges of a PDF revision.
    pub property_info: String,
    /// `extDatas`.
    pub extensions: Vec<ExtData>,
}

impl TbsSign {
    /// A `TBS_Sign` of version 4 without extensions.
    pub fn new(
        eseal: SESeal,
        time_info: OffsetDateTime,
        data_hash: Vec<u8>,
        property_info: impl Into<String>,
    ) -> Self {
        TbsSign {
            eseal,
            time_info,
            data_hash,
            property_info: property_info.into(),
            extensions: Vec::new(),
        }
    }

    fn to_asn1(&self) -> Result<TbsSignAsn1, SesError> {
        const T: &str = "TBS_Sign";
        let exts = self
            .extensions
            .iter()
            .map(ext_to_asn1)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TbsSignAsn1 {
            version: SES_VERSION,
            eseal: self.eseal.asn1().clone(),
            time_info: gen_time(self.time_info, T, "timeInfo")?,
            data_hash: bits(&self.data_hash, T, "dataHash")?,
            property_info: ia5(&self.property_info, T, "propertyInfo")?,
            ext_datas: if exts.is_empty() { None } else { Some(exts) },
        })
    }

    /// The bytes the signer signs: the DER of `TBS_Sign` (GB/T 38540-2020 §7.2.1,
    /// `signature`).
    pub fn to_be_signed(&self) -> Result<Vec<u8>, SesError> {
        self.to_asn1()?
            .to_der()
            .map_err(|e| SesError::field("TBS_Sign", "(encoding)", e.to_string()))
    }
}

/// A signature whose signer binding, seal and value have been checked.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    /// The seal, verified.
    pub seal: VerifiedSeal,
    /// The signer's certificate.
    pub signer: Certificate,
    /// The signer's chain at `timeInfo`, when verified against roots.
    pub chain: Option<VerifiedChain>,
    /// The signing time claimed (`timeInfo`).
    pub time_info: OffsetDateTime,
    /// `propertyInfo`.
    pub property_info: String,
}

/// An electronic signature (`SES_Signature`).
#[derive(Clone, Debug)]
pub struct SesSignature {
    asn1: SesSignatureAsn1,
    tbs: TbsSign,
    der: Vec<u8>,
}

impl SesSignature {
    /// Put a signature together from its signed part, the signer's certificate and the
    /// signature value (a DER `SEQUENCE { r, s }` over [`TbsSign::to_be_signed`]) made
    /// elsewhere, e.g. on the phone. The algorithm is the certificate's suite's. The
    /// value is not checked here: call [`SesSignature::verify`].
    pub fn assemble(
        tbs: TbsSign,
        cert: &Certificate,
        signature: &[u8],
    ) -> Result<SesSignature, SesError> {
        let asn1 = SesSignatureAsn1 {
            to_sign: tbs.to_asn1()?,
            cert: octets(cert.to_der(), "SES_Signature", "cert")?,
            signature_alg_id: algorithm_oid(cert.suite().signature())?,
            signature: bits(signature, "SES_Signature", "signature")?,
            time_stamp: None,
        };
        let der = asn1
            .to_der()
            .map_err(|e| SesError::field("SES_Signature", "(encoding)", e.to_string()))?;
        Ok(SesSignature { asn1, tbs, der })
    }

    /// Sign `tbs` with `signer` (whose key must be `cert`'s) and assemble.
    pub fn sign(
        tbs: TbsSign,
        signer: &dyn Signer,
        cert: &Certificate,
    ) -> Result<SesSignature, SesError> {
        check_key(signer, cert, "signer certificate")?;
        let value = signer.sign(&tbs.to_be_signed()?)?;
        Self::assemble(tbs, cert, &value)
    }

    /// Add an RFC 3161 timestamp token over the signature value (`timeStamp`).
    pub fn with_time_stamp(mut self, token: &[u8]) -> Result<SesSignature, SesError> {
        self.asn1.time_stamp = Some(bits(token, "SES_Signature", "timeStamp")?);
        self.der = self
            .asn1
            .to_der()
            .map_err(|e| SesError::field("SES_Signature", "(encoding)", e.to_string()))?;
        Ok(self)
    }

    /// Read a signature from DER (canonical DER of at most [`MAX_DER_LEN`] bytes);
    /// hostile input gives an error, never a panic.
    pub fn from_der(der: &[u8]) -> Result<SesSignature, SesError> {
        const S: &str = "SES_Signature";
        if der.len() > MAX_DER_LEN {
            return Err(SesError::TooLarge {
                what: S,
                len: der.len(),
                max: MAX_DER_LEN,
            });
        }
        let asn1 = SesSignatureAsn1::from_der(der).map_err(|e| SesError::malformed(S, e))?;
        let again = asn1.to_der().map_err(|e| SesError::malformed(S, e))?;
        if again != der {
            return Err(SesError::malformed(
                S,
                "not in canonical DER form (re-encoding differs)",
            ));
        }
        let t = &asn1.to_sign;
        if t.version != SES_VERSION {
            return Err(SesError::field(
                "TBS_Sign",
                "version",
                format!("{} (only version 4 is read)", t.version),
            ));
        }
        let eseal = SESeal::from_asn1(t.eseal.clone(), None)?;
        let data_hash = t
            .data_hash
            .as_bytes()
            .ok_or_else(|| SesError::field("TBS_Sign", "dataHash", "it has unused bits"))?
            .to_vec();
        let tbs = TbsSign {
            eseal,
            time_info: from_gen_time(&t.time_info, "TBS_Sign", "timeInfo")?,
            data_hash,
            property_info: t.property_info.as_str().to_owned(),
            extensions: t.ext_datas.iter().flatten().map(ext_from_asn1).collect(),
        };
        Ok(SesSignature {
            asn1,
            tbs,
            der: der.to_vec(),
        })
    }

    /// The DER encoding.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The signed part.
    pub fn tbs(&self) -> &TbsSign {
        &self.tbs
    }

    /// The ASN.1 structure.
    pub fn asn1(&self) -> &SesSignatureAsn1 {
        &self.asn1
    }

    /// The signer's certificate, parsed.
    pub fn signer_certificate(&self) -> Result<Certificate, SesError> {
        Certificate::from_der(self.asn1.cert.as_bytes()).map_err(|source| SesError::Certificate {
            what: "signer certificate",
            source,
        })
    }

    /// The signature value.
    pub fn signature_value(&self) -> &[u8] {
        self.asn1.signature.raw_bytes()
    }

    /// The timestamp token, if any.
    pub fn time_stamp(&self) -> Option<&[u8]> {
        self.asn1.time_stamp.as_ref().map(BitString::raw_bytes)
    }

    /// Verify the signature (GB/T 38540-2020 §8.3, in its order): the signature value
    /// over `TBS_Sign` with the signer's certificate; the signer's certificate is one the
    /// seal is bound to; the seal itself ([`SESeal::verify`] with `trust`, at
    /// `timeInfo`); with [`SealTrust::Roots`], the signer's chain at `timeInfo` for
    /// signing; and `dataHash` equals `data_hash`, the hash of the signed data computed
    /// by the caller.
    pub fn verify(
        &self,
        data_hash: &[u8],
        trust: &SealTrust<'_>,
    ) -> Result<VerifiedSignature, SesError> {
        let signer = self.signer_certificate()?;
        let tbs_der = self
            .asn1
            .to_sign
            .to_der()
            .map_err(|e| SesError::malformed("TBS_Sign", e))?;
        verify_signature(
            "signature",
            &signer,
            &self.asn1.signature_alg_id,
            &tbs_der,
            &self.asn1.signature,
        )?;
        let seal_info = self.tbs.eseal.info();
        if !seal_info.binding.binds(&signer) {
            return Err(SesError::SignerNotBound {
                seal: seal_info.name.clone(),
                serial: signer.serial_hex(),
            });
        }
        let seal = self.tbs.eseal.verify(trust, self.tbs.time_info)?;
        let chain = match trust {
            SealTrust::Maker(_) => None,
            SealTrust::Roots(store) => Some(
                verify_chain(
                    &signer,
                    &[],
                    store,
                    self.tbs.time_info,
                    Some(KeyPurpose::Signing),
                )
                .map_err(SesError::UntrustedSigner)?,
            ),
        };
        if self.tbs.data_hash.as_slice() != data_hash {
            return Err(SesError::DataHashMismatch);
        }
        Ok(VerifiedSignature {
            seal,
            signer,
            chain,
            time_info: self.tbs.time_info,
            property_info: self.tbs.property_info.clone(),
        })
    }
}

/// Parse check helper for callers holding raw `TBS_Sign` DER (e.g. to show it).
pub fn decode_tbs_sign(der: &[u8]) -> Result<TbsSignAsn1, SesError> {
    TbsSignAsn1::from_der(der).map_err(|e| SesError::malformed("TBS_Sign", e))
}
