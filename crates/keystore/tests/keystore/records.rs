//! Usage records: visibility by role, the hash chain against edits and deletions,
//! export.

use bidkit_crypto::Suite;
use bidkit_keystore::{CertSelector, Operation, RecordFilter, records};
use time::Duration;

use crate::fixture::{Fx, PIN, T0, USCC, org_cert, person, seal, sign};

/// An organisation where boss and staff both used keys (staff also their own person
/// certificate, and one refused attempt).
fn busy_org(fx: &Fx) -> crate::fixture::OrgFx {
    let org = fx.organisation();
    org.boss
        .grant_seal(
            org.seal.id,
            &person(2).phone_number,
            None,
            T0 + Duration::days(30),
        )
        .unwrap();
    org.staff
        .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        .unwrap();
    seal(&org.staff, &org_cert(), org.seal.id, b"member seals").unwrap();
    let _ = sign(&org.staff, &org_cert(), PIN, b"no cert grant");
    sign(&org.staff, &CertSelector::Person, PIN, b"personal").unwrap();
    seal(&org.boss, &org_cert(), org.seal.id, b"admin seals").unwrap();
    org
}

#[test]
fn admins_see_every_record_of_their_organisation_members_only_their_own() {
    let fx = Fx::new();
    let org = busy_org(&fx);
    let boss_id = org.boss.account().unwrap().unwrap().id;
    let staff_id = org.staff.account().unwrap().unwrap().id;

    let staff_sees = org.staff.records(&RecordFilter::default()).unwrap();
    assert!(staff_sees.iter().all(|r| r.account_id == staff_id));
    assert!(
        staff_sees.iter().any(|r| r.org_id.is_none()),
        "own personal records"
    );

    let boss_sees = org.boss.records(&RecordFilter::default()).unwrap();
    // The member's organisation records, including the refusal, but not their personal ones.
    assert!(
        boss_sees.iter().any(|r| r.account_id == staff_id
            && r.operation == Operation::Seal
            && r.result == "ok")
    );
    assert!(
        boss_sees
            .iter()
            .any(|r| r.account_id == staff_id && r.result == "not_authorised")
    );
    assert!(
        !boss_sees
            .iter()
            .any(|r| r.account_id == staff_id && r.org_id.is_none()),
        "a member's personal records are their own"
    );
    assert!(boss_sees.iter().any(|r| r.account_id == boss_id));

    let seal_rec = boss_sees
        .iter()
        .find(|r| r.account_id == staff_id && r.operation == Operation::Seal)
        .unwrap();
    assert_eq!(seal_rec.user_name, "测试用户2");
    assert_eq!(seal_rec.seal_id, Some(org.seal.id));
    assert_eq!(seal_rec.platform, "bidkit-cli");
    assert_eq!(seal_rec.device_id, org.staff.device_id());
    assert!(seal_rec.cert_serial.is_some());

    let only_seals = org
        .boss
        .records(&RecordFilter {
            operation: Some(Operation::Seal),
            organisation: Some(USCC.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(only_seals.len(), 2);
}

/// Build a busy organisation, apply `sql` to the service database directly, verify.
fn tamper(sql: &str) -> bidkit_keystore::KeystoreError {
    let fx = Fx::new();
    let org = busy_org(&fx);
    drop(org);
    let service = fx.home.service().unwrap();
    let check = service.verify_records().unwrap();
    assert!(check.count >= 8, "{check:?}");
    assert_eq!(check.head.len(), 64);
    {
        let c = rusqlite::Connection::open(service.db_path()).unwrap();
        c.execute_batch(sql).unwrap();
    }
    service.verify_records().unwrap_err()
}

#[test]
fn editing_a_record_breaks_the_chain_at_that_record() {
    let err = tamper("UPDATE usage_records SET result = 'ok' WHERE result = 'not_authorised'");
    assert_eq!(err.code(), "records_tampered");
    assert!(err.to_string().contains("edited"), "{err}");
}

#[test]
fn deleting_a_record_in_the_middle_breaks_the_chain() {
    match tamper("DELETE FROM usage_records WHERE seq = 3") {
        bidkit_keystore::KeystoreError::RecordsTampered { seq, reason } => {
            assert_eq!(seq, 3);
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("expected records_tampered, got {other:?}"),
    }
}

#[test]
fn deleting_the_newest_record_breaks_the_head() {
    let err = tamper("DELETE FROM usage_records WHERE seq = (SELECT MAX(seq) FROM usage_records)");
    assert_eq!(err.code(), "records_tampered");
    assert!(err.to_string().contains("deleted"), "{err}");
}

#[test]
fn rewriting_a_record_and_its_hash_breaks_the_next_link() {
    let err = tamper(
        "UPDATE usage_records SET user_name = 'someone else', hash = zeroblob(32) WHERE seq = 2",
    );
    assert_eq!(err.code(), "records_tampered");
}

#[test]
fn records_export_as_json_and_csv() {
    let fx = Fx::new();
    let org = busy_org(&fx);
    let recs = org.boss.records(&RecordFilter::default()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&records::to_json(&recs).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), recs.len());
    assert_eq!(json[0]["operation"], "issue");
    assert!(
        json[0]["at"]
            .as_str()
            .unwrap()
            .starts_with("2025-03-01T08:00:00")
    );
    let csv = records::to_csv(&recs);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), recs.len() + 1);
    assert!(lines[0].starts_with("seq,time,user_name"));
    assert!(csv.contains("签章"));
}
