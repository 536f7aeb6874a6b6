//! `bidkit tender …`: the tender agent's side — make a tender package (the tender
//! document PDF and its machine-readable requirements, `tender.json`, schema
//! `bidkit.tender/1`) and check one. The requirements, their validation and the package
//! layout are `bidkit-tender`'s; this module parses flags and prints.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bidkit_tender::{LoadedTender, SealPlace, Suite, TenderError, TenderPackage};
use clap::Subcommand;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::context::Context;
use crate::output::Output;

/// `bidkit tender …`.
#[derive(Subcommand, Debug)]
pub enum TenderCommand {
    /// Make a tender package (招标文件包): a directory with the tender document PDF and
    /// `tender.json`, the requirements bids must follow. The requirements come from
    /// `--spec` (JSON without the document, which is filled in), else from the built-in
    /// example; the flags override either. `--example FILE` writes a complete sample spec
    /// to edit instead.
    New(Box<NewArgs>),
    /// Validate a tender package and print its requirements. Exit 0: valid; 1: invalid
    /// (every problem named).
    Check(CheckArgs),
}

/// Arguments of `bidkit tender new`.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The package directory to write (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "example")]
    out: Option<PathBuf>,
    /// The tender document (招标文件), a PDF; copied into the package, its SHA-256 recorded.
    #[arg(long, value_name = "TENDER.pdf", required_unless_present = "example")]
    document: Option<PathBuf>,
    /// The requirements as JSON (schema `bidkit.tender/1`, without `document`).
    #[arg(long, value_name = "SPEC.json", conflicts_with = "example")]
    spec: Option<PathBuf>,
    /// Write a complete sample spec to this file (to edit, then pass to `--spec`) and stop.
    #[arg(long, value_name = "SPEC.json", conflicts_with_all = ["out", "document"])]
    example: Option<PathBuf>,
    /// The tender's identifier (招标编号).
    #[arg(long)]
    tender_id: Option<String>,
    /// Project name (项目名称).
    #[arg(long)]
    project_name: Option<String>,
    /// Project number (项目编号).
    #[arg(long)]
    project_number: Option<String>,
    /// The tender agent's organisation name (招标代理机构).
    #[arg(long)]
    agent: Option<String>,
    /// The agent's unified social credit code.
    #[arg(long)]
    agent_uscc: Option<String>,
    /// Bid submission deadline, RFC 3339 (e.g. `2026-12-31T09:30:00+08:00`).
    #[arg(long)]
    deadline: Option<String>,
    /// Opening time, RFC 3339 (default: the deadline).
    #[arg(long)]
    opening: Option<String>,
    /// Algorithm suite bids must use.
    #[arg(long, value_parser = ["gm", "nist"])]
    suite: Option<String>,
    /// Ceiling price (最高投标限价), e.g. `12000000.00`.
    #[arg(long)]
    max_price: Option<String>,
}

/// Arguments of `bidkit tender check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The package directory (or its `tender.json`).
    package: PathBuf,
}

/// Run `bidkit tender …`.
pub fn run(cmd: TenderCommand, _ctx: &Context) -> anyhow::Result<Output> {
    match cmd {
        TenderCommand::New(args) => new(*args),
        TenderCommand::Check(args) => check(&args.package),
    }
}

fn parse_time(flag: &str, s: &str) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        anyhow::anyhow!(
            "--{flag} {s:?} is not an RFC 3339 time such as 2026-12-31T09:30:00+08:00 ({e})"
        )
    })
}

fn new(args: NewArgs) -> anyhow::Result<Output> {
    if let Some(path) = &args.example {
        return example(path);
    }
    let (Some(out), Some(document)) = (&args.out, &args.document) else {
        anyhow::bail!("--out and --document are required");
    };
    let mut package = match &args.spec {
        Some(spec) => {
            let bytes = std::fs::read(spec)
                .with_context(|| format!("cannot read the spec {}", spec.display()))?;
            TenderPackage::from_json(spec, &bytes)?
        }
        None => TenderPackage::new_template(OffsetDateTime::now_utc()),
    };
    apply_flags(&mut package, &args)?;
    let loaded = package.write_package(out, Some(document))?;
    let mut text = format!(
        "Tender package written: {}\n  tender.json SHA-256 {}\n",
        out.display(),
        loaded.sha256
    );
    text.push_str(&requirements_text(&loaded.package));
    Output::new(text, &summary(out, &loaded))
}

fn apply_flags(p: &mut TenderPackage, a: &NewArgs) -> anyhow::Result<()> {
    if let Some(v) = &a.tender_id {
        p.tender_id = v.clone();
    }
    if let Some(v) = &a.project_name {
        p.project.name = v.clone();
    }
    if let Some(v) = &a.project_number {
        p.project.number = v.clone();
    }
    if let Some(v) = &a.agent {
        p.agent.name = v.clone();
    }
    if let Some(v) = &a.agent_uscc {
        p.agent.uscc = Some(v.clone());
    }
    if let Some(v) = &a.deadline {
        p.deadline = parse_time("deadline", v)?;
        if a.opening.is_none() {
            p.opening = p.deadline;
        }
    }
    if let Some(v) = &a.opening {
        p.opening = parse_time("opening", v)?;
    }
    if let Some(v) = &a.suite {
        p.suite = if v == "nist" { Suite::Nist } else { Suite::Gm };
    }
    if let Some(v) = &a.max_price {
        p.quoted_price.max = Some(v.clone());
    }
    Ok(())
}

fn example(path: &Path) -> anyhow::Result<Output> {
    if path.exists() {
        anyhow::bail!(
            "{} already exists; give another file name for the example",
            path.display()
        );
    }
    let package = TenderPackage::new_template(OffsetDateTime::now_utc());
    let mut bytes = serde_json::to_vec_pretty(&package)?;
    bytes.push(b'\n');
    std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let text = format!(
        "Example requirements written to {}: edit them, then run\n  bidkit tender new --spec {} --document TENDER.pdf --out DIR",
        path.display(),
        path.display()
    );
    Output::new(
        text,
        &serde_json::json!({ "example": path, "requirements": package }),
    )
}

fn check(path: &Path) -> anyhow::Result<Output> {
    match TenderPackage::load(path) {
        Ok(loaded) => {
            let dir = if path.is_dir() {
                path
            } else {
                loaded.path.parent().unwrap_or(Path::new("."))
            };
            let mut text = format!(
                "Tender package {}: valid\n  tender.json SHA-256 {}\n",
                path.display(),
                loaded.sha256
            );
            text.push_str(&requirements_text(&loaded.package));
            let mut value = serde_json::to_value(summary(dir, &loaded))?;
            value["valid"] = serde_json::Value::Bool(true);
            Ok(Output::new(text, &value)?)
        }
        Err(TenderError::Io {
            path: p, source, ..
        }) if source.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "{}: not found (a tender package is a directory holding tender.json)",
                p.display()
            )
        }
        Err(e) => {
            let (file, problems) = match e {
                TenderError::Invalid { path, problems } => (path, problems),
                other => (path.to_path_buf(), vec![other.to_string()]),
            };
            let mut text = format!("Tender package {}: INVALID\n", file.display());
            for p in &problems {
                text.push_str(&format!("  - {p}\n"));
            }
            let value = serde_json::json!({
                "valid": false,
                "path": file,
                "problems": problems,
            });
            Ok(Output::new(text, &value)?.with_exit(1))
        }
    }
}

#[derive(serde::Serialize)]
struct Summary<'a> {
    package_dir: &'a Path,
    tender_json: &'a Path,
    sha256: &'a str,
    requirements: &'a TenderPackage,
}

fn summary<'a>(dir: &'a Path, loaded: &'a LoadedTender) -> Summary<'a> {
    Summary {
        package_dir: dir,
        tender_json: &loaded.path,
        sha256: &loaded.sha256,
        requirements: &loaded.package,
    }
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// The requirements, for people: project, dates, sections, seals, price.
pub(crate) fn requirements_text(p: &TenderPackage) -> String {
    let mut s = String::new();
    s.push_str(&format!("  招标编号 tender:   {}\n", p.tender_id));
    s.push_str(&format!(
        "  项目 project:     {} ({})\n",
        p.project.name, p.project.number
    ));
    s.push_str(&format!("  代理 agent:       {}\n", p.agent.name));
    if let Some(d) = &p.document {
        s.push_str(&format!(
            "  招标文件 document: {} (SHA-256 {})\n",
            d.file, d.sha256
        ));
    }
    s.push_str(&format!("  截止 deadline:    {}\n", fmt_time(p.deadline)));
    s.push_str(&format!("  开标 opening:     {}\n", fmt_time(p.opening)));
    s.push_str(&format!("  算法 suite:       {}\n", p.suite.as_str()));
    s.push_str("  sections:\n");
    for sec in &p.sections {
        let size = sec
            .max_size_mb
            .map(|mb| format!(", at most {mb} MiB a file"))
            .unwrap_or_default();
        s.push_str(&format!(
            "    {:<14} {} — {}, accepts {}{size}\n",
            sec.id,
            sec.title,
            if sec.required { "required" } else { "optional" },
            sec.accept.join(", ")
        ));
    }
    if !p.seals.is_empty() {
        s.push_str("  seals:\n");
        for r in &p.seals {
            let at = match &r.at {
                SealPlace::Keyword(k) => format!("at keyword {k:?}"),
                other => other.to_string(),
            };
            s.push_str(&format!(
                "    {:<14} {} {at} — {}{}\n",
                r.id,
                r.kind.label_zh(),
                if r.required { "required" } else { "optional" },
                r.note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ));
        }
    }
    let q = &p.quoted_price;
    s.push_str(&format!(
        "  报价 quoted price: {}{}\n",
        if q.required {
            format!("required, in {}", q.currency)
        } else {
            format!("optional, in {}", q.currency)
        },
        q.max
            .as_deref()
            .map(|m| format!(", ceiling {m}"))
            .unwrap_or_default()
    ));
    s
}
