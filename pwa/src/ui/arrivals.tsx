// New work is impossible to miss: counts on the bottom tabs (unread notifications; orders sent to me
// and not accepted yet) and a toast, tappable, when a pull brings an order newly assigned to me.
import { useEffect, useState } from "preact/hooks";
import { staff } from "../app";
import { db, getMeta, setMeta } from "../db";
import { t } from "../i18n";
import { effectiveOrders } from "../orders";
import { useSignal } from "../state";
import { changed } from "../sync";

export interface Counts { notifications: number; tasks: number }

/** Unread notifications of this phone's user; orders assigned to me still waiting for 接单. */
export async function tabCounts(me: { id: string } | null): Promise<Counts> {
  if (!me) return { notifications: 0, tasks: 0 };
  const [notes, orders] = await Promise.all([db.notifications.toArray(), effectiveOrders()]);
  return {
    notifications: notes.filter((n) => !n.read_at && (!n.staff_id || n.staff_id === me.id)).length,
    tasks: orders.filter((o) => o.assignee_id === me.id && o.status === "dispatched").length,
  };
}

export function TabCount({ n, test }: { n: number; test: string }) {
  return n > 0 ? <span class="tab-count" data-test={test} aria-label={`${n} ${t("unread")}`}>{n > 99 ? "99+" : n}</span> : null;
}

let checking: Promise<unknown> = Promise.resolve();

/** Orders assigned to me that this phone has not announced yet. The first pull after signing in
 * only records what is already there (nothing is "new" on a fresh phone). */
function newlyAssigned(meId: string): Promise<any[]> {
  const run = checking.then(async () => {
    if (!(await getMeta<string | null>("last_sync_at", null))) return [];
    const key = `arrivals_seen:${meId}`;
    const mine = (await db.orders.toArray()).filter((o) => o.assignee_id === meId && o.status === "dispatched");
    const seen = await getMeta<string[] | null>(key, null);
    const fresh = seen ? mine.filter((o) => !seen.includes(o.id)) : [];
    if (!seen || fresh.length) await setMeta(key, [...(seen ?? []), ...mine.map((o) => o.id)].filter((id, i, all) => all.indexOf(id) === i).slice(-500));
    return fresh;
  });
  checking = run.catch(() => undefined);
  return run;
}

export function ArrivalToast() {
  const me = useSignal(staff);
  const version = useSignal(changed);
  const [shown, setShown] = useState<any | null>(null);
  useEffect(() => {
    if (!me) return;
    // Not a useLive value: two quick re-reads could hide the one that found the new order.
    void newlyAssigned(me.id).then((fresh) => {
      if (!fresh.length) return;
      const o = [...fresh].sort((a, b) => (a.kind === "emergency" ? -1 : 0) - (b.kind === "emergency" ? -1 : 0))[0];
      setShown({ ...o, more: fresh.length - 1 });
      if ((navigator as any).userActivation?.hasBeenActive) navigator.vibrate?.(200);
    });
  }, [version, me?.id]);
  useEffect(() => {
    if (!shown) return;
    const id = setTimeout(() => setShown(null), 12_000);
    return () => clearTimeout(id);
  }, [shown]);
  if (!shown) return null;
  return (
    <a class={`toast arrival ${shown.kind === "emergency" ? "urgent" : ""}`} role="alert" data-test="arrival" href={`#/orders/${shown.id}`}
      onClick={() => setShown(null)}>
      <strong>{t("new_assignment")} · {t(shown.kind)}</strong>
      <span>{[shown.household_label || shown.location, shown.description].filter(Boolean).join(" · ")}</span>
      {shown.more > 0 && <span class="small">+{shown.more}</span>}
      <span class="open">{t("open_it")} →</span>
    </a>
  );
}
