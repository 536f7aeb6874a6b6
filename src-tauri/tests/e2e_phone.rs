//! End-to-end tests of the **emulated phone window** in the real app (tauri-driver +
//! WebKitWebDriver under Xvfb, see `e2e.rs`): the main window starts a login, the phone
//! window (opened from the home screen's phone card) scans the QR code the main window
//! shows — its pixels, handed over by the main window — joins at once and shows the
//! verification code and the request; only then does the PIN field appear, and the holder
//! confirms the codes match and approves with the PIN in one step. The WebDriver switches between the two windows
//! (`GET /window/handles`, `POST /window`); the tests assert on the DOM of both windows and
//! on the keystore's files (usage records, PIN state) through `bidkit_keystore`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::path::Path;

use bidkit_keystore::{CertSelector, Home, KeystoreConfig, Operation, RecordFilter};
use serde_json::{Value, json};
use support::*;

/// The current window's handle.
async fn current_window(d: &Driver) -> String {
    d.get("/window").await.as_str().unwrap().to_owned()
}

/// Switches the WebDriver to the window `handle`.
async fn switch_to(d: &Driver, handle: &str) {
    d.post("/window", json!({ "handle": handle })).await;
}

/// Opens the phone window from the home screen and returns (main, phone) handles; the
/// driver stays on the main window.
async fn open_phone(d: &Driver) -> (String, String) {
    let main = current_window(d).await;
    let home = d.find("[data-testid=tab-home]").await;
    d.click(&home).await;
    d.wait_for(
        "the phone launcher",
        "return document.body.dataset.phoneLauncher === 'ready';",
        json!([]),
    )
    .await;
    let open = d.find("[data-testid=open-phone]").await;
    d.click(&open).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut clicked = std::time::Instant::now();
    let phone = loop {
        // A click lost while the app was busy: click again (opening is idempotent).
        if clicked.elapsed() > std::time::Duration::from_secs(15) {
            d.click(&open).await;
            clicked = std::time::Instant::now();
        }
        let handles = d.get("/window/handles").await;
        if let Some(h) = handles
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|h| *h != main)
        {
            break h.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the phone window did not open: {handles}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    (main, phone)
}

/// In the main window: starts a login and waits for its QR code.
async fn start_login(d: &Driver) {
    let tab = d.find("[data-testid=tab-login]").await;
    d.click(&tab).await;
    let start = d.find("[data-testid=login-start]").await;
    d.click(&start).await;
    d.wait_for(
        "the login QR code",
        "const img = document.querySelector('[data-testid=login-qr]'); \
         return !!(img && img.src.startsWith('data:image/png;base64,') && !img.closest('[hidden]'));",
        json!([]),
    )
    .await;
}

/// In the phone window: waits for it to be ready, scans the tool's screen and waits for
/// the code, the request and the PIN prompt; returns what the phone shows.
async fn scan_screen(d: &Driver) -> Value {
    d.wait_for(
        "the phone window",
        "return document.body.dataset.ready === '1' && \
           !document.querySelector('[data-testid=phone-home]').hidden;",
        json!([]),
    )
    .await;
    watch_order(d).await;
    let scan = d.find("[data-testid=scan-screen]").await;
    d.click(&scan).await;
    wait_confirm(d).await
}

/// In the phone window: records, as the scan panel changes, what was on the screen when
/// the answer step (PIN field and buttons) first appeared, and whether the PIN field was
/// ever visible before the verification code.
async fn watch_order(d: &Driver) {
    d.exec(
        "window.__pinShown = null; window.__pinEarly = false; \
         const q = (id) => document.querySelector(`[data-testid=${id}]`); \
         const note = () => { \
           const pinVisible = !q('scan-pin').closest('[hidden]'); \
           if (pinVisible && !q('scan-code').dataset.code) window.__pinEarly = true; \
           if (!window.__pinShown && !q('scan-confirm').closest('[hidden]')) \
             window.__pinShown = {code: q('scan-code').dataset.code, summary: q('scan-summary').textContent, pin_visible: pinVisible}; \
         }; \
         if (window.__orderObserver) window.__orderObserver.disconnect(); \
         window.__orderObserver = new MutationObserver(note); \
         window.__orderObserver.observe(q('scan-panel'), {attributes: true, subtree: true, childList: true, characterData: true}); \
         return true;",
        json!([]),
    )
    .await;
}

/// In the phone window: reads the QR code from the PNG file `path` and waits for the
/// code, the request and the PIN prompt.
async fn scan_file(d: &Driver, path: &Path) -> Value {
    watch_order(d).await;
    let input = d.find("[data-testid=scan-path]").await;
    d.type_into(&input, &path.display().to_string()).await;
    let read = d.find("[data-testid=scan-file]").await;
    d.click(&read).await;
    wait_confirm(d).await
}

/// In the phone window: waits until the phone has joined and shows the code and the
/// request with the answer step; returns what it shows, and (`first`) what was on the
/// screen when the answer step first appeared.
async fn wait_confirm(d: &Driver) -> Value {
    let shown = d
        .wait_for(
            "the verification code and the request on the phone",
            "const p = document.querySelector('[data-testid=scan-panel]'); \
         const q = (id) => document.querySelector(`[data-testid=${id}]`); \
         if (p.dataset.phase === 'failed') return {failed: q('scan-error').textContent}; \
         return p.dataset.phase === 'confirm' ? \
           {code: q('scan-code').dataset.code, \
            summary: q('scan-summary').textContent, \
            purpose: q('scan-purpose').dataset.purpose, \
            tries: q('scan-tries').dataset.tries, \
            tries_text: q('scan-tries').textContent, \
            pin_visible: !q('scan-pin').closest('[hidden]'), \
            first: window.__pinShown, pin_early: window.__pinEarly} : null;",
            json!([]),
        )
        .await;
    assert!(shown.get("failed").is_none(), "{shown}");
    // The code and the request were on the screen before the PIN field / answer buttons.
    let code = shown["code"].as_str().unwrap_or_default();
    assert_eq!(code.len(), 6, "{shown}");
    assert_eq!(shown["first"]["code"], code, "{shown}");
    assert!(
        !shown["first"]["summary"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{shown}"
    );
    assert_eq!(shown["pin_early"], false, "{shown}");
    shown
}

/// In the phone window: waits for the scan to end; returns its phase, outcome, error and
/// tries left.
async fn wait_end(d: &Driver) -> Value {
    d.wait_for(
        "the end of the scan",
        "const p = document.querySelector('[data-testid=scan-panel]'); \
         return (p.dataset.phase === 'done' || p.dataset.phase === 'failed') ? \
           {phase: p.dataset.phase, \
            outcome: document.querySelector('[data-testid=scan-outcome]').dataset.outcome, \
            error: document.querySelector('[data-testid=scan-error]').textContent, \
            tries: document.querySelector('[data-testid=scan-tries]').dataset.tries, \
            tries_text: document.querySelector('[data-testid=scan-tries]').textContent} : null;",
        json!([]),
    )
    .await
}

/// The main window's verification code, once the phone has joined.
async fn main_code(d: &Driver) -> String {
    d.wait_for(
        "the verification code in the main window",
        "const c = document.querySelector('[data-testid=login-code]'); \
         return c && c.dataset.code ? c.dataset.code : null;",
        json!([]),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

fn keystore_phone(home: &Path) -> bidkit_keystore::Phone {
    Home::new(home, KeystoreConfig::insecure_fast_kdf_for_tests())
        .phone("phone")
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn phone_window_logs_in_by_scanning_the_tool_screen() {
    let Some(app) = AppUnderTest::start(|home| drop(enrolled_phone(home))).await else {
        return;
    };
    let d = &app.driver;
    let (main, phone) = open_phone(d).await;
    start_login(d).await;
    d.screenshot("phone-login-qr-zh").await;

    // The phone window: 扫一扫 reads the main window's QR image.
    switch_to(d, &phone).await;
    let certs = d.find("[data-testid=ptab-certs]").await;
    d.wait_for(
        "the phone window",
        "return document.body.dataset.ready === '1';",
        json!([]),
    )
    .await;
    d.click(&certs).await;
    let cert = d
        .wait_for(
            "the certificate list",
            "const c = document.querySelector('[data-testid=cert-item]'); return c ? {serial: c.dataset.serial, text: c.textContent} : null;",
            json!([]),
        )
        .await;
    d.screenshot("phone-certs-zh").await;
    let home_tab = d.find("[data-testid=ptab-home]").await;
    d.click(&home_tab).await;
    d.screenshot("phone-home-zh").await;

    // The phone joins with no PIN: the code and the request come first, then the PIN.
    let shown = scan_screen(d).await;
    assert_eq!(shown["purpose"], "login", "{shown}");
    assert_eq!(shown["tries"], "6", "{shown}");
    assert_eq!(shown["pin_visible"], true, "{shown}");
    assert_eq!(shown["first"]["pin_visible"], true, "{shown}");
    let code = shown["code"].as_str().unwrap_or_default().to_owned();
    assert!(
        shown["summary"].as_str().unwrap().contains("Log in"),
        "{shown}"
    );
    d.screenshot("phone-scan-code-zh").await;

    // The same code in the main window.
    switch_to(d, &main).await;
    assert_eq!(main_code(d).await, code);
    switch_to(d, &phone).await;
    // 验证码一致，输入PIN确认: the PIN typed after the code was compared.
    let pin = d.find("[data-testid=scan-pin]").await;
    d.type_into(&pin, PIN).await;
    d.screenshot("phone-scan-pin-zh").await;
    let confirm = d.find("[data-testid=scan-confirm]").await;
    d.click(&confirm).await;
    let end = wait_end(d).await;
    assert_eq!(end["phase"], "done", "{end}");
    assert_eq!(end["outcome"], "approved", "{end}");
    d.screenshot("phone-scan-done-zh").await;

    // The usage records tab shows the login.
    let records = d.find("[data-testid=ptab-records]").await;
    d.click(&records).await;
    let rec = d
        .wait_for(
            "the login record",
            "const r = document.querySelector('[data-testid=record-item][data-operation=login]'); \
             return r ? {result: r.dataset.result, text: r.textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(rec["result"], "ok", "{rec}");
    d.screenshot("phone-records-zh").await;

    // The main window shows the identity.
    switch_to(d, &main).await;
    let got = d
        .wait_for(
            "the identity",
            "const s = document.querySelector('[data-testid=login-state]'); \
             if (!s || s.dataset.phase !== 'done') return null; \
             const q = (id) => document.querySelector(`[data-testid=${id}]`); \
             return {name: q('login-person').dataset.name, certificate: q('login-certificate').textContent, \
                     code: q('login-code').dataset.code};",
            json!([]),
        )
        .await;
    assert_eq!(got["name"], PERSON, "{got}");
    assert_eq!(got["code"], code.as_str(), "{got}");
    let serial = cert["serial"].as_str().unwrap();
    assert!(
        got["certificate"].as_str().unwrap().contains(serial),
        "{got} vs {serial}"
    );

    // The keystore's files: one successful login, with the certificate the app showed.
    let kp = keystore_phone(&app.home);
    let logins = kp
        .records(&RecordFilter {
            operation: Some(Operation::Login),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0].result, "ok", "{logins:?}");
    assert_eq!(logins[0].cert_serial.as_deref(), Some(serial), "{logins:?}");
    kp.service().verify_records().unwrap();
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn phone_window_wrong_pin_shows_fewer_tries_in_english() {
    let Some(app) = AppUnderTest::start(|home| drop(enrolled_phone(home))).await else {
        return;
    };
    let d = &app.driver;
    let (main, phone) = open_phone(d).await;
    start_login(d).await;

    switch_to(d, &phone).await;
    d.wait_for(
        "the phone window",
        "return document.body.dataset.ready === '1';",
        json!([]),
    )
    .await;
    let lang = d.find("[data-testid=phone-lang]").await;
    d.click(&lang).await;
    d.wait_for(
        "English",
        "return document.documentElement.lang === 'en';",
        json!([]),
    )
    .await;
    d.screenshot("phone-home-en").await;

    let shown = scan_screen(d).await;
    assert_eq!(shown["tries"], "6", "{shown}");
    assert!(
        shown["tries_text"].as_str().unwrap().contains("Tries left"),
        "{shown}"
    );
    d.screenshot("phone-scan-code-en").await;
    switch_to(d, &main).await;
    assert_eq!(main_code(d).await, shown["code"].as_str().unwrap());
    switch_to(d, &phone).await;
    let pin = d.find("[data-testid=scan-pin]").await;
    d.type_into(&pin, "135790").await;
    let confirm = d.find("[data-testid=scan-confirm]").await;
    d.click(&confirm).await;
    let end = wait_end(d).await;
    assert_eq!(end["phase"], "failed", "{end}");
    assert!(
        end["error"].as_str().unwrap().contains("pin_wrong"),
        "{end}"
    );
    assert_eq!(end["tries"], "5", "{end}");
    assert!(end["tries_text"].as_str().unwrap().contains("5"), "{end}");
    d.screenshot("phone-wrong-pin-en").await;

    // The files: the PIN counter went down by one and the refused login is recorded.
    let kp = keystore_phone(&app.home);
    let status = kp.pin_status(&CertSelector::Person, None).unwrap();
    assert_eq!(status.tries_left, status.max_tries - 1, "{status:?}");
    let logins = kp
        .records(&RecordFilter {
            operation: Some(Operation::Login),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0].result, "pin_wrong", "{logins:?}");

    // A second wrong PIN on a new login: one try fewer again.
    switch_to(d, &main).await;
    start_login(d).await;
    switch_to(d, &phone).await;
    let close = d.find("[data-testid=scan-close]").await;
    d.click(&close).await;
    // This time from a PNG file of the QR code the main window shows (a photo of it).
    switch_to(d, &main).await;
    let src = d
        .exec(
            "return document.querySelector('[data-testid=login-qr]').src;",
            json!([]),
        )
        .await;
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(
                src.as_str()
                    .unwrap()
                    .trim_start_matches("data:image/png;base64,"),
            )
            .unwrap()
    };
    let qr_file = app.home.join("login-qr.png");
    std::fs::write(&qr_file, png).unwrap();
    switch_to(d, &phone).await;
    let shown = scan_file(d, &qr_file).await;
    assert_eq!(shown["purpose"], "login", "{shown}");
    assert_eq!(shown["tries"], "5", "{shown}");
    let pin = d.find("[data-testid=scan-pin]").await;
    d.type_into(&pin, "135791").await;
    let confirm = d.find("[data-testid=scan-confirm]").await;
    d.click(&confirm).await;
    let end = wait_end(d).await;
    assert_eq!(end["tries"], "4", "{end}");
    let status = kp.pin_status(&CertSelector::Person, None).unwrap();
    assert_eq!(status.tries_left, status.max_tries - 2, "{status:?}");

    // The certificates and usage records tabs, in English.
    let certs = d.find("[data-testid=ptab-certs]").await;
    d.click(&certs).await;
    let cert = d
        .wait_for(
            "the certificate",
            "const c = document.querySelector('[data-testid=cert-item]'); return c ? c.textContent : null;",
            json!([]),
        )
        .await;
    assert!(
        cert.as_str().unwrap().contains("4 / 6 tries left"),
        "{cert}"
    );
    d.screenshot("phone-certs-en").await;
    let records = d.find("[data-testid=ptab-records]").await;
    d.click(&records).await;
    let n = d
        .wait_for(
            "the refused logins",
            "const r = document.querySelectorAll('[data-testid=record-item][data-operation=login][data-result=pin_wrong]');              return r.length === 2 ? r.length : null;",
            json!([]),
        )
        .await;
    assert_eq!(n, 2);
    d.screenshot("phone-records-en").await;
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn phone_window_enrols_and_makes_seals_from_a_template_and_handwriting() {
    // An empty home: the phone window starts with the real-name enrolment.
    let Some(app) = AppUnderTest::start(|_| {}).await else {
        return;
    };
    let d = &app.driver;
    let (_main, phone) = open_phone(d).await;
    switch_to(d, &phone).await;
    d.wait_for(
        "the enrolment form",
        "return document.body.dataset.ready === '1' && \
           !document.querySelector('[data-testid=phone-enrol]').hidden;",
        json!([]),
    )
    .await;
    for (id, value) in [
        ("enrol-name", PERSON),
        ("enrol-id", ID_NUMBER),
        ("enrol-phone", "13800000001"),
        ("enrol-pin", PIN),
    ] {
        let e = d.find(&format!("[data-testid={id}]")).await;
        d.type_into(&e, value).await;
    }
    d.screenshot("phone-enrol-zh").await;
    let submit = d.find("[data-testid=enrol-submit]").await;
    d.click(&submit).await;
    let who = d
        .wait_for(
            "the enrolled person",
            "const w = document.querySelector('[data-testid=phone-who]'); \
             return w && !document.querySelector('[data-testid=phone-home]').hidden ? w.dataset.name : null;",
            json!([]),
        )
        .await;
    assert_eq!(who, PERSON);
    // The file: the account and its person certificate are on the phone.
    let account = keystore_phone(&app.home).account().unwrap().unwrap();
    assert_eq!(account.id_number, ID_NUMBER);
    assert_eq!(keystore_phone(&app.home).certificates().unwrap().len(), 1);
    let seals = d.find("[data-testid=ptab-seals]").await;
    d.click(&seals).await;
    // 人名章 from the template.
    d.exec(
        "document.querySelector('[data-testid=seal-make]').open = true; \
         document.querySelector('[data-testid=seal-template]').value = 'personal-name'; return true;",
        json!([]),
    )
    .await;
    let make = d.find("[data-testid=seal-from-template]").await;
    d.click(&make).await;
    d.wait_for(
        "the name seal",
        "return !!document.querySelector('[data-testid=seal-item][data-kind=personal-name] [data-testid=seal-image]');",
        json!([]),
    )
    .await;
    // Handwriting drawn with the mouse: pointer events on the canvas (WebKitWebDriver's
    // Actions support is partial, so real PointerEvents are dispatched from the page).
    d.exec(
        "const c = document.querySelector('[data-testid=hw-canvas]'); const r = c.getBoundingClientRect(); \
         const ev = (type, x, y, p) => c.dispatchEvent(new PointerEvent(type, {bubbles: true, pointerId: 1, \
             clientX: r.left + x, clientY: r.top + y, pressure: p, pointerType: 'mouse'})); \
         ev('pointerdown', 20, 80, 0.5); \
         for (let i = 1; i <= 30; i++) ev('pointermove', 20 + i * 8, 80 - Math.sin(i / 3) * 40, 0.3 + (i % 5) / 10); \
         ev('pointerup', 260, 80, 0); \
         ev('pointerdown', 60, 110, 0.5); ev('pointermove', 140, 100, 0.7); ev('pointermove', 220, 115, 0.6); ev('pointerup', 220, 115, 0); \
         return true;",
        json!([]),
    )
    .await;
    d.screenshot("phone-handwriting-zh").await;
    let save = d.find("[data-testid=hw-save]").await;
    d.click(&save).await;
    d.wait_for(
        "the handwritten seal",
        "return !!document.querySelector('[data-testid=seal-item][data-kind=handwritten] [data-testid=seal-image]');",
        json!([]),
    )
    .await;
    d.screenshot("phone-seals-zh").await;

    // The files: both seals are on the platform with pictures and verifying seal records.
    let kp = keystore_phone(&app.home);
    let views = kp.seals().unwrap();
    for kind in [
        bidkit_keystore::SealKind::PersonalName,
        bidkit_keystore::SealKind::Handwritten,
    ] {
        let v = views
            .iter()
            .find(|v| v.seal.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} seal in {views:?}"));
        assert!(v.seal.image_len > 0, "{v:?}");
        kp.verify_seal_record(v.seal.id).unwrap();
    }
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn phone_window_continuous_mode_logs_in_without_a_pin() {
    let Some(app) = AppUnderTest::start(|home| drop(enrolled_phone(home))).await else {
        return;
    };
    let d = &app.driver;
    let (main, phone) = open_phone(d).await;
    switch_to(d, &phone).await;
    d.wait_for(
        "the phone window",
        "return document.body.dataset.ready === '1' && \
           !document.querySelector('[data-testid=phone-home]').hidden;",
        json!([]),
    )
    .await;
    // Continuous mode (连续签章): one PIN now.
    let pin = d.find("[data-testid=continuous-pin]").await;
    d.type_into(&pin, PIN).await;
    let toggle = d.find("[data-testid=continuous-toggle]").await;
    d.click(&toggle).await;
    let state = d
        .wait_for(
            "continuous mode on",
            "const c = document.querySelector('[data-testid=continuous-toggle]'); \
             const p = document.querySelector('[data-testid=continuous-pin]'); \
             return c.checked && p.closest('[hidden]') ? document.querySelector('[data-testid=continuous-state]').textContent : null;",
            json!([]),
        )
        .await;
    assert!(state.as_str().unwrap().contains("20"), "{state}");
    d.screenshot("phone-continuous-zh").await;

    switch_to(d, &main).await;
    start_login(d).await;
    switch_to(d, &phone).await;
    let shown = scan_screen(d).await;
    assert_eq!(shown["purpose"], "login", "{shown}");
    assert_eq!(
        shown["pin_visible"], false,
        "no PIN in continuous mode: {shown}"
    );
    switch_to(d, &main).await;
    assert_eq!(main_code(d).await, shown["code"].as_str().unwrap());
    switch_to(d, &phone).await;
    let confirm = d.find("[data-testid=scan-confirm]").await;
    d.click(&confirm).await;
    let end = wait_end(d).await;
    assert_eq!(end["outcome"], "approved", "{end}");
    switch_to(d, &main).await;
    d.wait_for(
        "the identity",
        "const s = document.querySelector('[data-testid=login-state]'); return s && s.dataset.phase === 'done';",
        json!([]),
    )
    .await;

    // The files: the continuous session was opened with the PIN, the login used it.
    let kp = keystore_phone(&app.home);
    let all = kp.records(&RecordFilter::default()).unwrap();
    let ops: Vec<(Operation, &str)> = all
        .iter()
        .map(|r| (r.operation, r.result.as_str()))
        .collect();
    assert!(ops.contains(&(Operation::ContinuousStart, "ok")), "{ops:?}");
    assert!(ops.contains(&(Operation::Login, "ok")), "{ops:?}");
    let status = kp.pin_status(&CertSelector::Person, None).unwrap();
    assert_eq!(status.tries_left, status.max_tries, "{status:?}");

    // Another login, refused on the phone after seeing the code: no key is used.
    let before = kp.records(&RecordFilter::default()).unwrap().len();
    start_login(d).await;
    switch_to(d, &phone).await;
    let close = d.find("[data-testid=scan-close]").await;
    d.click(&close).await;
    scan_screen(d).await;
    let refuse = d.find("[data-testid=scan-refuse]").await;
    d.click(&refuse).await;
    let end = wait_end(d).await;
    assert_eq!(end["phase"], "done", "{end}");
    assert_eq!(end["outcome"], "refused", "{end}");
    d.screenshot("phone-scan-refused-zh").await;
    assert_eq!(kp.records(&RecordFilter::default()).unwrap().len(), before);
    app.quit().await;
}
