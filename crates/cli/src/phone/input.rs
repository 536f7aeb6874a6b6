//! Reading times and dates from the command line.

use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset, time as hms};
use time::{Date, OffsetDateTime};

pub(super) fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2026-05-01T08:00:00Z: {e}"))
}

/// A date (China Standard Time) or an RFC 3339 time, at `at` o'clock for a date.
pub(super) fn parse_day(s: &str, end_of_day: bool) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let date = Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{s:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"))?;
    let at = if end_of_day {
        hms!(23:59:59)
    } else {
        hms!(00:00:00)
    };
    Ok(date.with_time(at).assume_offset(offset!(+8)))
}

pub(super) fn parse_until(s: &str) -> Result<OffsetDateTime, String> {
    parse_day(s, true)
}

pub(super) fn parse_from(s: &str) -> Result<OffsetDateTime, String> {
    parse_day(s, false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_china_time_days() {
        let fmt = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
        assert_eq!(
            fmt(parse_until("2026-05-01").unwrap()),
            "2026-05-01T23:59:59+08:00"
        );
        assert_eq!(
            fmt(parse_from("2026-05-01").unwrap()),
            "2026-05-01T00:00:00+08:00"
        );
        assert_eq!(
            fmt(parse_until("2026-05-01T08:00:00Z").unwrap()),
            "2026-05-01T08:00:00Z"
        );
        assert!(parse_until("tomorrow").is_err());
    }
}
