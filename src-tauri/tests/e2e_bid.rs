//! End-to-end tests of the bid screens in the real app (tauri-driver + WebKitWebDriver
//! under Xvfb): 投标文件 (import a tender package, fill a bid project, build, checklist
//! with a recorded override) and 加密/递交/撤标 (encrypt with two scans answered by the
//! enrolled phone, submit, withdraw). Every test asserts on the files the app wrote
//! (the built PDF's pages and bookmarks, `checklist.json`, the bid file's inspection,
//! the decrypted bytes, the signed receipt and withdrawal), not only on the DOM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;
use support::*;

use bidkit_app::bid_view::bidkit_tender::{self, Checklist, ItemKind, ItemStatus, TenderPackage};

/// Types `text` into the input with `data-testid=testid`.
async fn fill(d: &Driver, testid: &str, text: &str) {
    let e = d.find(&format!("[data-testid={testid}]")).await;
    d.type_into(&e, text).await;
}

/// Clicks the element with `data-testid=testid`.
async fn press(d: &Driver, testid: &str) {
    let e = d.find(&format!("[data-testid={testid}]")).await;
    d.click(&e).await;
}

/// Fails with the screen's error text if it shows one.
async fn no_error(d: &Driver, testid: &str) {
    let e = d
        .exec(
            "const e = document.querySelector(`[data-testid=${arguments[0]}]`); \
             return e && !e.hidden ? e.textContent : null;",
            json!([testid]),
        )
        .await;
    assert!(e.is_null(), "the screen shows an error: {e}");
}

/// Reads the QR the submit screen shows (its `data-qr-text`) once it differs from
/// `previous` and belongs to operation `op`; fails with the screen's error if it shows one.
async fn app_qr_text(d: &Driver, op: &str, previous: &str) -> String {
    let v = d
        .wait_for(
            &format!("the {op} QR code"),
            "const e = document.querySelector('[data-testid=sub-error]'); \
             if (e && !e.hidden) return {error: e.textContent + ' ' + e.title}; \
             const img = document.querySelector('[data-testid=sub-qr]'); \
             return img && !img.hidden && img.dataset.op === arguments[0] && img.dataset.qrText \
               && img.dataset.qrText !== arguments[1] ? {text: img.dataset.qrText} : null;",
            json!([op, previous]),
        )
        .await;
    assert!(v.get("error").is_none(), "{v}");
    v["text"].as_str().unwrap().to_owned()
}

/// Waits until the app is ready (screens built, phone status read), then opens the
/// screen `id` and waits until it shows.
async fn open_screen(d: &Driver, id: &str, probe: &str) {
    d.wait_for(
        "the app to be ready",
        "return !!document.querySelector(`[data-testid=${arguments[0]}]`) && \
           document.querySelector('[data-testid=phone-pill]').dataset.state !== 'loading';",
        json!([probe]),
    )
    .await;
    press(d, &format!("tab-{id}")).await;
    d.wait_for(
        "the screen",
        "return !document.getElementById(`screen-${arguments[0]}`).hidden;",
        json!([id]),
    )
    .await;
}

/// Scrolls the element with `data-testid=testid` into view (for the screenshots).
async fn scroll_to(d: &Driver, testid: &str) {
    d.exec(
        "const e = document.querySelector(`[data-testid=${arguments[0]}]`); \
         if (e) e.scrollIntoView({block: 'start'}); return true;",
        json!([testid]),
    )
    .await;
}

/// Switches the UI to English and waits until it is.
async fn to_english(d: &Driver) {
    press(d, "lang-toggle").await;
    d.wait_for(
        "English",
        "return document.documentElement.lang === 'en';",
        json!([]),
    )
    .await;
}

/// A tender package (the built-in example with a one-page tender document) and the
/// bidder's section files, in `dir`.
fn tender_and_materials(dir: &Path) -> (PathBuf, Vec<(&'static str, PathBuf)>) {
    let doc = dir.join("tender-document.pdf");
    write_document(&DocumentSpec::a4(1), &doc).unwrap();
    let pkg = dir.join("tender");
    TenderPackage::new_template(OffsetDateTime::now_utc())
        .write_package(&pkg, Some(&doc))
        .unwrap();
    let business = dir.join("business.pdf");
    write_document(&DocumentSpec::a4(2), &business).unwrap();
    let technical = dir.join("technical.md");
    std::fs::write(
        &technical,
        "# 技术标\n\n## 一、施工组织设计\n\n本工程按质量、安全、工期三大目标组织施工。\n",
    )
    .unwrap();
    let price = dir.join("price.pdf");
    write_document(&DocumentSpec::a4(1), &price).unwrap();
    (
        pkg,
        vec![
            ("business", business),
            ("technical", technical),
            ("price", price),
        ],
    )
}

#[tokio::test(flavor = "current_thread")]
async fn documents_import_tender_build_and_check_with_override() {
    let docs = tempfile::tempdir().unwrap();
    let (pkg, materials) = tender_and_materials(docs.path());
    let project = docs.path().join("project");
    let Some(app) = AppUnderTest::start(|_| {}).await else {
        return;
    };
    let d = &app.driver;
    open_screen(d, "documents", "doc-tender-path").await;

    // Import the tender package.
    fill(d, "doc-tender-path", &pkg.display().to_string()).await;
    press(d, "doc-tender-load").await;
    let t = d
        .wait_for(
            "the tender",
            "const q = (id) => document.querySelector(`[data-testid=${id}]`); \
             return q('doc-tender-id') ? {id: q('doc-tender-id').textContent, \
               name: q('doc-project-name').textContent, suite: q('doc-suite').dataset.suite, \
               deadline: q('doc-deadline').textContent, \
               sections: [...document.querySelectorAll('[data-testid=doc-req-section]')].map((s) => [s.dataset.id, s.dataset.required]), \
               seals: document.querySelectorAll('[data-testid=doc-req-seal]').length} : null;",
            json!([]),
        )
        .await;
    no_error(d, "doc-error").await;
    let want = TenderPackage::load(&pkg).unwrap().package;
    assert_eq!(t["id"], want.tender_id.as_str(), "{t}");
    assert_eq!(t["name"], want.project.name.as_str(), "{t}");
    assert_eq!(t["suite"], "gm", "{t}");
    assert!(
        t["deadline"]
            .as_str()
            .unwrap()
            .starts_with(&want.deadline.year().to_string()),
        "{t}"
    );
    let sections: Vec<(String, String)> = want
        .sections
        .iter()
        .map(|s| (s.id.clone(), s.required.to_string()))
        .collect();
    assert_eq!(t["sections"], json!(sections), "{t}");
    assert_eq!(t["seals"], want.seals.len(), "{t}");
    d.screenshot("documents-tender-zh").await;

    // A bid project from it.
    fill(d, "doc-project-dir", &project.display().to_string()).await;
    fill(d, "doc-bidder", BID_ORG).await;
    fill(d, "doc-uscc", &bid_uscc()).await;
    fill(d, "doc-price", "9876543.21").await;
    press(d, "doc-project-create").await;
    let rows = d
        .wait_for(
            "the project's sections",
            "const r = [...document.querySelectorAll('[data-testid=doc-section]')]; \
             return r.length ? r.map((s) => [s.dataset.id, s.dataset.present]) : null;",
            json!([]),
        )
        .await;
    no_error(d, "doc-error").await;
    assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
    assert!(project.join("bid.json").is_file());

    // Add one file to each required section; a wrong type is refused with a coded error.
    let wrong = docs.path().join("wrong.txt");
    std::fs::write(&wrong, "报价").unwrap();
    d.exec(
        "const s = document.querySelector('[data-testid=doc-add-section]'); s.value = 'price'; return true;",
        json!([]),
    )
    .await;
    fill(d, "doc-add-path", &wrong.display().to_string()).await;
    press(d, "doc-add").await;
    let err = d
        .wait_for(
            "the refusal",
            "const e = document.querySelector('[data-testid=doc-error]'); \
             return e && !e.hidden ? e.textContent : null;",
            json!([]),
        )
        .await;
    assert!(err.as_str().unwrap().contains('('), "{err}");
    for (section, file) in &materials {
        d.exec(
            "const s = document.querySelector('[data-testid=doc-add-section]'); s.value = arguments[0]; return true;",
            json!([section]),
        )
        .await;
        fill(d, "doc-add-path", &file.display().to_string()).await;
        press(d, "doc-add").await;
        d.wait_for(
            &format!("section {section} present"),
            "const r = document.querySelector(`[data-testid=doc-section][data-id=${arguments[0]}]`); \
             return r && r.dataset.present === 'true';",
            json!([section]),
        )
        .await;
        no_error(d, "doc-error").await;
    }
    scroll_to(d, "doc-sections").await;
    d.screenshot("documents-sections-zh").await;

    // Build, with progress events, and the preview.
    press(d, "doc-build").await;
    let b = d
        .wait_for(
            "the build",
            "const q = (id) => document.querySelector(`[data-testid=${id}]`); \
             const imgs = [...document.querySelectorAll('[data-testid=doc-preview]')]; \
             return q('doc-build-pages') && imgs.length && imgs.every((i) => i.complete && i.naturalWidth > 0) ? \
               {pages: Number(q('doc-build-pages').dataset.pages), file: q('doc-build-output').dataset.file, \
                bookmarks: Number(q('doc-build-bookmarks').dataset.count), previews: imgs.length, \
                events: Number(q('doc-build-progress').dataset.events), \
                stage: q('doc-build-progress').dataset.stage} : null;",
            json!([]),
        )
        .await;
    no_error(d, "doc-error").await;
    assert_eq!(b["stage"], "done", "{b}");
    assert!(
        b["events"].as_u64().unwrap() >= 2,
        "no progress events: {b}"
    );
    let built = PathBuf::from(b["file"].as_str().unwrap());
    assert_eq!(built, project.join("bid.pdf"));
    // The file: its pages (pdfium), its bookmarks (the checklist judges sections from
    // the PDF's outline when given no project).
    let pages = bidkit_pdf::text::page_count(&built).unwrap();
    assert_eq!(u64::from(pages), b["pages"].as_u64().unwrap(), "{b}");
    // cover + contents + business 2 + technical ≥1 + price 1
    assert!(pages >= 6, "{pages}");
    assert_eq!(
        b["previews"].as_u64().unwrap(),
        u64::from(pages.min(4)),
        "{b}"
    );
    assert_eq!(b["bookmarks"], 6, "3 sections with one file each: {b}");
    let loaded = TenderPackage::load(&pkg).unwrap();
    let by_outline = bidkit_tender::check(
        &loaded,
        None,
        Some(&built),
        &VerifyOptions::integrity_only(),
    )
    .unwrap();
    for id in ["business", "technical", "price"] {
        let item = by_outline
            .items
            .iter()
            .find(|i| i.kind == ItemKind::Section && i.id == id)
            .unwrap_or_else(|| panic!("no section item {id}: {by_outline:?}"));
        assert_eq!(item.status, ItemStatus::Ok, "{item:?}");
    }
    scroll_to(d, "doc-build-result").await;
    d.screenshot("documents-built-zh").await;

    // The checklist: the unsealed build lacks the required seals.
    press(d, "doc-check").await;
    let c = d
        .wait_for(
            "the checklist",
            "const e = document.querySelector('[data-testid=doc-error]'); \
             if (e && !e.hidden) return {error: e.textContent}; \
             const v = document.querySelector('[data-testid=doc-check-verdict]'); \
             return v && v.dataset.verdict ? {verdict: v.dataset.verdict, \
               items: [...document.querySelectorAll('[data-testid=doc-check-item]')].map((i) => [i.dataset.kind, i.dataset.id, i.dataset.status])} : null;",
            json!([]),
        )
        .await;
    assert_eq!(c["verdict"], "failed", "{c}");
    let saved = Checklist::load(&project.join("checklist.json")).unwrap();
    assert!(!saved.passed() && !saved.may_proceed());
    assert_eq!(
        c["items"].as_array().unwrap().len(),
        saved.items.len(),
        "{c}"
    );
    assert!(
        saved
            .items
            .iter()
            .any(|i| i.kind == ItemKind::Seal && i.status != ItemStatus::Ok),
        "{saved:?}"
    );
    scroll_to(d, "doc-check-result").await;
    d.screenshot("documents-check-zh").await;

    // Override, recorded in checklist.json.
    fill(d, "doc-override-reason", "印章将在递交前补盖").await;
    press(d, "doc-override").await;
    d.wait_for(
        "the override",
        "const v = document.querySelector('[data-testid=doc-check-verdict]'); \
         return v && v.dataset.verdict === 'overridden';",
        json!([]),
    )
    .await;
    let saved = Checklist::load(&project.join("checklist.json")).unwrap();
    assert!(saved.may_proceed() && !saved.passed());
    let o = saved.override_.as_ref().unwrap();
    assert_eq!(o.why, "印章将在递交前补盖");
    assert_eq!(o.who, BID_ORG);
    scroll_to(d, "doc-check-result").await;
    d.screenshot("documents-override-zh").await;

    // The build is in the history.
    let history = bidkit_app::history::recent(&app.home, 20).unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.kind == "build" && e.ok && e.files.contains(&built.display().to_string())),
        "{history:?}"
    );

    to_english(d).await;
    let v = d
        .wait_for(
            "English verdict",
            "const v = document.querySelector('[data-testid=doc-check-verdict]'); \
             return v.textContent.startsWith('Failed') ? v.textContent : null;",
            json!([]),
        )
        .await;
    assert_eq!(v, "Failed (override recorded)");
    d.exec("window.scrollTo(0, 0); return true;", json!([]))
        .await;
    d.screenshot("documents-tender-en").await;
    d.exec(
        "document.querySelector('[data-testid=doc-build-result]').scrollIntoView(); return true;",
        json!([]),
    )
    .await;
    d.screenshot("documents-built-en").await;
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn submit_encrypts_submits_and_withdraws_with_the_phone() {
    use bidkit_app::bid::{DecryptOptions, StatementKind, decrypt_bid_blocking, verify_statement};
    use bidkit_app::bid_view::{BidProgress, Forward, Verdict, inspect};
    use bidkit_app::session::{TrustRoots, load_trust};
    use bidkit_app::sign::SignOptions;
    use bidkit_keystore::CertSelector;

    let docs = tempfile::tempdir().unwrap();
    let mut setup = None;
    let Some(app) = AppUnderTest::start(|home| {
        // The sealed PDF first: its CA root (backdated five minutes) is the home's,
        // which the enrolment then uses.
        let (sealed, _) = sealed_pdf(home, docs.path());
        let phone = enrolled_org_phone(home);
        setup = Some((phone, sealed));
    })
    .await
    else {
        return;
    };
    let (phone, sealed) = setup.unwrap();
    let phone = std::sync::Arc::new(phone);
    let org = CertSelector::Organisation(bid_uscc());
    let enc_cert = phone.encryption_certificate(&org, Some(Suite::Gm)).unwrap();
    let d = &app.driver;
    open_screen(d, "submit", "sub-pdf").await;
    d.screenshot("submit-idle-zh").await;

    // Encrypt: two scans, each answered by the phone; the app shows the same codes.
    let bid = docs.path().join("bid.bid");
    fill(d, "sub-pdf", &sealed.display().to_string()).await;
    fill(d, "sub-tender-id", "ZB-2026-0001").await;
    fill(d, "sub-output", &bid.display().to_string()).await;
    press(d, "sub-encrypt").await;
    let mut previous = String::new();
    for scan_no in 1..=2 {
        let qr = app_qr_text(d, "encrypt", &previous).await;
        if scan_no == 1 {
            d.screenshot("submit-qr-zh").await;
        }
        let code = org_phone_approves(&phone, &qr).await;
        // The app showed the code the phone showed (it may already have moved on).
        let shown = d
            .exec(
                "return document.querySelector('[data-testid=sub-code]').dataset.code || \
                   (document.querySelector('[data-testid=sub-result-codes]') || {}).textContent || '';",
                json!([]),
            )
            .await;
        assert!(
            shown.as_str().unwrap().contains(&code) || shown == "",
            "{shown} vs {code}"
        );
        previous = qr;
    }
    let r = d
        .wait_for(
            "the bid file",
            "const q = (id) => document.querySelector(`[data-testid=${id}]`); \
             const v = q('sub-inspect-verdict'); const e = q('sub-error'); \
             if (e && !e.hidden) return {error: e.textContent}; \
             return q('sub-result-file') && v && v.dataset.verdict ? {file: q('sub-result-file').dataset.file, \
               verdict: v.dataset.verdict, codes: q('sub-result-codes').textContent, \
               tender: q('sub-inspect-tender').textContent, \
               recipients: [...document.querySelectorAll('[data-testid=sub-recipient]')].map((r) => r.dataset.serial), \
               done: Number(q('sub-progress').dataset.done), total: Number(q('sub-progress').dataset.total)} : null;",
            json!([]),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(r["file"], bid.display().to_string(), "{r}");
    assert_eq!(r["verdict"], "intact", "{r}");
    assert_eq!(r["tender"], "ZB-2026-0001", "{r}");
    let sealed_len = std::fs::metadata(&sealed).unwrap().len();
    assert_eq!(r["total"].as_u64(), Some(sealed_len), "{r}");
    assert_eq!(r["done"], r["total"], "{r}");
    assert_eq!(r["recipients"], json!([enc_cert.serial_hex()]), "{r}");
    d.screenshot("submit-encrypted-zh").await;
    scroll_to(d, "sub-inspect").await;
    d.screenshot("submit-inspect-zh").await;

    // The file: intact, for the tender, to the phone's organisation encryption certificate.
    let report = inspect(&bid);
    assert_eq!(report.verdict, Verdict::Intact, "{report}");
    let header = report.header.as_ref().unwrap();
    assert_eq!(header.tender_id(), "ZB-2026-0001");
    assert_eq!(header.bidder().uscc, bid_uscc());
    let recipients: Vec<&str> = header
        .recipients()
        .iter()
        .map(|r| r.certificate_serial.as_str())
        .collect();
    assert_eq!(recipients, vec![enc_cert.serial_hex()]);

    // Decrypting with the phone's key (the test is the tool here, the phone answers the
    // unwrap QR) gives the sealed PDF back, byte for byte.
    let out = docs.path().join("opened.pdf");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let opts = DecryptOptions::new(SignOptions::new(&app.home, Suite::Gm), &bid, &out);
    let decrypting = std::thread::spawn(move || {
        let mut sent = false;
        decrypt_bid_blocking(
            &opts,
            &mut Forward(move |p| {
                if let BidProgress::Qr { text, .. } = p
                    && !sent
                {
                    sent = true;
                    let _ = tx.send(text);
                }
            }),
        )
    });
    let qr = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    org_phone_approves(&phone, &qr).await;
    let decrypted = decrypting.join().unwrap().unwrap();
    assert_eq!(decrypted.output, out);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&sealed).unwrap()
    );

    // Submit: one scan; the receipt verifies and is about this bid file.
    press(d, "sub-submit").await;
    let qr = app_qr_text(d, "submit", "").await;
    org_phone_approves(&phone, &qr).await;
    let receipt = d
        .wait_for(
            "the receipt",
            "const e = document.querySelector('[data-testid=sub-error]'); \
             if (e && !e.hidden) return {error: e.textContent}; \
             const f = document.querySelector('[data-testid=sub-receipt-file]'); \
             return f ? {file: f.dataset.file, kind: document.querySelector('[data-testid=sub-receipt-kind]').dataset.kind} : null;",
            json!([]),
        )
        .await;
    assert!(receipt.get("error").is_none(), "{receipt}");
    assert_eq!(receipt["kind"], "submission-receipt", "{receipt}");
    let now = OffsetDateTime::now_utc();
    let trust = load_trust(&TrustRoots::HomeCa, &app.home, Suite::Gm, now).unwrap();
    let receipt_file = PathBuf::from(receipt["file"].as_str().unwrap());
    let v = verify_statement(&receipt_file, Some(&bid), &trust, now).unwrap();
    assert_eq!(v.kind, StatementKind::SubmissionReceipt);
    assert_eq!(v.bid_file_matches, Some(true));
    scroll_to(d, "sub-receipt").await;
    d.screenshot("submit-receipt-zh").await;

    // Withdraw: a confirmation first, then one scan.
    fill(d, "sub-withdraw-reason", "报价有误").await;
    press(d, "sub-withdraw").await;
    d.wait_for(
        "the confirmation",
        "return !document.querySelector('[data-testid=sub-withdraw-confirm]').hidden;",
        json!([]),
    )
    .await;
    scroll_to(d, "sub-withdraw-confirm").await;
    d.screenshot("submit-withdraw-confirm-zh").await;
    press(d, "sub-withdraw-yes").await;
    let qr = app_qr_text(d, "withdraw", "").await;
    org_phone_approves(&phone, &qr).await;
    let w = d
        .wait_for(
            "the withdrawal",
            "const e = document.querySelector('[data-testid=sub-error]'); \
             if (e && !e.hidden) return {error: e.textContent}; \
             const f = document.querySelector('[data-testid=sub-withdrawal-file]'); \
             return f ? {file: f.dataset.file} : null;",
            json!([]),
        )
        .await;
    assert!(w.get("error").is_none(), "{w}");
    let wv = verify_statement(
        Path::new(w["file"].as_str().unwrap()),
        Some(&bid),
        &trust,
        now,
    )
    .unwrap();
    assert_eq!(wv.kind, StatementKind::Withdrawal);
    assert_eq!(wv.statement["reason"], "报价有误", "{:?}", wv.statement);
    scroll_to(d, "sub-withdrawal").await;
    d.screenshot("submit-withdrawn-zh").await;

    // History: encrypt, submit, withdraw, all ok.
    let history = bidkit_app::history::recent(&app.home, 20).unwrap();
    for kind in ["encrypt", "submit", "withdraw"] {
        assert!(
            history.iter().any(|e| e.kind == kind && e.ok),
            "{kind}: {history:?}"
        );
    }

    to_english(d).await;
    d.wait_for(
        "English verdict",
        "return document.querySelector('[data-testid=sub-inspect-verdict]').textContent === 'Intact';",
        json!([]),
    )
    .await;
    d.exec("window.scrollTo(0, 0); return true;", json!([]))
        .await;
    d.screenshot("submit-encrypted-en").await;
    d.exec(
        "document.querySelector('[data-testid=sub-receipt]').scrollIntoView(); return true;",
        json!([]),
    )
    .await;
    d.screenshot("submit-receipt-en").await;
    app.quit().await;
}
