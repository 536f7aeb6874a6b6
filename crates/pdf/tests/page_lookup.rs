#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Finding one page by `/Count` ([`PdfFile::page`]) gives the page the full walk
//! ([`PdfFile::pages`]) gives at that index, over page trees of every shape: flat,
//! balanced, lopsided, with boxes and rotation inherited from any level. With a wrong
//! `/Count` at the root or at a node below it, the page is the walk's or the one a reader
//! trusting `/Count` (pdf.js, pdfium) shows, never a third.

use bidkit_pdf::{Limits, PdfFile};
use lopdf::{Dictionary, Document, Object, ObjectId, dictionary};
use proptest::prelude::*;

/// How to build a test page tree.
#[derive(Clone, Debug)]
struct TreeSpec {
    /// Pages.
    pages: usize,
    /// Kids per node; at least the page count makes a flat tree.
    fanout: usize,
    /// Per page-tree node and page (in creation order): set a media box / rotation here.
    media: Vec<bool>,
    rotate: Vec<bool>,
    /// Added to the root's `/Count` (0: correct).
    root_count_error: i64,
    /// Added to the `/Count` of one node below the root (which one: the second field,
    /// modulo their number), its ancestors' counts left as they were.
    inner_count_error: (i64, usize),
    /// Wrap a run of one node's kids in a node of their own: which node (modulo their
    /// number, in depth-first order), the run's start and length.
    wrap: Option<(usize, usize, usize)>,
    /// Put an empty `/Pages` node among one node's kids: which node (`None`: the one
    /// whose kids were wrapped), and where among its kids.
    empty: Option<(Option<usize>, usize)>,
}

/// Build the tree bottom-up in groups of `fanout`, as pdfTeX does; returns the root.
fn build(doc: &mut Document, spec: &TreeSpec) -> ObjectId {
    let mut serial = 0usize;
    let mut decorate = |dict: &mut Dictionary| {
        let i = serial;
        serial += 1;
        if spec.media.get(i % spec.media.len().max(1)) == Some(&true) {
            let w = 200 + (i as i64 * 7) % 400;
            dict.set("MediaBox", vec![0.into(), 0.into(), w.into(), 700.into()]);
        }
        if spec.rotate.get(i % spec.rotate.len().max(1)) == Some(&true) {
            dict.set("Rotate", ((i % 4) * 90) as i64);
        }
    };
    // (id, dict, pages below) per node of the current level.
    let mut inner: Vec<ObjectId> = Vec::new();
    let mut level: Vec<(ObjectId, Dictionary, usize)> = (0..spec.pages)
        .map(|i| {
            let mut page = Dictionary::new();
            page.set("Type", "Page");
            page.set("PageNumber", i as i64);
            decorate(&mut page);
            (doc.new_object_id(), page, 1)
        })
        .collect();
    loop {
        let flat_enough = level.len() <= spec.fanout.max(2);
        let mut next = Vec::new();
        for group in level.chunks(spec.fanout.max(2)) {
            let id = doc.new_object_id();
            let mut node = Dictionary::new();
            node.set("Type", "Pages");
            node.set(
                "Kids",
                group
                    .iter()
                    .map(|(kid, _, _)| Object::Reference(*kid))
                    .collect::<Vec<_>>(),
            );
            let count: usize = group.iter().map(|(_, _, n)| n).sum();
            node.set("Count", count as i64);
            decorate(&mut node);
            for (kid, mut dict, _) in group.iter().cloned() {
                dict.set("Parent", id);
                doc.objects.insert(kid, Object::Dictionary(dict));
            }
            next.push((id, node, count));
            if flat_enough {
                break;
            }
        }
        level = next;
        if level.len() == 1 {
            break;
        }
        inner.extend(level.iter().map(|(id, _, _)| *id));
    }
    let (error, which) = spec.inner_count_error;
    if let Some(id) = inner.get(which % inner.len().max(1))
        && error != 0
    {
        let (id, mut dict, count) = stored_node(doc, *id);
        dict.set("Count", count + error);
        doc.objects.insert(id, Object::Dictionary(dict));
    }
    let (root, mut dict, count) = level.remove(0);
    // Every page needs a media box: the root always has one.
    if !dict.has(b"MediaBox") {
        dict.set("MediaBox", vec![0.into(), 0.into(), 595.into(), 842.into()]);
    }
    dict.set("Count", count as i64 + spec.root_count_error);
    doc.objects.insert(root, Object::Dictionary(dict));
    reshape(doc, root, spec);
    root
}

/// Make the tree lopsided as editors leave it after moving and deleting pages: pages
/// beside nodes under one parent, and an empty node. Counts above are unchanged, as
/// neither changes how many pages a node holds.
fn reshape(doc: &mut Document, root: ObjectId, spec: &TreeSpec) {
    let mut wrapped_parent = None;
    if let Some((which, start, len)) = spec.wrap {
        let nodes = page_tree_nodes(doc, root);
        let parent = nodes[which % nodes.len()];
        let mut kids = kids_of(doc, parent);
        let start = start % kids.len();
        let run: Vec<ObjectId> = kids.drain(start..(start + len).min(kids.len())).collect();
        let count: i64 = run.iter().map(|kid| pages_held(doc, *kid)).sum();
        let wrapper = doc.add_object(dictionary! {
            "Type" => "Pages", "Parent" => parent, "Count" => count,
            "Kids" => run.iter().map(|kid| Object::Reference(*kid)).collect::<Vec<_>>(),
        });
        for kid in &run {
            set_parent(doc, *kid, wrapper);
        }
        kids.insert(start, wrapper);
        set_kids(doc, parent, &kids);
        wrapped_parent = Some(parent);
    }
    if let Some((which, at)) = spec.empty {
        let parent = match which {
            Some(which) => {
                let nodes = page_tree_nodes(doc, root);
                nodes[which % nodes.len()]
            }
            None => wrapped_parent.unwrap_or(root),
        };
        let empty = doc.add_object(dictionary! {
            "Type" => "Pages", "Parent" => parent, "Count" => 0, "Kids" => Vec::<Object>::new(),
        });
        let mut kids = kids_of(doc, parent);
        kids.insert(at % (kids.len() + 1), empty);
        set_kids(doc, parent, &kids);
    }
}

/// Every `/Pages` node under `root`, depth first.
fn page_tree_nodes(doc: &Document, root: ObjectId) -> Vec<ObjectId> {
    let mut nodes = vec![root];
    let mut i = 0;
    while let Some(node) = nodes.get(i).copied() {
        nodes.extend(
            kids_of(doc, node)
                .into_iter()
                .filter(|kid| !is_page(doc, *kid)),
        );
        i += 1;
    }
    nodes
}

fn kids_of(doc: &Document, node: ObjectId) -> Vec<ObjectId> {
    let kids = doc.get_dictionary(node).unwrap().get(b"Kids").unwrap();
    kids.as_array()
        .unwrap()
        .iter()
        .map(|kid| kid.as_reference().unwrap())
        .collect()
}

fn set_kids(doc: &mut Document, node: ObjectId, kids: &[ObjectId]) {
    let kids: Vec<Object> = kids.iter().map(|kid| Object::Reference(*kid)).collect();
    doc.get_dictionary_mut(node).unwrap().set("Kids", kids);
}

fn set_parent(doc: &mut Document, node: ObjectId, parent: ObjectId) {
    doc.get_dictionary_mut(node).unwrap().set("Parent", parent);
}

fn is_page(doc: &Document, node: ObjectId) -> bool {
    let dict = doc.get_dictionary(node).unwrap();
    dict.get(b"Type").unwrap().as_name().unwrap() == b"Page"
}

/// 1 for a page, a node's `/Count` (as stored, right or wrong) for a node.
fn pages_held(doc: &Document, node: ObjectId) -> i64 {
    if is_page(doc, node) {
        1
    } else {
        let dict = doc.get_dictionary(node).unwrap();
        dict.get(b"Count").unwrap().as_i64().unwrap()
    }
}

/// A node already stored below the root: its id, dictionary and `/Count`.
fn stored_node(doc: &Document, id: ObjectId) -> (ObjectId, Dictionary, i64) {
    let dict = doc.get_dictionary(id).unwrap().clone();
    let count = dict.get(b"Count").unwrap().as_i64().unwrap();
    (id, dict, count)
}

fn write(spec: &TreeSpec, path: &std::path::Path) {
    let mut doc = Document::with_version("1.7");
    let root = build(&mut doc, spec);
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
    doc.trailer.set("Root", catalog);
    doc.save(path).unwrap();
}

fn tree_spec() -> impl Strategy<Value = TreeSpec> {
    (
        1usize..80,
        prop_oneof![2usize..6, Just(1000)],
        proptest::collection::vec(proptest::bool::weighted(0.2), 1..12),
        proptest::collection::vec(proptest::bool::weighted(0.2), 1..12),
        prop_oneof![4 => Just(0i64), 1 => -3i64..4],
        (prop_oneof![3 => Just(0i64), 1 => -2i64..3], 0usize..100),
        proptest::option::weighted(0.5, (0usize..100, 0usize..100, 1usize..5)),
        proptest::option::weighted(0.5, (proptest::option::of(0usize..100), 0usize..100)),
    )
        .prop_map(
            |(pages, fanout, media, rotate, root_count_error, inner_count_error, wrap, empty)| {
                TreeSpec {
                    pages,
                    fanout,
                    media,
                    rotate,
                    root_count_error,
                    inner_count_error,
                    wrap,
                    empty,
                }
            },
        )
}

/// The page at `index` for a reader that trusts `/Count`, as pdf.js and pdfium find
/// pages: subtrees before the page are skipped by their `/Count`, never read. `None` when
/// `index` is past the root's `/Count` or the counts lead nowhere.
fn page_trusting_counts(doc: &Document, index: usize) -> Option<ObjectId> {
    let count = |id: ObjectId| -> Option<i64> {
        doc.get_dictionary(id)
            .ok()?
            .get(b"Count")
            .ok()?
            .as_i64()
            .ok()
    };
    let mut node = doc
        .catalog()
        .ok()?
        .get(b"Pages")
        .ok()?
        .as_reference()
        .ok()?;
    let mut remaining = i64::try_from(index).ok()?;
    if remaining >= count(node)? {
        return None;
    }
    'down: loop {
        let kids = doc
            .get_dictionary(node)
            .ok()?
            .get(b"Kids")
            .ok()?
            .as_array()
            .ok()?;
        for kid in kids {
            let kid = kid.as_reference().ok()?;
            let is_page = doc
                .get_dictionary(kid)
                .ok()?
                .get(b"Type")
                .ok()?
                .as_name()
                .ok()?
                == b"Page";
            if is_page {
                if remaining == 0 {
                    return Some(kid);
                }
                remaining -= 1;
            } else if remaining < count(kid)? {
                node = kid;
                continue 'down;
            } else {
                remaining -= count(kid)?;
            }
        }
        return None;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn one_page_by_count_is_the_walks_or_a_count_trusting_readers(spec in tree_spec()) {
        same_page_as_the_walk_or_by_counts(&spec)?;
    }
}

/// Where every `/Count` is right, the page found is the walk's. Where some are wrong, it
/// is the walk's (the counts did not add up on the way down) or the page a reader
/// trusting `/Count` shows (a wrong count passed over, compensated above it), and its
/// inherited attributes are the walk's for that page.
fn same_page_as_the_walk_or_by_counts(spec: &TreeSpec) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tree.pdf");
    write(spec, &path);
    let doc = Document::load(&path).unwrap();
    let file = PdfFile::open(&path, Limits::DEFAULT).unwrap();
    let walked = file.pages().unwrap();
    prop_assert_eq!(walked.len(), spec.pages);
    let counts_right = spec.root_count_error == 0 && spec.inner_count_error.0 == 0;
    let root_count = (spec.pages as i64 + spec.root_count_error).max(0) as usize;
    for index in 0..spec.pages + 4 {
        let (found, count) = file.page(index).unwrap();
        let found_id = found.as_ref().map(|page| page.id);
        let walks = walked.get(index).map(|page| page.id);
        let trusting = page_trusting_counts(&doc, index);
        if counts_right {
            prop_assert_eq!(trusting, walks, "the reference reader, page {}", index);
            prop_assert_eq!(found_id, walks, "page {}", index);
            prop_assert_eq!(count, spec.pages);
        } else {
            prop_assert!(
                found_id == walks || found_id == trusting,
                "page {index}: found {found_id:?}, the walk's {walks:?}, by counts {trusting:?}"
            );
            prop_assert!(count == spec.pages || count == root_count, "count {count}");
        }
        if let Some(found) = found {
            let same = walked.iter().find(|page| page.id == found.id).unwrap();
            prop_assert_eq!(found.index, index);
            prop_assert_eq!(found.media_box, same.media_box);
            prop_assert_eq!(found.crop_box, same.crop_box);
            prop_assert_eq!(found.rotate, same.rotate);
            prop_assert_eq!(
                found.dict.get(b"PageNumber").unwrap().as_i64().unwrap(),
                same.index as i64
            );
        }
    }
    Ok(())
}

/// A flat tree of `pages` pages with the right counts: each case changes what it needs.
fn flat(pages: usize) -> TreeSpec {
    TreeSpec {
        pages,
        fanout: 1000,
        media: vec![false],
        rotate: vec![false],
        root_count_error: 0,
        inner_count_error: (0, 0),
        wrap: None,
        empty: None,
    }
}

/// The case CI found: the first of three nodes and the root both count one page too
/// many, so the counts add up on the way down to the pages after that node.
#[test]
fn a_wrong_count_compensated_at_the_root() {
    let spec = TreeSpec {
        fanout: 3,
        root_count_error: 1,
        inner_count_error: (1, 0),
        ..flat(9)
    };
    same_page_as_the_walk_or_by_counts(&spec).unwrap();
}

/// A node with as many kids as pages that is not flat: an empty node and a node of two
/// pages beside three pages.
#[test]
fn an_empty_node_and_a_node_of_two_pages_beside_pages() {
    let spec = TreeSpec {
        wrap: Some((0, 1, 2)),
        empty: Some((None, 0)),
        ..flat(5)
    };
    same_page_as_the_walk_or_by_counts(&spec).unwrap();
}

/// A root counting three pages too few, whose kids are a node of four pages and twenty
/// pages: as many kids as the root's `/Count`.
#[test]
fn a_wrong_root_count_beside_a_node_of_four_pages() {
    let spec = TreeSpec {
        root_count_error: -3,
        wrap: Some((0, 0, 4)),
        ..flat(24)
    };
    same_page_as_the_walk_or_by_counts(&spec).unwrap();
}

/// A page tree that is not one (a loop, a node without kids) is still refused with
/// the walk's error, not a wrong page.
#[test]
fn a_page_tree_loop_is_the_walks_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loop.pdf");
    let mut doc = Document::with_version("1.7");
    let pages = doc.new_object_id();
    let inner = doc.new_object_id();
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![Object::Reference(inner)], "Count" => 2,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    doc.objects.insert(
        inner,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Parent" => pages, "Kids" => vec![Object::Reference(pages)], "Count" => 2,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    doc.save(&path).unwrap();
    let file = PdfFile::open(&path, Limits::DEFAULT).unwrap();
    let walk = file.pages().unwrap_err().to_string();
    let one = file.page(0).unwrap_err().to_string();
    assert!(walk.contains("loop"), "{walk}");
    assert_eq!(one, walk);
}
