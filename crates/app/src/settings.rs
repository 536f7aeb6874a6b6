//! The tool's settings (设置): which relay to use, the algorithm suite, the UI language.
//! Stored as `settings.json` in the Bidkit home; a missing file means the defaults.

use std::path::{Path, PathBuf};

use bidkit_crypto::Suite;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The settings file's name inside the home.
pub const SETTINGS_FILE: &str = "settings.json";

/// The tool's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A relay server's base URL (`http://host:port`); `None` runs the embedded relay.
    pub relay: Option<String>,
    /// The algorithm suite for new sessions and documents.
    pub suite: Suite,
    /// The UI language (`zh-CN` or `en`).
    pub language: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            relay: None,
            suite: Suite::Gm,
            language: "zh-CN".into(),
        }
    }
}

impl Settings {
    /// Where the settings of `home` are kept.
    pub fn path(home: &Path) -> PathBuf {
        home.join(SETTINGS_FILE)
    }

    /// Reads the settings of `home`; the defaults when there is no file yet.
    pub fn load(home: &Path) -> Result<Settings, AppError> {
        let path = Settings::path(home);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => return Err(AppError::Io { path, source }),
        };
        serde_json::from_slice(&bytes).map_err(|e| AppError::InvalidOption {
            option: "settings",
            reason: format!("{}: {e}", path.display()),
        })
    }

    /// Writes the settings of `home` (whole or not at all).
    pub fn save(&self, home: &Path) -> Result<(), AppError> {
        self.check()?;
        std::fs::create_dir_all(home).map_err(|source| AppError::Io {
            path: home.to_path_buf(),
            source,
        })?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| AppError::InvalidOption {
            option: "settings",
            reason: e.to_string(),
        })?;
        crate::qr::write_atomically(&Settings::path(home), &json)
    }

    /// The relay server's host and port (`relay.example.net:8700`), without scheme,
    /// user, path or query; `None` for the embedded relay.
    pub fn relay_host(&self) -> Option<String> {
        let url = self.relay.as_deref()?;
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (!host.is_empty()).then(|| host.to_owned())
    }

    /// Refuses values no screen could use.
    pub fn check(&self) -> Result<(), AppError> {
        if let Some(url) = &self.relay
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(AppError::InvalidOption {
                option: "relay",
                reason: format!("{url:?} is not an http:// or https:// address"),
            });
        }
        if !matches!(self.language.as_str(), "zh-CN" | "en") {
            return Err(AppError::InvalidOption {
                option: "language",
                reason: format!("{:?} is not zh-CN or en", self.language),
            });
        }
        Ok(())
    }
}

/// The relay's health endpoint for a server base URL (`http://host:port` →
/// `http://host:port/healthz`).
pub fn health_url(base: &str) -> String {
    format!("{}/healthz", base.trim().trim_end_matches('/'))
}

/// Checks that a relay server answers on its health endpoint (`GET /healthz` → `ok`)
/// within five seconds; returns how long it took. An address that is not http(s) is an
/// [`AppError::InvalidOption`]; no answer, another status or another body is
/// `relay-unreachable`.
pub async fn check_relay(base: &str) -> Result<std::time::Duration, AppError> {
    let probe = Settings {
        relay: Some(base.trim().to_owned()),
        ..Settings::default()
    };
    probe.check()?;
    let url = health_url(base);
    let unreachable = |reason: String| {
        AppError::from(bidkit_relay::ClientError::Unreachable {
            url: url.clone(),
            reason,
        })
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let started = std::time::Instant::now();
    let answer = client
        .get(&url)
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let status = answer.status();
    let body = answer
        .text()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !status.is_success() || body.trim() != "ok" {
        return Err(unreachable(format!(
            "HTTP {status}: {:?} is not a Bidkit relay's health answer",
            body.chars().take(80).collect::<String>()
        )));
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_and_saved_settings_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), Settings::default());
        let s = Settings {
            relay: Some("http://127.0.0.1:8700".into()),
            suite: Suite::Nist,
            language: "en".into(),
        };
        s.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), s);
    }

    #[test]
    fn relay_host_keeps_only_host_and_port() {
        let mut s = Settings::default();
        assert_eq!(s.relay_host(), None);
        s.relay = Some("https://user:pw@relay.example.net:8700/a/b?t=1".into());
        assert_eq!(s.relay_host().as_deref(), Some("relay.example.net:8700"));
        s.relay = Some("http://10.0.0.1".into());
        assert_eq!(s.relay_host().as_deref(), Some("10.0.0.1"));
        assert_eq!(health_url("http://h:1/ "), "http://h:1/healthz");
    }

    #[test]
    fn relay_check_answers_for_a_live_relay_and_fails_for_a_dead_one() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
            tokio::spawn(async move { axum::serve(listener, app).await });
            check_relay(&format!("http://{addr}")).await.unwrap();
            let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let dead_addr = dead.local_addr().unwrap();
            drop(dead);
            let err = check_relay(&format!("http://{dead_addr}"))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "relay-unreachable", "{err}");
            let err = check_relay("ftp://x").await.unwrap_err();
            assert_eq!(err.code(), "invalid-option");
        });
    }

    #[test]
    fn bad_values_are_refused_and_bad_files_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = Settings {
            relay: Some("ftp://x".into()),
            ..Settings::default()
        };
        assert!(bad.save(dir.path()).is_err());
        assert!(!Settings::path(dir.path()).exists());
        std::fs::write(Settings::path(dir.path()), b"{not json").unwrap();
        let err = Settings::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("settings.json"), "{err}");
    }
}
