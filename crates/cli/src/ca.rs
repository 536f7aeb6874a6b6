//! `bidkit ca …`: the emulated certificate authority (a **test** root per suite).
//!
//! The CA of a suite lives in `<home>/ca/<suite>` (see `bidkit_pki::CertificateAuthority`
//! for the files). Certificates are issued by the emulated phone (`bidkit phone …`); here
//! the root is created and shown, certificates are listed, revoked and verified, and CRLs
//! are exported.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use bidkit_crypto::Suite;
use bidkit_pki::{
    Certificate, CertificateAuthority, KeyPurpose, OffsetDateTime, RevocationReason, fmt_time,
    verify_chain,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::context::Context;
use crate::output::Output;

/// The emulated certificate authority.
#[derive(clap::Subcommand, Debug)]
pub enum CaCommand {
    /// Create the test root of a suite if there is none, and show it.
    Init {
        /// Algorithm suite: gm (SM2/SM3) or nist (P-256/SHA-256).
        #[arg(long, default_value = "gm")]
        suite: Suite,
        /// Creation time (RFC 3339) instead of the current time.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
    /// Show the test root: subject, serial, validity, fingerprint.
    Show {
        /// Algorithm suite: gm or nist.
        #[arg(long, default_value = "gm")]
        suite: Suite,
        /// Also print the root certificate in PEM.
        #[arg(long)]
        pem: bool,
    },
    /// List the certificates the CA issued, with their revocation status.
    List {
        /// Algorithm suite: gm or nist.
        #[arg(long, default_value = "gm")]
        suite: Suite,
    },
    /// Revoke a certificate and publish a new CRL.
    Revoke {
        /// Serial number of the certificate (hex, as `bidkit ca list` shows it).
        serial: String,
        /// Reason (RFC 5280): unspecified, key-compromise, ca-compromise,
        /// affiliation-changed, superseded, cessation-of-operation, certificate-hold,
        /// privilege-withdrawn.
        #[arg(long, default_value = "unspecified")]
        reason: RevocationReason,
        /// The suite of the issuing CA (default: whichever CA issued the serial).
        #[arg(long)]
        suite: Option<Suite>,
        /// Revocation time (RFC 3339) instead of the current time.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
    /// Write a freshly signed CRL to a file.
    Crl {
        /// Algorithm suite: gm or nist.
        #[arg(long, default_value = "gm")]
        suite: Suite,
        /// Output file (written to a temporary file, then renamed).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Write DER instead of PEM.
        #[arg(long)]
        der: bool,
        /// CRL issue time (RFC 3339) instead of the current time.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
    /// Verify a certificate (PEM or DER) against the test root and its CRL.
    Verify {
        /// The certificate file.
        cert: PathBuf,
        /// Also require the certificate to be for this purpose: signing or encryption.
        #[arg(long)]
        purpose: Option<KeyPurpose>,
        /// Verification time (RFC 3339) instead of the current time.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
}

/// Run a `bidkit ca` command.
pub fn run(cmd: CaCommand, ctx: &Context) -> anyhow::Result<Output> {
    match cmd {
        CaCommand::Init { suite, at } => init(ctx, suite, at.unwrap_or_else(now)),
        CaCommand::Show { suite, pem } => show(ctx, suite, pem),
        CaCommand::List { suite } => list(ctx, suite),
        CaCommand::Revoke {
            serial,
            reason,
            suite,
            at,
        } => revoke(ctx, &serial, reason, suite, at.unwrap_or_else(now)),
        CaCommand::Crl {
            suite,
            output,
            der,
            at,
        } => crl(ctx, suite, &output, der, at.unwrap_or_else(now)),
        CaCommand::Verify { cert, purpose, at } => {
            verify(ctx, &cert, purpose, at.unwrap_or_else(now))
        }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2026-05-01T08:00:00Z: {e}"))
}

fn ca_dir(ctx: &Context, suite: Suite) -> PathBuf {
    ctx.home().join("ca").join(suite.as_str())
}

fn open(ctx: &Context, suite: Suite) -> anyhow::Result<CertificateAuthority> {
    let dir = ca_dir(ctx, suite);
    if !CertificateAuthority::exists(&dir) {
        bail!(
            "there is no {suite} test CA in {} yet: run `bidkit ca init --suite {suite}` (or enrol a phone)",
            dir.display()
        );
    }
    Ok(CertificateAuthority::open(&dir, suite)?)
}

/// The facts about a root, as JSON.
#[derive(Serialize)]
struct RootInfo {
    suite: Suite,
    subject: String,
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    fingerprint: String,
    fingerprint_algorithm: &'static str,
    test_root: bool,
    dir: PathBuf,
    root_file: PathBuf,
    crl_file: PathBuf,
    issued: usize,
    revoked: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pem: Option<String>,
}

fn root_info(ca: &CertificateAuthority) -> RootInfo {
    let root = ca.root();
    RootInfo {
        suite: ca.suite(),
        subject: root.subject_display(),
        serial: root.serial_hex(),
        not_before: root.not_before(),
        not_after: root.not_after(),
        fingerprint: root.fingerprint(),
        fingerprint_algorithm: ca.suite().hash().name(),
        test_root: true,
        dir: ca.dir().to_path_buf(),
        root_file: ca.root_path(),
        crl_file: ca.crl_path(),
        issued: ca.issued().len(),
        revoked: ca.revocations().len(),
        created: None,
        pem: None,
    }
}

fn root_text(info: &RootInfo) -> String {
    format!(
        "测试根证书 Test root CA ({suite}) — NOT FOR PRODUCTION\n\
         主题 Subject:        {subject}\n\
         序列号 Serial:       {serial}\n\
         有效期 Validity:     {from} → {to}\n\
         指纹 Fingerprint:    {alg} {fp}\n\
         已签发 Issued:       {issued}, 已吊销 revoked: {revoked}\n\
         根证书 Root file:    {root}\n\
         吊销列表 CRL file:   {crl}\n",
        suite = info.suite,
        subject = info.subject,
        serial = info.serial,
        from = fmt_time(info.not_before),
        to = fmt_time(info.not_after),
        alg = info.fingerprint_algorithm,
        fp = info.fingerprint,
        issued = info.issued,
        revoked = info.revoked,
        root = info.root_file.display(),
        crl = info.crl_file.display(),
    )
}

fn init(ctx: &Context, suite: Suite, at: OffsetDateTime) -> anyhow::Result<Output> {
    let dir = ca_dir(ctx, suite);
    let existed = CertificateAuthority::exists(&dir);
    let ca = CertificateAuthority::open_or_create(&dir, suite, at)?;
    let mut info = root_info(&ca);
    info.created = Some(!existed);
    let head = if existed {
        "已存在 The test CA already exists.\n"
    } else {
        "已创建 Created a new test CA.\n"
    };
    let text = format!("{head}{}", root_text(&info));
    Output::new(text, &info)
}

fn show(ctx: &Context, suite: Suite, pem: bool) -> anyhow::Result<Output> {
    let ca = open(ctx, suite)?;
    let mut info = root_info(&ca);
    let mut text = root_text(&info);
    if pem {
        let p = ca.root().to_pem();
        text.push_str(&p);
        info.pem = Some(p);
    }
    Output::new(text, &info)
}

/// One issued certificate, as JSON.
#[derive(Serialize)]
struct ListedCertificate {
    serial: String,
    subject: String,
    holder: bidkit_pki::Subject,
    purpose: KeyPurpose,
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    renewal_of: Option<String>,
    revoked: Option<bidkit_pki::Revocation>,
}

fn list(ctx: &Context, suite: Suite) -> anyhow::Result<Output> {
    let ca = open(ctx, suite)?;
    let listed: Vec<ListedCertificate> = ca
        .issued()
        .iter()
        .map(|c| ListedCertificate {
            serial: c.serial.clone(),
            subject: c.certificate.subject_display(),
            holder: c.subject.clone(),
            purpose: c.purpose,
            not_before: c.not_before,
            not_after: c.not_after,
            renewal_of: c.renewal_of.clone(),
            revoked: ca.is_revoked(&c.serial),
        })
        .collect();
    let mut text = format!(
        "{suite} 测试 CA 已签发 {n} 张证书 (test CA issued {n} certificates)\n",
        n = listed.len()
    );
    for c in &listed {
        let purpose = match c.purpose {
            KeyPurpose::Signing => "签名 signing",
            KeyPurpose::Encryption => "加密 encryption",
        };
        let status = match &c.revoked {
            Some(r) => format!("已吊销 revoked {} ({})", fmt_time(r.revoked_at), r.reason),
            None => "有效 active".into(),
        };
        text.push_str(&format!(
            "{serial}  {purpose:<16} {holder}  {from} → {to}  {status}\n",
            serial = c.serial,
            holder = c.holder,
            from = fmt_time(c.not_before),
            to = fmt_time(c.not_after),
        ));
    }
    Output::new(
        text,
        &serde_json::json!({ "suite": suite, "certificates": listed }),
    )
}

fn revoke(
    ctx: &Context,
    serial: &str,
    reason: RevocationReason,
    suite: Option<Suite>,
    at: OffsetDateTime,
) -> anyhow::Result<Output> {
    let suites: Vec<Suite> = match suite {
        Some(s) => vec![s],
        None => Suite::ALL
            .into_iter()
            .filter(|s| CertificateAuthority::exists(&ca_dir(ctx, *s)))
            .collect(),
    };
    if suites.is_empty() {
        bail!(
            "there is no test CA under {} yet: run `bidkit ca init`",
            ctx.home().join("ca").display()
        );
    }
    let mut cas = suites
        .into_iter()
        .map(|s| open(ctx, s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let index = match cas.iter().position(|ca| ca.find(serial).is_some()) {
        Some(i) => i,
        // One CA: let the library say precisely what is wrong (bad hex, unknown serial,
        // the root itself).
        None if cas.len() == 1 => 0,
        None => {
            let searched: Vec<&str> = cas.iter().map(|ca| ca.suite().as_str()).collect();
            bail!(
                "certificate {serial} was not issued by any test CA here (searched: {})",
                searched.join(", ")
            )
        }
    };
    let ca = cas
        .get_mut(index)
        .ok_or_else(|| anyhow!("no CA to revoke {serial} in"))?;
    ca.revoke(serial, reason, at)?;
    let revocation = ca
        .is_revoked(serial)
        .ok_or_else(|| anyhow!("certificate {serial} was not recorded as revoked"))?;
    let text = format!(
        "已吊销 Revoked certificate {} ({}) at {}\n新的吊销列表 New CRL: {}\n",
        revocation.serial,
        revocation.reason,
        fmt_time(revocation.revoked_at),
        ca.crl_path().display()
    );
    Output::new(
        text,
        &serde_json::json!({
            "suite": ca.suite(),
            "revocation": revocation,
            "crl_file": ca.crl_path(),
        }),
    )
}

fn crl(
    ctx: &Context,
    suite: Suite,
    output: &Path,
    der: bool,
    at: OffsetDateTime,
) -> anyhow::Result<Output> {
    let ca = open(ctx, suite)?;
    let crl = ca.crl(at)?;
    let bytes = if der {
        crl.to_der().to_vec()
    } else {
        crl.to_pem().into_bytes()
    };
    write_atomic(output, &bytes)?;
    let text = format!(
        "已写出吊销列表 Wrote the {suite} CRL ({n} revoked) to {path}\n本次更新 This update: {this}, 下次更新 next update: {next}\n",
        n = crl.revoked().len(),
        path = output.display(),
        this = fmt_time(crl.this_update()),
        next = crl
            .next_update()
            .map(fmt_time)
            .unwrap_or_else(|| "-".into()),
    );
    Output::new(
        text,
        &serde_json::json!({
            "suite": suite,
            "file": output,
            "format": if der { "der" } else { "pem" },
            "this_update": fmt_time(crl.this_update()),
            "next_update": crl.next_update().map(fmt_time),
            "revoked": crl.revoked(),
        }),
    )
}

fn verify(
    ctx: &Context,
    path: &Path,
    purpose: Option<KeyPurpose>,
    at: OffsetDateTime,
) -> anyhow::Result<Output> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // DER starts with a SEQUENCE tag; anything else is read as PEM text.
    let cert = if bytes.first() == Some(&0x30) {
        Certificate::from_der(&bytes)
    } else {
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow!("{} is neither PEM text nor DER", path.display()))?;
        Certificate::from_pem(&text)
    }
    .with_context(|| format!("cannot read the certificate in {}", path.display()))?;
    let suite = cert.suite();
    let ca = open(ctx, suite)?;
    let trust = ca.trust_store(at)?;
    let chain = verify_chain(&cert, &[], &trust, at, purpose)
        .with_context(|| format!("{} does not verify", path.display()))?;
    let purpose_text = match cert.purpose() {
        Some(KeyPurpose::Signing) => "签名证书 signing certificate",
        Some(KeyPurpose::Encryption) => "加密证书 encryption certificate",
        None if cert.is_ca() => "CA 证书 CA certificate",
        None => "证书 certificate",
    };
    let text = format!(
        "验证通过 OK: {purpose_text}\n\
         主题 Subject:     {subject}\n\
         序列号 Serial:    {serial}\n\
         有效期 Validity:  {from} → {to}\n\
         证书链 Chain:     {chain}\n\
         验证时间 At:      {at}\n",
        subject = cert.subject_display(),
        serial = cert.serial_hex(),
        from = fmt_time(cert.not_before()),
        to = fmt_time(cert.not_after()),
        at = fmt_time(at),
    );
    let chain_json: Vec<_> = chain
        .certificates()
        .iter()
        .map(|c| serde_json::json!({ "subject": c.subject_display(), "serial": c.serial_hex() }))
        .collect();
    Output::new(
        text,
        &serde_json::json!({
            "valid": true,
            "suite": suite,
            "subject": cert.subject_display(),
            "holder": cert.subject().ok(),
            "serial": cert.serial_hex(),
            "purpose": cert.purpose(),
            "not_before": fmt_time(cert.not_before()),
            "not_after": fmt_time(cert.not_after()),
            "fingerprint": cert.fingerprint(),
            "chain": chain_json,
            "verified_at": fmt_time(at),
        }),
    )
}

/// Write `bytes` to `path` through a temporary file in the same directory and a rename,
/// so the output is either absent or complete.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?
        .to_string_lossy()
        .into_owned();
    let mut nonce = [0u8; 6];
    bidkit_crypto::rng::fill(&mut nonce)?;
    let suffix: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{name}.{suffix}.tmp"));
    let result = (|| -> anyhow::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        drop(file);
        fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
