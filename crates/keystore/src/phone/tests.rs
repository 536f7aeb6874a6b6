//! Tests that need the phone's internals: the plaintext scalars, to prove they are
//! nowhere on disk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use bidkit_crypto::Suite;
use bidkit_pki::KeyPurpose;

use super::{KeyUse, Phone, Unlock};
use crate::model::{Operation, PersonDetails};
use crate::selector::CertSelector;
use crate::{KeystoreConfig, TestClock, ids};

const PIN: &str = "739146";

fn details(seed: u32) -> PersonDetails {
    let first = format!("1101051990010{:04}", 1000 + seed);
    let id = format!("{first}{}", ids::id_number_check_char(&first).unwrap());
    PersonDetails {
        name: format!("测试{seed}"),
        id_number: id,
        phone_number: format!("1380000{:04}", seed),
    }
}

fn config() -> KeystoreConfig {
    let clock = TestClock::new(time::macros::datetime!(2025-03-01 08:00 UTC));
    KeystoreConfig::insecure_fast_kdf_for_tests().with_clock(Arc::new(clock))
}

/// Every private scalar of every key on `phone`, opened through the real use path.
fn scalars(phone: &Phone) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for installed in phone.certificates().unwrap() {
        let sel = CertSelector::Id(installed.certificate.id);
        let (pair, _) = phone.resolve_installed(&sel, None).unwrap();
        for purpose in KeyPurpose::ALL {
            let key = phone.key_for(&pair, purpose, None).unwrap();
            let req = KeyUse {
                operation: if purpose == KeyPurpose::Encryption {
                    Operation::Decrypt
                } else {
                    Operation::Sign
                },
                seal_id: None,
                platform: "test",
                detail: String::new(),
            };
            let bytes = phone
                .use_key(&pair, &key, &req, Unlock::Pin(PIN), |k, _| {
                    Ok(k.to_bytes().to_vec())
                })
                .unwrap();
            out.push(bytes);
        }
    }
    out
}

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_private_scalar_or_pin_appears_in_any_file_of_the_home() {
    let dir = tempfile::tempdir().unwrap();
    let phone = Phone::open(dir.path(), "alice", config()).unwrap();
    phone.enrol(&details(1), PIN, Suite::Gm).unwrap();
    phone.issue_person_certificate(Suite::Nist, PIN).unwrap();
    phone
        .create_organisation("测试建设有限公司", "91110000600037341L", PIN, Suite::Gm)
        .unwrap();
    // Renew once so superseded keys are on disk too.
    phone
        .renew(&CertSelector::Person, Some(Suite::Gm), PIN)
        .unwrap();

    let secrets = scalars(&phone);
    assert_eq!(secrets.len(), 6, "3 certificates × 2 keys");
    let mut files = Vec::new();
    all_files(dir.path(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("phone.db")));
    assert!(files.iter().any(|f| f.ends_with("service.db")));
    // Positive control: the search does find what is meant to be there (a serial, hex).
    let serial = phone.certificates().unwrap()[0]
        .installed_signing_serial
        .clone();
    let phone_db = std::fs::read(phone.db_path()).unwrap();
    let wal = std::fs::read(phone.db_path().with_extension("db-wal")).unwrap_or_default();
    assert!(contains(&phone_db, serial.as_bytes()) || contains(&wal, serial.as_bytes()));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for s in &secrets {
            let forms: Vec<(&str, Vec<u8>)> = vec![
                ("raw", s.clone()),
                ("hex", hex::encode(s).into_bytes()),
                ("HEX", hex::encode_upper(s).into_bytes()),
                (
                    "base64",
                    base64::engine::general_purpose::STANDARD
                        .encode(s)
                        .into_bytes(),
                ),
                (
                    "base64url",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(s)
                        .into_bytes(),
                ),
            ];
            for (form, needle) in forms {
                assert!(
                    !contains(&bytes, &needle),
                    "a private scalar appears as {form} in {}",
                    file.display()
                );
            }
        }
        assert!(
            !contains(&bytes, PIN.as_bytes()),
            "the PIN appears in {}",
            file.display()
        );
    }
}

#[test]
fn production_config_stores_the_default_kdf_cost() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new(time::macros::datetime!(2025-03-01 08:00 UTC));
    let phone = Phone::open(
        dir.path(),
        "p",
        KeystoreConfig::default().with_clock(Arc::new(clock)),
    )
    .unwrap();
    assert!(!phone.config().is_insecure_kdf());
    phone.enrol(&details(2), PIN, Suite::Gm).unwrap();
    let (pair, _) = phone
        .resolve_installed(&CertSelector::Person, None)
        .unwrap();
    assert_eq!(pair.kdf, bidkit_crypto::kdf::PinKdfParams::DEFAULT);
    assert_eq!(pair.pin_salt.len(), super::vault::SALT_LEN);
}
