import { go, guard } from "../app";
import { db, mutate } from "../db";
import { dateTime } from "../format";
import { t } from "../i18n";
import { noticeText } from "../notices";
import { syncSoon } from "../sync";
import { useLive } from "./live";

export function Notifications() {
  const feed = useLive(() => db.notifications.orderBy("created_at").reverse().toArray()) ?? [];
  async function open(n: any) {
    if (!n.read_at) {
      await guard(async () => {
        await mutate("notification.read", { notification_id: n.id }, () => db.notifications.update(n.id, { read_at: new Date().toISOString() }));
        syncSoon();
      });
    }
    if (n.order_id) go(`#/orders/${n.order_id}`);
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
              <span>{noticeText(n).body}</span>
              <time class="small">{dateTime(n.created_at)}</time>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
