//! OpenSSL 3 as an oracle for what the emulated CA writes.
//!
//! Skipped, loudly, when `openssl` is not installed. Certificates are issued at the real
//! current time (minus a minute) because `openssl verify` checks validity against the
//! system clock.
//!
//! OpenSSL 3.0 quirk (SM2): OpenSSL signs and verifies SM2 certificate signatures with an
//! *empty* distinguishing id unless told otherwise; GM/T 0009 §10 / GB/T 35276 (and
//! Bidkit) use the default id `1234567812345678`. So `openssl verify` needs
//! `-vfyopt distid:1234567812345678` for GM certificates, and OpenSSL 3.0 has no way to
//! pass an id for CRL signatures, so `-crl_check` with an SM2 CRL ends in "CRL signature
//! failure" (openssl/openssl#23471, #23162). The GM CRL's signature is checked here with
//! `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678` instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bidkit_pki::{CertificateAuthority, KeyPurpose, OffsetDateTime, RevocationReason, Suite};
use common::{key, organisation, person};

const SM2_ID_OPT: &str = "distid:1234567812345678";

fn openssl() -> Option<PathBuf> {
    let candidates = ["/usr/bin/openssl", "/usr/local/bin/openssl", "openssl"];
    candidates.into_iter().map(PathBuf::from).find(|p| {
        Command::new(p)
            .arg("version")
            .output()
            .map(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with("OpenSSL 3")
            })
            .unwrap_or(false)
    })
}

macro_rules! require_openssl {
    () => {
        match openssl() {
            Some(p) => p,
            None => {
                eprintln!(
                    "SKIPPED: OpenSSL 3 is not installed; the OpenSSL oracle tests did not run"
                );
                return;
            }
        }
    };
}

/// Run openssl; return (success, stdout + stderr).
fn run(bin: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    ca: CertificateAuthority,
    signing: PathBuf,
    encryption: PathBuf,
    org_signing: PathBuf,
    encryption_serial: String,
}

fn fixture(suite: Suite) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let now = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let mut ca = CertificateAuthority::open_or_create(&dir.join("ca"), suite, now).unwrap();
    let dual = ca
        .issue_dual(
            &person(),
            &key(suite, "s").public_key(),
            &key(suite, "e").public_key(),
            now,
        )
        .unwrap();
    let org = ca
        .issue(
            &organisation(),
            KeyPurpose::Signing,
            &key(suite, "o").public_key(),
            now,
        )
        .unwrap();
    let write = |name: &str, pem: String| {
        let p = dir.join(name);
        std::fs::write(&p, pem).unwrap();
        p
    };
    Fixture {
        signing: write("signing.pem", dual.signing.to_pem()),
        encryption: write("encryption.pem", dual.encryption.to_pem()),
        org_signing: write("org.pem", org.to_pem()),
        encryption_serial: dual.encryption.serial_hex(),
        dir,
        ca,
        _tmp: tmp,
    }
}

fn verify_args<'a>(suite: Suite, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["verify"];
    if suite == Suite::Gm {
        args.extend(["-vfyopt", SM2_ID_OPT]);
    }
    args.extend(extra);
    args
}

#[test]
fn openssl_verify_accepts_our_certificates() {
    let bin = require_openssl!();
    for suite in Suite::ALL {
        let f = fixture(suite);
        let root = f.ca.root_path();
        let mut args = verify_args(suite, &["-CAfile", path_str(&root)]);
        args.extend([
            path_str(&f.signing),
            path_str(&f.encryption),
            path_str(&f.org_signing),
        ]);
        let (ok, out) = run(&bin, &args);
        assert!(ok, "{suite}: openssl verify failed:\n{out}");
        assert_eq!(out.matches(": OK").count(), 3, "{out}");
        // Strict X.509 checks as well.
        let mut strict = verify_args(suite, &["-x509_strict", "-CAfile", path_str(&root)]);
        strict.push(path_str(&f.signing));
        let (ok, out) = run(&bin, &strict);
        assert!(ok, "{suite}: -x509_strict failed:\n{out}");
        if suite == Suite::Gm {
            // Documented quirk: without the id OpenSSL 3.0 uses an empty one.
            let (ok, out) = run(
                &bin,
                &["verify", "-CAfile", path_str(&root), path_str(&f.signing)],
            );
            eprintln!("GM without -vfyopt distid (OpenSSL 3.0 uses an empty id): ok={ok}\n{out}");
        } else {
            // The NIST root's self-signature also checks out.
            let (ok, out) = run(
                &bin,
                &[
                    "verify",
                    "-check_ss_sig",
                    "-CAfile",
                    path_str(&root),
                    path_str(&root),
                ],
            );
            assert!(ok, "{out}");
        }
    }
}

#[test]
fn openssl_prints_our_certificates_sanely() {
    let bin = require_openssl!();
    for suite in Suite::ALL {
        let f = fixture(suite);
        let text = |p: &Path| {
            let (ok, out) = run(
                &bin,
                &[
                    "x509",
                    "-in",
                    path_str(p),
                    "-noout",
                    "-text",
                    "-nameopt",
                    "oneline,-esc_msb",
                ],
            );
            assert!(ok, "{out}");
            out
        };
        let alg = match suite {
            Suite::Gm => "Signature Algorithm: SM2-with-SM3",
            Suite::Nist => "Signature Algorithm: ecdsa-with-SHA256",
        };
        let curve = match suite {
            Suite::Gm => "ASN1 OID: SM2",
            Suite::Nist => "ASN1 OID: prime256v1",
        };

        let root = text(&f.ca.root_path());
        let label = if suite == Suite::Gm { "GM" } else { "NIST" };
        for needle in [
            "Version: 3 (0x2)",
            alg,
            curve,
            &format!("CN = Bidkit Emulated Test Root CA ({label}) — NOT FOR PRODUCTION"),
            "O = Bidkit Test CA",
            "X509v3 Basic Constraints: critical",
            "CA:TRUE",
            "X509v3 Key Usage: critical",
            "Certificate Sign, CRL Sign",
            "X509v3 Subject Key Identifier",
        ] {
            assert!(
                root.contains(needle),
                "{suite} root lacks {needle:?}:\n{root}"
            );
        }

        let signing = text(&f.signing);
        for needle in [
            "Version: 3 (0x2)",
            alg,
            "Subject: C = CN, CN = 张三, serialNumber = 11010519491231002X",
            "X509v3 Key Usage: critical",
            "Digital Signature, Non Repudiation",
            "CA:FALSE",
            "X509v3 Authority Key Identifier",
            "NOT FOR PRODUCTION",
        ] {
            assert!(
                signing.contains(needle),
                "{suite} signing cert lacks {needle:?}:\n{signing}"
            );
        }
        assert!(!signing.contains("Key Encipherment"));

        let encryption = text(&f.encryption);
        let usage = match suite {
            Suite::Gm => "Key Encipherment, Data Encipherment\n",
            Suite::Nist => "Key Encipherment, Data Encipherment, Key Agreement\n",
        };
        assert!(
            encryption.contains("X509v3 Key Usage: critical"),
            "{encryption}"
        );
        assert!(
            encryption.contains(usage),
            "{suite} encryption cert lacks {usage:?}:\n{encryption}"
        );
        assert!(!encryption.contains("Digital Signature"));

        let org = text(&f.org_signing);
        assert!(
            org.contains(
                "Subject: C = CN, O = 北京某某建设有限公司, CN = 北京某某建设有限公司, organizationIdentifier = 91110000600037341L"
            ),
            "{org}"
        );
    }
}

#[test]
fn openssl_reads_our_crl_and_sees_the_revocation() {
    let bin = require_openssl!();
    for suite in Suite::ALL {
        let mut f = fixture(suite);
        let now = OffsetDateTime::now_utc() - time::Duration::seconds(30);
        f.ca.revoke(&f.encryption_serial, RevocationReason::KeyCompromise, now)
            .unwrap();
        let crl = f.ca.crl_path();
        let root = f.ca.root_path();

        let (ok, out) = run(&bin, &["crl", "-in", path_str(&crl), "-noout", "-text"]);
        assert!(ok, "{out}");
        for needle in [
            "Version 2 (0x1)",
            "NOT FOR PRODUCTION",
            "X509v3 CRL Number",
            "X509v3 Authority Key Identifier",
            "Key Compromise",
            &f.encryption_serial.to_uppercase(),
        ] {
            assert!(
                out.contains(needle),
                "{suite} CRL text lacks {needle:?}:\n{out}"
            );
        }
        // The DER copy parses too.
        let der = f.ca.dir().join("crl.der");
        let (ok, out) = run(
            &bin,
            &["crl", "-inform", "DER", "-in", path_str(&der), "-noout"],
        );
        assert!(ok, "{out}");

        let mut args = verify_args(
            suite,
            &[
                "-crl_check",
                "-CRLfile",
                path_str(&crl),
                "-CAfile",
                path_str(&root),
            ],
        );
        args.push(path_str(&f.encryption));
        let (ok, out) = run(&bin, &args);
        assert!(!ok, "{suite}: a revoked certificate passed:\n{out}");
        match suite {
            Suite::Nist => {
                assert!(out.contains("certificate revoked"), "{out}");
                // Signature of the CRL checked by OpenSSL.
                let (ok, out) = run(
                    &bin,
                    &[
                        "crl",
                        "-in",
                        path_str(&crl),
                        "-CAfile",
                        path_str(&root),
                        "-noout",
                    ],
                );
                assert!(ok && out.contains("verify OK"), "{out}");
                // The signing certificate is not revoked.
                let mut args = verify_args(
                    suite,
                    &[
                        "-crl_check",
                        "-CRLfile",
                        path_str(&crl),
                        "-CAfile",
                        path_str(&root),
                    ],
                );
                args.push(path_str(&f.signing));
                let (ok, out) = run(&bin, &args);
                assert!(ok, "{out}");
            }
            Suite::Gm => {
                // OpenSSL 3.0 cannot take an SM2 id for CRLs (see the module docs).
                assert!(
                    out.contains("certificate revoked") || out.contains("CRL signature failure"),
                    "{out}"
                );
                eprintln!("GM -crl_check with OpenSSL 3.0:\n{out}");
                check_sm2_crl_signature(&bin, &f.dir, &crl, &root);
            }
        }
    }
}

/// Check the SM2 CRL's signature with `openssl pkeyutl` and the standard id: the signed
/// part and the signature are cut out with `openssl asn1parse`.
fn check_sm2_crl_signature(bin: &Path, dir: &Path, crl: &Path, root: &Path) {
    let (ok, listing) = run(bin, &["asn1parse", "-in", path_str(crl)]);
    assert!(ok, "{listing}");
    // Line 2 is the TBSCertList at offset 4 (outer header of 4 bytes); the last line is
    // the signature BIT STRING.
    let offset_of = |line: &str| line.trim().split(':').next().unwrap().trim().to_owned();
    let lines: Vec<&str> = listing.lines().filter(|l| !l.trim().is_empty()).collect();
    let tbs_offset = offset_of(lines[1]);
    let sig_offset = offset_of(lines[lines.len() - 1]);
    assert!(lines[lines.len() - 1].contains("BIT STRING"), "{listing}");
    let tbs = dir.join("tbs.der");
    let sig = dir.join("sig.der");
    let pubkey = dir.join("root-pub.pem");
    for (offset, out) in [(&tbs_offset, &tbs), (&sig_offset, &sig)] {
        let (ok, text) = run(
            bin,
            &[
                "asn1parse",
                "-in",
                path_str(crl),
                "-strparse",
                offset,
                "-noout",
                "-out",
                path_str(out),
            ],
        );
        assert!(ok, "{text}");
    }
    let (ok, text) = run(
        bin,
        &[
            "x509",
            "-in",
            path_str(root),
            "-pubkey",
            "-noout",
            "-out",
            path_str(&pubkey),
        ],
    );
    assert!(ok, "{text}");
    let verify = |id: Option<&str>| {
        let mut args = vec![
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            path_str(&pubkey),
            "-rawin",
            "-digest",
            "sm3",
            "-in",
            path_str(&tbs),
            "-sigfile",
            path_str(&sig),
        ];
        if let Some(id) = id {
            args.extend(["-pkeyopt", id]);
        }
        run(bin, &args)
    };
    let (ok, text) = verify(Some(SM2_ID_OPT));
    assert!(
        ok && text.contains("Signature Verified Successfully"),
        "{text}"
    );
    // And it is really the id that makes the difference.
    let (ok, _) = verify(None);
    assert!(
        !ok,
        "the SM2 CRL signature should not verify with an empty id"
    );
}
