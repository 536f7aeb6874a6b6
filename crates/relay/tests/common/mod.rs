//! Shared test helpers: fast configs, a scripted phone, a real redis-server, a
//! recording TCP proxy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bidkit_crypto::{PrivateKey, Suite, wrap};
use bidkit_protocol::message::*;
use bidkit_protocol::{Message, Purpose};
use bidkit_relay::{ClientConfig, RelayConfig, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A relay configuration for tests: quick polling, no rate limits.
pub fn relay_config() -> RelayConfig {
    RelayConfig {
        poll_interval: Duration::from_millis(50),
        session_rate: None,
        request_rate: None,
        ..RelayConfig::default()
    }
}

/// A client configuration for tests: short timeouts.
pub fn client_config(transport: Transport) -> ClientConfig {
    ClientConfig {
        transport,
        answer_timeout: Duration::from_secs(20),
        peer_timeout: Duration::from_secs(20),
        retry_for: Duration::from_secs(10),
        long_poll_wait: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

/// The emulated phone's keys and certificates (certificates are opaque bytes here).
pub struct Phone {
    pub suite: Suite,
    pub signing: PrivateKey,
    pub encryption: PrivateKey,
    pub chain: Vec<Vec<u8>>,
    pub encryption_cert: Vec<u8>,
    pub pin: &'static str,
}

impl Phone {
    pub fn new(suite: Suite) -> Self {
        Phone {
            suite,
            signing: PrivateKey::generate(suite).unwrap(),
            encryption: PrivateKey::generate(suite).unwrap(),
            chain: vec![
                b"-fake-leaf-certificate-DER-of-the-holder-".repeat(3),
                b"-fake-ca-certificate-DER-".repeat(2),
            ],
            encryption_cert: b"-fake-encryption-certificate-DER-".repeat(2),
            pin: "480915",
        }
    }

    /// Answer `request` as an approving holder who typed the right PIN.
    pub fn answer(
        &self,
        request: &Message,
        conn: &bidkit_relay::PhoneConnection,
        pin: &str,
    ) -> Message {
        assert_eq!(pin, self.pin, "the PIN stays on the phone");
        let channel = conn.channel();
        match request {
            Message::LoginRequest(r) => {
                let data = login_signed_data(
                    &channel.session_id(),
                    channel.transcript_hash(),
                    &r.challenge,
                );
                Message::LoginResponse(LoginResponse {
                    certificate_chain: self.chain.clone(),
                    signature: self.signing.sign(&data).unwrap(),
                })
            }
            Message::SignRequest(r) => {
                for item in &r.items {
                    assert!(
                        item.digest_is_bound(),
                        "shown digest must be what is signed"
                    );
                }
                Message::SignResponse(SignResponse {
                    certificate_chain: self.chain.clone(),
                    signatures: r
                        .items
                        .iter()
                        .map(|i| ItemSignature {
                            id: i.id.clone(),
                            signature: self.signing.sign(&i.prepared).unwrap(),
                        })
                        .collect(),
                })
            }
            Message::EncryptionCertRequest(_) => {
                Message::EncryptionCertResponse(EncryptionCertResponse {
                    encryption_certificate: self.encryption_cert.clone(),
                    signing_chain: self.chain.clone(),
                })
            }
            Message::UnwrapRequest(r) => Message::UnwrapResponse(UnwrapResponse {
                keys: r
                    .items
                    .iter()
                    .map(|i| UnwrappedKey {
                        id: i.id.clone(),
                        key: SecretBytes::new(
                            wrap::unwrap(&self.encryption, &i.wrapped_key)
                                .unwrap()
                                .to_vec(),
                        ),
                    })
                    .collect(),
            }),
            Message::RevokeSealRequest(RevokeSealRequest { prepared, .. })
            | Message::SubmitRequest(SubmitRequest { prepared, .. })
            | Message::WithdrawRequest(WithdrawRequest { prepared, .. })
            | Message::ConfirmOpeningRequest(ConfirmOpeningRequest { prepared, .. }) => {
                Message::Approval(Approval {
                    certificate_chain: self.chain.clone(),
                    signature: self.signing.sign(prepared).unwrap(),
                })
            }
            other => panic!("not a request: {other:?}"),
        }
    }
}

/// A sign request of `n` items whose prepared messages embed random digests.
pub fn sign_request(suite: Suite, n: usize) -> (Message, Vec<Vec<u8>>) {
    let mut digests = Vec::new();
    let items = (0..n)
        .map(|i| {
            let digest = bidkit_crypto::rng::random_array::<32>().unwrap().to_vec();
            digests.push(digest.clone());
            let mut prepared = b"\x31\x69\x30\x18\x06\x09signed-attrs\x04\x20".to_vec();
            prepared.extend_from_slice(&digest);
            SignItem {
                id: format!("op-{i}"),
                document: DocumentInfo {
                    name: "投标文件.pdf".into(),
                    page_count: 100,
                },
                seals: vec![SealPlacement {
                    seal: "某某公司公章".into(),
                    page: 1,
                    x_mm: 150.0,
                    y_mm: 240.5,
                    mode: PlacementMode::Position,
                }],
                digest_algorithm: suite.hash(),
                document_digest: digest,
                prepared,
            }
        })
        .collect();
    (Message::SignRequest(SignRequest { items }), digests)
}

/// A request for each purpose (the unwrap request wraps `content_key` to `phone`).
pub fn request_for(purpose: Purpose, phone: &Phone, content_key: &[u8]) -> Message {
    match purpose {
        Purpose::Login => Message::LoginRequest(LoginRequest {
            challenge: bidkit_crypto::rng::random_array::<32>().unwrap().to_vec(),
            requester: "Bidkit test tool".into(),
        }),
        Purpose::Sign => sign_request(phone.suite, 3).0,
        Purpose::GetEncryptionCert => Message::EncryptionCertRequest(EncryptionCertRequest {
            reason: "某某项目投标".into(),
        }),
        Purpose::Unwrap => Message::UnwrapRequest(UnwrapRequest {
            items: vec![UnwrapItem {
                id: "bid-1".into(),
                label: "投标文件.bkb".into(),
                tender: "某某项目".into(),
                wrapped_key: wrap::wrap(&phone.encryption.public_key(), content_key).unwrap(),
            }],
        }),
        Purpose::RevokeSeal => Message::RevokeSealRequest(RevokeSealRequest {
            document: "投标文件.pdf".into(),
            seal: "公章".into(),
            reason: "盖错位置".into(),
            prepared: b"revoke statement".to_vec(),
        }),
        Purpose::Submit => Message::SubmitRequest(SubmitRequest {
            tender: "某某项目".into(),
            project_code: "ZB-2026-001".into(),
            bid_file: "投标文件.bkb".into(),
            file_digest: vec![7; 32],
            prepared: b"submit statement".to_vec(),
        }),
        Purpose::Withdraw => Message::WithdrawRequest(WithdrawRequest {
            tender: "某某项目".into(),
            project_code: "ZB-2026-001".into(),
            reason: "重新投标".into(),
            prepared: b"withdraw statement".to_vec(),
        }),
        Purpose::ConfirmOpening => Message::ConfirmOpeningRequest(ConfirmOpeningRequest {
            tender: "某某项目".into(),
            project_code: "ZB-2026-001".into(),
            record_digest: vec![8; 32],
            lines: vec!["投标人 A: 100 万元".into()],
            prepared: b"opening record".to_vec(),
        }),
        _ => panic!("unknown purpose"),
    }
}

/// A redis-server on a free loopback port in a temporary directory, killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Start one, or `None` (with a loud message) when redis-server is not installed.
    pub async fn start() -> Option<Self> {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(binary) = binary else {
            // In CI a missing redis-server is a broken setup, not a reason to skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed (apt-get install -y redis-server)"
            );
            eprintln!(
                "\n*** SKIPPING Redis test: redis-server is not installed (apt-get install -y redis-server) ***\n"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = RedisServer {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
                s.write_all(b"PING\r\n").await.unwrap();
                let mut buf = [0u8; 7];
                if s.read_exact(&mut buf).await.is_ok() && &buf == b"+PONG\r\n" {
                    return Some(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not come up on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP proxy to `target` that appends every byte in both directions to `log`.
pub async fn recording_proxy(target: SocketAddr, log: Arc<Mutex<Vec<u8>>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(target).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pump(cr, sw, log.clone()), pump(sr, cw, log));
            });
        }
    });
    addr
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    log: Arc<Mutex<Vec<u8>>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Every form in which `secret` could leak: raw, hex (both cases), and standard and
/// URL-safe base64 at each of the three byte alignments (only the characters that
/// depend on the secret alone).
pub fn leak_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let mut out = vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
    ];
    for engine in [STANDARD, URL_SAFE] {
        for pad in 0..3usize {
            let mut buf = vec![0u8; pad];
            buf.extend_from_slice(secret);
            let enc = engine.encode(&buf).into_bytes();
            let start = (pad * 8).div_ceil(6);
            let end = ((pad + secret.len()) * 8) / 6;
            if end > start {
                out.push(enc[start..end].to_vec());
            }
        }
    }
    out
}

/// Assert that no form of any secret occurs in `haystack`.
pub fn assert_no_leak(what: &str, haystack: &[u8], secrets: &[(&str, Vec<u8>)]) {
    for (name, secret) in secrets {
        for form in leak_forms(secret) {
            let found = haystack.windows(form.len()).any(|w| w == form.as_slice());
            assert!(
                !found,
                "{name} leaked into {what} as {:?}",
                String::from_utf8_lossy(&form)
            );
        }
    }
}

type Mutator = Box<dyn Fn(bidkit_protocol::Role, Vec<u8>) -> Vec<u8> + Send + Sync>;

/// A store that records everything written to it and can tamper with it: the
/// stand-in for a malicious or curious relay.
#[derive(Clone, Default)]
pub struct TapStore {
    pub inner: bidkit_relay::MemoryStore,
    /// Every byte string handed to the store (records as JSON, hellos, messages).
    pub log: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Rewrites each hello on join.
    pub hello_rewrite: Arc<Mutex<Option<Mutator>>>,
    /// Rewrites each pushed record (argument: the receiving side).
    pub push_rewrite: Arc<Mutex<Option<Mutator>>>,
}

impl TapStore {
    pub fn logged(&self) -> Vec<u8> {
        self.log.lock().unwrap().concat()
    }
}

impl bidkit_relay::Store for TapStore {
    async fn create(
        &self,
        record: bidkit_relay::store::SessionRecord,
        now: bidkit_protocol::Timestamp,
    ) -> Result<(), bidkit_relay::store::StoreError> {
        self.log
            .lock()
            .unwrap()
            .push(serde_json::to_vec(&record).unwrap());
        self.inner.create(record, now).await
    }

    async fn get(
        &self,
        id: &bidkit_protocol::SessionId,
        now: bidkit_protocol::Timestamp,
    ) -> Result<Option<bidkit_relay::store::SessionRecord>, bidkit_relay::store::StoreError> {
        self.inner.get(id, now).await
    }

    async fn join(
        &self,
        id: &bidkit_protocol::SessionId,
        phone_token_hash: String,
        hello: Vec<u8>,
        now: bidkit_protocol::Timestamp,
    ) -> Result<bidkit_relay::store::SessionRecord, bidkit_relay::store::StoreError> {
        let hello = match &*self.hello_rewrite.lock().unwrap() {
            Some(f) => f(bidkit_protocol::Role::Tool, hello),
            None => hello,
        };
        self.log.lock().unwrap().push(hello.clone());
        self.log
            .lock()
            .unwrap()
            .push(phone_token_hash.clone().into_bytes());
        self.inner.join(id, phone_token_hash, hello, now).await
    }

    async fn close(
        &self,
        id: &bidkit_protocol::SessionId,
        state: bidkit_relay::api::SessionState,
        by: bidkit_protocol::Role,
        code: Option<String>,
        now: bidkit_protocol::Timestamp,
        limits: bidkit_relay::store::StoreLimits,
    ) -> Result<bidkit_relay::store::SessionRecord, bidkit_relay::store::StoreError> {
        self.inner.close(id, state, by, code, now, limits).await
    }

    async fn push(
        &self,
        id: &bidkit_protocol::SessionId,
        to: bidkit_protocol::Role,
        data: Vec<u8>,
        now: bidkit_protocol::Timestamp,
        limits: bidkit_relay::store::StoreLimits,
    ) -> Result<u64, bidkit_relay::store::StoreError> {
        let data = match &*self.push_rewrite.lock().unwrap() {
            Some(f) => f(to, data),
            None => data,
        };
        self.log.lock().unwrap().push(data.clone());
        self.inner.push(id, to, data, now, limits).await
    }

    async fn fetch(
        &self,
        id: &bidkit_protocol::SessionId,
        to: bidkit_protocol::Role,
        after: u64,
        now: bidkit_protocol::Timestamp,
    ) -> Result<Vec<(u64, Vec<u8>)>, bidkit_relay::store::StoreError> {
        self.inner.fetch(id, to, after, now).await
    }

    async fn note_rejected_join(
        &self,
        id: &bidkit_protocol::SessionId,
        code: &str,
        now: bidkit_protocol::Timestamp,
    ) -> Result<(), bidkit_relay::store::StoreError> {
        self.inner.note_rejected_join(id, code, now).await
    }

    async fn sweep(&self, now: bidkit_protocol::Timestamp) {
        self.inner.sweep(now).await
    }

    fn hub(&self) -> &bidkit_relay::store::WakeHub {
        self.inner.hub()
    }

    fn session_count(&self) -> Option<usize> {
        self.inner.session_count()
    }
}
