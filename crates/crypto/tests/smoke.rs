//! Round trips of every operation in both suites.
use bidkit_crypto::{PrivateKey, PublicKey, Suite, aead::AeadKey, wrap};

#[test]
fn sign_verify_wrap_round_trip_in_both_suites() {
    for suite in Suite::ALL {
        let key = PrivateKey::generate(suite).unwrap();
        let sig = key.sign(b"hello").unwrap();
        key.public_key().verify(b"hello", &sig).unwrap();
        assert!(key.public_key().verify(b"hellO", &sig).is_err());
        let spki = key.public_key().to_spki_der().unwrap();
        assert_eq!(PublicKey::from_spki_der(&spki).unwrap(), key.public_key());
        let w = wrap::wrap(&key.public_key(), b"content key 0123").unwrap();
        assert_eq!(&wrap::unwrap(&key, &w).unwrap()[..], b"content key 0123");
        let aead = AeadKey::new(suite.aead(), &vec![7u8; suite.aead().key_len()]).unwrap();
        let ct = aead.seal(&[1; 12], b"aad", b"secret").unwrap();
        assert_eq!(
            &aead.open(&[1; 12], b"aad", &ct, "t").unwrap()[..],
            b"secret"
        );
        assert!(aead.open(&[1; 12], b"aaD", &ct, "t").is_err());
    }
}
