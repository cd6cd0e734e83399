// A photo from the camera: upright, at most 2048 px, JPEG ~0.8, hashed over exactly the stored bytes,
// and kept in IndexedDB until the server confirms that hash.
import { token } from "./api";
import { db, getMeta, type Photo } from "./db";

const MAX_SIDE = 2048;
/** Beyond these a cheap phone cannot decode the picture (4 bytes a pixel in memory): refused as 太大. */
export const MAX_FILE_BYTES = 50 * 2 ** 20;
export const MAX_PIXELS = 120_000_000;

/** Why a chosen file cannot become a photo; the step form shows it next to the file's name. */
export type PhotoProblemKind = "incomplete" | "unsupported" | "too_large";

export class PhotoProblem extends Error {
  constructor(readonly problem: PhotoProblemKind, readonly fileName: string) {
    super(`${fileName}: ${problem}`);
  }
}

/** True when a JPEG's last scan reaches its end-of-image marker. A phone file cut short in transfer
 * (a truncated download, a failed share) has none; a browser would still decode it, grey at the
 * bottom, and the evidence would silently be half a picture. Walks the segments (APPn such as the
 * EXIF thumbnail are skipped by length, so their own EOI does not count) and the entropy-coded data
 * of every scan (progressive files have many). Bytes after EOI (Samsung's trailer, an UltraHDR gain
 * map, an iPhone's MPO picture) do not matter: the first picture is the photo. */
export function jpegComplete(b: Uint8Array): boolean {
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) return false;
    const m = b[i + 1];
    if (m === 0xff) { i += 1; continue; } // fill byte
    if (m === 0xd9) return true; // EOI
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) { i += 2; continue; } // markers without a length
    if (i + 3 >= b.length) return false;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
    if (m !== 0xda) continue;
    // Entropy-coded data: up to the next marker that is not a stuffed 0xFF00 or a restart marker.
    while (i + 1 < b.length && !(b[i] === 0xff && b[i + 1] !== 0 && (b[i + 1] < 0xd0 || b[i + 1] > 0xd7))) i += 1;
  }
  return false;
}

/** Width × height from a JPEG's SOF or a PNG's IHDR without decoding; null when not found. */
function declaredPixels(b: Uint8Array): number | null {
  if (b[0] === 0x89 && b[1] === 0x50 && b.length >= 24) {
    const v = new DataView(b.buffer, b.byteOffset);
    return v.getUint32(16) * v.getUint32(20);
  }
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 8 < b.length && b[i] === 0xff) {
    const m = b[i + 1];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return ((b[i + 5] << 8) | b[i + 6]) * ((b[i + 7] << 8) | b[i + 8]);
    }
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return null;
}

/** Refuse, with the reason, a file that cannot become a usable photo (before it is decoded). */
async function checkFile(file: File): Promise<void> {
  if (file.size > MAX_FILE_BYTES) throw new PhotoProblem("too_large", file.name);
  if (file.size < 4) throw new PhotoProblem(file.size ? "incomplete" : "unsupported", file.name);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const pixels = declaredPixels(bytes);
  if ((pixels ?? 0) > MAX_PIXELS) throw new PhotoProblem("too_large", file.name);
  // A JPEG whose frame header was read but whose scans stop short: incomplete (as the server says).
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (jpeg && pixels === null) throw new PhotoProblem("unsupported", file.name);
  if (jpeg && !jpegComplete(bytes)) throw new PhotoProblem("incomplete", file.name);
}

export async function takePhoto(file: File): Promise<Photo> {
  await checkFile(file);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" } as ImageBitmapOptions);
  } catch {
    // Not an image this browser decodes (a PDF, HEIC on Android, ...), or a damaged one.
    throw new PhotoProblem("unsupported", file.name);
  }
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
