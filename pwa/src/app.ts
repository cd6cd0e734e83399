// App-wide state and helpers shared by the screens.
import Dexie from "dexie";
import { call } from "./api";
import { isQuotaError, setMeta } from "./db";
import { t } from "./i18n";
import { signal } from "./state";

export interface Staff { id: string; name: string; role: string; department: string; phone: string }

export const staff = signal<Staff | null>(null);
export const toast = signal<string | null>(null);
export const route = signal(location.hash || "#/tasks");
window.addEventListener("hashchange", () => route.set(location.hash || "#/tasks"));

export function go(hash: string): void {
  location.hash = hash;
}

export function say(message: string): void {
  toast.set(message);
  setTimeout(() => toast.get() === message && toast.set(null), 3500);
}

/** Every user action goes through here so a full disk is shown, never swallowed. What the phone's
 * own database says (Dexie, DOMException: English, technical) is never put on the screen raw. */
export async function guard<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (err) {
    if (isQuotaError(err)) say(t("quota_error"));
    else if (err instanceof Dexie.DexieError || err instanceof DOMException) {
      console.warn("local database", err);
      say(t("local_error"));
    } else say(String((err as Error).message ?? err));
    return undefined;
  }
}

export async function refreshMeta(): Promise<void> {
  try {
    const { json } = await call("GET", "/api/meta");
    await setMeta("server_meta", json);
  } catch {
    // offline: keep the cached copy (or the built-in table)
  }
}
