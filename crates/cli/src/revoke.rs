//! `bidkit revoke-seal IN.pdf -o OUT.pdf` (撤章): remove the newest sealing operation of
//! a document once the phone approves; earlier seals stay valid. A seal that a later
//! signature covers cannot be removed (revoke the later ones first).

use std::fmt::Write as _;
use std::path::PathBuf;

use bidkit_app::seal::{RevokeOptions, RevokeReport};

use crate::context::{Context, block_on};
use crate::output::Output;
use crate::screen::{RelayArgs, Screen, ScreenArgs};

/// Arguments of `bidkit revoke-seal`.
#[derive(clap::Args, Debug)]
pub struct RevokeArgs {
    /// The sealed PDF (never modified).
    #[arg(value_name = "IN.pdf")]
    input: PathBuf,
    /// The document without its newest seal.
    #[arg(short, long, value_name = "OUT.pdf")]
    output: PathBuf,
    /// The signature field you mean to revoke (it must be the newest), e.g. Bidkit-Seal-2.
    #[arg(long, value_name = "NAME")]
    field: Option<String>,
    /// Why, as the phone shows it and the approval records it.
    #[arg(long, default_value = "盖错位置 / placed by mistake")]
    reason: String,
    #[command(flatten)]
    screen: ScreenArgs,
    #[command(flatten)]
    relay: RelayArgs,
}

/// Run `bidkit revoke-seal`.
pub fn run(args: RevokeArgs, ctx: &Context) -> anyhow::Result<Output> {
    let opts = RevokeOptions {
        sign: args.relay.sign_options(ctx.home())?,
        input: args.input,
        output: args.output,
        field: args.field,
        reason: args.reason,
    };
    let mut screen = Screen::new(&args.screen, "撤章 / revoke a seal");
    let report = block_on(bidkit_app::seal::revoke_seal(&opts, &mut screen))??;
    Output::new(text(&report), &report)
}

fn text(r: &RevokeReport) -> String {
    let mut t = format!(
        "已撤章 / seal {} removed (field {}, revision {}) → {}\n",
        r.seal,
        r.removed.field_name,
        r.removed.revision,
        r.output.display()
    );
    let _ = writeln!(
        t,
        "  approved by certificate {}; {} signature(s) remain",
        r.approved_by,
        r.removed.signatures.saturating_sub(1)
    );
    let _ = writeln!(t, "  验证码 / verification code: {}", r.verification_code);
    t
}
