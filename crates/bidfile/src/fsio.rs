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
    pub(crate) fn commit(mut self) -> Result<()> {
        self.file
            .sync_all()
            .map_err(|e| BidFileError::io("sync", &self.target, e))?;
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
        Ok(())
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
