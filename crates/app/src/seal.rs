//! Seal PDF documents with the phone (签章), and revoke a seal (撤章).
//!
//! Sealing: check the request (the seal, its picture, where the stamps go in every
//! document) before any QR code is shown; open a sign session; ask the phone which
//! certificate will sign for the seal; prepare every document for that certificate
//! (stamps, placeholder, digest, CMS signed attributes); send them in one sign request
//! (one approval, one PIN); verify every signature against the prepared bytes and the
//! chain against the trust roots; embed them and rename the outputs into place.
//! Nothing is written at an output path unless its signature verified.
//!
//! Revoking: find the document's newest sealing operation, ask the phone to approve a
//! statement naming the document (its hash), the seal and the reason, verify the
//! approval, then write the document as it was before that operation.

use std::path::{Path, PathBuf};

use bidkit_crypto::hash::HashAlgorithm;
use bidkit_keystore::{SealStatus, Service};
use bidkit_pdf::picture::SealPicture;
use bidkit_pdf::placement::{PlacedStamp, Placement};
use bidkit_pdf::revoke::{LastOperation, last_operation, revoke_last, signature_fields};
use bidkit_pdf::sign::{
    PreparedSeal, SEAL_NAME_KEY, SealJob, SealOutcome, SubFilter, plan, prepare,
};
use bidkit_pdf::{Limits, PdfError, PdfFile};
use bidkit_protocol::message::{
    DocumentInfo, PlacementMode, RevokeSealRequest, SealPlacement, SignItem,
};
use serde::Serialize;

use crate::AppError;
use crate::revoke::request_revoke_approval;
use crate::session::{SessionObserver, date_time};
use crate::sign::{SignOptions, SignSession};
use crate::tsa::{DEFAULT_TIMEOUT as TSA_TIMEOUT, request_timestamp};

/// One document to seal.
#[derive(Clone, Debug)]
pub struct SealDocument {
    /// The document (read only).
    pub input: PathBuf,
    /// Where the sealed copy goes.
    pub output: PathBuf,
}

/// What to seal, with which seal, where.
#[derive(Clone, Debug)]
pub struct SealOptions {
    /// Relay, trust roots, timeout, clock.
    pub sign: SignOptions,
    /// The seal (platform id).
    pub seal_id: i64,
    /// Where the stamps go (the same for every document).
    pub placement: Placement,
    /// `/SubFilter`.
    pub sub_filter: SubFilter,
    /// The documents; all are signed under one approval.
    pub documents: Vec<SealDocument>,
    /// Put a GB/T 38540 `SES_Signature` (with the seal's `SESeal` record) in
    /// `/Contents` instead of a CMS `SignedData`, for platforms that require it.
    pub ses: bool,
    /// An RFC 3161 time-stamp authority: when set, each signature gets a signature
    /// time-stamp token (unsigned attribute) from it before it is embedded.
    pub tsa_url: Option<String>,
}

/// The result of sealing.
#[derive(Clone, Debug, Serialize)]
pub struct SealReport {
    /// The seal (platform id).
    pub seal_id: i64,
    /// Its name.
    pub seal_name: String,
    /// The signer certificate's serial (hex).
    pub signer_serial: String,
    /// The signer, as the certificate names it.
    pub signer: String,
    /// One outcome per document, in order.
    pub documents: Vec<SealOutcome>,
    /// The verification code both screens showed.
    pub verification_code: String,
    /// The relay the session went through.
    pub relay: String,
    /// The session id (hex).
    pub session_id: String,
    /// The time-stamp authority every signature carries a token from, if one was asked.
    pub timestamp_authority: Option<String>,
}

/// A seal's name and picture from the platform, checked for use at `now`.
struct SealInfo {
    name: String,
    picture: SealPicture,
    /// The GB/T 38540 record, when asked for.
    record: Option<bidkit_ses::SESeal>,
}

fn load_seal(
    home: &Path,
    seal_id: i64,
    now: time::OffsetDateTime,
    with_record: bool,
) -> Result<SealInfo, AppError> {
    let service = Service::open(home)?;
    let seal = service.seal(seal_id)?;
    if seal.status == SealStatus::Voided {
        tracing::info!(
            seal_id,
            "the seal is voided; only members holding a grant may still use it"
        );
    }
    if now < seal.valid_from || seal.valid_until.is_some_and(|u| now > u) {
        return Err(AppError::InvalidOption {
            option: "seal",
            reason: format!(
                "seal #{seal_id} ({}) is not valid now (valid {} to {})",
                seal.name,
                bidkit_pki::fmt_time(seal.valid_from),
                seal.valid_until
                    .map(bidkit_pki::fmt_time)
                    .unwrap_or_else(|| "until voided".into())
            ),
        });
    }
    let png = service.seal_image(seal_id)?;
    if png.is_empty() {
        return Err(AppError::InvalidOption {
            option: "seal",
            reason: format!(
                "seal #{seal_id} ({}) has no picture yet; make one with `bidkit phone seal make`",
                seal.name
            ),
        });
    }
    let record = if with_record {
        let der = service.seal_record(seal_id)?;
        Some(
            bidkit_ses::SESeal::from_der(&der).map_err(|e| AppError::InvalidOption {
                option: "ses",
                reason: format!("seal #{seal_id} ({}): its seal record: {e}", seal.name),
            })?,
        )
    } else {
        None
    };
    Ok(SealInfo {
        name: seal.name,
        picture: SealPicture::from_png(&png, None)?,
        record,
    })
}

/// Seal the documents: see the module documentation.
pub async fn seal_documents(
    opts: &SealOptions,
    observer: &mut dyn SessionObserver,
) -> Result<SealReport, AppError> {
    if opts.documents.is_empty() {
        return Err(AppError::InvalidOption {
            option: "documents",
            reason: "nothing to seal".into(),
        });
    }
    let sign = &opts.sign;
    let seal = load_seal(&sign.home, opts.seal_id, date_time(&sign.clock), opts.ses)?;
    let seal_mm = (seal.picture.width_mm, seal.picture.height_mm);
    // Every document and placement is checked before any QR code is shown.
    for doc in &opts.documents {
        plan(&doc.input, &opts.placement, seal_mm, Limits::DEFAULT)?;
    }
    let session = SignSession::open(sign, observer)
        .await?
        .ask_signer(Some(&seal.name), observer)
        .await?;
    let Some(signer) = session.signer().cloned() else {
        session.cancel("no-signer").await;
        return Err(AppError::AnswerInvalid {
            reason: "the phone named no signing certificate".into(),
        });
    };
    let mut prepared: Vec<PreparedSeal> = Vec::with_capacity(opts.documents.len());
    for doc in &opts.documents {
        let mut job = SealJob::new(
            &doc.input,
            &doc.output,
            seal.picture.clone(),
            &seal.name,
            opts.placement.clone(),
            signer.clone(),
            date_time(&sign.clock),
        );
        job.sub_filter = opts.sub_filter;
        job.ses_seal = seal.record.clone();
        match prepare(&job) {
            Ok(p) => prepared.push(p),
            Err(e) => {
                session.cancel(e.code()).await;
                return Err(e.into());
            }
        }
    }
    let items: Vec<SignItem> = prepared
        .iter()
        .enumerate()
        .map(|(i, p)| sign_item(i, p, &seal.name, &opts.placement))
        .collect();
    let signed = session.sign(items, Some(&signer), observer).await?;
    let mut outcomes = Vec::with_capacity(prepared.len());
    for (p, (_, signature)) in prepared.into_iter().zip(&signed.signatures) {
        let token = match &opts.tsa_url {
            Some(url) => {
                let hash = p.digest_algorithm();
                let imprint = bidkit_cms::tsa::signature_imprint(hash, signature);
                Some(request_timestamp(url, hash, &imprint, TSA_TIMEOUT).await?)
            }
            None => None,
        };
        outcomes.push(p.finish(signature, &signed.chain, token.as_deref())?);
    }
    Ok(SealReport {
        seal_id: opts.seal_id,
        seal_name: seal.name,
        signer_serial: signer.serial_hex(),
        signer: signer.subject_display(),
        documents: outcomes,
        verification_code: signed.verification_code,
        relay: signed.relay,
        session_id: signed.session_id,
        timestamp_authority: opts.tsa_url.clone(),
    })
}

/// The sign item the phone shows for one prepared document.
fn sign_item(index: usize, p: &PreparedSeal, seal: &str, placement: &Placement) -> SignItem {
    SignItem {
        id: format!("doc-{}", index + 1),
        document: DocumentInfo {
            name: p.document_name().to_owned(),
            page_count: p.page_count(),
        },
        seals: p
            .stamps()
            .iter()
            .map(|s| placement_shown(s, seal, placement))
            .collect(),
        digest_algorithm: p.digest_algorithm(),
        document_digest: p.document_digest().to_vec(),
        prepared: p.to_be_signed().to_vec(),
    }
}

fn placement_shown(s: &PlacedStamp, seal: &str, placement: &Placement) -> SealPlacement {
    let mode = match (placement, s.slice) {
        (_, Some(slice)) => PlacementMode::Seam {
            slice: slice.index + 1,
            slices: slice.count,
        },
        (Placement::Keyword { keyword, .. }, None) => PlacementMode::Keyword {
            keyword: keyword.clone(),
        },
        (Placement::Page { .. }, None) => PlacementMode::Position,
        _ => PlacementMode::Batch,
    };
    SealPlacement {
        seal: seal.to_owned(),
        page: u32::try_from(s.page_index + 1).unwrap_or(u32::MAX),
        x_mm: s.x_mm as f32,
        y_mm: s.y_mm as f32,
        mode,
    }
}

/// What to revoke.
#[derive(Clone, Debug)]
pub struct RevokeOptions {
    /// Relay, trust roots, timeout, clock.
    pub sign: SignOptions,
    /// The sealed document (read only).
    pub input: PathBuf,
    /// Where the document without its newest seal goes.
    pub output: PathBuf,
    /// The field the caller means to revoke (must be the newest), if named.
    pub field: Option<String>,
    /// Why (shown on the phone, signed in the statement).
    pub reason: String,
}

/// The result of revoking.
#[derive(Clone, Debug, Serialize)]
pub struct RevokeReport {
    /// The operation removed.
    pub removed: LastOperation,
    /// The seal's name, as the signature recorded it.
    pub seal: String,
    /// The document without it.
    pub output: PathBuf,
    /// The statement the phone signed (JSON).
    pub statement: String,
    /// The approving certificate's serial (hex).
    pub approved_by: String,
    /// The verification code both screens showed.
    pub verification_code: String,
}

/// Revoke the newest seal: see the module documentation.
pub async fn revoke_seal(
    opts: &RevokeOptions,
    observer: &mut dyn SessionObserver,
) -> Result<RevokeReport, AppError> {
    let (operation, seal, document_hash) = inspect_for_revoke(opts)?;
    let document = opts
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let statement = serde_json::json!({
        "statement": "bidkit.revoke-seal/1",
        "document": document,
        "document_sha256": document_hash,
        "field": operation.field_name,
        "seal": seal,
        "revision": operation.revision,
        "keep_bytes": operation.keep_bytes,
        "reason": opts.reason,
        "time": date_time(&opts.sign.clock).unix_timestamp(),
    })
    .to_string();
    let approval = request_revoke_approval(
        &opts.sign,
        RevokeSealRequest {
            document,
            seal: seal.clone(),
            reason: opts.reason.clone(),
            prepared: statement.clone().into_bytes(),
        },
        None,
        observer,
    )
    .await?;
    let outcome = revoke_last(
        &opts.input,
        &opts.output,
        opts.field.as_deref(),
        Limits::DEFAULT,
    )?;
    Ok(RevokeReport {
        removed: outcome.removed,
        seal,
        output: outcome.output,
        statement,
        approved_by: approval
            .signer()
            .map(|c| c.serial_hex())
            .unwrap_or_default(),
        verification_code: approval.verification_code,
    })
}

/// The newest operation, its seal's name and the document's SHA-256 (hex), checked
/// before the phone is asked.
fn inspect_for_revoke(opts: &RevokeOptions) -> Result<(LastOperation, String, String), AppError> {
    let in_file = |e: PdfError| e.in_file(&opts.input);
    let file = PdfFile::open(&opts.input, Limits::DEFAULT).map_err(in_file)?;
    let operation = last_operation(&file, opts.field.as_deref()).map_err(in_file)?;
    let seal = signature_fields(&file)
        .map_err(in_file)?
        .into_iter()
        .find(|(name, _)| *name == operation.field_name)
        .and_then(|(_, sig)| file.object(sig).ok())
        .and_then(|sig| {
            sig.as_dict()
                .ok()?
                .get(SEAL_NAME_KEY.as_bytes())
                .ok()
                .and_then(|n| lopdf::decode_text_string(n).ok())
        })
        .unwrap_or_else(|| operation.field_name.clone());
    let mut hasher = HashAlgorithm::Sha256.hasher();
    file.copy_range(0, file.len(), &mut hasher)
        .map_err(in_file)?;
    Ok((operation, seal, hex::encode(hasher.finalize())))
}
