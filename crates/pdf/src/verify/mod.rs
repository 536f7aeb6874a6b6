//! The verifier: for each signature of a PDF, who signed, with what, when, whether the
//! byte ranges cover the whole revision, whether the CMS container verifies against the
//! (streamed) digest of those ranges, whether the certificate chains to a trusted root,
//! which stamps it covers, and what later revisions changed (a difference analysis, see
//! below).
//!
//! A broken or manipulated signature is a verdict in the [`VerificationReport`], never an
//! error: [`verify_file`] fails only when the file cannot be read as a PDF at all (the
//! CLI's exit status 2). [`VerificationReport::exit_code`] gives 0 only when every
//! signature is [`SignatureVerdict::Valid`]; a document without signatures gives
//! [`DocumentVerdict::NoSignatures`] and 1 (nothing vouches for it).
//!
//! # Verdict of one signature
//!
//! In order of precedence:
//! 1. [`SignatureVerdict::Invalid`]: the signature dictionary is damaged (no or a
//!    malformed `/ByteRange`, `/Contents` missing, not a hex string, or too large, an
//!    unsupported `/SubFilter`), the byte ranges do not cover the whole revision (they
//!    must start at 0, leave out exactly the `/Contents` hex string and end where the
//!    revision that added the signature ends), the container cannot be read, or the
//!    digest, the signature or the signing-certificate attribute do not match.
//! 2. [`SignatureVerdict::ModifiedAfter`]: a later revision makes a disallowed change.
//! 3. [`SignatureVerdict::Untrusted`]: the certificate path does not validate (not
//!    checked with [`TrustChoice::IntegrityOnly`]).
//! 4. [`SignatureVerdict::Valid`].
//!
//! The certificate path is validated at [`VerifyOptions::at`], or else at the signing
//! time in the signed attributes, or else now.
//!
//! # Difference analysis
//!
//! Each revision after the first is compared with the one before it, object by object
//! (only the objects its own cross-reference section declares: the lazy reader never
//! loads the whole document). Changes are allowed only when they belong to a later
//! signature operation; see the rules in the `diff` module documentation, reproduced in
//! short: new signature fields with their signature dictionaries, widgets and appearance
//! objects; pages whose only change is `/Annots` growing by those widgets (or such an
//! `/Annots` array); an AcroForm whose `/Fields` only grew by those fields (`/SigFlags`,
//! `/DA`, `/DR` may change); a catalog whose only change is `/AcroForm`. Everything else
//! — a replaced content stream, a redefined object, a deleted object, a new object nobody
//! signed for, a different `/Root` — is disallowed and named.

mod diff;
mod objects;
mod report;
mod signature;

use std::path::{Path, PathBuf};

use bidkit_pki::{Certificate, Crl, TrustStore};
use time::OffsetDateTime;

pub use report::{
    ChainStatus, ChangeClass, ChangeKind, DocumentVerdict, ObjectChange, RevisionChanges,
    RevisionSummary, SignatureReport, SignatureVerdict, SignerInfo, StampReport, TimestampReport,
    VerificationReport,
};

use crate::{Limits, PdfError, PdfFile, Result};

/// Which certificates to trust.
#[derive(Clone, Debug)]
pub enum TrustChoice {
    /// Validate each signer's certificate path against these roots (and their CRLs).
    /// An empty store trusts nothing: every signature is then untrusted.
    Roots(TrustStore),
    /// Judge integrity and later changes only; leave the certificate chains unchecked
    /// (`--integrity-only`, for documents signed under other CAs).
    IntegrityOnly,
}

impl TrustChoice {
    /// Trust the emulated roots of a Bidkit home (`HOME/ca/gm/root.pem` and
    /// `HOME/ca/nist/root.pem` with their CRLs, whichever exist; read only) and every
    /// certificate in the PEM files `extra_roots` (`--trust`).
    ///
    /// Fails when a PEM file cannot be read or holds something other than self-signed
    /// CA certificates, or when no root at all was found.
    pub fn from_home_and_pems(home: Option<&Path>, extra_roots: &[PathBuf]) -> Result<TrustChoice> {
        let mut store = TrustStore::new();
        let mut found = 0usize;
        if let Some(home) = home {
            for suite in ["gm", "nist"] {
                let dir = home.join("ca").join(suite);
                let root_path = dir.join("root.pem");
                if !root_path.is_file() {
                    continue;
                }
                let pem = read_text(&root_path)?;
                let root = Certificate::from_pem(&pem).map_err(|e| trust_error(&root_path, e))?;
                store
                    .add_root(root)
                    .map_err(|e| trust_error(&root_path, e))?;
                found += 1;
                let crl_path = dir.join("crl.pem");
                if crl_path.is_file() {
                    let pem = read_text(&crl_path)?;
                    let crl = Crl::from_pem(&pem).map_err(|e| trust_error(&crl_path, e))?;
                    store.add_crl(crl);
                }
            }
        }
        for path in extra_roots {
            let pem = read_text(path)?;
            let certs = Certificate::all_from_pem(&pem).map_err(|e| trust_error(path, e))?;
            if certs.is_empty() {
                return Err(PdfError::InvalidOption {
                    option: "--trust",
                    reason: format!("{}: no certificate found", path.display()),
                });
            }
            for c in certs {
                store.add_root(c).map_err(|e| trust_error(path, e))?;
                found += 1;
            }
        }
        if found == 0 {
            return Err(PdfError::InvalidOption {
                option: "--trust",
                reason: match home {
                    Some(h) => format!(
                        "no trust root: {} holds no emulated CA and no --trust PEM was given \
                         (use --integrity-only to check the signatures without their chains)",
                        h.join("ca").display()
                    ),
                    None => "no trust root given".into(),
                },
            });
        }
        Ok(TrustChoice::Roots(store))
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| PdfError::io(format!("reading trust root {}", path.display()), e))
}

fn trust_error(path: &Path, e: impl std::fmt::Display) -> PdfError {
    PdfError::InvalidOption {
        option: "--trust",
        reason: format!("{}: {e}", path.display()),
    }
}

/// How to verify.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Which certificates to trust (or none: integrity only).
    pub trust: TrustChoice,
    /// The time to validate certificate paths at (default: each signature's signing
    /// time, or now when it has none).
    pub at: Option<OffsetDateTime>,
    /// Reading limits.
    pub limits: Limits,
}

impl VerifyOptions {
    /// Options trusting `trust`, validation time from each signature, default limits.
    pub fn new(trust: TrustChoice) -> Self {
        VerifyOptions {
            trust,
            at: None,
            limits: Limits::DEFAULT,
        }
    }

    /// Integrity and difference analysis only (`--integrity-only`).
    pub fn integrity_only() -> Self {
        Self::new(TrustChoice::IntegrityOnly)
    }
}

/// Verify every signature of the PDF at `path`. Fails only when the file cannot be read
/// as a PDF at all (missing, not a PDF, truncated beyond its cross-reference data,
/// encrypted); every problem with a signature or with later changes is a verdict in the
/// report.
pub fn verify_file(path: &Path, options: &VerifyOptions) -> Result<VerificationReport> {
    let file = PdfFile::open(path, options.limits).map_err(|e| e.in_file(path))?;
    Ok(verify(&file, options))
}

/// Verify an open file (see [`verify_file`]).
pub fn verify(file: &PdfFile, options: &VerifyOptions) -> VerificationReport {
    let revisions = file.revisions();
    let pages: Vec<Option<Vec<crate::PageInfo>>> = (0..revisions.len())
        .map(|r| file.pages_at(r).ok())
        .collect();
    let changes: Vec<RevisionChanges> = (1..revisions.len())
        .map(|s| diff::analyse(file, s, &pages))
        .collect();
    let found = signature::find_signatures(file);

    let mut signatures = Vec::new();
    for f in &found {
        let checked = signature::check(file, f, options);
        let empty = Vec::new();
        let rev_pages = pages
            .get(f.revision)
            .and_then(Option::as_ref)
            .unwrap_or(&empty);
        let stamps = signature::stamps(file, f.revision, f, rev_pages);
        let changes_after: Vec<RevisionChanges> = changes
            .iter()
            .filter(|c| c.revision > f.revision)
            .cloned()
            .collect();
        let disallowed: Vec<String> = changes_after
            .iter()
            .flat_map(|c| {
                c.disallowed().map(move |d| {
                    format!("revision {}: {}: {}", c.revision, d.object, d.description)
                })
            })
            .collect();
        let chain = checked.chain.clone().unwrap_or(ChainStatus::NotChecked);
        let verdict = if let Some(reason) = &checked.invalid {
            SignatureVerdict::Invalid {
                reason: reason.clone(),
            }
        } else if !disallowed.is_empty() {
            SignatureVerdict::ModifiedAfter {
                changes: disallowed,
            }
        } else if let ChainStatus::Untrusted { reason } = &chain {
            SignatureVerdict::Untrusted {
                reason: reason.clone(),
            }
        } else {
            SignatureVerdict::Valid
        };
        signatures.push(SignatureReport {
            field: f.name.clone(),
            field_object: Some(objects::id_str(f.field_id)),
            signature_object: f.sig_id.map(objects::id_str),
            revision: f.revision,
            signer: checked.signer,
            signing_time: checked.signing_time,
            claimed_time: checked.claimed_time,
            timestamp: checked.timestamp,
            container: checked.container,
            name: checked.name,
            algorithm: checked.algorithm,
            digest_algorithm: checked.digest_algorithm,
            sub_filter: checked.sub_filter,
            byte_range: checked.byte_range,
            covers_whole_revision: checked.covers_whole_revision,
            covers_whole_file: checked.covers_whole_file,
            integrity: checked.integrity,
            chain,
            stamps,
            changes_after,
            verdict,
        });
    }

    let verdict = if signatures.is_empty() {
        DocumentVerdict::NoSignatures
    } else {
        let problems: Vec<String> = signatures
            .iter()
            .filter_map(|s| {
                let what = match &s.verdict {
                    SignatureVerdict::Valid => return None,
                    SignatureVerdict::Invalid { reason } => format!("invalid: {reason}"),
                    SignatureVerdict::ModifiedAfter { changes } => format!(
                        "the document was modified after it was signed: {}",
                        changes.join("; ")
                    ),
                    SignatureVerdict::Untrusted { reason } => format!("not trusted: {reason}"),
                };
                Some(format!("signature {:?}: {what}", s.field))
            })
            .collect();
        if problems.is_empty() {
            DocumentVerdict::Valid
        } else {
            DocumentVerdict::NotValid { problems }
        }
    };

    let revision_summaries = revisions
        .iter()
        .map(|r| RevisionSummary {
            index: r.index,
            end: r.end,
            objects: r.entries.len(),
            signatures: signatures
                .iter()
                .filter(|s| s.revision == r.index)
                .map(|s| s.field.clone())
                .collect(),
        })
        .collect();

    VerificationReport {
        file: file.path().to_path_buf(),
        file_size: file.len(),
        revisions: revision_summaries,
        signatures,
        integrity_only: matches!(options.trust, TrustChoice::IntegrityOnly),
        verdict,
    }
}
