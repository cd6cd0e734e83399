// 系统管理 · administration for supervisors and admins: households import (CSV/XLSX, a dry run with
// the per-row report first), staff accounts, the estate's SLA policy and the grids' report posters.
import { useState } from "preact/hooks";
import { say, staff } from "../app";
import { t } from "../i18n";
import { useSignal } from "../state";
import { fetchAuthed, send, useApi } from "./net";
import { DEPARTMENTS, ErrorLine, KINDS, Loading } from "./widgets";

export function Admin() {
  const [tab, setTab] = useState<"import" | "staff" | "sla" | "routing" | "posters">("import");
  return (
    <div class="admin">
      <div class="row">
        <h2 class="grow">{t("c_admin")}</h2>
        <div class="seg">
          {(["import", "staff", "sla", "routing", "posters"] as const).map((k) => (
            <button key={k} class={tab === k ? "on" : ""} data-tab={k} onClick={() => setTab(k)}>{t(`c_tab_${k}`)}</button>
          ))}
        </div>
      </div>
      {tab === "import" ? <Import /> : tab === "staff" ? <StaffAdmin /> : tab === "sla" ? <SlaPolicy /> : tab === "routing" ? <Routing /> : <Posters />}
    </div>
  );
}

function Import() {
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<any>(null);
  const [done, setDone] = useState<any>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function upload(dryRun: boolean) {
    if (!file) return;
    setBusy(true);
    setError(null);
    setDone(null);
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const res = await fetchAuthed(`/api/admin/import/households?dry_run=${dryRun}`, { method: "POST", body: form });
      const json = await res.json();
      if (dryRun) setReport(json);
      else {
        setDone(json);
        setReport(null);
        say(`${t("c_imported")} ${json.imported}`);
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card">
      <h3>{t("c_tab_import")}</h3>
      <p class="small">{t("c_import_hint")}</p>
      <div class="row">
        <input type="file" name="households_file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          onChange={(e) => { setFile((e.target as HTMLInputElement).files?.[0] ?? null); setReport(null); setDone(null); }} />
        <button disabled={!file || busy} data-action="dry-run" onClick={() => upload(true)}>{t("c_check_file")}</button>
        <button class="primary" disabled={!file || busy || !report?.valid} data-action="import" onClick={() => upload(false)}>{t("c_import")}</button>
      </div>
      <ErrorLine error={error} />
      {report && (
        <div data-test="import-report">
          <p class={report.valid ? "ok-text" : "error"}>
            {t("c_rows")} {report.rows} · {t("c_households")} {report.households} · {t("c_new_buildings")} {report.buildings_created} ·{" "}
            {t("c_new_units")} {report.units_created} · {t("c_errors")} {report.error_count}
          </p>
          {report.errors.length > 0 && (
            <table class="grid-table">
              <thead><tr><th>{t("c_row")}</th><th>{t("c_column")}</th><th>{t("c_value")}</th><th>{t("c_problem")}</th></tr></thead>
              <tbody>
                {report.errors.map((e: any, i: number) => (
                  <tr key={i}><td>{e.row}</td><td>{e.column}</td><td>{e.value}</td><td>{e.problem}</td></tr>
                ))}
              </tbody>
            </table>
          )}
          {report.truncated && <p class="small">{t("c_more_errors")}</p>}
        </div>
      )}
      {done && <p class="ok-text" data-test="import-done">{t("c_imported")} {done.imported}</p>}
    </div>
  );
}

const ROLES = ["front_desk", "team_lead", "supervisor", "steward", "technician"];
// The server's role order (server/accounts/scope.py RANK): a manager resets passwords strictly below.
const RANK: Record<string, number> = { admin: 3, supervisor: 2, team_lead: 1, front_desk: 0, steward: 0, technician: 0 };
const mayReset = (me: any, s: any) => me && s.id !== me.id && (RANK[me.role] ?? 0) > (RANK[s.role] ?? 0);

function StaffAdmin() {
  const { data, error, reload } = useApi<any[]>("/api/staff");
  const grids = useApi<any[]>("/api/grids");
  const me = useSignal(staff) as any;
  const [form, setForm] = useState({ name: "", phone: "", role: "technician", department: "engineering", password: "", grid_ids: [] as string[] });
  const [formError, setFormError] = useState<string | null>(null);
  const set = (k: string, v: unknown) => setForm((f) => ({ ...f, [k]: v }));
  const gridName = (id: string) => grids.data?.find((g) => g.id === id)?.name ?? "";

  async function create(e: Event) {
    e.preventDefault();
    setFormError(null);
    try {
      await send("POST", "/api/staff", { ...form, estate_id: me?.estate_id ?? null });
      say(t("c_saved"));
      setForm({ ...form, name: "", phone: "", password: "", grid_ids: [] });
      reload();
    } catch (err) {
      setFormError((err as Error).message);
    }
  }
  async function resetPassword(id: string, name: string) {
    const pw = prompt(`${t("c_new_password")} · ${name}`);
    if (!pw) return;
    try {
      await send("POST", `/api/staff/${id}/password`, { new_password: pw });
      say(t("c_saved"));
    } catch (err) {
      say((err as Error).message);
    }
  }

  return (
    <div class="two">
      <div class="card">
        <h3>{t("c_tab_staff")}</h3>
        <ErrorLine error={error} />
        {!data ? <Loading /> : (
          <table class="grid-table" data-test="staff-table">
            <thead><tr><th>{t("c_name")}</th><th>{t("phone")}</th><th>{t("c_role")}</th><th>{t("c_department")}</th><th>{t("c_grids")}</th><th /></tr></thead>
            <tbody>
              {data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td><td>{s.phone}</td><td>{t(`role_${s.role}`)}</td><td>{t(`dept_${s.department}`)}</td>
                  <td>{s.grid_ids.map(gridName).join("、")}</td>
                  <td>{mayReset(me, s) && <button class="link" onClick={() => resetPassword(s.id, s.name)}>{t("c_reset_password")}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <form class="card" onSubmit={create}>
        <h3>{t("c_new_staff")}</h3>
        <label>{t("c_name")}<input name="staff_name" required value={form.name} onInput={(e) => set("name", (e.target as HTMLInputElement).value)} /></label>
        <label>{t("phone")}<input name="staff_phone" required value={form.phone} onInput={(e) => set("phone", (e.target as HTMLInputElement).value)} /></label>
        <label>{t("c_role")}
          <select value={form.role} onChange={(e) => set("role", (e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => <option key={r} value={r}>{t(`role_${r}`)}</option>)}
          </select>
        </label>
        <label>{t("c_department")}
          <select value={form.department} onChange={(e) => set("department", (e.target as HTMLSelectElement).value)}>
            {DEPARTMENTS.map((d) => <option key={d} value={d}>{t(`dept_${d}`)}</option>)}
          </select>
        </label>
        {form.role === "steward" && (
          <fieldset class="chips">
            {grids.data?.map((g) => (
              <label key={g.id} class="check">
                <input type="checkbox" checked={form.grid_ids.includes(g.id)}
                  onChange={(e) => set("grid_ids", (e.target as HTMLInputElement).checked ? [...form.grid_ids, g.id] : form.grid_ids.filter((x) => x !== g.id))} />
                {g.name}
              </label>
            ))}
          </fieldset>
        )}
        <label>{t("password")}<input name="staff_password" type="password" required value={form.password} onInput={(e) => set("password", (e.target as HTMLInputElement).value)} /></label>
        <ErrorLine error={formError} />
        <button class="primary" type="submit">{t("c_create_staff")}</button>
      </form>
    </div>
  );
}

const SLA_FIELDS = ["contact_minutes", "update_minutes", "resolve_minutes", "callback_minutes"];

function SlaPolicy() {
  const me = useSignal(staff) as any;
  const estates = useApi<any[]>("/api/estates");
  const [estate, setEstate] = useState<string>(me?.estate_id ?? "");
  const chosen = estate || estates.data?.[0]?.id || "";
  const { data, error, reload } = useApi<any[]>(chosen ? `/api/estates/${chosen}/sla-policy` : null);
  const [edits, setEdits] = useState<Record<string, Record<string, string>>>({});
  const [saveError, setSaveError] = useState<string | null>(null);

  async function save(kind: string, row: any) {
    const e = edits[kind] ?? {};
    const body: Record<string, unknown> = { kind };
    for (const f of SLA_FIELDS) {
      const v = e[f] ?? (row[f] === null ? "" : String(row[f]));
      body[f] = v.trim() === "" ? null : Number(v);
    }
    try {
      await send("PUT", `/api/estates/${chosen}/sla-policy`, body);
      setEdits((all) => ({ ...all, [kind]: {} }));
      say(t("c_saved"));
      reload();
    } catch (err) {
      setSaveError((err as Error).message);
    }
  }

  return (
    <div class="card">
      <div class="row">
        <h3 class="grow">{t("c_tab_sla")}</h3>
        {(estates.data?.length ?? 0) > 1 && (
          <select value={chosen} onChange={(e) => setEstate((e.target as HTMLSelectElement).value)}>
            {estates.data!.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          </select>
        )}
      </div>
      <p class="small">{t("c_sla_hint")}</p>
      <ErrorLine error={error || saveError} />
      {!data ? <Loading /> : (
        <table class="grid-table" data-test="sla-table">
          <thead><tr><th>{t("c_kind")}</th>{SLA_FIELDS.map((f) => <th key={f}>{t(`sla_${f}`)}</th>)}<th /></tr></thead>
          <tbody>
            {data.filter((r) => KINDS.includes(r.kind)).map((row) => (
              <tr key={row.kind} data-kind={row.kind}>
                <td>{t(row.kind)}</td>
                {SLA_FIELDS.map((f) => (
                  <td key={f}>
                    <input class="num" name={`${row.kind}.${f}`} inputMode="numeric"
                      value={edits[row.kind]?.[f] ?? (row[f] === null ? "" : String(row[f]))}
                      onInput={(e) => setEdits((all) => ({ ...all, [row.kind]: { ...all[row.kind], [f]: (e.target as HTMLInputElement).value } }))} />
                  </td>
                ))}
                <td><button data-action="save-sla" onClick={() => save(row.kind, row)}>{t("save")}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

// 报事海报: print a grid's poster; when one leaked or was defaced, give the grid a new QR (every poster
// printed before then stops working, so print and hang the new one).
function Posters() {
  const grids = useApi<any[]>("/api/grids");
  const [poster, setPoster] = useState<{ grid: string; html: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function show(g: any) {
    setError(null);
    try {
      const res = await fetchAuthed(`/api/grids/${g.id}/poster`);
      setPoster({ grid: g.name, html: await res.text() });
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function rotate(g: any) {
    if (!confirm(`${g.name} · ${t("c_poster_rotate_confirm")}`)) return;
    setError(null);
    try {
      await send("POST", `/api/grids/${g.id}/poster/rotate`, undefined);
      say(t("c_poster_rotated"));
      await show(g);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  function print() {
    document.querySelector<HTMLIFrameElement>("iframe.poster-frame")?.contentWindow?.print();
  }

  return (
    <div class="two">
      <div class="card">
        <h3>{t("c_tab_posters")}</h3>
        <p class="small">{t("c_poster_hint")}</p>
        <ErrorLine error={error ?? grids.error} />
        {!grids.data ? <Loading /> : (
          <table class="grid-table" data-test="poster-table">
            <tbody>
              {grids.data.map((g) => (
                <tr key={g.id}>
                  <td class="grow">{g.name}</td>
                  <td><button class="link" data-action="show-poster" onClick={() => show(g)}>{t("c_poster_show")}</button></td>
                  <td><button class="link" data-action="rotate-poster" onClick={() => rotate(g)}>{t("c_poster_rotate")}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {poster && (
        <div class="card label-preview">
          <div class="row">
            <h3 class="grow">{t("c_tab_posters")} · {poster.grid}</h3>
            <button type="button" class="primary small-btn" onClick={print}>{t("c_print")}</button>
            <button type="button" class="small-btn" onClick={() => setPoster(null)}>{t("c_close")}</button>
          </div>
          <iframe class="label-frame poster-frame" srcDoc={poster.html} title={t("c_tab_posters")} />
        </div>
      )}
    </div>
  );
}

// 分派规则: per category a staffed department queue or one handler; what it routes to now, with the
// warning when nobody can take it (server/orders/routing.py).
function Routing() {
  const { data, error, reload } = useApi<any>("/api/routing/");
  const [saveError, setSaveError] = useState<string | null>(null);

  async function save(category: string, value: string) {
    const body = value.startsWith("dept:") ? { department: value.slice(5) } : value ? { handler_id: value } : {};
    setSaveError(null);
    try {
      await send("PUT", `/api/routing/${category}`, body);
      say(t("c_saved"));
      reload();
    } catch (err) {
      setSaveError((err as Error).message);
    }
  }

  return (
    <div class="card">
      <h3>{t("c_tab_routing")}</h3>
      <p class="small">{t("c_routing_hint")}</p>
      <ErrorLine error={error || saveError} />
      {!data ? <Loading /> : (
        <table class="grid-table" data-test="routing-table">
          <thead><tr><th>{t("c_category")}</th><th>{t("c_handler")}</th><th>{t("c_routing_now")}</th></tr></thead>
          <tbody>
            {data.rules.map((r: any) => {
              const value = r.handler_id ?? (r.department ? `dept:${r.department}` : "");
              return (
                <tr key={r.category} data-category={r.category}>
                  <td>{t(`cat_${r.category}`)}</td>
                  <td>
                    <select name={`route.${r.category}`} value={value} onChange={(e) => save(r.category, (e.target as HTMLSelectElement).value)}>
                      <option value="">{t("c_routing_default")} · {t(`dept_${r.default_department}`)}</option>
                      {data.queues.map((q: any) => (
                        <option key={q.department} value={`dept:${q.department}`}>{t("c_routing_to_queue")} · {t(`dept_${q.department}`)}（{q.members}）</option>
                      ))}
                      {data.handlers.filter((h: any) => h.role !== "technician").map((h: any) => (
                        <option key={h.id} value={h.id}>{h.name} · {t(`role_${h.role}`)}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {r.route.assignee_name || `${t("c_queue")} · ${t(`dept_${r.route.department}`)}`}
                    {r.route.warning && <p class="warn-text small" data-test="routing-warning">⚠ {r.route.warning}</p>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
