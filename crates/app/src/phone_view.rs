//! The emulated phone window (手机模拟器): the phone app of the seeds as values for a
//! screen — the account, certificates, seals (made from a template, a scanned image or
//! handwriting), authorisations and usage records — and "scan" with a pause between
//! what the phone shows (verification code, request) and the use of the key.
//!
//! Everything goes through the keystore and [`crate::scan::scan`] exactly as
//! `bidkit phone …` does; this module only shapes values and adds the pause:
//! [`scan_with_confirmation`] starts `scan` with no PIN and an observer that reports the
//! code and the request, then (through [`ScanObserver::consent`], once the full request
//! is known) waits for the holder's one answer: the codes match and approve with the PIN
//! (or the continuous session), refuse, or the codes differ (refused with
//! `code-mismatch`). The key is used only after that.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Home, KeystoreConfig, NewSeal, Phone, RecordFilter, SealKind, SealStatus,
};
use bidkit_relay::{ClientConfig, PhoneScan};
use bidkit_seal::{
    NameSeal, OvalSeal, RenderOptions, RoundSeal, SealFont, SealImage, SealTemplate,
    SignatureOptions, Stroke, StrokePoint,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppError;
use crate::scan::{
    Consent, Decision, ExpectCode, ScanObserver, ScanOptions, ScanReport, ScanUnlock,
};

pub use bidkit_keystore::{ContinuousSession, PersonDetails};

/// A PIN held in memory, wiped when dropped.
pub type Pin = zeroize::Zeroizing<String>;

/// The phone the window shows (the CLI's default phone).
pub const PHONE: &str = bidkit_keystore::DEFAULT_PHONE;

/// Environment variable that switches PIN key derivation to the insecure test setting
/// (the same switch as the CLI's; for automated tests only).
pub const INSECURE_KDF_ENV: &str = "BIDKIT_INSECURE_FAST_KDF";

/// The keystore home under the Bidkit home `home`.
pub fn keystore_home(home: &Path) -> Home {
    let config = if std::env::var(INSECURE_KDF_ENV).is_ok_and(|v| v == "1") {
        tracing::warn!("{INSECURE_KDF_ENV}=1: PINs use the insecure TEST key derivation");
        KeystoreConfig::insecure_fast_kdf_for_tests()
    } else {
        KeystoreConfig::default()
    };
    Home::new(home, config)
}

/// Opens the window's phone in `home` (created empty when it does not exist yet).
pub fn open_phone(home: &Path) -> Result<Phone, AppError> {
    Ok(keystore_home(home).phone(PHONE)?)
}

/// The person signed in on the phone.
#[derive(Clone, Debug, Serialize)]
pub struct PersonItem {
    /// Full name.
    pub name: String,
    /// Resident identity card number.
    pub id_number: String,
    /// Mobile number (the account).
    pub phone_number: String,
    /// Organisations, as `name (USCC) role`.
    pub organisations: Vec<String>,
}

/// One installed certificate (a signing + encryption pair).
#[derive(Clone, Debug, Serialize)]
pub struct CertItem {
    /// Certificate id (`#ID`).
    pub id: i64,
    /// Subject, for people.
    pub subject: String,
    /// Organisation name of an organisation certificate.
    pub organisation: Option<String>,
    /// `person` or `organisation`, and `copy` for a member's copy (副锁).
    pub purpose: String,
    /// Algorithm suite (`gm` or `nist`).
    pub suite: String,
    /// Signing certificate serial (hex).
    pub signing_serial: String,
    /// Encryption certificate serial (hex).
    pub encryption_serial: String,
    /// Valid from (RFC 3339).
    pub not_before: String,
    /// Valid until (RFC 3339).
    pub not_after: String,
    /// State on this phone (`ok`, `superseded` …).
    pub state: String,
    /// PIN tries left.
    pub tries_left: u32,
    /// PIN tries allowed.
    pub max_tries: u32,
    /// Whether the PIN is locked.
    pub locked: bool,
}

/// One seal the holder sees.
#[derive(Clone, Debug, Serialize)]
pub struct SealItem {
    /// Seal id.
    pub id: i64,
    /// Name shown to people.
    pub name: String,
    /// Kind (`official`, `finance`, `contract`, `legal-representative`,
    /// `personal-name`, `handwritten`).
    pub kind: String,
    /// Kind in Chinese (公章 …).
    pub kind_zh: String,
    /// Organisation name of an organisation seal.
    pub organisation: Option<String>,
    /// `active` or `voided`.
    pub status: String,
    /// Whether it can be applied now.
    pub usable: bool,
    /// Why not, if not.
    pub reason: Option<String>,
    /// The picture (PNG), empty when none.
    #[serde(skip)]
    pub png: Vec<u8>,
}

/// One authorisation (授权).
#[derive(Clone, Debug, Serialize)]
pub struct GrantItem {
    /// Grant id.
    pub id: i64,
    /// Organisation name.
    pub organisation: String,
    /// Who may use it.
    pub grantee: String,
    /// What may be used.
    pub target: String,
    /// Valid from (RFC 3339).
    pub valid_from: String,
    /// Valid until (RFC 3339).
    pub valid_until: String,
    /// `active`, `expired`, `not-yet-valid`, `withdrawn`.
    pub state: String,
}

/// One usage record (使用记录).
#[derive(Clone, Debug, Serialize)]
pub struct RecordItem {
    /// Sequence number in the chain.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Operation (`login`, `sign`, `seal` …).
    pub operation: String,
    /// Operation in Chinese.
    pub operation_zh: String,
    /// Certificate serial used.
    pub cert_serial: Option<String>,
    /// Seal applied.
    pub seal_id: Option<i64>,
    /// Platform name.
    pub platform: String,
    /// `ok` or the error code.
    pub result: String,
    /// What it was about.
    pub detail: String,
}

/// Everything the phone window shows at once.
#[derive(Clone, Debug, Serialize)]
pub struct PhoneOverview {
    /// The phone's name.
    pub phone: String,
    /// Its random device id.
    pub device_id: String,
    /// The person signed in, if enrolled.
    pub person: Option<PersonItem>,
    /// Installed certificates.
    pub certificates: Vec<CertItem>,
    /// Seals the person sees.
    pub seals: Vec<SealItem>,
    /// Authorisations: one's own and those of organisations one manages.
    pub grants: Vec<GrantItem>,
    /// Usage records, newest first.
    pub records: Vec<RecordItem>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// The phone's state in `home` (an empty phone shows `person: None`).
pub fn overview(home: &Path) -> Result<PhoneOverview, AppError> {
    let phone = open_phone(home)?;
    overview_of(&phone)
}

/// [`overview`] of an open phone.
pub fn overview_of(phone: &Phone) -> Result<PhoneOverview, AppError> {
    let mut out = PhoneOverview {
        phone: phone.name().to_owned(),
        device_id: phone.device_id().to_owned(),
        person: None,
        certificates: Vec::new(),
        seals: Vec::new(),
        grants: Vec::new(),
        records: Vec::new(),
    };
    let Some(account) = phone.account()? else {
        return Ok(out);
    };
    let organisations = phone
        .memberships()?
        .into_iter()
        .map(|m| {
            format!(
                "{} ({}) {}",
                m.organisation.name,
                m.organisation.uscc,
                m.role.label_zh()
            )
        })
        .collect();
    out.person = Some(PersonItem {
        name: account.name,
        id_number: account.id_number,
        phone_number: account.phone_number,
        organisations,
    });
    out.certificates = phone
        .certificates()?
        .into_iter()
        .map(|c| {
            let i = c.certificate;
            let purpose = match (&i.organisation, i.copy_of) {
                (None, _) => "person",
                (Some(_), None) => "organisation",
                (Some(_), Some(_)) => "organisation-copy",
            };
            CertItem {
                id: i.id,
                subject: i.subject,
                organisation: i.organisation.map(|o| o.name),
                purpose: purpose.to_owned(),
                suite: i.suite.to_string(),
                signing_serial: c.installed_signing_serial,
                encryption_serial: c.installed_encryption_serial,
                not_before: rfc3339(i.not_before),
                not_after: rfc3339(i.not_after),
                state: c.state,
                tries_left: c.pin.tries_left,
                max_tries: c.pin.max_tries,
                locked: c.pin.locked,
            }
        })
        .collect();
    let service = phone.service();
    out.seals = phone
        .seals()?
        .into_iter()
        .map(|v| {
            let s = v.seal;
            SealItem {
                png: if s.image_len > 0 {
                    service.seal_image(s.id).unwrap_or_default()
                } else {
                    Vec::new()
                },
                id: s.id,
                name: s.name,
                kind: s.kind.as_str().to_owned(),
                kind_zh: s.kind.label_zh().to_owned(),
                organisation: s.organisation.map(|o| o.name),
                status: match s.status {
                    SealStatus::Active => "active".to_owned(),
                    SealStatus::Voided => "voided".to_owned(),
                },
                usable: v.usable,
                reason: v.reason,
            }
        })
        .collect();
    out.grants = phone
        .grants()?
        .into_iter()
        .map(|g| GrantItem {
            id: g.id,
            organisation: g.organisation.name,
            grantee: g.grantee,
            target: g.target_label,
            valid_from: rfc3339(g.valid_from),
            valid_until: rfc3339(g.valid_until),
            state: g.state.as_str().to_owned(),
        })
        .collect();
    let mut records: Vec<RecordItem> = phone
        .records(&RecordFilter::default())?
        .into_iter()
        .map(|r| RecordItem {
            seq: r.seq,
            at: rfc3339(r.at),
            operation: r.operation.as_str().to_owned(),
            operation_zh: r.operation.label_zh().to_owned(),
            cert_serial: r.cert_serial,
            seal_id: r.seal_id,
            platform: r.platform,
            result: r.result,
            detail: r.detail,
        })
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(r.seq));
    out.records = records;
    Ok(out)
}

/// Enrols a person on the phone (real-name details, GM person certificate, PIN), as
/// `bidkit phone enrol` does, and returns the new state.
pub fn enrol(home: &Path, details: &PersonDetails, pin: &str) -> Result<PhoneOverview, AppError> {
    let phone = open_phone(home)?;
    phone.enrol(details, pin, Suite::Gm)?;
    overview_of(&phone)
}

/// The templates the phone offers (bidkit-seal's), as in the seeds' app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateChoice {
    /// 公章: round, the organisation's name and a star.
    Official,
    /// 合同章: round, "合同专用章".
    Contract,
    /// 财务章: oval, "财务专用章".
    Finance,
    /// 人名章: square, the person's name.
    PersonalName,
}

impl TemplateChoice {
    /// Parses `official`, `contract`, `finance` or `personal-name`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        Ok(match s {
            "official" => TemplateChoice::Official,
            "contract" => TemplateChoice::Contract,
            "finance" => TemplateChoice::Finance,
            "personal-name" => TemplateChoice::PersonalName,
            other => {
                return Err(AppError::InvalidOption {
                    option: "template",
                    reason: format!(
                        "unknown seal template {other:?} (official, contract, finance, personal-name)"
                    ),
                });
            }
        })
    }

    fn kind(self) -> SealKind {
        match self {
            TemplateChoice::Official => SealKind::Official,
            TemplateChoice::Contract => SealKind::Contract,
            TemplateChoice::Finance => SealKind::Finance,
            TemplateChoice::PersonalName => SealKind::PersonalName,
        }
    }
}

/// What a new seal is made from.
#[derive(Clone, Debug)]
pub enum SealSource {
    /// A template.
    Template(TemplateChoice),
    /// A photo or scan of a stamped seal (PNG or JPEG file).
    Scan(PathBuf),
    /// Handwriting: strokes of `(x, y, pressure)` points in millimetres.
    Handwriting(Vec<Vec<[f32; 3]>>),
}

/// Largest photo file the phone reads (as the CLI).
const MAX_PHOTO_FILE: u64 = 32 * 1024 * 1024;

fn seal_error(e: impl std::fmt::Display) -> AppError {
    AppError::InvalidOption {
        option: "seal",
        reason: e.to_string(),
    }
}

/// Makes a seal as `bidkit phone seal make` does: renders it, records it on the
/// platform (which signs its GB/T 38540 seal record) and returns it. Organisation seals
/// are made for the first organisation the person manages.
pub fn make_seal(home: &Path, source: &SealSource) -> Result<SealItem, AppError> {
    let phone = open_phone(home)?;
    let account = phone.require_account()?;
    let managed = phone
        .memberships()?
        .into_iter()
        .find(|m| m.role.is_manager())
        .map(|m| m.organisation);
    let dpi = bidkit_seal::DEFAULT_DPI;
    let (image, kind, organisation): (SealImage, SealKind, Option<(String, String)>) = match source
    {
        SealSource::Template(choice) => {
            let kind = choice.kind();
            let org = if kind.is_organisation_seal() {
                let o = managed.ok_or_else(|| AppError::InvalidOption {
                    option: "template",
                    reason: format!(
                        "a {} carries an organisation's name: this person manages no organisation",
                        kind.label_zh()
                    ),
                })?;
                Some((o.name, o.uscc))
            } else {
                None
            };
            let org_name = org.as_ref().map(|o| o.0.clone()).unwrap_or_default();
            let template = match choice {
                TemplateChoice::Official => SealTemplate::Round(RoundSeal {
                    kind: bidkit_seal::SealKind::Official,
                    organisation: org_name,
                    seal_name: None,
                    code: None,
                    diameter_mm: 42.0,
                    star: true,
                }),
                TemplateChoice::Contract => SealTemplate::Round(RoundSeal {
                    kind: bidkit_seal::SealKind::Contract,
                    organisation: org_name,
                    seal_name: Some("合同专用章".to_owned()),
                    code: None,
                    diameter_mm: 40.0,
                    star: true,
                }),
                TemplateChoice::Finance => SealTemplate::Oval(OvalSeal {
                    kind: bidkit_seal::SealKind::Finance,
                    organisation: org_name,
                    seal_name: Some("财务专用章".to_owned()),
                    code: None,
                    width_mm: 40.0,
                    height_mm: 30.0,
                }),
                TemplateChoice::PersonalName => {
                    SealTemplate::Name(NameSeal::personal(account.name.clone()))
                }
            };
            let font = SealFont::discover(None).map_err(seal_error)?;
            let image = template
                .render(
                    &font,
                    &RenderOptions {
                        dpi,
                        ..RenderOptions::default()
                    },
                )
                .map_err(seal_error)?;
            (image, kind, org)
        }
        SealSource::Scan(path) => {
            let len = std::fs::metadata(path)
                .map_err(|source| AppError::Io {
                    path: path.clone(),
                    source,
                })?
                .len();
            if len > MAX_PHOTO_FILE {
                return Err(seal_error(format!(
                    "{} is {len} bytes, more than the {MAX_PHOTO_FILE} accepted",
                    path.display()
                )));
            }
            let bytes = std::fs::read(path).map_err(|source| AppError::Io {
                path: path.clone(),
                source,
            })?;
            let (kind, org) = match managed {
                Some(o) => (SealKind::Official, Some((o.name, o.uscc))),
                None => (SealKind::PersonalName, None),
            };
            let found = bidkit_seal::extract_seal(
                &bytes,
                &bidkit_seal::ScanOptions {
                    target_mm: if org.is_some() { 42.0 } else { 18.0 },
                    dpi,
                    ..bidkit_seal::ScanOptions::default()
                },
            )
            .map_err(seal_error)?;
            (found.image, kind, org)
        }
        SealSource::Handwriting(strokes) => {
            let strokes: Vec<Stroke> = strokes
                .iter()
                .map(|s| Stroke {
                    points: s
                        .iter()
                        .map(|&[x, y, pressure]| StrokePoint { x, y, pressure })
                        .collect(),
                })
                .collect();
            let image = bidkit_seal::render_signature(
                &strokes,
                &SignatureOptions {
                    dpi,
                    ..SignatureOptions::default()
                },
            )
            .map_err(seal_error)?;
            (image, SealKind::Handwritten, None)
        }
    };
    let holder = organisation
        .as_ref()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| account.name.clone());
    let seal = phone.add_seal(&NewSeal {
        kind,
        name: format!("{holder}{}", kind.label_zh()),
        organisation: organisation.map(|o| o.1),
        image: image.png.clone(),
        valid_from: None,
        valid_until: None,
    })?;
    Ok(SealItem {
        id: seal.id,
        name: seal.name,
        kind: seal.kind.as_str().to_owned(),
        kind_zh: seal.kind.label_zh().to_owned(),
        organisation: seal.organisation.map(|o| o.name),
        status: "active".to_owned(),
        usable: true,
        reason: None,
        png: image.png,
    })
}

/// What the QR code says before the phone joins: enough to choose the certificate.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct QrPreview {
    /// What the session is for (`login`, `sign` …).
    pub purpose: String,
    /// Algorithm suite (`gm` or `nist`).
    pub suite: String,
    /// The relay.
    pub relay: String,
}

/// Reads a scanned QR text (`BK1:…`) without joining the session.
pub fn describe_qr(qr_text: &str) -> Result<QrPreview, AppError> {
    let scan = PhoneScan::new(qr_text.trim(), ClientConfig::default())?;
    Ok(QrPreview {
        purpose: scan.payload().purpose.as_str().to_owned(),
        suite: scan.payload().suite.to_string(),
        relay: scan.relay().to_string(),
    })
}

/// The PIN state of the certificate a scan of `suite` uses by default (the person's).
pub fn person_pin(
    home: &Path,
    suite: Option<Suite>,
) -> Result<bidkit_keystore::PinStatus, AppError> {
    Ok(open_phone(home)?.pin_status(&CertSelector::Person, suite)?)
}

/// Opens continuous mode (连续签章) for the person certificate with `pin`.
pub fn start_continuous(home: &Path, pin: &str) -> Result<ContinuousSession, AppError> {
    Ok(open_phone(home)?.start_continuous(&CertSelector::Person, Some(Suite::Gm), pin, None)?)
}

/// What the phone shows during a scan, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanStep {
    /// Joined: the purpose and the verification code to compare with the tool's.
    Joined {
        /// The session's purpose.
        purpose: String,
        /// The six-digit code.
        code: String,
    },
    /// The request, as shown before the key is used.
    Request(Vec<String>),
    /// The code and the full request are shown: waiting for the holder's answer (the
    /// codes match and approve with the PIN, refuse, or the codes differ).
    AwaitingConfirmation,
}

/// How the holder answers a scan.
#[derive(Debug)]
pub enum Answer {
    /// Approve: the key is unlocked with this.
    Approve(ScanUnlock),
    /// Refuse: no key is used.
    Refuse,
}

/// The holder's one answer once the code and the request are shown.
#[derive(Debug)]
pub struct Confirmation {
    /// Whether the phone's code is the one on the tool's screen (`false`: refused with
    /// `code-mismatch`, whatever `answer` says).
    pub codes_match: bool,
    /// Approve (with the PIN or the continuous session) or refuse.
    pub answer: Answer,
}

struct Paused<'a> {
    steps: &'a mut (dyn FnMut(ScanStep) + Send),
    confirm: Receiver<Confirmation>,
    wait: Duration,
}

impl ScanObserver for Paused<'_> {
    fn joined(&mut self, purpose: bidkit_protocol::Purpose, _relay: &str, code: &str) {
        (self.steps)(ScanStep::Joined {
            purpose: purpose.as_str().to_owned(),
            code: code.to_owned(),
        });
    }

    fn request(&mut self, summary: &[String]) {
        (self.steps)(ScanStep::Request(summary.to_vec()));
    }

    fn consent(&mut self) -> Option<Consent> {
        (self.steps)(ScanStep::AwaitingConfirmation);
        Some(match self.confirm.recv_timeout(self.wait) {
            Ok(Confirmation {
                codes_match: false, ..
            }) => Consent::CodesDiffer,
            Ok(Confirmation {
                answer: Answer::Approve(unlock),
                ..
            }) => Consent::Approve(unlock),
            // Refused, or no answer in time: no key is used.
            Ok(Confirmation {
                answer: Answer::Refuse,
                ..
            })
            | Err(_) => Consent::Refuse,
        })
    }
}

/// Scans `qr_text` with the window's phone: it joins with no PIN, `steps` sees the code
/// and the request, then the scan waits (up to `wait`) on `confirm` for the holder's
/// [`Confirmation`] — only then is the key used (with the PIN or session it carries).
/// Blocks the calling thread (it runs its own async runtime): call it from a thread of
/// its own.
pub fn scan_with_confirmation(
    home: &Path,
    qr_text: &str,
    steps: &mut (dyn FnMut(ScanStep) + Send),
    confirm: Receiver<Confirmation>,
    wait: Duration,
) -> Result<ScanReport, AppError> {
    let phone = Arc::new(open_phone(home)?);
    let mut opts = ScanOptions::new(qr_text.trim(), ScanUnlock::None);
    opts.decision = Decision::Approve;
    opts.expect_code = ExpectCode::None;
    opts.wait = wait;
    let mut observer = Paused {
        steps,
        confirm,
        wait,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::InvalidOption {
            option: "scan",
            reason: format!("cannot start the phone's runtime: {e}"),
        })?;
    runtime.block_on(crate::scan::scan(phone, opts, &mut observer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enrolled() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_path_buf();
        let phone = Home::new(&home, KeystoreConfig::insecure_fast_kdf_for_tests())
            .phone(PHONE)
            .unwrap();
        phone
            .enrol(
                &PersonDetails {
                    name: "张三".into(),
                    id_number: "11010519491231002X".into(),
                    phone_number: "13800138000".into(),
                },
                "246810",
                Suite::Gm,
            )
            .unwrap();
        (dir, home)
    }

    #[test]
    fn empty_phone_has_no_person() {
        let dir = tempfile::tempdir().unwrap();
        let o = overview(dir.path()).unwrap();
        assert!(o.person.is_none());
        assert!(o.certificates.is_empty() && o.records.is_empty());
    }

    #[test]
    fn overview_lists_the_person_certificate_with_its_pin_state() {
        let (_dir, home) = enrolled();
        let o = overview(&home).unwrap();
        let p = o.person.unwrap();
        assert_eq!(p.name, "张三");
        assert_eq!(o.certificates.len(), 1);
        let c = &o.certificates[0];
        assert_eq!(c.purpose, "person");
        assert_eq!(c.suite, "gm");
        assert_eq!(c.tries_left, c.max_tries);
        assert!(!c.locked);
        assert!(c.not_after > c.not_before);
    }

    #[test]
    fn handwriting_makes_a_handwritten_seal_with_a_picture() {
        let (_dir, home) = enrolled();
        let strokes = vec![vec![
            [1.0, 5.0, 0.3],
            [8.0, 2.0, 0.6],
            [15.0, 6.0, 0.8],
            [22.0, 3.0, 0.5],
        ]];
        let seal = make_seal(&home, &SealSource::Handwriting(strokes)).unwrap();
        assert_eq!(seal.kind, "handwritten");
        assert!(seal.png.starts_with(b"\x89PNG"));
        let o = overview(&home).unwrap();
        assert!(o.seals.iter().any(|s| s.id == seal.id && !s.png.is_empty()));
    }

    #[test]
    fn an_organisation_template_needs_an_organisation() {
        let (_dir, home) = enrolled();
        let err = make_seal(&home, &SealSource::Template(TemplateChoice::Official)).unwrap_err();
        assert_eq!(err.code(), "invalid-option", "{err}");
        assert!(TemplateChoice::parse("nope").is_err());
        assert_eq!(
            TemplateChoice::parse("finance").unwrap(),
            TemplateChoice::Finance
        );
    }

    #[test]
    fn a_template_seal_and_a_scan_of_it_are_both_recorded() {
        let (dir, home) = enrolled();
        let name = make_seal(&home, &SealSource::Template(TemplateChoice::PersonalName)).unwrap();
        assert_eq!(name.kind, "personal-name");
        let photo = dir.path().join("photo.png");
        std::fs::write(&photo, &name.png).unwrap();
        let scanned = make_seal(&home, &SealSource::Scan(photo)).unwrap();
        assert!(scanned.png.starts_with(b"\x89PNG"));
        let o = overview(&home).unwrap();
        assert_eq!(o.seals.len(), 2);
        let phone = open_phone(&home).unwrap();
        for s in &o.seals {
            phone.verify_seal_record(s.id).unwrap();
        }
    }

    #[test]
    fn a_qr_that_is_not_bidkits_is_refused() {
        assert!(describe_qr("hello").is_err());
    }

    /// Runs a sign session against `home`'s phone; the holder answers `answer` once the
    /// phone waits for it. Returns the steps shown, the tool's answer and the report.
    fn paused_sign(
        home: &Path,
        answer: Answer,
    ) -> (
        Vec<ScanStep>,
        Result<bidkit_protocol::Message, bidkit_relay::ClientError>,
        Result<ScanReport, AppError>,
    ) {
        use bidkit_protocol::Message;
        use bidkit_protocol::message::{DocumentInfo, SignItem, SignRequest};
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let relay = bidkit_relay::EmbeddedRelay::start().await.unwrap();
            let tool = bidkit_relay::ToolSession::open(
                relay.relay_address(),
                Suite::Gm,
                bidkit_protocol::Purpose::Sign,
                ClientConfig::default(),
            )
            .await
            .unwrap();
            let qr = tool.qr_text(bidkit_protocol::Timestamp::now()).unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            let (step_tx, step_rx) = std::sync::mpsc::channel();
            let home = home.to_path_buf();
            let phone = std::thread::spawn(move || {
                let mut steps = move |s: ScanStep| {
                    let _ = step_tx.send(s);
                };
                scan_with_confirmation(&home, &qr, &mut steps, rx, Duration::from_secs(30))
            });
            let mut conn = tool.wait_for_phone().await.unwrap();
            let holder = std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut answer = Some(answer);
                while let Ok(s) = step_rx.recv() {
                    if s == ScanStep::AwaitingConfirmation
                        && let Some(answer) = answer.take()
                    {
                        tx.send(Confirmation {
                            codes_match: true,
                            answer,
                        })
                        .unwrap();
                    }
                    seen.push(s);
                }
                seen
            });
            let digest = vec![9; 32];
            let mut prepared = b"signed-attrs".to_vec();
            prepared.extend_from_slice(&digest);
            let answered = conn
                .request(&Message::SignRequest(SignRequest {
                    items: vec![SignItem {
                        id: "a".into(),
                        document: DocumentInfo {
                            name: "投标文件.pdf".into(),
                            page_count: 1,
                        },
                        seals: Vec::new(),
                        digest_algorithm: Suite::Gm.hash(),
                        document_digest: digest,
                        prepared,
                    }],
                }))
                .await;
            let ok = answered.is_ok();
            conn.finish(ok, "done").await.unwrap();
            let report = phone.join().unwrap();
            (holder.join().unwrap(), answered, report)
        })
    }

    #[test]
    fn the_pin_is_given_after_the_code_and_the_request() {
        let (_dir, home) = enrolled();
        let pin = Pin::new("246810".to_owned());
        let (steps, answered, report) = paused_sign(&home, Answer::Approve(ScanUnlock::Pin(pin)));
        assert!(answered.is_ok(), "{answered:?}");
        assert_eq!(report.unwrap().outcome, crate::scan::ScanOutcome::Approved);
        assert!(matches!(steps[0], ScanStep::Joined { .. }), "{steps:?}");
        assert!(matches!(steps[1], ScanStep::Request(_)), "{steps:?}");
        assert_eq!(steps.last(), Some(&ScanStep::AwaitingConfirmation));
    }

    #[test]
    fn refusing_after_the_code_uses_no_key() {
        let (_dir, home) = enrolled();
        let before = open_phone(&home)
            .unwrap()
            .records(&RecordFilter::default())
            .unwrap()
            .len();
        let (steps, answered, report) = paused_sign(&home, Answer::Refuse);
        assert!(answered.is_err(), "{answered:?}");
        assert_eq!(report.unwrap().outcome, crate::scan::ScanOutcome::Refused);
        assert_eq!(steps.last(), Some(&ScanStep::AwaitingConfirmation));
        let after = open_phone(&home)
            .unwrap()
            .records(&RecordFilter::default())
            .unwrap()
            .len();
        assert_eq!(before, after);
    }

    #[test]
    fn person_pin_starts_full() {
        let (_dir, home) = enrolled();
        let pin = person_pin(&home, Some(Suite::Gm)).unwrap();
        assert_eq!(pin.tries_left, pin.max_tries);
    }
}
