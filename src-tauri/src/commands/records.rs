//! Commands of 记录/设置, logs and diagnostics: the history of operations, the settings
//! (relay, suite, language) with a relay health check, the log folder and the
//! diagnostics export. Each one is logged through [`crate::logging::timed`].

use std::path::PathBuf;
use std::str::FromStr as _;

use bidkit_app::settings::Settings;
use bidkit_crypto::Suite;
use tauri::State;

use super::task::blocking;
use crate::error::IpcError;
use crate::home::Home;
use crate::ipc::records::{
    DiagnosticsRequest, DiagnosticsResult, HistoryItem, HistoryView, LogFolder, RelayCheck,
    SettingsRequest, SettingsView,
};
use crate::logging::timed;

/// The most history entries the screen asks for.
const MAX_HISTORY: u32 = 500;

/// The newest `limit` (at most 500, default 200) history entries, newest first.
#[tauri::command]
pub async fn records_history(
    home: State<'_, Home>,
    limit: Option<u32>,
) -> Result<HistoryView, IpcError> {
    let dir = home.0.clone()?;
    timed("records_history", async move {
        let limit = limit.unwrap_or(200).min(MAX_HISTORY) as usize;
        let path = bidkit_app::history::history_path(&dir);
        let entries = blocking("history", move || bidkit_app::history::recent(&dir, limit)).await?;
        Ok(HistoryView {
            entries: entries.into_iter().map(HistoryItem::from).collect(),
            path: path.display().to_string(),
        })
    })
    .await
}

/// The settings (the defaults when none were saved).
#[tauri::command]
pub async fn settings_get(home: State<'_, Home>) -> Result<SettingsView, IpcError> {
    let dir = home.0.clone()?;
    timed("settings_get", async move {
        blocking("settings", move || {
            let s = Settings::load(&dir)?;
            Ok(SettingsView::new(&s, &Settings::path(&dir)))
        })
        .await
    })
    .await
}

/// The settings a request asks for, checked.
fn parse(request: SettingsRequest) -> Result<Settings, IpcError> {
    let suite = Suite::from_str(request.suite.trim()).map_err(|_| {
        IpcError::new(
            "invalid-option",
            format!("{:?} is not a suite (gm or nist)", request.suite),
        )
    })?;
    let relay = request
        .relay
        .map(|r| r.trim().trim_end_matches('/').to_owned())
        .filter(|r| !r.is_empty());
    let s = Settings {
        relay,
        suite,
        language: request.language.trim().to_owned(),
    };
    s.check().map_err(IpcError::from)?;
    Ok(s)
}

/// Saves the settings (whole or not at all) and returns them as saved.
#[tauri::command]
pub async fn settings_save(
    home: State<'_, Home>,
    request: SettingsRequest,
) -> Result<SettingsView, IpcError> {
    let dir = home.0.clone()?;
    timed("settings_save", async move {
        let s = parse(request)?;
        tracing::info!(
            suite = s.suite.as_str(),
            language = %s.language,
            relay = s.relay_host().as_deref().unwrap_or("embedded"),
            "settings saved"
        );
        blocking("settings", move || {
            s.save(&dir)?;
            Ok(SettingsView::new(&s, &Settings::path(&dir)))
        })
        .await
    })
    .await
}

/// Saves only the language (the header's language toggle), keeping the rest.
#[tauri::command]
pub async fn settings_set_language(
    home: State<'_, Home>,
    language: String,
) -> Result<SettingsView, IpcError> {
    let dir = home.0.clone()?;
    timed("settings_set_language", async move {
        blocking("settings", move || {
            let mut s = Settings::load(&dir)?;
            s.language = language.trim().to_owned();
            s.save(&dir)?;
            Ok(SettingsView::new(&s, &Settings::path(&dir)))
        })
        .await
    })
    .await
}

/// Asks the relay server at `url` for its health (`GET /healthz`, five seconds at most).
#[tauri::command]
pub async fn relay_test(url: String) -> Result<RelayCheck, IpcError> {
    timed("relay_test", async move {
        let url = url.trim().trim_end_matches('/').to_owned();
        let took = bidkit_app::settings::check_relay(&url)
            .await
            .map_err(IpcError::from)?;
        Ok(RelayCheck {
            url: bidkit_app::settings::health_url(&url),
            ms: u32::try_from(took.as_millis()).unwrap_or(u32::MAX),
        })
    })
    .await
}

/// The log directory and its files, newest first.
#[tauri::command]
pub async fn logs_folder(home: State<'_, Home>) -> Result<LogFolder, IpcError> {
    let dir = home.0.clone()?;
    timed("logs_folder", async move {
        let logs = bidkit_app::diagnostics::log_dir(&dir);
        let files = bidkit_app::diagnostics::log_files(&dir)
            .into_iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        Ok(LogFolder {
            path: logs.display().to_string(),
            files,
        })
    })
    .await
}

/// Writes the diagnostics export (no personal data) to the requested path, adding
/// `.tar.gz` when the name has no such ending.
#[tauri::command]
pub async fn diagnostics_export(
    home: State<'_, Home>,
    request: DiagnosticsRequest,
) -> Result<DiagnosticsResult, IpcError> {
    let dir = home.0.clone()?;
    timed("diagnostics_export", async move {
        let text = request.path.trim();
        if text.is_empty() {
            return Err(IpcError::new(
                "invalid-option",
                "no file was given for the diagnostics",
            ));
        }
        let mut path = PathBuf::from(text);
        if !path.is_absolute() {
            return Err(IpcError::new(
                "invalid-option",
                format!("{text} is not an absolute path"),
            ));
        }
        if path.is_dir() {
            path = path.join(default_name());
        } else if !(text.ends_with(".tar.gz") || text.ends_with(".tgz")) {
            path = PathBuf::from(format!("{text}.tar.gz"));
        }
        blocking("diagnostics", move || {
            bidkit_app::diagnostics::export(
                &dir,
                &path,
                &bidkit_app::diagnostics::ExportOptions::default(),
            )
        })
        .await
        .map(DiagnosticsResult::from)
    })
    .await
}

/// `bidkit-diagnostics-YYYYMMDD-HHMMSS.tar.gz` (UTC).
fn default_name() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "bidkit-diagnostics-{:04}{:02}{:02}-{:02}{:02}{:02}.tar.gz",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use tauri::Manager;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    use super::*;

    fn app(home: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
        let app = mock_builder().build(mock_context(noop_assets())).unwrap();
        app.manage(Home(Ok(home.to_path_buf())));
        app
    }

    #[test]
    fn settings_round_trip_and_bad_values_are_coded() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        let s = tauri::async_runtime::block_on(settings_get(app.state::<Home>())).unwrap();
        assert_eq!(
            (s.suite.as_str(), s.language.as_str(), s.saved),
            ("gm", "zh-CN", false)
        );
        let saved = tauri::async_runtime::block_on(settings_save(
            app.state::<Home>(),
            SettingsRequest {
                relay: Some(" http://127.0.0.1:8700/ ".into()),
                suite: "nist".into(),
                language: "en".into(),
            },
        ))
        .unwrap();
        assert_eq!(saved.relay.as_deref(), Some("http://127.0.0.1:8700"));
        assert!(saved.saved);
        let on_disk = Settings::load(dir.path()).unwrap();
        assert_eq!(on_disk.suite, Suite::Nist);
        let lang = tauri::async_runtime::block_on(settings_set_language(
            app.state::<Home>(),
            "zh-CN".into(),
        ))
        .unwrap();
        assert_eq!(lang.suite, "nist");
        assert_eq!(Settings::load(dir.path()).unwrap().language, "zh-CN");
        let err = tauri::async_runtime::block_on(settings_save(
            app.state::<Home>(),
            SettingsRequest {
                relay: None,
                suite: "rsa".into(),
                language: "en".into(),
            },
        ))
        .unwrap_err();
        assert_eq!(err.code, "invalid-option");
        let err =
            tauri::async_runtime::block_on(settings_set_language(app.state::<Home>(), "fr".into()))
                .unwrap_err();
        assert_eq!(err.code, "invalid-option");
    }

    #[test]
    fn history_and_diagnostics_through_the_commands() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        bidkit_app::history::append(
            dir.path(),
            &bidkit_app::history::HistoryEntry::now("seal", "sealed", vec![], true),
        )
        .unwrap();
        let h = tauri::async_runtime::block_on(records_history(app.state::<Home>(), None)).unwrap();
        assert_eq!(h.entries.len(), 1);
        assert_eq!(h.entries[0].kind, "seal");
        let out = dir.path().join("diag");
        let r = tauri::async_runtime::block_on(diagnostics_export(
            app.state::<Home>(),
            DiagnosticsRequest {
                path: out.display().to_string(),
            },
        ))
        .unwrap();
        assert!(r.path.ends_with("diag.tar.gz"), "{}", r.path);
        assert!(std::path::Path::new(&r.path).is_file());
        let err = tauri::async_runtime::block_on(diagnostics_export(
            app.state::<Home>(),
            DiagnosticsRequest {
                path: "relative.tar.gz".into(),
            },
        ))
        .unwrap_err();
        assert_eq!(err.code, "invalid-option");
        let logs = tauri::async_runtime::block_on(logs_folder(app.state::<Home>())).unwrap();
        assert!(logs.path.ends_with("logs"));
    }
}
