//! Chain verification: one test per `ChainError` reason, in both suites, with explicit
//! times.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bidkit_pki::{
    Certificate, ChainError, Crl, KeyPurpose, RevocationReason, Suite, TrustStore, verify_chain,
};
use common::{T0, key, new_ca, organisation, person};
use time::Duration;

fn flip_last_byte(der: &[u8]) -> Vec<u8> {
    let mut out = der.to_vec();
    let last = out.len() - 1;
    out[last] ^= 0x01;
    out
}

#[test]
fn a_fresh_certificate_verifies_for_its_purpose() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let dual = ca
            .issue_dual(
                &person(),
                &key(suite, "s").public_key(),
                &key(suite, "e").public_key(),
                T0,
            )
            .unwrap();
        let trust = ca.trust_store(T0).unwrap();
        let now = T0 + Duration::days(100);
        let chain =
            verify_chain(&dual.signing, &[], &trust, now, Some(KeyPurpose::Signing)).unwrap();
        assert_eq!(chain.certificates().len(), 2);
        assert_eq!(chain.leaf(), &dual.signing);
        assert_eq!(chain.root(), ca.root());
        verify_chain(
            &dual.encryption,
            &[],
            &trust,
            now,
            Some(KeyPurpose::Encryption),
        )
        .unwrap();
        verify_chain(&dual.encryption, &[], &trust, now, None).unwrap();
        // Both ends of the validity period are inclusive (RFC 5280 §4.1.2.5).
        verify_chain(&dual.signing, &[], &trust, dual.signing.not_before(), None).unwrap();
        verify_chain(&dual.signing, &[], &trust, dual.signing.not_after(), None).unwrap();
        // The trusted root itself verifies.
        let root_chain = verify_chain(ca.root(), &[], &trust, now, None).unwrap();
        assert_eq!(root_chain.certificates().len(), 1);
    }
}

#[test]
fn expired() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let c = ca
            .issue(
                &person(),
                KeyPurpose::Signing,
                &key(suite, "s").public_key(),
                T0,
            )
            .unwrap();
        let trust = ca.trust_store(T0).unwrap();
        let now = c.not_after() + Duration::seconds(1);
        let err = verify_chain(&c, &[], &trust, now, Some(KeyPurpose::Signing)).unwrap_err();
        assert_eq!(
            err,
            ChainError::Expired {
                serial: c.serial_hex(),
                subject: c.subject_display(),
                not_after: c.not_after(),
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("expired on 2027-03-01T08:00:00Z"), "{msg}");
        assert!(
            msg.contains(&c.serial_hex()) && msg.contains("张三"),
            "{msg}"
        );
    }
}

#[test]
fn not_yet_valid() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let later = T0 + Duration::days(10);
        let c = ca
            .issue(
                &person(),
                KeyPurpose::Signing,
                &key(suite, "s").public_key(),
                later,
            )
            .unwrap();
        let trust = ca.trust_store(T0).unwrap();
        let err = verify_chain(&c, &[], &trust, later - Duration::seconds(1), None).unwrap_err();
        assert!(
            matches!(&err, ChainError::NotYetValid { serial, not_before, .. }
                if *serial == c.serial_hex() && *not_before == later),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("not valid before 2026-03-11T08:00:00Z"),
            "{err}"
        );
    }
}

#[test]
fn revoked() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let c = ca
            .issue(
                &organisation(),
                KeyPurpose::Encryption,
                &key(suite, "e").public_key(),
                T0,
            )
            .unwrap();
        let when = T0 + Duration::days(5);
        ca.revoke(&c.serial_hex(), RevocationReason::KeyCompromise, when)
            .unwrap();
        let now = T0 + Duration::days(6);
        let trust = ca.trust_store(now).unwrap();
        let err = verify_chain(&c, &[], &trust, now, Some(KeyPurpose::Encryption)).unwrap_err();
        assert_eq!(
            err,
            ChainError::Revoked {
                serial: c.serial_hex(),
                subject: c.subject_display(),
                reason: RevocationReason::KeyCompromise,
                revoked_at: when,
            }
        );
        assert!(
            err.to_string()
                .contains("revoked on 2026-03-06T08:00:00Z (reason: key-compromise)")
        );
        // Without the CRL in the trust store the certificate passes: revocation comes
        // only from CRLs.
        let mut roots_only = TrustStore::new();
        roots_only.add_root(ca.root().clone()).unwrap();
        verify_chain(&c, &[], &roots_only, now, None).unwrap();
        // The CRL file written by `revoke` works as well.
        let mut from_file = roots_only.clone();
        from_file.add_crl(Crl::from_pem(&std::fs::read_to_string(ca.crl_path()).unwrap()).unwrap());
        assert!(matches!(
            verify_chain(&c, &[], &from_file, now, None),
            Err(ChainError::Revoked { .. })
        ));
    }
}

#[test]
fn wrong_usage() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let dual = ca
            .issue_dual(
                &person(),
                &key(suite, "s").public_key(),
                &key(suite, "e").public_key(),
                T0,
            )
            .unwrap();
        let trust = ca.trust_store(T0).unwrap();
        let err =
            verify_chain(&dual.encryption, &[], &trust, T0, Some(KeyPurpose::Signing)).unwrap_err();
        assert!(
            matches!(&err, ChainError::WrongUsage { expected: KeyPurpose::Signing, found, .. }
                if found.starts_with("keyEncipherment, dataEncipherment")),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("is not a signing certificate"),
            "{err}"
        );
        let err =
            verify_chain(&dual.signing, &[], &trust, T0, Some(KeyPurpose::Encryption)).unwrap_err();
        assert!(
            matches!(&err, ChainError::WrongUsage { expected: KeyPurpose::Encryption, found, .. }
                if found == "digitalSignature, nonRepudiation"),
            "{err:?}"
        );
        // The root is no holder certificate.
        let err = verify_chain(ca.root(), &[], &trust, T0, Some(KeyPurpose::Signing)).unwrap_err();
        assert!(matches!(err, ChainError::WrongUsage { .. }), "{err:?}");
    }
}

#[test]
fn unknown_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let ca = new_ca(dir.path(), suite);
        let mut other = new_ca(other_dir.path(), suite);
        let foreign = other
            .issue(
                &person(),
                KeyPurpose::Signing,
                &key(suite, "s").public_key(),
                T0,
            )
            .unwrap();
        let trust = ca.trust_store(T0).unwrap();
        // Each home's root has its own name (instance tag), so another home's CA is
        // an unknown issuer.
        let err = verify_chain(&foreign, &[], &trust, T0, None).unwrap_err();
        assert_eq!(
            err,
            ChainError::UnknownIssuer {
                serial: foreign.serial_hex(),
                issuer: foreign.issuer_display(),
            }
        );
        // An empty trust store knows no issuer at all.
        let err = verify_chain(&foreign, &[], &TrustStore::new(), T0, None).unwrap_err();
        assert_eq!(
            err,
            ChainError::UnknownIssuer {
                serial: foreign.serial_hex(),
                issuer: foreign.issuer_display(),
            }
        );
        assert!(err.to_string().contains("which is not a trusted CA"));
        // A root of the other suite is not the issuer either.
        let other_suite = if suite == Suite::Gm {
            Suite::Nist
        } else {
            Suite::Gm
        };
        let stranger_dir = tempfile::tempdir().unwrap();
        let stranger = new_ca(stranger_dir.path(), other_suite);
        let trust = stranger.trust_store(T0).unwrap();
        let err = verify_chain(&foreign, &[], &trust, T0, None).unwrap_err();
        assert!(matches!(err, ChainError::UnknownIssuer { .. }), "{err:?}");
    }
}

#[test]
fn tampered_signature_byte() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let c = ca
            .issue(
                &person(),
                KeyPurpose::Signing,
                &key(suite, "s").public_key(),
                T0,
            )
            .unwrap();
        let trust = ca.trust_store(T0).unwrap();
        // Flip the last byte of the signature value (the last byte of `s`).
        let tampered = Certificate::from_der(&flip_last_byte(c.to_der())).unwrap();
        let err = verify_chain(&tampered, &[], &trust, T0, None).unwrap_err();
        assert_eq!(
            err,
            ChainError::BadSignature {
                serial: c.serial_hex(),
                subject: c.subject_display(),
                issuer: ca.root().subject_display(),
            }
        );
        assert!(err.to_string().contains("has a bad signature"));
        // Altering the signed part (one byte of the holder's ID number) is caught too.
        let mut der = c.to_der().to_vec();
        let pos = der
            .windows(18)
            .position(|w| w == b"11010519491231002X")
            .unwrap();
        der[pos] = b'2';
        let altered = Certificate::from_der(&der).unwrap();
        assert!(matches!(
            verify_chain(&altered, &[], &trust, T0, None),
            Err(ChainError::BadSignature { .. })
        ));
    }
}

#[test]
fn a_tampered_crl_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let c = ca
            .issue(
                &person(),
                KeyPurpose::Signing,
                &key(suite, "s").public_key(),
                T0,
            )
            .unwrap();
        let crl = ca.crl(T0).unwrap();
        let bad = Crl::from_der(&flip_last_byte(crl.to_der())).unwrap();
        let mut trust = TrustStore::new();
        trust.add_root(ca.root().clone()).unwrap();
        trust.add_crl(bad);
        let err = verify_chain(&c, &[], &trust, T0, None).unwrap_err();
        assert!(matches!(err, ChainError::BadCrl { .. }), "{err:?}");
    }
}

#[test]
fn trust_store_accepts_only_self_signed_cas() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = new_ca(dir.path(), Suite::Gm);
    let c = ca
        .issue(
            &person(),
            KeyPurpose::Signing,
            &key(Suite::Gm, "s").public_key(),
            T0,
        )
        .unwrap();
    let mut trust = TrustStore::new();
    assert!(trust.add_root(c).is_err());
    let tampered = Certificate::from_der(&flip_last_byte(ca.root().to_der())).unwrap();
    assert!(trust.add_root(tampered).is_err());
    trust.add_root(ca.root().clone()).unwrap();
    trust.add_root(ca.root().clone()).unwrap();
    assert_eq!(trust.roots().len(), 1);
    // A newer CRL of the same issuer replaces an older one, not the reverse.
    trust.add_crl(ca.crl(T0 + Duration::days(1)).unwrap());
    trust.add_crl(ca.crl(T0).unwrap());
    assert_eq!(trust.crls().len(), 1);
    assert_eq!(trust.crls()[0].this_update(), T0 + Duration::days(1));
}
