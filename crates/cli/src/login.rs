//! `bidkit login`: log in by scan. Shows the rotating QR code (a PNG rewritten
//! atomically at every step, an SVG, and/or the terminal), waits for the phone, shows
//! the verification code, and prints the verified identity.

use std::fmt::Write as _;
use std::time::Duration;

use bidkit_app::login::{LoginIdentity, LoginOptions};

use crate::context::{Context, block_on};
use crate::output::Output;
use crate::screen::{RelayArgs, Screen, ScreenArgs};

/// Arguments of `bidkit login`.
#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
    /// Who asks, as the phone shows it.
    #[arg(long, value_name = "TEXT")]
    requester: Option<String>,
}

/// Run `bidkit login`.
pub fn run(args: LoginArgs, ctx: &Context) -> anyhow::Result<Output> {
    let mut opts = LoginOptions::new(ctx.home(), args.relay.suite);
    opts.timeout = Duration::from_secs(args.relay.timeout);
    if let Some(r) = &args.requester {
        opts.requester = r.clone();
    }
    opts.relay = args.relay.relay_choice()?;
    opts.trust = args.relay.trust_roots()?;
    opts.qr_policy = args.relay.qr_policy();
    let mut screen = Screen::new(&args.screen, "登录 / log in");
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
