//! What a command prints: text for people, JSON for scripts.

use serde::Serialize;

/// The result of a command: the same facts as text and as JSON.
#[derive(Debug)]
pub struct Output {
    /// Human-readable lines (Chinese labels with English where useful).
    pub text: String,
    /// Machine-readable value printed with `--json`.
    pub json: serde_json::Value,
    /// Exit status after printing (0 unless the command reports a failed check, as
    /// `bidkit verify` does).
    pub exit: u8,
}

impl Output {
    /// An output from a serialisable value and its text rendering.
    pub fn new(text: impl Into<String>, value: &impl Serialize) -> anyhow::Result<Self> {
        Ok(Output {
            text: text.into(),
            json: serde_json::to_value(value)?,
            exit: 0,
        })
    }

    /// The same output, ending the process with `exit`.
    pub fn with_exit(mut self, exit: u8) -> Self {
        self.exit = exit;
        self
    }

    /// Print to stdout, as JSON or text. A closed stdout (a reader that went away) is
    /// not worth a panic: the command's work is done.
    pub fn print(&self, json: bool) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = if json {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&self.json).unwrap_or_else(|_| "null".into())
            )
        } else if !self.text.is_empty() {
            writeln!(out, "{}", self.text.trim_end())
        } else {
            Ok(())
        };
    }
}

/// Print an error to stderr (and a JSON error object to stdout with `--json`).
pub fn print_error(err: &anyhow::Error, json: bool) {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    if json {
        let value = serde_json::json!({ "error": { "code": error_code(err), "message": chain.join(": ") } });
        println!("{value}");
    }
    eprintln!("bidkit: error: {}", chain.join(": "));
}

/// A stable machine code for an error, for scripts and the app.
pub fn error_code(err: &anyhow::Error) -> &'static str {
    if let Some(e) = err.downcast_ref::<bidkit_keystore::KeystoreError>() {
        return e.code();
    }
    if let Some(e) = err.downcast_ref::<bidkit_app::AppError>() {
        return e.code();
    }
    if let Some(e) = err.downcast_ref::<bidkit_protocol::ProtocolError>() {
        return e.code();
    }
    if let Some(e) = err.downcast_ref::<bidkit_pdf::PdfError>() {
        return e.code();
    }
    "error"
}

/// Process exit status for an error: 2 when an input file could not be read as what it
/// should be (a PDF that is missing, malformed, hostile or encrypted), else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let pdf = err.downcast_ref::<bidkit_pdf::PdfError>().or_else(|| {
        match err.downcast_ref::<bidkit_app::AppError>() {
            Some(bidkit_app::AppError::Pdf(e)) => Some(e),
            _ => None,
        }
    });
    match pdf.map(|e| e.root()) {
        Some(
            bidkit_pdf::PdfError::Io { .. }
            | bidkit_pdf::PdfError::Malformed { .. }
            | bidkit_pdf::PdfError::BadObject { .. }
            | bidkit_pdf::PdfError::LimitExceeded { .. }
            | bidkit_pdf::PdfError::Encrypted,
        ) => 2,
        _ => 1,
    }
}
