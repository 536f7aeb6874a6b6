//! `bidkit bench crypto`: our primitives against `openssl speed`, in one run.

use std::fmt::{self, Write as _};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use bidkit_crypto::aead::{AeadAlgorithm, AeadKey, NONCE_LEN};
use bidkit_crypto::kdf::{PinKdfParams, derive_pin_key};
use bidkit_crypto::{HashAlgorithm, PrivateKey, Suite};
use serde::Serialize;

use crate::measure::{Sample, run_for};
use crate::openssl::Openssl;
use crate::{BenchError, Result};

/// Buffer size for the hash and cipher throughput figures (as `openssl speed -bytes`).
const BLOCK: usize = 8 * 1024;
/// Associated data per AEAD seal: 13 bytes, as OpenSSL's `-aead` mode (a TLS header).
const AAD: [u8; 13] = [0x17; 13];
/// Message signed and verified: 32 bytes (a digest-sized prepared message).
const MESSAGE: &[u8; 32] = b"bidkit bench: message to sign 32";
/// The PIN KDF must take at least this long with the production parameters.
const PIN_KDF_MINIMUM_MILLIS: f64 = 250.0;

/// What to measure and for how long.
#[derive(Clone, Debug)]
pub struct CryptoOptions {
    /// Time spent on each of our measurements (the reference runs whole seconds, at
    /// least one).
    pub duration: Duration,
    /// The `openssl` program to use as the reference (a path or a name on `PATH`);
    /// `None` skips the reference column.
    pub openssl: Option<PathBuf>,
    /// Argon2id parameters whose cost is reported (the production default unless a
    /// caller is evaluating others).
    pub pin_kdf: PinKdfParams,
}

impl CryptoOptions {
    /// The default run: one second per measurement, `openssl` from `PATH`.
    pub fn standard() -> Self {
        CryptoOptions {
            duration: Duration::from_secs(1),
            openssl: Some(PathBuf::from("openssl")),
            pin_kdf: PinKdfParams::DEFAULT,
        }
    }

    /// A quick run: 0.2 s per measurement of ours (OpenSSL still needs 1 s).
    pub fn quick() -> Self {
        CryptoOptions {
            duration: Duration::from_millis(200),
            ..Self::standard()
        }
    }

    fn openssl_seconds(&self) -> u32 {
        let secs = self.duration.as_secs_f64().ceil();
        if secs >= f64::from(u32::MAX) {
            u32::MAX
        } else {
            (secs as u32).max(1)
        }
    }
}

impl Default for CryptoOptions {
    fn default() -> Self {
        Self::standard()
    }
}

/// The unit of a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// Megabytes (10^6 bytes) per second.
    #[serde(rename = "MB/s")]
    MegabytesPerSecond,
    /// Operations per second.
    #[serde(rename = "ops/s")]
    OpsPerSecond,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::MegabytesPerSecond => "MB/s",
            Unit::OpsPerSecond => "ops/s",
        })
    }
}

/// What the figure is expected to achieve against the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// At least as fast as the reference (ratio ≥ 1).
    AtLeastReference,
    /// A recorded baseline: no target yet.
    Baseline,
    /// For information only.
    Info,
}

/// One line of the table: our figure, the reference's, and their ratio.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The primitive (`SM3`, `SM2`, …).
    pub primitive: String,
    /// The operation measured (`hash 8 KiB`, `verify`, …).
    pub operation: String,
    /// Unit of both figures.
    pub unit: Unit,
    /// Our figure.
    pub ours: f64,
    /// Operations (or buffers) we completed in the measurement.
    pub ours_iterations: u64,
    /// The reference's figure, when it ran.
    pub reference: Option<f64>,
    /// What the reference measured (the `openssl speed` algorithm).
    pub reference_label: Option<String>,
    /// `ours / reference` (> 1: we are faster).
    pub ratio: Option<f64>,
    /// The goal for this figure.
    pub target: Target,
    /// Whether the goal is met (`None` without a reference or without a goal).
    pub meets_target: Option<bool>,
}

impl Row {
    fn new(primitive: &str, operation: &str, unit: Unit, sample: Sample, target: Target) -> Self {
        let ours = match unit {
            Unit::MegabytesPerSecond => sample.per_second() * BLOCK as f64 / 1e6,
            Unit::OpsPerSecond => sample.per_second(),
        };
        Row {
            primitive: primitive.into(),
            operation: operation.into(),
            unit,
            ours,
            ours_iterations: sample.iterations,
            reference: None,
            reference_label: None,
            ratio: None,
            target,
            meets_target: None,
        }
    }

    /// Attach the reference figure (already in this row's unit).
    fn with_reference(mut self, label: &str, value: f64) -> Self {
        let ratio = self.ours / value;
        self.reference = Some(value);
        self.reference_label = Some(label.into());
        self.ratio = Some(ratio);
        self.meets_target = match self.target {
            Target::AtLeastReference => Some(ratio >= 1.0),
            Target::Baseline | Target::Info => None,
        };
        self
    }
}

/// The cost of one PIN key derivation.
#[derive(Clone, Debug, Serialize)]
pub struct PinKdfFigure {
    /// Parameters measured.
    pub params: PinKdfParams,
    /// Mean wall-clock time of one derivation, in milliseconds.
    pub millis: f64,
    /// Derivations timed.
    pub runs: u64,
    /// The required minimum in milliseconds.
    pub minimum_millis: f64,
    /// Whether the derivation takes at least the minimum.
    pub meets_minimum: bool,
}

/// Everything `bidkit bench crypto` measured.
#[derive(Clone, Debug, Serialize)]
pub struct CryptoReport {
    /// Seconds spent on each of our measurements.
    pub seconds_per_measurement: f64,
    /// Seconds given to each `openssl speed` run (`None` without a reference).
    pub reference_seconds: Option<u32>,
    /// `openssl version` of the reference, when it ran.
    pub reference: Option<String>,
    /// Whether this program was built with optimisations (debug figures are meaningless).
    pub optimized_build: bool,
    /// Logical CPUs of this machine.
    pub cpus: usize,
    /// One row per figure.
    pub rows: Vec<Row>,
    /// The Argon2id PIN key derivation.
    pub pin_kdf: PinKdfFigure,
    /// Caveats worth reading next to the table.
    pub notes: Vec<String>,
}

impl CryptoReport {
    /// The rows whose target is not met.
    pub fn misses(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.meets_target == Some(false))
    }
}

/// Measure our primitives and, when `openssl` is available, the same primitives in
/// `openssl speed`, alternating so both see the same machine conditions.
pub fn crypto(options: &CryptoOptions) -> Result<CryptoReport> {
    if options.duration.is_zero() {
        return Err(BenchError::InvalidOption(
            "the measurement duration must be positive".into(),
        ));
    }
    let d = options.duration;
    let secs = options.openssl_seconds();
    let mut notes = Vec::new();

    let openssl = match &options.openssl {
        Some(program) => {
            let found = Openssl::locate(program)?;
            if found.is_none() {
                notes.push(format!(
                    "`{}` was not found: the reference column is empty",
                    program.display()
                ));
            }
            found
        }
        None => None,
    };
    let optimized_build = !cfg!(debug_assertions);
    if !optimized_build {
        notes.push(
            "this is a debug build: our figures are not meaningful (build with --release)".into(),
        );
    }

    let mut rows = Vec::new();

    // SM3 over 8 KiB buffers.
    let buf = pattern(BLOCK);
    let sample = run_for(d, 1, || {
        black_box(HashAlgorithm::Sm3.digest(black_box(&buf)));
        Ok(())
    })?;
    let mut row = Row::new(
        "SM3",
        "hash 8 KiB",
        Unit::MegabytesPerSecond,
        sample,
        Target::AtLeastReference,
    );
    if let Some(o) = &openssl {
        row = row.with_reference("sm3", o.evp_throughput("sm3", BLOCK, secs, false)? / 1e6);
    }
    rows.push(row);

    // SM4-GCM and AES-256-GCM: one seal (13-byte AAD, tag) per 8 KiB buffer.
    for (algorithm, reference, aead, target) in [
        (AeadAlgorithm::Sm4Gcm, "sm4-ctr", false, Target::Baseline),
        (AeadAlgorithm::Aes256Gcm, "aes-256-gcm", true, Target::Info),
    ] {
        let key = AeadKey::new(algorithm, &pattern(algorithm.key_len()))?;
        let mut data = pattern(BLOCK);
        let mut counter = 0u64;
        let sample = run_for(d, 1, || {
            counter += 1;
            let mut nonce = [0u8; NONCE_LEN];
            nonce[4..].copy_from_slice(&counter.to_be_bytes());
            black_box(key.seal_in_place(&nonce, &AAD, black_box(&mut data))?);
            Ok(())
        })?;
        let mut row = Row::new(
            algorithm.name(),
            "seal 8 KiB",
            Unit::MegabytesPerSecond,
            sample,
            target,
        );
        if let Some(o) = &openssl {
            let label = if aead {
                format!("{reference} (-aead)")
            } else {
                reference.to_owned()
            };
            row = row.with_reference(
                &label,
                o.evp_throughput(reference, BLOCK, secs, aead)? / 1e6,
            );
        }
        rows.push(row);
    }
    if openssl.is_some() {
        notes.push(
            "OpenSSL 3.0 has no SM4-GCM: our SM4-GCM (SM4-CTR + GHASH + tag) is compared with \
             OpenSSL's SM4-CTR, a recorded baseline rather than a like-for-like figure"
                .into(),
        );
    }

    // Signatures.
    for suite in Suite::ALL {
        let key = PrivateKey::for_tests(suite, "bidkit-bench");
        let public = key.public_key();
        let signature = key.sign(MESSAGE)?;
        let sign = run_for(d, 3, || {
            black_box(key.sign(black_box(MESSAGE))?);
            Ok(())
        })?;
        let verify = run_for(d, 3, || {
            public.verify(black_box(MESSAGE), black_box(&signature))?;
            Ok(())
        })?;
        let (name, verify_target) = match suite {
            Suite::Gm => ("SM2", Target::AtLeastReference),
            Suite::Nist => ("P-256 ECDSA", Target::Info),
        };
        let mut sign_row = Row::new(name, "sign", Unit::OpsPerSecond, sign, Target::Info);
        let mut verify_row = Row::new(name, "verify", Unit::OpsPerSecond, verify, verify_target);
        if let Some(o) = &openssl {
            let (label, rates) = match suite {
                Suite::Gm => ("sm2", o.sm2_rates(secs)?),
                Suite::Nist => ("ecdsap256", o.ecdsa_p256_rates(secs)?),
            };
            sign_row = sign_row.with_reference(label, rates.sign_per_sec);
            verify_row = verify_row.with_reference(label, rates.verify_per_sec);
        }
        rows.push(sign_row);
        rows.push(verify_row);
    }
    if openssl.is_some() {
        notes.push(
            "signing figures include hashing a 32-byte message (SM2: SM3(Z_A ‖ M), Z_A cached in \
             the key) and a fresh system random seed per signature; OpenSSL's SM2 also recomputes \
             Z_A per operation, its ECDSA signs a ready digest"
                .into(),
        );
    }

    // The PIN KDF: at least two derivations, or as many as fit in the duration.
    let salt = pattern(16);
    let kdf = run_for(d, 2, || {
        black_box(derive_pin_key(
            black_box(b"123456"),
            &salt,
            options.pin_kdf,
        )?);
        Ok(())
    })?;
    let millis = kdf.mean_millis();
    let pin_kdf = PinKdfFigure {
        params: options.pin_kdf,
        millis,
        runs: kdf.iterations,
        minimum_millis: PIN_KDF_MINIMUM_MILLIS,
        meets_minimum: millis >= PIN_KDF_MINIMUM_MILLIS,
    };

    Ok(CryptoReport {
        seconds_per_measurement: d.as_secs_f64(),
        reference_seconds: openssl.as_ref().map(|_| secs),
        reference: openssl.map(|o| o.version().to_owned()),
        optimized_build,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rows,
        pin_kdf,
        notes,
    })
}

/// A deterministic, non-trivial byte pattern (content does not affect speed).
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(131) ^ (i >> 8)) as u8)
        .collect()
}

fn figure(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

impl fmt::Display for CryptoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bidkit bench crypto — {:.1} s per measurement, {} CPU(s){}",
            self.seconds_per_measurement,
            self.cpus,
            if self.optimized_build {
                ""
            } else {
                ", DEBUG BUILD"
            }
        )?;
        match (&self.reference, self.reference_seconds) {
            (Some(v), Some(s)) => writeln!(
                f,
                "reference: {v}, `openssl speed -elapsed -seconds {s}`, same run"
            )?,
            _ => writeln!(f, "reference: none")?,
        }
        writeln!(f)?;
        let header = [
            "primitive",
            "operation",
            "unit",
            "ours",
            "openssl",
            "(algorithm)",
            "ours/openssl",
            "target",
        ];
        let mut lines = vec![header.map(String::from).to_vec()];
        for r in &self.rows {
            let target = match (r.target, r.meets_target) {
                (Target::AtLeastReference, Some(true)) => "≥ 1: met".to_owned(),
                (Target::AtLeastReference, Some(false)) => "≥ 1: MISSED".to_owned(),
                (Target::AtLeastReference, None) => "≥ 1".to_owned(),
                (Target::Baseline, _) => "baseline".to_owned(),
                (Target::Info, _) => String::new(),
            };
            lines.push(vec![
                r.primitive.clone(),
                r.operation.clone(),
                r.unit.to_string(),
                figure(r.ours),
                r.reference.map(figure).unwrap_or_else(|| "-".into()),
                r.reference_label.clone().unwrap_or_default(),
                r.ratio
                    .map(|x| format!("{x:.2}"))
                    .unwrap_or_else(|| "-".into()),
                target,
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in &lines {
            let mut text = String::new();
            for (c, cell) in line.iter().enumerate() {
                let pad = widths[c].saturating_sub(cell.chars().count());
                // Numbers right-aligned, words left-aligned.
                if (3..=4).contains(&c) || c == 6 {
                    let _ = write!(text, "{}{}  ", " ".repeat(pad), cell);
                } else {
                    let _ = write!(text, "{}{}  ", cell, " ".repeat(pad));
                }
            }
            writeln!(f, "{}", text.trim_end())?;
        }
        writeln!(f)?;
        let k = &self.pin_kdf;
        writeln!(
            f,
            "PIN KDF Argon2id (m = {} MiB, t = {}, p = {}): {:.0} ms per derivation over {} run(s), \
             minimum {:.0} ms: {}",
            k.params.memory_kib / 1024,
            k.params.iterations,
            k.params.parallelism,
            k.millis,
            k.runs,
            k.minimum_millis,
            if k.meets_minimum { "met" } else { "MISSED" }
        )?;
        if !self.notes.is_empty() {
            writeln!(f)?;
            for note in &self.notes {
                writeln!(f, "note: {note}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_options(openssl: Option<PathBuf>) -> CryptoOptions {
        CryptoOptions {
            duration: Duration::from_millis(5),
            openssl,
            pin_kdf: PinKdfParams::FOR_TESTS,
        }
    }

    #[test]
    fn measures_every_primitive_without_a_reference() {
        let report = crypto(&fast_options(None)).unwrap();
        let names: Vec<(&str, &str)> = report
            .rows
            .iter()
            .map(|r| (r.primitive.as_str(), r.operation.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("SM3", "hash 8 KiB"),
                ("SM4-GCM", "seal 8 KiB"),
                ("AES-256-GCM", "seal 8 KiB"),
                ("SM2", "sign"),
                ("SM2", "verify"),
                ("P-256 ECDSA", "sign"),
                ("P-256 ECDSA", "verify"),
            ]
        );
        for row in &report.rows {
            assert!(row.ours > 0.0 && row.ours.is_finite(), "{row:?}");
            assert!(row.reference.is_none() && row.ratio.is_none());
        }
        assert!(report.pin_kdf.runs >= 2 && report.pin_kdf.millis > 0.0);
        assert!(report.reference.is_none());
        let text = report.to_string();
        assert!(text.contains("SM3") && text.contains("PIN KDF"), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["unit"], "MB/s");
        assert_eq!(json["rows"][4]["target"], "at-least-reference");
    }

    #[test]
    fn a_missing_openssl_is_noted_not_fatal() {
        let report = crypto(&fast_options(Some("/nonexistent/openssl".into()))).unwrap();
        assert!(report.reference.is_none());
        assert!(report.notes.iter().any(|n| n.contains("not found")));
    }

    #[test]
    fn a_zero_duration_is_rejected() {
        let mut options = fast_options(None);
        options.duration = Duration::ZERO;
        assert!(matches!(
            crypto(&options),
            Err(BenchError::InvalidOption(_))
        ));
    }

    #[test]
    fn ratio_and_target() {
        let sample = Sample {
            iterations: 100,
            elapsed: Duration::from_secs(1),
        };
        let row = Row::new(
            "SM2",
            "verify",
            Unit::OpsPerSecond,
            sample,
            Target::AtLeastReference,
        )
        .with_reference("sm2", 200.0);
        assert_eq!(row.ratio, Some(0.5));
        assert_eq!(row.meets_target, Some(false));
        let row = Row::new(
            "SM3",
            "hash 8 KiB",
            Unit::MegabytesPerSecond,
            sample,
            Target::Baseline,
        );
        // 100 buffers of 8 KiB in one second.
        assert!((row.ours - 0.8192).abs() < 1e-9);
        assert_eq!(row.with_reference("sm3", 0.4096).meets_target, None);
    }

    #[test]
    fn openssl_seconds_are_whole_and_positive() {
        assert_eq!(CryptoOptions::quick().openssl_seconds(), 1);
        assert_eq!(CryptoOptions::standard().openssl_seconds(), 1);
        let long = CryptoOptions {
            duration: Duration::from_millis(2500),
            ..CryptoOptions::standard()
        };
        assert_eq!(long.openssl_seconds(), 3);
    }
}
