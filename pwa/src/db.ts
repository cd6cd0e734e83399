// Local database (IndexedDB via Dexie). Versioned: a new version adds a migration, never a wipe,
// so an app update keeps the outbox. Photos are ArrayBuffers (WebKit has failed to store Blobs).
import Dexie, { type Table } from "dexie";

export interface Meta { key: string; value: unknown }
export interface OutboxEntry { seq: number; id: string; name: string; args: Record<string, unknown>; client_time: string }
export interface Rejected extends OutboxEntry { code: string; message: string; at: string }
export interface Row { id: string; [field: string]: any }
export interface Photo {
  sha256: string; bytes: ArrayBuffer; width: number; height: number; size: number;
  state: "pending" | "uploaded"; created_at: string;
}

export const REPLICATED = [
  "orders", "order_events", "steps", "ratings", "callbacks", "notifications",
  "checkpoints", "walks", "checkpoint_visits", "findings",
] as const;
export type Replicated = (typeof REPLICATED)[number];

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
  const localTables = [db.steps, db.orders, db.notifications, db.walks, db.checkpoint_visits, db.findings];
  return db.transaction("rw", [db.meta, db.outbox, db.photos, ...localTables], async () => {
    const seq = (await getMeta<number>("next_seq", 1)) as number;
    const entry: OutboxEntry = { seq, id: uuid7(), name, args, client_time: new Date().toISOString() };
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
