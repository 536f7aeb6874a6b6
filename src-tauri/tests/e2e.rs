//! End-to-end tests of the **real app**: the built `bidkit-desktop` binary driven over
//! WebDriver by `tauri-driver` (which runs WebKitGTK's `WebKitWebDriver`) on a private
//! Xvfb display. Each test starts its own Xvfb, tauri-driver (on free ports) and app, with
//! its own `BIDKIT_HOME` and WebKit storage in a temporary directory, and asserts on what
//! the DOM shows *and* on what the crates say about the same files.
//!
//! Needs `Xvfb`, `tauri-driver` and `WebKitWebDriver` (`scripts/setup` installs them).
//! When one is missing the tests print why and pass, unless `BIDKIT_REQUIRE_SMOKE=1`
//! (set by `scripts/test`), which turns the skip into a failure. `BIDKIT_SKIP_SMOKE=1`
//! skips them outright. `BIDKIT_TAURI_DRIVER` names the tauri-driver binary to use.
//!
//! The WebDriver client is plain `reqwest` + JSON (the [`Driver`] below): WebDriver is a
//! handful of JSON-over-HTTP endpoints, reqwest is already in the workspace with exactly
//! these features (no new crates, no rebuild of shared dependencies), and every request
//! and answer stays visible in the test when something fails. A full client crate
//! (fantoccini, thirtyfour) would bring hyper/TLS stacks for the same eight endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pdf::generate::{DocumentSpec, write_document};
use bidkit_pdf::picture::SealPicture;
use bidkit_pdf::placement::Placement;
use bidkit_pdf::sign::{SealJob, seal_with};
use bidkit_pdf::verify::{
    DocumentVerdict, SignatureVerdict, TrustChoice, VerificationReport, VerifyOptions, verify_file,
};
use bidkit_pki::{CertificateAuthority, KeyPurpose, Subject};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const WEBKIT_WEBDRIVER: &str = "/usr/bin/WebKitWebDriver";

// ---------------------------------------------------------------------------------------
// Tools and processes
// ---------------------------------------------------------------------------------------

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// tauri-driver: `$BIDKIT_TAURI_DRIVER`, the PATH, `.deps/tauri-driver/bin/` (where
/// `scripts/setup` installs it), `~/.cargo/bin/`.
fn tauri_driver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BIDKIT_TAURI_DRIVER").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    on_path("tauri-driver")
        .or_else(|| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../.deps/tauri-driver/bin/tauri-driver");
            p.is_file().then_some(p)
        })
        .or_else(|| {
            let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/tauri-driver");
            p.is_file().then_some(p)
        })
}

fn webkit_webdriver() -> Option<PathBuf> {
    let p = PathBuf::from(WEBKIT_WEBDRIVER);
    if p.is_file() {
        Some(p)
    } else {
        on_path("WebKitWebDriver")
    }
}

/// The tools, or `None` after printing why the test is skipped (a failure instead when
/// `BIDKIT_REQUIRE_SMOKE=1`).
fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    if std::env::var("BIDKIT_SKIP_SMOKE").as_deref() == Ok("1") {
        eprintln!("skipped: BIDKIT_SKIP_SMOKE=1");
        return None;
    }
    let xvfb = on_path("Xvfb");
    let driver = tauri_driver();
    let native = webkit_webdriver();
    let mut missing = Vec::new();
    if xvfb.is_none() {
        missing.push("Xvfb");
    }
    if driver.is_none() {
        missing.push("tauri-driver");
    }
    if native.is_none() {
        missing.push("WebKitWebDriver");
    }
    if !missing.is_empty() {
        let msg = format!("{} not installed (run scripts/setup)", missing.join(", "));
        assert!(
            std::env::var("BIDKIT_REQUIRE_SMOKE").as_deref() != Ok("1"),
            "{msg}"
        );
        eprintln!("skipped: {msg}");
        return None;
    }
    Some((xvfb?, driver?, native?))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process this test started, in its own process group, stopped (the whole group:
/// the native driver and the app it launched) when dropped.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn spawn(name: &'static str, mut cmd: Command) -> Proc {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc { name, child }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // The group id is our child's pid (process_group(0)); TERM first, then KILL.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        eprintln!("stopped {}", self.name);
    }
}

/// A private Xvfb display, a throw-away home and WebKit storage, tauri-driver on free
/// ports, and a WebDriver session running the app. Dropped in reverse order: the
/// session's app, tauri-driver (with WebKitWebDriver), Xvfb, the directory.
struct AppUnderTest {
    driver: Driver,
    home: PathBuf,
    _tauri_driver: Proc,
    _xvfb: Proc,
    _dir: tempfile::TempDir,
}

impl AppUnderTest {
    async fn start(home_setup: impl FnOnce(&Path)) -> Option<AppUnderTest> {
        let (xvfb_bin, driver_bin, native_bin) = tools()?;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        home_setup(&home);

        let (xvfb, display) = start_xvfb(&xvfb_bin);
        let port = free_port();
        let native_port = free_port();
        let mut cmd = Command::new(&driver_bin);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg(&native_bin)
            .env("DISPLAY", &display)
            .env("BIDKIT_HOME", &home)
            // WebKit's storage (localStorage: the language choice) per test.
            .env("XDG_DATA_HOME", dir.path().join("xdg/data"))
            .env("XDG_CACHE_HOME", dir.path().join("xdg/cache"))
            .env("XDG_CONFIG_HOME", dir.path().join("xdg/config"))
            // Xvfb has no GPU: keep WebKitGTK on its software paths.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("NO_AT_BRIDGE", "1")
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut tauri_driver = Proc::spawn("tauri-driver", cmd);

        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = tauri_driver.exited() {
                panic!("tauri-driver exited early: {status}");
            }
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not answer on {base}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let app = env!("CARGO_BIN_EXE_bidkit-desktop");
        let caps =
            json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}});
        let answer = post(&http, &format!("{base}/session"), &caps).await;
        let session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {answer}"))
            .to_owned();
        let driver = Driver {
            http,
            url: format!("{base}/session/{session}"),
        };
        Some(AppUnderTest {
            driver,
            home,
            _tauri_driver: tauri_driver,
            _xvfb: xvfb,
            _dir: dir,
        })
    }

    /// Ends the WebDriver session (closing the app) before the processes stop.
    async fn quit(self) {
        let _ = self.driver.http.delete(&self.driver.url).send().await;
    }
}

/// Starts Xvfb on the first free display number from a per-process base.
fn start_xvfb(bin: &Path) -> (Proc, String) {
    let base = 100 + std::process::id() % 400;
    for n in base..base + 200 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let display = format!(":{n}");
        let mut cmd = Command::new(bin);
        cmd.arg(&display)
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut proc = Proc::spawn("Xvfb", cmd);
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if proc.exited().is_some() {
                break; // lost a race for this display: try the next one
            }
            if socket.exists() {
                return (proc, display);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("no Xvfb display could be started");
}

// ---------------------------------------------------------------------------------------
// WebDriver
// ---------------------------------------------------------------------------------------

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    let r = http
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    answer("POST", url, r).await
}

async fn answer(method: &str, url: &str, r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: not JSON: {e}"));
    assert!(status.is_success(), "{method} {url}: {status}: {v}");
    v["value"].clone()
}

/// One WebDriver session (W3C endpoints only).
struct Driver {
    http: reqwest::Client,
    url: String,
}

impl Driver {
    async fn post(&self, path: &str, body: Value) -> Value {
        post(&self.http, &format!("{}{path}", self.url), &body).await
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.url);
        let r = self
            .http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        answer("GET", &url, r).await
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    async fn exec(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Polls `script` until it returns something other than `null` or `false`.
    async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let v = self.exec(script, args.clone()).await;
            if !(v.is_null() || v == Value::Bool(false)) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The element matching a CSS selector.
    async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    async fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.get(&format!("/element/{element}/attribute/{name}"))
            .await
            .as_str()
            .map(str::to_owned)
    }

    async fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    /// With `BIDKIT_E2E_SCREENSHOTS=DIR`, saves the window as `DIR/NAME.png` (best
    /// effort: a screenshot that fails or takes over 20 s is reported, not fatal).
    async fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let Some(dir) = std::env::var_os("BIDKIT_E2E_SCREENSHOTS").filter(|v| !v.is_empty()) else {
            return;
        };
        // WebKit takes the shot at the next repaint: a screen that does not change would
        // never answer, so change something invisible a moment later.
        self.exec(
            "setTimeout(() => { const s = document.body.style; \
               s.opacity = s.opacity === '0.999' ? '' : '0.999'; }, 150); return true;",
            json!([]),
        )
        .await;
        let url = format!("{}/screenshot", self.url);
        let answer = async {
            let r = self
                .http
                .get(&url)
                .timeout(Duration::from_secs(20))
                .send()
                .await?;
            r.json::<Value>().await
        }
        .await;
        let png = match answer {
            Ok(v) => base64::engine::general_purpose::STANDARD
                .decode(v["value"].as_str().unwrap_or_default())
                .ok(),
            Err(e) => {
                eprintln!("screenshot {name}: {e}");
                None
            }
        };
        if let Some(bytes) = png {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), bytes).unwrap();
        }
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await;
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .await;
    }
}

// ---------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------

/// A 40×40 px red disc on transparency, as PNG: the seal picture.
fn seal_png() -> Vec<u8> {
    let size = 40u32;
    let mut rgba = Vec::new();
    for y in 0..size {
        for x in 0..size {
            let (dx, dy) = (f64::from(x) - 19.5, f64::from(y) - 19.5);
            let inside = dx * dx + dy * dy < 19.0 * 19.0;
            rgba.extend_from_slice(&[200, 20, 30, if inside { 255 } else { 0 }]);
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size, size);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&rgba).unwrap();
    out
}

const SIGNER_ORG: &str = "北京某某建设有限公司";

/// Makes the home's emulated GM root (as enrolling a phone would) and, in `dir`, a
/// two-page document sealed on every page by an organisation certified by that root.
/// Returns the sealed file and the plain input's length (the first revision's end).
fn sealed_pdf(home: &Path, dir: &Path) -> (PathBuf, u64) {
    let now = OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let mut ca =
        CertificateAuthority::open_or_create(&home.join("ca").join("gm"), Suite::Gm, now).unwrap();
    let key = PrivateKey::generate(Suite::Gm).unwrap();
    let subject = Subject::Organisation {
        name: SIGNER_ORG.into(),
        uscc: "91110000600037341L".into(),
    };
    let cert = ca
        .issue(&subject, KeyPurpose::Signing, &key.public_key(), now)
        .unwrap();
    let chain = vec![cert.clone(), ca.root().clone()];

    let input = dir.join("bid.pdf");
    write_document(&DocumentSpec::a4(2), &input).unwrap();
    let output = dir.join("bid-sealed.pdf");
    let picture = SealPicture::from_png(&seal_png(), Some((40.0, 40.0))).unwrap();
    let job = SealJob::new(
        &input,
        &output,
        picture,
        "某某建设有限公司公章",
        Placement::AllPages { at: None },
        cert,
        OffsetDateTime::now_utc(),
    );
    seal_with(&job, &key, &chain).unwrap();
    (output, std::fs::metadata(&input).unwrap().len())
}

/// What `bidkit verify` reports for `pdf` with the home's roots.
fn reference_report(home: &Path, pdf: &Path) -> VerificationReport {
    let trust = TrustChoice::from_home_and_pems(Some(home), &[]).unwrap();
    verify_file(pdf, &VerifyOptions::new(trust)).unwrap()
}

fn doc_status(v: &DocumentVerdict) -> &'static str {
    match v {
        DocumentVerdict::Valid => "valid",
        DocumentVerdict::NoSignatures => "no_signatures",
        DocumentVerdict::NotValid { .. } => "not_valid",
    }
}

fn sig_status(v: &SignatureVerdict) -> &'static str {
    match v {
        SignatureVerdict::Valid => "valid",
        SignatureVerdict::Invalid { .. } => "invalid",
        SignatureVerdict::ModifiedAfter { .. } => "modified_after",
        SignatureVerdict::Untrusted { .. } => "untrusted",
    }
}

/// Everything the verify screen shows, read from the DOM in one go once the verdict
/// is there (`null` while it is not).
const READ_REPORT: &str = r#"
const pill = document.querySelector('[data-testid=verify-verdict]');
if (!pill || pill.hidden || !pill.dataset.status) return null;
const q = (el, id) => el.querySelector(`[data-testid=${id}]`);
return {
  status: pill.dataset.status,
  text: pill.textContent,
  signatures: [...document.querySelectorAll('[data-testid=signature]')].map((s) => ({
    status: s.dataset.status,
    status_text: q(s, 'sig-status').textContent,
    signer: q(s, 'sig-signer').textContent,
    time: q(s, 'sig-time').textContent,
    algorithm: q(s, 'sig-algorithm').textContent,
    coverage: q(s, 'sig-coverage').textContent,
    stamps: Number(q(s, 'sig-stamps').dataset.count),
    stamp_pages: [...s.querySelectorAll('[data-testid=stamp]')].map((t) => Number(t.dataset.page)),
    changes: Number(q(s, 'sig-changes').dataset.count),
  })),
  pages: [...document.querySelectorAll('[data-testid=page]')].map((p) => ({
    page: Number(p.dataset.page),
    loaded: p.querySelector('img').complete && p.querySelector('img').naturalWidth > 0,
    boxes: [...p.querySelectorAll('[data-testid=stamp-box]')].map((b) => {
      const r = b.getBoundingClientRect();
      const f = b.parentElement.getBoundingClientRect();
      return { signature: Number(b.dataset.signature), w: r.width / f.width, h: r.height / f.height };
    }),
  })),
};
"#;

/// Opens `pdf` on the verify screen (typing its path and pressing the open button) and
/// returns the DOM's report.
async fn verify_in_app(d: &Driver, pdf: &Path) -> Value {
    let tab = d.find("[data-testid=tab-verify]").await;
    d.click(&tab).await;
    let input = d.find("[data-testid=verify-path]").await;
    d.type_into(&input, &pdf.display().to_string()).await;
    let open = d.find("[data-testid=verify-open]").await;
    d.click(&open).await;
    d.wait_for(
        &format!("the report of {}", pdf.display()),
        &format!(
            "const f = {}; const v = (() => {{ {READ_REPORT} }})(); \
             return v && v.signatures.length >= 0 && document.querySelector('[data-testid=verify-path]').value === f ? v : null;",
            json!(pdf.display().to_string())
        ),
        json!([]),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

const PIN: &str = "246810";
const PERSON: &str = "张三";
const ID_NUMBER: &str = "11010519491231002X";

/// Enrols the emulated phone `phone` in `home` (which creates the home's GM root).
fn enrolled_phone(home: &Path) -> bidkit_keystore::Phone {
    use bidkit_keystore::{Home, KeystoreConfig, PersonDetails};
    let keystore = Home::new(home, KeystoreConfig::insecure_fast_kdf_for_tests());
    let phone = keystore.phone("phone").unwrap();
    phone
        .enrol(
            &PersonDetails {
                name: PERSON.into(),
                id_number: ID_NUMBER.into(),
                phone_number: "13800000001".into(),
            },
            PIN,
            Suite::Gm,
        )
        .unwrap();
    phone
}

#[tokio::test(flavor = "current_thread")]
async fn login_screen_logs_in_with_the_emulated_phone() {
    use base64::Engine as _;
    use bidkit_app::scan::{Quiet, ScanOptions, ScanOutcome, ScanUnlock, scan};

    let mut phone = None;
    let Some(app) = AppUnderTest::start(|home| phone = Some(enrolled_phone(home))).await else {
        return;
    };
    let phone = std::sync::Arc::new(phone.unwrap());
    let d = &app.driver;
    let tab = d.find("[data-testid=tab-login]").await;
    d.click(&tab).await;
    d.screenshot("login-idle-zh-CN").await;
    let start = d.find("[data-testid=login-start]").await;
    d.click(&start).await;

    // The QR code as the screen shows it: the PNG of the <img>, decoded like a camera would.
    let shown = d
        .wait_for(
            "the login QR code",
            "const img = document.querySelector('[data-testid=login-qr]'); \
             const c = document.querySelector('[data-testid=login-countdown]'); \
             return img && img.src.startsWith('data:image/png;base64,') && !img.closest('[hidden]') \
               ? {src: img.src, seconds: Number(c.dataset.seconds), text: c.textContent, \
                  phase: document.querySelector('[data-testid=login-state]').dataset.phase} : null;",
            json!([]),
        )
        .await;
    assert_eq!(shown["phase"], "waiting", "{shown}");
    d.screenshot("login-qr-zh-CN").await;
    let seconds = shown["seconds"].as_u64().unwrap();
    assert!((1..=120).contains(&seconds), "{shown}");
    assert!(
        shown["text"].as_str().unwrap().contains("秒后失效"),
        "{shown}"
    );
    let src = shown["src"].as_str().unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(src.trim_start_matches("data:image/png;base64,"))
        .unwrap();
    let qr_text = bidkit_app::qr::decode_png(&png, "the app's QR code").unwrap();

    // The emulated phone scans it and approves with its PIN.
    let unlock = ScanUnlock::Pin(zeroize::Zeroizing::new(PIN.to_owned()));
    let report = scan(phone, ScanOptions::new(qr_text, unlock), &mut Quiet)
        .await
        .unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved, "{report:?}");

    let got = d
        .wait_for(
            "the identity",
            "const s = document.querySelector('[data-testid=login-state]'); \
             if (!s || s.dataset.phase === 'waiting' || s.dataset.phase === 'joined') return null; \
             const q = (id) => document.querySelector(`[data-testid=${id}]`); \
             return {phase: s.dataset.phase, state_text: s.textContent, error: q('login-error').textContent, \
                     name: q('login-person').dataset.name, person: q('login-person').textContent, \
                     certificate: q('login-certificate').textContent, code: q('login-code').dataset.code, \
                     qr_hidden: document.getElementById('login-qr-box').hidden};",
            json!([]),
        )
        .await;
    assert_eq!(got["phase"], "done", "{got}");
    assert_eq!(got["state_text"], "已登录", "{got}");
    assert_eq!(got["name"], PERSON, "{got}");
    assert!(got["person"].as_str().unwrap().contains(ID_NUMBER), "{got}");
    assert_eq!(got["code"], report.verification_code.as_str(), "{got}");
    let serial = report.certificate_serial.as_deref().unwrap();
    assert!(
        got["certificate"].as_str().unwrap().contains(serial),
        "{got} vs {serial}"
    );
    assert_eq!(got["qr_hidden"], true, "{got}");
    d.screenshot("login-done-zh-CN").await;
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn login_refused_on_the_phone_shows_the_coded_error() {
    use base64::Engine as _;
    use bidkit_app::scan::{Decision, Quiet, ScanOptions, ScanOutcome, ScanUnlock, scan};

    let mut phone = None;
    let Some(app) = AppUnderTest::start(|home| phone = Some(enrolled_phone(home))).await else {
        return;
    };
    let phone = std::sync::Arc::new(phone.unwrap());
    let d = &app.driver;
    let tab = d.find("[data-testid=tab-login]").await;
    d.click(&tab).await;
    let start = d.find("[data-testid=login-start]").await;
    d.click(&start).await;
    let src = d
        .wait_for(
            "the login QR code",
            "const img = document.querySelector('[data-testid=login-qr]'); \
             return img && img.src.startsWith('data:image/png;base64,') ? img.src : null;",
            json!([]),
        )
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(
            src.as_str()
                .unwrap()
                .trim_start_matches("data:image/png;base64,"),
        )
        .unwrap();
    let qr_text = bidkit_app::qr::decode_png(&png, "the app's QR code").unwrap();
    let mut opts = ScanOptions::new(
        qr_text,
        ScanUnlock::Pin(zeroize::Zeroizing::new(PIN.into())),
    );
    opts.decision = Decision::Refuse;
    let report = scan(phone, opts, &mut Quiet).await.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Refused, "{report:?}");

    let got = d
        .wait_for(
            "the failure",
            "const s = document.querySelector('[data-testid=login-state]'); \
             const e = document.querySelector('[data-testid=login-error]'); \
             return s.dataset.phase === 'failed' ? {text: s.textContent, error: e.textContent, \
               error_hidden: e.hidden, identity_hidden: document.querySelector('[data-testid=login-identity]').hidden} : null;",
            json!([]),
        )
        .await;
    assert_eq!(got["text"], "登录失败", "{got}");
    assert_eq!(got["error_hidden"], false, "{got}");
    assert_eq!(got["identity_hidden"], true, "{got}");
    // The stable code crossed IPC and the catalogue translated it.
    let error = got["error"].as_str().unwrap();
    assert!(error.contains("(user-refused)"), "{error}");
    assert!(error.contains("手机上拒绝了登录"), "{error}");
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn app_starts_in_chinese_with_version_and_empty_phone() {
    let Some(app) = AppUnderTest::start(|_| {}).await else {
        return;
    };
    let d = &app.driver;
    let v = d
        .wait_for(
            "the phone status",
            "const p = document.querySelector('[data-testid=phone-pill]'); \
             return p && p.dataset.state !== 'loading' ? \
               {state: p.dataset.state, text: p.textContent, lang: document.documentElement.lang, \
                version: document.querySelector('[data-testid=version]').textContent, \
                tab: document.querySelector('[data-testid=tab-verify]').textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(v["lang"], "zh-CN", "{v}");
    assert_eq!(v["state"], "empty", "{v}");
    assert_eq!(v["text"], "未注册", "{v}");
    assert_eq!(v["tab"], "验证", "{v}");
    assert_eq!(
        v["version"],
        format!("v{}", env!("CARGO_PKG_VERSION")),
        "{v}"
    );
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn verify_screen_shows_what_the_verifier_reports_for_a_sealed_pdf() {
    let docs = tempfile::tempdir().unwrap();
    let mut sealed = None;
    let Some(app) = AppUnderTest::start(|home| sealed = Some(sealed_pdf(home, docs.path()))).await
    else {
        return;
    };
    let (pdf, _) = sealed.unwrap();
    let want = reference_report(&app.home, &pdf);
    assert_eq!(want.verdict, DocumentVerdict::Valid, "{}", want.to_text());
    let d = &app.driver;

    let got = verify_in_app(d, &pdf).await;
    assert_eq!(got["status"], doc_status(&want.verdict), "{got}");
    assert_eq!(got["text"], "有效", "{got}");
    let sigs = got["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), want.signatures.len(), "{got}");
    for (g, w) in sigs.iter().zip(&want.signatures) {
        assert_eq!(g["status"], sig_status(&w.verdict), "{g}");
        assert_eq!(g["status_text"], "有效", "{g}");
        let subject = &w.signer.as_ref().unwrap().subject;
        assert!(subject.contains(SIGNER_ORG), "{subject}");
        assert_eq!(g["signer"], subject.as_str(), "{g}");
        assert_eq!(g["stamps"], w.stamps.len(), "{g}");
        let pages: Vec<Value> = w.stamps.iter().map(|s| json!(s.page.unwrap())).collect();
        assert_eq!(g["stamp_pages"], json!(pages), "{g}");
        assert_eq!(
            g["changes"],
            w.changes_after
                .iter()
                .map(|c| c.changes.len())
                .sum::<usize>()
        );
        let alg = w.algorithm.as_deref().unwrap();
        assert!(
            g["algorithm"].as_str().unwrap().contains(alg),
            "{g} vs {alg}"
        );
        assert!(g["coverage"].as_str().unwrap().contains("整个文件"), "{g}");
    }
    // Every page drawn by pdfium, the stamps' boxes on them: one per stamp, seal-sized
    // (40 mm of a 210 mm-wide page is about 0.19 of its width).
    let pages = got["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{got}");
    let total_stamps: usize = want.signatures.iter().map(|s| s.stamps.len()).sum();
    let mut boxes = 0;
    for p in pages {
        assert_eq!(p["loaded"], true, "page image not drawn: {p}");
        for b in p["boxes"].as_array().unwrap() {
            boxes += 1;
            let w = b["w"].as_f64().unwrap();
            assert!((0.15..0.25).contains(&w), "{b}");
        }
    }
    assert_eq!(boxes, total_stamps, "{got}");

    d.screenshot("verify-valid-zh-CN").await;
    d.exec(
        "document.querySelector('[data-testid=verify-pages]').scrollIntoView(); return true;",
        json!([]),
    )
    .await;
    d.screenshot("verify-pages-zh-CN").await;

    // The language switch: the same report in English.
    let toggle = d.find("[data-testid=lang-toggle]").await;
    d.click(&toggle).await;
    let verdict = d.find("[data-testid=verify-verdict]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if d.text(&verdict).await == "Valid" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the verdict did not turn English"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        d.attribute(&verdict, "data-status").await.as_deref(),
        Some("valid")
    );
    d.screenshot("verify-valid-en").await;

    // A file that is not there: an error with its code, no report.
    let missing = docs.path().join("missing.pdf");
    let input = d.find("[data-testid=verify-path]").await;
    d.type_into(&input, &missing.display().to_string()).await;
    let open = d.find("[data-testid=verify-open]").await;
    d.click(&open).await;
    let err = d
        .wait_for(
            "the error",
            "const e = document.querySelector('[data-testid=verify-error]'); \
             return e && !e.hidden ? e.textContent : null;",
            json!([]),
        )
        .await;
    assert!(err.as_str().unwrap().contains('('), "{err}");
    let pill = d
        .exec(
            "return document.querySelector('[data-testid=verify-verdict]').hidden;",
            json!([]),
        )
        .await;
    assert_eq!(pill, true);
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn verify_screen_shows_a_tampered_copy_as_invalid() {
    let docs = tempfile::tempdir().unwrap();
    let mut sealed = None;
    let Some(app) = AppUnderTest::start(|home| sealed = Some(sealed_pdf(home, docs.path()))).await
    else {
        return;
    };
    let (pdf, first_revision_end) = sealed.unwrap();
    // Flip one byte inside a stream of the original document: covered by the signature,
    // same length, the file still parses.
    let mut bytes = std::fs::read(&pdf).unwrap();
    let original = &bytes[..usize::try_from(first_revision_end).unwrap()];
    let at = original
        .windows(7)
        .position(|w| w == b"stream\n" || w == b"stream\r")
        .expect("a stream in the original document")
        + 12;
    bytes[at] ^= 0x01;
    let tampered = docs.path().join("bid-tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let want = reference_report(&app.home, &tampered);
    assert!(
        matches!(want.verdict, DocumentVerdict::NotValid { .. }),
        "{}",
        want.to_text()
    );

    let got = verify_in_app(&app.driver, &tampered).await;
    assert_eq!(got["status"], "not_valid", "{got}");
    assert_eq!(got["text"], "无效", "{got}");
    let sigs = got["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), want.signatures.len(), "{got}");
    for (g, w) in sigs.iter().zip(&want.signatures) {
        assert_eq!(g["status"], sig_status(&w.verdict), "{g}");
        assert_eq!(g["status"], "invalid", "{g}");
        assert_eq!(g["status_text"], "无效", "{g}");
        assert_eq!(g["stamps"], w.stamps.len(), "{g}");
    }
    app.driver.screenshot("verify-tampered-zh-CN").await;
    app.quit().await;
}
