// @ts-check
/// <reference path="../globals.d.ts" />
// 记录 / 设置: history of operations; relay, language, suite; logs and diagnostics.

/** @typedef {import("../bindings").HistoryView} HistoryView */
/** @typedef {import("../bindings").HistoryItem} HistoryItem */
/** @typedef {import("../bindings").SettingsView} SettingsView */
/** @typedef {import("../bindings").SettingsRequest} SettingsRequest */
/** @typedef {import("../bindings").RelayCheck} RelayCheck */
/** @typedef {import("../bindings").LogFolder} LogFolder */
/** @typedef {import("../bindings").DiagnosticsRequest} DiagnosticsRequest */
/** @typedef {import("../bindings").DiagnosticsResult} DiagnosticsResult */
/** @typedef {import("../bindings").IpcError} IpcError */
/** @typedef {import("../screen").ScreenContext} ScreenContext */

const KINDS = ["login", "seal", "build", "encrypt", "submit", "withdraw", "open", "decrypt", "record", "verify", "revoke"];

const state = {
  /** @type {HistoryView | null} */
  history: null,
  /** @type {IpcError | null} */
  historyError: null,
  /** @type {SettingsView | null} the settings as saved */
  settings: null,
  /** @type {{relay: "embedded" | "server", url: string, suite: string, language: string}} the form */
  form: { relay: "embedded", url: "", suite: "gm", language: "zh-CN" },
  /** @type {null | {state: "saved" | "error", error?: IpcError}} */
  saveStatus: null,
  saving: false,
  /** @type {null | {state: "busy" | "ok" | "error", check?: RelayCheck, error?: IpcError}} */
  relayTest: null,
  /** @type {LogFolder | null} */
  logs: null,
  /** @type {IpcError | null} */
  logsError: null,
  exportPath: "",
  /** @type {null | {state: "busy" | "ok" | "error", result?: DiagnosticsResult, error?: IpcError}} */
  exported: null,
  /** The language this screen itself is switching the shell to (its toggle click is ours). */
  switchingTo: "",
  /** Whether the screen was shown once (its data loaded). */
  shown: false,
  /** Whether the start-up language check ran. */
};

/** Where the elements are, once built. @type {Record<string, any>} */
const ui = {};

/** @param {ScreenContext} ctx @param {SettingsView} s */
function adopt(ctx, s) {
  state.settings = s;
  state.form = {
    relay: s.relay ? "server" : "embedded",
    url: s.relay ?? state.form.url,
    suite: s.suite,
    language: s.language,
  };
}

/** @param {ScreenContext} ctx */
async function loadHistory(ctx) {
  try {
    state.history = /** @type {HistoryView} */ (await ctx.call("records_history", { limit: 200 }));
    state.historyError = null;
  } catch (err) {
    state.historyError = ctx.asIpcError(err);
  }
  ctx.rerender();
}

/** @param {ScreenContext} ctx */
async function loadSettings(ctx) {
  try {
    adopt(ctx, /** @type {SettingsView} */ (await ctx.call("settings_get")));
  } catch (err) {
    state.saveStatus = { state: "error", error: ctx.asIpcError(err) };
  }
}

/** Switches the shell's language the way its own toggle does (it stores bidkit.lang). */
function switchShellLanguage(ctx, lang) {
  if (ctx.lang() === lang) return;
  state.switchingTo = lang;
  ctx.$("lang-toggle").click();
}

/** @param {ScreenContext} ctx */
async function save(ctx) {
  const f = state.form;
  /** @type {SettingsRequest} */
  const request = {
    relay: f.relay === "server" ? f.url.trim() : null,
    suite: f.suite,
    language: f.language,
  };
  if (f.relay === "server" && !request.relay) {
    state.saveStatus = { state: "error", error: { code: "invalid-option", message: ctx.t("records.relay.missing") } };
    ctx.rerender();
    return;
  }
  state.saving = true;
  ctx.rerender();
  try {
    adopt(ctx, /** @type {SettingsView} */ (await ctx.call("settings_save", { request })));
    state.saveStatus = { state: "saved" };
    switchShellLanguage(ctx, state.settings.language);
  } catch (err) {
    state.saveStatus = { state: "error", error: ctx.asIpcError(err) };
  } finally {
    state.saving = false;
  }
  ctx.rerender();
}

/** @param {ScreenContext} ctx */
async function testRelay(ctx) {
  const url = state.form.url.trim();
  if (!url) {
    state.relayTest = { state: "error", error: { code: "invalid-option", message: ctx.t("records.relay.missing") } };
    ctx.rerender();
    return;
  }
  state.relayTest = { state: "busy" };
  ctx.rerender();
  try {
    state.relayTest = { state: "ok", check: /** @type {RelayCheck} */ (await ctx.call("relay_test", { url })) };
  } catch (err) {
    state.relayTest = { state: "error", error: ctx.asIpcError(err) };
  }
  ctx.rerender();
}

/** @param {ScreenContext} ctx */
async function showLogs(ctx) {
  try {
    state.logs = /** @type {LogFolder} */ (await ctx.call("logs_folder"));
    state.logsError = null;
  } catch (err) {
    state.logsError = ctx.asIpcError(err);
  }
  ctx.rerender();
}

/** @param {ScreenContext} ctx */
async function exportDiagnostics(ctx) {
  const path = state.exportPath.trim() || ctx.info()?.home || "";
  state.exported = { state: "busy" };
  ctx.rerender();
  try {
    /** @type {DiagnosticsRequest} */
    const request = { path };
    state.exported = {
      state: "ok",
      result: /** @type {DiagnosticsResult} */ (await ctx.call("diagnostics_export", { request })),
    };
  } catch (err) {
    state.exported = { state: "error", error: ctx.asIpcError(err) };
  }
  ctx.rerender();
}

/** A radio button with its label. */
function radio(ctx, name, value, testid) {
  const label = ctx.el("label", { cls: "records-choice" });
  const input = /** @type {HTMLInputElement} */ (ctx.el("input", { data: { testid } }));
  input.type = "radio";
  input.name = name;
  input.value = value;
  const text = ctx.el("span");
  label.append(input, text);
  return { label, input, text };
}

/** A labelled row of the settings form. */
function row(ctx, legendKeyHolder, ...children) {
  const fs = ctx.el("fieldset", { cls: "records-row" });
  const legend = ctx.el("legend");
  legendKeyHolder.push(legend);
  fs.append(legend, ...children);
  return { fs, legend };
}

export default {
  id: "records",
  /** @param {ScreenContext} ctx */
  async init(ctx) {
    const el = ctx.el;
    const root = ctx.$("screen-records");

    // --- history -------------------------------------------------------------------
    const history = el("section", { cls: "card records-history" });
    const hHead = el("div", { cls: "card-head" });
    ui.historyTitle = el("h2");
    ui.historyRefresh = el("button", { cls: "ghost", data: { testid: "history-refresh" } });
    ui.historyRefresh.type = "button";
    hHead.append(ui.historyTitle, ui.historyRefresh);
    ui.historyHint = el("p", { cls: "hint" });
    ui.historyError = el("div", { cls: "error", data: { testid: "history-error" } });
    const table = el("table", { cls: "records-table", data: { testid: "history-table" } });
    const thead = el("thead");
    const tr = el("tr");
    ui.historyCols = ["time", "kind", "summary", "files", "result"].map((k) => {
      const th = el("th", { data: { col: k } });
      tr.append(th);
      return th;
    });
    thead.append(tr);
    ui.historyRows = el("tbody", { data: { testid: "history-rows" } });
    table.append(thead, ui.historyRows);
    ui.historyEmpty = el("p", { cls: "hint", data: { testid: "history-empty" } });
    history.append(hHead, ui.historyHint, ui.historyError, table, ui.historyEmpty);

    // --- settings ------------------------------------------------------------------
    const settings = el("section", { cls: "card records-settings" });
    const sHead = el("div", { cls: "card-head" });
    ui.settingsTitle = el("h2");
    ui.settingsState = el("span", { cls: "pill", data: { testid: "settings-state" } });
    sHead.append(ui.settingsTitle, ui.settingsState);
    ui.legends = [];
    const form = /** @type {HTMLFormElement} */ (el("form", { cls: "records-form", data: { testid: "settings-form" } }));

    ui.relayEmbedded = radio(ctx, "records-relay", "embedded", "relay-embedded");
    ui.relayServer = radio(ctx, "records-relay", "server", "relay-server");
    ui.relayUrl = /** @type {HTMLInputElement} */ (el("input", { data: { testid: "relay-url" } }));
    ui.relayUrl.type = "text";
    ui.relayUrl.spellcheck = false;
    ui.relayUrl.autocomplete = "off";
    ui.relayTest = el("button", { cls: "ghost", data: { testid: "relay-test" } });
    ui.relayTest.type = "button";
    ui.relayResult = el("span", { cls: "records-relay-result", data: { testid: "relay-test-result" } });
    const relayLine = el("div", { cls: "records-relay-line" });
    relayLine.append(ui.relayUrl, ui.relayTest);
    const relay = row(ctx, ui.legends, ui.relayEmbedded.label, ui.relayServer.label, relayLine, ui.relayResult);
    ui.relayLegend = relay.legend;

    ui.suiteGm = radio(ctx, "records-suite", "gm", "suite-gm");
    ui.suiteNist = radio(ctx, "records-suite", "nist", "suite-nist");
    const suite = row(ctx, ui.legends, ui.suiteGm.label, ui.suiteNist.label);
    ui.suiteLegend = suite.legend;

    ui.langZh = radio(ctx, "records-language", "zh-CN", "language-zh-CN");
    ui.langEn = radio(ctx, "records-language", "en", "language-en");
    const language = row(ctx, ui.legends, ui.langZh.label, ui.langEn.label);
    ui.langLegend = language.legend;

    const foot = el("div", { cls: "card-foot" });
    ui.settingsPath = el("p", { cls: "hint records-path", data: { testid: "settings-path" } });
    ui.save = el("button", { data: { testid: "settings-save" } });
    ui.save.type = "submit";
    foot.append(ui.settingsPath, ui.save);
    ui.saveStatus = el("div", { data: { testid: "settings-status" } });
    form.append(relay.fs, suite.fs, language.fs, ui.saveStatus, foot);
    settings.append(sHead, form);

    // --- logs and diagnostics ------------------------------------------------------
    const diag = el("section", { cls: "card records-diagnostics" });
    const dHead = el("div", { cls: "card-head" });
    ui.diagTitle = el("h2");
    dHead.append(ui.diagTitle);
    ui.diagHint = el("p", { cls: "hint" });
    const logsLine = el("div", { cls: "records-line" });
    ui.logsOpen = el("button", { cls: "ghost", data: { testid: "logs-open" } });
    ui.logsOpen.type = "button";
    ui.logsPath = el("code", { cls: "records-path", data: { testid: "logs-path" } });
    logsLine.append(ui.logsOpen, ui.logsPath);
    ui.logsFiles = el("ul", { cls: "records-files", data: { testid: "logs-files" } });
    ui.logsError = el("div", { cls: "error", data: { testid: "logs-error" } });
    const exportForm = el("form", { cls: "open-row", data: { testid: "diag-form" } });
    ui.diagPath = /** @type {HTMLInputElement} */ (el("input", { data: { testid: "diag-path" } }));
    ui.diagPath.type = "text";
    ui.diagPath.spellcheck = false;
    ui.diagPath.autocomplete = "off";
    ui.diagExport = el("button", { data: { testid: "diag-export" } });
    ui.diagExport.type = "submit";
    exportForm.append(ctx.pathInput(ui.diagPath, "save", "archive"), ui.diagExport);
    ui.diagResult = el("p", { cls: "note", data: { testid: "diag-result" } });
    ui.diagError = el("div", { cls: "error", data: { testid: "diag-error" } });
    diag.append(dHead, ui.diagHint, logsLine, ui.logsFiles, ui.logsError, exportForm, ui.diagResult, ui.diagError);

    root.replaceChildren(history, settings, diag);

    // --- events --------------------------------------------------------------------
    ui.historyRefresh.addEventListener("click", () => loadHistory(ctx));
    const onForm = () => {
      state.form.relay = ui.relayServer.input.checked ? "server" : "embedded";
      state.form.url = ui.relayUrl.value;
      state.form.suite = ui.suiteNist.input.checked ? "nist" : "gm";
      state.form.language = ui.langEn.input.checked ? "en" : "zh-CN";
      state.saveStatus = null;
      ctx.rerender();
    };
    form.addEventListener("change", onForm);
    ui.relayUrl.addEventListener("input", () => {
      state.form.url = ui.relayUrl.value;
      if (ui.relayUrl.value.trim()) ui.relayServer.input.checked = true;
      onForm();
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      onForm();
      save(ctx);
    });
    ui.relayTest.addEventListener("click", () => testRelay(ctx));
    ui.logsOpen.addEventListener("click", () => showLogs(ctx));
    ui.diagPath.addEventListener("input", () => {
      state.exportPath = ui.diagPath.value;
    });
    exportForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      state.exportPath = ui.diagPath.value;
      exportDiagnostics(ctx);
    });
    // The header's language toggle is a language choice too: keep settings.json in step.
    ctx.$("lang-toggle").addEventListener("click", () => {
      const next = ctx.lang() === "zh-CN" ? "en" : "zh-CN";
      const ours = state.switchingTo === next;
      state.switchingTo = "";
      if (ours || !state.settings || state.settings.language === next) return;
      ctx
        .call("settings_set_language", { language: next })
        .then((s) => {
          adopt(ctx, /** @type {SettingsView} */ (s));
          ctx.rerender();
        })
        .catch(() => {
          /* the toggle still works; the file keeps the old language */
        });
    });
    // Show the records screen whenever its tab is chosen with fresh history.
    const tab = document.querySelector('[data-testid="tab-records"]');
    tab?.addEventListener("click", () => {
      if (state.shown) loadHistory(ctx);
    });

    // Nothing here runs at start: the shell's first screens must not wait on (or be
    // re-rendered by) this one. The history and the form load when the screen is first
    // shown; the shell itself starts in the saved language (main.js, startLang).
  },

  /** @param {ScreenContext} ctx */
  render(ctx) {
    if (!ui.historyTitle) return;
    const t = ctx.t;
    const lang = ctx.lang();
    // First shown: load the history and the form.
    if (!state.shown && !ctx.$("screen-records").hidden) {
      state.shown = true;
      if (!state.settings) loadSettings(ctx).then(() => ctx.rerender());
      setTimeout(() => loadHistory(ctx), 0);
    }

    // history
    ui.historyTitle.textContent = t("records.history.title");
    ui.historyRefresh.textContent = t("common.refresh");
    ui.historyHint.textContent = t("records.history.hint");
    const cols = ["records.col.time", "records.col.kind", "records.col.summary", "records.col.files", "records.col.result"];
    ui.historyCols.forEach((th, i) => (th.textContent = t(cols[i])));
    ui.historyError.hidden = !state.historyError;
    ui.historyError.textContent = state.historyError ? ctx.errorText(state.historyError) : "";
    const entries = state.history?.entries ?? [];
    ui.historyRows.replaceChildren(
      ...entries.map((e, i) => {
        const tr = ctx.el("tr", {
          cls: e.ok ? "ok" : "failed",
          data: { testid: "history-row", index: i, kind: e.kind, ok: e.ok, at: e.at, error: e.error ?? "" },
        });
        const d = new Date(e.at);
        const when = Number.isNaN(d.getTime()) ? e.at : d.toLocaleString(lang, { hour12: false });
        const kindKey = `records.kind.${e.kind}`;
        const kind = KINDS.includes(e.kind) ? t(kindKey) : e.kind;
        const files = ctx.el("td", { cls: "records-files-cell", data: { testid: "history-files" } });
        for (const f of e.files) files.append(ctx.el("div", { text: f }));
        if (!e.files.length) files.textContent = t("common.none");
        const result = ctx.el("td");
        result.append(
          ctx.el("span", {
            cls: "pill",
            text: e.ok ? t("records.result.ok") : t("records.result.failed", { code: e.error ?? "?" }),
            data: { testid: "history-result", state: e.ok ? "enrolled" : "error" },
          }),
        );
        tr.append(
          ctx.el("td", { text: when, data: { testid: "history-time" } }),
          ctx.el("td", { text: kind, data: { testid: "history-kind" } }),
          ctx.el("td", { text: e.summary, data: { testid: "history-summary" } }),
          files,
          result,
        );
        return tr;
      }),
    );
    ui.historyEmpty.hidden = entries.length > 0 || !state.history;
    ui.historyEmpty.textContent = t("records.history.empty");

    // settings
    ui.settingsTitle.textContent = t("records.settings.title");
    const s = state.settings;
    ui.settingsState.dataset.state = s?.saved ? "enrolled" : "empty";
    ui.settingsState.textContent = t(s?.saved ? "records.settings.saved_file" : "records.settings.defaults");
    ui.relayLegend.textContent = t("records.relay.label");
    ui.relayEmbedded.text.textContent = t("records.relay.embedded");
    ui.relayServer.text.textContent = t("records.relay.server");
    ui.relayUrl.placeholder = t("records.relay.placeholder");
    ui.relayUrl.setAttribute("aria-label", t("records.relay.server"));
    ui.relayTest.textContent = t("records.relay.test");
    ui.suiteLegend.textContent = t("records.suite.label");
    ui.suiteGm.text.textContent = t("records.suite.gm");
    ui.suiteNist.text.textContent = t("records.suite.nist");
    ui.langLegend.textContent = t("records.language.label");
    ui.langZh.text.textContent = "简体中文";
    ui.langEn.text.textContent = "English";
    ui.save.textContent = t(state.saving ? "records.settings.saving" : "records.settings.save");
    ui.save.disabled = state.saving;
    ui.settingsPath.textContent = s ? t("records.settings.path", { path: s.path }) : "";

    const f = state.form;
    ui.relayEmbedded.input.checked = f.relay === "embedded";
    ui.relayServer.input.checked = f.relay === "server";
    if (document.activeElement !== ui.relayUrl && ui.relayUrl.value !== f.url) ui.relayUrl.value = f.url;
    ui.suiteGm.input.checked = f.suite === "gm";
    ui.suiteNist.input.checked = f.suite === "nist";
    ui.langZh.input.checked = f.language === "zh-CN";
    ui.langEn.input.checked = f.language === "en";

    const rt = state.relayTest;
    ui.relayResult.hidden = !rt;
    ui.relayResult.dataset.state = rt?.state ?? "";
    ui.relayTest.disabled = rt?.state === "busy";
    ui.relayResult.textContent = !rt
      ? ""
      : rt.state === "busy"
        ? t("records.relay.testing")
        : rt.state === "ok"
          ? t("records.relay.ok", { ms: rt.check.ms })
          : ctx.errorText(rt.error);

    const st = state.saveStatus;
    ui.saveStatus.hidden = !st;
    ui.saveStatus.className = st?.state === "error" ? "error" : "note";
    ui.saveStatus.dataset.state = st?.state ?? "";
    ui.saveStatus.textContent = !st ? "" : st.state === "saved" ? t("records.settings.done") : ctx.errorText(st.error);

    // logs and diagnostics
    ui.diagTitle.textContent = t("records.diag.title");
    ui.diagHint.textContent = t("records.diag.hint");
    ui.logsOpen.textContent = t("records.logs.open");
    ui.logsPath.hidden = !state.logs;
    ui.logsPath.textContent = state.logs?.path ?? "";
    ui.logsFiles.replaceChildren(
      ...(state.logs?.files ?? []).map((name) => ctx.el("li", { text: name, data: { testid: "logs-file" } })),
    );
    if (state.logs && !state.logs.files.length) ui.logsFiles.append(ctx.el("li", { text: t("records.logs.none") }));
    ui.logsError.hidden = !state.logsError;
    ui.logsError.textContent = state.logsError ? ctx.errorText(state.logsError) : "";
    ui.diagPath.placeholder = t("records.diag.placeholder");
    ui.diagPath.setAttribute("aria-label", t("records.diag.path_label"));
    ui.diagExport.textContent = t("records.diag.export");
    const ex = state.exported;
    ui.diagExport.disabled = ex?.state === "busy";
    ui.diagResult.hidden = !ex || ex.state === "error";
    ui.diagResult.dataset.state = ex?.state ?? "";
    ui.diagResult.dataset.path = ex?.result?.path ?? "";
    ui.diagResult.dataset.size = String(ex?.result?.size ?? "");
    ui.diagResult.textContent = !ex
      ? ""
      : ex.state === "busy"
        ? t("records.diag.busy")
        : ex.state === "ok"
          ? t("records.diag.done", {
              path: ex.result.path,
              size: (ex.result.size / 1024).toLocaleString(lang, { maximumFractionDigits: 1 }),
              redactions: ex.result.redactions,
            })
          : "";
    ui.diagError.hidden = ex?.state !== "error";
    ui.diagError.textContent = ex?.state === "error" ? ctx.errorText(ex.error) : "";
  },
};
