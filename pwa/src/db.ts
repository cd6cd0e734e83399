// Local database (IndexedDB via Dexie). Versioned: a new version adds a migration, never a wipe,
// so an app update keeps the outbox. Photos are ArrayBuffers (WebKit has failed to store Blobs).
import Dexie, { type Table } from "dexie";

export interface Meta { key: string; value: unknown }
/** `author`: the staff id of the person who did it (PROTOCOL.md §3): only their token sends it. */
export interface OutboxEntry { seq: number; id: string; name: string; args: Record<string, unknown>; client_time: string; author: string }
export interface Rejected extends OutboxEntry { code: string; message: string; at: string }
export interface Row { id: string; [field: string]: any }
export interface Photo {
  sha256: string; bytes: ArrayBuffer; width: number; height: number; size: number;
  state: "pending" | "uploaded"; created_at: string; author?: string;
}
/** A signed-out person's outbox or rejection entry, kept for them alone until they sign in again. */
export interface Sealed { key?: number; author: string; kind: "outbox" | "rejected"; entry: OutboxEntry | Rejected }
/** What the device remembers of each person who used it: their own client_id and seq stream. */
export interface Person { id: string; name: string; phone: string; client_id: string; next_seq: number }

/** THE list of replicated tables: a pull writes them, a reset and a person switch clear all of them.
 * A new Dexie table goes here or in DEVICE_TABLES (pwa/test/db.test.mjs fails otherwise). */
export const REPLICATED = [
  "orders", "order_events", "steps", "ratings", "callbacks", "notifications",
  "checkpoints", "walks", "checkpoint_visits", "findings",
] as const;
export type Replicated = (typeof REPLICATED)[number];

/** Tables that are not replicated, and why a person switch does not clear them. */
export const DEVICE_TABLES = {
  meta: "device settings; per-person keys (token, staff, cursor, client_id, next_seq) are rewritten at sign-in",
  outbox: "the signed-in person's own queue only: at sign-out it moves to `sealed`",
  rejected: "the signed-in person's own rejections only: at sign-out they move to `sealed`",
  photos: "each photo carries its author; only the author's are uploaded or counted",
  sealed: "signed-out people's unsent work, restored only for its author",
} as const;

/** The author of work queued by an app version that did not record one, with nobody signed in. */
export const UNKNOWN_AUTHOR = "unknown";

export class WuyeDB extends Dexie {
  meta!: Table<Meta, string>;
  outbox!: Table<OutboxEntry, number>;
  rejected!: Table<Rejected, number>;
  photos!: Table<Photo, string>;
  orders!: Table<Row, string>;
  order_events!: Table<Row, string>;
  steps!: Table<Row, string>;
  ratings!: Table<Row, string>;
  callbacks!: Table<Row, string>;
  notifications!: Table<Row, string>;
  checkpoints!: Table<Row, string>;
  walks!: Table<Row, string>;
  checkpoint_visits!: Table<Row, string>;
  findings!: Table<Row, string>;
  sealed!: Table<Sealed, number>;

  constructor(name = "wuye-field") {
    super(name);
    this.version(1).stores({
      meta: "key",
      outbox: "seq, id",
      rejected: "seq",
      photos: "sha256, state",
      orders: "id, status, due_at",
      order_events: "id, order_id",
      steps: "id, order_id",
      ratings: "id, order_id",
      callbacks: "id, order_id",
      notifications: "id, created_at",
    });
    // v2: walk-abouts (巡查). Only new tables: phones on v1 keep their outbox and replica. Their pull
    // cursor is already past the checkpoints the server holds, so it is dropped: the next pull is a
    // full one (the outbox is untouched and rebased on top, as after a reset).
    this.version(2)
      .stores({
        checkpoints: "id, grid_id, code",
        walks: "id, status, started_at",
        checkpoint_visits: "id, walk_id",
        findings: "id, walk_id, captured_at",
      })
      .upgrade((tx) => tx.table("meta").delete("cursor"));
    // v3: shared devices (PROTOCOL.md §3, DESIGN §7). Work carries its author; a signed-out person's
    // unsent work is sealed for them. What a v2 phone holds belongs to whoever is signed in.
    this.version(3)
      .stores({ sealed: "++key, author", photos: "sha256, state, author" })
      .upgrade(async (tx) => {
        // Signed out under v2 (which forgot the person): whose work it is cannot be known, so it is
        // sealed as UNKNOWN_AUTHOR (only a supervisor's hand-over can take it) rather than sent as
        // whoever signs in next.
        const me = (await tx.table("meta").get("staff"))?.value as { id: string } | undefined;
        const author = me?.id ?? UNKNOWN_AUTHOR;
        await tx.table("outbox").toCollection().modify((e: OutboxEntry) => { e.author ??= author; });
        await tx.table("rejected").toCollection().modify((e: OutboxEntry) => { e.author ??= author; });
        await tx.table("photos").toCollection().modify((p: Photo) => { p.author ??= author; });
        if (me) await tx.table("meta").put({ key: "replica_owner", value: me.id });
      });
  }
}

export const db = new WuyeDB();

export async function getMeta<T>(key: string, fallback: T): Promise<T> {
  const row = await db.meta.get(key);
  return row === undefined ? fallback : (row.value as T);
}

export function setMeta(key: string, value: unknown): Promise<string> {
  return db.meta.put({ key, value });
}

/** Queue an intent and its local effect in ONE transaction: both are stored, or neither is. */
export async function mutate(
  name: string,
  args: Record<string, unknown>,
  local?: () => Promise<unknown>,
): Promise<OutboxEntry> {
  const localTables = [db.steps, db.orders, db.walks, db.checkpoint_visits, db.findings, db.notifications];
  return db.transaction("rw", [db.meta, db.outbox, db.photos, ...localTables], async () => {
    const author = (await getMeta<{ id: string } | null>("staff", null))?.id;
    if (!author) throw new Error("未登录 / not signed in");
    const seq = (await getMeta<number>("next_seq", 1)) as number;
    const entry: OutboxEntry = { seq, id: uuid7(), name, args, client_time: new Date().toISOString(), author };
    await db.outbox.add(entry);
    await setMeta("next_seq", seq + 1);
    if (local) await local();
    return entry;
  });
}

/** RFC 9562 UUIDv7: time-ordered ids made on the phone, offline. */
export function uuid7(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms & 0xff;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: string; inner?: { name?: string } })?.name;
  const inner = (err as { inner?: { name?: string } })?.inner?.name;
  return name === "QuotaExceededError" || inner === "QuotaExceededError";
}
