//! Making a bid file, in two stages: encrypt (the payload goes to its place in the
//! still unnamed output, after room for the header part), then sign the header (by
//! the phone) and fill that room.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bidkit_crypto::Signer;
use bidkit_pki::{Certificate, KeyPurpose};
use serde::Serialize;

use crate::fsio::{self, DirectWriter, PendingFile, ReadAhead};
use crate::header::{Header, HeaderDraft, PayloadSummary, len32};
use crate::key::ContentKey;
use crate::stream::{self, Progress, Timings};
use crate::{BidFileError, MAX_CERTIFICATE_LEN, MAX_SIGNATURE_LEN, PREAMBLE_LEN, Result};

/// Encrypts a payload under a content key into a bid file.
///
/// ```no_run
/// # fn phone_signs(_: &[u8]) -> Vec<u8> { Vec::new() }
/// # fn demo(draft: bidkit_bidfile::HeaderDraft, key: bidkit_bidfile::ContentKey,
/// #         cert: &bidkit_pki::Certificate) -> bidkit_bidfile::Result<()> {
/// use std::path::Path;
/// let prepared = bidkit_bidfile::Encryptor::new(draft, key)?
///     .encrypt_file(Path::new("bid.zip"), Path::new("bid.bkb"), |_progress| {})?;
/// // Show prepared.header() on the phone, which signs prepared.to_be_signed(cert)
/// // with the key of its signing certificate `cert`.
/// let signature = phone_signs(&prepared.to_be_signed(cert));
/// let outcome = prepared.finish(cert, &signature)?;
/// # let _ = outcome; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Encryptor {
    draft: HeaderDraft,
    key: ContentKey,
    signer: Option<Certificate>,
}

/// Room reserved for the signer certificate when the caller does not name it.
const DEFAULT_CERTIFICATE_RESERVE: usize = 2048;
/// Room reserved for the signature: a DER `SEQUENCE { r, s }` of 256-bit values.
const SIGNATURE_RESERVE: usize = 72;

impl Encryptor {
    /// An encryptor for `draft` (which needs at least one recipient) under `key` (of
    /// the draft's suite; the same key the recipients' wrapped keys hold).
    pub fn new(draft: HeaderDraft, key: ContentKey) -> Result<Self> {
        draft.check_complete()?;
        if key.suite() != draft.suite() {
            return Err(BidFileError::BadContentKey {
                suite: draft.suite(),
                reason: format!("the content key is for the {} suite", key.suite()),
            });
        }
        Ok(Encryptor {
            draft,
            key,
            signer: None,
        })
    }

    /// Name the signing certificate that will sign the header (the phone names it
    /// before documents are prepared). It is checked now — suite, purpose, the bidder's
    /// identity, validity at the creation time — rather than after a long encryption,
    /// and the file gets exactly the room it needs before the payload.
    pub fn with_signer(mut self, certificate: &Certificate) -> Result<Self> {
        check_signer(&self.draft, certificate)?;
        self.signer = Some(certificate.clone());
        Ok(self)
    }

    /// Encrypt the file `input` for the bid file `output` (which must not be `input`).
    /// The input is only read. Nothing appears at `output` until
    /// [`PreparedBidFile::finish`].
    pub fn encrypt_file(
        self,
        input: &Path,
        output: &Path,
        on_progress: impl FnMut(Progress),
    ) -> Result<PreparedBidFile> {
        if fsio::same_file(input, output) {
            return Err(BidFileError::InvalidInput {
                what: "output",
                reason: format!(
                    "{} is the input; inputs are never overwritten",
                    output.display()
                ),
            });
        }
        let file = File::open(input).map_err(|e| BidFileError::io("open", input, e))?;
        let total = file
            .metadata()
            .map_err(|e| BidFileError::io("read", input, e))?
            .len();
        self.encrypt_inner(
            ReadAhead::new(file, 0),
            &input.display().to_string(),
            Some(total),
            output,
            on_progress,
        )
    }

    /// Encrypt everything `input` yields (`total` bytes, when known, for progress and
    /// as a check). Nothing appears at `output` until [`PreparedBidFile::finish`].
    pub fn encrypt_reader<R: Read + Send>(
        self,
        input: R,
        total: Option<u64>,
        output: &Path,
        on_progress: impl FnMut(Progress),
    ) -> Result<PreparedBidFile> {
        self.encrypt_inner(input, "the input stream", total, output, on_progress)
    }

    fn encrypt_inner<R: Read + Send>(
        self,
        input: R,
        input_name: &str,
        total: Option<u64>,
        output: &Path,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<PreparedBidFile> {
        let aead = self.key.aead()?;
        // The payload goes straight to its place in the (still unnamed) output, after
        // room for everything that precedes it; `finish` fills that room.
        let certificate = self
            .signer
            .as_ref()
            .map_or(DEFAULT_CERTIFICATE_RESERVE, |c| c.to_der().len());
        let reserved = (PREAMBLE_LEN
            + self.draft.max_header_len()?
            + 4
            + certificate
            + 4
            + SIGNATURE_RESERVE
            + 4) as u64;
        let mut out = PendingFile::create(output, false)?;
        let mut writer = DirectWriter::new(out.file(), reserved);
        let sealed = stream::seal(
            &self.draft,
            &aead,
            input,
            input_name,
            total,
            &mut writer,
            output,
            &mut on_progress,
        )?;
        let start = std::time::Instant::now();
        writer
            .finish()
            .map_err(|e| BidFileError::io("write", output, e))?;
        let mut timings = sealed.timings;
        timings.write += start.elapsed();
        timings.total += start.elapsed();
        let header = Header::new(
            self.draft,
            PayloadSummary {
                content_size: sealed.content_size,
                content_hash: sealed.content_hash,
                chunk_count: sealed.chunk_count,
                ciphertext_hash: sealed.ciphertext_hash,
            },
        )?;
        Ok(PreparedBidFile {
            header,
            out,
            payload_offset: reserved,
            output: output.to_path_buf(),
            timings,
        })
    }
}

/// An encrypted payload waiting for the bidder's header signature.
///
/// The file is written except for its header part; it has no name yet (it vanishes if
/// this value is dropped or the process dies).
#[derive(Debug)]
pub struct PreparedBidFile {
    header: Header,
    out: PendingFile,
    payload_offset: u64,
    output: PathBuf,
    timings: Timings,
}

/// What a finished bid file is.
#[derive(Clone, Debug, Serialize)]
pub struct BidFileOutcome {
    /// Where the bid file is.
    pub path: PathBuf,
    /// Its length in bytes.
    pub file_len: u64,
    /// Its header.
    pub header: Header,
    /// The header signer's certificate serial.
    pub signer_serial: String,
    /// Where the time went: the streaming stages, and the final sync.
    #[serde(skip)]
    pub timings: Timings,
}

impl PreparedBidFile {
    /// The complete header (show it on the phone: tender, bidder, size, hashes).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The exact bytes the bidder signs with the key of `signer`, its signing
    /// certificate: [`Header::to_be_signed`].
    pub fn to_be_signed(&self, signer: &Certificate) -> Vec<u8> {
        self.header.to_be_signed(signer)
    }

    /// Where the bid file will be written.
    pub fn output(&self) -> &Path {
        &self.output
    }

    /// Where the time of the encryption went (the sync comes with
    /// [`PreparedBidFile::finish`]).
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Sign with a local signer (a test key or the emulated phone) and assemble.
    pub fn sign_with(
        self,
        signer: &dyn Signer,
        certificate: &Certificate,
    ) -> Result<BidFileOutcome> {
        let signature = signer.sign(&self.to_be_signed(certificate)).map_err(|e| {
            BidFileError::UnusableSigner {
                serial: certificate.serial_hex(),
                subject: certificate.subject_display(),
                reason: e.to_string(),
            }
        })?;
        self.finish(certificate, &signature)
    }

    /// Attach the detached `signature` (DER, over [`PreparedBidFile::to_be_signed`] for
    /// `certificate`), fill in the header part — preamble, header, certificate,
    /// signature, zero padding up to the payload — sync, and give the file its name.
    ///
    /// Refused before anything is named if the certificate is not the bidder's
    /// signing certificate of this suite, was not valid at the header's creation time,
    /// or the signature does not verify.
    pub fn finish(self, certificate: &Certificate, signature: &[u8]) -> Result<BidFileOutcome> {
        check_signer(self.header.draft(), certificate)?;
        let unusable = |reason: String| BidFileError::UnusableSigner {
            serial: certificate.serial_hex(),
            subject: certificate.subject_display(),
            reason,
        };
        if certificate.to_der().len() > MAX_CERTIFICATE_LEN as usize {
            return Err(unusable(format!(
                "its DER is {} bytes (at most {MAX_CERTIFICATE_LEN})",
                certificate.to_der().len()
            )));
        }
        if signature.is_empty() || signature.len() > MAX_SIGNATURE_LEN as usize {
            return Err(unusable(format!(
                "the signature is {} bytes (1 to {MAX_SIGNATURE_LEN})",
                signature.len()
            )));
        }
        let tbs = self.to_be_signed(certificate);
        if certificate.public_key()?.verify(&tbs, signature).is_err() {
            return Err(BidFileError::BadSignature {
                what: "bid-file header",
                serial: certificate.serial_hex(),
            });
        }
        let mut prefix = tbs;
        prefix.extend_from_slice(&len32(signature.len()).to_be_bytes());
        prefix.extend_from_slice(signature);
        let payload_len = self.header.payload_len();
        let PreparedBidFile {
            header,
            mut out,
            payload_offset,
            output,
            mut timings,
        } = self;
        let used = prefix.len() as u64 + 4;
        let file_len = if used <= payload_offset {
            // The usual case: the header part fits the room left before the payload.
            let padding = payload_offset - used;
            prefix.extend_from_slice(&len32(padding as usize).to_be_bytes());
            prefix.resize(prefix.len() + padding as usize, 0);
            let file = out.file();
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.write_all(&prefix))
                .map_err(|e| BidFileError::io("write", &output, e))?;
            timings.sync = out.commit()?;
            payload_offset + payload_len
        } else {
            // A signer certificate larger than the room reserved: write a new file and
            // let the kernel copy the payload after the header (copy_file_range).
            prefix.extend_from_slice(&0u32.to_be_bytes());
            let mut fresh = PendingFile::create(&output, false)?;
            fresh
                .file()
                .write_all(&prefix)
                .map_err(|e| BidFileError::io("write", &output, e))?;
            let source = out.file();
            source
                .seek(SeekFrom::Start(payload_offset))
                .map_err(|e| BidFileError::io("read", &output, e))?;
            let copied = std::io::copy(&mut source.take(payload_len), fresh.file())
                .map_err(|e| BidFileError::io("write", &output, e))?;
            if copied != payload_len {
                return Err(BidFileError::Internal(format!(
                    "{copied} payload bytes copied, {payload_len} expected"
                )));
            }
            drop(out);
            timings.sync = fresh.commit()?;
            prefix.len() as u64 + payload_len
        };
        Ok(BidFileOutcome {
            path: output,
            file_len,
            header,
            signer_serial: certificate.serial_hex(),
            timings,
        })
    }
}

fn check_signer(draft: &HeaderDraft, cert: &Certificate) -> Result<()> {
    let unusable = |reason: String| BidFileError::UnusableSigner {
        serial: cert.serial_hex(),
        subject: cert.subject_display(),
        reason,
    };
    if cert.suite() != draft.suite() {
        return Err(unusable(format!(
            "it is a {} certificate and the bid file is {}",
            cert.suite(),
            draft.suite()
        )));
    }
    if cert.purpose() != Some(KeyPurpose::Signing) {
        return Err(unusable("it is not a signing certificate".into()));
    }
    let identifier = cert.subject()?.identifier().to_owned();
    if identifier != draft.bidder().uscc {
        return Err(unusable(format!(
            "its holder {identifier} is not the bidder {} ({})",
            draft.bidder().name,
            draft.bidder().uscc
        )));
    }
    let created = draft.created_at();
    if !cert.is_valid_at(created) {
        return Err(unusable(format!(
            "it was not valid when the bid file was made ({}; valid {} to {})",
            bidkit_pki::fmt_time(created),
            bidkit_pki::fmt_time(cert.not_before()),
            bidkit_pki::fmt_time(cert.not_after())
        )));
    }
    Ok(())
}
