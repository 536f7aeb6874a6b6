// @ts-check
/// <reference path="../globals.d.ts" />
// 开标 (agent mode): the bids before decryption, decrypt by the bidder's scan, the
// verification of each decrypted bid, the opening record (confirmations, the agent's seal).

/** @typedef {import("../bindings").OpeningStatusView} OpeningStatusView */
/** @typedef {import("../bindings").BidRow} BidRow */
/** @typedef {import("../bindings").OpeningEvent} OpeningEvent */
/** @typedef {import("../bindings").DecryptedView} DecryptedView */
/** @typedef {import("../bindings").RecordView} RecordView */
/** @typedef {import("../bindings").SealChoiceView} SealChoiceView */
/** @typedef {import("../bindings").VerifyResult} VerifyResult */
/** @typedef {import("../bindings").OpeningJob} OpeningJob */
/** @typedef {import("../bindings").IpcError} IpcError */
/** @typedef {import("../screen").ScreenContext} Ctx */

const state = {
  /** @type {OpeningStatusView | null} */
  status: null,
  loading: false,
  /** @type {IpcError | null} */
  error: null,
  /** The running phone job. */
  job: {
    /** @type {number | null} */
    id: null,
    /** `decrypt`, `confirm` or `seal`. */
    task: "",
    /** The bidder (decrypt, confirm). */
    bidder: "",
    /** `idle`, `waiting`, `joined`, `approving`, `working`, `done`, `failed`. */
    phase: "idle",
    /** @type {string | null} */
    qr: null,
    qrText: "",
    /** @type {string | null} */
    code: null,
    step: "",
    detail: "",
    done: 0,
    total: 0,
    /** @type {IpcError | null} */
    error: null,
  },
  /** @type {DecryptedView | null} */
  decrypted: null,
  /** @type {RecordView | null} */
  record: null,
  /** @type {RecordView | null} */
  sealed: null,
  recordBusy: false,
  /** @type {SealChoiceView[]} */
  seals: [],
};

/** @type {Ctx} */
let C;

/**
 * A labelled path input row with its 浏览… button.
 * @param {string} id @param {string} labelKey @param {string} placeholderKey
 * @param {import("../bindings").PickKind} kind @param {import("../bindings").PickFilter | null} filter
 */
function field(id, labelKey, placeholderKey, kind, filter) {
  const row = C.el("label", { cls: "opening-field" });
  const span = C.el("span", { data: { i18n: labelKey } });
  const input = /** @type {HTMLInputElement} */ (C.el("input", { data: { testid: id, placeholder: placeholderKey } }));
  input.id = id;
  input.type = "text";
  input.spellcheck = false;
  input.autocomplete = "off";
  row.append(span, C.pathInput(input, kind, filter));
  return row;
}

function button(id, labelKey, cls = "", unique = true) {
  const b = /** @type {HTMLButtonElement} */ (C.el("button", { cls, data: { testid: id, i18n: labelKey } }));
  b.type = "button";
  if (unique) b.id = id;
  return b;
}

function card(id, headKey, hintKey) {
  const c = C.el("section", { cls: "card opening-card", data: { testid: id } });
  c.id = id;
  const head = C.el("div", { cls: "card-head" });
  head.append(C.el("h2", { data: { i18n: headKey } }));
  c.append(head);
  if (hintKey) c.append(C.el("p", { cls: "hint", data: { i18n: hintKey } }));
  return c;
}

/** The value of an input, trimmed. */
function val(id) {
  return String(C.$(id)?.value ?? "").trim();
}

function setError(err) {
  state.error = err ? C.asIpcError(err) : null;
  C.rerender();
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

async function load() {
  state.loading = true;
  state.error = null;
  C.rerender();
  try {
    state.status = /** @type {OpeningStatusView} */ (
      await C.call("opening_load", {
        request: { tender: val("opening-tender") || null, bids_dir: val("opening-bids"), out_dir: val("opening-out") || null },
      })
    );
    if (!val("opening-out")) C.$("opening-out").value = state.status.out_dir;
  } catch (err) {
    state.error = C.asIpcError(err);
  } finally {
    state.loading = false;
    C.rerender();
  }
}

function resetJob(task, bidder) {
  Object.assign(state.job, {
    id: null, task, bidder, phase: "waiting", qr: null, qrText: "", code: null,
    step: "", detail: "", done: 0, total: 0, error: null,
  });
}

/** Starts a phone job (`opening_decrypt`, `opening_confirm`, `opening_seal_record`). */
async function startJob(cmd, task, bidder, request) {
  resetJob(task, bidder);
  state.error = null;
  C.rerender();
  try {
    const started = /** @type {OpeningJob} */ (await C.call(cmd, { request }));
    state.job.id = started.job;
  } catch (err) {
    state.job.phase = "failed";
    state.job.error = C.asIpcError(err);
  }
  C.rerender();
}

function decrypt(uscc) {
  if (!state.status) return;
  state.decrypted = null;
  return startJob("opening_decrypt", "decrypt", uscc, {
    bids_dir: state.status.bids_dir,
    tender_id: state.status.tender_id,
    bidder: uscc,
    out_dir: state.status.out_dir,
  });
}

async function makeRecord() {
  if (!state.status) return;
  state.recordBusy = true;
  state.error = null;
  state.sealed = null;
  C.rerender();
  try {
    state.record = /** @type {RecordView} */ (
      await C.call("opening_record", {
        request: {
          bids_dir: state.status.bids_dir,
          out_dir: state.status.out_dir,
          tender: val("opening-tender") || null,
          output: null,
        },
      })
    );
    state.seals = /** @type {SealChoiceView[]} */ (await C.call("opening_seals"));
  } catch (err) {
    state.error = C.asIpcError(err);
  } finally {
    state.recordBusy = false;
    C.rerender();
  }
}

function confirm(uscc) {
  if (!state.record) return;
  return startJob("opening_confirm", "confirm", uscc, { record: state.record.written, bidder: uscc });
}

function sealRecord() {
  if (!state.record) return;
  const id = Number(val("opening-seal-id"));
  if (!Number.isInteger(id) || id <= 0) {
    setError({ code: "invalid-option", message: C.t("opening.seal.choose") });
    return;
  }
  return startJob("opening_seal_record", "seal", "", { record: state.record.written, seal_id: id, output: null });
}

/** @param {OpeningEvent} e */
function onEvent(e) {
  const j = state.job;
  if (j.id !== null && e.job !== j.id) return;
  if (j.id === null && j.phase !== "waiting") return;
  j.id = e.job;
  switch (e.kind) {
    case "qr":
      j.qr = e.image;
      j.qrText = e.text;
      break;
    case "joined":
      j.code = e.code;
      j.phase = "joined";
      break;
    case "waiting":
      j.phase = "approving";
      j.detail = e.summary.join(" · ");
      break;
    case "step":
      j.step = e.step;
      j.detail = e.detail;
      if (e.step === "decrypting") j.phase = "working";
      break;
    case "bytes":
      j.done = e.done;
      j.total = e.total;
      j.phase = "working";
      break;
    case "decrypted":
      j.phase = "done";
      state.decrypted = e.result;
      // The table shows the bid as opened.
      load();
      break;
    case "confirmed":
      j.phase = "done";
      state.record = e.record;
      break;
    case "sealed":
      j.phase = "done";
      state.sealed = e.record;
      break;
    case "failed":
      j.phase = "failed";
      j.error = e.error;
      break;
  }
  C.rerender();
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

function when(text) {
  if (!text) return C.t("common.none");
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toLocaleString(C.lang(), { hour12: false });
}

function short(hash) {
  return hash ? `${hash.slice(0, 12)}…${hash.slice(-6)}` : C.t("common.none");
}

function pill(stateName, text, testid) {
  return C.el("span", { cls: "pill opening-pill", text, data: { testid, state: stateName } });
}

/** @param {BidRow} b */
function bidRow(b) {
  const tr = C.el("tr", {
    data: { testid: "opening-bid", state: b.state, uscc: b.bidder_uscc ?? "", integrity: b.integrity, file: b.file_name },
  });
  const td = (text, testid, cls = "") => {
    const c = C.el("td", { cls, text, data: testid ? { testid } : {} });
    tr.append(c);
    return c;
  };
  const who = td("", "opening-bid-bidder");
  who.append(C.el("strong", { text: b.bidder_name ?? C.t("common.none") }));
  who.append(C.el("div", { cls: "opening-sub", text: b.bidder_uscc ?? "" }));
  td(b.submitted_at ? when(b.submitted_at) : C.t("opening.bids.no_receipt"), "opening-bid-submitted");
  const integ = td("", "opening-bid-integrity");
  integ.append(pill(b.integrity === "intact" ? "ok" : "problem", C.t(`opening.integrity.${b.integrity}`), "opening-bid-integrity-pill"));
  integ.append(C.el("div", { cls: "opening-sub", text: short(b.bid_file_hash ?? "") }));
  const signer = td("", "opening-bid-signer");
  const signed = b.signature_valid && !b.chain_problem;
  signer.append(pill(signed ? "ok" : "problem", C.t(signed ? "opening.signer.verified" : "opening.signer.invalid"), "opening-bid-signer-pill"));
  if (b.signer) signer.append(C.el("div", { cls: "opening-sub", text: b.signer }));
  const st = td("", "opening-bid-status");
  st.append(pill(b.state, C.t(`opening.state.${b.state}`), "opening-bid-state"));
  if (b.withdrawn) st.append(C.el("div", { cls: "opening-sub", text: C.t("opening.bids.withdrawn") }));
  const act = td("", "");
  if (b.state === "ok" || b.state === "opened") {
    const btn = button("opening-decrypt", "", b.state === "opened" ? "ghost" : "", false);
    btn.textContent = C.t(b.state === "opened" ? "opening.decrypt.again" : "opening.decrypt.button");
    btn.dataset.uscc = b.bidder_uscc ?? "";
    btn.disabled = isBusy();
    btn.addEventListener("click", () => decrypt(b.bidder_uscc ?? ""));
    act.append(btn);
  }
  const rows = [tr];
  if (b.problems.length || b.opened) {
    const extra = C.el("tr", { cls: "opening-extra" });
    const cell = C.el("td");
    cell.setAttribute("colspan", "6");
    if (b.problems.length) {
      const ul = C.el("ul", { cls: "problems", data: { testid: "opening-bid-problems" } });
      for (const p of b.problems) ul.append(C.el("li", { text: p }));
      cell.append(ul);
    }
    if (b.opened) {
      cell.append(
        C.el("p", {
          cls: "hint",
          text: C.t("opening.bids.opened_line", {
            price: b.opened.quoted_price ?? C.t("common.none"),
            valid: C.t(b.opened.summary.valid ? "opening.valid" : "opening.not_valid"),
            path: b.opened.pdf,
          }),
        }),
      );
    }
    extra.append(cell);
    rows.push(extra);
  }
  return rows;
}

function isBusy() {
  return ["waiting", "joined", "approving", "working"].includes(state.job.phase);
}

function renderBids() {
  const s = state.status;
  const body = C.$("opening-bids-body");
  const summary = C.$("opening-summary");
  body.replaceChildren();
  C.$("opening-bids-card").hidden = !s;
  if (!s) return;
  summary.replaceChildren(
    pill(s.all_sound ? "ok" : "problem", C.t(s.all_sound ? "opening.all_sound" : "opening.not_all_sound"), "opening-all-sound"),
  );
  summary.dataset.count = String(s.bids.length);
  const facts = C.$("opening-facts");
  facts.replaceChildren();
  const fact = (label, value, testid) => {
    const d = C.el("div");
    d.append(C.el("dt", { text: C.t(label) }), C.el("dd", { text: value, data: { testid } }));
    facts.append(d);
  };
  fact("opening.tender_id", s.tender_id ?? C.t("common.none"), "opening-tender-id");
  fact("opening.project", s.project_name ?? C.t("common.none"), "opening-project");
  fact("opening.count", C.t("opening.count_value", { n: s.bids.length }), "opening-count");
  fact("opening.checked_at", when(s.checked_at), "opening-checked-at");
  for (const b of s.bids) body.append(...bidRow(b));
  if (!s.bids.length) {
    const tr = C.el("tr");
    const td = C.el("td", { cls: "hint", text: C.t("opening.bids.none") });
    td.setAttribute("colspan", "6");
    tr.append(td);
    body.append(tr);
  }
  C.$("opening-record-make").disabled = state.recordBusy || isBusy();
}

function renderJob() {
  const j = state.job;
  const box = C.$("opening-scan");
  box.hidden = j.phase === "idle";
  box.dataset.phase = j.phase;
  box.dataset.task = j.task;
  C.$("opening-scan-title").textContent = C.t(`opening.task.${j.task || "decrypt"}`, { bidder: j.bidder });
  const img = /** @type {HTMLImageElement} */ (C.$("opening-qr"));
  const showQr = j.qr && (j.phase === "waiting");
  C.$("opening-qr-box").hidden = !showQr;
  if (j.qr && img.src !== j.qr) img.src = j.qr;
  img.dataset.qrText = j.qrText;
  img.alt = C.t("opening.scan.qr_alt");
  const code = C.$("opening-code");
  code.textContent = j.code ?? C.t("common.none");
  code.dataset.code = j.code ?? "";
  C.$("opening-phase").textContent = C.t(`opening.phase.${j.phase}`);
  C.$("opening-phase").dataset.phase = j.phase;
  C.$("opening-step").textContent = j.detail;
  const bar = /** @type {HTMLProgressElement} */ (C.$("opening-progress"));
  bar.hidden = !(j.total > 0);
  bar.max = j.total || 1;
  bar.value = j.done;
  bar.dataset.done = String(j.done);
  const err = C.$("opening-job-error");
  err.hidden = !j.error;
  err.textContent = j.error ? C.errorText(j.error) : "";
}

/** The rendered pages of a verification, small. @param {VerifyResult} v */
function pages(v, testid) {
  const box = C.el("div", { cls: "pages opening-pages", data: { testid } });
  for (const p of v.pages) {
    const fig = C.el("figure", { cls: "page opening-page", data: { testid: `${testid}-page`, page: p.page } });
    const frame = C.el("div", { cls: "page-frame" });
    const img = /** @type {HTMLImageElement} */ (C.el("img"));
    img.src = p.image;
    img.alt = C.t("opening.page_n", { n: p.page });
    frame.append(img);
    for (const b of p.stamps) {
      const s = C.el("div", { cls: "stamp-box", data: { testid: "opening-stamp-box", signature: b.signature } });
      s.style.left = `${b.left * 100}%`;
      s.style.top = `${b.top * 100}%`;
      s.style.width = `${b.width * 100}%`;
      s.style.height = `${b.height * 100}%`;
      frame.append(s);
    }
    fig.append(frame, C.el("figcaption", { text: C.t("opening.page_n", { n: p.page }) }));
    box.append(fig);
  }
  return box;
}

/** Signatures of a verification as a list. @param {VerifyResult} v */
function signatures(v, testid) {
  const ul = C.el("ul", { cls: "opening-sigs", data: { testid, count: v.signatures.length, status: v.status } });
  v.signatures.forEach((s, i) => {
    const li = C.el("li", { data: { testid: `${testid}-item`, status: s.status } });
    li.append(pill(s.status === "valid" ? "ok" : "problem", C.t(`opening.sig.${s.status}`), ""));
    li.append(
      C.el("span", {
        text: C.t("opening.sig.line", {
          n: i + 1,
          signer: s.signer ?? C.t("common.none"),
          time: when(s.signing_time),
          stamps: s.stamps.length,
          algorithm: s.algorithm ?? "",
        }),
      }),
    );
    ul.append(li);
  });
  return ul;
}

function renderDecrypted() {
  const d = state.decrypted;
  const c = C.$("opening-decrypted");
  c.hidden = !d;
  const body = C.$("opening-decrypted-body");
  body.replaceChildren();
  if (!d) return;
  const status = d.verify?.status ?? (d.summary.valid ? "valid" : "not_valid");
  c.dataset.status = status;
  c.dataset.uscc = d.bidder_uscc;
  c.dataset.pdf = d.pdf;
  C.$("opening-decrypted-verdict").replaceChildren(
    pill(d.summary.valid ? "ok" : "problem", C.t(d.summary.valid ? "opening.valid" : "opening.not_valid"), "opening-decrypted-verdict-pill"),
  );
  const facts = C.el("dl", { cls: "facts" });
  const fact = (label, value, testid, data = {}) => {
    const div = C.el("div");
    div.append(C.el("dt", { text: C.t(label) }), C.el("dd", { text: value, data: { testid, ...data } }));
    facts.append(div);
  };
  fact("opening.dec.bidder", `${d.bidder_name} (${d.bidder_uscc})`, "opening-dec-bidder");
  fact("opening.dec.price", d.quoted_price ?? C.t("opening.dec.no_price"), "opening-dec-price");
  fact("opening.dec.output", d.pdf, "opening-dec-output", { path: d.pdf });
  fact("opening.dec.size", C.t("opening.bytes", { n: d.content_size }), "opening-dec-size");
  fact("opening.dec.hash", short(d.content_hash), "opening-dec-hash");
  fact("opening.dec.code", d.verification_code, "opening-dec-code");
  fact(
    "opening.dec.summary",
    C.t("opening.summary_line", {
      valid: d.summary.valid_signatures,
      n: d.summary.signatures,
      stamps: d.summary.stamps,
      signers: d.summary.signers.join("、") || C.t("common.none"),
    }),
    "opening-dec-summary",
  );
  if (d.manifest) {
    fact(
      "opening.dec.manifest",
      C.t("opening.dec.manifest_line", {
        tender: d.manifest.tender_id,
        bidder: d.manifest.bidder_name,
        n: d.manifest.attachments.length,
      }),
      "opening-dec-manifest",
    );
  }
  body.append(facts);
  const probs = [...d.summary.problems, ...(d.manifest?.problems ?? [])];
  if (probs.length) {
    const ul = C.el("ul", { cls: "problems" });
    for (const p of probs) ul.append(C.el("li", { text: p }));
    body.append(ul);
  }
  if (d.verify) {
    body.append(C.el("h3", { text: C.t("opening.dec.signatures") }));
    body.append(signatures(d.verify, "opening-dec-signatures"));
    body.append(pages(d.verify, "opening-dec-pages"));
  }
}

/** @param {RecordView} r */
function recordBlock(r, prefix) {
  const box = C.el("div", { cls: "opening-record-block" });
  const facts = C.el("dl", { cls: "facts" });
  const fact = (label, value, testid, data = {}) => {
    const div = C.el("div");
    div.append(C.el("dt", { text: C.t(label) }), C.el("dd", { text: value, data: { testid, ...data } }));
    facts.append(div);
  };
  fact("opening.rec.path", r.path, `${prefix}-path`, { path: r.path });
  fact("opening.rec.sha256", short(r.sha256), `${prefix}-sha256`, { sha256: r.sha256 });
  fact("opening.rec.pages", String(r.pages), `${prefix}-pages`);
  const v = r.verify;
  fact(
    "opening.rec.verification",
    v ? C.t(`opening.doc.${v.status}`) : C.t("opening.rec.unreadable"),
    `${prefix}-verification`,
    { status: v?.status ?? "unreadable" },
  );
  if (r.verification_code) fact("opening.dec.code", r.verification_code, `${prefix}-code`);
  box.append(facts);
  if (v && v.signatures.length) box.append(signatures(v, `${prefix}-signatures`));
  if (r.confirmations.length) {
    const ul = C.el("ul", { cls: "opening-confirmations", data: { testid: `${prefix}-confirmations`, count: r.confirmations.length } });
    for (const c of r.confirmations) {
      ul.append(
        C.el("li", {
          cls: c.valid ? "" : "disallowed",
          text: c.valid
            ? C.t("opening.rec.confirmed_by", { name: c.bidder_name ?? "", uscc: c.bidder_uscc ?? "", at: when(c.confirmed_at) })
            : C.t("opening.rec.confirmation_invalid", { problem: c.problem ?? "" }),
          data: { testid: `${prefix}-confirmation`, valid: c.valid, uscc: c.bidder_uscc ?? "" },
        }),
      );
    }
    box.append(ul);
  }
  if (v) box.append(pages(v, `${prefix}-preview`));
  return box;
}

function renderRecord() {
  const r = state.record;
  const make = C.$("opening-record-make");
  make.disabled = !state.status || state.recordBusy || isBusy();
  C.$("opening-record-busy").hidden = !state.recordBusy;
  const body = C.$("opening-record-body");
  body.replaceChildren();
  C.$("opening-record-card").hidden = !state.status;
  C.$("opening-seal-row").hidden = !r;
  if (!r) return;
  const table = C.el("table", { cls: "opening-table", data: { testid: "opening-record-rows" } });
  const head = C.el("tr");
  for (const k of ["opening.col.bidder", "opening.rec.state", "opening.rec.price", "opening.rec.verification", ""]) {
    head.append(C.el("th", { text: k ? C.t(k) : "" }));
  }
  table.append(head);
  for (const row of r.rows) {
    const tr = C.el("tr", { data: { testid: "opening-record-row", uscc: row.bidder_uscc } });
    const who = C.el("td");
    who.append(C.el("strong", { text: row.bidder_name }), C.el("div", { cls: "opening-sub", text: row.bidder_uscc }));
    tr.append(who);
    tr.append(C.el("td", { text: row.state }));
    tr.append(C.el("td", { text: row.quoted_price ?? C.t("common.none"), data: { testid: "opening-record-price" } }));
    tr.append(C.el("td", { cls: "opening-sub", text: row.verification[0] ?? "" }));
    const act = C.el("td");
    const confirmed = r.confirmations.some((c) => c.valid && c.bidder_uscc === row.bidder_uscc);
    if (confirmed) {
      act.append(pill("ok", C.t("opening.rec.confirmed"), "opening-record-confirmed"));
    } else if (row.bidder_uscc && row.bidder_uscc !== "—") {
      const btn = button("opening-confirm", "", "ghost", false);
      btn.textContent = C.t("opening.rec.confirm");
      btn.dataset.uscc = row.bidder_uscc;
      btn.disabled = isBusy() || !!state.sealed;
      btn.addEventListener("click", () => confirm(row.bidder_uscc));
      act.append(btn);
    }
    tr.append(act);
    table.append(tr);
  }
  body.append(table);
  const written = C.el("div", { data: { testid: "opening-record", path: r.path, sha256: r.sha256, status: r.verify?.status ?? "" } });
  written.append(C.el("h3", { text: C.t("opening.rec.written") }), recordBlock(r, "opening-record"));
  body.append(written);
  if (state.sealed) {
    const s = state.sealed;
    const sealed = C.el("div", {
      cls: "opening-sealed",
      data: { testid: "opening-record-sealed", path: s.path, status: s.verify?.status ?? "" },
    });
    sealed.append(C.el("h3", { text: C.t("opening.rec.sealed") }), recordBlock(s, "opening-sealed"));
    body.append(sealed);
  }
  const select = /** @type {HTMLSelectElement} */ (C.$("opening-seal-select"));
  const current = select.value;
  select.replaceChildren();
  for (const s of state.seals) {
    const o = /** @type {HTMLOptionElement} */ (C.el("option", { text: `#${s.id} ${s.name}${s.usable ? "" : ` (${C.t("opening.seal.unusable")})`}` }));
    o.value = String(s.id);
    select.append(o);
  }
  if (current && state.seals.some((s) => String(s.id) === current)) select.value = current;
  if (!val("opening-seal-id") && select.value) C.$("opening-seal-id").value = select.value;
  C.$("opening-seal-record").disabled = isBusy();
}

function renderError() {
  const e = C.$("opening-error");
  e.hidden = !state.error;
  e.textContent = state.error ? C.errorText(state.error) : "";
  C.$("opening-load").disabled = state.loading || isBusy();
  C.$("opening-load-busy").hidden = !state.loading;
}

/** Fills the `data-i18n` texts and `data-placeholder` placeholders of the screen. */
function translate(root) {
  for (const e of root.querySelectorAll("[data-i18n]")) {
    const k = /** @type {HTMLElement} */ (e).dataset.i18n;
    if (k) e.textContent = C.t(k);
  }
  for (const e of root.querySelectorAll("[data-placeholder]")) {
    const k = /** @type {HTMLElement} */ (e).dataset.placeholder;
    if (k) /** @type {HTMLInputElement} */ (e).placeholder = C.t(k);
  }
}

/** @type {import("../screen").Screen} */
export default {
  id: "opening",
  init(ctx) {
    C = ctx;
    const root = ctx.$("screen-opening");
    root.replaceChildren();

    // 1. What is opened.
    const setup = card("opening-setup", "opening.heading", "opening.hint");
    setup.append(
      field("opening-tender", "opening.tender", "opening.tender_ph", "open", "tender"),
      field("opening-bids", "opening.bids_dir", "opening.bids_dir_ph", "folder", null),
      field("opening-out", "opening.out_dir", "opening.out_dir_ph", "folder", null),
    );
    const row = C.el("div", { cls: "opening-actions" });
    const loadBtn = button("opening-load", "opening.load");
    loadBtn.addEventListener("click", () => load());
    row.append(loadBtn, C.el("span", { cls: "busy", data: { i18n: "opening.loading", testid: "opening-load-busy" } }));
    /** @type {HTMLElement} */ (row.lastChild).id = "opening-load-busy";
    setup.append(row);
    const err = C.el("div", { cls: "error", data: { testid: "opening-error" } });
    err.id = "opening-error";
    err.setAttribute("role", "alert");
    err.hidden = true;
    setup.append(err);

    // 2. The bids before decryption.
    const bids = card("opening-bids-card", "opening.bids.heading", "opening.bids.hint");
    const summary = C.el("span", { data: { testid: "opening-summary" } });
    summary.id = "opening-summary";
    bids.querySelector(".card-head")?.append(summary);
    const facts = C.el("dl", { cls: "facts" });
    facts.id = "opening-facts";
    bids.append(facts);
    const table = C.el("table", { cls: "opening-table", data: { testid: "opening-bids" } });
    const head = C.el("tr");
    for (const k of ["opening.col.bidder", "opening.col.submitted", "opening.col.integrity", "opening.col.signer", "opening.col.status", ""]) {
      head.append(C.el("th", { data: k ? { i18n: k } : {} }));
    }
    const thead = C.el("thead");
    thead.append(head);
    const tbody = C.el("tbody");
    tbody.id = "opening-bids-body";
    table.append(thead, tbody);
    bids.append(table);
    bids.hidden = true;

    // 3. The scan (decrypt, confirm, seal).
    const scan = card("opening-scan", "", "");
    scan.querySelector("h2")?.setAttribute("id", "opening-scan-title");
    scan.hidden = true;
    const phase = C.el("span", { cls: "pill", data: { testid: "opening-phase" } });
    phase.id = "opening-phase";
    scan.querySelector(".card-head")?.append(phase);
    const sbody = C.el("div", { cls: "login-body" });
    const fig = C.el("figure", { cls: "qr" });
    fig.id = "opening-qr-box";
    const img = C.el("img", { data: { testid: "opening-qr" } });
    img.id = "opening-qr";
    fig.append(img, C.el("figcaption", { data: { i18n: "opening.scan.caption" } }));
    const side = C.el("div", { cls: "login-side" });
    const codeLine = C.el("p");
    codeLine.append(C.el("span", { data: { i18n: "opening.scan.code" } }), C.el("span", { text: " " }));
    const code = C.el("span", { cls: "code", data: { testid: "opening-code" } });
    code.id = "opening-code";
    codeLine.append(code);
    const step = C.el("p", { cls: "hint", data: { testid: "opening-step" } });
    step.id = "opening-step";
    const bar = C.el("progress", { data: { testid: "opening-progress" } });
    bar.id = "opening-progress";
    const jerr = C.el("div", { cls: "error", data: { testid: "opening-job-error" } });
    jerr.id = "opening-job-error";
    jerr.hidden = true;
    side.append(C.el("p", { cls: "hint", data: { i18n: "opening.scan.hint" } }), codeLine, step, bar, jerr);
    sbody.append(fig, side);
    scan.append(sbody);

    // 4. The decrypted bid.
    const dec = card("opening-decrypted", "opening.dec.heading", "");
    dec.hidden = true;
    const verdict = C.el("span");
    verdict.id = "opening-decrypted-verdict";
    dec.querySelector(".card-head")?.append(verdict);
    const dbody = C.el("div");
    dbody.id = "opening-decrypted-body";
    dec.append(dbody);

    // 5. The opening record.
    const rec = card("opening-record-card", "opening.rec.heading", "opening.rec.hint");
    rec.hidden = true;
    const rrow = C.el("div", { cls: "opening-actions" });
    const make = button("opening-record-make", "opening.rec.make");
    make.addEventListener("click", () => makeRecord());
    const rbusy = C.el("span", { cls: "busy", data: { i18n: "opening.rec.making" } });
    rbusy.id = "opening-record-busy";
    rrow.append(make, rbusy);
    rec.append(rrow);
    const rbody = C.el("div");
    rbody.id = "opening-record-body";
    rec.append(rbody);
    const sealRow = C.el("div", { cls: "opening-actions" });
    sealRow.id = "opening-seal-row";
    const select = C.el("select", { data: { testid: "opening-seal-select" } });
    select.id = "opening-seal-select";
    select.addEventListener("change", () => {
      C.$("opening-seal-id").value = /** @type {HTMLSelectElement} */ (select).value;
    });
    const sealId = /** @type {HTMLInputElement} */ (C.el("input", { cls: "opening-seal-id", data: { testid: "opening-seal-id", placeholder: "opening.seal.id_ph" } }));
    sealId.id = "opening-seal-id";
    sealId.type = "text";
    sealId.inputMode = "numeric";
    const sealBtn = button("opening-seal-record", "opening.seal.button");
    sealBtn.addEventListener("click", () => sealRecord());
    sealRow.append(C.el("span", { data: { i18n: "opening.seal.label" } }), select, sealId, sealBtn);
    rec.append(sealRow);

    root.append(setup, bids, scan, dec, rec);
    ctx.listen("opening-progress", onEvent);
  },
  render(ctx) {
    C = ctx;
    const root = ctx.$("screen-opening");
    translate(root);
    renderError();
    renderBids();
    renderJob();
    renderDecrypted();
    renderRecord();
    translate(root);
  },
};
