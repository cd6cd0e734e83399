// A free finding (anywhere, with photos, category and location) and its one-tap conversion into a
// work order, after which the finding shows that order's status.
import { useEffect, useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { db } from "../db";
import { t } from "../i18n";
import { useSignal } from "../state";
import { useLive } from "../ui/live";
import { time } from "../ui/order";
import { fill } from "./i18n";
import { Back, PhotoField, Photos } from "./parts";
import {
  addFinding, CATEGORIES, finding, findingToOrder, gridHouseholds, type Household, type Location, ORDER_KINDS,
  suggestedKind, walk,
} from "./store";

const byNumber = new Intl.Collator("zh-CN", { numeric: true }).compare;

/** "3栋2单元201" → ["3栋", "2单元", "201"]; a label without building or unit keeps its parts empty. */
export function splitLabel(label: string): [string, string, string] {
  const m = /^(.*?(?:栋|号楼|幢|座))?(.*?单元)?(.*)$/.exec(label.trim())!;
  return [m[1] ?? "", m[2] ?? "", m[3] || label];
}

/** Building, then unit, then room, each sorted as numbers (2栋 before 10栋, 201 before 1001). */
function HouseholdPicker({ households, value, onChange }: { households: Household[]; value: string; onChange: (id: string) => void }) {
  const parts = households.map((h) => ({ h, p: splitLabel(h.label) }));
  const chosen = parts.find((x) => x.h.id === value)?.p;
  const [building, setBuilding] = useState(chosen?.[0] ?? "");
  const [unit, setUnit] = useState(chosen?.[1] ?? "");
  const uniq = (xs: string[]) => [...new Set(xs)].sort(byNumber);
  const buildings = uniq(parts.map((x) => x.p[0]));
  const b = buildings.length === 1 ? buildings[0] : building;
  const units = uniq(parts.filter((x) => x.p[0] === b).map((x) => x.p[1]));
  const u = units.length === 1 ? units[0] : unit;
  const rooms = parts.filter((x) => x.p[0] === b && x.p[1] === u).sort((x, y) => byNumber(x.p[2], y.p[2]));
  const pick = (sel: string) => (e: Event) => {
    const v = (e.target as HTMLSelectElement).value;
    if (sel === "building") { setBuilding(v); setUnit(""); }
    else setUnit(v);
    onChange("");
  };
  return (
    <div class="household-pick" data-test="household-picker">
      <p class="label">{t("household_pick")}</p>
      <div class="row">
        <select name="household-building" aria-label={t("building")} value={b} onChange={pick("building")}>
          <option value="">{t("building")}</option>
          {buildings.map((x) => <option key={x} value={x}>{x || "—"}</option>)}
        </select>
        <select name="household-unit" aria-label={t("unit")} value={u} disabled={!b && buildings.length > 1} onChange={pick("unit")}>
          <option value="">{t("unit")}</option>
          {units.map((x) => <option key={x} value={x}>{x || "—"}</option>)}
        </select>
        <select name="household" aria-label={t("room")} value={value} disabled={!rooms.length} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
          <option value="">{t("room")}</option>
          {rooms.map((x) => <option key={x.h.id} value={x.h.id}>{x.p[2]}</option>)}
        </select>
      </div>
    </div>
  );
}

export function NewFinding({ walkId, gridId }: { walkId: string | null; gridId?: string }) {
  const me = useSignal(staff)! as any;
  const w = useLive(() => (walkId ? walk(walkId) : Promise.resolve(null)), [walkId]);
  const grid = gridId ?? w?.grid_id;
  const [households, setHouseholds] = useState<Household[]>([]);
  const [category, setCategory] = useState("facilities");
  const [note, setNote] = useState("");
  const [photos, setPhotos] = useState<string[]>([]);
  const [household, setHousehold] = useState("");
  const [where, setWhere] = useState("");
  const [gps, setGps] = useState<Location["gps"] | null>(null);
  useEffect(() => {
    if (grid) gridHouseholds(grid).then(setHouseholds);
  }, [grid]);
  if (walkId && w === undefined) return null;
  const back = walkId ? `#/walks/${walkId}` : "#/walks";

  function locate() {
    if (!navigator.geolocation) return say(t("gps_fail"));
    navigator.geolocation.getCurrentPosition(
      (p) => setGps({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) }),
      () => say(t("gps_fail")),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  }

  async function save() {
    if (!grid) return;
    const location: Location = {};
    if (household) location.household_id = household;
    const label = households.find((h) => h.id === household)?.label;
    const text = [label, where.trim()].filter(Boolean).join(" ");
    if (text) location.text = text.slice(0, 100);
    if (gps) location.gps = gps;
    const id = await guard(() => addFinding(me, { walkId, gridId: grid, category, note, photos, location }));
    if (id) {
      say(t("finding_saved"));
      go(`#/walks/findings/${id}`);
    }
  }

  return (
    <section class="finding-new">
      <Back href={back} />
      <h2>{t("add_finding")}</h2>
      <label>{t("category")}</label>
      <div class="chips" data-test="categories">
        {CATEGORIES.map((c) => (
          <button key={c} type="button" class={`chip ${c === category ? "on" : ""}`} data-category={c} onClick={() => setCategory(c)}>{t(`cat_${c}`)}</button>
        ))}
      </div>
      <label>{t("note")}
        <textarea name="finding-note" rows={3} maxLength={2000} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
      </label>
      <h3>{t("photos")} ({photos.length}/9)</h3>
      <PhotoField name="finding-photo" photos={photos} onChange={setPhotos} />
      <h3>{t("location")}</h3>
      <HouseholdPicker households={households} value={household} onChange={setHousehold} />
      <label>{t("location_text")}
        <input name="where" maxLength={80} value={where} onInput={(e) => setWhere((e.target as HTMLInputElement).value)} />
      </label>
      <div class="row">
        <button type="button" onClick={locate}>{t("use_gps")}</button>
        {gps && <span class="small">{fill(t("gps_ok"), { m: gps.accuracy_m ?? "?" })}</span>}
      </div>
      <button class="primary big" data-action="save-finding" disabled={!grid || (!note.trim() && photos.length === 0)} onClick={save}>
        {t("save")}
      </button>
    </section>
  );
}

export function FindingDetail({ findingId }: { findingId: string }) {
  const data = useLive(async () => ({
    f: await finding(findingId),
    local: new Set((await db.photos.where("state").equals("uploaded").primaryKeys()) as string[]),
  }), [findingId]);
  const [form, setForm] = useState<{ kind: string; description: string } | null>(null);
  if (!data) return null;
  const { f, local } = data;
  if (!f) return <section><Back href="#/walks" /><p class="empty">—</p></section>;
  const back = f.walk_id ? `#/walks/${f.walk_id}` : "#/walks";
  const household = f.location?.household_id as string | undefined;
  const kind = form?.kind ?? suggestedKind(f.category);
  const description = form?.description ?? f.note;

  async function convert() {
    const ok = await guard(async () => {
      await findingToOrder(f!.id, { kind, category: f!.category, household_id: household, description });
      return true;
    });
    if (ok) say(t("order_created"));
  }

  return (
    <section class="finding">
      <Back href={back} />
      <div class="card">
        <div class="row">
          <span class="kind">{t(`cat_${f.category}`)}</span>
          <span class="small">{time(f.captured_at)}{f._pending ? " ⟳" : ""}</span>
          {f.author_name && <span class="small right">{f.author_name}</span>}
        </div>
        <p>{f.note}</p>
        {(f.location?.label || f.location?.text) && <p class="small">{t("location")}: {f.location.label || f.location.text}</p>}
        {f.location?.gps && <p class="small">GPS {f.location.gps.lat.toFixed(5)}, {f.location.gps.lng.toFixed(5)}</p>}
        <Photos photos={f.photos} local={local} />
      </div>
      {f.order_id ? (
        <div class="card linked" data-test="linked-order">
          <p><strong>{t("order_linked")}</strong></p>
          {f.order_status && !f._order_pending ? (
            <a href={`#/orders/${f.order_id}`} class="row" data-order-status={f.order_status}>
              <span>{f.order_number}</span><span class="status">{t(f.order_status)}</span>
            </a>
          ) : <p class="small" data-order-status="pending">{f.order_kind ? `${t(f.order_kind)} · ` : ""}{t("pending_sync")} ⟳</p>}
        </div>
      ) : (
        <div class="card">
          <h3>{t("to_order")}</h3>
          <label>{t("order_kind")}</label>
          <div class="chips">
            {ORDER_KINDS.map((k) => (
              <button key={k} type="button" class={`chip ${k === kind ? "on" : ""}`} data-kind={k}
                onClick={() => setForm({ kind: k, description })}>{t(k)}</button>
            ))}
          </div>
          <label>{t("description")}
            <textarea name="order-description" rows={2} maxLength={2000} value={description}
              onInput={(e) => setForm({ kind, description: (e.target as HTMLTextAreaElement).value })} />
          </label>
          <p class="small">{t("category")}: {t(`cat_${f.category}`)}{f.location?.text ? ` · ${f.location.text}` : ""} · {t("photos")} {f.photos?.length ?? 0}</p>
          <button class="primary big" data-action="to-order" onClick={convert}>{t("to_order")}</button>
        </div>
      )}
    </section>
  );
}
