//! The whole crypto benchmark against the installed `openssl` (about 7 s: OpenSSL
//! runs each figure for at least one second). Skipped, loudly, when `openssl` is not
//! installed; under CI (`CI` set) that is a failure, since CI installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bidkit_bench::{CryptoOptions, Target, crypto};
use bidkit_crypto::kdf::PinKdfParams;

#[test]
fn every_row_gets_an_openssl_figure() {
    let installed = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "`openssl` is not installed, but CI must run this test"
        );
        eprintln!("\n!!!!!!!!!! SKIPPED: `openssl` is not installed !!!!!!!!!!\n");
        return;
    }
    let options = CryptoOptions {
        duration: Duration::from_millis(5),
        pin_kdf: PinKdfParams::FOR_TESTS,
        ..CryptoOptions::standard()
    };
    let report = crypto(&options).unwrap();
    assert!(report.reference.as_deref().unwrap().starts_with("OpenSSL"));
    assert_eq!(report.reference_seconds, Some(1));
    assert_eq!(report.rows.len(), 7);
    for row in &report.rows {
        let reference = row
            .reference
            .unwrap_or_else(|| panic!("no reference for {row:?}"));
        assert!(reference > 0.0 && reference.is_finite(), "{row:?}");
        let ratio = row.ratio.unwrap();
        assert!((ratio - row.ours / reference).abs() < 1e-9);
        assert_eq!(
            row.meets_target.is_some(),
            row.target == Target::AtLeastReference,
            "{row:?}"
        );
    }
    let labels: Vec<&str> = report
        .rows
        .iter()
        .map(|r| r.reference_label.as_deref().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "sm3",
            "sm4-ctr",
            "aes-256-gcm (-aead)",
            "sm2",
            "sm2",
            "ecdsap256",
            "ecdsap256"
        ]
    );
    let text = report.to_string();
    assert!(text.contains("ours/openssl"), "{text}");
}
