//! Shared helpers for the integration tests: a CA, a signer and a signed container.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use bidkit_cms::{SignedAttributes, assemble};
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::{Certificate, CertificateAuthority, KeyPurpose, OffsetDateTime, Subject};

/// A fixed signing time.
pub const T0: OffsetDateTime = time::macros::datetime!(2026-03-01 08:00:00 UTC);

pub const CONTENT: &[u8] = b"%PDF-1.7 pretend these are the signed byte ranges of a bid document";

pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub suite: Suite,
    pub ca: CertificateAuthority,
    pub key: PrivateKey,
    pub cert: Certificate,
    /// Another certificate of the same holder (a renewal), for swap tests.
    pub other_cert: Certificate,
    pub other_key: PrivateKey,
}

pub fn person() -> Subject {
    Subject::Person {
        name: "张三".into(),
        id_number: "11010519491231002X".into(),
    }
}

/// A CA and a signing certificate, issued at `now`.
pub fn fixture_at(suite: Suite, now: OffsetDateTime) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let mut ca = CertificateAuthority::open_or_create(&tmp.path().join("ca"), suite, now).unwrap();
    let key = PrivateKey::for_tests(suite, "cms signer");
    let cert = ca
        .issue(&person(), KeyPurpose::Signing, &key.public_key(), now)
        .unwrap();
    let other_key = PrivateKey::for_tests(suite, "cms other signer");
    let other_cert = ca
        .issue(&person(), KeyPurpose::Signing, &other_key.public_key(), now)
        .unwrap();
    Fixture {
        _tmp: tmp,
        suite,
        ca,
        key,
        cert,
        other_cert,
        other_key,
    }
}

pub fn fixture(suite: Suite) -> Fixture {
    fixture_at(suite, T0)
}

impl Fixture {
    pub fn digest(&self, content: &[u8]) -> [u8; 32] {
        self.suite.hash().digest(content)
    }

    pub fn chain(&self) -> Vec<Certificate> {
        vec![self.cert.clone(), self.ca.root().clone()]
    }

    /// Attributes, signature and container over `content`.
    pub fn sign(
        &self,
        content: &[u8],
        token: Option<&[u8]>,
    ) -> (SignedAttributes, Vec<u8>, Vec<u8>) {
        let attrs =
            SignedAttributes::new(self.suite, &self.digest(content), &self.cert, T0).unwrap();
        let sig = self.key.sign(attrs.to_be_signed()).unwrap();
        let der = assemble(&attrs, &sig, &self.chain(), token).unwrap();
        (attrs, sig, der)
    }
}

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
