//! The chunked AEAD stream (STREAM, Hoang–Reyhanitabar–Rogaway–Vizár 2015) and the
//! three-stage pipeline that runs it in constant memory.
//!
//! A chunk is sealed under the content key with nonce `fileId[0..7] ‖ index (u32 BE) ‖
//! final flag` and associated data `H(EnvelopeContext DER)`. The index in the nonce
//! detects reordering and duplication, the final flag truncation and extension, the
//! associated data any change to the header's fixed part and splicing between files.
//!
//! Pipeline: a reader thread (read + hash), the calling thread (the cipher), a writer
//! thread (hash + write), handing a fixed pool of [`BUFFERS`] chunk buffers around, so
//! memory is `BUFFERS × (chunk size + 16)` whatever the file size, and the hashes run
//! on the second core while the cipher runs on the first.

use std::io::{ErrorKind, Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use bidkit_crypto::Hasher;
use bidkit_crypto::aead::{AeadKey, TAG_LEN};
use serde::Serialize;

use crate::header::chunk_nonce;
use crate::{BidFileError, HeaderDraft, MAX_CHUNKS, Result};

/// Chunk buffers in flight (reader, cipher, writer, one spare).
pub const BUFFERS: usize = 4;

/// Where a long operation stands, reported after every chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Plaintext bytes processed so far.
    pub bytes_done: u64,
    /// Plaintext bytes in all, when known.
    pub bytes_total: Option<u64>,
    /// Chunks processed so far.
    pub chunks_done: u64,
    /// Chunks in all, when known.
    pub chunks_total: Option<u64>,
}

struct Chunk {
    buf: Vec<u8>,
    index: u64,
    last: bool,
}

/// Run `produce` on a thread, `transform` here, `consume` on another thread, over a
/// fixed pool of buffers of `capacity` bytes. Stops at the chunk marked `last`, or at
/// the first error (the transform's error wins, then the producer's, then the
/// consumer's).
fn pipeline<P, T, C>(
    capacity: usize,
    mut produce: P,
    mut transform: T,
    mut consume: C,
) -> Result<()>
where
    P: FnMut(Vec<u8>, u64) -> Result<Chunk> + Send,
    T: FnMut(&mut Chunk) -> Result<()>,
    C: FnMut(&[u8]) -> Result<()> + Send,
{
    let (free_tx, free_rx): (SyncSender<Vec<u8>>, Receiver<Vec<u8>>) = sync_channel(BUFFERS);
    for _ in 0..BUFFERS {
        // Cannot fail: the channel has room for every buffer and the receiver is alive.
        let _ = free_tx.send(Vec::with_capacity(capacity));
    }
    let (to_main, from_reader) = sync_channel::<Chunk>(BUFFERS);
    let (to_writer, from_main) = sync_channel::<Chunk>(BUFFERS);

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<()> {
            let mut index = 0u64;
            loop {
                let Ok(buf) = free_rx.recv() else {
                    return Ok(());
                };
                let chunk = produce(buf, index)?;
                let last = chunk.last;
                if to_main.send(chunk).is_err() || last {
                    return Ok(());
                }
                index += 1;
            }
        });
        let writer = scope.spawn(move || -> Result<()> {
            while let Ok(chunk) = from_main.recv() {
                consume(&chunk.buf)?;
                let _ = free_tx.send(chunk.buf);
            }
            Ok(())
        });

        let mut outcome: Result<bool> = Ok(false);
        while let Ok(mut chunk) = from_reader.recv() {
            if let Err(e) = transform(&mut chunk) {
                outcome = Err(e);
                break;
            }
            let last = chunk.last;
            if to_writer.send(chunk).is_err() {
                break;
            }
            if last {
                outcome = Ok(true);
                break;
            }
        }
        drop(from_reader);
        drop(to_writer);
        let reader = reader.join().unwrap_or_else(|_| Err(panicked("reader")));
        let writer = writer.join().unwrap_or_else(|_| Err(panicked("writer")));
        let finished = outcome?;
        reader?;
        writer?;
        if finished {
            Ok(())
        } else {
            Err(BidFileError::Internal(
                "the chunk stream ended before its final chunk".into(),
            ))
        }
    })
}

fn panicked(which: &str) -> BidFileError {
    BidFileError::Internal(format!("the {which} thread stopped unexpectedly"))
}

/// What encrypting the stream produced.
pub(crate) struct Sealed {
    pub content_size: u64,
    pub content_hash: [u8; 32],
    pub chunk_count: u64,
    pub ciphertext_hash: [u8; 32],
}

/// Encrypt all of `input` into `output` as sealed chunks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn seal<R: Read + Send, W: Write + Send>(
    draft: &HeaderDraft,
    key: &AeadKey,
    input: R,
    input_name: &str,
    total: Option<u64>,
    output: W,
    output_path: &Path,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Sealed> {
    let chunk_size = draft.chunk_size() as usize;
    let aad = draft.chunk_aad()?;
    let file_id = *draft.file_id();
    let hash = draft.suite().hash();

    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, output);
    let mut plain_hasher = hash.hasher();
    let mut cipher_hasher = hash.hasher();
    let mut content_size = 0u64;
    let mut chunk_count = 0u64;
    let chunks_total = total.and_then(|t| crate::header::chunk_count_for(t, draft.chunk_size()));

    let read_error = |source: std::io::Error| BidFileError::ReadInput {
        input: input_name.to_owned(),
        source,
    };
    let mut pending: Option<u8> = None;
    let produce = |mut buf: Vec<u8>, index: u64| -> Result<Chunk> {
        if index >= MAX_CHUNKS {
            return Err(BidFileError::TooLarge {
                chunk_size: draft.chunk_size(),
                max_chunks: MAX_CHUNKS,
            });
        }
        buf.clear();
        if let Some(b) = pending.take() {
            buf.push(b);
        }
        let want = (chunk_size - buf.len()) as u64;
        (&mut input)
            .take(want)
            .read_to_end(&mut buf)
            .map_err(read_error)?;
        let last = if buf.len() < chunk_size {
            true
        } else {
            // A full chunk: it is the last one only if the input ends here.
            let mut one = [0u8; 1];
            loop {
                match input.read(&mut one) {
                    Ok(0) => break true,
                    Ok(_) => {
                        pending = Some(one[0]);
                        break false;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(read_error(e)),
                }
            }
        };
        plain_hasher.update(&buf);
        Ok(Chunk { buf, index, last })
    };
    let transform = |chunk: &mut Chunk| -> Result<()> {
        let index = u32::try_from(chunk.index).map_err(|_| BidFileError::TooLarge {
            chunk_size: draft.chunk_size(),
            max_chunks: MAX_CHUNKS,
        })?;
        let nonce = chunk_nonce(&file_id, index, chunk.last);
        let plain_len = chunk.buf.len() as u64;
        let tag = key.seal_in_place(&nonce, &aad, &mut chunk.buf)?;
        chunk.buf.extend_from_slice(&tag);
        content_size += plain_len;
        chunk_count += 1;
        on_progress(Progress {
            bytes_done: content_size,
            bytes_total: total,
            chunks_done: chunk_count,
            chunks_total,
        });
        Ok(())
    };
    let consume = |record: &[u8]| -> Result<()> {
        cipher_hasher.update(record);
        output
            .write_all(record)
            .map_err(|e| BidFileError::io("write", output_path, e))
    };
    pipeline(chunk_size + TAG_LEN, produce, transform, consume)?;
    output
        .flush()
        .map_err(|e| BidFileError::io("write", output_path, e))?;
    if let Some(t) = total
        && t != content_size
    {
        return Err(BidFileError::ReadInput {
            input: input_name.to_owned(),
            source: std::io::Error::other(format!(
                "{content_size} bytes read, {t} expected: the input changed while it was read"
            )),
        });
    }
    Ok(Sealed {
        content_size,
        content_hash: plain_hasher.finalize(),
        chunk_count,
        ciphertext_hash: cipher_hasher.finalize(),
    })
}

/// What decrypting the stream produced.
pub(crate) struct Opened {
    pub content_hash: [u8; 32],
    pub ciphertext_hash: [u8; 32],
}

/// Decrypt `chunk_count` sealed chunks from `input` (positioned at the payload) into
/// `output`. `record_len(i)` is the stored length of chunk `i` (plaintext + tag).
#[allow(clippy::too_many_arguments)]
pub(crate) fn open<R: Read + Send, W: Write + Send>(
    draft: &HeaderDraft,
    key: &AeadKey,
    chunk_count: u64,
    content_size: u64,
    payload_offset: u64,
    input: R,
    input_path: &Path,
    output: W,
    output_path: &Path,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Opened> {
    let chunk_size = draft.chunk_size() as usize;
    let aad = draft.chunk_aad()?;
    let file_id = *draft.file_id();
    let hash = draft.suite().hash();
    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, output);
    let mut plain_hasher: Hasher = hash.hasher();
    let mut cipher_hasher: Hasher = hash.hasher();
    let mut bytes_done = 0u64;

    let cs = chunk_size as u64;
    let mut offset = payload_offset;
    let last_index = chunk_count.saturating_sub(1);
    let produce = |mut buf: Vec<u8>, index: u64| -> Result<Chunk> {
        let plain = if index < last_index {
            cs
        } else {
            content_size.saturating_sub(last_index.saturating_mul(cs))
        };
        // `plain ≤ chunk size` by the header's consistency checks.
        let record = usize::try_from(plain)
            .map_err(|_| BidFileError::Internal("chunk length overflow".into()))?
            + TAG_LEN;
        buf.clear();
        buf.resize(record, 0);
        let end = offset + record as u64;
        input.read_exact(&mut buf).map_err(|e| {
            if e.kind() == ErrorKind::UnexpectedEof {
                BidFileError::Truncated {
                    path: input_path.to_path_buf(),
                    what: format!(
                        "chunk {index} of {chunk_count} (the file shrank while it was read)"
                    ),
                    expected: end,
                    actual: std::fs::metadata(input_path).map_or(0, |m| m.len()),
                }
            } else {
                BidFileError::io("read", input_path, e)
            }
        })?;
        offset = end;
        cipher_hasher.update(&buf);
        Ok(Chunk {
            buf,
            index,
            last: index == last_index,
        })
    };
    let transform = |chunk: &mut Chunk| -> Result<()> {
        let fail = || BidFileError::ChunkAuthentication {
            path: input_path.to_path_buf(),
            chunk: chunk.index,
            count: chunk_count,
        };
        let index = u32::try_from(chunk.index).map_err(|_| fail())?;
        let split = chunk.buf.len().checked_sub(TAG_LEN).ok_or_else(fail)?;
        let tag: [u8; TAG_LEN] = chunk
            .buf
            .get(split..)
            .and_then(|t| t.try_into().ok())
            .ok_or_else(fail)?;
        chunk.buf.truncate(split);
        let nonce = chunk_nonce(&file_id, index, chunk.last);
        key.open_in_place(&nonce, &aad, &mut chunk.buf, &tag, "bid-file chunk")
            .map_err(|_| fail())?;
        bytes_done += chunk.buf.len() as u64;
        on_progress(Progress {
            bytes_done,
            bytes_total: Some(content_size),
            chunks_done: chunk.index + 1,
            chunks_total: Some(chunk_count),
        });
        Ok(())
    };
    let consume = |plain: &[u8]| -> Result<()> {
        plain_hasher.update(plain);
        output
            .write_all(plain)
            .map_err(|e| BidFileError::io("write", output_path, e))
    };
    pipeline(chunk_size + TAG_LEN, produce, transform, consume)?;
    output
        .flush()
        .map_err(|e| BidFileError::io("write", output_path, e))?;
    Ok(Opened {
        content_hash: plain_hasher.finalize(),
        ciphertext_hash: cipher_hasher.finalize(),
    })
}
