//! Text for people: certificates, grants, seals, records and members, plus the
//! encodings signatures are printed in.

use std::fmt::Write as _;

use bidkit_keystore::{Grant, InstalledCertificate, Membership, Phone, UsageRecord};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) fn fmt(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

pub(super) fn certs_text(phone: &Phone, list: &[InstalledCertificate]) -> String {
    let mut text = format!(
        "手机 / phone {:?} (device {})\n",
        phone.name(),
        phone.device_id()
    );
    if list.is_empty() {
        text.push_str("  没有证书 / no certificates\n");
    }
    for c in list {
        let i = &c.certificate;
        let _ = writeln!(
            text,
            "  #{} {} [{}]{}\n    signing {}  encryption {}\n    valid {} – {}; reissues left {} (used {}); PIN tries {}/{}; {}",
            i.id,
            i.subject,
            i.suite,
            if i.copy_of.is_some() {
                " 副锁 / copy"
            } else {
                ""
            },
            c.installed_signing_serial,
            c.installed_encryption_serial,
            fmt(i.not_before),
            fmt(i.not_after),
            i.reissues_left,
            i.reissues_used,
            c.pin.tries_left,
            c.pin.max_tries,
            c.state
        );
    }
    text
}

pub(super) fn grant_line(g: &Grant) -> String {
    format!(
        "#{} {} → {} ({}), {} – {}, {}",
        g.id,
        g.target_label,
        g.grantee,
        g.organisation.name,
        fmt(g.valid_from),
        fmt(g.valid_until),
        g.state.as_str()
    )
}

pub(super) fn records_text(recs: &[UsageRecord]) -> String {
    let mut text = String::new();
    if recs.is_empty() {
        text.push_str("没有使用记录 / no usage records\n");
    }
    for r in recs {
        let _ = writeln!(
            text,
            "{:>4} {} {} {} ({}) cert {} {}platform {} → {}{}",
            r.seq,
            fmt(r.at),
            r.user_name,
            r.operation.label_zh(),
            r.operation,
            r.cert_serial.as_deref().unwrap_or("-"),
            r.seal_id.map(|s| format!("seal #{s} ")).unwrap_or_default(),
            r.platform,
            r.result,
            if r.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.detail)
            }
        );
    }
    text
}

pub(super) fn members_text(members: &[Membership]) -> String {
    let mut text = String::new();
    for m in members {
        let _ = writeln!(
            text,
            "  {} ({}) — {} {} ({}), {}",
            m.organisation.name,
            m.organisation.uscc,
            m.name,
            m.role.label_zh(),
            m.role,
            m.status.as_str()
        );
    }
    text
}

pub(super) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding (RFC 4648 §4).
pub(super) fn to_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(to_base64(plain.as_bytes()), encoded);
        }
        assert_eq!(to_hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
