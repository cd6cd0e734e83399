import { useState } from "preact/hooks";
import { call } from "../api";
import { guard, say, staff } from "../app";
import { db } from "../db";
import { lang, setLang, t } from "../i18n";
import { useSignal } from "../state";
import { pendingCounts } from "../sync";

function b64ToBytes(b64: string): Uint8Array {
  const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Each way enabling push fails says why, in the user's language (never a raw DOMException). */
async function enablePush(): Promise<void> {
  if (!("PushManager" in window) || !("serviceWorker" in navigator) || !("Notification" in window)) throw new Error(t("push_unsupported"));
  if (!navigator.onLine) throw new Error(t("push_offline"));
  const permission = await Notification.requestPermission();
  if (permission === "denied") throw new Error(t("push_denied"));
  if (permission !== "granted") throw new Error(t("push_dismissed"));
  const reg = await navigator.serviceWorker.ready;
  let key: string;
  try {
    key = (await call("GET", "/api/push/vapid-public-key")).json.key;
  } catch (e) {
    throw new Error((e as { code?: string }).code === "transport" ? t("push_offline") : t("push_failed"));
  }
  let sub: PushSubscription;
  try {
    sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64ToBytes(key) });
  } catch (e) {
    throw new Error((e as DOMException).name === "NotAllowedError" ? t("push_denied") : t("push_failed"));
  }
  try {
    await call("POST", "/api/push/subscriptions", sub.toJSON());
  } catch (e) {
    throw new Error((e as { code?: string }).code === "transport" ? t("push_offline") : t("push_failed"));
  }
}

async function disablePush(): Promise<void> {
  const reg = await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.getSubscription();
  await sub?.unsubscribe();
}

export function Settings() {
  const me = useSignal(staff)!;
  const current = useSignal(lang);
  const [busy, setBusy] = useState(false);
  async function logout() {
    const counts = await pendingCounts();
    if ((counts.mutations || counts.photos) && !confirm(t("logout_warn"))) return;
    setBusy(true);
    try {
      await call("POST", "/api/auth/logout");
    } catch {
      // offline: the token stays valid on the server until it expires; it is forgotten here
    }
    await guard(async () => {
      await db.meta.bulkDelete(["token", "staff"]);
    });
    staff.set(null);
    setBusy(false);
  }
  return (
    <section class="settings">
      <h2>{t("settings")}</h2>
      <div class="card">
        <p><strong>{me.name}</strong> · {me.phone}</p>
      </div>
      <div class="card row">
        <span class="grow">{t("language")}</span>
        <button class={current === "zh-CN" ? "primary" : ""} onClick={() => setLang("zh-CN")}>中文</button>
        <button class={current === "en" ? "primary" : ""} onClick={() => setLang("en")}>English</button>
      </div>
      <div class="card row">
        <span class="grow">{t("push")}</span>
        <button data-action="push-on" onClick={() => guard(async () => { await enablePush(); say(t("push_enabled")); })}>{t("push_on")}</button>
        <button data-action="push-off" onClick={() => guard(async () => { await disablePush(); say(t("push_disabled")); })}>{t("push_off")}</button>
      </div>
      <button class="danger big" disabled={busy} onClick={logout}>{t("logout")}</button>
    </section>
  );
}
