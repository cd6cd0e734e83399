import { go, guard } from "../app";
import { db, mutate } from "../db";
import { dateTime } from "../format";
import { t } from "../i18n";
import { noticeText } from "../notices";
import { syncSoon } from "../sync";
import { useLive } from "./live";

/** The feed: the phone's tab, and the console's 通知 (``orderHref`` opens the console's order page). */
export function Notifications({ orderHref = "#/orders/" }: { orderHref?: string }) {
  const feed = useLive(() => db.notifications.orderBy("created_at").reverse().toArray()) ?? [];
  async function open(n: any) {
    if (!n.read_at) {
      await guard(async () => {
        await mutate("notification.read", { notification_id: n.id }, () => db.notifications.update(n.id, { read_at: new Date().toISOString() }));
        syncSoon();
      });
    }
    if (n.order_id) go(`${orderHref}${n.order_id}`);
  }
  return (
    <section>
      <h2>{t("notifications")}</h2>
      {feed.length === 0 && <p class="empty">{t("empty_feed")}</p>}
      <ul class="list">
        {feed.map((n) => (
          <li key={n.id}>
            <button class={`note ${n.read_at ? "read" : ""}`} onClick={() => open(n)}>
              <strong>{noticeText(n).title}</strong>
              <span>{String(noticeText(n).body ?? "").split("\n").pop()}</span>
              <time class="small">{dateTime(n.created_at)}</time>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
