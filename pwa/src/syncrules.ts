// The device half of sync/PROTOCOL.md as pure functions: what to send, and what an answer means for
// the outbox and the replica. No IndexedDB, no fetch: sync.ts does the I/O; pwa/test/vectors.test.mjs
// runs these against the shared vectors in sync/vectors/ (the Python engine tests run the same files),
// so the two clients cannot drift.

export const PROTOCOL = 1;

export interface Entry { seq: number; id: string; name: string; args: Record<string, unknown>; client_time: string; author: string }
export interface Result { seq: number; id?: string; status: string; code?: string; message?: string }
export interface Change { table: string; id: string; op: string; version?: number; data?: Record<string, unknown> }

/** §3: a push body. Each mutation carries its author (shared devices): only theirs are in `entries`. */
export function pushBody(clientId: string, clientTime: string, entries: Entry[]) {
  return {
    client_id: clientId,
    client_time: clientTime,
    mutations: entries.map((m) => ({ seq: m.seq, id: m.id, name: m.name, args: m.args, client_time: m.client_time, author: m.author })),
  };
}

/** §2: an answer counts only with the envelope and our request id echoed; anything else is transport. */
export function isEnvelope(json: any, requestId: string): boolean {
  return !!json && typeof json === "object" && json.protocol === PROTOCOL && json.request_id === requestId;
}

/** §3 after a 2xx: every entry with a result leaves the outbox; rejected ones go to "needs attention". */
export function settlePlan(batch: Entry[], results: Result[]): { remove: number[]; rejected: { seq: number; code: string; message: string }[] } {
  const sent = new Set(batch.map((m) => m.seq));
  const remove: number[] = [];
  const rejected: { seq: number; code: string; message: string }[] = [];
  for (const r of results) {
    if (!sent.has(r.seq)) continue;
    remove.push(r.seq);
    if (r.status === "rejected") rejected.push({ seq: r.seq, code: r.code ?? "rejected", message: r.message ?? "" });
  }
  return { remove, rejected };
}

export type ErrorAction =
  | { do: "resend_from"; seq: number } // 409 seq_gap
  | { do: "continue_at"; offset: number } // 409 wrong_offset
  | { do: "restart_upload" } // 422 hash_mismatch
  | { do: "sign_in" } | { do: "update_app" } | { do: "split" } | { do: "drop_photo" }
  | { do: "retry"; after_s?: number } // 429, 503, transport: nothing changes
  | { do: "report" }; // 400: a bug, not retried as is

/** §2: what a non-2xx answer asks of the device. `echoed` is the Wuye-Request-Id header of the answer:
 * a 409's details count only when it matches ours. */
export function errorAction(status: number, body: any, echoed: string | null, requestId: string, retryAfter?: number): ErrorAction {
  const code = body?.code;
  if (status === 409) {
    if (echoed !== requestId) return { do: "retry" };
    if (code === "seq_gap" && typeof body?.details?.expected_seq === "number") return { do: "resend_from", seq: body.details.expected_seq };
    if (code === "wrong_offset" && typeof body?.details?.offset === "number") return { do: "continue_at", offset: body.details.offset };
    return { do: "retry" };
  }
  if (status === 401) return { do: "sign_in" };
  if (status === 426) return { do: "update_app" };
  if (status === 413) return { do: "split" };
  if (status === 415) return { do: "drop_photo" };
  if (status === 422 && code === "hash_mismatch") return { do: "restart_upload" };
  if (status === 429 || status === 503 || status === 0) return retryAfter ? { do: "retry", after_s: retryAfter } : { do: "retry" };
  if (status >= 400 && status < 500) return { do: "report" };
  return { do: "retry" };
}

/** §6: the device may delete its copy of a photo only after `complete: true` for its own hash. */
export function blobDone(json: any, sha256: string): boolean {
  return json?.complete === true && json?.sha256 === sha256;
}

/** Child tables of an order: dropped with it on `leave`/`delete` (§5). */
export const ORDER_CHILDREN = ["order_events", "steps", "ratings", "callbacks"] as const;

/** §5: what one pull page does to the replica, in one local transaction with its cursor. */
export function pagePlan(page: { reset: boolean; cursor: string; changes: Change[] }, replicated: readonly string[]) {
  const put: { table: string; data: Record<string, unknown> }[] = [];
  const drop: { table: string; id: string }[] = [];
  const dropChildren: { table: string; key: string; id: string }[] = [];
  for (const c of page.changes) {
    if (!replicated.includes(c.table)) continue; // a table this version does not know: ignored
    if (c.op === "upsert") {
      put.push({ table: c.table, data: c.data! });
      continue;
    }
    drop.push({ table: c.table, id: c.id });
    if (c.table === "orders") for (const child of ORDER_CHILDREN) dropChildren.push({ table: child, key: "order_id", id: c.id });
    if (c.table === "walks") dropChildren.push({ table: "checkpoint_visits", key: "walk_id", id: c.id });
  }
  return { clear: !!page.reset, put, drop, dropChildren, cursor: page.cursor };
}
