//! Amounts of money as written in bids: a positive decimal with at most two places.

/// Parse `1234567.89` (also `1234567`, `1234567.8`) into hundredths (fen). `None` for
/// anything else: signs, exponents, separators, more than two decimals, zero, or more than
/// 10^15 units.
pub fn parse_amount(s: &str) -> Option<u64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty()
        || int.len() > 15
        || frac.len() > 2
        || (s.contains('.') && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: u64 = int.parse().ok()?;
    let mut cents: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if frac.len() == 1 {
        cents *= 10;
    }
    let total = units.checked_mul(100)?.checked_add(cents)?;
    (total > 0).then_some(total)
}

/// Format hundredths as `1,234,567.89`.
pub fn format_amount(cents: u64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1234567.89"), Some(123_456_789));
        assert_eq!(parse_amount("12.5"), Some(1250));
        assert_eq!(parse_amount("12"), Some(1200));
        for bad in [
            "", "0", "0.00", "-1", "1e5", "1,000", "1.234", "1.", ".5", " 1",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
        assert_eq!(format_amount(123_456_789), "1,234,567.89");
        assert_eq!(format_amount(5), "0.05");
    }
}
