// Small pieces shared by the walk screens.
import { guard, say } from "../app";
import { t } from "../i18n";
import { takePhoto } from "../photos";
import { Thumb } from "../ui/thumb";

/** Photos of a check item or finding: camera/gallery input, downscaled and hashed by photos.ts. */
export function PhotoField({ photos, onChange, name }: { photos: string[]; onChange: (next: string[]) => void; name: string }) {
  async function onFiles(e: Event) {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    let next = photos;
    for (const file of files) {
      if (next.length >= 9) {
        say(t("max_photos"));
        break;
      }
      const photo = await guard(() => takePhoto(file));
      if (photo && !next.includes(photo.sha256)) next = [...next, photo.sha256];
      onChange(next);
    }
  }
  return (
    <div class="thumbs" data-photos={name}>
      {photos.map((sha) => <Thumb key={sha} sha={sha} uploaded={false} onRemove={() => onChange(photos.filter((x) => x !== sha))} />)}
      {photos.length < 9 && (
        <label class="thumb add">
          <span>＋ {t("add_photo")}</span>
          <input type="file" name={name} accept="image/*" capture="environment" multiple onChange={onFiles} hidden />
        </label>
      )}
    </div>
  );
}

export function Photos({ photos, local }: { photos: { sha256: string; uploaded: boolean }[]; local: Set<string> }) {
  if (!photos?.length) return null;
  return (
    <div class="thumbs">
      {photos.map((p) => <Thumb key={p.sha256} sha={p.sha256} uploaded={p.uploaded || local.has(p.sha256)} />)}
    </div>
  );
}

export function Back({ href }: { href: string }) {
  return <a class="back-link" href={href}>← {t("back")}</a>;
}
