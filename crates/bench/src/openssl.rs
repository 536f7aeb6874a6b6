//! Running `openssl speed` as the reference and reading its machine-readable output.
//!
//! Every run uses `-mr` (machine-readable lines such as `+F:25:sm3:472292894.12`) and
//! `-elapsed` (divide by wall-clock time, as our own measurements do).
//!
//! Lines read (OpenSSL 3.0 `apps/speed.c`):
//!
//! * `+F:<index>:<name>:<bytes per second>…` for ciphers and digests (one value per
//!   buffer size; with `-bytes N` there is exactly one);
//! * `+F4:<index>:<bits>:<signs per second>:<verifies per second>` for ECDSA;
//! * `+F7:<index>:<bits>:<curve>:<signs per second>:<verifies per second>` for SM2.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{BenchError, Result};

/// The `openssl` command line tool used as the reference.
#[derive(Clone, Debug)]
pub struct Openssl {
    program: PathBuf,
    version: String,
}

/// Signing and verifying rates of one curve, from `openssl speed`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignVerifyRates {
    /// Signatures per second.
    pub sign_per_sec: f64,
    /// Verifications per second.
    pub verify_per_sec: f64,
}

impl Openssl {
    /// Find the tool at `program` (a path, or a name looked up on `PATH`) and read its
    /// version. `Ok(None)` means it is not installed.
    pub fn locate(program: &Path) -> Result<Option<Self>> {
        let output = match Command::new(program).arg("version").output() {
            Ok(o) => o,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(BenchError::Spawn {
                    program: program.display().to_string(),
                    source,
                });
            }
        };
        let command = format!("{} version", program.display());
        if !output.status.success() {
            return Err(failed(command, &output));
        }
        let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if version.is_empty() {
            return Err(BenchError::ReferenceOutput {
                command,
                reason: "empty version string".into(),
            });
        }
        Ok(Some(Openssl {
            program: program.to_owned(),
            version,
        }))
    }

    /// The first line of `openssl version`, e.g. `OpenSSL 3.0.19 27 Jan 2026 (…)`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Throughput in bytes per second of `openssl speed -evp <algorithm>` on buffers of
    /// `bytes` bytes, run for `seconds` seconds. `aead` adds `-aead` (a full
    /// TLS-record-like seal per buffer: new nonce, 13 bytes of associated data, tag).
    pub fn evp_throughput(
        &self,
        algorithm: &str,
        bytes: usize,
        seconds: u32,
        aead: bool,
    ) -> Result<f64> {
        let bytes = bytes.to_string();
        let seconds = seconds.max(1).to_string();
        let mut args = vec!["speed", "-mr", "-elapsed", "-seconds", &seconds];
        if aead {
            args.push("-aead");
        }
        args.extend(["-bytes", &bytes, "-evp", algorithm]);
        let (command, stdout) = self.run(&args)?;
        parse_throughput(&stdout).ok_or_else(|| BenchError::ReferenceOutput {
            command,
            reason: "no `+F:` line with a throughput".into(),
        })
    }

    /// Sign and verify rates of `openssl speed sm2`.
    pub fn sm2_rates(&self, seconds: u32) -> Result<SignVerifyRates> {
        self.sign_verify("sm2", "+F7:", seconds)
    }

    /// Sign and verify rates of `openssl speed ecdsap256`.
    pub fn ecdsa_p256_rates(&self, seconds: u32) -> Result<SignVerifyRates> {
        self.sign_verify("ecdsap256", "+F4:", seconds)
    }

    fn sign_verify(&self, algorithm: &str, tag: &str, seconds: u32) -> Result<SignVerifyRates> {
        let seconds = seconds.max(1).to_string();
        let (command, stdout) =
            self.run(&["speed", "-mr", "-elapsed", "-seconds", &seconds, algorithm])?;
        parse_sign_verify(&stdout, tag).ok_or_else(|| BenchError::ReferenceOutput {
            command,
            reason: format!("no `{tag}` line with sign and verify rates"),
        })
    }

    fn run(&self, args: &[&str]) -> Result<(String, String)> {
        let command = format!("{} {}", self.program.display(), args.join(" "));
        let output = Command::new(&self.program)
            .args(args)
            .output()
            .map_err(|source| BenchError::Spawn {
                program: self.program.display().to_string(),
                source,
            })?;
        if !output.status.success() {
            return Err(failed(command, &output));
        }
        // `-mr` lines go to stdout; older builds printed some to stderr.
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok((command, text))
    }
}

fn failed(command: String, output: &std::process::Output) -> BenchError {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    BenchError::ReferenceFailed {
        command,
        status: output.status.to_string(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
    }
}

/// The bytes-per-second figure of the first `+F:` line.
pub(crate) fn parse_throughput(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("+F:"))?;
    let value = line.rsplit(':').next()?.trim().parse::<f64>().ok()?;
    (value.is_finite() && value > 0.0).then_some(value)
}

/// The last two fields (signs/s, verifies/s) of the first line starting with `tag`.
pub(crate) fn parse_sign_verify(text: &str, tag: &str) -> Option<SignVerifyRates> {
    let line = text.lines().find(|l| l.starts_with(tag))?;
    let mut fields = line.rsplit(':');
    let verify = fields.next()?.trim().parse::<f64>().ok()?;
    let sign = fields.next()?.trim().parse::<f64>().ok()?;
    let ok = |v: f64| v.is_finite() && v > 0.0;
    (ok(sign) && ok(verify)).then_some(SignVerifyRates {
        sign_per_sec: sign,
        verify_per_sec: verify,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Output captured from `openssl speed -mr -elapsed -seconds 1 -bytes 8192 -evp sm3`
    // and `openssl speed -mr -elapsed -seconds 1 sm2 ecdsap256`, OpenSSL 3.0.19.
    const DIGEST: &str = "+DT:sm3:1:8192\n+R:55467:sm3:1.000000\n+H:8192\n+F:25:sm3:454385664.00\n";
    const CURVES: &str = "+DTP:256:sign:ecdsa:1\n+R5:53947:256:0.86\n\
                          +F4:3:256:59074.000000:19202.000000\n\
                          +F7:0:256:CurveSM2:3047.000000:3837.000000\n";

    #[test]
    fn reads_a_throughput_line() {
        assert_eq!(parse_throughput(DIGEST), Some(454_385_664.0));
        assert_eq!(parse_throughput("+H:8192\n"), None);
        assert_eq!(parse_throughput("+F:25:sm3:nan\n"), None);
    }

    #[test]
    fn reads_sign_and_verify_rates() {
        let sm2 = parse_sign_verify(CURVES, "+F7:").unwrap();
        assert_eq!(sm2.sign_per_sec, 3047.0);
        assert_eq!(sm2.verify_per_sec, 3837.0);
        let p256 = parse_sign_verify(CURVES, "+F4:").unwrap();
        assert_eq!(p256.sign_per_sec, 59074.0);
        assert_eq!(p256.verify_per_sec, 19202.0);
        assert_eq!(parse_sign_verify(DIGEST, "+F7:"), None);
    }

    #[test]
    fn a_missing_program_is_not_an_error() {
        let missing = Path::new("/nonexistent/bidkit-test/openssl");
        assert!(Openssl::locate(missing).unwrap().is_none());
    }
}
