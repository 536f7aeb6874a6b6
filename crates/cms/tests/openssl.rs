//! OpenSSL 3 as an oracle for the containers.
//!
//! * NIST: `openssl cms -verify` accepts our detached signatures (and rejects them once
//!   a content byte changes); we read and verify what `openssl cms -sign` writes
//!   (including a subject-key-identifier sid and the CAdES signing-certificate-v2).
//! * GM: OpenSSL 3.0 cannot read GM/T 0010 CMS, so `openssl asn1parse` parses the
//!   container (the OIDs must appear) and `openssl pkeyutl -verify -rawin -digest sm3
//!   -pkeyopt distid:1234567812345678` verifies the signature over the signed attributes.
//!
//! Skipped, loudly, when OpenSSL 3 is not installed. Certificates are issued at the real
//! current time (minus a minute) because OpenSSL checks validity against the clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bidkit_cms::{SignedAttributes, assemble, parse};
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::OffsetDateTime;
use common::{CONTENT, Fixture, fixture_at};

fn openssl() -> Option<PathBuf> {
    ["/usr/bin/openssl", "/usr/local/bin/openssl", "openssl"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| {
            Command::new(p).arg("version").output().is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with("OpenSSL 3")
            })
        })
}

macro_rules! require_openssl {
    () => {
        match openssl() {
            Some(p) => p,
            None => {
                eprintln!("SKIPPED: OpenSSL 3 is not installed; the OpenSSL oracle did not run");
                return;
            }
        }
    };
}

/// Run openssl; (success, stdout, stderr + stdout as text).
fn run(bin: &Path, args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), out.stdout, text)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn now_fixture(suite: Suite) -> Fixture {
    fixture_at(
        suite,
        OffsetDateTime::now_utc() - time::Duration::minutes(1),
    )
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// A P-256 private key as SEC1 `ECPrivateKey` DER (RFC 5915), for `-keyform DER`.
fn p256_sec1_der(key: &PrivateKey) -> Vec<u8> {
    let mut der = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    der.extend_from_slice(&key.to_bytes()[..]);
    der.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    der
}

#[test]
fn openssl_cms_verifies_our_nist_signature() {
    let bin = require_openssl!();
    let f = now_fixture(Suite::Nist);
    let files = Files::new();
    let (_, _, der) = f.sign(CONTENT, None);
    let sig = files.write("sig.der", &der);
    let content = files.write("content.bin", CONTENT);
    let root = files.write("root.pem", f.ca.root().to_pem().as_bytes());
    let verify = |content: &Path| {
        run(
            &bin,
            &[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                p(&sig),
                "-content",
                p(content),
                "-CAfile",
                p(&root),
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
        )
    };
    let (ok, _, out) = verify(&content);
    assert!(ok, "openssl cms -verify failed:\n{out}");
    assert!(out.contains("Verification successful"), "{out}");

    let mut changed = CONTENT.to_vec();
    changed[3] ^= 0x20;
    let tampered = files.write("tampered.bin", &changed);
    let (ok, _, out) = verify(&tampered);
    assert!(!ok, "openssl accepted changed content:\n{out}");
    assert!(out.contains("content verify error"), "{out}");

    // OpenSSL's own reading of the structure.
    let (ok, _, out) = run(
        &bin,
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            p(&sig),
            "-noout",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("ecdsa-with-SHA256"), "{out}");
    assert!(out.contains("sha256"), "{out}");
    assert!(out.contains("id-smime-aa-signingCertificateV2"), "{out}");
    assert!(out.contains("eContent: <ABSENT>"), "{out}");
}

#[test]
fn we_verify_openssl_nist_signatures() {
    let bin = require_openssl!();
    let f = now_fixture(Suite::Nist);
    let files = Files::new();
    let content = files.write("content.bin", CONTENT);
    let cert = files.write("cert.pem", f.cert.to_pem().as_bytes());
    let key = files.write("key.der", &p256_sec1_der(&f.key));
    for extra in [&["-keyid"][..], &["-cades"][..]] {
        let out_path = files.dir.path().join("openssl-sig.der");
        let mut args = vec![
            "cms",
            "-sign",
            "-binary",
            "-md",
            "sha256",
            "-in",
            p(&content),
            "-signer",
            p(&cert),
            "-inkey",
            p(&key),
            "-keyform",
            "DER",
            "-outform",
            "DER",
            "-out",
            p(&out_path),
        ];
        args.extend_from_slice(extra);
        let (ok, _, out) = run(&bin, &args);
        assert!(ok, "openssl cms -sign {extra:?} failed:\n{out}");
        let der = std::fs::read(&out_path).unwrap();
        let parsed = parse(&der).unwrap();
        assert_eq!(parsed.signer.to_der(), f.cert.to_der(), "{extra:?}");
        let check = parsed.verify(&f.digest(CONTENT));
        assert!(check.is_valid(), "{extra:?}: {check:?}");
        let expected_ess = if extra == ["-cades"] {
            Some(true)
        } else {
            None
        };
        assert_eq!(check.signing_certificate_matches, expected_ess, "{extra:?}");
        assert!(!parsed.verify(&f.digest(b"other")).is_valid());
    }
}

#[test]
fn gm_container_parses_and_its_signature_verifies_in_openssl() {
    let bin = require_openssl!();
    let f = now_fixture(Suite::Gm);
    let files = Files::new();
    let (attrs, sig, der) = f.sign(CONTENT, None);
    let container = files.write("gm.der", &der);
    let (ok, _, out) = run(&bin, &["asn1parse", "-inform", "DER", "-in", p(&container)]);
    assert!(ok, "openssl asn1parse failed:\n{out}");
    assert!(!out.contains("Error"), "{out}");
    for expected in [
        "1.2.156.10197.6.1.4.2.2", // GM/T 0010 signedData
        "1.2.156.10197.6.1.4.2.1", // GM/T 0010 data
        ":sm3",                    // 1.2.156.10197.1.401
        "1.2.156.10197.1.301.1",   // sm2-1
        ":contentType",
        ":messageDigest",
        ":signingTime",
        ":id-smime-aa-signingCertificateV2",
    ] {
        assert!(out.contains(expected), "{expected} missing:\n{out}");
    }

    // The signature over the DER signed attributes, with OpenSSL's SM2.
    let p_sig = parse(&der).unwrap();
    assert_eq!(p_sig.signed_attributes, attrs.to_be_signed());
    let pubkey = files.write("signer.pub.der", &f.key.public_key().to_spki_der().unwrap());
    let sigfile = files.write("sig.der", &sig);
    let verify = |msg: &Path| {
        run(
            &bin,
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-keyform",
                "DER",
                "-inkey",
                p(&pubkey),
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
                "-in",
                p(msg),
                "-sigfile",
                p(&sigfile),
            ],
        )
    };
    let attrs_file = files.write("attrs.der", &p_sig.signed_attributes);
    let (ok, _, out) = verify(&attrs_file);
    assert!(ok, "openssl pkeyutl rejected the GM signature:\n{out}");
    assert!(out.contains("Signature Verified Successfully"), "{out}");
    let mut flipped = p_sig.signed_attributes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let bad = files.write("attrs-bad.der", &flipped);
    let (ok, _, out) = verify(&bad);
    assert!(!ok, "openssl accepted changed attributes:\n{out}");

    // The signed attributes parse on their own as a SET.
    let (ok, _, out) = run(
        &bin,
        &["asn1parse", "-inform", "DER", "-in", p(&attrs_file)],
    );
    assert!(ok && out.contains("cons: SET"), "{out}");
}

#[test]
fn openssl_sm2_signature_over_our_attributes_verifies_with_us() {
    let bin = require_openssl!();
    // OpenSSL signs the to-be-signed bytes (as a phone might); we assemble and verify.
    let f = now_fixture(Suite::Gm);
    let files = Files::new();
    let attrs = SignedAttributes::new(Suite::Gm, &f.digest(CONTENT), &f.cert, common::T0).unwrap();
    let msg = files.write("tbs.der", attrs.to_be_signed());
    // The key as PKCS#8 for OpenSSL: build SEC1 via OpenSSL from the raw scalar is not
    // possible, so export through a PKCS#8 template for SM2 (RFC 5915 + GM/T 0006 OIDs).
    let mut sec1 = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    sec1.extend_from_slice(&f.key.to_bytes()[..]);
    sec1.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d,
    ]);
    let key = files.write("sm2.der", &sec1);
    let (ok, sig, out) = run(
        &bin,
        &[
            "pkeyutl",
            "-sign",
            "-keyform",
            "DER",
            "-inkey",
            p(&key),
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
            p(&msg),
        ],
    );
    assert!(ok, "openssl pkeyutl -sign failed:\n{out}");
    let der = assemble(&attrs, &sig, &f.chain(), None).unwrap();
    let check = parse(&der).unwrap().verify(&f.digest(CONTENT));
    assert!(check.is_valid(), "{check:?}");
}
