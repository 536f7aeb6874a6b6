//! What a section file really is, judged by its content, and whether that matches what its
//! name claims.

use std::io::Read;
use std::path::Path;

use crate::error::{Result, TenderError};
use crate::package::FileType;

/// Bytes read to recognise binary formats.
const HEAD: usize = 1024;

/// Recognise a file by its content: PDF (`%PDF-` in the first 1024 bytes), JPEG
/// (`FF D8 FF`), PNG (its 8-byte signature), or UTF-8 text without NUL bytes (Markdown
/// when the name ends in `.md` or `.markdown`). Then compare with the name's extension: a
/// `.pdf` that is a PNG, a `.png` that is text, and so on are errors naming the file.
///
/// Text is checked whole (streamed), so a binary file called `.txt` is refused.
pub fn sniff_file(path: &Path) -> Result<FileType> {
    let mut file = std::fs::File::open(path).map_err(|e| TenderError::io(path, "opening", e))?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| TenderError::io(path, "reading", e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let claimed = claimed_type(&ext);
    let found = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileType::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if find(&head, b"%PDF-").is_some() {
        Some(FileType::Pdf)
    } else if head.is_empty() {
        return Err(TenderError::bad_file(path, "the file is empty"));
    } else {
        None
    };
    let found = match found {
        Some(t) => t,
        None => {
            // Text? Check the whole file is UTF-8 without NUL.
            match text_check(path, file, &head)? {
                Ok(()) => {
                    if ext == "md" || ext == "markdown" {
                        FileType::Md
                    } else {
                        FileType::Txt
                    }
                }
                Err(why) => {
                    let claim = match claimed {
                        Some(t) => format!("named as {} but ", t.describe()),
                        None => String::new(),
                    };
                    return Err(TenderError::bad_file(
                        path,
                        format!(
                            "{claim}not a PDF, JPEG, PNG or UTF-8 text file ({why}{}); convert it to PDF first",
                            known_format(&head)
                                .map(|k| format!("; it looks like {k}"))
                                .unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    };
    if let Some(claimed) = claimed
        && !(claimed == found || (claimed.is_text() && found.is_text()))
    {
        return Err(TenderError::bad_file(
            path,
            format!(
                "named as {} (.{ext}) but its content is {}",
                claimed.describe(),
                found.describe()
            ),
        ));
    }
    Ok(found)
}

fn claimed_type(ext: &str) -> Option<FileType> {
    match ext {
        "pdf" => Some(FileType::Pdf),
        "jpg" | "jpeg" | "jpe" => Some(FileType::Jpeg),
        "png" => Some(FileType::Png),
        "txt" | "text" => Some(FileType::Txt),
        "md" | "markdown" => Some(FileType::Md),
        _ => None,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `Ok(Ok(()))` when the whole file is UTF-8 text without NUL bytes, `Ok(Err(why))` when
/// it is not.
fn text_check(
    path: &Path,
    mut rest: std::fs::File,
    head: &[u8],
) -> Result<std::result::Result<(), String>> {
    let mut pending: Vec<u8> = head.to_vec();
    let mut offset = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    let mut eof = false;
    loop {
        if pending.contains(&0) {
            return Ok(Err("it contains NUL bytes".into()));
        }
        match std::str::from_utf8(&pending) {
            Ok(_) => {
                offset += pending.len() as u64;
                pending.clear();
            }
            Err(e) => {
                if e.error_len().is_some() || eof {
                    return Ok(Err(format!(
                        "invalid UTF-8 at byte {}",
                        offset + e.valid_up_to() as u64
                    )));
                }
                // An incomplete character at the end: keep it for the next read.
                let keep = pending.split_off(e.valid_up_to());
                offset += pending.len() as u64;
                pending = keep;
            }
        }
        if eof {
            return Ok(Ok(()));
        }
        let n = rest
            .read(&mut buf)
            .map_err(|e| TenderError::io(path, "reading", e))?;
        if n == 0 {
            eof = true;
        } else {
            pending.extend_from_slice(&buf[..n]);
        }
    }
}

/// Name a few formats people try to submit, from their magic bytes.
fn known_format(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"PK\x03\x04") {
        Some("a ZIP archive (a Word/Excel .docx/.xlsx document?)")
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Some("an old Office document (.doc/.xls)")
    } else if head.starts_with(b"GIF8") {
        Some("a GIF image")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some("a TIFF image")
    } else if head.starts_with(b"Rar!") {
        Some("a RAR archive")
    } else if head.starts_with(&[0x1F, 0x8B]) {
        Some("a gzip archive")
    } else {
        None
    }
}
