//! RFC 3161 over HTTP on one machine: the emulated TSA served in-process answers the
//! client for SHA-256 and SM3 imprints (both suites) with tokens that verify and carry
//! the current time; fake TSAs that answer garbage, HTTP 500, the wrong content type, a
//! rejection, another nonce or another imprint, or nothing in time give the typed
//! errors; the server refuses other content types and oversized bodies; the identity
//! persists in the home; `openssl ts -reply -text` reads a response of our server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use bidkit_app::AppError;
use bidkit_app::tsa::{
    EmbeddedTsa, QUERY_CONTENT_TYPE, REPLY_CONTENT_TYPE, TsaError, TsaIdentity, fetch_timestamp,
    request_timestamp, timestamp_blocking,
};
use bidkit_cms::tsa::{TimestampRequest, verify_token};
use bidkit_crypto::{HashAlgorithm, Suite};
use time::OffsetDateTime;

const TIMEOUT: Duration = Duration::from_secs(10);

fn identity(home: &Path, suite: Suite) -> TsaIdentity {
    TsaIdentity::open_or_create(home, suite, OffsetDateTime::now_utc()).unwrap()
}

/// Serve `app` on a loopback port; returns its URL.
async fn fake(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}/")
}

fn reply(body: Vec<u8>) -> axum::response::Response {
    ([(header::CONTENT_TYPE, REPLY_CONTENT_TYPE)], body).into_response()
}

fn tsa_error(e: AppError) -> TsaError {
    match e {
        AppError::Timestamp(t) => t,
        other => panic!("not a time-stamp error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_for_sha256_and_sm3_imprints_verify_and_carry_the_time() {
    let home = tempfile::tempdir().unwrap();
    for suite in [Suite::Nist, Suite::Gm] {
        let server = EmbeddedTsa::start(identity(home.path(), suite))
            .await
            .unwrap();
        for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sm3] {
            let imprint = hash.digest(format!("document for {suite} {hash}").as_bytes());
            let before = OffsetDateTime::now_utc();
            let token = request_timestamp(&server.url(), hash, &imprint, TIMEOUT)
                .await
                .unwrap();
            let info = verify_token(&token, &imprint).unwrap();
            assert_eq!(info.hash_algorithm, hash);
            assert_eq!(info.suite, suite);
            assert!(
                (info.time - before).abs() < time::Duration::seconds(5),
                "genTime {} vs now {before}",
                info.time
            );
            assert!(
                info.tsa_subject.contains("Emulated TSA"),
                "{}",
                info.tsa_subject
            );
            // The emulated test CA cannot issue the timeStamping EKU (yet).
            assert!(!info.time_stamping_purpose);
            // The TSA certificate chains to the home's CA root.
            let root = bidkit_pki::CertificateAuthority::open(
                &home.path().join("ca").join(suite.as_str()),
                suite,
            )
            .unwrap()
            .root()
            .clone();
            info.tsa_certificate.verify_signature(&root).unwrap();
        }
        // `/tsa` too, and the full answer with what the token says.
        let imprint = HashAlgorithm::Sm3.digest(b"x");
        let stamped = fetch_timestamp(
            &format!("{}tsa", server.url()),
            HashAlgorithm::Sm3,
            &imprint,
            TIMEOUT,
        )
        .await
        .unwrap();
        assert!(!stamped.info.serial.is_empty());
        server.shutdown().await.unwrap();
    }
}

#[test]
fn the_blocking_client_works_outside_a_runtime() {
    let home = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(EmbeddedTsa::start(identity(home.path(), Suite::Nist)))
        .unwrap();
    let imprint = HashAlgorithm::Sha256.digest(b"blocking");
    let stamped =
        timestamp_blocking(&server.url(), HashAlgorithm::Sha256, &imprint, TIMEOUT).unwrap();
    verify_token(&stamped.token, &imprint).unwrap();
    rt.block_on(server.shutdown()).unwrap();
}

#[test]
fn the_identity_persists_and_its_files_are_there() {
    let home = tempfile::tempdir().unwrap();
    let a = identity(home.path(), Suite::Gm);
    let b = identity(home.path(), Suite::Gm);
    assert_eq!(a.certificate().serial_hex(), b.certificate().serial_hex());
    let dir = TsaIdentity::dir_in(home.path(), Suite::Gm);
    assert_eq!(a.dir(), dir);
    for f in ["tsa.json", "tsa.pem", "chain.pem"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("tsa.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key file is private: {mode:o}");
    }
    // A NIST TSA in the same home is another identity.
    let n = identity(home.path(), Suite::Nist);
    assert_eq!(n.suite(), Suite::Nist);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_tsas_give_typed_errors() {
    let home = tempfile::tempdir().unwrap();
    let tsa = Arc::new(identity(home.path(), Suite::Nist));
    let imprint = HashAlgorithm::Sha256.digest(b"doc");
    let ask = |url: String| async move {
        tsa_error(
            request_timestamp(&url, HashAlgorithm::Sha256, &imprint, TIMEOUT)
                .await
                .unwrap_err(),
        )
    };

    // Garbage with the right content type.
    let url =
        fake(Router::new().route("/", post(|| async { reply(b"this is not DER".to_vec()) }))).await;
    let e = ask(url).await;
    assert!(matches!(e, TsaError::Malformed(_)), "{e:?}");
    assert_eq!(e.code(), "tsa-malformed");

    // HTTP 500 with a text body.
    let url = fake(Router::new().route(
        "/",
        post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "HSM offline") }),
    ))
    .await;
    let e = ask(url).await;
    assert!(
        matches!(&e, TsaError::Http { status: 500, body, .. } if body == "HSM offline"),
        "{e:?}"
    );
    assert_eq!(AppError::Timestamp(e).code(), "tsa-http-error");

    // A well-formed answer under another content type.
    let t = tsa.clone();
    let url = fake(Router::new().route(
        "/",
        post(move |body: Bytes| async move {
            let answer = t.respond(&body, OffsetDateTime::now_utc()).unwrap();
            ([(header::CONTENT_TYPE, "application/octet-stream")], answer)
        }),
    ))
    .await;
    let e = ask(url).await;
    assert!(
        matches!(&e, TsaError::ContentType { content_type, .. } if content_type == "application/octet-stream"),
        "{e:?}"
    );

    // A rejection (the emulated TSA rejects an unreadable request with badDataFormat).
    let t = tsa.clone();
    let url =
        fake(Router::new().route(
            "/",
            post(move || async move {
                reply(t.respond(b"\x30\x00", OffsetDateTime::now_utc()).unwrap())
            }),
        ))
        .await;
    let e = ask(url).await;
    assert!(
        matches!(&e, TsaError::Rejected { status: 2, status_name: "rejection", fail_info, .. } if fail_info == &["badDataFormat"]),
        "{e:?}"
    );
    assert!(e.to_string().contains("badDataFormat"), "{e}");

    // A token for the same imprint under another nonce (a replayed answer).
    let t = tsa.clone();
    let url = fake(Router::new().route(
        "/",
        post(move |body: Bytes| async move {
            let req = TimestampRequest::from_der(&body).unwrap();
            let other = TimestampRequest::with_nonce(
                req.hash_algorithm(),
                req.message_imprint(),
                Some(&[9, 9, 9, 9]),
            )
            .unwrap();
            reply(
                t.respond(other.to_der(), OffsetDateTime::now_utc())
                    .unwrap(),
            )
        }),
    ))
    .await;
    let e = ask(url).await;
    assert!(
        matches!(&e, TsaError::NonceMismatch { got, .. } if got == "09090909"),
        "{e:?}"
    );
    assert_eq!(e.code(), "tsa-nonce-mismatch");

    // The same nonce but another imprint (one byte of the imprint flipped in place).
    let t = tsa.clone();
    let url = fake(Router::new().route(
        "/",
        post(move |body: Bytes| async move {
            let req = TimestampRequest::from_der(&body).unwrap();
            let mut der = body.to_vec();
            let at = der
                .windows(32)
                .position(|w| w == req.message_imprint())
                .unwrap();
            der[at] ^= 0xff;
            reply(t.respond(&der, OffsetDateTime::now_utc()).unwrap())
        }),
    ))
    .await;
    let e = ask(url).await;
    assert!(matches!(e, TsaError::ImprintMismatch(_)), "{e:?}");
    assert_eq!(e.code(), "tsa-imprint-mismatch");

    // Nobody listening.
    let closed = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let e = ask(url).await;
    assert!(matches!(e, TsaError::Unreachable { .. }), "{e:?}");

    // A TSA that never answers.
    let url = fake(Router::new().route(
        "/",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    ))
    .await;
    let started = std::time::Instant::now();
    let e = tsa_error(
        request_timestamp(
            &url,
            HashAlgorithm::Sha256,
            &imprint,
            Duration::from_millis(300),
        )
        .await
        .unwrap_err(),
    );
    assert!(matches!(e, TsaError::Timeout { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // URLs this build cannot use; an imprint of the wrong length.
    let e = ask("https://tsa.example/".into()).await;
    assert!(matches!(e, TsaError::BadUrl { .. }), "{e:?}");
    let e = ask("not a url".into()).await;
    assert!(matches!(e, TsaError::BadUrl { .. }), "{e:?}");
    let e = tsa_error(
        request_timestamp(
            "http://127.0.0.1:9/",
            HashAlgorithm::Sm3,
            &[1, 2, 3],
            TIMEOUT,
        )
        .await
        .unwrap_err(),
    );
    assert!(matches!(e, TsaError::Request(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_insists_on_its_media_type_and_body_limit() {
    let home = tempfile::tempdir().unwrap();
    let server = EmbeddedTsa::start(identity(home.path(), Suite::Gm))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let post = |ct: &'static str, body: Vec<u8>| {
        client
            .post(server.url())
            .header(header::CONTENT_TYPE.as_str(), ct)
            .body(body)
            .send()
    };
    let r = post("application/octet-stream", b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let r = post(QUERY_CONTENT_TYPE, vec![0x30; 65 * 1024])
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // Garbage with the right type: a granted-nothing rejection, still a reply.
    let r = post(QUERY_CONTENT_TYPE, b"garbage".to_vec()).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE.as_str()].to_str().unwrap(),
        REPLY_CONTENT_TYPE
    );
    let body = r.bytes().await.unwrap();
    assert!(bidkit_cms::tsa::parse_response(&body).is_err());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_reads_a_reply_of_our_server() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl not installed; skipped");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = EmbeddedTsa::start(identity(home.path(), Suite::Nist))
        .await
        .unwrap();
    let imprint = HashAlgorithm::Sha256.digest(b"openssl");
    let req =
        TimestampRequest::with_nonce(HashAlgorithm::Sha256, &imprint, Some(&[0x42; 8])).unwrap();
    let resp = reqwest::Client::new()
        .post(server.url())
        .header(header::CONTENT_TYPE.as_str(), QUERY_CONTENT_TYPE)
        .body(req.to_der().to_vec())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let path = home.path().join("resp.der");
    std::fs::write(&path, &resp).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["ts", "-reply", "-in"])
        .arg(&path)
        .arg("-text")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Status: Granted"), "{text}");
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    assert!(text.contains(&hex_spaced(&imprint[..4])), "{text}");
    assert!(text.contains("Nonce: 0x4242424242424242"), "{text}");
    assert!(text.contains("1.3.6.1.4.1.55555.3161.1"), "{text}");
    server.shutdown().await.unwrap();
}

/// Bytes as `openssl ts -text` prints them: lowercase hex pairs separated by spaces.
fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
