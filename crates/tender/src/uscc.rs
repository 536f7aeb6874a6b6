//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters whose
//! last is a check character.

/// The code's alphabet (no I, O, S, V, Z), each character's value its index.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character for the first 17 characters of a code (`None`: not 17 characters
/// of the alphabet).
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in bytes.iter().zip(WEIGHTS) {
        let v = ALPHABET.iter().position(|a| a == b)?;
        sum += v as u32 * w;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.get(check as usize).map(|b| char::from(*b))
}

/// Whether `code` is a well-formed unified social credit code (upper case, check
/// character right).
pub fn is_valid(code: &str) -> bool {
    code.len() == 18
        && code.is_char_boundary(17)
        && check_char(&code[..17]) == code[17..].chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert!(is_valid("91350100M000100Y43"));
        assert!(!is_valid("91350100M000100Y44"));
        assert!(!is_valid("91350100M000100Y4"));
        assert!(!is_valid("91350100m000100Y43"));
    }
}
