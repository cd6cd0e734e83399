// 网格海报: each grid's A4 poster ("扫码报事报修", the QR to the owners' report form, the steward's
// and the estate's numbers), rendered by the server (GET /api/grids/{id}/poster), previewed and
// printed from here.
import { useState } from "preact/hooks";
import { say, staff } from "../app";
import { extend, t } from "../i18n";
import { useSignal } from "../state";
import { fetchAuthed, send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

extend({
  zh: { c_posters: "网格海报", c_posters_hint: "张贴在各楼栋大堂：业主扫码即可报事报修，海报上有网格管家和物业服务中心电话。",
    c_show_poster: "预览并打印", c_coverage: "巡查覆盖", c_hotline: "物业服务中心电话",
    c_hotline_hint: "印在海报上，业主联系不上管家时拨打", c_hotline_bad: "请填写电话号码（数字、空格、短横线，可加“转”分机号）" },
  en: { c_posters: "Grid posters", c_posters_hint: "Put one up in each lobby: owners scan it to report; it shows the steward's and the service centre's numbers.",
    c_show_poster: "Preview and print", c_coverage: "Walk coverage", c_hotline: "Service centre phone",
    c_hotline_hint: "Printed on the posters, for owners who cannot reach their steward",
    c_hotline_bad: "Enter a phone number (digits, spaces, dashes, optionally 转 and an extension)" },
});

/** Supervisors and admins keep the estate's hotline here, where it is printed. */
function Hotlines({ onSaved }: { onSaved: () => void }) {
  const { data: estates, reload } = useApi<{ id: string; name: string; hotline: string }[]>("/api/estates");
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  async function save(id: string) {
    setError(null);
    try {
      await send("PUT", `/api/estates/${id}/settings`, { hotline: (draft[id] ?? "").trim() });
      say(t("c_saved"));
      reload();
      onSaved();
    } catch (e) {
      setError((e as { status?: number }).status === 400 ? t("c_hotline_bad") : (e as Error).message);
    }
  }
  return (
    <div class="card hotlines">
      {(estates ?? []).map((e) => (
        <label key={e.id} class="row" data-estate={e.id}>
          <span class="grow">{e.name} · {t("c_hotline")}<br /><span class="small">{t("c_hotline_hint")}</span></span>
          <input name="hotline" inputMode="tel" maxLength={30} value={draft[e.id] ?? e.hotline}
            onInput={(ev) => setDraft({ ...draft, [e.id]: (ev.target as HTMLInputElement).value })} />
          <button type="button" data-action="save-hotline" onClick={() => save(e.id)}>{t("save")}</button>
        </label>
      ))}
      <ErrorLine error={error} />
    </div>
  );
}

export function Posters() {
  const me = useSignal(staff);
  const { data: grids, error } = useApi<{ id: string; name: string; households: number }[]>("/api/grids");
  const [shown, setShown] = useState<{ id: string; html: string } | null>(null);
  const [failed, setFailed] = useState<string | null>(null);

  async function open(id: string) {
    setFailed(null);
    try {
      setShown({ id, html: await (await fetchAuthed(`/api/grids/${id}/poster`)).text() });
    } catch (e) {
      setFailed((e as Error).message);
    }
  }

  return (
    <div class="posters">
      <h2>{t("c_posters")}</h2>
      <p class="small">{t("c_posters_hint")}</p>
      {me && ["supervisor", "admin"].includes(me.role) && <Hotlines onSaved={() => shown && void open(shown.id)} />}
      <ErrorLine error={error ?? failed} />
      {!grids && !error && <Loading />}
      <ul class="list">
        {(grids ?? []).map((g) => (
          <li key={g.id} class="card row" data-grid={g.id}>
            <strong class="grow">{g.name}</strong>
            <span class="small">{g.households} {t("c_households")}</span>
            <button type="button" class="primary" data-action="poster" onClick={() => open(g.id)}>{t("c_show_poster")}</button>
          </li>
        ))}
      </ul>
      {shown && (
        <div class="slip-preview" key={shown.id}>
          <iframe class="poster-frame" srcDoc={shown.html} title={t("c_posters")} />
          <div class="row">
            <button type="button" class="primary" data-action="print-poster"
              onClick={() => document.querySelector<HTMLIFrameElement>("iframe.poster-frame")?.contentWindow?.print()}>
              {t("c_print")}
            </button>
            <button type="button" onClick={() => setShown(null)}>{t("c_close")}</button>
          </div>
        </div>
      )}
    </div>
  );
}
