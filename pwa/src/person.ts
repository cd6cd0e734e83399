// Shared devices (DESIGN §7, PROTOCOL.md §3 "Shared devices"): the roving post's tablet passes
// between stewards. Work belongs to the person who did it:
// - each person has their own client_id and seq stream on this installation (`people` in meta);
// - the outbox and the rejection list hold the signed-in person's entries only: at sign-out what is
//   left is moved to `sealed`, and it comes back only when its author signs in again;
// - a sign-in of another person than the one whose replica the device holds clears every table of
//   REPLICATED (one list) and the cursor, so nobody sees the previous person's orders or walks.
import { stopLiveStream } from "./livesync";
import { db, DEVICE_TABLES, UNKNOWN_AUTHOR, getMeta, type OutboxEntry, type Person, REPLICATED, type Rejected, type Sealed, setMeta } from "./db";
import { clearAllDrafts } from "./drafts";

export interface SignedIn { id: string; name: string; phone: string; [field: string]: unknown }

const ALL_TABLES = () => [...REPLICATED, ...Object.keys(DEVICE_TABLES)].map((n) => db.table(n));

async function people(): Promise<Record<string, Person>> {
  return getMeta<Record<string, Person>>("people", {});
}

/** Store a new sign-in: the replica follows the person, their sealed work comes back to them. */
export async function signIn(staff: SignedIn, token: string): Promise<void> {
  await db.transaction("rw", ALL_TABLES(), async () => {
    const owner = await getMeta<string | null>("replica_owner", null);
    if (owner !== staff.id) {
      for (const name of REPLICATED) await db.table(name).clear();
      await db.meta.bulkDelete(["cursor", "last_sync_at"]);
      await setMeta("replica_owner", staff.id);
    }
    // Anything still queued by someone else (an old version's outbox) is sealed for its author.
    const strays = await db.outbox.filter((e) => e.author !== staff.id).toArray();
    if (strays.length) await sealFor(strays, "outbox");
    const known = await people();
    // Whoever is still signed in here (a sign-in again after an expired token, or an older version
    // that never recorded people) keeps the seq stream they were using.
    const current = await getMeta<SignedIn | null>("staff", null);
    if (current && !known[current.id]) known[current.id] = await currentStream(current);
    const me: Person = known[staff.id] ?? { id: staff.id, name: staff.name, phone: staff.phone, client_id: crypto.randomUUID(), next_seq: 1 };
    const mine = await db.sealed.where("author").equals(staff.id).toArray();
    for (const s of mine) {
      if (s.kind === "outbox") await db.outbox.put(s.entry as OutboxEntry);
      else await db.rejected.put(s.entry as Rejected);
    }
    await db.sealed.bulkDelete(mine.map((s) => s.key!));
    // New work continues after everything queued (only this person's entries are left in the outbox).
    me.next_seq = Math.max(me.next_seq, ((await db.outbox.orderBy("seq").last())?.seq ?? 0) + 1);
    known[staff.id] = { ...me, name: staff.name, phone: staff.phone };
    await setMeta("people", known);
    await setMeta("client_id", me.client_id);
    await setMeta("next_seq", me.next_seq);
    await setMeta("token", token);
    await setMeta("staff", staff);
  });
}

/** The signed-in person's client_id and next seq, as the outbox uses them now. */
async function currentStream(who: SignedIn): Promise<Person> {
  return {
    id: who.id, name: who.name, phone: who.phone,
    client_id: (await getMeta<string | null>("client_id", null)) ?? crypto.randomUUID(),
    next_seq: await getMeta<number>("next_seq", 1),
  };
}

async function sealFor(entries: (OutboxEntry | Rejected)[], kind: Sealed["kind"]): Promise<void> {
  await db.sealed.bulkAdd(entries.map((entry) => ({ author: entry.author, kind, entry })));
  const table = kind === "outbox" ? db.outbox : db.rejected;
  await table.bulkDelete(entries.map((e) => e.seq));
}

/** Sign the current person out: their unsent work is sealed for them (the caller syncs first when it
 * can), their seq stream remembered, the token forgotten. */
export async function signOut(): Promise<void> {
  clearAllDrafts(); // the desk's unsaved call is the signed-out person's
  stopLiveStream(); // the stream belongs to the session being closed
  await db.transaction("rw", ALL_TABLES(), async () => {
    const me = await getMeta<SignedIn | null>("staff", null);
    if (me) {
      const known = await people();
      known[me.id] = await currentStream(me);
      await setMeta("people", known);
    }
    await sealFor(await db.outbox.toArray(), "outbox");
    await sealFor(await db.rejected.toArray(), "rejected");
    await db.meta.bulkDelete(["token", "staff", "client_id", "next_seq"]);
  });
}

export interface SealedSummary { id: string; name: string; phone: string; count: number; photos: number; oldest: string | null }

/** Per person, how much work is sealed on this device (shown on the sign-in screen). */
export async function sealedSummary(): Promise<SealedSummary[]> {
  const known = await people();
  const by = new Map<string, SealedSummary>();
  const entry = (id: string) => {
    if (!by.has(id)) {
      const p = known[id];
      by.set(id, { id, name: p?.name ?? (id === UNKNOWN_AUTHOR ? "未知人员" : id.slice(0, 8)), phone: p?.phone ?? "", count: 0, photos: 0, oldest: null });
    }
    return by.get(id)!;
  };
  for (const s of await db.sealed.toArray()) {
    if (s.kind !== "outbox") continue;
    const e = entry(s.author);
    e.count += 1;
    if (!e.oldest || s.entry.client_time < e.oldest) e.oldest = s.entry.client_time;
  }
  const me = (await getMeta<SignedIn | null>("staff", null))?.id;
  for (const p of await db.photos.where("state").equals("pending").toArray()) {
    if (p.author && p.author !== me) entry(p.author).photos += 1;
  }
  return [...by.values()].filter((e) => e.count || e.photos);
}

/** A supervisor's hand-over of a departed person's sealed work (PROTOCOL.md §3): a JSON file with
 * every intent exactly as its author queued it (author, times, ids), downloaded first; only then is
 * it removed from the device. Nothing is ever sent under another name. */
export async function handOver(authorId: string, by: SignedIn): Promise<{ file: Blob; count: number }> {
  const known = await people();
  const rows = await db.sealed.where("author").equals(authorId).toArray();
  const photos = await db.photos.where("author").equals(authorId).and((p) => p.state === "pending").toArray();
  const file = new Blob(
    [JSON.stringify({
      kind: "wuye-sealed-work", author: known[authorId] ?? { id: authorId }, handed_over_by: { id: by.id, name: by.name },
      handed_over_at: new Date().toISOString(), outbox: rows.filter((r) => r.kind === "outbox").map((r) => r.entry),
      rejected: rows.filter((r) => r.kind === "rejected").map((r) => r.entry),
      photos: photos.map((p) => ({ sha256: p.sha256, created_at: p.created_at, jpeg_base64: base64(p.bytes) })),
    }, null, 2)],
    { type: "application/json" },
  );
  return { file, count: rows.filter((r) => r.kind === "outbox").length };
}

function base64(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

/** After the hand-over file was saved: remove that person's sealed entries and unsent photos (all of
 * them are in the file). */
export async function removeSealed(authorId: string): Promise<void> {
  await db.transaction("rw", [db.sealed, db.photos], async () => {
    await db.sealed.where("author").equals(authorId).delete();
    await db.photos.where("author").equals(authorId).and((p) => p.state === "pending").delete();
  });
}
