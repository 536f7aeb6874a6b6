//! Commands of 开标 (the opening hall, agent mode): load the bids before decryption,
//! decrypt one bidder's bid by that bidder's scan, write the opening record, have a
//! bidder confirm it by scan, have the agent seal it by scan, and look at a record again.
//!
//! The phone jobs (`opening_decrypt`, `opening_confirm`, `opening_seal_record`) return a
//! job number at once and run on a thread of their own (the use cases' blocking forms
//! start their own runtime); their progress and result arrive as `opening-progress`
//! events ([`OpeningEvent`]). Each operation appends an entry to the history.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use bidkit_app::AppError;
use bidkit_app::history::{HistoryEntry, append};
use bidkit_app::opening_view::{
    self, RecordOptions, confirm_record, decrypt_bidder, load_opening, make_record, record_state,
    seal_choices, seal_record,
};
use tauri::{AppHandle, Emitter, Runtime, State};

use super::task::{blocking, opt_path, path_arg};
use crate::error::IpcError;
use crate::home::Home;
use crate::ipc::opening::{
    CheckRecordRequest, ConfirmRequest, DecryptBidRequest, DecryptedView, OPENING_EVENT,
    OpeningEvent, OpeningJob, OpeningLoadRequest, OpeningStatusView, RecordRequest, RecordView,
    SealChoiceView, SealRecordRequest,
};

/// Job numbers, carried by the events.
static NEXT_JOB: AtomicU32 = AtomicU32::new(0);

/// Appends to the history; a history that cannot be written does not undo anything.
fn history(home: &Path, kind: &str, summary: String, files: Vec<String>, error: Option<&str>) {
    let mut entry = HistoryEntry::now(kind, summary, files, error.is_none());
    entry.error = error.map(str::to_owned);
    if let Err(e) = append(home, &entry) {
        tracing::warn!("cannot append to the history: {e}");
    }
}

/// Every bid file of a directory before any decryption (as `bidkit open status`):
/// bidder, submission (receipt), withdrawal, integrity, header signer and chain, and
/// the bids already opened into the output directory.
#[tauri::command]
pub async fn opening_load(
    home: State<'_, Home>,
    request: OpeningLoadRequest,
) -> Result<OpeningStatusView, IpcError> {
    let dir = home.0.clone()?;
    let bids = path_arg("bid directory", &request.bids_dir)?;
    let tender = opt_path(request.tender.as_deref());
    let out = opt_path(request.out_dir.as_deref());
    let h = dir.clone();
    let result = blocking("opening_load", move || {
        load_opening(
            &h,
            tender.as_deref(),
            &bids,
            out.as_deref(),
            time::OffsetDateTime::now_utc(),
        )
    })
    .await;
    match &result {
        Ok(v) => history(
            &dir,
            "open",
            format!(
                "开标 / opening {}: {} bid file(s), {} sound",
                v.status.tender_id.as_deref().unwrap_or("—"),
                v.status.bids.len(),
                v.status
                    .bids
                    .iter()
                    .filter(|b| b.withdrawn || b.is_sound())
                    .count()
            ),
            vec![v.bids_dir.display().to_string()],
            None,
        ),
        Err(e) => history(
            &dir,
            "open",
            format!("开标 / opening {}", request.bids_dir.trim()),
            Vec::new(),
            Some(e.code.as_str()),
        ),
    }
    result.map(OpeningStatusView::from)
}

/// Runs `work` on a thread of its own, forwarding its progress as `opening-progress`
/// events of a new job, then its result (or failure); returns the job at once.
fn spawn_job<R: Runtime, T: Send + 'static>(
    app: AppHandle<R>,
    task: &'static str,
    work: impl FnOnce(
        &mut (dyn FnMut(bidkit_app::opening_view::BidProgress) + Send),
    ) -> Result<T, AppError>
    + Send
    + 'static,
    done: impl FnOnce(u32, Result<T, AppError>) -> OpeningEvent + Send + 'static,
) -> Result<OpeningJob, IpcError> {
    let job = NEXT_JOB.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let progress_app = app.clone();
    std::thread::Builder::new()
        .name(format!("opening-{task}-{job}"))
        .spawn(move || {
            let mut forward = |p: bidkit_app::opening_view::BidProgress| {
                let _ = progress_app.emit(OPENING_EVENT, OpeningEvent::progress(job, task, p));
            };
            let result = work(&mut forward);
            let _ = app.emit(OPENING_EVENT, done(job, result));
        })
        .map_err(|e| IpcError::new("internal", format!("cannot start the {task} job: {e}")))?;
    Ok(OpeningJob { job })
}

fn failed(job: u32, task: &str, e: AppError) -> OpeningEvent {
    OpeningEvent::Failed {
        job,
        task: task.to_owned(),
        error: IpcError::from(e),
    }
}

/// Decrypts one bidder's bid by that bidder's scan (as `bidkit open decrypt`), then
/// verifies the decrypted PDF; returns the job at once (`opening-progress` events: the
/// QR frames with their text, the verification code, the steps, the bytes, then
/// `decrypted` with the result or `failed`).
#[tauri::command]
pub fn opening_decrypt<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: DecryptBidRequest,
) -> Result<OpeningJob, IpcError> {
    let dir = home.0.clone()?;
    let bids = path_arg("bid directory", &request.bids_dir)?;
    let bidder = request.bidder.trim().to_owned();
    if bidder.is_empty() {
        return Err(IpcError::new("invalid-option", "no bidder was given"));
    }
    let out = opt_path(request.out_dir.as_deref())
        .unwrap_or_else(|| opening_view::default_out_dir(&bids));
    let tender = request
        .tender_id
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let h = dir.clone();
    spawn_job(
        app,
        "decrypt",
        move |forward| decrypt_bidder(&h, &bids, tender.as_deref(), &bidder, &out, forward),
        move |job, result| match result {
            Ok(d) => {
                history(
                    &dir,
                    "decrypt",
                    format!(
                        "解密 / decrypted the bid of {} ({}): {}",
                        d.report.bidder.name,
                        d.report.bidder.uscc,
                        if d.record.verification.valid {
                            "seals valid"
                        } else {
                            "seals NOT VALID"
                        }
                    ),
                    vec![
                        d.report.output.display().to_string(),
                        d.record_path.display().to_string(),
                    ],
                    None,
                );
                OpeningEvent::Decrypted {
                    job,
                    task: "decrypt".into(),
                    result: Box::new(DecryptedView::from(d)),
                }
            }
            Err(e) => {
                history(
                    &dir,
                    "decrypt",
                    "解密 / decryption failed".into(),
                    Vec::new(),
                    Some(e.code()),
                );
                failed(job, "decrypt", e)
            }
        },
    )
}

/// Writes the opening record (开标记录, as `bidkit open record OUT --bids BIDS`) and
/// its data file, then verifies it and draws its first pages.
#[tauri::command]
pub async fn opening_record(
    home: State<'_, Home>,
    request: RecordRequest,
) -> Result<RecordView, IpcError> {
    let dir = home.0.clone()?;
    let bids = path_arg("bid directory", &request.bids_dir)?;
    let out_dir = opt_path(request.out_dir.as_deref())
        .unwrap_or_else(|| opening_view::default_out_dir(&bids));
    let opts = RecordOptions {
        home: dir.clone(),
        bids_dir: bids,
        out_dir,
        tender: opt_path(request.tender.as_deref()),
        output: opt_path(request.output.as_deref()),
    };
    let h = dir.clone();
    let result = blocking("opening_record", move || {
        let made = make_record(&opts)?;
        let all_valid = made.all_valid;
        let state = record_state(&h, &made.report.output, made.view)?;
        Ok((state, all_valid))
    })
    .await;
    match &result {
        Ok((s, valid)) => history(
            &dir,
            "record",
            format!(
                "开标记录 / opening record of {}: {} bid(s){}",
                s.data.record.tender_id,
                s.data.record.bids.len(),
                if *valid { "" } else { ", with problems" }
            ),
            vec![
                s.path.display().to_string(),
                opening_view::record_data_path(&s.path)
                    .display()
                    .to_string(),
            ],
            None,
        ),
        Err(e) => history(
            &dir,
            "record",
            "开标记录 / opening record failed".into(),
            Vec::new(),
            Some(e.code.as_str()),
        ),
    }
    result.map(|(s, valid)| {
        let mut v = RecordView::from(s);
        v.all_valid = valid;
        v
    })
}

/// Looks at an opening record again (written or sealed): what it says, its
/// verification and preview, the confirmations beside it.
#[tauri::command]
pub async fn opening_check_record(
    home: State<'_, Home>,
    request: CheckRecordRequest,
) -> Result<RecordView, IpcError> {
    let dir = home.0.clone()?;
    let record = path_arg("record", &request.record)?;
    blocking("opening_check_record", move || {
        record_state(&dir, &record, None)
    })
    .await
    .map(RecordView::from)
}

/// A bidder confirms the opening record by scan (as `bidkit open confirm`); returns the
/// job at once (`opening-progress` events, then `confirmed` with the record and its
/// confirmations, or `failed`).
#[tauri::command]
pub fn opening_confirm<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: ConfirmRequest,
) -> Result<OpeningJob, IpcError> {
    let dir = home.0.clone()?;
    let record = path_arg("record", &request.record)?;
    let bidder = request.bidder.trim().to_owned();
    if bidder.is_empty() {
        return Err(IpcError::new("invalid-option", "no bidder was given"));
    }
    let h = dir.clone();
    let r = record.clone();
    spawn_job(
        app,
        "confirm",
        move |forward| {
            let report = confirm_record(&h, &r, &bidder, forward)?;
            let state = record_state(&h, &r, None)?;
            Ok((report, state))
        },
        move |job, result| match result {
            Ok((report, state)) => {
                history(
                    &dir,
                    "record",
                    format!(
                        "开标记录确认 / {} confirmed the opening record",
                        report.signer
                    ),
                    vec![report.file.display().to_string()],
                    None,
                );
                OpeningEvent::Confirmed {
                    job,
                    task: "confirm".into(),
                    record: Box::new(RecordView::from(state)),
                }
            }
            Err(e) => {
                history(
                    &dir,
                    "record",
                    format!("开标记录确认 / confirmation of {} failed", record.display()),
                    Vec::new(),
                    Some(e.code()),
                );
                failed(job, "confirm", e)
            }
        },
    )
}

/// The agent seals the opening record by scan (the seal on page 1, as the demo does);
/// returns the job at once (`opening-progress` events, then `sealed` with the sealed
/// record verified and previewed, or `failed`).
#[tauri::command]
pub fn opening_seal_record<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    request: SealRecordRequest,
) -> Result<OpeningJob, IpcError> {
    let dir = home.0.clone()?;
    let record = path_arg("record", &request.record)?;
    let output = opt_path(request.output.as_deref());
    let seal_id = i64::from(request.seal_id);
    let h = dir.clone();
    spawn_job(
        app,
        "seal",
        move |forward| {
            let sealed = seal_record(&h, &record, seal_id, output.as_deref(), forward)?;
            let code = sealed.report.verification_code.clone();
            let state = record_state(&h, &sealed.output, sealed.view)?;
            Ok((state, code))
        },
        move |job, result| match result {
            Ok((state, code)) => {
                history(
                    &dir,
                    "record",
                    format!(
                        "开标记录盖章 / the agent sealed the opening record of {}",
                        state.data.record.tender_id
                    ),
                    vec![state.path.display().to_string()],
                    None,
                );
                let mut view = RecordView::from(state);
                view.verification_code = Some(code);
                OpeningEvent::Sealed {
                    job,
                    task: "seal".into(),
                    record: Box::new(view),
                }
            }
            Err(e) => {
                history(
                    &dir,
                    "record",
                    "开标记录盖章 / sealing the opening record failed".into(),
                    Vec::new(),
                    Some(e.code()),
                );
                failed(job, "seal", e)
            }
        },
    )
}

/// The seals the home's phones see, for sealing the record.
#[tauri::command]
pub async fn opening_seals(home: State<'_, Home>) -> Result<Vec<SealChoiceView>, IpcError> {
    let dir = home.0.clone()?;
    blocking("opening_seals", move || Ok(seal_choices(&dir)))
        .await
        .map(|v| v.into_iter().map(SealChoiceView::from).collect())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use tauri::Manager;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    use super::*;

    fn app(home: PathBuf) -> tauri::App<tauri::test::MockRuntime> {
        let app = mock_builder().build(mock_context(noop_assets())).unwrap();
        app.manage(Home(Ok(home)));
        app
    }

    #[test]
    fn loading_lists_a_damaged_bid_and_writes_history() {
        let dir = tempfile::tempdir().unwrap();
        let bids = dir.path().join("bids");
        std::fs::create_dir_all(&bids).unwrap();
        std::fs::write(bids.join("x.bid"), b"junk").unwrap();
        let app = app(dir.path().to_path_buf());
        let req = OpeningLoadRequest {
            tender: None,
            bids_dir: bids.display().to_string(),
            out_dir: Some("  ".into()),
        };
        let v = tauri::async_runtime::block_on(opening_load(app.state::<Home>(), req)).unwrap();
        assert_eq!(v.bids.len(), 1);
        assert_eq!(v.bids[0].integrity, "unreadable");
        assert_eq!(v.bids[0].state, "problem");
        assert!(v.out_dir.ends_with("opened"), "{}", v.out_dir);
        let h = bidkit_app::history::recent(dir.path(), 5).unwrap();
        assert_eq!(h[0].kind, "open");
        let req = OpeningLoadRequest {
            tender: None,
            bids_dir: " ".into(),
            out_dir: None,
        };
        let err =
            tauri::async_runtime::block_on(opening_load(app.state::<Home>(), req)).unwrap_err();
        assert_eq!(err.code, "invalid-option");
    }

    #[test]
    fn a_record_of_nothing_and_a_missing_record_are_coded_errors() {
        let dir = tempfile::tempdir().unwrap();
        let bids = dir.path().join("bids");
        std::fs::create_dir_all(&bids).unwrap();
        let app = app(dir.path().to_path_buf());
        let req = RecordRequest {
            bids_dir: bids.display().to_string(),
            out_dir: None,
            tender: None,
            output: None,
        };
        let err =
            tauri::async_runtime::block_on(opening_record(app.state::<Home>(), req)).unwrap_err();
        assert_eq!(err.code, "invalid-option");
        let req = CheckRecordRequest {
            record: dir.path().join("none.pdf").display().to_string(),
        };
        let err = tauri::async_runtime::block_on(opening_check_record(app.state::<Home>(), req))
            .unwrap_err();
        assert!(err.message.contains("none"), "{err}");
        let seals = tauri::async_runtime::block_on(opening_seals(app.state::<Home>())).unwrap();
        assert!(seals.is_empty());
    }
}
