//! The facts the emulation hands out: accounts, organisations, memberships,
//! certificates, seals, grants, usage records. Plain data, serialisable, no secrets.

use std::fmt;
use std::str::FromStr;

use bidkit_crypto::Suite;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::KeystoreError;

/// Who enrols: the real-name details of a person (实名认证).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    /// Full name, e.g. `张三`.
    pub name: String,
    /// Resident identity card number (18 characters, GB 11643-1999).
    pub id_number: String,
    /// Mainland mobile number; the account is the phone number, as in the app.
    pub phone_number: String,
}

/// A person's account on the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Platform id.
    pub id: i64,
    /// Full name.
    pub name: String,
    /// Resident identity card number.
    pub id_number: String,
    /// Mobile number (the login).
    pub phone_number: String,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An organisation (单位) on the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Platform id.
    pub id: i64,
    /// Registered name.
    pub name: String,
    /// Unified social credit code (统一社会信用代码).
    pub uscc: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A member's role in an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Administrator (管理员): adds members, makes and voids seals, grants and withdraws
    /// authorisations, sees every member's usage records.
    Admin,
    /// Ordinary member (普通成员): uses what was granted, sees own records.
    Member,
    /// Legal representative (法定代表人): the admin's rights.
    LegalRepresentative,
}

impl Role {
    /// Whether this role manages the organisation (admin or legal representative).
    pub fn is_manager(self) -> bool {
        matches!(self, Role::Admin | Role::LegalRepresentative)
    }

    /// Name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::LegalRepresentative => "legal-representative",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Member => "成员",
            Role::LegalRepresentative => "法定代表人",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = KeystoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "admin" | "管理员" => Ok(Role::Admin),
            "member" | "成员" => Ok(Role::Member),
            "legal-representative" | "legal-rep" | "法定代表人" => {
                Ok(Role::LegalRepresentative)
            }
            _ => Err(KeystoreError::invalid(
                "role",
                format!("{s:?}: expected admin, member or legal-representative"),
            )),
        }
    }
}

/// State of a membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MembershipStatus {
    /// Asked to join; waiting for an admin (待审核).
    Pending,
    /// A member.
    Active,
}

impl MembershipStatus {
    /// Name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "pending",
            MembershipStatus::Active => "active",
        }
    }
}

/// One person's membership of one organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The organisation.
    pub organisation: Organisation,
    /// The member's account id.
    pub account_id: i64,
    /// The member's name.
    pub name: String,
    /// The member's phone number.
    pub phone_number: String,
    /// The role.
    pub role: Role,
    /// Pending or active.
    pub status: MembershipStatus,
}

/// One certificate (证书) as the platform knows it: a signing and an encryption
/// certificate issued together, bound to one device, with its reissue counter.
///
/// Renewal and reissue replace both X.509 certificates (new keys, new serials) but keep
/// the same `id`, reissue counter and authorisations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// Platform id of the certificate.
    pub id: i64,
    /// Algorithm suite.
    pub suite: Suite,
    /// Holder: a person's or organisation's name and identifier, as in the certificate.
    pub subject: String,
    /// The organisation, for an organisation certificate.
    pub organisation: Option<OrgRef>,
    /// The account holding (using) the certificate.
    pub holder: String,
    /// The holder's account id.
    pub holder_id: i64,
    /// For a member's copy (副锁) of an organisation certificate: the organisation
    /// certificate it was claimed from.
    pub copy_of: Option<i64>,
    /// Current signing certificate serial (hex).
    pub signing_serial: String,
    /// Current encryption certificate serial (hex).
    pub encryption_serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity (one year after issue or renewal).
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The device the certificate is bound to.
    pub device_id: String,
    /// Renewals and reissues so far (0 for a fresh certificate).
    pub generation: u32,
    /// Reissues (补办) left before a reissue pack is needed.
    pub reissues_left: u32,
    /// Reissues used so far.
    pub reissues_used: u32,
}

/// A short reference to an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    /// Platform id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
}

/// A certificate as installed on one phone, with what the phone can do with it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledCertificate {
    /// The platform's view.
    pub certificate: CertificateInfo,
    /// The signing serial this phone holds keys for (differs from the platform's
    /// current serial when the certificate was reissued elsewhere).
    pub installed_signing_serial: String,
    /// The encryption serial this phone holds keys for.
    pub installed_encryption_serial: String,
    /// PIN retry state.
    pub pin: PinStatus,
    /// `usable`, or why not (`moved to device …`, `expired`, `locked` …).
    pub state: String,
}

/// PIN retry state of one certificate on one phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinStatus {
    /// Tries left before lockout.
    pub tries_left: u32,
    /// Lockout count.
    pub max_tries: u32,
    /// Whether the certificate is locked (needs a reset with a verification code).
    pub locked: bool,
}

/// Kind of a seal (印章) or signature image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealKind {
    /// 公章 — the organisation's official seal.
    Official,
    /// 财务章 — finance seal.
    Finance,
    /// 合同章 — contract seal.
    Contract,
    /// 法定代表人章 — the legal representative's seal (an organisation seal, applied
    /// with the organisation certificate; seed 001).
    LegalRepresentative,
    /// 人名章 — a person's name seal.
    PersonalName,
    /// 手写签名 — a handwritten signature.
    Handwritten,
}

impl SealKind {
    /// All kinds.
    pub const ALL: [SealKind; 6] = [
        SealKind::Official,
        SealKind::Finance,
        SealKind::Contract,
        SealKind::LegalRepresentative,
        SealKind::PersonalName,
        SealKind::Handwritten,
    ];

    /// Whether the seal belongs to an organisation (else to a person).
    pub fn is_organisation_seal(self) -> bool {
        !matches!(self, SealKind::PersonalName | SealKind::Handwritten)
    }

    /// Name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Official => "official",
            SealKind::Finance => "finance",
            SealKind::Contract => "contract",
            SealKind::LegalRepresentative => "legal-representative",
            SealKind::PersonalName => "personal-name",
            SealKind::Handwritten => "handwritten",
        }
    }

    /// Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            SealKind::Official => "公章",
            SealKind::Finance => "财务章",
            SealKind::Contract => "合同章",
            SealKind::LegalRepresentative => "法定代表人章",
            SealKind::PersonalName => "人名章",
            SealKind::Handwritten => "手写签名",
        }
    }
}

impl fmt::Display for SealKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SealKind {
    type Err = KeystoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        SealKind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower || k.label_zh() == s)
            .or(match lower.as_str() {
                "legal-rep" => Some(SealKind::LegalRepresentative),
                "name" | "personal" => Some(SealKind::PersonalName),
                "signature" => Some(SealKind::Handwritten),
                _ => None,
            })
            .ok_or_else(|| {
                KeystoreError::invalid(
                    "seal type",
                    format!(
                        "{s:?}: expected one of official (公章), finance (财务章), contract (合同章), legal-representative (法定代表人章), personal-name (人名章), handwritten (手写签名)"
                    ),
                )
            })
    }
}

/// Whether a seal is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealStatus {
    /// In force.
    Active,
    /// Voided (作废): admins can no longer use it; members with a grant still can until
    /// the grant is withdrawn (seed 001).
    Voided,
}

/// A seal record on the platform (the picture may be empty until seal rendering lands).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// Platform id.
    pub id: i64,
    /// Kind.
    pub kind: SealKind,
    /// Name shown to people (e.g. `某某公司公章`).
    pub name: String,
    /// The organisation owning an organisation seal.
    pub organisation: Option<OrgRef>,
    /// The person owning a personal seal (account id).
    pub owner_id: Option<i64>,
    /// Size of the PNG picture in bytes (0 when none yet).
    pub image_len: usize,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    /// End of validity; `None`: until voided.
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    /// Active or voided.
    pub status: SealStatus,
    /// When it was voided.
    #[serde(with = "time::serde::rfc3339::option")]
    pub voided_at: Option<OffsetDateTime>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a grant authorises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum GrantTarget {
    /// Use of an organisation seal (by id).
    Seal(i64),
    /// Use of an organisation certificate (by certificate id): a member claims a copy
    /// (副锁) onto their phone and may log in, sign and decrypt with it.
    Certificate(i64),
}

/// State of a grant at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantState {
    /// Before its validity period.
    NotYetValid,
    /// In force.
    Active,
    /// After its validity period (已失效).
    Expired,
    /// Withdrawn by an admin (已收回).
    Withdrawn,
}

impl GrantState {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantState::NotYetValid => "not-yet-valid",
            GrantState::Active => "active",
            GrantState::Expired => "expired",
            GrantState::Withdrawn => "withdrawn",
        }
    }
}

/// An authorisation (授权) granted by an admin to a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Platform id.
    pub id: i64,
    /// The organisation.
    pub organisation: OrgRef,
    /// The member's account id.
    pub grantee_id: i64,
    /// The member's name.
    pub grantee: String,
    /// What it authorises.
    pub target: GrantTarget,
    /// Human description of the target (seal name, certificate serial).
    pub target_label: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_until: OffsetDateTime,
    /// Who granted it.
    pub granted_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
    /// When it was withdrawn, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
    /// State at the time of the query.
    pub state: GrantState,
}

impl Grant {
    /// The state of a grant with these facts at `now` (withdrawal wins over time).
    pub fn state_at(
        valid_from: OffsetDateTime,
        valid_until: OffsetDateTime,
        withdrawn_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> GrantState {
        if withdrawn_at.is_some() {
            GrantState::Withdrawn
        } else if now < valid_from {
            GrantState::NotYetValid
        } else if now > valid_until {
            GrantState::Expired
        } else {
            GrantState::Active
        }
    }
}

/// A seal as one user sees it: whether they may use it now, and under which grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealView {
    /// The seal.
    pub seal: Seal,
    /// Whether the viewing user may apply it now.
    pub usable: bool,
    /// Why not, when not usable.
    pub reason: Option<String>,
    /// The viewer's grant for it, when they use it as a member.
    pub grant: Option<Grant>,
}

/// What a key use or account event was (操作类型).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Scan to log in (扫码登录): sign a login challenge.
    Login,
    /// Sign prepared data (签名).
    Sign,
    /// Apply a seal (签章).
    Seal,
    /// Revoke a seal already applied (撤章).
    RevokeSeal,
    /// Confirm encryption to this certificate (扫码加密).
    Encrypt,
    /// Unwrap a content key with the encryption key (扫码解密).
    Decrypt,
    /// Submit a bid (投标).
    SubmitBid,
    /// Withdraw a bid (撤标).
    WithdrawBid,
    /// Confirm the opening result (确认开标结果).
    ConfirmOpening,
    /// Enter continuous signing mode (连续签章).
    ContinuousStart,
    /// Certificate issued onto the phone.
    Issue,
    /// Certificate renewed (延期).
    Renew,
    /// Certificate reissued onto another device (补办).
    Reissue,
    /// Reissue pack added.
    ReissuePack,
    /// PIN changed.
    PinChange,
    /// PIN reset with a verification code.
    PinReset,
}

impl Operation {
    /// All operations.
    pub const ALL: [Operation; 16] = [
        Operation::Login,
        Operation::Sign,
        Operation::Seal,
        Operation::RevokeSeal,
        Operation::Encrypt,
        Operation::Decrypt,
        Operation::SubmitBid,
        Operation::WithdrawBid,
        Operation::ConfirmOpening,
        Operation::ContinuousStart,
        Operation::Issue,
        Operation::Renew,
        Operation::Reissue,
        Operation::ReissuePack,
        Operation::PinChange,
        Operation::PinReset,
    ];

    /// Name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Login => "login",
            Operation::Sign => "sign",
            Operation::Seal => "seal",
            Operation::RevokeSeal => "revoke-seal",
            Operation::Encrypt => "encrypt",
            Operation::Decrypt => "decrypt",
            Operation::SubmitBid => "submit-bid",
            Operation::WithdrawBid => "withdraw-bid",
            Operation::ConfirmOpening => "confirm-opening",
            Operation::ContinuousStart => "continuous-start",
            Operation::Issue => "issue",
            Operation::Renew => "renew",
            Operation::Reissue => "reissue",
            Operation::ReissuePack => "reissue-pack",
            Operation::PinChange => "pin-change",
            Operation::PinReset => "pin-reset",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Operation::Login => "登录",
            Operation::Sign => "签名",
            Operation::Seal => "签章",
            Operation::RevokeSeal => "撤章",
            Operation::Encrypt => "加密",
            Operation::Decrypt => "解密",
            Operation::SubmitBid => "投标",
            Operation::WithdrawBid => "撤标",
            Operation::ConfirmOpening => "确认开标结果",
            Operation::ContinuousStart => "连续签章",
            Operation::Issue => "证书下载",
            Operation::Renew => "证书延期",
            Operation::Reissue => "证书补办",
            Operation::ReissuePack => "补办包",
            Operation::PinChange => "修改证书密码",
            Operation::PinReset => "重置证书密码",
        }
    }

    /// Whether the operation uses the encryption key (else the signing key).
    pub fn uses_encryption_key(self) -> bool {
        matches!(self, Operation::Decrypt)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = KeystoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == lower || o.label_zh() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
                KeystoreError::invalid(
                    "operation",
                    format!("{s:?}: expected one of {}", names.join(", ")),
                )
            })
    }
}

/// One usage record (使用记录): who used which certificate for what, from where, when,
/// and with what result. Records form a hash chain (see [`crate::records`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// Position in the chain (1, 2, …).
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The acting user's account id.
    pub account_id: i64,
    /// The acting user's name.
    pub user_name: String,
    /// The organisation whose certificate or seal was used, if any.
    pub org_id: Option<i64>,
    /// What was done.
    pub operation: Operation,
    /// The certificate serial used (signing serial, or encryption serial for decrypt).
    pub cert_serial: Option<String>,
    /// The seal applied, if any.
    pub seal_id: Option<i64>,
    /// The platform or tool that asked (`bidkit-cli`, `desktop` …).
    pub platform: String,
    /// The device the request was made on.
    pub device_id: String,
    /// `ok`, or the error code of why it failed (`refused`, `pin_wrong`, `pin_locked`,
    /// `not_authorised`, `grant_expired` …).
    pub result: String,
    /// Free text (e.g. `3 messages`).
    pub detail: String,
    /// This record's chain hash (SM3, hex).
    pub hash: String,
}

/// A verification code as the emulated phone receives it by SMS.
///
/// The platform stores only a salted hash; this is the one place the code exists in
/// clear. `Debug` does not print it.
#[derive(Clone, Serialize)]
pub struct SmsMessage {
    /// Destination number.
    pub to: String,
    /// The six-digit code.
    pub code: String,
    /// What it is for (`pin-reset`, `sign-in`).
    pub purpose: String,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The SMS text, as a phone would show it.
    pub text: String,
}

impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsMessage")
            .field("to", &self.to)
            .field("code", &"<redacted>")
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What the emulated phone's user will do at the next request (a QA script).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptedOutcome {
    /// Approve and enter the PIN given with the request.
    Approve,
    /// Tap "refuse".
    Refuse,
    /// Never answer.
    Timeout,
    /// Type a wrong PIN (the retry counter goes down).
    WrongPin,
}

impl ScriptedOutcome {
    /// Name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptedOutcome::Approve => "approve",
            ScriptedOutcome::Refuse => "refuse",
            ScriptedOutcome::Timeout => "timeout",
            ScriptedOutcome::WrongPin => "wrong-pin",
        }
    }
}

impl FromStr for ScriptedOutcome {
    type Err = KeystoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "approve" => Ok(ScriptedOutcome::Approve),
            "refuse" => Ok(ScriptedOutcome::Refuse),
            "timeout" => Ok(ScriptedOutcome::Timeout),
            "wrong-pin" | "wrong_pin" => Ok(ScriptedOutcome::WrongPin),
            _ => Err(KeystoreError::invalid(
                "scripted outcome",
                format!("{s:?}: expected approve, refuse, timeout or wrong-pin"),
            )),
        }
    }
}

impl fmt::Display for ScriptedOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything one phone shows on its home screen.
#[derive(Clone, Debug, Serialize)]
pub struct PhoneStatus {
    /// The phone's name in the home directory.
    pub phone: String,
    /// Its random device id.
    pub device_id: String,
    /// The enrolled account.
    pub account: Option<Account>,
    /// Organisations the account belongs to (or asked to join).
    pub memberships: Vec<Membership>,
    /// Certificates installed on this phone.
    pub certificates: Vec<InstalledCertificate>,
    /// Queued scripted outcomes, next first.
    pub scripted: Vec<ScriptedOutcome>,
    /// Whether PIN keys on this phone are (or would be) derived with the insecure test
    /// setting.
    pub insecure_test_kdf: bool,
}
