//! `bidkit bench bidfile`: encrypt and decrypt a generated file (1 GiB by default) as a
//! bid file, in each suite, beside our raw cipher speed over a memory buffer and
//! OpenSSL (`openssl speed -evp` in memory and `openssl enc` file to file, same size)
//! measured in the same run, with the peak resident memory of each operation.
//!
//! Peak memory is the kernel's high-water mark of this process (`VmHWM`), reset before
//! each operation by writing `5` to `/proc/self/clear_refs` (Linux), so each figure is
//! that operation's own. Throughput is plaintext megabytes (10^6 bytes) per second of
//! wall-clock time, including reading the input, writing and syncing the output, and
//! for encryption the header signature and the assembly of the final file.
//!
//! Each operation also reports where its time went ([`Breakdown`], from the bid-file
//! pipeline's own stage timers), and a file-to-file reference runs our cipher alone
//! (read, AEAD, write, sync on one thread, no hashes) over the same file, so the cost
//! of the disk path is visible beside the in-memory raw cipher. The raw cipher is
//! measured before and after the file operations and the higher figure is the one the
//! ratios use (the machine's load may change during the run).

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bidkit_bidfile::{ContentKey, Decryptor, Encryptor, HeaderDraft, RecipientRole, Timings};
use bidkit_crypto::aead::{AeadKey, NONCE_LEN};
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::{CertificateAuthority, OffsetDateTime, Subject};
use serde::Serialize;

use crate::measure::run_for;
use crate::openssl::Openssl;
use crate::{BenchError, Result};

/// Peak resident memory allowed during an operation, whatever the file size.
pub const TARGET_PEAK_MB: f64 = 64.0;
/// Bid-file throughput must reach this fraction of our raw cipher speed.
pub const TARGET_RATIO: f64 = 0.8;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BidfileOptions {
    /// Size of the generated plaintext in MiB.
    pub size_mib: u64,
    /// Chunk size of the bid file.
    pub chunk_size: u32,
    /// The suites to run.
    pub suites: Vec<Suite>,
    /// Directory for the generated files (default: the system's temporary directory).
    /// Needs about four times the size free.
    pub dir: Option<PathBuf>,
    /// The `openssl` program for the reference columns; `None` skips them.
    pub openssl: Option<PathBuf>,
    /// Time given to each raw-cipher measurement (and, rounded up, to `openssl speed`).
    pub raw_duration: Duration,
}

impl BidfileOptions {
    /// The standard run: 1 GiB, 1 MiB chunks, both suites, `openssl` from `PATH`.
    pub fn standard() -> Self {
        BidfileOptions {
            size_mib: 1024,
            chunk_size: bidkit_bidfile::DEFAULT_CHUNK_SIZE,
            suites: Suite::ALL.to_vec(),
            dir: None,
            openssl: Some(PathBuf::from("openssl")),
            raw_duration: Duration::from_secs(1),
        }
    }
}

impl Default for BidfileOptions {
    fn default() -> Self {
        Self::standard()
    }
}

/// Where the time of one bid-file operation went, in seconds. The stages run on
/// different threads at once, so they add up to more than `total` when the pipeline
/// overlaps them.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Breakdown {
    /// Wall-clock time of the whole operation (as the MB/s figure).
    pub total_s: f64,
    /// The streaming phase (pipeline), wall-clock.
    pub stream_s: f64,
    /// Reading the input.
    pub read_s: f64,
    /// Hashing the plaintext.
    pub plaintext_hash_s: f64,
    /// The AEAD, summed over the cipher threads.
    pub aead_s: f64,
    /// Hashing the stored ciphertext.
    pub ciphertext_hash_s: f64,
    /// Writing the output (page cache, or the disk when it pushes back).
    pub write_s: f64,
    /// Syncing the output (`fsync`) before it is named.
    pub sync_s: f64,
    /// Everything else: opening, unwrapping, signing, assembling, naming.
    pub other_s: f64,
    /// CPU time the process used (all threads, user + system; `None` where
    /// unmeasurable): compare with the raw cipher's `size / raw MB/s` on a busy machine.
    pub cpu_s: Option<f64>,
    /// Cipher threads.
    pub workers: usize,
}

impl Breakdown {
    fn new(t: &Timings, total: Duration, cpu_s: Option<f64>) -> Self {
        let s = |d: Duration| d.as_secs_f64();
        Breakdown {
            total_s: s(total),
            stream_s: s(t.total),
            read_s: s(t.read),
            plaintext_hash_s: s(t.plaintext_hash),
            aead_s: s(t.aead),
            ciphertext_hash_s: s(t.ciphertext_hash),
            write_s: s(t.write),
            sync_s: s(t.sync),
            other_s: (s(total) - s(t.total) - s(t.sync)).max(0.0),
            cpu_s,
            workers: t.workers,
        }
    }
}

impl fmt::Display for Breakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.2} s = stream {:.2} s [read {:.2}, plaintext hash {:.2}, AEAD {:.2} on {} thread(s), \
             ciphertext hash {:.2}, write {:.2}] + sync {:.2} s + other {:.2} s",
            self.total_s,
            self.stream_s,
            self.read_s,
            self.plaintext_hash_s,
            self.aead_s,
            self.workers,
            self.ciphertext_hash_s,
            self.write_s,
            self.sync_s,
            self.other_s
        )?;
        if let Some(cpu) = self.cpu_s {
            write!(f, "; CPU {cpu:.2} s")?;
        }
        Ok(())
    }
}

/// CPU time of this process so far (all threads, user + system), from
/// `/proc/self/stat` (Linux; clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces):
    // state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The figures of one suite.
#[derive(Clone, Debug, Serialize)]
pub struct BidfileRow {
    /// The suite.
    pub suite: Suite,
    /// Its cipher (`SM4-GCM`, `AES-256-GCM`).
    pub cipher: String,
    /// Encrypt + sign + assemble, plaintext MB/s.
    pub encrypt_mb_s: f64,
    /// Of which the streaming encryption alone (payload written, header not yet), MB/s.
    pub seal_mb_s: f64,
    /// Open + decrypt (to a synced file), plaintext MB/s.
    pub decrypt_mb_s: f64,
    /// Our cipher over a 1 MiB memory buffer (`AeadKey::seal_in_place`, one thread),
    /// MB/s: the higher of the measurements before and after the file operations.
    pub raw_cipher_mb_s: f64,
    /// The raw cipher measured before the file operations, MB/s.
    pub raw_cipher_before_mb_s: f64,
    /// The raw cipher measured after the file operations, MB/s.
    pub raw_cipher_after_mb_s: f64,
    /// Our cipher file to file: read, AEAD, write, sync on one thread, no hashes, MB/s.
    pub file_cipher_mb_s: f64,
    /// Where the encryption's time went.
    pub encrypt_breakdown: Breakdown,
    /// Where the decryption's time went.
    pub decrypt_breakdown: Breakdown,
    /// Our suite hash over a 1 MiB memory buffer, MB/s (the file hashes twice, each on
    /// its own thread).
    pub raw_hash_mb_s: f64,
    /// `openssl speed -evp` of the nearest OpenSSL cipher, MB/s.
    pub openssl_speed_mb_s: Option<f64>,
    /// `openssl enc` of the nearest cipher, file to file, same size, MB/s.
    pub openssl_enc_mb_s: Option<f64>,
    /// What the OpenSSL columns measured.
    pub openssl_label: String,
    /// Peak resident memory during encryption, MB (`None` where unmeasurable).
    pub encrypt_peak_mb: Option<f64>,
    /// Peak resident memory during decryption, MB.
    pub decrypt_peak_mb: Option<f64>,
    /// `encrypt / raw cipher`.
    pub encrypt_ratio: f64,
    /// `decrypt / raw cipher`.
    pub decrypt_ratio: f64,
    /// Both ratios ≥ 0.8.
    pub meets_throughput_target: bool,
    /// Both peaks < 64 MB (`None` where unmeasurable).
    pub meets_memory_target: Option<bool>,
}

/// Everything `bidkit bench bidfile` measured.
#[derive(Clone, Debug, Serialize)]
pub struct BidfileReport {
    /// Plaintext bytes per file.
    pub size_bytes: u64,
    /// Chunk size.
    pub chunk_size: u32,
    /// Whether this program was built with optimisations.
    pub optimized_build: bool,
    /// Logical CPUs.
    pub cpus: usize,
    /// `openssl version`, when it ran.
    pub reference: Option<String>,
    /// One row per suite.
    pub rows: Vec<BidfileRow>,
    /// Caveats.
    pub notes: Vec<String>,
}

/// Run the benchmark: see the module documentation.
pub fn bidfile(options: &BidfileOptions) -> Result<BidfileReport> {
    if options.size_mib == 0 {
        return Err(BenchError::InvalidOption(
            "the size must be at least 1 MiB".into(),
        ));
    }
    if options.raw_duration.is_zero() {
        return Err(BenchError::InvalidOption(
            "the measurement duration must be positive".into(),
        ));
    }
    let size = options.size_mib.saturating_mul(1 << 20);
    let base = options.dir.clone().unwrap_or_else(std::env::temp_dir);
    let random: [u8; 6] = bidkit_crypto::rng::random_array()?;
    let work = base.join(format!("bidkit-bench-bidfile-{}", hex(&random)));
    std::fs::create_dir_all(&work).map_err(|e| setup("create", &work, e))?;
    let result = run_in(&work, size, options);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn run_in(work: &Path, size: u64, options: &BidfileOptions) -> Result<BidfileReport> {
    let mut notes = Vec::new();
    let openssl = match &options.openssl {
        Some(p) => {
            let found = Openssl::locate(p)?;
            if found.is_none() {
                notes.push(format!(
                    "`{}` was not found: no OpenSSL columns",
                    p.display()
                ));
            }
            found
        }
        None => None,
    };
    let optimized_build = !cfg!(debug_assertions);
    if !optimized_build {
        notes.push(
            "this is a debug build: figures are not meaningful (build with --release)".into(),
        );
    }
    let input = work.join("plain.bin");
    generate(&input, size)?;

    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for &suite in &options.suites {
        rows.push(run_suite(
            work,
            &input,
            size,
            suite,
            now,
            options,
            openssl.as_ref(),
        )?);
    }
    if rows.iter().any(|r| r.encrypt_peak_mb.is_none()) {
        notes.push("peak memory needs Linux /proc/self/clear_refs: not measured".into());
    }
    notes.push(
        "the bid file hashes the plaintext (content hash) and the ciphertext (payload hash) \
         besides encrypting; each hash runs on its own thread and the chunks are sealed on \
         every core, so on an idle machine the slowest sequential stage sets the pace (GM: \
         the cipher's share; NIST: the disk and SHA-256), and on a busy one the CPU left"
            .into(),
    );
    notes.push(
        "encryption writes the payload once, in place after room for the header part, and \
         syncs the file; decryption syncs the plaintext: both pay for the disk. Both write \
         around the page cache (O_DIRECT) where the file system allows it, so decryption \
         reads the bid file from the disk; the references read a cached input and write \
         through the page cache"
            .into(),
    );
    if openssl.is_some() {
        notes.push(
            "OpenSSL 3.0 has no SM4-GCM and `openssl enc` no GCM at all: the OpenSSL columns \
             are SM4-CTR (GM) and AES-256-GCM `speed -aead` / AES-256-CTR `enc` (NIST)"
                .into(),
        );
    }
    Ok(BidfileReport {
        size_bytes: size,
        chunk_size: options.chunk_size,
        optimized_build,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        reference: openssl.map(|o| o.version().to_owned()),
        rows,
        notes,
    })
}

fn run_suite(
    work: &Path,
    input: &Path,
    size: u64,
    suite: Suite,
    now: OffsetDateTime,
    options: &BidfileOptions,
    openssl: Option<&Openssl>,
) -> Result<BidfileRow> {
    let bench = |e: bidkit_bidfile::BidFileError| BenchError::Setup(e.to_string());
    // A throw-away CA and the bidder's dual certificates.
    let ca_dir = work.join(format!("ca-{suite}"));
    let mut ca = CertificateAuthority::open_or_create(&ca_dir, suite, now)
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let subject = Subject::Organisation {
        name: "Bidkit Bench Bidder".into(),
        uscc: "91110000600037341L".into(),
    };
    let signing_key = PrivateKey::generate(suite)?;
    let encryption_key = PrivateKey::generate(suite)?;
    let certs = ca
        .issue_dual(
            &subject,
            &signing_key.public_key(),
            &encryption_key.public_key(),
            now,
        )
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let bidder = bidkit_bidfile::Bidder::from_certificate(&certs.signing).map_err(bench)?;

    // Encrypt, sign, assemble.
    let bid = work.join(format!("bid-{suite}.bkb"));
    let key = ContentKey::generate(suite).map_err(bench)?;
    let mut draft = HeaderDraft::new(suite, "BENCH-1", bidder, now)
        .and_then(|d| d.with_chunk_size(options.chunk_size))
        .map_err(bench)?;
    draft
        .add_recipient(RecipientRole::Bidder, &certs.encryption, &key)
        .map_err(bench)?;
    // Our raw cipher over a 1 MiB memory buffer, before the file operations (again
    // after them: the machine's load may change).
    let algorithm = suite.aead();
    let raw_cipher_before_mb_s = raw_cipher(algorithm, options.raw_duration)?;

    let peak = PeakMemory::reset();
    let cpu = cpu_seconds();
    let start = Instant::now();
    let prepared = Encryptor::new(draft, key)
        .and_then(|e| e.with_signer(&certs.signing))
        .and_then(|e| e.encrypt_file(input, &bid, |_| {}))
        .map_err(bench)?;
    let sealed = start.elapsed();
    let done = prepared
        .sign_with(&signing_key, &certs.signing)
        .map_err(bench)?;
    let encrypt = start.elapsed();
    let encrypt_peak_mb = peak.and_then(|_| PeakMemory::read());
    let encrypt_cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    let encrypt_breakdown = Breakdown::new(&done.timings, encrypt, encrypt_cpu);

    // Open, unwrap, decrypt.
    let out = work.join(format!("out-{suite}.bin"));
    let peak = PeakMemory::reset();
    let cpu = cpu_seconds();
    let start = Instant::now();
    let opened = Decryptor::open(&bid).map_err(bench)?;
    let serial = certs.encryption.serial_hex();
    let content_key = opened.unwrap_key(&serial, &encryption_key).map_err(bench)?;
    let done = opened
        .decrypt_to(&out, &content_key, |_| {})
        .map_err(bench)?;
    let decrypt = start.elapsed();
    let decrypt_peak_mb = peak.and_then(|_| PeakMemory::read());
    let decrypt_cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    let decrypt_breakdown = Breakdown::new(&done.timings, decrypt, decrypt_cpu);
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&bid);

    // Our cipher alone, file to file.
    let file_cipher_mb_s = file_cipher(algorithm, input, work, size)?;

    let raw_cipher_after_mb_s = raw_cipher(algorithm, options.raw_duration)?;
    let raw_cipher_mb_s = raw_cipher_before_mb_s.max(raw_cipher_after_mb_s);
    let buf = vec![0x5au8; 1 << 20];
    let hash = suite.hash();
    let sample = run_for(options.raw_duration, 3, || {
        std::hint::black_box(hash.digest(std::hint::black_box(&buf)));
        Ok(())
    })?;
    let raw_hash_mb_s = sample.per_second() * (1 << 20) as f64 / 1e6;

    // OpenSSL: in memory, and file to file.
    let (speed_alg, aead_flag, enc_alg) = match suite {
        Suite::Gm => ("sm4-ctr", false, "-sm4-ctr"),
        Suite::Nist => ("aes-256-gcm", true, "-aes-256-ctr"),
    };
    let secs = options.raw_duration.as_secs_f64().ceil().clamp(1.0, 3600.0) as u32;
    let (openssl_speed_mb_s, openssl_enc_mb_s) = match openssl {
        Some(o) => {
            let speed = o.evp_throughput(speed_alg, 1 << 20, secs, aead_flag)? / 1e6;
            let program = options.openssl.as_deref().unwrap_or(Path::new("openssl"));
            let enc = openssl_enc(program, enc_alg, algorithm.key_len(), input, work, size)?;
            (Some(speed), Some(enc))
        }
        None => (None, None),
    };

    let mb = size as f64 / 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64().max(1e-9);
    let encrypt_mb_s = rate(encrypt);
    let decrypt_mb_s = rate(decrypt);
    let encrypt_ratio = encrypt_mb_s / raw_cipher_mb_s;
    let decrypt_ratio = decrypt_mb_s / raw_cipher_mb_s;
    let meets_memory_target = match (encrypt_peak_mb, decrypt_peak_mb) {
        (Some(e), Some(d)) => Some(e < TARGET_PEAK_MB && d < TARGET_PEAK_MB),
        _ => None,
    };
    Ok(BidfileRow {
        suite,
        cipher: algorithm.name().to_owned(),
        encrypt_mb_s,
        seal_mb_s: rate(sealed),
        decrypt_mb_s,
        raw_cipher_mb_s,
        raw_cipher_before_mb_s,
        raw_cipher_after_mb_s,
        file_cipher_mb_s,
        encrypt_breakdown,
        decrypt_breakdown,
        raw_hash_mb_s,
        openssl_speed_mb_s,
        openssl_enc_mb_s,
        openssl_label: format!(
            "speed -evp {speed_alg}{} / enc {enc_alg}",
            if aead_flag { " -aead" } else { "" }
        ),
        encrypt_peak_mb,
        decrypt_peak_mb,
        encrypt_ratio,
        decrypt_ratio,
        meets_throughput_target: encrypt_ratio >= TARGET_RATIO && decrypt_ratio >= TARGET_RATIO,
        meets_memory_target,
    })
}

/// Our cipher (one thread) over a 1 MiB memory buffer, MB/s.
fn raw_cipher(algorithm: bidkit_crypto::aead::AeadAlgorithm, duration: Duration) -> Result<f64> {
    let aead = AeadKey::new(algorithm, &vec![7u8; algorithm.key_len()])?;
    let mut buf = vec![0x5au8; 1 << 20];
    let mut counter = 0u64;
    let sample = run_for(duration, 3, || {
        counter += 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[4..].copy_from_slice(&counter.to_be_bytes());
        std::hint::black_box(aead.seal_in_place(&nonce, &[0u8; 32], &mut buf)?);
        Ok(())
    })?;
    Ok(sample.per_second() * (1 << 20) as f64 / 1e6)
}

/// Our cipher alone, file to file on one thread: read 1 MiB, seal it, write it and
/// its tag, and sync at the end — the bid file's I/O without its hashes; MB/s.
fn file_cipher(
    algorithm: bidkit_crypto::aead::AeadAlgorithm,
    input: &Path,
    work: &Path,
    size: u64,
) -> Result<f64> {
    use std::io::Read;
    let out_path = work.join("file-cipher.bin");
    let aead = AeadKey::new(algorithm, &vec![7u8; algorithm.key_len()])?;
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut reader = File::open(input).map_err(|e| setup("open", input, e))?;
    let mut out = File::create(&out_path).map_err(|e| setup("create", &out_path, e))?;
    let mut counter = 0u64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(setup("read", input, e)),
            }
        }
        if filled == 0 {
            break;
        }
        counter += 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[4..].copy_from_slice(&counter.to_be_bytes());
        let tag = aead.seal_in_place(&nonce, &[0u8; 32], &mut buf[..filled])?;
        out.write_all(&buf[..filled])
            .and_then(|()| out.write_all(&tag))
            .map_err(|e| setup("write", &out_path, e))?;
    }
    out.sync_all().map_err(|e| setup("sync", &out_path, e))?;
    let elapsed = start.elapsed();
    drop(out);
    let _ = std::fs::remove_file(&out_path);
    Ok(size as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9))
}

/// `openssl enc -e <cipher>` from `input` to a file in `work`; plaintext MB/s.
fn openssl_enc(
    program: &Path,
    cipher: &str,
    key_len: usize,
    input: &Path,
    work: &Path,
    size: u64,
) -> Result<f64> {
    let out = work.join("openssl-enc.bin");
    let key = "42".repeat(key_len);
    let iv = "00".repeat(16);
    let start = Instant::now();
    let status = Command::new(program)
        .args(["enc", "-e", cipher, "-K", &key, "-iv", &iv, "-in"])
        .arg(input)
        .arg("-out")
        .arg(&out)
        .output()
        .map_err(|source| BenchError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    // Synced like ours, so both pay for the disk.
    if let Ok(f) = File::open(&out) {
        let _ = f.sync_all();
    }
    let elapsed = start.elapsed();
    let _ = std::fs::remove_file(&out);
    if !status.status.success() {
        return Err(BenchError::ReferenceFailed {
            command: format!("{} enc -e {cipher}", program.display()),
            status: status.status.to_string(),
            stderr: String::from_utf8_lossy(&status.stderr).trim().to_owned(),
        });
    }
    Ok(size as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9))
}

/// Write `size` bytes of a cheap non-constant pattern to `path`, 1 MiB at a time.
fn generate(path: &Path, size: u64) -> Result<()> {
    let mut file = File::create(path).map_err(|e| setup("create", path, e))?;
    let mut block: Vec<u8> = (0..1usize << 20)
        .map(|i| (i.wrapping_mul(131) ^ (i >> 9)) as u8)
        .collect();
    let mut left = size;
    let mut n = 0u64;
    while left > 0 {
        let len = left.min(block.len() as u64) as usize;
        block[..8].copy_from_slice(&n.to_le_bytes());
        file.write_all(&block[..len])
            .map_err(|e| setup("write", path, e))?;
        left -= len as u64;
        n += 1;
    }
    file.sync_all().map_err(|e| setup("sync", path, e))
}

fn setup(action: &str, path: &Path, e: std::io::Error) -> BenchError {
    BenchError::Setup(format!("cannot {action} {}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The process's resident high-water mark, reset per operation (Linux).
struct PeakMemory;

impl PeakMemory {
    /// Reset the high-water mark to the current RSS; `None` where unsupported.
    fn reset() -> Option<PeakMemory> {
        std::fs::write("/proc/self/clear_refs", b"5").ok()?;
        Some(PeakMemory)
    }

    /// `VmHWM` in MiB (its kB / 1024), as `bench relay` reports memory.
    fn read() -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

fn fig(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(fig).unwrap_or_else(|| "-".into())
}

impl fmt::Display for BidfileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bidkit bench bidfile — {} MiB, chunks of {} KiB, {} CPU(s){}",
            self.size_bytes >> 20,
            self.chunk_size >> 10,
            self.cpus,
            if self.optimized_build {
                ""
            } else {
                ", DEBUG BUILD"
            }
        )?;
        writeln!(
            f,
            "reference: {}",
            self.reference.as_deref().unwrap_or("none")
        )?;
        for r in &self.rows {
            writeln!(f)?;
            writeln!(f, "{} ({}):", r.suite, r.cipher)?;
            writeln!(
                f,
                "  encrypt + sign + assemble  {:>7} MB/s  ({:.2}× raw cipher; seal phase alone {} MB/s)",
                fig(r.encrypt_mb_s),
                r.encrypt_ratio,
                fig(r.seal_mb_s)
            )?;
            writeln!(
                f,
                "  open + decrypt             {:>7} MB/s  ({:.2}× raw cipher)",
                fig(r.decrypt_mb_s),
                r.decrypt_ratio
            )?;
            writeln!(
                f,
                "  raw {} (1 MiB buffer, 1 thread) {} MB/s (before {}, after {}); raw {} {} MB/s",
                r.cipher,
                fig(r.raw_cipher_mb_s),
                fig(r.raw_cipher_before_mb_s),
                fig(r.raw_cipher_after_mb_s),
                r.suite.hash(),
                fig(r.raw_hash_mb_s)
            )?;
            writeln!(
                f,
                "  our {} file to file (read + AEAD + write + sync, 1 thread, no hashes) {} MB/s; \
                 bid file beside it: encrypt {:.2}×, decrypt {:.2}×",
                r.cipher,
                fig(r.file_cipher_mb_s),
                r.encrypt_mb_s / r.file_cipher_mb_s.max(1e-9),
                r.decrypt_mb_s / r.file_cipher_mb_s.max(1e-9)
            )?;
            writeln!(f, "  encrypt time: {}", r.encrypt_breakdown)?;
            writeln!(f, "  decrypt time: {}", r.decrypt_breakdown)?;
            writeln!(
                f,
                "  openssl {}: {} / {} MB/s",
                r.openssl_label,
                opt(r.openssl_speed_mb_s),
                opt(r.openssl_enc_mb_s)
            )?;
            if let Some(enc) = r.openssl_enc_mb_s {
                writeln!(
                    f,
                    "  beside openssl enc (file to file): encrypt {:.2}×, decrypt {:.2}×",
                    r.encrypt_mb_s / enc,
                    r.decrypt_mb_s / enc
                )?;
            }
            writeln!(
                f,
                "  peak memory: encrypt {} MB, decrypt {} MB",
                opt(r.encrypt_peak_mb),
                opt(r.decrypt_peak_mb)
            )?;
            writeln!(
                f,
                "  targets: throughput ≥ {TARGET_RATIO}× raw cipher: {}; peak < {TARGET_PEAK_MB} MB: {}",
                if r.meets_throughput_target {
                    "met"
                } else {
                    "MISSED"
                },
                match r.meets_memory_target {
                    Some(true) => "met",
                    Some(false) => "MISSED",
                    None => "not measured",
                }
            )?;
        }
        if !self.notes.is_empty() {
            writeln!(f)?;
            for n in &self.notes {
                writeln!(f, "note: {n}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_measures_both_suites() {
        let options = BidfileOptions {
            size_mib: 2,
            chunk_size: 64 << 10,
            raw_duration: Duration::from_millis(20),
            openssl: None,
            ..BidfileOptions::standard()
        };
        let report = bidfile(&options).unwrap();
        assert_eq!(report.rows.len(), 2);
        for r in &report.rows {
            assert!(r.encrypt_mb_s > 0.0 && r.decrypt_mb_s > 0.0 && r.raw_cipher_mb_s > 0.0);
            assert!(r.file_cipher_mb_s > 0.0);
            assert!(r.raw_cipher_mb_s >= r.raw_cipher_before_mb_s.max(r.raw_cipher_after_mb_s));
            for b in [&r.encrypt_breakdown, &r.decrypt_breakdown] {
                assert!(
                    b.workers >= 1 && b.total_s >= b.stream_s && b.stream_s > 0.0,
                    "{b}"
                );
            }
            assert!(r.openssl_speed_mb_s.is_none());
            if cfg!(target_os = "linux") {
                let peak = r.decrypt_peak_mb.unwrap();
                assert!(peak > 0.0 && peak < 1000.0, "{peak}");
            }
        }
        let text = report.to_string();
        assert!(
            text.contains("SM4-GCM") && text.contains("AES-256-GCM"),
            "{text}"
        );
    }

    /// The full run, printed: `BIDKIT_BENCH_SIZE_MIB=1024 cargo test --release -p
    /// bidkit-bench --lib bidfile::tests::full_run -- --ignored --nocapture`.
    #[test]
    #[ignore = "takes a minute and needs ~4 GiB of disk; run by hand in release"]
    fn full_run() {
        let mut options = BidfileOptions::standard();
        if let Some(mib) = std::env::var("BIDKIT_BENCH_SIZE_MIB")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            options.size_mib = mib;
        }
        let report = bidfile(&options).unwrap();
        println!("{report}");
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
    }

    #[test]
    fn zero_size_is_refused() {
        let options = BidfileOptions {
            size_mib: 0,
            ..BidfileOptions::standard()
        };
        assert!(matches!(
            bidfile(&options),
            Err(BenchError::InvalidOption(_))
        ));
    }
}
