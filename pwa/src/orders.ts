// What the user sees = the server's rows + the intents still in the outbox (rebased after each pull).
import { db, getMeta, mutate, type OutboxEntry, type Row } from "./db";
import { syncSoon } from "./sync";

export interface Transition { action: string; from: string[]; to: string | null; roles: string[]; who: string; kinds: string[] | null }

// Used until /api/meta has been fetched once (the server's table is the source of truth).
const BUILT_IN: Transition[] = [
  { action: "take", from: ["new", "dispatched"], to: "accepted", roles: ["technician", "steward"], who: "queue", kinds: null },
  { action: "accept", from: ["dispatched"], to: "accepted", roles: ["technician", "steward"], who: "assignee", kinds: null },
  { action: "depart", from: ["accepted"], to: "en_route", roles: ["technician", "steward"], who: "assignee", kinds: null },
  { action: "arrive", from: ["en_route"], to: "on_site", roles: ["technician", "steward"], who: "assignee", kinds: null },
  { action: "pause", from: ["accepted", "en_route", "on_site"], to: "paused", roles: ["technician", "steward", "team_lead", "supervisor", "admin"], who: "assignee_or_lead", kinds: null },
  { action: "resume", from: ["paused"], to: null, roles: ["technician", "steward", "team_lead", "supervisor", "admin"], who: "assignee_or_lead", kinds: null },
  { action: "complete", from: ["accepted", "on_site"], to: "completed", roles: ["technician", "steward"], who: "assignee", kinds: null },
];
export const FIELD_ACTIONS = ["take", "accept", "depart", "arrive", "pause", "resume", "complete"];
export const STEP_STATUSES = ["accepted", "en_route", "on_site", "paused"];
export const OPEN = ["new", "dispatched", "accepted", "en_route", "on_site", "paused"];

export async function transitions(): Promise<Transition[]> {
  const meta = await getMeta<{ transitions?: Transition[] } | null>("server_meta", null);
  return meta?.transitions ?? BUILT_IN;
}

/** Apply pending intents to a server row, in seq order, as the server would if they succeed. */
export function rebase(order: Row, pending: OutboxEntry[], table: Transition[]): Row {
  let o = { ...order, _pending: 0 };
  for (const m of pending) {
    if (m.args.order_id !== order.id || !m.name.startsWith("order.")) continue;
    const action = m.name.slice("order.".length);
    const rule = table.find((t) => t.action === action);
    o._pending += 1;
    if (action === "set_eta") {
      o = { ...o, eta: m.args.eta };
    } else if (action === "callback") {
      // 未联系上 waits for its retry time; a call that reached the owner finishes the callback.
      o = m.args.result === "unreachable"
        ? { ...o, callback_retry_at: m.args.retry_at ?? o.callback_retry_at }
        : { ...o, status: "called_back", callback_due_at: null, callback_retry_at: null, _completed_at: o.kind === "callback" ? m.client_time : o._completed_at };
    } else if (rule && rule.from.includes(o.status)) {
      const to = rule.to ?? o.status_before_pause ?? "accepted";
      o = { ...o, status_before_pause: action === "pause" ? o.status : o.status_before_pause, status: to };
      if (action === "depart" && m.args.eta) o.eta = m.args.eta;
      if (action === "complete") o._completed_at = m.client_time; // "completed today" while offline
    }
  }
  return o;
}

export async function effectiveOrders(): Promise<Row[]> {
  const [rows, pending, table] = await Promise.all([db.orders.toArray(), db.outbox.orderBy("seq").toArray(), transitions()]);
  return rows.map((o) => rebase(o, pending, table));
}

export function allowed(order: Row, staff: { id: string; role: string; department: string }, table: Transition[]): string[] {
  return table
    .filter((t) => FIELD_ACTIONS.includes(t.action) && t.from.includes(order.status) && t.roles.includes(staff.role))
    .filter((t) => {
      if (t.kinds && !t.kinds.includes(order.kind)) return false;
      const mine = order.assignee_id === staff.id;
      if (t.who === "assignee") return mine;
      if (t.who === "queue") return (!order.assignee_id && order.department === staff.department) || (mine && order.status === "dispatched");
      if (t.who === "assignee_or_lead") return mine || ["team_lead", "supervisor", "admin"].includes(staff.role);
      return true;
    })
    .map((t) => t.action)
    // "take" and "accept" do the same for the assignee: show one button.
    .filter((a, _, all) => !(a === "take" && all.includes("accept")));
}

export async function act(orderId: string, action: string, extra: Record<string, unknown> = {}): Promise<void> {
  await mutate(`order.${action}`, { order_id: orderId, ...extra });
  syncSoon();
}

export interface NewStep { note: string; materials: { name: string; quantity: number; unit: string }[]; photos: string[] }

export async function addStep(orderId: string, step: NewStep, author: { id: string; name: string }): Promise<void> {
  const id = crypto.randomUUID();
  const captured_at = new Date().toISOString();
  await mutate("step.add", { id, order_id: orderId, note: step.note, materials: step.materials, photos: step.photos, captured_at }, async () => {
    const position = (await db.steps.where("order_id").equals(orderId).count()) + 1;
    await db.steps.put({
      id, order_id: orderId, position, note: step.note, materials: step.materials, captured_at,
      photos: step.photos.map((sha256) => ({ sha256, uploaded: false })), author_id: author.id, author_name: author.name, _local: true,
    });
  });
  syncSoon();
}
