//! Property tests (proptest): round trips hold and any tampering is detected, in both
//! suites, for arbitrary inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use bidkit_crypto::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use bidkit_crypto::{PrivateKey, PublicKey, Suite, wrap};
use proptest::prelude::*;

fn suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Gm), Just(Suite::Nist)]
}

/// One fixed key per suite (key generation is not what is under test here).
fn key(suite: Suite) -> &'static PrivateKey {
    static KEYS: OnceLock<[PrivateKey; 2]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        [
            PrivateKey::for_tests(Suite::Gm, "properties"),
            PrivateKey::for_tests(Suite::Nist, "properties"),
        ]
    });
    match suite {
        Suite::Gm => &keys[0],
        Suite::Nist => &keys[1],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn aead_round_trip_and_every_single_bit_flip_is_rejected(
        suite in suite(),
        key_seed in any::<[u8; 32]>(),
        nonce in any::<[u8; NONCE_LEN]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        plaintext in proptest::collection::vec(any::<u8>(), 0..300),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let algorithm = suite.aead();
        let aead = AeadKey::new(algorithm, &key_seed[..algorithm.key_len()]).unwrap();
        let sealed = aead.seal(&nonce, &aad, &plaintext).unwrap();
        prop_assert_eq!(sealed.len(), plaintext.len() + TAG_LEN);
        let opened = aead.open(&nonce, &aad, &sealed, "prop").unwrap();
        prop_assert_eq!(&opened[..], &plaintext[..]);

        // One bit flipped anywhere in ciphertext ‖ tag.
        let mut bad = sealed.clone();
        let at = flip.index(bad.len());
        bad[at] ^= 1 << bit;
        prop_assert!(aead.open(&nonce, &aad, &bad, "prop").is_err());
        // … or in the associated data, or in the nonce.
        if !aad.is_empty() {
            let mut bad_aad = aad.clone();
            let at = flip.index(bad_aad.len());
            bad_aad[at] ^= 1 << bit;
            prop_assert!(aead.open(&nonce, &bad_aad, &sealed, "prop").is_err());
        }
        let mut bad_nonce = nonce;
        bad_nonce[flip.index(NONCE_LEN)] ^= 1 << bit;
        prop_assert!(aead.open(&bad_nonce, &aad, &sealed, "prop").is_err());
        // A truncated input is rejected, not misread.
        prop_assert!(aead.open(&nonce, &aad, &sealed[..sealed.len() - 1], "prop").is_err());
    }

    #[test]
    fn in_place_open_wipes_the_buffer_on_failure(
        suite in suite(),
        plaintext in proptest::collection::vec(any::<u8>(), 1..100),
    ) {
        let algorithm = suite.aead();
        let aead = AeadKey::new(algorithm, &vec![9u8; algorithm.key_len()]).unwrap();
        let mut buf = plaintext.clone();
        let mut tag = aead.seal_in_place(&[3; NONCE_LEN], b"", &mut buf).unwrap();
        tag[0] ^= 0x80;
        prop_assert!(aead.open_in_place(&[3; NONCE_LEN], b"", &mut buf, &tag, "prop").is_err());
        prop_assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn wrap_unwrap_round_trip(
        suite in suite(),
        secret in proptest::collection::vec(any::<u8>(), 1..80),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = key(suite);
        let wrapped = wrap::wrap(&key.public_key(), &secret).unwrap();
        prop_assert_eq!(&wrap::unwrap(key, &wrapped).unwrap()[..], &secret[..]);
        // Wrapping is randomised: the same secret never wraps the same way twice.
        prop_assert_ne!(&wrap::wrap(&key.public_key(), &secret).unwrap(), &wrapped);
        // Any single changed bit is detected (a DER error, a point off the curve, or
        // a failed C3 / GCM tag check).
        let mut bad = wrapped.clone();
        let at = flip.index(bad.len());
        bad[at] ^= 1 << bit;
        prop_assert!(wrap::unwrap(key, &bad).is_err());
        // The other suite's key cannot unwrap it.
        let other = match suite { Suite::Gm => Suite::Nist, Suite::Nist => Suite::Gm };
        prop_assert!(wrap::unwrap(self::key(other), &wrapped).is_err());
    }

    #[test]
    fn sign_verify_round_trip_and_a_flipped_message_is_rejected(
        suite in suite(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = key(suite);
        let public = key.public_key();
        let sig = key.sign(&message).unwrap();
        prop_assert!(public.verify(&message, &sig).is_ok());

        let mut changed = message.clone();
        if changed.is_empty() {
            changed.push(0);
        } else {
            let at = flip.index(changed.len());
            changed[at] ^= 1 << bit;
        }
        prop_assert!(public.verify(&changed, &sig).is_err());
        // A flipped bit in the signature is rejected too.
        let mut bad_sig = sig.clone();
        let at = flip.index(bad_sig.len());
        bad_sig[at] ^= 1 << bit;
        prop_assert!(public.verify(&message, &bad_sig).is_err());
        // The other suite's key does not verify it.
        let other = match suite { Suite::Gm => Suite::Nist, Suite::Nist => Suite::Gm };
        prop_assert!(self::key(other).public_key().verify(&message, &sig).is_err());
    }

    #[test]
    fn spki_and_sec1_round_trip(suite in suite(), seed in any::<[u8; 32]>()) {
        // Any 32 bytes that are a valid scalar give a key; others are refused cleanly.
        let Ok(key) = PrivateKey::from_bytes(suite, &seed) else {
            return Ok(());
        };
        let public = key.public_key();
        let der = public.to_spki_der().unwrap();
        let back = PublicKey::from_spki_der(&der).unwrap();
        prop_assert_eq!(back.suite(), suite);
        prop_assert_eq!(&back, &public);
        prop_assert_eq!(back.to_spki_der().unwrap(), der);
        let sec1 = public.to_sec1_bytes();
        prop_assert_eq!(sec1.len(), 65);
        prop_assert_eq!(PublicKey::from_sec1_bytes(suite, &sec1).unwrap(), public.clone());
        prop_assert_eq!(&key.to_bytes()[..], &seed[..]);
    }

    #[test]
    fn spki_decoding_never_panics_on_garbage(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        // Arbitrary input: an error or a key, never a panic.
        let _ = PublicKey::from_spki_der(&bytes);
        let _ = PublicKey::from_sec1_bytes(Suite::Gm, &bytes);
        let _ = PublicKey::from_sec1_bytes(Suite::Nist, &bytes);
    }
}
