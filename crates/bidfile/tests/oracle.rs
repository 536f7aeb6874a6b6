//! Independent implementations decrypt one chunk of a bid file, given only the content
//! key and the byte layout of `docs/bidfile-format.md` — so the format is what it
//! claims to be.
//!
//! * The file is taken apart by hand here (lengths, a minimal DER walk to the context
//!   and the file id), not by the crate.
//! * The associated data is hashed by `openssl dgst -sm3` / `-sha256`.
//! * OpenSSL's `enc -sm4-ctr` / `-aes-256-ctr` decrypts the chunk body with the GCM
//!   counter block `nonce ‖ 00000002` (OpenSSL 3.0's `enc` has no GCM mode).
//! * Python's `cryptography` (its own OpenSSL 3 build, which has SM4-GCM) decrypts and
//!   **authenticates** the chunk with the documented nonce and associated data — and
//!   refuses it with the final flag flipped.
//!
//! Skipped, loudly, when `openssl` or Python's `cryptography` is not available (the
//! test first tries `pip install --target` into a temporary directory).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bidkit_crypto::Suite;
use common::{Fixture, pattern, records, split};

const CHUNK: u32 = 4096;

/// One DER TLV at the start of `b`: (tag, header length, value length).
fn tlv(b: &[u8]) -> (u8, usize, usize) {
    let tag = b[0];
    let first = b[1] as usize;
    if first < 0x80 {
        (tag, 2, first)
    } else {
        let n = first & 0x7f;
        let len = b[2..2 + n]
            .iter()
            .fold(0usize, |a, x| (a << 8) | *x as usize);
        (tag, 2 + n, len)
    }
}

/// The context TLV (first element of the header SEQUENCE) and the file id (third
/// element of the context).
fn context_and_file_id(header: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (tag, hl, _) = tlv(header);
    assert_eq!(tag, 0x30);
    let inner = &header[hl..];
    let (tag, chl, clen) = tlv(inner);
    assert_eq!(tag, 0x30);
    let context = inner[..chl + clen].to_vec();
    let mut at = &context[chl..];
    for expected in [0x02u8, 0x0c] {
        let (t, h, l) = tlv(at);
        assert_eq!(t, expected);
        at = &at[h + l..];
    }
    let (t, h, l) = tlv(at);
    assert_eq!((t, l), (0x04, 16), "file id");
    let file_id = at[h..h + l].to_vec();
    (context, file_id)
}

fn openssl() -> Option<PathBuf> {
    ["/usr/bin/openssl", "/usr/local/bin/openssl", "openssl"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| {
            Command::new(p)
                .arg("version")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

/// `Some(PYTHONPATH)` (possibly empty) under which `import cryptography` works.
fn python_cryptography(scratch: &Path) -> Option<String> {
    let works = |pythonpath: &str| {
        Command::new("python3")
            .args([
                "-c",
                "from cryptography.hazmat.primitives.ciphers import algorithms; algorithms.SM4",
            ])
            .env("PYTHONPATH", pythonpath)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if works("") {
        return Some(String::new());
    }
    let target = scratch.join("pylib");
    let installed = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--target"])
        .arg(&target)
        .arg("cryptography")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let path = target.display().to_string();
    (installed && works(&path)).then_some(path)
}

const PYTHON_GCM: &str = r#"
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
suite, key, nonce, aad, record, out = sys.argv[1:7]
key, nonce, aad = bytes.fromhex(key), bytes.fromhex(nonce), bytes.fromhex(aad)
data = open(record, "rb").read()
ct, tag = data[:-16], data[-16:]
alg = algorithms.SM4(key) if suite == "gm" else algorithms.AES(key)
d = Cipher(alg, modes.GCM(nonce, tag)).decryptor()
d.authenticate_additional_data(aad)
try:
    pt = d.update(ct) + d.finalize()
except Exception as e:
    print("REFUSED", type(e).__name__)
    sys.exit(3)
open(out, "wb").write(pt)
"#;

#[test]
fn independent_implementations_decrypt_a_chunk() {
    let Some(openssl) = openssl() else {
        eprintln!("SKIPPED: openssl is not installed; the chunk oracle test did not run");
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let Some(pythonpath) = python_cryptography(scratch.path()) else {
        eprintln!(
            "SKIPPED: Python's `cryptography` is not available and could not be installed; the chunk oracle test did not run"
        );
        return;
    };
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("oracle");
        let size = 3 * CHUNK as usize + 100;
        let plaintext = pattern(size, 11);
        let (key, _) = fx.make_bid(&dir, &plaintext, CHUNK);
        let bytes = std::fs::read(dir.join("bid.bkb")).unwrap();
        let parts = split(&bytes);
        let (context, file_id) = context_and_file_id(&parts.header);

        // AAD = suite hash of the context DER, by OpenSSL.
        let ctx_path = dir.join("context.der");
        std::fs::write(&ctx_path, &context).unwrap();
        let digest = match suite {
            Suite::Gm => "-sm3",
            Suite::Nist => "-sha256",
        };
        let out = Command::new(&openssl)
            .args(["dgst", digest, "-binary"])
            .arg(&ctx_path)
            .output()
            .unwrap();
        assert!(out.status.success());
        let aad = out.stdout;
        assert_eq!(aad.len(), 32);

        let lens = records(size as u64, CHUNK);
        let count = lens.len();
        for index in [1usize, count - 1] {
            let start: usize = lens[..index].iter().sum();
            let record = &parts.payload[start..start + lens[index]];
            let plain =
                &plaintext[index * CHUNK as usize..(index * CHUNK as usize + lens[index] - 16)];
            let last = index == count - 1;
            let mut nonce = file_id[..7].to_vec();
            nonce.extend_from_slice(&(index as u32).to_be_bytes());
            nonce.push(u8::from(last));
            let rec_path = dir.join(format!("chunk{index}.bin"));
            std::fs::write(&rec_path, record).unwrap();

            // 1. OpenSSL CTR over the body: counter block nonce ‖ 00000002.
            let body_path = dir.join(format!("body{index}.bin"));
            std::fs::write(&body_path, &record[..record.len() - 16]).unwrap();
            let cipher = match suite {
                Suite::Gm => "-sm4-ctr",
                Suite::Nist => "-aes-256-ctr",
            };
            let iv = format!("{}00000002", hex::encode(&nonce));
            let out = Command::new(&openssl)
                .args(["enc", "-d", cipher, "-nopad", "-K"])
                .arg(hex::encode(key.as_bytes()))
                .args(["-iv", &iv, "-in"])
                .arg(&body_path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout, plain, "{suite}: openssl enc, chunk {index}");

            // 2. Python `cryptography`: GCM with the tag and AAD checked.
            let py_out = dir.join(format!("py{index}.bin"));
            let run = |nonce: &[u8]| {
                Command::new("python3")
                    .env("PYTHONPATH", &pythonpath)
                    .args(["-c", PYTHON_GCM, suite.as_str()])
                    .arg(hex::encode(key.as_bytes()))
                    .arg(hex::encode(nonce))
                    .arg(hex::encode(&aad))
                    .arg(&rec_path)
                    .arg(&py_out)
                    .output()
                    .unwrap()
            };
            let out = run(&nonce);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert_eq!(
                std::fs::read(&py_out).unwrap(),
                plain,
                "{suite}: python, chunk {index}"
            );

            // The final flag is authenticated: flipped, the oracle refuses.
            let mut wrong = nonce.clone();
            wrong[11] ^= 1;
            let out = run(&wrong);
            assert_eq!(out.status.code(), Some(3), "{suite}: flag flip accepted");
            assert!(String::from_utf8_lossy(&out.stdout).contains("REFUSED"));
        }
        eprintln!("{suite}: chunks decrypted by openssl enc (CTR) and python cryptography (GCM)");
    }
}
