//! The tool's screen while a phone session runs (log in, seal, revoke …): the rotating
//! QR code as a PNG and/or SVG file rewritten atomically at every step, or drawn in the
//! terminal; the relay's notices; the verification code. Plus the relay and trust
//! flags every phone request shares.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use bidkit_app::AppError;
use bidkit_app::qr::{QrImage, write_atomically};
use bidkit_app::session::{QrFrame, RelayChoice, SessionObserver, TrustRoots};
use bidkit_app::sign::SignOptions;
use bidkit_crypto::Suite;
use bidkit_pki::Certificate;
use bidkit_protocol::{QrPolicy, RelayAddress, Timestamp};

/// Where the QR code is shown.
#[derive(clap::Args, Debug, Clone)]
pub struct ScreenArgs {
    /// Write the QR code to this PNG, rewritten (atomically) at every rotation step.
    #[arg(long, value_name = "FILE.png")]
    pub qr_out: Option<PathBuf>,
    /// Also write it as SVG (rewritten the same way).
    #[arg(long, value_name = "FILE.svg")]
    pub qr_svg: Option<PathBuf>,
    /// Draw it in the terminal (stderr) with Unicode half blocks; the default when
    /// no file is named.
    #[arg(long)]
    pub terminal: bool,
}

/// Which relay and trust roots a phone request uses, and its timing.
#[derive(clap::Args, Debug, Clone)]
pub struct RelayArgs {
    /// Use this relay (`http://host:port`, e.g. a `bidkit relay serve`) instead of
    /// starting one in this process.
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// The relay address to put in the QR code when the phone reaches the relay
    /// service by another address (another node, a public name). Needs --relay.
    #[arg(long, value_name = "URL", requires = "relay")]
    pub advertise: Option<String>,
    /// Algorithm suite: gm (SM2/SM3/SM4) or nist (P-256/SHA-256/AES-GCM).
    #[arg(long, default_value = "gm")]
    pub suite: Suite,
    /// Seconds the QR code works, and seconds the phone may take to answer (1–600).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
    /// Trust these root certificates (PEM) instead of the home's emulated CA.
    #[arg(long, value_name = "ROOT.pem")]
    pub trust: Vec<PathBuf>,
    /// QR rotation step in seconds (tests).
    #[arg(long, hide = true, value_name = "SECS")]
    pub qr_step: Option<u32>,
    /// Oldest QR frame accepted, in steps (tests).
    #[arg(long, hide = true, value_name = "STEPS")]
    pub qr_max_age: Option<u32>,
}

impl RelayArgs {
    /// The relay choice the flags name.
    pub fn relay_choice(&self) -> anyhow::Result<RelayChoice> {
        Ok(match &self.relay {
            None => RelayChoice::Embedded,
            Some(url) => RelayChoice::Remote {
                connect: RelayAddress::new(url).with_context(|| format!("--relay {url}"))?,
                advertise: self
                    .advertise
                    .as_deref()
                    .map(|a| RelayAddress::new(a).with_context(|| format!("--advertise {a}")))
                    .transpose()?,
            },
        })
    }

    /// The trust roots the flags name.
    pub fn trust_roots(&self) -> anyhow::Result<TrustRoots> {
        if self.trust.is_empty() {
            return Ok(TrustRoots::HomeCa);
        }
        let mut roots = Vec::new();
        for path in &self.trust {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            roots
                .extend(Certificate::all_from_pem(&pem).with_context(|| {
                    format!("{} holds no readable certificate", path.display())
                })?);
        }
        Ok(TrustRoots::Roots(roots))
    }

    /// The QR timing the flags name.
    pub fn qr_policy(&self) -> QrPolicy {
        QrPolicy {
            step_secs: self.qr_step.unwrap_or(QrPolicy::DEFAULT.step_secs),
            max_age_steps: self.qr_max_age.unwrap_or(QrPolicy::DEFAULT.max_age_steps),
            ..QrPolicy::DEFAULT
        }
    }

    /// Options for a sign-type request (seal, revoke …).
    pub fn sign_options(&self, home: &Path) -> anyhow::Result<SignOptions> {
        let mut o = SignOptions::new(home, self.suite);
        o.relay = self.relay_choice()?;
        o.trust = self.trust_roots()?;
        o.timeout = Duration::from_secs(self.timeout);
        o.qr_policy = self.qr_policy();
        Ok(o)
    }
}

/// The tool's screen, on stderr and in the QR files.
pub struct Screen {
    png: Option<PathBuf>,
    svg: Option<PathBuf>,
    terminal: bool,
    tty: bool,
    frames: u64,
    drawn_lines: usize,
    action: &'static str,
}

impl Screen {
    /// A screen for `action` (e.g. `扫码登录 / log in`), showing the QR code where
    /// `args` say.
    pub fn new(args: &ScreenArgs, action: &'static str) -> Screen {
        Screen {
            png: args.qr_out.clone(),
            svg: args.qr_svg.clone(),
            terminal: args.terminal || (args.qr_out.is_none() && args.qr_svg.is_none()),
            tty: std::io::stderr().is_terminal(),
            frames: 0,
            drawn_lines: 0,
            action,
        }
    }
}

impl SessionObserver for Screen {
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
                "bidkit: 请用手机扫码{} / scan {target} with the phone (it changes every {} s and works for {left} s)",
                self.action,
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

    fn request_sent(&mut self, summary: &[String]) {
        eprintln!("bidkit: 请在手机上确认 / confirm on the phone:");
        for line in summary {
            eprintln!("bidkit:   {line}");
        }
    }
}

impl bidkit_app::bid::BidObserver for Screen {
    fn step(&mut self, _step: bidkit_app::bid::BidStep, detail: &str) {
        eprintln!("bidkit: {detail}");
    }

    /// About one line per tenth of the payload (and the last chunk), not per chunk.
    fn progress(&mut self, p: &bidkit_bidfile::Progress) {
        let show = match p.chunks_total {
            Some(total) if total > 0 => {
                let tenth = |chunks: u64| chunks.saturating_mul(10) / total;
                p.chunks_done >= total
                    || tenth(p.chunks_done) != tenth(p.chunks_done.saturating_sub(1))
            }
            _ => p.chunks_done % 64 == 1,
        };
        if !show {
            return;
        }
        match p.bytes_total {
            Some(total) if total > 0 => eprintln!(
                "bidkit:   {} / {total} bytes ({}%)",
                p.bytes_done,
                p.bytes_done.saturating_mul(100) / total
            ),
            _ => eprintln!("bidkit:   {} bytes", p.bytes_done),
        }
    }
}
