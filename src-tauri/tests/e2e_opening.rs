//! End-to-end test of the **real app**'s 开标 screen (agent mode): the bids before
//! decryption, decrypt by the bidder's scan, the decrypted bid's verification, the opening
//! record confirmed by the bidder's scan and sealed by the agent's scan. The phones are the
//! crates' emulated phones answering the QR text the app shows (`data-qr-text`); every
//! result is checked on the FILES with the crates (byte equality, the PDF verifier, the
//! record's text and data file), not only in the DOM. See e2e.rs for the harness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use support::*;

/// The QR text of the scan panel once it is shown for `task` and differs from `previous`.
async fn scan_qr(d: &Driver, task: &str, previous: &str) -> String {
    d.wait_for(
        &format!("the {task} QR code"),
        "const box = document.querySelector('[data-testid=opening-scan]'); \
         const img = document.querySelector('[data-testid=opening-qr]'); \
         const err = document.querySelector('[data-testid=opening-job-error]'); \
         if (err && !err.hidden && err.textContent) return 'ERROR: ' + err.textContent; \
         return box && !box.hidden && box.dataset.task === arguments[0] && img.dataset.qrText \
           && img.dataset.qrText !== arguments[1] && !img.closest('[hidden]') \
           && img.src.startsWith('data:image/png;base64,') ? img.dataset.qrText : null;",
        json!([task, previous]),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

async fn scroll_to(d: &Driver, testid: &str) {
    d.exec(
        "const e = document.querySelector(`[data-testid=${arguments[0]}]`); \
         if (e) e.scrollIntoView({block: 'start'}); return true;",
        json!([testid]),
    )
    .await;
}

/// The text of a PDF: `pdftotext` when installed, else `None`.
fn pdf_text(pdf: &Path) -> Option<String> {
    let tool = on_path("pdftotext")?;
    let out = Command::new(tool).arg(pdf).arg("-").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "current_thread")]
async fn opening_decrypts_by_scan_and_seals_the_record() {
    let mut fixture = None;
    let Some(app) = AppUnderTest::start(|home| {
        let work = home.parent().unwrap().join("work");
        fixture = Some(opening_fixture(home, &work));
    })
    .await
    else {
        return;
    };
    let fx = fixture.unwrap();
    let d = &app.driver;
    let home = app.home.clone();

    // What the crates say about the bids before decryption.
    let status = bidkit_app::opening::load_bids(&bidkit_app::opening::OpeningOptions {
        inputs: vec![fx.bids.clone()],
        tender_id: Some(fx.tender_id.clone()),
        trust: bidkit_app::session::TrustRoots::HomeCa,
        home: home.clone(),
        now: OffsetDateTime::now_utc(),
    })
    .unwrap();
    let ours = status.decryptable(&fx.bidder_uscc).unwrap().clone();
    assert!(ours.submitted_at.is_some(), "{ours:?}");

    // 1. Load the tender and the bid directory.
    // The shell is up (its first app_info answered) before the tab is chosen.
    d.wait_for(
        "the app to start",
        "const v = document.querySelector('[data-testid=version]'); \
         return v && v.textContent !== 'v…' && !!document.querySelector('[data-testid=opening-tender]');",
        json!([]),
    )
    .await;
    let tab = d.find("[data-testid=tab-opening]").await;
    d.click(&tab).await;
    d.wait_for(
        "the opening screen",
        "const s = document.getElementById('screen-opening'); \
         return s && !s.hidden && s.getBoundingClientRect().height > 0;",
        json!([]),
    )
    .await;
    d.screenshot("opening-idle-zh").await;
    let tender = d.find("[data-testid=opening-tender]").await;
    d.type_into(&tender, &fx.tender.display().to_string()).await;
    let bids = d.find("[data-testid=opening-bids]").await;
    d.type_into(&bids, &fx.bids.display().to_string()).await;
    let load = d.find("[data-testid=opening-load]").await;
    d.click(&load).await;
    let rows = d
        .wait_for(
            "the bids before decryption",
            "const rows = [...document.querySelectorAll('[data-testid=opening-bid]')]; \
             const err = document.querySelector('[data-testid=opening-error]'); \
             if (err && !err.hidden) return {error: err.textContent}; \
             return rows.length === 2 ? {tender: document.querySelector('[data-testid=opening-tender-id]').textContent, \
               rows: rows.map((r) => ({state: r.dataset.state, uscc: r.dataset.uscc, integrity: r.dataset.integrity, \
                 file: r.dataset.file, pill: r.querySelector('[data-testid=opening-bid-state]').textContent, \
                 submitted: r.querySelector('[data-testid=opening-bid-submitted]').textContent, \
                 bidder: r.querySelector('[data-testid=opening-bid-bidder]').textContent, \
                 decrypt: !!r.querySelector('[data-testid=opening-decrypt]')}))} : null;",
            json!([]),
        )
        .await;
    assert!(rows.get("error").is_none(), "{rows}");
    assert_eq!(rows["tender"], fx.tender_id.as_str(), "{rows}");
    let list = rows["rows"].as_array().unwrap();
    let bid = list.iter().find(|r| r["file"] == "bid.bid").unwrap();
    let broken = list.iter().find(|r| r["file"] == "broken.bid").unwrap();
    assert_eq!(bid["state"], "ok", "{rows}");
    assert_eq!(bid["pill"], "可开启", "{rows}");
    assert_eq!(bid["integrity"], "intact", "{rows}");
    assert_eq!(bid["uscc"], fx.bidder_uscc.as_str(), "{rows}");
    assert!(
        bid["bidder"].as_str().unwrap().contains(OPENING_BIDDER_ORG),
        "{rows}"
    );
    assert_ne!(bid["submitted"], "无回执", "{rows}");
    assert_eq!(bid["decrypt"], true, "{rows}");
    assert_eq!(broken["state"], "problem", "{rows}");
    assert_eq!(broken["integrity"], "unreadable", "{rows}");
    assert_eq!(broken["decrypt"], false, "{rows}");
    scroll_to(d, "opening-bids-card").await;
    d.screenshot("opening-bids-zh").await;

    // 2. Decrypt: the bidder's phone answers the decrypt QR code.
    let decrypt = d
        .find(&format!(
            "[data-testid=opening-decrypt][data-uscc='{}']",
            fx.bidder_uscc
        ))
        .await;
    d.click(&decrypt).await;
    let qr = scan_qr(d, "decrypt", "").await;
    assert!(qr.starts_with("BK1:"), "{qr}");
    scroll_to(d, "opening-scan").await;
    d.screenshot("opening-decrypt-qr-zh").await;
    let report = opening_answer(fx.bidder.clone(), &qr, &fx.bidder_uscc, OPENING_BIDDER_PIN).await;
    let shown = d
        .wait_for(
            "the decrypted bid",
            "const c = document.querySelector('[data-testid=opening-decrypted]'); \
             const s = document.querySelector('[data-testid=opening-scan]'); \
             if (s && s.dataset.phase === 'failed') return {failed: document.querySelector('[data-testid=opening-job-error]').textContent}; \
             return c && !c.hidden && c.dataset.status ? {status: c.dataset.status, pdf: c.dataset.pdf, \
               code: document.querySelector('[data-testid=opening-dec-code]').textContent, \
               price: document.querySelector('[data-testid=opening-dec-price]').textContent, \
               sigs: Number(document.querySelector('[data-testid=opening-dec-signatures]').dataset.count), \
               pages: document.querySelectorAll('[data-testid=opening-dec-pages-page]').length, \
               phase: s.dataset.phase} : null;",
            json!([]),
        )
        .await;
    assert!(shown.get("failed").is_none(), "{shown}");
    assert_eq!(shown["status"], "valid", "{shown}");
    assert_eq!(shown["phase"], "done", "{shown}");
    assert_eq!(shown["code"], report.verification_code.as_str(), "{shown}");
    assert!(shown["pages"].as_u64().unwrap() >= 1, "{shown}");
    // The decrypted file is the sealed PDF, byte for byte, and verifies.
    let out = PathBuf::from(shown["pdf"].as_str().unwrap());
    // A bid package: extracted into opened/USCC/ (bid.pdf, manifest.json).
    assert_eq!(
        out,
        fx.bids.join("opened").join(&fx.bidder_uscc).join("bid.pdf")
    );
    assert_eq!(shown["price"], OPENING_PRICE, "{shown}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&fx.sealed_pdf).unwrap()
    );
    let verified = reference_report(&home, &out);
    assert_eq!(verified.verdict, DocumentVerdict::Valid, "{verified:?}");
    assert_eq!(
        shown["sigs"].as_u64().unwrap(),
        verified.signatures.len() as u64
    );
    assert!(
        fx.bids
            .join("opened")
            .join(format!("{}.opened.json", fx.bidder_uscc))
            .is_file()
    );
    scroll_to(d, "opening-decrypted").await;
    d.screenshot("opening-decrypted-zh").await;
    // The table now shows the bid as decrypted.
    d.wait_for(
        "the bid shown as decrypted",
        "return [...document.querySelectorAll('[data-testid=opening-bid]')].some((r) => r.dataset.state === 'opened');",
        json!([]),
    )
    .await;

    // 3. The opening record.
    let make = d.find("[data-testid=opening-record-make]").await;
    d.click(&make).await;
    let rec = d
        .wait_for(
            "the opening record",
            "const r = document.querySelector('[data-testid=opening-record]'); \
             const err = document.querySelector('[data-testid=opening-error]'); \
             if (err && !err.hidden) return {error: err.textContent}; \
             return r && r.dataset.path ? {path: r.dataset.path, sha256: r.dataset.sha256, status: r.dataset.status, \
               rows: document.querySelectorAll('[data-testid=opening-record-row]').length, \
               preview: document.querySelectorAll('[data-testid=opening-record-preview-page]').length, \
               seals: document.querySelectorAll('[data-testid=opening-seal-select] option').length} : null;",
            json!([]),
        )
        .await;
    assert!(rec.get("error").is_none(), "{rec}");
    let record = PathBuf::from(rec["path"].as_str().unwrap());
    assert!(record.is_file(), "{rec}");
    assert_eq!(rec["status"], "no_signatures", "{rec}");
    assert_eq!(rec["rows"], 2, "{rec}");
    assert!(rec["preview"].as_u64().unwrap() >= 1, "{rec}");
    assert!(rec["seals"].as_u64().unwrap() >= 1, "{rec}");
    let data: Value = serde_json::from_slice(
        &std::fs::read(record.with_file_name("opening-record.record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(data["format"], "bidkit-opening-record/1");
    assert_eq!(
        data["record"]["bids"][0]["bidder_uscc"],
        fx.bidder_uscc.as_str()
    );
    assert_eq!(data["record"]["bids"][0]["state"], "已开启 / opened");
    assert_eq!(data["record"]["bids"][0]["quoted_price"], OPENING_PRICE);
    match pdf_text(&record) {
        Some(text) => {
            assert!(text.contains(OPENING_BIDDER_ORG), "{text}");
            assert!(text.contains(&fx.bidder_uscc), "{text}");
            assert!(text.contains(OPENING_PRICE), "{text}");
        }
        None => {
            eprintln!("pdftotext not installed: the record's text is checked in its data file only")
        }
    }
    scroll_to(d, "opening-record-card").await;
    d.screenshot("opening-record-zh").await;

    // 4. The bidder confirms the record by scan.
    let confirm = d
        .find(&format!(
            "[data-testid=opening-confirm][data-uscc='{}']",
            fx.bidder_uscc
        ))
        .await;
    d.click(&confirm).await;
    let qr2 = scan_qr(d, "confirm", &qr).await;
    opening_answer(fx.bidder.clone(), &qr2, &fx.bidder_uscc, OPENING_BIDDER_PIN).await;
    d.wait_for(
        "the bidder's confirmation",
        "const s = document.querySelector('[data-testid=opening-scan]'); \
         if (s && s.dataset.phase === 'failed') return document.querySelector('[data-testid=opening-job-error]').textContent; \
         return !!document.querySelector(`[data-testid=opening-record-confirmation][data-valid=true][data-uscc='${arguments[0]}']`);",
        json!([fx.bidder_uscc]),
    )
    .await;
    let confirmation =
        record.with_file_name(format!("opening-record.confirm-{}.json", fx.bidder_uscc));
    assert!(confirmation.is_file());

    // 5. The agent seals the record: the agent's phone answers the seal QR code.
    let id = d.find("[data-testid=opening-seal-id]").await;
    d.type_into(&id, &fx.agent_seal_id.to_string()).await;
    let seal = d.find("[data-testid=opening-seal-record]").await;
    d.click(&seal).await;
    let qr3 = scan_qr(d, "seal", &qr2).await;
    scroll_to(d, "opening-scan").await;
    d.screenshot("opening-seal-qr-zh").await;
    let sealed_scan =
        opening_answer(fx.agent.clone(), &qr3, &fx.agent_uscc, OPENING_AGENT_PIN).await;
    let sealed = d
        .wait_for(
            "the sealed record",
            "const s = document.querySelector('[data-testid=opening-scan]'); \
             if (s && s.dataset.phase === 'failed') return {failed: document.querySelector('[data-testid=opening-job-error]').textContent}; \
             const r = document.querySelector('[data-testid=opening-record-sealed]'); \
             return r && r.dataset.status ? {path: r.dataset.path, status: r.dataset.status, \
               code: document.querySelector('[data-testid=opening-sealed-code]').textContent, \
               confirmations: [...r.querySelectorAll('[data-testid=opening-sealed-confirmation]')].map((c) => c.dataset.valid), \
               preview: r.querySelectorAll('[data-testid=opening-sealed-preview-page]').length, \
               boxes: r.querySelectorAll('[data-testid=opening-stamp-box]').length} : null;",
            json!([]),
        )
        .await;
    assert!(sealed.get("failed").is_none(), "{sealed}");
    assert_eq!(sealed["status"], "valid", "{sealed}");
    assert_eq!(
        sealed["code"],
        sealed_scan.verification_code.as_str(),
        "{sealed}"
    );
    assert_eq!(sealed["confirmations"], json!(["true"]), "{sealed}");
    assert!(sealed["preview"].as_u64().unwrap() >= 1, "{sealed}");
    assert!(sealed["boxes"].as_u64().unwrap() >= 1, "{sealed}");
    let sealed_path = PathBuf::from(sealed["path"].as_str().unwrap());
    assert_eq!(
        sealed_path,
        record.with_file_name("opening-record-sealed.pdf")
    );
    let check = reference_report(&home, &sealed_path);
    assert_eq!(check.verdict, DocumentVerdict::Valid, "{check:?}");
    assert_eq!(check.signatures.len(), 1);
    let signer = check.signatures[0].signer.as_ref().unwrap();
    assert!(signer.subject.contains(OPENING_AGENT_ORG), "{signer:?}");
    // The bidder's confirmation still holds for the sealed record.
    let trust = bidkit_app::session::load_trust(
        &bidkit_app::session::TrustRoots::HomeCa,
        &home,
        Suite::Gm,
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let held = bidkit_app::opening::verify_confirmation(
        &confirmation,
        Some(&sealed_path),
        &trust,
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(held.record_extended, Some(true));
    if let Some(text) = pdf_text(&sealed_path) {
        assert!(text.contains(OPENING_BIDDER_ORG), "{text}");
    }
    scroll_to(d, "opening-record-sealed").await;
    d.screenshot("opening-sealed-zh").await;

    // 6. The history has the operations.
    let history = bidkit_app::history::recent(&home, 20).unwrap();
    for kind in ["open", "decrypt", "record"] {
        assert!(
            history.iter().any(|h| h.kind == kind && h.ok),
            "{kind}: {history:?}"
        );
    }

    // 7. English.
    let toggle = d.find("[data-testid=lang-toggle]").await;
    d.click(&toggle).await;
    let en = d
        .wait_for(
            "the English screen",
            "return document.documentElement.lang === 'en' ? \
               {phase: document.querySelector('[data-testid=opening-phase]').textContent, \
                pill: document.querySelector('[data-testid=opening-bid][data-state=opened] [data-testid=opening-bid-state]').textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(en["phase"], "Done", "{en}");
    assert_eq!(en["pill"], "Decrypted", "{en}");
    d.screenshot("opening-sealed-en").await;
    scroll_to(d, "opening-bids-card").await;
    d.screenshot("opening-bids-en").await;
    scroll_to(d, "opening-decrypted").await;
    d.screenshot("opening-decrypted-en").await;
    app.quit().await;
}
