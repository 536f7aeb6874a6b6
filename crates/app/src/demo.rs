//! The headless end-to-end story, as far as the product exists today.
//!
//! Two emulated phones (a bidder who is the organisation's admin, and a member) and
//! the emulated CA, all in one home directory: enrol, create the organisation, add
//! the member, record the 公章, grant it for 30 days, the member seals a prepared
//! message with the organisation certificate, the signature and chain verify, the
//! grant is withdrawn and the member is refused, the usage records' chain verifies.
//! Every artifact (root and holder certificates in PEM, usage records) is kept in
//! the output directory under stable names.

use std::path::{Path, PathBuf};

use bidkit_crypto::Suite;
use bidkit_keystore::{
    CertSelector, Home, KeystoreConfig, NewSeal, PersonDetails, Phone, RecordFilter, Role, SealKind,
};
use bidkit_pki::{CertificateAuthority, KeyPurpose, verify_chain};
use serde::Serialize;
use time::Duration;

use crate::AppError;

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Directory for the demo's state and artifacts (created if missing; must not
    /// already hold a demo).
    pub out: PathBuf,
    /// Algorithm suite.
    pub suite: Suite,
}

/// One step of the story, as printed.
#[derive(Clone, Debug, Serialize)]
pub struct DemoStep {
    /// Stable step id for scripts (`enrol-bidder`, `member-seal` …).
    pub id: &'static str,
    /// What happened, for people.
    pub detail: String,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Suite used.
    pub suite: Suite,
    /// Where state and artifacts are.
    pub out: String,
    /// Steps in order.
    pub steps: Vec<DemoStep>,
    /// Files written, relative to `out`.
    pub artifacts: Vec<String>,
}

const PIN_BIDDER: &str = "246810";
const PIN_MEMBER: &str = "135790";
const ORG_NAME: &str = "示例建设工程有限公司";

/// Run the story; `on_step` sees each step as it completes.
pub fn run(opts: &DemoOptions, on_step: &mut dyn FnMut(&DemoStep)) -> Result<DemoReport, AppError> {
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(|source| AppError::Io {
        path: out.clone(),
        source,
    })?;
    if out.join("phones").exists() {
        return Err(demo_err(
            "start",
            format!(
                "{} already holds a demo; choose an empty directory",
                out.display()
            ),
        ));
    }
    let suite = opts.suite;
    let mut steps = Vec::new();
    let mut step = |id: &'static str, detail: String| {
        let s = DemoStep { id, detail };
        on_step(&s);
        steps.push(s);
    };
    let mut artifacts = Vec::new();

    let home = Home::new(out, KeystoreConfig::default().with_platform("bidkit-demo"));
    let uscc = fixture_uscc();

    // Bidder: person + organisation (admin), dual certificates for both.
    let bidder = home.phone("bidder")?;
    let enrolment = bidder.enrol(
        &person("张三", "11010519491231002", "13800138000"),
        PIN_BIDDER,
        suite,
    )?;
    step(
        "enrol-bidder",
        format!(
            "投标人 {} 注册并安装个人双证书 (签名证书 {}) / bidder enrolled",
            enrolment.account.name, enrolment.certificate.signing_serial
        ),
    );
    let (org, org_cert) = bidder.create_organisation(ORG_NAME, &uscc, PIN_BIDDER, suite)?;
    step(
        "create-organisation",
        format!(
            "创建单位 {} ({}), 管理员 {}, 单位签名证书 {} / organisation created",
            org.name, org.uscc, enrolment.account.name, org_cert.signing_serial
        ),
    );

    // Member: enrolled on a second phone, added by the admin.
    let member = home.phone("member")?;
    let member_enrolment = member.enrol(
        &person("李四", "11010519800101001", "13900139000"),
        PIN_MEMBER,
        suite,
    )?;
    bidder.add_member(&uscc, &member_enrolment.account.phone_number, Role::Member)?;
    step(
        "add-member",
        format!(
            "成员 {} 注册并加入单位 / member enrolled and added",
            member_enrolment.account.name
        ),
    );

    // The organisation's 公章, granted to the member for 30 days.
    let seal = bidder.add_seal(&NewSeal {
        kind: SealKind::Official,
        name: format!("{ORG_NAME}公章"),
        organisation: Some(uscc.clone()),
        image: Vec::new(),
        valid_from: None,
        valid_until: None,
    })?;
    let grant = bidder.grant_seal(
        seal.id,
        &member_enrolment.account.phone_number,
        None,
        bidder.now() + Duration::days(30),
    )?;
    step(
        "grant-seal",
        format!(
            "管理员授权成员使用「{}」30 天 (授权 #{}) / seal granted for 30 days",
            seal.name, grant.id
        ),
    );

    // The member claims a copy of the organisation certificate and seals with it.
    let copy = member.issue_organisation_certificate(&uscc, suite, PIN_MEMBER)?;
    let message = b"bidkit demo: prepared message (e.g. CMS signed attributes)";
    let selector = CertSelector::Serial(copy.signing_serial.clone());
    let signature = {
        let signer = member
            .signer(&selector, Some(suite), PIN_MEMBER)?
            .with_seal(seal.id);
        bidkit_crypto::Signer::sign(&signer, message)?
    };
    let cert = member.signing_certificate(&selector, Some(suite))?;
    cert.public_key()?.verify(message, &signature)?;
    let ca = CertificateAuthority::open_or_create(
        &out.join("ca").join(suite.as_str()),
        suite,
        member.now(),
    )?;
    let trust = ca.trust_store(member.now())?;
    verify_chain(&cert, &[], &trust, member.now(), Some(KeyPurpose::Signing))?;
    step(
        "member-seal",
        format!(
            "成员用单位证书副锁 {} 盖章签名, 签名与证书链验证通过 ({}) / member sealed; signature and chain verify",
            copy.signing_serial,
            suite.signature()
        ),
    );

    // Withdraw the grant: the member can no longer use the seal.
    bidder.withdraw_grant(grant.id)?;
    let attempt: Result<Vec<u8>, (String, &'static str)> =
        match member.signer(&selector, Some(suite), PIN_MEMBER) {
            Err(e) => Err((e.to_string(), e.code())),
            Ok(s) => bidkit_crypto::Signer::sign(&s.with_seal(seal.id), message).map_err(|e| {
                let code = bidkit_keystore::KeystoreError::from_signer_error(&e)
                    .map_or("refused", |k| k.code());
                (e.to_string(), code)
            }),
        };
    match attempt {
        Err((message, code)) => step(
            "withdraw-grant",
            format!("收回授权后成员盖章被拒绝: {message} [{code}] / refused after withdrawal"),
        ),
        Ok(_) => {
            return Err(demo_err(
                "withdraw-grant",
                "the member could still seal after the grant was withdrawn".into(),
            ));
        }
    }

    // Usage records: the chain verifies; export them and the certificates.
    let check = bidder.service().verify_records()?;
    let records = bidder.records(&RecordFilter::default())?;
    write(
        out,
        "usage-records.json",
        &bidkit_keystore::records::to_json(&records)?,
        &mut artifacts,
    )?;
    step(
        "records",
        format!(
            "使用记录 {} 条, 哈希链完整 (head {}) / usage records chained and intact",
            check.count,
            short(&check.head)
        ),
    );

    write(out, "ca-root.pem", &ca.root().to_pem(), &mut artifacts)?;
    export_certs(&bidder, "bidder", suite, &uscc, out, &mut artifacts)?;
    export_certs(&member, "member", suite, &uscc, out, &mut artifacts)?;
    step(
        "artifacts",
        format!("证书与记录已写入 {} / artifacts written", out.display()),
    );

    Ok(DemoReport {
        suite,
        out: out.display().to_string(),
        steps,
        artifacts,
    })
}

fn export_certs(
    phone: &Phone,
    who: &str,
    suite: Suite,
    uscc: &str,
    out: &Path,
    artifacts: &mut Vec<String>,
) -> Result<(), AppError> {
    for (label, selector) in [
        ("person", CertSelector::Person),
        ("org", CertSelector::Organisation(uscc.to_owned())),
    ] {
        let Ok(sign) = phone.signing_certificate(&selector, Some(suite)) else {
            continue;
        };
        let enc = phone.encryption_certificate(&selector, Some(suite))?;
        write(
            out,
            &format!("{who}-{label}-signing.pem"),
            &sign.to_pem(),
            artifacts,
        )?;
        write(
            out,
            &format!("{who}-{label}-encryption.pem"),
            &enc.to_pem(),
            artifacts,
        )?;
    }
    Ok(())
}

/// Write `contents` to `out/name` through a temporary file and a rename.
fn write(
    out: &Path,
    name: &str,
    contents: &str,
    artifacts: &mut Vec<String>,
) -> Result<(), AppError> {
    let path = out.join(name);
    let tmp = out.join(format!(".{name}.tmp"));
    let io = |source| AppError::Io {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, contents).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    artifacts.push(name.to_owned());
    Ok(())
}

fn person(name: &str, id17: &str, phone_number: &str) -> PersonDetails {
    let check = bidkit_keystore::ids::id_number_check_char(&id17[..17]).unwrap_or('X');
    PersonDetails {
        name: name.to_owned(),
        id_number: format!("{}{check}", &id17[..17]),
        phone_number: phone_number.to_owned(),
    }
}

fn fixture_uscc() -> String {
    let first17 = "91110000MA0000001";
    let check = bidkit_keystore::ids::uscc_check_char(first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

fn demo_err(step: &str, detail: String) -> AppError {
    AppError::Demo {
        step: step.to_owned(),
        detail,
    }
}
