//! A lazy, random-access PDF reader: cross-reference sections (tables and streams,
//! hybrid files, object streams) and the `/Prev` chain are read on open; objects are
//! fetched from the file only when asked for. One [`Revision`] per cross-reference
//! section, oldest first, each with the byte offset where it ends (after its `%%EOF`).
//!
//! Memory: on open, only the cross-reference sections are held (proportional to the
//! number of objects, not to the file size). Objects are read with bounded windows; a
//! small cache keeps recently used small objects and a few decoded object streams.
//!
//! A linearized file's first-page cross-reference section and its main section (whose
//! `/Prev` points forward in the file) form one revision.
//!
//! CONTRACT (skeleton written by the lead; the implementation fills the bodies and may
//! add methods, but keeps these signatures).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};

use lopdf::{Dictionary, Object, ObjectId, Stream};

use crate::syntax::{self, Indirect, ParseError, Parser};
use crate::{Limits, PdfError, Rect, Result, filters};

/// Where an object lives, per one cross-reference section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefEntry {
    /// Free (deleted) entry.
    Free,
    /// An uncompressed object at a byte offset.
    InFile {
        /// Offset of `N G obj`.
        offset: u64,
        /// Generation number.
        generation: u16,
    },
    /// An object inside an object stream.
    InStream {
        /// The object stream's object number.
        stream: u32,
        /// Index within the stream.
        index: u32,
    },
}

/// Kind of cross-reference section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefKind {
    /// Classic `xref` table with a `trailer` dictionary.
    Table,
    /// Cross-reference stream (PDF 1.5).
    Stream,
}

/// One revision: a cross-reference section and the bytes up to its `%%EOF`.
#[derive(Clone, Debug)]
pub struct Revision {
    /// 0 for the original document, then one per incremental update.
    pub index: usize,
    /// Byte offset of this revision's cross-reference section (its `startxref` value).
    pub xref_offset: u64,
    /// Byte offset just after this revision's `%%EOF` (and its end-of-line, if any):
    /// the document as of this revision is the file's bytes `0..end`.
    pub end: u64,
    /// Table or stream.
    pub kind: XrefKind,
    /// The trailer dictionary (or the cross-reference stream's dictionary).
    pub trailer: Dictionary,
    /// The entries this section declares (only this section's, not merged).
    pub entries: BTreeMap<u32, XrefEntry>,
}

/// A page as the document describes it (inherited attributes resolved).
#[derive(Clone, Debug)]
pub struct PageInfo {
    /// 0-based page index.
    pub index: usize,
    /// The page object's id.
    pub id: ObjectId,
    /// The page dictionary as stored.
    pub dict: Dictionary,
    /// `/MediaBox` (inherited if needed).
    pub media_box: Rect,
    /// `/CropBox`, or the media box.
    pub crop_box: Rect,
    /// `/Rotate` in degrees (0, 90, 180, 270).
    pub rotate: i32,
}

/// The pages an operation works on: every page of the document, or only the ones it
/// needs (one page found by [`PdfFile::page`]), with the document's page count.
#[derive(Clone, Debug, Default)]
pub struct PageSet {
    count: usize,
    /// Sorted by index.
    pages: Vec<PageInfo>,
}

impl PageSet {
    /// Some of a document's `count` pages.
    pub fn some(mut pages: Vec<PageInfo>, count: usize) -> PageSet {
        pages.sort_by_key(|p| p.index);
        pages.dedup_by_key(|p| p.index);
        PageSet { count, pages }
    }

    /// How many pages the document has.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Page `index` (0-based), if the set holds it.
    pub fn get(&self, index: usize) -> Option<&PageInfo> {
        self.pages
            .binary_search_by_key(&index, |p| p.index)
            .ok()
            .and_then(|i| self.pages.get(i))
    }
}

impl From<Vec<PageInfo>> for PageSet {
    /// Every page of a document, in order.
    fn from(pages: Vec<PageInfo>) -> PageSet {
        let count = pages.len();
        PageSet::some(pages, count)
    }
}

/// Bytes to read from, at offsets: a file (read with positioned reads, never mapped) or
/// memory.
trait Source: Send + Sync + fmt::Debug {
    fn len(&self) -> u64;
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
    /// The open file, when the bytes come from one whose offset no reader relies on
    /// (Unix, where reads are positioned): [`PdfFile::copy_range_to_file`] lets the
    /// kernel copy from it.
    fn file(&self) -> Option<&std::fs::File> {
        None
    }
}

#[derive(Debug)]
struct FileSource {
    file: std::fs::File,
    len: u64,
    #[cfg(not(any(unix, windows)))]
    lock: Mutex<()>,
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    #[cfg(unix)]
    fn file(&self) -> Option<&std::fs::File> {
        Some(&self.file)
    }

    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
    }

    #[cfg(not(any(unix, windows)))]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::{Read, Seek, SeekFrom};
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = &self.file;
        f.seek(SeekFrom::Start(offset))?;
        f.read(buf)
    }
}

struct MemSource(Vec<u8>);

impl fmt::Debug for MemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemSource({} bytes)", self.0.len())
    }
}

impl Source for MemSource {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let avail = self.0.get(start..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }
}

/// A decoded object stream.
#[derive(Debug)]
struct ObjStm {
    data: Vec<u8>,
    /// (object number, absolute offset in `data`) per index.
    offsets: Vec<(u32, usize)>,
}

/// Where a cached object came from.
type Location = (u64, u32);

#[derive(Debug, Default)]
struct Cache {
    objects: HashMap<Location, Object>,
    objstms: Vec<(Location, Arc<ObjStm>)>,
}

const CACHE_OBJECTS: usize = 2048;
const CACHE_OBJSTMS: usize = 4;
const CACHE_MAX_STREAM: usize = 16 * 1024;
/// Largest object text (without stream data) parsed from one window.
const MAX_WINDOW: usize = 64 * 1024 * 1024;
/// Largest `read_bytes` range.
const MAX_READ_BYTES: usize = 64 * 1024 * 1024;
/// Chunk for `copy_range`.
const COPY_CHUNK: usize = 1024 * 1024;
/// How far after a cross-reference section its `%%EOF` is looked for.
const EOF_SEARCH: u64 = 64 * 1024;
/// Nested fetches (a `/Length` that is a reference, object streams in object streams).
const MAX_FETCH_DEPTH: usize = 8;

/// An open PDF file, read lazily. See the module documentation.
#[derive(Debug)]
pub struct PdfFile {
    path: PathBuf,
    len: u64,
    limits: Limits,
    revisions: Vec<Revision>,
    source: Box<dyn Source>,
    cache: Mutex<Cache>,
    /// Held while the kernel copies from the file's descriptor, whose offset that moves.
    copy_lock: Mutex<()>,
    empty: Dictionary,
}

/// One cross-reference section as read.
struct Section {
    offset: u64,
    kind: XrefKind,
    trailer: Dictionary,
    entries: BTreeMap<u32, XrefEntry>,
    /// Where the section (trailer dictionary or stream object) ends.
    end_pos: u64,
}

impl PdfFile {
    /// Open `path`: read the header, the cross-reference sections and trailers. Errors
    /// name the file. An encrypted document is [`PdfError::Encrypted`].
    pub fn open(path: &Path, limits: Limits) -> Result<PdfFile> {
        let run = || -> Result<PdfFile> {
            let file = std::fs::File::open(path).map_err(|e| PdfError::io("opening", e))?;
            let len = file
                .metadata()
                .map_err(|e| PdfError::io("reading the file's size", e))?
                .len();
            let source = FileSource {
                file,
                len,
                #[cfg(not(any(unix, windows)))]
                lock: Mutex::new(()),
            };
            PdfFile::from_source(path.to_path_buf(), Box::new(source), limits)
        };
        run().map_err(|e| e.in_file(path))
    }

    /// Open a PDF held in memory (tests, fuzzing, small documents). Its path reads
    /// `<memory>`.
    pub fn from_bytes(bytes: Vec<u8>, limits: Limits) -> Result<PdfFile> {
        let path = PathBuf::from("<memory>");
        PdfFile::from_source(path.clone(), Box::new(MemSource(bytes)), limits)
            .map_err(|e| e.in_file(path))
    }

    fn from_source(path: PathBuf, source: Box<dyn Source>, limits: Limits) -> Result<PdfFile> {
        let len = source.len();
        let mut file = PdfFile {
            path,
            len,
            limits,
            revisions: Vec::new(),
            source,
            cache: Mutex::new(Cache::default()),
            copy_lock: Mutex::new(()),
            empty: Dictionary::new(),
        };
        file.read_structure()?;
        Ok(file)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (never true for an opened PDF).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The limits this file is read under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Every revision, oldest first.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// The latest trailer.
    pub fn trailer(&self) -> &Dictionary {
        match self.revisions.last() {
            Some(r) => &r.trailer,
            None => &self.empty,
        }
    }

    fn latest(&self) -> usize {
        self.revisions.len().saturating_sub(1)
    }

    /// The next free object number: the latest trailer's `/Size`, or more if some
    /// cross-reference section declares a larger object number.
    pub fn next_object_number(&self) -> u32 {
        let size = match self.trailer().get(b"Size") {
            Ok(Object::Integer(n)) => u32::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        let declared = self
            .revisions
            .iter()
            .filter_map(|r| r.entries.keys().next_back())
            .max()
            .map_or(1, |n| n.saturating_add(1));
        size.max(declared).max(1)
    }

    /// The cross-reference entry for object number `number` as of `revision` (the newest
    /// section up to that revision that declares it).
    pub fn entry_at(&self, revision: usize, number: u32) -> Option<XrefEntry> {
        let upto = revision.min(self.latest());
        self.revisions
            .get(..=upto)?
            .iter()
            .rev()
            .find_map(|r| r.entries.get(&number).copied())
    }

    /// An object as of the latest revision.
    pub fn object(&self, id: ObjectId) -> Result<Object> {
        self.object_at(self.latest(), id)?
            .ok_or(PdfError::BadObject {
                id: id.0,
                generation: id.1,
                reason: "not in the document".into(),
            })
    }

    /// An object as of revision `revision` (`None`: not defined, or free, then).
    pub fn object_at(&self, revision: usize, id: ObjectId) -> Result<Option<Object>> {
        if revision >= self.revisions.len() {
            return Err(PdfError::InvalidOption {
                option: "revision",
                reason: format!(
                    "revision {revision} does not exist: the document has {}",
                    self.revisions.len()
                ),
            });
        }
        self.fetch(revision, id, 0)
            .map_err(|e| e.in_file(&self.path))
    }

    /// Follow references (bounded by [`Limits::max_indirections`]) at the latest
    /// revision; non-references are returned as they are.
    pub fn resolve(&self, object: &Object) -> Result<Object> {
        self.resolve_at(self.latest(), object)
    }

    /// Like [`PdfFile::resolve`], as of `revision`. A reference to a missing or free
    /// object resolves to `null` (ISO 32000-1 §7.3.10).
    pub fn resolve_at(&self, revision: usize, object: &Object) -> Result<Object> {
        let mut current = object.clone();
        let mut steps = 0usize;
        while let Object::Reference(id) = current {
            if steps >= self.limits.max_indirections {
                return Err(PdfError::LimitExceeded {
                    what: "chain of references (a reference loop?)",
                    limit: self.limits.max_indirections as u64,
                }
                .in_file(&self.path));
            }
            steps += 1;
            current = self.object_at(revision, id)?.unwrap_or(Object::Null);
        }
        Ok(current)
    }

    /// A page tree node as of `revision`, like [`PdfFile::resolve_at`] but without
    /// keeping it in the cache: a walk reads each page once and hands it to its caller,
    /// and caching a thousand page dictionaries only to drop them costs more than
    /// reading them.
    fn page_node(&self, revision: usize, node: &Object) -> Result<Object> {
        match node {
            Object::Reference(id) => match self.fetch_as(revision, *id, 0, Caching::Pass) {
                Ok(Some(Object::Reference(again))) => {
                    self.resolve_at(revision, &Object::Reference(again))
                }
                Ok(found) => Ok(found.unwrap_or(Object::Null)),
                Err(e) => Err(e.in_file(&self.path)),
            },
            other => self.resolve_at(revision, other),
        }
    }

    /// The document catalog (`/Root`) as of the latest revision.
    pub fn catalog(&self) -> Result<(ObjectId, Dictionary)> {
        self.catalog_at(self.latest())
    }

    /// The document catalog (`/Root`) as of `revision`.
    pub fn catalog_at(&self, revision: usize) -> Result<(ObjectId, Dictionary)> {
        let trailer = self
            .revisions
            .get(revision)
            .map(|r| &r.trailer)
            .unwrap_or(&self.empty);
        let id = match trailer.get(b"Root") {
            Ok(Object::Reference(id)) => *id,
            _ => {
                return Err(
                    PdfError::malformed(None, "the trailer has no /Root reference")
                        .in_file(&self.path),
                );
            }
        };
        match self.resolve_at(revision, &Object::Reference(id))? {
            Object::Dictionary(d) => Ok((id, d)),
            _ => Err(PdfError::BadObject {
                id: id.0,
                generation: id.1,
                reason: "the catalog is not a dictionary".into(),
            }
            .in_file(&self.path)),
        }
    }

    /// Every page in order, as of the latest revision.
    pub fn pages(&self) -> Result<Vec<PageInfo>> {
        self.pages_at(self.latest())
    }

    /// Every page in order, as of `revision`.
    pub fn pages_at(&self, revision: usize) -> Result<Vec<PageInfo>> {
        self.walk_pages(revision).map_err(|e| e.in_file(&self.path))
    }

    /// Page `index` (0-based) as of the latest revision, found by descending the page
    /// tree along `/Count` instead of walking every page; `None` when the document has
    /// no such page. The document's page count comes with it.
    ///
    /// Along the way down, each node's kids' counts must add up to its own, except at a
    /// node with as many kids as pages whose kids up to the wanted one are all pages:
    /// there that kid is the page, and the kids after it are not read. Where the counts
    /// do not add up, or the tree cannot be descended, the whole tree is walked as
    /// [`PdfFile::pages`] does. The subtrees passed over are trusted to hold as many
    /// pages as their `/Count` says, as viewers (pdf.js, pdfium) trust them to find a
    /// page.
    pub fn page(&self, index: usize) -> Result<(Option<PageInfo>, usize)> {
        let revision = self.latest();
        match self.descend_to_page(revision, index) {
            Ok(Some((page, count))) => Ok((Some(page), count)),
            // A tree that cannot be descended gets the full walk, which says why.
            Ok(None) | Err(_) => {
                let mut pages = self.pages_at(revision)?;
                let count = pages.len();
                let page = (index < count).then(|| pages.swap_remove(index));
                Ok((page, count))
            }
        }
    }

    /// [`PdfFile::page`] by `/Count`: `None` when the counts cannot be trusted (missing,
    /// inconsistent, a node deeper than the limit), for the caller to walk instead.
    fn descend_to_page(&self, revision: usize, index: usize) -> Result<Option<(PageInfo, usize)>> {
        let (_, catalog) = self.catalog_at(revision)?;
        let Ok(Object::Reference(root)) = catalog.get(b"Pages") else {
            return Ok(None);
        };
        let mut inherited = Inherited::default();
        let mut node = *root;
        let Object::Dictionary(mut dict) = self.page_node(revision, &Object::Reference(node))?
        else {
            return Ok(None);
        };
        let mut remaining = index;
        let mut total = None;
        for _ in 0..=self.limits.max_depth {
            if is_page(&dict) {
                return match (remaining, total) {
                    (0, Some(total)) => {
                        let page = self.page_info(revision, index, node, dict, &inherited)?;
                        Ok(Some((page, total)))
                    }
                    _ => Ok(None),
                };
            }
            inherited.take_from(&dict);
            let Some(count) = self.count(revision, &dict)? else {
                return Ok(None);
            };
            let total = *total.get_or_insert(count);
            if total > self.limits.max_pages {
                return Ok(None);
            }
            if remaining >= count {
                // Out of range, or a count too small: the walk decides.
                return Ok(None);
            }
            let Object::Array(kids) =
                self.resolve_at(revision, dict.get(b"Kids").unwrap_or(&Object::Null))?
            else {
                return Ok(None);
            };
            // The kids are read in order. With as many kids as pages, and every kid up to
            // the wanted position a page of this node, the wanted page is the kid at that
            // position and the rest are not read. (An empty node beside a node of several
            // pages also makes as many kids as pages, hence the check of the kids before
            // it.) Otherwise every kid's count is read: the wanted page is in the kid
            // whose pages span its position, and the counts must add up to this node's.
            let flat = kids.len() == count;
            let mut only_pages = true;
            let mut next = None;
            let mut seen = 0usize;
            for (position, kid) in kids.iter().enumerate() {
                let Object::Reference(kid) = kid else {
                    return Ok(None);
                };
                let Object::Dictionary(d) = self.page_node(revision, &Object::Reference(*kid))?
                else {
                    return Ok(None);
                };
                let kid_is_page = is_page(&d);
                only_pages &= kid_is_page && parent_is(&d, node);
                if flat && only_pages && position == remaining {
                    let page = self.page_info(revision, index, *kid, d, &inherited)?;
                    return Ok(Some((page, total)));
                }
                let pages_in_kid = if kid_is_page {
                    1
                } else {
                    match self.count(revision, &d)? {
                        Some(c) => c,
                        None => return Ok(None),
                    }
                };
                if next.is_none() && remaining < seen.saturating_add(pages_in_kid) {
                    next = Some((*kid, remaining - seen, d));
                }
                seen = seen.saturating_add(pages_in_kid);
            }
            if seen != count {
                return Ok(None);
            }
            match next {
                Some((kid, within, d)) => (node, remaining, dict) = (kid, within, d),
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// A page tree node's `/Count`, when it is a whole number.
    fn count(&self, revision: usize, node: &Dictionary) -> Result<Option<usize>> {
        Ok(
            match self.resolve_at(revision, node.get(b"Count").unwrap_or(&Object::Null))? {
                Object::Integer(n) => usize::try_from(n).ok(),
                _ => None,
            },
        )
    }

    fn walk_pages(&self, revision: usize) -> Result<Vec<PageInfo>> {
        let (_, catalog) = self.catalog_at(revision)?;
        let root = catalog
            .get(b"Pages")
            .map_err(|_| PdfError::malformed(None, "the catalog has no /Pages"))?
            .clone();
        let mut pages = Vec::new();
        let mut visited: HashSet<ObjectId> = HashSet::new();
        let mut stack: Vec<(Object, Rc<Inherited>)> = vec![(root, Rc::default())];
        while let Some((node, inherited)) = stack.pop() {
            let id = match node {
                Object::Reference(id) => {
                    if !visited.insert(id) {
                        return Err(PdfError::malformed(
                            None,
                            format!(
                                "the page tree has a loop (object {} {} is reached twice)",
                                id.0, id.1
                            ),
                        ));
                    }
                    Some(id)
                }
                _ => None,
            };
            let dict = match self.page_node(revision, &node)? {
                Object::Dictionary(d) => d,
                _ => {
                    let (n, g) = id.unwrap_or((0, 0));
                    return Err(PdfError::BadObject {
                        id: n,
                        generation: g,
                        reason: "a page tree node is not a dictionary".into(),
                    });
                }
            };
            if !is_page(&dict) {
                let mut own = Inherited::clone(&inherited);
                own.take_from(&dict);
                let inherited = Rc::new(own);
                let kids =
                    match self.resolve_at(revision, dict.get(b"Kids").unwrap_or(&Object::Null))? {
                        Object::Array(kids) => kids,
                        Object::Null => Vec::new(),
                        _ => return Err(PdfError::malformed(None, "/Kids is not an array")),
                    };
                if stack.len().saturating_add(kids.len())
                    > self.limits.max_pages.saturating_mul(2).saturating_add(64)
                {
                    return Err(PdfError::LimitExceeded {
                        what: "number of pages",
                        limit: self.limits.max_pages as u64,
                    });
                }
                for kid in kids.into_iter().rev() {
                    stack.push((kid, Rc::clone(&inherited)));
                }
                continue;
            }
            let Some(id) = id else {
                return Err(PdfError::malformed(
                    None,
                    "a page is not an indirect object",
                ));
            };
            if pages.len() >= self.limits.max_pages {
                return Err(PdfError::LimitExceeded {
                    what: "number of pages",
                    limit: self.limits.max_pages as u64,
                });
            }
            pages.push(self.page_info(revision, pages.len(), id, dict, &inherited)?);
        }
        Ok(pages)
    }

    /// A page's [`PageInfo`]: its boxes and rotation are its own, else those its
    /// ancestors pass down (`inherited`).
    fn page_info(
        &self,
        revision: usize,
        index: usize,
        id: ObjectId,
        dict: Dictionary,
        inherited: &Inherited,
    ) -> Result<PageInfo> {
        let bad = |reason: &str| PdfError::BadObject {
            id: id.0,
            generation: id.1,
            reason: reason.into(),
        };
        let own = |key: &[u8], from_above: &'_ Option<Object>| -> Option<Object> {
            dict.get(key).ok().or(from_above.as_ref()).cloned()
        };
        let (media, crop, rotate) = (
            own(b"MediaBox", &inherited.media),
            own(b"CropBox", &inherited.crop),
            own(b"Rotate", &inherited.rotate),
        );
        let media = match &media {
            Some(m) => self
                .rect(revision, m)?
                .ok_or_else(|| bad("invalid /MediaBox"))?,
            None => return Err(bad("the page has no /MediaBox")),
        };
        let crop = match &crop {
            Some(c) => match self.rect(revision, c)? {
                Some(c) => intersect(&c, &media).unwrap_or(media),
                None => media,
            },
            None => media,
        };
        let rotate = match rotate.as_ref().map(|r| self.resolve_at(revision, r)) {
            Some(Ok(Object::Integer(r))) => r,
            Some(Ok(Object::Real(r))) => r as i64,
            Some(Err(e)) => return Err(e),
            _ => 0,
        };
        let rotate = rotate.rem_euclid(360);
        let rotate = if rotate % 90 == 0 { rotate as i32 } else { 0 };
        Ok(PageInfo {
            index,
            id,
            dict,
            media_box: media,
            crop_box: crop,
            rotate,
        })
    }

    /// The page's `/Resources`, inherited from its ancestors if it has none (`None`:
    /// neither the page nor any ancestor has resources).
    pub fn page_resources(&self, page: &PageInfo) -> Result<Option<Dictionary>> {
        let mut dict = page.dict.clone();
        let mut visited = HashSet::new();
        for _ in 0..=self.limits.max_depth.max(64) {
            if let Ok(res) = dict.get(b"Resources") {
                return match self.resolve(res)? {
                    Object::Dictionary(d) => Ok(Some(d)),
                    _ => Ok(None),
                };
            }
            match dict.get(b"Parent") {
                Ok(Object::Reference(id)) if visited.insert(*id) => {
                    match self.resolve(&Object::Reference(*id))? {
                        Object::Dictionary(d) => dict = d,
                        _ => return Ok(None),
                    }
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    fn rect(&self, revision: usize, object: &Object) -> Result<Option<Rect>> {
        let Object::Array(items) = self.resolve_at(revision, object)? else {
            return Ok(None);
        };
        if items.len() != 4 {
            return Ok(None);
        }
        let mut v = [0f64; 4];
        for (slot, item) in v.iter_mut().zip(items.iter()) {
            *slot = match self.resolve_at(revision, item)? {
                Object::Integer(i) => i as f64,
                Object::Real(r) => f64::from(r),
                _ => return Ok(None),
            };
            if !slot.is_finite() {
                return Ok(None);
            }
        }
        let r = Rect::new(v[0], v[1], v[2], v[3]);
        if r.width() <= 0.0 || r.height() <= 0.0 {
            return Ok(None);
        }
        Ok(Some(r))
    }

    /// The decoded content of a stream (filters applied, capped by the limits).
    pub fn stream_data(&self, stream: &Stream) -> Result<Vec<u8>> {
        self.decode_stream(self.latest(), stream)
            .map_err(|e| e.in_file(&self.path))
    }

    fn decode_stream(&self, revision: usize, stream: &Stream) -> Result<Vec<u8>> {
        if stream.content.len() as u64 > self.limits.max_stream_raw {
            return Err(PdfError::LimitExceeded {
                what: "raw stream size",
                limit: self.limits.max_stream_raw,
            });
        }
        let mut dict = Dictionary::new();
        for key in [&b"Filter"[..], b"DecodeParms", b"DP"] {
            if let Ok(v) = stream.dict.get(key) {
                let v = match self.resolve_at(revision, v)? {
                    Object::Array(items) => {
                        let mut out = Vec::with_capacity(items.len());
                        for item in items.iter().take(16) {
                            out.push(self.resolve_at(revision, item)?);
                        }
                        Object::Array(out)
                    }
                    other => other,
                };
                dict.set(key, v);
            }
        }
        filters::decode(&dict, &stream.content, &self.limits)
    }

    /// Copy the file's bytes `start..end` to `out` in chunks (constant memory).
    pub fn copy_range(&self, start: u64, end: u64, out: &mut dyn std::io::Write) -> Result<()> {
        if start > end || end > self.len {
            return Err(PdfError::InvalidOption {
                option: "byte range",
                reason: format!("{start}..{end} is not within the file's {} bytes", self.len),
            }
            .in_file(&self.path));
        }
        let mut buf = vec![0u8; COPY_CHUNK.min((end - start) as usize).max(1)];
        let mut pos = start;
        while pos < end {
            let want = ((end - pos) as usize).min(buf.len());
            let Some(chunk) = buf.get_mut(..want) else {
                break;
            };
            let n = self
                .read_full(pos, chunk)
                .map_err(|e| e.in_file(&self.path))?;
            if n < want {
                return Err(PdfError::io(
                    format!("reading bytes {pos}..{}", pos + want as u64),
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file became shorter",
                    ),
                )
                .in_file(&self.path));
            }
            out.write_all(chunk.get(..n).unwrap_or_default())
                .map_err(|e| PdfError::io("writing a copy of the file", e))?;
            pos += n as u64;
        }
        Ok(())
    }

    /// Copy the file's bytes `start..end` into `out` at `out`'s current position, `chunk`
    /// bytes at a time, calling `progress` with the number of bytes copied so far after
    /// each chunk; `progress` returns `false` to stop early. Returns the bytes copied
    /// (fewer than `end - start` only when `progress` stopped the copy).
    ///
    /// From a file on Unix the kernel copies (`std::io::copy` between two files is
    /// `copy_file_range` on Linux: no pass through user space, and a reflink where the
    /// filesystem offers one); from memory, or elsewhere, through a buffer. The file must
    /// not change meanwhile: its length must still be the one it had when opened, and its
    /// length and modification time after the copy the ones before it; a change is an
    /// error, as is a file that became shorter.
    pub fn copy_range_to_file(
        &self,
        start: u64,
        end: u64,
        out: &std::fs::File,
        chunk: usize,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64> {
        if start > end || end > self.len {
            return Err(PdfError::InvalidOption {
                option: "byte range",
                reason: format!("{start}..{end} is not within the file's {} bytes", self.len),
            }
            .in_file(&self.path));
        }
        let chunk = chunk.max(1);
        let copied = match self.source.file() {
            Some(input) => self.kernel_copy(input, start, end, out, chunk as u64, progress),
            None => self.buffer_copy(start, end, out, chunk, progress),
        };
        copied.map_err(|e| e.in_file(&self.path))
    }

    /// [`PdfFile::copy_range_to_file`] by the kernel, from the file's own descriptor (its
    /// offset is moved: on Unix nothing else reads by offset, and concurrent copies from
    /// one `PdfFile` take turns).
    fn kernel_copy(
        &self,
        input: &std::fs::File,
        start: u64,
        end: u64,
        out: &std::fs::File,
        chunk: u64,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64> {
        use std::io::{Read, Seek, SeekFrom};
        let stamp = || {
            input
                .metadata()
                .map(|m| (m.len(), m.modified().ok()))
                .map_err(|e| PdfError::io("checking the file", e))
        };
        let changed = |when: &str| {
            PdfError::io(
                "copying the file",
                std::io::Error::other(format!("the file changed {when}")),
            )
        };
        let _turn = self.copy_lock.lock().unwrap_or_else(|e| e.into_inner());
        let before = stamp()?;
        if before.0 != self.len {
            return Err(changed("after it was opened"));
        }
        let mut reader = input;
        reader
            .seek(SeekFrom::Start(start))
            .map_err(|e| PdfError::io("copying the file", e))?;
        let mut writer = out;
        let mut pos = start;
        while pos < end {
            let want = chunk.min(end - pos);
            let n = std::io::copy(&mut reader.take(want), &mut writer).map_err(|e| {
                PdfError::io(
                    format!("copying bytes {pos}..{} to the output", pos + want),
                    e,
                )
            })?;
            if n < want {
                return Err(PdfError::io(
                    format!("copying bytes {pos}..{} to the output", pos + want),
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file became shorter",
                    ),
                ));
            }
            pos += n;
            if !progress(pos - start) {
                break;
            }
        }
        if stamp()? != before {
            return Err(changed("while it was being copied"));
        }
        Ok(pos - start)
    }

    /// [`PdfFile::copy_range_to_file`] through a buffer.
    fn buffer_copy(
        &self,
        start: u64,
        end: u64,
        out: &std::fs::File,
        chunk: usize,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64> {
        use std::io::Write as _;
        let size = COPY_CHUNK.min(chunk);
        let mut buf = vec![
            0u8;
            usize::try_from(end - start)
                .map_or(size, |n| n.min(size))
                .max(1)
        ];
        let mut writer = out;
        let mut pos = start;
        let mut reported = start;
        while pos < end {
            let want = usize::try_from(end - pos).map_or(buf.len(), |n| n.min(buf.len()));
            let Some(part) = buf.get_mut(..want) else {
                break;
            };
            let n = self.read_full(pos, part)?;
            if n < want {
                return Err(PdfError::io(
                    format!("reading bytes {pos}..{}", pos + want as u64),
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file became shorter",
                    ),
                ));
            }
            writer
                .write_all(part)
                .map_err(|e| PdfError::io("writing a copy of the file", e))?;
            pos += n as u64;
            if pos - reported >= chunk as u64 || pos == end {
                reported = pos;
                if !progress(pos - start) {
                    break;
                }
            }
        }
        Ok(pos - start)
    }

    /// Read the file's bytes `start..start+len` (for small ranges: signatures; at most
    /// 64 MiB).
    pub fn read_bytes(&self, start: u64, len: usize) -> Result<Vec<u8>> {
        if len > MAX_READ_BYTES {
            return Err(PdfError::LimitExceeded {
                what: "bytes read at once",
                limit: MAX_READ_BYTES as u64,
            }
            .in_file(&self.path));
        }
        if start.checked_add(len as u64).is_none_or(|e| e > self.len) {
            return Err(PdfError::InvalidOption {
                option: "byte range",
                reason: format!("{start}+{len} is not within the file's {} bytes", self.len),
            }
            .in_file(&self.path));
        }
        let v = self
            .read_vec(start, len)
            .map_err(|e| e.in_file(&self.path))?;
        if v.len() < len {
            return Err(PdfError::io(
                format!("reading bytes {start}..{}", start + len as u64),
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the file became shorter"),
            )
            .in_file(&self.path));
        }
        Ok(v)
    }

    // ---- low-level reading ----

    /// Fill `buf` from `offset` as far as the file goes; returns the bytes read.
    fn read_full(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let Some(rest) = buf.get_mut(done..) else {
                break;
            };
            match self.source.read_at(offset + done as u64, rest) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(PdfError::io(
                        format!("reading bytes {}..{}", offset, offset + buf.len() as u64),
                        e,
                    ));
                }
            }
        }
        Ok(done)
    }

    /// Up to `len` bytes at `offset` (fewer at the end of the file).
    fn read_vec(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let avail = self.len.saturating_sub(offset);
        let len = (len as u64).min(avail) as usize;
        let mut buf = vec![0u8; len];
        let n = self.read_full(offset, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Run `f` on a window of the file at `offset`, growing the window while `f` needs
    /// more bytes.
    fn parse_window<T>(
        &self,
        offset: u64,
        mut f: impl FnMut(&mut Parser<'_>) -> std::result::Result<T, ParseError>,
    ) -> Result<T> {
        if offset >= self.len {
            return Err(PdfError::malformed(
                offset,
                "offset past the end of the file",
            ));
        }
        let mut window = 4096usize;
        loop {
            let avail = self.len - offset;
            let want = (window as u64).min(avail) as usize;
            let buf = self.read_vec(offset, want)?;
            let complete = buf.len() as u64 >= avail;
            let mut p = Parser::new(&buf, offset, complete, &self.limits);
            match f(&mut p) {
                Ok(v) => return Ok(v),
                Err(ParseError::Incomplete) if !complete => {
                    if window >= MAX_WINDOW {
                        return Err(PdfError::LimitExceeded {
                            what: "size of one object",
                            limit: MAX_WINDOW as u64,
                        });
                    }
                    window = window.saturating_mul(4);
                }
                Err(e) => return Err(e.into_pdf_error(offset)),
            }
        }
    }

    /// Find `needle` at or after `from`, looking at most `max` bytes; returns its offset.
    fn search(&self, from: u64, needle: &[u8], max: u64) -> Result<Option<u64>> {
        const CHUNK: usize = 256 * 1024;
        let mut pos = from;
        let stop = from.saturating_add(max).min(self.len);
        while pos < stop {
            let want = ((stop - pos) as usize)
                .min(CHUNK)
                .saturating_add(needle.len());
            let buf = self.read_vec(pos, want)?;
            if let Some(i) = syntax::find(&buf, needle) {
                return Ok(Some(pos + i as u64));
            }
            if buf.len() < want {
                break;
            }
            pos += CHUNK as u64;
        }
        Ok(None)
    }

    // ---- structure ----

    fn read_structure(&mut self) -> Result<()> {
        let head = self.read_vec(0, 1024 + 8)?;
        if syntax::find(&head, b"%PDF-").is_none() {
            return Err(PdfError::malformed(
                Some(0),
                "no %PDF- header in the first 1024 bytes: this is not a PDF file",
            ));
        }
        let tail_len = self.len.min(2048);
        let tail_start = self.len - tail_len;
        let tail = self.read_vec(tail_start, tail_len as usize)?;
        let Some(sx) = syntax::rfind(&tail, b"startxref") else {
            return Err(PdfError::malformed(
                None,
                "no startxref at the end of the file (truncated?)",
            ));
        };
        let after = tail.get(sx + 9..).unwrap_or_default();
        let mut p = Parser::new(after, tail_start + sx as u64 + 9, true, &self.limits);
        let startxref = match p.unsigned() {
            Ok(Some(v)) => v,
            _ => {
                return Err(PdfError::malformed(
                    tail_start + sx as u64,
                    "startxref is not followed by an offset",
                ));
            }
        };
        if startxref >= self.len {
            return Err(PdfError::malformed(
                tail_start + sx as u64,
                format!(
                    "startxref {startxref} points past the end of the file ({} bytes)",
                    self.len
                ),
            ));
        }

        // The /Prev chain, newest first.
        let mut sections: Vec<Section> = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(startxref);
        let mut total_entries = 0usize;
        while let Some(offset) = next {
            if sections.len() >= self.limits.max_revisions {
                return Err(PdfError::LimitExceeded {
                    what: "number of cross-reference sections",
                    limit: self.limits.max_revisions as u64,
                });
            }
            if !seen.insert(offset) {
                return Err(PdfError::malformed(
                    offset,
                    "the /Prev chain of cross-reference sections loops",
                ));
            }
            let section = self.read_section(offset)?;
            if section
                .trailer
                .get(b"Encrypt")
                .is_ok_and(|e| !matches!(e, Object::Null))
            {
                return Err(PdfError::Encrypted);
            }
            total_entries = total_entries.saturating_add(section.entries.len());
            if total_entries as u64 > u64::from(self.limits.max_objects).saturating_mul(4) {
                return Err(PdfError::LimitExceeded {
                    what: "cross-reference entries in all sections",
                    limit: u64::from(self.limits.max_objects).saturating_mul(4),
                });
            }
            next = match section.trailer.get(b"Prev") {
                Err(_) | Ok(Object::Null) => None,
                Ok(Object::Integer(p)) if *p >= 0 && (*p as u64) < self.len => Some(*p as u64),
                Ok(_) => return Err(PdfError::malformed(offset, "invalid /Prev in the trailer")),
            };
            sections.push(section);
        }

        // Group: a section whose /Prev points forward belongs to the same revision as the
        // one pointing to it (linearized files).
        let mut groups: Vec<Vec<Section>> = Vec::new();
        let mut last_offset: Option<u64> = None;
        for section in sections {
            let forward = last_offset.is_some_and(|o| section.offset > o);
            last_offset = Some(section.offset);
            match groups.last_mut() {
                Some(group) if forward => group.push(section),
                _ => groups.push(vec![section]),
            }
        }
        let count = groups.len();
        let mut revisions = Vec::with_capacity(count);
        for (newness, group) in groups.into_iter().enumerate() {
            let Some(first) = group.first() else { continue };
            let xref_offset = first.offset;
            let kind = first.kind;
            let trailer = first.trailer.clone();
            let last_end = group
                .iter()
                .max_by_key(|s| s.offset)
                .map_or(first.end_pos, |s| s.end_pos);
            let end = match self.eof_after(last_end)? {
                Some(e) => e,
                None if newness == 0 => self.len,
                None => last_end,
            };
            let mut entries = BTreeMap::new();
            for s in group.into_iter().rev() {
                entries.extend(s.entries);
            }
            revisions.push(Revision {
                index: 0,
                xref_offset,
                end,
                kind,
                trailer,
                entries,
            });
        }
        revisions.reverse();
        for (i, r) in revisions.iter_mut().enumerate() {
            r.index = i;
        }
        self.revisions = revisions;
        Ok(())
    }

    /// The offset just after the first `%%EOF` (and one end-of-line) at or after `from`.
    fn eof_after(&self, from: u64) -> Result<Option<u64>> {
        let Some(at) = self.search(from, b"%%EOF", EOF_SEARCH)? else {
            return Ok(None);
        };
        let mut end = at + 5;
        let next = self.read_vec(end, 2)?;
        match (next.first(), next.get(1)) {
            (Some(b'\r'), Some(b'\n')) => end += 2,
            (Some(b'\r' | b'\n'), _) => end += 1,
            _ => {}
        }
        Ok(Some(end))
    }

    fn read_section(&self, offset: u64) -> Result<Section> {
        let is_table = self.parse_window(offset, |p| p.keyword(b"xref"))?;
        if is_table {
            let mut section = self.read_table(offset)?;
            // Hybrid file: the table's trailer names a cross-reference stream whose
            // entries fill what the table leaves free or undeclared.
            if let Ok(Object::Integer(stm)) = section.trailer.get(b"XRefStm")
                && *stm >= 0
                && (*stm as u64) < self.len
                && *stm as u64 != offset
            {
                let hidden = self.read_xref_stream(*stm as u64)?;
                for (n, e) in hidden.entries {
                    let slot = section.entries.entry(n).or_insert(XrefEntry::Free);
                    if *slot == XrefEntry::Free {
                        *slot = e;
                    }
                }
            }
            Ok(section)
        } else {
            self.read_xref_stream(offset)
        }
    }

    fn read_table(&self, offset: u64) -> Result<Section> {
        let mut r = Chunked::new(self, offset);
        r.skip_ws()?;
        let kw = r.token()?;
        if kw != b"xref" {
            return Err(PdfError::malformed(offset, "expected `xref`"));
        }
        let mut entries = BTreeMap::new();
        let mut declared: u64 = 0;
        loop {
            r.skip_ws()?;
            let at = r.offset();
            let tok = r.token()?;
            if tok == b"trailer" {
                break;
            }
            let start = parse_u64(&tok).ok_or_else(|| {
                PdfError::malformed(at, "expected a cross-reference subsection or `trailer`")
            })?;
            r.skip_ws()?;
            let count_at = r.offset();
            let count = parse_u64(&r.token()?).ok_or_else(|| {
                PdfError::malformed(count_at, "expected a subsection entry count")
            })?;
            declared = declared.saturating_add(count);
            if declared > u64::from(self.limits.max_objects) {
                return Err(PdfError::LimitExceeded {
                    what: "objects in one cross-reference section",
                    limit: u64::from(self.limits.max_objects),
                });
            }
            for i in 0..count {
                r.skip_ws()?;
                let e_at = r.offset();
                let off = parse_u64(&r.token()?);
                r.skip_ws()?;
                let gen_no = parse_u64(&r.token()?);
                r.skip_ws()?;
                let kind = r.token()?;
                let (Some(off), Some(gen_no)) = (off, gen_no) else {
                    return Err(PdfError::malformed(e_at, "invalid cross-reference entry"));
                };
                let Some(number) = start.checked_add(i).and_then(|n| u32::try_from(n).ok()) else {
                    return Err(PdfError::malformed(e_at, "object number out of range"));
                };
                let generation = u16::try_from(gen_no).unwrap_or(u16::MAX);
                let entry = match kind.as_slice() {
                    b"n" if off > 0 => XrefEntry::InFile {
                        offset: off,
                        generation,
                    },
                    b"n" | b"f" => XrefEntry::Free,
                    _ => {
                        return Err(PdfError::malformed(
                            e_at,
                            "invalid cross-reference entry type",
                        ));
                    }
                };
                entries.insert(number, entry);
            }
        }
        let trailer_at = r.offset();
        let (trailer, end_pos) = self.parse_window(trailer_at, |p| {
            let o = p.object()?;
            Ok((o, p.offset()))
        })?;
        let Object::Dictionary(trailer) = trailer else {
            return Err(PdfError::malformed(
                trailer_at,
                "the trailer is not a dictionary",
            ));
        };
        Ok(Section {
            offset,
            kind: XrefKind::Table,
            trailer,
            entries,
            end_pos,
        })
    }

    fn read_xref_stream(&self, offset: u64) -> Result<Section> {
        let head = self.parse_window(offset, |p| p.indirect())?;
        let Indirect::Stream(_, dict, data_offset) = head else {
            return Err(PdfError::malformed(
                offset,
                "expected a cross-reference table or stream at startxref",
            ));
        };
        if !dict.has(b"W") {
            return Err(PdfError::malformed(
                offset,
                "cross-reference stream without /W",
            ));
        }
        let length = match dict.get(b"Length") {
            Ok(Object::Integer(n)) if *n >= 0 => Some(*n as u64),
            _ => None,
        };
        let (raw, end_pos) = self.stream_bytes(data_offset, length)?;
        let data = filters::decode(&dict, &raw, &self.limits)?;
        let w: Vec<usize> = match dict.get(b"W") {
            Ok(Object::Array(w)) if w.len() == 3 => {
                let mut out = Vec::new();
                for v in w {
                    match v {
                        Object::Integer(n) if (0..=8).contains(n) => out.push(*n as usize),
                        _ => {
                            return Err(PdfError::malformed(
                                offset,
                                "invalid /W in a cross-reference stream (each width must be 0 to 8)",
                            ));
                        }
                    }
                }
                out
            }
            _ => {
                return Err(PdfError::malformed(
                    offset,
                    "invalid /W in a cross-reference stream",
                ));
            }
        };
        let (w0, w1, w2) = (
            w.first().copied().unwrap_or(0),
            w.get(1).copied().unwrap_or(0),
            w.get(2).copied().unwrap_or(0),
        );
        let row = w0 + w1 + w2;
        if row == 0 {
            return Err(PdfError::malformed(
                offset,
                "/W of a cross-reference stream is all zero",
            ));
        }
        let size = match dict.get(b"Size") {
            Ok(Object::Integer(n)) if *n >= 0 => *n as u64,
            _ => {
                return Err(PdfError::malformed(
                    offset,
                    "cross-reference stream without a valid /Size",
                ));
            }
        };
        let index: Vec<(u64, u64)> = match dict.get(b"Index") {
            Ok(Object::Array(items)) => {
                let mut out = Vec::new();
                for pair in items.chunks(2) {
                    match pair {
                        [Object::Integer(a), Object::Integer(b)] if *a >= 0 && *b >= 0 => {
                            out.push((*a as u64, *b as u64))
                        }
                        _ => {
                            return Err(PdfError::malformed(
                                offset,
                                "invalid /Index in a cross-reference stream",
                            ));
                        }
                    }
                }
                out
            }
            _ => vec![(0, size)],
        };
        let declared = index
            .iter()
            .fold(0u64, |acc, (_, c)| acc.saturating_add(*c));
        if declared > u64::from(self.limits.max_objects) {
            return Err(PdfError::LimitExceeded {
                what: "objects in one cross-reference section",
                limit: u64::from(self.limits.max_objects),
            });
        }
        let mut entries = BTreeMap::new();
        let mut rows = data.chunks_exact(row);
        'outer: for (start, count) in index {
            for i in 0..count {
                let Some(r) = rows.next() else { break 'outer };
                let (f0, rest) = r.split_at(w0.min(r.len()));
                let (f1, f2) = rest.split_at(w1.min(rest.len()));
                let kind = if w0 == 0 { 1 } else { be(f0) };
                let (a, b) = (be(f1), be(f2));
                let Some(number) = start.checked_add(i).and_then(|n| u32::try_from(n).ok()) else {
                    return Err(PdfError::malformed(offset, "object number out of range"));
                };
                let entry = match kind {
                    0 => XrefEntry::Free,
                    1 if a > 0 => XrefEntry::InFile {
                        offset: a,
                        generation: u16::try_from(b).unwrap_or(u16::MAX),
                    },
                    1 => XrefEntry::Free,
                    2 => match (u32::try_from(a), u32::try_from(b)) {
                        (Ok(stream), Ok(index)) => XrefEntry::InStream { stream, index },
                        _ => XrefEntry::Free,
                    },
                    _ => continue,
                };
                entries.insert(number, entry);
            }
        }
        let mut trailer = dict;
        for key in [&b"Length"[..], b"Filter", b"DecodeParms"] {
            trailer.remove(key);
        }
        Ok(Section {
            offset,
            kind: XrefKind::Stream,
            trailer,
            entries,
            end_pos,
        })
    }

    /// A stream's raw bytes at `data_offset`: `length` bytes when `endstream` follows them,
    /// else up to the next `endstream`. Also returns where the stream ends.
    fn stream_bytes(&self, data_offset: u64, length: Option<u64>) -> Result<(Vec<u8>, u64)> {
        if let Some(n) = length {
            if n > self.limits.max_stream_raw {
                return Err(PdfError::LimitExceeded {
                    what: "raw stream size",
                    limit: self.limits.max_stream_raw,
                });
            }
            if let Some(end) = data_offset.checked_add(n).filter(|e| *e <= self.len) {
                let after = self.read_vec(end, 64)?;
                let mut p = Parser::new(&after, end, true, &self.limits);
                if p.keyword(b"endstream").unwrap_or(false) {
                    if n > MAX_READ_BYTES as u64 * 8 {
                        // Fine: the cap above already bounds it; read it in one go.
                    }
                    let data = self.read_vec(data_offset, n as usize)?;
                    return Ok((data, p.offset()));
                }
            }
        }
        // No usable /Length: search for `endstream`.
        let Some(at) = self.search(
            data_offset,
            b"endstream",
            self.limits.max_stream_raw.saturating_add(2),
        )?
        else {
            return Err(PdfError::malformed(
                data_offset,
                "stream without `endstream`",
            ));
        };
        let n = at - data_offset;
        if n > self.limits.max_stream_raw {
            return Err(PdfError::LimitExceeded {
                what: "raw stream size",
                limit: self.limits.max_stream_raw,
            });
        }
        let mut data = self.read_vec(data_offset, n as usize)?;
        if data.ends_with(b"\r\n") {
            data.truncate(data.len() - 2);
        } else if data.ends_with(b"\n") || data.ends_with(b"\r") {
            data.truncate(data.len() - 1);
        }
        Ok((data, at + 9))
    }

    // ---- objects ----

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fetch(&self, revision: usize, id: ObjectId, depth: usize) -> Result<Option<Object>> {
        self.fetch_as(revision, id, depth, Caching::Keep)
    }

    /// [`PdfFile::fetch`], keeping what it reads in the cache or not.
    fn fetch_as(
        &self,
        revision: usize,
        id: ObjectId,
        depth: usize,
        caching: Caching,
    ) -> Result<Option<Object>> {
        if depth > MAX_FETCH_DEPTH {
            return Err(PdfError::LimitExceeded {
                what: "nested object lookups (object streams or /Length references)",
                limit: MAX_FETCH_DEPTH as u64,
            });
        }
        if id.0 == 0 {
            return Ok(None);
        }
        match self.entry_at(revision, id.0) {
            None | Some(XrefEntry::Free) => Ok(None),
            Some(XrefEntry::InFile { offset, generation }) => {
                if generation != id.1 {
                    return Ok(None);
                }
                if let Some(o) = self.cache().objects.get(&(offset, id.0)) {
                    return Ok(Some(o.clone()));
                }
                let object = self.load_in_file(revision, offset, id, depth)?;
                let small = match &object {
                    Object::Stream(s) => s.content.len() <= CACHE_MAX_STREAM,
                    _ => true,
                };
                if small && caching == Caching::Keep {
                    let mut cache = self.cache();
                    if cache.objects.len() >= CACHE_OBJECTS {
                        cache.objects.clear();
                    }
                    cache.objects.insert((offset, id.0), object.clone());
                }
                Ok(Some(object))
            }
            Some(XrefEntry::InStream { stream, index }) => {
                if id.1 != 0 {
                    return Ok(None);
                }
                let objstm = self.object_stream(revision, stream, depth)?;
                let slot = match objstm.offsets.get(index as usize) {
                    Some((n, off)) if *n == id.0 => Some(*off),
                    _ => objstm
                        .offsets
                        .iter()
                        .find(|(n, _)| *n == id.0)
                        .map(|(_, o)| *o),
                };
                let Some(off) = slot else {
                    return Err(PdfError::BadObject {
                        id: id.0,
                        generation: id.1,
                        reason: format!("not found in object stream {stream}"),
                    });
                };
                let data = objstm.data.get(off..).unwrap_or_default();
                let mut p = Parser::new(data, 0, true, &self.limits);
                let object = p.object().map_err(|e| match e {
                    ParseError::Invalid(e) => PdfError::BadObject {
                        id: id.0,
                        generation: id.1,
                        reason: format!("in object stream {stream}: {e}"),
                    },
                    ParseError::Incomplete => PdfError::BadObject {
                        id: id.0,
                        generation: id.1,
                        reason: format!("truncated in object stream {stream}"),
                    },
                })?;
                Ok(Some(object))
            }
        }
    }

    fn load_in_file(
        &self,
        revision: usize,
        offset: u64,
        id: ObjectId,
        depth: usize,
    ) -> Result<Object> {
        let bad = |reason: String| PdfError::BadObject {
            id: id.0,
            generation: id.1,
            reason,
        };
        let head = self
            .parse_window(offset, |p| p.indirect())
            .map_err(|e| match e {
                e @ PdfError::LimitExceeded { .. } => e,
                e => bad(format!("at byte {offset}: {e}")),
            })?;
        match head {
            Indirect::Object(found, object) => {
                if found != id {
                    return Err(bad(format!(
                        "the cross-reference entry points to object {} {} at byte {offset}",
                        found.0, found.1
                    )));
                }
                Ok(object)
            }
            Indirect::Stream(found, dict, data_offset) => {
                if found != id {
                    return Err(bad(format!(
                        "the cross-reference entry points to object {} {} at byte {offset}",
                        found.0, found.1
                    )));
                }
                let length = match dict.get(b"Length") {
                    Ok(Object::Integer(n)) if *n >= 0 => Some(*n as u64),
                    Ok(Object::Reference(r)) if *r != id => {
                        match self.fetch(revision, *r, depth + 1) {
                            Ok(Some(Object::Integer(n))) if n >= 0 => Some(n as u64),
                            Err(e @ PdfError::LimitExceeded { .. }) => return Err(e),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let (content, _) = self.stream_bytes(data_offset, length)?;
                Ok(Object::Stream(Stream {
                    dict,
                    content,
                    allows_compression: true,
                    start_position: None,
                }))
            }
        }
    }

    fn object_stream(&self, revision: usize, number: u32, depth: usize) -> Result<Arc<ObjStm>> {
        let location = match self.entry_at(revision, number) {
            Some(XrefEntry::InFile { offset, .. }) => (offset, number),
            _ => {
                return Err(PdfError::BadObject {
                    id: number,
                    generation: 0,
                    reason: "object stream missing (or itself compressed)".into(),
                });
            }
        };
        if let Some((_, s)) = self.cache().objstms.iter().find(|(l, _)| *l == location) {
            return Ok(Arc::clone(s));
        }
        let bad = |reason: &str| PdfError::BadObject {
            id: number,
            generation: 0,
            reason: reason.into(),
        };
        let Some(Object::Stream(stream)) = self.fetch(revision, (number, 0), depth + 1)? else {
            return Err(bad("an object stream is not a stream"));
        };
        let data = self.decode_stream(revision, &stream)?;
        let int = |key: &[u8]| match stream.dict.get(key) {
            Ok(Object::Integer(n)) if *n >= 0 => Some(*n as u64),
            _ => None,
        };
        let (Some(n), Some(first)) = (int(b"N"), int(b"First")) else {
            return Err(bad("object stream without /N or /First"));
        };
        if n > u64::from(self.limits.max_objects) || first > data.len() as u64 {
            return Err(bad("object stream with invalid /N or /First"));
        }
        let first = first as usize;
        let header = data.get(..first).unwrap_or_default();
        let mut p = Parser::new(header, 0, true, &self.limits);
        let mut offsets = Vec::new();
        for _ in 0..n {
            match (p.unsigned(), p.unsigned()) {
                (Ok(Some(num)), Ok(Some(off))) => {
                    let (Ok(num), Some(abs)) =
                        (u32::try_from(num), (off as usize).checked_add(first))
                    else {
                        return Err(bad("object stream header out of range"));
                    };
                    offsets.push((num, abs));
                }
                _ => break,
            }
        }
        let objstm = Arc::new(ObjStm { data, offsets });
        let mut cache = self.cache();
        if cache.objstms.len() >= CACHE_OBJSTMS {
            cache.objstms.remove(0);
        }
        cache.objstms.push((location, Arc::clone(&objstm)));
        Ok(objstm)
    }
}

/// Whether an object read from the file is kept in the cache.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caching {
    Keep,
    Pass,
}

/// The page attributes a page inherits from its ancestors (ISO 32000-1 §7.7.3.4).
#[derive(Clone, Default)]
struct Inherited {
    media: Option<Object>,
    crop: Option<Object>,
    rotate: Option<Object>,
}

impl Inherited {
    /// Take the node's own values over its ancestors'.
    fn take_from(&mut self, node: &Dictionary) {
        for (key, slot) in [
            (&b"MediaBox"[..], &mut self.media),
            (b"CropBox", &mut self.crop),
            (b"Rotate", &mut self.rotate),
        ] {
            if let Ok(v) = node.get(key) {
                *slot = Some(v.clone());
            }
        }
    }
}

/// Whether a page tree node is a page (a leaf): `/Type /Page`, or no `/Kids` and not
/// `/Type /Pages`.
fn is_page(node: &Dictionary) -> bool {
    let kind = node.get(b"Type").ok().and_then(|t| t.as_name().ok());
    !(kind == Some(&b"Pages"[..]) || (kind != Some(&b"Page"[..]) && node.has(b"Kids")))
}

/// Whether the node's `/Parent` is `parent`.
fn parent_is(node: &Dictionary, parent: ObjectId) -> bool {
    matches!(node.get(b"Parent"), Ok(Object::Reference(p)) if *p == parent)
}

fn intersect(a: &Rect, b: &Rect) -> Option<Rect> {
    let r = Rect {
        x0: a.x0.max(b.x0),
        y0: a.y0.max(b.y0),
        x1: a.x1.min(b.x1),
        y1: a.y1.min(b.y1),
    };
    (r.width() > 0.0 && r.height() > 0.0).then_some(r)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn parse_u64(token: &[u8]) -> Option<u64> {
    if token.is_empty() || token.len() > 19 || !token.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

/// A forward-only byte reader over the file, in chunks (for cross-reference tables,
/// which may be large).
struct Chunked<'f> {
    file: &'f PdfFile,
    buf: Vec<u8>,
    start: u64,
    pos: usize,
}

impl<'f> Chunked<'f> {
    const CHUNK: usize = 64 * 1024;

    fn new(file: &'f PdfFile, offset: u64) -> Chunked<'f> {
        Chunked {
            file,
            buf: Vec::new(),
            start: offset,
            pos: 0,
        }
    }

    fn offset(&self) -> u64 {
        self.start + self.pos as u64
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        if self.pos >= self.buf.len() {
            self.start += self.buf.len() as u64;
            self.pos = 0;
            self.buf = self.file.read_vec(self.start, Self::CHUNK)?;
        }
        Ok(self.buf.get(self.pos).copied())
    }

    fn skip_ws(&mut self) -> Result<()> {
        while let Some(b) = self.peek()? {
            if syntax::is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek()? {
                    if c == b'\r' || c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    /// A run of regular characters (at most 32: entries and keywords are short).
    fn token(&mut self) -> Result<Vec<u8>> {
        let at = self.offset();
        let mut out = Vec::new();
        while let Some(b) = self.peek()? {
            if !syntax::is_regular(b) {
                break;
            }
            if out.len() >= 32 {
                return Err(PdfError::malformed(
                    at,
                    "overlong token in a cross-reference table",
                ));
            }
            out.push(b);
            self.pos += 1;
        }
        if out.is_empty() {
            return Err(PdfError::malformed(
                at,
                "unexpected data in a cross-reference table",
            ));
        }
        Ok(out)
    }
}
