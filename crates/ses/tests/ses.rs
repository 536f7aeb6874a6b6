//! SESeal and SES_Signature: round trips in both suites, tampering, hostile input, and
//! OpenSSL reading our DER.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bidkit_crypto::{HashAlgorithm, PrivateKey, Suite};
use bidkit_pki::{Certificate, CertificateAuthority, KeyPurpose, Subject, TrustStore};
use bidkit_ses::{
    CertBinding, CertDigest, Picture, SESeal, SealInfo, SealTrust, SealType, SesError,
    SesSignature, TbsSign,
};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-05-01 08:00 UTC);
/// The smallest PNG header, enough for a picture field.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-not-really-a-picture-";

struct Fx {
    _dir: tempfile::TempDir,
    ca: CertificateAuthority,
    maker_key: PrivateKey,
    maker: Certificate,
    user_key: PrivateKey,
    user: Certificate,
}

fn fx(suite: Suite) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = CertificateAuthority::open_or_create(dir.path(), suite, T0).unwrap();
    let maker_key = PrivateKey::generate(suite).unwrap();
    let maker = ca
        .issue(
            &Subject::Organisation {
                name: "Bidkit 模拟制章系统".into(),
                uscc: "91110000MA01BIDK1T".into(),
            },
            KeyPurpose::Signing,
            &maker_key.public_key(),
            T0,
        )
        .unwrap();
    let user_key = PrivateKey::generate(suite).unwrap();
    let user = ca
        .issue(
            &Subject::Organisation {
                name: "北京某某建设有限公司".into(),
                uscc: "91110105MA00ABCD1X".into(),
            },
            KeyPurpose::Signing,
            &user_key.public_key(),
            T0,
        )
        .unwrap();
    Fx {
        _dir: dir,
        ca,
        maker_key,
        maker,
        user_key,
        user,
    }
}

fn info(fx: &Fx) -> SealInfo {
    SealInfo {
        vendor_id: bidkit_ses::BIDKIT_VENDOR_ID.into(),
        es_id: "bidkit-test-1".into(),
        seal_type: SealType::Organisation,
        name: "北京某某建设有限公司公章".into(),
        kind: Some("official".into()),
        binding: CertBinding::Certificates(vec![fx.user.to_der().to_vec()]),
        binding_note: None,
        created: T0,
        valid_start: T0,
        valid_end: T0 + Duration::days(3650),
        picture: Picture {
            format: "PNG".into(),
            data: PNG.to_vec(),
            width_mm: 42.0,
            height_mm: 41.73,
        },
        extensions: Vec::new(),
    }
}

fn trust(fx: &Fx) -> TrustStore {
    fx.ca.trust_store(T0).unwrap()
}

#[test]
fn seal_round_trip_and_verify_in_both_suites() {
    for suite in Suite::ALL {
        let fx = fx(suite);
        let seal = SESeal::make(info(&fx), &fx.maker_key, &fx.maker).unwrap();
        let back = SESeal::from_der(seal.to_der()).unwrap();
        assert_eq!(back.to_der(), seal.to_der());
        assert_eq!(back.info().name, "北京某某建设有限公司公章");
        assert_eq!(back.info().kind.as_deref(), Some("official"));
        assert_eq!(back.info().seal_type, SealType::Organisation);
        assert!((back.info().picture.height_mm - 41.73).abs() < 1e-3);
        assert_eq!(back.asn1().eseal_info.picture.height, 42);
        assert_eq!(back.algorithm_oid(), suite.signature().oid());
        assert_eq!(back.maker_certificate().unwrap(), fx.maker);

        let at = T0 + Duration::days(400); // after the maker certificate expired
        let v = back.verify(&SealTrust::Maker(&fx.maker), at).unwrap();
        assert!(v.chain.is_none());
        let store = trust(&fx);
        let v = back.verify(&SealTrust::Roots(&store), at).unwrap();
        assert_eq!(v.chain.unwrap().root(), fx.ca.root());
        assert!(v.info.binding.binds(&fx.user));
        assert!(!v.info.binding.binds(&fx.maker));
    }
}

#[test]
fn seal_validity_and_maker_trust_are_checked() {
    let fx = fx(Suite::Gm);
    let seal = SESeal::make(info(&fx), &fx.maker_key, &fx.maker).unwrap();
    let pinned = SealTrust::Maker(&fx.maker);
    assert!(matches!(
        seal.verify(&pinned, T0 - Duration::seconds(1)),
        Err(SesError::SealNotYetValid { .. })
    ));
    assert!(matches!(
        seal.verify(&pinned, T0 + Duration::days(3651)),
        Err(SesError::SealExpired { .. })
    ));
    // Another maker pinned.
    assert!(matches!(
        seal.verify(&SealTrust::Maker(&fx.user), T0),
        Err(SesError::UnknownMaker { .. })
    ));
    // A root of another CA.
    let other = self::fx(Suite::Gm);
    let store = trust(&other);
    assert!(matches!(
        seal.verify(&SealTrust::Roots(&store), T0),
        Err(SesError::UntrustedMaker(_))
    ));
    // The wrong key for the maker certificate.
    assert!(matches!(
        SESeal::make(info(&fx), &fx.user_key, &fx.maker),
        Err(SesError::KeyMismatch { .. })
    ));
    // No picture.
    let mut empty = info(&fx);
    empty.picture.data.clear();
    assert!(SESeal::make(empty, &fx.maker_key, &fx.maker).is_err());
}

/// Replace the first occurrence of `from` in `der` by `to` (same length).
fn patch(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = der
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = der.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn tampered_seals_fail() {
    for suite in Suite::ALL {
        let fx = fx(suite);
        let seal = SESeal::make(info(&fx), &fx.maker_key, &fx.maker).unwrap();
        let pinned = SealTrust::Maker(&fx.maker);
        // Picture bytes changed.
        let bad = patch(seal.to_der(), b"not-really", b"NOT-REALLY");
        let bad = SESeal::from_der(&bad).unwrap();
        assert!(matches!(
            bad.verify(&pinned, T0),
            Err(SesError::BadSignature { .. })
        ));
        // Name changed (UTF-8 bytes of 公章 → 合章).
        let bad = patch(seal.to_der(), "公章".as_bytes(), "合章".as_bytes());
        let bad = SESeal::from_der(&bad).unwrap();
        assert!(matches!(
            bad.verify(&pinned, T0),
            Err(SesError::BadSignature { .. })
        ));
        // Every single flipped bit is an error: a parse error or a failed verification.
        let der = seal.to_der();
        for i in (0..der.len()).step_by(7) {
            let mut d = der.to_vec();
            d[i] ^= 0x01;
            if let Ok(s) = SESeal::from_der(&d) {
                assert!(
                    s.verify(&pinned, T0 + Duration::days(1)).is_err(),
                    "byte {i}"
                );
            }
        }
    }
}

#[test]
fn digest_binding_and_personal_type_round_trip() {
    let fx = fx(Suite::Gm);
    let mut i = info(&fx);
    i.seal_type = SealType::Personal;
    i.binding = CertBinding::Digests(vec![CertDigest {
        algorithm: "SM3".into(),
        value: HashAlgorithm::Sm3.digest(fx.user.to_der()).to_vec(),
    }]);
    i.binding_note = Some("bound by digest".into());
    let seal = SESeal::make(i.clone(), &fx.maker_key, &fx.maker).unwrap();
    let back = SESeal::from_der(seal.to_der()).unwrap();
    assert_eq!(back.info(), &i);
    assert!(back.info().binding.binds(&fx.user));
}

fn signature(fx: &Fx, hash: &[u8]) -> SesSignature {
    let seal = SESeal::make(info(fx), &fx.maker_key, &fx.maker).unwrap();
    let tbs = TbsSign::new(
        seal,
        T0 + Duration::hours(1),
        hash.to_vec(),
        "bid.pdf rev 2",
    );
    // The staged path: bytes out, signature value back, assemble.
    let message = tbs.to_be_signed().unwrap();
    let value = bidkit_crypto::Signer::sign(&fx.user_key, &message).unwrap();
    SesSignature::assemble(tbs, &fx.user, &value).unwrap()
}

#[test]
fn signature_round_trip_and_verify_in_both_suites() {
    for suite in Suite::ALL {
        let fx = fx(suite);
        let hash = suite.hash().digest(b"the document");
        let sig = signature(&fx, &hash);
        let back = SesSignature::from_der(sig.to_der()).unwrap();
        assert_eq!(back.to_der(), sig.to_der());
        assert_eq!(back.tbs().property_info, "bid.pdf rev 2");
        assert_eq!(back.tbs().data_hash, hash);
        let v = back.verify(&hash, &SealTrust::Maker(&fx.maker)).unwrap();
        assert_eq!(v.signer, fx.user);
        let store = trust(&fx);
        let v = back.verify(&hash, &SealTrust::Roots(&store)).unwrap();
        assert!(v.chain.is_some());
        assert_eq!(v.seal.maker, fx.maker);

        // Wrong data hash.
        let other = suite.hash().digest(b"another document");
        assert!(matches!(
            back.verify(&other, &SealTrust::Maker(&fx.maker)),
            Err(SesError::DataHashMismatch)
        ));
        // Tampered signed part.
        let bad = patch(sig.to_der(), b"rev 2", b"rev 3");
        let bad = SesSignature::from_der(&bad).unwrap();
        assert!(matches!(
            bad.verify(&hash, &SealTrust::Maker(&fx.maker)),
            Err(SesError::BadSignature { .. })
        ));
        // With a timestamp token it still round-trips.
        let ts = sig.clone().with_time_stamp(b"token").unwrap();
        let back = SesSignature::from_der(ts.to_der()).unwrap();
        assert_eq!(back.time_stamp(), Some(&b"token"[..]));
    }
}

#[test]
fn signer_must_be_bound_to_the_seal() {
    let fx = fx(Suite::Nist);
    let seal = SESeal::make(info(&fx), &fx.maker_key, &fx.maker).unwrap();
    let hash = [7u8; 32];
    // The maker signs as if it were the user: its certificate is not in certList.
    let tbs = TbsSign::new(seal, T0, hash.to_vec(), "x");
    let sig = SesSignature::sign(tbs, &fx.maker_key, &fx.maker).unwrap();
    assert!(matches!(
        sig.verify(&hash, &SealTrust::Maker(&fx.maker)),
        Err(SesError::SignerNotBound { .. })
    ));
}

#[test]
fn truncations_are_errors() {
    let fx = fx(Suite::Gm);
    let sig = signature(&fx, &[1u8; 32]);
    let der = sig.to_der();
    for n in 0..der.len() {
        assert!(SesSignature::from_der(&der[..n]).is_err());
    }
    let seal = sig.tbs().eseal.to_der();
    for n in 0..seal.len() {
        assert!(SESeal::from_der(&seal[..n]).is_err());
    }
    let mut long = seal.to_vec();
    long.push(0);
    assert!(matches!(
        SESeal::from_der(&long),
        Err(SesError::Malformed { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SESeal::from_der(&bytes);
        let _ = SesSignature::from_der(&bytes);
    }

    #[test]
    fn corrupted_seals_never_panic(pos in 0usize..4096, byte in any::<u8>(), cut in 0usize..4096) {
        static SEAL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let der = SEAL.get_or_init(|| {
            let fx = fx(Suite::Gm);
            signature(&fx, &[1u8; 32]).to_der().to_vec()
        });
        let mut d = der.clone();
        let i = pos % d.len();
        d[i] = byte;
        d.truncate(d.len() - cut % 8);
        let _ = SesSignature::from_der(&d);
        let _ = SESeal::from_der(&d);
    }
}

fn asn1parse(der: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.der");
    std::fs::write(&path, der).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["asn1parse", "-inform", "DER", "-in"])
        .arg(&path)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "openssl asn1parse failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn openssl_parses_our_der() {
    let fx = fx(Suite::Gm);
    let sig = signature(&fx, &[9u8; 32]);
    let Some(text) = asn1parse(sig.to_der()) else {
        eprintln!("openssl not installed; skipping");
        return;
    };
    assert!(text.contains(":ES"), "{text}");
    assert!(
        text.contains("SM2-with-SM3") || text.contains("1.2.156.10197.1.501"),
        "{text}"
    );
    assert!(text.contains("1.3.6.1.4.1.32473.5717.1.2"), "{text}");
    assert!(text.contains("GENERALIZEDTIME"), "{text}");
    assert!(text.contains("UTF8STRING"), "{text}");
    assert!(text.contains(":PNG"), "{text}");
    assert!(text.contains(":bid.pdf rev 2"), "{text}");

    let fx = fx_nist();
    let seal = SESeal::make(info(&fx), &fx.maker_key, &fx.maker).unwrap();
    let text = asn1parse(seal.to_der()).unwrap();
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
}

fn fx_nist() -> Fx {
    fx(Suite::Nist)
}
