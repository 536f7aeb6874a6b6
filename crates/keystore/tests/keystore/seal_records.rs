//! Seal records (GB/T 38540-2020 `SESeal`) made by the emulated seal maker when a seal
//! is recorded: they parse, verify with the maker's certificate and the emulated root,
//! fail when tampered with; and a database from before the records gains the column.

use bidkit_crypto::Suite;
use bidkit_keystore::{KeystoreError, NewSeal, SealKind, Service};
use bidkit_seal::{SignatureOptions, Stroke, render_signature};
use bidkit_ses::{CertBinding, SESeal, SealTrust, SealType};

use crate::fixture::{Fx, T0, USCC, person};

/// A real PNG with a `pHYs` chunk: a small handwritten stroke (no font needed).
fn picture() -> bidkit_seal::SealImage {
    let stroke = Stroke::from_points(&[(0.0, 0.0, 0.3), (10.0, 4.0, 0.8), (20.0, 0.0, 0.5)]);
    render_signature(&[stroke], &SignatureOptions::default()).unwrap()
}

fn official(image: Vec<u8>) -> NewSeal {
    NewSeal {
        kind: SealKind::Official,
        name: "北京某某建设有限公司合同章".into(),
        organisation: Some(USCC.into()),
        image,
        valid_from: None,
        valid_until: None,
    }
}

#[test]
fn add_seal_stores_a_record_that_verifies() {
    let fx = Fx::new();
    let org = fx.organisation();
    let pic = picture();
    let seal = org.boss.add_seal(&official(pic.png.clone())).unwrap();
    let der = org.boss.seal_record(seal.id).unwrap();
    let record = SESeal::from_der(&der).unwrap();
    let info = record.info();
    assert_eq!(info.name, seal.name);
    assert_eq!(info.kind.as_deref(), Some("official"));
    assert_eq!(info.seal_type, SealType::Organisation);
    assert_eq!(info.picture.data, pic.png);
    assert!((info.picture.width_mm - pic.width_mm).abs() < 0.01);
    assert!((info.picture.height_mm - pic.height_mm).abs() < 0.01);
    assert_eq!(info.created, T0);
    assert!(info.binding_note.is_none());

    // Bound to the organisation's current signing certificate.
    let service = fx.home.service().unwrap();
    let org_id = service.organisation(USCC).unwrap().id;
    let org_cert = service.organisation_certificates(org_id).unwrap()[0].clone();
    let (signing, _) = service.current_certificates(org_cert.id).unwrap();
    assert_eq!(
        info.binding,
        CertBinding::Certificates(vec![signing.to_der().to_vec()])
    );

    // Verifies with the maker's certificate (pinned) and against the emulated root.
    let maker = org.boss.seal_maker_certificate(Suite::Gm).unwrap();
    assert_eq!(record.maker_certificate().unwrap(), maker);
    record.verify(&SealTrust::Maker(&maker), T0).unwrap();
    let trust = service.seal_trust(Suite::Gm, T0).unwrap();
    record.verify(&SealTrust::Roots(&trust), T0).unwrap();
    let verified = org.boss.verify_seal_record(seal.id).unwrap();
    assert_eq!(verified.maker, maker);

    // A second seal reuses the same maker.
    let again = org.boss.add_seal(&official(pic.png.clone())).unwrap();
    let second = SESeal::from_der(&org.boss.seal_record(again.id).unwrap()).unwrap();
    assert_eq!(second.maker_certificate().unwrap(), maker);
    assert_ne!(second.info().es_id, info.es_id);
}

#[test]
fn personal_seals_bind_to_the_owner_and_seals_without_pictures_have_no_record() {
    let fx = Fx::new();
    let org = fx.organisation();
    // The fixture's 公章 has no picture: no record.
    assert!(matches!(
        org.boss.seal_record(org.seal.id),
        Err(KeystoreError::NotFound { .. })
    ));
    let seal = org
        .staff
        .add_seal(&NewSeal {
            kind: SealKind::Handwritten,
            name: "测试用户2签名".into(),
            organisation: None,
            image: picture().png,
            valid_from: None,
            valid_until: Some(T0 + time::Duration::days(30)),
        })
        .unwrap();
    let record = SESeal::from_der(&org.staff.seal_record(seal.id).unwrap()).unwrap();
    assert_eq!(record.info().seal_type, SealType::Personal);
    assert_eq!(record.info().valid_end, T0 + time::Duration::days(30));
    let person_cert = org.staff.certificates().unwrap()[0].clone();
    let CertBinding::Certificates(bound) = &record.info().binding else {
        panic!("certificates expected")
    };
    assert_eq!(bound.len(), 1);
    let bound = bidkit_pki::Certificate::from_der(&bound[0]).unwrap();
    assert_eq!(bound.serial_hex(), person_cert.certificate.signing_serial);
    // Expired after its validity.
    fx.clock.advance(time::Duration::days(31));
    assert!(matches!(
        org.staff.verify_seal_record(seal.id),
        Err(KeystoreError::SealNotValid { .. })
    ));
}

#[test]
fn a_seal_of_someone_without_a_certificate_is_unbound_and_says_so() {
    let fx = Fx::new();
    let service = fx.home.service().unwrap();
    let account = service.create_account(&person(7), T0).unwrap();
    let seal = service
        .add_seal(
            &account,
            &NewSeal {
                kind: SealKind::PersonalName,
                name: "测试用户7人名章".into(),
                organisation: None,
                image: picture().png,
                valid_from: None,
                valid_until: None,
            },
            T0,
        )
        .unwrap();
    let record = SESeal::from_der(&service.seal_record(seal.id).unwrap()).unwrap();
    assert!(record.info().binding.is_empty());
    assert!(
        record
            .info()
            .binding_note
            .as_deref()
            .unwrap()
            .contains("no signing certificate")
    );
    service.verify_seal_record(seal.id, T0).unwrap();
}

/// Flip one byte of `needle` inside `haystack`.
fn tamper(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut out = haystack.to_vec();
    out[at + needle.len() / 2] ^= 0x20;
    out
}

#[test]
fn tampering_with_the_stored_picture_fails_verification() {
    let fx = Fx::new();
    let org = fx.organisation();
    let pic = picture();
    let seal = org.boss.add_seal(&official(pic.png.clone())).unwrap();
    org.boss.verify_seal_record(seal.id).unwrap();
    let db = rusqlite::Connection::open(fx.home.root().join("service").join("service.db")).unwrap();

    // 1. The picture inside the record: the maker's signature no longer verifies.
    let der = org.boss.seal_record(seal.id).unwrap();
    let idat = pic.png.windows(4).position(|w| w == b"IDAT").unwrap();
    let bad = tamper(&der, &pic.png[idat + 4..idat + 40]);
    db.execute(
        "UPDATE seals SET eseal = ?2 WHERE id = ?1",
        rusqlite::params![seal.id, bad],
    )
    .unwrap();
    let err = org.boss.verify_seal_record(seal.id).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");

    // 2. The platform's picture, record intact: they no longer match.
    db.execute(
        "UPDATE seals SET eseal = ?2, image = ?3 WHERE id = ?1",
        rusqlite::params![
            seal.id,
            der,
            tamper(&pic.png, &pic.png[idat + 4..idat + 40])
        ],
    )
    .unwrap();
    let err = org.boss.verify_seal_record(seal.id).unwrap_err();
    assert!(err.to_string().contains("not the seal's picture"), "{err}");

    // Restored: valid again.
    db.execute(
        "UPDATE seals SET image = ?2 WHERE id = ?1",
        rusqlite::params![seal.id, pic.png],
    )
    .unwrap();
    org.boss.verify_seal_record(seal.id).unwrap();
}

#[test]
fn a_database_from_before_seal_records_is_migrated() {
    let fx = Fx::new();
    let org = fx.organisation();
    let path = fx.home.root().join("service").join("service.db");
    drop(org);
    {
        // Make it look like version 1: no eseal column, no seal makers, old version.
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "ALTER TABLE seals DROP COLUMN eseal;
             DROP TABLE seal_makers;
             UPDATE meta SET value = 'bidkit-service/1' WHERE key = 'schema';",
        )
        .unwrap();
        let cols: i64 = db
            .query_row(
                "SELECT count(*) FROM pragma_table_info('seals') WHERE name = 'eseal'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(cols, 0);
    }
    let service = Service::open(fx.home.root()).unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    let version: String = db
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(version, "bidkit-service/2");
    // The old seal is still there, without a record; new seals get one.
    let boss = fx.phone("boss");
    let seals = boss.seals().unwrap();
    assert_eq!(seals.len(), 1);
    assert!(matches!(
        service.seal_record(seals[0].seal.id),
        Err(KeystoreError::NotFound { .. })
    ));
    let seal = boss.add_seal(&official(picture().png)).unwrap();
    boss.verify_seal_record(seal.id).unwrap();
    // Opening again is a no-op.
    drop(service);
    Service::open(fx.home.root()).unwrap();
}

#[test]
fn after_a_renewal_the_record_is_made_again_for_the_new_certificate() {
    let fx = Fx::new();
    let org = fx.organisation();
    let seal = org.boss.add_seal(&official(picture().png)).unwrap();
    let old = SESeal::from_der(&org.boss.seal_record(seal.id).unwrap()).unwrap();
    let sel = bidkit_keystore::CertSelector::Organisation(USCC.into());
    fx.clock.advance(time::Duration::days(300));
    org.boss.renew(&sel, None, crate::fixture::PIN).unwrap();
    let service = fx.home.service().unwrap();
    let org_id = service.organisation(USCC).unwrap().id;
    let pair = service.organisation_certificates(org_id).unwrap()[0].clone();
    let (renewed, _) = service.current_certificates(pair.id).unwrap();
    assert!(!old.info().binding.binds(&renewed));

    // Only an admin may remake an organisation seal's record.
    assert!(org.staff.remake_seal_record(seal.id).is_err());
    let der = org.boss.remake_seal_record(seal.id).unwrap();
    let new = SESeal::from_der(&der).unwrap();
    assert!(new.info().binding.binds(&renewed));
    assert_eq!(new.info().picture.data, old.info().picture.data);
    assert_eq!(org.boss.seal_record(seal.id).unwrap(), der);
    org.boss.verify_seal_record(seal.id).unwrap();
}
