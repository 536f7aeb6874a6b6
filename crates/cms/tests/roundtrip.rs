//! Build, parse and verify detached CMS signatures in both suites, then tamper with them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bidkit_cms::{CmsError, SignedAttributes, assemble, oid, parse};
use bidkit_crypto::Suite;
use common::{CONTENT, T0, find, fixture};

/// Split a constructed DER value's content into element encodings (test-only walker).
fn elements(mut content: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let first = content[1];
        let (hdr, len) = if first < 0x80 {
            (2, first as usize)
        } else {
            let n = (first & 0x7f) as usize;
            let len = content[2..2 + n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | *b as usize);
            (2 + n, len)
        };
        out.push(content[..hdr + len].to_vec());
        content = &content[hdr + len..];
    }
    out
}

/// The content octets of a single TLV.
fn content_of(tlv: &[u8]) -> &[u8] {
    let first = tlv[1];
    if first < 0x80 {
        &tlv[2..]
    } else {
        &tlv[2 + (first & 0x7f) as usize..]
    }
}

#[test]
fn signed_attributes_are_a_der_sorted_set_carrying_the_digest() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let digest = f.digest(CONTENT);
        let attrs = SignedAttributes::new(suite, &digest, &f.cert, T0).unwrap();
        let tbs = attrs.to_be_signed();
        assert_eq!(tbs[0], 0x31, "{suite}: a universal SET");
        assert!(find(tbs, &digest).is_some(), "{suite}: digest verbatim");
        assert_eq!(attrs.document_digest(), digest);
        assert_eq!(attrs.suite(), suite);
        let items = elements(content_of(tbs));
        assert_eq!(items.len(), 4, "{suite}: four attributes");
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(items, sorted, "{suite}: DER SET OF order (X.690 §11.6)");
        // Each attribute OID is present.
        for id in [
            oid::CONTENT_TYPE,
            oid::MESSAGE_DIGEST,
            oid::SIGNING_TIME,
            oid::SIGNING_CERTIFICATE_V2,
        ] {
            assert!(find(tbs, id.as_bytes()).is_some(), "{suite}: {id}");
        }
        let data = match suite {
            Suite::Gm => oid::GM_DATA,
            Suite::Nist => oid::ID_DATA,
        };
        assert!(
            find(tbs, data.as_bytes()).is_some(),
            "{suite}: content type"
        );
        // UTCTime signing time.
        assert!(find(tbs, b"\x17\x0d260301080000Z").is_some(), "{suite}");
        // ESS hash algorithm: SM3 written out in GM, SHA-256 omitted as DEFAULT in NIST.
        assert_eq!(find(tbs, oid::SM3.as_bytes()).is_some(), suite == Suite::Gm);
        assert!(find(tbs, oid::SHA256.as_bytes()).is_none());
        // The certificate hash is the suite hash of the signer certificate.
        assert!(find(tbs, &suite.hash().digest(f.cert.to_der())).is_some());
        // Read back from DER: same bytes, same digest.
        let back = SignedAttributes::from_der(suite, tbs).unwrap();
        assert_eq!(back.to_be_signed(), tbs);
        assert_eq!(back.document_digest(), digest);
    }
}

#[test]
fn round_trip_in_both_suites() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (attrs, sig, der) = f.sign(CONTENT, None);
        let p = parse(&der).unwrap();
        assert_eq!(p.suite, suite);
        assert_eq!(p.digest_algorithm, suite.hash());
        assert_eq!(p.signer.to_der(), f.cert.to_der());
        assert_eq!(p.certificates.len(), 2);
        assert_eq!(p.certificates[0].to_der(), f.cert.to_der(), "leaf first");
        assert_eq!(p.signed_attributes, attrs.to_be_signed());
        assert_eq!(p.signature, sig);
        assert_eq!(p.message_digest, f.digest(CONTENT));
        assert_eq!(p.signing_time, Some(T0));
        assert_eq!(p.timestamp_token, None);
        let (ci, data, alg) = match suite {
            Suite::Gm => (oid::GM_SIGNED_DATA, oid::GM_DATA, oid::SM2_1),
            Suite::Nist => (oid::ID_SIGNED_DATA, oid::ID_DATA, oid::ECDSA_WITH_SHA256),
        };
        assert_eq!(p.content_type, data);
        assert_eq!(p.signature_algorithm, alg);
        // The ContentInfo starts with the suite's signedData OID.
        assert!(matches!(find(&der, ci.as_bytes()), Some(4..=6)), "{suite}");
        // Detached: the content is nowhere in the container.
        assert!(find(&der, CONTENT).is_none());

        let check = p.verify(&f.digest(CONTENT));
        assert!(check.is_valid(), "{suite}: {check:?}");
        assert!(check.problems.is_empty(), "{check:?}");
        assert_eq!(check.signing_certificate_matches, Some(true));
        assert!(check.content_type_matches);
    }
}

#[test]
fn other_document_digest_is_a_mismatch() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (_, _, der) = f.sign(CONTENT, None);
        let check = parse(&der).unwrap().verify(&f.digest(b"another document"));
        assert!(!check.digest_matches);
        assert!(check.signature_valid, "the signature itself is intact");
        assert!(!check.is_valid());
        assert!(
            check.problems.iter().any(|p| p.contains("digest")),
            "{check:?}"
        );
    }
}

#[test]
fn flipped_signed_attribute_byte_breaks_the_signature() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (_, _, mut der) = f.sign(CONTENT, None);
        // Change the signing time's minute digit inside the container.
        // The last occurrence: the certificates' validity times come first.
        let at = der
            .windows(13)
            .rposition(|w| w == b"260301080000Z")
            .unwrap();
        der[at + 9] = b'1';
        let p = parse(&der).unwrap();
        assert_eq!(p.signing_time, Some(T0 + time::Duration::minutes(1)));
        let check = p.verify(&f.digest(CONTENT));
        assert!(check.digest_matches);
        assert!(!check.signature_valid, "{suite}: {check:?}");
        assert!(!check.is_valid());
    }
}

#[test]
fn flipped_signature_byte_is_invalid() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (_, sig, mut der) = f.sign(CONTENT, None);
        let at = find(&der, &sig).unwrap() + sig.len() - 1;
        der[at] ^= 0x01;
        let check = parse(&der).unwrap().verify(&f.digest(CONTENT));
        assert!(!check.signature_valid, "{suite}");
        assert!(!check.is_valid());
        assert!(check.problems.iter().any(|p| p.contains("signature")));
    }
}

#[test]
fn signing_certificate_attribute_must_name_the_signer() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        // Attributes naming the *other* certificate, signed by the first key, carried
        // with the first certificate: the signature verifies, the ESS check does not.
        let staged = SignedAttributes::new(suite, &f.digest(CONTENT), &f.other_cert, T0).unwrap();
        // assemble refuses the mismatch outright …
        let sig = f.key.sign(staged.to_be_signed()).unwrap();
        let err = assemble(&staged, &sig, &f.chain(), None).unwrap_err();
        assert!(matches!(err, CmsError::InvalidInput(_)), "{err}");
        // … so bypass it through attributes read back from DER.
        let read_back = SignedAttributes::from_der(suite, staged.to_be_signed()).unwrap();
        let der = assemble(&read_back, &sig, &f.chain(), None).unwrap();
        let check = parse(&der).unwrap().verify(&f.digest(CONTENT));
        assert!(check.signature_valid);
        assert_eq!(check.signing_certificate_matches, Some(false), "{check:?}");
        assert!(!check.is_valid());
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("signing-certificate"))
        );
    }
}

#[test]
fn wrong_certificate_swapped_in_fails_the_key_and_ess_checks() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (attrs, sig, _) = f.sign(CONTENT, None);
        // Same attributes and signature, but the other certificate as the signer.
        let read_back = SignedAttributes::from_der(suite, attrs.to_be_signed()).unwrap();
        let chain = [f.other_cert.clone(), f.ca.root().clone()];
        let der = assemble(&read_back, &sig, &chain, None).unwrap();
        let p = parse(&der).unwrap();
        assert_eq!(p.signer.to_der(), f.other_cert.to_der());
        let check = p.verify(&f.digest(CONTENT));
        assert!(!check.signature_valid, "{suite}");
        assert_eq!(check.signing_certificate_matches, Some(false));
        assert!(!check.is_valid());
    }
}

#[test]
fn signer_missing_from_the_container_is_malformed() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (_, _, der) = f.sign(CONTENT, None);
        // The serial INTEGER occurs in the certificate, then in the sid, then in the ESS
        // attribute. Change the sid's.
        let serial = f
            .cert
            .x509()
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .to_vec();
        let first = find(&der, &serial).unwrap() + serial.len();
        let sid = find(&der[first..], &serial).unwrap() + first;
        let mut broken = der.clone();
        broken[sid + serial.len() - 1] ^= 0x01;
        let err = parse(&broken).unwrap_err();
        assert!(matches!(err, CmsError::Malformed(_)), "{err}");
        assert!(err.to_string().contains("signer"), "{err}");
    }
}

#[test]
fn assemble_rejects_bad_input() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let attrs = SignedAttributes::new(suite, &f.digest(CONTENT), &f.cert, T0).unwrap();
        let sig = f.key.sign(attrs.to_be_signed()).unwrap();
        let invalid = |r: Result<Vec<u8>, CmsError>| {
            assert!(matches!(r, Err(CmsError::InvalidInput(_))), "{r:?}");
        };
        invalid(assemble(&attrs, &sig, &[], None));
        invalid(assemble(&attrs, b"not a signature", &f.chain(), None));
        invalid(assemble(&attrs, &sig[..sig.len() - 1], &f.chain(), None));
        invalid(assemble(
            &attrs,
            &[0x30, 0x06, 2, 1, 0, 2, 1, 1],
            &f.chain(),
            None,
        ));
        invalid(assemble(
            &attrs,
            &sig,
            std::slice::from_ref(&f.other_cert),
            None,
        ));
        invalid(assemble(&attrs, &sig, &f.chain(), Some(b"garbage")));
        assert!(matches!(
            SignedAttributes::new(suite, &[0u8; 20], &f.cert, T0),
            Err(CmsError::InvalidInput(_))
        ));
        let other_suite = if suite == Suite::Gm {
            Suite::Nist
        } else {
            Suite::Gm
        };
        assert!(matches!(
            SignedAttributes::new(other_suite, &[0u8; 32], &f.cert, T0),
            Err(CmsError::InvalidInput(_))
        ));
    }
}

#[test]
fn timestamp_token_travels_as_unsigned_attribute() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        // Any DER ContentInfo will do for the container; here another signature.
        let (_, _, token) = f.sign(b"stand-in for a TimeStampToken", None);
        let (_, _, der) = f.sign(CONTENT, Some(&token));
        assert!(find(&der, oid::SIGNATURE_TIME_STAMP_TOKEN.as_bytes()).is_some());
        let p = parse(&der).unwrap();
        assert_eq!(p.timestamp_token.as_deref(), Some(&token[..]));
        assert!(
            p.verify(&f.digest(CONTENT)).is_valid(),
            "unsigned: not covered"
        );
    }
}

#[test]
fn padding_truncation_and_garbage() {
    for suite in Suite::ALL {
        let f = fixture(suite);
        let (_, _, der) = f.sign(CONTENT, None);
        // Zero padding as in a PDF /Contents placeholder.
        let mut padded = der.clone();
        padded.resize(der.len() + 8192, 0);
        assert!(
            parse(&padded)
                .unwrap()
                .verify(&f.digest(CONTENT))
                .is_valid()
        );
        // Non-zero trailing data is not padding.
        let mut trailing = der.clone();
        trailing.push(1);
        assert!(matches!(parse(&trailing), Err(CmsError::Malformed(_))));
        // Every truncation is Malformed.
        for len in 0..der.len() {
            let r = parse(&der[..len]);
            assert!(
                matches!(r, Err(CmsError::Malformed(_))),
                "{suite} len {len}: {r:?}"
            );
        }
        // Garbage.
        for junk in [
            &b""[..],
            b"\x00\x00\x00",
            b"%PDF-1.7",
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(
                matches!(parse(junk), Err(CmsError::Malformed(_))),
                "{junk:?}"
            );
        }
        // BER indefinite length is named.
        let mut ber = der.clone();
        ber[1] = 0x80;
        let err = parse(&ber).unwrap_err();
        assert!(err.to_string().contains("indefinite"), "{err}");
    }
}
