//! Signing through the phone: the Signer trait, batches, scripted outcomes, unwrapping.

use bidkit_crypto::{Signer, SignerError};
use bidkit_keystore::{
    CertSelector, KeystoreError, Operation, RecordFilter, ScriptedOutcome, Unlock,
};

use crate::fixture::{Fx, PIN, sign};

#[test]
fn a_phone_signer_is_a_signer() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let signer = phone.signer(&CertSelector::Person, None, PIN).unwrap();
    let dyn_signer: &dyn Signer = &signer;
    let sig = dyn_signer.sign(b"prepared message").unwrap();
    dyn_signer
        .public_key()
        .verify(b"prepared message", &sig)
        .unwrap();
    assert_eq!(
        dyn_signer.algorithm(),
        bidkit_crypto::SignatureAlgorithm::Sm2WithSm3
    );
    assert!(!format!("{signer:?}").contains(PIN));
}

#[test]
fn a_batch_is_one_approval_one_pin_and_one_record() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let signer = phone.signer(&CertSelector::Person, None, PIN).unwrap();
    phone
        .push_outcomes(&[ScriptedOutcome::Approve, ScriptedOutcome::Refuse])
        .unwrap();
    let msgs: Vec<&[u8]> = vec![b"page 1", b"page 2", b"page 3"];
    let sigs = signer.sign_batch(&msgs).unwrap();
    assert_eq!(sigs.len(), 3);
    for (m, s) in msgs.iter().zip(&sigs) {
        signer.public_key().verify(m, s).unwrap();
    }
    // One outcome consumed; the refusal is still queued.
    assert_eq!(
        phone.scripted_outcomes().unwrap(),
        vec![ScriptedOutcome::Refuse]
    );
    let signs: Vec<_> = phone
        .records(&RecordFilter {
            operation: Some(Operation::Sign),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(signs.len(), 1);
    assert_eq!(signs[0].detail, "3 messages");
    assert_eq!(signs[0].result, "ok");
}

#[test]
fn scripted_outcomes_are_consumed_in_order() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let signer = phone.signer(&CertSelector::Person, None, PIN).unwrap();
    phone
        .push_outcomes(&[
            ScriptedOutcome::Refuse,
            ScriptedOutcome::Timeout,
            ScriptedOutcome::WrongPin,
            ScriptedOutcome::Approve,
        ])
        .unwrap();
    match signer.sign(b"m") {
        Err(SignerError::Refused { reason }) => assert!(reason.contains("alice"), "{reason}"),
        other => panic!("expected refused, got {other:?}"),
    }
    assert!(matches!(signer.sign(b"m"), Err(SignerError::TimedOut)));
    let err = signer.sign(b"m").unwrap_err();
    let ks = KeystoreError::from_signer_error(&err).expect("a keystore error");
    assert!(
        matches!(ks, KeystoreError::PinWrong { remaining: 5, .. }),
        "{ks}"
    );
    assert_eq!(
        phone
            .pin_status(&CertSelector::Person, None)
            .unwrap()
            .tries_left,
        5
    );
    signer.sign(b"m").unwrap();
    assert!(phone.scripted_outcomes().unwrap().is_empty());
    signer.sign(b"m").unwrap();

    let results: Vec<String> = phone
        .records(&RecordFilter {
            operation: Some(Operation::Sign),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.result)
        .collect();
    assert_eq!(results, ["refused", "timed_out", "pin_wrong", "ok", "ok"]);
    assert_eq!(phone.clear_outcomes().unwrap(), 0);
}

#[test]
fn unwrapping_a_content_key_uses_the_encryption_key_and_is_recorded() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    let enc = phone
        .encryption_certificate(&CertSelector::Person, None)
        .unwrap();
    let secret = [7u8; 16];
    let wrapped = bidkit_crypto::wrap::wrap(&enc.public_key().unwrap(), &secret).unwrap();
    let opened = phone
        .unwrap_key(
            &CertSelector::Person,
            None,
            Unlock::Pin(PIN),
            &wrapped,
            Some("desktop"),
        )
        .unwrap();
    assert_eq!(opened.as_slice(), secret);
    assert_eq!(
        phone
            .unwrap_key(
                &CertSelector::Person,
                None,
                Unlock::Pin("000000"),
                &wrapped,
                None
            )
            .unwrap_err()
            .code(),
        "pin_wrong"
    );
    let recs = phone
        .records(&RecordFilter {
            operation: Some(Operation::Decrypt),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].platform, "desktop");
    assert_eq!(
        recs[0].cert_serial.as_deref(),
        Some(enc.serial_hex().as_str())
    );
    // Tampered wrapped keys fail cleanly.
    let mut bad = wrapped.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        phone
            .unwrap_key(&CertSelector::Person, None, Unlock::Pin(PIN), &bad, None)
            .unwrap_err()
            .code(),
        "crypto"
    );
}

#[test]
fn confirmations_and_logins_are_recorded_with_their_operation() {
    let fx = Fx::new();
    let phone = fx.enrolled("alice", 1);
    phone
        .confirm(
            &CertSelector::Person,
            None,
            Unlock::Pin(PIN),
            Operation::SubmitBid,
            Some("desktop"),
            "bid.bid",
        )
        .unwrap();
    let login = phone
        .signer(&CertSelector::Person, None, PIN)
        .unwrap()
        .for_operation(Operation::Login)
        .with_platform("desktop");
    login.sign_all(&[b"challenge"]).unwrap();
    let ops: Vec<Operation> = phone
        .records(&RecordFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        ops,
        [Operation::Issue, Operation::SubmitBid, Operation::Login]
    );
    sign(&phone, &CertSelector::Person, PIN, b"m").unwrap();
}
