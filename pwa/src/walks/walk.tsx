// The walks home (start a walk / recent walks) and the active walk: its checkpoints, findings, end.
import { useEffect, useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { db } from "../db";
import { t } from "../i18n";
import { useSignal } from "../state";
import { useLive } from "../ui/live";
import { time } from "../ui/order";
import { Back } from "./parts";
import { endWalk, findings, gridCheckpoints, gridHouseholds, type Me, myWalks, startWalk, walk, walkVisits } from "./store";

const LEADS = ["team_lead", "supervisor", "admin"];

/** The grids a steward walks: her own; otherwise (a lead trying the app) every grid with checkpoints. */
export async function walkGrids(me: Me): Promise<{ id: string; name: string }[]> {
  const cps = await db.checkpoints.toArray();
  const names = new Map<string, string>();
  for (const c of cps) names.set(c.grid_id, c.grid_name ?? c.route_name ?? c.grid_id.slice(0, 8));
  const ids = me.grid_ids?.length ? me.grid_ids : [...names.keys()];
  return ids.map((id) => ({ id, name: names.get(id) ?? id.slice(0, 8) }));
}

export function WalksHome() {
  const me = useSignal(staff)! as any;
  const data = useLive(async () => ({ walks: await myWalks(me), grids: await walkGrids(me) }));
  const [grid, setGrid] = useState<string>("");
  const gridKey = data?.grids.map((g) => g.id).join() ?? "";
  useEffect(() => {
    // While online, keep each grid's flats on the phone: a finding offline can still name its flat.
    if (navigator.onLine) data?.grids.forEach((g) => void gridHouseholds(g.id));
  }, [gridKey]);
  if (!data) return null;
  const active = data.walks.find((w) => w.status === "active");
  const gridId = grid || data.grids[0]?.id;
  const start = () =>
    guard(async () => {
      const id = await startWalk(me, gridId);
      say(t("walk_started"));
      go(`#/walks/${id}`);
    });
  return (
    <section class="walks">
      <h2>{t("walks")}</h2>
      {(LEADS.includes(me.role) || me.role === "steward") && (
        <div class="actions">
          <button data-action="coverage" onClick={() => go("#/walks/coverage")}>{t(me.role === "steward" ? "my_coverage" : "coverage")}</button>
        </div>
      )}
      {active ? (
        <a class="task walk-card" href={`#/walks/${active.id}`} data-walk={active.id}>
          <div class="row"><span class="kind">{t("walk_active")}</span><strong>{time(active.started_at)}</strong></div>
          <p class="desc">{t("open_walk")} →</p>
        </a>
      ) : (
        <div class="card">
          {data.grids.length > 1 && (
            <label>{t("choose_grid")}
              <select value={gridId} onChange={(e) => setGrid((e.target as HTMLSelectElement).value)}>
                {data.grids.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
              </select>
            </label>
          )}
          <button class="primary big" data-action="start-walk" disabled={!gridId} onClick={start}>{t("start_walk")}</button>
          <button class="big" data-action="finding-anywhere" disabled={!gridId}
            onClick={() => go(`#/walks/findings/new/${gridId}`)}>{t("add_finding")}</button>
        </div>
      )}
      <h3>{t("recent_walks")}</h3>
      {data.walks.length === 0 && <p class="empty">{t("no_walks")}</p>}
      <ul class="list">
        {data.walks.filter((w) => w !== active).slice(0, 20).map((w) => (
          <li key={w.id}>
            <a class="task" href={`#/walks/${w.id}`}>
              <div class="row">
                <strong>{time(w.started_at)} – {time(w.ended_at)}</strong>
                <span class="status">{t(w.status === "active" ? "walk_active" : "walk_ended")}{w._pending ? " ⟳" : ""}</span>
              </div>
              <p class="small">{t("visits")} {w.visit_count ?? 0} · {t("findings")} {w.finding_count ?? 0}</p>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

async function loadWalk(id: string) {
  const w = await walk(id);
  if (!w) return null;
  const [cps, visits, found] = await Promise.all([gridCheckpoints(w.grid_id), walkVisits(id), findings({ walkId: id })]);
  return { w, cps, visits, found };
}

export function WalkDetail({ walkId }: { walkId: string }) {
  const data = useLive(() => loadWalk(walkId), [walkId]);
  const [confirming, setConfirming] = useState(false);
  if (data === undefined) return null;
  if (data === null) return <section><Back href="#/walks" /><p class="empty">—</p></section>;
  const { w, cps, visits, found } = data;
  const active = w.status === "active";
  const visitOf = new Map(visits.map((v) => [v.checkpoint_id, v]));
  const done = cps.filter((c) => visitOf.has(c.id)).length;
  return (
    <section class="walk">
      <Back href="#/walks" />
      <div class="card">
        <div class="row">
          <span class={`kind ${active ? "" : "k-ended"}`}>{t(active ? "walk_active" : "walk_ended")}</span>
          <strong>{time(w.started_at)}{w.ended_at ? ` – ${time(w.ended_at)}` : ""}</strong>
          <span class="status" data-test="walk-progress">{done}/{cps.length}</span>
        </div>
        <div class="progress"><i style={{ width: `${cps.length ? (100 * done) / cps.length : 0}%` }} /></div>
      </div>
      {active && (
        <div class="actions">
          <button class="primary" data-action="scan" onClick={() => go(`#/walks/${w.id}/scan`)}>{t("scan")}</button>
          <button data-action="add-finding" onClick={() => go(`#/walks/${w.id}/finding`)}>{t("add_finding")}</button>
        </div>
      )}
      <h3>{t("checkpoints")}</h3>
      {cps.length === 0 && <p class="empty">{t("no_checkpoints")}</p>}
      <ul class="list">
        {cps.map((c) => {
          const v = visitOf.get(c.id);
          return (
            <li key={c.id} class={`cp ${v ? (v.failed_count ? "failed" : "done") : "todo"}`} data-checkpoint={c.code}>
              <div class="row">
                <span class="dot" />
                <div class="grow">
                  <strong>{c.name}</strong>
                  <p class="small">
                    {c.location}{c.checklist_type === "renovation" ? ` · ${t("renovation_patrol")}` : ""} · {t(`freq_${c.frequency?.kind ?? "daily"}`)}
                  </p>
                </div>
                <span class="small right">
                  {v ? `${time(v.visited_at)} ${t(v.method === "scan" ? "by_scan" : "manual")}${v._pending ? " ⟳" : ""}` : t("not_visited")}
                  {v?.failed_count ? <b class="bad"> {v.failed_count} {t("failed_items")}</b> : null}
                </span>
              </div>
            </li>
          );
        })}
      </ul>
      <h3>{t("findings")} ({found.length})</h3>
      {found.length === 0 && <p class="empty small">{t("no_findings")}</p>}
      <FindingList items={found} />
      {active && !confirming && (
        <button class="danger big" data-action="end-walk" onClick={() => setConfirming(true)}>{t("end_walk")}</button>
      )}
      {confirming && (
        <div class="card">
          <p>{t("end_walk_confirm")}</p>
          <div class="actions">
            <button class="primary" data-action="confirm-end" onClick={() => guard(async () => {
              await endWalk(w.id);
              setConfirming(false);
              say(t("walk_saved_ended"));
            })}>{t("end_walk")}</button>
            <button onClick={() => setConfirming(false)}>{t("cancel")}</button>
          </div>
        </div>
      )}
    </section>
  );
}

export function FindingList({ items }: { items: any[] }) {
  return (
    <ul class="list">
      {items.map((f) => (
        <li key={f.id}>
          <a class="task finding" href={`#/walks/findings/${f.id}`} data-finding={f.id}>
            <div class="row">
              <span class="kind">{t(`cat_${f.category}`)}</span>
              <strong class="grow ellipsis">{f.note || "—"}</strong>
              <span class="status">{f.order_id ? orderBadge(f) : f._pending ? "⟳" : ""}</span>
            </div>
            <p class="small">{time(f.captured_at)} · {f.location?.label || f.location?.text || ""}</p>
          </a>
        </li>
      ))}
    </ul>
  );
}

export function orderBadge(f: any): string {
  if (f._order_pending || !f.order_status) return `${t("order_linked")} · ${t("pending_sync")}`;
  return `${f.order_number ?? ""} ${t(f.order_status)}`;
}


