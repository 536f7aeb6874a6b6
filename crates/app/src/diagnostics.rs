//! The diagnostics export (修复工具 → 上传日志 in the seeds): one `.tar.gz` a user can hand
//! to support, holding the technical facts needed to look into a problem and **no
//! personal data**.
//!
//! What goes in (under `bidkit-diagnostics/`):
//!
//! * `summary.json`: Bidkit's version, the OS and architecture, the settings (the relay's
//!   host only, never its path or query), per emulated phone (labelled `phone-1`,
//!   `phone-2` …, not by name) whether it is enrolled and how many certificates, seals
//!   and organisations it has, whether pdfium was found, and the history's entries as
//!   kind, time, success and error code (no summaries, no file names);
//! * `logs/…`: the newest log files of `<home>/logs/`, each passed through [`Redactor`].
//!
//! The [`Redactor`] replaces, in this order: every personal value the home's keystore
//! knows (names, ID numbers, phone numbers, organisation names, unified social credit
//! codes, certificate subjects and serials, device ids), paths under the Bidkit home
//! (`<bidkit-home>/…`, phone directories as `phones/<phone>`), whole paths under the
//! user's home directory (`<user-path>`), distinguished-name values (`CN=<name>`), and by
//! shape: 18-character ID numbers (`<id-number>`), unified social credit codes
//! (`<uscc>`), mainland mobile numbers (`<phone>`), long hex strings such as serials
//! (`<hex>`), long digit runs (`<number>`), e-mail addresses (`<email>`) and any run of
//! CJK characters (`<cjk>`: names and organisations the keystore does not know).
//!
//! The archive is written to a temporary file beside the destination and renamed into
//! place, so the destination is either the whole export or untouched.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bidkit_keystore::{Home, KeystoreConfig};
use serde::Serialize;

use crate::AppError;
use crate::history::{self, HistoryEntry};
use crate::settings::Settings;

/// The log directory's name inside the Bidkit home.
pub const LOG_DIR: &str = "logs";

/// The directory the desktop app writes its rotating log files to.
pub fn log_dir(home: &Path) -> PathBuf {
    home.join(LOG_DIR)
}

/// The log files of `home`, newest first (by modification time, then name).
pub fn log_files(home: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(log_dir(home)) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "log"))
        .map(|p| {
            let t = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (t, p)
        })
        .collect();
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    files.into_iter().map(|(_, p)| p).collect()
}

/// How much of the logs an export takes.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The newest log files to include.
    pub max_log_files: usize,
    /// The most bytes taken from one log file (its end: the newest lines).
    pub max_log_bytes: u64,
    /// The most history entries listed (newest first).
    pub max_history: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            max_log_files: 5,
            max_log_bytes: 4 * 1024 * 1024,
            max_history: 1000,
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    /// The archive written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The archive's members, in order.
    pub members: Vec<String>,
    /// Personal values replaced in the logs.
    pub redactions: usize,
}

/// `summary.json` of the export.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Bidkit's version.
    pub version: String,
    /// `linux`, `windows`, `macos` …
    pub os: String,
    /// `x86_64`, `aarch64` …
    pub arch: String,
    /// When the export was made (RFC 3339, UTC).
    pub generated_at: String,
    /// The settings, without personal data.
    pub settings: SettingsSummary,
    /// The emulated phones, by label.
    pub phones: Vec<PhoneSummary>,
    /// Whether pdfium could be loaded, and why not (redacted).
    pub pdfium: PdfiumSummary,
    /// History entries, newest first, without summaries or files.
    pub history: Vec<HistorySummary>,
    /// The log files included (their names in the archive).
    pub logs: Vec<String>,
    /// Problems met while collecting (redacted); the export still completes.
    pub problems: Vec<String>,
}

/// The settings as exported.
#[derive(Clone, Debug, Serialize)]
pub struct SettingsSummary {
    /// `embedded`, or `server`.
    pub relay: String,
    /// The relay server's host (and port), when one is set.
    pub relay_host: Option<String>,
    /// `gm` or `nist`.
    pub suite: String,
    /// `zh-CN` or `en`.
    pub language: String,
    /// Whether `settings.json` could not be read.
    pub unreadable: bool,
}

/// One emulated phone as exported: counts only.
#[derive(Clone, Debug, Serialize)]
pub struct PhoneSummary {
    /// `phone-1`, `phone-2` … in name order.
    pub label: String,
    /// Whether an account is enrolled.
    pub enrolled: bool,
    /// Certificates installed.
    pub certificates: usize,
    /// Certificates whose PIN is locked.
    pub locked_certificates: usize,
    /// Seals the account sees.
    pub seals: usize,
    /// Organisations the account belongs to.
    pub organisations: usize,
    /// Why the phone could not be read (redacted), if it could not.
    pub error: Option<String>,
}

/// pdfium's state.
#[derive(Clone, Debug, Serialize)]
pub struct PdfiumSummary {
    /// Whether it was found and bound.
    pub found: bool,
    /// Why not (redacted).
    pub error: Option<String>,
}

/// One history entry as exported.
#[derive(Clone, Debug, Serialize)]
pub struct HistorySummary {
    /// When it ended.
    pub at: String,
    /// Its kind (`seal`, `encrypt` …).
    pub kind: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// The error code, when it failed.
    pub error: Option<String>,
}

/// Writes the diagnostics export of `home` to `out` (a `.tar.gz`; temp file + rename).
pub fn export(home: &Path, out: &Path, opts: &ExportOptions) -> Result<ExportReport, AppError> {
    let redactor = Redactor::for_home(home);
    let mut problems = Vec::new();

    let settings = match Settings::load(home) {
        Ok(s) => settings_summary(&s, false),
        Err(e) => {
            problems.push(redactor.redact(&e.to_string()).0);
            settings_summary(&Settings::default(), true)
        }
    };
    let history = match history::recent(home, opts.max_history) {
        Ok(entries) => entries.iter().map(history_summary).collect(),
        Err(e) => {
            problems.push(redactor.redact(&e.to_string()).0);
            Vec::new()
        }
    };
    let pdfium = match bidkit_pdf::pdfium::pdfium() {
        Ok(_) => PdfiumSummary {
            found: true,
            error: None,
        },
        Err(e) => PdfiumSummary {
            found: false,
            error: Some(redactor.redact(&e.to_string()).0),
        },
    };

    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut redactions = 0;
    let mut logs = Vec::new();
    for file in log_files(home).into_iter().take(opts.max_log_files) {
        let Some(name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let (text, n) = match read_tail(&file, opts.max_log_bytes) {
            Ok(text) => redactor.redact(&text),
            Err(e) => {
                problems.push(redactor.redact(&format!("{name}: {e}")).0);
                continue;
            }
        };
        redactions += n;
        // A log file's name is ours (`bidkit.DATE.log`), but pass it through too.
        let name = safe_member_name(&redactor.redact(&name).0);
        logs.push(format!("logs/{name}"));
        members.push((format!("logs/{name}"), text.into_bytes()));
    }

    let summary = Summary {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        generated_at: rfc3339_now(),
        settings,
        phones: phone_summaries(home, &redactor),
        pdfium,
        history,
        logs,
        problems,
    };
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| AppError::InvalidOption {
        option: "diagnostics summary",
        reason: e.to_string(),
    })?;
    members.insert(0, ("summary.json".to_owned(), json));

    let bytes = archive(&members).map_err(|source| AppError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    crate::qr::write_atomically(out, &bytes)?;
    tracing::info!(
        size = bytes.len(),
        members = members.len(),
        redactions,
        "diagnostics exported"
    );
    Ok(ExportReport {
        path: out.to_path_buf(),
        size: bytes.len() as u64,
        members: members
            .iter()
            .map(|(n, _)| format!("{ARCHIVE_ROOT}/{n}"))
            .collect(),
        redactions,
    })
}

/// The top directory inside the archive.
pub const ARCHIVE_ROOT: &str = "bidkit-diagnostics";

fn archive(members: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("{ARCHIVE_ROOT}/{name}"),
            data.as_slice(),
        )?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

fn safe_member_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn rfc3339_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The last `max` bytes of `path` as text (cut at a line start when cut at all).
fn read_tail(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let start = len.saturating_sub(max);
    f.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    f.take(max).read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if start > 0
        && let Some(i) = text.find('\n')
    {
        text.drain(..=i);
    }
    Ok(text)
}

fn settings_summary(s: &Settings, unreadable: bool) -> SettingsSummary {
    SettingsSummary {
        relay: if s.relay.is_some() {
            "server"
        } else {
            "embedded"
        }
        .to_owned(),
        relay_host: s.relay_host(),
        suite: s.suite.as_str().to_owned(),
        language: s.language.clone(),
        unreadable,
    }
}

fn history_summary(e: &HistoryEntry) -> HistorySummary {
    HistorySummary {
        at: e.at.clone(),
        kind: safe_member_name(&e.kind),
        ok: e.ok,
        error: e.error.as_deref().map(safe_member_name),
    }
}

fn phone_summaries(home: &Path, redactor: &Redactor) -> Vec<PhoneSummary> {
    let keystore = Home::new(home, KeystoreConfig::default());
    let names = keystore.phone_names().unwrap_or_default();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut s = PhoneSummary {
                label: format!("phone-{}", i + 1),
                enrolled: false,
                certificates: 0,
                locked_certificates: 0,
                seals: 0,
                organisations: 0,
                error: None,
            };
            let status = keystore
                .existing_phone(name)
                .and_then(|p| Ok((p.status()?, p)));
            match status {
                Ok((status, phone)) => {
                    s.enrolled = status.account.is_some();
                    s.certificates = status.certificates.len();
                    s.locked_certificates =
                        status.certificates.iter().filter(|c| c.pin.locked).count();
                    s.organisations = status.memberships.len();
                    if s.enrolled {
                        s.seals = phone.seals().map(|v| v.len()).unwrap_or(0);
                    }
                }
                Err(e) => s.error = Some(redactor.redact(&e.to_string()).0),
            }
            s
        })
        .collect()
}

/// Replaces personal data in text with placeholders (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Known personal values and their placeholders, longest first.
    known: Vec<(String, &'static str)>,
    /// The Bidkit home, as text (and its canonical form).
    bidkit_homes: Vec<String>,
    /// The user's home directory, as text.
    user_homes: Vec<String>,
    /// The phones' directory names.
    phone_names: Vec<String>,
}

impl Redactor {
    /// A redactor that knows the personal values in `home`'s keystore (every phone's
    /// account, organisations and certificates), the Bidkit home and the user's home.
    pub fn for_home(home: &Path) -> Redactor {
        let mut r = Redactor::default();
        let mut homes = vec![home.display().to_string()];
        if let Ok(c) = home.canonicalize() {
            homes.push(c.display().to_string());
        }
        r.bidkit_homes = homes
            .into_iter()
            .filter(|h| h.len() > 1)
            .map(|h| h.trim_end_matches('/').to_owned())
            .collect();
        r.bidkit_homes.sort_by_key(|h| std::cmp::Reverse(h.len()));
        r.bidkit_homes.dedup();
        if let Some(user) = dirs::home_dir() {
            let user = user.display().to_string().trim_end_matches('/').to_owned();
            if user.len() > 1 {
                r.user_homes.push(user);
            }
        }
        let keystore = Home::new(home, KeystoreConfig::default());
        let names = keystore.phone_names().unwrap_or_default();
        for name in &names {
            let Ok(phone) = keystore.existing_phone(name) else {
                continue;
            };
            r.add("<device>", phone.device_id());
            let Ok(status) = phone.status() else {
                continue;
            };
            if let Some(a) = &status.account {
                r.add("<name>", &a.name);
                r.add("<id-number>", &a.id_number);
                r.add("<phone>", &a.phone_number);
            }
            for m in &status.memberships {
                r.add("<organisation>", &m.organisation.name);
                r.add("<uscc>", &m.organisation.uscc);
            }
            for c in &status.certificates {
                let info = &c.certificate;
                r.add("<subject>", &info.subject);
                r.add("<name>", &info.holder);
                r.add("<serial>", &info.signing_serial);
                r.add("<serial>", &info.encryption_serial);
                r.add("<serial>", &c.installed_signing_serial);
                r.add("<serial>", &c.installed_encryption_serial);
                r.add("<device>", &info.device_id);
                if let Some(o) = &info.organisation {
                    r.add("<organisation>", &o.name);
                    r.add("<uscc>", &o.uscc);
                }
            }
            if let Ok(seals) = phone.seals() {
                for s in &seals {
                    r.add("<seal>", &s.seal.name);
                }
            }
        }
        r.phone_names = names;
        r
    }

    /// Adds a personal value to replace with `placeholder` (values under 2 characters
    /// are ignored: they would match everywhere).
    pub fn add(&mut self, placeholder: &'static str, value: &str) {
        let value = value.trim();
        if value.chars().count() < 2 || self.known.iter().any(|(v, _)| v == value) {
            return;
        }
        self.known.push((value.to_owned(), placeholder));
        self.known.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    }

    /// `text` with personal data replaced, and how many replacements were made.
    pub fn redact(&self, text: &str) -> (String, usize) {
        let mut count = 0;
        let mut s = text.to_owned();
        for (value, placeholder) in &self.known {
            let n = s.matches(value.as_str()).count();
            if n > 0 {
                count += n;
                s = s.replace(value.as_str(), placeholder);
            }
        }
        for h in &self.bidkit_homes {
            let n = s.matches(h.as_str()).count();
            if n > 0 {
                count += n;
                s = s.replace(h.as_str(), "<bidkit-home>");
            }
        }
        for name in &self.phone_names {
            for sep in ['/', '\\'] {
                let needle = format!("phones{sep}{name}");
                let n = s.matches(needle.as_str()).count();
                if n > 0 {
                    count += n;
                    s = s.replace(&needle, &format!("phones{sep}<phone>"));
                }
            }
        }
        for h in &self.user_homes {
            let (t, n) = replace_paths(&s, h, "<user-path>");
            s = t;
            count += n;
        }
        let (t, n) = redact_emails(&s);
        count += n;
        let (t, n) = redact_dn_values(&t);
        count += n;
        let (t, n) = redact_shapes(&t);
        (t, count + n)
    }
}

/// Whether `c` ends a path token in a log line.
fn ends_path(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | ')' | ']' | '}' | '>' | '`')
}

/// Replaces every whole path starting with `prefix` (followed by a separator or its end).
fn replace_paths(s: &str, prefix: &str, placeholder: &str) -> (String, usize) {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut n = 0;
    while let Some(i) = rest.find(prefix) {
        let after = &rest[i + prefix.len()..];
        let boundary = after
            .chars()
            .next()
            .is_none_or(|c| c == '/' || c == '\\' || ends_path(c));
        out.push_str(&rest[..i]);
        if boundary {
            let end = after.find(ends_path).unwrap_or(after.len());
            out.push_str(placeholder);
            rest = &after[end..];
            n += 1;
        } else {
            out.push_str(prefix);
            rest = after;
        }
    }
    out.push_str(rest);
    (out, n)
}

/// `CN=张三, O=…` → `CN=<dn>, O=<dn>`: the values of distinguished-name attributes.
fn redact_dn_values(s: &str) -> (String, usize) {
    const KEYS: &[&str] = &[
        "CN=",
        "O=",
        "OU=",
        "L=",
        "ST=",
        "E=",
        "SERIALNUMBER=",
        "serialNumber=",
        "2.5.4.5=",
        "UID=",
        "emailAddress=",
    ];
    let mut out = String::with_capacity(s.len());
    let mut n = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    'outer: while i < s.len() {
        let prev_ok = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        if prev_ok {
            for k in KEYS {
                if s[i..].starts_with(k) {
                    let v = &s[i + k.len()..];
                    let end = v
                        .find(|c: char| {
                            c.is_whitespace() || matches!(c, ',' | ';' | '"' | ')' | '+' | '/')
                        })
                        .unwrap_or(v.len());
                    out.push_str(k);
                    if end > 0 {
                        out.push_str("<dn>");
                        n += 1;
                    }
                    i += k.len() + end;
                    continue 'outer;
                }
            }
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        out.push(c);
        i += c.len_utf8();
    }
    (out, n)
}

/// `someone.x@example.com` → `<email>`.
fn redact_emails(s: &str) -> (String, usize) {
    let local = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let domain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-');
    let mut out = String::with_capacity(s.len());
    let mut n = 0;
    let mut rest = s;
    while let Some(at) = rest.find('@') {
        let before = &rest[..at];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| local(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let after = &rest[at + 1..];
        let end = after.find(|c: char| !domain(c)).unwrap_or(after.len());
        let host = after[..end].trim_end_matches('.');
        if start < at && host.contains('.') && !host.starts_with('.') {
            out.push_str(&rest[..start]);
            out.push_str("<email>");
            n += 1;
            rest = &after[host.len()..];
        } else {
            out.push_str(&rest[..=at]);
            rest = after;
        }
    }
    out.push_str(rest);
    (out, n)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3005..=0x3007 | 0x3021..=0x3029 | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// Personal data recognised by its shape, in runs of ASCII letters and digits and in
/// runs of CJK characters.
fn redact_shapes(s: &str) -> (String, usize) {
    let mut out = String::with_capacity(s.len());
    let mut n = 0;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_cjk(c) {
            let mut j = i;
            while j < chars.len() && is_cjk(chars[j]) {
                j += 1;
            }
            out.push_str("<cjk>");
            n += 1;
            i = j;
            continue;
        }
        if c.is_ascii_alphanumeric() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_alphanumeric() {
                j += 1;
            }
            let run: String = chars[i..j].iter().collect();
            match classify(&run) {
                Some(placeholder) => {
                    out.push_str(placeholder);
                    n += 1;
                }
                None => out.push_str(&run),
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, n)
}

/// The placeholder for a run of ASCII letters and digits that looks personal.
fn classify(run: &str) -> Option<&'static str> {
    let b = run.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        return Some("<id-number>");
    }
    if b.len() == 18
        && digits >= 2
        && b.iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return Some("<uscc>");
    }
    if digits == b.len() && b.len() == 11 && b[0] == b'1' {
        return Some("<phone>");
    }
    if digits == b.len() && b.len() >= 13 {
        return Some("<number>");
    }
    let hex = run.strip_prefix("0x").unwrap_or(run);
    if hex.len() >= 16 && digits > 0 && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Some("<hex>");
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use bidkit_crypto::Suite;
    use bidkit_keystore::PersonDetails;

    use super::*;

    const NAME: &str = "李四";
    const ID: &str = "11010519491231002X";
    const MOBILE: &str = "13912345678";
    const ORG: &str = "北京测试建设有限公司";
    const USCC: &str = "91110000600037341L";

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn shapes_are_redacted() {
        let r = Redactor::default();
        let (t, n) = r.redact(&format!(
            "id={ID} tel {MOBILE}, org {USCC} serial=0a1b2c3d4e5f60718293 CN={NAME},O=某公司 \
             mail a.b@example.com 张三 ok 2026-12-04T03:00:00Z version 0.1.0 took 12ms"
        ));
        for v in [
            ID,
            MOBILE,
            USCC,
            "0a1b2c3d4e5f60718293",
            NAME,
            "张三",
            "a.b@example.com",
        ] {
            assert!(!t.contains(v), "{v} in {t}");
        }
        assert!(
            t.contains("<id-number>") && t.contains("<phone>") && t.contains("<uscc>"),
            "{t}"
        );
        assert!(
            t.contains("2026-12-04T03:00:00Z") && t.contains("0.1.0") && t.contains("12ms"),
            "{t}"
        );
        assert!(t.contains("mail <email> "), "{t}");
        assert!(t.contains("CN=<dn>,O=<dn> "), "{t}");
        assert!(n >= 7, "{n}: {t}");
    }

    #[test]
    fn paths_under_the_user_home_are_replaced_whole() {
        let (t, n) = replace_paths(
            "wrote /home/wang/bids/x.pdf and /home/wangwu/y, \"/home/wang\"",
            "/home/wang",
            "<user-path>",
        );
        assert_eq!(t, "wrote <user-path> and /home/wangwu/y, \"<user-path>\"");
        assert_eq!(n, 2);
    }

    #[test]
    fn export_leaves_out_every_planted_personal_value() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let keystore = Home::new(&home, KeystoreConfig::insecure_fast_kdf_for_tests());
        let phone = keystore.phone("wang-phone").unwrap();
        phone
            .enrol(
                &PersonDetails {
                    name: NAME.into(),
                    id_number: ID.into(),
                    phone_number: MOBILE.into(),
                },
                "246810",
                Suite::Gm,
            )
            .unwrap();
        let certs = phone.certificates().unwrap();
        assert!(!certs.is_empty());
        let serial = certs[0].certificate.signing_serial.clone();
        let subject = certs[0].certificate.subject.clone();
        let device = phone.device_id().to_owned();

        Settings {
            relay: Some("http://relay.example.net:8700/secret/path?token=abc".into()),
            suite: Suite::Nist,
            language: "en".into(),
        }
        .save(&home)
        .unwrap();
        let mut bad = HistoryEntry::now(
            "seal",
            format!("{NAME} sealed {ORG} bid"),
            vec![format!("{}/bids/{NAME}.pdf", home.display())],
            false,
        );
        bad.error = Some("wrong-pin".into());
        history::append(&home, &bad).unwrap();
        history::append(&home, &HistoryEntry::now("login", NAME, vec![], true)).unwrap();

        let logs = log_dir(&home);
        std::fs::create_dir_all(&logs).unwrap();
        let user_home = dirs::home_dir().unwrap().display().to_string();
        std::fs::write(
            logs.join("bidkit.2026-12-04.log"),
            format!(
                "2026-12-04T03:00:00Z INFO login done person={NAME} id={ID} phone={MOBILE}\n\
                 2026-12-04T03:00:01Z INFO seal org=\"{ORG}\" uscc={USCC} serial={serial} subject=\"{subject}\"\n\
                 2026-12-04T03:00:02Z WARN wrote {user_home}/投标/secret-bid.pdf device={device}\n\
                 2026-12-04T03:00:03Z INFO opened {}/phones/wang-phone/phone.db\n",
                home.display()
            ),
        )
        .unwrap();

        let out = dir.path().join("out").join("diag.tar.gz");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let report = export(&home, &out, &ExportOptions::default()).unwrap();
        assert_eq!(report.path, out);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(bytes.len() as u64, report.size);
        assert!(report.redactions >= 8, "{report:?}");
        let plain = gunzip(&bytes);
        let planted = [
            NAME,
            ID,
            MOBILE,
            ORG,
            USCC,
            serial.as_str(),
            subject.as_str(),
            device.as_str(),
            "secret-bid",
            "投标",
            "wang-phone",
            "secret/path",
            "token=abc",
            &home.display().to_string(),
            &user_home,
        ];
        for v in planted {
            let v = v.as_bytes();
            for (what, hay) in [("gzip", &bytes), ("tar", &plain)] {
                assert!(
                    !hay.windows(v.len()).any(|w| w == v),
                    "{} found in the {what} bytes",
                    String::from_utf8_lossy(v)
                );
            }
        }

        // A valid archive with the summary and the log.
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut names = Vec::new();
        let mut summary = None;
        let mut log = String::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            if name.ends_with("summary.json") {
                let mut s = String::new();
                entry.read_to_string(&mut s).unwrap();
                summary = Some(serde_json::from_str::<serde_json::Value>(&s).unwrap());
            } else if name.ends_with(".log") {
                entry.read_to_string(&mut log).unwrap();
            }
            names.push(name);
        }
        assert_eq!(names, report.members);
        let summary = summary.unwrap();
        assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(summary["os"], std::env::consts::OS);
        assert_eq!(summary["settings"]["relay"], "server");
        assert_eq!(summary["settings"]["relay_host"], "relay.example.net:8700");
        assert_eq!(summary["settings"]["suite"], "nist");
        assert_eq!(summary["phones"][0]["label"], "phone-1");
        assert_eq!(summary["phones"][0]["enrolled"], true);
        assert!(summary["phones"][0]["certificates"].as_u64().unwrap() >= 1);
        assert_eq!(summary["history"][0]["kind"], "login");
        assert_eq!(summary["history"][1]["ok"], false);
        assert_eq!(summary["history"][1]["error"], "wrong-pin");
        assert!(summary["history"][0].get("summary").is_none());
        assert!(summary["pdfium"]["found"].is_boolean());
        assert!(
            log.contains("<name>") && log.contains("<id-number>"),
            "{log}"
        );
        assert!(
            log.contains("<user-path>") && log.contains("<bidkit-home>/phones/<phone>/phone.db"),
            "{log}"
        );
        assert!(log.contains("login done"), "{log}");
    }

    #[test]
    fn export_of_an_empty_home_still_works_and_does_not_clobber_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("d.tar.gz");
        let r = export(dir.path(), &out, &ExportOptions::default()).unwrap();
        assert_eq!(r.members.len(), 1);
        let missing = dir.path().join("no-such-dir").join("d.tar.gz");
        assert!(export(dir.path(), &missing, &ExportOptions::default()).is_err());
        assert!(!missing.exists());
    }
}
