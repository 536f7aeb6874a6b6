// @ts-check
/// <reference path="globals.d.ts" />
// The main window's side of the emulated phone window: the "open the phone" button on the
// home screen's phone card, and the answer to the phone's 扫一扫 — when the phone window
// asks (`phone-qr-request`), reply (`phone-qr-reply`) with the data URL of the QR image
// this window currently shows (the login QR, or any visible `img[data-qr-text]` of the
// seal / submit / opening screens), so the phone reads the pixels on the screen.

/** Whether an element is on screen (not inside anything hidden). */
function visible(/** @type {Element} */ el) {
  return !el.closest("[hidden]") && /** @type {HTMLElement} */ (el).offsetParent !== null;
}

/** The data URL of the QR code the window shows, or "". */
function shownQr() {
  const candidates = [document.getElementById("login-qr"), ...document.querySelectorAll("img[data-qr-text]")];
  for (const el of candidates) {
    const img = /** @type {HTMLImageElement | null} */ (el);
    if (img && img.src && img.src.startsWith("data:image/png;base64,") && !img.hidden && visible(img)) {
      return img.src;
    }
  }
  return "";
}

async function setup() {
  const button = document.querySelector("[data-testid=open-phone]");
  button?.addEventListener("click", () => {
    window.__TAURI__?.core?.invoke("open_phone_window").catch((err) => {
      console.error("open_phone_window", err);
    });
  });
  // `emit` is Tauri's too, but not in globals.d.ts (shared): typed loosely here.
  const ev = /** @type {any} */ (window.__TAURI__?.event);
  if (ev) {
    await ev.listen("phone-qr-request", () => {
      ev.emit("phone-qr-reply", { src: shownQr() });
    });
  }
  // Tests wait for this before clicking the button.
  document.body.dataset.phoneLauncher = "ready";
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => setup());
} else {
  setup();
}
