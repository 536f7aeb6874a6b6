//! The demo's devices: a relay node and two phones, each on its own thread with its
//! own async runtime, reaching one another only through loopback sockets, exactly as
//! they would across machines. The one thing they share is the "screen": the tool
//! draws each QR frame as a PNG image and the phone's camera decodes that image.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bidkit_keystore::{CertSelector, Phone};
use bidkit_protocol::{Purpose, RelayAddress};
use bidkit_relay::{AnyStore, EmbeddedRelay, MemoryStore, RelayConfig};
use zeroize::Zeroizing;

use crate::AppError;
use crate::bid::BidObserver;
use crate::qr::{QrImage, decode_png};
use crate::scan::{ScanObserver, ScanOptions, ScanOutcome, ScanUnlock, scan};
use crate::session::{QrFrame, SessionObserver};

/// How long a phone waits for the QR code it is to scan.
const CAMERA_WAIT: Duration = Duration::from_secs(90);

/// A relay node on a loopback port, served by its own thread until dropped.
pub(super) struct RelayNode {
    address: RelayAddress,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RelayNode {
    /// Start the relay (memory store, default configuration) and wait until it listens.
    pub(super) fn start() -> Result<RelayNode, AppError> {
        let (ready_tx, ready_rx) = channel::<Result<RelayAddress, AppError>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("demo-relay".into())
            .spawn(move || {
                let runtime = match runtime() {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let store = AnyStore::Memory(MemoryStore::default());
                    match EmbeddedRelay::start_with(store, RelayConfig::default()).await {
                        Ok(relay) => {
                            let _ = ready_tx.send(Ok(relay.relay_address()));
                            let _ = stop_rx.await;
                            drop(relay);
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                        }
                    }
                });
            })
            .map_err(|e| device_err("relay", format!("cannot start the relay thread: {e}")))?;
        let address = ready_rx
            .recv()
            .map_err(|_| device_err("relay", "the relay thread ended before listening".into()))??;
        Ok(RelayNode {
            address,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Where tools and phones reach it.
    pub(super) fn address(&self) -> &RelayAddress {
        &self.address
    }
}

impl Drop for RelayNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An emulated phone of the demo, with its holder's PIN.
#[derive(Clone)]
pub(super) struct DemoPhone {
    /// Who holds it, for messages (`bidder`, `agent`).
    pub(super) role: &'static str,
    /// The phone.
    pub(super) phone: Arc<Phone>,
    pin: Zeroizing<String>,
    /// The certificate the holder picks when a request names no seal: the bid is the
    /// organisation's, so its certificate signs and decrypts.
    cert: CertSelector,
}

impl DemoPhone {
    pub(super) fn new(role: &'static str, phone: Phone, pin: &str, uscc: &str) -> DemoPhone {
        DemoPhone {
            role,
            phone: Arc::new(phone),
            pin: Zeroizing::new(pin.to_owned()),
            cert: CertSelector::Organisation(uscc.to_owned()),
        }
    }

    /// Point the phone at the tool's screen: on its own thread, it scans the QR code of
    /// each of the next `sessions` sessions the screen shows, in order, and answers with
    /// the PIN.
    pub(super) fn watch(&self, screen: Receiver<(u32, Vec<u8>)>, sessions: u32) -> Scanning {
        let phone = self.phone.clone();
        let pin = self.pin.clone();
        let cert = self.cert.clone();
        let role = self.role;
        let thread = std::thread::Builder::new()
            .name(format!("demo-phone-{role}"))
            .spawn(move || -> Result<Vec<Scanned>, AppError> {
                let runtime = runtime()?;
                let mut scanned = Vec::new();
                for session in 1..=sessions {
                    let png = camera(&screen, session, role)?;
                    let qr_text = decode_png(&png, "the tool's screen")?;
                    let mut opts = ScanOptions::new(qr_text, ScanUnlock::Pin(pin.clone()));
                    opts.wait = CAMERA_WAIT;
                    opts.cert = Some(cert.clone());
                    let mut seen = PhoneScreen::default();
                    let report = runtime.block_on(scan(phone.clone(), opts, &mut seen))?;
                    if report.outcome != ScanOutcome::Approved {
                        return Err(device_err(
                            role,
                            format!("the phone did not approve: {}", report.detail),
                        ));
                    }
                    scanned.push(Scanned {
                        code_on_phone: seen.code,
                        purpose: seen.purpose,
                    });
                }
                Ok(scanned)
            });
        Scanning {
            role,
            thread: thread.map_err(|e| device_err(role, format!("cannot start: {e}"))),
        }
    }
}

/// One scan as the phone saw it.
pub(super) struct Scanned {
    /// The verification code the phone displayed.
    pub(super) code_on_phone: Option<String>,
    /// What the session was for, as the phone displayed it.
    pub(super) purpose: Option<Purpose>,
}

/// A phone busy scanning; [`Scanning::finish`] collects its reports.
pub(super) struct Scanning {
    role: &'static str,
    thread: Result<JoinHandle<Result<Vec<Scanned>, AppError>>, AppError>,
}

impl Scanning {
    /// Wait for the phone's thread and return what it scanned.
    pub(super) fn finish(self) -> Result<Vec<Scanned>, AppError> {
        let role = self.role;
        self.thread?
            .join()
            .map_err(|_| device_err(role, "the phone's thread panicked".into()))?
    }
}

/// Wait for the first frame of session `session` on the screen.
fn camera(
    screen: &Receiver<(u32, Vec<u8>)>,
    session: u32,
    role: &str,
) -> Result<Vec<u8>, AppError> {
    let deadline = Instant::now() + CAMERA_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match screen.recv_timeout(left) {
            Ok((n, png)) if n == session => return Ok(png),
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                return Err(device_err(
                    role,
                    format!("no QR code for session {session} appeared on the screen"),
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(device_err(
                    role,
                    format!("the tool closed before showing session {session}'s QR code"),
                ));
            }
        }
    }
}

/// What the phone's screen showed during one scan.
#[derive(Default)]
struct PhoneScreen {
    code: Option<String>,
    purpose: Option<Purpose>,
}

impl ScanObserver for PhoneScreen {
    fn joined(&mut self, purpose: Purpose, _relay: &str, code: &str) {
        self.purpose = Some(purpose);
        self.code = Some(code.to_owned());
    }
}

/// The tool's screen: draws every QR frame as a PNG for the phone's camera and notes
/// the verification code the tool displayed.
pub(super) struct ToolScreen {
    frames: Sender<(u32, Vec<u8>)>,
    sessions: u32,
    /// Verification codes the tool displayed, one per session.
    pub(super) codes: Vec<String>,
    /// Bytes processed by the last streamed step (encrypt, decrypt).
    pub(super) bytes: u64,
}

impl ToolScreen {
    /// A screen and the camera's view of it.
    pub(super) fn new() -> (ToolScreen, Receiver<(u32, Vec<u8>)>) {
        let (tx, rx) = channel();
        (
            ToolScreen {
                frames: tx,
                sessions: 0,
                codes: Vec::new(),
                bytes: 0,
            },
            rx,
        )
    }
}

impl SessionObserver for ToolScreen {
    fn session_opened(&mut self, _relay: &RelayAddress, _embedded: bool) {
        self.sessions += 1;
    }
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let png = QrImage::encode(frame.text)?.to_png()?;
        // The phone may already have scanned and gone: nothing left to show it.
        let _ = self.frames.send((self.sessions, png));
        Ok(())
    }
    fn phone_joined(&mut self, code: &str) {
        self.codes.push(code.to_owned());
    }
}

impl BidObserver for ToolScreen {
    fn progress(&mut self, progress: &bidkit_bidfile::Progress) {
        self.bytes = progress.bytes_done;
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| device_err("runtime", format!("cannot start an async runtime: {e}")))
}

fn device_err(step: &str, detail: String) -> AppError {
    AppError::Demo {
        step: step.to_owned(),
        detail,
    }
}
