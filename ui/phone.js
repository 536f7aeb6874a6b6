// @ts-check
/// <reference path="globals.d.ts" />
// The emulated phone window (label "phone"): the seeds' phone app — account, certificates,
// seals (template / scanned image / handwriting drawn with the mouse), authorisations, usage
// records, continuous mode — and 扫一扫: the QR code is read from the pixels of the image the
// tool window shows (asked for over the `phone-qr-request` event, answered by
// phone-launcher.js in the main window) or of a PNG file. The phone then joins at once
// (no PIN yet) and shows the verification code and the request; only then does the PIN
// field (with the tries left) appear, and the holder answers in one step: the codes match
// and approve with the PIN (or the continuous session), refuse, or the codes differ. The
// key is used only after that.

import { pathInput } from "./pick.js";

/** @typedef {import("./bindings").IpcError} IpcError */
/** @typedef {import("./bindings").PhoneOverviewView} PhoneOverviewView */
/** @typedef {import("./bindings").PhoneQrView} PhoneQrView */
/** @typedef {import("./bindings").PhoneScanEvent} PhoneScanEvent */
/** @typedef {import("./bindings").PhoneScanStarted} PhoneScanStarted */
/** @typedef {import("./bindings").PhoneSeal} PhoneSeal */

const LANGS = ["zh-CN", "en"];
const DEFAULT_LANG = "zh-CN";
const LANG_KEY = "bidkit.lang";
const VIEWS = ["home", "certs", "seals", "grants", "records"];

const state = {
  lang: DEFAULT_LANG,
  /** @type {Record<string, string>} */
  messages: {},
  view: "home",
  /** @type {PhoneOverviewView | null} */
  overview: null,
  /** @type {IpcError | null} */
  error: null,
  scan: {
    /** @type {"idle" | "reading" | "joining" | "confirm" | "answering" | "done" | "failed"} */
    phase: "idle",
    /** @type {number | null} */
    id: null,
    /** @type {PhoneQrView | null} */
    qr: null,
    /** @type {string | null} */
    code: null,
    /** @type {string[]} */
    summary: [],
    /** @type {string | null} */
    outcome: null,
    /** @type {string | null} */
    detail: null,
    /** @type {IpcError | null} */
    error: null,
    /** @type {number | null} */
    triesLeft: null,
  },
  sealBusy: false,
  /** @type {IpcError | null} */
  sealError: null,
};

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/** Invokes a command, rejecting with {code, message}. */
async function call(cmd, args) {
  const invoke = window.__TAURI__?.core?.invoke;
  if (!invoke) throw { code: "no_tauri", message: "window.__TAURI__ is missing" };
  try {
    return await invoke(cmd, args);
  } catch (err) {
    throw asIpcError(err);
  }
}

/** @returns {IpcError} */
function asIpcError(err) {
  if (err && typeof err === "object" && "code" in err) return err;
  return { code: "internal", message: String(err?.message ?? err) };
}

function storedLang() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return LANGS.includes(v) ? v : DEFAULT_LANG;
  } catch {
    return DEFAULT_LANG;
  }
}

async function loadMessages(lang) {
  const res = await fetch(`i18n/${lang}.json`);
  if (!res.ok) throw new Error(`i18n/${lang}.json: HTTP ${res.status}`);
  const messages = await res.json();
  const r = await fetch(`i18n/screens/phone.${lang}.json`);
  if (r.ok) Object.assign(messages, await r.json());
  return messages;
}

/** Looks a message up, filling `{name}` placeholders. */
function t(key, vars = {}) {
  const msg = state.messages[key] ?? key;
  return msg.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

/** @param {IpcError} e */
function errorText({ code, message }) {
  const known = state.messages[`phone.app.error.${code}`] ?? state.messages[`error.${code}`];
  return `${t("error.prefix")}: ${known ?? message} (${code})`;
}

async function setLang(lang) {
  state.messages = await loadMessages(lang);
  state.lang = lang;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* the choice just won't persist */
  }
  render();
}

async function refresh() {
  try {
    state.overview = await call("phone_overview");
    state.error = null;
  } catch (err) {
    state.error = asIpcError(err);
  }
  render();
}

/** A `<li>` with a data-testid and lines of text. */
function item(testid, lines, extra = {}) {
  const li = document.createElement("li");
  li.dataset.testid = testid;
  for (const [k, v] of Object.entries(extra)) li.dataset[k] = String(v);
  for (const [cls, text] of lines) {
    if (text === null || text === undefined || text === "") continue;
    const p = document.createElement("p");
    p.className = cls;
    p.textContent = text;
    li.append(p);
  }
  return li;
}

const day = (/** @type {string} */ s) => (s ? s.slice(0, 10) : "");

function render() {
  document.documentElement.lang = state.lang;
  document.title = t("phone.app.title");
  for (const e of document.querySelectorAll("[data-i18n]")) {
    e.textContent = t(/** @type {HTMLElement} */ (e).dataset.i18n);
  }
  for (const e of document.querySelectorAll("[data-i18n-placeholder]")) {
    e.setAttribute("placeholder", t(/** @type {HTMLElement} */ (e).dataset.i18nPlaceholder));
  }
  $("lang").textContent = t("lang.switch");
  const now = new Date();
  $("clock").textContent = `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;

  const err = $("error");
  err.hidden = !state.error;
  err.textContent = state.error ? errorText(state.error) : "";

  const o = state.overview;
  const enrolled = !!o?.person;
  $("view-enrol").hidden = !o || enrolled;
  $("tabbar").hidden = !enrolled;
  for (const v of VIEWS) $(`view-${v}`).hidden = !enrolled || state.view !== v;
  for (const b of document.querySelectorAll("#tabbar button")) {
    b.classList.toggle("active", /** @type {HTMLElement} */ (b).dataset.view === state.view);
  }
  if (!o || !o.person) return;

  const p = o.person;
  $("who").textContent = t("phone.app.who", { name: p.name, phone: p.phone_number });
  $("who").dataset.name = p.name;

  const cont = input("continuous");
  cont.checked = o.continuous !== null;
  $("continuous-pin-row").hidden = o.continuous !== null;
  $("continuous-state").textContent =
    o.continuous !== null ? t("phone.app.continuous.on", { n: o.continuous }) : t("phone.app.continuous.off");

  renderScan();

  const certs = $("cert-list");
  certs.replaceChildren(
    ...o.certificates.map((c) =>
      item(
        "cert-item",
        [
          ["title", `${c.subject}`],
          ["sub", `${t(`phone.app.certs.purpose.${c.purpose}`)} · ${c.suite.toUpperCase()}`],
          ["sub", t("phone.app.certs.validity", { from: day(c.not_before), to: day(c.not_after) })],
          ["mono", t("phone.app.certs.serial", { serial: c.signing_serial })],
          ["sub", c.locked ? t("phone.app.certs.locked") : t("phone.app.certs.tries", { n: c.tries_left, max: c.max_tries })],
        ],
        { serial: c.signing_serial },
      ),
    ),
  );

  const seals = $("seal-list");
  seals.replaceChildren(
    ...(o.seals.length
      ? o.seals.map((s) => {
          const li = item(
            "seal-item",
            [
              ["title", s.name],
              ["sub", `${state.lang === "en" ? s.kind : s.kind_zh}${s.organisation ? ` · ${s.organisation}` : ""}`],
              ["sub", s.usable ? t("phone.app.seals.usable") : (s.reason ?? t("phone.app.seals.unusable"))],
            ],
            { kind: s.kind, id: s.id },
          );
          if (s.image) {
            const img = document.createElement("img");
            img.src = s.image;
            img.alt = s.name;
            img.dataset.testid = "seal-image";
            li.prepend(img);
          }
          return li;
        })
      : [item("seal-none", [["sub", t("phone.app.seals.none")]])]),
  );
  $("seal-busy").hidden = !state.sealBusy && !state.sealError;
  $("seal-busy").textContent = state.sealError ? errorText(state.sealError) : t("phone.app.seals.busy");

  $("grant-list").replaceChildren(
    ...(o.grants.length
      ? o.grants.map((g) =>
          item("grant-item", [
            ["title", `${g.target} → ${g.grantee}`],
            ["sub", g.organisation],
            ["sub", t("phone.app.grants.validity", { from: day(g.valid_from), to: day(g.valid_until), state: g.state })],
          ]),
        )
      : [item("grant-none", [["sub", t("phone.app.grants.none")]])]),
  );

  $("record-list").replaceChildren(
    ...(o.records.length
      ? o.records.map((r) =>
          item(
            "record-item",
            [
              ["title", `${state.lang === "en" ? r.operation : r.operation_zh} · ${r.result === "ok" ? t("phone.app.records.ok") : r.result}`],
              ["sub", `${r.at.replace("T", " ").slice(0, 19)} · ${r.platform}`],
              ["mono", r.cert_serial ?? ""],
              ["sub", r.detail],
            ],
            { operation: r.operation, result: r.result },
          ),
        )
      : [item("record-none", [["sub", t("phone.app.records.none")]])]),
  );
}

function renderScan() {
  const s = state.scan;
  const panel = $("scan");
  panel.hidden = s.phase === "idle";
  panel.dataset.phase = s.phase;
  $("scan-purpose").textContent = s.qr ? t(`phone.app.purpose.${s.qr.purpose}`) : t("phone.app.scan.reading");
  $("scan-purpose").dataset.purpose = s.qr?.purpose ?? "";
  $("scan-relay").textContent = s.qr ? t("phone.app.scan.relay", { relay: s.qr.relay, suite: s.qr.suite.toUpperCase() }) : "";

  $("scan-code-box").hidden = !s.code;
  $("scan-code").textContent = s.code ?? "";
  $("scan-code").dataset.code = s.code ?? "";
  $("scan-summary").replaceChildren(
    ...s.summary.map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    }),
  );

  const continuous = state.overview?.continuous !== null && state.overview?.continuous !== undefined;
  // The PIN (and its tries left) only once the code and the request are on the screen.
  const confirm = s.phase === "confirm";
  $("scan-step-hint").hidden = !confirm;
  $("scan-step-hint").textContent = t(continuous ? "phone.app.scan.step_hint_continuous" : "phone.app.scan.step_hint");
  $("scan-pin-box").hidden = !confirm || continuous;
  const tries = s.triesLeft ?? s.qr?.tries_left ?? null;
  const triesEl = $("scan-tries");
  // The tries left: with the PIN prompt, and after a failure that used a try.
  triesEl.hidden = continuous || !(confirm || (s.phase === "failed" && s.triesLeft !== null));
  triesEl.dataset.tries = tries === null ? "" : String(tries);
  triesEl.textContent =
    tries === null ? "" : t("phone.app.scan.tries", { n: tries, max: s.qr?.max_tries ?? tries });
  $("scan-confirm-box").hidden = !confirm;
  $("scan-confirm").textContent = t(continuous ? "phone.app.scan.confirm_continuous" : "phone.app.scan.confirm");

  const busy = $("scan-busy");
  busy.hidden = !["reading", "joining", "answering"].includes(s.phase);
  busy.textContent = t(`phone.app.scan.busy.${s.phase}`);

  const out = $("scan-outcome");
  out.hidden = s.phase !== "done";
  out.dataset.outcome = s.outcome ?? "";
  out.textContent = s.outcome ? t(`phone.app.scan.outcome.${s.outcome}`) : "";

  const err = $("scan-error");
  err.hidden = !s.error;
  err.textContent = s.error ? errorText(s.error) : "";
  $("scan-close").hidden = !(s.phase === "done" || s.phase === "failed");
}

function resetScan() {
  Object.assign(state.scan, {
    phase: "idle", id: null, qr: null, code: null, summary: [], outcome: null, detail: null, error: null, triesLeft: null,
  });
}

/** Asks the main window for the QR image it shows; resolves with its data URL. */
function qrFromToolWindow() {
  // `emit` is Tauri's too, but not in globals.d.ts (shared): typed loosely here.
  const ev = /** @type {any} */ (window.__TAURI__?.event);
  if (!ev) return Promise.reject({ code: "no_tauri", message: "window.__TAURI__.event is missing" });
  return new Promise((resolve, reject) => {
    /** @type {null | (() => void)} */
    let unlisten = null;
    const timer = setTimeout(() => {
      unlisten?.();
      reject({ code: "qr-unreadable", message: "the tool window did not answer" });
    }, 3000);
    ev.listen("phone-qr-reply", (/** @type {{payload: {src: string}}} */ e) => {
      clearTimeout(timer);
      unlisten?.();
      const src = e.payload?.src ?? "";
      if (src) resolve(src);
      else reject({ code: "no-qr-on-screen", message: "the tool window shows no QR code" });
    }).then((u) => {
      unlisten = u;
      ev.emit("phone-qr-request", {});
    });
  });
}

/** Reads a QR code (from the tool window or a file) and joins its session at once (no
 * PIN yet): the code and the request come as `phone-scan` events. */
async function startScan(/** @type {{data_url?: string, path?: string}} */ source) {
  resetScan();
  state.scan.phase = "reading";
  render();
  try {
    const data_url = source.path ? null : await qrFromToolWindow();
    const qr = /** @type {PhoneQrView} */ (
      await call("phone_read_qr", { request: { data_url, path: source.path ?? null } })
    );
    state.scan.qr = qr;
    state.scan.phase = "joining";
    input("scan-pin").value = "";
    render();
    /** @type {PhoneScanStarted} */
    const started = await call("phone_scan_start", { request: { qr_text: qr.qr_text } });
    // Events of this scan may have arrived already (kept in `early`).
    state.scan.id = started.scan;
    for (const e of early.splice(0)) onScanEvent(e);
  } catch (err) {
    state.scan.phase = "failed";
    state.scan.error = asIpcError(err);
  }
  render();
}

/** `phone-scan` events that came before `phone_scan_start` answered. @type {PhoneScanEvent[]} */
const early = [];

/** @param {PhoneScanEvent} e */
function onScanEvent(e) {
  const s = state.scan;
  if (s.id === null) {
    if (s.phase === "joining") early.push(e);
    return;
  }
  if (e.scan !== s.id) return;
  switch (e.kind) {
    case "joined":
      s.code = e.code;
      break;
    case "request":
      s.summary = e.summary;
      break;
    case "confirm":
      s.phase = "confirm";
      // Bring the answer step into view (above the tab bar), the PIN field focused.
      setTimeout(() => {
        if (state.scan.phase !== "confirm") return;
        if (!$("scan-pin-box").hidden) input("scan-pin").focus({ preventScroll: true });
        $("scan-confirm-box").scrollIntoView({ block: "center" });
      });
      break;
    case "done":
      s.phase = "done";
      s.outcome = e.report.outcome;
      s.code = e.report.verification_code;
      s.summary = e.report.request;
      s.detail = e.report.detail;
      refresh();
      break;
    case "failed":
      s.phase = "failed";
      s.error = e.error;
      s.triesLeft = e.tries_left;
      refresh();
      break;
  }
  render();
}

/** The holder's one answer: codes match + approve (with the PIN), refuse, or codes differ. */
async function confirmCode(/** @type {boolean} */ matches, /** @type {boolean} */ approve) {
  const s = state.scan;
  if (s.id === null) return;
  const pin = matches && approve ? input("scan-pin").value : null;
  s.error = null;
  // "answering" before the call: a refusal's `done` event can arrive before it returns.
  s.phase = "answering";
  render();
  try {
    await call("phone_scan_confirm", { request: { scan: s.id, matches, approve, pin } });
    input("scan-pin").value = "";
  } catch (err) {
    // E.g. no PIN typed: the phone keeps waiting for the answer.
    if (s.phase === "answering") s.phase = "confirm";
    s.error = asIpcError(err);
  }
  render();
}

async function toggleContinuous() {
  const on = input("continuous").checked;
  try {
    let pin = null;
    if (on) {
      pin = input("continuous-pin").value;
      input("continuous-pin").value = "";
      if (!pin) {
        input("continuous").checked = false;
        state.error = { code: "invalid-option", message: t("phone.app.continuous.prompt") };
        render();
        return;
      }
    }
    await call("phone_continuous", { request: { on, pin } });
    state.error = null;
  } catch (err) {
    state.error = asIpcError(err);
  }
  await refresh();
}

async function makeSeal(/** @type {Record<string, unknown>} */ request) {
  state.sealBusy = true;
  state.sealError = null;
  render();
  try {
    await call("phone_make_seal", {
      request: { template: null, scan_path: null, strokes: null, ...request },
    });
    clearCanvas();
  } catch (err) {
    state.sealError = asIpcError(err);
  }
  state.sealBusy = false;
  await refresh();
}

// Handwriting: pointer strokes on the canvas, in millimetres (the canvas is drawn at
// 4 px per mm), with the pen's pressure (a mouse reports 0.5 while pressed).
const PX_PER_MM = 4;
/** @type {number[][][]} */
let strokes = [];
/** @type {number[][] | null} */
let current = null;

function canvasPoint(/** @type {PointerEvent} */ ev) {
  const c = /** @type {HTMLCanvasElement} */ ($("hw"));
  const r = c.getBoundingClientRect();
  const x = ((ev.clientX - r.left) * c.width) / r.width;
  const y = ((ev.clientY - r.top) * c.height) / r.height;
  const p = ev.pressure > 0 ? ev.pressure : 0.5;
  return [x, y, p];
}

function drawTo(/** @type {number[]} */ a, /** @type {number[]} */ b) {
  const c = /** @type {HTMLCanvasElement} */ ($("hw"));
  const g = c.getContext("2d");
  if (!g) return;
  g.strokeStyle = "#111";
  g.lineCap = "round";
  g.lineWidth = 1 + b[2] * 3;
  g.beginPath();
  g.moveTo(a[0], a[1]);
  g.lineTo(b[0], b[1]);
  g.stroke();
}

function clearCanvas() {
  strokes = [];
  current = null;
  const c = /** @type {HTMLCanvasElement} */ ($("hw"));
  c.getContext("2d")?.clearRect(0, 0, c.width, c.height);
}

function setupCanvas() {
  const c = /** @type {HTMLCanvasElement} */ ($("hw"));
  c.addEventListener("pointerdown", (ev) => {
    c.setPointerCapture?.(ev.pointerId);
    current = [canvasPoint(ev)];
    strokes.push(current);
  });
  c.addEventListener("pointermove", (ev) => {
    if (!current) return;
    const p = canvasPoint(ev);
    drawTo(current[current.length - 1], p);
    current.push(p);
  });
  const end = () => {
    current = null;
  };
  c.addEventListener("pointerup", end);
  c.addEventListener("pointerleave", end);
  $("hw-clear").addEventListener("click", clearCanvas);
  $("hw-save").addEventListener("click", () => {
    const mm = strokes
      .filter((s) => s.length > 1)
      .map((s) => s.map(([x, y, p]) => [x / PX_PER_MM, y / PX_PER_MM, p]));
    if (!mm.length) {
      state.sealError = { code: "invalid-option", message: t("phone.app.seals.draw_first") };
      render();
      return;
    }
    makeSeal({ strokes: mm });
  });
}

async function main() {
  state.lang = storedLang();
  state.messages = await loadMessages(state.lang);
  $("lang").addEventListener("click", () => setLang(state.lang === "zh-CN" ? "en" : "zh-CN"));
  for (const b of document.querySelectorAll("#tabbar button")) {
    b.addEventListener("click", () => {
      const v = /** @type {HTMLElement} */ (b).dataset.view ?? "home";
      state.view = VIEWS.includes(v) ? v : "home";
      refresh();
    });
  }
  $("enrol-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      state.overview = await call("phone_enrol", {
        request: {
          name: input("enrol-name").value,
          id_number: input("enrol-id").value,
          phone_number: input("enrol-phone").value,
          pin: input("enrol-pin").value,
        },
      });
      state.error = null;
    } catch (err) {
      state.error = asIpcError(err);
    }
    input("enrol-pin").value = "";
    render();
  });
  for (const [id, next] of [["scan-path", "scan-file"], ["seal-scan-path", "seal-from-scan"]]) {
    const field = input(id);
    field.parentElement?.insertBefore(pathInput({ t, call }, field, "open", "image"), $(next));
  }
  $("scan-screen").addEventListener("click", () => startScan({}));
  $("scan-file").addEventListener("click", () => {
    const path = input("scan-path").value.trim();
    if (path) startScan({ path });
  });
  $("scan-confirm").addEventListener("click", () => confirmCode(true, true));
  $("scan-refuse").addEventListener("click", () => confirmCode(true, false));
  $("scan-mismatch").addEventListener("click", () => confirmCode(false, false));
  input("scan-pin").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") confirmCode(true, true);
  });
  $("scan-close").addEventListener("click", () => {
    resetScan();
    render();
  });
  input("continuous").addEventListener("change", () => toggleContinuous());
  $("seal-from-template").addEventListener("click", () =>
    makeSeal({ template: /** @type {HTMLSelectElement} */ ($("seal-template")).value }),
  );
  $("seal-from-scan").addEventListener("click", () => {
    const path = input("seal-scan-path").value.trim();
    if (path) makeSeal({ scan_path: path });
  });
  setupCanvas();
  const listen = window.__TAURI__?.event?.listen;
  if (listen) await listen("phone-scan", (ev) => onScanEvent(ev.payload));
  setInterval(() => {
    const now = new Date();
    $("clock").textContent = `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
  }, 15000);
  await refresh();
  document.body.dataset.ready = "1";
}

main().catch((err) => {
  state.error = asIpcError(err);
  render();
});
