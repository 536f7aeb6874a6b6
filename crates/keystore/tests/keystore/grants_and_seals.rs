//! Seals, authorisations with validity, withdrawal, voided seals (seed 001), roles.

use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, GrantState, GrantTarget, KeystoreError, NewSeal, Role, SealKind, SealStatus,
};
use time::Duration;

use crate::fixture::{Fx, PIN, T0, USCC, code, org_cert, person, seal, sign};

#[test]
fn a_member_uses_the_official_seal_only_while_the_grant_is_valid() {
    let fx = Fx::new();
    let org = fx.organisation();
    let staff_number = person(2).phone_number;

    // No grant: cannot even claim the organisation certificate.
    assert_eq!(
        code(
            org.staff
                .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        ),
        "not_authorised"
    );

    // Grant from tomorrow for 30 days.
    let from = T0 + Duration::days(1);
    let until = from + Duration::days(30);
    let grant = org
        .boss
        .grant_seal(org.seal.id, &staff_number, Some(from), until)
        .unwrap();
    assert_eq!(grant.state, GrantState::NotYetValid);
    assert_eq!(grant.target, GrantTarget::Seal(org.seal.id));
    assert_eq!(
        code(
            org.staff
                .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        ),
        "not_authorised"
    );

    fx.clock.advance(Duration::days(1));
    // Now a member with an active grant claims a copy (副锁) of the main certificate.
    let copy = org
        .staff
        .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        .unwrap();
    assert!(copy.copy_of.is_some());
    assert_eq!(copy.holder, "测试用户2");
    assert_eq!(copy.device_id, org.staff.device_id());
    seal(&org.staff, &org_cert(), org.seal.id, b"during").unwrap();
    let view = org.staff.seals().unwrap();
    assert_eq!(view.len(), 1);
    assert!(view[0].usable);
    assert_eq!(view[0].grant.as_ref().unwrap().id, grant.id);

    // The seal grant does not authorise plain signatures with the certificate.
    assert_eq!(
        code(sign(&org.staff, &org_cert(), PIN, b"plain")),
        "not_authorised"
    );

    // Last second of the grant, then one second after.
    fx.clock.set(until);
    seal(&org.staff, &org_cert(), org.seal.id, b"last second").unwrap();
    fx.clock.advance(Duration::seconds(1));
    match seal(&org.staff, &org_cert(), org.seal.id, b"after") {
        Err(KeystoreError::GrantExpired {
            grant: id,
            until: u,
            ..
        }) => {
            assert_eq!(id, grant.id);
            assert_eq!(u, until);
        }
        other => panic!("expected grant_expired, got {other:?}"),
    }
    let view = org.staff.seals().unwrap();
    assert!(!view[0].usable);
    assert_eq!(view[0].grant.as_ref().unwrap().state, GrantState::Expired);
}

#[test]
fn a_withdrawn_grant_refuses_at_once_and_the_seal_disappears_from_use() {
    let fx = Fx::new();
    let org = fx.organisation();
    let grant = org
        .boss
        .grant_seal(
            org.seal.id,
            &person(2).phone_number,
            None,
            T0 + Duration::days(30),
        )
        .unwrap();
    assert_eq!(grant.state, GrantState::Active);
    org.staff
        .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        .unwrap();
    seal(&org.staff, &org_cert(), org.seal.id, b"before").unwrap();

    let withdrawn = org.boss.withdraw_grant(grant.id).unwrap();
    assert_eq!(withdrawn.state, GrantState::Withdrawn);
    assert_eq!(
        code(seal(&org.staff, &org_cert(), org.seal.id, b"after")),
        "grant_withdrawn"
    );
    let view = org.staff.seals().unwrap();
    assert!(!view[0].usable);
    assert!(view[0].reason.as_ref().unwrap().contains("withdrawn"));
    // Only admins withdraw.
    assert_eq!(code(org.staff.withdraw_grant(grant.id)), "not_admin");
}

#[test]
fn a_voided_seal_stays_usable_for_granted_members_until_withdrawal() {
    let fx = Fx::new();
    let org = fx.organisation();
    let grant = org
        .boss
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

    let voided = org.boss.void_seal(org.seal.id).unwrap();
    assert_eq!(voided.status, SealStatus::Voided);
    // The admin can no longer use it …
    assert_eq!(
        code(seal(&org.boss, &org_cert(), org.seal.id, b"admin")),
        "seal_voided"
    );
    // … the member with a grant still can …
    seal(&org.staff, &org_cert(), org.seal.id, b"member").unwrap();
    // … nobody can be granted it again …
    let third = fx.enrolled("third", 3);
    org.boss
        .add_member(USCC, &person(3).phone_number, Role::Member)
        .unwrap();
    assert_eq!(
        code(org.boss.grant_seal(
            org.seal.id,
            &person(3).phone_number,
            None,
            T0 + Duration::days(1)
        )),
        "seal_voided"
    );
    drop(third);
    // … until the grant is withdrawn.
    org.boss.withdraw_grant(grant.id).unwrap();
    assert_eq!(
        code(seal(&org.staff, &org_cert(), org.seal.id, b"member")),
        "grant_withdrawn"
    );
}

#[test]
fn admins_seal_without_grants_and_seals_must_match_the_certificate() {
    let fx = Fx::new();
    let org = fx.organisation();
    seal(&org.boss, &org_cert(), org.seal.id, b"admin").unwrap();
    // An organisation seal cannot be applied with a person certificate.
    assert_eq!(
        code(seal(&org.boss, &CertSelector::Person, org.seal.id, b"x")),
        "not_authorised"
    );
    // A personal name seal goes with the person certificate only.
    let name_seal = org
        .boss
        .add_seal(&NewSeal {
            kind: SealKind::PersonalName,
            name: "测试用户1".into(),
            organisation: None,
            image: Vec::new(),
            valid_from: None,
            valid_until: Some(T0 + Duration::days(10)),
        })
        .unwrap();
    seal(&org.boss, &CertSelector::Person, name_seal.id, b"name").unwrap();
    assert_eq!(
        code(seal(&org.boss, &org_cert(), name_seal.id, b"x")),
        "not_authorised"
    );
    fx.clock.advance(Duration::days(10) + Duration::seconds(1));
    assert_eq!(
        code(seal(&org.boss, &CertSelector::Person, name_seal.id, b"x")),
        "seal_not_valid"
    );
    // Sealing needs a seal; a seal needs sealing.
    assert_eq!(
        code(
            org.boss
                .signer(&CertSelector::Person, None, PIN)
                .unwrap()
                .for_operation(bidkit_keystore::Operation::Seal)
                .sign_all(&[b"x"])
        ),
        "invalid_input"
    );
}

#[test]
fn only_admins_make_seals_add_members_and_grant() {
    let fx = Fx::new();
    let org = fx.organisation();
    let official = NewSeal {
        kind: SealKind::Finance,
        name: "财务专用章".into(),
        organisation: Some(USCC.into()),
        image: Vec::new(),
        valid_from: None,
        valid_until: None,
    };
    assert_eq!(code(org.staff.add_seal(&official)), "not_admin");
    assert_eq!(
        code(
            org.staff
                .add_member(USCC, &person(5).phone_number, Role::Member)
        ),
        "not_found"
    );
    let _five = fx.enrolled("five", 5);
    assert_eq!(
        code(
            org.staff
                .add_member(USCC, &person(5).phone_number, Role::Member)
        ),
        "not_admin"
    );
    assert_eq!(
        code(org.staff.grant_seal(
            org.seal.id,
            &person(2).phone_number,
            None,
            T0 + Duration::days(1)
        )),
        "not_admin"
    );
    // A non-PNG picture is refused; a PNG header is accepted.
    let mut bad = official.clone();
    bad.image = b"GIF89a".to_vec();
    assert_eq!(code(org.boss.add_seal(&bad)), "invalid_input");
    let mut good = official.clone();
    good.image = b"\x89PNG\r\n\x1a\n....".to_vec();
    assert_eq!(org.boss.add_seal(&good).unwrap().image_len, 12);
    // An organisation seal needs an organisation; a personal one must not name one.
    let mut orphan = official;
    orphan.organisation = None;
    assert_eq!(code(org.boss.add_seal(&orphan)), "invalid_input");
    // A legal representative has the admin's rights.
    org.boss
        .add_member(USCC, &person(2).phone_number, Role::LegalRepresentative)
        .unwrap();
    org.staff
        .add_member(USCC, &person(5).phone_number, Role::Member)
        .unwrap();
}

#[test]
fn joining_is_a_request_an_admin_approves() {
    let fx = Fx::new();
    let org = fx.organisation();
    let newcomer = fx.enrolled("newcomer", 4);
    let pending = newcomer.request_join(USCC).unwrap();
    assert_eq!(pending.status, bidkit_keystore::MembershipStatus::Pending);
    assert_eq!(code(newcomer.members(USCC)), "not_authorised");
    let approved = org
        .boss
        .add_member(USCC, &person(4).phone_number, Role::Member)
        .unwrap();
    assert_eq!(approved.status, bidkit_keystore::MembershipStatus::Active);
    assert_eq!(newcomer.members(USCC).unwrap().len(), 3);
    assert_eq!(newcomer.memberships().unwrap()[0].role, Role::Member);
}

#[test]
fn certificate_grants_let_members_sign_with_their_copy_while_valid() {
    let fx = Fx::new();
    let org = fx.organisation();
    let grant = org
        .boss
        .grant_certificate(
            &org_cert(),
            None,
            &person(2).phone_number,
            None,
            T0 + Duration::days(7),
        )
        .unwrap();
    assert!(matches!(grant.target, GrantTarget::Certificate(_)));
    org.staff
        .issue_organisation_certificate(USCC, Suite::Gm, PIN)
        .unwrap();
    sign(&org.staff, &org_cert(), PIN, b"bid").unwrap();
    // A certificate grant does not cover seals.
    assert_eq!(
        code(seal(&org.staff, &org_cert(), org.seal.id, b"x")),
        "not_authorised"
    );
    fx.clock.advance(Duration::days(7) + Duration::seconds(1));
    assert_eq!(
        code(sign(&org.staff, &org_cert(), PIN, b"bid")),
        "grant_expired"
    );
    // A new grant brings it back; withdrawal ends it.
    let g2 = org
        .boss
        .grant_certificate(
            &org_cert(),
            None,
            &person(2).phone_number,
            None,
            fx.clock_now() + Duration::days(7),
        )
        .unwrap();
    sign(&org.staff, &org_cert(), PIN, b"bid").unwrap();
    org.boss.withdraw_grant(g2.id).unwrap();
    assert_eq!(
        code(sign(&org.staff, &org_cert(), PIN, b"bid")),
        "grant_withdrawn"
    );
    // Admins see both grants, the member too (they are theirs).
    assert_eq!(org.boss.grants().unwrap().len(), 2);
    assert_eq!(org.staff.grants().unwrap().len(), 2);
}

#[test]
fn grants_need_a_member_and_a_future_end() {
    let fx = Fx::new();
    let org = fx.organisation();
    let _outsider = fx.enrolled("outsider", 6);
    assert_eq!(
        code(org.boss.grant_seal(
            org.seal.id,
            &person(6).phone_number,
            None,
            T0 + Duration::days(1)
        )),
        "invalid_input"
    );
    assert_eq!(
        code(org.boss.grant_seal(
            org.seal.id,
            &person(2).phone_number,
            None,
            T0 - Duration::days(1)
        )),
        "invalid_input"
    );
}

impl crate::fixture::Fx {
    fn clock_now(&self) -> time::OffsetDateTime {
        use bidkit_keystore::Clock;
        self.clock.now()
    }
}
