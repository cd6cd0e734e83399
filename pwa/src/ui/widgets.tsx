import { useEffect, useState } from "preact/hooks";
import { route, staff } from "../app";
import { featureNav } from "../screens";
import { t } from "../i18n";
import { useSignal } from "../state";
import { pendingCounts } from "../sync";
import { tabCounts, TabCount } from "./arrivals";
import { useLive } from "./live";

export function Badge() {
  const counts = useLive(pendingCounts);
  const n = (counts?.mutations ?? 0) + (counts?.photos ?? 0);
  return (
    <a class={`badge ${counts?.rejected ? "warn" : ""}`} href="#/sync" data-test="pending-badge">
      {n > 0 ? `⟳ ${n}` : counts?.rejected ? "!" : "✓"}
    </a>
  );
}

export function Nav() {
  const hash = useSignal(route);
  const me = useSignal(staff);
  const counts = useLive(() => tabCounts(me), [me?.id]);
  const items = [
    ["#/tasks", "tasks"],
    ...featureNav(me?.role).map((i) => [i.href, i.label]),
    ["#/sync", "sync"],
    ["#/notifications", "notifications"],
    ["#/settings", "settings"],
  ];
  return (
    <nav class="bottom">
      {items.map(([href, key]) => (
        <a key={href} href={href} class={hash.startsWith(href) ? "active" : ""} data-tab={key}>
          {t(key)}
          {key === "tasks" && <TabCount n={counts?.tasks ?? 0} test="tasks-count" />}
          {key === "notifications" && <TabCount n={counts?.notifications ?? 0} test="notifications-count" />}
        </a>
      ))}
    </nav>
  );
}

/** Shown when a new service worker waits. "更新" activates it and reloads: the outbox lives in
 * IndexedDB, which the reload does not touch, so nothing queued is lost. */
export function UpdateBanner() {
  const [waiting, setWaiting] = useState<ServiceWorker | null>(null);
  useEffect(() => {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.getRegistration("/app/").then((reg) => {
      if (!reg) return;
      if (reg.waiting && navigator.serviceWorker.controller) setWaiting(reg.waiting);
      reg.addEventListener("updatefound", () => {
        const sw = reg.installing;
        sw?.addEventListener("statechange", () => {
          if (sw.state === "installed" && navigator.serviceWorker.controller) setWaiting(sw);
        });
      });
    });
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!reloading) {
        reloading = true;
        location.reload();
      }
    });
  }, []);
  if (!waiting) return null;
  return (
    <div class="update">
      <span>{t("update_ready")}</span>
      <button class="primary" onClick={() => waiting.postMessage({ type: "SKIP_WAITING" })}>{t("update")}</button>
    </div>
  );
}
