//! The native file pickers every path field offers beside typing the path.

use std::path::Path;

use tauri::{Runtime, Window};
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder};

use crate::error::IpcError;
use crate::ipc::files::{PickKind, PickRequest};

/// Shows the system's open, folder or save dialog over the calling window and returns the
/// chosen path, or `None` when the user cancels.
#[tauri::command]
pub async fn pick_path<R: Runtime>(
    window: Window<R>,
    request: PickRequest,
) -> Result<Option<String>, IpcError> {
    let dialog = builder(window.dialog().file().set_parent(&window), &request);
    // The blocking forms wait for the dialog, which runs on the main thread: keep them
    // off the async runtime's workers.
    let picked = tauri::async_runtime::spawn_blocking(move || match request.kind {
        PickKind::Open => dialog.blocking_pick_file(),
        PickKind::Folder => dialog.blocking_pick_folder(),
        PickKind::Save => dialog.blocking_save_file(),
    })
    .await
    .map_err(|err| IpcError::new("internal", format!("file picker failed: {err}")))?;
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into_owned()))
}

/// The dialog `request` asks for: its title, filter and starting place.
fn builder<R: Runtime>(
    mut dialog: FileDialogBuilder<R>,
    request: &PickRequest,
) -> FileDialogBuilder<R> {
    if let Some(title) = request.title.as_deref().filter(|t| !t.is_empty()) {
        dialog = dialog.set_title(title);
    }
    if let Some(filter) = request.filter {
        let name = filter.extensions().join(", ");
        dialog = dialog.add_filter(name, filter.extensions());
        dialog = dialog.add_filter("*", &["*"]);
    }
    let current = request.current.as_deref().map(str::trim).unwrap_or("");
    if !current.is_empty() {
        let current = Path::new(current);
        if current.is_dir() {
            dialog = dialog.set_directory(current);
        } else {
            if let Some(dir) = current.parent().filter(|d| d.is_dir()) {
                dialog = dialog.set_directory(dir);
            }
            if let (PickKind::Save, Some(name)) = (request.kind, current.file_name()) {
                dialog = dialog.set_file_name(name.to_string_lossy());
            }
        }
    }
    dialog
}
