// Bidkit UI entry point: plain ES module, no build step.
// Talks to the Rust side only through window.__TAURI__.core.invoke (app.withGlobalTauri).

const LANGS = ["zh-CN", "en"];
const DEFAULT_LANG = "zh-CN";
const LANG_KEY = "bidkit.lang";

const state = {
  lang: DEFAULT_LANG,
  messages: {},
  info: null, // last app_info reply
  error: null, // last {code, message}
};

const $ = (id) => document.getElementById(id);

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
  return res.json();
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
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  $("lang-toggle").textContent = t("lang.switch");

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
    const { code, message } = state.error;
    const known = state.messages[`error.${code}`];
    box.textContent = `${t("error.prefix")}: ${known ?? message} (${code})`;
    box.hidden = false;
  } else if (phoneError) {
    // The phone could not be read; the rest of the screen still renders.
    box.textContent = `${t("phone.unreadable")}: ${phoneError}`;
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

/** Normalises whatever invoke rejected with into {code, message}. */
function asIpcError(err) {
  if (err && typeof err === "object" && "code" in err) return err;
  return { code: "internal", message: String(err?.message ?? err) };
}

async function refresh() {
  const invoke = window.__TAURI__?.core?.invoke;
  if (!invoke) {
    state.info = null;
    state.error = { code: "no_tauri", message: "window.__TAURI__ is missing" };
    render();
    return;
  }
  try {
    state.info = await invoke("app_info");
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
  await setLang(storedLang());
  await refresh();
}

function showFatal(err) {
  state.error = asIpcError(err);
  render();
}

main().catch(showFatal);
