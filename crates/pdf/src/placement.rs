//! Where seals go (seed 002 §5.2): on one page at a position, on every page or a range,
//! as a seam seal (骑缝章) across the right edge of consecutive pages, or centred on
//! each occurrence of a keyword (关键字签章).
//!
//! Positions are given as people measure them: millimetres from the top-left corner of
//! the page **as displayed** (crop box, after `/Rotate`), to the seal's centre. They are
//! turned into rectangles in the page's user space here; the stamp's appearance is
//! rotated with the page so it always looks upright. The seal keeps its physical size
//! whatever the page size.

use serde::{Deserialize, Serialize};

use crate::geometry::{mm_to_pt, pt_to_mm};
use crate::{PageInfo, PageSet, PdfError, PdfFile, Rect, Result};

/// Which of several keyword hits get a seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "n")]
pub enum Occurrence {
    /// Every occurrence.
    All,
    /// The first in reading order.
    First,
    /// The last in reading order.
    Last,
    /// The n-th (1-based).
    Nth(u32),
}

/// Which pages of a range a seam seal uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parity {
    /// Every page.
    #[default]
    All,
    /// Odd pages only (1, 3, 5 …: the fronts when printed on both sides).
    Odd,
    /// Even pages only.
    Even,
}

/// A position on the displayed page: the seal's centre, millimetres from the top-left.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PagePosition {
    /// From the left edge, mm.
    pub x_mm: f64,
    /// From the top edge, mm.
    pub y_mm: f64,
}

/// Default largest number of slices of one seam seal (a 42 mm seal in 3.5 mm strips).
pub const DEFAULT_SEAM_SLICES: u32 = 12;

/// How to place the seal of one sealing operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum Placement {
    /// One page (1-based) at a position (`None`: the default corner).
    Page {
        /// 1-based page.
        page: u32,
        /// Centre of the seal; `None`: 40 mm from the right, 50 mm from the bottom.
        at: Option<PagePosition>,
    },
    /// Every page, same position.
    AllPages {
        /// Centre of the seal on each page.
        at: Option<PagePosition>,
    },
    /// Pages `first..=last` (1-based), same position.
    Range {
        /// First page.
        first: u32,
        /// Last page.
        last: u32,
        /// Centre of the seal on each page.
        at: Option<PagePosition>,
    },
    /// A seam seal across the right edge of consecutive pages.
    Seam {
        /// Pages `first..=last` (`None`: the whole document).
        pages: Option<(u32, u32)>,
        /// Odd or even pages only.
        parity: Parity,
        /// Most slices per seal; longer documents get the seal again in groups.
        max_slices: u32,
        /// Vertical centre, mm from the top (`None`: the middle of the page).
        y_mm: Option<f64>,
    },
    /// Centred on a keyword, optionally offset.
    Keyword {
        /// The text to find (e.g. `投标人（盖章）`).
        keyword: String,
        /// Which occurrences.
        occurrence: Occurrence,
        /// Offset of the seal's centre from the keyword's centre, mm (right, down).
        offset_mm: (f64, f64),
    },
}

impl Placement {
    /// The mode's short name (`page`, `all`, `range`, `seam`, `keyword`).
    pub fn mode_name(&self) -> &'static str {
        match self {
            Placement::Page { .. } => "page",
            Placement::AllPages { .. } => "all",
            Placement::Range { .. } => "range",
            Placement::Seam { .. } => "seam",
            Placement::Keyword { .. } => "keyword",
        }
    }

    /// The pages this placement needs from the document: one page (1-based) for
    /// [`Placement::Page`], which can then be found without reading the whole page
    /// tree; `None` when it needs them all.
    pub fn single_page(&self) -> Option<u32> {
        match self {
            Placement::Page { page, .. } => Some(*page),
            _ => None,
        }
    }
}

/// The pages of `file` that `placement` needs (see [`Placement::single_page`]).
pub fn pages_for(file: &PdfFile, placement: &Placement) -> Result<PageSet> {
    match placement.single_page().and_then(|n| n.checked_sub(1)) {
        Some(index) => {
            let (page, count) = file.page(index as usize)?;
            Ok(PageSet::some(page.into_iter().collect(), count))
        }
        None => Ok(file.pages()?.into()),
    }
}

/// One slice of a seam seal: slice `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    /// 0-based slice number (0 is the seal's leftmost strip).
    pub index: u32,
    /// Number of slices in this group.
    pub count: u32,
}

/// One stamp, placed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacedStamp {
    /// 0-based page index.
    pub page_index: usize,
    /// The stamp's rectangle in the page's user space (points).
    pub rect: Rect,
    /// The page's `/Rotate`.
    pub rotate: i32,
    /// The slice, for seam seals.
    pub slice: Option<Slice>,
    /// Centre on the displayed page, mm from the left.
    pub x_mm: f64,
    /// Centre on the displayed page, mm from the top.
    pub y_mm: f64,
    /// Width of what is drawn on the displayed page, mm.
    pub width_mm: f64,
    /// Height of what is drawn on the displayed page, mm.
    pub height_mm: f64,
}

/// A keyword occurrence as the text layer reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeywordHit {
    /// 0-based page.
    pub page_index: usize,
    /// The matched text's box in user space.
    pub rect: Rect,
}

/// The displayed geometry of one page: size in points and the map to user space.
#[derive(Clone, Copy, Debug)]
struct Display {
    crop: Rect,
    rotate: i32,
    scale: f64,
}

impl Display {
    fn of(page: &PageInfo) -> Display {
        let unit = page
            .dict
            .get(b"UserUnit")
            .ok()
            .and_then(|o| {
                o.as_float()
                    .ok()
                    .map(f64::from)
                    .or(o.as_i64().ok().map(|i| i as f64))
            })
            .filter(|u| *u > 0.0)
            .unwrap_or(1.0);
        Display {
            crop: page.crop_box,
            rotate: page.rotate.rem_euclid(360),
            scale: 1.0 / unit,
        }
    }

    /// Displayed width and height in user-space units.
    fn size(&self) -> (f64, f64) {
        if self.rotate % 180 == 0 {
            (self.crop.width(), self.crop.height())
        } else {
            (self.crop.height(), self.crop.width())
        }
    }

    /// A displayed point (from the top-left, user-space units) in user space.
    fn user_point(&self, dx: f64, dy: f64) -> (f64, f64) {
        let c = self.crop;
        match self.rotate {
            90 => (c.x0 + dy, c.y0 + dx),
            180 => (c.x1 - dx, c.y0 + dy),
            270 => (c.x1 - dy, c.y1 - dx),
            _ => (c.x0 + dx, c.y1 - dy),
        }
    }

    /// A user-space point as displayed (from the top-left).
    fn display_point(&self, ux: f64, uy: f64) -> (f64, f64) {
        let c = self.crop;
        match self.rotate {
            90 => (uy - c.y0, ux - c.x0),
            180 => (c.x1 - ux, uy - c.y0),
            270 => (c.y1 - uy, c.x1 - ux),
            _ => (ux - c.x0, c.y1 - uy),
        }
    }

    /// A displayed rectangle (left, top, width, height; user-space units) in user space.
    fn rect_to_user(&self, left: f64, top: f64, w: f64, h: f64) -> Rect {
        let (ax, ay) = self.user_point(left, top);
        let (bx, by) = self.user_point(left + w, top + h);
        Rect::new(ax, ay, bx, by)
    }

    fn mm(&self, mm: f64) -> f64 {
        mm_to_pt(mm) * self.scale
    }

    fn units_to_mm(&self, units: f64) -> f64 {
        pt_to_mm(units / self.scale)
    }
}

/// Resolve a placement to stamps. `seal_mm` is the seal's physical size; `keyword_hits`
/// is called (once) for keyword placement.
pub fn place(
    placement: &Placement,
    pages: &PageSet,
    seal_mm: (f64, f64),
    keyword_hits: &mut dyn FnMut(&str) -> Result<Vec<KeywordHit>>,
) -> Result<Vec<PlacedStamp>> {
    let page_count = u32::try_from(pages.count()).unwrap_or(u32::MAX);
    let page = |n: u32| -> Result<&PageInfo> {
        n.checked_sub(1)
            .and_then(|i| pages.get(i as usize))
            .ok_or(PdfError::PageOutOfRange {
                page: n,
                pages: page_count,
            })
    };
    let whole = |p: &PageInfo, at: Option<PagePosition>| -> Result<PlacedStamp> {
        let d = Display::of(p);
        let (w, h) = (d.mm(seal_mm.0), d.mm(seal_mm.1));
        let (dw, dh) = d.size();
        let (cx, cy) = match at {
            Some(at) => (d.mm(at.x_mm), d.mm(at.y_mm)),
            None => (dw - d.mm(40.0), dh - d.mm(50.0)),
        };
        if !(0.0..=dw).contains(&cx) || !(0.0..=dh).contains(&cy) {
            return Err(PdfError::InvalidOption {
                option: "at",
                reason: format!(
                    "({:.1} mm, {:.1} mm) is outside page {} ({:.1} × {:.1} mm)",
                    d.units_to_mm(cx),
                    d.units_to_mm(cy),
                    p.index + 1,
                    d.units_to_mm(dw),
                    d.units_to_mm(dh)
                ),
            });
        }
        Ok(stamp(p, &d, cx - w / 2.0, cy - h / 2.0, w, h, None))
    };
    match placement {
        Placement::Page { page: n, at } => Ok(vec![whole(page(*n)?, *at)?]),
        Placement::AllPages { at } => (1..=page_count).map(|n| whole(page(n)?, *at)).collect(),
        Placement::Range { first, last, at } => {
            check_range(*first, *last, page_count)?;
            (*first..=*last).map(|n| whole(page(n)?, *at)).collect()
        }
        Placement::Seam {
            pages: range,
            parity,
            max_slices,
            y_mm,
        } => {
            let (first, last) = range.unwrap_or((1, page_count));
            check_range(first, last, page_count)?;
            let chosen: Vec<u32> = (first..=last)
                .filter(|n| match parity {
                    Parity::All => true,
                    Parity::Odd => n % 2 == 1,
                    Parity::Even => n % 2 == 0,
                })
                .collect();
            seam(&chosen, *max_slices, *y_mm, seal_mm, &page)
        }
        Placement::Keyword {
            keyword,
            occurrence,
            offset_mm,
        } => {
            let hits = keyword_hits(keyword)?;
            let chosen: Vec<&KeywordHit> = match occurrence {
                Occurrence::All => hits.iter().collect(),
                Occurrence::First => hits.first().into_iter().collect(),
                Occurrence::Last => hits.last().into_iter().collect(),
                Occurrence::Nth(n) => match n.checked_sub(1).and_then(|i| hits.get(i as usize)) {
                    Some(h) => vec![h],
                    None if hits.is_empty() => Vec::new(),
                    None => {
                        return Err(PdfError::InvalidOption {
                            option: "occurrence",
                            reason: format!(
                                "occurrence {n} asked for, but {keyword:?} occurs {} time(s)",
                                hits.len()
                            ),
                        });
                    }
                },
            };
            if chosen.is_empty() {
                return Err(PdfError::KeywordNotFound {
                    keyword: keyword.clone(),
                });
            }
            chosen
                .into_iter()
                .map(|hit| {
                    let p = pages.get(hit.page_index).ok_or(PdfError::PageOutOfRange {
                        page: u32::try_from(hit.page_index + 1).unwrap_or(u32::MAX),
                        pages: page_count,
                    })?;
                    let d = Display::of(p);
                    let (ux, uy) = hit.rect.centre();
                    let (cx, cy) = d.display_point(ux, uy);
                    let (cx, cy) = (cx + d.mm(offset_mm.0), cy + d.mm(offset_mm.1));
                    let (w, h) = (d.mm(seal_mm.0), d.mm(seal_mm.1));
                    Ok(stamp(p, &d, cx - w / 2.0, cy - h / 2.0, w, h, None))
                })
                .collect()
        }
    }
}

fn check_range(first: u32, last: u32, pages: u32) -> Result<()> {
    if first == 0 || first > last {
        return Err(PdfError::InvalidOption {
            option: "pages",
            reason: format!("{first}-{last} is not a page range (pages count from 1)"),
        });
    }
    if last > pages {
        return Err(PdfError::PageOutOfRange { page: last, pages });
    }
    Ok(())
}

/// Seam slices over `chosen` pages (1-based), in balanced groups of at most
/// `max_slices`.
fn seam<'p>(
    chosen: &[u32],
    max_slices: u32,
    y_mm: Option<f64>,
    seal_mm: (f64, f64),
    page: &dyn Fn(u32) -> Result<&'p PageInfo>,
) -> Result<Vec<PlacedStamp>> {
    if max_slices < 2 {
        return Err(PdfError::InvalidOption {
            option: "max-slices",
            reason: "a seam seal needs at least 2 slices".into(),
        });
    }
    let n = u32::try_from(chosen.len()).unwrap_or(u32::MAX);
    if n < 2 {
        return Err(PdfError::InvalidOption {
            option: "pages",
            reason: format!("a seam seal needs at least 2 pages; {n} chosen"),
        });
    }
    let groups = n.div_ceil(max_slices);
    let (base, extra) = (n / groups, n % groups);
    let mut stamps = Vec::with_capacity(chosen.len());
    let mut pages_left = chosen.iter();
    for g in 0..groups {
        let count = base + u32::from(g < extra);
        for index in 0..count {
            let Some(&number) = pages_left.next() else {
                break;
            };
            let p = page(number)?;
            let d = Display::of(p);
            let (w, h) = (d.mm(seal_mm.0), d.mm(seal_mm.1));
            let slice_w = w / f64::from(count);
            let (dw, dh) = d.size();
            let cy = y_mm.map_or(dh / 2.0, |y| d.mm(y));
            if !(0.0..=dh).contains(&cy) {
                return Err(PdfError::InvalidOption {
                    option: "y",
                    reason: format!("{:.1} mm is below page {number}", d.units_to_mm(cy)),
                });
            }
            stamps.push(stamp(
                p,
                &d,
                dw - slice_w,
                cy - h / 2.0,
                slice_w,
                h,
                Some(Slice { index, count }),
            ));
        }
    }
    Ok(stamps)
}

fn stamp(
    p: &PageInfo,
    d: &Display,
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    slice: Option<Slice>,
) -> PlacedStamp {
    PlacedStamp {
        page_index: p.index,
        rect: d.rect_to_user(left, top, w, h),
        rotate: d.rotate,
        slice,
        x_mm: d.units_to_mm(left + w / 2.0),
        y_mm: d.units_to_mm(top + h / 2.0),
        width_mm: d.units_to_mm(w),
        height_mm: d.units_to_mm(h),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lopdf::Dictionary;

    fn a4(index: usize, rotate: i32) -> PageInfo {
        let media = Rect::new(0.0, 0.0, 595.276, 841.89);
        PageInfo {
            index,
            id: (index as u32 + 10, 0),
            dict: Dictionary::new(),
            media_box: media,
            crop_box: media,
            rotate,
        }
    }

    fn no_keywords(_: &str) -> Result<Vec<KeywordHit>> {
        Ok(Vec::new())
    }

    #[test]
    fn page_position_is_from_top_left_at_true_size() {
        let pages = PageSet::from(vec![a4(0, 0)]);
        let at = PagePosition {
            x_mm: 100.0,
            y_mm: 50.0,
        };
        let s = place(
            &Placement::Page {
                page: 1,
                at: Some(at),
            },
            &pages,
            (42.0, 42.0),
            &mut no_keywords,
        )
        .unwrap();
        let r = s[0].rect;
        assert!((pt_to_mm(r.width()) - 42.0).abs() < 1e-6);
        assert!((pt_to_mm(r.centre().0) - 100.0).abs() < 1e-6);
        assert!((pt_to_mm(841.89 - r.centre().1) - 50.0).abs() < 1e-6);
    }

    #[test]
    fn rotated_page_maps_back_to_the_same_display_position() {
        for rotate in [90, 180, 270] {
            let pages = PageSet::from(vec![a4(0, rotate)]);
            let at = PagePosition {
                x_mm: 30.0,
                y_mm: 20.0,
            };
            let s = place(
                &Placement::Page {
                    page: 1,
                    at: Some(at),
                },
                &pages,
                (40.0, 20.0),
                &mut no_keywords,
            )
            .unwrap();
            assert!(
                (s[0].x_mm - 30.0).abs() < 1e-6 && (s[0].y_mm - 20.0).abs() < 1e-6,
                "{rotate}"
            );
            let (w, h) = (pt_to_mm(s[0].rect.width()), pt_to_mm(s[0].rect.height()));
            if rotate == 180 {
                assert!((w - 40.0).abs() < 1e-6 && (h - 20.0).abs() < 1e-6);
            } else {
                assert!((w - 20.0).abs() < 1e-6 && (h - 40.0).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn out_of_range_pages_are_errors() {
        let pages = PageSet::from(vec![a4(0, 0), a4(1, 0)]);
        let e = place(
            &Placement::Page { page: 3, at: None },
            &pages,
            (42.0, 42.0),
            &mut no_keywords,
        )
        .unwrap_err();
        assert!(matches!(e, PdfError::PageOutOfRange { page: 3, pages: 2 }));
        let e = place(
            &Placement::Range {
                first: 2,
                last: 5,
                at: None,
            },
            &pages,
            (42.0, 42.0),
            &mut no_keywords,
        )
        .unwrap_err();
        assert!(matches!(e, PdfError::PageOutOfRange { .. }));
    }

    #[test]
    fn seam_groups_are_balanced_and_sit_on_the_right_edge() {
        let pages = PageSet::from((0..25).map(|i| a4(i, 0)).collect::<Vec<_>>());
        let s = place(
            &Placement::Seam {
                pages: None,
                parity: Parity::All,
                max_slices: 12,
                y_mm: None,
            },
            &pages,
            (42.0, 42.0),
            &mut no_keywords,
        )
        .unwrap();
        assert_eq!(s.len(), 25);
        let counts: Vec<u32> = s
            .iter()
            .filter(|p| p.slice.unwrap().index == 0)
            .map(|p| p.slice.unwrap().count)
            .collect();
        assert_eq!(counts, vec![9, 8, 8]);
        for p in &s {
            assert!((p.rect.x1 - 595.276).abs() < 1e-6);
            let n = f64::from(p.slice.unwrap().count);
            assert!((pt_to_mm(p.rect.width()) - 42.0 / n).abs() < 1e-6);
        }
        let odd = place(
            &Placement::Seam {
                pages: None,
                parity: Parity::Odd,
                max_slices: 20,
                y_mm: Some(60.0),
            },
            &pages,
            (42.0, 42.0),
            &mut no_keywords,
        )
        .unwrap();
        assert!(odd.iter().all(|p| p.page_index % 2 == 0));
        assert_eq!(odd.len(), 13);
    }

    #[test]
    fn keyword_occurrences_and_not_found() {
        let pages = PageSet::from((0..3).map(|i| a4(i, 0)).collect::<Vec<_>>());
        let mut hits = |_: &str| {
            Ok(vec![
                KeywordHit {
                    page_index: 0,
                    rect: Rect::new(100.0, 100.0, 200.0, 112.0),
                },
                KeywordHit {
                    page_index: 2,
                    rect: Rect::new(300.0, 400.0, 400.0, 412.0),
                },
            ])
        };
        let kw = |occurrence| Placement::Keyword {
            keyword: "投标人（盖章）".into(),
            occurrence,
            offset_mm: (0.0, 0.0),
        };
        assert_eq!(
            place(&kw(Occurrence::All), &pages, (42.0, 42.0), &mut hits)
                .unwrap()
                .len(),
            2
        );
        let last = place(&kw(Occurrence::Last), &pages, (42.0, 42.0), &mut hits).unwrap();
        assert_eq!(last[0].page_index, 2);
        assert!((last[0].rect.centre().0 - 350.0).abs() < 1e-6);
        assert!(place(&kw(Occurrence::Nth(3)), &pages, (42.0, 42.0), &mut hits).is_err());
        let e = place(&kw(Occurrence::All), &pages, (42.0, 42.0), &mut no_keywords).unwrap_err();
        assert!(matches!(e, PdfError::KeywordNotFound { .. }));
    }
}
