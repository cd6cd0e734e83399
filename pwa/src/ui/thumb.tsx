// A photo thumbnail: the picture (this phone's own bytes, or the server's copy once uploaded) or a
// grey placeholder, with 待上传 under a photo the server does not have yet (上传中 only while its bytes
// are being sent: offline, or before the step is saved, nothing is uploading). A tap opens the
// photo full screen (the server's 1600 px copy when this device does not hold the bytes); its close
// button, a tap on it, or Escape closes it. With ``onRemove`` (a form not saved yet) it has a ✕.
import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { photoUrl } from "../photos";
import { useSignal } from "../state";
import { uploadProgress } from "../sync";

export function Thumb({ sha, uploaded, onRemove }: { sha: string; uploaded: boolean; onRemove?: () => void }) {
  const [src, setSrc] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const progress = useSignal(uploadProgress)[sha];
  const sending = navigator.onLine && progress !== undefined && progress < 1;
  useEffect(() => {
    let alive = true;
    photoUrl(sha, uploaded).then((url) => alive && setSrc(url));
    return () => {
      alive = false;
    };
  }, [sha, uploaded]);
  return (
    <figure class="thumb" data-test="thumb">
      {src ? (
        <button type="button" class="thumb-open" aria-label={t("photo_open")} onClick={() => setOpen(true)}>
          <img src={src} alt="" />
        </button>
      ) : (
        <div class="ph" />
      )}
      {!uploaded && <figcaption data-test="upload-state">{t(sending ? "uploading" : "upload_waiting")}</figcaption>}
      {onRemove && (
        <button type="button" class="thumb-remove" aria-label={t("photo_remove")} data-action="remove-photo" onClick={onRemove}>✕</button>
      )}
      {open && <Viewer sha={sha} uploaded={uploaded} fallback={src} onClose={() => setOpen(false)} />}
    </figure>
  );
}

function Viewer({ sha, uploaded, fallback, onClose }: { sha: string; uploaded: boolean; fallback: string | null; onClose: () => void }) {
  const [src, setSrc] = useState<string | null>(fallback);
  useEffect(() => {
    let alive = true;
    photoUrl(sha, uploaded, "view").then((url) => alive && url && setSrc(url));
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => {
      alive = false;
      window.removeEventListener("keydown", onKey);
    };
  }, [sha, uploaded]);
  return (
    <div class="viewer" role="dialog" aria-modal="true" data-test="photo-viewer" onClick={onClose}>
      {src && <img src={src} alt="" />}
      <button type="button" class="viewer-close" aria-label={t("viewer_close")} data-action="close-viewer"
        onClick={(e) => { e.stopPropagation(); onClose(); }}>✕ {t("viewer_close")}</button>
    </div>
  );
}
