//! The staged signing pipeline (after pyHanko's prepare → digest → sign elsewhere →
//! embed): [`prepare`] places the stamps, writes the incremental update with a
//! signature placeholder to a temporary file, hashes the signed byte ranges in the
//! same pass, and builds the CMS signed attributes; whoever holds the key (the phone,
//! through the relay, or any [`bidkit_crypto::Signer`]) signs
//! [`PreparedSeal::to_be_signed`]; [`PreparedSeal::finish`] embeds the CMS and renames
//! the file into place. The input is never modified.
//!
//! `/Contents` holds a CMS `SignedData` (GM/T 0010 or RFC 5652) by default, or, for
//! platforms that require it, a GB/T 38540 `SES_Signature` carrying the seal's
//! `SESeal` record ([`SealJob::ses_seal`]). The signature dictionary says
//! `/Adobe.PPKLite` and `adbe.pkcs7.detached` either way, as Chinese platforms write
//! it; validators without GB/T 38540 support (Adobe, poppler, pyHanko) cannot read
//! the SES form, `bidkit verify` can.

use std::path::{Path, PathBuf};

use bidkit_cms::SignedAttributes;
use bidkit_crypto::hash::HashAlgorithm;
use bidkit_pki::Certificate;
use lopdf::{Dictionary, Object, dictionary};
use serde::Serialize;
use time::OffsetDateTime;

use crate::picture::SealPicture;
use crate::placement::{KeywordHit, PlacedStamp, Placement, pages_for, place};
use crate::stamp::{FieldSpec, add_operation, field_names};
use crate::{IncrementalUpdate, Limits, PdfError, PdfFile, PrefixCopy, PreparedOutput, Result};

/// Room reserved in `/Contents` for the CMS (two certificates, attributes, signature
/// and an RFC 3161 token fit comfortably).
pub const DEFAULT_CONTENTS_CAPACITY: usize = 16 * 1024;

/// The signature dictionary entry holding the seal's name (a Bidkit extension; readers
/// ignore keys they do not know), so revoking can name the seal to the phone.
pub const SEAL_NAME_KEY: &str = "BidkitSeal";

/// The `/SubFilter` of the signature dictionary (ISO 32000-2 §12.8.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubFilter {
    /// `adbe.pkcs7.detached` — read by every validator.
    #[default]
    Pkcs7Detached,
    /// `ETSI.CAdES.detached` (PAdES baseline).
    CadesDetached,
}

impl SubFilter {
    /// The PDF name.
    pub fn name(self) -> &'static str {
        match self {
            SubFilter::Pkcs7Detached => "adbe.pkcs7.detached",
            SubFilter::CadesDetached => "ETSI.CAdES.detached",
        }
    }
}

/// One sealing operation to prepare.
#[derive(Clone, Debug)]
pub struct SealJob {
    /// The document to seal (read only).
    pub input: PathBuf,
    /// Where the sealed document goes (must differ from `input`).
    pub output: PathBuf,
    /// The seal's picture.
    pub picture: SealPicture,
    /// The seal's name, shown in the signature (`/Name`, `/Reason`).
    pub seal_name: String,
    /// Where the stamps go.
    pub placement: Placement,
    /// The signer's certificate (its hash goes into the signed attributes).
    pub signer: Certificate,
    /// The signing time written into the signed attributes and `/M`.
    pub signing_time: OffsetDateTime,
    /// `/SubFilter`.
    pub sub_filter: SubFilter,
    /// Room for the CMS, bytes.
    pub contents_capacity: usize,
    /// Caps for reading the input.
    pub limits: Limits,
    /// The seal's GB/T 38540 record: when set, `/Contents` holds an `SES_Signature`
    /// over the revision instead of a CMS `SignedData`.
    pub ses_seal: Option<bidkit_ses::SESeal>,
}

impl SealJob {
    /// A job with the defaults (`adbe.pkcs7.detached`, default capacity and limits).
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        picture: SealPicture,
        seal_name: impl Into<String>,
        placement: Placement,
        signer: Certificate,
        signing_time: OffsetDateTime,
    ) -> SealJob {
        SealJob {
            input: input.into(),
            output: output.into(),
            picture,
            seal_name: seal_name.into(),
            placement,
            signer,
            signing_time,
            sub_filter: SubFilter::default(),
            contents_capacity: DEFAULT_CONTENTS_CAPACITY,
            limits: Limits::DEFAULT,
            ses_seal: None,
        }
    }
}

/// What the signer signs, by container.
#[derive(Debug)]
enum ToBeSigned {
    /// CMS signed attributes.
    Cms(SignedAttributes),
    /// A GB/T 38540 `TBS_Sign` and its DER.
    Ses {
        tbs: Box<bidkit_ses::TbsSign>,
        der: Vec<u8>,
        hash: HashAlgorithm,
    },
}

/// A prepared sealing operation waiting for its signature.
#[derive(Debug)]
pub struct PreparedSeal {
    output: PreparedOutput,
    signed: ToBeSigned,
    stamps: Vec<PlacedStamp>,
    page_count: u32,
    field_name: String,
    document_name: String,
}

/// What a finished sealing operation produced.
#[derive(Clone, Debug, Serialize)]
pub struct SealOutcome {
    /// The sealed document.
    pub output: PathBuf,
    /// The new signature field.
    pub field_name: String,
    /// Every stamp the signature covers.
    pub stamps: Vec<PlacedStamp>,
    /// `/ByteRange`.
    pub byte_range: [u64; 4],
    /// The document digest, hex.
    pub document_digest: String,
}

impl PreparedSeal {
    /// The exact bytes to sign (DER of the CMS signed attributes, or of the
    /// `TBS_Sign` for an `SES_Signature`).
    pub fn to_be_signed(&self) -> &[u8] {
        match &self.signed {
            ToBeSigned::Cms(attributes) => attributes.to_be_signed(),
            ToBeSigned::Ses { der, .. } => der,
        }
    }

    /// The digest of the signed byte ranges (contained in [`PreparedSeal::to_be_signed`]).
    pub fn document_digest(&self) -> &[u8] {
        match &self.signed {
            ToBeSigned::Cms(attributes) => attributes.document_digest(),
            ToBeSigned::Ses { tbs, .. } => &tbs.data_hash,
        }
    }

    /// The hash algorithm of the digest.
    pub fn digest_algorithm(&self) -> HashAlgorithm {
        match &self.signed {
            ToBeSigned::Cms(attributes) => attributes.suite().hash(),
            ToBeSigned::Ses { hash, .. } => *hash,
        }
    }

    /// The stamps this signature will cover.
    pub fn stamps(&self) -> &[PlacedStamp] {
        &self.stamps
    }

    /// The document's page count.
    pub fn page_count(&self) -> u32 {
        self.page_count
    }

    /// The new signature field's name.
    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// The input's file name (what the phone shows).
    pub fn document_name(&self) -> &str {
        &self.document_name
    }

    /// Embed the signature: `signature` is the DER signature over
    /// [`PreparedSeal::to_be_signed`], `chain` the signer's chain (leaf first, the leaf
    /// being the certificate the job named), `timestamp_token` an RFC 3161 token over
    /// the signature value.
    pub fn finish(
        self,
        signature: &[u8],
        chain: &[Certificate],
        timestamp_token: Option<&[u8]>,
    ) -> Result<SealOutcome> {
        let document_digest = hex::encode(self.document_digest());
        let cms = match self.signed {
            ToBeSigned::Cms(attributes) => {
                bidkit_cms::assemble(&attributes, signature, chain, timestamp_token)?
            }
            ToBeSigned::Ses { tbs, .. } => {
                let leaf = chain.first().ok_or_else(|| PdfError::InvalidOption {
                    option: "certificate",
                    reason: "no signer certificate came with the signature".into(),
                })?;
                let mut ses = bidkit_ses::SesSignature::assemble(*tbs, leaf, signature)?;
                if let Some(token) = timestamp_token {
                    ses = ses.with_time_stamp(token)?;
                }
                ses.to_der().to_vec()
            }
        };
        let byte_range = self.output.byte_range();
        let output = self.output.embed(&cms)?;
        Ok(SealOutcome {
            output,
            field_name: self.field_name,
            stamps: self.stamps,
            byte_range,
            document_digest,
        })
    }
}

/// Prepare a sealing operation: see the module documentation.
pub fn prepare(job: &SealJob) -> Result<PreparedSeal> {
    prepare_inner(job).map_err(|e| e.in_file(&job.input))
}

fn prepare_inner(job: &SealJob) -> Result<PreparedSeal> {
    if same_file(&job.input, &job.output) {
        return Err(PdfError::InvalidOption {
            option: "output",
            reason:
                "the output must be a different file from the input (inputs are never modified)"
                    .into(),
        });
    }
    if !job.signer.is_valid_at(job.signing_time) {
        return Err(PdfError::InvalidOption {
            option: "certificate",
            reason: format!(
                "certificate {} ({}) is not valid at the signing time (valid {} to {})",
                job.signer.serial_hex(),
                job.signer.subject_display(),
                bidkit_pki::fmt_time(job.signer.not_before()),
                bidkit_pki::fmt_time(job.signer.not_after())
            ),
        });
    }
    let file = PdfFile::open(&job.input, job.limits)?;
    let suite = job.signer.suite();
    // The original bytes are copied and hashed while the stamps are placed.
    std::thread::scope(|scope| {
        let prefix = PrefixCopy::start(scope, &file, &job.output, Some(suite.hash()))?;
        let pages = pages_for(&file, &job.placement)?;
        let seal_mm = (job.picture.width_mm, job.picture.height_mm);
        let input = job.input.clone();
        let mut keyword_hits = |keyword: &str| -> Result<Vec<KeywordHit>> {
            Ok(crate::text::find_text(&input, keyword)?
                .into_iter()
                .map(|h| KeywordHit {
                    page_index: h.page_index,
                    rect: h.rect,
                })
                .collect())
        };
        let stamps = place(&job.placement, &pages, seal_mm, &mut keyword_hits)?;

        let existing = field_names(&file)?;
        let field_name = (existing.len() + 1..)
            .map(|n| format!("Bidkit-Seal-{n}"))
            .find(|n| !existing.contains(n))
            .unwrap_or_else(|| "Bidkit-Seal".into());
        let mut update = IncrementalUpdate::new(&file);
        add_operation(
            &mut update,
            &pages,
            &job.picture,
            &stamps,
            FieldSpec {
                name: field_name.clone(),
                signature: signature_dictionary(job),
                capacity: match &job.ses_seal {
                    // The SES_Signature carries the whole seal record, picture included.
                    Some(eseal) => job
                        .contents_capacity
                        .max(eseal.to_der().len() + DEFAULT_CONTENTS_CAPACITY),
                    None => job.contents_capacity,
                },
            },
        )?;
        let output = update.write_after(prefix)?;
        let signed = match &job.ses_seal {
            None => ToBeSigned::Cms(SignedAttributes::new(
                suite,
                output.digest(),
                &job.signer,
                job.signing_time,
            )?),
            Some(eseal) => {
                let [a, b, c, d] = output.byte_range();
                let tbs = bidkit_ses::TbsSign::new(
                    eseal.clone(),
                    job.signing_time,
                    output.digest().to_vec(),
                    format!("PDF ByteRange [{a} {b} {c} {d}] of {field_name}"),
                );
                let der = tbs.to_be_signed()?;
                ToBeSigned::Ses {
                    tbs: Box::new(tbs),
                    der,
                    hash: suite.hash(),
                }
            }
        };
        Ok(PreparedSeal {
            output,
            signed,
            stamps,
            page_count: u32::try_from(pages.count()).unwrap_or(u32::MAX),
            field_name,
            document_name: job
                .input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
    })
}

/// Where a placement puts the stamps in `input`, without writing anything: for
/// checking a request (page out of range, keyword not found) before any QR code is
/// shown. Returns the stamps and the page count.
pub fn plan(
    input: &Path,
    placement: &Placement,
    seal_mm: (f64, f64),
    limits: Limits,
) -> Result<(Vec<PlacedStamp>, u32)> {
    let run = || -> Result<(Vec<PlacedStamp>, u32)> {
        let file = PdfFile::open(input, limits)?;
        let pages = pages_for(&file, placement)?;
        let mut keyword_hits = |keyword: &str| -> Result<Vec<KeywordHit>> {
            Ok(crate::text::find_text(input, keyword)?
                .into_iter()
                .map(|h| KeywordHit {
                    page_index: h.page_index,
                    rect: h.rect,
                })
                .collect())
        };
        let stamps = place(placement, &pages, seal_mm, &mut keyword_hits)?;
        Ok((stamps, u32::try_from(pages.count()).unwrap_or(u32::MAX)))
    };
    run().map_err(|e| e.in_file(input))
}

/// Seal with a signer at hand (a local key, a test key, an unlocked phone key).
pub fn seal_with(
    job: &SealJob,
    signer: &dyn bidkit_crypto::Signer,
    chain: &[Certificate],
) -> Result<SealOutcome> {
    let prepared = prepare(job)?;
    let signature = signer
        .sign(prepared.to_be_signed())
        .map_err(|e| PdfError::NotAllowed(format!("signing failed: {e}")))?;
    prepared.finish(&signature, chain, None)
}

fn signature_dictionary(job: &SealJob) -> Dictionary {
    let signer = job
        .signer
        .subject()
        .ok()
        .map(|s| s.to_string())
        .unwrap_or_else(|| job.signer.subject_display());
    dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => Object::Name(job.sub_filter.name().as_bytes().to_vec()),
        "M" => Object::string_literal(pdf_date(job.signing_time)),
        "Name" => lopdf::text_string(&signer),
        "Reason" => lopdf::text_string(&format!("盖章：{}", job.seal_name)),
        SEAL_NAME_KEY => lopdf::text_string(&job.seal_name),
        "Prop_Build" => dictionary! {
            "App" => dictionary! { "Name" => "Bidkit", "REx" => Object::string_literal(env!("CARGO_PKG_VERSION")) },
        },
    }
}

/// A PDF date string (ISO 32000-1 §7.9.4) in UTC.
pub fn pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
