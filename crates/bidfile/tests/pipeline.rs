//! The streaming pipeline (a reader thread, a cipher thread per core, the calling thread
//! writing in order): hundreds of chunks cross the thread boundaries and come out in
//! order, each sealed under its own documented nonce; progress is reported once per
//! chunk, in order; an error in the middle — a bad chunk, a failing reader — names the
//! first bad chunk in file order and leaves no output behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use bidkit_bidfile::{BidFileError, ContentKey, Decryptor, Encryptor, Progress, stream};
use bidkit_crypto::Suite;
use bidkit_crypto::aead::AeadKey;
use common::{Fixture, listing, pattern, records, split};

const CHUNK: u32 = 16;
const SIZE: usize = 16 * 700 + 5; // 701 chunks, the last one 5 bytes

fn check_progress(seen: &[Progress], size: usize, chunks: usize) {
    assert_eq!(seen.len(), chunks);
    for (i, p) in seen.iter().enumerate() {
        assert_eq!(p.chunks_done, i as u64 + 1, "progress out of order");
        assert_eq!(p.bytes_done, (((i + 1) * CHUNK as usize).min(size)) as u64);
    }
}

#[test]
fn hundreds_of_chunks_cross_the_threads_in_order() {
    assert!((1..=stream::MAX_WORKERS).contains(&stream::workers()));
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("many");
        let plaintext = pattern(SIZE, 41);
        let input = dir.join("plain.bin");
        std::fs::write(&input, &plaintext).unwrap();
        let key = ContentKey::generate(suite).unwrap();
        let bid = dir.join("bid.bkb");
        let mut seen = Vec::new();
        let prepared = Encryptor::new(fx.draft(&key, CHUNK), key.clone())
            .unwrap()
            .encrypt_file(&input, &bid, |p| seen.push(p))
            .unwrap();
        let lens = records(SIZE as u64, CHUNK);
        check_progress(&seen, SIZE, lens.len());
        assert!(prepared.timings().workers >= 1);
        let outcome = prepared
            .sign_with(&fx.bidder.signing_key, &fx.bidder.signing)
            .unwrap();

        // Every record is chunk i sealed under nonce i, independently of the crate's
        // pipeline: no chunk was swapped between threads.
        let bytes = std::fs::read(&bid).unwrap();
        let payload = split(&bytes).payload;
        let draft = outcome.header.draft();
        let aad = suite.hash().digest(&draft.context_der().unwrap());
        let aead = AeadKey::new(suite.aead(), key.as_bytes()).unwrap();
        let mut at = 0;
        for (i, len) in lens.iter().enumerate() {
            let mut nonce = [0u8; 12];
            nonce[..7].copy_from_slice(&draft.file_id()[..7]);
            nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
            nonce[11] = u8::from(i + 1 == lens.len());
            let plain = aead
                .open(&nonce, &aad, &payload[at..at + len], "chunk")
                .unwrap();
            let start = i * CHUNK as usize;
            assert_eq!(
                &plain[..],
                &plaintext[start..start + plain.len()],
                "chunk {i}"
            );
            at += len;
        }
        assert_eq!(at, payload.len());

        let out = dir.join("out.bin");
        let mut seen = Vec::new();
        let done = Decryptor::open(&bid)
            .unwrap()
            .decrypt_to(&out, &key, |p| seen.push(p))
            .unwrap();
        check_progress(&seen, SIZE, lens.len());
        assert_eq!(done.chunks, lens.len() as u64);
        assert_eq!(std::fs::read(&out).unwrap(), plaintext);
    }
}

/// Decrypt `bytes` as `dir/case.bkb`; on failure, check that nothing was left.
fn decrypt_bytes(dir: &Path, bytes: &[u8], key: &ContentKey) -> Result<(), BidFileError> {
    let path = dir.join("case.bkb");
    std::fs::write(&path, bytes).unwrap();
    let out = dir.join("case.out");
    let result = Decryptor::open(&path).and_then(|d| d.decrypt_to(&out, key, |_| {}).map(|_| ()));
    if result.is_err() {
        assert!(!out.exists());
        let left: Vec<String> = listing(dir)
            .into_iter()
            .filter(|n| n.starts_with(".case.out"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    result
}

#[test]
fn the_first_bad_chunk_in_file_order_is_named_and_nothing_is_written() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("bad-chunks");
        let plaintext = pattern(SIZE, 43);
        let (key, _) = fx.make_bid(&dir, &plaintext, CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);
        let lens = records(SIZE as u64, CHUNK);
        let offset_of = |i: usize| parts.payload_offset + lens[..i].iter().sum::<usize>();

        // One bad chunk in the middle, then every chunk from one onwards bad (later
        // chunks fail on other threads, possibly first): the first is named.
        for (first, through_end) in [(350usize, false), (200, true), (0, true), (700, false)] {
            let mut damaged = bytes.clone();
            let last = if through_end { lens.len() - 1 } else { first };
            for i in first..=last {
                damaged[offset_of(i) + 3] ^= 0x10;
            }
            match decrypt_bytes(&dir, &damaged, &key) {
                Err(BidFileError::ChunkAuthentication { chunk, count, .. }) => {
                    assert_eq!((chunk, count), (first as u64, lens.len() as u64));
                }
                other => panic!("chunks {first}..={last} damaged: {other:?}"),
            }
        }
        // Undamaged, it decrypts.
        decrypt_bytes(&dir, &bytes, &key).unwrap();
        assert_eq!(std::fs::read(dir.join("case.out")).unwrap(), plaintext);
    }
}

/// A reader that yields `good` bytes of a pattern, then fails.
struct FailsAfter {
    left: usize,
}

impl std::io::Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("the medium went away"));
        }
        let n = buf.len().min(self.left).min(1000);
        buf[..n].fill(0x5a);
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_reader_failing_midway_leaves_nothing() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("failing-reader");
        let key = ContentKey::generate(suite).unwrap();
        let bid = dir.join("bid.bkb");
        for good in [0usize, 5, 16 * 300, 16 * 300 + 7] {
            let err = Encryptor::new(fx.draft(&key, CHUNK), key.clone())
                .unwrap()
                .encrypt_reader(FailsAfter { left: good }, None, &bid, |_| {})
                .unwrap_err();
            assert!(
                matches!(err, BidFileError::ReadInput { .. }),
                "after {good} bytes: {err:?}"
            );
            assert!(err.to_string().contains("the medium went away"), "{err}");
            assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
        }
    }
}
