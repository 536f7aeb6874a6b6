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
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use support::*;

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

/// The app started over a home whose phone sealed a PDF in `docs`: the app, the PDF and
/// where its first revision ends (`None`: the tools are missing and the test is skipped).
async fn app_with_sealed_pdf(docs: &Path) -> Option<(AppUnderTest, PathBuf, u64)> {
    let mut sealed = None;
    let app = AppUnderTest::start(|home| sealed = Some(sealed_pdf(home, docs))).await?;
    let (pdf, first_revision_end) = sealed.expect("the home was set up before the app started");
    Some((app, pdf, first_revision_end))
}

/// The title of the system's open dialog in Chinese (`common.pick_open`).
const PICK_OPEN_TITLE: &str = "选择文件";

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
    d.screenshot("home-empty-zh-CN").await;

    // English: the shell and the screens' own catalogues switch together.
    let toggle = d.find("[data-testid=lang-toggle]").await;
    d.click(&toggle).await;
    let tabs = d
        .wait_for(
            "the English tabs",
            "const t = (id) => document.querySelector(`[data-testid=tab-${id}]`).textContent; \
             return document.documentElement.lang === 'en' ? \
               {verify: t('verify'), seal: t('seal'), opening: t('opening')} : null;",
            json!([]),
        )
        .await;
    assert_eq!(tabs["verify"], "Verify", "{tabs}");
    assert_eq!(tabs["seal"], "Seal", "{tabs}");
    assert_eq!(tabs["opening"], "Opening", "{tabs}");
    d.screenshot("home-empty-en").await;
    let login = d.find("[data-testid=tab-login]").await;
    d.click(&login).await;
    d.screenshot("login-idle-en").await;
    app.quit().await;
}

/// 浏览… beside the verify screen's path opens the system's file dialog (GTK's, on this
/// display); the path typed into it lands in the field, and the report is the verifier's.
#[tokio::test(flavor = "current_thread")]
async fn browse_picks_the_pdf_in_the_system_dialog() {
    let docs = tempfile::tempdir().unwrap();
    let Some((app, pdf, _)) = app_with_sealed_pdf(docs.path()).await else {
        return;
    };
    let d = &app.driver;
    let tab = d.find("[data-testid=tab-verify]").await;
    d.click(&tab).await;
    let browse = d.find("[data-testid=verify-path-browse]").await;
    assert_eq!(d.text(&browse).await, "浏览…");
    d.click(&browse).await;
    let dialog = native_window(&app.display, PICK_OPEN_TITLE).await;
    xdotool(&app.display, &["windowfocus", "--sync", &dialog]).unwrap();
    // GTK's chooser opens its location entry on Ctrl+L; the path, then Enter, picks it.
    // Enter may first only accept the entry's completion: press it until the dialog is
    // gone.
    xdotool(&app.display, &["key", "--clearmodifiers", "ctrl+l"]).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = pdf.display().to_string();
    xdotool(&app.display, &["type", "--delay", "15", &path]).unwrap();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if xdotool(
            &app.display,
            &["search", "--onlyvisible", "--name", PICK_OPEN_TITLE],
        )
        .is_none()
        {
            break;
        }
        xdotool(&app.display, &["windowfocus", "--sync", &dialog]);
        xdotool(&app.display, &["key", "Return"]);
    }
    d.wait_for(
        "the picked path in the field",
        "return document.querySelector('[data-testid=verify-path]').value === arguments[0] || null;",
        json!([path]),
    )
    .await;
    let open = d.find("[data-testid=verify-open]").await;
    d.click(&open).await;
    let got = d
        .wait_for(
            "the verdict",
            "const v = document.querySelector('[data-testid=verify-verdict]'); return v && !v.hidden && v.dataset.status ? v.dataset.status : null;",
            json!([]),
        )
        .await;
    let want = reference_report(&app.home, &pdf);
    assert_eq!(got, doc_status(&want.verdict), "{}", want.to_text());
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn verify_screen_shows_what_the_verifier_reports_for_a_sealed_pdf() {
    let docs = tempfile::tempdir().unwrap();
    let Some((app, pdf, _)) = app_with_sealed_pdf(docs.path()).await else {
        return;
    };
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
    let Some((app, pdf, first_revision_end)) = app_with_sealed_pdf(docs.path()).await else {
        return;
    };
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
