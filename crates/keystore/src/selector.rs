//! Naming a certificate the way people do: by serial (or a unique prefix of at least
//! six hex digits), by platform id (`#3`), `person` for one's own person certificate,
//! or an organisation's unified social credit code for its certificate.

use std::fmt;
use std::str::FromStr;

use bidkit_crypto::Suite;

/// Which certificate a request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertSelector {
    /// A serial (signing or encryption, current or past) or a unique prefix of one.
    Serial(String),
    /// The platform's certificate id.
    Id(i64),
    /// The user's person certificate.
    Person,
    /// The user's certificate of this organisation (unified social credit code).
    Organisation(String),
}

impl CertSelector {
    /// Read a selector: `person` (or `个人`), `#<id>`, `org:<code>` or an 18-character
    /// unified social credit code, `serial:<hex>` or any other text as a serial.
    pub fn parse(s: &str) -> CertSelector {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if matches!(lower.as_str(), "person" | "personal" | "个人") {
            return CertSelector::Person;
        }
        if let Some(id) = t.strip_prefix('#').and_then(|n| n.parse().ok()) {
            return CertSelector::Id(id);
        }
        if let Some(code) = lower.strip_prefix("org:") {
            return CertSelector::Organisation(code.to_ascii_uppercase());
        }
        if let Some(serial) = lower.strip_prefix("serial:") {
            return CertSelector::Serial(serial.to_owned());
        }
        if crate::ids::check_uscc(t).is_ok() {
            return CertSelector::Organisation(t.to_ascii_uppercase());
        }
        CertSelector::Serial(lower)
    }

    /// Words for error messages.
    pub(crate) fn describe(&self, suite: Option<Suite>) -> String {
        let suite = suite.map(|s| format!("{s} ")).unwrap_or_default();
        match self {
            CertSelector::Serial(s) => format!("certificate with serial {s}"),
            CertSelector::Id(id) => format!("certificate #{id}"),
            CertSelector::Person => format!("{suite}person certificate"),
            CertSelector::Organisation(code) => {
                format!("{suite}certificate of organisation {code}")
            }
        }
    }
}

impl FromStr for CertSelector {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(CertSelector::parse(s))
    }
}

impl fmt::Display for CertSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertSelector::Serial(s) => f.write_str(s),
            CertSelector::Id(id) => write!(f, "#{id}"),
            CertSelector::Person => f.write_str("person"),
            CertSelector::Organisation(code) => write!(f, "org:{code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        assert_eq!(CertSelector::parse("person"), CertSelector::Person);
        assert_eq!(CertSelector::parse("#12"), CertSelector::Id(12));
        assert_eq!(
            CertSelector::parse("91110000600037341L"),
            CertSelector::Organisation("91110000600037341L".into())
        );
        assert_eq!(
            CertSelector::parse("3F2A9C"),
            CertSelector::Serial("3f2a9c".into())
        );
    }
}
