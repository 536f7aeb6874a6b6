//! `bidkit phone scan`: the emulated phone's camera and screen. Reads the QR code (a
//! PNG, a text file or the text), joins the session, shows the verification code and
//! the request, approves or refuses, and prints what it did.

use std::io::{BufRead as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use bidkit_app::scan::{
    Decision, ExpectCode, ScanObserver, ScanOptions, ScanOutcome, ScanReport, ScanUnlock,
};
use bidkit_keystore::CertSelector;
use bidkit_protocol::Purpose;
use zeroize::Zeroizing;

use super::PhoneOpts;
use super::commands::home;
use crate::context::{Context, block_on};
use crate::output::Output;

/// What `bidkit phone scan` was asked to do.
pub(super) struct ScanArgs {
    pub(super) qr: String,
    pub(super) cert: Option<String>,
    pub(super) pin: Option<String>,
    pub(super) approve: bool,
    pub(super) refuse: bool,
    pub(super) expect_code: Option<String>,
    pub(super) seal: Option<i64>,
    pub(super) wait: u64,
}

pub(super) fn scan(ctx: &Context, opts: &PhoneOpts, args: ScanArgs) -> anyhow::Result<Output> {
    let qr_text = bidkit_app::qr::read_scan_input(&args.qr)?;
    let phone = Arc::new(home(ctx, opts).existing_phone(&opts.phone)?);
    let mut scan = ScanOptions::new(
        qr_text,
        match args.pin {
            Some(pin) => ScanUnlock::Pin(Zeroizing::new(pin)),
            None => ScanUnlock::None,
        },
    );
    scan.cert = args.cert.as_deref().map(CertSelector::parse);
    scan.decision = if args.refuse {
        Decision::Refuse
    } else if args.approve {
        Decision::Approve
    } else {
        Decision::Scripted
    };
    scan.expect_code = match args.expect_code.as_deref() {
        None => ExpectCode::None,
        Some("-") => ExpectCode::Ask,
        Some(code) => ExpectCode::Code(code.to_owned()),
    };
    scan.seal = args.seal;
    scan.platform = Some(opts.platform.clone());
    scan.wait = Duration::from_secs(args.wait.clamp(1, 3600));
    let report = block_on(bidkit_app::scan::scan(phone, scan, &mut PhoneScreen))??;
    Output::new(report_text(&report), &report)
}

fn report_text(r: &ScanReport) -> String {
    let head = match r.outcome {
        ScanOutcome::Approved => "已确认 / approved",
        ScanOutcome::Refused => "已拒绝 / refused",
        ScanOutcome::NoAnswer => "未应答 / no answer",
    };
    let mut text = format!(
        "{head}: {} ({} session, verification code {})\n",
        r.detail, r.purpose, r.verification_code
    );
    if let Some(m) = &r.tool_message {
        text.push_str(&format!("  工具 / tool: {m}\n"));
    }
    text
}

/// The phone's screen, on stderr.
struct PhoneScreen;

impl ScanObserver for PhoneScreen {
    fn joined(&mut self, purpose: Purpose, relay: &str, code: &str) {
        eprintln!(
            "bidkit phone: 已扫码 / scanned a {purpose} code (relay {relay}). 验证码 / verification code: {code}"
        );
    }

    fn request(&mut self, summary: &[String]) {
        eprintln!("bidkit phone: 请求 / request:");
        for line in summary {
            eprintln!("bidkit phone:   {line}");
        }
    }

    fn code_on_tool_screen(&mut self) -> Option<String> {
        eprint!("bidkit phone: type the verification code shown by the tool: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(n) if n > 0 => Some(line.trim().to_owned()),
            // No answer on stdin: compare with nothing, i.e. refuse.
            _ => Some(String::new()),
        }
    }
}
