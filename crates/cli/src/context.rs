//! Where state lives: the home directory shared by the CLI and the app.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Per-invocation context: the resolved home directory.
#[derive(Debug)]
pub struct Context {
    home: PathBuf,
}

impl Context {
    /// Resolve the home (flag / `BIDKIT_HOME`, else the platform default) and create it.
    pub fn new(home: Option<PathBuf>) -> anyhow::Result<Self> {
        let home = match home {
            Some(h) => h,
            None => bidkit_app::default_home()?,
        };
        std::fs::create_dir_all(&home)
            .with_context(|| format!("cannot create the home directory {}", home.display()))?;
        Ok(Context { home })
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }
}

/// Run an async use case on a small multi-threaded runtime (the machine may have only
/// two cores; the keystore's blocking work gets its own threads).
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(rt.block_on(future))
}

/// Resolves on Ctrl-C, or SIGTERM on Unix, saying so on stderr: how `bidkit relay serve`
/// and `bidkit tsa serve` (`what`) know to stop.
pub async fn shutdown_signal(what: &str) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    eprintln!("bidkit {what}: shutting down");
}
