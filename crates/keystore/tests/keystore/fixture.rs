//! Shared set-up: a temporary home with a test clock and the cheap test KDF, people
//! with valid ID numbers, an organisation with an admin and a member.

use std::sync::Arc;

use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Home, KeystoreConfig, KeystoreError, NewSeal, PersonDetails, Phone, Role, Seal,
    SealKind, TestClock, ids,
};
use tempfile::TempDir;
use time::OffsetDateTime;
use time::macros::datetime;

/// The PIN everybody starts with.
pub const PIN: &str = "123456";
/// A valid unified social credit code.
pub const USCC: &str = "91110000600037341L";
/// Start of the test clock.
pub const T0: OffsetDateTime = datetime!(2025-03-01 08:00 UTC);

pub struct Fx {
    _dir: TempDir,
    pub clock: TestClock,
    pub home: Home,
}

impl Fx {
    pub fn new() -> Fx {
        Fx::with(|c| c)
    }

    pub fn with(adjust: impl FnOnce(KeystoreConfig) -> KeystoreConfig) -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::new(T0);
        let config = adjust(
            KeystoreConfig::insecure_fast_kdf_for_tests().with_clock(Arc::new(clock.clone())),
        );
        let home = Home::new(dir.path(), config);
        Fx {
            _dir: dir,
            clock,
            home,
        }
    }

    pub fn phone(&self, name: &str) -> Phone {
        self.home.phone(name).unwrap()
    }

    /// A phone with person `seed` enrolled (GM person certificate, PIN).
    pub fn enrolled(&self, name: &str, seed: u32) -> Phone {
        let phone = self.phone(name);
        phone.enrol(&person(seed), PIN, Suite::Gm).unwrap();
        phone
    }

    /// Admin `boss` (person 1, creator of the organisation with its GM certificate and a
    /// 公章) and member `staff` (person 2).
    pub fn organisation(&self) -> OrgFx {
        let boss = self.enrolled("boss", 1);
        boss.create_organisation("北京某某建设有限公司", USCC, PIN, Suite::Gm)
            .unwrap();
        let staff = self.enrolled("staff", 2);
        boss.add_member(USCC, &person(2).phone_number, Role::Member)
            .unwrap();
        let seal = boss
            .add_seal(&NewSeal {
                kind: SealKind::Official,
                name: "北京某某建设有限公司公章".into(),
                organisation: Some(USCC.into()),
                image: Vec::new(),
                valid_from: None,
                valid_until: None,
            })
            .unwrap();
        OrgFx { boss, staff, seal }
    }
}

pub struct OrgFx {
    pub boss: Phone,
    pub staff: Phone,
    pub seal: Seal,
}

/// Person number `seed`: a valid 18-digit ID number and a mobile number.
pub fn person(seed: u32) -> PersonDetails {
    let first = format!("1101051990010{:04}", 1000 + seed);
    PersonDetails {
        name: format!("测试用户{seed}"),
        id_number: format!("{first}{}", ids::id_number_check_char(&first).unwrap()),
        phone_number: format!("1390000{seed:04}"),
    }
}

pub fn org_cert() -> CertSelector {
    CertSelector::Organisation(USCC.into())
}

/// Sign `msg` with `cert` on `phone` and check the signature against the installed
/// certificate; the keystore error on refusal.
pub fn sign(
    phone: &Phone,
    cert: &CertSelector,
    pin: &str,
    msg: &[u8],
) -> Result<Vec<u8>, KeystoreError> {
    let signer = phone.signer(cert, None, pin)?;
    let sig = signer.sign_all(&[msg])?.pop().unwrap();
    signer
        .certificate()
        .public_key()
        .unwrap()
        .verify(msg, &sig)
        .unwrap();
    Ok(sig)
}

/// Apply `seal` with `cert`.
pub fn seal(
    phone: &Phone,
    cert: &CertSelector,
    seal: i64,
    msg: &[u8],
) -> Result<Vec<u8>, KeystoreError> {
    let signer = phone.signer(cert, None, PIN)?.with_seal(seal);
    Ok(signer.sign_all(&[msg])?.pop().unwrap())
}

/// The code of an error (panics on success).
pub fn code<T: std::fmt::Debug>(r: Result<T, KeystoreError>) -> &'static str {
    r.expect_err("expected an error").code()
}
