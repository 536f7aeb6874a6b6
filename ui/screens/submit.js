// @ts-check
/// <reference path="../globals.d.ts" />
// 加密 / 递交 / 撤标: encrypt with progress, submission receipt, withdrawal.
// The same use cases as `bidkit bid encrypt|submit|withdraw|inspect`, over the relay the
// settings name (the embedded one by default), answered by the phone's scans.

/** @typedef {import("../bindings").BidEvent} BidEvent */
/** @typedef {import("../bindings").EncryptResult} EncryptResult */
/** @typedef {import("../bindings").StatementResult} StatementResult */
/** @typedef {import("../bindings").InspectResult} InspectResult */
/** @typedef {import("../bindings").IpcError} IpcError */
/** @typedef {import("../screen").ScreenContext} ScreenContext */

const state = {
  /** @type {string} the operation running (`encrypt`, `submit`, `withdraw`), if any */
  busy: "",
  /** The live session of the running operation. */
  live: {
    /** @type {string | null} */ qr: null,
    qrText: "",
    frames: 0,
    /** @type {string | null} */ code: null,
    step: "",
    detail: "",
    /** @type {string[]} */ waiting: [],
    done: 0,
    total: 0,
  },
  /** @type {EncryptResult | null} */
  encrypted: null,
  /** @type {InspectResult | null} */
  inspect: null,
  /** @type {StatementResult | null} */
  receipt: null,
  /** @type {StatementResult | null} */
  withdrawal: null,
  confirming: false,
  /** @type {IpcError | null} */
  error: null,
};

/** @type {Record<string, any>} */
const ui = {};

/**
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

/** @param {ScreenContext} ctx @param {string} testid @param {string} label @param {() => void} onClick */
function button(ctx, testid, label, onClick, ghost = false) {
  const b = mk(ctx, "button", { testid, i18n: label, cls: ghost ? "ghost" : "", attrs: { type: "button" } });
  b.addEventListener("click", onClick);
  ui[testid] = b;
  return b;
}

const val = (id) => /** @type {HTMLInputElement} */ (ui[id]).value.trim();

/** @param {ScreenContext} ctx */
async function run(ctx, op, work) {
  if (state.busy) return;
  state.busy = op;
  state.error = null;
  state.live = { qr: null, qrText: "", frames: 0, code: null, step: "", detail: "", waiting: [], done: 0, total: 0 };
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

/** @param {ScreenContext} ctx @param {string} path */
async function inspect(ctx, path) {
  state.inspect = /** @type {InspectResult} */ (await ctx.call("bid_inspect", { request: { path } }));
  ui["sub-inspect-path"].value = path;
}

/** @param {ScreenContext} ctx */
function encrypt(ctx) {
  run(ctx, "encrypt", async () => {
    state.encrypted = null;
    const r = /** @type {EncryptResult} */ (
      await ctx.call("bid_encrypt", {
        request: {
          pdf: val("sub-pdf"),
          project: val("sub-project") || null,
          output: val("sub-output") || null,
          tender_id: val("sub-tender-id") || null,
        },
      })
    );
    state.encrypted = r;
    state.inspect = r.inspect;
    ui["sub-inspect-path"].value = r.file;
    ui["sub-bid-file"].value = r.file;
  });
}

/** @param {ScreenContext} ctx */
function submit(ctx) {
  run(ctx, "submit", async () => {
    state.receipt = null;
    const bid = val("sub-bid-file");
    state.receipt = /** @type {StatementResult} */ (await ctx.call("bid_submit", { request: { bid_file: bid, output: null, reason: null } }));
    await inspect(ctx, bid);
  });
}

/** @param {ScreenContext} ctx */
function withdraw(ctx) {
  state.confirming = false;
  run(ctx, "withdraw", async () => {
    state.withdrawal = null;
    const bid = val("sub-bid-file");
    state.withdrawal = /** @type {StatementResult} */ (
      await ctx.call("bid_withdraw", { request: { bid_file: bid, output: null, reason: val("sub-withdraw-reason") } })
    );
  });
}

/** @param {ScreenContext} ctx */
function fact(ctx, label, value, testid, data = {}) {
  return mk(ctx, "div", {}, [mk(ctx, "dt", { text: ctx.t(label) }), mk(ctx, "dd", { text: value, testid, data })]);
}

/** @param {ScreenContext} ctx */
function renderLive(ctx) {
  const l = state.live;
  ui.live.hidden = !state.busy;
  ui.live.dataset.op = state.busy;
  ui.liveTitle.textContent = state.busy ? ctx.t(`submit.live.${state.busy}`) : "";
  const img = /** @type {HTMLImageElement} */ (ui["sub-qr"]);
  img.hidden = !l.qr || !!l.code;
  if (l.qr && img.src !== l.qr) img.src = l.qr;
  img.dataset.qrText = l.qrText;
  img.dataset.op = state.busy;
  img.dataset.frames = String(l.frames);
  const code = ui["sub-code"];
  code.dataset.code = l.code ?? "";
  code.hidden = !l.code;
  code.textContent = l.code ? ctx.t("submit.live.code", { code: l.code }) : "";
  ui["sub-step"].dataset.step = l.step;
  ui["sub-step"].textContent = l.step ? ctx.t(`submit.step.${l.step}`) : ctx.t("submit.live.scan");
  ui.waiting.hidden = l.waiting.length === 0;
  ui.waiting.textContent = l.waiting.length ? ctx.t("submit.live.waiting", { summary: l.waiting.join(" · ") }) : "";
  const bar = /** @type {HTMLProgressElement} */ (ui["sub-progress"]);
  ui.bytes.hidden = l.total === 0;
  bar.max = Math.max(l.total, 1);
  bar.value = l.done;
  bar.dataset.done = String(l.done);
  bar.dataset.total = String(l.total);
  ui.bytesText.textContent = ctx.t("submit.live.bytes", { done: l.done, total: l.total, pct: l.total ? Math.floor((100 * l.done) / l.total) : 0 });
}

/** @param {ScreenContext} ctx */
function renderEncrypted(ctx) {
  const r = state.encrypted;
  ui.encrypted.hidden = !r;
  if (!r) return;
  ui.encrypted.replaceChildren(
    mk(ctx, "dl", { cls: "facts" }, [
      fact(ctx, "submit.result.file", r.file, "sub-result-file", { file: r.file }),
      fact(ctx, "submit.result.size", ctx.t("submit.bytes", { n: r.file_len }), "sub-result-size"),
      fact(ctx, "submit.result.tender", r.tender_id, "sub-result-tender"),
      fact(ctx, "submit.result.payload", ctx.t(r.package ? "submit.result.package" : "submit.result.plain", { n: r.content_size, chunks: r.chunks }), "sub-result-payload"),
      fact(ctx, "submit.result.signer", r.signer, "sub-result-signer"),
      fact(ctx, "submit.result.codes", r.codes.join(" / "), "sub-result-codes"),
    ]),
  );
}

/** @param {ScreenContext} ctx */
function renderInspect(ctx) {
  const i = state.inspect;
  ui.inspectBox.hidden = !i;
  if (!i) return;
  const v = ui["sub-inspect-verdict"];
  v.dataset.verdict = i.verdict;
  v.textContent = ctx.t(`submit.verdict.${i.verdict}`);
  const yesNo = (b) => (b == null ? "—" : ctx.t(b ? "submit.yes" : "submit.no"));
  ui.inspectFacts.replaceChildren(
    fact(ctx, "submit.inspect.tender", i.tender_id ?? "—", "sub-inspect-tender"),
    fact(ctx, "submit.inspect.bidder", i.bidder ? `${i.bidder} (${i.uscc ?? ""})` : "—", "sub-inspect-bidder"),
    fact(ctx, "submit.inspect.suite", i.suite ?? "—", "sub-inspect-suite"),
    fact(ctx, "submit.inspect.size", i.content_size == null ? "—" : ctx.t("submit.inspect.sizeValue", { n: i.content_size, chunks: i.chunks ?? 0 }), "sub-inspect-size"),
    fact(ctx, "submit.inspect.signer", i.signer ? `${i.signer} · ${yesNo(i.signature_valid)}` : "—", "sub-inspect-signer"),
    fact(ctx, "submit.inspect.hash", yesNo(i.ciphertext_hash_ok), "sub-inspect-hash"),
  );
  ui.recipients.replaceChildren(
    ...i.recipients.map((r) => mk(ctx, "li", { testid: "sub-recipient", data: { serial: r.serial, role: r.role }, text: `${ctx.t(`submit.role.${r.role}`)} · ${r.subject} · ${r.serial}` })),
  );
  ui.problems.replaceChildren(...i.problems.map((p) => mk(ctx, "li", { text: p })));
}

/** @param {ScreenContext} ctx @param {StatementResult | null} s @param {HTMLElement} box @param {string} prefix */
function renderStatement(ctx, s, box, prefix) {
  box.hidden = !s;
  if (!s) return;
  box.dataset.file = s.file;
  box.replaceChildren(
    mk(ctx, "dl", { cls: "facts" }, [
      fact(ctx, "submit.statement.kind", ctx.t(`submit.kind.${s.kind}`), `${prefix}-kind`, { kind: s.kind }),
      fact(ctx, "submit.statement.at", s.at, `${prefix}-at`),
      fact(ctx, "submit.statement.tender", s.tender_id, `${prefix}-tender`),
      fact(ctx, "submit.statement.bidder", `${s.bidder} (${s.uscc})`, `${prefix}-bidder`),
      fact(ctx, "submit.statement.hash", s.bid_file_hash, `${prefix}-hash`),
      fact(ctx, "submit.statement.signer", `${s.signer} · ${s.signer_serial}`, `${prefix}-signer`),
      fact(ctx, "submit.statement.code", s.code, `${prefix}-code`),
      fact(ctx, "submit.statement.file", s.file, `${prefix}-file`, { file: s.file }),
    ]),
  );
}

export default {
  id: "submit",
  /** @param {ScreenContext} ctx */
  init(ctx) {
    const root = ctx.$("screen-submit");

    // The live session: QR code, verification code, step, bytes.
    ui["sub-qr"] = mk(ctx, "img", { testid: "sub-qr", cls: "bid-qr", attrs: { alt: "QR" } });
    ui["sub-code"] = mk(ctx, "div", { testid: "sub-code", cls: "bid-code" });
    ui["sub-step"] = mk(ctx, "div", { testid: "sub-step", cls: "hint" });
    ui.waiting = mk(ctx, "div", { testid: "sub-waiting", cls: "hint" });
    ui["sub-progress"] = mk(ctx, "progress", { testid: "sub-progress", cls: "bid-progress" });
    ui.bytesText = mk(ctx, "div", { cls: "hint", testid: "sub-bytes" });
    ui.bytes = mk(ctx, "div", {}, [ui["sub-progress"], ui.bytesText]);
    ui.liveTitle = mk(ctx, "h2");
    ui.live = mk(ctx, "div", { cls: "card bid-live", testid: "sub-live" }, [
      mk(ctx, "div", { cls: "card-head" }, [ui.liveTitle]),
      ui["sub-step"],
      mk(ctx, "div", { cls: "bid-qr-box" }, [ui["sub-qr"], ui["sub-code"]]),
      ui.waiting,
      ui.bytes,
    ]);

    ui.encrypted = mk(ctx, "div", { testid: "sub-encrypted" });
    const encryptCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "submit.encrypt.title" })]),
      mk(ctx, "p", { cls: "hint", i18n: "submit.encrypt.hint" }),
      mk(ctx, "div", { cls: "bid-grid" }, [
        field(ctx, "sub-pdf", "submit.encrypt.pdf", "submit.encrypt.pdfPlaceholder", ["open", "pdf"]),
        field(ctx, "sub-project", "submit.encrypt.project", "submit.encrypt.projectPlaceholder", ["folder", null]),
        field(ctx, "sub-tender-id", "submit.encrypt.tender", "submit.encrypt.tenderPlaceholder"),
        field(ctx, "sub-output", "submit.encrypt.output", "submit.encrypt.outputPlaceholder", ["save", "bid_file"]),
      ]),
      mk(ctx, "div", { cls: "bid-actions" }, [button(ctx, "sub-encrypt", "submit.encrypt.button", () => encrypt(ctx))]),
      ui.encrypted,
    ]);

    ui["sub-inspect-verdict"] = mk(ctx, "span", { cls: "pill", testid: "sub-inspect-verdict" });
    ui.inspectFacts = mk(ctx, "dl", { cls: "facts" });
    ui.recipients = mk(ctx, "ul", { cls: "bid-list", testid: "sub-recipients" });
    ui.problems = mk(ctx, "ul", { cls: "bid-list bid-problems", testid: "sub-problems" });
    ui.inspectBox = mk(ctx, "div", { testid: "sub-inspect" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h3", { i18n: "submit.inspect.result" }), ui["sub-inspect-verdict"]]),
      ui.inspectFacts,
      mk(ctx, "h3", { i18n: "submit.inspect.recipients" }),
      ui.recipients,
      ui.problems,
    ]);
    const inspectCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "submit.inspect.title" })]),
      mk(ctx, "div", { cls: "bid-row" }, [
        field(ctx, "sub-inspect-path", "submit.inspect.path", "", ["open", "bid_file"]),
        button(ctx, "sub-inspect-open", "submit.inspect.button", () =>
          run(ctx, "", async () => {
            await inspect(ctx, val("sub-inspect-path"));
          }),
        true),
      ]),
      ui.inspectBox,
    ]);

    ui.receipt = mk(ctx, "div", { testid: "sub-receipt" });
    ui.withdrawal = mk(ctx, "div", { testid: "sub-withdrawal" });
    ui.confirm = mk(ctx, "div", { cls: "bid-confirm", testid: "sub-withdraw-confirm" }, [
      mk(ctx, "p", { i18n: "submit.withdraw.confirm" }),
      mk(ctx, "div", { cls: "bid-actions" }, [
        button(ctx, "sub-withdraw-yes", "submit.withdraw.yes", () => withdraw(ctx)),
        button(ctx, "sub-withdraw-no", "submit.withdraw.no", () => {
          state.confirming = false;
          ctx.rerender();
        }, true),
      ]),
    ]);
    const submitCard = mk(ctx, "div", { cls: "card" }, [
      mk(ctx, "div", { cls: "card-head" }, [mk(ctx, "h2", { i18n: "submit.submit.title" })]),
      mk(ctx, "p", { cls: "hint", i18n: "submit.submit.hint" }),
      mk(ctx, "div", { cls: "bid-row" }, [field(ctx, "sub-bid-file", "submit.submit.bid", "", ["open", "bid_file"]), button(ctx, "sub-submit", "submit.submit.button", () => submit(ctx))]),
      ui.receipt,
      mk(ctx, "h3", { i18n: "submit.withdraw.title" }),
      mk(ctx, "div", { cls: "bid-row" }, [
        field(ctx, "sub-withdraw-reason", "submit.withdraw.reason"),
        button(ctx, "sub-withdraw", "submit.withdraw.button", () => {
          state.confirming = true;
          ctx.rerender();
        }, true),
      ]),
      ui.confirm,
      ui.withdrawal,
    ]);

    ui.error = mk(ctx, "div", { cls: "error", testid: "sub-error" });
    root.replaceChildren(ui.live, encryptCard, submitCard, inspectCard, ui.error);

    ctx.listen("bid-progress", (/** @type {BidEvent} */ e) => {
      if (e.op !== state.busy) return;
      const l = state.live;
      switch (e.kind) {
        case "qr":
          l.qr = e.image;
          l.qrText = e.text;
          l.frames += 1;
          break;
        case "joined":
          l.code = e.code;
          break;
        case "waiting":
          l.waiting = e.summary;
          break;
        case "step":
          l.step = e.step;
          l.detail = e.detail;
          if (e.step === "sign-header") {
            l.code = null;
            l.qr = null;
            l.qrText = "";
            l.waiting = [];
          }
          break;
        case "bytes":
          l.done = e.done;
          l.total = e.total;
          break;
      }
      renderLive(ctx);
    });
  },
  /** @param {ScreenContext} ctx */
  render(ctx) {
    if (!ui.error) return;
    renderLive(ctx);
    renderEncrypted(ctx);
    renderInspect(ctx);
    renderStatement(ctx, state.receipt, ui.receipt, "sub-receipt");
    renderStatement(ctx, state.withdrawal, ui.withdrawal, "sub-withdrawal");
    ui.confirm.hidden = !state.confirming;
    for (const id of ["sub-encrypt", "sub-submit", "sub-withdraw", "sub-inspect-open", "sub-withdraw-yes"]) {
      ui[id].disabled = !!state.busy;
    }
    ui.error.hidden = !state.error;
    ui.error.textContent = state.error ? ctx.errorText(state.error) : "";
    // The full message (the catalogue's text may leave details out).
    ui.error.title = state.error ? state.error.message : "";
    ui.error.dataset.code = state.error ? state.error.code : "";
  },
};
