//! Checks of what people type: names, resident ID numbers (GB 11643-1999), unified
//! social credit codes (GB 32100-2015), mainland mobile numbers, six-digit PINs and
//! phone (emulator) names.

use crate::{KeystoreError, Result};

/// GB 11643-1999 weights of the first 17 digits.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643-1999 check characters, indexed by the weighted sum mod 11.
const ID_CHECK: &[u8; 11] = b"10X98765432";
/// GB 32100-2015 alphabet (no I, O, S, V, Z).
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100-2015 weights of the first 17 characters.
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character of a resident ID number whose first 17 characters are `first17`
/// (digits), or `None` if they are not 17 digits.
pub fn id_number_check_char(first17: &str) -> Option<char> {
    let digits: Option<Vec<u32>> = first17.chars().map(|c| c.to_digit(10)).collect();
    let digits = digits.filter(|d| d.len() == 17)?;
    let sum: u32 = digits.iter().zip(ID_WEIGHTS).map(|(d, w)| d * w).sum();
    Some(char::from(ID_CHECK[(sum % 11) as usize]))
}

/// The check character of a unified social credit code whose first 17 characters are
/// `first17`, or `None` if they are not 17 characters of the code's alphabet.
pub fn uscc_check_char(first17: &str) -> Option<char> {
    let values: Option<Vec<u32>> = first17
        .chars()
        .map(|c| USCC_ALPHABET.find(c).map(|i| i as u32))
        .collect();
    let values = values.filter(|v| v.len() == 17)?;
    let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
    USCC_ALPHABET.chars().nth(((31 - sum % 31) % 31) as usize)
}

/// A person's or organisation's name: non-empty, at most 64 characters, no control
/// characters. Returns it trimmed.
pub fn check_name(field: &'static str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(KeystoreError::invalid(field, "it is empty"));
    }
    if name.chars().count() > 64 {
        return Err(KeystoreError::invalid(
            field,
            format!("{name:?} is longer than 64 characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(KeystoreError::invalid(
            field,
            format!("{name:?} contains control characters"),
        ));
    }
    Ok(name.to_owned())
}

/// An 18-character resident ID number with a correct check character (a lowercase `x`
/// is accepted and returned uppercase).
pub fn check_id_number(id: &str) -> Result<String> {
    let id = id.trim().to_ascii_uppercase();
    let field = "ID number";
    if id.chars().count() != 18 {
        return Err(KeystoreError::invalid(
            field,
            format!(
                "{id:?} has {} characters, a resident ID number has 18",
                id.chars().count()
            ),
        ));
    }
    let (first, last) = id.split_at(17);
    let Some(expected) = id_number_check_char(first) else {
        return Err(KeystoreError::invalid(
            field,
            format!("{id:?}: the first 17 characters must be digits"),
        ));
    };
    if !last.starts_with(expected) {
        return Err(KeystoreError::invalid(
            field,
            format!("{id:?}: the check character should be {expected} (GB 11643-1999), not {last}"),
        ));
    }
    Ok(id)
}

/// An 18-character unified social credit code with a correct check character.
pub fn check_uscc(code: &str) -> Result<String> {
    let code = code.trim().to_ascii_uppercase();
    let field = "unified social credit code";
    if code.chars().count() != 18 {
        return Err(KeystoreError::invalid(
            field,
            format!(
                "{code:?} has {} characters, the code has 18",
                code.chars().count()
            ),
        ));
    }
    let (first, last) = code.split_at(17);
    let Some(expected) = uscc_check_char(first) else {
        return Err(KeystoreError::invalid(
            field,
            format!("{code:?} uses characters outside 0-9 and A-Y without I, O, S, V, Z"),
        ));
    };
    if !last.starts_with(expected) {
        return Err(KeystoreError::invalid(
            field,
            format!(
                "{code:?}: the check character should be {expected} (GB 32100-2015), not {last}"
            ),
        ));
    }
    Ok(code)
}

/// A mainland mobile number: 11 digits starting with 1 (a `+86` prefix is dropped).
pub fn check_phone_number(number: &str) -> Result<String> {
    let n: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let n = n.strip_prefix("+86").unwrap_or(&n).to_owned();
    if n.len() != 11 || !n.starts_with('1') || !n.chars().all(|c| c.is_ascii_digit()) {
        return Err(KeystoreError::invalid(
            "phone number",
            format!("{number:?} is not an 11-digit mobile number starting with 1"),
        ));
    }
    Ok(n)
}

/// A certificate PIN (证书密码): exactly six ASCII digits. The PIN is never echoed.
pub fn check_pin(pin: &str) -> Result<()> {
    if pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(KeystoreError::invalid(
            "PIN",
            "the certificate PIN must be exactly six digits",
        ))
    }
}

/// The name of an emulated phone: 1–64 characters from `A-Z a-z 0-9 _ -`, so it is a
/// safe directory name.
pub fn check_phone_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeystoreError::invalid(
            "phone name",
            format!("{name:?}: use 1-64 letters, digits, '_' or '-'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_id_number_and_uscc_check_characters() {
        assert_eq!(
            check_id_number("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert!(check_id_number("110105194912310021").is_err());
        assert_eq!(
            check_uscc("91110000600037341L").unwrap(),
            "91110000600037341L"
        );
        assert!(check_uscc("91110000600037341M").is_err());
        assert_eq!(uscc_check_char("91350100M000100Y4"), Some('3'));
    }

    #[test]
    fn pins_are_six_digits() {
        assert!(check_pin("123456").is_ok());
        for bad in ["12345", "1234567", "12345a", "１２３４５６", ""] {
            assert!(check_pin(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn computed_check_characters_are_accepted_and_others_refused(first in "[0-9]{17}", other in "[0-9X]") {
            let check = id_number_check_char(&first).unwrap();
            let good = format!("{first}{check}");
            proptest::prop_assert!(check_id_number(&good).is_ok());
            if !other.starts_with(check) {
                let bad = format!("{first}{other}");
                proptest::prop_assert!(check_id_number(&bad).is_err());
            }
        }

        #[test]
        fn uscc_check_characters_round_trip(first in "[0-9A-HJ-NPQRTUWXY]{17}") {
            let check = uscc_check_char(&first).unwrap();
            let code = format!("{first}{check}");
            proptest::prop_assert!(check_uscc(&code).is_ok());
        }
    }

    #[test]
    fn phone_names_are_safe_directory_names() {
        assert!(check_phone_name("alice-2").is_ok());
        for bad in ["", "../x", "a/b", "a b", "."] {
            assert!(check_phone_name(bad).is_err(), "{bad}");
        }
    }
}
