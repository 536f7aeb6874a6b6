//! Encrypt → sign → open → decrypt, in both suites, at the sizes where chunking has
//! edges: empty, one byte, exactly one chunk, one chunk and one byte, several MiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bidkit_bidfile::{
    ContentKey, Decryptor, Encryptor, HeaderDraft, MAGIC, Progress, RecipientRole, Verdict, inspect,
};
use bidkit_crypto::Suite;
use common::{CREATED, Fixture, listing, pattern, records, split};

const CHUNK: u32 = 4096;

fn round_trip(fx: &Fixture, size: usize, chunk: u32) {
    let dir = fx.work_dir(&format!("rt-{size}-{chunk}"));
    let plaintext = pattern(size, size as u64 + 7);
    let (key, outcome) = fx.make_bid(&dir, &plaintext, chunk);
    let bid = dir.join("bid.bkb");
    let bytes = std::fs::read(&bid).unwrap();

    // The layout is the documented one, chunk by chunk.
    assert_eq!(outcome.file_len, bytes.len() as u64);
    let parts = split(&bytes);
    let lens = records(size as u64, chunk);
    assert_eq!(parts.payload.len(), lens.iter().sum::<usize>());
    assert_eq!(outcome.header.payload().chunk_count, lens.len() as u64);
    assert_eq!(parts.header, outcome.header.to_der());
    assert_eq!(parts.certificate, fx.bidder.signing.to_der());
    // The stored ciphertext is not the plaintext (for non-trivial sizes).
    if size >= 16 {
        assert!(!bytes.windows(16).any(|w| w == &plaintext[..16]));
    }

    // Open: header fields as drafted, signature by the bidder, nothing to report.
    let opened = Decryptor::open(&bid).unwrap();
    let h = opened.header();
    assert_eq!(h.suite(), fx.suite);
    assert_eq!(h.tender_id(), "ZB-2026-0042 某某道路改造工程施工");
    assert_eq!(h.bidder().uscc, "91110000600037341L");
    assert_eq!(h.draft().created_at(), CREATED);
    assert_eq!(h.draft().chunk_size(), chunk);
    assert_eq!(h.payload().content_size, size as u64);
    assert_eq!(h.payload().content_hash, fx.suite.hash().digest(&plaintext));
    assert_eq!(
        h.payload().ciphertext_hash,
        fx.suite.hash().digest(&parts.payload)
    );
    assert!(
        opened.signature_check().is_acceptable(),
        "{:?}",
        opened.problems()
    );
    assert!(opened.problems().is_empty());
    assert_eq!(opened.signer(), &fx.bidder.signing);

    // Decrypt with the key unwrapped by the recipient's private key.
    let serial = fx.bidder.encryption.serial_hex();
    let unwrapped = opened
        .unwrap_key(&serial.to_uppercase(), &fx.bidder.encryption_key)
        .unwrap();
    assert_eq!(unwrapped.as_bytes(), key.as_bytes());
    let out = dir.join("decrypted.bin");
    let mut seen: Vec<Progress> = Vec::new();
    let done = opened
        .decrypt_to(&out, &unwrapped, |p| seen.push(p))
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), plaintext);
    assert_eq!(done.content_size, size as u64);
    assert_eq!(done.chunks, lens.len() as u64);
    assert_eq!(seen.len(), lens.len());
    assert_eq!(seen.last().unwrap().bytes_done, size as u64);
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));

    // The plaintext file is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Inspect agrees, and nothing but the expected files exist.
    let report = inspect(&bid);
    assert_eq!(report.verdict, Verdict::Intact, "{report}");
    assert_eq!(report.exit_code(), 0);
    assert_eq!(report.ciphertext_hash_ok, Some(true));
    assert_eq!(listing(&dir), ["bid.bkb", "decrypted.bin", "plain.bin"]);
    // The input was not touched.
    assert_eq!(std::fs::read(dir.join("plain.bin")).unwrap(), plaintext);
}

#[test]
fn edge_sizes_round_trip_in_both_suites() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        for size in [
            0,
            1,
            CHUNK as usize - 1,
            CHUNK as usize,
            CHUNK as usize + 1,
            3 * CHUNK as usize,
        ] {
            round_trip(&fx, size, CHUNK);
        }
    }
}

#[test]
fn several_mib_with_small_chunks_in_both_suites() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        round_trip(&fx, 5 * 1024 * 1024 + 123, 64 * 1024);
        // The smallest chunk size, many chunks.
        round_trip(&fx, 10_000, 16);
    }
}

#[test]
fn default_chunk_size_is_one_mib() {
    let fx = Fixture::new(Suite::Gm);
    let key = ContentKey::generate(Suite::Gm).unwrap();
    let draft = HeaderDraft::new(Suite::Gm, "T-1", fx.bidder.bidder(), CREATED).unwrap();
    assert_eq!(draft.chunk_size(), 1 << 20);
    round_trip(&fx, (1 << 20) + 5, 1 << 20);
    drop(key);
}

#[test]
fn extra_recipient_decrypts_too_and_each_recipient_is_named() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("extra");
        let plaintext = pattern(50_000, 3);
        std::fs::write(dir.join("plain.bin"), &plaintext).unwrap();
        let key = ContentKey::generate(suite).unwrap();
        let mut draft = fx.draft(&key, 8192);
        draft
            .add_recipient(RecipientRole::Extra, &fx.platform.encryption, &key)
            .unwrap();
        // The same certificate twice is refused.
        assert!(
            draft
                .add_recipient(RecipientRole::Extra, &fx.platform.encryption, &key)
                .is_err()
        );
        let bid = dir.join("bid.bkb");
        Encryptor::new(draft, key)
            .unwrap()
            .encrypt_file(&dir.join("plain.bin"), &bid, |_| {})
            .unwrap()
            .sign_with(&fx.bidder.signing_key, &fx.bidder.signing)
            .unwrap();
        let opened = Decryptor::open(&bid).unwrap();
        assert_eq!(opened.header().recipients().len(), 2);
        let extra = opened
            .recipient(&fx.platform.encryption.serial_hex())
            .unwrap();
        assert_eq!(extra.role, RecipientRole::Extra);
        assert!(extra.is_for(suite, &fx.platform.encryption));
        let k = opened
            .unwrap_key(
                &fx.platform.encryption.serial_hex(),
                &fx.platform.encryption_key,
            )
            .unwrap();
        opened.decrypt_to(&dir.join("out"), &k, |_| {}).unwrap();
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), plaintext);
        // A serial that is not a recipient is named in the error.
        let err = opened
            .recipient(&fx.intruder.encryption.serial_hex())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no recipient with certificate serial"),
            "{err}"
        );
    }
}

#[test]
fn a_stream_of_unknown_length_round_trips() {
    let fx = Fixture::new(Suite::Nist);
    let dir = fx.work_dir("reader");
    let plaintext = pattern(100_003, 9);
    let key = ContentKey::generate(Suite::Nist).unwrap();
    let draft = fx.draft(&key, 10_000);
    // A reader that returns short reads.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(777).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let bid = dir.join("bid.bkb");
    let prepared = Encryptor::new(draft, key.clone())
        .unwrap()
        .encrypt_reader(Trickle(&plaintext), None, &bid, |_| {})
        .unwrap();
    // Nothing is visible before the signature.
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
    assert_eq!(prepared.header().payload().chunk_count, 11);
    prepared
        .sign_with(&fx.bidder.signing_key, &fx.bidder.signing)
        .unwrap();
    let out = dir.join("out");
    Decryptor::open(&bid)
        .unwrap()
        .decrypt_to(&out, &key, |_| {})
        .unwrap();
    assert_eq!(std::fs::read(out).unwrap(), plaintext);
}

#[test]
fn signing_is_refused_for_the_wrong_certificate_or_signature() {
    let fx = Fixture::new(Suite::Gm);
    let dir = fx.work_dir("signer");
    std::fs::write(dir.join("plain.bin"), b"bid").unwrap();
    let prepare = || {
        let key = ContentKey::generate(Suite::Gm).unwrap();
        Encryptor::new(fx.draft(&key, 4096), key)
            .unwrap()
            .encrypt_file(&dir.join("plain.bin"), &dir.join("bid.bkb"), |_| {})
            .unwrap()
    };
    // Another organisation's signing certificate.
    let err = prepare()
        .sign_with(&fx.intruder.signing_key, &fx.intruder.signing)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not the bidder"), "{err}");
    // The bidder's encryption certificate.
    let err = prepare()
        .sign_with(&fx.bidder.encryption_key, &fx.bidder.encryption)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a signing certificate"), "{err}");
    // A signature made by another key over the right bytes.
    let prepared = prepare();
    let sig = fx
        .intruder
        .signing_key
        .sign(&prepared.to_be_signed(&fx.bidder.signing))
        .unwrap();
    let err = prepared
        .finish(&fx.bidder.signing, &sig)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not verify"), "{err}");
    // Nothing was written by any of the refusals.
    assert_eq!(listing(&dir), ["plain.bin"]);
}

#[test]
fn drafts_refuse_bad_input() {
    let fx = Fixture::new(Suite::Gm);
    let key = ContentKey::generate(Suite::Gm).unwrap();
    let d = HeaderDraft::new(Suite::Gm, "T", fx.bidder.bidder(), CREATED).unwrap();
    assert!(d.clone().with_chunk_size(15).is_err());
    assert!(d.clone().with_chunk_size((8 << 20) + 1).is_err());
    assert!(HeaderDraft::new(Suite::Gm, "", fx.bidder.bidder(), CREATED).is_err());
    assert!(HeaderDraft::new(Suite::Gm, "a\nb", fx.bidder.bidder(), CREATED).is_err());
    // No recipient.
    assert!(Encryptor::new(d.clone(), key.clone()).is_err());
    // A signing certificate as recipient; a NIST certificate in a GM file.
    let mut d2 = d.clone();
    assert!(
        d2.add_recipient(RecipientRole::Bidder, &fx.bidder.signing, &key)
            .is_err()
    );
    let nist = Fixture::new(Suite::Nist);
    assert!(
        d2.add_recipient(RecipientRole::Bidder, &nist.bidder.encryption, &key)
            .is_err()
    );
    // A key of the other suite.
    let nist_key = ContentKey::generate(Suite::Nist).unwrap();
    assert!(
        d2.add_recipient(RecipientRole::Bidder, &fx.bidder.encryption, &nist_key)
            .is_err()
    );
    assert!(ContentKey::from_bytes(Suite::Gm, &[0u8; 32]).is_err());
    assert_eq!(MAGIC, b"BIDKIT-BID\0");
}

#[test]
fn the_output_may_not_be_the_input() {
    let fx = Fixture::new(Suite::Gm);
    let dir = fx.work_dir("same");
    let input = dir.join("plain.bin");
    std::fs::write(&input, b"data").unwrap();
    let key = ContentKey::generate(Suite::Gm).unwrap();
    let err = Encryptor::new(fx.draft(&key, 4096), key)
        .unwrap()
        .encrypt_file(&input, &input, |_| {})
        .unwrap_err();
    assert!(
        err.to_string().contains("inputs are never overwritten"),
        "{err}"
    );
    assert_eq!(std::fs::read(&input).unwrap(), b"data");

    let (key, _) = fx.make_bid(&dir, b"data", 4096);
    let bid = dir.join("bid.bkb");
    let before = std::fs::read(&bid).unwrap();
    let err = Decryptor::open(&bid)
        .unwrap()
        .decrypt_to(&bid, &key, |_| {})
        .unwrap_err();
    assert!(
        err.to_string().contains("inputs are never overwritten"),
        "{err}"
    );
    assert_eq!(std::fs::read(&bid).unwrap(), before);
}

#[test]
fn room_before_the_payload_is_exact_for_a_named_signer_and_a_larger_certificate_still_fits() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("room");
        let plaintext = pattern(70_000, 41);
        std::fs::write(dir.join("plain.bin"), &plaintext).unwrap();
        let encryptor = |signer: Option<&bidkit_pki::Certificate>| {
            let key = ContentKey::generate(suite).unwrap();
            let e = Encryptor::new(fx.draft(&key, 16384), key.clone()).unwrap();
            (
                match signer {
                    Some(c) => e.with_signer(c),
                    None => Ok(e),
                },
                key,
            )
        };
        // Another organisation's certificate is refused before any encryption.
        let (refused, _) = encryptor(Some(&fx.intruder.signing));
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("is not the bidder")
        );

        // Named signer: the padding is only the slack of the size fields and signature.
        let bid = dir.join("named.bkb");
        let (e, key) = encryptor(Some(&fx.bidder.signing));
        e.unwrap()
            .encrypt_file(&dir.join("plain.bin"), &bid, |_| {})
            .unwrap()
            .sign_with(&fx.bidder.signing_key, &fx.bidder.signing)
            .unwrap();
        let parts = split(&std::fs::read(&bid).unwrap());
        assert!(parts.padding < 40, "padding {}", parts.padding);
        let out = dir.join("named.out");
        Decryptor::open(&bid)
            .unwrap()
            .decrypt_to(&out, &key, |_| {})
            .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), plaintext);

        // The bidder signs with another (renewed, longer-named) signing certificate than
        // the one named: it does not fit the room, the file is rewritten with the
        // payload copied, and is as good.
        let mut ca =
            bidkit_pki::CertificateAuthority::open(&fx.dir.path().join("ca"), suite).unwrap();
        let long = bidkit_pki::Subject::Organisation {
            name: "北京某某建设有限公司第一分公司暨某某道路改造工程项目经理部（联合体牵头人）"
                .into(),
            uscc: "91110000600037341L".into(),
        };
        let long_cert = ca
            .issue(
                &long,
                bidkit_pki::KeyPurpose::Signing,
                &fx.bidder.signing_key.public_key(),
                common::T0,
            )
            .unwrap();
        assert!(long_cert.to_der().len() > fx.bidder.signing.to_der().len() + 80);
        let bid = dir.join("larger.bkb");
        let (e, key) = encryptor(Some(&fx.bidder.signing));
        let done = e
            .unwrap()
            .encrypt_file(&dir.join("plain.bin"), &bid, |_| {})
            .unwrap()
            .sign_with(&fx.bidder.signing_key, &long_cert)
            .unwrap();
        let bytes = std::fs::read(&bid).unwrap();
        assert_eq!(done.file_len, bytes.len() as u64);
        let parts = split(&bytes);
        assert_eq!(parts.padding, 0);
        assert_eq!(parts.certificate, long_cert.to_der());
        assert_eq!(inspect(&bid).exit_code(), 0);
        let out = dir.join("larger.out");
        Decryptor::open(&bid)
            .unwrap()
            .decrypt_to(&out, &key, |_| {})
            .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), plaintext);
        assert!(
            !listing(&dir).iter().any(|n| n.starts_with('.')),
            "{:?}",
            listing(&dir)
        );

        // No signer named: a default room, zero-padded.
        let (_, outcome) = fx.make_bid(&dir, &plaintext, 16384);
        let parts = split(&std::fs::read(&outcome.path).unwrap());
        assert!(
            parts.padding > 0 && parts.padding < 2048,
            "{}",
            parts.padding
        );
    }
}
