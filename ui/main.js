// @ts-check
/// <reference path="globals.d.ts" />
// Bidkit UI entry point: plain ES module, no build step.
// Talks to the Rust side only through window.__TAURI__.core.invoke (app.withGlobalTauri).
// The shapes of every command's argument, answer and error are generated from the Rust
// types into bindings.d.ts (see src-tauri/src/ipc.rs) and referenced here with JSDoc, so an
// editor or `tsc --checkJs` checks this file against them without a build step.

/** @typedef {import("./bindings").AppInfoView} AppInfoView */
/** @typedef {import("./bindings").IpcError} IpcError */
/** @typedef {import("./bindings").VerifyRequest} VerifyRequest */
/** @typedef {import("./bindings").VerifyResult} VerifyResult */
/** @typedef {import("./bindings").SignatureView} SignatureView */
/** @typedef {import("./bindings").LoginStarted} LoginStarted */
/** @typedef {import("./bindings").LoginEvent} LoginEvent */
/** @typedef {import("./bindings").IdentityView} IdentityView */

import documents from "./screens/documents.js";
import seal from "./screens/seal.js";
import submit from "./screens/submit.js";
import opening from "./screens/opening.js";
import records from "./screens/records.js";
import { pathInput } from "./pick.js";

/**
 * The screens that live in their own module (ui/screens/*.js): each builds its DOM into
 * `<section id="screen-ID">` in `init`, redraws in `render`, and has its own message
 * catalogue in i18n/screens/ID.LANG.json (merged into the shell's).
 * @type {import("./screen").Screen[]}
 */
const MODULES = [documents, seal, submit, opening, records];

const LANGS = ["zh-CN", "en"];
const DEFAULT_LANG = "zh-CN";
const LANG_KEY = "bidkit.lang";

const SCREENS = ["home", "login", ...MODULES.map((m) => m.id), "verify"];

const state = {
  lang: DEFAULT_LANG,
  /** @type {Record<string, string>} */
  messages: {},
  screen: "home",
  /** @type {AppInfoView | null} last app_info reply */
  info: null,
  /** @type {IpcError | null} last app_info error */
  error: null,
  /** @type {VerifyResult | null} last verify_pdf reply */
  verify: null,
  /** @type {IpcError | null} last verify_pdf error */
  verifyError: null,
  verifyBusy: false,
  login: {
    /** @type {number | null} the login whose events count */
    id: null,
    /** @type {"idle" | "waiting" | "joined" | "done" | "failed"} */
    phase: "idle",
    /** @type {string | null} current QR frame (data URL) */
    qr: null,
    expiresAt: 0,
    /** @type {string | null} */
    code: null,
    rejected: 0,
    /** @type {IdentityView | null} */
    identity: null,
    /** @type {IpcError | null} */
    error: null,
  },
};

/** @param {string} id @returns {any} */
const $ = (id) => document.getElementById(id);

/** Every element matching a CSS selector. @param {string} sel @returns {HTMLElement[]} */
const all = (sel) => /** @type {HTMLElement[]} */ ([...document.querySelectorAll(sel)]);

/** Makes an element with a class, text and data attributes. */
function el(tag, { cls = "", text = "", data = {} } = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  for (const [k, v] of Object.entries(data)) e.dataset[k] = String(v);
  return e;
}

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

function storedLang() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return LANGS.includes(v) ? v : DEFAULT_LANG;
  } catch {
    return DEFAULT_LANG;
  }
}

/**
 * The language to start in: the one saved in settings.json (记录 / 设置: it survives a reset
 * WebView), else the one this WebView stored, else Chinese.
 */
async function startLang() {
  try {
    const saved = await call("settings_get");
    if (saved.saved && LANGS.includes(saved.language)) return saved.language;
  } catch {
    /* unreadable settings: the screen shows why when opened */
  }
  return storedLang();
}

async function loadMessages(lang) {
  const res = await fetch(`i18n/${lang}.json`);
  if (!res.ok) throw new Error(`i18n/${lang}.json: HTTP ${res.status}`);
  const messages = await res.json();
  for (const m of MODULES) {
    const r = await fetch(`i18n/screens/${m.id}.${lang}.json`);
    if (r.ok) Object.assign(messages, await r.json());
  }
  return messages;
}

/** Looks a message up, filling `{name}` placeholders from `vars`; falls back to the key. */
function t(key, vars = {}) {
  const msg = state.messages[key] ?? key;
  return msg.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

async function setLang(lang) {
  state.messages = await loadMessages(lang);
  state.lang = lang;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* private mode: the choice just won't persist */
  }
  render();
}

function render() {
  document.documentElement.lang = state.lang;
  document.title = t("app.title");
  for (const e of all("[data-i18n]")) {
    e.textContent = t(e.dataset.i18n);
  }
  for (const e of all("[data-i18n-placeholder]")) {
    e.setAttribute("placeholder", t(e.dataset.i18nPlaceholder));
  }
  $("lang-toggle").textContent = t("lang.switch");
  for (const tab of all(".tab")) {
    tab.setAttribute("aria-selected", String(tab.dataset.screen === state.screen));
  }
  for (const screen of all("section.screen")) {
    screen.hidden = screen.dataset.screen !== state.screen;
  }
  renderVerify();
  renderLogin();
  for (const m of MODULES) m.render(ctx);

  const info = state.info;
  const pill = $("phone-pill");
  if (info) {
    const p = info.phone;
    $("version").textContent = `v${info.version}`;
    const readable = !p.error;
    pill.dataset.state = !readable ? "error" : p.enrolled ? "enrolled" : "empty";
    pill.textContent = t(
      !readable ? "phone.unreadable_short" : p.enrolled ? "phone.enrolled" : "phone.not_enrolled",
    );
    $("phone-person").textContent = p.person ?? t("common.none");
    $("phone-organisation").textContent = p.organisation ?? t("common.none");
    $("phone-certificates").textContent = readable
      ? t("phone.certificates_value", { n: p.certificates })
      : t("common.none");
    const pin = $("phone-pin");
    if (readable) {
      pin.textContent = t(p.pin_locked ? "phone.pin_locked" : "phone.pin_ok");
      pin.dataset.state = p.pin_locked ? "locked" : "ok";
    } else {
      pin.textContent = t("common.none");
      delete pin.dataset.state;
    }
    $("home-path").textContent = info.home ?? "";
    $("home-line").hidden = !info.home;
  } else if (state.error) {
    pill.dataset.state = "error";
    pill.textContent = t("error.prefix");
  } else {
    pill.dataset.state = "loading";
    pill.textContent = t("common.loading");
  }

  const box = $("error");
  const phoneError = info?.phone?.error;
  if (state.error) {
    box.textContent = errorText(state.error);
    box.hidden = false;
  } else if (phoneError) {
    // The phone could not be read; the rest of the screen still renders.
    box.textContent = `${t("phone.unreadable")}: ${phoneError}`;
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

/** An {code, message} error as one line: the catalogue's text for the code, else the message. */
function errorText({ code, message }) {
  const known = state.messages[`error.${code}`];
  return `${t("error.prefix")}: ${known ?? message} (${code})`;
}

/** Normalises whatever invoke rejected with into {code, message}. */
function asIpcError(err) {
  if (err && typeof err === "object" && "code" in err) return err;
  return { code: "internal", message: String(err?.message ?? err) };
}

async function refresh() {
  try {
    state.info = await call("app_info");
    state.error = null;
  } catch (err) {
    state.info = null;
    state.error = asIpcError(err);
  }
  render();
}

async function main() {
  $("lang-toggle").addEventListener("click", () => {
    setLang(state.lang === "zh-CN" ? "en" : "zh-CN").catch(showFatal);
  });
  $("refresh").addEventListener("click", () => refresh());
  for (const tab of all(".tab")) {
    tab.addEventListener("click", () => {
      state.screen = SCREENS.includes(tab.dataset.screen) ? tab.dataset.screen : "home";
      render();
    });
  }
  $("login-start").addEventListener("click", () => startLogin().catch(showFatal));
  $("login-cancel").addEventListener("click", () => cancelLogin().catch(showFatal));
  const listen = window.__TAURI__?.event?.listen;
  if (listen) await listen("login-progress", (ev) => onLoginEvent(ev.payload));
  setInterval(renderCountdown, 1000);
  $("verify-form").insertBefore(ctx.pathInput($("verify-path"), "open", "pdf"), $("verify-open"));
  $("verify-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    verify($("verify-path").value).catch(showFatal);
  });
  for (const m of MODULES) await m.init(ctx);
  await setLang(await startLang());
  // Every listener is wired and the first screen is drawn: scripts and tests may act now.
  document.body.dataset.ready = "true";
  // The frame after next is on screen: tell the shell (scripts/measure-desktop times it).
  requestAnimationFrame(() => requestAnimationFrame(() => call("ui_ready").catch(() => {})));
  await refresh();
}

/**
 * What the shell gives every screen module.
 * @type {import("./screen").ScreenContext}
 */
const ctx = {
  t,
  call,
  listen: async (event, handler) => {
    const listen = window.__TAURI__?.event?.listen;
    if (listen) await listen(event, (ev) => handler(ev.payload));
  },
  el,
  $,
  errorText,
  asIpcError,
  rerender: () => render(),
  lang: () => state.lang,
  info: () => state.info,
  show: (screen) => {
    state.screen = SCREENS.includes(screen) ? screen : "home";
    render();
  },
  pathInput: (input, kind, filter) => pathInput({ t, call }, input, kind, filter),
};

function showFatal(err) {
  state.error = asIpcError(err);
  render();
}

main().catch(showFatal);

// ---------------------------------------------------------------------------------------
// 验证: the signature report of a PDF, with its pages and the stamps highlighted
// ---------------------------------------------------------------------------------------

/** Runs verify_pdf on `path` (off the UI thread on the Rust side) and shows the report. */
async function verify(path) {
  /** @type {VerifyRequest} */
  const request = { path: path.trim() };
  state.verifyBusy = true;
  state.verifyError = null;
  state.verify = null;
  render();
  try {
    state.verify = await call("verify_pdf", { request });
  } catch (err) {
    state.verifyError = asIpcError(err);
  } finally {
    state.verifyBusy = false;
  }
  render();
}

/** A time as the user's locale shows it (the RFC 3339 text when it does not parse). */
function when(text) {
  if (!text) return t("common.none");
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toLocaleString(state.lang, { hour12: false });
}

function mm(v) {
  return v.toFixed(1);
}

/** One signature as a card; `index` is its place in the report (1-based in the title). */
function signatureCard(sig, index) {
  const card = el("section", {
    cls: "card signature",
    data: { testid: "signature", index, status: sig.status },
  });
  const head = el("div", { cls: "card-head" });
  head.append(el("h3", { text: t("verify.signature_n", { n: index + 1, field: sig.field }) }));
  head.append(
    el("span", {
      cls: "pill",
      text: t(`verify.sig_status.${sig.status}`),
      data: { testid: "sig-status", status: sig.status, state: sig.status === "valid" ? "enrolled" : "error" },
    }),
  );
  card.append(head);

  const facts = el("dl", { cls: "facts" });
  const fact = (label, value, testid) => {
    const div = el("div");
    div.append(el("dt", { text: t(label) }));
    div.append(el("dd", { text: value, data: testid ? { testid } : {} }));
    facts.append(div);
  };
  fact("verify.signer", sig.signer ?? t("common.none"), "sig-signer");
  fact("verify.time", when(sig.signing_time), "sig-time");
  if (sig.timestamp_time) fact("verify.timestamp", when(sig.timestamp_time), "sig-timestamp");
  fact(
    "verify.algorithm",
    [sig.algorithm, sig.digest_algorithm].filter(Boolean).join(" / ") || t("common.none"),
    "sig-algorithm",
  );
  fact(
    "verify.coverage",
    t(sig.covers_whole_file ? "verify.covers_file" : sig.covers_whole_revision ? "verify.covers_revision" : "verify.covers_partial", {
      r: sig.revision,
    }),
    "sig-coverage",
  );
  fact("verify.chain", t(`verify.chain.${sig.chain}`), "sig-chain");
  card.append(facts);

  if (sig.details.length) {
    const ul = el("ul", { cls: "problems", data: { testid: "sig-details" } });
    for (const d of sig.details) ul.append(el("li", { text: d }));
    card.append(ul);
  }

  const stamps = el("div", { cls: "stamps", data: { testid: "sig-stamps", count: sig.stamps.length } });
  stamps.append(el("h4", { text: t("verify.stamps", { n: sig.stamps.length }) }));
  const list = el("ul");
  sig.stamps.forEach((s, i) => {
    const r = s.rect_mm;
    const where = r
      ? t("verify.stamp_box", { x0: mm(r[0]), y0: mm(r[1]), x1: mm(r[2]), y1: mm(r[3]) })
      : t("common.none");
    const page = s.page == null ? t("verify.no_page") : t("verify.page_n", { n: s.page });
    list.append(el("li", { text: `${i + 1}. ${page} · ${where}`, data: { testid: "stamp", page: s.page ?? "" } }));
  });
  stamps.append(list);
  card.append(stamps);

  const changes = el("div", { cls: "changes", data: { testid: "sig-changes", count: sig.changes_after.length } });
  changes.append(el("h4", { text: t("verify.changes", { n: sig.changes_after.length }) }));
  if (sig.changes_after.length) {
    const ul = el("ul");
    for (const c of sig.changes_after) {
      ul.append(
        el("li", {
          cls: c.allowed ? "allowed" : "disallowed",
          text: t("verify.change_line", {
            r: c.revision,
            object: c.object,
            kind: t(`verify.kind.${c.kind}`),
            class: t(c.allowed ? "verify.allowed" : "verify.disallowed"),
            what: c.description,
          }),
        }),
      );
    }
    changes.append(ul);
  } else {
    changes.append(el("p", { cls: "hint", text: t("verify.no_changes") }));
  }
  card.append(changes);
  return card;
}

function renderVerify() {
  const r = state.verify;
  $("verify-busy").hidden = !state.verifyBusy;
  $("verify-open").disabled = state.verifyBusy;
  const err = $("verify-error");
  err.hidden = !state.verifyError;
  err.textContent = state.verifyError ? errorText(state.verifyError) : "";

  const pill = $("verify-verdict");
  const problems = $("verify-problems");
  const note = $("verify-note");
  const sigs = $("verify-signatures");
  const pages = $("verify-pages");
  problems.replaceChildren();
  sigs.replaceChildren();
  pages.replaceChildren();
  if (!r) {
    pill.hidden = true;
    note.hidden = true;
    return;
  }
  pill.hidden = false;
  pill.dataset.status = r.status;
  pill.dataset.state = r.status === "valid" ? "enrolled" : "error";
  pill.textContent = t(`verify.doc_status.${r.status}`);
  for (const p of r.problems) problems.append(el("li", { text: p }));
  const notes = [];
  if (!r.has_trust_roots) notes.push(t("verify.no_roots"));
  if (r.render_error) notes.push(`${t("verify.render_failed")}: ${r.render_error}`);
  if (r.page_count > r.pages.length) notes.push(t("verify.pages_shown", { n: r.pages.length, total: r.page_count }));
  note.textContent = notes.join(" ");
  note.hidden = notes.length === 0;

  r.signatures.forEach((sig, i) => sigs.append(signatureCard(sig, i)));

  for (const p of r.pages) {
    const fig = el("figure", { cls: "page", data: { testid: "page", page: p.page } });
    const frame = el("div", { cls: "page-frame" });
    const img = el("img");
    img.src = p.image;
    img.alt = t("verify.page_n", { n: p.page });
    frame.append(img);
    for (const b of p.stamps) {
      const box = el("div", {
        cls: "stamp-box",
        data: { testid: "stamp-box", signature: b.signature, stamp: b.stamp },
      });
      box.style.left = `${b.left * 100}%`;
      box.style.top = `${b.top * 100}%`;
      box.style.width = `${b.width * 100}%`;
      box.style.height = `${b.height * 100}%`;
      box.title = t("verify.signature_n", { n: b.signature + 1, field: r.signatures[b.signature]?.field ?? "" });
      frame.append(box);
    }
    fig.append(frame);
    fig.append(el("figcaption", { text: t("verify.page_n", { n: p.page }) }));
    pages.append(fig);
  }
}

// ---------------------------------------------------------------------------------------
// 扫码登录: the rotating QR code, its countdown and verification code, then the identity
// ---------------------------------------------------------------------------------------

async function startLogin() {
  const l = state.login;
  Object.assign(l, { id: null, phase: "waiting", qr: null, code: null, rejected: 0, identity: null, error: null });
  render();
  try {
    /** @type {LoginStarted} */
    const started = await call("login_start");
    l.id = started.login;
  } catch (err) {
    l.phase = "failed";
    l.error = asIpcError(err);
  }
  render();
}

async function cancelLogin() {
  state.login.id = null;
  state.login.phase = "idle";
  state.login.qr = null;
  render();
  await call("login_cancel");
}

/** @param {LoginEvent} e */
function onLoginEvent(e) {
  const l = state.login;
  // Events can arrive before login_start's answer: adopt the first login seen while waiting.
  if (l.id === null && l.phase === "waiting") l.id = e.login;
  if (e.login !== l.id) return;
  switch (e.kind) {
    case "qr":
      l.qr = e.image;
      l.expiresAt = e.expires_at_ms;
      break;
    case "rejected":
      l.rejected = e.total;
      break;
    case "joined":
      l.phase = "joined";
      l.code = e.code;
      break;
    case "done":
      l.phase = "done";
      l.identity = e.identity;
      l.code = e.identity.verification_code;
      l.qr = null;
      break;
    case "failed":
      l.phase = "failed";
      l.error = e.error;
      l.qr = null;
      break;
  }
  render();
}

function renderCountdown() {
  const l = state.login;
  const box = $("login-countdown");
  if (!l.qr) {
    box.textContent = "";
    return;
  }
  const left = Math.max(0, Math.round((l.expiresAt - Date.now()) / 1000));
  box.dataset.seconds = String(left);
  box.textContent = l.phase === "joined" ? t("login.scanned") : t("login.expires_in", { n: left });
}

function renderLogin() {
  const l = state.login;
  const pill = $("login-state");
  pill.dataset.phase = l.phase;
  pill.dataset.state = l.phase === "done" ? "enrolled" : l.phase === "failed" ? "error" : "loading";
  pill.textContent = t(`login.phase.${l.phase}`);

  const qrBox = $("login-qr-box");
  qrBox.hidden = !l.qr;
  if (l.qr) {
    const img = $("login-qr");
    if (img.src !== l.qr) img.src = l.qr;
    img.alt = t("login.qr_alt");
  }
  renderCountdown();

  const code = $("login-code");
  code.hidden = !l.code;
  code.dataset.code = l.code ?? "";
  code.textContent = l.code ? t("login.code", { code: l.code }) : "";

  const rejected = $("login-rejected");
  rejected.hidden = l.rejected === 0;
  rejected.textContent = t("login.rejected", { n: l.rejected });

  const err = $("login-error");
  err.hidden = !l.error;
  err.textContent = l.error ? errorText(l.error) : "";

  const id = l.identity;
  $("login-identity").hidden = !id;
  if (id) {
    const none = t("common.none");
    $("login-person").textContent = id.person ? `${id.person}（${id.id_number ?? ""}）` : none;
    $("login-person").dataset.name = id.person ?? "";
    $("login-organisation").textContent = id.organisation ? `${id.organisation}（${id.uscc ?? ""}）` : none;
    $("login-certificate").textContent = `${id.certificate_serial} · ${id.suite.toUpperCase()}`;
    $("login-not-after").textContent = id.certificate_not_after;
  }

  const running = l.phase === "waiting" || l.phase === "joined";
  $("login-start").hidden = running;
  $("login-start").textContent = t(l.phase === "idle" ? "login.start" : "login.again");
  $("login-cancel").hidden = !running;
}
