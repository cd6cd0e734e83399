// 主管看板 · supervisor dashboard: KPIs for a day / week / month against the previous period and the
// targets, inline-SVG charts, per-steward and per-technician tables, drill-down to the orders behind
// any figure, CSV export; and a steward's monthly scorecard.
import { useEffect, useState } from "preact/hooks";
import { say } from "../app";
import { day as shanghaiDay } from "../format";
import { t } from "../i18n";
import { OrderRows } from "./call";
import { Bars, HBars, Trend } from "./charts";
import { fetchAuthed, get, query, useApi } from "./net";
import { ErrorLine, Loading, pct } from "./widgets";

type Period = "day" | "week" | "month";
const RATIOS: { key: string; lowerIsBetter?: boolean }[] = [
  { key: "complaint_timeliness" },
  { key: "repeat_complaint_rate", lowerIsBetter: true },
  { key: "satisfaction" },
  { key: "callback_rate" },
  { key: "interaction_rate" },
  { key: "convenience_coverage" },
  { key: "response_speedup" },
];

/** The line under a KPI card that says what its ratio counts (the household and baseline figures). */
function cardHint(key: string, cur: any): string | null {
  if (key === "interaction_rate") return t("c_interaction_hint", { n: cur.interacting_households, of: cur.occupied_households });
  if (key === "convenience_coverage") return t("c_coverage_hint", { n: cur.served_households, of: cur.resident_households });
  if (key === "response_speedup") {
    return cur.baseline ? t("c_baseline_hint", { m: cur.baseline.response.median_min ?? "—" }) : t("c_baseline_unset");
  }
  return null;
}
const DONE = ["completed", "rated", "called_back", "closed"];

/** The China-time calendar day of an instant (the KPI periods are China-time days, weeks, months). */
function chinaDay(iso: string, offsetMs = 0): string {
  return shanghaiDay(Date.parse(iso) + offsetMs);
}

function isoDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The days (as YYYY-MM-DD) that name the previous ``n`` periods up to ``day``, oldest first. */
function trendDays(period: Period, day: string, n: number): string[] {
  const out: string[] = [];
  const base = new Date(`${day}T12:00:00`);
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(base);
    if (period === "day") d.setDate(d.getDate() - i);
    else if (period === "week") d.setDate(d.getDate() - 7 * i);
    else d.setMonth(d.getMonth() - i, 15);
    out.push(isoDay(d));
  }
  return out;
}

function better(key: string, cur: number | null, prev: number | null): string {
  if (cur === null || prev === null || cur === prev) return "same";
  const lower = RATIOS.find((r) => r.key === key)?.lowerIsBetter;
  return (cur > prev) !== !!lower ? "up" : "down";
}

function meets(key: string, v: number | null, target: number): boolean | null {
  if (v === null) return null;
  return RATIOS.find((r) => r.key === key)?.lowerIsBetter ? v <= target : v >= target;
}

export function Dashboard({ canReview }: { canReview: boolean }) {
  const [period, setPeriod] = useState<Period>("month");
  const [day, setDay] = useState(chinaDay(new Date().toISOString()));
  const [drill, setDrill] = useState<{ metric: string; outcome: string; title: string; shift?: string } | null>(null);
  const scope = query({ period, date: day });
  const { data, error } = useApi<any>(`/api/kpi/${scope}`);
  const people = useApi<any>(`/api/kpi/orders${query({ period, date: day, metric: "volume", outcome: "all", limit: 2000 })}`);
  const late = useApi<any>(`/api/kpi/orders${query({ period, date: day, metric: "resolution", outcome: "bad", limit: 2000 })}`);
  const [trend, setTrend] = useState<{ label: string; value: number | null }[] | null>(null);
  useEffect(() => {
    let alive = true;
    const days = trendDays(period, day, period === "day" ? 14 : period === "week" ? 8 : 6);
    Promise.all(days.map((d) => get<any>(`/api/kpi/${query({ period, date: d })}`))).then(
      (rows) => alive && setTrend(rows.map((r, i) => ({ label: period === "month" ? days[i].slice(0, 7) : days[i].slice(5), value: r.current.complaint_timeliness }))),
      () => alive && setTrend([]),
    );
    return () => {
      alive = false;
    };
  }, [period, day]);

  async function exportCsv() {
    try {
      const blob = await (await fetchAuthed(`/api/kpi/csv${scope}`)).blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `kpi-${period}-${day}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      say((e as Error).message);
    }
  }

  const cur = data?.current;
  const prev = data?.previous;
  return (
    <div class="dashboard" data-test="dashboard">
      <div class="row toolbar">
        <h2 class="grow">{t("c_dashboard")}</h2>
        <div class="seg">
          {(["day", "week", "month"] as Period[]).map((p) => (
            <button key={p} class={period === p ? "on" : ""} data-period={p} onClick={() => setPeriod(p)}>{t(`c_period_${p}`)}</button>
          ))}
        </div>
        <input type="date" name="date" value={day} onChange={(e) => setDay((e.target as HTMLInputElement).value)} />
        <button data-action="csv" onClick={exportCsv}>{t("c_export_csv")}</button>
      </div>
      <ErrorLine error={error} />
      {!cur ? <Loading /> : (
        <>
          <p class="small">{t("c_period_span")} <span data-test="span">{chinaDay(cur.start)} – {chinaDay(cur.end, -1000)}</span> · {t("c_vs_previous")}</p>
          <div class="kpis" data-period={data.period} data-start={cur.start}>
            {RATIOS.map(({ key }) => {
              const ok = meets(key, cur[key], data.targets[key]);
              const dir = better(key, cur[key], prev[key]);
              return (
                <button key={key} class={`kpi ${ok === null ? "" : ok ? "ok" : "bad"}`} data-kpi={key} data-value={cur[key] ?? ""}
                  onClick={() => setDrill({ metric: key, outcome: "bad", title: t(`kpi_${key}`) })}>
                  <span class="name">{t(`kpi_${key}`)}</span>
                  <span class="value" data-test="value">{pct(cur[key])}</span>
                  <span class="small">
                    {t("c_target")} {key === "repeat_complaint_rate" ? "≤" : "≥"} {pct(data.targets[key])}
                  </span>
                  <span class={`small cmp ${dir}`} data-test="previous">
                    {t("c_previous")} {pct(prev[key])} {dir === "up" ? "▲" : dir === "down" ? "▼" : ""}
                  </span>
                  {cardHint(key, cur) && <span class="small" data-test="hint">{cardHint(key, cur)}</span>}
                </button>
              );
            })}
            <button class="kpi" data-kpi="orders" data-value={cur.orders} onClick={() => setDrill({ metric: "volume", outcome: "all", title: t("c_orders") })}>
              <span class="name">{t("c_orders")}</span>
              <span class="value" data-test="value">{cur.orders}</span>
              <span class="small">{t("complaint")} {cur.complaints}</span>
              <span class="small cmp" data-test="previous">{t("c_previous")} {prev.orders}</span>
            </button>
            <button class="kpi" data-kpi="response" data-value={cur.response.median_min ?? ""} onClick={() => setDrill({ metric: "response", outcome: "bad", title: t("c_response") })}>
              <span class="name">{t("c_response")}</span>
              <span class="value" data-test="value">{cur.response.median_min ?? "—"}</span>
              <span class="small">{t("c_minutes_median")} · p90 {cur.response.p90_min ?? "—"}</span>
              <span class="small cmp" data-test="previous">{t("c_previous")} {prev.response.median_min ?? "—"}</span>
            </button>
            <button class="kpi" data-kpi="resolution" data-value={cur.resolution.median_min ?? ""} onClick={() => setDrill({ metric: "resolution", outcome: "bad", title: t("c_resolution") })}>
              <span class="name">{t("c_resolution")}</span>
              <span class="value" data-test="value">{cur.resolution.median_min ?? "—"}</span>
              <span class="small">{t("c_minutes_median")} · p90 {cur.resolution.p90_min ?? "—"}</span>
              <span class="small cmp" data-test="previous">{t("c_previous")} {prev.resolution.median_min ?? "—"}</span>
            </button>
          </div>
          {drill && <Drill scope={{ period, date: day, ...(drill.shift ? { shift: drill.shift } : {}) }} {...drill} onClose={() => setDrill(null)} />}
          <ShiftTable cur={cur} onDrill={(shift) => setDrill({ metric: "volume", outcome: "all", title: t(shift === "office" ? "c_rep_office_hours" : "c_after_hours"), shift })} />
          <div class="charts">
            <Bars title={t("c_by_hour")} values={cur.by_hour} labels={cur.by_hour.map((_: number, h: number) => `${h}`)} />
            <HBars title={t("c_by_category")} rows={Object.entries(cur.by_category as Record<string, number>).sort((a, b) => b[1] - a[1]).map(([k, v]) => [t(`cat_${k}`), v])} />
            {trend ? <Trend title={t("c_sla_trend")} points={trend} target={data.targets.complaint_timeliness} /> : <Loading />}
          </div>
          <div class="tables">
            <TechTable rows={people.data?.orders} late={late.data?.orders} />
            {canReview && <StewardTable day={day} />}
          </div>
        </>
      )}
    </div>
  );
}

/** Office hours against after hours (after 20:00 and weekends): response, resolution, on-time share. */
function ShiftTable({ cur, onDrill }: { cur: any; onDrill: (shift: string) => void }) {
  const rows = [["office", cur.office], ["after_hours", cur.after_hours]] as [string, any][];
  return (
    <div class="card">
      <table class="grid-table" data-test="shift-table">
        <thead><tr><th>{t("c_rep_shift")}</th><th>{t("c_orders")}</th><th>{t("c_response")}</th><th>{t("c_resolution")}</th><th>{t("c_sla_on_time")}</th></tr></thead>
        <tbody>
          {rows.map(([key, s]) => (
            <tr key={key} data-shift={key}>
              <td>{t(key === "office" ? "c_rep_office_hours" : "c_after_hours")}</td>
              <td><button class="link" onClick={() => onDrill(key)}>{s.orders}</button></td>
              <td>{s.response.median_min ?? "—"} · p90 {s.response.p90_min ?? "—"}</td>
              <td>{s.resolution.median_min ?? "—"} · p90 {s.resolution.p90_min ?? "—"}</td>
              <td>{pct(s.sla_timeliness)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Drill({ scope, metric, outcome, title, onClose }: { scope: Record<string, string>; metric: string; outcome: string; title: string; onClose: () => void }) {
  const [which, setWhich] = useState(outcome);
  const { data, error } = useApi<any>(`/api/kpi/orders${query({ ...scope, metric, outcome: which, limit: 500 })}`);
  return (
    <div class="card drill" data-test="drill">
      <div class="row">
        <h3 class="grow">{title} · {t("c_orders_behind")}</h3>
        {metric !== "volume" && (
          <div class="seg">
            <button class={which === "bad" ? "on" : ""} onClick={() => setWhich("bad")}>{t("c_off_target")}</button>
            <button class={which === "all" ? "on" : ""} onClick={() => setWhich("all")}>{t("c_all")}</button>
          </div>
        )}
        <button class="link" onClick={onClose}>{t("c_close")}</button>
      </div>
      <ErrorLine error={error} />
      {data ? (
        <>
          <p class="small" data-test="drill-count">{data.count}{data.truncated ? "+" : ""}</p>
          <OrderRows rows={data.orders} empty={t("c_none")} />
        </>
      ) : <Loading />}
    </div>
  );
}

function TechTable({ rows, late }: { rows?: any[]; late?: any[] }) {
  if (!rows) return <Loading />;
  const by = new Map<string, { name: string; total: number; done: number; open: number; overdue: number; late: number }>();
  const row = (name: string) => by.get(name) ?? by.set(name, { name, total: 0, done: 0, open: 0, overdue: 0, late: 0 }).get(name)!;
  for (const o of rows) {
    const r = row(o.assignee_name || t("c_unassigned"));
    r.total++;
    if (DONE.includes(o.status)) r.done++;
    else if (o.status !== "cancelled") r.open++;
    if (o.sla === "overdue") r.overdue++;
  }
  for (const o of late ?? []) row(o.assignee_name || t("c_unassigned")).late++;
  const list = [...by.values()].sort((a, b) => b.total - a.total);
  return (
    <div class="card">
      <h3>{t("c_per_tech")}</h3>
      <table class="grid-table" data-test="tech-table">
        <thead><tr><th>{t("c_name")}</th><th>{t("c_orders")}</th><th>{t("completed")}</th><th>{t("c_open")}</th><th>{t("overdue")}</th><th>{t("c_resolve_late")}</th></tr></thead>
        <tbody>
          {list.map((r) => (
            <tr key={r.name}><td>{r.name}</td><td>{r.total}</td><td>{r.done}</td><td>{r.open}</td><td class={r.overdue ? "late" : ""}>{r.overdue}</td><td>{r.late}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StewardTable({ day }: { day: string }) {
  const month = day.slice(0, 7);
  const staff = useApi<any[]>("/api/staff");
  const [cards, setCards] = useState<any[] | null>(null);
  useEffect(() => {
    if (!staff.data) return;
    let alive = true;
    const stewards = staff.data.filter((s) => s.role === "steward");
    Promise.all(stewards.map((s) => get(`/api/stewards/${s.id}/scorecard${query({ month })}`))).then(
      (rows) => alive && setCards(rows),
      () => alive && setCards([]),
    );
    return () => {
      alive = false;
    };
  }, [staff.data, month]);
  return (
    <div class="card">
      <h3>{t("c_per_steward")} · {month}</h3>
      {!cards ? <Loading /> : (
        <table class="grid-table" data-test="steward-table">
          <thead><tr><th>{t("c_name")}</th><th>{t("c_grids")}</th><th>{t("c_orders")}</th><th>{t("kpi_complaint_timeliness")}</th><th>{t("kpi_satisfaction")}</th><th>{t("kpi_callback_rate")}</th><th>{t("c_follow_ups_open")}</th></tr></thead>
          <tbody>
            {cards.map((c) => (
              <tr key={c.steward.id}>
                <td><a href={`#/desk/scorecard/${c.steward.id}/${month}`}>{c.steward.name}</a></td>
                <td>{c.grids.map((g: any) => g.name).join("、")}</td>
                <td>{c.orders_raised}</td>
                <td>{pct(c.complaint_timeliness)}</td>
                <td>{pct(c.satisfaction)}</td>
                <td>{pct(c.callback_rate)}</td>
                <td>{c.follow_ups_open}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The 巡查 row: her walks, and how many of the checkpoint slots due so far were on time. */
function walksLine(w: any): string {
  if (!w) return "—";
  const text = t("c_walks_line", { walks: w.walks, on_time: w.checkpoints_on_time, slots: w.checkpoint_slots, rate: pct(w.checkpoints_on_time_rate) });
  return w.checkpoints_pending ? `${text}${t("c_walks_pending", { n: w.checkpoints_pending })}` : text;
}

export function Scorecard({ stewardId, month }: { stewardId: string; month?: string }) {
  const [m, setM] = useState(month ?? chinaDay(new Date().toISOString()).slice(0, 7));
  const { data, error } = useApi<any>(`/api/stewards/${stewardId}/scorecard${query({ month: m })}`);
  if (error) return <ErrorLine error={error} />;
  if (!data) return <Loading />;
  const line = (key: string, value: string, target?: string, ok?: boolean | null) => (
    <tr key={key}><th>{t(key)}</th><td class={ok === false ? "late" : ok ? "ok" : ""}>{value}</td><td class="small">{target ?? ""}</td></tr>
  );
  return (
    <div class="scorecard" data-test="scorecard">
      <div class="row">
        <h2 class="grow">{t("c_scorecard")} · {data.steward.name}{data.steward.gold ? " ★" : ""}</h2>
        <input type="month" value={m} onChange={(e) => setM((e.target as HTMLInputElement).value)} />
        <button onClick={() => window.print()}>{t("c_print")}</button>
      </div>
      <p class="small">{t("c_grids")}: {data.grids.map((g: any) => `${g.name}（${g.households}${t("c_households")}）`).join("、")}</p>
      <div class="card">
        <table class="grid-table score">
          <tbody>
            {line("c_orders", String(data.orders_raised))}
            {line("c_complaints_n", String(data.complaints))}
            {line("kpi_complaint_timeliness", pct(data.complaint_timeliness), `≥ ${pct(data.targets.complaint_timeliness)}`, meets("complaint_timeliness", data.complaint_timeliness, data.targets.complaint_timeliness))}
            {line("kpi_repeat_complaint_rate", pct(data.repeat_complaint_rate), `≤ ${pct(data.targets.repeat_complaint_rate)}`, meets("repeat_complaint_rate", data.repeat_complaint_rate, data.targets.repeat_complaint_rate))}
            {line("kpi_satisfaction", `${pct(data.satisfaction)} (${data.satisfied_ratings}/${data.ratings})`, `≥ ${pct(data.targets.satisfaction)}`, meets("satisfaction", data.satisfaction, data.targets.satisfaction))}
            {line("kpi_callback_rate", pct(data.callback_rate), `= ${pct(data.targets.callback_rate)}`, meets("callback_rate", data.callback_rate, data.targets.callback_rate))}
            {line("c_callbacks_done", String(data.callbacks_done))}
            {line("c_follow_ups", `${data.follow_ups_handled} / ${data.follow_ups_assigned}`)}
            {line("c_follow_ups_open", String(data.follow_ups_open))}
            {line("c_orders_reported", String(data.orders_reported))}
            {line("c_walks", walksLine(data.walks))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
