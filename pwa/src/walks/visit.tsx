// A checkpoint's checklist: each item OK / not OK; a failed item needs a note or a photo and, unless
// unticked, is also recorded as a finding of this walk (its note and photos, the checkpoint's place),
// ready for 一键转工单 without typing it again. 全部正常 answers every item not marked 异常.
import { useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { db } from "../db";
import { t } from "../i18n";
import { useSignal } from "../state";
import { useLive } from "../ui/live";
import { time } from "../ui/order";
import { fill } from "./i18n";
import { Back, PhotoField } from "./parts";
import { addFinding, type Answer, visitCheckpoint, visitProblem, walkVisits } from "./store";

export function Visit({ walkId, checkpointId, method }: { walkId: string; checkpointId: string; method: "scan" | "manual" }) {
  const data = useLive(async () => ({
    cp: await db.checkpoints.get(checkpointId),
    before: (await walkVisits(walkId)).filter((v) => v.checkpoint_id === checkpointId),
  }), [walkId, checkpointId]);
  const [answers, setAnswers] = useState<Answer[] | null>(null);
  const [tried, setTried] = useState(false);
  const [noFinding, setNoFinding] = useState<Set<string>>(new Set());
  const me = useSignal(staff)! as any;
  if (!data) return null;
  const { cp, before } = data;
  if (!cp) return <section><Back href={`#/walks/${walkId}`} /><p class="empty">—</p></section>;
  const list: Answer[] = answers ?? (cp.checklist ?? []).map((i: { key: string; label: string }) => ({
    item: i.key, label: i.label, ok: null, note: "", photos: [],
  }));
  const set = (i: number, patch: Partial<Answer>) => setAnswers(list.map((a, j) => (j === i ? { ...a, ...patch } : a)));
  const problem = visitProblem(list);

  async function save() {
    setTried(true);
    if (problem) return say(t(problem));
    const failed = list.filter((a) => a.ok === false && !noFinding.has(a.item));
    const ok = await guard(async () => {
      await visitCheckpoint(walkId, cp!, method, list);
      for (const a of failed) {
        await addFinding(me, {
          walkId, gridId: cp!.grid_id, category: cp!.checklist_type === "renovation" ? "renovation" : "facilities",
          note: `${cp!.name} · ${a.label}${a.note.trim() ? "：" + a.note.trim() : ""}`, photos: a.photos,
          location: { text: String(cp!.location || cp!.name).slice(0, 100) },
        });
      }
      return true;
    });
    if (ok) {
      say(failed.length ? fill(t("visit_saved_findings"), { n: failed.length }) : t("visit_saved"));
      go(`#/walks/${walkId}`);
    }
  }

  return (
    <section class="visit">
      <Back href={`#/walks/${walkId}/scan`} />
      <div class="card">
        <div class="row">
          <span class={`kind ${cp.checklist_type === "renovation" ? "k-complaint" : ""}`}>
            {t(cp.checklist_type === "renovation" ? "renovation_patrol" : "standard")}
          </span>
          <strong class="grow">{cp.name}</strong>
          <span class="small">{t(method === "scan" ? "by_scan" : "manual")}</span>
        </div>
        <p class="small">{cp.location} · {cp.route_name} · {cp.code}</p>
        {before.map((v) => <p key={v.id} class="small">{t("visited_at")} {time(v.visited_at)}{v.failed_count ? ` · ${v.failed_count} ${t("failed_items")}` : ""}</p>)}
      </div>
      <div class="row">
        <h3 class="grow">{t("checklist")}</h3>
        <button type="button" data-action="all-ok" onClick={() => setAnswers(list.map((a) => (a.ok === false ? a : { ...a, ok: true })))}>
          ✓ {t("all_ok")}
        </button>
      </div>
      <ol class="checklist">
        {list.map((a, i) => {
          const missing = tried && (a.ok === null || (a.ok === false && !a.note.trim() && !a.photos.length));
          return (
            <li key={a.item} class={`card item ${a.ok === false ? "bad" : a.ok ? "good" : ""} ${missing ? "missing" : ""}`} data-item={a.item}>
              <p class="label">{a.label}</p>
              <div class="seg">
                <button type="button" class={a.ok === true ? "on ok" : ""} data-answer="ok" onClick={() => set(i, { ok: true })}>✓ {t("ok")}</button>
                <button type="button" class={a.ok === false ? "on nok" : ""} data-answer="not_ok" onClick={() => set(i, { ok: false })}>✗ {t("not_ok")}</button>
              </div>
              {a.ok === false && (
                <div>
                  <textarea name={`note-${a.item}`} rows={2} maxLength={500} placeholder={t("note")} value={a.note}
                    onInput={(e) => set(i, { note: (e.target as HTMLTextAreaElement).value })} />
                  <PhotoField name={`photo-${a.item}`} photos={a.photos} onChange={(photos) => setAnswers((cur) =>
                    (cur ?? list).map((x, j) => (j === i ? { ...x, photos } : x)))} />
                  {!a.note.trim() && !a.photos.length && <p class="small bad">{t("fail_needs_evidence")}</p>}
                  <label class="tick">
                    <input type="checkbox" name={`finding-${a.item}`} checked={!noFinding.has(a.item)} onChange={(e) => {
                      const next = new Set(noFinding);
                      if ((e.target as HTMLInputElement).checked) next.delete(a.item); else next.add(a.item);
                      setNoFinding(next);
                    }} />
                    {t("also_finding")}
                  </label>
                </div>
              )}
            </li>
          );
        })}
      </ol>
      <button class="primary big" data-action="save-visit" onClick={save}>{t("save_visit")}</button>
    </section>
  );
}
