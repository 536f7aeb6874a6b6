//! End-to-end test of the **real app**'s 记录 / 设置 screen (see `e2e.rs` for the
//! harness): the history the crates appended, the settings saved to `settings.json` and
//! still shown after the app restarts in the same home, the relay health check, the log
//! file under `<home>/logs`, and the diagnostics export checked as a file: a valid
//! `.tar.gz` with none of the personal data planted in the home.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::io::{Read as _, Write as _};

use bidkit_app::history::{self, HistoryEntry};
use bidkit_app::settings::Settings;
use support::*;

const MOBILE: &str = "13800000001";

/// A stand-in relay that answers `GET /healthz` with `ok` (the relay's health endpoint).
fn health_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if req.starts_with("GET /healthz ") {
                ("200 OK", "ok")
            } else {
                ("404 Not Found", "no")
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// Ends the app's WebDriver session (closing the app) and starts the app again in a new
/// session of the same tauri-driver: same home, same WebKit storage.
async fn restart(d: &Driver) -> Driver {
    let _ = d.http.delete(&d.url).send().await;
    let base = d.url.rsplit_once("/session/").unwrap().0.to_owned();
    let app = env!("CARGO_BIN_EXE_bidkit-desktop");
    let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}});
    let answer = post(&d.http, &format!("{base}/session"), &caps).await;
    let session = answer["sessionId"].as_str().unwrap().to_owned();
    let driver = Driver {
        http: d.http.clone(),
        url: format!("{base}/session/{session}"),
    };
    driver.wait_until_ready().await;
    driver
}

async fn open_records(d: &Driver) {
    d.wait_for(
        "the records screen's form",
        "return document.querySelector('[data-testid=settings-save]') && \
           document.querySelector('[data-testid=phone-pill]').dataset.state !== 'loading';",
        json!([]),
    )
    .await;
    let tab = d.find("[data-testid=tab-records]").await;
    d.click(&tab).await;
}

/// The form as the screen shows it.
const READ_FORM: &str = "const q = (id) => document.querySelector(`[data-testid=${id}]`); \
    return {nist: q('suite-nist').checked, gm: q('suite-gm').checked, server: q('relay-server').checked, \
      url: q('relay-url').value, en: q('language-en').checked, lang: document.documentElement.lang, \
      state: q('settings-state').dataset.state, save: q('settings-save').textContent};";

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.windows(n.len()).any(|w| w == n)
}

#[tokio::test(flavor = "current_thread")]
async fn records_screen_saves_settings_shows_history_and_exports_clean_diagnostics() {
    let relay_port = health_server();
    let out_dir = tempfile::tempdir().unwrap();
    let Some(mut app) = AppUnderTest::start(|home| {
        enrolled_phone(home);
        history::append(
            home,
            &HistoryEntry::now(
                "seal",
                format!("{PERSON} 盖章 bid.pdf"),
                vec![home.join("bid-sealed.pdf").display().to_string()],
                true,
            ),
        )
        .unwrap();
        history::append(
            home,
            &HistoryEntry::failed("encrypt", "加密 bid-sealed.pdf", vec![], "wrong-pin"),
        )
        .unwrap();
        // A log of an earlier run that holds personal data.
        let logs = home.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(
            logs.join("bidkit.2020-01-01.log"),
            format!(
                "2020-01-01T00:00:00Z INFO login done person={PERSON} id_number={ID_NUMBER} \
                 phone={MOBILE} file={}/bid-sealed.pdf\n",
                home.display()
            ),
        )
        .unwrap();
    })
    .await
    else {
        return;
    };
    let home = app.home.clone();
    let d = &app.driver;
    open_records(d).await;

    // --- history: newest first, with the failure's code ---------------------------------
    let rows = d
        .wait_for(
            "the history rows",
            "const rows = [...document.querySelectorAll('[data-testid=history-row]')]; \
             return rows.length >= 2 ? rows.map((r) => ({kind: r.dataset.kind, ok: r.dataset.ok, \
               error: r.dataset.error, kind_text: r.querySelector('[data-testid=history-kind]').textContent, \
               summary: r.querySelector('[data-testid=history-summary]').textContent, \
               files: r.querySelector('[data-testid=history-files]').textContent, \
               result: r.querySelector('[data-testid=history-result]').textContent, \
               time: r.querySelector('[data-testid=history-time]').textContent})) : null;",
            json!([]),
        )
        .await;
    let want = history::recent(&home, 10).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), want.len(), "{rows}");
    assert_eq!(rows[0]["kind"], "encrypt", "{rows}");
    assert_eq!(rows[0]["ok"], "false", "{rows}");
    assert_eq!(rows[0]["error"], "wrong-pin", "{rows}");
    assert_eq!(rows[0]["kind_text"], "加密", "{rows}");
    assert_eq!(rows[0]["result"], "失败（wrong-pin）", "{rows}");
    assert_eq!(rows[1]["kind"], "seal", "{rows}");
    assert_eq!(rows[1]["result"], "成功", "{rows}");
    assert_eq!(rows[1]["summary"], want[1].summary.as_str(), "{rows}");
    assert!(
        rows[1]["files"]
            .as_str()
            .unwrap()
            .contains("bid-sealed.pdf"),
        "{rows}"
    );
    assert!(
        !rows[1]["time"].as_str().unwrap().contains('T'),
        "local time: {rows}"
    );
    d.screenshot("records-history-zh-CN").await;

    // --- settings: NIST, a relay server (tested), English -------------------------------
    let form = d.exec(READ_FORM, json!([])).await;
    assert_eq!(form["gm"], true, "{form}");
    assert_eq!(form["state"], "empty", "{form}");
    let relay = format!("http://127.0.0.1:{relay_port}");
    let nist = d.find("[data-testid=suite-nist]").await;
    d.click(&nist).await;
    let server = d.find("[data-testid=relay-server]").await;
    d.click(&server).await;
    let url = d.find("[data-testid=relay-url]").await;
    d.type_into(&url, &relay).await;
    let test = d.find("[data-testid=relay-test]").await;
    d.click(&test).await;
    // WebKitWebDriver's click on this button did not always reach it right after typing
    // into the address field (the field's blur re-renders the form): press it from the
    // page when the first click left no trace.
    tokio::time::sleep(Duration::from_millis(500)).await;
    d.exec(
        "const r = document.querySelector('[data-testid=relay-test-result]'); \
         if (r.hidden) document.querySelector('[data-testid=relay-test]').click(); return true;",
        json!([]),
    )
    .await;
    let tested = d
        .wait_for(
            "the relay check",
            "const r = document.querySelector('[data-testid=relay-test-result]'); \
             return r && (r.dataset.state === 'ok' || r.dataset.state === 'error') ? \
               {state: r.dataset.state, text: r.textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(tested["state"], "ok", "{tested}");
    assert!(
        tested["text"].as_str().unwrap().contains("连接正常"),
        "{tested}"
    );
    d.screenshot("records-settings-zh-CN").await;
    let en = d.find("[data-testid=language-en]").await;
    d.click(&en).await;
    let save = d.find("[data-testid=settings-save]").await;
    d.click(&save).await;
    let saved = d
        .wait_for(
            "the settings saved and the UI in English",
            "const s = document.querySelector('[data-testid=settings-status]'); \
             return s.dataset.state && document.documentElement.lang === 'en' && \
               document.querySelector('[data-testid=settings-save]').textContent === 'Save settings' ? \
               {state: s.dataset.state, text: s.textContent, \
                tab: document.querySelector('[data-testid=tab-records]').textContent, \
                stored: localStorage.getItem('bidkit.lang')} : null;",
            json!([]),
        )
        .await;
    assert_eq!(saved["state"], "saved", "{saved}");
    assert_eq!(saved["text"], "Settings saved.", "{saved}");
    assert_eq!(saved["stored"], "en", "{saved}");
    let on_disk = Settings::load(&home).unwrap();
    assert_eq!(on_disk.suite, Suite::Nist);
    assert_eq!(on_disk.relay.as_deref(), Some(relay.as_str()));
    assert_eq!(on_disk.language, "en");
    let json: Value =
        serde_json::from_slice(&std::fs::read(Settings::path(&home)).unwrap()).unwrap();
    assert_eq!(json["suite"], "nist", "{json}");
    d.screenshot("records-settings-en").await;

    // --- the log folder and the log file ------------------------------------------------
    let logs_open = d.find("[data-testid=logs-open]").await;
    d.click(&logs_open).await;
    let logs = d
        .wait_for(
            "the log folder",
            "const p = document.querySelector('[data-testid=logs-path]'); \
             return p && !p.hidden && p.textContent ? {path: p.textContent, \
               files: [...document.querySelectorAll('[data-testid=logs-file]')].map((f) => f.textContent)} : null;",
            json!([]),
        )
        .await;
    assert_eq!(
        logs["path"],
        home.join("logs").display().to_string(),
        "{logs}"
    );
    let today = {
        let d = OffsetDateTime::now_utc().date();
        format!(
            "bidkit.{:04}-{:02}-{:02}.log",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    };
    assert!(
        logs["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == today.as_str()),
        "{logs}"
    );
    let log = std::fs::read_to_string(home.join("logs").join(&today)).unwrap();
    assert!(log.contains("bidkit-desktop starting"), "{log}");
    assert!(log.contains("command=\"settings_save\""), "{log}");
    assert!(log.contains("command end"), "{log}");

    // --- the diagnostics export ---------------------------------------------------------
    let target = out_dir.path().join("diag.tar.gz");
    let input = d.find("[data-testid=diag-path]").await;
    d.type_into(&input, &target.display().to_string()).await;
    let export = d.find("[data-testid=diag-export]").await;
    d.click(&export).await;
    let done = d
        .wait_for(
            "the diagnostics export",
            "const r = document.querySelector('[data-testid=diag-result]'); \
             const e = document.querySelector('[data-testid=diag-error]'); \
             return !e.hidden ? {state: 'error', text: e.textContent} : \
               r.dataset.state === 'ok' ? {state: 'ok', path: r.dataset.path, size: Number(r.dataset.size), text: r.textContent} : null;",
            json!([]),
        )
        .await;
    assert_eq!(done["state"], "ok", "{done}");
    assert_eq!(done["path"], target.display().to_string(), "{done}");
    d.screenshot("records-diagnostics-en").await;
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(bytes.len() as f64, done["size"].as_f64().unwrap(), "{done}");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut plain)
        .unwrap();
    let mut names = Vec::new();
    let mut texts = String::new();
    let mut archive = tar::Archive::new(plain.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        names.push(entry.path().unwrap().display().to_string());
        entry.read_to_string(&mut texts).unwrap();
    }
    assert!(
        names.contains(&"bidkit-diagnostics/summary.json".to_owned()),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n == "bidkit-diagnostics/logs/bidkit.2020-01-01.log"),
        "{names:?}"
    );
    assert!(texts.contains("\"suite\": \"nist\""), "{texts}");
    assert!(texts.contains("login done person=<name>"), "{texts}");
    let keystore = bidkit_keystore::Home::new(&home, bidkit_keystore::KeystoreConfig::default());
    let status = keystore.existing_phone("phone").unwrap().status().unwrap();
    let serial = status.certificates[0].certificate.signing_serial.clone();
    let home_text = home.display().to_string();
    for planted in [
        PERSON,
        ID_NUMBER,
        MOBILE,
        serial.as_str(),
        home_text.as_str(),
        "盖章",
    ] {
        assert!(!contains(&bytes, planted), "{planted} in the gzip bytes");
        assert!(!contains(&plain, planted), "{planted} in the archive");
    }

    // --- a restart in the same home shows the saved settings -----------------------------
    app.driver = restart(&app.driver).await;
    let d = &app.driver;
    open_records(d).await;
    let form = d
        .wait_for(
            "the saved settings after the restart",
            &format!(
                "const f = (() => {{ {READ_FORM} }})(); return f.state === 'enrolled' ? f : null;"
            ),
            json!([]),
        )
        .await;
    assert_eq!(form["nist"], true, "{form}");
    assert_eq!(form["server"], true, "{form}");
    assert_eq!(form["url"], relay.as_str(), "{form}");
    assert_eq!(form["en"], true, "{form}");
    assert_eq!(form["lang"], "en", "{form}");
    d.screenshot("records-history-en").await;

    // Back to Chinese from the form; the file follows.
    let zh = d.find("[data-testid=language-zh-CN]").await;
    d.click(&zh).await;
    let save = d.find("[data-testid=settings-save]").await;
    d.click(&save).await;
    d.wait_for(
        "the UI in Chinese",
        "return document.documentElement.lang === 'zh-CN' && \
           document.querySelector('[data-testid=settings-status]').dataset.state === 'saved';",
        json!([]),
    )
    .await;
    assert_eq!(Settings::load(&home).unwrap().language, "zh-CN");
    // The header's toggle is a language choice too.
    let toggle = d.find("[data-testid=lang-toggle]").await;
    d.click(&toggle).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Settings::load(&home).unwrap().language != "en" {
        assert!(
            Instant::now() < deadline,
            "the toggle did not reach settings.json"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.wait_for(
        "the UI in English",
        "return document.documentElement.lang === 'en';",
        json!([]),
    )
    .await;
    d.click(&toggle).await;
    // The language change redraws every label and moves the buttons: a click sent before
    // it has finished lands where the button was.
    d.wait_for(
        "the UI in Chinese",
        "return document.documentElement.lang === 'zh-CN';",
        json!([]),
    )
    .await;
    let logs_open = d.find("[data-testid=logs-open]").await;
    d.click(&logs_open).await;
    d.wait_for(
        "the log folder in Chinese",
        "return document.documentElement.lang === 'zh-CN' && \
           !document.querySelector('[data-testid=logs-path]').hidden;",
        json!([]),
    )
    .await;
    // A second export, in Chinese, into a directory: the default file name is used.
    let input = d.find("[data-testid=diag-path]").await;
    d.type_into(&input, &out_dir.path().display().to_string())
        .await;
    let export = d.find("[data-testid=diag-export]").await;
    d.click(&export).await;
    let again = d
        .wait_for(
            "the second export",
            "const r = document.querySelector('[data-testid=diag-result]'); \
             return r.dataset.state === 'ok' && r.textContent.startsWith('已导出') ? r.dataset.path : null;",
            json!([]),
        )
        .await;
    let again = PathBuf::from(again.as_str().unwrap());
    assert_eq!(again.parent(), Some(out_dir.path()));
    assert!(
        again
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("bidkit-diagnostics-"),
        "{}",
        again.display()
    );
    assert!(std::fs::metadata(&again).unwrap().len() > 100);
    d.screenshot("records-diagnostics-zh-CN").await;
    assert_eq!(Settings::load(&home).unwrap().suite, Suite::Nist);
    app.quit().await;
}

#[tokio::test(flavor = "current_thread")]
async fn saved_language_wins_over_a_fresh_webview_at_start() {
    let Some(app) = AppUnderTest::start(|home| {
        Settings {
            relay: None,
            suite: Suite::Nist,
            language: "en".into(),
        }
        .save(home)
        .unwrap();
    })
    .await
    else {
        return;
    };
    let d = &app.driver;
    // The WebView's storage is new (zh-CN by default); settings.json says English.
    let got = d
        .wait_for(
            "the UI in the saved language",
            "return document.documentElement.lang === 'en' && \
               document.querySelector('[data-testid=tab-records]').textContent !== '记录 / 设置' ? \
               {tab: document.querySelector('[data-testid=tab-records]').textContent, \
                stored: localStorage.getItem('bidkit.lang')} : null;",
            json!([]),
        )
        .await;
    assert_eq!(got["stored"], "en", "{got}");
    open_records(d).await;
    let form = d
        .wait_for(
            "the saved settings",
            &format!(
                "const f = (() => {{ {READ_FORM} }})(); return f.state === 'enrolled' ? f : null;"
            ),
            json!([]),
        )
        .await;
    assert_eq!(form["nist"], true, "{form}");
    assert_eq!(form["server"], false, "{form}");
    assert_eq!(form["en"], true, "{form}");
    // Nothing was rewritten.
    let s = Settings::load(&app.home).unwrap();
    assert_eq!((s.suite, s.language.as_str()), (Suite::Nist, "en"));
    app.quit().await;
}
