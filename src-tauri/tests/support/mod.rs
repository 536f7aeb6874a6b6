//! The harness shared by the real-app end-to-end tests (`e2e*.rs`): tools, processes, the
//! WebDriver client, and the documents and phones the tests start from.
//!
//! The WebDriver client is plain `reqwest` + JSON (the [`Driver`] below): WebDriver is a
//! handful of JSON-over-HTTP endpoints, reqwest is already in the workspace with exactly
//! these features (no new crates, no rebuild of shared dependencies), and every request
//! and answer stays visible in the test when something fails. A full client crate
//! (fantoccini, thirtyfour) would bring hyper/TLS stacks for the same eight endpoints.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

pub use std::net::TcpListener;
pub use std::path::{Path, PathBuf};
pub use std::process::{Child, Command, Stdio};
pub use std::time::{Duration, Instant};

pub use bidkit_crypto::{PrivateKey, Suite};
pub use bidkit_pdf::generate::{DocumentSpec, write_document};
pub use bidkit_pdf::picture::SealPicture;
pub use bidkit_pdf::placement::Placement;
pub use bidkit_pdf::sign::{SealJob, seal_with};
pub use bidkit_pdf::verify::{
    DocumentVerdict, SignatureVerdict, TrustChoice, VerificationReport, VerifyOptions, verify_file,
};
pub use bidkit_pki::{CertificateAuthority, KeyPurpose, Subject};
pub use serde_json::{Value, json};
pub use time::OffsetDateTime;

pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const WEBKIT_WEBDRIVER: &str = "/usr/bin/WebKitWebDriver";

// ---------------------------------------------------------------------------------------
// Tools and processes
// ---------------------------------------------------------------------------------------

pub fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// tauri-driver: `$BIDKIT_TAURI_DRIVER`, the PATH, `.deps/tauri-driver/bin/` (where
/// `scripts/setup` installs it), `~/.cargo/bin/`.
pub fn tauri_driver() -> Option<PathBuf> {
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

pub fn webkit_webdriver() -> Option<PathBuf> {
    let p = PathBuf::from(WEBKIT_WEBDRIVER);
    if p.is_file() {
        Some(p)
    } else {
        on_path("WebKitWebDriver")
    }
}

/// The tools, or `None` after printing why the test is skipped (a failure instead when
/// `BIDKIT_REQUIRE_SMOKE=1`).
pub fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process this test started, in its own process group, stopped (the whole group:
/// the native driver and the app it launched) when dropped.
pub struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    pub fn spawn(name: &'static str, mut cmd: Command) -> Proc {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc { name, child }
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
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
pub struct AppUnderTest {
    pub driver: Driver,
    pub home: PathBuf,
    /// The app's X display (`:N`), for driving native windows with xdotool.
    pub display: String,
    _tauri_driver: Proc,
    _xvfb: Proc,
    _dir: tempfile::TempDir,
}

impl AppUnderTest {
    pub async fn start(home_setup: impl FnOnce(&Path)) -> Option<AppUnderTest> {
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
        driver.wait_until_ready().await;
        Some(AppUnderTest {
            driver,
            home,
            display,
            _tauri_driver: tauri_driver,
            _xvfb: xvfb,
            _dir: dir,
        })
    }

    /// Ends the WebDriver session (closing the app) before the processes stop.
    pub async fn quit(self) {
        let _ = self.driver.http.delete(&self.driver.url).send().await;
    }
}

/// Runs xdotool on `display`; its standard output, or `None` when it found nothing.
pub fn xdotool(display: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("xdotool runs (scripts/setup installs it)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Waits (up to 30 s) for a window titled `title` on `display`; its id.
pub async fn native_window(display: &str, title: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(ids) = xdotool(display, &["search", "--onlyvisible", "--name", title])
            && let Some(id) = ids.lines().next()
        {
            return id.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no window titled {title} appeared on {display}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts Xvfb on the first free display number from a per-process base.
pub fn start_xvfb(bin: &Path) -> (Proc, String) {
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

pub async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    let r = http
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    answer("POST", url, r).await
}

pub async fn answer(method: &str, url: &str, r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: not JSON: {e}"));
    assert!(status.is_success(), "{method} {url}: {status}: {v}");
    v["value"].clone()
}

/// One WebDriver session (W3C endpoints only).
pub struct Driver {
    pub http: reqwest::Client,
    pub url: String,
}

impl Driver {
    pub async fn post(&self, path: &str, body: Value) -> Value {
        post(&self.http, &format!("{}{path}", self.url), &body).await
    }

    pub async fn get(&self, path: &str) -> Value {
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
    pub async fn exec(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Polls `script` until it returns something other than `null` or `false`.
    /// Waits until the UI has wired its listeners and drawn its first screen (`main.js`
    /// sets `<body data-ready>`): a click that lands earlier does nothing.
    pub async fn wait_until_ready(&self) {
        self.wait_for(
            "the UI to be ready",
            "return document.body && document.body.dataset.ready === 'true';",
            json!([]),
        )
        .await;
    }

    pub async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
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
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    pub async fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.get(&format!("/element/{element}/attribute/{name}"))
            .await
            .as_str()
            .map(str::to_owned)
    }

    pub async fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    /// With `BIDKIT_E2E_SCREENSHOTS=DIR`, saves the window as `DIR/NAME.png` (best
    /// effort: a screenshot that fails or takes over 20 s is reported, not fatal).
    pub async fn screenshot(&self, name: &str) {
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

    pub async fn type_into(&self, element: &str, text: &str) {
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
pub fn seal_png() -> Vec<u8> {
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

pub const SIGNER_ORG: &str = "北京某某建设有限公司";

/// Makes the home's emulated GM root (as enrolling a phone would) and, in `dir`, a
/// two-page document sealed on every page by an organisation certified by that root.
/// Returns the sealed file and the plain input's length (the first revision's end).
pub fn sealed_pdf(home: &Path, dir: &Path) -> (PathBuf, u64) {
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
pub fn reference_report(home: &Path, pdf: &Path) -> VerificationReport {
    let trust = TrustChoice::from_home_and_pems(Some(home), &[]).unwrap();
    verify_file(pdf, &VerifyOptions::new(trust)).unwrap()
}

pub fn doc_status(v: &DocumentVerdict) -> &'static str {
    match v {
        DocumentVerdict::Valid => "valid",
        DocumentVerdict::NoSignatures => "no_signatures",
        DocumentVerdict::NotValid { .. } => "not_valid",
    }
}

pub fn sig_status(v: &SignatureVerdict) -> &'static str {
    match v {
        SignatureVerdict::Valid => "valid",
        SignatureVerdict::Invalid { .. } => "invalid",
        SignatureVerdict::ModifiedAfter { .. } => "modified_after",
        SignatureVerdict::Untrusted { .. } => "untrusted",
    }
}

/// Everything the verify screen shows, read from the DOM in one go once the verdict
/// is there (`null` while it is not).
pub const READ_REPORT: &str = r#"
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
/// returns the DOM's report once every page image has been decoded (an `<img>` with a
/// `data:` URL loads asynchronously: reading it earlier sees no size).
pub async fn verify_in_app(d: &Driver, pdf: &Path) -> Value {
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
             return v && v.pages.every((p) => p.loaded) && document.querySelector('[data-testid=verify-path]').value === f ? v : null;",
            json!(pdf.display().to_string())
        ),
        json!([]),
    )
    .await
}

pub const PIN: &str = "246810";
pub const PERSON: &str = "张三";
pub const ID_NUMBER: &str = "11010519491231002X";

/// Enrols the emulated phone `phone` in `home` (which creates the home's GM root).
pub fn enrolled_phone(home: &Path) -> bidkit_keystore::Phone {
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

// ---------------------------------------------------------------------------------------
// Bid screens (e2e_bid.rs)
// ---------------------------------------------------------------------------------------

pub const BID_ORG: &str = "北京某某建设有限公司";
pub const BID_USCC17: &str = "91110000MA0000001";

/// The bidder organisation's USCC (with its check character).
pub fn bid_uscc() -> String {
    let check = bidkit_keystore::ids::uscc_check_char(BID_USCC17).unwrap();
    format!("{BID_USCC17}{check}")
}

/// Enrols the phone (as [`enrolled_phone`]) and creates the bidder organisation with its
/// signing and encryption certificates on it, as the demo's bidder does.
pub fn enrolled_org_phone(home: &Path) -> bidkit_keystore::Phone {
    let phone = enrolled_phone(home);
    phone
        .create_organisation(BID_ORG, &bid_uscc(), PIN, Suite::Gm)
        .unwrap();
    phone
}

/// The phone scans `qr_text` and approves with its PIN and the organisation's
/// certificate; returns the verification code it showed.
pub async fn org_phone_approves(
    phone: &std::sync::Arc<bidkit_keystore::Phone>,
    qr_text: &str,
) -> String {
    use bidkit_app::scan::{Quiet, ScanOptions, ScanOutcome, ScanUnlock, scan};
    let mut opts = ScanOptions::new(
        qr_text,
        ScanUnlock::Pin(zeroize::Zeroizing::new(PIN.to_owned())),
    );
    opts.cert = Some(bidkit_keystore::CertSelector::Organisation(bid_uscc()));
    let report = scan(phone.clone(), opts, &mut Quiet).await.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved, "{report:?}");
    report.verification_code
}

// ---------------------------------------------------------------------------------------
// A phone with an organisation and its seal (签章 tests)
// ---------------------------------------------------------------------------------------

/// The organisation of [`phone_with_seal`] and its code.
pub const SEAL_ORG: &str = "北京某某建设有限公司";
pub const SEAL_USCC: &str = "91110000600037341L";
pub const SEAL_NAME: &str = "北京某某建设有限公司公章";
/// The seal picture's physical size (its PNG's pHYs chunk says so).
pub const SEAL_MM: f64 = 40.0;

/// A 40 mm red ring with a star-less centre dot on transparency, 236 px with a pHYs of
/// 5900 px/m (so exactly 40 mm), as sealing and the seal screen read its true size.
pub fn true_size_seal_png() -> Vec<u8> {
    let size = 236u32;
    let c = f64::from(size) / 2.0 - 0.5;
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let r = ((f64::from(x) - c).powi(2) + (f64::from(y) - c).powi(2)).sqrt();
            let ink = (r < c && r > c - 14.0) || r < 30.0;
            rgba.extend_from_slice(&[200, 20, 30, if ink { 255 } else { 0 }]);
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size, size);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: 5900,
        yppu: 5900,
        unit: png::Unit::Meter,
    }));
    enc.write_header().unwrap().write_image_data(&rgba).unwrap();
    out
}

/// Enrols the home's default phone ([`enrolled_phone`]), creates [`SEAL_ORG`] with its
/// organisation certificate (the holder is its admin) and adds its 公章 with a 40 mm
/// picture. Returns the phone and the seal's id.
pub fn phone_with_seal(home: &Path) -> (bidkit_keystore::Phone, i64) {
    use bidkit_keystore::{NewSeal, SealKind};
    let phone = enrolled_phone(home);
    phone
        .create_organisation(SEAL_ORG, SEAL_USCC, PIN, Suite::Gm)
        .unwrap();
    let seal = phone
        .add_seal(&NewSeal {
            kind: SealKind::Official,
            name: SEAL_NAME.into(),
            organisation: Some(SEAL_USCC.into()),
            image: true_size_seal_png(),
            valid_from: None,
            valid_until: None,
        })
        .unwrap();
    (phone, seal.id)
}

// ---------------------------------------------------------------------------------------
// Opening hall (e2e_opening.rs): a tender, a bidder's encrypted and submitted bid, the agent
// ---------------------------------------------------------------------------------------

pub const OPENING_BIDDER_PIN: &str = "246810";
pub const OPENING_AGENT_PIN: &str = "135790";
pub const OPENING_BIDDER_ORG: &str = "示例建设工程有限公司";
pub const OPENING_AGENT_ORG: &str = "某某招标代理有限公司";
pub const OPENING_AGENT_SEAL: &str = "某某招标代理有限公司公章";
pub const OPENING_PRICE: &str = "9876543.21";

/// The opening's starting point, made with the crates before the app starts.
pub struct OpeningFixture {
    pub bidder: std::sync::Arc<bidkit_keystore::Phone>,
    pub agent: std::sync::Arc<bidkit_keystore::Phone>,
    pub bidder_uscc: String,
    pub agent_uscc: String,
    pub agent_seal_id: i64,
    /// The tender package directory.
    pub tender: PathBuf,
    pub tender_id: String,
    /// The directory of bid files (the bid, its receipt, and a damaged file).
    pub bids: PathBuf,
    /// The sealed PDF that was encrypted.
    pub sealed_pdf: PathBuf,
    /// The bidder's bid file.
    pub bid_file: PathBuf,
}

fn with_check(first17: &str, check: Option<char>) -> String {
    format!("{first17}{}", check.unwrap_or('0'))
}

/// Enrols a person on a new phone `name` of `home` and creates their organisation (with
/// its signing and encryption certificates); returns the phone and the organisation's code.
#[allow(clippy::too_many_arguments)]
pub fn opening_org_phone(
    home: &Path,
    name: &str,
    person: &str,
    id17: &str,
    mobile: &str,
    org: &str,
    uscc17: &str,
    pin: &str,
) -> (bidkit_keystore::Phone, String) {
    use bidkit_keystore::{Home, KeystoreConfig, PersonDetails, ids};
    let keystore = Home::new(home, KeystoreConfig::insecure_fast_kdf_for_tests());
    let phone = keystore.phone(name).unwrap();
    phone
        .enrol(
            &PersonDetails {
                name: person.into(),
                id_number: with_check(id17, ids::id_number_check_char(id17)),
                phone_number: mobile.into(),
            },
            pin,
            Suite::Gm,
        )
        .unwrap();
    let uscc = with_check(uscc17, ids::uscc_check_char(uscc17));
    phone
        .create_organisation(org, &uscc, pin, Suite::Gm)
        .unwrap();
    (phone, uscc)
}

/// `phone` answers the tool's QR code `qr_text` with the certificate of organisation
/// `uscc` and `pin`, approving.
pub async fn opening_answer(
    phone: std::sync::Arc<bidkit_keystore::Phone>,
    qr_text: &str,
    uscc: &str,
    pin: &str,
) -> bidkit_app::scan::ScanReport {
    use bidkit_app::scan::{Quiet, ScanOptions, ScanOutcome, ScanUnlock, scan};
    let mut opts = ScanOptions::new(
        qr_text,
        ScanUnlock::Pin(zeroize::Zeroizing::new(pin.into())),
    );
    opts.cert = Some(bidkit_keystore::CertSelector::Organisation(uscc.into()));
    let report = scan(phone, opts, &mut Quiet).await.unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved, "{report:?}");
    report
}

/// A tool-side observer whose phone scans the first QR frame of every session, on a thread
/// of its own, as a phone held up to the screen would.
struct OpeningPhone {
    phone: std::sync::Arc<bidkit_keystore::Phone>,
    uscc: String,
    pin: &'static str,
    scanned: bool,
    scans: Vec<std::thread::JoinHandle<()>>,
}

impl bidkit_app::session::SessionObserver for OpeningPhone {
    fn qr_frame(
        &mut self,
        frame: &bidkit_app::session::QrFrame<'_>,
    ) -> Result<(), bidkit_app::AppError> {
        if !self.scanned {
            self.scanned = true;
            let (phone, text, uscc, pin) = (
                self.phone.clone(),
                frame.text.to_owned(),
                self.uscc.clone(),
                self.pin,
            );
            self.scans.push(std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(opening_answer(phone, &text, &uscc, pin));
            }));
        }
        Ok(())
    }

    fn phone_joined(&mut self, _code: &str) {
        // The next session's first frame is scanned again.
        self.scanned = false;
    }
}

impl bidkit_app::bid::BidObserver for OpeningPhone {}

/// Makes, in `home` and `dir` (on a thread without an async runtime): the bidder's phone
/// and organisation, the agent's phone, organisation and 公章, a tender package, a sealed
/// PDF encrypted by the bidder's phone into `dir/bids/bid.bid` and submitted (receipt
/// beside it), and a damaged `broken.bid`.
pub fn opening_fixture(home: &Path, dir: &Path) -> OpeningFixture {
    let (home, dir) = (home.to_path_buf(), dir.to_path_buf());
    std::thread::spawn(move || opening_fixture_here(&home, &dir))
        .join()
        .unwrap()
}

fn opening_fixture_here(home: &Path, dir: &Path) -> OpeningFixture {
    use bidkit_app::bid_view::bidkit_tender::TenderPackage;
    use bidkit_keystore::{NewSeal, SealKind};
    use std::sync::Arc;
    std::fs::create_dir_all(dir).unwrap();
    // First: it makes the home's root valid from five minutes ago (the phones reuse it).
    let (sealed, _) = sealed_pdf(home, dir);
    let (bidder, bidder_uscc) = opening_org_phone(
        home,
        "bidder",
        "张三",
        "11010519491231002",
        "13800138000",
        OPENING_BIDDER_ORG,
        "91110000MA0000001",
        OPENING_BIDDER_PIN,
    );
    let (agent, agent_uscc) = opening_org_phone(
        home,
        "agent",
        "王五",
        "11010819700505003",
        "13700137000",
        OPENING_AGENT_ORG,
        "91110000MA0000002",
        OPENING_AGENT_PIN,
    );
    let seal = agent
        .add_seal(&NewSeal {
            kind: SealKind::Official,
            name: OPENING_AGENT_SEAL.into(),
            organisation: Some(agent_uscc.clone()),
            image: true_size_seal_png(),
            valid_from: None,
            valid_until: None,
        })
        .unwrap();
    let (bidder, agent) = (Arc::new(bidder), Arc::new(agent));

    let doc = dir.join("tender-document.pdf");
    write_document(&DocumentSpec::a4(1), &doc).unwrap();
    let tender = dir.join("tender");
    let loaded = TenderPackage::new_template(OffsetDateTime::now_utc())
        .write_package(&tender, Some(&doc))
        .unwrap();
    let tender_id = loaded.package.tender_id.clone();

    let bids = dir.join("bids");
    std::fs::create_dir_all(&bids).unwrap();
    let bid_file = bids.join("bid.bid");
    let mut observer = OpeningPhone {
        phone: bidder.clone(),
        uscc: bidder_uscc.clone(),
        pin: OPENING_BIDDER_PIN,
        scanned: false,
        scans: Vec::new(),
    };
    let sign = bidkit_app::sign::SignOptions::new(home, Suite::Gm);
    // The payload is a bid package: the sealed PDF and the project's manifest with the
    // quoted price.
    let project_dir = dir.join("bid-project");
    let mut project = bidkit_app::bid_view::bidkit_tender::BidProject::init(
        &loaded,
        &project_dir,
        bidkit_app::bid_view::bidkit_tender::Bidder {
            name: OPENING_BIDDER_ORG.into(),
            uscc: bidder_uscc.clone(),
        },
    )
    .unwrap();
    project.set_quoted_price(Some(OPENING_PRICE)).unwrap();
    let mut enc =
        bidkit_app::bid::EncryptOptions::new(sign.clone(), &sealed, &bid_file, &tender_id);
    enc.manifest = Some(project_dir.join(bidkit_app::bid_view::bidkit_tender::BID_FILE));
    bidkit_app::bid::encrypt_bid_blocking(&enc, &mut observer).unwrap();
    let sub = bidkit_app::bid::SubmitOptions::new(sign, &bid_file, bids.join("bid-receipt.json"));
    bidkit_app::bid::submit_bid_blocking(&sub, &mut observer).unwrap();
    for scan in observer.scans.drain(..) {
        scan.join().unwrap();
    }
    std::fs::write(bids.join("broken.bid"), b"BKBID not really a bid file").unwrap();
    OpeningFixture {
        bidder,
        agent,
        bidder_uscc,
        agent_uscc,
        agent_seal_id: seal.id,
        tender,
        tender_id,
        bids,
        sealed_pdf: sealed,
        bid_file,
    }
}
