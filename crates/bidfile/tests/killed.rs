//! `kill -9` in the middle of encrypting and of decrypting: the input is intact and the
//! output absent — no partial file, no temporary file (outputs are unnamed
//! `O_TMPFILE` files on Linux until complete). Also: a leftover named temporary file
//! of a dead process (the non-`O_TMPFILE` fallback) is removed by the next run.
//!
//! The child is this test binary re-run with `BIDKIT_BIDFILE_CHILD` set, executing only
//! [`child_entry`]; it slows itself down from the progress callback so the parent can
//! kill it mid-way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use bidkit_bidfile::{ContentKey, Decryptor, Encryptor, HeaderDraft, RecipientRole};
use bidkit_crypto::Suite;
use bidkit_pki::Certificate;
use common::{CREATED, Fixture, listing, pattern};

const ENV: &str = "BIDKIT_BIDFILE_CHILD";
const SIZE: usize = 24 << 20;
const CHUNK: u32 = 64 << 10;

/// Runs only in the child: encrypt or decrypt as told, slowly, touching `started`
/// after the first chunks.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(ENV) else {
        return;
    };
    let dir = PathBuf::from(std::env::var("BIDKIT_BIDFILE_DIR").unwrap());
    let started = dir.join("started");
    let mut chunks = 0u64;
    let progress = |_p: bidkit_bidfile::Progress| {
        chunks += 1;
        if chunks == 8 {
            std::fs::write(&started, b"").unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    match mode.as_str() {
        "encrypt" => {
            let cert =
                Certificate::from_der(&std::fs::read(dir.join("recipient.der")).unwrap()).unwrap();
            let signer =
                Certificate::from_der(&std::fs::read(dir.join("signer.der")).unwrap()).unwrap();
            let key = ContentKey::generate(Suite::Gm).unwrap();
            let bidder = bidkit_bidfile::Bidder::from_certificate(&signer).unwrap();
            let mut draft = HeaderDraft::new(Suite::Gm, "T-KILL", bidder, CREATED)
                .unwrap()
                .with_chunk_size(CHUNK)
                .unwrap();
            draft
                .add_recipient(RecipientRole::Bidder, &cert, &key)
                .unwrap();
            Encryptor::new(draft, key)
                .unwrap()
                .encrypt_file(&dir.join("plain.bin"), &dir.join("out.bkb"), progress)
                .unwrap();
        }
        "decrypt" => {
            let key = ContentKey::from_bytes(
                Suite::Gm,
                &hex::decode(std::env::var("BIDKIT_BIDFILE_KEY").unwrap()).unwrap(),
            )
            .unwrap();
            Decryptor::open(&dir.join("bid.bkb"))
                .unwrap()
                .decrypt_to(&dir.join("out.bin"), &key, progress)
                .unwrap();
        }
        other => panic!("unknown child mode {other}"),
    }
    // Reaching here means the parent did not kill us in time.
    std::fs::write(dir.join("finished"), b"").unwrap();
}

fn spawn(mode: &str, dir: &Path, key: Option<&ContentKey>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ENV, mode)
        .env("BIDKIT_BIDFILE_DIR", dir);
    if let Some(k) = key {
        cmd.env("BIDKIT_BIDFILE_KEY", hex::encode(k.as_bytes()));
    }
    cmd.spawn().unwrap()
}

fn kill_when_started(mut child: Child, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("started").exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child ended before it started working: {status}");
        }
        assert!(Instant::now() < deadline, "the child never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        !dir.join("finished").exists(),
        "the child finished before it was killed"
    );
}

#[test]
fn kill_9_while_encrypting_leaves_no_output() {
    let fx = Fixture::new(Suite::Gm);
    let dir = fx.work_dir("kill-encrypt");
    let plaintext = pattern(SIZE, 21);
    std::fs::write(dir.join("plain.bin"), &plaintext).unwrap();
    std::fs::write(dir.join("recipient.der"), fx.bidder.encryption.to_der()).unwrap();
    std::fs::write(dir.join("signer.der"), fx.bidder.signing.to_der()).unwrap();

    kill_when_started(spawn("encrypt", &dir, None), &dir);

    assert_eq!(std::fs::read(dir.join("plain.bin")).unwrap(), plaintext);
    assert_eq!(
        listing(&dir),
        ["plain.bin", "recipient.der", "signer.der", "started"],
        "only the inputs remain: no output, no scratch payload, no temporary file"
    );
}

#[test]
fn kill_9_while_decrypting_leaves_no_plaintext() {
    let fx = Fixture::new(Suite::Gm);
    let dir = fx.work_dir("kill-decrypt");
    let (key, _) = fx.make_bid(&dir, &pattern(SIZE, 22), CHUNK);
    std::fs::remove_file(dir.join("plain.bin")).unwrap();
    let bid = std::fs::read(dir.join("bid.bkb")).unwrap();

    kill_when_started(spawn("decrypt", &dir, Some(&key)), &dir);

    assert_eq!(std::fs::read(dir.join("bid.bkb")).unwrap(), bid);
    assert_eq!(
        listing(&dir),
        ["bid.bkb", "started"],
        "no plaintext, whole or partial, under any name"
    );
    // The file still decrypts afterwards.
    Decryptor::open(&dir.join("bid.bkb"))
        .unwrap()
        .decrypt_to(&dir.join("out.bin"), &key, |_| {})
        .unwrap();
}

#[test]
fn a_dead_process_s_named_temporary_file_is_removed_by_the_next_run() {
    let fx = Fixture::new(Suite::Nist);
    let dir = fx.work_dir("stale");
    let (key, _) = fx.make_bid(&dir, &pattern(1000, 23), 256);
    // A pid that has exited.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    let stale = dir.join(format!(".out.bin.{pid}-0123456789ab.bidkit-partial"));
    std::fs::write(&stale, b"partial plaintext of a killed run").unwrap();
    // A live process's temporary file (ours) and an unrelated file are kept.
    let live = dir.join(format!(
        ".out.bin.{}-0123456789ab.bidkit-partial",
        std::process::id()
    ));
    std::fs::write(&live, b"in progress").unwrap();
    let unrelated = dir.join(format!(".other.bin.{pid}-0123456789ab.bidkit-partial"));
    std::fs::write(&unrelated, b"not ours to judge").unwrap();

    Decryptor::open(&dir.join("bid.bkb"))
        .unwrap()
        .decrypt_to(&dir.join("out.bin"), &key, |_| {})
        .unwrap();
    assert!(
        !stale.exists(),
        "the dead process's leftover was not removed"
    );
    assert!(live.exists() && unrelated.exists());
}
