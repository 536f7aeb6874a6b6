//! The emulated CA: root, dual certificates, renewal, revocation, CRL, persistence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bidkit_pki::{
    Certificate, CertificateAuthority, Crl, END_ENTITY_VALIDITY, KeyPurpose, PkiError,
    RevocationReason, Subject, Suite, test_root_common_name,
};
use common::{T0, key, new_ca, organisation, person};
use time::Duration;

#[test]
fn root_is_a_marked_self_signed_test_ca() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let ca = new_ca(dir.path(), suite);
        let root = ca.root();
        assert!(root.is_ca());
        assert!(root.is_self_issued());
        root.verify_signature(root).unwrap();
        assert_eq!(root.suite(), suite);
        assert_eq!(root.purpose(), None);
        assert_eq!(root.key_usage_display(), "keyCertSign, cRLSign");
        let subject = root.subject_display();
        assert!(subject.contains(&test_root_common_name(suite)), "{subject}");
        assert!(subject.contains("NOT FOR PRODUCTION"));
        assert!(subject.contains("O=Bidkit Test CA"));
        assert!(subject.contains("OU=Emulated test CA "), "{subject}");
        // Another home's root of the same suite has another name.
        let elsewhere = tempfile::tempdir().unwrap();
        let other = new_ca(elsewhere.path(), suite);
        assert_ne!(other.root().subject_display(), subject);
        assert_eq!(root.not_before(), T0);
        assert!(root.subject().is_err(), "the root is not a holder");
        assert_eq!(
            root.x509().tbs_certificate().version(),
            x509_cert::Version::V3
        );
        // basicConstraints critical, SKI present.
        let tbs = root.x509().tbs_certificate();
        let (critical, bc) = tbs
            .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
            .unwrap()
            .unwrap();
        assert!(critical && bc.ca);
        assert!(
            tbs.get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                .unwrap()
                .is_some()
        );
        assert!(ca.root_path().is_file());
        assert!(ca.crl_path().is_file());
    }
}

#[test]
fn dual_certificates_for_persons_and_organisations() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        for subject in [person(), organisation()] {
            let sign_key = key(suite, &format!("{subject}-sign"));
            let enc_key = key(suite, &format!("{subject}-enc"));
            let dual = ca
                .issue_dual(&subject, &sign_key.public_key(), &enc_key.public_key(), T0)
                .unwrap();
            for (cert, purpose, k) in [
                (&dual.signing, KeyPurpose::Signing, &sign_key),
                (&dual.encryption, KeyPurpose::Encryption, &enc_key),
            ] {
                assert_eq!(cert.purpose(), Some(purpose));
                assert_eq!(cert.subject().unwrap(), subject);
                assert_eq!(cert.public_key().unwrap(), k.public_key());
                assert_eq!(cert.suite(), suite);
                assert!(!cert.is_ca());
                assert_eq!(cert.not_before(), T0);
                assert_eq!(cert.not_after(), T0 + END_ENTITY_VALIDITY);
                assert_eq!(cert.serial_hex().len(), 32, "16-byte serial");
                assert_eq!(cert.fingerprint().len(), 64);
                assert_eq!(cert.issuer_display(), ca.root().subject_display());
                cert.verify_signature(ca.root()).unwrap();
                assert_eq!(
                    cert.x509().tbs_certificate().version(),
                    x509_cert::Version::V3
                );
                // Round trips.
                assert_eq!(&Certificate::from_der(cert.to_der()).unwrap(), cert);
                assert_eq!(&Certificate::from_pem(&cert.to_pem()).unwrap(), cert);
                // keyUsage is critical.
                let (critical, _) = cert
                    .x509()
                    .tbs_certificate()
                    .get_extension::<x509_cert::ext::pkix::KeyUsage>()
                    .unwrap()
                    .unwrap();
                assert!(critical);
                // authorityKeyIdentifier = the root's subjectKeyIdentifier.
                let (_, aki) = cert
                    .x509()
                    .tbs_certificate()
                    .get_extension::<x509_cert::ext::pkix::AuthorityKeyIdentifier>()
                    .unwrap()
                    .unwrap();
                let (_, ski) = ca
                    .root()
                    .x509()
                    .tbs_certificate()
                    .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                    .unwrap()
                    .unwrap();
                assert_eq!(aki.key_identifier.unwrap(), ski.0);
            }
            assert_ne!(dual.signing.serial_hex(), dual.encryption.serial_hex());
            assert_eq!(
                dual.signing.key_usage_display(),
                "digitalSignature, nonRepudiation"
            );
            let enc_usage = match suite {
                Suite::Gm => "keyEncipherment, dataEncipherment",
                Suite::Nist => "keyEncipherment, dataEncipherment, keyAgreement",
            };
            assert_eq!(dual.encryption.key_usage_display(), enc_usage);
        }
        assert_eq!(ca.issued().len(), 4);
    }
}

#[test]
fn subject_names_are_utf8_and_carry_the_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = new_ca(dir.path(), Suite::Gm);
    let k = key(Suite::Gm, "k");
    let p = ca
        .issue(&person(), KeyPurpose::Signing, &k.public_key(), T0)
        .unwrap();
    assert_eq!(
        p.subject_display(),
        "C=CN, CN=张三, serialNumber=11010519491231002X"
    );
    let o = ca
        .issue(&organisation(), KeyPurpose::Signing, &k.public_key(), T0)
        .unwrap();
    assert_eq!(
        o.subject_display(),
        "C=CN, O=北京某某建设有限公司, CN=北京某某建设有限公司, organizationIdentifier=91110000600037341L"
    );
    // The DER really holds UTF8String (tag 0x0c) for the Chinese name.
    let name = "张三".as_bytes();
    let mut needle = vec![0x0c, name.len() as u8];
    needle.extend_from_slice(name);
    assert!(
        p.to_der()
            .windows(needle.len())
            .any(|w| w == needle.as_slice())
    );
}

#[test]
fn serials_are_random_and_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = new_ca(dir.path(), Suite::Nist);
    let k = key(Suite::Nist, "k");
    let mut serials = std::collections::HashSet::new();
    for _ in 0..20 {
        let c = ca
            .issue(&person(), KeyPurpose::Signing, &k.public_key(), T0)
            .unwrap();
        let bytes = hex::decode(c.serial_hex()).unwrap();
        assert_eq!(bytes.len(), 16);
        assert!(bytes[0] < 0x80, "positive");
        assert!(serials.insert(c.serial_hex()));
    }
}

#[test]
fn issuing_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = new_ca(dir.path(), Suite::Gm);
    let nist_key = key(Suite::Nist, "n");
    let err = ca
        .issue(&person(), KeyPurpose::Signing, &nist_key.public_key(), T0)
        .unwrap_err();
    assert!(matches!(err, PkiError::SuiteMismatch { .. }), "{err}");

    let gm_key = key(Suite::Gm, "g");
    let bad = Subject::Person {
        name: "".into(),
        id_number: "1".into(),
    };
    let err = ca
        .issue(&bad, KeyPurpose::Signing, &gm_key.public_key(), T0)
        .unwrap_err();
    assert!(
        matches!(err, PkiError::InvalidSubject { field: "name", .. }),
        "{err}"
    );

    let err = ca
        .issue_dual(&person(), &gm_key.public_key(), &gm_key.public_key(), T0)
        .unwrap_err();
    assert!(matches!(err, PkiError::InvalidSubject { .. }), "{err}");

    // Before the root exists.
    let err = ca
        .issue(
            &person(),
            KeyPurpose::Signing,
            &gm_key.public_key(),
            T0 - Duration::days(1),
        )
        .unwrap_err();
    assert!(matches!(err, PkiError::CannotIssue { .. }), "{err}");
    // Nothing was recorded by the failures.
    assert!(ca.issued().is_empty());
}

#[test]
fn renewal_keeps_subject_and_purpose_with_a_new_serial_and_validity() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        let old_key = key(suite, "old");
        let new_key = key(suite, "new");
        let old = ca
            .issue(
                &organisation(),
                KeyPurpose::Encryption,
                &old_key.public_key(),
                T0,
            )
            .unwrap();
        let later = T0 + Duration::days(360);
        let renewed = ca.renew(&old, &new_key.public_key(), later).unwrap();
        assert_ne!(renewed.serial_hex(), old.serial_hex());
        assert_eq!(renewed.subject().unwrap(), organisation());
        assert_eq!(renewed.purpose(), Some(KeyPurpose::Encryption));
        assert_eq!(renewed.not_before(), later);
        assert_eq!(renewed.not_after(), later + END_ENTITY_VALIDITY);
        assert_eq!(renewed.public_key().unwrap(), new_key.public_key());
        let record = ca.find(&renewed.serial_hex()).unwrap();
        assert_eq!(
            record.renewal_of.as_deref(),
            Some(old.serial_hex().as_str())
        );
        // The old one is not revoked by renewal.
        assert!(ca.is_revoked(&old.serial_hex()).is_none());
        // Renewing the same key after expiry works too.
        let after_expiry = T0 + Duration::days(400);
        ca.renew(&old, &old_key.public_key(), after_expiry).unwrap();

        // A revoked certificate cannot be renewed.
        ca.revoke(&old.serial_hex(), RevocationReason::Superseded, later)
            .unwrap();
        let err = ca.renew(&old, &new_key.public_key(), later).unwrap_err();
        assert!(matches!(err, PkiError::CannotRenew { .. }), "{err}");
        // Nor the root, nor a certificate from another CA.
        let err = ca
            .renew(&ca.root().clone(), &new_key.public_key(), later)
            .unwrap_err();
        assert!(matches!(err, PkiError::RootCertificate { .. }), "{err}");
        let other_dir = tempfile::tempdir().unwrap();
        let mut other = new_ca(other_dir.path(), suite);
        let foreign = other
            .issue(&person(), KeyPurpose::Signing, &old_key.public_key(), T0)
            .unwrap();
        let err = ca
            .renew(&foreign, &new_key.public_key(), later)
            .unwrap_err();
        assert!(matches!(err, PkiError::UnknownSerial { .. }), "{err}");
    }
}

#[test]
fn revocation_errors_are_specific() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = new_ca(dir.path(), Suite::Gm);
    let k = key(Suite::Gm, "k");
    let c = ca
        .issue(&person(), KeyPurpose::Signing, &k.public_key(), T0)
        .unwrap();
    let err = ca
        .revoke("not-hex", RevocationReason::KeyCompromise, T0)
        .unwrap_err();
    assert!(matches!(err, PkiError::InvalidSerial { .. }), "{err}");
    let err = ca
        .revoke("0123abcd", RevocationReason::KeyCompromise, T0)
        .unwrap_err();
    assert!(matches!(err, PkiError::UnknownSerial { .. }), "{err}");
    let root_serial = ca.root().serial_hex();
    let err = ca
        .revoke(&root_serial, RevocationReason::KeyCompromise, T0)
        .unwrap_err();
    assert!(matches!(err, PkiError::RootCertificate { .. }), "{err}");
    // Upper case and colons are accepted.
    let typed = c
        .serial_hex()
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|p| std::str::from_utf8(p).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    ca.revoke(&typed, RevocationReason::KeyCompromise, T0)
        .unwrap();
    let r = ca.is_revoked(&c.serial_hex()).unwrap();
    assert_eq!(r.reason, RevocationReason::KeyCompromise);
    assert_eq!(r.revoked_at, T0);
    let err = ca
        .revoke(&c.serial_hex(), RevocationReason::Superseded, T0)
        .unwrap_err();
    assert!(matches!(err, PkiError::AlreadyRevoked { .. }), "{err}");
    assert!(err.to_string().contains(&c.serial_hex()));
}

#[test]
fn crl_lists_revocations_with_reasons_and_is_signed_by_the_root() {
    let dir = tempfile::tempdir().unwrap();
    for suite in Suite::ALL {
        let mut ca = new_ca(dir.path(), suite);
        // An empty CRL has no revokedCertificates.
        let empty = ca.crl(T0).unwrap();
        assert!(empty.revoked().is_empty());
        empty.verify_signature(ca.root()).unwrap();

        let k = key(suite, "k");
        let a = ca
            .issue(&person(), KeyPurpose::Signing, &k.public_key(), T0)
            .unwrap();
        let b = ca
            .issue(
                &person(),
                KeyPurpose::Encryption,
                &key(suite, "e").public_key(),
                T0,
            )
            .unwrap();
        let t1 = T0 + Duration::hours(1);
        ca.revoke(&a.serial_hex(), RevocationReason::KeyCompromise, t1)
            .unwrap();
        ca.revoke(&b.serial_hex(), RevocationReason::Unspecified, t1)
            .unwrap();
        let t2 = T0 + Duration::hours(2);
        let crl = ca.crl(t2).unwrap();
        crl.verify_signature(ca.root()).unwrap();
        assert_eq!(crl.this_update(), t2);
        assert_eq!(crl.next_update(), Some(t2 + bidkit_pki::CRL_VALIDITY));
        assert_eq!(crl.revoked().len(), 2);
        let ra = crl.find(&a.serial_hex()).unwrap();
        assert_eq!(
            (ra.reason, ra.revoked_at),
            (RevocationReason::KeyCompromise, t1)
        );
        assert_eq!(
            crl.find(&b.serial_hex()).unwrap().reason,
            RevocationReason::Unspecified
        );
        assert!(crl.issuer_display().contains("NOT FOR PRODUCTION"));
        // The CRL number grows.
        let n1 = u128::from_str_radix(&empty.number_hex().unwrap(), 16).unwrap();
        let n2 = u128::from_str_radix(&crl.number_hex().unwrap(), 16).unwrap();
        assert!(n2 > n1);
        // DER and PEM round trips.
        assert_eq!(Crl::from_der(crl.to_der()).unwrap(), crl);
        assert_eq!(Crl::from_pem(&crl.to_pem()).unwrap(), crl);
        // The CRL published on disk by the last revocation lists both too.
        let on_disk = Crl::from_pem(&std::fs::read_to_string(ca.crl_path()).unwrap()).unwrap();
        assert_eq!(on_disk.revoked().len(), 2);
        assert_eq!(on_disk.this_update(), t1);
        // Another root does not verify it.
        let other_dir = tempfile::tempdir().unwrap();
        let other = new_ca(other_dir.path(), suite);
        assert!(crl.verify_signature(other.root()).is_err());
    }
}

#[test]
fn state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let k = key(Suite::Gm, "k");
    let (root, serial) = {
        let mut ca = new_ca(dir.path(), Suite::Gm);
        let c = ca
            .issue(&person(), KeyPurpose::Signing, &k.public_key(), T0)
            .unwrap();
        ca.revoke(&c.serial_hex(), RevocationReason::CessationOfOperation, T0)
            .unwrap();
        (ca.root().clone(), c.serial_hex())
    };
    // Reopen, even with a later "now": same root, same records.
    let ca = CertificateAuthority::open_or_create(
        &dir.path().join("gm"),
        Suite::Gm,
        T0 + Duration::days(3),
    )
    .unwrap();
    assert_eq!(ca.root(), &root);
    assert_eq!(ca.issued().len(), 1);
    assert_eq!(ca.issued()[0].serial, serial);
    assert_eq!(
        ca.is_revoked(&serial).unwrap().reason,
        RevocationReason::CessationOfOperation
    );
    let opened = CertificateAuthority::open(&dir.path().join("gm"), Suite::Gm).unwrap();
    assert_eq!(opened.root(), &root);
    // root.pem is rewritten if deleted.
    std::fs::remove_file(ca.root_path()).unwrap();
    let ca = CertificateAuthority::open_or_create(&dir.path().join("gm"), Suite::Gm, T0).unwrap();
    let pem = std::fs::read_to_string(ca.root_path()).unwrap();
    assert_eq!(Certificate::from_pem(&pem).unwrap(), root);
    // No temporary files left behind.
    for entry in std::fs::read_dir(dir.path().join("gm")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{name}");
    }
    // The wrong suite is refused, naming the file.
    let err =
        CertificateAuthority::open_or_create(&dir.path().join("gm"), Suite::Nist, T0).unwrap_err();
    assert!(matches!(err, PkiError::CorruptState { .. }), "{err}");
    assert!(err.to_string().contains("ca.json"), "{err}");
    // Opening a directory without a CA fails.
    assert!(CertificateAuthority::open(&dir.path().join("none"), Suite::Gm).is_err());
}

#[test]
fn two_handles_on_one_directory_do_not_lose_updates() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = new_ca(dir.path(), Suite::Nist);
    let mut b = new_ca(dir.path(), Suite::Nist);
    let k = key(Suite::Nist, "k");
    let c1 = a
        .issue(&person(), KeyPurpose::Signing, &k.public_key(), T0)
        .unwrap();
    let c2 = b
        .issue(&organisation(), KeyPurpose::Signing, &k.public_key(), T0)
        .unwrap();
    b.revoke(&c1.serial_hex(), RevocationReason::KeyCompromise, T0)
        .unwrap();
    a.refresh().unwrap();
    assert!(a.find(&c2.serial_hex()).is_some());
    assert!(a.is_revoked(&c1.serial_hex()).is_some());
    let reopened = new_ca(dir.path(), Suite::Nist);
    assert_eq!(reopened.issued().len(), 2);
}

#[test]
fn corrupt_state_is_reported_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("gm");
    std::fs::create_dir_all(&ca_dir).unwrap();
    std::fs::write(ca_dir.join("ca.json"), b"{ not json").unwrap();
    let err = CertificateAuthority::open_or_create(&ca_dir, Suite::Gm, T0).unwrap_err();
    assert!(matches!(err, PkiError::CorruptState { .. }), "{err}");
    assert!(err.to_string().contains("ca.json"));
}

#[test]
fn garbage_is_a_parse_error_not_a_panic() {
    for input in [
        &b""[..],
        b"\x30\x03\x02\x01\x01",
        b"hello",
        &[0x30, 0x82, 0xff, 0xff],
    ] {
        assert!(matches!(
            Certificate::from_der(input),
            Err(PkiError::Parse { .. })
        ));
        assert!(matches!(Crl::from_der(input), Err(PkiError::Parse { .. })));
    }
    assert!(
        Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .is_err()
    );
    assert!(Certificate::from_pem("no pem here").is_err());
    assert!(Crl::from_pem("no pem here").is_err());
}

#[test]
fn reasons_parse_from_names_and_codes() {
    for r in RevocationReason::ALL {
        assert_eq!(r.as_str().parse::<RevocationReason>().unwrap(), r);
        assert_eq!(r.code().to_string().parse::<RevocationReason>().unwrap(), r);
    }
    assert_eq!(
        "keyCompromise".parse::<RevocationReason>().unwrap(),
        RevocationReason::KeyCompromise
    );
    assert!("nope".parse::<RevocationReason>().is_err());
    assert_eq!(RevocationReason::Superseded.code(), 4);
}

#[test]
fn a_pair_is_renewed_together() {
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
        let later = T0 + Duration::days(300);
        let renewed = ca
            .renew_dual(
                &dual,
                &key(suite, "s2").public_key(),
                &key(suite, "e2").public_key(),
                later,
            )
            .unwrap();
        assert_eq!(renewed.signing.purpose(), Some(KeyPurpose::Signing));
        assert_eq!(renewed.encryption.purpose(), Some(KeyPurpose::Encryption));
        assert_eq!(renewed.signing.not_before(), later);
        assert_eq!(ca.issued().len(), 4);
        // If one half cannot be renewed, nothing is issued.
        ca.revoke(
            &renewed.encryption.serial_hex(),
            RevocationReason::KeyCompromise,
            later,
        )
        .unwrap();
        let err = ca
            .renew_dual(
                &renewed,
                &key(suite, "s3").public_key(),
                &key(suite, "e3").public_key(),
                later,
            )
            .unwrap_err();
        assert!(matches!(err, PkiError::CannotRenew { .. }), "{err}");
        assert_eq!(ca.issued().len(), 4);
        // Swapped halves are refused.
        let swapped = bidkit_pki::DualCertificates {
            signing: dual.encryption.clone(),
            encryption: dual.signing.clone(),
        };
        assert!(
            ca.renew_dual(
                &swapped,
                &key(suite, "s4").public_key(),
                &key(suite, "e4").public_key(),
                later
            )
            .is_err()
        );
    }
}
