//! Tauri commands: each one is a thin call into `bidkit-app`. The shell's own commands
//! are here; each screen's are in its submodule.

pub mod bid;
pub mod files;
pub mod opening;
pub mod phone;
pub mod records;
pub mod seal;
mod task;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use bidkit_app::login::LoginOptions;
use bidkit_app::login_view::login_with_progress;
use bidkit_app::verify_view::{ViewOptions, verify_for_view};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::error::IpcError;
use crate::home::Home;
use crate::ipc::{
    AppInfoView, IdentityView, LOGIN_EVENT, LoginEvent, LoginStarted, VerifyRequest, VerifyResult,
};

/// Returns the app version and the emulated phone's status for the Bidkit home, as
/// `{version, home, phone: {enrolled, person, organisation, certificates, pin_locked, error}}`.
#[tauri::command]
pub async fn app_info(home: State<'_, Home>) -> Result<AppInfoView, IpcError> {
    let dir = home.0.clone()?;
    // Reading the keystore touches the disk: keep it off the async runtime's workers.
    tauri::async_runtime::spawn_blocking(move || bidkit_app::app_info(&dir))
        .await
        .map(AppInfoView::from)
        .map_err(|err| IpcError::new("internal", format!("app_info task failed: {err}")))
}

/// Verifies a PDF (as `bidkit verify`, trusting the home's emulated roots) and renders its
/// first pages with the stamps located on them. Runs on a blocking thread: the UI stays
/// responsive while the file is read and drawn.
#[tauri::command]
pub async fn verify_pdf(
    home: State<'_, Home>,
    request: VerifyRequest,
) -> Result<VerifyResult, IpcError> {
    let dir = home.0.clone()?;
    let path = task::path_arg("PDF file", &request.path)?;
    task::blocking("verify", move || {
        verify_for_view(&dir, &path, &ViewOptions::default())
    })
    .await
    .map(VerifyResult::from)
}

/// The UI calls this once, when its first screen has been painted. With
/// `BIDKIT_REPORT_FIRST_PAINT=1` the app prints `first-paint <unix time, ms>` on stdout,
/// which `scripts/measure-desktop` reads to time a start from exec to pixels.
#[tauri::command]
pub fn ui_ready() {
    if std::env::var_os("BIDKIT_REPORT_FIRST_PAINT").is_some() {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        println!("first-paint {ms}");
    }
}

/// The login by scan in progress, if any: one at a time, a new one cancels the old.
#[derive(Debug, Default)]
pub struct Logins {
    next: AtomicU32,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl Logins {
    fn replace(&self, task: Option<JoinHandle<()>>) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = running.take() {
            old.abort();
        }
        *running = task;
    }
}

/// Starts a login by scan on the embedded relay (GM suite, trusting the home's emulated
/// root) and returns its number at once; its progress arrives as `login-progress` events
/// ([`LoginEvent`]): every QR frame, phones turned away, the verification code, then the
/// verified identity or the error. A login already running is cancelled.
#[tauri::command]
pub async fn login_start<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    logins: State<'_, Logins>,
) -> Result<LoginStarted, IpcError> {
    let dir = home.0.clone()?;
    let login = logins.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let opts = LoginOptions::new(dir, bidkit_crypto::Suite::Gm);
    let task = tauri::async_runtime::spawn(async move {
        let progress_app = app.clone();
        let result = login_with_progress(&opts, move |p| {
            let _ = progress_app.emit(LOGIN_EVENT, LoginEvent::progress(login, p));
        })
        .await;
        let event = match result {
            Ok(identity) => LoginEvent::Done {
                login,
                identity: IdentityView::from(identity),
            },
            Err(e) => LoginEvent::Failed {
                login,
                error: IpcError::from(e),
            },
        };
        let _ = app.emit(LOGIN_EVENT, event);
    });
    logins.replace(Some(task));
    Ok(LoginStarted { login })
}

/// Cancels the login in progress (its QR code stops working); nothing when none runs.
#[tauri::command]
pub fn login_cancel(logins: State<'_, Logins>) {
    logins.replace(None);
}

#[cfg(test)]
mod tests {
    use tauri::Manager;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    use super::*;

    fn app_with_home(
        home: Result<std::path::PathBuf, IpcError>,
    ) -> tauri::App<tauri::test::MockRuntime> {
        let app = mock_builder()
            .invoke_handler(tauri::generate_handler![app_info, verify_pdf])
            .build(mock_context(noop_assets()))
            .unwrap();
        app.manage(Home(home));
        app
    }

    #[test]
    fn fresh_home_reports_an_empty_phone() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_with_home(Ok(dir.path().to_path_buf()));
        let info = tauri::async_runtime::block_on(app_info(app.state::<Home>())).unwrap();
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(json["phone"]["enrolled"], false);
        assert_eq!(json["phone"]["certificates"], 0);
        assert_eq!(json["phone"]["pin_locked"], false);
    }

    #[test]
    fn verifying_a_missing_file_is_a_coded_error() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_with_home(Ok(dir.path().to_path_buf()));
        let request = VerifyRequest {
            path: dir.path().join("missing.pdf").display().to_string(),
        };
        let err =
            tauri::async_runtime::block_on(verify_pdf(app.state::<Home>(), request)).unwrap_err();
        assert!(!err.code.is_empty() && err.code != "internal", "{err}");
        assert!(err.message.contains("missing.pdf"), "{err}");
        let request = VerifyRequest { path: "  ".into() };
        let err =
            tauri::async_runtime::block_on(verify_pdf(app.state::<Home>(), request)).unwrap_err();
        assert_eq!(err.code, "invalid-option");
    }

    /// The bundle's version (tauri.conf.json, what `tauri build` names the .deb after)
    /// is the crates' version.
    #[test]
    fn bundle_version_is_the_crates_version() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json");
        let conf: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(conf["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn missing_home_is_an_ipc_error() {
        let app = app_with_home(Err(IpcError::new("no_home", "no home")));
        let err = tauri::async_runtime::block_on(app_info(app.state::<Home>())).unwrap_err();
        assert_eq!(err.code, "no_home");
    }
}
