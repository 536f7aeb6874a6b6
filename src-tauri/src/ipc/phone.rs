//! IPC types of the emulated phone window.

use base64::Engine as _;
use bidkit_app::phone_view::{
    CertItem, GrantItem, PersonItem, PhoneOverview, QrPreview, RecordItem, SealItem,
};
use bidkit_app::scan::{ScanOutcome, ScanReport};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::IpcError;

/// The event the phone window's scans report on ([`PhoneScanEvent`]).
pub const PHONE_SCAN_EVENT: &str = "phone-scan";

/// A PNG as a `data:` URL (empty for no picture).
fn png_url(png: &[u8]) -> String {
    if png.is_empty() {
        String::new()
    } else {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    }
}

/// The person signed in on the phone.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhonePerson {
    /// Full name.
    pub name: String,
    /// Resident identity card number.
    pub id_number: String,
    /// Mobile number.
    pub phone_number: String,
    /// Organisations, as `name (USCC) role`.
    pub organisations: Vec<String>,
}

/// One installed certificate.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneCert {
    /// Certificate id.
    pub id: f64,
    /// Subject.
    pub subject: String,
    /// Organisation of an organisation certificate.
    pub organisation: Option<String>,
    /// `person`, `organisation` or `organisation-copy`.
    pub purpose: String,
    /// `gm` or `nist`.
    pub suite: String,
    /// Signing certificate serial.
    pub signing_serial: String,
    /// Encryption certificate serial.
    pub encryption_serial: String,
    /// Valid from (RFC 3339).
    pub not_before: String,
    /// Valid until (RFC 3339).
    pub not_after: String,
    /// State on this phone.
    pub state: String,
    /// PIN tries left.
    pub tries_left: u32,
    /// PIN tries allowed.
    pub max_tries: u32,
    /// Whether the PIN is locked.
    pub locked: bool,
}

/// One seal.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneSeal {
    /// Seal id.
    pub id: f64,
    /// Name.
    pub name: String,
    /// Kind (`official` …).
    pub kind: String,
    /// Kind in Chinese.
    pub kind_zh: String,
    /// Organisation of an organisation seal.
    pub organisation: Option<String>,
    /// `active` or `voided`.
    pub status: String,
    /// Whether it can be applied now.
    pub usable: bool,
    /// Why not.
    pub reason: Option<String>,
    /// The picture as a `data:image/png` URL (empty when none).
    pub image: String,
}

/// One authorisation.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneGrant {
    /// Grant id.
    pub id: f64,
    /// Organisation.
    pub organisation: String,
    /// Who may use it.
    pub grantee: String,
    /// What.
    pub target: String,
    /// From (RFC 3339).
    pub valid_from: String,
    /// Until (RFC 3339).
    pub valid_until: String,
    /// `active`, `expired`, `not-yet-valid`, `withdrawn`.
    pub state: String,
}

/// One usage record.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneRecord {
    /// Sequence number.
    pub seq: f64,
    /// When (RFC 3339).
    pub at: String,
    /// Operation (`login` …).
    pub operation: String,
    /// Operation in Chinese.
    pub operation_zh: String,
    /// Certificate serial used.
    pub cert_serial: Option<String>,
    /// Seal applied.
    pub seal_id: Option<f64>,
    /// Platform.
    pub platform: String,
    /// `ok` or the error code.
    pub result: String,
    /// Detail.
    pub detail: String,
}

/// `phone_overview`'s answer: everything the phone window shows.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneOverviewView {
    /// Phone name.
    pub phone: String,
    /// Device id.
    pub device_id: String,
    /// The person, if enrolled.
    pub person: Option<PhonePerson>,
    /// Certificates.
    pub certificates: Vec<PhoneCert>,
    /// Seals.
    pub seals: Vec<PhoneSeal>,
    /// Authorisations.
    pub grants: Vec<PhoneGrant>,
    /// Usage records, newest first.
    pub records: Vec<PhoneRecord>,
    /// Whether continuous mode (连续签章) is on, and its uses left.
    pub continuous: Option<u32>,
}

impl From<PersonItem> for PhonePerson {
    fn from(p: PersonItem) -> Self {
        PhonePerson {
            name: p.name,
            id_number: p.id_number,
            phone_number: p.phone_number,
            organisations: p.organisations,
        }
    }
}

impl From<CertItem> for PhoneCert {
    fn from(c: CertItem) -> Self {
        PhoneCert {
            id: c.id as f64,
            subject: c.subject,
            organisation: c.organisation,
            purpose: c.purpose,
            suite: c.suite,
            signing_serial: c.signing_serial,
            encryption_serial: c.encryption_serial,
            not_before: c.not_before,
            not_after: c.not_after,
            state: c.state,
            tries_left: c.tries_left,
            max_tries: c.max_tries,
            locked: c.locked,
        }
    }
}

impl From<SealItem> for PhoneSeal {
    fn from(s: SealItem) -> Self {
        PhoneSeal {
            image: png_url(&s.png),
            id: s.id as f64,
            name: s.name,
            kind: s.kind,
            kind_zh: s.kind_zh,
            organisation: s.organisation,
            status: s.status,
            usable: s.usable,
            reason: s.reason,
        }
    }
}

impl From<GrantItem> for PhoneGrant {
    fn from(g: GrantItem) -> Self {
        PhoneGrant {
            id: g.id as f64,
            organisation: g.organisation,
            grantee: g.grantee,
            target: g.target,
            valid_from: g.valid_from,
            valid_until: g.valid_until,
            state: g.state,
        }
    }
}

impl From<RecordItem> for PhoneRecord {
    fn from(r: RecordItem) -> Self {
        PhoneRecord {
            seq: r.seq as f64,
            at: r.at,
            operation: r.operation,
            operation_zh: r.operation_zh,
            cert_serial: r.cert_serial,
            seal_id: r.seal_id.map(|i| i as f64),
            platform: r.platform,
            result: r.result,
            detail: r.detail,
        }
    }
}

impl PhoneOverviewView {
    /// The view of `o`, with continuous mode's uses left (`None`: off).
    pub fn new(o: PhoneOverview, continuous: Option<u32>) -> Self {
        PhoneOverviewView {
            phone: o.phone,
            device_id: o.device_id,
            person: o.person.map(Into::into),
            certificates: o.certificates.into_iter().map(Into::into).collect(),
            seals: o.seals.into_iter().map(Into::into).collect(),
            grants: o.grants.into_iter().map(Into::into).collect(),
            records: o.records.into_iter().map(Into::into).collect(),
            continuous,
        }
    }
}

/// `phone_enrol`'s argument.
#[derive(Debug, Deserialize, TS)]
pub struct PhoneEnrolRequest {
    /// Full name.
    pub name: String,
    /// Resident identity card number (18 characters).
    pub id_number: String,
    /// Mobile number.
    pub phone_number: String,
    /// Six-digit PIN.
    #[ts(type = "string")]
    pub pin: SecretPin,
}

/// `phone_make_seal`'s argument: exactly one source.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PhoneMakeSealRequest {
    /// A template: `official`, `contract`, `finance` or `personal-name`.
    pub template: Option<String>,
    /// A photo or scan of a seal (PNG or JPEG path).
    pub scan_path: Option<String>,
    /// Handwriting: strokes of `[x_mm, y_mm, pressure]` points.
    pub strokes: Option<Vec<Vec<Vec<f32>>>>,
}

/// `phone_read_qr`'s argument: the tool window's QR image or a PNG file.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PhoneReadQrRequest {
    /// The `data:image/png;base64,…` URL of the QR image the tool window shows.
    pub data_url: Option<String>,
    /// A PNG file holding the QR code.
    pub path: Option<String>,
}

/// `phone_read_qr`'s answer: the QR text, decoded from the pixels, and what it says
/// before joining.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneQrView {
    /// The QR text (`BK1:…`).
    pub qr_text: String,
    /// Purpose (`login`, `sign` …).
    pub purpose: String,
    /// Suite.
    pub suite: String,
    /// Relay.
    pub relay: String,
    /// PIN tries left of the person certificate (for the prompt).
    pub tries_left: Option<u32>,
    /// PIN tries allowed.
    pub max_tries: Option<u32>,
}

impl PhoneQrView {
    /// The view of a decoded QR code.
    pub fn new(qr_text: String, p: QrPreview, pin: Option<(u32, u32)>) -> Self {
        PhoneQrView {
            qr_text,
            purpose: p.purpose,
            suite: p.suite,
            relay: p.relay,
            tries_left: pin.map(|p| p.0),
            max_tries: pin.map(|p| p.1),
        }
    }
}

/// `phone_scan_start`'s argument: the phone joins with no PIN; the PIN comes with
/// [`PhoneScanConfirm`], after the code and the request are shown.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PhoneScanRequest {
    /// The QR text from `phone_read_qr`.
    pub qr_text: String,
}

/// `phone_scan_confirm`'s argument: the holder's one answer once the code and the
/// request are shown.
#[derive(Debug, Deserialize, TS)]
pub struct PhoneScanConfirm {
    /// The scan (from `phone_scan_start`).
    pub scan: u32,
    /// The phone's code is the one on the tool's screen (`false`: refused with
    /// `code-mismatch`).
    pub matches: bool,
    /// Approve (`false`: refuse; no key is used).
    pub approve: bool,
    /// The certificate PIN to approve with (not needed in continuous mode or to refuse).
    #[ts(type = "string | null")]
    pub pin: Option<SecretPin>,
}

/// A PIN from the UI: read straight into memory that is wiped when dropped; its `Debug`
/// shows `<redacted>`, so it never reaches a log.
pub struct SecretPin(bidkit_app::phone_view::Pin);

impl SecretPin {
    /// The PIN, to hand to the keystore.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Debug for SecretPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for SecretPin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretPin(bidkit_app::phone_view::Pin::new(s)))
    }
}

/// `phone_scan_start`'s answer.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneScanStarted {
    /// The scan's number; its events carry it.
    pub scan: u32,
}

/// The phone's report of a finished scan.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneScanReport {
    /// `approved`, `refused` or `no-answer`.
    pub outcome: String,
    /// Purpose.
    pub purpose: String,
    /// The verification code shown.
    pub verification_code: String,
    /// The request as shown.
    pub request: Vec<String>,
    /// What the phone did.
    pub detail: String,
    /// Certificate used.
    pub certificate_serial: Option<String>,
    /// The tool's final word.
    pub tool_message: Option<String>,
}

impl From<ScanReport> for PhoneScanReport {
    fn from(r: ScanReport) -> Self {
        PhoneScanReport {
            outcome: match r.outcome {
                ScanOutcome::Approved => "approved",
                ScanOutcome::Refused => "refused",
                ScanOutcome::NoAnswer => "no-answer",
            }
            .to_owned(),
            purpose: r.purpose.as_str().to_owned(),
            verification_code: r.verification_code,
            request: r.request,
            detail: r.detail,
            certificate_serial: r.certificate_serial,
            tool_message: r.tool_message,
        }
    }
}

/// What a running scan reports, as the `phone-scan` event's payload.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhoneScanEvent {
    /// Joined: the code to compare with the tool's screen.
    Joined {
        /// The scan.
        scan: u32,
        /// Purpose.
        purpose: String,
        /// Six digits.
        code: String,
    },
    /// The request as shown before the key is used.
    Request {
        /// The scan.
        scan: u32,
        /// One line each.
        summary: Vec<String>,
    },
    /// The code and the full request are shown: waiting for the holder's answer
    /// (`phone_scan_confirm`: codes match + PIN + approve, refuse, or codes differ).
    Confirm {
        /// The scan.
        scan: u32,
    },
    /// Finished.
    Done {
        /// The scan.
        scan: u32,
        /// The report.
        report: PhoneScanReport,
    },
    /// Failed (a wrong PIN, a code mismatch, the tool gone …).
    Failed {
        /// The scan.
        scan: u32,
        /// The error.
        error: IpcError,
        /// PIN tries left afterwards, when known.
        tries_left: Option<u32>,
    },
}

/// `phone_continuous`'s argument: turn continuous mode on (with the PIN) or off.
#[derive(Debug, Deserialize, TS)]
pub struct PhoneContinuousRequest {
    /// On or off.
    pub on: bool,
    /// The PIN, to turn it on.
    #[ts(type = "string | null")]
    pub pin: Option<SecretPin>,
}

/// The TypeScript declarations of this module's IPC types (see [`super::bindings`]).
#[cfg(test)]
pub(crate) fn decls() -> Vec<String> {
    vec![
        PhonePerson::decl(),
        PhoneCert::decl(),
        PhoneSeal::decl(),
        PhoneGrant::decl(),
        PhoneRecord::decl(),
        PhoneOverviewView::decl(),
        PhoneEnrolRequest::decl(),
        PhoneMakeSealRequest::decl(),
        PhoneReadQrRequest::decl(),
        PhoneQrView::decl(),
        PhoneScanRequest::decl(),
        PhoneScanConfirm::decl(),
        PhoneScanStarted::decl(),
        PhoneScanReport::decl(),
        PhoneScanEvent::decl(),
        PhoneContinuousRequest::decl(),
    ]
}
