// @ts-check
// The 浏览… button beside a path field: the system's open, folder or save dialog
// (pick_path, src-tauri/src/commands/files.rs) fills the field. Typing a path works too.

/** @typedef {import("./bindings").PickKind} PickKind */
/** @typedef {import("./bindings").PickFilter} PickFilter */

/**
 * Wraps `input` with a browse button: returns `<span class="path-input">` holding both.
 * The button's test id is the input's plus `-browse`.
 * @param {{ t: (key: string) => string, call: (cmd: string, args?: Record<string, unknown>) => Promise<any> }} io
 * @param {HTMLInputElement} input
 * @param {PickKind} kind
 * @param {PickFilter | null} [filter]
 * @returns {HTMLElement}
 */
export function pathInput(io, input, kind, filter = null) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ghost browse";
  button.dataset.i18n = "common.browse";
  button.textContent = io.t("common.browse");
  const id = input.dataset.testid || input.id;
  if (id) button.dataset.testid = `${id}-browse`;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const current = input.value.trim();
      /** @type {string | null} */
      const picked = await io.call("pick_path", {
        request: { kind, filter, title: io.t(`common.pick_${kind}`), current: current || null },
      });
      if (picked) {
        input.value = picked;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } catch (err) {
      console.error("pick_path", err);
    } finally {
      button.disabled = false;
    }
  });
  const wrap = document.createElement("span");
  wrap.className = "path-input";
  wrap.append(input, button);
  return wrap;
}
