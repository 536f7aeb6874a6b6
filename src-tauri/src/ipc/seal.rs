//! IPC types of 签章.

use base64::Engine as _;
use bidkit_app::seal_view::{
    DropPoint, KeywordHitView, OccurrenceChoice, SealChoice, SealDocumentView, SealMode,
    SealProgress,
};
use bidkit_pdf::placement::Parity;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{StampBoxView, VerifyResult};
use crate::error::IpcError;

fn png_url(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

fn n(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// `seal_open`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct SealOpenRequest {
    /// The PDF to seal (read only), an absolute path.
    pub path: String,
}

/// `seal_open`'s answer: the document's pages, rendered, with their sizes.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SealDocumentInfo {
    /// The document.
    pub path: String,
    /// `<stem>-sealed.pdf` next to it.
    pub default_output: String,
    /// Pages in the document.
    pub page_count: u32,
    /// Every page's displayed size in points, `[width, height]`, in order.
    pub page_sizes: Vec<Vec<f64>>,
    /// The first pages, rendered.
    pub pages: Vec<SealPageImage>,
}

/// One rendered page.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SealPageImage {
    /// 1-based page number.
    pub page: u32,
    /// Displayed width, points (the seal's mm × 72 / 25.4 over this is its share of the width).
    pub width_pt: f64,
    /// Displayed height, points.
    pub height_pt: f64,
    /// The page as a `data:image/png;base64,…` URL.
    pub image: String,
}

impl From<SealDocumentView> for SealDocumentInfo {
    fn from(v: SealDocumentView) -> Self {
        SealDocumentInfo {
            path: v.path.display().to_string(),
            default_output: v.default_output.display().to_string(),
            page_count: n(v.page_count),
            page_sizes: v.page_sizes.iter().map(|(w, h)| vec![*w, *h]).collect(),
            pages: v
                .pages
                .into_iter()
                .map(|p| SealPageImage {
                    page: n(p.page),
                    width_pt: p.width_pt,
                    height_pt: p.height_pt,
                    image: png_url(&p.png),
                })
                .collect(),
        }
    }
}

/// One seal the holder may choose (`seal_list`'s answer is a list of them).
#[derive(Clone, Debug, Serialize, TS)]
pub struct SealPick {
    /// Platform id.
    pub id: f64,
    /// Name.
    pub name: String,
    /// Kind (`official`, `finance`, `contract`, `legal-representative`, `personal-name`, `handwritten`).
    pub kind: String,
    /// Kind in Chinese.
    pub kind_zh: String,
    /// Owning organisation.
    pub organisation: Option<String>,
    /// Whether the holder may apply it now.
    pub usable: bool,
    /// Why not.
    pub reason: Option<String>,
    /// The picture as a `data:` URL (`null` when none).
    pub image: Option<String>,
    /// Physical width, mm.
    pub width_mm: f64,
    /// Physical height, mm.
    pub height_mm: f64,
}

impl From<SealChoice> for SealPick {
    fn from(s: SealChoice) -> Self {
        SealPick {
            id: s.id as f64,
            name: s.name,
            kind: s.kind,
            kind_zh: s.kind_zh,
            organisation: s.organisation,
            usable: s.usable,
            reason: s.reason,
            image: (!s.png.is_empty()).then(|| png_url(&s.png)),
            width_mm: s.width_mm,
            height_mm: s.height_mm,
        }
    }
}

/// Which keyword occurrences: `all`, `first`, `last` or `nth` (with `n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceKind {
    /// Every one.
    All,
    /// The first.
    First,
    /// The last.
    Last,
    /// The n-th.
    Nth,
}

fn occurrence(kind: OccurrenceKind, n: Option<u32>) -> OccurrenceChoice {
    match kind {
        OccurrenceKind::All => OccurrenceChoice::All,
        OccurrenceKind::First => OccurrenceChoice::First,
        OccurrenceKind::Last => OccurrenceChoice::Last,
        OccurrenceKind::Nth => OccurrenceChoice::Nth(n.unwrap_or(0)),
    }
}

/// `seal_keyword`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct SealKeywordRequest {
    /// The PDF.
    pub path: String,
    /// The keyword.
    pub keyword: String,
    /// Which occurrences.
    pub occurrence: OccurrenceKind,
    /// For `nth`: which (1-based).
    pub n: Option<u32>,
}

impl SealKeywordRequest {
    /// The occurrence choice.
    pub fn choice(&self) -> OccurrenceChoice {
        occurrence(self.occurrence, self.n)
    }
}

/// One keyword occurrence.
#[derive(Clone, Debug, Serialize, TS)]
pub struct KeywordHitBox {
    /// 1-based page.
    pub page: u32,
    /// The box on the displayed page, fractions from the top-left (`signature`/`stamp` are 0).
    pub area: StampBoxView,
    /// The matched text.
    pub text: String,
    /// Whether the occurrence choice seals it.
    pub chosen: bool,
}

impl From<KeywordHitView> for KeywordHitBox {
    fn from(h: KeywordHitView) -> Self {
        KeywordHitBox {
            page: n(h.page),
            area: StampBoxView::from(h.area),
            text: h.text,
            chosen: h.chosen,
        }
    }
}

/// The seal's centre where it was dropped: fractions of the displayed page from its
/// top-left corner.
#[derive(Clone, Copy, Debug, Deserialize, TS)]
pub struct DropAt {
    /// 1-based page.
    pub page: u32,
    /// Across (0..1).
    pub x: f64,
    /// Down (0..1).
    pub y: f64,
}

impl From<DropAt> for DropPoint {
    fn from(d: DropAt) -> Self {
        DropPoint {
            page: d.page,
            x: d.x,
            y: d.y,
        }
    }
}

/// Where the stamps go.
#[derive(Clone, Debug, Deserialize, TS)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SealModeRequest {
    /// The drop's page.
    Page {
        /// The drop.
        at: DropAt,
    },
    /// Every page.
    All {
        /// The drop (its position in mm is used on every page).
        at: DropAt,
    },
    /// Pages `first..=last`.
    Range {
        /// First page.
        first: u32,
        /// Last page.
        last: u32,
        /// The drop.
        at: DropAt,
    },
    /// A seam seal (骑缝章).
    Seam {
        /// First page (`null` with `last` null: every page).
        first: Option<u32>,
        /// Last page.
        last: Option<u32>,
        /// `all`, `odd` or `even`.
        parity: String,
        /// Vertical centre, fraction of the height (`null`: the middle).
        y: Option<f64>,
    },
    /// On a keyword.
    Keyword {
        /// The keyword.
        keyword: String,
        /// Which occurrences.
        occurrence: OccurrenceKind,
        /// For `nth`.
        n: Option<u32>,
    },
}

/// `seal_start`'s argument.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct SealStartRequest {
    /// The PDF to seal (never modified).
    pub path: String,
    /// Where the sealed copy goes.
    pub output: String,
    /// The seal's platform id.
    pub seal_id: f64,
    /// Where the stamps go.
    pub placement: SealModeRequest,
}

impl SealModeRequest {
    /// The screen's mode, checked for what the wire can get wrong.
    pub fn to_mode(&self) -> Result<SealMode, IpcError> {
        Ok(match self {
            SealModeRequest::Page { at } => SealMode::Page((*at).into()),
            SealModeRequest::All { at } => SealMode::All((*at).into()),
            SealModeRequest::Range { first, last, at } => SealMode::Range {
                first: *first,
                last: *last,
                at: (*at).into(),
            },
            SealModeRequest::Seam {
                first,
                last,
                parity,
                y,
            } => SealMode::Seam {
                pages: match (first, last) {
                    (Some(f), Some(l)) => Some((*f, *l)),
                    (None, None) => None,
                    _ => {
                        return Err(IpcError::new(
                            "invalid-option",
                            "a seam range needs both its first and last page",
                        ));
                    }
                },
                parity: match parity.as_str() {
                    "all" => Parity::All,
                    "odd" => Parity::Odd,
                    "even" => Parity::Even,
                    other => {
                        return Err(IpcError::new(
                            "invalid-option",
                            format!("{other:?} is not all, odd or even"),
                        ));
                    }
                },
                y: *y,
            },
            SealModeRequest::Keyword {
                keyword,
                occurrence: o,
                n,
            } => SealMode::Keyword {
                keyword: keyword.clone(),
                occurrence: occurrence(*o, *n),
            },
        })
    }
}

/// `seal_start`'s answer.
#[derive(Clone, Copy, Debug, Serialize, TS)]
pub struct SealStarted {
    /// The run's number, carried by its events.
    pub run: u32,
}

/// The name of the event a running seal emits ([`SealEvent`]).
pub const SEAL_EVENT: &str = "seal-progress";

/// What a running seal reports, as the `seal-progress` event's payload.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SealEvent {
    /// A new sign QR frame.
    Qr {
        /// The run.
        run: u32,
        /// The QR code as a `data:image/png;base64,…` URL.
        image: String,
        /// The text it encodes (`BK1:…`).
        text: String,
        /// Milliseconds between frames.
        step_ms: f64,
        /// When the code stops working, Unix time in milliseconds.
        expires_at_ms: f64,
    },
    /// The relay turned a phone away.
    Rejected {
        /// The run.
        run: u32,
        /// The relay's code.
        code: String,
        /// Phones turned away so far.
        total: u32,
    },
    /// A phone joined: show the verification code.
    Joined {
        /// The run.
        run: u32,
        /// The six digits.
        code: String,
    },
    /// The request is on the phone, waiting for the PIN.
    Sent {
        /// The run.
        run: u32,
        /// What the phone shows.
        summary: Vec<String>,
    },
    /// Sealed: the result with the verifier's report of the output.
    Done {
        /// The run.
        run: u32,
        /// The result (boxed: far larger than the other events).
        result: Box<SealResultView>,
    },
    /// The seal failed.
    Failed {
        /// The run.
        run: u32,
        /// Why.
        error: IpcError,
    },
}

impl SealEvent {
    /// The event for one step of run `run`.
    pub fn progress(run: u32, p: SealProgress) -> Self {
        match p {
            SealProgress::Qr {
                text,
                png,
                step_ms,
                expires_at_ms,
            } => SealEvent::Qr {
                run,
                image: png_url(&png),
                text,
                step_ms: step_ms as f64,
                expires_at_ms: expires_at_ms as f64,
            },
            SealProgress::Rejected { code, total } => SealEvent::Rejected { run, code, total },
            SealProgress::Joined { code } => SealEvent::Joined { run, code },
            SealProgress::Sent { summary } => SealEvent::Sent { run, summary },
        }
    }
}

/// A finished seal.
#[derive(Clone, Debug, Serialize, TS)]
pub struct SealResultView {
    /// The sealed copy.
    pub output: String,
    /// The seal's name.
    pub seal_name: String,
    /// The signer, as its certificate names it.
    pub signer: String,
    /// The signer certificate's serial (hex).
    pub signer_serial: String,
    /// The verification code both screens showed.
    pub verification_code: String,
    /// Stamps placed.
    pub stamps: u32,
    /// The verifier's report of the output, with its pages and stamps.
    pub verify: VerifyResult,
}

/// The TypeScript declarations of this module's IPC types (see [`super::bindings`]).
#[cfg(test)]
pub(crate) fn decls() -> Vec<String> {
    vec![
        SealOpenRequest::decl(),
        SealDocumentInfo::decl(),
        SealPageImage::decl(),
        SealPick::decl(),
        OccurrenceKind::decl(),
        SealKeywordRequest::decl(),
        KeywordHitBox::decl(),
        DropAt::decl(),
        SealModeRequest::decl(),
        SealStartRequest::decl(),
        SealStarted::decl(),
        SealEvent::decl(),
        SealResultView::decl(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_arrive_tagged_and_are_checked() {
        let r: SealStartRequest = serde_json::from_value(serde_json::json!({
            "path": "/a.pdf", "output": "/b.pdf", "seal_id": 3,
            "placement": {"mode": "page", "at": {"page": 1, "x": 0.25, "y": 0.5}}
        }))
        .unwrap();
        assert!(matches!(r.placement.to_mode().unwrap(), SealMode::Page(d) if d.x == 0.25));
        let seam: SealModeRequest = serde_json::from_value(serde_json::json!({
            "mode": "seam", "first": 1, "last": null, "parity": "odd", "y": null
        }))
        .unwrap();
        assert_eq!(seam.to_mode().unwrap_err().code, "invalid-option");
        let kw: SealModeRequest = serde_json::from_value(serde_json::json!({
            "mode": "keyword", "keyword": "投标人", "occurrence": "nth", "n": 2
        }))
        .unwrap();
        assert!(matches!(
            kw.to_mode().unwrap(),
            SealMode::Keyword {
                occurrence: OccurrenceChoice::Nth(2),
                ..
            }
        ));
        let e = SealEvent::progress(
            4,
            SealProgress::Joined {
                code: "123456".into(),
            },
        );
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            serde_json::json!({"kind": "joined", "run": 4, "code": "123456"})
        );
    }
}
