//! Hostile input: random bytes and mutations of valid containers never panic, and a
//! mutated container is only ever judged valid when its signed parts are untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use bidkit_cms::{SignedAttributes, parse, tsa};
use bidkit_crypto::Suite;
use common::{CONTENT, fixture};
use proptest::prelude::*;

struct Sample {
    digest: [u8; 32],
    der: Vec<u8>,
    signed_attributes: Vec<u8>,
    signature: Vec<u8>,
}

fn samples() -> &'static [Sample; 2] {
    static SAMPLES: OnceLock<[Sample; 2]> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        Suite::ALL.map(|suite| {
            let f = fixture(suite);
            let (attrs, signature, der) = f.sign(CONTENT, None);
            Sample {
                digest: f.digest(CONTENT),
                der,
                signed_attributes: attrs.to_be_signed().to_vec(),
                signature,
            }
        })
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Truncate { len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, n: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..16).prop_map(|(at, n)| Mutation::Remove { at, n }),
    ]
}

fn apply(der: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = der.to_vec();
    let n = out.len();
    match m {
        Mutation::Flip { at, bit } => out[at % n] ^= 1 << bit,
        Mutation::Set { at, byte } => out[at % n] = *byte,
        Mutation::Truncate { len } => out.truncate(len % n),
        Mutation::Insert { at, bytes } => {
            let at = at % (n + 1);
            out.splice(at..at, bytes.iter().copied());
        }
        Mutation::Remove { at, n: k } => {
            let at = at % n;
            let end = (at + k).min(n);
            out.drain(at..end);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(p) = parse(&bytes) {
            let _ = p.verify(&[0u8; 32]);
        }
        let _ = SignedAttributes::from_der(Suite::Gm, &bytes);
        let _ = tsa::TimestampRequest::from_der(&bytes);
        let _ = tsa::parse_response(&bytes);
        let _ = tsa::verify_token(&bytes, &[0u8; 32]);
    }

    #[test]
    fn mutated_containers_never_panic_nor_verify_changed_signed_data(
        which in 0usize..2,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let s = &samples()[which];
        let mut der = s.der.clone();
        for m in &mutations {
            if der.is_empty() {
                break;
            }
            der = apply(&der, m);
        }
        if let Ok(p) = parse(&der) {
            let check = p.verify(&s.digest);
            if check.is_valid() {
                prop_assert_eq!(&p.signed_attributes, &s.signed_attributes);
                prop_assert_eq!(&p.message_digest[..], &s.digest[..]);
                prop_assert_eq!(&p.signature, &s.signature);
            }
        }
        let _ = tsa::verify_token(&der, &s.digest);
    }
}
