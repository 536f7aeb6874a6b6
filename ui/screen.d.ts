// The contract between the shell (main.js) and a screen module (screens/*.js).

import type { AppInfoView, IpcError, PickFilter, PickKind } from "./bindings";

/** What the shell hands every screen. */
export interface ScreenContext {
  /** Looks a message up in the merged catalogues, filling `{name}` placeholders. */
  t(key: string, vars?: Record<string, unknown>): string;
  /** Invokes a Tauri command; rejects with `{code, message}`. */
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Listens to a Tauri event; the handler gets the payload. */
  listen(event: string, handler: (payload: any) => void): Promise<void>;
  /** Makes an element with a class, text and data attributes. */
  el(tag: string, opts?: { cls?: string; text?: string; data?: Record<string, unknown> }): HTMLElement;
  /** `document.getElementById`. */
  $(id: string): any;
  /** An IPC error as one line in the current language. */
  errorText(err: IpcError): string;
  /** Normalises anything thrown into `{code, message}`. */
  asIpcError(err: unknown): IpcError;
  /** Redraws every screen (after a state change). */
  rerender(): void;
  /** The current language (`zh-CN` or `en`). */
  lang(): string;
  /** The last `app_info` answer, if any. */
  info(): AppInfoView | null;
  /** Switches to another screen. */
  show(screen: string): void;
  /** Wraps a path input with a 浏览… button that fills it from the system's dialog. */
  pathInput(input: HTMLInputElement, kind: PickKind, filter?: PickFilter | null): HTMLElement;
}

/** A screen module: `export default { id, init, render }`. */
export interface Screen {
  /** The screen's id: its tab's and its section's `data-screen`. */
  id: string;
  /** Builds the screen's DOM into `#screen-ID` and wires its events; called once. */
  init(ctx: ScreenContext): void | Promise<void>;
  /** Redraws from the module's state in the current language; called on every render. */
  render(ctx: ScreenContext): void;
}
