//! Damaged and tampered bid files: every one is refused with a typed error naming the
//! file (and the chunk), no output file is left behind, the bid file itself is never
//! modified, and `inspect` says 1 (damaged or tampered) or 2 (unreadable).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use bidkit_bidfile::{
    BidFileError, ContentKey, Decryptor, Encryptor, Header, PayloadSummary, Verdict, inspect,
};
use bidkit_crypto::Suite;
use common::{Fixture, Rng, assemble, listing, pattern, records, split, suite_hash};

const CHUNK: u32 = 64;
const SIZE: usize = 5 * CHUNK as usize + 17; // 6 chunks, the last one short

/// Open and decrypt `bytes` written as `dir/case.bkb` with `key`; the result, with the
/// guarantee checked that on failure no output exists and the file is unchanged.
fn attempt(dir: &Path, bytes: &[u8], key: &ContentKey) -> Result<(), BidFileError> {
    let path = dir.join("case.bkb");
    std::fs::write(&path, bytes).unwrap();
    let out = dir.join("case.out");
    let _ = std::fs::remove_file(&out);
    let result = Decryptor::open(&path).and_then(|d| d.decrypt_to(&out, key, |_| {}).map(|_| ()));
    if result.is_err() {
        assert!(!out.exists(), "a refused decryption left {}", out.display());
        let leftovers: Vec<String> = listing(dir)
            .into_iter()
            .filter(|n| n.starts_with(".case.out"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the bid file was modified"
    );
    result
}

fn refused(dir: &Path, bytes: &[u8], key: &ContentKey, what: &str) -> BidFileError {
    match attempt(dir, bytes, key) {
        Ok(()) => panic!("{what}: accepted"),
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains("case.bkb") || !e.is_damage(),
                "{what}: {text}"
            );
            e
        }
    }
}

fn inspect_bytes(dir: &Path, bytes: &[u8]) -> bidkit_bidfile::InspectReport {
    let path = dir.join("inspect.bkb");
    std::fs::write(&path, bytes).unwrap();
    inspect(&path)
}

#[test]
fn truncation_at_every_chunk_boundary_and_at_random_offsets() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("trunc");
        let plaintext = pattern(SIZE, 1);
        let (key, _) = fx.make_bid(&dir, &plaintext, CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);

        // Every chunk boundary (0 = no payload at all), and one byte short of each.
        let mut cuts = vec![parts.payload_offset];
        let mut at = parts.payload_offset;
        for len in records(SIZE as u64, CHUNK) {
            at += len;
            cuts.push(at - 1);
            if at < bytes.len() {
                cuts.push(at);
            }
        }
        // ~50 random offsets anywhere in the file, and the structural edges.
        let mut rng = Rng(0x5eed ^ suite as u64);
        cuts.extend((0..50).map(|_| rng.below(bytes.len() as u64) as usize));
        cuts.extend([
            0,
            5,
            11,
            12,
            16,
            parts.certificate_offset,
            parts.signature_offset,
        ]);
        for cut in cuts {
            assert!(cut < bytes.len());
            let e = refused(&dir, &bytes[..cut], &key, &format!("truncated at {cut}"));
            if cut > 11 {
                assert!(
                    matches!(
                        e,
                        BidFileError::Truncated { .. }
                            | BidFileError::MalformedHeader { .. }
                            | BidFileError::MalformedSignature { .. }
                    ),
                    "cut {cut}: {e:?}"
                );
            }
            if cut >= parts.payload_offset {
                // Which chunk is cut is named.
                assert!(e.to_string().contains("chunk "), "cut {cut}: {e}");
            }
            let report = inspect_bytes(&dir, &bytes[..cut]);
            let expected = if cut == 0 { 2 } else { 1 };
            assert_eq!(report.exit_code(), expected, "cut {cut}: {report}");
        }
    }
}

#[test]
fn a_flipped_bit_in_any_byte_is_refused() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("flip");
        let plaintext = pattern(SIZE, 2);
        let (key, _) = fx.make_bid(&dir, &plaintext, CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);
        let mut chunk_errors = 0;
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 1 << (i % 8);
            let e = refused(&dir, &damaged, &key, &format!("bit flip at byte {i}"));
            if i >= parts.payload_offset {
                // Payload flips pass the structure and signature checks and fail in the
                // AEAD, naming the chunk.
                assert!(
                    matches!(e, BidFileError::ChunkAuthentication { .. }),
                    "byte {i}: {e:?}"
                );
                chunk_errors += 1;
            }
            let report = inspect_bytes(&dir, &damaged);
            assert_ne!(report.exit_code(), 0, "byte {i}: {report}");
        }
        assert_eq!(chunk_errors, parts.payload.len());
    }
}

/// The named regions of the list, each checked on its own.
#[test]
fn flips_in_header_wrapped_key_nonce_prefix_ciphertext_and_tag() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("regions");
        let (key, outcome) = fx.make_bid(&dir, &pattern(SIZE, 3), CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);
        let find = |needle: &[u8]| {
            parts.header_offset
                + parts
                    .header
                    .windows(needle.len())
                    .position(|w| w == needle)
                    .unwrap()
        };
        let h = &outcome.header;
        let tender = find(h.tender_id().as_bytes());
        let wrapped = find(&h.recipients()[0].wrapped_key);
        let file_id = find(h.draft().file_id());
        let first_tag = parts.payload_offset + CHUNK as usize; // chunk 0's tag
        let last_tag = bytes.len() - 1;
        for (what, at) in [
            ("tender id", tender),
            ("wrapped key", wrapped + 40),
            ("nonce prefix (file id)", file_id + 3),
            ("certificate", parts.certificate_offset + 100),
            ("signature", parts.signature_offset + 20),
            ("ciphertext of chunk 2", parts.payload_offset + 2 * 80 + 5),
            ("tag of chunk 0", first_tag + 3),
            ("tag of the last chunk", last_tag),
        ] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            let e = refused(&dir, &damaged, &key, what);
            if at < parts.signature_offset {
                assert!(
                    matches!(
                        e,
                        BidFileError::HeaderSignatureInvalid { .. }
                            | BidFileError::MalformedHeader { .. }
                            | BidFileError::MalformedSignature { .. }
                    ),
                    "{what}: {e:?}"
                );
            }
            assert_eq!(inspect_bytes(&dir, &damaged).exit_code(), 1, "{what}");
        }
    }
}

/// With the bidder's own signing key an attacker could re-sign any header; the AEAD
/// still refuses a payload that does not belong to it. Each case below re-signs the
/// header with the genuine key (and a ciphertext hash that matches the new payload),
/// so only the chunk layer stands between the change and acceptance.
#[test]
fn re_signed_changes_are_still_caught_by_the_chunk_layer() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("aead");
        let plaintext = pattern(SIZE, 4);
        let (key, outcome) = fx.make_bid(&dir, &plaintext, CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);
        let header = &outcome.header;
        let draft = header.draft().clone();
        let lens = records(SIZE as u64, CHUNK);
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut at = 0;
        for len in &lens {
            chunks.push(parts.payload[at..at + len].to_vec());
            at += len;
        }
        let resign = |payload: &[u8], summary: PayloadSummary, draft| {
            let h = Header::new(
                draft,
                PayloadSummary {
                    ciphertext_hash: suite_hash(suite, payload),
                    ..summary
                },
            )
            .unwrap();
            assemble(
                h.to_der(),
                &fx.bidder.signing_key,
                &fx.bidder.signing,
                payload,
            )
        };
        let summary = *header.payload();
        // Sanity: re-signing the untouched payload gives a file that decrypts.
        attempt(&dir, &resign(&parts.payload, summary, draft.clone()), &key).unwrap();

        let chunk_error = |bytes: &[u8], what: &str| match refused(&dir, bytes, &key, what) {
            BidFileError::ChunkAuthentication { chunk, count, .. } => (chunk, count),
            e => panic!("{what}: {e:?}"),
        };

        // Reordered: chunks 1 and 2 swapped.
        let mut c = chunks.clone();
        c.swap(1, 2);
        assert_eq!(
            chunk_error(&resign(&c.concat(), summary, draft.clone()), "reordered"),
            (1, 6)
        );
        // Duplicated: chunk 1 replaced by a copy of chunk 0.
        let mut c = chunks.clone();
        c[1] = c[0].clone();
        assert_eq!(
            chunk_error(&resign(&c.concat(), summary, draft.clone()), "duplicated"),
            (1, 6)
        );
        // Truncated at a chunk boundary with the header rewritten to match: the new
        // last chunk was not sealed as final.
        let shorter = PayloadSummary {
            content_size: 4 * u64::from(CHUNK),
            chunk_count: 4,
            ..summary
        };
        let cut = chunks[..4].concat();
        assert_eq!(
            chunk_error(&resign(&cut, shorter, draft.clone()), "truncated"),
            (3, 4)
        );
        // Extended: a full chunk turned into a "last" one by dropping the real last.
        let five = PayloadSummary {
            content_size: 5 * u64::from(CHUNK),
            chunk_count: 5,
            ..summary
        };
        assert_eq!(
            chunk_error(
                &resign(&chunks[..5].concat(), five, draft.clone()),
                "dropped final"
            ),
            (4, 5)
        );
        // Header swap: the same payload under another draft (new file id), same key.
        let mut other = fx.draft(&key, CHUNK);
        other = other.with_content_type("application/zip").unwrap();
        assert_eq!(
            chunk_error(
                &resign(&parts.payload, summary, other.clone()),
                "header swap"
            ),
            (0, 6)
        );

        // Splicing: a second file under the same key (other file id); its chunk 2 put
        // into the first file at the same position.
        let dir2 = fx.work_dir("aead-2");
        std::fs::write(dir2.join("plain.bin"), &plaintext).unwrap();
        let second = Encryptor::new(other, key.clone())
            .unwrap()
            .encrypt_file(&dir2.join("plain.bin"), &dir2.join("bid.bkb"), |_| {})
            .unwrap()
            .sign_with(&fx.bidder.signing_key, &fx.bidder.signing)
            .unwrap();
        assert_eq!(second.header.payload().chunk_count, 6);
        let bytes2 = std::fs::read(dir2.join("bid.bkb")).unwrap();
        let p2 = split(&bytes2).payload;
        let mut c = chunks.clone();
        c[2] = p2[2 * 80..3 * 80].to_vec();
        assert_eq!(
            chunk_error(&resign(&c.concat(), summary, draft.clone()), "spliced"),
            (2, 6)
        );
    }
}

#[test]
fn a_wrong_key_or_recipient_is_refused() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("wrongkey");
        let (_, _) = fx.make_bid(&dir, &pattern(SIZE, 5), CHUNK);
        let bid = dir.join("bid.bkb");
        let opened = Decryptor::open(&bid).unwrap();
        let serial = fx.bidder.encryption.serial_hex();
        // The intruder's encryption key cannot unwrap the bidder's wrapped key.
        let e = opened
            .unwrap_key(&serial, &fx.intruder.encryption_key)
            .unwrap_err();
        assert!(matches!(e, BidFileError::Unwrap { .. }), "{e:?}");
        assert!(e.to_string().contains(&serial), "{e}");
        // Nor the bidder's signing key.
        assert!(opened.unwrap_key(&serial, &fx.bidder.signing_key).is_err());
        // Another file's content key: chunk 0 fails, no output.
        let other = ContentKey::generate(suite).unwrap();
        let bytes = std::fs::read(&bid).unwrap();
        match refused(&dir, &bytes, &other, "another key") {
            BidFileError::ChunkAuthentication {
                chunk: 0, count: 6, ..
            } => {}
            e => panic!("{e:?}"),
        }
        // A key of the wrong length or suite.
        let wrong_suite = ContentKey::generate(match suite {
            Suite::Gm => Suite::Nist,
            Suite::Nist => Suite::Gm,
        })
        .unwrap();
        assert!(matches!(
            refused(&dir, &bytes, &wrong_suite, "wrong suite"),
            BidFileError::BadContentKey { .. }
        ));
    }
}

#[test]
fn a_header_re_signed_by_another_certificate_is_flagged() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("resigned");
        let (key, _) = fx.make_bid(&dir, &pattern(SIZE, 6), CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);
        // The intruder signs the unchanged header with their own certificate.
        let forged = assemble(
            &parts.header,
            &fx.intruder.signing_key,
            &fx.intruder.signing,
            &parts.payload,
        );
        let report = inspect_bytes(&dir, &forged);
        assert_eq!(report.verdict, Verdict::Damaged, "{report}");
        assert_eq!(report.exit_code(), 1);
        let sig = report.signature.as_ref().unwrap();
        assert!(sig.valid && !sig.signer_is_bidder, "{sig:?}");
        assert_eq!(sig.signer_serial, fx.intruder.signing.serial_hex());
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("not by the bidder")),
            "{report}"
        );
        // Decryptor::open reports it too (the opening hall shows it).
        let path = dir.join("forged.bkb");
        std::fs::write(&path, &forged).unwrap();
        let opened = Decryptor::open(&path).unwrap();
        assert!(!opened.signature_check().is_acceptable());
        assert_eq!(opened.problems().len(), 1, "{:?}", opened.problems());
        // The intruder's certificate with the bidder's signature: invalid.
        let swapped = common::with_signature(
            common::to_be_signed(&parts.header, fx.intruder.signing.to_der()),
            &parts.signature,
            &parts.payload,
        );
        assert!(matches!(
            refused(&dir, &swapped, &key, "certificate swap"),
            BidFileError::HeaderSignatureInvalid { .. }
        ));
        // An encryption certificate as signer is flagged.
        let enc_signed = assemble(
            &parts.header,
            &fx.bidder.encryption_key,
            &fx.bidder.encryption,
            &parts.payload,
        );
        let report = inspect_bytes(&dir, &enc_signed);
        assert_eq!(report.exit_code(), 1);
        assert!(!report.signature.unwrap().signing_certificate);
    }
}

#[test]
fn inspect_exit_codes() {
    let fx = Fixture::new(Suite::Gm);
    let dir = fx.work_dir("inspect");
    let (_, _) = fx.make_bid(&dir, &pattern(SIZE, 7), CHUNK);
    let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();

    let intact = inspect_bytes(&dir, &bytes);
    assert_eq!(intact.exit_code(), 0, "{intact}");
    let text = intact.to_string();
    assert!(
        text.contains("北京某某建设有限公司") && text.contains("intact"),
        "{text}"
    );
    let json = serde_json::to_value(&intact).unwrap();
    assert_eq!(json["verdict"], "intact");
    assert_eq!(
        json["header"]["tender_id"],
        "ZB-2026-0042 某某道路改造工程施工"
    );
    assert_eq!(json["header"]["payload"]["chunk_count"], 6);

    // A flipped payload byte: damaged, and the payload hash is what says so.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 30;
    flipped[last] ^= 1;
    let r = inspect_bytes(&dir, &flipped);
    assert_eq!(
        (r.exit_code(), r.ciphertext_hash_ok),
        (1, Some(false)),
        "{r}"
    );
    assert_eq!(r.signature.as_ref().map(|s| s.valid), Some(true));

    // Trailing bytes: damaged.
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"x");
    let r = inspect_bytes(&dir, &longer);
    assert_eq!(r.exit_code(), 1, "{r}");
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("after its last chunk")),
        "{r}"
    );
    assert!(matches!(
        refused(
            &dir,
            &longer,
            &ContentKey::generate(Suite::Gm).unwrap(),
            "trailing"
        ),
        BidFileError::TrailingData { extra: 1, .. }
    ));

    // Garbage, an empty file, another version, a missing file: unreadable.
    let garbage = pattern(4000, 8);
    assert_eq!(inspect_bytes(&dir, &garbage).exit_code(), 2);
    assert_eq!(inspect_bytes(&dir, b"").exit_code(), 2);
    assert_eq!(inspect_bytes(&dir, b"%PDF-1.7\n").exit_code(), 2);
    let mut v2 = bytes.clone();
    v2[11] = 2;
    let r = inspect_bytes(&dir, &v2);
    assert_eq!(r.exit_code(), 2, "{r}");
    assert!(r.problems[0].contains("format version 2"), "{r}");
    assert_eq!(inspect(&dir.join("missing.bkb")).exit_code(), 2);
    // A directory is not a bid file either.
    assert_eq!(inspect(&dir).exit_code(), 2);
}
