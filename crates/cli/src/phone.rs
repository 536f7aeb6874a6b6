//! `bidkit phone …`: drive the emulated phone (and the emulated CA platform behind it)
//! from the command line — enrol, organisations and members, certificates, PIN, seals,
//! grants, usage records, scripted outcomes, scanning QR codes (`scan`: the phone side
//! of every relay flow), and signing as a QA aid.
//!
//! Every command acts on one phone, `--phone NAME` (default `phone`, or
//! `$BIDKIT_PHONE`), in the home directory. PINs come from `--pin` / `--new-pin` or
//! `$BIDKIT_PIN` / `$BIDKIT_NEW_PIN` and are never printed. `--at TIME` (or
//! `$BIDKIT_NOW`) acts at a fixed time instead of the clock, for deterministic
//! fixtures. `BIDKIT_INSECURE_FAST_KDF=1` switches the PIN key derivation to the cheap
//! test setting for CLI tests only — it is announced loudly on stderr, and must never
//! be used for anything else.

mod commands;
mod fsio;
mod input;
mod render;
mod scan;
mod seals;

use std::path::PathBuf;

use bidkit_crypto::Suite;
use bidkit_keystore::{Operation, Role, ScriptedOutcome, SealKind};
use time::OffsetDateTime;

use self::commands::{
    certs, create_org, enrol, grant, grants, list, open, pin, records_list, records_verify,
    reissue, script, seal, selector, sign, sign_in, status, unwrap,
};
use self::input::{parse_from, parse_time, parse_until};
use self::render::{fmt, grant_line, members_text};
use crate::context::Context;
use crate::output::Output;

/// Options every phone command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct PhoneOpts {
    /// The emulated phone (a directory under <home>/phones).
    #[arg(long = "phone", env = "BIDKIT_PHONE", default_value = bidkit_keystore::DEFAULT_PHONE, value_name = "NAME")]
    phone: String,
    /// Act at this time (RFC 3339, e.g. 2026-05-01T08:00:00Z) instead of the clock.
    #[arg(long, env = "BIDKIT_NOW", value_name = "TIME", value_parser = parse_time)]
    at: Option<OffsetDateTime>,
    /// Platform name written to usage records.
    #[arg(long, env = "BIDKIT_PLATFORM", default_value = bidkit_keystore::DEFAULT_PLATFORM)]
    platform: String,
}

/// The certificate a command is about.
#[derive(clap::Args, Debug, Clone)]
pub struct CertOpts {
    /// Certificate: a serial (or unique prefix of 6+ hex digits), `#ID`, `person`, or an
    /// organisation's unified social credit code.
    #[arg(long = "cert", default_value = "person", value_name = "CERT")]
    cert: String,
    /// Algorithm suite, to pick between certificates of both suites: gm or nist.
    #[arg(long)]
    suite: Option<Suite>,
}

/// The emulated phone keystore.
#[derive(clap::Subcommand, Debug)]
pub enum PhoneCommand {
    /// Enrol a person on the phone (real-name details, person certificate, PIN);
    /// with --org and --uscc also create an organisation with the person as admin.
    Enrol {
        /// Full name.
        #[arg(long)]
        name: String,
        /// Resident identity card number (18 characters).
        #[arg(long)]
        id_number: String,
        /// Mobile number (the account).
        #[arg(long)]
        phone_number: String,
        /// Six-digit certificate PIN (证书密码).
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
        /// Organisation name, to create one (needs --uscc).
        #[arg(long, requires = "uscc")]
        org: Option<String>,
        /// Unified social credit code of the organisation (needs --org).
        #[arg(long, requires = "org")]
        uscc: Option<String>,
        /// Algorithm suite of the certificates: gm or nist.
        #[arg(long, default_value = "gm")]
        suite: Suite,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Sign an existing account in on this phone (a second device); the emulated SMS
    /// code is shown and entered.
    SignIn {
        /// The account's mobile number.
        #[arg(long)]
        phone_number: String,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Create an organisation with the signed-in person as admin, and install its
    /// certificate on this phone.
    CreateOrg {
        /// Organisation name.
        #[arg(long)]
        name: String,
        /// Unified social credit code.
        #[arg(long)]
        uscc: String,
        /// Six-digit PIN for the organisation certificate.
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
        /// Algorithm suite: gm or nist.
        #[arg(long, default_value = "gm")]
        suite: Suite,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Ask to join an organisation (an admin approves with add-member).
    JoinOrg {
        /// Unified social credit code.
        #[arg(long)]
        uscc: String,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// As an admin: add a member by mobile number (or approve a request, or change a
    /// role).
    AddMember {
        /// Unified social credit code.
        #[arg(long)]
        uscc: String,
        /// The member's mobile number.
        #[arg(long)]
        phone_number: String,
        /// Role: admin, member or legal-representative.
        #[arg(long, default_value = "member")]
        role: Role,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// List the members of an organisation.
    Members {
        /// Unified social credit code.
        #[arg(long)]
        uscc: String,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// List the certificates on the phone, or issue another one.
    Certs {
        #[command(subcommand)]
        action: Option<CertsAction>,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Renew a certificate: new keys, new certificates valid one year from now.
    Renew {
        #[command(flatten)]
        cert: CertOpts,
        /// The certificate's PIN.
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Reissue (补办) a certificate onto another phone (uses one of three free
    /// reissues); the phone it leaves can no longer use it.
    Reissue {
        #[command(flatten)]
        cert: CertOpts,
        /// The phone to install it on (default: this phone).
        #[arg(long, value_name = "NAME", conflicts_with = "to_device")]
        to_phone: Option<String>,
        /// The device id to install it on (a phone in this home).
        #[arg(long, value_name = "DEVICE_ID")]
        to_device: Option<String>,
        /// The PIN to protect it with on the new phone.
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Add a reissue pack (three more reissues) to a certificate.
    AddReissuePack {
        #[command(flatten)]
        cert: CertOpts,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// The certificate PIN: change, reset with a verification code, status.
    #[command(subcommand)]
    Pin(PinCommand),
    /// As an admin: authorise a member to use an organisation seal or certificate.
    Grant {
        /// The seal to authorise (id from `seal list`).
        #[arg(long, conflicts_with = "cert", required_unless_present = "cert")]
        seal: Option<i64>,
        /// The organisation certificate to authorise (serial, #ID or the organisation's code).
        #[arg(long)]
        cert: Option<String>,
        /// Suite of the certificate, when the organisation has both.
        #[arg(long)]
        suite: Option<Suite>,
        /// The member's mobile number.
        #[arg(long = "to", value_name = "PHONE_NUMBER")]
        to: String,
        /// Valid for this many days from the start.
        #[arg(long, conflicts_with = "until", required_unless_present = "until")]
        days: Option<i64>,
        /// Valid until this date (YYYY-MM-DD, to the end of that day, China time) or time.
        #[arg(long, value_parser = parse_until)]
        until: Option<OffsetDateTime>,
        /// Valid from this date (YYYY-MM-DD, China time) or time (default: now).
        #[arg(long, value_parser = parse_from)]
        from: Option<OffsetDateTime>,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// As an admin: withdraw an authorisation (收回).
    Withdraw {
        /// The grant id (from `grants`).
        #[arg(long)]
        grant: i64,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// List authorisations: one's own, and all of organisations one manages.
    Grants {
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Seals: make (template, scan, handwriting), add a picture, list, void.
    #[command(subcommand)]
    Seal(SealCommand),
    /// Usage records (使用记录): list, export, or verify the hash chain.
    Records {
        #[command(subcommand)]
        action: Option<RecordsAction>,
        /// Only this operation (login, sign, seal, decrypt …).
        #[arg(long)]
        operation: Option<Operation>,
        /// Only this organisation (unified social credit code).
        #[arg(long)]
        org: Option<String>,
        /// Export format: json or csv (to --output, else stdout).
        #[arg(long, value_name = "FORMAT")]
        export: Option<ExportFormat>,
        /// Export file (written to a temporary file, then renamed).
        #[arg(short = 'o', long = "output", value_name = "FILE", requires = "export")]
        output: Option<PathBuf>,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Queue what the emulated user does at the next requests: approve, refuse,
    /// timeout, wrong-pin (in order); with no outcome, show the queue.
    Script {
        /// Outcomes to queue.
        outcomes: Vec<ScriptedOutcome>,
        /// Empty the queue first.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Sign files' bytes with a certificate (one request for all files) and print the
    /// DER signatures — a QA aid until the relay exists.
    Sign {
        /// Files whose bytes are the prepared messages.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        cert: CertOpts,
        /// The certificate's PIN.
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
        /// Apply this seal (operation `seal`).
        #[arg(long)]
        seal: Option<i64>,
        /// Record the request as this operation (default sign; login, submit-bid …).
        #[arg(long)]
        operation: Option<Operation>,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Unwrap a content key wrapped to the phone's encryption certificate (scan to
    /// decrypt) and print it in hex — a QA aid until the relay exists.
    Unwrap {
        /// File holding the wrapped key (binary).
        file: PathBuf,
        #[command(flatten)]
        cert: CertOpts,
        /// The certificate's PIN.
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Scan a QR code as the phone's camera would (a PNG image of it, a text file, or
    /// the text `BK1:…`): join the session, show the verification code and the
    /// request, then approve (with the PIN) or refuse, and print what was done.
    /// Without --approve or --refuse the phone's scripted outcomes decide (approve
    /// when none is queued; `timeout` stays silent until the tool gives up).
    Scan {
        /// The QR code: a PNG file, a text file, or the text itself.
        #[arg(value_name = "QR.png|QR-TEXT")]
        qr: String,
        /// Certificate to use: a serial, `#ID`, `person`, or an organisation's unified
        /// social credit code. Default: the person certificate of the session's suite
        /// (for a seal of an organisation, that organisation's certificate).
        #[arg(long = "cert", value_name = "CERT")]
        cert: Option<String>,
        /// The certificate's PIN (needed to approve).
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: Option<String>,
        /// Approve (a queued scripted outcome still applies).
        #[arg(long, conflicts_with = "refuse")]
        approve: bool,
        /// Refuse, before any PIN.
        #[arg(long)]
        refuse: bool,
        /// Refuse unless the phone's verification code is CODE, the one the tool shows;
        /// `-` reads it from stdin once the phone has joined.
        #[arg(long, value_name = "CODE")]
        expect_code: Option<String>,
        /// Seal to apply to a sign request (default: the one the request names).
        #[arg(long, value_name = "ID")]
        seal: Option<i64>,
        /// Seconds to wait for the tool (its accept, request and final word).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        wait: u64,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// The phone's account, organisations, certificates, PIN states and script queue.
    Status {
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// The emulated phones in the home directory.
    List {
        #[command(flatten)]
        opts: PhoneOpts,
    },
}

/// `bidkit phone certs …`.
#[derive(clap::Subcommand, Debug)]
pub enum CertsAction {
    /// Install another certificate: a person certificate of another suite, or with
    /// --org an organisation certificate (admins: the main one; members with a grant:
    /// their copy).
    Issue {
        /// Organisation (unified social credit code).
        #[arg(long, value_name = "USCC")]
        org: Option<String>,
        /// Algorithm suite: gm or nist.
        #[arg(long, default_value = "gm")]
        suite: Suite,
        /// Six-digit PIN for the new certificate.
        #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
        pin: String,
    },
}

/// `bidkit phone pin …`.
#[derive(clap::Subcommand, Debug)]
pub enum PinCommand {
    /// Set a new PIN (the current one is needed; the first PIN is set when the
    /// certificate is installed). Same as `change`.
    Set(ChangePin),
    /// Change the PIN: the current PIN (a wrong one counts as a try) and the new one.
    Change(ChangePin),
    /// Reset a forgotten or locked PIN: `request-code` shows the SMS code, then
    /// `--code C --new-pin P` sets the new PIN and unlocks.
    #[command(args_conflicts_with_subcommands = true)]
    Reset {
        #[command(subcommand)]
        step: Option<ResetStep>,
        #[command(flatten)]
        cert: CertOpts,
        /// The verification code from the SMS.
        #[arg(long)]
        code: Option<String>,
        /// The new six-digit PIN.
        #[arg(long, env = "BIDKIT_NEW_PIN", hide_env_values = true)]
        new_pin: Option<String>,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Tries left and lock state.
    Status {
        #[command(flatten)]
        cert: CertOpts,
        #[command(flatten)]
        opts: PhoneOpts,
    },
}

/// Arguments of `pin set` / `pin change`.
#[derive(clap::Args, Debug)]
pub struct ChangePin {
    #[command(flatten)]
    cert: CertOpts,
    /// The current PIN.
    #[arg(long, env = "BIDKIT_PIN", hide_env_values = true)]
    pin: String,
    /// The new six-digit PIN.
    #[arg(long, env = "BIDKIT_NEW_PIN", hide_env_values = true)]
    new_pin: String,
    #[command(flatten)]
    opts: PhoneOpts,
}

/// `bidkit phone pin reset request-code`.
#[derive(clap::Subcommand, Debug)]
pub enum ResetStep {
    /// Ask the platform to text a verification code; the emulated phone shows it.
    RequestCode {
        #[command(flatten)]
        cert: CertOpts,
        #[command(flatten)]
        opts: PhoneOpts,
    },
}

/// `bidkit phone seal …`.
#[derive(clap::Subcommand, Debug)]
pub enum SealCommand {
    /// Make a seal on the platform: render a template (round 公章/合同章/财务章, oval or
    /// square 财务章, square 人名章/法定代表人章), extract one from a photo (--scan), or
    /// draw a handwritten signature from pen strokes (--strokes). The platform's seal
    /// maker signs a GB/T 38540 seal record (SESeal) for it.
    Make(Box<seals::MakeArgs>),
    /// Record a seal: organisation seals (official, finance, contract,
    /// legal-representative) need --org and an admin; personal-name and handwritten
    /// belong to the signed-in person.
    Add {
        /// Kind: official (公章), finance (财务章), contract (合同章),
        /// legal-representative (法定代表人章), personal-name (人名章), handwritten (手写签名).
        #[arg(long = "type", value_name = "TYPE")]
        kind: SealKind,
        /// Name shown to people.
        #[arg(long)]
        name: String,
        /// Organisation (unified social credit code) of an organisation seal.
        #[arg(long, value_name = "USCC")]
        org: Option<String>,
        /// PNG picture of the seal (optional for now).
        #[arg(long, value_name = "FILE")]
        image: Option<PathBuf>,
        /// Valid until this date (YYYY-MM-DD, end of day, China time) or time; default:
        /// until voided.
        #[arg(long, value_parser = parse_until)]
        until: Option<OffsetDateTime>,
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// The seals the signed-in person sees: kind, organisation, size, status, validity,
    /// whether each can be applied now, and whether its seal record (SESeal) verifies.
    List {
        #[command(flatten)]
        opts: PhoneOpts,
    },
    /// Void a seal (作废): admins can no longer use it; members with a grant still can
    /// until it is withdrawn.
    Void {
        /// The seal id.
        #[arg(long)]
        seal: i64,
        #[command(flatten)]
        opts: PhoneOpts,
    },
}

/// `bidkit phone records verify`.
#[derive(clap::Subcommand, Debug)]
pub enum RecordsAction {
    /// Check the hash chain of all usage records on the platform.
    Verify {
        #[command(flatten)]
        opts: PhoneOpts,
    },
}

/// Export formats of usage records.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    /// A JSON array.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Run a `bidkit phone` command.
pub fn run(cmd: PhoneCommand, ctx: &Context) -> anyhow::Result<Output> {
    match cmd {
        PhoneCommand::Enrol {
            name,
            id_number,
            phone_number,
            pin,
            org,
            uscc,
            suite,
            opts,
        } => enrol(
            ctx,
            &opts,
            &name,
            &id_number,
            &phone_number,
            &pin,
            org.zip(uscc),
            suite,
        ),
        PhoneCommand::SignIn { phone_number, opts } => sign_in(ctx, &opts, &phone_number),
        PhoneCommand::CreateOrg {
            name,
            uscc,
            pin,
            suite,
            opts,
        } => create_org(ctx, &opts, &name, &uscc, &pin, suite),
        PhoneCommand::JoinOrg { uscc, opts } => {
            let m = open(ctx, &opts)?.request_join(&uscc)?;
            let text = format!(
                "已申请加入 {}（{}），等待管理员审核 / asked to join; an admin must approve",
                m.organisation.name, m.organisation.uscc
            );
            Output::new(text, &m)
        }
        PhoneCommand::AddMember {
            uscc,
            phone_number,
            role,
            opts,
        } => {
            let m = open(ctx, &opts)?.add_member(&uscc, &phone_number, role)?;
            let text = format!(
                "{} ({}) 已加入 {}，角色 {} / role {}",
                m.name,
                m.phone_number,
                m.organisation.name,
                m.role.label_zh(),
                m.role
            );
            Output::new(text, &m)
        }
        PhoneCommand::Members { uscc, opts } => {
            let members = open(ctx, &opts)?.members(&uscc)?;
            Output::new(members_text(&members), &members)
        }
        PhoneCommand::Certs { action, opts } => certs(ctx, &opts, action),
        PhoneCommand::Renew { cert, pin, opts } => {
            let phone = open(ctx, &opts)?;
            let info = phone.renew(&selector(&cert), cert.suite, &pin)?;
            let text = format!(
                "证书已延期 / renewed: #{} signing {} encryption {}, valid {} – {}",
                info.id,
                info.signing_serial,
                info.encryption_serial,
                fmt(info.not_before),
                fmt(info.not_after)
            );
            Output::new(text, &info)
        }
        PhoneCommand::Reissue {
            cert,
            to_phone,
            to_device,
            pin,
            opts,
        } => reissue(ctx, &opts, &cert, to_phone, to_device, &pin),
        PhoneCommand::AddReissuePack { cert, opts } => {
            let info = open(ctx, &opts)?.add_reissue_pack(&selector(&cert), cert.suite)?;
            let text = format!(
                "补办包已添加 / reissue pack added: certificate #{} now has {} reissues left",
                info.id, info.reissues_left
            );
            Output::new(text, &info)
        }
        PhoneCommand::Pin(cmd) => pin(ctx, cmd),
        PhoneCommand::Grant {
            seal,
            cert,
            suite,
            to,
            days,
            until,
            from,
            opts,
        } => grant(ctx, &opts, seal, cert, suite, &to, days, until, from),
        PhoneCommand::Withdraw { grant, opts } => {
            let g = open(ctx, &opts)?.withdraw_grant(grant)?;
            let text = format!("授权已收回 / withdrawn: {}", grant_line(&g));
            Output::new(text, &g)
        }
        PhoneCommand::Grants { opts } => grants(ctx, &opts),
        PhoneCommand::Seal(cmd) => seal(ctx, cmd),
        PhoneCommand::Records {
            action,
            operation,
            org,
            export,
            output,
            opts,
        } => match action {
            Some(RecordsAction::Verify { opts }) => records_verify(ctx, &opts),
            None => records_list(ctx, &opts, operation, org, export, output.as_deref()),
        },
        PhoneCommand::Script {
            outcomes,
            clear,
            opts,
        } => script(ctx, &opts, &outcomes, clear),
        PhoneCommand::Sign {
            files,
            cert,
            pin,
            seal,
            operation,
            opts,
        } => sign(ctx, &opts, &files, &cert, &pin, seal, operation),
        PhoneCommand::Unwrap {
            file,
            cert,
            pin,
            opts,
        } => unwrap(ctx, &opts, &file, &cert, &pin),
        PhoneCommand::Scan {
            qr,
            cert,
            pin,
            approve,
            refuse,
            expect_code,
            seal,
            wait,
            opts,
        } => scan::scan(
            ctx,
            &opts,
            scan::ScanArgs {
                qr,
                cert,
                pin,
                approve,
                refuse,
                expect_code,
                seal,
                wait,
            },
        ),
        PhoneCommand::Status { opts } => status(ctx, &opts),
        PhoneCommand::List { opts } => list(ctx, &opts),
    }
}
