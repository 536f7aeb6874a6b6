//! The PIN retry counter is committed before the PIN is compared, so killing the
//! process (`kill -9`) in the middle of the comparison cannot give the try back.
//!
//! The test re-runs this test binary as a child process that makes one wrong PIN
//! attempt with an Argon2id setting slow enough (≈ seconds) to be killed in the middle;
//! the parent watches the counter in the database, sees it decremented while the child
//! is still deriving the key, kills it with SIGKILL and checks the state after a
//! "restart".

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bidkit_crypto::Suite;
use bidkit_crypto::kdf::PinKdfParams;
use bidkit_keystore::{CertSelector, Home, KeystoreConfig, SystemClock};

use crate::fixture::{PIN, person};

const CHILD_ENV: &str = "BIDKIT_KEYSTORE_KILL_TEST_HOME";
const TEST_NAME: &str = "kill::pin_try_is_committed_before_the_comparison_and_survives_kill_9";

/// Slow enough that the child is surely still deriving when it is killed.
const SLOW: PinKdfParams = PinKdfParams {
    memory_kib: 32 * 1024,
    iterations: 96,
    parallelism: 1,
};

fn home(dir: &std::path::Path) -> Home {
    Home::new(
        dir,
        KeystoreConfig::default()
            .with_kdf_params_for_tests(SLOW)
            .with_clock(Arc::new(SystemClock)),
    )
}

fn tries_left(db: &std::path::Path) -> u32 {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c.query_row("SELECT tries_left FROM pin_state", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn pin_try_is_committed_before_the_comparison_and_survives_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        // Child: one wrong PIN, which takes seconds; the parent kills us first.
        let phone = home(std::path::Path::new(&dir)).phone("victim").unwrap();
        let _ = phone
            .signer(&CertSelector::Person, None, "000000")
            .unwrap()
            .sign_all(&[b"m"]);
        eprintln!("child finished the attempt (it should have been killed)");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let phone = home(dir.path()).phone("victim").unwrap();
    phone.enrol(&person(7), PIN, Suite::Gm).unwrap();
    let db = phone.db_path().to_owned();
    drop(phone);
    assert_eq!(tries_left(&db), 6);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    while tries_left(&db) == 6 {
        assert!(Instant::now() < deadline, "the child never counted the try");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before counting the try"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // The try is on disk and the child is still comparing: kill it now.
    assert!(
        child.try_wait().unwrap().is_none(),
        "the child finished before it could be killed mid-comparison"
    );
    child.kill().unwrap();
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
    }
    #[cfg(not(unix))]
    assert!(!status.success());

    // Restart: the counted try is still counted.
    assert_eq!(tries_left(&db), 5);
    let phone = home(dir.path()).phone("victim").unwrap();
    let status = phone.pin_status(&CertSelector::Person, None).unwrap();
    assert_eq!((status.tries_left, status.locked), (5, false));
}
