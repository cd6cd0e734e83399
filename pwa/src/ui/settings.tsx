import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { guard, say, staff } from "../app";
import { db } from "../db";
import { lang, setLang, t } from "../i18n";
import { useSignal } from "../state";
import { pendingCounts } from "../sync";

function b64ToBytes(b64: string): Uint8Array {
  const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function enablePush(): Promise<void> {
  if (!("PushManager" in window)) throw new Error("此浏览器不支持推送；新工单仍会在同步时出现在通知里。");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("未允许通知");
  const reg = await navigator.serviceWorker.ready;
  const { json } = await call("GET", "/api/push/vapid-public-key");
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64ToBytes(json.key) });
  try {
    await call("POST", "/api/push/subscriptions", sub.toJSON());
  } catch (err) {
    const code = (err as ApiError).code;
    if (code === "destination_refused" || code === "destination_unresolvable") {
      await sub.unsubscribe();
      throw new Error(t("push_refused"));
    }
    throw err;
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
        <button onClick={() => guard(async () => { await enablePush(); say("✓"); })}>{t("push_on")}</button>
        <button onClick={() => guard(async () => { await disablePush(); say("✓"); })}>{t("push_off")}</button>
      </div>
      <button class="danger big" disabled={busy} onClick={logout}>{t("logout")}</button>
    </section>
  );
}
