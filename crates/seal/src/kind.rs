//! What kind of seal a picture is.

use serde::{Deserialize, Serialize};

/// The kind of a seal, as a person would name it.
///
/// Serialised in kebab-case (`official`, `finance`, `contract`, `legal-representative`,
/// `personal-name`, `handwritten`), the same names the keystore's seal records use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealKind {
    /// 公章: the organisation's official seal.
    Official,
    /// 财务专用章: the finance seal.
    Finance,
    /// 合同专用章: the contract seal.
    Contract,
    /// 法定代表人章: the legal representative's name seal.
    LegalRepresentative,
    /// 人名章: a person's name seal.
    PersonalName,
    /// 手写签名: a handwritten signature.
    Handwritten,
}

impl SealKind {
    /// Every kind, in a stable order.
    pub const ALL: [SealKind; 6] = [
        SealKind::Official,
        SealKind::Finance,
        SealKind::Contract,
        SealKind::LegalRepresentative,
        SealKind::PersonalName,
        SealKind::Handwritten,
    ];

    /// The Chinese name (e.g. `公章`).
    pub fn label_zh(self) -> &'static str {
        match self {
            SealKind::Official => "公章",
            SealKind::Finance => "财务专用章",
            SealKind::Contract => "合同专用章",
            SealKind::LegalRepresentative => "法定代表人章",
            SealKind::PersonalName => "人名章",
            SealKind::Handwritten => "手写签名",
        }
    }

    /// The English name (e.g. `Official seal`).
    pub fn label_en(self) -> &'static str {
        match self {
            SealKind::Official => "Official seal",
            SealKind::Finance => "Finance seal",
            SealKind::Contract => "Contract seal",
            SealKind::LegalRepresentative => "Legal representative seal",
            SealKind::PersonalName => "Personal name seal",
            SealKind::Handwritten => "Handwritten signature",
        }
    }

    /// The serialised (kebab-case) name, e.g. `legal-representative`.
    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Official => "official",
            SealKind::Finance => "finance",
            SealKind::Contract => "contract",
            SealKind::LegalRepresentative => "legal-representative",
            SealKind::PersonalName => "personal-name",
            SealKind::Handwritten => "handwritten",
        }
    }
}

impl std::fmt::Display for SealKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SealKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SealKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.label_zh() == s)
            .ok_or_else(|| format!("unknown seal kind {s:?}"))
    }
}
