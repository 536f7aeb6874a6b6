//! Incremental updates: objects appended after the original bytes, which are copied
//! (never modified) and hashed while copied. With a signature placeholder, the update
//! is the first half of the staged pipeline: [`IncrementalUpdate::write`] returns a
//! [`PreparedOutput`] holding the digest of the signed byte ranges; once a signature
//! exists, [`PreparedOutput::embed`] writes it into the placeholder and renames the
//! temporary file into place.
//!
//! CONTRACT (skeleton written by the lead; the implementation fills the bodies and may
//! add methods, but keeps these signatures).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bidkit_crypto::hash::HashAlgorithm;
use lopdf::{Dictionary, Object, ObjectId};

use crate::{PdfError, PdfFile, Result};

/// An incremental update being assembled over an open file.
#[derive(Debug)]
pub struct IncrementalUpdate<'f> {
    file: &'f PdfFile,
    next_id: u32,
    objects: BTreeMap<ObjectId, Object>,
    signature: Option<(ObjectId, Dictionary, usize)>,
}

impl<'f> IncrementalUpdate<'f> {
    /// Start an update of `file`.
    pub fn new(file: &'f PdfFile) -> Self {
        IncrementalUpdate {
            file,
            next_id: file.next_object_number(),
            objects: BTreeMap::new(),
            signature: None,
        }
    }

    /// The file being updated.
    pub fn file(&self) -> &'f PdfFile {
        self.file
    }

    /// A fresh object id (generation 0).
    pub fn allocate(&mut self) -> ObjectId {
        let id = (self.next_id, 0);
        self.next_id += 1;
        id
    }

    /// Add a new object or replace an existing one in this revision.
    pub fn put(&mut self, id: ObjectId, object: Object) {
        self.objects.insert(id, object);
    }

    /// The signature dictionary `id`: `dict` without `/ByteRange` and `/Contents`, which
    /// the writer adds: a `/ByteRange` placeholder and a zero-filled `/Contents` hex
    /// string with room for `contents_capacity` bytes of DER.
    pub fn put_signature(&mut self, id: ObjectId, dict: Dictionary, contents_capacity: usize) {
        self.signature = Some((id, dict, contents_capacity));
    }

    /// Write the original bytes and this revision to a temporary file beside `output`,
    /// hashing the signed byte ranges with `hash` on the way. Nothing is at `output` until
    /// [`PreparedOutput::embed`] (with a signature) or [`PreparedOutput::commit`]
    /// (without) renames it into place.
    pub fn write(self, output: &Path, hash: HashAlgorithm) -> Result<PreparedOutput> {
        let _ = (output, hash);
        Err(PdfError::malformed(None, "writer not implemented yet"))
    }
}

/// A written update waiting for its signature (or for a commit).
#[derive(Debug)]
pub struct PreparedOutput {
    output: PathBuf,
    byte_range: [u64; 4],
    digest: Vec<u8>,
    capacity: usize,
}

impl PreparedOutput {
    /// Where the file will go.
    pub fn output(&self) -> &Path {
        &self.output
    }

    /// `/ByteRange` as written: `[0, a, b, c]` (all zero when there is no signature).
    pub fn byte_range(&self) -> [u64; 4] {
        self.byte_range
    }

    /// The digest of the signed byte ranges (empty when there is no signature).
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// Room in `/Contents`, in bytes of DER.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Write `contents` (DER, at most [`PreparedOutput::capacity`] bytes) into the
    /// placeholder, flush, and rename into place. Returns the output path.
    pub fn embed(self, contents: &[u8]) -> Result<PathBuf> {
        let _ = contents;
        Err(PdfError::malformed(None, "not implemented"))
    }

    /// Rename an unsigned update into place.
    pub fn commit(self) -> Result<PathBuf> {
        Err(PdfError::malformed(None, "not implemented"))
    }
}
