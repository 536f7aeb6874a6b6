//! The IPC contract: every type a command takes or returns, as the UI sees it.
//!
//! These are the shapes on the wire, not the domain types: each is converted from what
//! `bidkit-app` returns (enums flattened into a `status` the UI can branch on plus the
//! human details, times as RFC 3339 strings, page images as `data:` URLs). TypeScript
//! declarations of all of them are generated with ts-rs into `ui/bindings.d.ts`
//! ([`bindings`]); the test `bindings_are_up_to_date` fails when the checked-in file
//! differs, so the UI's types never drift from the Rust ones.

pub mod bid;
pub mod files;
pub mod opening;
pub mod phone;
pub mod records;
pub mod seal;

use base64::Engine as _;
use bidkit_app::login::LoginIdentity;
use bidkit_app::login_view::LoginProgress;
use bidkit_app::verify_view::{PageView, StampBox, VerifyView};
use bidkit_pdf::verify::{
    ChainStatus, ChangeClass, ChangeKind, DocumentVerdict, SignatureReport, SignatureVerdict,
};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use ts_rs::TS;

/// `app_info`'s answer: the version and the emulated phone's status.
#[derive(Clone, Debug, Serialize, TS)]
pub struct AppInfoView {
    /// Bidkit's version (`0.1.0`).
    pub version: String,
    /// The data directory in use.
    pub home: String,
    /// The default emulated phone.
    pub phone: PhoneView,
}

/// A short summary of the emulated phone.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PhoneView {
    /// Whether an account is enrolled on the phone.
    pub enrolled: bool,
    /// The enrolled person's name.
    pub person: Option<String>,
    /// The first organisation the person belongs to.
    pub organisation: Option<String>,
    /// Certificates installed on the phone.
    pub certificates: u32,
    /// Whether any certificate's PIN is locked.
    pub pin_locked: bool,
    /// Why the phone could not be read, if it could not.
    pub error: Option<String>,
}

impl From<bidkit_app::AppInfo> for AppInfoView {
    fn from(info: bidkit_app::AppInfo) -> Self {
        let p = info.phone;
        AppInfoView {
            version: info.version,
            home: info.home,
            phone: PhoneView {
                enrolled: p.enrolled,
                person: p.person,
                organisation: p.organisation,
                certificates: u32::try_from(p.certificates).unwrap_or(u32::MAX),
                pin_locked: p.pin_locked,
                error: p.error,
            },
        }
    }
}

/// `verify_pdf`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct VerifyRequest {
    /// The PDF to verify (read only), an absolute path.
    pub path: String,
}

/// The verdict on the whole document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// Every signature valid, nothing but later signatures after any of them.
    Valid,
    /// The document has no signature.
    NoSignatures,
    /// At least one signature is invalid, untrusted, or followed by other changes.
    NotValid,
}

/// The verdict on one signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// Intact, whole revision covered, trusted, only allowed changes after it.
    Valid,
    /// Broken or manipulated: the covered bytes changed or the signature does not verify.
    Invalid,
    /// Intact, but the document was changed afterwards in disallowed ways.
    ModifiedAfter,
    /// Intact, but the certificate does not chain to a trusted root.
    Untrusted,
}

/// The certificate chain's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChainState {
    /// Chains to a trusted root.
    Trusted,
    /// Does not.
    Untrusted,
    /// Not checked.
    NotChecked,
}

/// `verify_pdf`'s answer: the verifier's report and the rendered pages.
#[derive(Clone, Debug, Serialize, TS)]
pub struct VerifyResult {
    /// The file verified.
    pub file: String,
    /// Its size, bytes.
    pub file_size: f64,
    /// Revisions in the file (1 for a document never updated).
    pub revisions: u32,
    /// The document verdict.
    pub status: DocumentStatus,
    /// One line per problem (empty when valid).
    pub problems: Vec<String>,
    /// Whether the data directory held an emulated root to validate chains against.
    pub has_trust_roots: bool,
    /// Every signature, oldest first.
    pub signatures: Vec<SignatureView>,
    /// Pages in the document.
    pub page_count: u32,
    /// The first pages, rendered, with the stamps located on them.
    pub pages: Vec<PageImage>,
    /// Why no page could be rendered (the report is still complete).
    pub render_error: Option<String>,
}

/// One signature of the report.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SignatureView {
    /// The signature field's name.
    pub field: String,
    /// The revision that added it (0 = the original document).
    pub revision: u32,
    /// The signer's certificate subject.
    pub signer: Option<String>,
    /// Its serial number (hex).
    pub serial: Option<String>,
    /// Its issuer.
    pub issuer: Option<String>,
    /// The signing time claimed in the signature (RFC 3339), else the `/M` date as written.
    pub signing_time: Option<String>,
    /// The time-stamp's time (RFC 3339), when the signature carries one.
    pub timestamp_time: Option<String>,
    /// Signature algorithm (`SM2-with-SM3`, `ECDSA-with-SHA256` …).
    pub algorithm: Option<String>,
    /// Digest algorithm.
    pub digest_algorithm: Option<String>,
    /// `/SubFilter`.
    pub sub_filter: Option<String>,
    /// The byte ranges cover the whole revision that added the signature.
    pub covers_whole_revision: bool,
    /// The byte ranges reach the end of the file.
    pub covers_whole_file: bool,
    /// The chain's state.
    pub chain: ChainState,
    /// Why the chain is untrusted, or the path when trusted (leaf first).
    pub chain_detail: Vec<String>,
    /// The verdict.
    pub status: SignatureStatus,
    /// Why it is not valid (empty when valid).
    pub details: Vec<String>,
    /// Its stamps.
    pub stamps: Vec<StampView>,
    /// The changes of every later revision.
    pub changes_after: Vec<ChangeView>,
}

/// One stamp of a signature.
#[derive(Clone, Debug, Serialize, TS)]
pub struct StampView {
    /// 1-based page (`null`: on no page).
    pub page: Option<u32>,
    /// The box in millimetres from the page's lower-left corner: `[x0, y0, x1, y1]`.
    pub rect_mm: Option<Vec<f64>>,
    /// Whether it draws an image (the seal picture).
    pub image: bool,
}

/// One object a later revision adds, redefines or deletes.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ChangeView {
    /// The revision.
    pub revision: u32,
    /// The object (`12 0 R`, or `trailer`).
    pub object: String,
    /// `added`, `redefined`, `deleted` or `trailer`.
    pub kind: String,
    /// Whether it belongs to a later signature (allowed).
    pub allowed: bool,
    /// What it is.
    pub description: String,
}

/// One rendered page.
#[derive(Clone, Debug, Serialize, TS)]
pub struct PageImage {
    /// 1-based page number.
    pub page: u32,
    /// The page as a `data:image/png;base64,…` URL.
    pub image: String,
    /// The stamps on it.
    pub stamps: Vec<StampBoxView>,
}

/// Where a stamp sits on a rendered page, in fractions (0..1) from the top-left.
#[derive(Clone, Copy, Debug, Serialize, TS)]
pub struct StampBoxView {
    /// Index in [`VerifyResult::signatures`].
    pub signature: u32,
    /// Index in that signature's `stamps`.
    pub stamp: u32,
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

fn n(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn rfc3339(t: time::OffsetDateTime) -> Option<String> {
    t.format(&Rfc3339).ok()
}

impl From<VerifyView> for VerifyResult {
    fn from(view: VerifyView) -> Self {
        let r = view.report;
        let (status, problems) = match r.verdict {
            DocumentVerdict::Valid => (DocumentStatus::Valid, Vec::new()),
            DocumentVerdict::NoSignatures => (DocumentStatus::NoSignatures, Vec::new()),
            DocumentVerdict::NotValid { problems } => (DocumentStatus::NotValid, problems),
        };
        VerifyResult {
            file: r.file.display().to_string(),
            file_size: r.file_size as f64,
            revisions: n(r.revisions.len()),
            status,
            problems,
            has_trust_roots: view.has_trust_roots,
            signatures: r.signatures.into_iter().map(SignatureView::from).collect(),
            page_count: n(view.page_count),
            pages: view.pages.into_iter().map(PageImage::from).collect(),
            render_error: view.render_error,
        }
    }
}

impl From<SignatureReport> for SignatureView {
    fn from(s: SignatureReport) -> Self {
        let (status, details) = match s.verdict {
            SignatureVerdict::Valid => (SignatureStatus::Valid, Vec::new()),
            SignatureVerdict::Invalid { reason } => (SignatureStatus::Invalid, vec![reason]),
            SignatureVerdict::ModifiedAfter { changes } => {
                (SignatureStatus::ModifiedAfter, changes)
            }
            SignatureVerdict::Untrusted { reason } => (SignatureStatus::Untrusted, vec![reason]),
        };
        let (chain, chain_detail) = match s.chain {
            ChainStatus::Trusted { path, .. } => (ChainState::Trusted, path),
            ChainStatus::Untrusted { reason } => (ChainState::Untrusted, vec![reason]),
            ChainStatus::NotChecked => (ChainState::NotChecked, Vec::new()),
        };
        let changes_after = s
            .changes_after
            .iter()
            .flat_map(|rc| {
                rc.changes.iter().map(move |c| ChangeView {
                    revision: n(rc.revision),
                    object: c.object.clone(),
                    kind: match c.kind {
                        ChangeKind::Added => "added",
                        ChangeKind::Redefined => "redefined",
                        ChangeKind::Deleted => "deleted",
                        ChangeKind::Trailer => "trailer",
                    }
                    .to_owned(),
                    allowed: c.class == ChangeClass::Allowed,
                    description: c.description.clone(),
                })
            })
            .collect();
        SignatureView {
            field: s.field,
            revision: n(s.revision),
            signer: s.signer.as_ref().map(|i| i.subject.clone()),
            serial: s.signer.as_ref().map(|i| i.serial.clone()),
            issuer: s.signer.as_ref().map(|i| i.issuer.clone()),
            signing_time: s.signing_time.and_then(rfc3339).or(s.claimed_time),
            timestamp_time: s.timestamp.and_then(|t| rfc3339(t.time)),
            algorithm: s.algorithm,
            digest_algorithm: s.digest_algorithm,
            sub_filter: s.sub_filter,
            covers_whole_revision: s.covers_whole_revision,
            covers_whole_file: s.covers_whole_file,
            chain,
            chain_detail,
            status,
            details,
            stamps: s
                .stamps
                .into_iter()
                .map(|t| StampView {
                    page: t.page.map(n),
                    rect_mm: t.rect_mm.map(|r| vec![r.x0, r.y0, r.x1, r.y1]),
                    image: t.image,
                })
                .collect(),
            changes_after,
        }
    }
}

impl From<PageView> for PageImage {
    fn from(p: PageView) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&p.png);
        PageImage {
            page: n(p.page),
            image: format!("data:image/png;base64,{b64}"),
            stamps: p.stamps.into_iter().map(StampBoxView::from).collect(),
        }
    }
}

impl From<StampBox> for StampBoxView {
    fn from(b: StampBox) -> Self {
        StampBoxView {
            signature: n(b.signature),
            stamp: n(b.stamp),
            left: b.left,
            top: b.top,
            width: b.width,
            height: b.height,
        }
    }
}

/// The name of the event a running login emits ([`LoginEvent`]).
pub const LOGIN_EVENT: &str = "login-progress";

/// What a running login reports, as the `login-progress` event's payload. Every event
/// carries the `login` number [`LoginStarted`] returned, so a screen ignores the events of
/// a login it already left.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoginEvent {
    /// A new QR frame: show it instead of the previous one.
    Qr {
        /// The login.
        login: u32,
        /// The QR code as a `data:image/png;base64,…` URL.
        image: String,
        /// Milliseconds between frames.
        step_ms: u32,
        /// When the code stops working, Unix time in milliseconds.
        expires_at_ms: f64,
    },
    /// The relay turned a phone away.
    Rejected {
        /// The login.
        login: u32,
        /// The relay's code (`qr-stale`, `already-joined` …).
        code: String,
        /// Phones turned away so far.
        total: u32,
    },
    /// A phone joined: show the verification code.
    Joined {
        /// The login.
        login: u32,
        /// The six digits the holder compares with the phone.
        code: String,
    },
    /// Logged in: the verified identity.
    Done {
        /// The login.
        login: u32,
        /// Who logged in.
        identity: IdentityView,
    },
    /// The login failed (refused, expired, invalid proof …).
    Failed {
        /// The login.
        login: u32,
        /// Why.
        error: crate::error::IpcError,
    },
}

/// `login_start`'s answer.
#[derive(Clone, Copy, Debug, Serialize, TS)]
pub struct LoginStarted {
    /// The login's number, carried by its events.
    pub login: u32,
}

/// The identity a login proved.
#[derive(Clone, Debug, Serialize, TS)]
pub struct IdentityView {
    /// The person's name, for a personal certificate.
    pub person: Option<String>,
    /// The person's ID number.
    pub id_number: Option<String>,
    /// The organisation's name, for an organisation certificate.
    pub organisation: Option<String>,
    /// Its unified social credit code.
    pub uscc: Option<String>,
    /// The certificate's subject.
    pub subject: String,
    /// Its serial number (hex).
    pub certificate_serial: String,
    /// Its issuer.
    pub issuer: String,
    /// End of its validity.
    pub certificate_not_after: String,
    /// The suite (`gm`, `nist`).
    pub suite: String,
    /// The verification code both screens showed.
    pub verification_code: String,
}

impl From<LoginIdentity> for IdentityView {
    fn from(id: LoginIdentity) -> Self {
        IdentityView {
            person: id.person.as_ref().map(|p| p.name.clone()),
            id_number: id.person.map(|p| p.id_number),
            organisation: id.organisation.as_ref().map(|o| o.name.clone()),
            uscc: id.organisation.map(|o| o.uscc),
            subject: id.subject,
            certificate_serial: id.certificate_serial,
            issuer: id.issuer,
            certificate_not_after: id.certificate_not_after,
            suite: id.suite.as_str().to_owned(),
            verification_code: id.verification_code,
        }
    }
}

impl LoginEvent {
    /// The event for one step of login number `login`.
    pub fn progress(login: u32, p: LoginProgress) -> Self {
        match p {
            LoginProgress::Qr {
                png,
                step,
                expires_at_ms,
                ..
            } => LoginEvent::Qr {
                login,
                image: format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(&png)
                ),
                step_ms: u32::try_from(step.as_millis()).unwrap_or(u32::MAX),
                expires_at_ms: expires_at_ms as f64,
            },
            LoginProgress::Rejected { code, total, .. } => {
                LoginEvent::Rejected { login, code, total }
            }
            LoginProgress::Joined { code } => LoginEvent::Joined { login, code },
        }
    }
}

/// The TypeScript declarations of every IPC type, as checked in at `ui/bindings.d.ts`.
#[cfg(test)]
pub(crate) fn bindings() -> String {
    let decls = [
        crate::error::IpcError::decl(),
        AppInfoView::decl(),
        PhoneView::decl(),
        VerifyRequest::decl(),
        DocumentStatus::decl(),
        SignatureStatus::decl(),
        ChainState::decl(),
        VerifyResult::decl(),
        SignatureView::decl(),
        StampView::decl(),
        ChangeView::decl(),
        PageImage::decl(),
        StampBoxView::decl(),
        LoginStarted::decl(),
        LoginEvent::decl(),
        IdentityView::decl(),
    ]
    .into_iter()
    .chain(seal::decls())
    .chain(bid::decls())
    .chain(opening::decls())
    .chain(phone::decls())
    .chain(records::decls())
    .chain(files::decls());
    let mut out = String::from(
        "// Generated from src-tauri/src/ipc.rs (and ipc/*.rs) by ts-rs: do not edit by hand.\n\
         // Regenerate: BIDKIT_UPDATE_BINDINGS=1 cargo test -p bidkit-desktop bindings\n\
         // (the test `bindings_are_up_to_date` fails when this file is stale).\n",
    );
    for decl in decls {
        out.push('\n');
        out.push_str("export ");
        out.push_str(decl.trim());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Fails when `ui/bindings.d.ts` differs from what the Rust types generate;
    /// `BIDKIT_UPDATE_BINDINGS=1` rewrites it instead.
    #[test]
    fn bindings_are_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/bindings.d.ts");
        let want = bindings();
        if std::env::var("BIDKIT_UPDATE_BINDINGS").as_deref() == Ok("1") {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale: run BIDKIT_UPDATE_BINDINGS=1 cargo test -p bidkit-desktop bindings",
            path.display()
        );
    }

    #[test]
    fn statuses_serialise_as_snake_case() {
        assert_eq!(
            serde_json::to_value(SignatureStatus::ModifiedAfter).unwrap(),
            "modified_after"
        );
        assert_eq!(
            serde_json::to_value(DocumentStatus::NoSignatures).unwrap(),
            "no_signatures"
        );
        assert!(bindings().contains("export type VerifyResult = {"));
    }

    #[test]
    fn login_events_are_tagged_by_kind() {
        let e = LoginEvent::progress(
            7,
            LoginProgress::Joined {
                code: "123456".into(),
            },
        );
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            serde_json::json!({"kind": "joined", "login": 7, "code": "123456"})
        );
        let e = LoginEvent::progress(
            7,
            LoginProgress::Qr {
                text: "BK1:X".into(),
                png: vec![1, 2, 3],
                step: std::time::Duration::from_secs(10),
                expires_at_ms: 1_700_000_000_000,
            },
        );
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["kind"], "qr");
        assert_eq!(v["image"], "data:image/png;base64,AQID");
        assert_eq!(v["step_ms"], 10_000);
        assert_eq!(v["expires_at_ms"], 1_700_000_000_000.0);
        let failed = LoginEvent::Failed {
            login: 7,
            error: crate::error::IpcError::new("no-phone", "expired"),
        };
        assert_eq!(
            serde_json::to_value(failed).unwrap()["error"],
            serde_json::json!({"code": "no-phone", "message": "expired"})
        );
    }
}
