//! Revoking a seal (撤章): removing the last sealing operation of a document.
//!
//! Each sealing operation is one incremental update, so removing the last one is
//! returning the document to the bytes it had before that update — exactly, with every
//! earlier signature untouched. Only the newest operation can go: an earlier seal is
//! covered by the later signatures (their byte ranges include it), so removing it would
//! break them; [`revoke_last`] refuses and names the signatures in the way.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use lopdf::{Object, ObjectId};
use serde::Serialize;

use crate::{Limits, PdfError, PdfFile, Result, XrefEntry};

/// The newest sealing operation of a document.
#[derive(Clone, Debug, Serialize)]
pub struct LastOperation {
    /// The revision it added (0-based).
    pub revision: usize,
    /// Its signature field's name.
    pub field_name: String,
    /// Bytes of the document before it (the revoked document's length).
    pub keep_bytes: u64,
    /// Signature fields the document has in all (including this one).
    pub signatures: usize,
}

/// What revoking produced.
#[derive(Clone, Debug, Serialize)]
pub struct RevokeOutcome {
    /// The operation removed.
    pub removed: LastOperation,
    /// The document without it.
    pub output: PathBuf,
}

/// Find the newest sealing operation: the newest revision must add exactly one
/// signature (a signature dictionary and its field) and nothing else may follow it.
/// `field` (when given) must name that operation's field.
pub fn last_operation(file: &PdfFile, field: Option<&str>) -> Result<LastOperation> {
    let revisions = file.revisions();
    let fields = signature_fields(file)?;
    let Some(newest) = revisions.last() else {
        return Err(PdfError::malformed(None, "the document has no revisions"));
    };
    if revisions.len() < 2 || fields.is_empty() {
        return Err(PdfError::NotAllowed(
            "the document has no seal to revoke".into(),
        ));
    }
    let added: Vec<&(String, ObjectId)> = fields
        .iter()
        .filter(|(_, sig)| {
            newest.entries.contains_key(&sig.0) && defined_only_in_newest(file, sig.0)
        })
        .collect();
    let (name, _) = match added.as_slice() {
        [one] => *one,
        [] => {
            return Err(PdfError::NotAllowed(
                "the newest revision of the document is not a sealing operation (it adds no signature); it cannot be revoked as a seal".into(),
            ));
        }
        _ => {
            return Err(PdfError::NotAllowed(
                "the newest revision adds more than one signature; revoke is for one sealing operation".into(),
            ));
        }
    };
    if let Some(wanted) = field
        && wanted != name
    {
        let later: Vec<&str> = fields
            .iter()
            .map(|(n, _)| n.as_str())
            .skip_while(|n| *n != wanted)
            .skip(1)
            .collect();
        return Err(if fields.iter().any(|(n, _)| n == wanted) {
            PdfError::NotAllowed(format!(
                "seal {wanted:?} is covered by later signatures ({}); only the newest seal ({name:?}) can be revoked — revoke those first",
                later.join(", ")
            ))
        } else {
            PdfError::InvalidOption {
                option: "field",
                reason: format!("the document has no signature field {wanted:?}"),
            }
        });
    }
    let previous = revisions
        .get(revisions.len() - 2)
        .ok_or_else(|| PdfError::malformed(None, "no previous revision"))?;
    Ok(LastOperation {
        revision: newest.index,
        field_name: name.clone(),
        keep_bytes: previous.end,
        signatures: fields.len(),
    })
}

/// Write `input` without its newest sealing operation to `output` (a temporary file
/// renamed into place; the input is never modified).
pub fn revoke_last(
    input: &Path,
    output: &Path,
    field: Option<&str>,
    limits: Limits,
) -> Result<RevokeOutcome> {
    let run = || -> Result<RevokeOutcome> {
        if input.canonicalize().ok() == output.canonicalize().ok() && output.exists() {
            return Err(PdfError::InvalidOption {
                option: "output",
                reason: "the output must be a different file from the input".into(),
            });
        }
        let file = PdfFile::open(input, limits)?;
        let removed = last_operation(&file, field)?;
        let dir = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = crate::update::output_temp_file(dir).map_err(|e| {
            PdfError::io(format!("creating a temporary file in {}", dir.display()), e)
        })?;
        file.copy_range(0, removed.keep_bytes, tmp.as_file_mut())?;
        tmp.as_file_mut()
            .flush()
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| PdfError::io("writing the revoked document", e))?;
        tmp.persist(output)
            .map_err(|e| PdfError::io(format!("renaming into {}", output.display()), e.error))?;
        Ok(RevokeOutcome {
            removed,
            output: output.to_path_buf(),
        })
    };
    run().map_err(|e| e.in_file(input))
}

fn defined_only_in_newest(file: &PdfFile, id: u32) -> bool {
    let revisions = file.revisions();
    revisions
        .iter()
        .take(revisions.len().saturating_sub(1))
        .all(|r| {
            !matches!(
                r.entries.get(&id),
                Some(XrefEntry::InFile { .. } | XrefEntry::InStream { .. })
            )
        })
}

/// Every signature field in `/AcroForm /Fields` (walking `/Kids`), with the object id of
/// its signature dictionary, in field order.
pub fn signature_fields(file: &PdfFile) -> Result<Vec<(String, ObjectId)>> {
    let (_, catalog) = file.catalog()?;
    let Ok(form) = catalog.get(b"AcroForm") else {
        return Ok(Vec::new());
    };
    let form = file.resolve(form)?;
    let Some(fields) = form.as_dict().ok().and_then(|d| d.get(b"Fields").ok()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut stack: Vec<(Object, String, usize)> = file
        .resolve(fields)?
        .as_array()
        .map(|a| {
            a.iter()
                .rev()
                .map(|o| (o.clone(), String::new(), 0))
                .collect()
        })
        .unwrap_or_default();
    let mut visited = 0usize;
    while let Some((field, prefix, depth)) = stack.pop() {
        visited += 1;
        if depth > file.limits().max_depth || visited > 100_000 {
            return Err(PdfError::LimitExceeded {
                what: "form field tree",
                limit: 100_000,
            });
        }
        let Ok(Object::Dictionary(dict)) = file.resolve(&field) else {
            continue;
        };
        let part = dict
            .get(b"T")
            .ok()
            .and_then(|t| lopdf::decode_text_string(t).ok());
        let name = match (prefix.is_empty(), part) {
            (true, Some(p)) => p,
            (false, Some(p)) => format!("{prefix}.{p}"),
            (_, None) => prefix.clone(),
        };
        let is_sig = matches!(dict.get(b"FT"), Ok(Object::Name(n)) if n == b"Sig");
        if is_sig && let Ok(Object::Reference(sig)) = dict.get(b"V") {
            out.push((name.clone(), *sig));
        }
        if let Ok(kids) = dict.get(b"Kids")
            && let Ok(Object::Array(kids)) = file.resolve(kids)
        {
            for kid in kids.iter().rev() {
                stack.push((kid.clone(), name.clone(), depth + 1));
            }
        }
    }
    Ok(out)
}
