//! Commands of 签章.
//!
//! `seal_open` (pages and sizes), `seal_list` (the seals the holder may apply),
//! `seal_keyword` (keyword hits to highlight), `seal_start` / `seal_cancel` (sealing
//! with the phone in a background task, progress as `seal-progress` events).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use bidkit_app::seal_view::{
    SealPlan, authorised_seals, finish_seal, keyword_hits, open_for_seal, seal_with_progress,
};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Runtime, State};

use super::task::{blocking, path_arg};
use crate::error::IpcError;
use crate::home::Home;
use crate::ipc::VerifyResult;
use crate::ipc::seal::{
    KeywordHitBox, SEAL_EVENT, SealDocumentInfo, SealEvent, SealKeywordRequest, SealOpenRequest,
    SealPick, SealResultView, SealStartRequest, SealStarted,
};

/// Opens a PDF for sealing: every page's displayed size in points and the first pages
/// rendered by pdfium. Runs on a blocking thread.
#[tauri::command]
pub async fn seal_open(request: SealOpenRequest) -> Result<SealDocumentInfo, IpcError> {
    let path = path_arg("PDF file", &request.path)?;
    blocking("seal", move || open_for_seal(&path))
        .await
        .map(SealDocumentInfo::from)
}

/// The seals the holder of the home's phone may apply (see
/// [`bidkit_app::seal_view::authorised_seals`]), with picture and size in mm.
#[tauri::command]
pub async fn seal_list(home: State<'_, Home>) -> Result<Vec<SealPick>, IpcError> {
    let dir = home.0.clone()?;
    blocking("seal", move || authorised_seals(&dir))
        .await
        .map(|v| v.into_iter().map(SealPick::from).collect())
}

/// Where a keyword occurs in the PDF (boxes to highlight), with the occurrences the
/// choice would seal marked. `keyword_not_found` when it does not occur.
#[tauri::command]
pub async fn seal_keyword(request: SealKeywordRequest) -> Result<Vec<KeywordHitBox>, IpcError> {
    let path = path_arg("PDF file", &request.path)?;
    let choice = request.choice();
    blocking("seal", move || {
        keyword_hits(&path, &request.keyword, choice)
    })
    .await
    .map(|v| v.into_iter().map(KeywordHitBox::from).collect())
}

/// The seal in progress, if any: one at a time, a new one cancels the old.
#[derive(Debug, Default)]
pub struct Sealings {
    next: AtomicU32,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl Sealings {
    fn replace(&self, task: Option<JoinHandle<()>>) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = running.take() {
            old.abort();
        }
        *running = task;
    }
}

/// Starts sealing (the use case of `bidkit seal`, on the relay and suite of the
/// settings) and returns its number at once; progress arrives as `seal-progress`
/// events ([`SealEvent`]): QR frames, the verification code, then the result with the
/// verifier's report of the output, or the error. Every outcome lands in the history.
/// A seal already running is cancelled.
#[tauri::command]
pub async fn seal_start<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    sealings: State<'_, Sealings>,
    request: SealStartRequest,
) -> Result<SealStarted, IpcError> {
    let dir = home.0.clone()?;
    let input = path_arg("PDF file", &request.path)?;
    let output = PathBuf::from(request.output.trim());
    if !(request.seal_id.is_finite() && request.seal_id >= 1.0) {
        return Err(IpcError::new("invalid-option", "no seal was chosen"));
    }
    let plan = SealPlan {
        input,
        output,
        seal_id: request.seal_id as i64,
        mode: request.placement.to_mode()?,
    };
    let run = sealings
        .next
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(1);
    let task = tauri::async_runtime::spawn(async move {
        let progress_app = app.clone();
        let result = seal_with_progress(&dir, &plan, move |p| {
            let _ = progress_app.emit(SEAL_EVENT, SealEvent::progress(run, p));
        })
        .await;
        let finished = tauri::async_runtime::spawn_blocking(move || {
            let view = finish_seal(&dir, &plan, &result);
            (result, view, plan)
        })
        .await;
        let event = match finished {
            Err(e) => SealEvent::Failed {
                run,
                error: IpcError::new("internal", format!("seal task failed: {e}")),
            },
            Ok((Err(e), _, _)) => SealEvent::Failed {
                run,
                error: IpcError::from(e),
            },
            Ok((Ok(_), Err(e), _)) => SealEvent::Failed {
                run,
                error: IpcError::from(e),
            },
            Ok((Ok(report), Ok(view), plan)) => match view {
                None => SealEvent::Failed {
                    run,
                    error: IpcError::new("internal", "the sealed copy was not verified"),
                },
                Some(view) => SealEvent::Done {
                    run,
                    result: Box::new(SealResultView {
                        output: plan.output.display().to_string(),
                        stamps: report
                            .documents
                            .first()
                            .map_or(0, |d| u32::try_from(d.stamps.len()).unwrap_or(u32::MAX)),
                        seal_name: report.seal_name,
                        signer: report.signer,
                        signer_serial: report.signer_serial,
                        verification_code: report.verification_code,
                        verify: VerifyResult::from(view),
                    }),
                },
            },
        };
        let _ = app.emit(SEAL_EVENT, event);
    });
    sealings.replace(Some(task));
    Ok(SealStarted { run })
}

/// Cancels the seal in progress (its QR code stops working); nothing when none runs.
#[tauri::command]
pub fn seal_cancel(sealings: State<'_, Sealings>) {
    sealings.replace(None);
}

#[cfg(test)]
mod tests {
    use tauri::Manager;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    use super::*;
    use crate::ipc::seal::{DropAt, SealModeRequest};

    fn app(home: std::path::PathBuf) -> tauri::App<tauri::test::MockRuntime> {
        let app = mock_builder()
            .invoke_handler(tauri::generate_handler![seal_open, seal_list, seal_start])
            .build(mock_context(noop_assets()))
            .unwrap();
        app.manage(Home(Ok(home)));
        app.manage(Sealings::default());
        app
    }

    #[test]
    fn bad_requests_are_coded_errors_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path().to_path_buf());
        let err = tauri::async_runtime::block_on(seal_open(SealOpenRequest { path: " ".into() }))
            .unwrap_err();
        assert_eq!(err.code, "invalid-option");
        let err = tauri::async_runtime::block_on(seal_open(SealOpenRequest {
            path: dir.path().join("missing.pdf").display().to_string(),
        }))
        .unwrap_err();
        assert!(err.message.contains("missing.pdf"), "{err}");
        // A home without a phone lists no seals.
        assert!(
            tauri::async_runtime::block_on(seal_list(app.state::<Home>()))
                .unwrap()
                .is_empty()
        );
        // No seal chosen: refused before a task starts.
        let request = SealStartRequest {
            path: "/x.pdf".into(),
            output: "/y.pdf".into(),
            seal_id: 0.0,
            placement: SealModeRequest::Page {
                at: DropAt {
                    page: 1,
                    x: 0.5,
                    y: 0.5,
                },
            },
        };
        let err = tauri::async_runtime::block_on(seal_start(
            app.handle().clone(),
            app.state::<Home>(),
            app.state::<Sealings>(),
            request,
        ))
        .unwrap_err();
        assert_eq!(err.code, "invalid-option");
    }
}
