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

use std::io::{Seek, SeekFrom, Write};

use bidkit_crypto::hash::{HashAlgorithm, Hasher};
use lopdf::{Dictionary, Object, ObjectId};

use crate::file::XrefKind;
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
    ///
    /// The revision is assembled in memory first (it is small), so every offset — the
    /// `/ByteRange` included — is known before a byte is written; the original bytes are
    /// then copied and hashed in one pass, and the revision appended. The cross-reference
    /// section is of the kind of the file's newest one (a table, or an uncompressed
    /// cross-reference stream with `/W [1 4 2]`, or `[1 8 2]` past 4 GiB).
    pub fn write(self, output: &Path, hash: HashAlgorithm) -> Result<PreparedOutput> {
        let file = self.file;
        let run = || -> Result<PreparedOutput> {
            let base = file.len();
            let needs_eol = match base.checked_sub(1) {
                Some(last) => !matches!(file.read_bytes(last, 1)?.first(), Some(b'\n' | b'\r')),
                None => true,
            };
            let start = base + u64::from(needs_eol);
            let (revision, hole) = self.assemble(start)?;
            let total = start + revision.len() as u64;
            let (byte_range, capacity) = match hole {
                Some((a, b, cap)) => ([0, a, b, total - b], cap),
                None => ([0; 4], 0),
            };
            let dir = match output.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let mut temp = output_temp_file(&dir).map_err(|e| {
                PdfError::io(format!("creating a temporary file in {}", dir.display()), e)
            })?;
            let mut hasher = hole.map(|_| hash.hasher());
            {
                let mut out = std::io::BufWriter::with_capacity(1 << 20, temp.as_file_mut());
                {
                    let mut tee = Tee {
                        out: &mut out,
                        hasher: hasher.as_mut(),
                    };
                    file.copy_range(0, base, &mut tee)?;
                    if needs_eol {
                        tee.write_all(b"\n")
                            .map_err(|e| PdfError::io("writing the output", e))?;
                    }
                }
                let w = |out: &mut dyn Write, bytes: &[u8]| {
                    out.write_all(bytes)
                        .map_err(|e| PdfError::io("writing the output", e))
                };
                match hole {
                    Some((a, b, _)) => {
                        let ra = usize::try_from(a - start).unwrap_or(usize::MAX);
                        let rb = usize::try_from(b - start).unwrap_or(usize::MAX);
                        let (Some(before), Some(inside), Some(after)) =
                            (revision.get(..ra), revision.get(ra..rb), revision.get(rb..))
                        else {
                            return Err(PdfError::malformed(
                                None,
                                "internal error: signature hole outside the revision",
                            ));
                        };
                        if let Some(h) = hasher.as_mut() {
                            h.update(before);
                            h.update(after);
                        }
                        w(&mut out, before)?;
                        w(&mut out, inside)?;
                        w(&mut out, after)?;
                    }
                    None => w(&mut out, &revision)?,
                }
                out.flush()
                    .map_err(|e| PdfError::io("writing the output", e))?;
            }
            let written = temp
                .as_file()
                .metadata()
                .map_err(|e| PdfError::io("checking the output", e))?
                .len();
            if written != total {
                return Err(PdfError::io(
                    "writing the output",
                    std::io::Error::other(format!("wrote {written} bytes, expected {total}")),
                ));
            }
            Ok(PreparedOutput {
                output: output.to_path_buf(),
                byte_range,
                digest: hasher.map(|h| h.finalize().to_vec()).unwrap_or_default(),
                capacity,
                temp: Some(temp),
            })
        };
        run().map_err(|e| e.in_file(output))
    }

    /// The revision's bytes for a file of `start` bytes (the end-of-line included), and
    /// the signature hole: (offset of `<`, offset after `>`, capacity).
    fn assemble(&self, start: u64) -> Result<(Vec<u8>, Option<Hole>)> {
        let io = |e: std::io::Error| PdfError::io("serialising an object", e);
        let mut rev: Vec<u8> = Vec::new();
        let mut offsets: BTreeMap<u32, (u64, u16)> = BTreeMap::new();
        let mut hole = None;
        let mut br_at = 0usize;
        let sig_id = self.signature.as_ref().map(|s| s.0);
        for (id, object) in &self.objects {
            if Some(*id) == sig_id {
                continue;
            }
            offsets.insert(id.0, (start + rev.len() as u64, id.1));
            writeln!(rev, "{} {} obj", id.0, id.1).map_err(io)?;
            match object {
                Object::Stream(s) => {
                    let mut s = s.clone();
                    s.dict.set("Length", s.content.len() as i64);
                    lopdf::Writer::write_object(&mut rev, &Object::Stream(s)).map_err(io)?;
                }
                o => lopdf::Writer::write_object(&mut rev, o).map_err(io)?,
            }
            rev.extend_from_slice(b"\nendobj\n");
        }
        if let Some((id, dict, cap)) = &self.signature {
            offsets.insert(id.0, (start + rev.len() as u64, id.1));
            writeln!(rev, "{} {} obj", id.0, id.1).map_err(io)?;
            let mut d = dict.clone();
            d.remove(b"ByteRange");
            d.remove(b"Contents");
            let mut body = Vec::new();
            lopdf::Writer::write_object(&mut body, &Object::Dictionary(d)).map_err(io)?;
            // `<<…>>`: drop the closing `>>` and append the placeholders.
            body.truncate(body.len().saturating_sub(2));
            rev.extend_from_slice(&body);
            rev.extend_from_slice(b"/ByteRange [0 ");
            br_at = rev.len();
            rev.extend_from_slice(&[b' '; BR_FIELD * 3]);
            rev.extend_from_slice(b"]/Contents ");
            let a = start + rev.len() as u64;
            rev.push(b'<');
            rev.resize(rev.len() + 2 * cap, b'0');
            rev.push(b'>');
            let b = start + rev.len() as u64;
            rev.extend_from_slice(b">>\nendobj\n");
            hole = Some((a, b, *cap));
        }
        let newest = self.file.revisions().last();
        let kind = newest.map_or(XrefKind::Table, |r| r.kind);
        let prev = newest.map(|r| r.xref_offset);
        let old = self.file.trailer();
        let prev_size = match old.get(b"Size") {
            Ok(Object::Integer(n)) if *n > 0 => u32::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        let max_new = offsets
            .keys()
            .next_back()
            .map_or(0, |n| n.saturating_add(1));
        let mut trailer = Dictionary::new();
        for key in [&b"Root"[..], b"Info"] {
            if let Ok(v) = old.get(key) {
                trailer.set(key, v.clone());
            }
        }
        if let Some(p) = prev {
            trailer.set("Prev", p as i64);
        }
        trailer.set("ID", self.new_id(start));
        let xref_at = start + rev.len() as u64;
        match kind {
            XrefKind::Table => {
                let size = prev_size.max(max_new).max(self.next_id).max(1);
                trailer.set("Size", i64::from(size));
                rev.extend_from_slice(b"xref\n");
                for (first, run) in runs(&offsets) {
                    writeln!(rev, "{} {}", first, run.len()).map_err(io)?;
                    for (off, generation) in run {
                        writeln!(rev, "{off:010} {generation:05} n\r").map_err(io)?;
                    }
                }
                rev.extend_from_slice(b"trailer\n");
                lopdf::Writer::write_object(&mut rev, &Object::Dictionary(trailer)).map_err(io)?;
                rev.push(b'\n');
            }
            XrefKind::Stream => {
                let xref_id = prev_size.max(max_new).max(self.next_id).max(1);
                let size = xref_id.saturating_add(1);
                offsets.insert(xref_id, (xref_at, 0));
                let wide = xref_at > u64::from(u32::MAX);
                let ow: usize = if wide { 8 } else { 4 };
                let mut data = Vec::new();
                let mut index = Vec::new();
                for (first, run) in runs(&offsets) {
                    index.push(Object::Integer(i64::from(first)));
                    index.push(Object::Integer(run.len() as i64));
                    for (off, generation) in run {
                        data.push(1u8);
                        let bytes = off.to_be_bytes();
                        data.extend_from_slice(bytes.get(8 - ow..).unwrap_or_default());
                        data.extend_from_slice(&generation.to_be_bytes());
                    }
                }
                trailer.set("Type", Object::Name(b"XRef".to_vec()));
                trailer.set("Size", i64::from(size));
                trailer.set("Index", Object::Array(index));
                trailer.set(
                    "W",
                    Object::Array(vec![1.into(), (ow as i64).into(), 2.into()]),
                );
                let stream = lopdf::Stream::new(trailer, data);
                writeln!(rev, "{xref_id} 0 obj").map_err(io)?;
                lopdf::Writer::write_object(&mut rev, &Object::Stream(stream)).map_err(io)?;
                rev.extend_from_slice(b"\nendobj\n");
            }
        }
        writeln!(rev, "startxref\n{xref_at}\n%%EOF").map_err(io)?;
        if let Some((a, b, _)) = hole {
            let total = start + rev.len() as u64;
            let mut field = Vec::new();
            for v in [a, b, total - b] {
                let text = v.to_string();
                if text.len() >= BR_FIELD {
                    return Err(PdfError::LimitExceeded {
                        what: "file size for a /ByteRange",
                        limit: 10u64.pow(BR_FIELD as u32 - 1),
                    });
                }
                field.extend_from_slice(text.as_bytes());
                field.resize(field.len() + BR_FIELD - text.len() - 1, b' ');
                field.push(b' ');
            }
            // The last separator sits before `]`: keep the width, trim nothing.
            if let Some(slot) = rev.get_mut(br_at..br_at + field.len()) {
                slot.copy_from_slice(&field);
            }
        }
        Ok((rev, hole))
    }

    /// The new `/ID`: the first element kept, the second new.
    fn new_id(&self, start: u64) -> Object {
        let old = match self.file.trailer().get(b"ID") {
            Ok(Object::Array(items)) => items.first().cloned(),
            _ => None,
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = Vec::new();
        seed.extend_from_slice(&nanos.to_be_bytes());
        seed.extend_from_slice(&start.to_be_bytes());
        seed.extend_from_slice(&(self.objects.len() as u64).to_be_bytes());
        seed.extend_from_slice(self.file.path().as_os_str().as_encoded_bytes());
        let digest = HashAlgorithm::Sha256.digest(&seed);
        let second = Object::String(
            digest.get(..16).unwrap_or_default().to_vec(),
            lopdf::StringFormat::Hexadecimal,
        );
        let first = match old {
            Some(o @ Object::String(..)) => o,
            _ => second.clone(),
        };
        Object::Array(vec![first, second])
    }
}

/// Width of each `/ByteRange` number field (digits and padding spaces).
const BR_FIELD: usize = 12;

/// Consecutive object numbers grouped into subsections.
/// The signature hole: offset of `<`, offset after `>`, capacity in bytes of DER.
type Hole = (u64, u64, usize);

type Run = (u32, Vec<(u64, u16)>);

fn runs(offsets: &BTreeMap<u32, (u64, u16)>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut last: Option<u32> = None;
    for (n, e) in offsets {
        match out.last_mut() {
            Some((_, run)) if last.is_some_and(|l| l.checked_add(1) == Some(*n)) => run.push(*e),
            _ => out.push((*n, vec![*e])),
        }
        last = Some(*n);
    }
    out
}

/// Writes to the output and, when signing, to the hasher.
struct Tee<'a, W: Write> {
    out: &'a mut W,
    hasher: Option<&'a mut Hasher>,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if let (Some(h), Some(done)) = (self.hasher.as_mut(), buf.get(..n)) {
            h.update(done);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A written update waiting for its signature (or for a commit).
#[derive(Debug)]
pub struct PreparedOutput {
    output: PathBuf,
    byte_range: [u64; 4],
    digest: Vec<u8>,
    capacity: usize,
    temp: Option<tempfile::NamedTempFile>,
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
    pub fn embed(mut self, contents: &[u8]) -> Result<PathBuf> {
        let output = self.output.clone();
        let mut run = || -> Result<PathBuf> {
            if self.capacity == 0 {
                return Err(PdfError::InvalidOption {
                    option: "signature",
                    reason: "this update has no signature placeholder: commit it instead".into(),
                });
            }
            if contents.len() > self.capacity {
                return Err(PdfError::LimitExceeded {
                    what: "signature size (bytes of DER) for the reserved /Contents",
                    limit: self.capacity as u64,
                });
            }
            let mut hex = hex::encode_upper(contents).into_bytes();
            hex.resize(self.capacity * 2, b'0');
            let at = self.byte_range[1] + 1;
            let Some(temp) = self.temp.as_mut() else {
                return Err(PdfError::InvalidOption {
                    option: "signature",
                    reason: "already embedded".into(),
                });
            };
            let f = temp.as_file_mut();
            f.seek(SeekFrom::Start(at))
                .and_then(|_| f.write_all(&hex))
                .and_then(|_| f.flush())
                .and_then(|_| f.sync_all())
                .map_err(|e| PdfError::io("writing the signature", e))?;
            self.persist()
        };
        run().map_err(|e| e.in_file(output))
    }

    /// Rename an unsigned update into place.
    pub fn commit(mut self) -> Result<PathBuf> {
        let output = self.output.clone();
        if self.capacity > 0 {
            return Err(PdfError::InvalidOption {
                option: "signature",
                reason: "this update has a signature placeholder: embed the signature".into(),
            }
            .in_file(output));
        }
        if let Some(t) = self.temp.as_mut() {
            t.as_file_mut()
                .sync_all()
                .map_err(|e| PdfError::io("flushing the output", e).in_file(&output))?;
        }
        self.persist().map_err(|e| e.in_file(output))
    }

    fn persist(&mut self) -> Result<PathBuf> {
        let Some(temp) = self.temp.take() else {
            return Err(PdfError::InvalidOption {
                option: "output",
                reason: "already written".into(),
            });
        };
        temp.persist(&self.output).map_err(|e| {
            PdfError::io(format!("renaming into {}", self.output.display()), e.error)
        })?;
        Ok(self.output.clone())
    }
}

/// A temporary file in `dir` for an output that gets renamed into place when complete.
/// Unlike `tempfile`'s default (0600), it is created with mode 0666 less the umask, so the
/// finished document has the permissions any other new file would have.
pub(crate) fn output_temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bidkit-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}
