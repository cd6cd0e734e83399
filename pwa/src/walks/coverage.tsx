// Team leads: checkpoints on time / late / missed per grid and steward over a day or a week, and a
// steward's daily log. Read online from the server (GET /api/walks/coverage, /api/walks/daily-log).
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import { t } from "../i18n";
import { time } from "../ui/order";
import { Back } from "./parts";

const STATES = ["on_time", "late", "missed", "pending"] as const;

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function useFetch(path: string): { json: any; error: string | null } {
  const [state, setState] = useState<{ json: any; error: string | null }>({ json: null, error: null });
  useEffect(() => {
    let alive = true;
    setState({ json: null, error: null });
    call("GET", path)
      .then(({ json }) => alive && setState({ json, error: null }))
      .catch((e) => alive && setState({ json: null, error: e.code === "transport" ? t("needs_network") : e.message }));
    return () => {
      alive = false;
    };
  }, [path]);
  return state;
}

function Counts({ totals }: { totals: Record<string, number> }) {
  return (
    <div class="counts">
      {STATES.map((s) => (
        <span key={s} class={`count c-${s}`} data-count={s}><b>{totals?.[s] ?? 0}</b>{t(s)}</span>
      ))}
    </div>
  );
}

export function Coverage() {
  const [period, setPeriod] = useState<"day" | "week">("day");
  const [day, setDay] = useState(today());
  const { json, error } = useFetch(`/api/walks/coverage?${new URLSearchParams({ period, day })}`);
  return (
    <section class="coverage">
      <Back href="#/walks" />
      <h2>{t("coverage")}</h2>
      <div class="row">
        <div class="seg">
          {(["day", "week"] as const).map((p) => (
            <button key={p} class={p === period ? "on ok" : ""} data-period={p} onClick={() => setPeriod(p)}>{t(`period_${p}`)}</button>
          ))}
        </div>
        <input type="date" class="grow" value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value || today())} />
      </div>
      {error && <p class="empty">{error}</p>}
      {!json && !error && <p class="empty">…</p>}
      {json && (
        <div>
          <h3>{t("totals")}</h3>
          <div class="card"><Counts totals={json.totals} /></div>
          <h3>{t("by_grid")}</h3>
          {(json.grids ?? []).map((g: any) => (
            <div class="card" key={g.grid_id} data-grid={g.grid_id}>
              <strong>{g.grid_name}</strong>
              <Counts totals={g.totals} />
            </div>
          ))}
          <h3>{t("by_steward")}</h3>
          {(json.stewards ?? []).map((s: any) => (
            <a class="card steward" key={s.steward_id} href={`#/walks/log/${s.steward_id}/${day}`} data-steward={s.steward_id}>
              <div class="row"><strong class="grow">{s.steward_name}</strong><span class="small">{t("daily_log")} →</span></div>
              <Counts totals={s.totals} />
            </a>
          ))}
          <h3>{t("checkpoints")}</h3>
          <ul class="list">
            {(json.checkpoints ?? []).map((c: any) => (
              <li key={c.checkpoint_id} class="card">
                <div class="row"><strong class="grow">{c.checkpoint_name ?? c.name}</strong><span class="small">{c.grid_name}</span></div>
                <div class="slots">
                  {(c.slots ?? []).map((s: any, i: number) => (
                    <span key={i} class={`slot c-${s.status}`} title={s.visited_at ?? ""}>
                      {s.label ?? (s.due_at ? time(s.due_at) : "")} {t(s.status)}
                    </span>
                  ))}
                </div>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

export function DailyLog({ stewardId, day }: { stewardId: string; day: string }) {
  const { json, error } = useFetch(`/api/walks/daily-log?${new URLSearchParams({ steward_id: stewardId, day })}`);
  return (
    <section class="daily-log">
      <Back href="#/walks/coverage" />
      <h2>{t("daily_log")} · {day}</h2>
      {error && <p class="empty">{error}</p>}
      {json && (
        <div>
          <h3>{t("walks")}</h3>
          {(json.walks ?? []).map((w: any) => (
            <div class="card" key={w.id}>
              <strong>{time(w.started_at)} – {time(w.ended_at)}</strong>
              <p class="small">{t("visits")} {w.visit_count} · {t("findings")} {w.finding_count}</p>
            </div>
          ))}
          <h3>{t("findings")}</h3>
          {(json.findings ?? []).map((f: any) => (
            <div class="card" key={f.id}>
              <div class="row"><span class="kind">{t(f.category)}</span><span class="grow">{f.note}</span>
                {f.order_number && <span class="status">{f.order_number} {t(f.order_status)}</span>}</div>
            </div>
          ))}
          <div class="card grid2">
            <span>{t("orders_raised")}</span><b>{Array.isArray(json.orders_raised) ? json.orders_raised.length : json.orders_raised}</b>
            <span>{t("callbacks_done")}</span><b>{Array.isArray(json.callbacks_done) ? json.callbacks_done.length : json.callbacks_done}</b>
          </div>
        </div>
      )}
    </section>
  );
}
