//! `bidkit login`: log in by scan. Shows the rotating QR code (a PNG rewritten
//! atomically at every step, an SVG, and/or the terminal), waits for the phone, shows
//! the verification code, and prints the verified identity.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bidkit_app::AppError;
use bidkit_app::login::{
    LoginIdentity, LoginObserver, LoginOptions, QrFrame, RelayChoice, TrustRoots,
};
use bidkit_app::qr::{QrImage, write_atomically};
use bidkit_crypto::Suite;
use bidkit_pki::Certificate;
use bidkit_protocol::{QrPolicy, RelayAddress, Timestamp};

use crate::context::{Context, block_on};
use crate::output::Output;

/// Arguments of `bidkit login`.
#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// Write the QR code to this PNG, rewritten (atomically) at every rotation step.
    #[arg(long, value_name = "FILE.png")]
    qr_out: Option<PathBuf>,
    /// Also write it as SVG (rewritten the same way).
    #[arg(long, value_name = "FILE.svg")]
    qr_svg: Option<PathBuf>,
    /// Draw it in the terminal (stderr) with Unicode half blocks; the default when
    /// no file is named.
    #[arg(long)]
    terminal: bool,
    /// Use this relay (`http://host:port`, e.g. a `bidkit relay serve`) instead of
    /// starting one in this process.
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
    /// The relay address to put in the QR code when the phone reaches the relay
    /// service by another address (another node, a public name). Needs --relay.
    #[arg(long, value_name = "URL", requires = "relay")]
    advertise: Option<String>,
    /// Algorithm suite: gm (SM2/SM3/SM4) or nist (P-256/SHA-256/AES-GCM).
    #[arg(long, default_value = "gm")]
    suite: Suite,
    /// Seconds the QR code works, and seconds the phone may take to answer (1–600).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,
    /// Trust these root certificates (PEM) instead of the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// Who asks, as the phone shows it.
    #[arg(long, value_name = "TEXT")]
    requester: Option<String>,
    /// QR rotation step in seconds (tests).
    #[arg(long, hide = true, value_name = "SECS")]
    qr_step: Option<u32>,
    /// Oldest QR frame accepted, in steps (tests).
    #[arg(long, hide = true, value_name = "STEPS")]
    qr_max_age: Option<u32>,
}

/// Run `bidkit login`.
pub fn run(args: LoginArgs, ctx: &Context) -> anyhow::Result<Output> {
    let mut opts = LoginOptions::new(ctx.home(), args.suite);
    opts.timeout = Duration::from_secs(args.timeout);
    if let Some(r) = &args.requester {
        opts.requester = r.clone();
    }
    if let Some(url) = &args.relay {
        opts.relay = RelayChoice::Remote {
            connect: RelayAddress::new(url).with_context(|| format!("--relay {url}"))?,
            advertise: args
                .advertise
                .as_deref()
                .map(|a| RelayAddress::new(a).with_context(|| format!("--advertise {a}")))
                .transpose()?,
        };
    }
    if !args.trust.is_empty() {
        let mut roots = Vec::new();
        for path in &args.trust {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            roots
                .extend(Certificate::all_from_pem(&pem).with_context(|| {
                    format!("{} holds no readable certificate", path.display())
                })?);
        }
        opts.trust = TrustRoots::Roots(roots);
    }
    opts.qr_policy = QrPolicy {
        step_secs: args.qr_step.unwrap_or(QrPolicy::DEFAULT.step_secs),
        max_age_steps: args.qr_max_age.unwrap_or(QrPolicy::DEFAULT.max_age_steps),
        ..QrPolicy::DEFAULT
    };
    let terminal = args.terminal || (args.qr_out.is_none() && args.qr_svg.is_none());
    let mut screen = Screen {
        png: args.qr_out,
        svg: args.qr_svg,
        terminal,
        tty: std::io::stderr().is_terminal(),
        frames: 0,
        drawn_lines: 0,
    };
    let identity = block_on(bidkit_app::login::login(&opts, &mut screen))??;
    Output::new(identity_text(&identity), &identity)
}

fn identity_text(id: &LoginIdentity) -> String {
    let mut text = String::from("已登录 / logged in\n");
    let person = id
        .person
        .as_ref()
        .map(|p| format!("{} ({})", p.name, p.id_number))
        .unwrap_or_else(|| "—".into());
    let org = id
        .organisation
        .as_ref()
        .map(|o| format!("{} ({})", o.name, o.uscc))
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(text, "  个人 / person:              {person}");
    let _ = writeln!(text, "  单位 / organisation:        {org}");
    let _ = writeln!(
        text,
        "  证书 / certificate serial:  {} ({}, valid until {})",
        id.certificate_serial, id.suite, id.certificate_not_after
    );
    let _ = writeln!(
        text,
        "  验证码 / verification code: {}",
        id.verification_code
    );
    let _ = writeln!(text, "  relay: {} (session {})", id.relay, id.session_id);
    if !id.rejected_joins.is_empty() {
        let _ = writeln!(
            text,
            "  注意 / note: the relay turned away {} other join(s): {}",
            id.rejected_joins.len(),
            id.rejected_joins.join(", ")
        );
    }
    text
}

/// The tool's screen, on stderr and in the QR files.
struct Screen {
    png: Option<PathBuf>,
    svg: Option<PathBuf>,
    terminal: bool,
    tty: bool,
    frames: u64,
    drawn_lines: usize,
}

impl LoginObserver for Screen {
    fn session_opened(&mut self, relay: &RelayAddress, embedded: bool) {
        let how = if embedded {
            "embedded, in this process"
        } else {
            "remote"
        };
        eprintln!("bidkit: relay {relay} ({how})");
    }

    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let image = QrImage::encode(frame.text)?;
        if let Some(path) = &self.png {
            write_atomically(path, &image.to_png()?)?;
        }
        if let Some(path) = &self.svg {
            write_atomically(path, image.to_svg().as_bytes())?;
        }
        if self.terminal && (self.frames == 0 || self.tty) {
            let art = image.to_terminal();
            let mut err = std::io::stderr().lock();
            if self.tty && self.drawn_lines > 0 {
                // Redraw in place.
                let _ = write!(err, "\x1b[{}A", self.drawn_lines);
            }
            let _ = write!(err, "{art}");
            let _ = err.flush();
            self.drawn_lines = art.lines().count();
        }
        if self.frames == 0 {
            let left = frame.join_deadline.since(Timestamp::now()).as_secs();
            let mut files = Vec::new();
            files.extend(self.png.iter().map(|p| p.display().to_string()));
            files.extend(self.svg.iter().map(|p| p.display().to_string()));
            let target = match files.as_slice() {
                [] => "the QR code above".to_owned(),
                f => f.join(" and "),
            };
            eprintln!(
                "bidkit: 请用手机扫码登录 / scan {target} with the phone (it changes every {} s and works for {left} s)",
                frame.step.as_secs()
            );
            if let Some(p) = &self.png {
                eprintln!("bidkit:   e.g. bidkit phone scan {} --pin …", p.display());
            }
        }
        self.frames += 1;
        Ok(())
    }

    fn join_rejected(&mut self, code: &str, hint: &str, total: u32) {
        eprintln!(
            "bidkit: 已拒绝一部手机 / the relay turned a phone away ({code}{hint}); {total} so far; still waiting for a scan of the current code"
        );
    }

    fn phone_joined(&mut self, code: &str) {
        eprintln!(
            "bidkit: 手机已连接 / phone joined. 验证码 / verification code: {code} — check that the phone shows the same code"
        );
    }
}
