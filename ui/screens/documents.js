// @ts-check
/// <reference path="../globals.d.ts" />
// 投标文件: tender package import, sections checklist, build with progress, preview.
// The same steps as `bidkit tender check`, `bidkit bid init|add|price|build|check`.

/** @typedef {import("../bindings").TenderView} TenderView */
/** @typedef {import("../bindings").ProjectInfo} ProjectInfo */
/** @typedef {import("../bindings").BuildResult} BuildResult */
/** @typedef {import("../bindings").BuildEvent} BuildEvent */
/** @typedef {import("../bindings").CheckResult} CheckResult */
/** @typedef {import("../bindings").IpcError} IpcError */
/** @typedef {import("../screen").ScreenContext} ScreenContext */

const state = {
  /** @type {TenderView | null} */
  tender: null,
  /** @type {ProjectInfo | null} */
  project: null,
  /** @type {BuildEvent | null} */
  progress: null,
  /** @type {BuildResult | null} */
  build: null,
  /** @type {CheckResult | null} */
  check: null,
  /** @type {IpcError | null} */
  error: null,
  /** @type {string} the command running, if any */
  busy: "",
  /** Progress events received during the last build. */
  events: 0,
};

/** @type {Record<string, any>} */
const ui = {};

/**
 * An element with attributes and children.
 * @param {ScreenContext} ctx @param {string} tag
 * @param {{cls?: string, text?: string, data?: Record<string, unknown>, testid?: string, i18n?: string, attrs?: Record<string, string>}} [o]
 * @param {(Node | string)[]} [kids]
 */
function mk(ctx, tag, o = {}, kids = []) {
  const e = ctx.el(tag, { cls: o.cls, text: o.text, data: o.data });
  if (o.testid) e.dataset.testid = o.testid;
  if (o.i18n) e.dataset.i18n = o.i18n;
  for (const [k, v] of Object.entries(o.attrs ?? {})) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

/**
 * A labelled text input.
 * @param {ScreenContext} ctx @param {string} testid @param {string} label
 * @param {[import("../bindings").PickKind, import("../bindings").PickFilter | null] | null} [pick] a 浏览… button: what it picks
 */
function field(ctx, testid, label, placeholder = "", pick = null) {
  const input = /** @type {HTMLInputElement} */ (mk(ctx, "input", { testid, attrs: { type: "text", spellcheck: "false" } }));
  if (placeholder) input.dataset.i18nPlaceholder = placeholder;
  ui[testid] = input;
  return mk(ctx, "label", { cls: "bid-field" }, [mk(ctx, "span", { i18n: label }), pick ? ctx.pathInput(input, pick[0], pick[1]) : input]);
}

/** A button. @param {ScreenContext} ctx @param {string} testid @param {string} label @param {() => void} onClick */
function button(ctx, testid, label, onClick, ghost = false) {
  const b = mk(ctx, "button", { testid, i18n: label, cls: ghost ? "ghost" : "", attrs: { type: "button" } });
  b.addEventListener("click", onClick);
  ui[testid] = b;
  return b;
}

/** Runs a command, keeping `busy` and `error` up to date. @param {ScreenContext} ctx */
async function run(ctx, what, work) {
  if (state.busy) return;
  state.busy = what;
  state.error = null;
  ctx.rerender();
  try {
    await work();
  } catch (err) {
    state.error = ctx.asIpcError(err);
  } finally {
    state.busy = "";
    ctx.rerender();
  }
}

const val = (id) => /** @type {HTMLInputElement} */ (ui[id]).value.trim();

/** @param {ScreenContext} ctx */
function loadTender(ctx) {
  run(ctx, "tender", async () => {
    state.tender = /** @type {TenderView} */ (await ctx.call("bid_tender_load", { request: { path: val("doc-tender-path") } }));
    if (!val("doc-project-dir")) ui["doc-project-dir"].value = `${state.tender.dir.replace(/\/+$/, "")}-bid`;
  });
}

/** @param {ScreenContext} ctx @param {ProjectInfo} p */
function adopt(ctx, p) {
  state.project = p;
  state.tender = p.tender;
  ui["doc-project-dir"].value = p.dir;
  if (!ui["doc-tender-path"].value) ui["doc-tender-path"].value = p.tender.dir;
}

/** @param {ScreenContext} ctx */
function createProject(ctx) {
  run(ctx, "project", async () => {
    const price = val("doc-price");
    adopt(
      ctx,
      await ctx.call("bid_project_init", {
        request: {
          tender: val("doc-tender-path"),
          dir: val("doc-project-dir"),
          bidder: val("doc-bidder"),
          uscc: val("doc-uscc"),
          quoted_price: price || null,
        },
      }),
    );
    state.build = null;
    state.check = null;
  });
}

/** @param {ScreenContext} ctx */
function openProject(ctx) {
  run(ctx, "project", async () => {
    adopt(ctx, await ctx.call("bid_project_open", { request: { path: val("doc-project-dir") } }));
    state.build = null;
    state.check = null;
  });
}

/** @param {ScreenContext} ctx */
function addFile(ctx) {
  run(ctx, "add", async () => {
    const p = state.project;
    if (!p) return;
    adopt(
      ctx,
      await ctx.call("bid_project_add", {
        request: { dir: p.dir, section: ui["doc-add-section"].value, file: val("doc-add-path") },
      }),
    );
    ui["doc-add-path"].value = "";
  });
}

/** @param {ScreenContext} ctx */
function build(ctx) {
  run(ctx, "build", async () => {
    const p = state.project;
    if (!p) return;
    state.progress = { stage: "planning", pages_done: 0, pages_total: 0, file: null };
    state.events = 0;
    state.build = null;
    const out = val("doc-build-out");
    state.build = /** @type {BuildResult} */ (await ctx.call("bid_build", { request: { dir: p.dir, out: out || null } }));
    state.progress = { stage: "done", pages_done: state.build.pages, pages_total: state.build.pages, file: null };
    adopt(ctx, await ctx.call("bid_project_open", { request: { path: p.dir } }));
    if (!val("doc-check-sealed")) ui["doc-check-sealed"].value = state.build.output;
  });
}

/** @param {ScreenContext} ctx @param {boolean} withOverride */
function check(ctx, withOverride) {
  run(ctx, "check", async () => {
    const p = state.project;
    if (!p) return;
    const reason = val("doc-override-reason");
    state.check = /** @type {CheckResult} */ (
      await ctx.call("bid_check", {
        request: {
          dir: p.dir,
          sealed: val("doc-check-sealed") || null,
          override_reason: withOverride && reason ? reason : null,
          by: null,
          integrity_only: /** @type {HTMLInputElement} */ (ui["doc-check-integrity"]).checked,
        },
      })
    );
  });
}

/** A fact (label + value). @param {ScreenContext} ctx */
function fact(ctx, label, value, testid, data = {}) {
  return mk(ctx, "div", {}, [mk(ctx, "dt", { text: ctx.t(label) }), mk(ctx, "dd", { text: value, testid, data })]);
}

/** @param {ScreenContext} ctx */
function renderTender(ctx) {
  const box = ui.tenderBox;
  const tender = state.tender;
  box.hidden = !tender;
  if (!tender) return box.replaceChildren();
  const facts = mk(ctx, "dl", { cls: "facts" }, [
    fact(ctx, "documents.tender.id", tender.tender_id, "doc-tender-id"),
    fact(ctx, "documents.tender.project", tender.project_name, "doc-project-name"),
    fact(ctx, "documents.tender.number", tender.project_number, "doc-project-number"),
    fact(ctx, "documents.tender.agent", tender.agent, "doc-agent"),
    fact(ctx, "documents.tender.deadline", tender.deadline, "doc-deadline"),
    fact(ctx, "documents.tender.opening", tender.opening, "doc-opening"),
    fact(ctx, "documents.tender.suite", ctx.t(`documents.suite.${tender.suite}`), "doc-suite", { suite: tender.suite }),
    fact(
      ctx,
      "documents.tender.price",
      ctx.t(tender.price_required ? "documents.price.required" : "documents.price.optional", {
        currency: tender.currency,
        max: tender.max_price ?? "—",
      }),
      "doc-price-rule",
    ),
  ]);
  const sections = mk(
    ctx,
    "ul",
    { cls: "bid-list" },
    tender.sections.map((s) =>
      mk(ctx, "li", { testid: "doc-req-section", data: { id: s.id, required: s.required } }, [
        mk(ctx, "strong", { text: s.title }),
        ` (${s.id}) · `,
        mk(ctx, "span", { cls: "pill", text: ctx.t(s.required ? "documents.required" : "documents.optional") }),
        ` · ${ctx.t("documents.accepts", { types: s.accept.join(", ") })}`,
      ]),
    ),
  );
  const seals = mk(
    ctx,
    "ul",
    { cls: "bid-list" },
    tender.seals.map((s) =>
      mk(ctx, "li", { testid: "doc-req-seal", data: { id: s.id, required: s.required } }, [
        mk(ctx, "strong", { text: s.kind }),
        ` · ${s.at} · `,
        mk(ctx, "span", { cls: "pill", text: ctx.t(s.required ? "documents.required" : "documents.optional") }),
        s.note ? ` · ${s.note}` : "",
      ]),
    ),
  );
  box.replaceChildren(
    facts,
    mk(ctx, "h3", { text: ctx.t("documents.tender.sections") }),
    sections,
    mk(ctx, "h3", { text: ctx.t("documents.tender.seals") }),
    seals,
  );
}

/** @param {ScreenContext} ctx */
function renderProject(ctx) {
  const p = state.project;
  ui.projectBox.hidden = !p;
  ui.buildCard.hidden = !p;
  ui.checkCard.hidden = !p;
  if (!p) return;
  ui.projectFacts.replaceChildren(
    fact(ctx, "documents.project.dir", p.dir, "doc-project-path"),
    fact(ctx, "documents.project.bidder", `${p.bidder} (${p.uscc})`, "doc-project-bidder"),
    fact(ctx, "documents.project.price", p.quoted_price ?? "—", "doc-project-price"),
    fact(ctx, "documents.project.built", p.built_file ? ctx.t("documents.project.builtPages", { file: p.built_file, pages: p.built_pages ?? 0 }) : "—", "doc-project-built"),
  );
  const rows = p.sections.map((s) => {
    const status = s.present ? "present" : s.requirement.required ? "missing" : "empty";
    return mk(ctx, "tr", { testid: "doc-section", data: { id: s.requirement.id, required: s.requirement.required, present: s.present } }, [
      mk(ctx, "td", { text: `${s.requirement.title} (${s.requirement.id})` }),
      mk(ctx, "td", { text: ctx.t(s.requirement.required ? "documents.required" : "documents.optional") }),
      mk(ctx, "td", { text: s.requirement.accept.join(", ") }),
      mk(ctx, "td", {}, [mk(ctx, "span", { cls: "bid-status", text: ctx.t(`documents.section.${status}`), data: { status } })]),
      mk(ctx, "td", {}, s.files.map((f) => mk(ctx, "div", { text: `${f.name} · ${f.file_type} · ${ctx.t("documents.bytes", { n: f.size })}` }))),
    ]);
  });
  ui.sectionRows.replaceChildren(...rows);
  const select = /** @type {HTMLSelectElement} */ (ui["doc-add-section"]);
  const chosen = select.value;
  select.replaceChildren(
    ...p.sections.map((s) => {
      const o = /** @type {HTMLOptionElement} */ (mk(ctx, "option", { text: `${s.requirement.title} — ${s.requirement.accept.join("/")}` }));
      o.value = s.requirement.id;
      return o;
    }),
  );
  if (chosen && p.sections.some((s) => s.requirement.id === chosen)) select.value = chosen;
}

/** @param {ScreenContext} ctx */
function renderBuild(ctx) {
  const pr = state.progress;
  const bar = /** @type {HTMLProgressElement} */ (ui["doc-build-progress"]);
  ui.buildProgressBox.hidden = !pr;
  if (pr) {
    bar.max = Math.max(pr.pages_total, 1);
    bar.value = pr.stage === "done" ? bar.max : pr.pages_done;
    bar.dataset.stage = pr.stage;
    bar.dataset.events = String(state.events);
    ui["doc-build-stage"].dataset.stage = pr.stage;
    ui["doc-build-stage"].textContent = ctx.t(`documents.stage.${pr.stage}`, {
      done: pr.pages_done,
      total: pr.pages_total,
      file: pr.file ?? "",
    });
  }
  const b = state.build;
  ui.buildResult.hidden = !b;
  if (!b) return;
  ui.buildFacts.replaceChildren(
    fact(ctx, "documents.build.output", b.output, "doc-build-output", { file: b.output }),
    fact(ctx, "documents.build.pages", ctx.t("documents.build.pagesValue", { pages: b.pages, toc: b.toc_pages }), "doc-build-pages", { pages: b.pages }),
    fact(ctx, "documents.build.bookmarks", String(b.bookmarks), "doc-build-bookmarks", { count: b.bookmarks }),
    fact(ctx, "documents.build.font", b.font_family, "doc-build-font"),
    fact(ctx, "documents.build.size", ctx.t("documents.bytes", { n: b.size }), "doc-build-size"),
    fact(ctx, "documents.build.sha256", b.sha256, "doc-build-sha256"),
  );
  ui.buildSections.replaceChildren(
    ...b.sections.map((s) =>
      mk(ctx, "li", { testid: "doc-built-section", data: { id: s.id, first: s.first_page, pages: s.pages } }, [
        ctx.t("documents.build.section", { title: s.title, first: s.first_page, last: s.first_page + Math.max(s.pages, 1) - 1, files: s.files.join(", ") }),
      ]),
    ),
  );
  if (ui.previews.dataset.file !== b.output + b.sha256) {
    ui.previews.dataset.file = b.output + b.sha256;
    ui.previews.replaceChildren(
      ...b.previews.map((p) => {
        const img = /** @type {HTMLImageElement} */ (mk(ctx, "img", { testid: "doc-preview", data: { page: p.page }, attrs: { alt: `p. ${p.page}` } }));
        img.src = p.image;
        return mk(ctx, "figure", { cls: "bid-thumb" }, [img, mk(ctx, "figcaption", { text: String(p.page) })]);
      }),
    );
  }
  ui.previewError.hidden = !b.preview_error;
  ui.previewError.textContent = b.preview_error ?? "";
}

/** @param {ScreenContext} ctx */
function renderCheck(ctx) {
  const c = state.check;
  ui.checkResult.hidden = !c;
  if (!c) return;
  const verdict = c.passed ? "passed" : c.may_proceed ? "overridden" : "failed";
  const v = ui["doc-check-verdict"];
  v.dataset.verdict = verdict;
  v.dataset.passed = String(c.passed);
  v.dataset.mayProceed = String(c.may_proceed);
  v.textContent = ctx.t(`documents.check.${verdict}`);
  ui.checkRows.replaceChildren(
    ...c.items.map((i) =>
      mk(ctx, "tr", { testid: "doc-check-item", data: { id: i.id, kind: i.kind, status: i.status, required: i.required } }, [
        mk(ctx, "td", { text: ctx.t(`documents.kind.${i.kind}`) }),
        mk(ctx, "td", { text: i.title }),
        mk(ctx, "td", {}, [mk(ctx, "span", { cls: "bid-status", data: { status: i.status === "ok" ? "present" : i.required ? "missing" : "empty" }, text: ctx.t(`documents.status.${i.status}`) })]),
        mk(ctx, "td", { text: i.reasons.join("；") }),
      ]),
    ),
  );
  ui.overrideBox.hidden = c.passed;
  const rec = c.override_record;
  ui["doc-override-record"].hidden = !rec;
  ui["doc-override-record"].textContent = rec ? ctx.t("documents.override.record", { who: rec.who, why: rec.why, at: rec.at }) : "";
  ui["doc-check-saved"].textContent = ctx.t("documents.check.saved", {
    file: c.saved,
    pdf: c.pdf ?? ctx.t("documents.check.noPdf"),
  });
}

export default {
  id: "documents",
  /** @param {ScreenContext} ctx */
  init(ctx) {
    const root = ctx.$("screen-documents");
    ui.tenderBox = mk(ctx, "div", { testid: "doc-tender" });
    const tenderCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "documents.tender.title" })]),
      mk(ctx, "p", { cls: "hint", i18n: "documents.tender.hint" }),
      mk(ctx, "div", { cls: "bid-row" }, [field(ctx, "doc-tender-path", "documents.tender.path", "documents.tender.pathPlaceholder", ["open", "tender"]), button(ctx, "doc-tender-load", "documents.tender.load", () => loadTender(ctx))]),
      ui.tenderBox,
    ]);

    ui.projectFacts = mk(ctx, "dl", { cls: "facts" });
    ui.sectionRows = mk(ctx, "tbody");
    const select = mk(ctx, "select", { testid: "doc-add-section" });
    ui["doc-add-section"] = select;
    ui.projectBox = mk(ctx, "div", { testid: "doc-project" }, [
      ui.projectFacts,
      mk(ctx, "table", { cls: "bid-table", testid: "doc-sections" }, [
        mk(ctx, "thead", {}, [
          mk(ctx, "tr", {}, ["documents.col.section", "documents.col.required", "documents.col.accept", "documents.col.status", "documents.col.files"].map((k) => mk(ctx, "th", { i18n: k }))),
        ]),
        ui.sectionRows,
      ]),
      mk(ctx, "div", { cls: "bid-row" }, [
        mk(ctx, "label", { cls: "bid-field bid-narrow" }, [mk(ctx, "span", { i18n: "documents.add.section" }), select]),
        field(ctx, "doc-add-path", "documents.add.path", "documents.add.pathPlaceholder", ["open", "section"]),
        button(ctx, "doc-add", "documents.add.button", () => addFile(ctx)),
      ]),
    ]);
    const projectCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "documents.project.title" })]),
      mk(ctx, "p", { cls: "hint", i18n: "documents.project.hint" }),
      mk(ctx, "div", { cls: "bid-grid" }, [
        field(ctx, "doc-project-dir", "documents.project.dirLabel", "", ["folder", null]),
        field(ctx, "doc-bidder", "documents.project.bidderLabel"),
        field(ctx, "doc-uscc", "documents.project.usccLabel"),
        field(ctx, "doc-price", "documents.project.priceLabel"),
      ]),
      mk(ctx, "div", { cls: "bid-actions" }, [
        button(ctx, "doc-project-create", "documents.project.create", () => createProject(ctx)),
        button(ctx, "doc-project-open", "documents.project.open", () => openProject(ctx), true),
      ]),
      ui.projectBox,
    ]);

    ui["doc-build-progress"] = mk(ctx, "progress", { testid: "doc-build-progress", cls: "bid-progress" });
    ui["doc-build-stage"] = mk(ctx, "div", { testid: "doc-build-stage", cls: "hint" });
    ui.buildProgressBox = mk(ctx, "div", {}, [ui["doc-build-progress"], ui["doc-build-stage"]]);
    ui.buildFacts = mk(ctx, "dl", { cls: "facts" });
    ui.buildSections = mk(ctx, "ul", { cls: "bid-list" });
    ui.previews = mk(ctx, "div", { cls: "bid-thumbs", testid: "doc-previews" });
    ui.previewError = mk(ctx, "div", { cls: "error", testid: "doc-preview-error" });
    ui.buildResult = mk(ctx, "div", { testid: "doc-build-result" }, [
      ui.buildFacts,
      ui.buildSections,
      mk(ctx, "h3", { i18n: "documents.build.preview" }),
      ui.previews,
      ui.previewError,
    ]);
    ui.buildCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "documents.build.title" })]),
      mk(ctx, "p", { cls: "hint", i18n: "documents.build.hint" }),
      mk(ctx, "div", { cls: "bid-row" }, [field(ctx, "doc-build-out", "documents.build.out", "documents.build.outPlaceholder", ["save", "pdf"]), button(ctx, "doc-build", "documents.build.button", () => build(ctx))]),
      ui.buildProgressBox,
      ui.buildResult,
    ]);

    const integrity = /** @type {HTMLInputElement} */ (mk(ctx, "input", { testid: "doc-check-integrity", attrs: { type: "checkbox" } }));
    ui["doc-check-integrity"] = integrity;
    ui["doc-check-verdict"] = mk(ctx, "span", { cls: "pill", testid: "doc-check-verdict" });
    ui.checkRows = mk(ctx, "tbody");
    ui["doc-override-record"] = mk(ctx, "p", { cls: "hint", testid: "doc-override-record" });
    ui["doc-check-saved"] = mk(ctx, "p", { cls: "hint", testid: "doc-check-saved" });
    ui.overrideBox = mk(ctx, "div", { cls: "bid-override" }, [
      mk(ctx, "p", { cls: "hint", i18n: "documents.override.hint" }),
      mk(ctx, "div", { cls: "bid-row" }, [field(ctx, "doc-override-reason", "documents.override.reason"), button(ctx, "doc-override", "documents.override.button", () => check(ctx, true), true)]),
    ]);
    ui.checkResult = mk(ctx, "div", { testid: "doc-check-result" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h3", { i18n: "documents.check.result" }), ui["doc-check-verdict"]]),
      mk(ctx, "table", { cls: "bid-table" }, [
        mk(ctx, "thead", {}, [mk(ctx, "tr", {}, ["documents.col.kind", "documents.col.item", "documents.col.status", "documents.col.reason"].map((k) => mk(ctx, "th", { i18n: k })))]),
        ui.checkRows,
      ]),
      ui["doc-override-record"],
      ui.overrideBox,
      ui["doc-check-saved"],
    ]);
    ui.checkCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "documents.check.title" })]),
      mk(ctx, "p", { cls: "hint", i18n: "documents.check.hint" }),
      mk(ctx, "div", { cls: "bid-row" }, [field(ctx, "doc-check-sealed", "documents.check.sealed", "documents.check.sealedPlaceholder", ["open", "pdf"]), button(ctx, "doc-check", "documents.check.button", () => check(ctx, false))]),
      mk(ctx, "label", { cls: "bid-check" }, [integrity, mk(ctx, "span", { i18n: "documents.check.integrityOnly" })]),
      ui.checkResult,
    ]);

    ui.error = mk(ctx, "div", { cls: "error", testid: "doc-error" });
    ui.busy = mk(ctx, "div", { cls: "hint", testid: "doc-busy" });
    root.replaceChildren(tenderCard, projectCard, ui.buildCard, ui.checkCard, ui.busy, ui.error);

    ctx.listen("bid-build-progress", (/** @type {BuildEvent} */ p) => {
      if (state.busy !== "build") return;
      state.events += 1;
      state.progress = p;
      renderBuild(ctx);
    });
  },
  /** @param {ScreenContext} ctx */
  render(ctx) {
    if (!ui.error) return;
    renderTender(ctx);
    renderProject(ctx);
    renderBuild(ctx);
    renderCheck(ctx);
    ui.busy.hidden = !state.busy;
    ui.busy.dataset.busy = state.busy;
    ui.busy.textContent = state.busy ? ctx.t("documents.busy") : "";
    for (const id of ["doc-tender-load", "doc-project-create", "doc-project-open", "doc-add", "doc-build", "doc-check", "doc-override"]) {
      ui[id].disabled = !!state.busy;
    }
    ui.error.hidden = !state.error;
    ui.error.textContent = state.error ? ctx.errorText(state.error) : "";
    // The full message (the catalogue's text may leave details out).
    ui.error.title = state.error ? state.error.message : "";
    ui.error.dataset.code = state.error ? state.error.code : "";
  },
};
