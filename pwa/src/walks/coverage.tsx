// Team leads: checkpoints on time / late / missed per grid and steward over a day or a week, and a
// steward's daily log. Read online from the server (GET /api/walks/coverage, /api/walks/daily-log).
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import { t } from "../i18n";
import { time } from "../ui/order";
import { Back } from "./parts";

const STATES = ["on_time", "late", "missed", "pending"] as const;

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

export function Coverage({ back = "#/walks", logBase = "#/walks/log" }: { back?: string | null; logBase?: string }) {
  const [period, setPeriod] = useState<"day" | "week">("day");
  const [day, setDay] = useState(""); // "" = the estate's today (the server's, China time)
  const { json, error } = useFetch(`/api/walks/coverage?${new URLSearchParams(day ? { period, day } : { period })}`);
  return (
    <section class="coverage">
      {back && <Back href={back} />}
      <h2>{t("coverage")}</h2>
      <div class="row">
        <div class="seg">
          {(["day", "week"] as const).map((p) => (
            <button key={p} class={p === period ? "on ok" : ""} data-period={p} onClick={() => setPeriod(p)}>{t(`period_${p}`)}</button>
          ))}
        </div>
        <input type="date" class="grow" value={day || json?.day || ""} onInput={(e) => setDay((e.target as HTMLInputElement).value)} />
      </div>
      {error && <p class="empty">{error}</p>}
      {!json && !error && <p class="empty">…</p>}
      {json && (
        <div>
          <h3>{t("totals")}</h3>
          <div class="card" data-test="coverage-all"><Counts totals={json.totals?.all} /></div>
          <h3>{t("by_grid")}</h3>
          {(json.totals?.grids ?? []).map((g: any) => (
            <div class="card" key={g.grid_id} data-grid={g.grid_id}>
              <strong>{g.grid_name}</strong>
              <Counts totals={g} />
            </div>
          ))}
          <h3>{t("by_steward")}</h3>
          {(json.totals?.stewards ?? []).map((s: any) => (
            <a class="card steward" key={s.steward_id} href={`${logBase}/${s.steward_id}/${json.day}`} data-steward={s.steward_id}>
              <div class="row"><strong class="grow">{s.steward_name}</strong><span class="small">{t("daily_log")} →</span></div>
              <Counts totals={s} />
            </a>
          ))}
          <h3>{t("checkpoints")}</h3>
          <ul class="list">
            {(json.checkpoints ?? []).map((c: any) => (
              <li key={c.checkpoint_id} class="card" data-checkpoint={c.code}>
                <div class="row">
                  <strong class="grow">{c.name}</strong>
                  <span class="small">{c.grid_name} · {t(`freq_${c.frequency?.kind}`)}</span>
                </div>
                <div class="slots">
                  {(c.slots ?? []).map((s: any) => (
                    <span key={s.start} class={`slot c-${s.status}`} data-slot={s.status}>
                      {time(s.due)} {t(s.status)}{s.visited_at ? ` ${time(s.visited_at)}${s.steward_name ? " " + s.steward_name : ""}` : ""}
                      {s.skew_flag ? " ⚠" : ""}
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

export function DailyLog({ stewardId, day, back = "#/walks/coverage" }: { stewardId: string; day: string; back?: string }) {
  const q = new URLSearchParams(day ? { steward_id: stewardId, day } : { steward_id: stewardId });
  const { json, error } = useFetch(`/api/walks/daily-log?${q}`);
  return (
    <section class="daily-log">
      <Back href={back} />
      <h2>{t("daily_log")} · {json?.steward?.name ?? ""} {json?.day ?? day}</h2>
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
              <div class="row"><span class="kind">{t(`cat_${f.category}`)}</span><span class="grow">{f.note}</span>
                {f.order_number && <span class="status">{f.order_number} {t(f.order_status)}</span>}</div>
            </div>
          ))}
          <h3>{t("orders_raised")} ({json.orders_raised?.length ?? 0})</h3>
          {(json.orders_raised ?? []).map((o: any) => (
            <div class="card row" key={o.id}><span class="kind">{t(o.kind)}</span><span class="grow">{o.number} · {t(`cat_${o.category}`)}</span>
              <span class="status">{t(o.status)}</span></div>
          ))}
          <h3>{t("callbacks_done")} ({json.callbacks_done?.length ?? 0})</h3>
          {(json.callbacks_done ?? []).map((c: any) => (
            <div class="card row" key={c.id}><span class="grow">{c.order_number}</span><span class="small">{time(c.created_at)}</span></div>
          ))}
        </div>
      )}
    </section>
  );
}
