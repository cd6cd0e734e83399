// A photo thumbnail: the picture (this phone's own bytes, or the server's copy once uploaded) or a
// grey placeholder, with "uploading" under a photo the server does not have yet.
import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { photoUrl } from "../photos";

export function Thumb({ sha, uploaded }: { sha: string; uploaded: boolean }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    photoUrl(sha, uploaded).then((url) => alive && setSrc(url));
    return () => {
      alive = false;
    };
  }, [sha, uploaded]);
  return (
    <figure class="thumb" data-test="thumb">
      {src ? <img src={src} alt="" /> : <div class="ph" />}
      {!uploaded && <figcaption>{t("uploading")}</figcaption>}
    </figure>
  );
}
