//! Black-box tests of `bidkit phone …`: the QA scenarios of the brief, headless, through
//! the built binary, reading `--json` output and exit codes only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const USCC: &str = "91110000600037341L";
const BOSS_ID: &str = "11010519491231002X";
const BOSS_PHONE: &str = "13800000001";
const STAFF_ID: &str = "110105199001011005";
const STAFF_PHONE: &str = "13900000002";

/// A home directory and the binary, with the fast test KDF unless told otherwise.
struct Cli {
    home: tempfile::TempDir,
    fast_kdf: bool,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().unwrap(),
            fast_kdf: true,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bidkit"));
        c.args(args)
            .env("BIDKIT_HOME", self.home.path())
            .env_remove("BIDKIT_PIN")
            .env_remove("BIDKIT_NEW_PIN")
            .env_remove("BIDKIT_PHONE")
            .env_remove("BIDKIT_NOW")
            .env_remove("BIDKIT_PLATFORM");
        if self.fast_kdf {
            c.env("BIDKIT_INSECURE_FAST_KDF", "1");
        } else {
            c.env_remove("BIDKIT_INSECURE_FAST_KDF");
        }
        c
    }

    fn raw(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Run with `--json`; the parsed stdout, panicking with stderr on failure.
    fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.raw(&all);
        assert!(
            out.status.success(),
            "bidkit {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Run with `--json` expecting failure; the error code.
    fn err(&self, args: &[&str]) -> String {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.raw(&all);
        assert_eq!(
            out.status.code(),
            Some(1),
            "bidkit {args:?} should fail with 1"
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("bidkit: error:"));
        v["error"]["code"].as_str().unwrap().to_owned()
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.home.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Enrol the bidder: boss (admin of the organisation) on phone `boss`, staff on phone
/// `staff`, staff added as member; returns the 公章's id.
fn bidder(cli: &Cli) -> i64 {
    let e = cli.ok(&[
        "phone",
        "enrol",
        "--phone",
        "boss",
        "--name",
        "张三",
        "--id-number",
        BOSS_ID,
        "--phone-number",
        BOSS_PHONE,
        "--pin",
        "123456",
        "--org",
        "北京某某建设有限公司",
        "--uscc",
        USCC,
    ]);
    assert_eq!(e["account"]["name"], "张三");
    assert_eq!(e["organisation"]["organisation"]["uscc"], USCC);
    cli.ok(&[
        "phone",
        "enrol",
        "--phone",
        "staff",
        "--name",
        "李四",
        "--id-number",
        STAFF_ID,
        "--phone-number",
        STAFF_PHONE,
        "--pin",
        "654321",
    ]);
    let m = cli.ok(&[
        "phone",
        "add-member",
        "--phone",
        "boss",
        "--uscc",
        USCC,
        "--phone-number",
        STAFF_PHONE,
        "--role",
        "member",
    ]);
    assert_eq!(m["role"], "member");
    let seal = cli.ok(&[
        "phone",
        "seal",
        "add",
        "--phone",
        "boss",
        "--type",
        "official",
        "--name",
        "北京某某建设有限公司公章",
        "--org",
        USCC,
    ]);
    assert_eq!(seal["kind"], "official");
    seal["id"].as_i64().unwrap()
}

#[test]
fn qa_scenario_1_admin_grants_the_official_seal_then_withdraws_it() {
    let cli = Cli::new();
    let seal = bidder(&cli);
    let seal_id = seal.to_string();
    let doc = cli.file("cover.bin", b"cover page hash input");

    // Before the grant: nothing for the member.
    assert_eq!(
        cli.ok(&["phone", "seal", "list", "--phone", "staff"]),
        Value::Array(vec![])
    );

    let g = cli.ok(&[
        "phone",
        "grant",
        "--phone",
        "boss",
        "--seal",
        &seal_id,
        "--to",
        STAFF_PHONE,
        "--days",
        "30",
    ]);
    assert_eq!(g["state"], "active");
    let grant_id = g["id"].as_i64().unwrap().to_string();

    // The member claims the organisation certificate copy and sees the seal.
    let copy = cli.ok(&[
        "phone", "certs", "--phone", "staff", "issue", "--org", USCC, "--pin", "654321",
    ]);
    assert!(copy["copy_of"].is_i64());
    let seals = cli.ok(&["phone", "seal", "list", "--phone", "staff"]);
    assert_eq!(seals[0]["seal"]["id"], seal);
    assert_eq!(seals[0]["usable"], true);

    // Login by "scan" (a signature recorded as login), then the seal.
    cli.ok(&[
        "phone",
        "sign",
        "--phone",
        "staff",
        "--pin",
        "654321",
        "--operation",
        "login",
        s(&doc),
    ]);
    let signed = cli.ok(&[
        "phone",
        "sign",
        "--phone",
        "staff",
        "--cert",
        USCC,
        "--pin",
        "654321",
        "--seal",
        &seal_id,
        s(&doc),
    ]);
    assert_eq!(
        signed["signatures"][0]["signature_hex"]
            .as_str()
            .unwrap()
            .len()
            % 2,
        0
    );

    // Withdrawn: refused, and the list says so.
    let w = cli.ok(&["phone", "withdraw", "--phone", "boss", "--grant", &grant_id]);
    assert_eq!(w["state"], "withdrawn");
    assert_eq!(
        cli.err(&[
            "phone",
            "sign",
            "--phone",
            "staff",
            "--cert",
            USCC,
            "--pin",
            "654321",
            "--seal",
            &seal_id,
            s(&doc),
        ]),
        "grant_withdrawn"
    );
    let seals = cli.ok(&["phone", "seal", "list", "--phone", "staff"]);
    assert_eq!(seals[0]["usable"], false);

    // The admin sees the member's use and refusal; the member only their own.
    let boss_recs = cli.ok(&["phone", "records", "--phone", "boss", "--operation", "seal"]);
    let results: Vec<&str> = boss_recs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["ok", "grant_withdrawn"]);
    let staff_recs = cli.ok(&["phone", "records", "--phone", "staff"]);
    assert!(
        staff_recs
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["user_name"] == "李四")
    );
    let v = cli.ok(&["phone", "records", "verify"]);
    assert!(v["count"].as_i64().unwrap() >= 6);
}

#[test]
fn qa_scenario_4_six_wrong_pins_lock_a_restart_keeps_the_lock_a_code_resets() {
    let cli = Cli::new();
    cli.ok(&[
        "phone",
        "enrol",
        "--name",
        "张三",
        "--id-number",
        BOSS_ID,
        "--phone-number",
        BOSS_PHONE,
        "--pin",
        "123456",
    ]);
    let doc = cli.file("doc.bin", b"x");
    for _ in 0..5 {
        assert_eq!(
            cli.err(&["phone", "sign", "--pin", "000000", s(&doc)]),
            "pin_wrong"
        );
    }
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "000000", s(&doc)]),
        "pin_locked"
    );
    // Every command is a new process: the lock is on disk.
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", s(&doc)]),
        "pin_locked"
    );
    let st = cli.ok(&["phone", "pin", "status"]);
    assert_eq!(
        (st["tries_left"].as_i64(), st["locked"].as_bool()),
        (Some(0), Some(true))
    );

    let sms = cli.ok(&["phone", "pin", "reset", "request-code"]);
    let code = sms["code"].as_str().unwrap().to_owned();
    assert_eq!(sms["to"], BOSS_PHONE);
    let reset = cli.ok(&[
        "phone",
        "pin",
        "reset",
        "--code",
        &code,
        "--new-pin",
        "246810",
    ]);
    assert_eq!(reset["pin"]["locked"], false);
    cli.ok(&["phone", "sign", "--pin", "246810", s(&doc)]);
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", s(&doc)]),
        "pin_wrong"
    );
    // PIN change, with the PIN from the environment.
    let out = cli
        .command(&["--json", "phone", "pin", "change"])
        .env("BIDKIT_PIN", "246810")
        .env("BIDKIT_NEW_PIN", "135790")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cli.ok(&["phone", "sign", "--pin", "135790", s(&doc)]);
}

#[test]
fn scripted_outcomes_drive_the_next_requests() {
    let cli = Cli::new();
    cli.ok(&[
        "phone",
        "enrol",
        "--name",
        "张三",
        "--id-number",
        BOSS_ID,
        "--phone-number",
        BOSS_PHONE,
        "--pin",
        "123456",
    ]);
    let doc = cli.file("doc.bin", b"x");
    let q = cli.ok(&["phone", "script", "refuse", "timeout", "wrong-pin"]);
    assert_eq!(
        q["queue"],
        serde_json::json!(["refuse", "timeout", "wrong-pin"])
    );
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", s(&doc)]),
        "refused"
    );
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", s(&doc)]),
        "timed_out"
    );
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", s(&doc)]),
        "pin_wrong"
    );
    cli.ok(&["phone", "sign", "--pin", "123456", s(&doc)]);
    let q = cli.ok(&["phone", "script", "approve", "--clear"]);
    assert_eq!(q["queue"], serde_json::json!(["approve"]));
    assert_eq!(
        cli.raw(&["phone", "script", "maybe"]).status.code(),
        Some(2)
    );
}

#[test]
fn reissue_moves_the_certificate_three_times_then_needs_a_pack() {
    let cli = Cli::new();
    cli.ok(&[
        "phone",
        "enrol",
        "--phone",
        "a",
        "--name",
        "张三",
        "--id-number",
        BOSS_ID,
        "--phone-number",
        BOSS_PHONE,
        "--pin",
        "123456",
    ]);
    let signed_in = cli.ok(&[
        "phone",
        "sign-in",
        "--phone",
        "b",
        "--phone-number",
        BOSS_PHONE,
    ]);
    assert_eq!(signed_in["sms"]["to"], BOSS_PHONE);
    let b_device = signed_in["device_id"].as_str().unwrap().to_owned();
    let doc = cli.file("doc.bin", b"x");

    let r = cli.ok(&[
        "phone",
        "reissue",
        "--phone",
        "a",
        "--to-device",
        &b_device,
        "--pin",
        "111111",
    ]);
    assert_eq!(r["certificate"]["reissues_left"], 2);
    assert_eq!(
        cli.err(&["phone", "sign", "--phone", "a", "--pin", "123456", s(&doc)]),
        "device_unbound"
    );
    cli.ok(&["phone", "sign", "--phone", "b", "--pin", "111111", s(&doc)]);
    cli.ok(&[
        "phone",
        "reissue",
        "--phone",
        "b",
        "--to-phone",
        "a",
        "--pin",
        "123456",
    ]);
    let r = cli.ok(&[
        "phone",
        "reissue",
        "--phone",
        "a",
        "--to-phone",
        "b",
        "--pin",
        "111111",
    ]);
    assert_eq!(r["certificate"]["reissues_left"], 0);
    assert_eq!(
        cli.err(&[
            "phone",
            "reissue",
            "--phone",
            "b",
            "--to-phone",
            "a",
            "--pin",
            "123456"
        ]),
        "reissue_limit"
    );
    let p = cli.ok(&["phone", "add-reissue-pack", "--phone", "b"]);
    assert_eq!(p["reissues_left"], 3);
    cli.ok(&[
        "phone",
        "reissue",
        "--phone",
        "b",
        "--to-phone",
        "a",
        "--pin",
        "123456",
    ]);
    cli.ok(&["phone", "sign", "--phone", "a", "--pin", "123456", s(&doc)]);
    let certs = cli.ok(&["phone", "certs", "--phone", "b"]);
    assert!(
        certs[0]["state"]
            .as_str()
            .unwrap()
            .starts_with("moved to device")
    );
    let phones = cli.ok(&["phone", "list"]);
    assert_eq!(phones.as_array().unwrap().len(), 2);
}

#[test]
fn records_export_to_json_and_csv_files() {
    let cli = Cli::new();
    bidder(&cli);
    let json = cli.home.path().join("records.json");
    let csv = cli.home.path().join("records.csv");
    let r = cli.ok(&[
        "phone",
        "records",
        "--phone",
        "boss",
        "--export",
        "json",
        "-o",
        s(&json),
    ]);
    assert_eq!(r["exported"], 2);
    let parsed: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 2);
    cli.ok(&[
        "phone",
        "records",
        "--phone",
        "boss",
        "--export",
        "csv",
        "-o",
        s(&csv),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("seq,time,user_name"));
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn bad_input_gets_a_clear_error_and_no_state() {
    let cli = Cli::new();
    assert_eq!(
        cli.err(&[
            "phone",
            "enrol",
            "--name",
            "张三",
            "--id-number",
            "110105194912310021",
            "--phone-number",
            BOSS_PHONE,
            "--pin",
            "123456",
        ]),
        "invalid_input"
    );
    assert_eq!(
        cli.err(&[
            "phone",
            "enrol",
            "--name",
            "张三",
            "--id-number",
            BOSS_ID,
            "--phone-number",
            BOSS_PHONE,
            "--pin",
            "12345",
        ]),
        "invalid_input"
    );
    let doc = cli.file("doc.bin", b"x");
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", s(&doc)]),
        "not_enrolled"
    );
    assert_eq!(
        cli.err(&["phone", "sign", "--pin", "123456", "/nonexistent/file"]),
        "error"
    );
    let st = cli.ok(&["phone", "status"]);
    assert!(st["account"].is_null());
    // Usage errors exit with clap's status 2.
    let out = cli.raw(&["phone", "grant", "--to", BOSS_PHONE]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_insecure_kdf_switch_is_announced() {
    let cli = Cli::new();
    let out = cli.raw(&["phone", "status"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARNING"));
    let quiet = Cli {
        home: tempfile::tempdir().unwrap(),
        fast_kdf: false,
    };
    let out = quiet.raw(&["phone", "status"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("WARNING"));
}

/// `kill -9` during the PIN comparison: the counted try survives. Uses the production
/// KDF so the comparison takes long enough to be interrupted; retries if the machine
/// is so fast that the attempt finished before the kill landed.
#[test]
fn kill_9_during_a_pin_check_keeps_the_try_counted() {
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        fast_kdf: false,
    };
    cli.ok(&[
        "phone",
        "enrol",
        "--name",
        "张三",
        "--id-number",
        BOSS_ID,
        "--phone-number",
        BOSS_PHONE,
        "--pin",
        "123456",
    ]);
    let doc = cli.file("doc.bin", b"x");
    let tries = || {
        cli.ok(&["phone", "pin", "status"])["tries_left"]
            .as_i64()
            .unwrap()
    };
    let mut killed = false;
    for _attempt in 0..3 {
        let before = tries();
        let mut child = cli
            .command(&["phone", "sign", "--pin", "000000", s(&doc)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tries() == before && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no try was counted");
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            let status = child.wait().unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if status.signal() == Some(9) {
                    killed = true;
                }
            }
            #[cfg(not(unix))]
            {
                killed = !status.success();
            }
        } else {
            let _ = child.wait();
        }
        assert_eq!(
            tries(),
            before - 1,
            "the try is counted whether or not the process lived"
        );
        if killed {
            break;
        }
    }
    assert!(
        killed,
        "could not kill the process during the PIN check in three attempts"
    );
    // After the kill the right PIN still works and restores the counter.
    cli.ok(&["phone", "sign", "--pin", "123456", s(&doc)]);
    assert_eq!(tries(), 6);
}
