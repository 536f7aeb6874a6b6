//! Enrolment, certificates and their lifecycle: renewal, reissue with the device
//! binding and its counter, expiry, and keys bound to their rows.

use bidkit_crypto::Suite;
use bidkit_keystore::{CertSelector, KeystoreError, REISSUES_PER_PACK, Unlock};
use time::Duration;

use crate::fixture::{Fx, PIN, T0, USCC, code, person, sign};

#[test]
fn enrol_installs_a_one_year_person_certificate_bound_to_the_phone() {
    for suite in Suite::ALL {
        let fx = Fx::new();
        let phone = fx.phone("alice");
        let e = phone.enrol(&person(1), PIN, suite).unwrap();
        assert_eq!(e.account.name, "测试用户1");
        let c = &e.certificate;
        assert_eq!(c.suite, suite);
        assert_eq!(c.device_id, phone.device_id());
        assert_eq!(c.reissues_left, REISSUES_PER_PACK);
        assert!(c.organisation.is_none());
        assert_eq!(c.not_before, T0);
        assert_eq!(c.not_after - c.not_before, Duration::days(365));
        let cert = phone
            .signing_certificate(&CertSelector::Person, None)
            .unwrap();
        assert_eq!(cert.serial_hex(), c.signing_serial);
        assert_eq!(cert.suite(), suite);
        sign(&phone, &CertSelector::Person, PIN, b"hello").unwrap();
        // By serial prefix too.
        sign(
            &phone,
            &CertSelector::parse(&c.signing_serial[..8]),
            PIN,
            b"hello",
        )
        .unwrap();
        assert_eq!(phone.certificates().unwrap()[0].state, "usable");
    }
}

#[test]
fn enrolment_checks_identity_input_and_refuses_duplicates() {
    let fx = Fx::new();
    let phone = fx.phone("alice");
    let mut bad = person(1);
    bad.id_number.pop();
    bad.id_number.push('0');
    if bad.id_number == person(1).id_number {
        bad.id_number.pop();
        bad.id_number.push('1');
    }
    assert_eq!(code(phone.enrol(&bad, PIN, Suite::Gm)), "invalid_input");
    assert_eq!(
        code(phone.enrol(&person(1), "12345", Suite::Gm)),
        "invalid_input"
    );
    phone.enrol(&person(1), PIN, Suite::Gm).unwrap();
    assert_eq!(
        code(phone.enrol(&person(2), PIN, Suite::Gm)),
        "already_enrolled"
    );
    let other = fx.phone("other");
    assert_eq!(
        code(other.enrol(&person(1), PIN, Suite::Gm)),
        "account_exists"
    );
    assert_eq!(
        code(other.signer(&CertSelector::Person, None, PIN)),
        "not_enrolled"
    );
    // Signing in on a second phone works, but the certificate stays on the first.
    let signed_in = other.sign_in(&person(1).phone_number).unwrap();
    assert_eq!(signed_in.account.name, "测试用户1");
    assert_eq!(
        code(other.signer(&CertSelector::Person, None, PIN)),
        "not_found"
    );
}

#[test]
fn renewal_makes_new_keys_and_a_new_year_and_keeps_old_encryption_keys() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    let old_enc = phone.encryption_certificate(&person, None).unwrap();
    let old_sign = phone.signing_certificate(&person, None).unwrap();
    let secret = b"content key 0123456789abcdef....";
    let wrapped_to_old = bidkit_crypto::wrap::wrap(&old_enc.public_key().unwrap(), secret).unwrap();

    fx.clock.advance(Duration::days(300));
    let renewed = phone.renew(&person, None, PIN).unwrap();
    assert_ne!(renewed.signing_serial, old_sign.serial_hex());
    assert_ne!(renewed.encryption_serial, old_enc.serial_hex());
    assert_eq!(renewed.generation, 1);
    assert_eq!(renewed.not_before, T0 + Duration::days(300));
    assert_eq!(renewed.not_after, T0 + Duration::days(665));
    assert_eq!(
        renewed.reissues_left, REISSUES_PER_PACK,
        "renewal does not use reissues"
    );
    let new_sign = phone.signing_certificate(&person, None).unwrap();
    assert_ne!(
        new_sign.public_key().unwrap(),
        old_sign.public_key().unwrap(),
        "new keys"
    );

    // The old serial no longer signs; the same PIN still works for the new keys.
    let stale = CertSelector::Serial(old_sign.serial_hex());
    assert_eq!(code(sign(&phone, &stale, PIN, b"m")), "cert_superseded");
    sign(&phone, &person, PIN, b"m").unwrap();

    // Data encrypted to the old encryption certificate still opens.
    let old_sel = CertSelector::Serial(old_enc.serial_hex());
    let opened = phone
        .unwrap_key(&old_sel, None, Unlock::Pin(PIN), &wrapped_to_old, None)
        .unwrap();
    assert_eq!(opened.as_slice(), secret);
    let new_enc = phone.encryption_certificate(&person, None).unwrap();
    let wrapped_to_new = bidkit_crypto::wrap::wrap(&new_enc.public_key().unwrap(), secret).unwrap();
    let opened = phone
        .unwrap_key(&person, None, Unlock::Pin(PIN), &wrapped_to_new, None)
        .unwrap();
    assert_eq!(opened.as_slice(), secret);
}

#[test]
fn an_expired_certificate_refuses_to_sign_until_renewed() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    fx.clock.advance(Duration::days(365));
    sign(&phone, &person, PIN, b"last second").unwrap();
    fx.clock.advance(Duration::seconds(1));
    assert_eq!(code(sign(&phone, &person, PIN, b"m")), "cert_expired");
    assert!(
        phone.certificates().unwrap()[0]
            .state
            .starts_with("expired")
    );
    phone.renew(&person, None, PIN).unwrap();
    sign(&phone, &person, PIN, b"m").unwrap();
}

#[test]
fn three_free_reissues_then_a_pack_and_the_old_device_stops_working() {
    let fx = Fx::new();
    let a = fx.enrolled("phone-a", 1);
    let b = fx.phone("phone-b");
    b.sign_in(&person(1).phone_number).unwrap();
    let person_cert = CertSelector::Person;
    let first = a.certificates().unwrap()[0].certificate.clone();

    // 1: A -> B. B signs, A's copy is dead with a clear error.
    let on_b = b
        .reissue_here(
            &CertSelector::Serial(first.signing_serial.clone()),
            None,
            "222222",
        )
        .unwrap();
    assert_eq!(on_b.device_id, b.device_id());
    assert_eq!(on_b.reissues_left, 2);
    assert_eq!(on_b.id, first.id, "same certificate, new keys");
    assert_ne!(on_b.signing_serial, first.signing_serial);
    sign(&b, &person_cert, "222222", b"on b").unwrap();
    match sign(&a, &person_cert, PIN, b"on a") {
        Err(KeystoreError::DeviceUnbound {
            phone,
            serial,
            bound_device,
        }) => {
            assert_eq!(phone, "phone-a");
            assert_eq!(serial, first.signing_serial);
            assert_eq!(bound_device, b.device_id());
        }
        other => panic!("expected device_unbound, got {other:?}"),
    }
    assert!(
        a.certificates().unwrap()[0]
            .state
            .starts_with("moved to device")
    );
    // Reissuing onto the device that has it is refused.
    assert_eq!(
        code(b.reissue_here(&person_cert, None, "222222")),
        "already_bound"
    );

    // 2: B -> A, 3: A -> B (going back costs a reissue too, seed 000).
    let back = a.reissue_here(&person_cert, None, PIN).unwrap();
    assert_eq!(back.reissues_left, 1);
    sign(&a, &person_cert, PIN, b"on a again").unwrap();
    assert_eq!(
        code(sign(&b, &person_cert, "222222", b"m")),
        "device_unbound"
    );
    let third = b.reissue_here(&person_cert, None, "333333").unwrap();
    assert_eq!((third.reissues_left, third.reissues_used), (0, 3));

    // 4: refused until a reissue pack is added.
    assert_eq!(
        code(a.reissue_here(&person_cert, None, PIN)),
        "reissue_limit"
    );
    sign(&b, &person_cert, "333333", b"still on b").unwrap();
    let packed = a.add_reissue_pack(&person_cert, None).unwrap();
    assert_eq!(packed.reissues_left, REISSUES_PER_PACK);
    let fourth = a.reissue_here(&person_cert, None, PIN).unwrap();
    assert_eq!((fourth.reissues_left, fourth.reissues_used), (2, 4));
    sign(&a, &person_cert, PIN, b"back on a").unwrap();
    assert_eq!(
        code(sign(&b, &person_cert, "333333", b"m")),
        "device_unbound"
    );

    // The CA revoked the certificates that were replaced.
    let ca =
        bidkit_pki::CertificateAuthority::open(&fx.home.root().join("ca/gm"), Suite::Gm).unwrap();
    assert!(ca.is_revoked(&first.signing_serial).is_some());
    assert!(ca.is_revoked(&fourth.signing_serial).is_none());
}

#[test]
fn reissue_belongs_to_the_holder() {
    let fx = Fx::new();
    let a = fx.enrolled("alice", 1);
    let serial = a.certificates().unwrap()[0]
        .certificate
        .signing_serial
        .clone();
    let mallory = fx.enrolled("mallory", 9);
    assert_eq!(
        code(mallory.reissue_here(&CertSelector::Serial(serial), None, PIN)),
        "not_authorised"
    );
}

#[test]
fn a_key_blob_moved_to_another_key_id_does_not_decrypt() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    sign(&phone, &person, PIN, b"m").unwrap();
    let db = phone.db_path().to_owned();
    {
        // Put the encryption key's blob in the signing key's row (same data key).
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "UPDATE keys SET nonce = (SELECT nonce FROM keys WHERE purpose = 'encryption'),
                             ciphertext = (SELECT ciphertext FROM keys WHERE purpose = 'encryption')
              WHERE purpose = 'signing'",
        )
        .unwrap();
    }
    let err = sign(&phone, &person, PIN, b"m").unwrap_err();
    assert_eq!(err.code(), "key_damaged", "{err}");
}

#[test]
fn organisation_certificates_go_to_admins_and_to_members_with_a_grant() {
    let fx = Fx::new();
    let org = fx.organisation();
    let list = org.boss.certificates().unwrap();
    assert_eq!(list.len(), 2, "person + organisation certificate");
    let org_cert = list
        .iter()
        .find(|c| c.certificate.organisation.is_some())
        .unwrap();
    assert!(org_cert.certificate.subject.contains(USCC));
    assert_eq!(org_cert.certificate.copy_of, None);

    // A member cannot claim a copy without an authorisation.
    assert_eq!(
        code(
            org.staff
                .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        ),
        "not_authorised"
    );
    // A person who is not even a member cannot either.
    let outsider = fx.enrolled("outsider", 5);
    assert_eq!(
        code(outsider.issue_organisation_certificate(USCC, Suite::Gm, PIN)),
        "not_authorised"
    );
}

#[test]
fn a_certificate_issued_but_never_stored_on_the_phone_can_be_reinstalled_in_place() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let before = phone.certificates().unwrap()[0].certificate.clone();
    {
        // What a crash between the CA's answer and the phone's commit leaves behind.
        let c = rusqlite::Connection::open(phone.db_path()).unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON; DELETE FROM pairs;")
            .unwrap();
    }
    assert!(phone.certificates().unwrap().is_empty());
    assert_eq!(
        code(phone.issue_person_certificate(Suite::Gm, PIN)),
        "invalid_input"
    );
    let again = phone
        .reissue_here(&CertSelector::Person, None, PIN)
        .unwrap();
    assert_eq!(again.id, before.id);
    assert_eq!(
        again.reissues_left, REISSUES_PER_PACK,
        "nothing moved, nothing used"
    );
    sign(&phone, &CertSelector::Person, PIN, b"works again").unwrap();
}
