//! The seal screen (签章): pages and thumbnails rendered for a view, the authorised seals, keyword hits, and sealing with progress as values for a screen.
//!
//! * [`open_for_seal`]: the document's pages rendered by pdfium with each page's size as
//!   displayed (points), so a screen can draw a seal at its true size over a page image
//!   and turn a drop position into the placement's millimetres;
//! * [`authorised_seals`]: the seals the holder may apply, with picture and size;
//! * [`keyword_hits`]: where a keyword occurs (the boxes to highlight) and which of them
//!   an occurrence choice seals;
//! * [`SealPlan`]: the screen's choices (mode, drop position as fractions of the page,
//!   range, seam options, keyword), checked and turned into a
//!   [`bidkit_pdf::placement::Placement`] exactly as `bidkit seal` builds one;
//! * [`seal_with_progress`]: [`crate::seal::seal_documents`] (the use case of `bidkit
//!   seal`) with its progress as values; [`finish_seal`] verifies the output for the
//!   result screen and appends the history entry.
//!
//! **Coordinates.** The placement's position (`bidkit seal --at X,Y`) is the seal's
//! **centre**, in millimetres from the **top-left** corner of the page **as displayed**
//! (crop box, after `/Rotate`) — see [`bidkit_pdf::placement`]. A screen measures a drop
//! as fractions of the displayed page image from its top-left corner; [`PageGeometry`]
//! turns those into the same millimetres (and, for people who think in PDF terms, into
//! the point in the page's user space, origin bottom-left).

use std::path::{Path, PathBuf};

use bidkit_keystore::{DEFAULT_PHONE, Home, KeystoreConfig, Service};
use bidkit_pdf::geometry::pt_to_mm;
use bidkit_pdf::picture::SealPicture;
use bidkit_pdf::placement::{DEFAULT_SEAM_SLICES, Occurrence, PagePosition, Parity, Placement};
use bidkit_pdf::{Limits, PageInfo, PdfError, PdfFile, Rect};
use bidkit_protocol::RelayAddress;

use crate::AppError;
use crate::history::{HistoryEntry, append};
use crate::seal::{SealDocument, SealOptions, SealReport, seal_documents};
use crate::session::{QrFrame, RelayChoice, SessionObserver};
use crate::settings::Settings;
use crate::sign::SignOptions;
use crate::verify_view::{StampBox, VerifyView, ViewOptions, displayed_box, verify_for_view};

/// Most pages the seal screen renders (the first ones); sealing covers every page.
pub const MAX_RENDERED_PAGES: usize = 30;

/// Width of each rendered page, pixels.
pub const PAGE_WIDTH_PX: u32 = 900;

/// Longest keyword accepted (characters).
pub const MAX_KEYWORD_CHARS: usize = 100;

/// One page's displayed geometry: the crop box turned by `/Rotate`, in points (one
/// `/UserUnit` applied), and how to reach its user space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageGeometry {
    /// The crop box, user space.
    pub crop: Rect,
    /// `/Rotate`, normalised to 0, 90, 180 or 270.
    pub rotate: i32,
    /// `/UserUnit` (1 unless the page says otherwise).
    pub user_unit: f64,
}

impl PageGeometry {
    /// The geometry of a page as the reader reports it.
    pub fn of(page: &PageInfo) -> PageGeometry {
        let user_unit = page
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
        PageGeometry {
            crop: page.crop_box,
            rotate: page.rotate.rem_euclid(360),
            user_unit,
        }
    }

    /// Displayed width and height, points.
    pub fn size_pt(&self) -> (f64, f64) {
        let (w, h) = (self.crop.width(), self.crop.height());
        let (w, h) = if self.rotate % 180 == 0 {
            (w, h)
        } else {
            (h, w)
        };
        (w * self.user_unit, h * self.user_unit)
    }

    /// A point given as fractions of the displayed page from its top-left corner, as
    /// the placement's position: millimetres from the displayed top-left.
    pub fn position(&self, fx: f64, fy: f64) -> PagePosition {
        let (w, h) = self.size_pt();
        PagePosition {
            x_mm: pt_to_mm(fx * w),
            y_mm: pt_to_mm(fy * h),
        }
    }

    /// The same point in the page's user space (origin bottom-left of the unrotated
    /// page, user-space units): what the stamp's `/Rect` is measured in.
    pub fn user_point(&self, fx: f64, fy: f64) -> (f64, f64) {
        let c = self.crop;
        let (w, h) = if self.rotate % 180 == 0 {
            (c.width(), c.height())
        } else {
            (c.height(), c.width())
        };
        let (dx, dy) = (fx * w, fy * h);
        match self.rotate {
            90 => (c.x0 + dy, c.y0 + dx),
            180 => (c.x1 - dx, c.y0 + dy),
            270 => (c.x1 - dy, c.y1 - dx),
            _ => (c.x0 + dx, c.y1 - dy),
        }
    }
}

/// One page for the seal screen.
#[derive(Clone, Debug)]
pub struct SealPage {
    /// 1-based page number.
    pub page: usize,
    /// Displayed width, points.
    pub width_pt: f64,
    /// Displayed height, points.
    pub height_pt: f64,
    /// The page as a PNG, [`PAGE_WIDTH_PX`] wide (the thumbnails show it smaller).
    pub png: Vec<u8>,
}

/// The document opened on the seal screen.
#[derive(Clone, Debug)]
pub struct SealDocumentView {
    /// The document.
    pub path: PathBuf,
    /// Where the sealed copy goes unless the holder says otherwise.
    pub default_output: PathBuf,
    /// Pages in the document.
    pub page_count: usize,
    /// Every page's displayed size, points (width, height), in order.
    pub page_sizes: Vec<(f64, f64)>,
    /// The first [`MAX_RENDERED_PAGES`] pages, rendered.
    pub pages: Vec<SealPage>,
}

/// Opens `pdf` for sealing: its pages' sizes and the first ones rendered by pdfium.
/// Blocking (file reads, pdfium).
pub fn open_for_seal(pdf: &Path) -> Result<SealDocumentView, AppError> {
    let in_file = |e: PdfError| e.in_file(pdf);
    let file = PdfFile::open(pdf, Limits::DEFAULT).map_err(in_file)?;
    let infos = file.pages().map_err(in_file)?;
    let page_sizes: Vec<(f64, f64)> = infos
        .iter()
        .map(|p| PageGeometry::of(p).size_pt())
        .collect();
    let mut pages = Vec::new();
    for (info, &(width_pt, height_pt)) in infos.iter().zip(&page_sizes).take(MAX_RENDERED_PAGES) {
        let png = bidkit_pdf::text::render_page_png(pdf, info.index, PAGE_WIDTH_PX)?;
        pages.push(SealPage {
            page: info.index + 1,
            width_pt,
            height_pt,
            png,
        });
    }
    Ok(SealDocumentView {
        path: pdf.to_path_buf(),
        default_output: default_output(pdf),
        page_count: infos.len(),
        page_sizes,
        pages,
    })
}

/// `<stem>-sealed.pdf` next to `input`.
pub fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".into());
    input.with_file_name(format!("{stem}-sealed.pdf"))
}

/// One seal the holder may choose.
#[derive(Clone, Debug)]
pub struct SealChoice {
    /// Platform id (`bidkit seal --seal ID`).
    pub id: i64,
    /// Name (e.g. `北京某某建设有限公司公章`).
    pub name: String,
    /// Kind (`official`, `finance`, `legal-representative` …).
    pub kind: String,
    /// Kind in Chinese (`公章` …).
    pub kind_zh: String,
    /// The organisation owning it, if an organisation seal.
    pub organisation: Option<String>,
    /// Whether the holder may apply it now.
    pub usable: bool,
    /// Why not, when not.
    pub reason: Option<String>,
    /// The picture (PNG; empty when none yet).
    pub png: Vec<u8>,
    /// Physical width, mm (what the stamp measures on paper).
    pub width_mm: f64,
    /// Physical height, mm.
    pub height_mm: f64,
}

/// The seals the holder of the home's emulated phone may apply.
///
/// Which seals, and why: the login identity ([`crate::login::LoginIdentity`]) proves a
/// person or an organisation but carries no seal list, so the tool asks the platform
/// (the emulated CA platform of the home, the same records `bidkit phone seal list`
/// shows) for the seals visible to the account enrolled on the home's default phone
/// ([`DEFAULT_PHONE`], the one that answers the sign QR): its personal seals, every
/// seal of organisations it manages, and organisation seals it holds a grant for, each
/// with whether it may be applied now (a withdrawn or expired grant, a voided seal).
/// The picture and its physical size are read exactly as sealing reads them
/// ([`SealPicture::from_png`] of the platform's image), so what the screen draws is
/// what the stamp will measure. No phone or no account: an empty list.
pub fn authorised_seals(home: &Path) -> Result<Vec<SealChoice>, AppError> {
    let keystore = Home::new(home, KeystoreConfig::default());
    if !keystore.phone_names()?.iter().any(|n| n == DEFAULT_PHONE) {
        return Ok(Vec::new());
    }
    let phone = keystore.existing_phone(DEFAULT_PHONE)?;
    if phone.status()?.account.is_none() {
        return Ok(Vec::new());
    }
    let views = phone.seals()?;
    let service = Service::open(home)?;
    let mut out = Vec::with_capacity(views.len());
    for v in views {
        let png = service.seal_image(v.seal.id)?;
        let (width_mm, height_mm, picture_error) = if png.is_empty() {
            (0.0, 0.0, Some("the seal has no picture yet".to_owned()))
        } else {
            match SealPicture::from_png(&png, None) {
                Ok(p) => (p.width_mm, p.height_mm, None),
                Err(e) => (0.0, 0.0, Some(e.to_string())),
            }
        };
        let usable = v.usable && picture_error.is_none();
        out.push(SealChoice {
            id: v.seal.id,
            name: v.seal.name,
            kind: v.seal.kind.as_str().to_owned(),
            kind_zh: v.seal.kind.label_zh().to_owned(),
            organisation: v.seal.organisation.map(|o| o.name),
            usable,
            reason: v.reason.or(picture_error),
            png,
            width_mm,
            height_mm,
        });
    }
    Ok(out)
}

/// Which keyword occurrences a plan seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OccurrenceChoice {
    /// All of them.
    All,
    /// The first.
    First,
    /// The last.
    Last,
    /// The n-th (1-based).
    Nth(u32),
}

impl OccurrenceChoice {
    fn to_occurrence(self) -> Result<Occurrence, AppError> {
        Ok(match self {
            OccurrenceChoice::All => Occurrence::All,
            OccurrenceChoice::First => Occurrence::First,
            OccurrenceChoice::Last => Occurrence::Last,
            OccurrenceChoice::Nth(0) => {
                return Err(invalid("occurrence", "occurrences count from 1".into()));
            }
            OccurrenceChoice::Nth(n) => Occurrence::Nth(n),
        })
    }

    /// Whether hit `index` (0-based) of `count` is chosen.
    pub fn chooses(self, index: usize, count: usize) -> bool {
        match self {
            OccurrenceChoice::All => true,
            OccurrenceChoice::First => index == 0,
            OccurrenceChoice::Last => index + 1 == count,
            OccurrenceChoice::Nth(n) => usize::try_from(n).is_ok_and(|n| n == index + 1),
        }
    }
}

/// One keyword occurrence, located on its page as displayed.
#[derive(Clone, Debug, PartialEq)]
pub struct KeywordHitView {
    /// 1-based page.
    pub page: usize,
    /// The box, fractions of the displayed page from the top-left.
    pub area: StampBox,
    /// The matched text as pdfium extracted it.
    pub text: String,
    /// Whether the occurrence choice seals this one.
    pub chosen: bool,
}

/// Every occurrence of `keyword` in `pdf` (reading order), with the ones `occurrence`
/// chooses marked. Blocking (pdfium). No hit at all is [`PdfError::KeywordNotFound`]
/// (code `keyword_not_found`), as sealing would report.
pub fn keyword_hits(
    pdf: &Path,
    keyword: &str,
    occurrence: OccurrenceChoice,
) -> Result<Vec<KeywordHitView>, AppError> {
    let keyword = check_keyword(keyword)?;
    occurrence.to_occurrence()?;
    let in_file = |e: PdfError| e.in_file(pdf);
    let file = PdfFile::open(pdf, Limits::DEFAULT).map_err(in_file)?;
    let infos = file.pages().map_err(in_file)?;
    let hits = bidkit_pdf::text::find_text(pdf, keyword)?;
    if hits.is_empty() {
        return Err(PdfError::KeywordNotFound {
            keyword: keyword.to_owned(),
        }
        .into());
    }
    if let OccurrenceChoice::Nth(n) = occurrence
        && usize::try_from(n).map_or(true, |n| n > hits.len())
    {
        return Err(invalid(
            "occurrence",
            format!(
                "occurrence {n} asked for, but {keyword:?} occurs {} time(s)",
                hits.len()
            ),
        ));
    }
    let count = hits.len();
    Ok(hits
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let info = infos.get(h.page_index)?;
            let area = displayed_box(h.rect, info.crop_box, info.rotate)?;
            Some(KeywordHitView {
                page: h.page_index + 1,
                area,
                text: h.text,
                chosen: occurrence.chooses(i, count),
            })
        })
        .collect())
}

fn check_keyword(keyword: &str) -> Result<&str, AppError> {
    let k = keyword.trim();
    if k.is_empty() {
        return Err(invalid("keyword", "no keyword was given".into()));
    }
    if k.chars().count() > MAX_KEYWORD_CHARS {
        return Err(invalid(
            "keyword",
            format!("a keyword has at most {MAX_KEYWORD_CHARS} characters"),
        ));
    }
    Ok(k)
}

fn invalid(option: &'static str, reason: String) -> AppError {
    AppError::InvalidOption { option, reason }
}

/// A drop position: the seal's centre on `page`, as fractions (0..=1) of the displayed
/// page from its top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropPoint {
    /// 1-based page the seal was dropped on.
    pub page: u32,
    /// Across, 0 (left edge) to 1 (right edge).
    pub x: f64,
    /// Down, 0 (top edge) to 1 (bottom edge).
    pub y: f64,
}

/// Where the screen puts the stamps.
#[derive(Clone, Debug, PartialEq)]
pub enum SealMode {
    /// The drop's page, at the drop.
    Page(DropPoint),
    /// Every page, at the drop's position (in mm of the drop's page).
    All(DropPoint),
    /// Pages `first..=last`, at the drop's position.
    Range {
        /// First page (1-based).
        first: u32,
        /// Last page.
        last: u32,
        /// The drop.
        at: DropPoint,
    },
    /// A seam seal (骑缝章) across the right edge.
    Seam {
        /// Pages `first..=last`; `None`: the whole document.
        pages: Option<(u32, u32)>,
        /// Odd or even pages only.
        parity: Parity,
        /// Vertical centre as a fraction of the page height (`None`: the middle).
        y: Option<f64>,
    },
    /// Centred on a keyword.
    Keyword {
        /// The text to find.
        keyword: String,
        /// Which occurrences.
        occurrence: OccurrenceChoice,
    },
}

/// The screen's sealing request.
#[derive(Clone, Debug, PartialEq)]
pub struct SealPlan {
    /// The document (never modified).
    pub input: PathBuf,
    /// Where the sealed copy goes (not the input).
    pub output: PathBuf,
    /// The seal (platform id).
    pub seal_id: i64,
    /// Where the stamps go.
    pub mode: SealMode,
}

impl SealPlan {
    /// Checks the plan against the document's page sizes (displayed, points; see
    /// [`SealDocumentView::page_sizes`]) and builds the placement `bidkit seal` would
    /// build from the same choices. Errors: `invalid-option` (a position off the page,
    /// a bad range or keyword, the output being the input), `page_out_of_range`.
    pub fn placement(&self, pages: &[PageGeometry]) -> Result<Placement, AppError> {
        check_output(&self.input, &self.output)?;
        let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        let page_of = |n: u32| -> Result<&PageGeometry, AppError> {
            n.checked_sub(1)
                .and_then(|i| pages.get(i as usize))
                .ok_or_else(|| {
                    PdfError::PageOutOfRange {
                        page: n,
                        pages: count,
                    }
                    .into()
                })
        };
        let at = |d: &DropPoint| -> Result<PagePosition, AppError> {
            let unit = 0.0..=1.0;
            if !(unit.contains(&d.x) && unit.contains(&d.y)) {
                return Err(invalid(
                    "at",
                    format!("the seal's centre ({:.3}, {:.3}) is off the page", d.x, d.y),
                ));
            }
            Ok(page_of(d.page)?.position(d.x, d.y))
        };
        let range = |first: u32, last: u32| -> Result<(), AppError> {
            if first == 0 || first > last {
                return Err(invalid(
                    "pages",
                    format!("{first}-{last} is not a page range (pages count from 1)"),
                ));
            }
            page_of(last).map(|_| ())
        };
        Ok(match &self.mode {
            SealMode::Page(d) => Placement::Page {
                page: d.page,
                at: Some(at(d)?),
            },
            SealMode::All(d) => Placement::AllPages { at: Some(at(d)?) },
            SealMode::Range { first, last, at: d } => {
                range(*first, *last)?;
                Placement::Range {
                    first: *first,
                    last: *last,
                    at: Some(at(d)?),
                }
            }
            SealMode::Seam {
                pages: r,
                parity,
                y,
            } => {
                if let Some((first, last)) = r {
                    range(*first, *last)?;
                }
                let y_mm = match y {
                    None => None,
                    Some(y) if (0.0..=1.0).contains(y) => {
                        let first = r.map_or(1, |(f, _)| f);
                        Some(page_of(first)?.position(0.0, *y).y_mm)
                    }
                    Some(y) => return Err(invalid("y", format!("{y:.3} is off the page"))),
                };
                Placement::Seam {
                    pages: *r,
                    parity: *parity,
                    max_slices: DEFAULT_SEAM_SLICES,
                    y_mm,
                }
            }
            SealMode::Keyword {
                keyword,
                occurrence,
            } => Placement::Keyword {
                keyword: check_keyword(keyword)?.to_owned(),
                occurrence: occurrence.to_occurrence()?,
                offset_mm: (0.0, 0.0),
            },
        })
    }
}

/// Refuses an output that is the input (or no file at all).
pub fn check_output(input: &Path, output: &Path) -> Result<(), AppError> {
    if output.as_os_str().is_empty() || output.file_name().is_none() {
        return Err(invalid("output", "no output file was given".into()));
    }
    let same = output == input
        || matches!(
            (std::fs::canonicalize(input), std::fs::canonicalize(output)),
            (Ok(a), Ok(b)) if a == b
        );
    if same {
        return Err(invalid(
            "output",
            format!(
                "{} is the document itself; the sealed copy goes to another file",
                output.display()
            ),
        ));
    }
    Ok(())
}

/// The geometry of every page of `pdf`. Blocking.
pub fn page_geometry(pdf: &Path) -> Result<Vec<PageGeometry>, AppError> {
    let in_file = |e: PdfError| e.in_file(pdf);
    let file = PdfFile::open(pdf, Limits::DEFAULT).map_err(in_file)?;
    Ok(file
        .pages()
        .map_err(in_file)?
        .iter()
        .map(PageGeometry::of)
        .collect())
}

/// One step of a running seal, for the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealProgress {
    /// A new QR frame to show.
    Qr {
        /// The text the QR code encodes (`BK1:…`).
        text: String,
        /// The QR code as a PNG.
        png: Vec<u8>,
        /// Milliseconds between frames.
        step_ms: u64,
        /// When the code stops working, Unix time in milliseconds.
        expires_at_ms: u64,
    },
    /// The relay turned a phone away.
    Rejected {
        /// The relay's code.
        code: String,
        /// Phones turned away so far.
        total: u32,
    },
    /// A phone joined: the code the holder compares with the phone's.
    Joined {
        /// The verification code.
        code: String,
    },
    /// The request went to the phone, which shows `summary`; waiting for the PIN.
    Sent {
        /// What the phone shows.
        summary: Vec<String>,
    },
}

/// Forwards the session's progress to a callback.
struct Forward<F>(F);

impl<F: FnMut(SealProgress) + Send> SessionObserver for Forward<F> {
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let png = crate::qr::QrImage::encode(frame.text)?.to_png()?;
        (self.0)(SealProgress::Qr {
            text: frame.text.to_owned(),
            png,
            step_ms: u64::try_from(frame.step.as_millis()).unwrap_or(u64::MAX),
            expires_at_ms: frame.join_deadline.as_millis(),
        });
        Ok(())
    }

    fn join_rejected(&mut self, code: &str, _hint: &str, total: u32) {
        (self.0)(SealProgress::Rejected {
            code: code.to_owned(),
            total,
        });
    }

    fn phone_joined(&mut self, code: &str) {
        (self.0)(SealProgress::Joined {
            code: code.to_owned(),
        });
    }

    fn request_sent(&mut self, summary: &[String]) {
        (self.0)(SealProgress::Sent {
            summary: summary.to_vec(),
        });
    }
}

/// The sign options the tool's settings ask for: the relay of
/// [`Settings::relay`] (else the embedded one) and the suite of [`Settings::suite`],
/// trusting the home's emulated CA.
pub fn sign_options(home: &Path) -> Result<SignOptions, AppError> {
    let settings = Settings::load(home)?;
    let mut opts = SignOptions::new(home, settings.suite);
    if let Some(url) = &settings.relay {
        opts.relay = RelayChoice::Remote {
            connect: RelayAddress::new(url)?,
            advertise: None,
        };
    }
    Ok(opts)
}

/// Seals `plan` as `bidkit seal` does ([`seal_documents`] on the settings' relay and
/// suite), calling `on_progress` at every step. The plan is checked (and every page
/// read) before any QR code is shown. Dropping the future cancels the session.
pub async fn seal_with_progress<F>(
    home: &Path,
    plan: &SealPlan,
    on_progress: F,
) -> Result<SealReport, AppError>
where
    F: FnMut(SealProgress) + Send,
{
    let placement = plan.placement(&page_geometry(&plan.input)?)?;
    let opts = SealOptions {
        sign: sign_options(home)?,
        seal_id: plan.seal_id,
        placement,
        sub_filter: bidkit_pdf::sign::SubFilter::Pkcs7Detached,
        documents: vec![SealDocument {
            input: plan.input.clone(),
            output: plan.output.clone(),
        }],
        ses: false,
        tsa_url: None,
    };
    let mut observer = Forward(on_progress);
    seal_documents(&opts, &mut observer).await
}

/// Records a finished seal in the history of `home` and, when it succeeded, verifies
/// the output as the verify screen does (report, pages, stamps located). Blocking.
pub fn finish_seal(
    home: &Path,
    plan: &SealPlan,
    result: &Result<SealReport, AppError>,
) -> Result<Option<VerifyView>, AppError> {
    let input = plan.input.display();
    let (summary, files, ok, error) = match result {
        Ok(r) => (
            format!("{} → {} ({})", input, plan.output.display(), r.seal_name),
            vec![plan.output.display().to_string()],
            true,
            None,
        ),
        Err(e) => (
            format!("{input}: {e}"),
            Vec::new(),
            false,
            Some(e.code().to_owned()),
        ),
    };
    let mut entry = HistoryEntry::now("seal", summary, files, ok);
    entry.error = error;
    if let Err(e) = append(home, &entry) {
        tracing::warn!("cannot append to the history: {e}");
    }
    match result {
        Ok(_) => Ok(Some(verify_for_view(
            home,
            &plan.output,
            &ViewOptions {
                page_width_px: PAGE_WIDTH_PX,
                max_pages: MAX_RENDERED_PAGES,
            },
        )?)),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn a4() -> PageGeometry {
        PageGeometry {
            crop: Rect::new(0.0, 0.0, 595.0, 842.0),
            rotate: 0,
            user_unit: 1.0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    fn plan(mode: SealMode) -> SealPlan {
        SealPlan {
            input: "/tmp/in.pdf".into(),
            output: "/tmp/in-sealed.pdf".into(),
            seal_id: 1,
            mode,
        }
    }

    #[test]
    fn drop_fractions_become_millimetres_from_the_top_left_and_user_points() {
        let g = a4();
        let p = g.position(0.5, 0.25);
        assert!(close(p.x_mm, 595.0 / 2.0 * 25.4 / 72.0), "{p:?}");
        assert!(close(p.y_mm, 842.0 / 4.0 * 25.4 / 72.0), "{p:?}");
        let (x, y) = g.user_point(0.5, 0.25);
        assert!(close(x, 297.5) && close(y, 842.0 * 0.75), "{x} {y}");
        // A landscape page turned 90°: displayed 842 × 595.
        let r = PageGeometry { rotate: 90, ..g };
        assert_eq!(r.size_pt(), (842.0, 595.0));
        let (x, y) = r.user_point(0.0, 0.0);
        assert!(close(x, 0.0) && close(y, 0.0), "{x} {y}");
        // UserUnit scales the displayed size.
        let u = PageGeometry {
            user_unit: 2.0,
            ..g
        };
        assert_eq!(u.size_pt(), (1190.0, 1684.0));
    }

    #[test]
    fn the_drop_lands_where_placement_puts_the_stamp() {
        // Round trip through the crate's own placement: the stamp's centre is the
        // user point the screen computed.
        let pages = bidkit_pdf::PageSet::from(vec![PdfPageStub::a4()]);
        let geometry = [a4()];
        let placement = plan(SealMode::Page(DropPoint {
            page: 1,
            x: 0.3,
            y: 0.6,
        }))
        .placement(&geometry)
        .unwrap();
        let stamps =
            bidkit_pdf::placement::place(&placement, &pages, (40.0, 40.0), &mut |_| Ok(Vec::new()))
                .unwrap();
        let (cx, cy) = stamps[0].rect.centre();
        let (ux, uy) = geometry[0].user_point(0.3, 0.6);
        assert!(
            (cx - ux).abs() < 1e-6 && (cy - uy).abs() < 1e-6,
            "{cx},{cy} vs {ux},{uy}"
        );
        assert!((stamps[0].rect.width() - 40.0 * 72.0 / 25.4).abs() < 1e-6);
    }

    struct PdfPageStub;
    impl PdfPageStub {
        fn a4() -> PageInfo {
            PageInfo {
                index: 0,
                id: (1, 0),
                dict: lopdf::Dictionary::new(),
                media_box: Rect::new(0.0, 0.0, 595.0, 842.0),
                crop_box: Rect::new(0.0, 0.0, 595.0, 842.0),
                rotate: 0,
            }
        }
    }

    #[test]
    fn options_are_checked() {
        let pages = [a4(), a4(), a4()];
        let err = |mode| plan(mode).placement(&pages).unwrap_err();
        let off = err(SealMode::Page(DropPoint {
            page: 1,
            x: 1.2,
            y: 0.5,
        }));
        assert_eq!(off.code(), "invalid-option");
        let far = err(SealMode::Page(DropPoint {
            page: 4,
            x: 0.5,
            y: 0.5,
        }));
        assert_eq!(
            far.code(),
            PdfError::PageOutOfRange { page: 4, pages: 3 }.code()
        );
        let at = DropPoint {
            page: 1,
            x: 0.5,
            y: 0.5,
        };
        assert_eq!(
            err(SealMode::Range {
                first: 3,
                last: 2,
                at
            })
            .code(),
            "invalid-option"
        );
        assert_eq!(
            err(SealMode::Keyword {
                keyword: "  ".into(),
                occurrence: OccurrenceChoice::All
            })
            .code(),
            "invalid-option"
        );
        assert_eq!(
            err(SealMode::Keyword {
                keyword: "x".into(),
                occurrence: OccurrenceChoice::Nth(0)
            })
            .code(),
            "invalid-option"
        );
        let mut same = plan(SealMode::All(at));
        same.output = same.input.clone();
        assert_eq!(same.placement(&pages).unwrap_err().code(), "invalid-option");
        let seam = plan(SealMode::Seam {
            pages: Some((1, 3)),
            parity: Parity::Odd,
            y: Some(0.5),
        })
        .placement(&pages)
        .unwrap();
        let Placement::Seam { y_mm, parity, .. } = seam else {
            unreachable!()
        };
        assert_eq!(parity, Parity::Odd);
        assert!(close(y_mm.unwrap(), 421.0 * 25.4 / 72.0));
        assert_eq!(
            default_output(Path::new("/a/标书.pdf")),
            PathBuf::from("/a/标书-sealed.pdf")
        );
    }

    #[test]
    fn occurrence_choices_mark_the_hits_they_seal() {
        let c = OccurrenceChoice::Last;
        assert!(!c.chooses(0, 3) && c.chooses(2, 3));
        assert!(OccurrenceChoice::First.chooses(0, 3));
        assert!(OccurrenceChoice::Nth(2).chooses(1, 3) && !OccurrenceChoice::Nth(2).chooses(2, 3));
        assert!((0..3).all(|i| OccurrenceChoice::All.chooses(i, 3)));
    }

    /// Needs pdfium: skipped (passes) where it cannot be loaded.
    #[test]
    fn keyword_hits_are_found_and_located() {
        if bidkit_pdf::pdfium::pdfium().is_err() {
            eprintln!("skipped: no pdfium");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("k.pdf");
        bidkit_pdf::generate::a4_document_with_keywords(&pdf, 3, &[2, 3], "投标人（盖章）")
            .unwrap();
        let hits = keyword_hits(&pdf, "投标人（盖章）", OccurrenceChoice::Last).unwrap();
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!((hits[0].page, hits[1].page), (2, 3));
        assert!(!hits[0].chosen && hits[1].chosen);
        let a = hits[0].area;
        assert!(a.left > 0.0 && a.top > 0.0 && a.width > 0.0 && a.left + a.width <= 1.0);
        let err = keyword_hits(&pdf, "不存在的字", OccurrenceChoice::All).unwrap_err();
        assert_eq!(err.code(), "keyword_not_found");
        let err = keyword_hits(&pdf, "投标人（盖章）", OccurrenceChoice::Nth(3)).unwrap_err();
        assert_eq!(err.code(), "invalid-option");
        let view = open_for_seal(&pdf).unwrap();
        assert_eq!(view.page_count, 3);
        assert_eq!(view.pages.len(), 3);
        assert!(
            (view.pages[0].width_pt - 595.0).abs() < 1.0,
            "{}",
            view.pages[0].width_pt
        );
        assert_eq!(view.default_output, dir.path().join("k-sealed.pdf"));
    }

    #[test]
    fn a_home_without_a_phone_has_no_seals() {
        let dir = tempfile::tempdir().unwrap();
        assert!(authorised_seals(dir.path()).unwrap().is_empty());
    }
}
