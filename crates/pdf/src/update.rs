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
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// The same as starting a [`PrefixCopy`] and calling [`IncrementalUpdate::write_after`]
    /// at once; start the copy earlier to overlap it with placing the stamps.
    pub fn write(self, output: &Path, hash: HashAlgorithm) -> Result<PreparedOutput> {
        let file = self.file;
        let signing = self.signature.is_some().then_some(hash);
        std::thread::scope(|scope| {
            let prefix = PrefixCopy::start(scope, file, output, signing)?;
            self.write_after(prefix)
        })
    }

    /// Finish the output that `prefix` began: wait for the original bytes to be copied
    /// and hashed, then append this revision, hashing the signed byte ranges with the
    /// algorithm the copy was started with (which must be given when this update has a
    /// signature).
    ///
    /// The revision is assembled in memory (it is small) while the copy runs, so every
    /// offset — the `/ByteRange` included — is known before a byte of it is written. The
    /// cross-reference section is of the kind of the file's newest one (a table, or an
    /// uncompressed cross-reference stream with `/W [1 4 2]`, or `[1 8 2]` past 4 GiB).
    pub fn write_after(self, mut prefix: PrefixCopy<'_>) -> Result<PreparedOutput> {
        let file = self.file;
        let output = prefix.output.clone();
        let mut run = || -> Result<PreparedOutput> {
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
            let copied_hasher = prefix.finish()?;
            let mut hasher = match (hole, copied_hasher) {
                (None, _) => None,
                (Some(_), Some(h)) => Some(h),
                (Some(_), None) => {
                    return Err(PdfError::InvalidOption {
                        option: "signature",
                        reason: "the copy of the original bytes was started without a hash".into(),
                    });
                }
            };
            let Some(temp) = prefix.temp.take() else {
                return Err(PdfError::InvalidOption {
                    option: "output",
                    reason: "already written".into(),
                });
            };
            {
                let mut out = temp.as_file();
                out.seek(SeekFrom::Start(base))
                    .map_err(|e| PdfError::io("writing the output", e))?;
                let mut w = |bytes: &[u8]| {
                    out.write_all(bytes)
                        .map_err(|e| PdfError::io("writing the output", e))
                };
                if needs_eol {
                    if let Some(h) = hasher.as_mut() {
                        h.update(b"\n");
                    }
                    w(b"\n")?;
                }
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
                        w(before)?;
                        w(inside)?;
                        w(after)?;
                    }
                    None => w(&revision)?,
                }
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
                output: output.clone(),
                byte_range,
                digest: hasher.map(|h| h.finalize().to_vec()).unwrap_or_default(),
                capacity,
                temp: Some(temp),
            })
        };
        run().map_err(|e| e.in_file(&output))
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

/// The original bytes of a file being copied into a new output's temporary file (beside
/// the output) and, when signing, hashed, on a thread of a [`std::thread::Scope`]: the
/// copy runs while the caller places the stamps and assembles the revision, which do not
/// change these bytes. [`IncrementalUpdate::write_after`] finishes the output; dropped
/// unfinished (the operation failed), it stops the copy and removes the temporary file.
#[derive(Debug)]
pub struct PrefixCopy<'scope> {
    output: PathBuf,
    temp: Option<tempfile::NamedTempFile>,
    stop: Arc<AtomicBool>,
    job: Option<std::thread::ScopedJoinHandle<'scope, Result<Option<Hasher>>>>,
}

impl<'scope> PrefixCopy<'scope> {
    /// Create the temporary file for `output` and start copying all of `file` into it
    /// on a thread of `scope`, hashing with `hash` when given.
    pub fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        file: &'env PdfFile,
        output: &Path,
        hash: Option<HashAlgorithm>,
    ) -> Result<PrefixCopy<'scope>> {
        let dir = match output.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let started = || -> Result<PrefixCopy<'scope>> {
            let temp = output_temp_file(&dir).map_err(|e| {
                PdfError::io(format!("creating a temporary file in {}", dir.display()), e)
            })?;
            let out = temp
                .as_file()
                .try_clone()
                .map_err(|e| PdfError::io("opening the output to copy into it", e))?;
            let stop = Arc::new(AtomicBool::new(false));
            let stopped = Arc::clone(&stop);
            let len = file.len();
            let job = std::thread::Builder::new()
                .name("bidkit-prefix".into())
                .spawn_scoped(scope, move || -> Result<Option<Hasher>> {
                    let mut hasher = hash.map(HashAlgorithm::hasher);
                    copy_prefix(file, len, &out, hasher.as_mut(), &stopped)?;
                    Ok(hasher)
                })
                .map_err(|e| PdfError::io("starting a thread to copy the file", e))?;
            Ok(PrefixCopy {
                output: output.to_path_buf(),
                temp: Some(temp),
                stop,
                job: Some(job),
            })
        };
        started().map_err(|e| e.in_file(output))
    }

    /// Wait for the copy; the hash state of the copied bytes when hashing.
    fn finish(&mut self) -> Result<Option<Hasher>> {
        let Some(job) = self.job.take() else {
            return Err(PdfError::InvalidOption {
                option: "output",
                reason: "the copy was already finished".into(),
            });
        };
        job.join().map_err(|_| {
            PdfError::io(
                "copying the file",
                std::io::Error::other("the copying thread stopped unexpectedly"),
            )
        })?
    }
}

impl Drop for PrefixCopy<'_> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Bytes the kernel copies at a time (the hashing thread follows chunk by chunk).
#[cfg(unix)]
const COPY_STEP: usize = 8 << 20;
/// Bytes copied between two `fdatasync`s of the output while copying.
#[cfg(unix)]
const SYNC_STEP: u64 = 16 << 20;
/// The buffer the copied bytes are read back into to be hashed.
#[cfg(unix)]
const HASH_BUFFER: usize = 2 << 20;

/// Copy `file`'s first `len` bytes to the start of `out` (a new, empty file) and, when
/// signing, hash them into `hasher`.
///
/// Three threads share the work. One has the kernel copy the input into `out`
/// ([`PdfFile::copy_range_to_file`]: `copy_file_range`, no pass through user space) in
/// [`COPY_STEP`] chunks. This one hashes each chunk as soon as it is copied, by reading
/// it back from `out` (from the page cache): the digest is of exactly the bytes the
/// output holds, whatever happens to the input meanwhile (and the copy itself refuses an
/// input whose length or modification time changed). A third `fdatasync`s `out` every
/// [`SYNC_STEP`] bytes, so the disk writes overlap the hashing instead of all waiting
/// for the final sync. Once `stop` is set the copy ends after its current step,
/// incomplete (an error), and the rest is not synced.
#[cfg(unix)]
fn copy_prefix(
    file: &PdfFile,
    len: u64,
    out: &File,
    hasher: Option<&mut Hasher>,
    stop: &AtomicBool,
) -> Result<()> {
    use std::os::unix::fs::FileExt as _;
    use std::sync::mpsc;
    let panicked = |what: &str| {
        PdfError::io(
            "copying the file",
            std::io::Error::other(format!("the {what} thread stopped unexpectedly")),
        )
    };
    std::thread::scope(|scope| -> Result<()> {
        let (copied_tx, copied_rx) = mpsc::channel::<u64>();
        let hashing = hasher.is_some();
        let copied_tx = hashing.then_some(copied_tx);
        let (sync_tx, sync_rx) = mpsc::channel::<u64>();
        let syncer = std::thread::Builder::new()
            .name("bidkit-sync".into())
            .spawn_scoped(scope, move || -> std::io::Result<()> {
                let mut synced = 0u64;
                let mut copied = 0u64;
                while let Ok(mut done) = sync_rx.recv() {
                    while let Ok(later) = sync_rx.try_recv() {
                        done = later;
                    }
                    copied = done;
                    if copied - synced >= SYNC_STEP {
                        out.sync_data()?;
                        synced = copied;
                    }
                }
                if copied > synced && !stop.load(Ordering::Relaxed) {
                    out.sync_data()?;
                }
                Ok(())
            });
        // Without the syncing thread (no thread to be had), the final sync does it all.
        let sync_tx = syncer.is_ok().then_some(sync_tx);
        let copier = std::thread::Builder::new()
            .name("bidkit-copy".into())
            .spawn_scoped(scope, move || {
                file.copy_range_to_file(0, len, out, COPY_STEP, &mut |done| {
                    if let Some(tx) = &sync_tx {
                        let _ = tx.send(done);
                    }
                    // Asked to stop, or the hashing side gone (it failed): stop copying.
                    !stop.load(Ordering::Relaxed)
                        && copied_tx.as_ref().is_none_or(|tx| tx.send(done).is_ok())
                })
            })
            .map_err(|e| PdfError::io("starting a thread to copy the file", e))?;
        let mut hashed = 0u64;
        let mut read_error = None;
        if let Some(h) = hasher {
            let size = usize::try_from(len).map_or(HASH_BUFFER, |n| n.min(HASH_BUFFER));
            let mut buf = vec![0u8; size.max(1)];
            'copied: for done in copied_rx.iter() {
                while hashed < done {
                    let want =
                        usize::try_from(done - hashed).map_or(buf.len(), |n| n.min(buf.len()));
                    let Some(part) = buf.get_mut(..want) else {
                        break 'copied;
                    };
                    match out.read_at(part, hashed) {
                        Ok(0) => {
                            read_error = Some(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the output became shorter",
                            ));
                            break 'copied;
                        }
                        Ok(n) => {
                            h.update(part.get(..n).unwrap_or_default());
                            hashed += n as u64;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            read_error = Some(e);
                            break 'copied;
                        }
                    }
                }
            }
        }
        drop(copied_rx);
        let copied = copier.join().map_err(|_| panicked("copying"))??;
        let synced = match syncer {
            Ok(t) => t.join().map_err(|_| panicked("syncing"))?,
            Err(_) => Ok(()),
        };
        if let Some(e) = read_error {
            return Err(PdfError::io("reading back the output to hash it", e));
        }
        let incomplete = |what: &str, done: u64| {
            PdfError::io(
                "copying the file",
                std::io::Error::other(format!("{what} {done} of {len} bytes")),
            )
        };
        if copied != len {
            return Err(incomplete("copied", copied));
        }
        if hashing && hashed != len {
            return Err(incomplete("hashed", hashed));
        }
        synced.map_err(|e| PdfError::io("flushing the output", e))
    })
}

/// Copy `file`'s first `len` bytes to `out` and hash them on the way (one thread); an
/// error once `stop` is set.
#[cfg(not(unix))]
fn copy_prefix(
    file: &PdfFile,
    len: u64,
    out: &File,
    hasher: Option<&mut Hasher>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    {
        let mut tee = Tee {
            out: &mut out,
            hasher,
            stop,
        };
        file.copy_range(0, len, &mut tee)?;
    }
    out.flush()
        .map_err(|e| PdfError::io("writing the output", e))
}

/// Writes to the output and, when signing, to the hasher.
#[cfg(not(unix))]
struct Tee<'a, W: Write> {
    out: &'a mut W,
    hasher: Option<&'a mut Hasher>,
    stop: &'a AtomicBool,
}

#[cfg(not(unix))]
impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the copy was stopped"));
        }
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

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Limits;
    use crate::generate::{DocumentSpec, write_document};

    fn signed_update(file: &PdfFile, out: &Path, hash: HashAlgorithm) -> Result<PreparedOutput> {
        let mut update = IncrementalUpdate::new(file);
        let sig = update.allocate();
        let mut d = Dictionary::new();
        d.set("Type", Object::Name(b"Sig".to_vec()));
        update.put_signature(sig, d, 32);
        update.write(out, hash)
    }

    /// Past several copy and sync steps, from a file and from memory: the original is a
    /// prefix of the output and the digest is of the output's byte ranges.
    #[test]
    fn a_large_copy_is_complete_and_hashed_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        let size = SYNC_STEP + COPY_STEP as u64 + 12_345;
        write_document(&DocumentSpec::a4(3).with_target_size(size), &input).unwrap();
        let original = std::fs::read(&input).unwrap();
        assert!(original.len() as u64 > SYNC_STEP + COPY_STEP as u64);
        for (i, file) in [
            PdfFile::open(&input, Limits::DEFAULT).unwrap(),
            PdfFile::from_bytes(original.clone(), Limits::DEFAULT).unwrap(),
        ]
        .into_iter()
        .enumerate()
        {
            let out = dir.path().join(format!("out-{i}.pdf"));
            let prepared = signed_update(&file, &out, HashAlgorithm::Sha256).unwrap();
            let [_, a, b, _] = prepared.byte_range();
            let digest = prepared.digest().to_vec();
            prepared.embed(&[1, 2, 3]).unwrap();
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(&bytes[..original.len()], &original[..]);
            let mut h = HashAlgorithm::Sha256.hasher();
            h.update(&bytes[..a as usize]);
            h.update(&bytes[b as usize..]);
            assert_eq!(h.finalize().to_vec(), digest);
        }
        assert_eq!(std::fs::read(&input).unwrap(), original, "input untouched");
    }

    /// Two updates of one open file written at once (the kernel copies take turns on the
    /// file's descriptor): both outputs hold the original and their own digests.
    #[test]
    fn concurrent_writes_from_one_file_are_both_complete() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        let size = 2 * COPY_STEP as u64 + 999;
        write_document(&DocumentSpec::a4(2).with_target_size(size), &input).unwrap();
        let original = std::fs::read(&input).unwrap();
        let file = PdfFile::open(&input, Limits::DEFAULT).unwrap();
        let outs: Vec<PathBuf> = (0..3)
            .map(|i| dir.path().join(format!("out-{i}.pdf")))
            .collect();
        let prepared: Vec<PreparedOutput> = std::thread::scope(|s| {
            let handles: Vec<_> = outs
                .iter()
                .map(|out| {
                    let file = &file;
                    s.spawn(move || signed_update(file, out, HashAlgorithm::Sha256).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (p, out) in prepared.into_iter().zip(&outs) {
            let [_, a, b, _] = p.byte_range();
            let digest = p.digest().to_vec();
            p.embed(&[7]).unwrap();
            let bytes = std::fs::read(out).unwrap();
            assert_eq!(&bytes[..original.len()], &original[..]);
            let mut h = HashAlgorithm::Sha256.hasher();
            h.update(&bytes[..a as usize]);
            h.update(&bytes[b as usize..]);
            assert_eq!(h.finalize().to_vec(), digest);
        }
    }

    /// An input that changed after it was opened is refused, naming it, and leaves no
    /// output behind.
    #[test]
    fn an_input_changed_since_opening_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        write_document(&DocumentSpec::a4(2), &input).unwrap();
        let file = PdfFile::open(&input, Limits::DEFAULT).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .unwrap();
        f.write_all(b"% appended\n").unwrap();
        drop(f);
        let out = dir.path().join("out.pdf");
        let e = signed_update(&file, &out, HashAlgorithm::Sm3).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("in.pdf"), "{text}");
        assert!(text.contains("changed"), "{text}");
        assert!(!out.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );
    }

    /// `progress` returning `false` stops the copy after the chunk it was told about.
    #[test]
    fn the_copy_stops_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        write_document(&DocumentSpec::a4(2).with_target_size(3 << 20), &input).unwrap();
        let file = PdfFile::open(&input, Limits::DEFAULT).unwrap();
        let out = File::create(dir.path().join("copy")).unwrap();
        let mut calls = 0;
        let copied = file
            .copy_range_to_file(0, file.len(), &out, 1 << 20, &mut |done| {
                calls += 1;
                assert_eq!(done, 1 << 20);
                false
            })
            .unwrap();
        assert_eq!((copied, calls), (1 << 20, 1));
        assert_eq!(out.metadata().unwrap().len(), 1 << 20);
    }
}
