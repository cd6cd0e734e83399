import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { guard, say, staff, toast } from "../app";
import { lang, setLang, t } from "../i18n";
import { handOver, removeSealed, sealedSummary, signOut } from "../person";
import { useSignal } from "../state";
import { pendingCounts, syncNow } from "../sync";
import { useLive } from "./live";

const SUPERVISORS = new Set(["supervisor", "team_lead", "admin"]);

/** A supervisor's hand-over of a departed person's sealed work: a file first, then removal. */
function SealedWork({ me }: { me: { id: string; name: string; phone: string; role: string } }) {
  const sealed = useLive(sealedSummary) ?? [];
  if (!SUPERVISORS.has(me.role) || !sealed.length) return null;
  async function exportAndRemove(p: { id: string; name: string; count: number }) {
    if (!confirm(t("handover_confirm", { name: p.name, n: p.count }))) return;
    const { file } = await handOver(p.id, me);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(file);
    a.download = `交接-${p.name}-${new Date().toISOString().slice(0, 10)}.json`;
    a.click();
    await removeSealed(p.id);
    say("✓");
  }
  return (
    <div class="card" data-test="handover">
      <h3>{t("handover")}</h3>
      <p class="small">{t("handover_hint")}</p>
      <ul class="list">
        {sealed.map((p) => (
          <li key={p.id} class="row">
            <span class="grow">{t("sealed_count", { name: p.name, n: p.count })}</span>
            <button onClick={() => guard(() => exportAndRemove(p))}>{t("handover_btn")}</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

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
    const code = (e as ApiError).code;
    if (code === "destination_refused" || code === "destination_unresolvable") {
      await sub.unsubscribe();
      throw new Error(t("push_refused"));
    }
    throw new Error(code === "transport" ? t("push_offline") : t("push_failed"));
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
    setBusy(true);
    let counts = await pendingCounts();
    if (counts.mutations || counts.photos) {
      // Send it now if the network allows; what is left is sealed for this person alone.
      if (navigator.onLine) await syncNow();
      counts = await pendingCounts();
      if ((counts.mutations || counts.photos) && !confirm(t("logout_warn", { n: counts.mutations + counts.photos }))) {
        setBusy(false);
        return;
      }
    }
    try {
      await call("POST", "/api/auth/logout");
    } catch {
      // offline: the token stays valid on the server until it expires; it is forgotten here
    }
    await guard(signOut);
    toast.set(null); // nothing of this person's session stays on screen for the next one
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
      <SealedWork me={me} />
      <button class="danger big" disabled={busy} onClick={logout}>{busy ? t("logout_syncing") : t("logout")}</button>
    </section>
  );
}
