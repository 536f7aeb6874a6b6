//! Difference analysis: what one revision changes relative to the revision before it,
//! and whether each change belongs to a signature operation.
//!
//! # The rules
//!
//! A revision may only do what a Bidkit sealing operation (or any ordinary signing
//! tool) does; each object its cross-reference section declares is classified:
//!
//! * **New objects** are allowed when they belong to a signature operation of this
//!   revision: a signature field newly listed in the AcroForm's `/Fields` (`/FT /Sig`,
//!   a `/V` that is a new signature dictionary), that signature dictionary, the field's
//!   widgets (the field itself and/or its `/Kids`), and every new object reachable from
//!   those widgets' `/AP` and `/MK` (appearance form XObjects, image XObjects and their
//!   `/SMask`, resources) — never following `/P` or `/Parent`. New objects reachable
//!   from the AcroForm's `/DR` are allowed too. A new AcroForm, a new `/Fields` array or
//!   a new `/Annots` array is judged by the rules below as if it were redefined. Any
//!   other new object is disallowed.
//! * **Redefined objects** are allowed when they are byte-for-byte the same value, or:
//!   - a page whose keys are all unchanged except `/Annots`, which only grew (the old
//!     entries kept, in order) by widgets of this revision's new signature fields;
//!   - a page's indirect `/Annots` array that only grew that way;
//!   - the catalog, when only `/AcroForm` changed (and the new AcroForm obeys the next
//!     rule);
//!   - the AcroForm, when `/Fields` only grew by this revision's new signature fields and
//!     nothing but `/SigFlags`, `/DA` and `/DR` changed otherwise;
//!   - the AcroForm's indirect `/Fields` array, when it only grew that way.
//!
//!   Anything else is disallowed, with what changed ("page 3 content stream replaced",
//!   "object 12 0 R redefined: /Contents changed").
//! * **Deleted objects** (freed entries for objects that existed) are disallowed.
//! * **The trailer**: a different `/Root`, or an `/Encrypt` that was not there, is
//!   disallowed.
//!
//! Cross-reference streams and object streams are structure, not content, and are not
//! listed; the objects inside object streams are judged one by one.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Object, ObjectId};

use super::objects::{
    MAX_WALK, acroform_at, array_of, as_dict, catalog_at, dict_differences, generation_before,
    get_at, has_name, id_str, name_of, references_in, same_object, text_string,
};
use super::report::{ChangeClass, ChangeKind, ObjectChange, RevisionChanges};
use super::signature::widgets_of;
use crate::PageInfo;
use crate::PdfFile;
use crate::file::XrefEntry;

/// Keys never followed when collecting the objects of a signature's appearance.
const BACK_LINKS: [&[u8]; 4] = [b"P", b"Parent", b"Kids", b"V"];

/// What is known about the document just before and at the revision analysed.
struct Ctx<'a> {
    file: &'a PdfFile,
    s: usize,
    prev: usize,
    /// Page id → 1-based page number, as of `prev`.
    pages_prev: HashMap<ObjectId, usize>,
    /// Content stream id → 1-based page number, as of `prev`.
    contents_prev: HashMap<ObjectId, usize>,
    /// Indirect `/Annots` array id → page id, as of `prev`.
    annots_prev: HashMap<ObjectId, ObjectId>,
    /// Page id → its `/Annots` entries, as of `prev`.
    page_annots_prev: HashMap<ObjectId, Vec<Object>>,
    /// Indirect `/Annots` array id → page id, as of `s`.
    annots_new: HashMap<ObjectId, ObjectId>,
    /// Page id → 1-based page number, as of `s`.
    pages_new: HashMap<ObjectId, usize>,
    root_prev: Option<ObjectId>,
    root_new: Option<ObjectId>,
    acroform_prev: Option<(Option<ObjectId>, Dictionary)>,
    acroform_new: Option<(Option<ObjectId>, Dictionary)>,
    fields_array_prev: Option<ObjectId>,
    fields_array_new: Option<ObjectId>,
    /// Signature fields this revision adds (validated).
    new_fields: HashSet<ObjectId>,
    /// Their widgets.
    new_widgets: HashSet<ObjectId>,
    /// New objects that belong to a signature operation: object number → what it is.
    allowed_new: HashMap<u32, String>,
}

/// The changes revision `s` (≥ 1) makes to revision `s - 1`. `pages` holds the pages of
/// every revision (`None` where they could not be read).
pub(crate) fn analyse(
    file: &PdfFile,
    s: usize,
    pages: &[Option<Vec<PageInfo>>],
) -> RevisionChanges {
    let mut changes = Vec::new();
    let Some(prev) = s.checked_sub(1) else {
        return RevisionChanges {
            revision: s,
            changes,
        };
    };
    let ctx = Ctx::new(file, s, prev, pages);
    trailer_changes(&ctx, &mut changes);
    let Some(revision) = file.revisions().get(s) else {
        return RevisionChanges {
            revision: s,
            changes,
        };
    };
    for (&num, entry) in &revision.entries {
        if num == 0 {
            continue;
        }
        if let Some(change) = ctx.classify(num, entry) {
            changes.push(change);
        }
    }
    RevisionChanges {
        revision: s,
        changes,
    }
}

fn trailer_changes(ctx: &Ctx<'_>, changes: &mut Vec<ObjectChange>) {
    if ctx.root_prev != ctx.root_new {
        changes.push(ObjectChange {
            object: "trailer".into(),
            kind: ChangeKind::Trailer,
            class: ChangeClass::Disallowed,
            description: format!(
                "the trailer's /Root changed from {} to {}",
                ctx.root_prev
                    .map(id_str)
                    .unwrap_or_else(|| "nothing".into()),
                ctx.root_new.map(id_str).unwrap_or_else(|| "nothing".into())
            ),
        });
    }
    let revisions = ctx.file.revisions();
    let encrypted_now = revisions
        .get(ctx.s)
        .is_some_and(|r| r.trailer.has(b"Encrypt"));
    let encrypted_before = revisions
        .get(..ctx.s)
        .is_some_and(|rs| rs.iter().any(|r| r.trailer.has(b"Encrypt")));
    if encrypted_now && !encrypted_before {
        changes.push(ObjectChange {
            object: "trailer".into(),
            kind: ChangeKind::Trailer,
            class: ChangeClass::Disallowed,
            description: "the trailer adds /Encrypt".into(),
        });
    }
}

impl<'a> Ctx<'a> {
    fn new(file: &'a PdfFile, s: usize, prev: usize, pages: &[Option<Vec<PageInfo>>]) -> Self {
        let empty = Vec::new();
        let pp = pages.get(prev).and_then(Option::as_ref).unwrap_or(&empty);
        let pn = pages.get(s).and_then(Option::as_ref).unwrap_or(&empty);
        let mut pages_prev = HashMap::new();
        let mut contents_prev = HashMap::new();
        let mut annots_prev = HashMap::new();
        let mut page_annots_prev = HashMap::new();
        for p in pp {
            pages_prev.insert(p.id, p.index + 1);
            let mut refs = Vec::new();
            if let Ok(c) = p.dict.get(b"Contents") {
                match c {
                    Object::Reference(id) => {
                        refs.push(*id);
                        // An indirect array of content streams.
                        if let Some(Object::Array(a)) = get_at(file, prev, *id) {
                            references_in(&Object::Array(a), &[], &mut refs);
                        }
                    }
                    other => references_in(other, &[], &mut refs),
                }
            }
            for id in refs {
                contents_prev.insert(id, p.index + 1);
            }
            if let Ok(a) = p.dict.get(b"Annots") {
                if let Object::Reference(id) = a {
                    annots_prev.insert(*id, p.id);
                }
                page_annots_prev.insert(p.id, array_of(file, prev, a).unwrap_or_default());
            }
        }
        let mut pages_new = HashMap::new();
        let mut annots_new = HashMap::new();
        for p in pn {
            pages_new.insert(p.id, p.index + 1);
            if let Ok(Object::Reference(id)) = p.dict.get(b"Annots") {
                annots_new.insert(*id, p.id);
            }
        }
        let cat_prev = catalog_at(file, prev);
        let cat_new = catalog_at(file, s);
        let acroform_prev = cat_prev
            .as_ref()
            .and_then(|(_, c)| acroform_at(file, prev, c));
        let acroform_new = cat_new.as_ref().and_then(|(_, c)| acroform_at(file, s, c));
        let fields_ref = |a: &Option<(Option<ObjectId>, Dictionary)>| match a
            .as_ref()
            .and_then(|(_, d)| d.get(b"Fields").ok())
        {
            Some(Object::Reference(id)) => Some(*id),
            _ => None,
        };
        let mut ctx = Ctx {
            file,
            s,
            prev,
            pages_prev,
            contents_prev,
            annots_prev,
            page_annots_prev,
            annots_new,
            pages_new,
            root_prev: cat_prev.as_ref().map(|(id, _)| *id),
            root_new: cat_new.as_ref().map(|(id, _)| *id),
            fields_array_prev: fields_ref(&acroform_prev),
            fields_array_new: fields_ref(&acroform_new),
            acroform_prev,
            acroform_new,
            new_fields: HashSet::new(),
            new_widgets: HashSet::new(),
            allowed_new: HashMap::new(),
        };
        ctx.find_signature_operations();
        ctx
    }

    fn existed(&self, id: ObjectId) -> bool {
        get_at(self.file, self.prev, id).is_some()
    }

    fn fields(&self, rev: usize, acroform: Option<&(Option<ObjectId>, Dictionary)>) -> Vec<Object> {
        acroform
            .and_then(|(_, d)| d.get(b"Fields").ok())
            .and_then(|f| array_of(self.file, rev, f))
            .unwrap_or_default()
    }

    /// The signature fields this revision adds to `/Fields`, their signature
    /// dictionaries, widgets and appearance objects.
    fn find_signature_operations(&mut self) {
        let old: Vec<Object> = self.fields(self.prev, self.acroform_prev.as_ref());
        let new: Vec<Object> = self.fields(self.s, self.acroform_new.as_ref());
        for f in new.iter().take(MAX_WALK) {
            let Object::Reference(id) = f else { continue };
            if old.iter().any(|o| o == f) || self.existed(*id) {
                continue;
            }
            let Some(field) = get_at(self.file, self.s, *id).and_then(|o| as_dict(&o).cloned())
            else {
                continue;
            };
            if !has_name(&field, b"FT", b"Sig") {
                continue;
            }
            let Ok(Object::Reference(sig_id)) = field.get(b"V") else {
                continue;
            };
            if self.existed(*sig_id) {
                continue;
            }
            let Some(sig) = get_at(self.file, self.s, *sig_id).and_then(|o| as_dict(&o).cloned())
            else {
                continue;
            };
            let is_sig = sig.has(b"ByteRange")
                || has_name(&sig, b"Type", b"Sig")
                || has_name(&sig, b"Type", b"DocTimeStamp");
            if !is_sig {
                continue;
            }
            let name = field
                .get(b"T")
                .ok()
                .and_then(text_string)
                .unwrap_or_else(|| id_str(*id));
            self.new_fields.insert(*id);
            self.allowed_new
                .insert(id.0, format!("signature field {name:?}"));
            self.allowed_new
                .insert(sig_id.0, format!("signature dictionary of {name:?}"));
            for (wid, widget) in widgets_of(self.file, self.s, *id, &field) {
                if wid != *id {
                    if self.existed(wid) {
                        continue;
                    }
                    self.allowed_new
                        .insert(wid.0, format!("widget (stamp) of {name:?}"));
                }
                self.new_widgets.insert(wid);
                self.allow_reachable(&Object::Dictionary(widget), &format!("{name:?}"));
            }
        }
        // Default resources of the AcroForm.
        if let Some(dr) = self
            .acroform_new
            .as_ref()
            .and_then(|(_, d)| d.get(b"DR").ok())
            .cloned()
        {
            self.allow_reachable(&Object::Array(vec![dr]), "the AcroForm's default resources");
        }
    }

    /// Allow every new object reachable from `root` (not following back links, not
    /// entering objects that existed before).
    fn allow_reachable(&mut self, root: &Object, owner: &str) {
        let mut pending = Vec::new();
        references_in(root, &BACK_LINKS, &mut pending);
        let mut visited: HashSet<ObjectId> = HashSet::new();
        while let Some(id) = pending.pop() {
            if visited.len() >= MAX_WALK || !visited.insert(id) {
                continue;
            }
            if self.existed(id) || self.allowed_new.contains_key(&id.0) {
                continue;
            }
            let Some(obj) = get_at(self.file, self.s, id) else {
                continue;
            };
            let what = match as_dict(&obj) {
                Some(d) if has_name(d, b"Subtype", b"Image") => "image XObject",
                Some(d) if has_name(d, b"Subtype", b"Form") => "appearance form XObject",
                _ => "appearance resource",
            };
            self.allowed_new.insert(id.0, format!("{what} of {owner}"));
            references_in(&obj, &BACK_LINKS, &mut pending);
        }
    }

    fn classify(&self, num: u32, entry: &XrefEntry) -> Option<ObjectChange> {
        let old_gen = generation_before(self.file, self.s, num);
        let old = old_gen.and_then(|g| get_at(self.file, self.prev, (num, g)));
        let generation = match entry {
            XrefEntry::Free => {
                let (g, _) = old_gen.zip(old.as_ref())?;
                return Some(change(
                    (num, g),
                    ChangeKind::Deleted,
                    Err(format!("{} deleted", self.describe((num, g)))),
                ));
            }
            XrefEntry::InFile { generation, .. } => *generation,
            XrefEntry::InStream { .. } => 0,
        };
        let id = (num, generation);
        let new = match self.file.object_at(self.s, id) {
            Ok(Some(o)) => o,
            Ok(None) => {
                return Some(change(
                    id,
                    if old.is_some() {
                        ChangeKind::Redefined
                    } else {
                        ChangeKind::Added
                    },
                    Err("declared by this revision but cannot be read".into()),
                ));
            }
            Err(e) => {
                return Some(change(
                    id,
                    ChangeKind::Added,
                    Err(format!("declared by this revision but cannot be read: {e}")),
                ));
            }
        };
        if let Object::Stream(st) = &new
            && (has_name(&st.dict, b"Type", b"XRef") || has_name(&st.dict, b"Type", b"ObjStm"))
        {
            return None;
        }
        Some(match old {
            None => {
                if old_gen.is_some_and(|g| g != generation) {
                    change(
                        id,
                        ChangeKind::Redefined,
                        Err(format!(
                            "object {num} redefined with a new generation number {generation}"
                        )),
                    )
                } else {
                    change(id, ChangeKind::Added, self.judge_new(id, &new))
                }
            }
            Some(old) => change(
                id,
                ChangeKind::Redefined,
                self.judge_redefined(id, &old, &new),
            ),
        })
    }

    fn judge_new(&self, id: ObjectId, new: &Object) -> Result<String, String> {
        if let Some(what) = self.allowed_new.get(&id.0) {
            return Ok(what.clone());
        }
        if let Some(page) = self.annots_new.get(&id) {
            let n = self.pages_new.get(page).copied().unwrap_or(0);
            let old = self.page_annots_prev.get(page).cloned().unwrap_or_default();
            let new_arr = match new {
                Object::Array(a) => a.clone(),
                _ => return Err(format!("the /Annots of page {n} is not an array")),
            };
            let problems = self.annots_rule(&old, &new_arr);
            return verdict(
                format!("annotations of page {n} (only new signature widgets added)"),
                format!("annotations of page {n}"),
                problems,
            );
        }
        if self.acroform_new.as_ref().and_then(|(i, _)| *i) == Some(id) {
            let problems = match as_dict(new) {
                Some(d) => self.acroform_rule(self.acroform_prev.as_ref().map(|(_, d)| d), d),
                None => vec!["not a dictionary".into()],
            };
            return verdict(
                "the AcroForm (created for the signature)".into(),
                "the AcroForm".into(),
                problems,
            );
        }
        if self.fields_array_new == Some(id) {
            let old = self.fields(self.prev, self.acroform_prev.as_ref());
            let problems = match new {
                Object::Array(a) => self.fields_rule(&old, a),
                _ => vec!["not an array".into()],
            };
            return verdict(
                "the AcroForm's /Fields (only new signature fields added)".into(),
                "the AcroForm's /Fields".into(),
                problems,
            );
        }
        Err(format!(
            "new {} that is not part of a signature operation",
            kind_of(new)
        ))
    }

    fn judge_redefined(&self, id: ObjectId, old: &Object, new: &Object) -> Result<String, String> {
        if same_object(old, new) {
            return Ok("written again unchanged".into());
        }
        if let Some(&n) = self.pages_prev.get(&id) {
            let (Some(o), Some(d)) = (as_dict(old), as_dict(new)) else {
                return Err(format!(
                    "page {n} replaced by something that is not a dictionary"
                ));
            };
            return verdict(
                format!("page {n}: only signature widgets added to /Annots"),
                format!("page {n}"),
                self.page_rule(id, o, d),
            );
        }
        if let Some(page) = self.annots_prev.get(&id) {
            let n = self.pages_prev.get(page).copied().unwrap_or(0);
            let (Object::Array(o), Object::Array(a)) = (old, new) else {
                return Err(format!("the /Annots of page {n} is no longer an array"));
            };
            return verdict(
                format!("annotations of page {n} (only new signature widgets added)"),
                format!("annotations of page {n}"),
                self.annots_rule(o, a),
            );
        }
        if self.root_prev == Some(id) {
            let (Some(o), Some(d)) = (as_dict(old), as_dict(new)) else {
                return Err("the catalog is no longer a dictionary".into());
            };
            return verdict(
                "the catalog (only /AcroForm changed)".into(),
                "the catalog".into(),
                self.catalog_rule(o, d),
            );
        }
        if self.acroform_prev.as_ref().and_then(|(i, _)| *i) == Some(id) {
            let (Some(o), Some(d)) = (as_dict(old), as_dict(new)) else {
                return Err("the AcroForm is no longer a dictionary".into());
            };
            return verdict(
                "the AcroForm (only new signature fields added)".into(),
                "the AcroForm".into(),
                self.acroform_rule(Some(o), d),
            );
        }
        if self.fields_array_prev == Some(id) {
            let (Object::Array(o), Object::Array(a)) = (old, new) else {
                return Err("the AcroForm's /Fields is no longer an array".into());
            };
            return verdict(
                "the AcroForm's /Fields (only new signature fields added)".into(),
                "the AcroForm's /Fields".into(),
                self.fields_rule(o, a),
            );
        }
        if let Some(n) = self.contents_prev.get(&id) {
            return Err(format!("page {n} content stream replaced"));
        }
        let what = match (as_dict(old), as_dict(new)) {
            (Some(o), Some(d)) => {
                let mut diffs = dict_differences(o, d, &[]);
                if let (Object::Stream(a), Object::Stream(b)) = (old, new)
                    && a.content != b.content
                {
                    diffs.push("stream data changed".into());
                }
                if diffs.is_empty() {
                    diffs.push("value changed".into());
                }
                diffs.join(", ")
            }
            _ => "value changed".into(),
        };
        Err(format!("{} redefined: {what}", self.describe(id)))
    }

    /// `object 12 0 R` with its type when it has one (`(/Type /Sig)`).
    fn describe(&self, id: ObjectId) -> String {
        let old = get_at(self.file, self.prev, id);
        let ty = old
            .as_ref()
            .and_then(as_dict)
            .and_then(|d| d.get(b"Type").ok())
            .and_then(name_of);
        match ty {
            Some(t) => format!("object {} (/Type /{t})", id_str(id)),
            None => format!("object {}", id_str(id)),
        }
    }

    fn page_rule(&self, id: ObjectId, old: &Dictionary, new: &Dictionary) -> Vec<String> {
        let mut problems: Vec<String> = dict_differences(old, new, &[b"Annots"])
            .into_iter()
            .map(|d| {
                if d == "/Contents changed" {
                    "content stream replaced (/Contents changed)".to_owned()
                } else {
                    d
                }
            })
            .collect();
        let old_annots = self.page_annots_prev.get(&id).cloned().unwrap_or_default();
        let new_annots = match new.get(b"Annots") {
            Ok(a) => match array_of(self.file, self.s, a) {
                Some(arr) => arr,
                None => {
                    problems.push("/Annots is not an array".into());
                    Vec::new()
                }
            },
            Err(_) => Vec::new(),
        };
        problems.extend(self.annots_rule(&old_annots, &new_annots));
        problems
    }

    fn annots_rule(&self, old: &[Object], new: &[Object]) -> Vec<String> {
        grew_only_by(
            old,
            new,
            &self.new_widgets,
            "annotation",
            "a widget of a new signature",
        )
    }

    fn fields_rule(&self, old: &[Object], new: &[Object]) -> Vec<String> {
        grew_only_by(old, new, &self.new_fields, "field", "a new signature field")
    }

    fn catalog_rule(&self, old: &Dictionary, new: &Dictionary) -> Vec<String> {
        let mut problems = dict_differences(old, new, &[b"AcroForm"]);
        let (o, n) = (old.get(b"AcroForm").ok(), new.get(b"AcroForm").ok());
        let unchanged = match (o, n) {
            (Some(a), Some(b)) => same_object(a, b),
            (None, None) => true,
            _ => false,
        };
        if !unchanged {
            match &self.acroform_new {
                None => problems.push("/AcroForm removed or unreadable".into()),
                Some((new_id, new_form)) => {
                    // An indirect AcroForm is judged as an object of its own.
                    let judged_elsewhere = new_id.is_some_and(|i| {
                        self.file
                            .revisions()
                            .get(self.s)
                            .is_some_and(|r| r.entries.contains_key(&i.0))
                    });
                    if !judged_elsewhere {
                        problems.extend(
                            self.acroform_rule(
                                self.acroform_prev.as_ref().map(|(_, d)| d),
                                new_form,
                            )
                            .into_iter()
                            .map(|p| format!("AcroForm: {p}")),
                        );
                    }
                }
            }
        }
        problems
    }

    fn acroform_rule(&self, old: Option<&Dictionary>, new: &Dictionary) -> Vec<String> {
        let empty = Dictionary::new();
        let old = old.unwrap_or(&empty);
        let mut problems = dict_differences(old, new, &[b"Fields", b"SigFlags", b"DA", b"DR"]);
        let (o, n) = (old.get(b"Fields").ok(), new.get(b"Fields").ok());
        let unchanged = match (o, n) {
            (Some(a), Some(b)) => same_object(a, b),
            (None, None) => true,
            _ => false,
        };
        let fields_judged_elsewhere = matches!(n, Some(Object::Reference(i))
            if self.file.revisions().get(self.s).is_some_and(|r| r.entries.contains_key(&i.0)));
        if !unchanged && !fields_judged_elsewhere {
            let old_fields = o
                .and_then(|f| array_of(self.file, self.prev, f))
                .unwrap_or_default();
            let new_fields = n
                .and_then(|f| array_of(self.file, self.s, f))
                .unwrap_or_default();
            problems.extend(self.fields_rule(&old_fields, &new_fields));
        }
        problems
    }
}

/// `old` must be a subsequence of `new`, and every added entry a reference in `allowed`.
fn grew_only_by(
    old: &[Object],
    new: &[Object],
    allowed: &HashSet<ObjectId>,
    what: &str,
    allowed_what: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut j = 0usize;
    for item in new {
        if old.get(j).is_some_and(|o| same_object(o, item)) {
            j += 1;
            continue;
        }
        match item {
            Object::Reference(id) if allowed.contains(id) => {}
            Object::Reference(id) => {
                problems.push(format!("{what} {} added, not {allowed_what}", id_str(*id)));
            }
            _ => problems.push(format!("a direct {what} added, not {allowed_what}")),
        }
    }
    if j < old.len() {
        let missing: Vec<String> = old
            .get(j..)
            .unwrap_or_default()
            .iter()
            .map(|o| match o {
                Object::Reference(id) => id_str(*id),
                _ => "a direct entry".into(),
            })
            .collect();
        problems.push(format!(
            "{what}(s) removed or reordered: {}",
            missing.join(", ")
        ));
    }
    problems
}

fn verdict(allowed: String, subject: String, problems: Vec<String>) -> Result<String, String> {
    if problems.is_empty() {
        Ok(allowed)
    } else {
        Err(format!("{subject}: {}", problems.join(", ")))
    }
}

fn change(id: ObjectId, kind: ChangeKind, judged: Result<String, String>) -> ObjectChange {
    let (class, description) = match judged {
        Ok(d) => (ChangeClass::Allowed, d),
        Err(d) => (ChangeClass::Disallowed, d),
    };
    ObjectChange {
        object: id_str(id),
        kind,
        class,
        description,
    }
}

fn kind_of(obj: &Object) -> String {
    match obj {
        Object::Stream(s) => match s.dict.get(b"Subtype").ok().and_then(name_of) {
            Some(t) => format!("stream (/Subtype /{t})"),
            None => "stream".into(),
        },
        Object::Dictionary(d) => match d.get(b"Type").ok().and_then(name_of) {
            Some(t) => format!("dictionary (/Type /{t})"),
            None => "dictionary".into(),
        },
        Object::Array(_) => "array".into(),
        _ => "object".into(),
    }
}
