//! Opening a bid file: check its structure and header signature, hand out the wrapped
//! key of a recipient, and decrypt with the content key the phone returns.

use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bidkit_crypto::PrivateKey;
use bidkit_pki::{Certificate, ChainError, KeyPurpose, OffsetDateTime, TrustStore, VerifiedChain};
use serde::Serialize;

use crate::container::{self, HeaderSignature, Layout, SignatureCheck};
use crate::fsio::{self, DirectWriter, PendingFile, ReadAhead};
use crate::header::{Header, Recipient, normalise_serial};
use crate::key::ContentKey;
use crate::stream::{self, Progress, Timings};
use crate::{BidFileError, Result};

/// A bid file whose structure and header signature have been checked.
#[derive(Debug)]
pub struct Decryptor {
    path: PathBuf,
    header: Header,
    signature: HeaderSignature,
    check: SignatureCheck,
    layout: Layout,
}

/// What a successful decryption produced.
#[derive(Clone, Debug, Serialize)]
pub struct DecryptOutcome {
    /// The plaintext file.
    pub path: PathBuf,
    /// Its length.
    pub content_size: u64,
    /// Its suite hash (equal to the header's content hash).
    #[serde(serialize_with = "crate::hex_bytes")]
    pub content_hash: [u8; 32],
    /// Chunks authenticated.
    pub chunks: u64,
    /// Where the time went: the streaming stages, and the final sync.
    #[serde(skip)]
    pub timings: Timings,
}

impl Decryptor {
    /// Open `path`: read the header and signature block, check that the file's length
    /// is what the header announces (no missing chunk, no trailing data) and that the
    /// header signature verifies under the certificate in the file.
    ///
    /// Whether the signer is the bidder, holds a signing certificate valid at creation
    /// is reported by [`Decryptor::signature_check`] (and [`Decryptor::problems`]), not
    /// refused: the opening hall shows it. Chain validation against a trust store is
    /// [`Decryptor::verify_signer_chain`].
    pub fn open(path: &Path) -> Result<Self> {
        let (prefix, file_len) = container::read_prefix(path)?;
        let (signature, padding) = prefix.signature?;
        let header = prefix.header;
        let layout = container::layout(&header, prefix.header_len, &signature, padding, file_len);
        container::check_length(path, &header, &layout)?;
        let check = SignatureCheck::new(&header, &signature);
        if !check.valid {
            return Err(BidFileError::HeaderSignatureInvalid {
                path: path.to_path_buf(),
                signer: format!("{} (serial {})", check.signer_subject, check.signer_serial),
            });
        }
        Ok(Decryptor {
            path: path.to_path_buf(),
            header,
            signature,
            check,
            layout,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header signer's certificate.
    pub fn signer(&self) -> &Certificate {
        &self.signature.certificate
    }

    /// The signature block.
    pub fn signature(&self) -> &HeaderSignature {
        &self.signature
    }

    /// What checking the signature found (valid is always true here).
    pub fn signature_check(&self) -> &SignatureCheck {
        &self.check
    }

    /// Sentences describing anything wrong with the signer (empty when acceptable).
    pub fn problems(&self) -> Vec<String> {
        self.check.problems(&self.header)
    }

    /// Where the file's parts are.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The recipient whose encryption certificate has serial `serial` — its
    /// [`Recipient::wrapped_key`] is what travels to the phone in an `UnwrapItem`.
    pub fn recipient(&self, serial: &str) -> Result<&Recipient> {
        self.header
            .draft()
            .recipient(serial)
            .ok_or_else(|| BidFileError::NoSuchRecipient {
                path: self.path.clone(),
                serial: normalise_serial(serial),
                available: self
                    .header
                    .recipients()
                    .iter()
                    .map(|r| r.certificate_serial.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Unwrap recipient `serial`'s key with a local private key (tests, the emulated
    /// phone). A real phone does this itself and returns the key bytes, which become a
    /// [`ContentKey`] with [`ContentKey::from_bytes`].
    pub fn unwrap_key(&self, serial: &str, private_key: &PrivateKey) -> Result<ContentKey> {
        ContentKey::unwrap(self.header.suite(), self.recipient(serial)?, private_key)
    }

    /// Validate the signer certificate's chain to a trusted root at `now` (a signing
    /// certificate, not revoked by the store's CRLs).
    pub fn verify_signer_chain(
        &self,
        trust: &TrustStore,
        now: OffsetDateTime,
    ) -> std::result::Result<VerifiedChain, ChainError> {
        bidkit_pki::verify_chain(
            &self.signature.certificate,
            &[],
            trust,
            now,
            Some(KeyPurpose::Signing),
        )
    }

    /// Decrypt the payload into `output` (not the bid file itself).
    ///
    /// The plaintext is written to an unnamed file (mode 0600) in `output`'s directory
    /// and gets its name only when every chunk authenticated and the content and
    /// ciphertext hashes match the signed header. On any error — or a crash — no
    /// plaintext is left behind, and an existing file at `output` is untouched.
    pub fn decrypt_to(
        &self,
        output: &Path,
        key: &ContentKey,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<DecryptOutcome> {
        let suite = self.header.suite();
        if key.suite() != suite {
            return Err(BidFileError::BadContentKey {
                suite,
                reason: format!("the content key is for the {} suite", key.suite()),
            });
        }
        if fsio::same_file(&self.path, output) {
            return Err(BidFileError::InvalidInput {
                what: "output",
                reason: format!(
                    "{} is the bid file; inputs are never overwritten",
                    output.display()
                ),
            });
        }
        let aead = key.aead()?;
        let (mut input, file_len) = container::open_file(&self.path)?;
        if file_len != self.layout.file_len {
            return Err(BidFileError::io(
                "read",
                &self.path,
                std::io::Error::other("the file changed since it was opened"),
            ));
        }
        input
            .seek(SeekFrom::Start(self.layout.payload_offset))
            .map_err(|e| BidFileError::io("read", &self.path, e))?;
        let mut out = PendingFile::create(output, true)?;
        let payload = self.header.payload();
        let mut writer = DirectWriter::new(out.file(), 0);
        let opened = stream::open(
            self.header.draft(),
            &aead,
            payload.chunk_count,
            payload.content_size,
            self.layout.payload_offset,
            ReadAhead::new(input, self.layout.payload_offset),
            &self.path,
            &mut writer,
            output,
            &mut on_progress,
        )?;
        let start = std::time::Instant::now();
        writer
            .finish()
            .map_err(|e| BidFileError::io("write", output, e))?;
        let mut timings = opened.timings;
        timings.write += start.elapsed();
        timings.total += start.elapsed();
        if opened.ciphertext_hash != payload.ciphertext_hash {
            return Err(BidFileError::HashMismatch {
                path: self.path.clone(),
                what: "ciphertext",
            });
        }
        if opened.content_hash != payload.content_hash {
            return Err(BidFileError::HashMismatch {
                path: self.path.clone(),
                what: "content",
            });
        }
        timings.sync = out.commit()?;
        Ok(DecryptOutcome {
            path: output.to_path_buf(),
            content_size: payload.content_size,
            content_hash: opened.content_hash,
            chunks: payload.chunk_count,
            timings,
        })
    }
}
