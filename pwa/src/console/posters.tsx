// 网格海报: each grid's A4 poster ("扫码报事报修", the QR to the owners' report form, the steward's
// and the estate's numbers), rendered by the server (GET /api/grids/{id}/poster), previewed and
// printed from here.
import { useState } from "preact/hooks";
import { extend, t } from "../i18n";
import { fetchAuthed, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

extend({
  zh: { c_posters: "网格海报", c_posters_hint: "张贴在各楼栋大堂：业主扫码即可报事报修，海报上有网格管家和物业服务中心电话。",
    c_show_poster: "预览并打印", c_coverage: "巡查覆盖" },
  en: { c_posters: "Grid posters", c_posters_hint: "Put one up in each lobby: owners scan it to report; it shows the steward's and the service centre's numbers.",
    c_show_poster: "Preview and print", c_coverage: "Walk coverage" },
});

export function Posters() {
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
