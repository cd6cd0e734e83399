// A photo from the camera: upright, at most 2048 px, JPEG ~0.8, hashed over exactly the stored bytes,
// and kept in IndexedDB until the server confirms that hash.
import { token } from "./api";
import { db, getMeta, type Photo } from "./db";

const MAX_SIDE = 2048;

export async function takePhoto(file: File): Promise<Photo> {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" } as ImageBitmapOptions);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  let blob: Blob;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d")!.drawImage(bitmap, 0, 0, width, height);
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.8 });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d")!.drawImage(bitmap, 0, 0, width, height);
    blob = await new Promise<Blob>((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error("encode failed"))), "image/jpeg", 0.8));
  }
  bitmap.close();
  const bytes = await blob.arrayBuffer();
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const author = (await getMeta<{ id: string } | null>("staff", null))?.id; // uploaded only under their token
  const photo: Photo = { sha256, bytes, width, height, size: bytes.byteLength, state: "pending", created_at: new Date().toISOString(), author };
  const existing = await db.photos.get(sha256);
  if (!existing) await db.photos.put(photo);
  return existing ?? photo;
}

const urls = new Map<string, string>();

/** A displayable URL for a photo: this device's own bytes when it has them (the phone that took it),
 * else the server's derivative, fetched signed-in (GET /api/photos/{sha}/{size}; the browser's HTTP
 * cache keeps it). ``remote`` is false for a photo not uploaded yet: nobody has it but its phone.
 * null when neither is at hand (offline, or not visible to this account): the caller shows a
 * placeholder. */
export async function photoUrl(sha: string, remote = true, size: "thumb" | "view" = "thumb"): Promise<string | null> {
  if (urls.has(sha)) return urls.get(sha)!; // the local bytes serve every size
  const key = `${sha}/${size}`;
  if (urls.has(key)) return urls.get(key)!;
  const photo = await db.photos.get(sha);
  if (photo) {
    const url = URL.createObjectURL(new Blob([photo.bytes], { type: "image/jpeg" }));
    urls.set(sha, url);
    return url;
  }
  if (!remote) return null;
  const blob = await serverPhoto(sha, size);
  if (!blob) return null;
  const url = URL.createObjectURL(blob);
  urls.set(key, url);
  return url;
}

async function serverPhoto(sha: string, size: string): Promise<Blob | null> {
  const tok = await token();
  if (!tok) return null;
  try {
    const res = await fetch(`/api/photos/${sha}/${size}`, { headers: { Authorization: `Bearer ${tok}` } });
    // Only our image counts: a captive portal answers 200 with HTML.
    if (!res.ok || !(res.headers.get("Content-Type") ?? "").startsWith("image/")) return null;
    return await res.blob();
  } catch {
    return null; // offline
  }
}

/** A photo taken back before its form was saved: its bytes are dropped (a cheap phone's data plan
 * does not upload it) unless a queued intent already refers to it. */
export async function forgetPhoto(sha256: string): Promise<void> {
  await db.transaction("rw", [db.photos, db.outbox], async () => {
    const queued = await db.outbox.toArray();
    if (queued.some((m) => JSON.stringify(m.args).includes(sha256))) return;
    const photo = await db.photos.get(sha256);
    if (photo?.state === "pending") await db.photos.delete(sha256);
  });
}
