//! Commands of the emulated phone window: open it beside the main window, show the
//! phone's state, enrol, make seals, continuous mode, and scan a QR code read from the
//! tool window's screen image or a PNG file (with a pause for the holder to compare
//! the verification code before the key is used).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bidkit_app::phone_view::{
    self, Answer, Confirmation, ContinuousSession, ScanStep, SealSource, TemplateChoice,
};
use bidkit_app::scan::ScanUnlock;
use tauri::{AppHandle, Emitter, Manager, Runtime, State, WebviewUrl, WebviewWindowBuilder};

use super::task::blocking;
use crate::error::IpcError;
use crate::home::Home;
use crate::ipc::phone::{
    PHONE_SCAN_EVENT, PhoneContinuousRequest, PhoneEnrolRequest, PhoneMakeSealRequest,
    PhoneOverviewView, PhoneQrView, PhoneReadQrRequest, PhoneScanConfirm, PhoneScanEvent,
    PhoneScanRequest, PhoneScanStarted, PhoneSeal,
};

/// The phone window's label.
pub const PHONE_WINDOW: &str = "phone";

/// How long the phone waits for the tool and for the holder's confirmation.
const SCAN_WAIT: Duration = Duration::from_secs(120);

/// The phone window's state: the scan waiting for its confirmation, and continuous mode.
#[derive(Default)]
pub struct PhoneState {
    next: AtomicU32,
    confirm: Mutex<Option<(u32, Sender<Confirmation>)>>,
    continuous: Mutex<Option<Arc<ContinuousSession>>>,
}

impl std::fmt::Debug for PhoneState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneState").finish_non_exhaustive()
    }
}

impl PhoneState {
    /// The open continuous session, if any (an ended one is dropped).
    fn continuous(&self) -> Option<Arc<ContinuousSession>> {
        let mut c = self.continuous.lock().unwrap_or_else(|e| e.into_inner());
        if c.as_ref().is_some_and(|s| s.uses_left() == 0) {
            *c = None;
        }
        c.clone()
    }

    fn uses_left(&self) -> Option<u32> {
        self.continuous().map(|s| s.uses_left())
    }
}

fn task_failed(err: impl std::fmt::Display) -> IpcError {
    IpcError::new("internal", format!("phone task failed: {err}"))
}

/// Opens the phone window (about 380 × 720) to the right of the main window, or brings
/// it to the front when it is open.
#[tauri::command]
pub async fn open_phone_window<R: Runtime>(app: AppHandle<R>) -> Result<(), IpcError> {
    if let Some(w) = app.get_webview_window(PHONE_WINDOW) {
        let _ = w.show();
        let _ = w.set_focus();
        return Ok(());
    }
    let mut builder =
        WebviewWindowBuilder::new(&app, PHONE_WINDOW, WebviewUrl::App("phone.html".into()))
            .title("Bidkit 模拟手机")
            .inner_size(380.0, 720.0)
            .min_inner_size(320.0, 560.0)
            .resizable(true);
    if let Some(main) = app.get_webview_window("main")
        && let (Ok(pos), Ok(size), Ok(scale)) = (
            main.outer_position(),
            main.outer_size(),
            main.scale_factor(),
        )
    {
        let x = f64::from(pos.x + i32::try_from(size.width).unwrap_or(0)) / scale + 8.0;
        let y = f64::from(pos.y) / scale;
        builder = builder.position(x, y);
    }
    builder
        .build()
        .map(|_| ())
        .map_err(|e| IpcError::new("internal", format!("cannot open the phone window: {e}")))
}

/// The phone's state: person, certificates, seals, authorisations, usage records and
/// continuous mode.
#[tauri::command]
pub async fn phone_overview(
    home: State<'_, Home>,
    phone: State<'_, PhoneState>,
) -> Result<PhoneOverviewView, IpcError> {
    let dir = home.0.clone()?;
    let continuous = phone.uses_left();
    blocking("phone", move || phone_view::overview(&dir))
        .await
        .map(|o| PhoneOverviewView::new(o, continuous))
}

/// Enrols a person on the phone (name, ID number, mobile number, PIN).
#[tauri::command]
pub async fn phone_enrol(
    home: State<'_, Home>,
    request: PhoneEnrolRequest,
) -> Result<PhoneOverviewView, IpcError> {
    let dir = home.0.clone()?;
    blocking("phone", move || {
        let details = bidkit_app::phone_view::PersonDetails {
            name: request.name.trim().to_owned(),
            id_number: request.id_number.trim().to_owned(),
            phone_number: request.phone_number.trim().to_owned(),
        };
        phone_view::enrol(&dir, &details, request.pin.expose().trim())
    })
    .await
    .map(|o| PhoneOverviewView::new(o, None))
}

/// Makes a seal from a template, a scanned image, or handwriting strokes.
#[tauri::command]
pub async fn phone_make_seal(
    home: State<'_, Home>,
    request: PhoneMakeSealRequest,
) -> Result<PhoneSeal, IpcError> {
    let dir = home.0.clone()?;
    let source = match (request.template, request.scan_path, request.strokes) {
        (Some(t), None, None) => SealSource::Template(TemplateChoice::parse(&t)?),
        (None, Some(p), None) if !p.trim().is_empty() => SealSource::Scan(PathBuf::from(p.trim())),
        (None, None, Some(strokes)) => SealSource::Handwriting(
            strokes
                .into_iter()
                .map(|s| {
                    s.into_iter()
                        .filter_map(|p| match p.as_slice() {
                            [x, y, pressure] => Some([*x, *y, *pressure]),
                            [x, y] => Some([*x, *y, 0.5]),
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
        ),
        _ => {
            return Err(IpcError::new(
                "invalid-option",
                "give one seal source: a template, a scan path or strokes",
            ));
        }
    };
    blocking("phone", move || phone_view::make_seal(&dir, &source))
        .await
        .map(PhoneSeal::from)
}

/// Reads a QR code as the phone's camera would: from the PNG pixels of the tool window's
/// QR image (a `data:` URL) or of a PNG file; returns its text and what it says.
#[tauri::command]
pub async fn phone_read_qr(
    home: State<'_, Home>,
    request: PhoneReadQrRequest,
) -> Result<PhoneQrView, IpcError> {
    let dir = home.0.clone()?;
    tauri::async_runtime::spawn_blocking(move || {
        let png = match (&request.data_url, &request.path) {
            (Some(url), _) if !url.is_empty() => {
                let b64 = url.strip_prefix("data:image/png;base64,").ok_or_else(|| {
                    IpcError::new("qr-unreadable", "the screen shows no PNG QR code")
                })?;
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| IpcError::new("qr-unreadable", format!("bad image data: {e}")))?
            }
            (_, Some(path)) if !path.trim().is_empty() => {
                let path = PathBuf::from(path.trim());
                std::fs::read(&path).map_err(|e| {
                    IpcError::new("io", format!("cannot read {}: {e}", path.display()))
                })?
            }
            _ => return Err(IpcError::new("qr-unreadable", "nothing to scan")),
        };
        let text = bidkit_app::qr::decode_png(&png, "the scanned QR code")?;
        let preview = phone_view::describe_qr(&text)?;
        let suite = preview.suite.parse().ok();
        let pin = phone_view::person_pin(&dir, suite)
            .ok()
            .map(|p| (p.tries_left, p.max_tries));
        Ok(PhoneQrView::new(text, preview, pin))
    })
    .await
    .map_err(task_failed)?
}

/// Starts answering a scanned QR code: the phone joins (no PIN yet), reports the code
/// and the request (`phone-scan` events), then waits for `phone_scan_confirm` — the
/// holder's comparison of the codes with approval and PIN, or refusal — before it uses
/// the key (with the PIN or the continuous session) and reports the outcome.
#[tauri::command]
pub async fn phone_scan_start<R: Runtime>(
    app: AppHandle<R>,
    home: State<'_, Home>,
    phone: State<'_, PhoneState>,
    request: PhoneScanRequest,
) -> Result<PhoneScanStarted, IpcError> {
    let dir = home.0.clone()?;
    let scan = phone.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let (tx, rx) = channel();
    *phone.confirm.lock().unwrap_or_else(|e| e.into_inner()) = Some((scan, tx));
    let qr = request.qr_text;
    std::thread::Builder::new()
        .name("phone-scan".into())
        .spawn(move || {
            let steps_app = app.clone();
            let mut steps = move |s: ScanStep| {
                let event = match s {
                    ScanStep::Joined { purpose, code } => PhoneScanEvent::Joined {
                        scan,
                        purpose,
                        code,
                    },
                    ScanStep::Request(summary) => PhoneScanEvent::Request { scan, summary },
                    ScanStep::AwaitingConfirmation => PhoneScanEvent::Confirm { scan },
                };
                let _ = steps_app.emit(PHONE_SCAN_EVENT, event);
            };
            let result = phone_view::scan_with_confirmation(&dir, &qr, &mut steps, rx, SCAN_WAIT);
            let event = match result {
                Ok(report) => PhoneScanEvent::Done {
                    scan,
                    report: report.into(),
                },
                Err(e) => {
                    let suite = phone_view::describe_qr(&qr)
                        .ok()
                        .and_then(|p| p.suite.parse().ok());
                    PhoneScanEvent::Failed {
                        scan,
                        error: IpcError::from(e),
                        tries_left: phone_view::person_pin(&dir, suite)
                            .ok()
                            .map(|p| p.tries_left),
                    }
                }
            };
            let _ = app.emit(PHONE_SCAN_EVENT, event);
        })
        .map_err(task_failed)?;
    Ok(PhoneScanStarted { scan })
}

/// The holder's answer for scan `request.scan`, once its code and request are shown: the
/// codes match and approve (with the PIN, or the continuous session when it is on),
/// refuse, or the codes differ (the phone refuses with `code-mismatch`). Approving
/// without a PIN outside continuous mode is refused here, and the scan keeps waiting.
#[tauri::command]
pub fn phone_scan_confirm(
    phone: State<'_, PhoneState>,
    request: PhoneScanConfirm,
) -> Result<(), IpcError> {
    let answer = if !request.matches || !request.approve {
        Answer::Refuse
    } else if let Some(session) = phone.continuous() {
        Answer::Approve(ScanUnlock::Session(session))
    } else {
        match request.pin {
            Some(pin) if !pin.expose().trim().is_empty() => {
                Answer::Approve(ScanUnlock::Pin(zeroize_pin(pin.expose().trim())))
            }
            _ => return Err(IpcError::new("invalid-option", "enter the PIN to approve")),
        }
    };
    let mut pending = phone.confirm.lock().unwrap_or_else(|e| e.into_inner());
    match pending.take() {
        Some((id, tx)) if id == request.scan => tx
            .send(Confirmation {
                codes_match: request.matches,
                answer,
            })
            .map_err(|_| IpcError::new("invalid-option", "this scan is no longer waiting")),
        other => {
            *pending = other;
            Err(IpcError::new(
                "invalid-option",
                "this scan is no longer waiting",
            ))
        }
    }
}

fn zeroize_pin(pin: &str) -> bidkit_app::phone_view::Pin {
    bidkit_app::phone_view::Pin::new(pin.to_owned())
}

/// Turns continuous mode (连续签章) on with the PIN, or off; returns the uses left.
#[tauri::command]
pub async fn phone_continuous(
    home: State<'_, Home>,
    phone: State<'_, PhoneState>,
    request: PhoneContinuousRequest,
) -> Result<Option<u32>, IpcError> {
    if !request.on {
        if let Some(s) = phone
            .continuous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            s.end();
        }
        return Ok(None);
    }
    let dir = home.0.clone()?;
    let pin = request.pin;
    let session = blocking("phone", move || {
        let pin = pin.as_ref().map_or("", |pin| pin.expose().trim());
        phone_view::start_continuous(&dir, pin)
    })
    .await?;
    let left = session.uses_left();
    *phone.continuous.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(session));
    Ok(Some(left))
}
