import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { guard, refreshMeta, staff } from "../app";
import { t } from "../i18n";
import { sealedSummary, signIn } from "../person";
import { startLiveStream } from "../livesync";
import { startSyncLoop } from "../sync";
import { useLive } from "./live";

export function Login() {
  const [phone, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sealed = useLive(sealedSummary) ?? [];

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { json } = await call("POST", "/api/auth/login", { phone: phone.trim(), password, device_name: navigator.userAgent.slice(0, 100) });
      // Another person than the replica's: every replicated table goes; their own sealed work returns.
      await guard(() => signIn(json.staff, json.token));
      await refreshMeta();
      (navigator.storage as any)?.persist?.().catch(() => undefined);
      staff.set(json.staff);
      startSyncLoop();
      startLiveStream();
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
      {sealed.length > 0 && (
        <ul class="list sealed" data-test="sealed">
          {sealed.map((p) => (
            <li key={p.id}>
              <button type="button" class="link" onClick={() => setPhone(p.phone)}>
                {t("sealed_count", { name: p.name, n: p.count })}{p.photos ? `，${t("sealed_photos", { n: p.photos })}` : ""}
              </button>
              <span class="small">{t("sealed_hint")}</span>
            </li>
          ))}
        </ul>
      )}
      <button class="primary big" type="submit" disabled={busy}>{busy ? t("signing_in") : t("login")}</button>
    </form>
  );
}
