//! Commands of 投标文件, 加密/递交/撤标.
//!
//! Each one calls `bidkit_app::bid_view` (the same crate functions as `bidkit tender` /
//! `bidkit bid …`) on a blocking thread; the long ones emit progress events
//! ([`BUILD_EVENT`], [`BID_EVENT`]) and every operation that writes a file appends an
//! entry to the home's history.

use std::path::Path;

use bidkit_app::AppError;
use bidkit_app::bid::WithdrawOptions;
use bidkit_app::bid_view;
use tauri::{AppHandle, Emitter, Runtime, State};

use super::task::{blocking, opt_path, own_thread, path_arg};
use crate::error::IpcError;
use crate::home::Home;
use crate::ipc::bid::{
    AddFileRequest, BID_EVENT, BUILD_EVENT, BidEvent, BuildEvent, BuildRequest, BuildResult,
    CheckRequest, CheckResult, EncryptRequest, EncryptResult, InspectResult, PathRequest,
    ProjectInfo, ProjectInitRequest, StatementRequest, StatementResult, TenderView,
};

/// Appends to the history; a failure to do so is not the operation's.
fn history(home: &Path, kind: &str, summary: String, files: Vec<String>, err: Option<&AppError>) {
    let _ = bid_view::record(home, kind, summary, files, err);
}

/// Reads a tender package (its directory or tender.json) as `bidkit tender check`.
#[tauri::command]
pub async fn bid_tender_load(request: PathRequest) -> Result<TenderView, IpcError> {
    let path = path_arg("tender package", &request.path)?;
    blocking("tender", move || bid_view::load_tender(&path))
        .await
        .map(TenderView::from)
}

/// Creates a bid project following a tender package (`bidkit bid init`).
#[tauri::command]
pub async fn bid_project_init(request: ProjectInitRequest) -> Result<ProjectInfo, IpcError> {
    let tender = path_arg("tender package", &request.tender)?;
    let dir = path_arg("project directory", &request.dir)?;
    blocking("project", move || {
        bid_view::init_project(
            &tender,
            &dir,
            &request.bidder,
            &request.uscc,
            request.quoted_price.as_deref(),
        )
    })
    .await
    .map(ProjectInfo::from)
}

/// Opens an existing bid project.
#[tauri::command]
pub async fn bid_project_open(request: PathRequest) -> Result<ProjectInfo, IpcError> {
    let dir = path_arg("project directory", &request.path)?;
    blocking("project", move || bid_view::open_project(&dir))
        .await
        .map(ProjectInfo::from)
}

/// Adds a file to a section (`bidkit bid add`).
#[tauri::command]
pub async fn bid_project_add(request: AddFileRequest) -> Result<ProjectInfo, IpcError> {
    let dir = path_arg("project directory", &request.dir)?;
    let file = path_arg("file", &request.file)?;
    let section = request.section.trim().to_owned();
    blocking("add", move || bid_view::add_file(&dir, &section, &file))
        .await
        .map(ProjectInfo::from)
}

/// Builds the bid document (`bidkit bid build`), emitting `bid-build-progress` per
/// stage and page, and returns it with its first pages drawn.
#[tauri::command]
pub async fn bid_build<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: BuildRequest,
) -> Result<BuildResult, IpcError> {
    let home = home.0.clone()?;
    let dir = path_arg("project directory", &request.dir)?;
    let out = opt_path(request.out.as_deref());
    blocking("build", move || {
        let mut last = None;
        let result = bid_view::build_project(&dir, out.as_deref(), &mut |p| {
            // One event per stage, file and page, never more.
            let key = (p.stage, p.file.clone(), p.pages_done);
            if last.as_ref() != Some(&key) {
                let _ = app.emit(BUILD_EVENT, BuildEvent::from(p));
                last = Some(key);
            }
        });
        match &result {
            Ok(b) => history(
                &home,
                "build",
                format!("{} pages, {} bookmarks", b.pages, b.bookmarks),
                vec![b.output.clone()],
                None,
            ),
            Err(e) => history(
                &home,
                "build",
                dir.display().to_string(),
                Vec::new(),
                Some(e),
            ),
        }
        result
    })
    .await
    .map(BuildResult::from)
}

/// Runs the checklist (`bidkit bid check`), recording an override when given.
#[tauri::command]
pub async fn bid_check(
    home: State<'_, Home>,
    request: CheckRequest,
) -> Result<CheckResult, IpcError> {
    let home = home.0.clone()?;
    let dir = path_arg("project directory", &request.dir)?;
    let sealed = opt_path(request.sealed.as_deref());
    blocking("check", move || {
        bid_view::check_project(
            &home,
            &dir,
            sealed.as_deref(),
            request.override_reason.as_deref(),
            request.by.as_deref(),
            request.integrity_only,
        )
    })
    .await
    .map(CheckResult::from)
}

/// Encrypts a sealed PDF with the phone (two scans) over the settings' relay, emitting
/// `bid-progress` events (QR frames, verification codes, steps, bytes), and returns the
/// bid file with its inspection.
#[tauri::command]
pub async fn bid_encrypt<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: EncryptRequest,
) -> Result<EncryptResult, IpcError> {
    let home = home.0.clone()?;
    let pdf = path_arg("sealed PDF", &request.pdf)?;
    let project = opt_path(request.project.as_deref());
    let output = opt_path(request.output.as_deref());
    own_thread("encrypt", move || {
        let opts = bid_view::encrypt_options(
            &home,
            &pdf,
            project.as_deref(),
            output.as_deref(),
            request.tender_id.as_deref(),
        )?;
        let result = bid_view::encrypt_with_progress(&opts, |p| {
            let _ = app.emit(BID_EVENT, BidEvent::new("encrypt", p));
        });
        match &result {
            Ok(r) => history(
                &home,
                "encrypt",
                format!("{} → {} ({})", pdf.display(), r.file.display(), r.tender_id),
                vec![r.file.display().to_string()],
                None,
            ),
            Err(e) => history(
                &home,
                "encrypt",
                pdf.display().to_string(),
                Vec::new(),
                Some(e),
            ),
        }
        let report = result?;
        let inspect = bid_view::inspect_view(&report.file);
        Ok(EncryptResult::new(&report, inspect))
    })
    .await
}

/// Submits a bid file (one scan): the phone signs the receipt, written as JSON.
#[tauri::command]
pub async fn bid_submit<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: StatementRequest,
) -> Result<StatementResult, IpcError> {
    let home = home.0.clone()?;
    let bid_file = path_arg("bid file", &request.bid_file)?;
    let output = opt_path(request.output.as_deref());
    own_thread("submit", move || {
        let opts = bid_view::submit_options(&home, &bid_file, output.as_deref(), "receipt")?;
        let result = bid_view::submit_with_progress(&opts, |p| {
            let _ = app.emit(BID_EVENT, BidEvent::new("submit", p));
        });
        statement_history(&home, "submit", &bid_file, &result);
        result.map(|r| StatementResult::from(&r))
    })
    .await
}

/// Withdraws a bid file (one scan): the phone signs the withdrawal, written as JSON.
#[tauri::command]
pub async fn bid_withdraw<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: StatementRequest,
) -> Result<StatementResult, IpcError> {
    let home = home.0.clone()?;
    let bid_file = path_arg("bid file", &request.bid_file)?;
    let output = opt_path(request.output.as_deref());
    let reason = request.reason.unwrap_or_default();
    own_thread("withdraw", move || {
        let opts = WithdrawOptions {
            submit: bid_view::submit_options(&home, &bid_file, output.as_deref(), "withdrawal")?,
            reason,
        };
        let result = bid_view::withdraw_with_progress(&opts, |p| {
            let _ = app.emit(BID_EVENT, BidEvent::new("withdraw", p));
        });
        statement_history(&home, "withdraw", &bid_file, &result);
        result.map(|r| StatementResult::from(&r))
    })
    .await
}

fn statement_history(
    home: &Path,
    kind: &str,
    bid_file: &Path,
    result: &Result<bidkit_app::bid::StatementReport, AppError>,
) {
    match result {
        Ok(r) => history(
            home,
            kind,
            format!("{} ({})", bid_file.display(), r.tender_id),
            vec![r.file.display().to_string()],
            None,
        ),
        Err(e) => history(
            home,
            kind,
            bid_file.display().to_string(),
            Vec::new(),
            Some(e),
        ),
    }
}

/// Inspects a bid file without decrypting (`bidkit bid inspect`).
#[tauri::command]
pub async fn bid_inspect(request: PathRequest) -> Result<InspectResult, IpcError> {
    let path = path_arg("bid file", &request.path)?;
    blocking("inspect", move || Ok(bid_view::inspect_view(&path)))
        .await
        .map(InspectResult::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tender_package_is_a_coded_error() {
        let dir = tempfile::tempdir().unwrap();
        let request = PathRequest {
            path: dir.path().join("nothing").display().to_string(),
        };
        let err = tauri::async_runtime::block_on(bid_tender_load(request)).unwrap_err();
        assert_eq!(err.code, "io", "{err}");
        assert!(err.message.contains("nothing"), "{err}");
        let err = tauri::async_runtime::block_on(bid_tender_load(PathRequest { path: " ".into() }))
            .unwrap_err();
        assert_eq!(err.code, "invalid-option");
    }

    #[test]
    fn inspecting_a_file_that_is_no_bid_file_says_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.bid");
        std::fs::write(&file, b"not a bid file").unwrap();
        let request = PathRequest {
            path: file.display().to_string(),
        };
        let r = tauri::async_runtime::block_on(bid_inspect(request)).unwrap();
        assert_eq!(r.verdict, "unreadable");
        assert!(!r.problems.is_empty());
    }
}
