//! What the verifier reports: one [`SignatureReport`] per signature, the difference
//! analysis of the revisions after it, and a [`DocumentVerdict`] with the exit status
//! scripts rely on. Everything here is serialisable (`bidkit verify --json`) and has a
//! concise English text rendering ([`VerificationReport::to_text`]).

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use bidkit_cms::SignatureCheck;
use serde::Serialize;
use time::OffsetDateTime;

use crate::Rect;

/// The result of verifying one PDF file.
#[derive(Clone, Debug, Serialize)]
pub struct VerificationReport {
    /// The file verified.
    pub file: PathBuf,
    /// Its size in bytes.
    pub file_size: u64,
    /// Every revision, oldest first.
    pub revisions: Vec<RevisionSummary>,
    /// Every signature, in the order of the revisions that added them.
    pub signatures: Vec<SignatureReport>,
    /// Whether the certificate chains were left unchecked (`--integrity-only`).
    pub integrity_only: bool,
    /// The verdict on the whole document.
    pub verdict: DocumentVerdict,
}

/// One revision of the document (one cross-reference section).
#[derive(Clone, Debug, Serialize)]
pub struct RevisionSummary {
    /// 0 for the original document, then one per incremental update.
    pub index: usize,
    /// The document as of this revision is the file's bytes `0..end`.
    pub end: u64,
    /// How many objects this revision's cross-reference section declares.
    pub objects: usize,
    /// The signature fields whose signatures this revision adds.
    pub signatures: Vec<String>,
}

/// The verdict on the whole document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DocumentVerdict {
    /// Every signature is intact (and trusted, unless integrity-only) and nothing but
    /// later signatures and their stamps follows any of them.
    Valid,
    /// The document has no signatures: there is nothing to vouch for it, so this is not
    /// a success (exit status 1).
    NoSignatures,
    /// At least one signature is invalid, untrusted, or followed by changes that are not
    /// signatures.
    NotValid {
        /// One line per problem, naming the signature.
        problems: Vec<String>,
    },
}

/// The verdict on one signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureVerdict {
    /// Intact, covering its whole revision, trusted (or integrity-only), and followed only
    /// by allowed changes.
    Valid,
    /// Broken, manipulated or unreadable: the bytes it covers changed, the signature does
    /// not verify, its byte ranges are wrong, or its dictionary is damaged.
    Invalid {
        /// Why.
        reason: String,
    },
    /// Intact, but the document was changed afterwards in ways that are not later
    /// signatures and their stamps.
    ModifiedAfter {
        /// The disallowed changes, one line each.
        changes: Vec<String>,
    },
    /// Intact and not modified afterwards, but the signer's certificate does not chain to
    /// a trusted root (or is expired, revoked, …).
    Untrusted {
        /// The certificate path problem.
        reason: String,
    },
}

impl SignatureVerdict {
    /// Whether this is [`SignatureVerdict::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, SignatureVerdict::Valid)
    }
}

/// The signer as named by its certificate.
#[derive(Clone, Debug, Serialize)]
pub struct SignerInfo {
    /// Subject name for people.
    pub subject: String,
    /// Serial number (lowercase hex).
    pub serial: String,
    /// Issuer name.
    pub issuer: String,
    /// Suite of the signer's key (`gm` or `nist`).
    pub suite: String,
    /// Start of the certificate's validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of the certificate's validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// The certificate chain of a signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainStatus {
    /// The signer's certificate chains to a trusted root at the validation time.
    Trusted {
        /// The path, leaf first: `subject [serial]`.
        path: Vec<String>,
        /// The validation time.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// It does not (the reason from the path validation).
    Untrusted {
        /// Why.
        reason: String,
    },
    /// Not checked: `--integrity-only`, or the signature could not be read far enough.
    NotChecked,
}

/// One stamp (a widget annotation of the signature field).
#[derive(Clone, Debug, Serialize)]
pub struct StampReport {
    /// The widget's object (`12 0 R`).
    pub widget: String,
    /// 1-based page number (`None`: the widget is on no page of the signed revision).
    pub page: Option<usize>,
    /// `/Rect` in points.
    pub rect_pt: Option<Rect>,
    /// `/Rect` in millimetres.
    pub rect_mm: Option<Rect>,
    /// Whether its appearance draws an image (the seal picture).
    pub image: bool,
}

/// Whether a change made in a later revision is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    /// Part of a later signature operation (its field, widgets, appearances, signature
    /// dictionary; pages, AcroForm and catalog growing only by them).
    Allowed,
    /// Anything else.
    Disallowed,
}

/// What a revision did to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new object.
    Added,
    /// An existing object defined again.
    Redefined,
    /// An existing object freed.
    Deleted,
    /// The trailer (not an object).
    Trailer,
}

/// One object a later revision adds, redefines or deletes.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectChange {
    /// The object (`12 0 R`), or `trailer`.
    pub object: String,
    /// Added, redefined or deleted.
    pub kind: ChangeKind,
    /// Allowed or not.
    pub class: ChangeClass,
    /// What it is (allowed) or what is wrong with it (disallowed).
    pub description: String,
}

/// The changes one revision makes, relative to the revision before it.
#[derive(Clone, Debug, Serialize)]
pub struct RevisionChanges {
    /// The revision.
    pub revision: usize,
    /// Its changes, by object number.
    pub changes: Vec<ObjectChange>,
}

impl RevisionChanges {
    /// The disallowed changes.
    pub fn disallowed(&self) -> impl Iterator<Item = &ObjectChange> {
        self.changes
            .iter()
            .filter(|c| c.class == ChangeClass::Disallowed)
    }
}

/// A signature time-stamp (RFC 3161 token in the signer's unsigned attributes).
#[derive(Clone, Debug, Serialize)]
pub struct TimestampReport {
    /// `genTime`: when the authority saw the signature.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The token's serial number (hex).
    pub serial: String,
    /// The time-stamp authority, as its certificate names it.
    pub authority: String,
}

/// Everything found about one signature.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    /// The field's fully qualified name (`/T`, parents joined with `.`).
    pub field: String,
    /// The field's object (`12 0 R`), if it is an indirect object.
    pub field_object: Option<String>,
    /// The signature dictionary's object, if indirect.
    pub signature_object: Option<String>,
    /// The revision that added the signature.
    pub revision: usize,
    /// The signer, when the CMS container could be read.
    pub signer: Option<SignerInfo>,
    /// `signingTime` from the signed attributes.
    #[serde(with = "time::serde::rfc3339::option")]
    pub signing_time: Option<OffsetDateTime>,
    /// `/M` from the signature dictionary, as written (a claim, not signed).
    pub claimed_time: Option<String>,
    /// What `/Contents` holds: `CMS SignedData` or `SES_Signature (GB/T 38540)`.
    pub container: Option<String>,
    /// The RFC 3161 signature time-stamp, when the signature carries one (its token
    /// verified against the signature value; a bad token makes the signature invalid).
    pub timestamp: Option<TimestampReport>,
    /// `/Name` from the signature dictionary.
    pub name: Option<String>,
    /// Signature algorithm (`SM2-with-SM3`, `ECDSA-P256-with-SHA256`).
    pub algorithm: Option<String>,
    /// Digest algorithm (`SM3`, `SHA-256`).
    pub digest_algorithm: Option<String>,
    /// `/SubFilter`.
    pub sub_filter: Option<String>,
    /// `/ByteRange` as written (may be hostile: negative, overlapping…).
    pub byte_range: Option<Vec<i64>>,
    /// The ranges start at 0, the gap is exactly the `/Contents` hex string, and they end
    /// where the signature's revision ends.
    pub covers_whole_revision: bool,
    /// The ranges end where the file ends (the last signature of an untouched file).
    pub covers_whole_file: bool,
    /// Cryptographic integrity (`None`: not reached, see the verdict).
    pub integrity: Option<SignatureCheck>,
    /// Certificate chain.
    pub chain: ChainStatus,
    /// The stamps the signature covers.
    pub stamps: Vec<StampReport>,
    /// Every later revision and what it changed.
    pub changes_after: Vec<RevisionChanges>,
    /// The verdict.
    pub verdict: SignatureVerdict,
}

impl VerificationReport {
    /// Exit status for scripts: 0 when [`DocumentVerdict::Valid`], 1 otherwise (an
    /// invalid, untrusted or modified signature, or no signature at all). A file that
    /// cannot be read at all gives no report; the CLI exits with 2 then.
    pub fn exit_code(&self) -> i32 {
        match self.verdict {
            DocumentVerdict::Valid => 0,
            DocumentVerdict::NoSignatures | DocumentVerdict::NotValid { .. } => 1,
        }
    }

    /// A concise human summary (what `bidkit verify` prints without `--json`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} byte(s), {} revision(s), {} signature(s){}",
            self.file.display(),
            self.file_size,
            self.revisions.len(),
            self.signatures.len(),
            if self.integrity_only {
                " (integrity only: certificate chains not checked)"
            } else {
                ""
            }
        );
        for (i, s) in self.signatures.iter().enumerate() {
            let _ = writeln!(out);
            write_signature(&mut out, i + 1, s);
        }
        let _ = writeln!(out);
        match &self.verdict {
            DocumentVerdict::Valid => {
                let _ = writeln!(
                    out,
                    "Verdict: VALID — every signature is intact{} and nothing but later signatures follows it",
                    if self.integrity_only {
                        ""
                    } else {
                        " and trusted"
                    }
                );
            }
            DocumentVerdict::NoSignatures => {
                let _ = writeln!(out, "Verdict: NO SIGNATURES — the document is not signed");
            }
            DocumentVerdict::NotValid { problems } => {
                let _ = writeln!(out, "Verdict: NOT VALID");
                for p in problems {
                    let _ = writeln!(out, "  - {p}");
                }
            }
        }
        out
    }
}

fn write_signature(out: &mut String, n: usize, s: &SignatureReport) {
    let verdict = match &s.verdict {
        SignatureVerdict::Valid => "VALID".to_owned(),
        SignatureVerdict::Invalid { reason } => format!("INVALID: {reason}"),
        SignatureVerdict::ModifiedAfter { changes } => format!(
            "MODIFIED AFTER SIGNING ({} disallowed change(s))",
            changes.len()
        ),
        SignatureVerdict::Untrusted { reason } => format!("UNTRUSTED: {reason}"),
    };
    let _ = writeln!(
        out,
        "Signature {n}: field {:?} (revision {}) — {verdict}",
        s.field, s.revision
    );
    if let Some(signer) = &s.signer {
        let _ = writeln!(
            out,
            "  Signer:      {} [serial {}, {}]",
            signer.subject, signer.serial, signer.suite
        );
        let _ = writeln!(out, "  Issuer:      {}", signer.issuer);
    }
    if let Some(t) = s.signing_time {
        let _ = writeln!(out, "  Signed at:   {}", bidkit_pki::fmt_time(t));
    } else if let Some(m) = &s.claimed_time {
        let _ = writeln!(out, "  Signed at:   {m} (claimed in /M, not signed)");
    }
    if let Some(c) = &s.container {
        let _ = writeln!(out, "  Container:   {c}");
    }
    if let Some(ts) = &s.timestamp {
        let _ = writeln!(
            out,
            "  Time-stamp:  {} by {} [serial {}]",
            bidkit_pki::fmt_time(ts.time),
            ts.authority,
            ts.serial
        );
    }
    if let Some(a) = &s.algorithm {
        let _ = writeln!(
            out,
            "  Algorithm:   {a}{}",
            s.sub_filter
                .as_ref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        );
    } else if let Some(f) = &s.sub_filter {
        let _ = writeln!(out, "  SubFilter:   {f}");
    }
    if let Some(br) = &s.byte_range {
        let _ = writeln!(
            out,
            "  Byte range:  {:?} — {}",
            br,
            if s.covers_whole_file {
                "covers the whole file"
            } else if s.covers_whole_revision {
                "covers its whole revision"
            } else {
                "does NOT cover its whole revision"
            }
        );
    }
    if let Some(check) = &s.integrity {
        let _ = writeln!(
            out,
            "  Integrity:   digest {}, signature {}, signing-certificate attribute {}",
            if check.digest_matches {
                "matches"
            } else {
                "DOES NOT MATCH"
            },
            if check.signature_valid {
                "valid"
            } else {
                "INVALID"
            },
            match check.signing_certificate_matches {
                Some(true) => "matches",
                Some(false) => "DOES NOT MATCH",
                None => "absent",
            }
        );
    }
    match &s.chain {
        ChainStatus::Trusted { path, at } => {
            let _ = writeln!(
                out,
                "  Chain:       trusted at {}: {}",
                bidkit_pki::fmt_time(*at),
                path.join(" ← ")
            );
        }
        ChainStatus::Untrusted { reason } => {
            let _ = writeln!(out, "  Chain:       NOT TRUSTED: {reason}");
        }
        ChainStatus::NotChecked => {
            let _ = writeln!(out, "  Chain:       not checked");
        }
    }
    for stamp in &s.stamps {
        let page = stamp
            .page
            .map(|p| format!("page {p}"))
            .unwrap_or_else(|| "no page".into());
        let rect = match (stamp.rect_pt, stamp.rect_mm) {
            (Some(pt), Some(mm)) => format!(
                " at [{:.1} {:.1} {:.1} {:.1}] pt ({:.1}×{:.1} mm)",
                pt.x0,
                pt.y0,
                pt.x1,
                pt.y1,
                mm.width(),
                mm.height()
            ),
            _ => " (no /Rect)".into(),
        };
        let _ = writeln!(
            out,
            "  Stamp:       {page}{rect}{}",
            if stamp.image { ", seal image" } else { "" }
        );
    }
    for rev in &s.changes_after {
        let disallowed: Vec<&ObjectChange> = rev.disallowed().collect();
        if disallowed.is_empty() {
            let _ = writeln!(
                out,
                "  Revision {}: {} change(s), all allowed (later signatures and their stamps)",
                rev.revision,
                rev.changes.len()
            );
        } else {
            let _ = writeln!(
                out,
                "  Revision {}: {} disallowed change(s):",
                rev.revision,
                disallowed.len()
            );
            for c in disallowed {
                let _ = writeln!(out, "    - {}: {}", c.object, c.description);
            }
        }
    }
}

impl fmt::Display for VerificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
