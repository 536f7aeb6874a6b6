//! Shared helpers for the integration tests.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use bidkit_crypto::PrivateKey;
use bidkit_pki::{CertificateAuthority, OffsetDateTime, Subject, Suite};

/// A fixed "now" for deterministic time checks.
pub const T0: OffsetDateTime = time::macros::datetime!(2026-03-01 08:00:00 UTC);

pub fn person() -> Subject {
    Subject::Person {
        name: "张三".into(),
        id_number: "11010519491231002X".into(),
    }
}

pub fn organisation() -> Subject {
    Subject::Organisation {
        name: "北京某某建设有限公司".into(),
        uscc: "91110000600037341L".into(),
    }
}

pub fn key(suite: Suite, label: &str) -> PrivateKey {
    PrivateKey::for_tests(suite, label)
}

pub fn new_ca(dir: &std::path::Path, suite: Suite) -> CertificateAuthority {
    CertificateAuthority::open_or_create(&dir.join(suite.as_str()), suite, T0).unwrap()
}
