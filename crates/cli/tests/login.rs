//! Black-box tests of log in by scan: `bidkit login` in one process, `bidkit phone scan`
//! in another, over the login process's embedded relay, over a standalone relay, and
//! over two relay processes sharing one real redis-server. And every way it can go
//! wrong ends with a clear message on both sides and nothing signed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const USCC: &str = "91110000600037341L";
const PIN: &str = "123456";

/// A home with one enrolled phone (person + organisation) and the built binary.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        home.ok(&[
            "phone",
            "enrol",
            "--name",
            "张三",
            "--id-number",
            "11010519491231002X",
            "--phone-number",
            "13800000001",
            "--pin",
            PIN,
            "--org",
            "北京某某建设有限公司",
            "--uscc",
            USCC,
        ]);
        home
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bidkit"));
        c.args(args)
            .env("BIDKIT_HOME", self.dir.path())
            .env("BIDKIT_INSECURE_FAST_KDF", "1")
            .env_remove("BIDKIT_PIN")
            .env_remove("BIDKIT_PHONE")
            .env_remove("BIDKIT_NOW")
            .env_remove("BIDKIT_PLATFORM")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.command(&all).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "bidkit {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Start `bidkit --json login --qr-out qr.png …`; stderr is read line by line.
    fn login(&self, extra: &[&str]) -> Login {
        let qr = self.path("qr.png");
        // A previous login's (dead) code must not be mistaken for this one's.
        let _ = std::fs::remove_file(&qr);
        let mut args = vec!["--json", "login", "--qr-out", qr.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = read_lines(child.stderr.take().unwrap());
        Login {
            child,
            lines,
            stderr: Vec::new(),
            qr,
        }
    }

    /// `bidkit --json phone scan QR …`: (exit code, JSON on stdout, stderr).
    fn scan(&self, qr: &Path, extra: &[&str]) -> (i32, Value, String) {
        let mut args = vec!["phone", "scan", qr.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        parse(out)
    }

    fn records(&self, operation: &str) -> Vec<Value> {
        let v = self.ok(&["phone", "records", "--operation", operation]);
        v.as_array().unwrap().clone()
    }
}

fn parse(out: Output) -> (i32, Value, String) {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}\n{stderr}", out.stdout));
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn read_lines(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A running `bidkit login`.
struct Login {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
    qr: PathBuf,
}

impl Login {
    /// Wait (bounded) until the QR PNG exists.
    fn wait_for_qr(&mut self) -> PathBuf {
        let until = Instant::now() + Duration::from_secs(60);
        while !self.qr.exists() {
            assert!(Instant::now() < until, "no QR code after 60 s");
            self.drain(Duration::from_millis(20));
        }
        self.qr.clone()
    }

    /// Collect stderr lines for up to `wait`.
    fn drain(&mut self, wait: Duration) {
        if let Ok(line) = self.lines.recv_timeout(wait) {
            self.stderr.push(line);
            while let Ok(line) = self.lines.try_recv() {
                self.stderr.push(line);
            }
        }
    }

    /// Wait (bounded) for a stderr line containing `needle`.
    fn wait_for_line(&mut self, needle: &str) -> String {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(l) = self.stderr.iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            assert!(
                Instant::now() < until,
                "no line with {needle:?} on the tool's stderr: {:?}",
                self.stderr
            );
            self.drain(Duration::from_millis(50));
        }
    }

    /// The exit code, the JSON on stdout and all of stderr.
    fn finish(mut self) -> (i32, Value, String) {
        let out = self.child.wait_with_output().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stderr.push(line);
        }
        let (code, json, _) = parse(out);
        (code, json, self.stderr.join("\n"))
    }
}

fn code_of(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// The QR payload in a PNG (as the phone would read it).
fn payload(png: &Path) -> bidkit_protocol::qr::QrPayload {
    let text = bidkit_app::qr::read_scan_input(png.to_str().unwrap()).unwrap();
    bidkit_protocol::qr::QrPayload::parse(&text).unwrap()
}

#[test]
fn login_over_the_embedded_relay_from_another_process() {
    let home = Home::new();
    let mut login = home.login(&["--timeout", "60"]);
    let qr = login.wait_for_qr();
    let (code, phone, phone_err) = home.scan(&qr, &["--pin", PIN]);
    assert_eq!(code, 0, "{phone_err}");
    assert_eq!(phone["outcome"], "approved");
    assert_eq!(phone["purpose"], "login");
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 0, "{tool_err}");
    assert_eq!(tool["person"]["name"], "张三");
    assert_eq!(tool["person"]["id_number"], "11010519491231002X");
    assert!(tool["organisation"].is_null());
    // Both screens showed the same code; the tool printed it while waiting.
    assert_eq!(tool["verification_code"], phone["verification_code"]);
    let shown = tool["verification_code"].as_str().unwrap();
    assert!(
        tool_err.contains(&format!("verification code: {shown}")),
        "{tool_err}"
    );
    assert!(phone_err.contains(shown), "{phone_err}");
    // The certificate is the phone's person certificate, and the key use is recorded.
    let certs = home.ok(&["phone", "certs"]);
    let person_serial = certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["certificate"]["organisation"].is_null())
        .map(|c| c["installed_signing_serial"].as_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(tool["certificate_serial"], person_serial.as_str());
    assert_eq!(phone["certificate_serial"], person_serial.as_str());
    let records = home.records("login");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["result"], "ok");
    assert_eq!(records[0]["cert_serial"], person_serial.as_str());
    // The QR code was a version 6 symbol whose relay is the login process's.
    let relay = tool["relay"].as_str().unwrap();
    assert!(relay.starts_with("http://127.0.0.1:"), "{relay}");
}

#[test]
fn login_with_the_organisation_certificate_proves_the_organisation() {
    let home = Home::new();
    let login = home.login(&["--timeout", "60", "--qr-svg"]);
    // --qr-svg needs a value: the command line is refused at once.
    let (code, _, err) = {
        let out = login.child.wait_with_output().unwrap();
        (out.status.code(), out.stdout, out.stderr)
    };
    assert_eq!(code, Some(2), "{}", String::from_utf8_lossy(&err));
    let svg = home.path("qr.svg");
    let mut login = home.login(&["--timeout", "60", "--qr-svg", svg.to_str().unwrap()]);
    let qr = login.wait_for_qr();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let (code, phone, phone_err) = home.scan(&qr, &["--pin", PIN, "--cert", USCC, "--approve"]);
    assert_eq!(code, 0, "{phone_err}");
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 0, "{tool_err}");
    assert_eq!(tool["organisation"]["uscc"], USCC);
    assert_eq!(tool["organisation"]["name"], "北京某某建设有限公司");
    assert!(tool["person"].is_null());
    assert_eq!(tool["certificate_serial"], phone["certificate_serial"]);
}

/// A `bidkit relay serve` child; stopped with SIGINT (Ctrl-C) on drop.
struct RelayNode {
    child: Option<Child>,
    url: String,
}

impl RelayNode {
    fn start(home: &Home, redis: Option<&str>) -> RelayNode {
        let mut args = vec!["relay", "serve", "--listen", "127.0.0.1:0"];
        if let Some(url) = redis {
            args.extend_from_slice(&["--redis", url]);
        }
        let mut child = home
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        // Keep reading, as a terminal would, so the node can print when it stops.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while stdout.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        RelayNode {
            child: Some(child),
            url,
        }
    }

    /// Ctrl-C: the node stops cleanly (exit 0, "shutting down" on stderr).
    fn interrupt(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                return (status.code(), err);
            }
            assert!(Instant::now() < until, "the relay did not stop on Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RelayNode {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn login_over_a_standalone_relay() {
    let home = Home::new();
    let relay = RelayNode::start(&home, None);
    let mut login = home.login(&["--relay", &relay.url, "--timeout", "60"]);
    let qr = login.wait_for_qr();
    assert_eq!(payload(&qr).relay.as_str(), relay.url);
    let (code, phone, phone_err) = home.scan(&qr, &["--pin", PIN]);
    assert_eq!(code, 0, "{phone_err}");
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 0, "{tool_err}");
    assert!(tool_err.contains("(remote)"), "{tool_err}");
    assert_eq!(tool["relay"], relay.url.as_str());
    assert_eq!(tool["verification_code"], phone["verification_code"]);
    let (status, err) = relay.interrupt();
    assert_eq!(status, Some(0), "{err}");
    assert!(err.contains("shutting down"), "{err}");
}

/// A redis-server on a free loopback port in a temporary directory, killed on drop.
struct Redis {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Redis {
    /// Start one, or `None` (loudly) when redis-server is not installed; under
    /// `CI=true` a missing redis-server is a failure.
    fn start() -> Option<Redis> {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(binary) = binary else {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed (apt-get install -y redis-server)"
            );
            eprintln!(
                "\n*** SKIPPING Redis test: redis-server is not installed (apt-get install -y redis-server) ***\n"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let redis = Redis {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
            _dir: dir,
        };
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                s.write_all(b"PING\r\n").unwrap();
                let mut buf = [0u8; 7];
                if std::io::Read::read_exact(&mut s, &mut buf).is_ok() && &buf == b"+PONG\r\n" {
                    return Some(redis);
                }
            }
            assert!(Instant::now() < until, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn login_across_two_relay_processes_sharing_redis() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let home = Home::new();
    let a = RelayNode::start(&home, Some(&redis.url));
    let b = RelayNode::start(&home, Some(&redis.url));
    // The tool talks to node A; the QR code sends the phone to node B.
    let mut login = home.login(&["--relay", &a.url, "--advertise", &b.url, "--timeout", "60"]);
    let qr = login.wait_for_qr();
    assert_eq!(payload(&qr).relay.as_str(), b.url);
    let (code, phone, phone_err) = home.scan(&qr, &["--pin", PIN]);
    assert_eq!(code, 0, "{phone_err}");
    assert_eq!(phone["relay"], b.url.as_str());
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 0, "{tool_err}");
    assert_eq!(tool["person"]["name"], "张三");
    assert_eq!(tool["verification_code"], phone["verification_code"]);
    assert_eq!(home.records("login").len(), 1);
    for node in [a, b] {
        let (status, err) = node.interrupt();
        assert_eq!(status, Some(0), "{err}");
    }
}

#[test]
fn the_phone_compares_the_verification_code_with_the_tools() {
    let home = Home::new();
    for matching in [false, true] {
        let mut login = home.login(&["--timeout", "60"]);
        let qr = login.wait_for_qr();
        // The holder types the code the tool shows; the phone reads it from stdin
        // once it has joined.
        let mut phone = home
            .command(&[
                "--json",
                "phone",
                "scan",
                qr.to_str().unwrap(),
                "--pin",
                PIN,
                "--expect-code",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let line = login.wait_for_line("verification code: ");
        let shown: u32 = line
            .split("verification code: ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let typed = if matching {
            shown
        } else {
            (shown + 1) % 1_000_000
        };
        writeln!(phone.stdin.take().unwrap(), "{typed:06}").unwrap();
        let (pcode, pjson, perr) = parse(phone.wait_with_output().unwrap());
        let (tcode, tjson, terr) = login.finish();
        if matching {
            assert_eq!(pcode, 0, "{perr}");
            assert_eq!(tcode, 0, "{terr}");
            assert_eq!(tjson["verification_code"], format!("{shown:06}"));
        } else {
            assert_eq!(pcode, 1, "{perr}");
            assert_eq!(code_of(&pjson), "code-mismatch", "{pjson}");
            assert!(
                perr.contains("differs from the code on the tool's screen"),
                "{perr}"
            );
            assert_eq!(tcode, 1, "{terr}");
            assert_eq!(code_of(&tjson), "code-mismatch", "{tjson}");
            assert!(terr.contains("the phone refused (code-mismatch)"), "{terr}");
            // Nothing was signed.
            assert!(home.records("login").is_empty());
        }
    }
    // A code given on the command line works the same way.
    let mut login = home.login(&["--timeout", "60"]);
    let qr = login.wait_for_qr();
    let (code, phone, _) = home.scan(&qr, &["--pin", PIN, "--expect-code", "not-a-code"]);
    assert_eq!((code, code_of(&phone)), (1, "code-mismatch"));
    let (code, tool, _) = login.finish();
    assert_eq!((code, code_of(&tool)), (1, "code-mismatch"));
    assert_eq!(
        home.records("login").len(),
        1,
        "only the matching login signed"
    );
}

#[test]
fn refusing_gives_a_clear_message_on_both_sides_and_signs_nothing() {
    let home = Home::new();
    let mut login = home.login(&["--timeout", "60"]);
    let qr = login.wait_for_qr();
    // No PIN is needed to refuse.
    let (code, phone, phone_err) = home.scan(&qr, &["--refuse"]);
    assert_eq!(code, 0, "{phone_err}");
    assert_eq!(phone["outcome"], "refused");
    assert_eq!(phone["refusal"], "user-refused");
    assert!(phone["certificate_serial"].is_null());
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 1);
    assert_eq!(code_of(&tool), "user-refused");
    assert!(
        tool_err.contains("bidkit: error: the phone refused (user-refused)"),
        "{tool_err}"
    );
    assert!(home.records("login").is_empty(), "nothing was signed");

    // A refusal scripted on the phone goes through the keystore and is recorded.
    home.ok(&["phone", "script", "refuse"]);
    let mut login = home.login(&["--timeout", "60"]);
    let qr = login.wait_for_qr();
    let (code, phone, _) = home.scan(&qr, &["--pin", PIN]);
    assert_eq!((code, &phone["outcome"]), (0, &Value::from("refused")));
    let (code, tool, _) = login.finish();
    assert_eq!((code, code_of(&tool)), (1, "user-refused"));
    let records = home.records("login");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["result"], "refused");
}

#[test]
fn a_wrong_pin_is_refused_on_both_sides_and_counted() {
    let home = Home::new();
    let mut login = home.login(&["--timeout", "60"]);
    let qr = login.wait_for_qr();
    let (code, phone, phone_err) = home.scan(&qr, &["--pin", "000000"]);
    assert_eq!(code, 1, "{phone_err}");
    assert_eq!(code_of(&phone), "pin_wrong");
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 1);
    assert_eq!(code_of(&tool), "wrong-pin");
    assert!(
        tool_err.contains("the phone refused (wrong-pin)"),
        "{tool_err}"
    );
    let records = home.records("login");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["result"], "pin_wrong");
    let pin = home.ok(&["phone", "pin", "status"]);
    assert_eq!(pin["tries_left"], 5, "{pin}");
}

#[test]
fn a_stale_copy_of_the_qr_code_is_refused_and_the_tool_says_so() {
    let home = Home::new();
    // One-second steps, frames at most one step old.
    let mut login = home.login(&["--timeout", "60", "--qr-step", "1", "--qr-max-age", "1"]);
    let live = login.wait_for_qr();
    let copy = home.path("forwarded.png");
    std::fs::copy(&live, &copy).unwrap();
    let forwarded = payload(&copy).step;
    // Wait (bounded) until the screen has moved on two steps: the copy is stale.
    let until = Instant::now() + Duration::from_secs(30);
    while payload(&live).step < forwarded + 2 {
        assert!(Instant::now() < until, "the QR code did not rotate");
        login.drain(Duration::from_millis(100));
    }
    let (code, phone, phone_err) = home.scan(&copy, &["--pin", PIN]);
    assert_eq!(code, 1, "{phone_err}");
    assert_eq!(code_of(&phone), "qr-stale");
    assert!(
        phone["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scan the current code"),
        "{phone}"
    );
    // The tool's screen says a phone was turned away, and keeps waiting.
    let notice = login.wait_for_line("turned a phone away");
    assert!(notice.contains("qr-stale"), "{notice}");
    assert!(notice.contains("forwarded"), "{notice}");
    // The code on the screen still works.
    let (code, _, phone_err) = home.scan(&live, &["--pin", PIN]);
    assert_eq!(code, 0, "{phone_err}");
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 0, "{tool_err}");
    assert_eq!(tool["rejected_joins"], serde_json::json!(["qr-stale"]));
    assert_eq!(home.records("login").len(), 1);
}

#[test]
fn a_phone_that_never_answers_makes_the_tool_time_out() {
    let home = Home::new();
    home.ok(&["phone", "script", "timeout"]);
    let mut login = home.login(&["--timeout", "3"]);
    let qr = login.wait_for_qr();
    let (code, phone, phone_err) = home.scan(&qr, &["--pin", PIN]);
    assert_eq!(code, 0, "{phone_err}");
    assert_eq!(phone["outcome"], "no-answer");
    assert!(
        phone["tool_message"]
            .as_str()
            .unwrap()
            .contains("phone-timeout"),
        "{phone}"
    );
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 1);
    assert_eq!(code_of(&tool), "phone-timeout");
    assert!(
        tool_err.contains("the phone never answered (waited 3 s)"),
        "{tool_err}"
    );
    let records = home.records("login");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["result"], "timed_out");
}

#[test]
fn no_phone_at_all_ends_with_a_clear_message() {
    let home = Home::new();
    let login = home.login(&["--timeout", "2"]);
    let (code, tool, tool_err) = login.finish();
    assert_eq!(code, 1);
    assert_eq!(code_of(&tool), "no-phone");
    assert!(
        tool_err.contains("no phone joined within 2 s; the QR code has expired"),
        "{tool_err}"
    );
}

#[test]
fn scan_input_that_is_not_a_qr_code_is_a_clear_error() {
    let home = Home::new();
    let junk = home.path("junk.png");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\ntruncated").unwrap();
    let (code, v, _) = home.scan(&junk, &["--pin", PIN]);
    assert_eq!((code, code_of(&v)), (1, "qr-unreadable"));
    let text = home.path("note.txt");
    std::fs::write(&text, "hello").unwrap();
    let (code, v, _) = home.scan(&text, &["--pin", PIN]);
    assert_eq!((code, code_of(&v)), (1, "qr-unreadable"));
    let out = home.run(&["phone", "scan", "BK1:NOTBASE32!", "--pin", PIN]);
    let (code, v, _) = parse(out);
    assert_eq!((code, code_of(&v)), (1, "qr-malformed"));
}
