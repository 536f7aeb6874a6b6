//! Published GM test vectors, read from `tests/data/gm-standard.json`.
//!
//! Sources (each entry of the JSON also names its own):
//! * SM3: GB/T 32905-2016, Appendix A, examples 1 and 2.
//! * SM4: GB/T 32907-2016, Appendix A, examples 1 and 2.
//! * SM2 signature: GM/T 0003.5-2012 / GB/T 32918.5-2017 example on the recommended
//!   curve, as also used by OpenSSL's `test/sm2_internal_test.c` (`sm2_sig_test`).
//! * SM2 encryption: the same documents' encryption example on the recommended curve
//!   with SM3, DER-serialised per GM/T 0009-2012 §7.2, as in OpenSSL's
//!   `test/sm2_internal_test.c` (`sm2_crypt_test`).
//! * SM2 curve parameters: GB/T 32918.5-2017 §4 (recommended curve `sm2p256v1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bidkit_crypto::wrap::{self, Sm2Encoding};
use bidkit_crypto::{DEFAULT_SM2_ID, HashAlgorithm, PrivateKey, PublicKey, Suite};
use serde_json::Value;
use sm2::elliptic_curve::ff::PrimeField;
use sm2::elliptic_curve::group::Group;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{FieldBytes, ProjectivePoint, Scalar};
use sm4::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/gm-standard.json")).unwrap()
}

fn hex_field(entry: &Value, field: &str) -> Vec<u8> {
    let text = entry[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing field {field}"));
    hex::decode(text).unwrap()
}

fn ascii_field(entry: &Value, field: &str) -> Vec<u8> {
    entry[field].as_str().unwrap().as_bytes().to_vec()
}

fn scalar(bytes: &[u8]) -> Scalar {
    let repr: [u8; 32] = bytes.try_into().unwrap();
    Option::from(Scalar::from_repr(FieldBytes::from(repr))).expect("scalar in range")
}

// SM2 recommended curve parameters, GB/T 32918.5-2017 §4.
const SM2_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
const SM2_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
const SM2_GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
const SM2_GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";
// The example's public key P_A = [d_A]G as printed in GM/T 0003.5-2012 (recommended
// curve example); checked independently with plain integer arithmetic when written.
const EXAMPLE_XA: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
const EXAMPLE_YA: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";

// ---------------------------------------------------------------- SM3

#[test]
fn sm3_example_1_abc() {
    // GB/T 32905-2016 Appendix A.1: SM3("abc").
    let v = &vectors()["sm3"][0];
    assert_eq!(v["message_ascii"], "abc");
    assert_eq!(
        HashAlgorithm::Sm3.digest(b"abc").to_vec(),
        hex_field(v, "digest")
    );
}

#[test]
fn sm3_example_2_abcd_times_16() {
    // GB/T 32905-2016 Appendix A.2: SM3("abcd" × 16), a 64-byte, two-block message.
    let v = &vectors()["sm3"][1];
    assert!(
        v["message_ascii"]
            .as_str()
            .unwrap()
            .starts_with("abcd repeated 16")
    );
    let message = b"abcd".repeat(16);
    assert_eq!(message.len(), 64);
    assert_eq!(
        HashAlgorithm::Sm3.digest(&message).to_vec(),
        hex_field(v, "digest")
    );
    // The streaming interface gives the same digest when fed in odd pieces.
    let mut h = HashAlgorithm::Sm3.hasher();
    for piece in message.chunks(7) {
        h.update(piece);
    }
    assert_eq!(h.finalize().to_vec(), hex_field(v, "digest"));
}

// ---------------------------------------------------------------- SM4

fn sm4_block(entry: &Value, field: &str) -> Block<sm4::Sm4> {
    let bytes: [u8; 16] = hex_field(entry, field).try_into().unwrap();
    Block::<sm4::Sm4>::from(bytes)
}

#[test]
fn sm4_example_1_single_block() {
    // GB/T 32907-2016 Appendix A.1: one block, encrypt and decrypt.
    let v = &vectors()["sm4"][0];
    let cipher = sm4::Sm4::new_from_slice(&hex_field(v, "key")).unwrap();
    let mut block = sm4_block(v, "plaintext");
    cipher.encrypt_block(&mut block);
    assert_eq!(block, sm4_block(v, "ciphertext"));
    cipher.decrypt_block(&mut block);
    assert_eq!(block, sm4_block(v, "plaintext"));
}

#[test]
fn sm4_example_2_one_million_iterations() {
    // GB/T 32907-2016 Appendix A.2: the block encrypted 1,000,000 times with one key.
    let v = &vectors()["sm4"][1];
    let iterations = v["iterations"].as_u64().unwrap();
    assert_eq!(iterations, 1_000_000);
    let cipher = sm4::Sm4::new_from_slice(&hex_field(v, "key")).unwrap();
    let mut block = sm4_block(v, "plaintext");
    for _ in 0..iterations {
        cipher.encrypt_block(&mut block);
    }
    assert_eq!(block, sm4_block(v, "ciphertext"));
}

// ---------------------------------------------------------------- SM2 signature

#[test]
fn sm2_curve_parameters_match_the_standard() {
    // GB/T 32918.5-2017 §4: the generator the sm2 crate uses is the standard's G.
    let g = ProjectivePoint::generator()
        .to_affine()
        .to_sec1_point(false);
    let mut expected = vec![0x04];
    expected.extend(hex::decode(SM2_GX).unwrap());
    expected.extend(hex::decode(SM2_GY).unwrap());
    assert_eq!(g.as_bytes(), &expected[..]);
}

/// `Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)`, GB/T 32918.2-2016 §5.5,
/// computed here independently of the sm2 crate.
fn z_a(id: &[u8], public_sec1: &[u8]) -> [u8; 32] {
    let bits = u16::try_from(id.len() * 8).unwrap();
    let mut input = bits.to_be_bytes().to_vec();
    input.extend_from_slice(id);
    for constant in [SM2_A, SM2_B, SM2_GX, SM2_GY] {
        input.extend(hex::decode(constant).unwrap());
    }
    input.extend_from_slice(&public_sec1[1..65]);
    HashAlgorithm::Sm3.digest(&input)
}

fn sm2_signature_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut rs = r.to_vec();
    rs.extend_from_slice(s);
    sm2::dsa::Signature::from_slice(&rs)
        .unwrap()
        .to_der()
        .to_vec()
}

#[test]
fn sm2_sign_example_verifies_with_our_public_key() {
    let v = &vectors()["sm2_sign"][0];
    assert_eq!(v["user_id_ascii"], DEFAULT_SM2_ID);
    let message = ascii_field(v, "message_ascii");
    let key = PrivateKey::from_bytes(Suite::Gm, &hex_field(v, "private_key")).unwrap();
    let public = key.public_key();
    let expected_point = format!("04{EXAMPLE_XA}{EXAMPLE_YA}");
    assert_eq!(hex::encode_upper(public.to_sec1_bytes()), expected_point);
    let sig = sm2_signature_der(&hex_field(v, "r"), &hex_field(v, "s"));

    public.verify(&message, &sig).unwrap();
    public
        .verify_sm2_with_id(DEFAULT_SM2_ID, &message, &sig)
        .unwrap();
    // The same public key reached through its SEC1 encoding and its SPKI.
    let from_sec1 = PublicKey::from_sec1_bytes(Suite::Gm, &public.to_sec1_bytes()).unwrap();
    from_sec1.verify(&message, &sig).unwrap();
    let from_spki = PublicKey::from_spki_der(&public.to_spki_der().unwrap()).unwrap();
    from_spki.verify(&message, &sig).unwrap();

    // Anything else is rejected: another message, another id, a changed s.
    assert!(public.verify(b"message digesT", &sig).is_err());
    assert!(
        public
            .verify_sm2_with_id("ALICE123@YAHOO.COM", &message, &sig)
            .is_err()
    );
    let mut s = hex_field(v, "s");
    s[31] ^= 1;
    let bad = sm2_signature_der(&hex_field(v, "r"), &s);
    assert!(public.verify(&message, &bad).is_err());
}

#[test]
fn sm2_sign_example_is_reproduced_with_its_fixed_k() {
    // GB/T 32918.2-2016 §6.1 steps A1–A6 with the example's k, in the sm2 crate's
    // scalar and point arithmetic; Z_A computed from the standard's curve constants.
    let v = &vectors()["sm2_sign"][0];
    let id = ascii_field(v, "user_id_ascii");
    let message = ascii_field(v, "message_ascii");
    let d = scalar(&hex_field(v, "private_key"));
    let k = scalar(&hex_field(v, "k"));

    let public = (ProjectivePoint::generator() * d)
        .to_affine()
        .to_sec1_point(false);
    // Our key type derives the same public key from d.
    let ours = PrivateKey::from_bytes(Suite::Gm, &hex_field(v, "private_key")).unwrap();
    assert_eq!(ours.public_key().to_sec1_bytes(), public.as_bytes());

    // A1–A2: e = SM3(Z_A ‖ M).
    let mut za_m = z_a(&id, public.as_bytes()).to_vec();
    za_m.extend_from_slice(&message);
    let e_bytes = HashAlgorithm::Sm3.digest(&za_m);
    let e = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(e_bytes));
    // A3–A4: (x1, y1) = [k]G.
    let kg = (ProjectivePoint::generator() * k).to_affine();
    let x1 = <Scalar as Reduce<FieldBytes>>::reduce(&kg.x());
    // A5: r = (e + x1) mod n.
    let r = e + x1;
    assert!(!bool::from(r.is_zero()));
    // A6: s = ((1 + d)^-1 · (k − r·d)) mod n.
    let one_plus_d_inv = Option::<Scalar>::from((Scalar::ONE + d).invert()).unwrap();
    let s = one_plus_d_inv * (k - r * d);

    assert_eq!(r.to_repr().to_vec(), hex_field(v, "r"));
    assert_eq!(s.to_repr().to_vec(), hex_field(v, "s"));
}

#[test]
fn our_sm2_signatures_on_the_example_key_verify() {
    // Our signer (hedged nonces) on the example key and message: a different (r, s)
    // from the example's fixed k, but it verifies, and only for this message.
    let v = &vectors()["sm2_sign"][0];
    let message = ascii_field(v, "message_ascii");
    let key = PrivateKey::from_bytes(Suite::Gm, &hex_field(v, "private_key")).unwrap();
    let a = key.sign(&message).unwrap();
    let b = key.sign(&message).unwrap();
    assert_ne!(a, b, "nonces must be fresh");
    key.public_key().verify(&message, &a).unwrap();
    key.public_key().verify(&message, &b).unwrap();
    assert!(key.public_key().verify(b"message", &a).is_err());
}

// ---------------------------------------------------------------- SM2 encryption

/// `04 ‖ x1 ‖ y1 ‖ C3 ‖ C2` from the example's parts.
fn annex_c_raw(v: &Value) -> Vec<u8> {
    let mut raw = vec![0x04];
    for field in ["c1_x", "c1_y", "c3", "c2"] {
        raw.extend(hex_field(v, field));
    }
    raw
}

#[test]
fn sm2_encryption_example_decrypts_in_both_encodings() {
    let v = &vectors()["sm2_encrypt"][0];
    let key = PrivateKey::from_bytes(Suite::Gm, &hex_field(v, "private_key")).unwrap();
    let message = ascii_field(v, "message_ascii");

    let raw = annex_c_raw(v);
    let plain = wrap::sm2_decrypt(&key, &raw, Sm2Encoding::Raw).unwrap();
    assert_eq!(&plain[..], &message[..]);

    let der = hex_field(v, "der");
    let plain = wrap::sm2_decrypt(&key, &der, Sm2Encoding::Der).unwrap();
    assert_eq!(&plain[..], &message[..]);
    // `unwrap` is the DER form.
    assert_eq!(&wrap::unwrap(&key, &der).unwrap()[..], &message[..]);

    // A changed C3 (the hash) or C2 (the ciphertext) is rejected.
    let mut bad = raw.clone();
    bad[65] ^= 1;
    assert!(wrap::sm2_decrypt(&key, &bad, Sm2Encoding::Raw).is_err());
    let mut bad = raw.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(wrap::sm2_decrypt(&key, &bad, Sm2Encoding::Raw).is_err());
    // The wrong encoding is rejected rather than misread.
    assert!(wrap::sm2_decrypt(&key, &raw, Sm2Encoding::Der).is_err());
}

/// An RNG that yields a fixed byte string once, then fails: the example's k, for the
/// sm2 crate's `NonZeroScalar::try_from_rng`, which fills 32 bytes and reads them as a
/// big-endian integer (rejecting values ≥ n).
struct FixedBytes {
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Exhausted;

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fixed RNG exhausted")
    }
}

impl std::error::Error for Exhausted {}

impl rand_core::TryRng for FixedBytes {
    type Error = Exhausted;

    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Exhausted> {
        if dst.len() > self.bytes.len() {
            return Err(Exhausted);
        }
        let rest = self.bytes.split_off(dst.len());
        dst.copy_from_slice(&self.bytes);
        self.bytes = rest;
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FixedBytes {}

#[test]
fn sm2_encryption_example_is_reproduced_with_its_fixed_k() {
    let v = &vectors()["sm2_encrypt"][0];
    let key = PrivateKey::from_bytes(Suite::Gm, &hex_field(v, "private_key")).unwrap();
    let message = ascii_field(v, "message_ascii");
    let k = hex_field(v, "k");

    let mut rng = FixedBytes { bytes: k.clone() };
    let raw = wrap::sm2_encrypt(&key.public_key(), &message, Sm2Encoding::Raw, &mut rng).unwrap();
    assert_eq!(hex::encode_upper(&raw), hex::encode_upper(annex_c_raw(v)));
    assert!(rng.bytes.is_empty(), "exactly k was drawn");

    let mut rng = FixedBytes { bytes: k.clone() };
    let der = wrap::sm2_encrypt(&key.public_key(), &message, Sm2Encoding::Der, &mut rng).unwrap();
    assert_eq!(hex::encode_upper(&der), v["der"].as_str().unwrap());

    // `wrap_with_rng` is the DER form.
    let mut rng = FixedBytes { bytes: k };
    let wrapped = wrap::wrap_with_rng(&key.public_key(), &message, &mut rng).unwrap();
    assert_eq!(wrapped, der);
}
