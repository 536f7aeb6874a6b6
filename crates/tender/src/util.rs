//! Small helpers: atomic writes, hashing, JSON with a schema tag.

use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{Result, TenderError};

/// The directory a file is written in (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A temporary file beside `path`, to be persisted over it when complete.
pub(crate) fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".bidkit-")
        .suffix(".part")
        .tempfile_in(parent_dir(path))
        .map_err(|e| TenderError::io(path, "creating a temporary file", e))
}

/// Flush, sync and rename a finished temporary file into place.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    // Temporary files are private (0600); outputs get the usual mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| TenderError::io(path, "flushing", e))?;
    tmp.persist(path)
        .map_err(|e| TenderError::io(path, "renaming the temporary file into place", e.error))?;
    Ok(())
}

/// Write `bytes` to `path` through a temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .map_err(|e| TenderError::io(path, "writing", e))?;
    persist(tmp, path)
}

/// Pretty JSON with a final newline, written atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| TenderError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)?;
    Ok(bytes)
}

/// Parse `bytes` (the content of `path`) as JSON whose `schema` member must be `expected`.
/// The schema is checked first, so a file of another version gets that error rather than
/// a field error.
pub(crate) fn parse_json<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    expected: &'static str,
) -> Result<T> {
    let json_err = |e: serde_json::Error| TenderError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(json_err)?;
    let found = value
        .get("schema")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    if found != expected {
        return Err(TenderError::UnknownSchema {
            path: path.to_path_buf(),
            found: found.to_owned(),
            expected,
        });
    }
    // Parse the bytes again (not the Value) so that errors carry line and column.
    serde_json::from_slice(bytes).map_err(json_err)
}

/// Read a whole (small) file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| TenderError::io(path, "reading", e))
}

/// SHA-256 of bytes, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of the first `limit` bytes of a file (all of it for `None`), streamed, with the
/// number of bytes hashed.
pub(crate) fn sha256_file(path: &Path, limit: Option<u64>) -> Result<(String, u64)> {
    let file = std::fs::File::open(path).map_err(|e| TenderError::io(path, "opening", e))?;
    let mut reader: Box<dyn Read> = match limit {
        Some(n) => Box::new(file.take(n)),
        None => Box::new(file),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| TenderError::io(path, "reading", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// Whether `s` is 64 lowercase or uppercase hex digits.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A file name with no directory part, not hidden, not `..`.
pub(crate) fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().and_then(|n| n.to_str()) == Some(name)
}
