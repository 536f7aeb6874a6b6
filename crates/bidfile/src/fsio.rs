//! Output files that appear only when complete.
//!
//! On Linux an output is first an **unnamed** file in the destination directory
//! (`O_TMPFILE`): until it is complete it has no name, so a crash — even `kill -9` —
//! leaves nothing behind (the kernel frees the inode). When it is complete it is
//! synced, linked under a temporary name (`.<name>.<pid>-<random>.bidkit-partial`) and
//! renamed over the target, so a reader sees the old file or the whole new one.
//!
//! Where `O_TMPFILE` is unavailable (other systems, some file systems) the file is
//! created under that temporary name from the start; it is removed on any error or
//! drop, and a later run for the same target removes leftovers whose process is gone
//! (Linux: `/proc/<pid>` missing). Only a killed process can leave one, and only there.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::{BidFileError, Result};

/// Suffix of every temporary file this crate creates.
pub const TEMP_SUFFIX: &str = ".bidkit-partial";

/// A file being written that becomes `target` only on [`PendingFile::commit`].
#[derive(Debug)]
pub(crate) struct PendingFile {
    file: File,
    target: PathBuf,
    /// The temporary name, when the file has one (fallback, or after linking).
    named: Option<PathBuf>,
}

impl PendingFile {
    /// Start writing `target`. With `private`, the file is readable by its owner only
    /// (decrypted plaintext).
    pub(crate) fn create(target: &Path, private: bool) -> Result<Self> {
        let dir = dir_of(target);
        clean_stale(&dir, target);
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed(&dir, private) {
            return Ok(PendingFile {
                file,
                target: target.to_path_buf(),
                named: None,
            });
        }
        let tmp = temp_name(target)?;
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if private { 0o600 } else { 0o644 });
        }
        #[cfg(not(unix))]
        let _ = private;
        let file = options
            .open(&tmp)
            .map_err(|e| BidFileError::io("create", &tmp, e))?;
        Ok(PendingFile {
            file,
            target: target.to_path_buf(),
            named: Some(tmp),
        })
    }

    /// The open file (read and write).
    pub(crate) fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Flush to disk and give the file its name, replacing any previous file there.
    /// Returns the time the sync took.
    pub(crate) fn commit(mut self) -> Result<std::time::Duration> {
        let start = std::time::Instant::now();
        self.file
            .sync_all()
            .map_err(|e| BidFileError::io("sync", &self.target, e))?;
        let synced = start.elapsed();
        let tmp = match self.named.take() {
            Some(tmp) => tmp,
            None => {
                let tmp = temp_name(&self.target)?;
                link_unnamed(&self.file, &tmp)?;
                tmp
            }
        };
        if let Err(e) = fs::rename(&tmp, &self.target) {
            let _ = fs::remove_file(&tmp);
            return Err(BidFileError::io("rename into place", &self.target, e));
        }
        #[cfg(unix)]
        if let Ok(d) = File::open(dir_of(&self.target)) {
            let _ = d.sync_all();
        }
        Ok(synced)
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        // Not committed: an unnamed file vanishes with its descriptor; a named one is
        // removed here.
        if let Some(tmp) = self.named.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(target: &Path) -> Result<String> {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| BidFileError::InvalidInput {
            what: "output",
            reason: format!("{} is not a file name", target.display()),
        })
}

fn temp_name(target: &Path) -> Result<PathBuf> {
    let name = file_name(target)?;
    let random: [u8; 6] = bidkit_crypto::rng::random_array()?;
    Ok(dir_of(target).join(format!(
        ".{name}.{}-{}{TEMP_SUFFIX}",
        std::process::id(),
        hex::encode(random)
    )))
}

/// Remove `.<name>.<pid>-<hex>.bidkit-partial` files left by processes that no longer
/// run. Linux only (where `/proc/<pid>` tells); elsewhere leftovers stay.
fn clean_stale(dir: &Path, target: &Path) {
    #[cfg(target_os = "linux")]
    {
        let Ok(name) = file_name(target) else {
            return;
        };
        let prefix = format!(".{name}.");
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let entry_name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = entry_name
                .strip_prefix(&prefix)
                .and_then(|r| r.strip_suffix(TEMP_SUFFIX))
            else {
                continue;
            };
            let Some((pid, random)) = rest.split_once('-') else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if random.len() != 12 || !random.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (dir, target);
}

#[cfg(target_os = "linux")]
fn unnamed(dir: &Path, private: bool) -> Option<File> {
    use rustix::fs::{CWD, Mode, OFlags, openat};
    let mode = Mode::from_raw_mode(if private { 0o600 } else { 0o644 });
    openat(
        CWD,
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        mode,
    )
    .ok()
    .map(File::from)
}

#[cfg(target_os = "linux")]
fn link_unnamed(file: &File, to: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;

    use rustix::fs::{AtFlags, CWD, linkat};
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    linkat(CWD, proc_path.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW)
        .map_err(|e| BidFileError::io("link", to, e.into()))
}

#[cfg(not(target_os = "linux"))]
fn link_unnamed(_file: &File, to: &Path) -> Result<()> {
    Err(BidFileError::io(
        "link",
        to,
        std::io::Error::other("unnamed files exist only on Linux"),
    ))
}

/// Whether two paths name the same existing file.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Alignment of direct writes: memory, file offsets and lengths (the largest logical
/// block size in use).
const DIRECT_ALIGN: usize = 4096;
/// Bytes staged before each direct write.
const DIRECT_BLOCK: usize = 4 << 20;

/// A sequential writer into `file` from offset `start`, writing around the page cache
/// (`O_DIRECT`) where the system allows it, else through it.
///
/// Why: a large new file written through the page cache costs the kernel a copy into
/// freshly allocated pages, which on the virtual machines measured (issue 5) is the
/// slowest step of the whole pipeline (several times slower than the disk). Writing
/// direct needs aligned memory, offsets and lengths, so the bytes are staged in an
/// aligned block of [`DIRECT_BLOCK`] and written whole; the part before `start` in the
/// first block is written as zeros (the caller overwrites it: it is the room for the
/// header), and [`DirectWriter::finish`] writes the unaligned tail through the page
/// cache after switching direct mode off. The file still needs its sync.
pub(crate) struct DirectWriter<'a> {
    file: &'a File,
    /// Over-allocated so an aligned window of `DIRECT_BLOCK` bytes fits inside.
    stage: Vec<u8>,
    /// Where the aligned window starts in `stage`.
    align: usize,
    /// Bytes staged in the window.
    staged: usize,
    /// File offset of the window's first byte (aligned when direct).
    at: u64,
    direct: bool,
}

impl<'a> DirectWriter<'a> {
    /// Write into `file` from offset `start`.
    pub(crate) fn new(file: &'a File, start: u64) -> Self {
        let direct = set_direct(file, true);
        let mut stage = vec![0u8; DIRECT_BLOCK + DIRECT_ALIGN];
        let address = stage.as_ptr() as usize;
        let align = (DIRECT_ALIGN - address % DIRECT_ALIGN) % DIRECT_ALIGN;
        let (at, staged) = if direct {
            let lead = (start % DIRECT_ALIGN as u64) as usize;
            (start - lead as u64, lead)
        } else {
            (start, 0)
        };
        // The lead bytes (before `start`) are zeros already.
        if let Some(window) = stage.get_mut(align..align + staged) {
            window.fill(0);
        }
        DirectWriter {
            file,
            stage,
            align,
            staged,
            at,
            direct,
        }
    }

    fn write_window(&mut self, len: usize) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        let window = self
            .stage
            .get(self.align..self.align + len)
            .ok_or_else(|| std::io::Error::other("staging window out of range"))?;
        let mut file = self.file;
        file.seek(SeekFrom::Start(self.at))?;
        match file.write_all(window) {
            // A file system that took the flag but refuses direct writes: write this
            // and everything after through the page cache (from the same offset; a
            // failed direct write wrote nothing, a partial one is rewritten).
            Err(e) if self.direct && e.raw_os_error() == Some(22) => {
                self.direct = false;
                if !set_direct(self.file, false) {
                    return Err(e);
                }
                file.seek(SeekFrom::Start(self.at))?;
                file.write_all(window)?;
            }
            other => other?,
        }
        self.at += len as u64;
        Ok(())
    }

    /// Write what is still staged (through the page cache) and leave direct mode, so
    /// the file can be used normally again.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        if self.direct {
            // The aligned part direct, the tail through the page cache.
            let aligned = self.staged - self.staged % DIRECT_ALIGN;
            if aligned > 0 {
                self.write_window(aligned)?;
                self.stage
                    .copy_within(self.align + aligned..self.align + self.staged, self.align);
                self.staged -= aligned;
            }
            self.direct = false;
            if !set_direct(self.file, false) {
                return Err(std::io::Error::other("cannot leave direct I/O mode"));
            }
        }
        let staged = self.staged;
        self.staged = 0;
        self.write_window(staged)
    }
}

impl std::io::Write for DirectWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = DIRECT_BLOCK - self.staged;
        let n = data.len().min(room);
        let (Some(window), Some(part)) = (
            self.stage
                .get_mut(self.align + self.staged..self.align + self.staged + n),
            data.get(..n),
        ) else {
            return Err(std::io::Error::other("staging window out of range"));
        };
        window.copy_from_slice(part);
        self.staged += n;
        if self.staged == DIRECT_BLOCK {
            self.write_window(DIRECT_BLOCK)?;
            self.staged = 0;
        }
        Ok(n)
    }

    /// Staged bytes are written by [`DirectWriter::finish`] (a direct write must be
    /// whole blocks).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for DirectWriter<'_> {
    fn drop(&mut self) {
        if self.direct {
            let _ = set_direct(self.file, false);
        }
    }
}

/// Switch `O_DIRECT` on or off for `file`; whether the file is now in that mode.
#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> bool {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let Ok(flags) = fcntl_getfl(file) else {
        return !on;
    };
    let wanted = if on {
        flags | OFlags::DIRECT
    } else {
        flags - OFlags::DIRECT
    };
    if wanted == flags {
        return true;
    }
    match fcntl_setfl(file, wanted) {
        Ok(()) => true,
        Err(_) => !on,
    }
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &File, on: bool) -> bool {
    !on
}

/// Bytes asked ahead of the reader at a time.
const READ_AHEAD: u64 = 16 << 20;

/// A sequential reader of `file` from offset `start` that asks the kernel to fetch the
/// next [`READ_AHEAD`] bytes before they are needed (`POSIX_FADV_WILLNEED`, Linux), so
/// a file that is not in the page cache is read from the disk while the pipeline works
/// on the chunks before (the kernel's own read-ahead window is far smaller than a chunk).
pub(crate) struct ReadAhead {
    file: File,
    pos: u64,
    advised: u64,
}

impl ReadAhead {
    /// Read `file`, positioned at `start`.
    pub(crate) fn new(file: File, start: u64) -> Self {
        let mut reader = ReadAhead {
            file,
            pos: start,
            advised: start,
        };
        reader.advise();
        reader
    }

    fn advise(&mut self) {
        // Keep at least half a window requested ahead of the position.
        if self.advised < self.pos + READ_AHEAD / 2 {
            let from = self.advised.max(self.pos);
            will_need(&self.file, from, READ_AHEAD);
            self.advised = from + READ_AHEAD;
        }
    }
}

impl std::io::Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.advise();
        let n = self.file.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Ask the kernel to start reading `len` bytes of `file` at `offset` (a hint: errors
/// are ignored).
#[cfg(target_os = "linux")]
fn will_need(file: &File, offset: u64, len: u64) {
    use rustix::fs::{Advice, fadvise};
    let _ = fadvise(
        file,
        offset,
        std::num::NonZeroU64::new(len),
        Advice::WillNeed,
    );
}

#[cfg(not(target_os = "linux"))]
fn will_need(_file: &File, _offset: u64, _len: u64) {}
