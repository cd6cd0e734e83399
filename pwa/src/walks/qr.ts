// Reading a checkpoint label's QR code: the platform's BarcodeDetector where there is one (Android
// Chrome, Safari 17+), otherwise @paulmillr/qr (zero-dependency JS decoder) on the pixels.
// The JS decoder costs ~11 KB gzipped; it is bundled into the shell (not a lazy chunk) so that a walk
// started offline can always read a label.
import { decodeQR } from "@paulmillr/qr/decode.js";

/** A label encodes ``{base}/c/{code}``; anything else is not one of ours. */
export function codeFromText(text: string): string | null {
  const m = /\/c\/([A-Z0-9]+)\b/.exec(text);
  return m ? m[1] : null;
}

let detector: any | null | undefined;
async function platformDetector(): Promise<any | null> {
  if (detector !== undefined) return detector;
  detector = null;
  const BD = (window as any).BarcodeDetector;
  if (BD) {
    try {
      const formats: string[] = (await BD.getSupportedFormats?.()) ?? ["qr_code"];
      if (formats.includes("qr_code")) detector = new BD({ formats: ["qr_code"] });
    } catch {
      detector = null;
    }
  }
  return detector;
}

const MAX_SIDE = 1024; // a phone photo is 12 MP: the JS decoder needs far fewer pixels

function pixels(source: CanvasImageSource, width: number, height: number): ImageData {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(source, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h);
}

function jsDecode(img: ImageData): string | null {
  for (const cropToSquare of [false, true]) {
    try {
      return decodeQR({ width: img.width, height: img.height, data: img.data }, { cropToSquare });
    } catch {
      // not found at this framing: try the next one
    }
  }
  return null;
}

/** The text of the first QR code in a video frame or picture, or null. */
export async function decodeSource(source: CanvasImageSource & { width?: number }, width: number, height: number): Promise<string | null> {
  const bd = await platformDetector();
  if (bd) {
    try {
      const found = await bd.detect(source);
      if (found.length) return found[0].rawValue as string;
    } catch {
      // fall through to the JS decoder
    }
  }
  return jsDecode(pixels(source, width, height));
}

/** Decode a picture from the camera (file input with capture). */
export async function decodeFile(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" } as ImageBitmapOptions);
  try {
    return await decodeSource(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

export function liveCameraAvailable(): boolean {
  return !!navigator.mediaDevices?.getUserMedia;
}

/** Decode frames of the rear camera into ``video`` until a QR is read or ``stop`` is called. */
export async function scanLive(video: HTMLVideoElement, onText: (text: string) => void): Promise<() => void> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  await video.play();
  let running = true;
  const stop = () => {
    running = false;
    stream.getTracks().forEach((tr) => tr.stop());
    video.srcObject = null;
  };
  const tick = async () => {
    if (!running) return;
    if (video.videoWidth) {
      const text = await decodeSource(video, video.videoWidth, video.videoHeight);
      if (text && running) {
        stop();
        onText(text);
        return;
      }
    }
    setTimeout(tick, 250); // ~4 frames a second keeps a cheap phone cool
  };
  void tick();
  return stop;
}
