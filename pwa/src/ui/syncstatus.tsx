import { useEffect, useState } from "preact/hooks";
import { guard } from "../app";
import { db, getMeta } from "../db";
import { fullDateTime } from "../format";
import { t } from "../i18n";
import { streamLive } from "../livesync";
import { useSignal } from "../state";
import { myPendingPhotos, pendingCounts, syncNow, syncState, uploadProgress } from "../sync";
import { useLive } from "./live";

const HINTS: Record<string, string> = {
  illegal_transition: "工单状态已变化（可能已改派或取消），请查看最新工单。",
  not_found: "该工单已不在您的任务中（可能已改派），如有疑问请联系调度。",
  transition_forbidden: "您无权执行此操作，请联系组长。",
  not_assignee: "该工单已不由您负责，请联系调度。",
  wrong_author: "这条记录是别人做的，只能由本人登录后发送。",
};

function explain(code: string | null, error: string): string {
  if (code === "transport") return t("waiting_network");
  if (code === "client_outdated") return t("update_app");
  if (code === "unauthorized" || code === "token_expired" || code === "token_revoked") return t("need_login");
  if (code === "rate_limited" || code === "unavailable") return t("server_busy");
  return error;
}

function mb(n?: number): string {
  return n === undefined ? "?" : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function SyncStatus() {
  const state = useSignal(syncState);
  const streaming = useSignal(streamLive);
  const progress = useSignal(uploadProgress);
  const counts = useLive(pendingCounts);
  const rejected = useLive(() => db.rejected.orderBy("seq").reverse().toArray()) ?? [];
  const last = useLive(() => getMeta<string | null>("last_sync_at", null));
  const pendingPhotos = useLive(myPendingPhotos) ?? [];
  const [storage, setStorage] = useState<{ usage?: number; quota?: number; persisted?: boolean }>({});
  useEffect(() => {
    (async () => {
      const est = await navigator.storage?.estimate?.();
      const persisted = await navigator.storage?.persisted?.();
      setStorage({ usage: est?.usage, quota: est?.quota, persisted });
    })();
  }, [counts]);
  return (
    <section class="sync">
      <h2>{t("sync")}</h2>
      <div class="card grid2">
        <span>{t("pending_changes")}</span><strong data-test="pending-mutations">{counts?.mutations ?? "…"}</strong>
        <span>{t("pending_photos")}</span><strong data-test="pending-photos">{counts?.photos ?? "…"}</strong>
        <span>{t("last_sync")}</span><strong>{last ? fullDateTime(last) : t("never")}</strong>
        <span>{t("live_stream")}</span><strong data-test="live-stream" data-live={streaming ? "1" : "0"}>{streaming ? t("live_on") : t("live_off")}</strong>
        <span>{t("storage")}</span><strong>{mb(storage.usage)} / {mb(storage.quota)}</strong>
      </div>
      <p class="small">{storage.persisted ? t("persisted") : t("not_persisted")}</p>
      {state.error && <p class="error" role="alert">{explain(state.code, state.error)}</p>}
      <button class="primary big" disabled={state.running} onClick={() => guard(syncNow)}>{state.running ? "…" : t("sync_now")}</button>
      {pendingPhotos.length > 0 && (
        <ul class="list small">
          {pendingPhotos.map((p) => <li key={p.sha256}>{p.sha256.slice(0, 10)}… {Math.round((progress[p.sha256] ?? 0) * 100)}%</li>)}
        </ul>
      )}
      {rejected.length > 0 && <h3>{t("rejected")}</h3>}
      <ul class="list">
        {rejected.map((r) => (
          <li key={r.seq} class="card rejected">
            <strong>{r.name}</strong> <code>{r.code}</code>
            <p>{r.message}</p>
            <p class="small">{HINTS[r.code] ?? t("rejected_hint")}</p>
            <button class="link" onClick={() => db.rejected.delete(r.seq)}>✓</button>
          </li>
        ))}
      </ul>
    </section>
  );
}
