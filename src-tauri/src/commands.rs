//! Tauri commands: each one is a thin call into `bidkit-app`.

use bidkit_app::AppInfo;
use tauri::State;

use crate::error::IpcError;
use crate::home::Home;

/// Returns the app version and the emulated phone's status for the Bidkit home, as
/// `{version, home, phone: {enrolled, person, organisation, certificates, pin_locked, error}}`.
#[tauri::command]
pub async fn app_info(home: State<'_, Home>) -> Result<AppInfo, IpcError> {
    let dir = home.0.clone()?;
    // Reading the keystore touches the disk: keep it off the async runtime's workers.
    tauri::async_runtime::spawn_blocking(move || bidkit_app::app_info(&dir))
        .await
        .map_err(|err| IpcError::new("internal", format!("app_info task failed: {err}")))
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
            .invoke_handler(tauri::generate_handler![app_info])
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
    fn missing_home_is_an_ipc_error() {
        let app = app_with_home(Err(IpcError::new("no_home", "no home")));
        let err = tauri::async_runtime::block_on(app_info(app.state::<Home>())).unwrap_err();
        assert_eq!(err.code, "no_home");
    }
}
