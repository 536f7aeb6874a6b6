#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Smoke test of `bidkit bench seal` with tiny documents: every mode produces an output
//! that our verifier accepts, and the report has every row. No timing assertions.

use bidkit_bench::{SealMode, SealOptions, SealRowKind, seal};
use bidkit_crypto::Suite;

#[test]
fn every_mode_seals_a_verifying_output_and_the_report_has_every_row() {
    let pdfium = bidkit_pdf::pdfium::pdfium().is_ok();
    let modes: Vec<SealMode> = SealMode::ALL
        .into_iter()
        .filter(|m| pdfium || *m != SealMode::Keyword)
        .collect();
    if !pdfium {
        eprintln!("SKIP keyword mode: pdfium is not loadable (source .deps/env.sh)");
    }
    let dir = tempfile_dir();
    let options = SealOptions {
        size_mb: 2,
        large_pages: 4,
        pages: 20,
        modes: modes.clone(),
        runs: 1,
        dir: Some(dir.clone()),
        verify: true,
        ..SealOptions::standard()
    };
    let report = seal(&options).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = report.to_string();
    assert_eq!(report.files.len(), 2, "{text}");
    let pyhanko = report.pyhanko.is_some();
    for file in ["large", "long"] {
        let of = |kind: SealRowKind| {
            report
                .rows
                .iter()
                .filter(move |r| r.file == file && r.kind == kind)
        };
        assert_eq!(of(SealRowKind::ReadHash).count(), 2, "{text}");
        assert_eq!(of(SealRowKind::CopyHashSync).count(), 1, "{text}");
        assert_eq!(
            of(SealRowKind::Pyhanko).count(),
            usize::from(pyhanko),
            "{text}"
        );
        let ours: Vec<_> = of(SealRowKind::Bidkit).collect();
        assert_eq!(ours.len(), modes.len() + 1, "{text}");
        for mode in &modes {
            assert!(
                ours.iter()
                    .any(|r| r.mode == Some(*mode) && r.suite == Suite::Nist),
                "no {mode} row for {file}: {text}"
            );
        }
        assert!(
            ours.iter()
                .any(|r| r.mode == Some(SealMode::Page) && r.suite == Suite::Gm)
        );
        for r in ours {
            assert!(r.error.is_none(), "{text}");
            assert_eq!(r.verified, Some(true), "{text}");
            assert!(r.stamps >= 1, "{text}");
        }
        for r in of(SealRowKind::Pyhanko) {
            assert!(r.error.is_none(), "{text}");
        }
    }
    assert!(!report.targets.is_empty(), "{text}");
    println!("{text}");
}

fn tempfile_dir() -> std::path::PathBuf {
    let random: [u8; 6] = bidkit_crypto::rng::random_array().unwrap();
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("bidkit-bench-seal-test-{hex}"))
}
