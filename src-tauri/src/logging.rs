//! The desktop app's logs: `tracing` events written to a rotating file under
//! `<home>/logs/` (and to stderr in debug builds).
//!
//! * One file per day, `bidkit.YYYY-MM-DD.log` (UTC); a day's file that grows past
//!   [`MAX_FILE_BYTES`] continues in `bidkit.YYYY-MM-DD.1.log`, `.2.log` …
//! * Only the newest [`KEEP_FILES`] files are kept; older ones are deleted when a new
//!   file is started.
//! * Level `info` by default; `BIDKIT_LOG` overrides it with `EnvFilter` syntax
//!   (`debug`, `bidkit_desktop=trace,info` …).
//! * The start is logged (version, OS, architecture), and so is every command that goes
//!   through [`timed`]: its start, then its end with the duration and, on failure, the
//!   error code. Panics are logged before the default hook runs.
//!
//! No log line is sent anywhere: the diagnostics export
//! ([`bidkit_app::diagnostics`]) takes the newest files with personal data redacted.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::error::IpcError;

/// The environment variable that overrides the log level (`EnvFilter` syntax).
pub const LOG_ENV: &str = "BIDKIT_LOG";
/// Log files kept in `<home>/logs/`.
pub const KEEP_FILES: usize = 10;
/// A file's size after which the day continues in a new file.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The log files' name prefix.
pub const PREFIX: &str = "bidkit";

/// Starts logging for the app in `home` (stderr only when there is no home or its log
/// directory cannot be made). Call once, first thing; later calls do nothing.
pub fn init(home: Option<&Path>) {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let file = home.and_then(|h| {
        RollingFile::open(
            bidkit_app::diagnostics::log_dir(h),
            KEEP_FILES,
            MAX_FILE_BYTES,
        )
        .map_err(|e| eprintln!("bidkit-desktop: no log file: {e}"))
        .ok()
    });
    let file_layer = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_target(true)
            .with_writer(f)
    });
    let stderr_layer = cfg!(debug_assertions)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init();

    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(panic = %info, "panic");
        previous(info);
    }));

    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        os = std::env::consts::OS,
        arch = std::env::consts::ARCH,
        pid = std::process::id(),
        debug = cfg!(debug_assertions),
        "bidkit-desktop starting"
    );
    if home.is_none() {
        tracing::warn!("no Bidkit home: logging to stderr only");
    }
}

/// Runs a command's work, logging its start and its end with the duration and, when it
/// fails, the error code. For every command module:
///
/// ```ignore
/// crate::logging::timed("seal_apply", async move { … }).await
/// ```
pub async fn timed<T>(
    command: &'static str,
    work: impl Future<Output = Result<T, IpcError>>,
) -> Result<T, IpcError> {
    let started = Instant::now();
    tracing::info!(command, "command start");
    let result = work.await;
    log_end(command, started, result.as_ref().err());
    result
}

/// The synchronous form of [`timed`], for commands that are not `async`.
#[allow(dead_code)] // for the command modules that are not async yet
pub fn timed_sync<T>(
    command: &'static str,
    work: impl FnOnce() -> Result<T, IpcError>,
) -> Result<T, IpcError> {
    let started = Instant::now();
    tracing::info!(command, "command start");
    let result = work();
    log_end(command, started, result.as_ref().err());
    result
}

fn log_end(command: &'static str, started: Instant, error: Option<&IpcError>) {
    let ms = started.elapsed().as_millis() as u64;
    match error {
        None => tracing::info!(command, ms, ok = true, "command end"),
        Some(e) => tracing::warn!(command, ms, ok = false, code = %e.code, "command end"),
    }
}

/// A log file that rotates by day and by size, keeping the newest `keep` files.
#[derive(Clone, Debug)]
pub struct RollingFile {
    inner: Arc<Mutex<Rolling>>,
}

#[derive(Debug)]
struct Rolling {
    dir: PathBuf,
    keep: usize,
    max_bytes: u64,
    day: String,
    index: u32,
    written: u64,
    file: Option<File>,
}

impl RollingFile {
    /// Opens (creating `dir`) the log of today, appending to it.
    pub fn open(dir: PathBuf, keep: usize, max_bytes: u64) -> std::io::Result<RollingFile> {
        std::fs::create_dir_all(&dir)?;
        let mut r = Rolling {
            dir,
            keep: keep.max(1),
            max_bytes: max_bytes.max(1024),
            day: String::new(),
            index: 0,
            written: 0,
            file: None,
        };
        r.roll(&today())?;
        Ok(RollingFile {
            inner: Arc::new(Mutex::new(r)),
        })
    }

    /// The file being written now.
    #[cfg(test)]
    pub fn current(&self) -> PathBuf {
        let r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        r.path(&r.day.clone(), r.index)
    }
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Rolling {
    fn path(&self, day: &str, index: u32) -> PathBuf {
        if index == 0 {
            self.dir.join(format!("{PREFIX}.{day}.log"))
        } else {
            self.dir.join(format!("{PREFIX}.{day}.{index}.log"))
        }
    }

    /// Opens the file for `day`: the last one of that day not yet full.
    fn roll(&mut self, day: &str) -> std::io::Result<()> {
        let mut index = if day == self.day { self.index + 1 } else { 0 };
        loop {
            let len = std::fs::metadata(self.path(day, index))
                .map(|m| m.len())
                .unwrap_or(0);
            if len < self.max_bytes {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.path(day, index))?;
                self.file = Some(file);
                self.day = day.to_owned();
                self.index = index;
                self.written = len;
                break;
            }
            index += 1;
        }
        self.prune();
        Ok(())
    }

    /// Deletes all but the newest `keep` log files.
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{PREFIX}.")) && n.ends_with(".log"))
            })
            .map(|p| {
                let t = std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (t, p)
            })
            .collect();
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        let current = self.path(&self.day, self.index);
        for (_, p) in files.into_iter().skip(self.keep) {
            if p != current {
                let _ = std::fs::remove_file(p);
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let day = today();
        let full = self.written > 0 && self.written + buf.len() as u64 > self.max_bytes;
        if day != self.day || full || self.file.is_none() {
            self.roll(&day)?;
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no log file"))?;
        // One event per write: lines from several threads never interleave.
        file.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }
}

/// One event's writer: the event is formatted, then written with one call.
#[derive(Debug)]
pub struct RollingWriter<'a>(&'a RollingFile);

impl Write for RollingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut r = self.0.inner.lock().unwrap_or_else(|e| e.into_inner());
        r.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut r = self.0.inner.lock().unwrap_or_else(|e| e.into_inner());
        match r.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for RollingFile {
    type Writer = RollingWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RollingWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_continues_in_the_next_and_old_files_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        // Old files from earlier days, oldest first.
        for (i, day) in ["2020-01-01", "2020-01-02", "2020-01-03"]
            .iter()
            .enumerate()
        {
            let p = logs.join(format!("{PREFIX}.{day}.log"));
            std::fs::write(&p, b"old\n").unwrap();
            let t = std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1_600_000_000 + i as u64);
            File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        let f = RollingFile::open(logs.clone(), 3, 1024).unwrap();
        let first = f.current();
        assert!(
            first
                .display()
                .to_string()
                .ends_with(&format!("{}.log", today()))
        );
        // Opening pruned the oldest: 2 old + today's.
        assert!(!logs.join(format!("{PREFIX}.2020-01-01.log")).exists());
        let line = [b'x'; 300];
        for _ in 0..4 {
            f.make_writer().write_all(&line).unwrap();
        }
        let second = f.current();
        assert_ne!(first, second);
        assert!(
            second
                .display()
                .to_string()
                .ends_with(&format!("{}.1.log", today()))
        );
        assert_eq!(std::fs::metadata(&first).unwrap().len(), 900);
        let names: Vec<_> = std::fs::read_dir(&logs).unwrap().collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(!logs.join(format!("{PREFIX}.2020-01-02.log")).exists());
    }

    #[test]
    fn timed_passes_results_through() {
        let ok = timed_sync("t", || Ok::<_, IpcError>(3));
        assert_eq!(ok.unwrap(), 3);
        let err = tauri::async_runtime::block_on(timed("t", async {
            Err::<(), _>(IpcError::new("x", "y"))
        }));
        assert_eq!(err.unwrap_err().code, "x");
    }
}
