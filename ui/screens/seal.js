// @ts-check
/// <reference path="../globals.d.ts" />
// 签章: pages, seals, drag into place, modes, sign QR, result.
//
// Coordinates: a drop is the seal's CENTRE as fractions of the displayed page image from
// its top-left corner; the Rust side turns it into millimetres from the displayed
// top-left (what `bidkit seal --at X,Y` means). The seal is drawn at true size: its mm
// × 72 / 25.4 points over the page's displayed width in points, times the image width.

/** @typedef {import("../bindings").IpcError} IpcError */
/** @typedef {import("../bindings").SealDocumentInfo} SealDocumentInfo */
/** @typedef {import("../bindings").SealPick} SealPick */
/** @typedef {import("../bindings").KeywordHitBox} KeywordHitBox */
/** @typedef {import("../bindings").SealEvent} SealEvent */
/** @typedef {import("../bindings").SealStarted} SealStarted */
/** @typedef {import("../bindings").SealResultView} SealResultView */
/** @typedef {import("../bindings").SealModeRequest} SealModeRequest */

const MM_TO_PT = 72 / 25.4;
const MODES = ["page", "all", "range", "seam", "keyword"];
const OCCURRENCES = ["all", "first", "last", "nth"];
const PARITIES = ["all", "odd", "even"];

const s = {
  /** @type {SealDocumentInfo | null} */
  doc: null,
  opening: false,
  page: 1,
  /** @type {SealPick[]} */
  seals: [],
  /** @type {number | null} */
  sealId: null,
  /** @type {{page: number, x: number, y: number} | null} */
  drop: null,
  mode: "page",
  /** @type {KeywordHitBox[]} */
  hits: [],
  /** @type {IpcError | null} */
  error: null,
  /** @type {"idle" | "waiting" | "joined" | "sent" | "done" | "failed"} */
  phase: "idle",
  /** @type {number | null} */
  run: null,
  /** @type {string | null} */
  qr: null,
  qrText: "",
  expiresAt: 0,
  /** @type {string | null} */
  code: null,
  rejected: 0,
  /** @type {SealResultView | null} */
  result: null,
};

/** @type {import("../screen").ScreenContext} */
let C;

/** @param {string} id */
const $ = (id) => C.$(id);

/** @param {string} tag @param {string} id @param {string} testid @param {string} [cls] */
function node(tag, id, testid, cls = "") {
  const e = C.el(tag, { cls, data: { testid } });
  e.id = id;
  return e;
}

function sealChosen() {
  return s.seals.find((x) => x.id === s.sealId) ?? null;
}

/** @param {number} page */
function pageInfo(page) {
  return s.doc?.pages.find((p) => p.page === page) ?? null;
}

/** @param {IpcError} err */
function errorLine(err) {
  const own = C.t(`seal.error.${err.code}`);
  const head = own === `seal.error.${err.code}` ? C.errorText(err) : `${C.t("error.prefix")}: ${own} (${err.code})`;
  return err.message && !head.includes(err.message) ? `${head} — ${err.message}` : head;
}

// ---------------------------------------------------------------------------------------
// DOM
// ---------------------------------------------------------------------------------------

function build() {
  const root = $("screen-seal");
  root.replaceChildren();

  const card = C.el("section", { cls: "card" });
  const head = C.el("div", { cls: "card-head" });
  head.append(node("h2", "seal-heading", "seal-heading"), node("span", "seal-state", "seal-state", "pill"));
  card.append(head, node("p", "seal-hint", "seal-hint", "hint"));
  const form = C.el("form", { cls: "open-row" });
  form.id = "seal-form";
  const path = /** @type {HTMLInputElement} */ (node("input", "seal-path", "seal-path"));
  path.type = "text";
  path.autocomplete = "off";
  path.spellcheck = false;
  const open = node("button", "seal-open", "seal-open");
  /** @type {HTMLButtonElement} */ (open).type = "submit";
  form.append(C.pathInput(path, "open", "pdf"), open);
  card.append(form, node("div", "seal-error", "seal-error", "error"), node("p", "seal-busy", "seal-busy", "busy"));
  root.append(card);

  const work = node("div", "seal-work", "seal-work", "seal-work");
  const thumbs = node("div", "seal-thumbs", "seal-thumbs", "seal-thumbs");
  const view = node("div", "seal-view", "seal-view", "seal-view");
  const side = node("div", "seal-side", "seal-side", "seal-side");

  // The seals.
  const sealsCard = C.el("section", { cls: "card seal-card" });
  sealsCard.append(node("h3", "seal-seals-heading", "seal-seals-heading"), node("p", "seal-seals-hint", "seal-seals-hint", "hint"));
  sealsCard.append(node("ul", "seal-seals", "seal-seals", "seal-seals"));

  // The mode and its options.
  const opts = C.el("section", { cls: "card seal-card" });
  opts.append(node("h3", "seal-mode-heading", "seal-mode-heading"));
  const modes = node("div", "seal-modes", "seal-modes", "seal-modes");
  for (const m of MODES) {
    const b = C.el("button", { cls: "ghost seal-mode", data: { testid: `seal-mode-${m}`, mode: m } });
    /** @type {HTMLButtonElement} */ (b).type = "button";
    b.addEventListener("click", () => {
      s.mode = m;
      s.hits = m === "keyword" ? s.hits : [];
      C.rerender();
    });
    modes.append(b);
  }
  opts.append(modes);
  const row = (/** @type {string} */ id, /** @type {HTMLElement[]} */ ...els) => {
    const r = C.el("div", { cls: "seal-row" });
    r.id = id;
    r.append(...els);
    return r;
  };
  const input = (/** @type {string} */ id, /** @type {string} */ type = "text") => {
    const i = /** @type {HTMLInputElement} */ (node("input", id, id));
    i.type = type;
    if (type === "number") i.min = "1";
    return i;
  };
  const label = (/** @type {string} */ id, /** @type {string} */ forId) => {
    const l = /** @type {HTMLLabelElement} */ (node("label", id, id));
    l.htmlFor = forId;
    return l;
  };
  const select = (/** @type {string} */ id, /** @type {string[]} */ values) => {
    const sel = /** @type {HTMLSelectElement} */ (node("select", id, id));
    for (const v of values) {
      const o = /** @type {HTMLOptionElement} */ (C.el("option", { data: { key: v } }));
      o.value = v;
      sel.append(o);
    }
    return sel;
  };
  opts.append(
    row("seal-range-row", label("seal-first-label", "seal-first"), input("seal-first", "number"), label("seal-last-label", "seal-last"), input("seal-last", "number")),
    row("seal-parity-row", label("seal-parity-label", "seal-parity"), select("seal-parity", PARITIES)),
    row("seal-keyword-row", label("seal-keyword-label", "seal-keyword"), input("seal-keyword")),
    row(
      "seal-occurrence-row",
      label("seal-occurrence-label", "seal-occurrence"),
      select("seal-occurrence", OCCURRENCES),
      input("seal-nth", "number"),
      node("button", "seal-keyword-find", "seal-keyword-find", "ghost"),
    ),
    node("p", "seal-hits-note", "seal-hits-note", "note"),
    node("p", "seal-position", "seal-position", "note"),
    row("seal-output-row", label("seal-output-label", "seal-output"), input("seal-output")),
  );
  /** @type {HTMLButtonElement} */ ($("seal-keyword-find") ?? opts.querySelector("#seal-keyword-find")).type = "button";
  const foot = C.el("div", { cls: "card-foot" });
  const cancel = node("button", "seal-cancel", "seal-cancel", "ghost");
  const start = node("button", "seal-start", "seal-start");
  /** @type {HTMLButtonElement} */ (cancel).type = "button";
  /** @type {HTMLButtonElement} */ (start).type = "button";
  foot.append(cancel, start);
  opts.append(foot);

  // The sign QR.
  const sign = node("section", "seal-sign", "seal-sign", "card seal-card");
  const fig = C.el("figure", { cls: "qr" });
  const qr = node("img", "seal-qr", "seal-qr");
  fig.append(qr, node("figcaption", "seal-countdown", "seal-countdown"));
  sign.append(fig, node("p", "seal-code", "seal-code", "code"), node("p", "seal-rejected", "seal-rejected", "note"), node("p", "seal-sent", "seal-sent", "note"));

  side.append(sealsCard, opts, sign);
  work.append(thumbs, view, side);
  root.append(work);

  // The result.
  const result = node("section", "seal-result", "seal-result", "card");
  const rhead = C.el("div", { cls: "card-head" });
  rhead.append(node("h2", "seal-result-heading", "seal-result-heading"), node("span", "seal-result-status", "seal-result-status", "pill"));
  result.append(rhead, C.el("dl", { cls: "facts" }), node("div", "seal-result-pages", "seal-result-pages", "pages"));
  result.querySelector("dl")?.setAttribute("id", "seal-result-facts");
  root.append(result);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    openDocument(path.value).catch(fail);
  });
  $("seal-keyword-find").addEventListener("click", () => findKeyword().catch(fail));
  $("seal-occurrence").addEventListener("change", () => {
    C.rerender();
    if (s.hits.length) findKeyword().catch(fail);
  });
  start.addEventListener("click", () => startSeal().catch(fail));
  cancel.addEventListener("click", () => cancelSeal().catch(fail));
}

/** @param {unknown} err */
function fail(err) {
  s.error = C.asIpcError(err);
  s.opening = false;
  C.rerender();
}

// ---------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------

/** @param {string} path */
async function openDocument(path) {
  Object.assign(s, { doc: null, error: null, drop: null, hits: [], result: null, page: 1, opening: true });
  C.rerender();
  try {
    const [doc, seals] = await Promise.all([
      C.call("seal_open", { request: { path } }),
      C.call("seal_list"),
    ]);
    s.doc = /** @type {SealDocumentInfo} */ (doc);
    s.seals = /** @type {SealPick[]} */ (seals);
    const usable = s.seals.find((x) => x.usable);
    if (s.sealId === null || !s.seals.some((x) => x.id === s.sealId)) s.sealId = usable ? usable.id : null;
    /** @type {HTMLInputElement} */ ($("seal-output")).value = s.doc.default_output;
    /** @type {HTMLInputElement} */ ($("seal-first")).value = "1";
    /** @type {HTMLInputElement} */ ($("seal-last")).value = String(s.doc.page_count);
  } catch (err) {
    s.error = C.asIpcError(err);
  }
  s.opening = false;
  C.rerender();
}

function occurrence() {
  const kind = /** @type {HTMLSelectElement} */ ($("seal-occurrence")).value;
  const n = Number(/** @type {HTMLInputElement} */ ($("seal-nth")).value) || null;
  return { occurrence: kind, n: kind === "nth" ? n : null };
}

async function findKeyword() {
  if (!s.doc) return;
  s.error = null;
  s.hits = [];
  const keyword = /** @type {HTMLInputElement} */ ($("seal-keyword")).value;
  try {
    s.hits = await C.call("seal_keyword", { request: { path: s.doc.path, keyword, ...occurrence() } });
    const first = s.hits.find((h) => h.chosen) ?? s.hits[0];
    if (first) s.page = first.page;
  } catch (err) {
    s.error = C.asIpcError(err);
  }
  C.rerender();
  document.querySelector(".seal-hit.chosen")?.scrollIntoView({ block: "center" });
}

/** @returns {SealModeRequest | null} */
function placement() {
  const num = (/** @type {string} */ id) => Number(/** @type {HTMLInputElement} */ ($(id)).value);
  const at = s.drop;
  switch (s.mode) {
    case "page":
      return at ? { mode: "page", at } : null;
    case "all":
      return at ? { mode: "all", at } : null;
    case "range":
      return at ? { mode: "range", first: num("seal-first"), last: num("seal-last"), at } : null;
    case "seam": {
      const first = num("seal-first") || null;
      const last = num("seal-last") || null;
      const parity = /** @type {HTMLSelectElement} */ ($("seal-parity")).value;
      return { mode: "seam", first, last, parity, y: null };
    }
    case "keyword": {
      const keyword = /** @type {HTMLInputElement} */ ($("seal-keyword")).value;
      const o = occurrence();
      return { mode: "keyword", keyword, occurrence: /** @type {any} */ (o.occurrence), n: o.n };
    }
  }
  return null;
}

async function startSeal() {
  if (!s.doc) return;
  s.error = null;
  s.result = null;
  if (s.sealId === null) {
    s.error = { code: "seal-no-seal", message: C.t("seal.error.seal-no-seal") };
    C.rerender();
    return;
  }
  const p = placement();
  if (!p) {
    s.error = { code: "seal-no-position", message: C.t("seal.error.seal-no-position") };
    C.rerender();
    return;
  }
  Object.assign(s, { phase: "waiting", run: null, qr: null, qrText: "", code: null, rejected: 0 });
  C.rerender();
  try {
    const request = {
      path: s.doc.path,
      output: /** @type {HTMLInputElement} */ ($("seal-output")).value,
      seal_id: s.sealId,
      placement: p,
    };
    /** @type {SealStarted} */
    const started = await C.call("seal_start", { request });
    if (s.run === null) s.run = started.run;
  } catch (err) {
    s.phase = "failed";
    s.error = C.asIpcError(err);
  }
  C.rerender();
}

async function cancelSeal() {
  Object.assign(s, { run: null, phase: "idle", qr: null, code: null });
  C.rerender();
  await C.call("seal_cancel");
}

/** @param {SealEvent} e */
function onEvent(e) {
  if (s.run === null && (s.phase === "waiting" || s.phase === "joined")) s.run = e.run;
  if (e.run !== s.run) return;
  switch (e.kind) {
    case "qr":
      s.qr = e.image;
      s.qrText = e.text;
      s.expiresAt = e.expires_at_ms;
      break;
    case "rejected":
      s.rejected = e.total;
      break;
    case "joined":
      s.phase = "joined";
      s.code = e.code;
      break;
    case "sent":
      s.phase = "sent";
      break;
    case "done":
      s.phase = "done";
      s.result = e.result;
      s.code = e.result.verification_code;
      s.qr = null;
      break;
    case "failed":
      s.phase = "failed";
      s.error = e.error;
      s.qr = null;
      break;
  }
  C.rerender();
  if (e.kind === "done") $("seal-result").scrollIntoView({ block: "start" });
  if (e.kind === "qr" && !$("seal-sign").hidden) $("seal-sign").scrollIntoView({ block: "nearest" });
}

// ---------------------------------------------------------------------------------------
// Dragging the seal (pointer events: mouse, pen, touch, and WebDriver's pointer actions)
// ---------------------------------------------------------------------------------------

/** @type {{ghost: HTMLElement, seal: SealPick} | null} */
let drag = null;

/** The page image's rectangle and the page's px per point (null without a page). */
function viewGeometry() {
  const img = /** @type {HTMLImageElement | null} */ (document.getElementById("seal-page-img"));
  const info = pageInfo(s.page);
  if (!img || !info) return null;
  const rect = img.getBoundingClientRect();
  return { rect, pxPerPt: rect.width / info.width_pt, info };
}

/** @param {SealPick} seal @param {PointerEvent} ev */
function startDrag(seal, ev) {
  if (!seal.usable || !seal.image) return;
  ev.preventDefault();
  s.sealId = seal.id;
  const g = viewGeometry();
  const scale = g ? g.pxPerPt : 1;
  const ghost = C.el("img", { cls: "seal-ghost", data: { testid: "seal-ghost" } });
  /** @type {HTMLImageElement} */ (ghost).src = seal.image;
  ghost.style.width = `${seal.width_mm * MM_TO_PT * scale}px`;
  ghost.style.height = `${seal.height_mm * MM_TO_PT * scale}px`;
  document.body.append(ghost);
  drag = { ghost, seal };
  moveDrag(ev);
}

/** @param {PointerEvent} ev */
function moveDrag(ev) {
  if (!drag) return;
  const g = drag.ghost;
  g.style.left = `${ev.clientX - g.offsetWidth / 2}px`;
  g.style.top = `${ev.clientY - g.offsetHeight / 2}px`;
}

/** @param {PointerEvent} ev */
function endDrag(ev) {
  if (!drag) return;
  drag.ghost.remove();
  drag = null;
  const g = viewGeometry();
  if (!g) return;
  const x = (ev.clientX - g.rect.left) / g.rect.width;
  const y = (ev.clientY - g.rect.top) / g.rect.height;
  if (x < 0 || x > 1 || y < 0 || y > 1) return;
  s.drop = { page: s.page, x, y };
  if (s.mode === "seam" || s.mode === "keyword") s.mode = "page";
  C.rerender();
}

// ---------------------------------------------------------------------------------------
// Render
// ---------------------------------------------------------------------------------------

/** @param {string} id @param {string} key @param {Record<string, unknown>} [vars] */
function text(id, key, vars) {
  $(id).textContent = C.t(key, vars);
}

function mm(/** @type {number} */ v) {
  return v.toFixed(1);
}

function renderSeals() {
  const list = $("seal-seals");
  list.replaceChildren();
  if (!s.seals.length) {
    list.append(C.el("li", { cls: "hint", text: C.t("seal.no_seals"), data: { testid: "seal-no-seals" } }));
  }
  for (const seal of s.seals) {
    const li = C.el("li", {
      cls: `seal-choice${seal.id === s.sealId ? " chosen" : ""}${seal.usable ? "" : " unusable"}`,
      data: { testid: "seal-choice", id: seal.id, widthMm: seal.width_mm, heightMm: seal.height_mm, usable: seal.usable },
    });
    const pic = C.el(seal.image ? "img" : "div", { cls: "seal-pic", data: { testid: "seal-choice-img" } });
    if (seal.image) {
      /** @type {HTMLImageElement} */ (pic).src = seal.image;
      /** @type {HTMLImageElement} */ (pic).alt = seal.name;
      /** @type {HTMLImageElement} */ (pic).draggable = false;
      pic.title = C.t("seal.drag_hint");
    }
    pic.addEventListener("pointerdown", (ev) => startDrag(seal, /** @type {PointerEvent} */ (ev)));
    const info = C.el("div", { cls: "seal-info" });
    info.append(
      C.el("strong", { text: seal.name }),
      C.el("span", {
        cls: "hint",
        text: C.t("seal.seal_line", {
          kind: C.lang() === "zh-CN" ? seal.kind_zh : C.t(`seal.kind.${seal.kind}`),
          w: mm(seal.width_mm),
          h: mm(seal.height_mm),
        }),
      }),
    );
    if (!seal.usable) info.append(C.el("span", { cls: "note", text: C.t("seal.unusable", { reason: seal.reason ?? "" }) }));
    li.append(pic, info);
    li.addEventListener("click", () => {
      if (!seal.usable) return;
      s.sealId = seal.id;
      C.rerender();
    });
    list.append(li);
  }
}

function renderThumbs() {
  const thumbs = $("seal-thumbs");
  thumbs.replaceChildren();
  if (!s.doc) return;
  for (const p of s.doc.pages) {
    const b = C.el("button", {
      cls: `seal-thumb${p.page === s.page ? " current" : ""}`,
      data: { testid: "seal-thumb", page: p.page },
    });
    /** @type {HTMLButtonElement} */ (b).type = "button";
    const img = /** @type {HTMLImageElement} */ (C.el("img"));
    img.src = p.image;
    img.alt = C.t("seal.page_n", { n: p.page });
    const hits = s.hits.filter((h) => h.page === p.page).length;
    b.append(img, C.el("span", { text: hits ? C.t("seal.page_hits", { n: p.page, hits }) : C.t("seal.page_n", { n: p.page }) }));
    b.addEventListener("click", () => {
      s.page = p.page;
      C.rerender();
    });
    thumbs.append(b);
  }
  if (s.doc.page_count > s.doc.pages.length) {
    thumbs.append(C.el("p", { cls: "hint", text: C.t("seal.pages_shown", { n: s.doc.pages.length, total: s.doc.page_count }) }));
  }
}

/** @param {HTMLElement} frame @param {{left: number, top: number, width: number, height: number}} b @param {string} cls @param {Record<string, unknown>} data */
function box(frame, b, cls, data) {
  const e = C.el("div", { cls, data });
  e.style.left = `${b.left * 100}%`;
  e.style.top = `${b.top * 100}%`;
  e.style.width = `${b.width * 100}%`;
  e.style.height = `${b.height * 100}%`;
  frame.append(e);
  return e;
}

/** A seal picture at true size centred on (cx, cy), fractions of the page. */
function sealAt(/** @type {HTMLElement} */ frame, /** @type {number} */ cx, /** @type {number} */ cy, /** @type {string} */ testid) {
  const seal = sealChosen();
  const info = pageInfo(s.page);
  if (!seal || !seal.image || !info) return null;
  const w = (seal.width_mm * MM_TO_PT) / info.width_pt;
  const h = (seal.height_mm * MM_TO_PT) / info.height_pt;
  const img = /** @type {HTMLImageElement} */ (C.el("img", { cls: "seal-overlay", data: { testid, x: cx, y: cy } }));
  img.src = seal.image;
  img.alt = seal.name;
  img.draggable = false;
  img.style.left = `${(cx - w / 2) * 100}%`;
  img.style.top = `${(cy - h / 2) * 100}%`;
  img.style.width = `${w * 100}%`;
  img.style.height = `${h * 100}%`;
  img.addEventListener("pointerdown", (ev) => startDrag(seal, /** @type {PointerEvent} */ (ev)));
  frame.append(img);
  return img;
}

function renderView() {
  const view = $("seal-view");
  view.replaceChildren();
  const info = pageInfo(s.page);
  if (!s.doc || !info) return;
  const frame = C.el("div", { cls: "page-frame seal-frame", data: { testid: "seal-page", page: info.page, widthPt: info.width_pt, heightPt: info.height_pt } });
  const img = /** @type {HTMLImageElement} */ (C.el("img", { data: { testid: "seal-page-img" } }));
  img.id = "seal-page-img";
  img.src = info.image;
  img.alt = C.t("seal.page_n", { n: info.page });
  img.draggable = false;
  frame.append(img);
  if (s.mode === "keyword") {
    for (const h of s.hits.filter((x) => x.page === info.page)) {
      box(frame, h.area, `seal-hit${h.chosen ? " chosen" : ""}`, { testid: "seal-hit", page: h.page, chosen: h.chosen });
      if (h.chosen) sealAt(frame, h.area.left + h.area.width / 2, h.area.top + h.area.height / 2, "seal-preview");
    }
  } else if (s.mode === "seam") {
    const seal = sealChosen();
    if (seal) {
      const w = (seal.width_mm * MM_TO_PT) / info.width_pt / Math.max(2, Math.min(12, s.doc.page_count));
      const h = (seal.height_mm * MM_TO_PT) / info.height_pt;
      box(frame, { left: 1 - w, top: 0.5 - h / 2, width: w, height: h }, "seal-seam", { testid: "seal-seam" });
    }
  } else if (s.drop && (s.drop.page === info.page || s.mode !== "page")) {
    sealAt(frame, s.drop.x, s.drop.y, "seal-overlay");
  }
  view.append(frame, C.el("p", { cls: "hint", text: C.t("seal.page_of", { n: info.page, total: s.doc.page_count }) }));
}

function renderSign() {
  const running = s.phase === "waiting" || s.phase === "joined" || s.phase === "sent";
  $("seal-sign").hidden = !(running && (s.qr || s.code));
  const img = /** @type {HTMLImageElement} */ ($("seal-qr"));
  img.hidden = !s.qr;
  if (s.qr && img.src !== s.qr) img.src = s.qr;
  img.dataset.qrText = s.qrText;
  img.alt = C.t("seal.qr_alt");
  const left = Math.max(0, Math.round((s.expiresAt - Date.now()) / 1000));
  const cd = $("seal-countdown");
  cd.dataset.seconds = String(left);
  cd.textContent = !s.qr ? "" : s.phase === "waiting" ? C.t("seal.expires_in", { n: left }) : C.t("seal.scanned");
  const code = $("seal-code");
  code.hidden = !s.code;
  code.dataset.code = s.code ?? "";
  code.textContent = s.code ? C.t("seal.code", { code: s.code }) : "";
  $("seal-rejected").hidden = s.rejected === 0;
  text("seal-rejected", "seal.rejected", { n: s.rejected });
  $("seal-sent").hidden = s.phase !== "sent";
  text("seal-sent", "seal.sent");
  $("seal-start").hidden = running;
  $("seal-cancel").hidden = !running;
}

function renderResult() {
  const r = s.result;
  const card = $("seal-result");
  card.hidden = !r;
  if (!r) return;
  const v = r.verify;
  card.dataset.status = v.status;
  card.dataset.output = r.output;
  const pill = $("seal-result-status");
  pill.dataset.state = v.status === "valid" ? "enrolled" : "error";
  pill.dataset.status = v.status;
  pill.textContent = C.t(`seal.doc_status.${v.status}`);
  const facts = $("seal-result-facts");
  facts.replaceChildren();
  const fact = (/** @type {string} */ key, /** @type {string} */ value, /** @type {string} */ testid) => {
    const d = C.el("div");
    d.append(C.el("dt", { text: C.t(key) }), C.el("dd", { text: value, data: { testid } }));
    facts.append(d);
  };
  const stamps = v.signatures.reduce((n, x) => n + x.stamps.length, 0);
  fact("seal.result.output", r.output, "seal-result-output");
  fact("seal.result.seal", r.seal_name, "seal-result-seal");
  fact("seal.result.signer", `${r.signer} · ${r.signer_serial}`, "seal-result-signer");
  fact("seal.result.signatures", C.t("seal.result.signatures_value", { n: v.signatures.length, stamps }), "seal-result-signatures");
  fact("seal.result.code", r.verification_code, "seal-result-code");
  if (v.problems.length) fact("seal.result.problems", v.problems.join("; "), "seal-result-problems");
  const pages = $("seal-result-pages");
  pages.replaceChildren();
  for (const p of v.pages) {
    if (!p.stamps.length) continue;
    const fig = C.el("figure", { cls: "page", data: { testid: "seal-result-page", page: p.page } });
    const frame = C.el("div", { cls: "page-frame" });
    const img = /** @type {HTMLImageElement} */ (C.el("img"));
    img.src = p.image;
    img.alt = C.t("seal.page_n", { n: p.page });
    frame.append(img);
    for (const b of p.stamps) box(frame, b, "stamp-box", { testid: "seal-result-stamp", signature: b.signature, stamp: b.stamp });
    fig.append(frame, C.el("figcaption", { text: C.t("seal.page_n", { n: p.page }) }));
    pages.append(fig);
  }
}

/** @type {import("../screen").Screen} */
export default {
  id: "seal",
  async init(ctx) {
    C = ctx;
    build();
    await ctx.listen("seal-progress", (payload) => onEvent(payload));
    document.addEventListener("pointermove", (ev) => moveDrag(ev));
    document.addEventListener("pointerup", (ev) => endDrag(ev));
    setInterval(() => {
      if (s.qr) renderSign();
    }, 1000);
  },
  render(ctx) {
    C = ctx;
    text("seal-heading", "seal.heading");
    text("seal-hint", "seal.hint");
    /** @type {HTMLInputElement} */ ($("seal-path")).placeholder = C.t("seal.path_placeholder");
    text("seal-open", "seal.open");
    const pill = $("seal-state");
    pill.dataset.phase = s.phase;
    pill.dataset.state = s.phase === "done" ? "enrolled" : s.phase === "failed" ? "error" : "loading";
    pill.textContent = C.t(`seal.phase.${s.phase}`);
    const err = $("seal-error");
    err.hidden = !s.error;
    err.dataset.code = s.error?.code ?? "";
    err.textContent = s.error ? errorLine(s.error) : "";
    $("seal-busy").hidden = !s.opening;
    text("seal-busy", "seal.busy");

    $("seal-work").hidden = !s.doc;
    text("seal-seals-heading", "seal.seals");
    text("seal-seals-hint", "seal.seals_hint");
    text("seal-mode-heading", "seal.mode");
    for (const b of document.querySelectorAll("#seal-modes .seal-mode")) {
      const m = /** @type {HTMLElement} */ (b).dataset.mode ?? "";
      b.textContent = C.t(`seal.mode.${m}`);
      b.setAttribute("aria-pressed", String(m === s.mode));
    }
    for (const o of document.querySelectorAll("#seal-parity option, #seal-occurrence option")) {
      const sel = o.parentElement?.id === "seal-parity" ? "parity" : "occurrence";
      o.textContent = C.t(`seal.${sel}.${/** @type {HTMLElement} */ (o).dataset.key}`);
    }
    text("seal-first-label", "seal.first");
    text("seal-last-label", "seal.last");
    text("seal-parity-label", "seal.parity");
    text("seal-keyword-label", "seal.keyword");
    /** @type {HTMLInputElement} */ ($("seal-keyword")).placeholder = C.t("seal.keyword_placeholder");
    text("seal-occurrence-label", "seal.occurrence");
    text("seal-keyword-find", "seal.keyword_find");
    text("seal-output-label", "seal.output");
    text("seal-start", "seal.start");
    text("seal-cancel", "seal.cancel");
    text("seal-result-heading", "seal.result.heading");
    $("seal-range-row").hidden = !(s.mode === "range" || s.mode === "seam");
    $("seal-parity-row").hidden = s.mode !== "seam";
    $("seal-keyword-row").hidden = s.mode !== "keyword";
    $("seal-occurrence-row").hidden = s.mode !== "keyword";
    $("seal-nth").hidden = /** @type {HTMLSelectElement} */ ($("seal-occurrence")).value !== "nth";
    const note = $("seal-hits-note");
    note.hidden = s.mode !== "keyword" || !s.hits.length;
    note.dataset.count = String(s.hits.length);
    note.textContent = C.t("seal.hits", { n: s.hits.length, chosen: s.hits.filter((h) => h.chosen).length });

    const pos = $("seal-position");
    const d = s.drop;
    const dinfo = d ? s.doc?.page_sizes[d.page - 1] : null;
    const needsDrop = s.mode === "page" || s.mode === "all" || s.mode === "range";
    pos.hidden = !needsDrop;
    if (d && dinfo) {
      const [w, h] = dinfo;
      const xmm = (d.x * w) / MM_TO_PT;
      const ymm = (d.y * h) / MM_TO_PT;
      pos.dataset.xMm = String(xmm);
      pos.dataset.yMm = String(ymm);
      pos.textContent = C.t("seal.position", { page: d.page, x: mm(xmm), y: mm(ymm), px: (d.x * w).toFixed(1), py: ((1 - d.y) * h).toFixed(1) });
    } else {
      pos.textContent = C.t("seal.position_none");
    }
    renderSeals();
    renderThumbs();
    renderView();
    renderSign();
    renderResult();
  },
};
