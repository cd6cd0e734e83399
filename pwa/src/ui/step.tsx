import { useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { db, getMeta } from "../db";
import { t } from "../i18n";
import { materialLine, materialName } from "../materials";
import { addStep } from "../orders";
import { forgetPhoto, PhotoProblem, takePhoto } from "../photos";
import { useSignal } from "../state";
import { useLive } from "./live";
import { Thumb } from "./thumb";

const QUICK = ["生料带", "弯头", "角阀", "软管", "灯管", "开关面板", "空开", "水龙头", "胶水", "螺丝"].map((name) => ({ name, unit: name === "生料带" ? "卷" : "个" }));
type Material = { name: string; unit: string };
type Meta = { materials?: string[]; material_sets?: Record<string, Material[]> } | null;

/** The quick chips for the order's category (with the unit each is counted in), else the general list. */
async function quickMaterials(orderId: string): Promise<Material[]> {
  const [meta, order] = await Promise.all([getMeta<Meta>("server_meta", null), db.orders.get(orderId)]);
  const sets = meta?.material_sets;
  if (sets) return sets[order?.category] ?? sets.other ?? QUICK;
  return meta?.materials?.length ? meta.materials.slice(0, 12).map((name) => ({ name, unit: "个" })) : QUICK;
}

export function AddStep({ orderId }: { orderId: string }) {
  const me = useSignal(staff)!;
  const quick = useLive(() => quickMaterials(orderId), [orderId]) ?? [];
  const [note, setNote] = useState("");
  const [materials, setMaterials] = useState<{ name: string; quantity: number; unit: string }[]>([]);
  const [custom, setCustom] = useState({ name: "", quantity: 1, unit: "个" });
  const [photos, setPhotos] = useState<string[]>([]);
  const [problems, setProblems] = useState<PhotoProblem[]>([]);
  const [busy, setBusy] = useState(false);

  function addMaterial(name: string, quantity = 1, unit = "个") {
    if (!name.trim()) return;
    const existing = materials.find((m) => m.name === name);
    setMaterials(existing ? materials.map((m) => (m.name === name ? { ...m, quantity: m.quantity + quantity } : m))
      : [...materials, { name: name.trim(), quantity, unit }]);
  }

  async function onFiles(e: Event) {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    setBusy(true);
    const refused: PhotoProblem[] = [];
    for (const file of files) {
      if (photos.length >= 9) {
        say(t("max_photos"));
        break;
      }
      const photo = await guard(() => takePhoto(file).catch((e) => {
        if (!(e instanceof PhotoProblem)) throw e; // a full disk is said by guard
        refused.push(e);
        return undefined;
      }));
      if (photo) setPhotos((p) => (p.includes(photo.sha256) || p.length >= 9 ? p : [...p, photo.sha256]));
    }
    setProblems(refused); // what this choice refused, by name; a new choice replaces it
    setBusy(false);
  }

  async function save() {
    const ok = await guard(async () => {
      await addStep(orderId, { note: note.trim(), materials, photos }, me);
      return true;
    });
    if (ok) {
      say(t("step_saved"));
      go(`#/orders/${orderId}`);
    }
  }

  return (
    <section class="add-step">
      <button class="link" onClick={() => go(`#/orders/${orderId}`)}>← {t("back")}</button>
      <h2>{t("add_step")}</h2>
      <label>{t("note")}
        <textarea name="note" rows={3} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
      </label>
      <h3>{t("materials")}</h3>
      <div class="chips">
        {quick.map((m) => (
          <button key={m.name} type="button" class="chip" data-unit={m.unit} title={m.unit} onClick={() => addMaterial(m.name, 1, m.unit)}>{materialName(m.name)}</button>
        ))}
      </div>
      <div class="row">
        <input class="grow" placeholder={t("add_material")} value={custom.name}
          onInput={(e) => setCustom({ ...custom, name: (e.target as HTMLInputElement).value })} />
        <input class="qty" type="number" min="0.1" step="any" value={custom.quantity}
          onInput={(e) => setCustom({ ...custom, quantity: Number((e.target as HTMLInputElement).value) || 1 })} />
        <input class="unit" value={custom.unit} onInput={(e) => setCustom({ ...custom, unit: (e.target as HTMLInputElement).value })} />
        <button type="button" onClick={() => { addMaterial(custom.name, custom.quantity, custom.unit); setCustom({ name: "", quantity: 1, unit: "个" }); }}>+</button>
      </div>
      <ul class="materials">
        {materials.map((m) => (
          <li key={m.name}>{materialLine(m)}
            <button class="link" onClick={() => setMaterials(materials.filter((x) => x.name !== m.name))}>✕</button>
          </li>
        ))}
      </ul>
      <h3>{t("photos")} ({photos.length}/9)</h3>
      <div class="thumbs">
        {photos.map((sha) => <Thumb key={sha} sha={sha} uploaded={false} onRemove={() => {
          setPhotos((p) => p.filter((x) => x !== sha));
          void forgetPhoto(sha);
        }} />)}
        {photos.length < 9 && (
          <label class="thumb add">
            <span>＋ {t("add_photo")}</span>
            <input type="file" accept="image/*" capture="environment" multiple onChange={onFiles} hidden />
          </label>
        )}
      </div>
      {problems.length > 0 && (
        <ul class="photo-problems error" role="alert" data-test="photo-problems">
          {problems.map((p, i) => (
            <li key={i} data-problem={p.problem}>{p.fileName ? `${p.fileName}：` : ""}{t(`photo_${p.problem}`)}</li>
          ))}
        </ul>
      )}
      <button class="primary big" disabled={busy || (!note.trim() && photos.length === 0)} onClick={save}>{t("save")}</button>
    </section>
  );
}
