//! End-to-end tests of the 签章 (seal) screen in the **real app** (tauri-driver +
//! WebKitWebDriver under Xvfb, see `e2e.rs`): open a PDF, drag the seal onto the page,
//! seal with the emulated phone answering the sign QR the screen shows, and check the
//! sealed file with the verifier — position and true size of the stamp, seam stamps on
//! every page, a keyword stamp over the keyword.
//!
//! Dragging: WebDriver's Actions API (pointer actions) moves a real mouse pointer in
//! WebKitWebDriver, which the screen sees as pointer events. Should the driver refuse
//! pointer actions, [`drag`] dispatches the same `pointerdown` / `pointermove` /
//! `pointerup` events by script at the same coordinates (and says so on stderr).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::sync::Arc;

use bidkit_app::scan::{Quiet, ScanOptions, ScanOutcome, ScanUnlock, scan};
use support::*;

const KEYWORD: &str = "投标人（盖章）";
const PT_PER_MM: f64 = 72.0 / 25.4;

/// Switches to the seal screen (in `lang`), opens `pdf` and waits for its first page and
/// the seal list.
async fn open_on_seal_screen(d: &Driver, pdf: &Path, lang: &str) {
    // The UI is up once the screen modules rendered (a click before that is lost).
    d.wait_for(
        "the UI",
        "const h = document.querySelector('[data-testid=seal-heading]'); \
         return h && h.textContent !== '' && document.querySelector('[data-testid=version]').textContent !== 'v…';",
        json!([]),
    )
    .await;
    if lang == "en" {
        let toggle = d.find("[data-testid=lang-toggle]").await;
        d.click(&toggle).await;
        d.wait_for("English", "return document.documentElement.lang === 'en' || document.querySelector('[data-testid=tab-seal]').textContent === 'Seal';", json!([])).await;
    }
    let tab = d.find("[data-testid=tab-seal]").await;
    d.click(&tab).await;
    let shown = d
        .wait_for(
            "the seal screen",
            "const i = document.querySelector('[data-testid=seal-path]'); \
             const sec = document.getElementById('screen-seal'); \
             return i && !sec.hidden && i.offsetParent ? true : \
               (window.__sealDebug = (window.__sealDebug || 0) + 1) > 25 ? {hidden: sec.hidden, html: sec.innerHTML.slice(0, 300), err: document.getElementById('error').textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(shown, Value::Bool(true), "{shown}");
    d.screenshot(&format!("seal-empty-{lang}")).await;
    let input = d.find("[data-testid=seal-path]").await;
    d.type_into(&input, &pdf.display().to_string()).await;
    let open = d.find("[data-testid=seal-open]").await;
    d.click(&open).await;
    d.wait_for(
        "the page and the seals",
        "const img = document.querySelector('[data-testid=seal-page-img]'); \
         const seal = document.querySelector('[data-testid=seal-choice][data-usable=true]'); \
         return img && img.complete && img.naturalWidth > 0 && seal ? true : null;",
        json!([]),
    )
    .await;
}

/// Drags from one viewport point to another with the pointer.
async fn drag(d: &Driver, from: (f64, f64), to: (f64, f64)) {
    let (fx, fy) = (from.0.round() as i64, from.1.round() as i64);
    let (tx, ty) = (to.0.round() as i64, to.1.round() as i64);
    let actions = json!({"actions": [{
        "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
        "actions": [
            {"type": "pointerMove", "duration": 0, "origin": "viewport", "x": fx, "y": fy},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerMove", "duration": 150, "origin": "viewport", "x": (fx + tx) / 2, "y": (fy + ty) / 2},
            {"type": "pointerMove", "duration": 150, "origin": "viewport", "x": tx, "y": ty},
            {"type": "pointerUp", "button": 0}
        ]
    }]});
    let url = format!("{}/actions", d.url);
    let ok = match d.http.post(&url).json(&actions).send().await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    };
    let _ = d.http.delete(&url).send().await;
    let placed = d
        .exec(
            "return !!document.querySelector('[data-testid=seal-overlay]');",
            json!([]),
        )
        .await;
    if ok && placed == Value::Bool(true) {
        return;
    }
    eprintln!("pointer actions did not drag (ok: {ok}); dispatching pointer events by script");
    d.exec(
        "const [fx, fy, tx, ty] = arguments; \
         const opts = (x, y) => ({bubbles: true, cancelable: true, clientX: x, clientY: y, pointerId: 1, pointerType: 'mouse', isPrimary: true, button: 0}); \
         document.elementFromPoint(fx, fy).dispatchEvent(new PointerEvent('pointerdown', opts(fx, fy))); \
         document.dispatchEvent(new PointerEvent('pointermove', opts((fx + tx) / 2, (fy + ty) / 2))); \
         document.dispatchEvent(new PointerEvent('pointermove', opts(tx, ty))); \
         document.dispatchEvent(new PointerEvent('pointerup', opts(tx, ty))); return true;",
        json!([fx, fy, tx, ty]),
    )
    .await;
}

/// Presses 签章, answers the QR the screen shows with the phone (PIN), waits for the
/// result and returns the output path the screen reports.
/// Presses 签章 until the run has started (the button hides while a run is on, or an error
/// shows). A click that lands while the app redraws can miss the moving button; the start-up
/// redraw that once caused it in CI is gone, this keeps a late one from hanging the test.
async fn press_start(d: &Driver) {
    let start = d.find("[data-testid=seal-start]").await;
    for _ in 0..3 {
        d.click(&start).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let started = d
                .exec(
                    "const b = document.querySelector('[data-testid=seal-start]'); \
                     const e = document.querySelector('[data-testid=seal-error]'); \
                     return b.hidden || !!(e && !e.hidden);",
                    json!([]),
                )
                .await;
            if started == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        eprintln!("the seal run did not start after a click: clicking again");
    }
}

async fn seal_and_answer(d: &Driver, phone: &Arc<bidkit_keystore::Phone>, lang: &str) -> PathBuf {
    press_start(d).await;
    let qr = d
        .wait_for(
            "the sign QR",
            "const img = document.querySelector('[data-testid=seal-qr]'); \
             const err = document.querySelector('[data-testid=seal-error]'); \
             if (err && !err.hidden) return {error: err.textContent}; \
             return img && img.dataset.qrText && !img.closest('[hidden]') && img.complete \
               ? {text: img.dataset.qrText, src: img.src, seconds: Number(document.querySelector('[data-testid=seal-countdown]').dataset.seconds)} : null;",
            json!([]),
        )
        .await;
    assert!(qr["error"].is_null(), "{qr}");
    d.screenshot(&format!("seal-qr-{lang}")).await;
    // The QR image shows the same text as its attribute.
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(
            qr["src"]
                .as_str()
                .unwrap()
                .trim_start_matches("data:image/png;base64,"),
        )
        .unwrap();
    let text = qr["text"].as_str().unwrap().to_owned();
    assert_eq!(
        bidkit_app::qr::decode_png(&png, "the seal QR").unwrap(),
        text
    );
    assert!((1..=120).contains(&qr["seconds"].as_u64().unwrap()), "{qr}");

    let unlock = ScanUnlock::Pin(zeroize::Zeroizing::new(PIN.to_owned()));
    let report = scan(phone.clone(), ScanOptions::new(text, unlock), &mut Quiet)
        .await
        .unwrap();
    assert_eq!(report.outcome, ScanOutcome::Approved, "{report:?}");

    let got = d
        .wait_for(
            "the seal result",
            "const r = document.querySelector('[data-testid=seal-result]'); \
             const err = document.querySelector('[data-testid=seal-error]'); \
             if (err && !err.hidden) return {error: err.textContent}; \
             if (!r || r.hidden || !r.dataset.status) return null; \
             return {status: r.dataset.status, output: r.dataset.output, \
                     phase: document.querySelector('[data-testid=seal-state]').dataset.phase, \
                     stamps: document.querySelectorAll('[data-testid=seal-result-stamp]').length, \
                     code: document.querySelector('[data-testid=seal-result-code]').textContent};",
            json!([]),
        )
        .await;
    assert!(got["error"].is_null(), "{got}");
    assert_eq!(got["status"], "valid", "{got}");
    assert_eq!(got["phase"], "done", "{got}");
    assert_eq!(got["code"], report.verification_code.as_str(), "{got}");
    assert!(got["stamps"].as_u64().unwrap() >= 1, "{got}");
    d.screenshot(&format!("seal-result-{lang}")).await;
    PathBuf::from(got["output"].as_str().unwrap())
}

fn history_has_seal(home: &Path, output: &Path) {
    let history = std::fs::read_to_string(home.join("history.jsonl")).unwrap();
    let last: Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "seal", "{last}");
    assert_eq!(last["ok"], true, "{last}");
    assert_eq!(last["files"][0], output.display().to_string(), "{last}");
}

async fn drag_seal_onto_page_one(lang: &str) {
    let mut setup = None;
    let Some(app) = AppUnderTest::start(|home| {
        let (phone, seal) = phone_with_seal(home);
        let pdf = home.join("docs").join("标书.pdf");
        std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
        write_document(&DocumentSpec::a4(2), &pdf).unwrap();
        setup = Some((phone, seal, pdf));
    })
    .await
    else {
        return;
    };
    let (phone, _seal, pdf) = setup.unwrap();
    let phone = Arc::new(phone);
    let before = std::fs::read(&pdf).unwrap();
    let d = &app.driver;
    open_on_seal_screen(d, &pdf, lang).await;

    // The seal's picture and where page 1 is, in viewport coordinates.
    let geo = d
        .exec(
            "const frame = document.querySelector('[data-testid=seal-page]'); \
             frame.scrollIntoView({block: 'start'}); \
             const img = document.querySelector('[data-testid=seal-page-img]').getBoundingClientRect(); \
             const seal = document.querySelector('[data-testid=seal-choice][data-usable=true]'); \
             const pic = seal.querySelector('[data-testid=seal-choice-img]').getBoundingClientRect(); \
             return {img: [img.left, img.top, img.width, img.height], pic: [pic.left + pic.width / 2, pic.top + pic.height / 2], \
                     vh: window.innerHeight, width_pt: Number(frame.dataset.widthPt), height_pt: Number(frame.dataset.heightPt), \
                     seal_mm: Number(seal.dataset.widthMm)};",
            json!([]),
        )
        .await;
    let f = |v: &Value| v.as_f64().unwrap();
    let img: Vec<f64> = geo["img"].as_array().unwrap().iter().map(f).collect();
    let pic: Vec<f64> = geo["pic"].as_array().unwrap().iter().map(f).collect();
    assert!((f(&geo["seal_mm"]) - SEAL_MM).abs() < 0.01, "{geo}");
    let (width_pt, height_pt) = (f(&geo["width_pt"]), f(&geo["height_pt"]));
    // A spot at 30 % across and 25 % down the page (kept inside the viewport).
    let tx = (img[0] + 0.3 * img[2]).round();
    let ty = (img[1] + 0.25 * img[3]).min(f(&geo["vh"]) - 40.0).round();
    drag(d, (pic[0], pic[1]), (tx, ty)).await;
    let overlay = d
        .wait_for(
            "the seal on the page",
            "const o = document.querySelector('[data-testid=seal-overlay]'); \
             if (!o) return null; const r = o.getBoundingClientRect(); \
             const f = o.parentElement.getBoundingClientRect(); \
             return {x: Number(o.dataset.x), y: Number(o.dataset.y), w: r.width / f.width};",
            json!([]),
        )
        .await;
    // Where the pointer was released, as fractions of the page image.
    let (fx, fy) = ((tx - img[0]) / img[2], (ty - img[1]) / img[3]);
    assert!((f(&overlay["x"]) - fx).abs() < 0.01, "{overlay} vs {fx}");
    assert!((f(&overlay["y"]) - fy).abs() < 0.01, "{overlay} vs {fy}");
    // Drawn at true size: 40 mm of a 210 mm wide page.
    let true_w = SEAL_MM * PT_PER_MM / width_pt;
    assert!(
        (f(&overlay["w"]) - true_w).abs() < 0.01,
        "{overlay} vs {true_w}"
    );
    d.screenshot(&format!("seal-dragged-{lang}")).await;

    let out = seal_and_answer(d, &phone, lang).await;
    assert_eq!(out, pdf.with_file_name("标书-sealed.pdf"));
    assert_eq!(std::fs::read(&pdf).unwrap(), before, "the input changed");

    // The verifier on the file: one valid signature, one stamp on page 1, centred where
    // the seal was dropped (PDF user space, origin bottom-left), 40 mm wide and high.
    let report = reference_report(&app.home, &out);
    assert_eq!(doc_status(&report.verdict), "valid", "{:?}", report.verdict);
    assert_eq!(report.signatures.len(), 1);
    let stamps = &report.signatures[0].stamps;
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    assert_eq!(stamps[0].page, Some(1));
    let rect = stamps[0].rect_pt.unwrap();
    let (cx, cy) = rect.centre();
    let (want_x, want_y) = (fx * width_pt, (1.0 - fy) * height_pt);
    assert!(
        (cx - want_x).abs() < 3.0 && (cy - want_y).abs() < 3.0,
        "stamp centre ({cx:.1}, {cy:.1}) pt, dropped at ({want_x:.1}, {want_y:.1}) pt"
    );
    let side = SEAL_MM * PT_PER_MM;
    assert!(
        (rect.width() - side).abs() < 0.5 && (rect.height() - side).abs() < 0.5,
        "{rect:?} is not {side:.1} pt square"
    );
    history_has_seal(&app.home, &out);
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn drag_the_seal_onto_page_one_and_seal_at_that_spot_zh() {
    drag_seal_onto_page_one("zh").await;
}

#[tokio::test(flavor = "current_thread")]
async fn drag_the_seal_onto_page_one_and_seal_at_that_spot_en() {
    drag_seal_onto_page_one("en").await;
}

#[tokio::test(flavor = "current_thread")]
async fn seam_seal_over_every_page() {
    let mut setup = None;
    let Some(app) = AppUnderTest::start(|home| {
        let (phone, _) = phone_with_seal(home);
        let pdf = home.join("docs").join("bid.pdf");
        std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
        write_document(&DocumentSpec::a4(4), &pdf).unwrap();
        setup = Some((phone, pdf));
    })
    .await
    else {
        return;
    };
    let (phone, pdf) = setup.unwrap();
    let phone = Arc::new(phone);
    let d = &app.driver;
    open_on_seal_screen(d, &pdf, "zh").await;
    let seam = d.find("[data-testid=seal-mode-seam]").await;
    d.click(&seam).await;
    d.wait_for(
        "the seam preview",
        "return !!document.querySelector('[data-testid=seal-seam]');",
        json!([]),
    )
    .await;
    d.screenshot("seal-seam-zh").await;
    let out = seal_and_answer(d, &phone, "seam-zh").await;
    let report = reference_report(&app.home, &out);
    assert_eq!(doc_status(&report.verdict), "valid", "{:?}", report.verdict);
    assert_eq!(report.signatures.len(), 1);
    let mut pages: Vec<usize> = report.signatures[0]
        .stamps
        .iter()
        .filter_map(|s| s.page)
        .collect();
    pages.sort_unstable();
    assert_eq!(pages, vec![1, 2, 3, 4]);
    // Each slice sits on the right edge, a quarter of the seal wide.
    for s in &report.signatures[0].stamps {
        let r = s.rect_pt.unwrap();
        assert!((r.x1 - 595.0).abs() < 2.0, "{r:?}");
        assert!((r.width() - SEAL_MM * PT_PER_MM / 4.0).abs() < 0.5, "{r:?}");
    }
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn keyword_hits_are_shown_and_the_stamp_lies_over_the_keyword() {
    let mut setup = None;
    let Some(app) = AppUnderTest::start(|home| {
        let (phone, _) = phone_with_seal(home);
        let pdf = home.join("docs").join("bid.pdf");
        std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
        bidkit_pdf::generate::a4_document_with_keywords(&pdf, 3, &[3], KEYWORD).unwrap();
        setup = Some((phone, pdf));
    })
    .await
    else {
        return;
    };
    let (phone, pdf) = setup.unwrap();
    let phone = Arc::new(phone);
    let d = &app.driver;
    open_on_seal_screen(d, &pdf, "zh").await;
    let mode = d.find("[data-testid=seal-mode-keyword]").await;
    d.click(&mode).await;

    // A keyword that is not there: the coded error on the screen.
    let input = d.find("[data-testid=seal-keyword]").await;
    d.type_into(&input, "不存在的关键字").await;
    let find = d.find("[data-testid=seal-keyword-find]").await;
    d.click(&find).await;
    let err = d
        .wait_for(
            "keyword not found",
            "const e = document.querySelector('[data-testid=seal-error]'); \
             return e && !e.hidden ? {code: e.dataset.code, text: e.textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(err["code"], "keyword_not_found", "{err}");
    assert!(err["text"].as_str().unwrap().contains("找不到"), "{err}");

    d.type_into(&input, KEYWORD).await;
    d.click(&find).await;
    let hit = d
        .wait_for(
            "the keyword highlighted",
            "const h = document.querySelector('[data-testid=seal-hit]'); \
             if (!h) return null; \
             return {page: Number(h.dataset.page), chosen: h.dataset.chosen, \
                     shown: Number(document.querySelector('[data-testid=seal-page]').dataset.page), \
                     preview: !!document.querySelector('[data-testid=seal-preview]')};",
            json!([]),
        )
        .await;
    assert_eq!(hit["page"], 3, "{hit}");
    assert_eq!(hit["shown"], 3, "{hit}");
    assert_eq!(hit["chosen"], "true", "{hit}");
    assert_eq!(hit["preview"], true, "{hit}");
    d.screenshot("seal-keyword-zh").await;

    let out = seal_and_answer(d, &phone, "keyword-zh").await;
    let report = reference_report(&app.home, &out);
    assert_eq!(doc_status(&report.verdict), "valid", "{:?}", report.verdict);
    let stamps = &report.signatures[0].stamps;
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    assert_eq!(stamps[0].page, Some(3));
    let hits = bidkit_pdf::text::find_text(&pdf, KEYWORD).unwrap();
    let (kx, ky) = hits[0].rect.centre();
    let r = stamps[0].rect_pt.unwrap();
    assert!(
        r.x0 <= kx && kx <= r.x1 && r.y0 <= ky && ky <= r.y1,
        "the stamp {r:?} does not cover the keyword at ({kx}, {ky})"
    );
    let (cx, cy) = r.centre();
    assert!(
        (cx - kx).abs() < 1.0 && (cy - ky).abs() < 1.0,
        "{r:?} vs ({kx}, {ky})"
    );
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_refusal_on_the_phone_shows_the_coded_error_and_writes_nothing() {
    use bidkit_app::scan::Decision;
    let mut setup = None;
    let Some(app) = AppUnderTest::start(|home| {
        let (phone, _) = phone_with_seal(home);
        let pdf = home.join("docs").join("bid.pdf");
        std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
        write_document(&DocumentSpec::a4(3), &pdf).unwrap();
        setup = Some((phone, pdf));
    })
    .await
    else {
        return;
    };
    let (phone, pdf) = setup.unwrap();
    let phone = Arc::new(phone);
    let d = &app.driver;
    open_on_seal_screen(d, &pdf, "zh").await;

    // Sealing without a position first: the screen asks for the drag.
    let start = d.find("[data-testid=seal-start]").await;
    d.click(&start).await;
    let err = d
        .wait_for(
            "the missing position",
            "const e = document.querySelector('[data-testid=seal-error]'); \
             return e && !e.hidden ? e.dataset.code : null;",
            json!([]),
        )
        .await;
    assert_eq!(err, "seal-no-position");

    // Every page, then the phone refuses.
    let all = d.find("[data-testid=seal-mode-all]").await;
    d.click(&all).await;
    let geo = d
        .exec(
            "const img = document.querySelector('[data-testid=seal-page-img]').getBoundingClientRect(); \
             const pic = document.querySelector('[data-testid=seal-choice-img]').getBoundingClientRect(); \
             return [pic.left + pic.width / 2, pic.top + pic.height / 2, img.left + img.width * 0.7, Math.min(img.top + img.height * 0.2, window.innerHeight - 40)];",
            json!([]),
        )
        .await;
    let g: Vec<f64> = geo
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    drag(d, (g[0], g[1]), (g[2], g[3])).await;
    press_start(d).await;
    let text = d
        .wait_for(
            "the sign QR",
            "const img = document.querySelector('[data-testid=seal-qr]'); \
             return img && img.dataset.qrText && !img.closest('[hidden]') ? img.dataset.qrText : null;",
            json!([]),
        )
        .await;
    let mut opts = ScanOptions::new(text.as_str().unwrap(), ScanUnlock::None);
    opts.decision = Decision::Refuse;
    let report = scan(phone.clone(), opts, &mut Quiet).await.unwrap();
    assert_ne!(report.outcome, ScanOutcome::Approved, "{report:?}");
    let got = d
        .wait_for(
            "the refusal",
            "const e = document.querySelector('[data-testid=seal-error]'); \
             const s = document.querySelector('[data-testid=seal-state]'); \
             return e && !e.hidden && s.dataset.phase === 'failed' ? {code: e.dataset.code, text: e.textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(got["code"], "user-refused", "{got}");
    assert!(got["text"].as_str().unwrap().contains("拒绝"), "{got}");
    assert!(!pdf.with_file_name("bid-sealed.pdf").exists());
    let history = std::fs::read_to_string(app.home.join("history.jsonl")).unwrap();
    let last: Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "seal", "{last}");
    assert_eq!(last["ok"], false, "{last}");
    assert_eq!(last["error"], "user-refused", "{last}");
    app.quit().await;
}
