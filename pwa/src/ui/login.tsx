import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { guard, refreshMeta, staff } from "../app";
import { db, setMeta } from "../db";
import { t } from "../i18n";
import { startSyncLoop } from "../sync";

export function Login() {
  const [phone, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { json } = await call("POST", "/api/auth/login", { phone: phone.trim(), password, device_name: navigator.userAgent.slice(0, 100) });
      await guard(async () => {
        const previous = await db.meta.get("staff");
        if (previous && (previous.value as { id: string }).id !== json.staff.id) {
          // Another person on this phone: their replica goes, the outbox (if any) stays for its owner's next sync.
          await Promise.all([db.orders.clear(), db.order_events.clear(), db.steps.clear(), db.notifications.clear()]);
          await setMeta("cursor", null);
        }
        await setMeta("token", json.token);
        await setMeta("staff", json.staff);
      });
      await refreshMeta();
      (navigator.storage as any)?.persist?.().catch(() => undefined);
      staff.set(json.staff);
      startSyncLoop();
      location.hash = "#/tasks";
    } catch (err) {
      const e = err as ApiError;
      setError(
        e.code === "bad_credentials" ? t("wrong_login")
        : e.code === "too_many_attempts" ? t("login_wait").replace("{s}", String(e.retryAfter ?? e.details?.retry_after ?? 60))
        : e.message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="login card" onSubmit={submit}>
      <img src="/app/icons/icon-192.png" alt="" width={72} height={72} />
      <h1>{t("app")}</h1>
      <label>
        {t("phone")}
        <input name="phone" type="tel" inputMode="numeric" autoComplete="username" value={phone}
          onInput={(e) => setPhone((e.target as HTMLInputElement).value)} required />
      </label>
      <label>
        {t("password")}
        <input name="password" type="password" autoComplete="current-password" value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} required />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary big" type="submit" disabled={busy}>{busy ? t("signing_in") : t("login")}</button>
    </form>
  );
}
