//! The objects that draw one sealing operation's stamps, added to an incremental
//! update: one image XObject (with its `/SMask`) however many stamps use it, one
//! appearance form per distinct stamp shape, one signature field whose widget
//! annotations are the stamps (ISO 32000-1 §12.5.6.19, §12.7.4.5), the pages' `/Annots`,
//! and the AcroForm. Page contents are never touched, so the only changes a verifier
//! sees after an earlier signature are those a signature is allowed to make.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Object, ObjectId, Stream, dictionary};

use crate::picture::SealPicture;
use crate::placement::PlacedStamp;
use crate::{IncrementalUpdate, PageSet, PdfError, PdfFile, Result};

/// Annotation flag "Print" (ISO 32000-1 §12.5.3): stamps print with the page.
const FLAG_PRINT: i64 = 4;
/// AcroForm `/SigFlags`: SignaturesExist | AppendOnly (§12.7.2).
const SIG_FLAGS: i64 = 3;

/// The signature field of one sealing operation.
pub(crate) struct FieldSpec {
    /// Fully qualified field name (unique in the document).
    pub name: String,
    /// The signature dictionary without `/ByteRange` and `/Contents`.
    pub signature: Dictionary,
    /// Room for the CMS in `/Contents`, bytes.
    pub capacity: usize,
}

/// Add the stamps of one operation, its signature field and placeholder to `update`.
pub(crate) fn add_operation(
    update: &mut IncrementalUpdate<'_>,
    pages: &PageSet,
    picture: &SealPicture,
    stamps: &[PlacedStamp],
    field: FieldSpec,
) -> Result<()> {
    let file = update.file();
    if stamps.is_empty() {
        return Err(PdfError::InvalidOption {
            option: "placement",
            reason: "no stamp to place".into(),
        });
    }
    let image = add_image(update, picture)?;
    let mut forms: BTreeMap<FormKey, ObjectId> = BTreeMap::new();
    let sig_id = update.allocate();
    update.put_signature(sig_id, field.signature, field.capacity);

    let field_id = update.allocate();
    let mut widgets: Vec<(usize, ObjectId)> = Vec::with_capacity(stamps.len());
    let single = stamps.len() == 1;
    for stamp in stamps {
        let page = pages
            .get(stamp.page_index)
            .ok_or_else(|| PdfError::malformed(None, "a stamp names a page that does not exist"))?;
        let form = appearance(update, &mut forms, image, stamp);
        let mut widget = dictionary! {
            "Type" => "Annot",
            "Subtype" => "Widget",
            "F" => FLAG_PRINT,
            "Rect" => rect_object(stamp),
            "P" => page.id,
            "AP" => dictionary! { "N" => form },
        };
        let widget_id = if single {
            widget.set("FT", "Sig");
            widget.set("T", lopdf::text_string(&field.name));
            widget.set("V", sig_id);
            field_id
        } else {
            widget.set("Parent", field_id);
            update.allocate()
        };
        update.put(widget_id, Object::Dictionary(widget));
        widgets.push((stamp.page_index, widget_id));
    }
    if !single {
        let kids = widgets
            .iter()
            .map(|(_, id)| Object::Reference(*id))
            .collect();
        update.put(
            field_id,
            Object::Dictionary(dictionary! {
                "FT" => "Sig",
                "T" => lopdf::text_string(&field.name),
                "V" => sig_id,
                "Kids" => Object::Array(kids),
            }),
        );
    }
    add_to_pages(update, file, pages, &widgets)?;
    add_to_acroform(update, file, field_id)
}

fn add_image(update: &mut IncrementalUpdate<'_>, picture: &SealPicture) -> Result<ObjectId> {
    let (w, h) = (i64::from(picture.width_px), i64::from(picture.height_px));
    let mut dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => w,
        "Height" => h,
        "ColorSpace" => "DeviceRGB",
        "BitsPerComponent" => 8,
        "Filter" => "FlateDecode",
    };
    if picture.has_transparency() {
        let mask_id = update.allocate();
        let mask = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => w,
                "Height" => h,
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 8,
                "Filter" => "FlateDecode",
            },
            picture.alpha_deflated()?,
        );
        update.put(mask_id, Object::Stream(mask));
        dict.set("SMask", mask_id);
    }
    let id = update.allocate();
    update.put(
        id,
        Object::Stream(Stream::new(dict, picture.rgb_deflated()?)),
    );
    Ok(id)
}

/// What makes two stamps' appearances the same: size in thousandths of a unit, slice
/// and rotation.
type FormKey = (i64, i64, u32, u32, i32);

/// The appearance form for a stamp's shape, shared by stamps of the same shape.
fn appearance(
    update: &mut IncrementalUpdate<'_>,
    forms: &mut BTreeMap<FormKey, ObjectId>,
    image: ObjectId,
    stamp: &PlacedStamp,
) -> ObjectId {
    let (w, h) = displayed_size(stamp);
    let (index, count) = stamp.slice.map_or((0, 1), |s| (s.index, s.count));
    let full_w = w * f64::from(count);
    let thousandths = |v: f64| (v * 1000.0).round() as i64;
    let key = (thousandths(w), thousandths(h), index, count, stamp.rotate);
    if let Some(id) = forms.get(&key) {
        return *id;
    }
    let content = format!(
        "q {} 0 0 {} {} 0 cm /Seal Do Q\n",
        num(full_w),
        num(h),
        num(-f64::from(index) * w)
    );
    let matrix: [i64; 6] = match stamp.rotate {
        90 => [0, 1, -1, 0, 0, 0],
        180 => [-1, 0, 0, -1, 0, 0],
        270 => [0, -1, 1, 0, 0, 0],
        _ => [1, 0, 0, 1, 0, 0],
    };
    let form = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), real(w), real(h)],
            "Matrix" => matrix.iter().map(|&v| Object::Integer(v)).collect::<Vec<_>>(),
            "Resources" => dictionary! { "XObject" => dictionary! { "Seal" => image } },
        },
        content.into_bytes(),
    );
    let id = update.allocate();
    update.put(id, Object::Stream(form));
    forms.insert(key, id);
    id
}

/// The stamp's size as drawn upright on the displayed page, in user-space units.
fn displayed_size(stamp: &PlacedStamp) -> (f64, f64) {
    let r = stamp.rect;
    if stamp.rotate % 180 == 0 {
        (r.width(), r.height())
    } else {
        (r.height(), r.width())
    }
}

fn rect_object(stamp: &PlacedStamp) -> Object {
    let r = stamp.rect;
    Object::Array(vec![real(r.x0), real(r.y0), real(r.x1), real(r.y1)])
}

fn real(v: f64) -> Object {
    Object::Real(v as f32)
}

fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Append the widgets to their pages' `/Annots` (the page, or its indirect array,
/// replaced in the update).
fn add_to_pages(
    update: &mut IncrementalUpdate<'_>,
    file: &PdfFile,
    pages: &PageSet,
    widgets: &[(usize, ObjectId)],
) -> Result<()> {
    let mut by_page: BTreeMap<usize, Vec<ObjectId>> = BTreeMap::new();
    for (page, id) in widgets {
        by_page.entry(*page).or_default().push(*id);
    }
    for (index, ids) in by_page {
        let page = pages
            .get(index)
            .ok_or_else(|| PdfError::malformed(None, "a stamp names a page that does not exist"))?;
        let new_refs = ids.iter().map(|id| Object::Reference(*id));
        match page.dict.get(b"Annots") {
            Ok(Object::Reference(array_id)) => {
                let mut annots = match file.object(*array_id)? {
                    Object::Array(a) => a,
                    _ => {
                        return Err(PdfError::BadObject {
                            id: array_id.0,
                            generation: array_id.1,
                            reason: format!("page {}'s /Annots is not an array", index + 1),
                        });
                    }
                };
                annots.extend(new_refs);
                update.put(*array_id, Object::Array(annots));
            }
            Ok(Object::Array(existing)) => {
                let mut dict = page.dict.clone();
                let mut annots = existing.clone();
                annots.extend(new_refs);
                dict.set("Annots", Object::Array(annots));
                update.put(page.id, Object::Dictionary(dict));
            }
            _ => {
                let mut dict = page.dict.clone();
                dict.set("Annots", Object::Array(new_refs.collect()));
                update.put(page.id, Object::Dictionary(dict));
            }
        }
    }
    Ok(())
}

/// Add the field to the AcroForm's `/Fields` (creating the AcroForm if needed) and set
/// `/SigFlags`.
fn add_to_acroform(
    update: &mut IncrementalUpdate<'_>,
    file: &PdfFile,
    field: ObjectId,
) -> Result<()> {
    let (catalog_id, catalog) = file.catalog()?;
    let add_field =
        |update: &mut IncrementalUpdate<'_>, mut form: Dictionary| -> Result<Dictionary> {
            match form.get(b"Fields") {
                Ok(Object::Reference(fields_id)) => {
                    let fields_id = *fields_id;
                    let mut fields = match file.object(fields_id)? {
                        Object::Array(a) => a,
                        _ => Vec::new(),
                    };
                    fields.push(Object::Reference(field));
                    update.put(fields_id, Object::Array(fields));
                }
                Ok(Object::Array(fields)) => {
                    let mut fields = fields.clone();
                    fields.push(Object::Reference(field));
                    form.set("Fields", Object::Array(fields));
                }
                _ => form.set("Fields", vec![Object::Reference(field)]),
            }
            form.set("SigFlags", SIG_FLAGS);
            Ok(form)
        };
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(form_id)) => {
            let form_id = *form_id;
            let form = match file.object(form_id)? {
                Object::Dictionary(d) => d,
                _ => Dictionary::new(),
            };
            let form = add_field(update, form)?;
            update.put(form_id, Object::Dictionary(form));
        }
        Ok(Object::Dictionary(form)) => {
            let form = add_field(update, form.clone())?;
            let mut catalog = catalog.clone();
            catalog.set("AcroForm", form);
            update.put(catalog_id, Object::Dictionary(catalog));
        }
        _ => {
            let form = add_field(update, Dictionary::new())?;
            let form_id = update.allocate();
            update.put(form_id, Object::Dictionary(form));
            let mut catalog = catalog.clone();
            catalog.set("AcroForm", form_id);
            update.put(catalog_id, Object::Dictionary(catalog));
        }
    }
    Ok(())
}

/// The names of the document's top-level form fields (to pick a fresh one).
pub(crate) fn field_names(file: &PdfFile) -> Result<Vec<String>> {
    let (_, catalog) = file.catalog()?;
    let form = match catalog.get(b"AcroForm") {
        Ok(o) => file.resolve(o)?,
        Err(_) => return Ok(Vec::new()),
    };
    let fields = match form.as_dict().ok().and_then(|d| d.get(b"Fields").ok()) {
        Some(o) => file.resolve(o)?,
        None => return Ok(Vec::new()),
    };
    let mut names = Vec::new();
    for f in fields.as_array().map(|a| a.as_slice()).unwrap_or_default() {
        if let Ok(Object::Dictionary(d)) = file.resolve(f)
            && let Ok(t) = d.get(b"T")
            && let Ok(name) = lopdf::decode_text_string(t)
        {
            names.push(name);
        }
    }
    Ok(names)
}
