//! RFC 3161: request → emulated TSA → token → verification, embedding the token in a
//! signature, and OpenSSL's `ts` as an oracle for the NIST suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bidkit_cms::tsa::{self, EmulatedTsa, TimestampRequest};
use bidkit_cms::{CmsError, parse};
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::{Certificate, KeyPurpose, OffsetDateTime, Subject};
use common::{CONTENT, T0, fixture};

const AT: OffsetDateTime = time::macros::datetime!(2026-03-01 08:00:07 UTC);

fn tsa_subject() -> Subject {
    Subject::Organisation {
        name: "Bidkit 时间戳服务".into(),
        uscc: "91110000600037341L".into(),
    }
}

#[test]
fn emulated_tsa_round_trip_in_both_suites() {
    for suite in Suite::ALL {
        let mut f = fixture(suite);
        let tsa_key = PrivateKey::for_tests(suite, "tsa");
        let tsa_cert =
            f.ca.issue(
                &tsa_subject(),
                KeyPurpose::Signing,
                &tsa_key.public_key(),
                T0,
            )
            .unwrap();
        let tsa = EmulatedTsa::new(&tsa_key, tsa_cert.clone());

        // Sign a document, stamp its signature value, embed the token.
        let (_, sig, _) = f.sign(CONTENT, None);
        let imprint = tsa::signature_imprint(suite.hash(), &sig);
        let request = TimestampRequest::new(suite.hash(), &imprint).unwrap();
        let back = TimestampRequest::from_der(request.to_der()).unwrap();
        assert_eq!(back.message_imprint(), imprint);
        assert_eq!(back.hash_algorithm(), suite.hash());

        let response = tsa.respond(request.to_der(), AT).unwrap();
        let token = tsa::parse_response(&response).unwrap();
        let info = tsa::verify_token(&token, &imprint).unwrap();
        assert_eq!(info.time, AT, "{suite}");
        assert_eq!(info.suite, suite);
        assert_eq!(info.hash_algorithm, suite.hash());
        assert_eq!(info.policy, tsa::EMULATED_POLICY);
        assert!(!info.serial.is_empty());
        assert_eq!(info.tsa_certificate.to_der(), tsa_cert.to_der());
        assert!(info.tsa_subject.contains("时间戳"), "{}", info.tsa_subject);
        assert!(
            !info.time_stamping_purpose,
            "the test CA issues no timeStamping EKU"
        );

        // Another imprint is refused.
        let err = tsa::verify_token(&token, &[0u8; 32]).unwrap_err();
        assert!(matches!(err, CmsError::InvalidTimestamp(_)), "{err}");

        // A changed genTime breaks the token's messageDigest.
        let mut tampered = token.clone();
        let at = common::find(&tampered, b"20260301080007Z").unwrap();
        tampered[at + 13] = b'8';
        let err = tsa::verify_token(&tampered, &imprint).unwrap_err();
        assert!(err.to_string().contains("digest"), "{err}");

        // Embedded as the unsigned signatureTimeStampToken attribute.
        let (_, sig2, der) = {
            let attrs =
                bidkit_cms::SignedAttributes::new(suite, &f.digest(CONTENT), &f.cert, T0).unwrap();
            let sig2 = f.key.sign(attrs.to_be_signed()).unwrap();
            // Stamp this signature.
            let imprint2 = tsa::signature_imprint(suite.hash(), &sig2);
            let req2 = TimestampRequest::new(suite.hash(), &imprint2).unwrap();
            let token2 = tsa::parse_response(&tsa.respond(req2.to_der(), AT).unwrap()).unwrap();
            let der = bidkit_cms::assemble(&attrs, &sig2, &f.chain(), Some(&token2)).unwrap();
            (attrs, sig2, der)
        };
        let p = parse(&der).unwrap();
        assert!(p.verify(&f.digest(CONTENT)).is_valid());
        let embedded = p.timestamp_token.unwrap();
        let info = tsa::verify_token(
            &embedded,
            &tsa::signature_imprint(p.digest_algorithm, &sig2),
        )
        .unwrap();
        assert_eq!(info.time, AT);

        // A signing key that does not match the certificate gives an invalid token.
        let wrong = EmulatedTsa::new(&f.key, tsa_cert.clone());
        let token = tsa::parse_response(&wrong.respond(request.to_der(), AT).unwrap()).unwrap();
        assert!(tsa::verify_token(&token, &imprint).is_err());
    }
}

#[test]
fn bad_requests_are_rejected_with_a_status() {
    let f = fixture(Suite::Nist);
    let tsa = EmulatedTsa::new(&f.key, f.cert.clone());
    for request in [&b"garbage"[..], &[0x30, 0x00]] {
        let response = tsa.respond(request, AT).unwrap();
        let err = tsa::parse_response(&response).unwrap_err();
        assert!(err.to_string().contains("rejection"), "{err}");
    }
    assert!(TimestampRequest::new(Suite::Nist.hash(), &[0u8; 20]).is_err());
}

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

fn run(bin: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn openssl_ts_reads_and_verifies_emulated_responses() {
    let Some(bin) = openssl() else {
        eprintln!("SKIPPED: OpenSSL 3 is not installed; the ts oracle did not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);

    // A TSA certificate with the critical timeStamping EKU `openssl ts -verify` insists
    // on (RFC 3161 §2.3), self-signed by OpenSSL for our P-256 key.
    let key = PrivateKey::for_tests(Suite::Nist, "openssl tsa");
    let mut sec1 = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    sec1.extend_from_slice(&key.to_bytes()[..]);
    sec1.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    std::fs::write(path("tsa.key.der"), &sec1).unwrap();
    let (ok, out) = run(
        &bin,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            s(&path("tsa.key.der")),
            "-keyform",
            "DER",
            "-subj",
            "/CN=Bidkit Emulated TSA",
            "-days",
            "2",
            "-addext",
            "extendedKeyUsage=critical,timeStamping",
            "-out",
            s(&path("tsa.pem")),
        ],
    );
    assert!(ok, "openssl req failed:\n{out}");
    let tsa_cert =
        Certificate::from_pem(&std::fs::read_to_string(path("tsa.pem")).unwrap()).unwrap();
    let tsa = EmulatedTsa::new(&key, tsa_cert);

    // OpenSSL writes the request; we answer it.
    std::fs::write(path("data.bin"), CONTENT).unwrap();
    let (ok, out) = run(
        &bin,
        &[
            "ts",
            "-query",
            "-data",
            s(&path("data.bin")),
            "-sha256",
            "-cert",
            "-out",
            s(&path("req.tsq")),
        ],
    );
    assert!(ok, "{out}");
    let request = std::fs::read(path("req.tsq")).unwrap();
    let response = tsa.respond(&request, OffsetDateTime::now_utc()).unwrap();
    std::fs::write(path("resp.tsr"), &response).unwrap();

    let (ok, out) = run(
        &bin,
        &["ts", "-reply", "-in", s(&path("resp.tsr")), "-text"],
    );
    assert!(ok, "openssl ts -reply failed:\n{out}");
    assert!(out.contains("Status: Granted."), "{out}");
    assert!(
        out.contains("Policy OID: 1.3.6.1.4.1.55555.3161.1"),
        "{out}"
    );
    assert!(out.contains("Hash Algorithm: sha256"), "{out}");
    assert!(out.contains("Nonce: 0x"), "{out}");

    let (ok, out) = run(
        &bin,
        &[
            "ts",
            "-verify",
            "-in",
            s(&path("resp.tsr")),
            "-queryfile",
            s(&path("req.tsq")),
            "-CAfile",
            s(&path("tsa.pem")),
        ],
    );
    assert!(
        ok && out.contains("Verification: OK"),
        "openssl ts -verify failed:\n{out}"
    );
    let (ok, out) = run(
        &bin,
        &[
            "ts",
            "-verify",
            "-in",
            s(&path("resp.tsr")),
            "-data",
            s(&path("data.bin")),
            "-CAfile",
            s(&path("tsa.pem")),
        ],
    );
    assert!(ok, "openssl ts -verify -data failed:\n{out}");

    // And we verify the token of the response OpenSSL just accepted.
    let token = tsa::parse_response(&response).unwrap();
    let info = tsa::verify_token(&token, &Suite::Nist.hash().digest(CONTENT)).unwrap();
    assert!(
        info.tsa_subject.contains("Bidkit Emulated TSA"),
        "{}",
        info.tsa_subject
    );
    assert!(info.time_stamping_purpose, "the EKU OpenSSL wrote is seen");
}
