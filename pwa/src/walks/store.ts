// Walk-abouts on the phone: every action is one `walk.*` intent in the outbox plus its local record,
// written in the same IndexedDB transaction (db.mutate). What the screens show = the server's rows
// + the intents still waiting in the outbox (so a pull that lands before a push never undoes them).
import { call } from "../api";
import { db, getMeta, mutate, type OutboxEntry, type Row, setMeta, uuid7 } from "../db";
import { syncSoon } from "../sync";

export const CATEGORIES = [
  "water_electric", "lift", "cleaning", "security", "noise", "fees", "parking", "landscaping", "renovation",
  "facilities", "other",
];
export const ORDER_KINDS = ["repair", "complaint", "convenience", "emergency", "inquiry"];
/** A finding's category → the order kind the one-tap conversion suggests. */
export function suggestedKind(category: string): string {
  if (["noise", "fees", "parking", "renovation"].includes(category)) return "complaint";
  return "repair";
}

export interface Me { id: string; name: string; grid_ids?: string[] }
export interface Answer { item: string; label: string; ok: boolean | null; note: string; photos: string[] }
export interface Location {
  building_id?: string; unit_id?: string; household_id?: string; text?: string;
  gps?: { lat: number; lng: number; accuracy_m?: number };
}

const pendingOutbox = () => db.outbox.orderBy("seq").toArray();

/** Apply waiting intents to server rows, as the server will once they are pushed. */
function rebaseWalk(w: Row, pending: OutboxEntry[]): Row {
  let out = { ...w };
  for (const m of pending) {
    if (m.name === "walk.end" && m.args.walk_id === w.id) out = { ...out, status: "ended", ended_at: m.args.ended_at, _pending: true };
    if (m.name === "walk.start" && m.args.id === w.id) out._pending = true;
  }
  return out;
}

function rebaseFinding(f: Row, pending: OutboxEntry[]): Row {
  let out = { ...f };
  for (const m of pending) {
    if (m.name === "walk.finding.add" && m.args.id === f.id) out._pending = true;
    if (m.name === "walk.finding.to_order" && m.args.finding_id === f.id) {
      out = { ...out, order_id: m.args.order_id, order_kind: m.args.kind, _order_pending: true };
    }
  }
  return out;
}

export async function myWalks(me: Me): Promise<Row[]> {
  const [rows, pending] = await Promise.all([db.walks.orderBy("started_at").reverse().toArray(), pendingOutbox()]);
  return rows.filter((w) => w.steward_id === me.id).map((w) => rebaseWalk(w, pending));
}

export async function activeWalk(me: Me): Promise<Row | null> {
  return (await myWalks(me)).find((w) => w.status === "active") ?? null;
}

export async function walk(id: string): Promise<Row | null> {
  const [row, pending] = await Promise.all([db.walks.get(id), pendingOutbox()]);
  return row ? rebaseWalk(row, pending) : null;
}

export async function gridCheckpoints(gridId: string): Promise<Row[]> {
  const rows = await db.checkpoints.where("grid_id").equals(gridId).toArray();
  return rows
    .filter((c) => c.active !== false)
    .sort((a, b) => (a.route_name ?? "").localeCompare(b.route_name ?? "") || (a.position ?? 0) - (b.position ?? 0));
}

export async function checkpointByCode(code: string): Promise<Row | undefined> {
  return (await db.checkpoints.where("code").equals(code).toArray()).find((c) => c.active !== false);
}

export async function walkVisits(walkId: string): Promise<Row[]> {
  const [rows, pending] = await Promise.all([db.checkpoint_visits.where("walk_id").equals(walkId).toArray(), pendingOutbox()]);
  const waiting = new Set(pending.filter((m) => m.name === "walk.checkpoint.visit").map((m) => m.args.id));
  return rows.map((v) => ({ ...v, _pending: waiting.has(v.id) })).sort((a, b) => a.visited_at.localeCompare(b.visited_at));
}

export async function findings(filter: { walkId?: string }): Promise<Row[]> {
  const [rows, pending, orders] = await Promise.all([
    filter.walkId ? db.findings.where("walk_id").equals(filter.walkId).toArray() : db.findings.toArray(),
    pendingOutbox(),
    db.orders.toArray(),
  ]);
  const byId = new Map(orders.map((o) => [o.id, o]));
  return rows
    .map((f) => withOrder(rebaseFinding(f, pending), byId))
    .sort((a, b) => b.captured_at.localeCompare(a.captured_at));
}

export async function finding(id: string): Promise<Row | null> {
  const [row, pending] = await Promise.all([db.findings.get(id), pendingOutbox()]);
  if (!row) return null;
  const f = rebaseFinding(row, pending);
  const order = f.order_id ? await db.orders.get(f.order_id) : undefined;
  return withOrder(f, new Map(order ? [[order.id, order]] : []));
}

/** The linked order's number and status: the replicated order when the phone has it (freshest). */
function withOrder(f: Row, orders: Map<string, Row>): Row {
  const o = f.order_id ? orders.get(f.order_id) : undefined;
  return o ? { ...f, order_number: o.number ?? f.order_number, order_status: o.status ?? f.order_status } : f;
}

// --- intents ----------------------------------------------------------------------------------------

export async function startWalk(me: Me, gridId: string): Promise<string> {
  const id = uuid7();
  const started_at = new Date().toISOString();
  await mutate("walk.start", { id, grid_id: gridId, started_at }, () =>
    db.walks.put({
      id, grid_id: gridId, steward_id: me.id, steward_name: me.name, status: "active", started_at, ended_at: null,
      visit_count: 0, finding_count: 0, _local: true,
    }),
  );
  syncSoon();
  return id;
}

export async function endWalk(walkId: string): Promise<void> {
  const ended_at = new Date().toISOString();
  await mutate("walk.end", { walk_id: walkId, ended_at }, () => db.walks.update(walkId, { status: "ended", ended_at }));
  syncSoon();
}

export function visitProblem(answers: Answer[]): string | null {
  if (answers.some((a) => a.ok === null)) return "answer_all";
  if (answers.some((a) => a.ok === false && !a.note.trim() && a.photos.length === 0)) return "fail_needs_evidence";
  return null;
}

export async function visitCheckpoint(walkId: string, cp: Row, method: "scan" | "manual", answers: Answer[]): Promise<string> {
  const problem = visitProblem(answers);
  if (problem) throw new Error(problem);
  const id = uuid7();
  const visited_at = new Date().toISOString();
  const wire = answers.map((a) => {
    const out: Record<string, unknown> = { item: a.item, ok: a.ok };
    if (a.note.trim()) out.note = a.note.trim();
    if (a.photos.length) out.photos = a.photos;
    return out;
  });
  await mutate("walk.checkpoint.visit", { id, walk_id: walkId, checkpoint_id: cp.id, method, visited_at, answers: wire }, () =>
    db.checkpoint_visits.put({
      id, walk_id: walkId, checkpoint_id: cp.id, checkpoint_name: cp.name, method, visited_at, received_at: null,
      answers: answers.map((a) => ({ item: a.item, label: a.label, ok: a.ok, note: a.note.trim(),
        photos: a.photos.map((sha256) => ({ sha256, uploaded: false })) })),
      failed_count: answers.filter((a) => a.ok === false).length, skew_flag: false, _local: true,
    }),
  );
  syncSoon();
  return id;
}

export interface NewFinding { walkId: string | null; gridId: string; category: string; note: string; photos: string[]; location: Location }

export async function addFinding(me: Me, f: NewFinding): Promise<string> {
  if (!f.note.trim() && f.photos.length === 0) throw new Error("finding_needs");
  const id = uuid7();
  const captured_at = new Date().toISOString();
  const location = Object.keys(f.location).length ? f.location : undefined;
  const args: Record<string, unknown> = {
    id, walk_id: f.walkId, grid_id: f.gridId, category: f.category, note: f.note.trim(), photos: f.photos, captured_at,
  };
  if (location) args.location = location;
  await mutate("walk.finding.add", args, () =>
    db.findings.put({
      id, walk_id: f.walkId, grid_id: f.gridId, category: f.category, note: f.note.trim(),
      photos: f.photos.map((sha256) => ({ sha256, uploaded: false })), location: location ?? null, captured_at,
      received_at: null, author_id: me.id, author_name: me.name, order_id: null, order_number: null, order_status: null,
      _local: true,
    }),
  );
  syncSoon();
  return id;
}

export interface NewOrder { kind: string; category: string; household_id?: string; description: string }

export async function findingToOrder(findingId: string, o: NewOrder): Promise<string> {
  const order_id = uuid7();
  const args: Record<string, unknown> = { finding_id: findingId, order_id, kind: o.kind, category: o.category };
  if (o.household_id) args.household_id = o.household_id;
  if (o.description.trim()) args.description = o.description.trim();
  await mutate("walk.finding.to_order", args, () => db.findings.update(findingId, { order_id, order_status: null }));
  syncSoon();
  return order_id;
}

// --- households of a grid (for a finding's location; cached for offline use) --------------------------

export interface Household { id: string; label: string; grid_id: string }

export async function gridHouseholds(gridId: string): Promise<Household[]> {
  const key = `walk_households:${gridId}`;
  const cached = await getMeta<Household[] | null>(key, null);
  if (cached && navigator.onLine === false) return cached;
  try {
    const { json } = await call("GET", `/api/grids/${gridId}/households`);
    const list = (json as Household[]).map((h) => ({ id: h.id, label: h.label, grid_id: h.grid_id }));
    await setMeta(key, list);
    return list;
  } catch {
    return cached ?? [];
  }
}
