//! A streaming PDF writer: object numbers are reserved up front, each object is written as
//! soon as it is complete, and the cross-reference table is written at the end. Memory is
//! the offsets table, whatever the size of the output.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use lopdf::{Dictionary, Object};

use crate::error::{Result, TenderError};

pub(crate) struct PdfWriter {
    out: BufWriter<std::fs::File>,
    pos: u64,
    /// Offset of object n at index n (index 0 unused).
    offsets: Vec<Option<u64>>,
    path: PathBuf,
}

impl PdfWriter {
    /// Start a PDF 1.7 file on `file` (the temporary file); `path` names it in errors.
    pub(crate) fn new(file: std::fs::File, path: &Path) -> Result<PdfWriter> {
        let mut w = PdfWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            pos: 0,
            offsets: vec![None],
            path: path.to_path_buf(),
        };
        w.raw(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| TenderError::io(&self.path, "writing", e))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Reserve an object number.
    pub(crate) fn alloc(&mut self) -> u32 {
        self.offsets.push(None);
        (self.offsets.len() - 1) as u32
    }

    /// Write object `id` (reserved with [`Self::alloc`]).
    pub(crate) fn write(&mut self, id: u32, object: &Object) -> Result<()> {
        let slot = self.offsets.get_mut(id as usize).ok_or_else(|| {
            TenderError::project(
                &self.path,
                format!("internal: object {id} was never reserved"),
            )
        })?;
        *slot = Some(self.pos);
        let mut buf = Vec::new();
        buf.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        if lopdf::Writer::need_separator(object) {
            buf.push(b' ');
        }
        lopdf::Writer::write_object(&mut buf, object).map_err(|e| {
            TenderError::project(&self.path, format!("serialising object {id}: {e}"))
        })?;
        if lopdf::Writer::need_end_separator(object) {
            buf.push(b' ');
        }
        buf.extend_from_slice(b"\nendobj\n");
        self.raw(&buf)
    }

    /// Write the cross-reference table and trailer; returns the file, flushed.
    pub(crate) fn finish(mut self, root: u32, info: u32, id: &[u8]) -> Result<std::fs::File> {
        // Every reserved object must have been written: an unwritten one becomes null.
        let missing: Vec<u32> = self
            .offsets
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, o)| o.is_none())
            .map(|(i, _)| i as u32)
            .collect();
        for n in missing {
            self.write(n, &Object::Null)?;
        }
        let xref_at = self.pos;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len());
        for off in self.offsets.iter().skip(1) {
            table.push_str(&format!("{:010} 00000 n \n", off.unwrap_or(0)));
        }
        self.raw(table.as_bytes())?;
        let mut trailer = Dictionary::new();
        trailer.set("Size", Object::Integer(self.offsets.len() as i64));
        trailer.set("Root", Object::Reference((root, 0)));
        trailer.set("Info", Object::Reference((info, 0)));
        let id = Object::String(id.to_vec(), lopdf::StringFormat::Hexadecimal);
        trailer.set("ID", Object::Array(vec![id.clone(), id]));
        let mut buf = b"trailer\n".to_vec();
        lopdf::Writer::write_object(&mut buf, &Object::Dictionary(trailer)).map_err(|e| {
            TenderError::project(&self.path, format!("serialising the trailer: {e}"))
        })?;
        buf.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        self.raw(&buf)?;
        self.out
            .into_inner()
            .map_err(|e| TenderError::io(&self.path, "writing", e.into_error()))
    }
}
