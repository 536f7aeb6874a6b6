//! The chunked AEAD stream (STREAM, Hoang–Reyhanitabar–Rogaway–Vizár 2015) and the
//! pipeline that runs it in constant memory on every core.
//!
//! A chunk is sealed under the content key with nonce `fileId[0..7] ‖ index (u32 BE) ‖
//! final flag` and associated data `H(EnvelopeContext DER)`. The index in the nonce
//! detects reordering and duplication, the final flag truncation and extension, the
//! associated data any change to the header's fixed part and splicing between files.
//!
//! Pipeline: a reader thread (read + the input-side hash), [`workers`] cipher threads
//! (chunks are independent AEAD messages, so they are sealed or opened in parallel), and
//! the calling thread, which takes the chunks back **in order** (the output-side hash,
//! the write, progress). A fixed pool of `workers + 3` chunk buffers (at most
//! [`BUFFERS`]) circulates, so memory is `pool × (chunk size + 16)` whatever the file
//! size. The hashes are sequential by nature; each runs on its own thread while the
//! cipher uses whatever CPU is left. A chunk that fails (authentication, read) is
//! reported when its turn comes, so the error is always that of the first bad chunk
//! in file order, and nothing after it is written.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use bidkit_crypto::Hasher;
use bidkit_crypto::aead::{AeadKey, TAG_LEN};
use serde::Serialize;

use crate::header::chunk_nonce;
use crate::{BidFileError, HeaderDraft, MAX_CHUNKS, Result};

/// Most cipher threads.
pub const MAX_WORKERS: usize = 4;

/// Most chunk buffers in flight: one being read, one per cipher thread, one being
/// written, one spare.
pub const BUFFERS: usize = MAX_WORKERS + 3;

/// Cipher threads used on this machine: its available parallelism, 1 to
/// [`MAX_WORKERS`].
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
}

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

/// Where the time of one encryption or decryption went (wall-clock time spent in each
/// stage, summed over its chunks; the stages overlap on different threads, so the
/// parts add up to more than [`Timings::total`] when the pipeline works).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// The whole streaming phase (pipeline start to the last byte handed to the file).
    pub total: Duration,
    /// Reading the input (reader thread).
    pub read: Duration,
    /// Hashing the plaintext (encryption: reader thread; decryption: calling thread).
    pub plaintext_hash: Duration,
    /// The AEAD, summed over the cipher threads.
    pub aead: Duration,
    /// Hashing the stored ciphertext (encryption: calling thread; decryption: reader).
    pub ciphertext_hash: Duration,
    /// Writing the output (calling thread; into the page cache unless the disk pushes
    /// back).
    pub write: Duration,
    /// Syncing the output to disk before naming it (`fsync`).
    pub sync: Duration,
    /// Cipher threads used.
    pub workers: usize,
}

struct Chunk {
    buf: Vec<u8>,
    index: u64,
    last: bool,
}

/// Run `produce` on a reader thread, `transform` on [`workers`] threads, and `consume`
/// here, in chunk order, over a fixed pool of buffers of `capacity` bytes. Stops at
/// the chunk marked `last`, or at the first error in chunk order (a transform's or the
/// consumer's); when the reader fails, its error once every chunk before it is done.
/// Returns the AEAD time summed over the cipher threads, and their number.
fn pipeline<P, T, C>(
    capacity: usize,
    produce: P,
    transform: &T,
    mut consume: C,
) -> Result<(Duration, usize)>
where
    P: FnMut(Vec<u8>, u64) -> Result<Chunk> + Send,
    T: Fn(&mut Chunk) -> Result<()> + Sync,
    C: FnMut(&Chunk) -> Result<()>,
{
    let workers = workers();
    let pool = (workers + 3).min(BUFFERS);
    let (free_tx, free_rx): (SyncSender<Vec<u8>>, Receiver<Vec<u8>>) = sync_channel(pool);
    for _ in 0..pool {
        // Cannot fail: the channel has room for every buffer and the receiver is alive.
        let _ = free_tx.send(Vec::with_capacity(capacity));
    }
    // Every channel holds the whole pool, so no send ever blocks: a stage waits only
    // for work, never for room.
    let (work_tx, work_rx) = sync_channel::<Chunk>(pool);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = sync_channel::<(Chunk, Result<()>)>(pool);

    std::thread::scope(|scope| {
        let mut produce = produce;
        let reader = scope.spawn(move || -> Result<()> {
            let mut index = 0u64;
            loop {
                let Ok(buf) = free_rx.recv() else {
                    return Ok(());
                };
                let chunk = produce(buf, index)?;
                let last = chunk.last;
                if work_tx.send(chunk).is_err() || last {
                    return Ok(());
                }
                index += 1;
            }
        });
        let mut ciphers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            ciphers.push(scope.spawn(move || -> Duration {
                let mut busy = Duration::ZERO;
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return busy,
                    };
                    let Ok(mut chunk) = next else {
                        return busy;
                    };
                    let start = Instant::now();
                    let result = transform(&mut chunk);
                    busy += start.elapsed();
                    if done_tx.send((chunk, result)).is_err() {
                        return busy;
                    }
                }
            }));
        }
        drop(done_tx);

        // Take the chunks back in order.
        let mut waiting: BTreeMap<u64, (Chunk, Result<()>)> = BTreeMap::new();
        let mut next = 0u64;
        let mut outcome: Result<bool> = Ok(false);
        'receive: while let Ok((chunk, result)) = done_rx.recv() {
            waiting.insert(chunk.index, (chunk, result));
            while let Some((chunk, result)) = waiting.remove(&next) {
                if let Err(e) = result.and_then(|()| consume(&chunk)) {
                    outcome = Err(e);
                    break 'receive;
                }
                if chunk.last {
                    outcome = Ok(true);
                    break 'receive;
                }
                // The reader may be gone (it stops after the last chunk).
                let _ = free_tx.send(chunk.buf);
                next += 1;
            }
        }
        // Stop the other stages: the reader sees no more free buffers, the cipher
        // threads no more work (once the reader is gone) and nowhere to send.
        drop(free_tx);
        drop(done_rx);
        drop(waiting);
        let reader = reader.join().unwrap_or_else(|_| Err(panicked("reader")));
        let mut aead = Duration::ZERO;
        let mut cipher_panicked = false;
        for c in ciphers {
            match c.join() {
                Ok(busy) => aead += busy,
                Err(_) => cipher_panicked = true,
            }
        }
        let finished = outcome?;
        if finished {
            return Ok((aead, workers));
        }
        reader?;
        if cipher_panicked {
            return Err(panicked("cipher"));
        }
        Err(BidFileError::Internal(
            "the chunk stream ended before its final chunk".into(),
        ))
    })
}

fn panicked(which: &str) -> BidFileError {
    BidFileError::Internal(format!("the {which} thread stopped unexpectedly"))
}

/// Fill `buf` from `input` as far as it goes; the number of bytes read (less than
/// `buf.len()` only at the end of the input).
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match input.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Give `buf` length `len`, writing zeros only where it grows (a reused buffer keeps
/// its old bytes, which are overwritten before use).
fn set_len(buf: &mut Vec<u8>, len: usize) {
    if buf.len() >= len {
        buf.truncate(len);
    } else {
        buf.resize(len, 0);
    }
}

/// What encrypting the stream produced.
pub(crate) struct Sealed {
    pub content_size: u64,
    pub content_hash: [u8; 32],
    pub chunk_count: u64,
    pub ciphertext_hash: [u8; 32],
    pub timings: Timings,
}

/// Encrypt all of `input` into `output` as sealed chunks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn seal<R: Read + Send, W: Write>(
    draft: &HeaderDraft,
    key: &AeadKey,
    input: R,
    input_name: &str,
    total: Option<u64>,
    output: W,
    output_path: &Path,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Sealed> {
    let started = Instant::now();
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
    let mut timings = Timings::default();
    let (mut read_time, mut plain_hash_time) = (Duration::ZERO, Duration::ZERO);

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
        let start = Instant::now();
        set_len(&mut buf, chunk_size);
        let mut filled = 0;
        if let (Some(b), Some(first)) = (pending.take(), buf.first_mut()) {
            *first = b;
            filled = 1;
        }
        filled +=
            read_full(&mut input, buf.get_mut(filled..).unwrap_or_default()).map_err(read_error)?;
        buf.truncate(filled);
        let last = if filled < chunk_size {
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
        let hashing = Instant::now();
        read_time += hashing - start;
        plain_hasher.update(&buf);
        plain_hash_time += hashing.elapsed();
        Ok(Chunk { buf, index, last })
    };
    let transform = |chunk: &mut Chunk| -> Result<()> {
        let index = u32::try_from(chunk.index).map_err(|_| BidFileError::TooLarge {
            chunk_size: draft.chunk_size(),
            max_chunks: MAX_CHUNKS,
        })?;
        let nonce = chunk_nonce(&file_id, index, chunk.last);
        let tag = key.seal_in_place(&nonce, &aad, &mut chunk.buf)?;
        chunk.buf.extend_from_slice(&tag);
        Ok(())
    };
    let consume = |chunk: &Chunk| -> Result<()> {
        let record = &chunk.buf;
        let start = Instant::now();
        cipher_hasher.update(record);
        let writing = Instant::now();
        timings.ciphertext_hash += writing - start;
        output
            .write_all(record)
            .map_err(|e| BidFileError::io("write", output_path, e))?;
        timings.write += writing.elapsed();
        content_size += record.len().saturating_sub(TAG_LEN) as u64;
        chunk_count += 1;
        on_progress(Progress {
            bytes_done: content_size,
            bytes_total: total,
            chunks_done: chunk_count,
            chunks_total,
        });
        Ok(())
    };
    let (aead, workers) = pipeline(chunk_size + TAG_LEN, produce, &transform, consume)?;
    let start = Instant::now();
    output
        .flush()
        .map_err(|e| BidFileError::io("write", output_path, e))?;
    timings.write += start.elapsed();
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
    timings.read = read_time;
    timings.plaintext_hash = plain_hash_time;
    timings.aead = aead;
    timings.workers = workers;
    timings.total = started.elapsed();
    Ok(Sealed {
        content_size,
        content_hash: plain_hasher.finalize(),
        chunk_count,
        ciphertext_hash: cipher_hasher.finalize(),
        timings,
    })
}

/// What decrypting the stream produced.
pub(crate) struct Opened {
    pub content_hash: [u8; 32],
    pub ciphertext_hash: [u8; 32],
    pub timings: Timings,
}

/// Decrypt `chunk_count` sealed chunks from `input` (positioned at the payload) into
/// `output`. `record_len(i)` is the stored length of chunk `i` (plaintext + tag).
#[allow(clippy::too_many_arguments)]
pub(crate) fn open<R: Read + Send, W: Write>(
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
    let started = Instant::now();
    let chunk_size = draft.chunk_size() as usize;
    let aad = draft.chunk_aad()?;
    let file_id = *draft.file_id();
    let hash = draft.suite().hash();
    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, output);
    let mut plain_hasher: Hasher = hash.hasher();
    let mut cipher_hasher: Hasher = hash.hasher();
    let mut bytes_done = 0u64;
    let mut timings = Timings::default();
    let (mut read_time, mut cipher_hash_time) = (Duration::ZERO, Duration::ZERO);

    let cs = chunk_size as u64;
    let mut offset = payload_offset;
    let last_index = chunk_count.saturating_sub(1);
    let produce = |mut buf: Vec<u8>, index: u64| -> Result<Chunk> {
        let start = Instant::now();
        let plain = if index < last_index {
            cs
        } else {
            content_size.saturating_sub(last_index.saturating_mul(cs))
        };
        // `plain ≤ chunk size` by the header's consistency checks.
        let record = usize::try_from(plain)
            .map_err(|_| BidFileError::Internal("chunk length overflow".into()))?
            + TAG_LEN;
        set_len(&mut buf, record);
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
        let hashing = Instant::now();
        read_time += hashing - start;
        cipher_hasher.update(&buf);
        cipher_hash_time += hashing.elapsed();
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
            .map_err(|_| fail())
    };
    let consume = |chunk: &Chunk| -> Result<()> {
        let plain = &chunk.buf;
        let start = Instant::now();
        plain_hasher.update(plain);
        let writing = Instant::now();
        timings.plaintext_hash += writing - start;
        output
            .write_all(plain)
            .map_err(|e| BidFileError::io("write", output_path, e))?;
        timings.write += writing.elapsed();
        bytes_done += plain.len() as u64;
        on_progress(Progress {
            bytes_done,
            bytes_total: Some(content_size),
            chunks_done: chunk.index + 1,
            chunks_total: Some(chunk_count),
        });
        Ok(())
    };
    let (aead, workers) = pipeline(chunk_size + TAG_LEN, produce, &transform, consume)?;
    let start = Instant::now();
    output
        .flush()
        .map_err(|e| BidFileError::io("write", output_path, e))?;
    timings.write += start.elapsed();
    timings.read = read_time;
    timings.ciphertext_hash = cipher_hash_time;
    timings.aead = aead;
    timings.workers = workers;
    timings.total = started.elapsed();
    Ok(Opened {
        content_hash: plain_hasher.finalize(),
        ciphertext_hash: cipher_hasher.finalize(),
        timings,
    })
}
