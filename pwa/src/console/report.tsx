// 服务分析报告 · analysis report: one estate or the company (every estate the caller sees) for a month,
// quarter or year. The page itself is the server's printable HTML (the same one the PDF is printed
// from) in a srcdoc frame; a click on any figure in it opens the orders behind it below. Downloads:
// XLSX (one sheet per table) and PDF. A supervisor sets the estate's response-speed baseline here.
import { useEffect, useRef, useState } from "preact/hooks";
import { say } from "../app";
import { day as shanghaiDay } from "../format";
import { lang, t } from "../i18n";
import { useSignal } from "../state";
import { OrderRows } from "./call";
import { fetchAuthed, get, query, send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

type Period = "month" | "quarter" | "year";

export function Report({ canSetBaseline }: { canSetBaseline: boolean }) {
  useSignal(lang);
  const today = shanghaiDay(Date.now());
  const [period, setPeriod] = useState<Period>("month");
  const [year, setYear] = useState(Number(today.slice(0, 4)));
  const [number, setNumber] = useState(Number(today.slice(5, 7)));
  const [estate, setEstate] = useState("");
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [drill, setDrill] = useState<string | null>(null);
  const estates = useApi<any[]>("/api/estates");
  const frame = useRef<HTMLIFrameElement>(null);
  const n = period === "year" ? undefined : period === "quarter" ? Math.min(number, 4) : number;
  const params = { estate_id: estate || undefined, period, year, number: n, lang: lang.get() === "en" ? "en" : "zh" };
  const scope = query(params);

  useEffect(() => {
    if (!estate && estates.data?.length === 1) setEstate(estates.data[0].id);
  }, [estates.data]);
  useEffect(() => {
    let alive = true;
    setHtml(null);
    setError(null);
    setDrill(null);
    fetchAuthed(`/api/reports/analysis.html${scope}`).then(
      async (r) => alive && setHtml(await r.text()),
      (e) => alive && setError((e as Error).message),
    );
    return () => {
      alive = false;
    };
  }, [scope]);

  function wire() {
    const f = frame.current;
    const doc = f?.contentDocument;
    if (!f || !doc) return;
    f.style.height = `${doc.documentElement.scrollHeight + 16}px`;
    doc.addEventListener("click", (ev) => {
      const a = (ev.target as Element).closest?.("a[data-drill]");
      if (!a) return;
      ev.preventDefault();
      setDrill(a.getAttribute("data-drill"));
      setTimeout(() => document.querySelector("[data-test=report-drill]")?.scrollIntoView({ block: "start" }), 50);
    });
  }

  async function download(ext: "xlsx" | "pdf") {
    try {
      const res = await fetchAuthed(`/api/reports/analysis.${ext}${scope}`);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(await res.blob());
      a.download = `${t("c_report")}-${year}${n ? `-${n}` : ""}.${ext}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      say((e as Error).message);
    }
  }

  const numbers = period === "month" ? 12 : period === "quarter" ? 4 : 0;
  return (
    <div class="report" data-test="report">
      <div class="row toolbar">
        <h2 class="grow">{t("c_report")}</h2>
        <select name="estate" value={estate} onChange={(e) => setEstate((e.target as HTMLSelectElement).value)}>
          {(estates.data?.length ?? 0) > 1 && <option value="">{t("c_company_all")}</option>}
          {estates.data?.map((e) => <option key={e.id} value={e.id}>{e.name}</option>)}
        </select>
        <div class="seg">
          {(["month", "quarter", "year"] as Period[]).map((p) => (
            <button key={p} class={period === p ? "on" : ""} data-period={p} onClick={() => setPeriod(p)}>{t(`c_rep_${p}`)}</button>
          ))}
        </div>
        <input type="number" name="year" min={2000} max={2100} value={year} onChange={(e) => setYear(Number((e.target as HTMLInputElement).value) || year)} />
        {numbers > 0 && (
          <select name="number" value={n} onChange={(e) => setNumber(Number((e.target as HTMLSelectElement).value))}>
            {Array.from({ length: numbers }, (_, i) => i + 1).map((i) => (
              <option key={i} value={i}>{period === "month" ? t("c_month_n", { n: i }) : t("c_quarter_n", { n: i })}</option>
            ))}
          </select>
        )}
      </div>
      <div class="row">
        <button class="primary" data-action="print" onClick={() => frame.current?.contentWindow?.print()} disabled={!html}>{t("c_print")}</button>
        <button data-action="xlsx" onClick={() => download("xlsx")}>{t("c_download_xlsx")}</button>
        <button data-action="pdf" onClick={() => download("pdf")}>{t("c_download_pdf")}</button>
      </div>
      {canSetBaseline && estate && <BaselineForm estateId={estate} onSaved={() => setHtml(null)} />}
      <p class="small">{t("c_report_drill_hint")}</p>
      <ErrorLine error={error} />
      {html ? <iframe ref={frame} class="report-frame" srcDoc={html} title={t("c_report")} onLoad={wire} /> : !error && <Loading />}
      {drill && <ReportDrill q={drill} onClose={() => setDrill(null)} />}
    </div>
  );
}

function ReportDrill({ q, onClose }: { q: string; onClose: () => void }) {
  const { data, error } = useApi<any>(`/api/reports/orders?${q}&limit=500`);
  return (
    <div class="card drill" data-test="report-drill">
      <div class="row">
        <h3 class="grow">{t("c_orders_behind")}</h3>
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

function BaselineForm({ estateId, onSaved }: { estateId: string; onSaved: () => void }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<any>(`/api/kpi/${query({ estate_id: estateId })}`).then(
      (k) => {
        setFrom(k.current.baseline?.from ?? "");
        setTo(k.current.baseline?.to ?? "");
      },
      () => undefined,
    );
  }, [estateId]);
  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await send("PUT", `/api/estates/${estateId}/response-baseline`, { from, to });
      say(t("c_baseline_saved"));
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <details class="baseline-box">
    <summary class="small">{t("c_baseline")}{from && to ? `：${from} – ${to}` : `：${t("c_baseline_unset")}`}</summary>
    <form class="row baseline" data-test="baseline-form" onSubmit={save}>
      <input type="date" name="from" value={from} required onChange={(e) => setFrom((e.target as HTMLInputElement).value)} />
      <span>–</span>
      <input type="date" name="to" value={to} required onChange={(e) => setTo((e.target as HTMLInputElement).value)} />
      <button type="submit">{t("c_save")}</button>
      <ErrorLine error={error} />
    </form>
    </details>
  );
}
