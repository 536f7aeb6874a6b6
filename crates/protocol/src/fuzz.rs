//! Entry points for fuzzing and a deterministic random source for tests.
//!
//! A `cargo fuzz` target only needs:
//!
//! ```ignore
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| bidkit_protocol::fuzz::parse_untrusted(data));
//! ```

use std::convert::Infallible;
use std::sync::OnceLock;

use rand_core::{TryCryptoRng, TryRng};

use crate::record::RecordHeader;
use crate::{
    Channel, JoinHello, Message, PhoneHandshake, Purpose, QrPayload, QrPolicy, RelayAddress,
    SessionId, Suite, Timestamp, ToolHandshake,
};

/// A deterministic random source (SM3 in counter mode over a seed).
///
/// **For tests and fuzzing only**: anyone who knows the seed knows every "random"
/// value it produces.
#[derive(Clone, Debug)]
pub struct TestRng {
    seed: [u8; 32],
    counter: u64,
    buf: [u8; 32],
    used: usize,
}

impl TestRng {
    /// A source determined by `label`.
    pub fn new(label: &str) -> Self {
        TestRng {
            seed: bidkit_crypto::HashAlgorithm::Sm3.digest(label.as_bytes()),
            counter: 0,
            buf: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut h = bidkit_crypto::HashAlgorithm::Sm3.hasher();
        h.update(&self.seed);
        h.update(&self.counter.to_be_bytes());
        self.buf = h.finalize();
        self.counter += 1;
        self.used = 0;
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for d in dst {
            if self.used == self.buf.len() {
                self.refill();
            }
            *d = self.buf[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

/// A fixed pair of channels (tool, phone) of one GM session, for fuzzing the record
/// layer and for tests. Deterministic: built from [`TestRng`].
pub fn fixed_channels(
    suite: Suite,
    purpose: Purpose,
) -> Result<(Channel, Channel), crate::ProtocolError> {
    let now = FUZZ_NOW;
    let relay = RelayAddress::new("http://127.0.0.1:1")?;
    let mut rng = TestRng::new("bidkit fuzz channels");
    let tool =
        ToolHandshake::new_with_rng(suite, purpose, relay, QrPolicy::DEFAULT, now, &mut rng)?;
    let qr = tool.qr(now)?;
    let (hello, pending) = PhoneHandshake::start_with_rng(&qr, &mut rng)?;
    let (tool_channel, accept) = tool.accept(&hello, now)?;
    let phone_channel = pending.finish(&accept)?;
    Ok((tool_channel, phone_channel))
}

struct FixedTool {
    tool: ToolHandshake,
    qr: QrPayload,
}

fn fixed_tool() -> Option<&'static FixedTool> {
    static TOOL: OnceLock<Option<FixedTool>> = OnceLock::new();
    TOOL.get_or_init(|| {
        let relay = RelayAddress::new("http://127.0.0.1:1").ok()?;
        let mut rng = TestRng::new("bidkit fuzz tool");
        let tool = ToolHandshake::new_with_rng(
            Suite::Gm,
            Purpose::Sign,
            relay,
            QrPolicy::DEFAULT,
            FUZZ_NOW,
            &mut rng,
        )
        .ok()?;
        let qr = tool.qr(FUZZ_NOW).ok()?;
        Some(FixedTool { tool, qr })
    })
    .as_ref()
}

const FUZZ_NOW: Timestamp = Timestamp(1_767_225_600_000);

/// Feed `data` to every parser that reads untrusted input: the QR text and binary
/// payload, relay addresses and session ids, the hello, record headers, message JSON,
/// and a channel's `open` on both ends. Never panics on any input (that is what a
/// fuzzer checks); results are discarded.
pub fn parse_untrusted(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = QrPayload::parse(text);
        let _ = RelayAddress::new(text);
        let _ = SessionId::from_hex(text);
        let _ = text.parse::<Purpose>();
    }
    if let Ok(qr) = QrPayload::from_bytes(data) {
        // A parsed payload must re-encode to the same bytes (canonical form).
        debug_assert_eq!(qr.to_bytes(), data);
        let _ = qr.check_fresh(FUZZ_NOW, &QrPolicy::DEFAULT);
    }
    let _ = JoinHello::decode(data);
    let _ = RecordHeader::parse(data);
    let _ = Message::from_json(data);
    if let Ok((mut tool, mut phone)) = fixed_channels(Suite::Gm, Purpose::Sign) {
        let _ = tool.open(data);
        let _ = phone.open(data);
    }
    if let Some(fixed) = fixed_tool() {
        // As the tool: `data` as a phone's hello.
        let _ = fixed.tool.accept(data, FUZZ_NOW);
        // As the phone: `data` as the tool's accept record.
        let mut rng = TestRng::new("bidkit fuzz phone");
        if let Ok((_, pending)) = PhoneHandshake::start_with_rng(&fixed.qr, &mut rng) {
            let _ = pending.finish(data);
        }
    }
}
