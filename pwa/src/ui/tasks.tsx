import { staff } from "../app";
import { t } from "../i18n";
import { effectiveOrders, OPEN } from "../orders";
import { useSignal } from "../state";
import { useLive, useNow } from "./live";

export function countdown(due: string | null, now: number): { text: string; tone: string } {
  if (!due) return { text: "", tone: "ok" };
  const left = new Date(due).getTime() - now;
  const abs = Math.abs(left);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const text = h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  if (left < 0) return { text: `${t("overdue")} ${text}`, tone: "late" };
  return { text: `${t("due_in")} ${text}`, tone: left < 30 * 60_000 ? "soon" : "ok" };
}

export function Tasks() {
  const me = useSignal(staff)!;
  const orders = useLive(effectiveOrders) ?? [];
  const now = useNow();
  const mine = orders
    .filter((o) => OPEN.includes(o.status) && (o.assignee_id === me.id || !o.assignee_id))
    .sort((a, b) => (a.due_at ?? "9999").localeCompare(b.due_at ?? "9999"));
  return (
    <section>
      <h2>{t("tasks")}</h2>
      {mine.length === 0 && <p class="empty">{t("no_tasks")}</p>}
      <ul class="list">
        {mine.map((o) => {
          const c = countdown(o.due_at, now);
          return (
            <li key={o.id}>
              <a class={`task ${c.tone}`} href={`#/orders/${o.id}`} data-order={o.number}>
                <div class="row">
                  <span class={`kind k-${o.kind}`}>{t(o.kind)}</span>
                  <strong>{o.household_label || o.location}</strong>
                  <span class="status">{t(o.status)}{o._pending ? " ⟳" : ""}</span>
                </div>
                <p class="desc">{o.description}</p>
                <div class="row small">
                  <span>{o.number}</span>
                  <span class={`clock ${c.tone}`}>{c.text}</span>
                </div>
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
