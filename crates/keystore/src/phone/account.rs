//! Enrolment and sign-in, organisations and members, seals, grants, records and the
//! phone's status: what the signed-in user does on the platform through the phone.

use bidkit_crypto::Suite;
use rusqlite::params;
use time::OffsetDateTime;

use super::{Phone, stamp};
use crate::model::{
    Account, CertificateInfo, Grant, GrantTarget, Membership, Organisation, PersonDetails,
    PhoneStatus, Role, Seal, SealView, SmsMessage, UsageRecord,
};
use crate::selector::CertSelector;
use crate::service::{NewSeal, RecordFilter};
use crate::{KeystoreError, Result};

/// What enrolment produced.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Enrolment {
    /// The new account.
    pub account: Account,
    /// The person's certificate, installed on this phone.
    pub certificate: CertificateInfo,
}

/// What signing in on a phone produced.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SignIn {
    /// The account now signed in.
    pub account: Account,
    /// The verification code SMS the emulated phone received and entered.
    pub sms: SmsMessage,
}

impl Phone {
    /// Enrol a person on this phone (实名认证 + 个人证书): create the account, generate the
    /// signing and encryption keys here, have the CA certify them, and protect them
    /// with `pin`.
    pub fn enrol(&self, details: &PersonDetails, pin: &str, suite: Suite) -> Result<Enrolment> {
        crate::ids::check_pin(pin)?;
        if let Some(existing) = self.account()? {
            return Err(KeystoreError::AlreadyEnrolled {
                phone: self.name.clone(),
                name: existing.name,
            });
        }
        let account = self.service.create_account(details, self.now())?;
        self.store_account(&account)?;
        let certificate = self.install_new(&account, None, None, suite, pin)?;
        Ok(Enrolment {
            account,
            certificate,
        })
    }

    /// Sign an existing account in on this phone (a second device, or after a reset):
    /// the platform texts a code and the emulated phone enters it. Certificates stay
    /// bound to their devices; use [`Phone::reissue_here`] to move one here.
    pub fn sign_in(&self, phone_number: &str) -> Result<SignIn> {
        if let Some(existing) = self.account()? {
            return Err(KeystoreError::AlreadyEnrolled {
                phone: self.name.clone(),
                name: existing.name,
            });
        }
        let account = self.service.account_by_phone(phone_number)?;
        let now = self.now();
        let sms = self
            .service
            .send_code(&account.phone_number, "sign-in", now)?;
        self.service
            .verify_code(&account.phone_number, "sign-in", &sms.code, now)?;
        self.store_account(&account)?;
        Ok(SignIn { account, sms })
    }

    fn store_account(&self, account: &Account) -> Result<()> {
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "INSERT INTO account (id, account_id, name, phone_number, enrolled_at) VALUES (1, ?1, ?2, ?3, ?4)",
                params![account.id, account.name, account.phone_number, stamp(now)],
            )?;
            Ok(())
        })
    }

    /// Create an organisation (注册单位) with the signed-in user as its admin, and
    /// install its certificate on this phone under `pin`.
    pub fn create_organisation(
        &self,
        name: &str,
        uscc: &str,
        pin: &str,
        suite: Suite,
    ) -> Result<(Organisation, CertificateInfo)> {
        crate::ids::check_pin(pin)?;
        let account = self.require_account()?;
        let org = self
            .service
            .create_organisation(&account, name, uscc, self.now())?;
        let cert = self.install_new(&account, Some(&org), None, suite, pin)?;
        Ok((org, cert))
    }

    /// Ask to join an organisation; an admin approves with [`Phone::add_member`].
    pub fn request_join(&self, uscc: &str) -> Result<Membership> {
        let account = self.require_account()?;
        self.service.request_join(&account, uscc, self.now())
    }

    /// As an admin: add (or approve, or change the role of) a member by phone number.
    pub fn add_member(&self, uscc: &str, phone_number: &str, role: Role) -> Result<Membership> {
        let account = self.require_account()?;
        self.service
            .add_member(&account, uscc, phone_number, role, self.now())
    }

    /// The signed-in user's organisations.
    pub fn memberships(&self) -> Result<Vec<Membership>> {
        let account = self.require_account()?;
        self.service.memberships_of(account.id)
    }

    /// Members of one of the user's organisations.
    pub fn members(&self, uscc: &str) -> Result<Vec<Membership>> {
        let account = self.require_account()?;
        self.service.members(&account, uscc)
    }

    /// Record a seal (organisation seals: admins only).
    pub fn add_seal(&self, seal: &NewSeal) -> Result<Seal> {
        let account = self.require_account()?;
        self.service.add_seal(&account, seal, self.now())
    }

    /// A seal's record (GB/T 38540-2020 `SESeal`, DER) signed by the platform's seal
    /// maker; see [`crate::Service::seal_record`].
    pub fn seal_record(&self, seal_id: i64) -> Result<Vec<u8>> {
        self.require_account()?;
        self.service.seal_record(seal_id)
    }

    /// Make a seal's record again, bound to the certificates current now (after a
    /// renewal or reissue); see [`crate::Service::remake_seal_record`].
    pub fn remake_seal_record(&self, seal_id: i64) -> Result<Vec<u8>> {
        let account = self.require_account()?;
        self.service
            .remake_seal_record(&account, seal_id, self.now())
    }

    /// Check a seal's record against the emulated root now; see
    /// [`crate::Service::verify_seal_record`].
    pub fn verify_seal_record(&self, seal_id: i64) -> Result<bidkit_ses::VerifiedSeal> {
        self.require_account()?;
        self.service.verify_seal_record(seal_id, self.now())
    }

    /// The platform's seal maker certificate of `suite` (made on first use).
    pub fn seal_maker_certificate(&self, suite: Suite) -> Result<bidkit_pki::Certificate> {
        self.service.seal_maker_certificate(suite, self.now())
    }

    /// Void a seal (作废).
    pub fn void_seal(&self, seal_id: i64) -> Result<Seal> {
        let account = self.require_account()?;
        self.service.void_seal(&account, seal_id, self.now())
    }

    /// The seals the user sees, with whether each can be applied now.
    pub fn seals(&self) -> Result<Vec<SealView>> {
        let account = self.require_account()?;
        self.service.seals_visible_to(&account, self.now())
    }

    /// As an admin: grant a member (by phone number) use of an organisation seal.
    pub fn grant_seal(
        &self,
        seal_id: i64,
        grantee_phone: &str,
        valid_from: Option<OffsetDateTime>,
        valid_until: OffsetDateTime,
    ) -> Result<Grant> {
        let account = self.require_account()?;
        let now = self.now();
        self.service.grant(
            &account,
            GrantTarget::Seal(seal_id),
            grantee_phone,
            valid_from.unwrap_or(now),
            valid_until,
            now,
        )
    }

    /// As an admin: grant a member use of an organisation certificate, named by
    /// serial, `#id` or the organisation's code (with `suite` to pick one).
    pub fn grant_certificate(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        grantee_phone: &str,
        valid_from: Option<OffsetDateTime>,
        valid_until: OffsetDateTime,
    ) -> Result<Grant> {
        let account = self.require_account()?;
        let info = self.platform_certificate(&account, cert, suite)?;
        let now = self.now();
        self.service.grant(
            &account,
            GrantTarget::Certificate(info.id),
            grantee_phone,
            valid_from.unwrap_or(now),
            valid_until,
            now,
        )
    }

    /// As an admin: withdraw a grant (收回授权).
    pub fn withdraw_grant(&self, grant_id: i64) -> Result<Grant> {
        let account = self.require_account()?;
        self.service.withdraw_grant(&account, grant_id, self.now())
    }

    /// Grants the user sees (made to them, or in organisations they manage).
    pub fn grants(&self) -> Result<Vec<Grant>> {
        let account = self.require_account()?;
        self.service.grants_visible_to(&account, self.now())
    }

    /// Usage records the user may see (admins: their organisations'; members: own).
    pub fn records(&self, filter: &RecordFilter) -> Result<Vec<UsageRecord>> {
        let account = self.require_account()?;
        self.service.records_visible_to(&account, filter)
    }

    /// Everything the phone's home screen shows.
    pub fn status(&self) -> Result<PhoneStatus> {
        let account = self.account()?;
        let (memberships, certificates) = match &account {
            Some(a) => (self.service.memberships_of(a.id)?, self.certificates()?),
            None => (Vec::new(), Vec::new()),
        };
        Ok(PhoneStatus {
            phone: self.name.clone(),
            device_id: self.device_id.clone(),
            account,
            memberships,
            certificates,
            scripted: self.scripted_outcomes()?,
            insecure_test_kdf: self.config.is_insecure_kdf() || self.has_weak_pin_wraps()?,
        })
    }

    /// Whether any certificate on this phone has its PIN wrap made with less than the
    /// production Argon2id cost (it was installed by a test configuration).
    pub fn has_weak_pin_wraps(&self) -> Result<bool> {
        let d = bidkit_crypto::kdf::PinKdfParams::DEFAULT;
        self.db.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM pairs WHERE kdf_memory_kib < ?1 OR kdf_iterations < ?2)",
                rusqlite::params![d.memory_kib, d.iterations],
                |r| r.get::<_, bool>(0),
            )?)
        })
    }

    /// A certificate on the platform held by `account` or belonging to an organisation
    /// it manages, named by `sel` (it need not be installed on this phone).
    pub(crate) fn platform_certificate(
        &self,
        account: &Account,
        sel: &CertSelector,
        suite: Option<Suite>,
    ) -> Result<CertificateInfo> {
        let suite_ok = |c: &CertificateInfo| suite.is_none_or(|s| c.suite == s);
        let candidates: Vec<CertificateInfo> = match sel {
            CertSelector::Serial(s) => vec![self.service.certificate_by_serial(s)?],
            CertSelector::Id(id) => vec![self.service.certificate(*id)?],
            CertSelector::Person => self
                .service
                .certificates_held_by(account.id)?
                .into_iter()
                .filter(|c| c.organisation.is_none() && suite_ok(c))
                .collect(),
            CertSelector::Organisation(uscc) => {
                let org = self.service.organisation(uscc)?;
                let all = self.service.organisation_certificates(org.id)?;
                let mine: Vec<_> = all
                    .iter()
                    .filter(|c| c.holder_id == account.id && suite_ok(c))
                    .cloned()
                    .collect();
                if mine.is_empty() {
                    all.into_iter()
                        .filter(|c| c.copy_of.is_none() && suite_ok(c))
                        .collect()
                } else {
                    mine
                }
            }
        };
        match candidates.as_slice() {
            [] => Err(KeystoreError::not_found(sel.describe(suite))),
            [one] => Ok(one.clone()),
            many => Err(KeystoreError::Ambiguous {
                reference: sel.describe(suite),
                matches: format!(
                    "{} certificates; name one by serial or add --suite",
                    many.len()
                ),
            }),
        }
    }
}
