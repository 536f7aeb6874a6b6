//! The certificate PIN: lockout that survives restarts, change, reset with a code.

use bidkit_keystore::{CertSelector, DEFAULT_MAX_PIN_TRIES, KeystoreError};
use time::Duration;

use crate::fixture::{Fx, PIN, code, sign};

#[test]
fn six_wrong_pins_lock_the_certificate_and_the_lock_survives_a_restart() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    for expected_left in (1..DEFAULT_MAX_PIN_TRIES).rev() {
        match sign(&phone, &person, "000000", b"m") {
            Err(KeystoreError::PinWrong {
                remaining,
                phone,
                serial,
            }) => {
                assert_eq!(remaining, expected_left);
                assert_eq!(phone, "alice");
                assert!(!serial.is_empty());
            }
            other => panic!("expected pin_wrong, got {other:?}"),
        }
    }
    assert_eq!(code(sign(&phone, &person, "000000", b"m")), "pin_locked");
    // Even the right PIN is refused now, without a try being counted.
    assert_eq!(code(sign(&phone, &person, PIN, b"m")), "pin_locked");
    drop(phone);

    // "Restart": a new process would open the same files.
    let again = fx.phone("alice");
    let status = again.pin_status(&person, None).unwrap();
    assert!(status.locked);
    assert_eq!(status.tries_left, 0);
    assert_eq!(code(sign(&again, &person, PIN, b"m")), "pin_locked");
    let listed = &again.certificates().unwrap()[0];
    assert!(listed.state.starts_with("locked"), "{}", listed.state);
}

#[test]
fn a_right_pin_restores_the_counter_and_a_malformed_pin_costs_nothing() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    assert_eq!(code(sign(&phone, &person, "000000", b"m")), "pin_wrong");
    assert_eq!(phone.pin_status(&person, None).unwrap().tries_left, 5);
    assert_eq!(code(sign(&phone, &person, "12345", b"m")), "invalid_input");
    assert_eq!(code(sign(&phone, &person, "abcdef", b"m")), "invalid_input");
    assert_eq!(phone.pin_status(&person, None).unwrap().tries_left, 5);
    sign(&phone, &person, PIN, b"m").unwrap();
    assert_eq!(phone.pin_status(&person, None).unwrap().tries_left, 6);
}

#[test]
fn the_lockout_count_is_configurable() {
    let fx = Fx::with(|c| c.with_max_pin_tries(3));
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    assert_eq!(code(sign(&phone, &person, "000000", b"m")), "pin_wrong");
    assert_eq!(code(sign(&phone, &person, "000000", b"m")), "pin_wrong");
    assert_eq!(code(sign(&phone, &person, "000000", b"m")), "pin_locked");
    assert_eq!(phone.pin_status(&person, None).unwrap().max_tries, 3);
}

#[test]
fn reset_with_a_verification_code_unlocks_and_sets_a_new_pin() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    for _ in 0..6 {
        let _ = sign(&phone, &person, "000000", b"m");
    }
    assert!(phone.pin_status(&person, None).unwrap().locked);

    let sms = phone.request_pin_reset(&person, None).unwrap();
    assert_eq!(sms.to, crate::fixture::person(1).phone_number);
    assert_eq!(sms.code.len(), 6);
    assert!(sms.text.contains(&sms.code));
    assert!(
        !format!("{sms:?}").contains(&sms.code),
        "Debug must not show the code"
    );

    let wrong = if sms.code == "111111" {
        "222222"
    } else {
        "111111"
    };
    match phone.reset_pin(&person, None, wrong, "654321") {
        Err(KeystoreError::CodeWrong { remaining, .. }) => assert_eq!(remaining, 4),
        other => panic!("expected code_wrong, got {other:?}"),
    }
    assert!(phone.pin_status(&person, None).unwrap().locked);

    let status = phone.reset_pin(&person, None, &sms.code, "654321").unwrap();
    assert!(!status.locked);
    assert_eq!(status.tries_left, 6);
    sign(&phone, &person, "654321", b"after reset").unwrap();
    assert_eq!(code(sign(&phone, &person, PIN, b"m")), "pin_wrong");
    // A code works once.
    assert_eq!(
        code(phone.reset_pin(&person, None, &sms.code, "111222")),
        "code_expired"
    );
}

#[test]
fn verification_codes_expire_and_stop_after_five_wrong_entries() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    let sms = phone.request_pin_reset(&person, None).unwrap();
    fx.clock
        .advance(Duration::minutes(5) + Duration::seconds(1));
    assert_eq!(
        code(phone.reset_pin(&person, None, &sms.code, "654321")),
        "code_expired"
    );

    let sms = phone.request_pin_reset(&person, None).unwrap();
    let wrong = if sms.code == "000001" {
        "000002"
    } else {
        "000001"
    };
    for _ in 0..5 {
        assert_eq!(
            code(phone.reset_pin(&person, None, wrong, "654321")),
            "code_wrong"
        );
    }
    assert_eq!(
        code(phone.reset_pin(&person, None, &sms.code, "654321")),
        "code_expired"
    );
    // A newer code replaces older ones.
    let first = phone.request_pin_reset(&person, None).unwrap();
    let second = phone.request_pin_reset(&person, None).unwrap();
    if first.code != second.code {
        assert!(
            phone
                .reset_pin(&person, None, &first.code, "654321")
                .is_err()
        );
    }
    phone
        .reset_pin(&person, None, &second.code, "654321")
        .unwrap();
}

#[test]
fn change_needs_the_old_pin_and_a_wrong_old_pin_counts() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    assert_eq!(
        code(phone.change_pin(&person, None, "000000", "654321")),
        "pin_wrong"
    );
    assert_eq!(phone.pin_status(&person, None).unwrap().tries_left, 5);
    assert_eq!(
        code(phone.change_pin(&person, None, PIN, "65432")),
        "invalid_input"
    );
    let status = phone.change_pin(&person, None, PIN, "654321").unwrap();
    assert_eq!(status.tries_left, 6);
    assert_eq!(code(sign(&phone, &person, PIN, b"m")), "pin_wrong");
    sign(&phone, &person, "654321", b"m").unwrap();
}

#[test]
fn a_locked_certificate_cannot_change_its_pin() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let person = CertSelector::Person;
    for _ in 0..6 {
        let _ = sign(&phone, &person, "000000", b"m");
    }
    assert_eq!(
        code(phone.change_pin(&person, None, PIN, "654321")),
        "pin_locked"
    );
}

#[test]
fn a_pin_reset_on_a_phone_that_lost_the_certificate_is_refused() {
    let fx = Fx::new();
    let a = fx.enrolled("a", 1);
    let b = fx.phone("b");
    b.sign_in(&crate::fixture::person(1).phone_number).unwrap();
    let sms = a.request_pin_reset(&CertSelector::Person, None).unwrap();
    b.reissue_here(&CertSelector::Person, None, PIN).unwrap();
    match a.reset_pin(&CertSelector::Person, None, &sms.code, "654321") {
        Err(KeystoreError::DeviceUnbound { phone, .. }) => assert_eq!(phone, "a"),
        other => panic!("expected device_unbound, got {other:?}"),
    }
}
