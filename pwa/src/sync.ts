// The outbox and replica, per sync/PROTOCOL.md. One tab owns the outbox (Web Locks) and one push is
// in flight at a time. Sync runs on start, when the network returns, when the app becomes visible, on
// a timer with backoff and jitter, on a push/Background Sync wake-up, and shortly after every local
// change — never only on the next write.
import { ApiError, call, checkEnvelope } from "./api";
import { db, getMeta, type OutboxEntry, REPLICATED, setMeta } from "./db";
import { signal } from "./state";
import { blobDone, errorAction, pagePlan, pushBody, type Result, settlePlan } from "./syncrules";

export type SyncState = { running: boolean; error: string | null; code: string | null; lastSync: string | null };
export const syncState = signal<SyncState>({ running: false, error: null, code: null, lastSync: null });
export const changed = signal(0); // bumped whenever local data changed (UI re-reads)

const CHUNK = 256 * 1024;
const BATCH = 100;
let failures = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<void> | null = null;
let again = false; // a change was announced while a sync ran: its pull may have read before it
let live = false; // the device stream is open (livesync.ts): the poll is only a safety net then
const POLL_MS = 30_000;
const LIVE_POLL_MS = 300_000;

export async function clientId(): Promise<string> {
  let id = await getMeta<string | null>("client_id", null);
  if (!id) {
    id = crypto.randomUUID();
    await setMeta("client_id", id);
  }
  return id;
}

function bump(): void {
  changed.set(changed.get() + 1);
}

/** Run one full sync unless one is already running (in this tab or, via the lock, another). */
export function syncNow(): Promise<void> {
  if (inFlight) return inFlight;
  const run = async () => {
    const locks = (navigator as any).locks;
    if (locks?.request) {
      await locks.request("wuye-outbox", { ifAvailable: true }, async (lock: unknown) => {
        if (lock) await syncOnce();
      });
    } else {
      await syncOnce();
    }
  };
  inFlight = run().finally(() => {
    inFlight = null;
    if (again) {
      again = false;
      void syncNow();
    }
  });
  return inFlight;
}

/** The server announced a change for me: sync now, or once more right after the running sync. */
export function syncAgain(): void {
  if (inFlight) again = true;
  else void syncNow();
}

/** The device stream opened or closed: poll rarely while it is open, every 30 s when it is not. */
export function setStreamLive(on: boolean): void {
  if (on === live) return;
  live = on;
  if (!failures) schedule();
}

async function syncOnce(): Promise<void> {
  if (!(await getMeta("token", null))) return;
  syncState.set({ ...syncState.get(), running: true });
  try {
    await uploadPhotos();
    await pushOutbox();
    await pull();
    failures = 0;
    const now = new Date().toISOString();
    await setMeta("last_sync_at", now);
    syncState.set({ running: false, error: null, code: null, lastSync: now });
  } catch (err) {
    failures += 1;
    const e = err as ApiError;
    syncState.set({ ...syncState.get(), running: false, error: e.message ?? String(err), code: e.code ?? "error" });
    schedule(e.retryAfter ? e.retryAfter * 1000 : undefined);
  } finally {
    bump();
  }
}

/** Next attempt: 5 s doubling to 5 min, with jitter, unless the server named a time. */
export function schedule(ms?: number): void {
  clearTimeout(timer);
  const base = Math.min(300_000, 5_000 * 2 ** Math.max(0, failures - 1));
  const delay = ms ?? (failures ? base * (0.5 + Math.random() / 2) : live ? LIVE_POLL_MS : POLL_MS);
  timer = setTimeout(() => void syncNow().then(() => schedule()), delay);
}

export function startSyncLoop(): void {
  window.addEventListener("online", () => void syncNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void syncNow();
  });
  navigator.serviceWorker?.addEventListener("message", (e) => {
    if (e.data?.type === "SYNC_NOW") void syncNow();
  });
  void syncNow();
  schedule();
}

let soon: ReturnType<typeof setTimeout> | undefined;
/** After a local change: sync in a moment (coalescing bursts) and ask for Background Sync. */
export function syncSoon(): void {
  bump();
  clearTimeout(soon);
  soon = setTimeout(() => void syncNow(), 400);
  navigator.serviceWorker?.ready
    .then((reg: any) => reg.sync?.register("wuye-outbox"))
    .catch(() => undefined);
}

// --- photos ----------------------------------------------------------------------------------------

/** What an error answer asks of the device (PROTOCOL.md §2): a 409's details count only when the
 * answer echoes our request id. */
function answerAction(err: unknown) {
  const e = err as ApiError;
  return errorAction(e.status ?? 0, { code: e.code, details: e.details }, e.echo ?? null, e.requestId ?? "", e.retryAfter);
}

/** The signed-in person's id: only their outbox entries and photos travel under their token. */
async function me(): Promise<string | null> {
  return (await getMeta<{ id: string } | null>("staff", null))?.id ?? null;
}

/** Photos waiting for upload that belong to the signed-in person (an unsigned one: an old version's). */
export async function myPendingPhotos() {
  const id = await me();
  return db.photos.where("state").equals("pending").filter((p) => !p.author || p.author === id).toArray();
}

/** Photos in flight at once. One at a time, each chunk waited a round trip for its answer and the
 * link idled in between (a shift synced at a tenth of the bandwidth); three keep it busy on a slow
 * link without one photo's chunks waiting behind many others. The meta key ``upload_parallel``
 * overrides it (the photo bench measures one at a time against it). */
export const UPLOAD_PARALLEL = 3;
/** Attempts for one chunk on a transient failure (dropped connection, 429, 503) before the sync
 * gives up and retries later with backoff: each resumes where the server says the photo stands. */
const CHUNK_ATTEMPTS = 4;

async function uploadPhotos(): Promise<void> {
  const queue = await myPendingPhotos();
  const parallel = Math.max(1, Number(await getMeta<number>("upload_parallel", UPLOAD_PARALLEL)) || UPLOAD_PARALLEL);
  let failure: unknown = null;
  const worker = async () => {
    // Each photo is taken by exactly one worker; after a failure no new photo starts (the ones in
    // flight finish), and the sync reports the failure as before.
    for (let photo = queue.shift(); photo && failure === null; photo = queue.shift()) {
      try {
        await uploadOne(photo.sha256, new Uint8Array(photo.bytes));
      } catch (err) {
        failure ??= err;
        return;
      }
      // Only now, with the server's confirmation of this hash, is the photo marked uploaded.
      await db.photos.update(photo.sha256, { state: "uploaded" });
      bump();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
  if (failure !== null) throw failure;
}

export const uploadProgress = signal<Record<string, number>>({});

const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Where the server's copy of a photo stands: its confirmation when complete, else the next offset. */
async function blobStatus(path: string): Promise<any> {
  const { json, requestId } = await call("GET", path);
  checkEnvelope(json, requestId);
  return json;
}

async function uploadOne(sha: string, bytes: Uint8Array, restarted = false): Promise<void> {
  const path = `/sync/blobs/${sha}`;
  let json = await blobStatus(path);
  if (blobDone(json, sha)) return;
  let offset: number = json.offset;
  let attempts = 0;
  for (;;) {
    // The last chunk also finishes the upload (PROTOCOL.md §6): the answer is the finish answer.
    const last = offset + CHUNK >= bytes.length;
    const piece = bytes.slice(offset, offset + CHUNK);
    const url = `${path}?offset=${offset}${last ? "&finish=true" : ""}`;
    try {
      const answer = await call("PUT", url, undefined, { bytes: piece.buffer });
      checkEnvelope(answer.json, answer.requestId);
      json = answer.json;
    } catch (err) {
      const action = answerAction(err);
      if (action.do === "continue_at") {
        offset = action.offset;
        continue;
      }
      if (action.do === "restart_upload" && !restarted) {
        return uploadOne(sha, bytes, true); // the server discarded its partial copy: send it all again
      }
      if (action.do !== "retry" || ++attempts >= CHUNK_ATTEMPTS) throw err;
      // Resume this chunk: whatever part of it arrived is kept by the server (§6); ask where it
      // stands rather than sending all again, after the server's Retry-After or a short backoff.
      await pause(action.after_s ? action.after_s * 1000 : 500 * 2 ** attempts * (0.5 + Math.random()));
      json = await blobStatus(path);
      if (blobDone(json, sha)) return;
      offset = json.offset;
      continue;
    }
    attempts = 0;
    offset = last ? bytes.length : json.offset;
    uploadProgress.set({ ...uploadProgress.get(), [sha]: offset / bytes.length });
    if (last) break;
  }
  if (!blobDone(json, sha)) throw new ApiError(200, "transport", "photo not confirmed");
}

// --- push -----------------------------------------------------------------------------------------

async function pushOutbox(): Promise<void> {
  for (;;) {
    const author = await me();
    const batch = (await db.outbox.orderBy("seq").limit(BATCH).toArray()).filter((m) => m.author === author);
    if (!batch.length) return;
    const body = pushBody(await clientId(), new Date().toISOString(), batch);
    let json: any;
    try {
      const r = await call("POST", "/sync/push", body);
      checkEnvelope(r.json, r.requestId);
      json = r.json;
    } catch (err) {
      const action = answerAction(err);
      if (action.do === "resend_from") {
        await renumber(action.seq);
        continue;
      }
      throw err;
    }
    await settle(batch, json.results);
  }
}

/** The server restored from a backup knows fewer seqs: continue numbering where it stands. */
async function renumber(expected: number): Promise<void> {
  await db.transaction("rw", db.outbox, db.meta, async () => {
    const all = await db.outbox.orderBy("seq").toArray();
    await db.outbox.clear();
    all.forEach((m, i) => (m.seq = expected + i));
    await db.outbox.bulkAdd(all);
    await setMeta("next_seq", expected + all.length);
  });
}

/** Mutations that create a local record before the server has it: a rejection removes that record. */
const OPTIMISTIC: Record<string, string> = {
  "walk.start": "walks", "walk.checkpoint.visit": "checkpoint_visits", "walk.finding.add": "findings",
};

async function settle(batch: OutboxEntry[], results: Result[]): Promise<void> {
  const bySeq = new Map(batch.map((m) => [m.seq, m]));
  const plan = settlePlan(batch, results);
  await db.transaction("rw", [db.outbox, db.rejected, db.steps, ...Object.values(OPTIMISTIC).map((n) => (db as any)[n])], async () => {
    await db.outbox.bulkDelete(plan.remove);
    for (const r of plan.rejected) {
      const entry = bySeq.get(r.seq)!;
      await db.rejected.put({ ...entry, code: r.code, message: r.message, at: new Date().toISOString() });
      if (entry.name === "step.add") await db.steps.delete(entry.args.id as string); // undo the optimistic step
      const table = OPTIMISTIC[entry.name]; // undo an optimistic walk, visit or finding (unless the server has it)
      if (table) {
        const row = await (db as any)[table].get(entry.args.id as string);
        if (row?._local) await (db as any)[table].delete(row.id);
      }
    }
  });
}

// --- pull -----------------------------------------------------------------------------------------

async function pull(): Promise<void> {
  for (;;) {
    const cursor = await getMeta<string | null>("cursor", null);
    const q = new URLSearchParams({ client_id: await clientId(), limit: "500" });
    if (cursor) q.set("cursor", cursor);
    const { json, requestId } = await call("GET", `/sync/pull?${q}`);
    checkEnvelope(json, requestId);
    await applyPage(json);
    if (!json.has_more) return;
  }
}

/** A page's rows and its cursor are stored in one transaction: never one without the other. */
async function applyPage(page: any): Promise<void> {
  const tables = REPLICATED.map((name) => db.table(name));
  const plan = pagePlan(page, REPLICATED);
  await db.transaction("rw", [...tables, db.meta], async () => {
    if (plan.clear) for (const tbl of tables) await tbl.clear(); // the outbox and photos stay
    for (const { table, data } of plan.put) await db.table(table).put(data);
    for (const { table, id } of plan.drop) await db.table(table).delete(id);
    for (const { table, key, id } of plan.dropChildren) await db.table(table).where(key).equals(id).delete();
    await setMeta("cursor", plan.cursor);
  });
  if (page.changes.length) bump();
}

export async function pendingCounts(): Promise<{ mutations: number; photos: number; rejected: number }> {
  return {
    mutations: await db.outbox.count(),
    photos: (await myPendingPhotos()).length,
    rejected: await db.rejected.count(),
  };
}
