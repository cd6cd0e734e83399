// 巡查点 · walk routes and checkpoints of a grid (team leads, supervisors, admins): routes with their
// checkpoints, a form to add or edit a checkpoint (frequency, checklist, active), and the printable
// A6 QR label sheet of a route fetched with the token and previewed in an iframe (as slip.tsx does).
import { useState } from "preact/hooks";
import { say } from "../app";
import { t } from "../i18n";
import { fetchAuthed, send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

type Item = { key: string; label: string };
type Frequency = { kind: "daily" | "twice_daily" | "weekly"; hours?: number[]; by_hour?: number; weekday?: number };
type Checkpoint = {
  id: string; route_id: string; name: string; location: string; code: string; checklist: Item[];
  checklist_type: "standard" | "renovation"; frequency: Frequency; active: boolean;
};
type Route = { id: string; grid_id: string; name: string; checkpoints: Checkpoint[] };

const KINDS = ["daily", "twice_daily", "weekly"] as const;
const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;

/** The frequency in words: 每天两次 07:00 / 17:00, 每天 18:00 前, 每周日. */
export function frequencyText(f: Frequency | undefined): string {
  if (!f) return "";
  if (f.kind === "twice_daily") return `${t("c_freq_twice_daily")} ${(f.hours ?? []).map(hh).join(" / ")}`;
  if (f.kind === "weekly") return t("c_freq_weekly_on").replace("{day}", t(`c_weekday_${f.weekday ?? 7}`));
  return t("c_freq_daily_by").replace("{time}", hh(f.by_hour ?? 18));
}

export function WalkRoutes() {
  const grids = useApi<any[]>("/api/grids");
  const [grid, setGrid] = useState("");
  const gridId = grid || grids.data?.[0]?.id || "";
  const routes = useApi<Route[]>(gridId ? `/api/walks/routes?grid_id=${gridId}` : null);
  const [routeName, setRouteName] = useState("");
  const [routeError, setRouteError] = useState<string | null>(null);
  // What the side card shows: a new checkpoint for a route, or one checkpoint being edited.
  const [editing, setEditing] = useState<{ routeId: string; checkpoint?: Checkpoint } | null>(null);
  const [labels, setLabels] = useState<{ route: string; html: string } | null>(null);
  const [labelError, setLabelError] = useState<string | null>(null);
  // The side column shows one thing at a time: the label preview or the checkpoint form.
  const edit = (e: { routeId: string; checkpoint?: Checkpoint } | null) => {
    setEditing(e);
    if (e) setLabels(null);
  };
  const shown = routes.data && routes.data.every((r) => r.grid_id === gridId) ? routes.data : undefined;

  async function createRoute(e: Event) {
    e.preventDefault();
    setRouteError(null);
    try {
      const route = await send<Route>("POST", "/api/walks/routes", { grid_id: gridId, name: routeName.trim() });
      setRouteName("");
      say(t("c_saved"));
      routes.reload();
      edit({ routeId: route.id });
    } catch (err) {
      setRouteError((err as Error).message);
    }
  }

  async function showLabels(route: Route) {
    setLabelError(null);
    try {
      const res = await fetchAuthed(`/api/walks/routes/${route.id}/labels`);
      setLabels({ route: route.name, html: await res.text() });
      setEditing(null);
    } catch (err) {
      setLabelError((err as Error).message);
    }
  }

  function print() {
    document.querySelector<HTMLIFrameElement>("iframe.label-frame")?.contentWindow?.print();
  }

  return (
    <div class="walk-admin">
      <div class="row toolbar">
        <h2 class="grow">{t("c_walk_routes")}</h2>
        <label class="inline">{t("c_grid")}
          <select name="grid" value={gridId} onChange={(e) => { setGrid((e.target as HTMLSelectElement).value); setEditing(null); setLabels(null); }}>
            {grids.data?.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
          </select>
        </label>
        <form class="row" onSubmit={createRoute}>
          <input name="route_name" placeholder={t("c_route_name")} value={routeName} required maxLength={50}
            onInput={(e) => setRouteName((e.target as HTMLInputElement).value)} />
          <button class="primary" type="submit" data-action="create-route" disabled={!gridId}>{t("c_new_route")}</button>
        </form>
      </div>
      <ErrorLine error={grids.error || routes.error || routeError || labelError} />
      <div class="walk-grid">
        <div>
          {!shown ? <Loading /> : shown.length === 0 ? <p class="empty">{t("c_no_routes")}</p> : shown.map((r) => (
            <div class="card route" key={r.id} data-route={r.name}>
              <div class="row">
                <h3 class="grow">{r.name} <span class="small">· {r.checkpoints.length} {t("c_points")}</span></h3>
                <button type="button" class="small-btn" data-action="add-checkpoint" onClick={() => edit({ routeId: r.id })}>{t("c_add_checkpoint")}</button>
                <button type="button" class="small-btn" data-action="labels" disabled={!r.checkpoints.some((c) => c.active)}
                  onClick={() => showLabels(r)}>{t("c_print_labels")}</button>
              </div>
              {r.checkpoints.length === 0 ? <p class="small">{t("c_no_checkpoints")}</p> : (
                <table class="grid-table">
                  <thead><tr><th>{t("c_cp_name")}</th><th>{t("c_location")}</th><th>{t("c_code")}</th><th>{t("c_checklist_type")}</th><th>{t("c_frequency")}</th><th>{t("c_state")}</th><th /></tr></thead>
                  <tbody>
                    {r.checkpoints.map((c) => (
                      <tr key={c.id} data-checkpoint={c.code} class={c.active ? "" : "inactive"}>
                        <td>{c.name}</td>
                        <td>{c.location}</td>
                        <td class="mono">{c.code}</td>
                        <td>{t(`c_type_${c.checklist_type}`)} <span class="small">({c.checklist.length})</span></td>
                        <td data-test="frequency">{frequencyText(c.frequency)}</td>
                        <td data-test="state" class={c.active ? "ok" : "late"}>{c.active ? t("c_active") : t("c_inactive")}</td>
                        <td><button type="button" class="link" data-action="edit" onClick={() => edit({ routeId: r.id, checkpoint: c })}>{t("c_edit")}</button></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          ))}
        </div>
        <div>
          {labels && (
            <div class="card label-preview">
              <div class="row">
                <h3 class="grow">{t("c_print_labels")} · {labels.route}</h3>
                <button type="button" class="primary small-btn" data-action="print-labels" onClick={print}>{t("c_print")}</button>
                <button type="button" class="small-btn" onClick={() => setLabels(null)}>{t("c_close")}</button>
              </div>
              <iframe class="label-frame" srcDoc={labels.html} title={t("c_print_labels")} />
            </div>
          )}
          {editing && (
            <CheckpointForm key={editing.checkpoint?.id ?? `new-${editing.routeId}`} routeId={editing.routeId}
              routeName={shown?.find((r) => r.id === editing.routeId)?.name ?? ""} checkpoint={editing.checkpoint}
              onDone={(cp) => { routes.reload(); setEditing(cp ? { routeId: cp.route_id, checkpoint: cp } : null); }} />
          )}
          {!labels && !editing && <p class="small card">{t("c_walk_hint")}</p>}
        </div>
      </div>
    </div>
  );
}

let nextKey = 0;

function CheckpointForm({ routeId, routeName, checkpoint, onDone }: {
  routeId: string; routeName: string; checkpoint?: Checkpoint; onDone: (cp: Checkpoint | null) => void;
}) {
  const f = checkpoint?.frequency;
  const [name, setName] = useState(checkpoint?.name ?? "");
  const [location, setLocation] = useState(checkpoint?.location ?? "");
  const [type, setType] = useState<"standard" | "renovation">(checkpoint?.checklist_type ?? "standard");
  const [kind, setKind] = useState<Frequency["kind"]>(f?.kind ?? "daily");
  const [hours, setHours] = useState((f?.hours ?? [7, 17]).map(hh).join(" / "));
  const [byHour, setByHour] = useState(String(f?.by_hour ?? 18));
  const [weekday, setWeekday] = useState(String(f?.weekday ?? 7));
  const [custom, setCustom] = useState(!!checkpoint);
  const [items, setItems] = useState<Item[]>(checkpoint?.checklist.map((i) => ({ ...i })) ?? [{ key: "", label: "" }]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function frequency(): Frequency {
    if (kind === "daily") return { kind, by_hour: Number(byHour) };
    if (kind === "weekly") return { kind, weekday: Number(weekday) };
    const parts = hours.split(/[\s,，/、;；]+/).filter(Boolean);
    const parsed = parts.map((p) => /^(\d{1,2})(:00)?$/.exec(p));
    if (!parts.length || parsed.some((m) => !m)) throw new Error(t("c_hours_format"));
    return { kind, hours: parsed.map((m) => Number(m![1])) };
  }

  function checklist(): Item[] | undefined {
    if (!custom) return undefined;
    const used = new Set(items.map((i) => i.key).filter(Boolean));
    return items.filter((i) => i.label.trim()).map((i) => {
      if (i.key) return { key: i.key, label: i.label.trim() };
      let key;
      do key = `item_${Date.now().toString(36)}_${nextKey++}`; while (used.has(key));
      used.add(key);
      return { key, label: i.label.trim() };
    });
  }

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body: Record<string, unknown> = { name: name.trim(), location: location.trim(), frequency: frequency() };
      const list = checklist();
      if (list) body.checklist = list;
      const cp = checkpoint
        ? await send<Checkpoint>("PATCH", `/api/walks/checkpoints/${checkpoint.id}`, body)
        : await send<Checkpoint>("POST", "/api/walks/checkpoints", { ...body, route_id: routeId, checklist_type: type });
      say(t("c_saved"));
      onDone(cp);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function setActive(active: boolean) {
    setError(null);
    try {
      const cp = await send<Checkpoint>("PATCH", `/api/walks/checkpoints/${checkpoint!.id}`, { active });
      say(active ? t("c_reactivated") : t("c_deactivated"));
      onDone(cp);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const setItem = (i: number, label: string) => setItems((all) => all.map((x, j) => (j === i ? { ...x, label } : x)));

  return (
    <form class="card checkpoint-form" onSubmit={save} data-test="checkpoint-form">
      <div class="row">
        <h3 class="grow">{checkpoint ? `${t("c_edit_checkpoint")} · ${checkpoint.code}` : t("c_add_checkpoint")}</h3>
        <span class="small">{routeName}</span>
      </div>
      {checkpoint && !checkpoint.active && <p class="hint">{t("c_checkpoint_inactive_hint")}</p>}
      <label>{t("c_cp_name")}<input name="cp_name" required maxLength={50} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      <label>{t("c_location")}<input name="cp_location" maxLength={100} value={location} placeholder={t("c_location_hint")}
        onInput={(e) => setLocation((e.target as HTMLInputElement).value)} /></label>
      <div class="field">
        <span class="small">{t("c_checklist_type")}</span>
        {checkpoint ? <p class="pre">{t(`c_type_${type}`)}</p> : (
          <div class="seg">
            {(["standard", "renovation"] as const).map((k) => (
              <button key={k} type="button" class={type === k ? "on" : ""} data-type={k} onClick={() => setType(k)}>{t(`c_type_${k}`)}</button>
            ))}
          </div>
        )}
      </div>
      <div class="field">
        <span class="small">{t("c_frequency")}</span>
        <div class="seg">
          {KINDS.map((k) => (
            <button key={k} type="button" class={kind === k ? "on" : ""} data-freq={k} onClick={() => setKind(k)}>{t(`c_freq_${k}`)}</button>
          ))}
        </div>
        {kind === "twice_daily" && (
          <label>{t("c_hours")}<input name="hours" value={hours} placeholder="07:00 / 17:00" onInput={(e) => setHours((e.target as HTMLInputElement).value)} /></label>
        )}
        {kind === "daily" && (
          <label>{t("c_done_by")}
            <select name="by_hour" value={byHour} onChange={(e) => setByHour((e.target as HTMLSelectElement).value)}>
              {Array.from({ length: 24 }, (_, i) => i + 1).map((h) => <option key={h} value={h}>{hh(h)}</option>)}
            </select>
          </label>
        )}
        {kind === "weekly" && (
          <label>{t("c_weekday")}
            <select name="weekday" value={weekday} onChange={(e) => setWeekday((e.target as HTMLSelectElement).value)}>
              {[1, 2, 3, 4, 5, 6, 7].map((d) => <option key={d} value={d}>{t(`c_weekday_${d}`)}</option>)}
            </select>
          </label>
        )}
      </div>
      <div class="field">
        <label class="check">
          <input type="checkbox" name="custom_checklist" checked={custom} onChange={(e) => setCustom((e.target as HTMLInputElement).checked)} />
          {checkpoint ? t("c_edit_checklist") : t("c_custom_checklist")}
        </label>
        {!custom ? <p class="small">{checkpoint ? checkpoint.checklist.map((i) => i.label).join("、") : t("c_default_checklist")}</p> : (
          <ul class="items">
            {items.map((it, i) => (
              <li key={i} class="row">
                <input name="item" value={it.label} maxLength={50} placeholder={t("c_item_label")} onInput={(e) => setItem(i, (e.target as HTMLInputElement).value)} />
                <button type="button" class="link" aria-label={t("c_delete")} onClick={() => setItems((all) => all.filter((_, j) => j !== i))}>✕</button>
              </li>
            ))}
            <li><button type="button" class="link" data-action="add-item" onClick={() => setItems((all) => [...all, { key: "", label: "" }])}>＋ {t("c_add_item")}</button></li>
          </ul>
        )}
      </div>
      <ErrorLine error={error} />
      <div class="row wrap">
        <button class="primary" type="submit" data-action="save-checkpoint" disabled={busy}>{t("c_save")}</button>
        {checkpoint && (checkpoint.active
          ? <button type="button" class="danger" data-action="deactivate" onClick={() => setActive(false)}>{t("c_deactivate")}</button>
          : <button type="button" data-action="reactivate" onClick={() => setActive(true)}>{t("c_reactivate")}</button>)}
        <button type="button" onClick={() => onDone(null)}>{t("c_close")}</button>
      </div>
    </form>
  );
}
