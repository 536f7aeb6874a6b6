//! A `cargo fuzz` target (see `fuzz/` and `scripts/fuzz`) only needs:
//!
//! ```ignore
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| bidkit_pdf::fuzz::open_and_verify(data));
//! ```
//!
//! [`open_and_verify`] loads untrusted bytes with [`PdfFile::from_bytes`] under
//! [`FUZZ_LIMITS`], walks everything reachable (every revision's trailer, catalog and
//! pages, the latest revision's first, second and last pages found by `/Count`, each
//! page's resources and contents, every object a cross-reference section declares,
//! every stream through its filters) and runs the verifier with
//! [`TrustChoice::IntegrityOnly`]. Errors are expected and discarded; a panic, a hang or
//! an unbounded allocation is a bug. [`exercise`] does the same and reports what it saw,
//! so tests can check that well-formed seeds really get that far.

use std::collections::HashSet;

use lopdf::{Object, ObjectId};
use time::OffsetDateTime;

use crate::verify::{self, TrustChoice, VerificationReport, VerifyOptions};
use crate::{Limits, PdfFile, Result, XrefEntry, syntax};

/// Limits for fuzzing: the shape of [`Limits::DEFAULT`], with sizes small enough that
/// one input costs milliseconds, not seconds.
pub const FUZZ_LIMITS: Limits = Limits {
    max_stream_decoded: 4 * 1024 * 1024,
    max_stream_raw: 4 * 1024 * 1024,
    max_depth: 64,
    max_objects: 100_000,
    max_revisions: 64,
    max_indirections: 32,
    max_pages: 1_000,
};

/// Most objects fetched (or values visited) while walking one input.
const MAX_VISITS: usize = 4_096;
/// Most decoded stream bytes in total for one input.
const MAX_DECODED_TOTAL: usize = 16 * 1024 * 1024;
/// Most pages whose resources and contents are read, per revision.
const MAX_PAGES_WALKED: usize = 256;
/// The validation time passed to the verifier (fixed, so runs are reproducible).
const FUZZ_NOW: i64 = 1_767_225_600;

/// What [`exercise`] saw in a document it could open.
#[derive(Debug)]
pub struct Exercised {
    /// Revisions (cross-reference sections in the `/Prev` chain).
    pub revisions: usize,
    /// Pages of the latest revision (`None`: its page tree could not be read).
    pub pages: Option<usize>,
    /// Objects fetched without error.
    pub objects: usize,
    /// Streams decoded through their filters without error.
    pub streams: usize,
    /// The verifier's report.
    pub report: VerificationReport,
}

/// Load `data` as a PDF, walk everything reachable and verify its signatures
/// (integrity only). Never panics on any input — that is what a fuzzer checks; results
/// are discarded.
pub fn open_and_verify(data: &[u8]) {
    if let Ok(ex) = exercise(data) {
        std::hint::black_box(ex);
    }
}

/// Like [`open_and_verify`], reporting what was seen. Fails only when `data` cannot be
/// opened as a PDF at all; problems further in are counted out, not errors.
pub fn exercise(data: &[u8]) -> Result<Exercised> {
    // The object parser on its own, over the raw bytes.
    let _ = syntax::parse_object(data, &FUZZ_LIMITS);
    let _ = syntax::parse_indirect(data, 0, &FUZZ_LIMITS);

    let file = PdfFile::from_bytes(data.to_vec(), FUZZ_LIMITS)?;
    let mut walk = Walk {
        file: &file,
        visits: 0,
        decoded: 0,
        objects: 0,
        streams: 0,
        seen: HashSet::new(),
    };
    let _ = file.next_object_number();
    let _ = file.copy_range(0, file.len(), &mut std::io::sink());

    let mut latest_pages = None;
    for (r, revision) in file.revisions().iter().enumerate() {
        let _ = file.copy_range(0, revision.end, &mut std::io::sink());
        walk.seen.clear();
        walk.values(r, Object::Dictionary(revision.trailer.clone()));
        if let Ok((id, _)) = file.catalog_at(r) {
            walk.values(r, Object::Reference(id));
        }
        let pages = file.pages_at(r);
        if let Ok(pages) = &pages {
            for page in pages.iter().take(MAX_PAGES_WALKED) {
                if r + 1 == file.revisions().len() {
                    if let Ok(Some(resources)) = file.page_resources(page) {
                        walk.values(r, Object::Dictionary(resources));
                    }
                    if let Ok(contents) = page.dict.get(b"Contents") {
                        walk.values(r, contents.clone());
                    }
                }
                walk.values(r, Object::Reference(page.id));
            }
        }
        if r + 1 == file.revisions().len() {
            latest_pages = pages.ok().map(|p| p.len());
            // Single pages found by `/Count`, as page-mode sealing finds them.
            for index in [0, 1, latest_pages.unwrap_or(0).saturating_sub(1)] {
                let _ = file.page(index);
            }
        }
        // Everything the section declares, reachable or not.
        let declared: Vec<(u32, XrefEntry)> =
            revision.entries.iter().map(|(n, e)| (*n, *e)).collect();
        for (number, entry) in declared {
            let generation = match entry {
                XrefEntry::InFile { generation, .. } => generation,
                XrefEntry::InStream { .. } => 0,
                XrefEntry::Free => continue,
            };
            let _ = file.entry_at(r, number);
            walk.values(r, Object::Reference((number, generation)));
            if walk.exhausted() {
                break;
            }
        }
    }

    let options = VerifyOptions {
        trust: TrustChoice::IntegrityOnly,
        at: OffsetDateTime::from_unix_timestamp(FUZZ_NOW).ok(),
        limits: FUZZ_LIMITS,
    };
    let report = verify::verify(&file, &options);
    Ok(Exercised {
        revisions: file.revisions().len(),
        pages: latest_pages,
        objects: walk.objects,
        streams: walk.streams,
        report,
    })
}

/// A bounded walk over the object graph (iterative: no recursion on hostile nesting).
struct Walk<'f> {
    file: &'f PdfFile,
    visits: usize,
    decoded: usize,
    objects: usize,
    streams: usize,
    /// References already followed in the current revision.
    seen: HashSet<ObjectId>,
}

impl Walk<'_> {
    fn exhausted(&self) -> bool {
        self.visits >= MAX_VISITS
    }

    /// Visit `root` and everything it references, as of `revision`.
    fn values(&mut self, revision: usize, root: Object) {
        let mut stack = vec![root];
        while let Some(value) = stack.pop() {
            if self.exhausted() {
                return;
            }
            self.visits += 1;
            match value {
                Object::Reference(id) => {
                    if !self.seen.insert(id) {
                        continue;
                    }
                    if let Ok(Some(object)) = self.file.object_at(revision, id) {
                        self.objects += 1;
                        stack.push(object);
                    }
                }
                Object::Array(items) => stack.extend(items),
                Object::Dictionary(dict) => {
                    stack.extend(dict.into_iter().map(|(_, v)| v));
                }
                Object::Stream(stream) => {
                    if self.decoded < MAX_DECODED_TOTAL
                        && let Ok(data) = self.file.stream_data(&stream)
                    {
                        self.decoded = self.decoded.saturating_add(data.len());
                        self.streams += 1;
                    }
                    stack.extend(stream.dict.into_iter().map(|(_, v)| v));
                }
                _ => {}
            }
        }
    }
}
