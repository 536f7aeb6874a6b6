//! Continuous signing mode: one PIN, then a bounded time and count, in memory only.

use bidkit_keystore::{CertSelector, ContinuousPolicy, ScriptedOutcome};
use time::Duration;

use crate::fixture::{Fx, PIN, code};

fn policy(seconds: i64, uses: u32) -> Option<ContinuousPolicy> {
    Some(ContinuousPolicy {
        max_duration: Duration::seconds(seconds),
        max_uses: uses,
    })
}

#[test]
fn refuses_one_second_after_its_time() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let session = phone
        .start_continuous(&CertSelector::Person, None, PIN, policy(300, 100))
        .unwrap();
    let signer = phone.session_signer(&session).unwrap();
    signer.sign_all(&[b"t0"]).unwrap();
    fx.clock.advance(Duration::seconds(300));
    signer.sign_all(&[b"t0+300"]).unwrap();
    fx.clock.advance(Duration::seconds(1));
    assert_eq!(code(signer.sign_all(&[b"t0+301"])), "session_ended");
    assert_eq!(session.uses_left(), 0);
    assert!(session.ended().unwrap().contains("time"));
    // Going back in time does not revive it.
    fx.clock.advance(Duration::seconds(-100));
    assert_eq!(code(signer.sign_all(&[b"again"])), "session_ended");
}

#[test]
fn refuses_the_request_after_its_count() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let session = phone
        .start_continuous(&CertSelector::Person, None, PIN, policy(3600, 3))
        .unwrap();
    let signer = phone.session_signer(&session).unwrap();
    signer.sign_all(&[b"1"]).unwrap();
    signer.sign_all(&[b"2a", b"2b", b"2c"]).unwrap(); // a batch is one request
    assert_eq!(session.uses_left(), 1);
    signer.sign_all(&[b"3"]).unwrap();
    assert_eq!(code(signer.sign_all(&[b"4"])), "session_ended");
    // No PIN try was spent by the session.
    assert_eq!(
        phone
            .pin_status(&CertSelector::Person, None)
            .unwrap()
            .tries_left,
        6
    );
}

#[test]
fn opening_needs_the_pin_and_ending_wipes_it() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    assert_eq!(
        code(phone.start_continuous(&CertSelector::Person, None, "000000", None)),
        "pin_wrong"
    );
    let session = phone
        .start_continuous(&CertSelector::Person, None, PIN, None)
        .unwrap();
    assert_eq!(session.uses_left(), 20);
    let signer = phone.session_signer(&session).unwrap();
    signer.sign_all(&[b"1"]).unwrap();
    session.end();
    assert_eq!(code(signer.sign_all(&[b"2"])), "session_ended");
    assert!(!format!("{session:?}").is_empty());
}

#[test]
fn a_lock_ends_the_session() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let session = phone
        .start_continuous(&CertSelector::Person, None, PIN, None)
        .unwrap();
    let signer = phone.session_signer(&session).unwrap();
    signer.sign_all(&[b"1"]).unwrap();
    // Six wrong PINs typed elsewhere on the phone lock the certificate.
    for _ in 0..6 {
        let _ = phone
            .signer(&CertSelector::Person, None, "000000")
            .unwrap()
            .sign_all(&[b"x"]);
    }
    assert_eq!(code(signer.sign_all(&[b"2"])), "session_ended");
    assert!(session.ended().unwrap().contains("locked"));
}

#[test]
fn a_scripted_wrong_pin_that_locks_ends_the_session() {
    let fx = Fx::with(|c| c.with_max_pin_tries(1));
    let phone = fx.enrolled("alice", 1);
    let session = phone
        .start_continuous(&CertSelector::Person, None, PIN, None)
        .unwrap();
    let signer = phone.session_signer(&session).unwrap();
    phone.push_outcomes(&[ScriptedOutcome::WrongPin]).unwrap();
    assert_eq!(code(signer.sign_all(&[b"x"])), "pin_locked");
    assert_eq!(code(signer.sign_all(&[b"y"])), "session_ended");
}

#[test]
fn a_session_belongs_to_its_certificate_and_still_obeys_the_platform() {
    let fx = Fx::new();
    let a = fx.enrolled("alice", 1);
    let session = a
        .start_continuous(&CertSelector::Person, None, PIN, None)
        .unwrap();
    // Reissued onto another phone: the session on the old phone is useless.
    let b = fx.phone("b");
    b.sign_in(&crate::fixture::person(1).phone_number).unwrap();
    b.reissue_here(&CertSelector::Person, None, PIN).unwrap();
    let signer = a.session_signer(&session).unwrap();
    assert_eq!(code(signer.sign_all(&[b"x"])), "device_unbound");
}

#[test]
fn a_member_with_a_seal_grant_seals_continuously() {
    use bidkit_crypto::Suite;
    let fx = Fx::new();
    let org = fx.organisation();
    let cert = crate::fixture::org_cert();
    assert_eq!(
        code(org.staff.start_continuous(&cert, None, PIN, None)),
        "not_found"
    );
    org.boss
        .grant_seal(
            org.seal.id,
            &crate::fixture::person(2).phone_number,
            None,
            crate::fixture::T0 + Duration::days(1),
        )
        .unwrap();
    org.staff
        .issue_organisation_certificate(crate::fixture::USCC, Suite::Gm, PIN)
        .unwrap();
    let session = org.staff.start_continuous(&cert, None, PIN, None).unwrap();
    let sealer = org
        .staff
        .session_signer(&session)
        .unwrap()
        .with_seal(org.seal.id);
    for page in 0..4u8 {
        sealer.sign_all(&[&[page]]).unwrap();
    }
    // Plain signatures still need a certificate grant, session or not.
    let plain = org.staff.session_signer(&session).unwrap();
    assert_eq!(code(plain.sign_all(&[b"x"])), "not_authorised");
}
