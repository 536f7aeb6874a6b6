// The part of Tauri's global API (app.withGlobalTauri) the UI uses. Hand-written: it is
// Tauri's, not ours; our own command types are generated into bindings.d.ts.
export {};

declare global {
  interface Window {
    __TAURI__?: {
      core: {
        invoke<T = any>(cmd: string, args?: Record<string, unknown>): Promise<T>;
      };
      event: {
        listen<T = any>(event: string, handler: (event: { payload: T }) => void): Promise<() => void>;
      };
    };
  }
}
