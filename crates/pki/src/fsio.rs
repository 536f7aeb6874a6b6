//! Crash-safe file writing: write a sibling temporary file, flush it to disk, rename it
//! over the target. A reader sees the old content or the new one, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{PkiError, Result};

/// Write `bytes` to `path` atomically (temporary file in the same directory + rename).
///
/// With `private`, the file is created readable by its owner only (Unix).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = dir_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut nonce = [0u8; 6];
    bidkit_crypto::rng::fill(&mut nonce)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(nonce)));
    let result = write_then_rename(&tmp, path, bytes, private);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The directory holding `path` (`.` for a bare file name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(tmp)
        .map_err(|e| PkiError::io("create", tmp, e))?;
    file.write_all(bytes)
        .map_err(|e| PkiError::io("write", tmp, e))?;
    file.sync_all().map_err(|e| PkiError::io("sync", tmp, e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| PkiError::io("rename into place", path, e))?;
    // Make the rename itself durable where the platform allows opening a directory.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An exclusive advisory lock on a file, released when dropped.
pub(crate) struct DirLock {
    file: File,
}

impl DirLock {
    /// Take the lock on `path` (created if missing), waiting for other holders.
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| PkiError::io("open the lock file", path, e))?;
        file.lock().map_err(|e| PkiError::io("lock", path, e))?;
        Ok(DirLock { file })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}
