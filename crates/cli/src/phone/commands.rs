//! The phone commands' work: open the phone, call the keystore, shape the output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Clock, Home, KeystoreConfig, NewSeal, Operation, Phone, RecordFilter,
    ScriptedOutcome, SystemClock, TestClock, Unlock, records,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::fsio::write_atomically;
use super::render::{certs_text, fmt, grant_line, members_text, records_text, to_base64, to_hex};
use super::{CertOpts, CertsAction, ExportFormat, PhoneOpts, PinCommand, ResetStep, SealCommand};
use crate::context::Context;
use crate::output::Output;

/// Environment variable that switches PIN key derivation to the insecure test setting.
pub(super) const INSECURE_KDF_ENV: &str = "BIDKIT_INSECURE_FAST_KDF";

pub(super) fn home(ctx: &Context, opts: &PhoneOpts) -> Home {
    let mut config = if insecure_kdf_requested() {
        eprintln!(
            "bidkit: WARNING: {INSECURE_KDF_ENV}=1: certificate PINs are protected with the \
             insecure TEST key derivation. Keys on phones enrolled now can be brute-forced \
             from a copied database. Use this for automated tests only."
        );
        KeystoreConfig::insecure_fast_kdf_for_tests()
    } else {
        KeystoreConfig::default()
    };
    let clock: Arc<dyn Clock> = match opts.at {
        Some(t) => Arc::new(TestClock::new(t)),
        None => Arc::new(SystemClock),
    };
    config = config
        .with_clock(clock)
        .with_platform(opts.platform.clone());
    Home::new(ctx.home(), config)
}

pub(super) fn insecure_kdf_requested() -> bool {
    std::env::var(INSECURE_KDF_ENV).is_ok_and(|v| v == "1")
}

pub(super) fn open(ctx: &Context, opts: &PhoneOpts) -> anyhow::Result<Phone> {
    Ok(home(ctx, opts).phone(&opts.phone)?)
}

pub(super) fn selector(cert: &CertOpts) -> CertSelector {
    CertSelector::parse(&cert.cert)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn enrol(
    ctx: &Context,
    opts: &PhoneOpts,
    name: &str,
    id_number: &str,
    phone_number: &str,
    pin: &str,
    org: Option<(String, String)>,
    suite: Suite,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let details = bidkit_keystore::PersonDetails {
        name: name.to_owned(),
        id_number: id_number.to_owned(),
        phone_number: phone_number.to_owned(),
    };
    let enrolment = phone.enrol(&details, pin, suite)?;
    let mut text = format!(
        "已在手机 {} 上注册 / enrolled on phone {:?} (device {})\n  {} {} {}\n  个人证书 / person certificate #{}: signing {} encryption {} ({}), valid until {}\n",
        phone.name(),
        phone.name(),
        phone.device_id(),
        enrolment.account.name,
        enrolment.account.id_number,
        enrolment.account.phone_number,
        enrolment.certificate.id,
        enrolment.certificate.signing_serial,
        enrolment.certificate.encryption_serial,
        enrolment.certificate.suite,
        fmt(enrolment.certificate.not_after),
    );
    let organisation = match org {
        Some((org_name, uscc)) => {
            let (o, cert) = phone.create_organisation(&org_name, &uscc, pin, suite)?;
            let _ = writeln!(
                text,
                "  单位 / organisation {} ({}), 管理员 / admin; 单位证书 / organisation certificate #{}: signing {}",
                o.name, o.uscc, cert.id, cert.signing_serial
            );
            Some(serde_json::json!({ "organisation": o, "certificate": cert }))
        }
        None => None,
    };
    Output::new(
        text,
        &serde_json::json!({
            "phone": phone.name(),
            "device_id": phone.device_id(),
            "account": enrolment.account,
            "certificate": enrolment.certificate,
            "organisation": organisation,
        }),
    )
}

pub(super) fn sign_in(
    ctx: &Context,
    opts: &PhoneOpts,
    phone_number: &str,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let s = phone.sign_in(phone_number)?;
    let text = format!(
        "短信 / SMS to {}: {}\n已登录 / signed in on phone {:?} as {}",
        s.sms.to,
        s.sms.text,
        phone.name(),
        s.account.name
    );
    Output::new(
        text,
        &serde_json::json!({ "phone": phone.name(), "device_id": phone.device_id(), "account": s.account, "sms": s.sms }),
    )
}

pub(super) fn create_org(
    ctx: &Context,
    opts: &PhoneOpts,
    name: &str,
    uscc: &str,
    pin: &str,
    suite: Suite,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let (org, cert) = phone.create_organisation(name, uscc, pin, suite)?;
    let text = format!(
        "单位已创建 / organisation created: {} ({}), 你是管理员 / you are admin\n  单位证书 / certificate #{}: signing {}",
        org.name, org.uscc, cert.id, cert.signing_serial
    );
    Output::new(
        text,
        &serde_json::json!({ "organisation": org, "certificate": cert }),
    )
}

pub(super) fn certs(
    ctx: &Context,
    opts: &PhoneOpts,
    action: Option<CertsAction>,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    match action {
        Some(CertsAction::Issue { org, suite, pin }) => {
            let info = match &org {
                Some(uscc) => phone.issue_organisation_certificate(uscc, suite, &pin)?,
                None => phone.issue_person_certificate(suite, &pin)?,
            };
            let text = format!(
                "证书已下载 / certificate installed: #{} {} ({}){}: signing {} encryption {}",
                info.id,
                info.subject,
                info.suite,
                if info.copy_of.is_some() {
                    " 副锁 / copy"
                } else {
                    ""
                },
                info.signing_serial,
                info.encryption_serial
            );
            Output::new(text, &info)
        }
        None => {
            let list = phone.certificates()?;
            Output::new(certs_text(&phone, &list), &list)
        }
    }
}

pub(super) fn reissue(
    ctx: &Context,
    opts: &PhoneOpts,
    cert: &CertOpts,
    to_phone: Option<String>,
    to_device: Option<String>,
    pin: &str,
) -> anyhow::Result<Output> {
    let home = home(ctx, opts);
    let target = match (to_phone, to_device) {
        (Some(name), _) => home.existing_phone(&name)?,
        (None, Some(device)) => home.phone_by_device(&device)?,
        (None, None) => home.phone(&opts.phone)?,
    };
    let info = target.reissue_here(&selector(cert), cert.suite, pin)?;
    let text = format!(
        "证书已补办到手机 {} / reissued onto phone {:?} (device {})\n  #{} signing {}; 剩余补办次数 / reissues left {}; the previous device can no longer use it",
        target.name(),
        target.name(),
        target.device_id(),
        info.id,
        info.signing_serial,
        info.reissues_left
    );
    Output::new(
        text,
        &serde_json::json!({ "phone": target.name(), "device_id": target.device_id(), "certificate": info }),
    )
}

pub(super) fn pin(ctx: &Context, cmd: PinCommand) -> anyhow::Result<Output> {
    match cmd {
        PinCommand::Set(args) | PinCommand::Change(args) => {
            let phone = open(ctx, &args.opts)?;
            let status = phone.change_pin(
                &selector(&args.cert),
                args.cert.suite,
                &args.pin,
                &args.new_pin,
            )?;
            Output::new(
                "证书密码已修改 / PIN changed".to_owned(),
                &serde_json::json!({ "phone": phone.name(), "pin": status }),
            )
        }
        PinCommand::Reset {
            step: Some(ResetStep::RequestCode { cert, opts }),
            ..
        } => {
            let phone = open(ctx, &opts)?;
            let sms = phone.request_pin_reset(&selector(&cert), cert.suite)?;
            let text = format!(
                "短信 / SMS to {}: {}\n然后 / then: bidkit phone pin reset --code {} --new-pin <PIN>",
                sms.to, sms.text, sms.code
            );
            Output::new(text, &sms)
        }
        PinCommand::Reset {
            step: None,
            cert,
            code,
            new_pin,
            opts,
        } => {
            let (Some(code), Some(new_pin)) = (code, new_pin) else {
                bail!(
                    "`pin reset` needs --code and --new-pin (get a code with `bidkit phone pin reset request-code`)"
                );
            };
            let phone = open(ctx, &opts)?;
            let status = phone.reset_pin(&selector(&cert), cert.suite, &code, &new_pin)?;
            Output::new(
                "证书密码已重置并解锁 / PIN reset, certificate unlocked".to_owned(),
                &serde_json::json!({ "phone": phone.name(), "pin": status }),
            )
        }
        PinCommand::Status { cert, opts } => {
            let phone = open(ctx, &opts)?;
            let status = phone.pin_status(&selector(&cert), cert.suite)?;
            let text = format!(
                "PIN tries left {}/{}{}",
                status.tries_left,
                status.max_tries,
                if status.locked {
                    " — 已锁定 / LOCKED"
                } else {
                    ""
                }
            );
            Output::new(text, &status)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn grant(
    ctx: &Context,
    opts: &PhoneOpts,
    seal: Option<i64>,
    cert: Option<String>,
    suite: Option<Suite>,
    to: &str,
    days: Option<i64>,
    until: Option<OffsetDateTime>,
    from: Option<OffsetDateTime>,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let start = from.unwrap_or_else(|| phone.now());
    let until = match (days, until) {
        (_, Some(u)) => u,
        (Some(d), None) if d > 0 => start + Duration::days(d),
        (Some(d), None) => bail!("--days must be at least 1, not {d}"),
        (None, None) => bail!("give the validity with --days N or --until DATE"),
    };
    let g = match (seal, cert) {
        (Some(seal), _) => phone.grant_seal(seal, to, from, until)?,
        (None, Some(cert)) => {
            phone.grant_certificate(&CertSelector::parse(&cert), suite, to, from, until)?
        }
        (None, None) => bail!("name what to authorise: --seal ID or --cert CERT"),
    };
    let text = format!("已授权 / granted: {}", grant_line(&g));
    Output::new(text, &g)
}

pub(super) fn seal(ctx: &Context, cmd: SealCommand) -> anyhow::Result<Output> {
    match cmd {
        SealCommand::Add {
            kind,
            name,
            org,
            image,
            until,
            opts,
        } => {
            let phone = open(ctx, &opts)?;
            let image = match image {
                Some(path) => std::fs::read(&path)
                    .with_context(|| format!("cannot read the seal picture {}", path.display()))?,
                None => Vec::new(),
            };
            let seal = phone.add_seal(&NewSeal {
                kind,
                name,
                organisation: org,
                image,
                valid_from: None,
                valid_until: until,
            })?;
            let text = format!(
                "印章已制作 / seal recorded: #{} {} ({} / {}){}",
                seal.id,
                seal.name,
                seal.kind.label_zh(),
                seal.kind,
                seal.organisation
                    .as_ref()
                    .map(|o| format!(" of {}", o.name))
                    .unwrap_or_default()
            );
            Output::new(text, &seal)
        }
        SealCommand::Make(args) => super::seals::make(ctx, *args),
        SealCommand::List { opts } => super::seals::list(ctx, &opts),
        SealCommand::Void { seal, opts } => {
            let s = open(ctx, &opts)?.void_seal(seal)?;
            let text = format!(
                "印章已作废 / seal voided: #{} {}; members with a grant keep it until withdrawn",
                s.id, s.name
            );
            Output::new(text, &s)
        }
    }
}

pub(super) fn records_list(
    ctx: &Context,
    opts: &PhoneOpts,
    operation: Option<Operation>,
    org: Option<String>,
    export: Option<ExportFormat>,
    output: Option<&Path>,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let recs = phone.records(&RecordFilter {
        operation,
        organisation: org,
        ..Default::default()
    })?;
    if let Some(format) = export {
        let body = match format {
            ExportFormat::Json => records::to_json(&recs)?,
            ExportFormat::Csv => records::to_csv(&recs),
        };
        return match output {
            Some(path) => {
                write_atomically(path, body.as_bytes())?;
                let text = format!(
                    "已导出 {} 条记录 / exported {} records to {}",
                    recs.len(),
                    recs.len(),
                    path.display()
                );
                Output::new(
                    text,
                    &serde_json::json!({ "exported": recs.len(), "file": path, "format": format!("{format:?}").to_lowercase() }),
                )
            }
            None => Output::new(body, &recs),
        };
    }
    Output::new(records_text(&recs), &recs)
}

pub(super) fn records_verify(ctx: &Context, opts: &PhoneOpts) -> anyhow::Result<Output> {
    let check = home(ctx, opts).service()?.verify_records()?;
    let text = format!(
        "使用记录完整 / usage records intact: {} records, head {}",
        check.count,
        if check.head.is_empty() {
            "-"
        } else {
            &check.head
        }
    );
    Output::new(text, &check)
}

pub(super) fn sign(
    ctx: &Context,
    opts: &PhoneOpts,
    files: &[PathBuf],
    cert: &CertOpts,
    pin: &str,
    seal: Option<i64>,
    operation: Option<Operation>,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let messages: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).with_context(|| format!("cannot read {}", f.display())))
        .collect::<anyhow::Result<_>>()?;
    let mut signer = phone
        .signer(&selector(cert), cert.suite, pin)?
        .with_platform(opts.platform.clone());
    if let Some(op) = operation {
        signer = signer.for_operation(op);
    }
    if let Some(seal) = seal {
        signer = signer.with_seal(seal);
    }
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let sigs = signer.sign_all(&refs)?;
    #[derive(Serialize)]
    struct Signed {
        file: PathBuf,
        signature_hex: String,
        signature_base64: String,
    }
    let signed: Vec<Signed> = files
        .iter()
        .zip(&sigs)
        .map(|(f, s)| Signed {
            file: f.clone(),
            signature_hex: to_hex(s),
            signature_base64: to_base64(s),
        })
        .collect();
    let mut text = format!(
        "已签名 / signed with certificate {} ({})\n",
        signer.serial(),
        bidkit_crypto::Signer::algorithm(&signer)
    );
    for s in &signed {
        let _ = writeln!(
            text,
            "{}\n  hex    {}\n  base64 {}",
            s.file.display(),
            s.signature_hex,
            s.signature_base64
        );
    }
    Output::new(
        text,
        &serde_json::json!({
            "serial": signer.serial(),
            "algorithm": bidkit_crypto::Signer::algorithm(&signer),
            "certificate_pem": signer.certificate().to_pem(),
            "signatures": signed,
        }),
    )
}

pub(super) fn status(ctx: &Context, opts: &PhoneOpts) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let st = phone.status()?;
    let mut text = format!("手机 / phone {:?}, device {}\n", st.phone, st.device_id);
    match &st.account {
        Some(a) => {
            let _ = writeln!(
                text,
                "账号 / account: {} ({}, {})",
                a.name, a.id_number, a.phone_number
            );
        }
        None => text.push_str("账号 / account: 未注册 / not enrolled (bidkit phone enrol)\n"),
    }
    if !st.memberships.is_empty() {
        text.push_str(&members_text(&st.memberships));
    }
    if st.account.is_some() {
        text.push_str(&certs_text(&phone, &st.certificates));
    }
    if !st.scripted.is_empty() {
        let names: Vec<&str> = st.scripted.iter().map(|o| o.as_str()).collect();
        let _ = writeln!(text, "脚本队列 / script queue: {}", names.join(", "));
    }
    if st.insecure_test_kdf {
        text.push_str("警告 / WARNING: insecure test PIN key derivation in use\n");
    }
    Output::new(text, &st)
}

pub(super) fn grants(ctx: &Context, opts: &PhoneOpts) -> anyhow::Result<Output> {
    let grants = open(ctx, opts)?.grants()?;
    let mut text = String::new();
    if grants.is_empty() {
        text.push_str("没有授权 / no authorisations\n");
    }
    for g in &grants {
        let _ = writeln!(text, "{}", grant_line(g));
    }
    Output::new(text, &grants)
}

pub(super) fn script(
    ctx: &Context,
    opts: &PhoneOpts,
    outcomes: &[ScriptedOutcome],
    clear: bool,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    if clear {
        phone.clear_outcomes()?;
    }
    let queue = phone.push_outcomes(outcomes)?;
    let names: Vec<&str> = queue.iter().map(|o| o.as_str()).collect();
    let text = if names.is_empty() {
        "脚本队列为空（默认批准）/ script queue empty (requests are approved)".to_owned()
    } else {
        format!("脚本队列 / script queue: {}", names.join(", "))
    };
    Output::new(
        text,
        &serde_json::json!({ "phone": phone.name(), "queue": queue }),
    )
}

pub(super) fn unwrap(
    ctx: &Context,
    opts: &PhoneOpts,
    file: &Path,
    cert: &CertOpts,
    pin: &str,
) -> anyhow::Result<Output> {
    let phone = open(ctx, opts)?;
    let wrapped = std::fs::read(file)
        .with_context(|| format!("cannot read the wrapped key {}", file.display()))?;
    let key = phone.unwrap_key(
        &selector(cert),
        cert.suite,
        Unlock::Pin(pin),
        &wrapped,
        Some(&opts.platform),
    )?;
    let hex = to_hex(key.as_slice());
    let text = format!("解密成功 / unwrapped {} bytes: {hex}", key.len());
    Output::new(text, &serde_json::json!({ "len": key.len(), "hex": hex }))
}

pub(super) fn list(ctx: &Context, opts: &PhoneOpts) -> anyhow::Result<Output> {
    let home = home(ctx, opts);
    let names = home.phone_names()?;
    let mut rows = Vec::new();
    for name in &names {
        let p = home.phone(name)?;
        let account = p.account()?;
        rows.push(serde_json::json!({
            "phone": name,
            "device_id": p.device_id(),
            "account": account.as_ref().map(|a| a.name.clone()),
        }));
    }
    let mut text = String::new();
    if names.is_empty() {
        text.push_str("没有模拟手机 / no emulated phones yet\n");
    }
    for r in &rows {
        let _ = writeln!(
            text,
            "{}  device {}  {}",
            r["phone"].as_str().unwrap_or_default(),
            r["device_id"].as_str().unwrap_or_default(),
            r["account"].as_str().unwrap_or("(no account)")
        );
    }
    Output::new(text, &rows)
}
