import { staff } from "../app";
import { lang, t } from "../i18n";
import { effectiveOrders, OPEN } from "../orders";
import { useSignal } from "../state";
import { byCallbackDue, callbackDue, callbackDueAt } from "./callback";
import { useLive, useNow } from "./live";

/** "9分18秒" under an hour, "23小时39分" under a day, "2天3小时" beyond (English: 9 min 18 s …). Local
 * to this screen: the shared date/time module (pwa/src/format.ts) is being written separately. */
export function span(ms: number): string {
  const en = lang.get() === "en";
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor((ms % 86_400_000) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  if (d) return en ? `${d} d ${h} h` : `${d}天${h}小时`;
  if (h) return en ? `${h} h ${m} min` : `${h}小时${m}分`;
  return en ? `${m} min ${s} s` : `${m}分${s}秒`;
}

export function countdown(due: string | null, now: number): { text: string; tone: string } {
  if (!due) return { text: "", tone: "ok" };
  const left = new Date(due).getTime() - now;
  const text = span(Math.abs(left));
  if (left < 0) return { text: `${t("overdue")} ${text}`, tone: "late" };
  return { text: `${t("due_in")} ${text}`, tone: left < 30 * 60_000 ? "soon" : "ok" };
}

const DONE = ["completed", "rated", "called_back", "closed"];

/** Emergencies and urgent orders first, then the nearest deadline (orders without one last). */
export function byUrgency(a: any, b: any): number {
  const ua = a.kind === "emergency" || a.priority === "urgent" ? 0 : 1;
  const ub = b.kind === "emergency" || b.priority === "urgent" ? 0 : 1;
  return ua - ub || (a.due_at ?? "9999").localeCompare(b.due_at ?? "9999");
}

/** The day (yyyy-mm-dd) of an instant in China time, whatever the phone's own zone. */
export function chinaDay(at: string | number): string {
  return new Date(at).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
}

export function Tasks() {
  const me = useSignal(staff)!;
  const orders = useLive(effectiveOrders) ?? [];
  const now = useNow();
  // 待回访 (stewards: her grids' orders, which are what her phone holds): callback orders and completed
  // orders whose callback is still to be made, by due time; callback orders are not listed twice.
  const calls = CALLERS.includes(me.role) ? orders.filter((o) => callbackDue(o, orders)).sort(byCallbackDue) : [];
  const mine = orders
    .filter((o) => OPEN.includes(o.status) && (o.assignee_id === me.id || !o.assignee_id))
    .filter((o) => !(calls.length && o.kind === "callback"))
    .sort(byUrgency);
  const today = chinaDay(now);
  const done = orders
    .filter((o) => DONE.includes(o.status) && o.assignee_id === me.id && chinaDay(o.completed_at ?? o._completed_at ?? o.updated_at) === today)
    .sort((a, b) => (b.completed_at ?? b._completed_at ?? "").localeCompare(a.completed_at ?? a._completed_at ?? ""));
  return (
    <section>
      <h2>{t("tasks")}</h2>
      {calls.length > 0 && (
        <div data-test="callbacks-due">
          <h3>{t("cb_due_list")} ({calls.length})</h3>
          <ul class="list">
            {calls.map((o) => <TaskCard key={o.id} o={o} now={now} due={callbackDueAt(o)} />)}
          </ul>
        </div>
      )}
      {mine.length === 0 && calls.length === 0 && <p class="empty">{t("no_tasks")}</p>}
      <ul class="list" data-test="open-tasks">
        {mine.map((o) => <TaskCard key={o.id} o={o} now={now} />)}
      </ul>
      {done.length > 0 && (
        <div data-test="done-today">
          <h3>{t("done_today")} ({done.length})</h3>
          <ul class="list">
            {done.map((o) => <TaskCard key={o.id} o={o} now={now} />)}
          </ul>
        </div>
      )}
    </section>
  );
}

const CALLERS = ["steward", "front_desk", "team_lead", "supervisor", "admin"];

/** ``due``: the deadline to count down to (a callback's: its retry time or its 48 h). */
function TaskCard({ o, now, due }: { o: any; now: number; due?: string | null }) {
  const open = OPEN.includes(o.status);
  const c = due !== undefined ? countdown(due, now) : open ? countdown(o.due_at, now) : { text: "", tone: "done" };
  const urgent = o.kind === "emergency" || o.priority === "urgent";
  return (
    <li>
      <a class={`task ${c.tone}`} href={`#/orders/${o.id}`} data-order={o.number}>
        <div class="row">
          <span class={`kind k-${o.kind}`}>{t(o.kind)}</span>
          {urgent && o.kind !== "emergency" && <span class="kind k-emergency">{t("urgent")}</span>}
          <strong>{o.household_label || o.location}</strong>
          <span class="status">{due !== undefined && o.callback_retry_at ? t("cb_unreachable") : t(o.status)}{o._pending ? " ⟳" : ""}</span>
        </div>
        <p class="desc">{o.description}</p>
        <div class="row small">
          <span>{o.number}</span>
          {c.text && <span class={`clock ${c.tone}`}>{c.text}</span>}
        </div>
      </a>
    </li>
  );
}
