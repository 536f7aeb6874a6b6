//! Who a certificate is for: a person or an organisation, and how each is written as an
//! X.509 distinguished name (RFC 5280 §4.1.2.6; attribute types from X.520 / RFC 4519).

use der::asn1::Any;
use der::{Decode, Encode, Tag, Tagged};
use serde::{Deserialize, Serialize};
use spki::ObjectIdentifier;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::{PkiError, Result};

/// `countryName` (2.5.4.6).
pub(crate) const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
/// `organizationName` (2.5.4.10).
pub(crate) const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// `organizationalUnitName` (2.5.4.11).
pub(crate) const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
/// `commonName` (2.5.4.3).
pub(crate) const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// `serialNumber` (2.5.4.5): a person's ID number.
pub(crate) const OID_SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
/// `organizationIdentifier` (2.5.4.97): an organisation's unified social credit code.
pub(crate) const OID_ORG_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");

/// Upper bound of `commonName` / `organizationName` in characters (RFC 5280 Appendix A.1,
/// `ub-common-name`, `ub-organization-name`).
const UB_NAME: usize = 64;
/// Upper bound of `serialNumber` (`ub-serial-number`).
const UB_SERIAL_NUMBER: usize = 64;

/// The holder of a certificate.
///
/// See the crate documentation for how each kind maps to a distinguished name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A natural person (自然人).
    Person {
        /// Full name, e.g. `张三`.
        name: String,
        /// Resident identity card number (or passport number), e.g. `11010519491231002X`.
        id_number: String,
    },
    /// An organisation (机构 / 企业).
    Organisation {
        /// Registered name, e.g. `北京某某建设有限公司`.
        name: String,
        /// Unified social credit code (统一社会信用代码, GB 32100-2015), 18 characters.
        uscc: String,
    },
}

impl Subject {
    /// The holder's name.
    pub fn name(&self) -> &str {
        match self {
            Subject::Person { name, .. } | Subject::Organisation { name, .. } => name,
        }
    }

    /// The holder's identifier: ID number or unified social credit code.
    pub fn identifier(&self) -> &str {
        match self {
            Subject::Person { id_number, .. } => id_number,
            Subject::Organisation { uscc, .. } => uscc,
        }
    }

    /// Check that the fields fit in a certificate: names non-empty, at most 64
    /// characters, no control characters; the ID number a PrintableString.
    pub fn validate(&self) -> Result<()> {
        check_name(self.name())?;
        match self {
            Subject::Person { id_number, .. } => {
                check_identifier("ID number", id_number)?;
                if !id_number.chars().all(is_printable_string_char) {
                    return Err(PkiError::InvalidSubject {
                        field: "ID number",
                        reason: format!(
                            "{id_number:?} has characters outside PrintableString (letters, digits, space and '()+,-./:=?)"
                        ),
                    });
                }
            }
            Subject::Organisation { uscc, .. } => {
                check_identifier("unified social credit code", uscc)?;
            }
        }
        Ok(())
    }

    /// The distinguished name Bidkit puts in a certificate for this holder.
    pub(crate) fn to_name(&self) -> Result<Name> {
        self.validate()?;
        let mut rdns = vec![(OID_C, printable("CN")?)];
        match self {
            Subject::Person { name, id_number } => {
                rdns.push((OID_CN, utf8(name)?));
                rdns.push((OID_SERIAL_NUMBER, printable(id_number)?));
            }
            Subject::Organisation { name, uscc } => {
                rdns.push((OID_O, utf8(name)?));
                rdns.push((OID_CN, utf8(name)?));
                rdns.push((OID_ORG_ID, utf8(uscc)?));
            }
        }
        build_name(&rdns)
    }

    /// Read a holder back from a distinguished name written by [`Subject::to_name`]
    /// (or any name with a CN and one of the two identifier attributes).
    pub(crate) fn from_name(name: &Name) -> std::result::Result<Self, String> {
        let cn = find(name, OID_CN).ok_or("no commonName (CN)")?;
        if let Some(uscc) = find(name, OID_ORG_ID) {
            let name = find(name, OID_O).unwrap_or(cn);
            return Ok(Subject::Organisation { name, uscc });
        }
        if let Some(id_number) = find(name, OID_SERIAL_NUMBER) {
            return Ok(Subject::Person {
                name: cn,
                id_number,
            });
        }
        Err("neither serialNumber (ID number) nor organizationIdentifier (USCC)".into())
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Person { name, id_number } => write!(f, "{name} (ID {id_number})"),
            Subject::Organisation { name, uscc } => write!(f, "{name} (USCC {uscc})"),
        }
    }
}

fn check_name(name: &str) -> Result<()> {
    let invalid = |reason: String| PkiError::InvalidSubject {
        field: "name",
        reason,
    };
    if name.trim().is_empty() {
        return Err(invalid("the name is empty".into()));
    }
    if name.chars().count() > UB_NAME {
        return Err(invalid(format!(
            "{name:?} is longer than {UB_NAME} characters (RFC 5280 ub-common-name)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!("{name:?} contains control characters")));
    }
    Ok(())
}

fn check_identifier(field: &'static str, value: &str) -> Result<()> {
    let invalid = |reason: String| PkiError::InvalidSubject { field, reason };
    if value.trim().is_empty() {
        return Err(invalid("it is empty".into()));
    }
    if value.chars().count() > UB_SERIAL_NUMBER {
        return Err(invalid(format!(
            "{value:?} is longer than {UB_SERIAL_NUMBER} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{value:?} contains control characters")));
    }
    Ok(())
}

/// Whether a unified social credit code is well formed: 18 characters from
/// `0-9A-HJ-NPQRTUWXY` whose last one is the GB 32100-2015 check character.
///
/// The CA does not insist on it (test fixtures use made-up codes); callers that take a
/// code from a person can use this to catch typing errors.
pub fn uscc_is_valid(code: &str) -> bool {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let values: Option<Vec<u32>> = code
        .chars()
        .map(|c| ALPHABET.find(c).map(|i| i as u32))
        .collect();
    let Some(values) = values else { return false };
    if values.len() != 18 {
        return false;
    }
    let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    values[17] == check
}

pub(crate) fn is_printable_string_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c)
}

pub(crate) fn utf8(s: &str) -> Result<Any> {
    Any::new(Tag::Utf8String, s.as_bytes()).map_err(|e| PkiError::encode("a UTF8String", e))
}

pub(crate) fn printable(s: &str) -> Result<Any> {
    if !s.chars().all(is_printable_string_char) {
        return Err(PkiError::encode(
            "a PrintableString",
            format!("{s:?} has characters outside PrintableString"),
        ));
    }
    Any::new(Tag::PrintableString, s.as_bytes())
        .map_err(|e| PkiError::encode("a PrintableString", e))
}

/// Build a name with one attribute per RDN, in the given order.
pub(crate) fn build_name(attrs: &[(ObjectIdentifier, Any)]) -> Result<Name> {
    let mut seq = RdnSequence::default();
    for (oid, value) in attrs {
        let atv = AttributeTypeAndValue {
            oid: *oid,
            value: value.clone(),
        };
        let rdn = RelativeDistinguishedName::try_from(vec![atv])
            .map_err(|e| PkiError::encode("a distinguished name", e))?;
        seq.push(rdn);
    }
    // `Name` has no public constructor from an `RdnSequence` (outside `hazmat`);
    // both have the same encoding, so go through DER.
    let der = seq
        .to_der()
        .map_err(|e| PkiError::encode("a distinguished name", e))?;
    Name::from_der(&der).map_err(|e| PkiError::encode("a distinguished name", e))
}

/// The first value of attribute `oid` in `name`, as text.
pub(crate) fn find(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid == oid)
        .and_then(|atv| value_to_string(&atv.value))
}

/// A directory string's text (UTF8String, PrintableString, IA5String, BMPString).
pub(crate) fn value_to_string(value: &Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            String::from_utf8(bytes.to_vec()).ok()
        }
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Short label of an attribute type, as OpenSSL prints it.
fn attr_label(oid: ObjectIdentifier) -> String {
    match oid {
        o if o == OID_C => "C".into(),
        o if o == OID_O => "O".into(),
        o if o == OID_OU => "OU".into(),
        o if o == OID_CN => "CN".into(),
        o if o == OID_SERIAL_NUMBER => "serialNumber".into(),
        o if o == OID_ORG_ID => "organizationIdentifier".into(),
        o => o.to_string(),
    }
}

/// A distinguished name for people: `C=CN, O=…, CN=…`, in encoded order, UTF-8.
pub(crate) fn display_name(name: &Name) -> String {
    name.iter()
        .map(|atv| {
            let value = value_to_string(&atv.value)
                .unwrap_or_else(|| format!("#{}", hex::encode(atv.value.value())));
            format!("{}={}", attr_label(atv.oid), value)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_and_organisation_round_trip_through_names() {
        let p = Subject::Person {
            name: "张三".into(),
            id_number: "11010519491231002X".into(),
        };
        let o = Subject::Organisation {
            name: "北京某某建设有限公司".into(),
            uscc: "91110000600037341L".into(),
        };
        for s in [p, o] {
            let name = s.to_name().unwrap();
            assert_eq!(Subject::from_name(&name).unwrap(), s);
        }
    }

    #[test]
    fn display_is_utf8_in_encoded_order() {
        let o = Subject::Organisation {
            name: "某公司".into(),
            uscc: "91110000600037341L".into(),
        };
        assert_eq!(
            display_name(&o.to_name().unwrap()),
            "C=CN, O=某公司, CN=某公司, organizationIdentifier=91110000600037341L"
        );
    }

    #[test]
    fn bad_subjects_are_rejected_with_the_field() {
        let cases = [
            Subject::Person {
                name: " ".into(),
                id_number: "1".into(),
            },
            Subject::Person {
                name: "张三".into(),
                id_number: "身份证".into(),
            },
            Subject::Organisation {
                name: "x".repeat(65),
                uscc: "1".into(),
            },
            Subject::Organisation {
                name: "a\nb".into(),
                uscc: "1".into(),
            },
        ];
        for s in cases {
            assert!(
                matches!(s.validate(), Err(PkiError::InvalidSubject { .. })),
                "{s:?}"
            );
        }
    }

    #[test]
    fn uscc_check_character() {
        assert!(uscc_is_valid("91110000600037341L"));
        assert!(!uscc_is_valid("91110000600037341M"));
        assert!(!uscc_is_valid("9111000060003734"));
    }
}
