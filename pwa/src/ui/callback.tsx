// 回访 · the callback flow, shared by the phone (offline, through the outbox) and the desk console
// (online): the result form, the 待回访 worklist rules, and the timeline line of one callback.
import { useState } from "preact/hooks";
import { dateTime } from "../format";
import { extend, t } from "../i18n";
import { OPEN } from "../orders";

extend({
  zh: {
    cb_title: "回访结果", cb_reached_satisfied: "已联系·满意", cb_reached_unsatisfied: "已联系·不满意", cb_unreachable: "未联系上",
    cb_pick: "请选择回访结果", cb_note: "回访记录（业主怎么说）", cb_retry: "再次回访时间", cb_retry_pick: "请选择再次回访时间",
    cb_in_1h: "1小时后", cb_tonight: "今晚", cb_tomorrow: "明天上午", cb_save: "保存回访结果", cb_saved: "回访已记录",
    cb_rework_hint: "将生成返修工单，派给原处理人。", cb_retry_at: "再次回访 {at}", cb_due_list: "待回访", cb_none: "暂无待回访",
    cb_overdue: "已逾期", cb_due_at: "回访时限 {at}", cb_retry_line: "未联系上，{at} 再次回访",
    rework_opened: "已生成返修工单 {number}", rework_of_line: "返修原工单 {number}", cb_pending: "待上传",
  },
  en: {
    cb_title: "Callback result", cb_reached_satisfied: "Reached · satisfied", cb_reached_unsatisfied: "Reached · unsatisfied", cb_unreachable: "Unreachable",
    cb_pick: "Choose the result of the call", cb_note: "Notes (what the owner said)", cb_retry: "Call again at", cb_retry_pick: "Choose when to call again",
    cb_in_1h: "In 1 hour", cb_tonight: "Tonight", cb_tomorrow: "Tomorrow morning", cb_save: "Save callback", cb_saved: "Callback recorded",
    cb_rework_hint: "A re-repair order goes to whoever did the repair.", cb_retry_at: "Call again {at}", cb_due_list: "Callbacks due", cb_none: "No callbacks due",
    cb_overdue: "Overdue", cb_due_at: "Call back by {at}", cb_retry_line: "Unreachable, call again {at}",
    rework_opened: "Re-repair order {number} opened", rework_of_line: "Re-repair of order {number}", cb_pending: "Waiting to upload",
  },
});

export const RESULTS = ["reached_satisfied", "reached_unsatisfied", "unreachable"] as const;
const DAY = 86_400_000;
const CHINA = 8 * 3_600_000; // Asia/Shanghai has no daylight saving

/** Quick retry times: in an hour, tonight 20:00 (while it is still ahead) and tomorrow 09:00, China time. */
export function retryChoices(now: number): { key: string; at: Date }[] {
  const midnight = Math.floor((now + CHINA) / DAY) * DAY - CHINA;
  const out = [{ key: "cb_in_1h", at: new Date(now + 3_600_000) }];
  const tonight = midnight + 20 * 3_600_000;
  if (tonight - now > 1.5 * 3_600_000) out.push({ key: "cb_tonight", at: new Date(tonight) });
  out.push({ key: "cb_tomorrow", at: new Date(midnight + DAY + 9 * 3_600_000) });
  return out;
}

export interface CallbackResult { result: string; note: string; retry_at?: string }

/** Nothing is chosen at first: a callback result is what the owner said, never a default. */
export function CallbackForm({ onSave, busy = false }: { onSave: (r: CallbackResult) => unknown; busy?: boolean }) {
  const [result, setResult] = useState("");
  const [note, setNote] = useState("");
  const [retry, setRetry] = useState<Date | null>(null);
  const [picker, setPicker] = useState("");
  const [tried, setTried] = useState(false);
  const needsRetry = result === "unreachable";
  const missing = !result ? t("cb_pick") : needsRetry && !retry ? t("cb_retry_pick") : "";
  return (
    <form class="card callback-form" data-test="callback-form" onSubmit={(e) => {
      e.preventDefault();
      setTried(true);
      if (missing) return;
      void onSave({ result, note: note.trim(), ...(needsRetry && retry ? { retry_at: retry.toISOString() } : {}) });
    }}>
      <h3>{t("cb_title")}</h3>
      <div class="seg" role="radiogroup" aria-label={t("cb_title")}>
        {RESULTS.map((r) => (
          <button type="button" key={r} role="radio" aria-checked={result === r} class={result === r ? "on" : ""} data-result={r}
            onClick={() => setResult(r)}>{t(`cb_${r}`)}</button>
        ))}
      </div>
      {result === "reached_unsatisfied" && <p class="small warn-text">{t("cb_rework_hint")}</p>}
      {needsRetry && (
        <div class="retry" data-test="callback-retry">
          <p class="label">{t("cb_retry")}{retry && <b data-test="retry-chosen"> · {dateTime(retry)}</b>}</p>
          <div class="chips">
            {retryChoices(Date.now()).map((c) => (
              <button type="button" key={c.key} class={`chip ${retry?.getTime() === c.at.getTime() ? "on" : ""}`} data-retry={c.key}
                onClick={() => { setRetry(c.at); setPicker(""); }}>{t(c.key)}</button>
            ))}
          </div>
          <input type="datetime-local" name="retry_at" aria-label={t("cb_retry")} value={picker}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              setPicker(v);
              setRetry(v ? new Date(v) : null);
            }} />
        </div>
      )}
      <textarea name="callback_note" rows={2} placeholder={t("cb_note")} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
      {tried && missing && <p class="warn-text" role="alert" data-test="callback-missing">{missing}</p>}
      <button class="primary" type="submit" disabled={busy || !result} data-action="save-callback">{t("cb_save")}</button>
    </form>
  );
}

const CALLBACK_KINDS = ["repair", "complaint", "emergency"];

/** Whether an order is waiting for its 回访: an open callback order, or a completed repair /
 * complaint whose 48 h callback is still to be made (and that has no open callback order of its own). */
export function callbackDue(o: any, all: any[] = []): boolean {
  if (o.kind === "callback") return OPEN.includes(o.status);
  if (!["completed", "rated"].includes(o.status) || !o.callback_due_at) return false;
  return CALLBACK_KINDS.includes(o.kind) && !all.some((f) => f.follow_up_of_id === o.id && f.kind === "callback" && OPEN.includes(f.status));
}

/** When it is due: the retry time of a 未联系上, else the callback deadline, else the order's own. */
export function callbackDueAt(o: any): string | null {
  return o.callback_retry_at || o.callback_due_at || o.due_at || null;
}

export function byCallbackDue(a: any, b: any): number {
  return (callbackDueAt(a) ?? "9999").localeCompare(callbackDueAt(b) ?? "9999") || String(a.number).localeCompare(String(b.number));
}

/** One line per callback (the event carries result, note and retry time; its record is not shown again). */
export function callbackLine(e: any): string {
  const d = e.data ?? {};
  const who = e.actor_name ? ` · ${e.actor_name}` : "";
  const retry = d.result === "unreachable" && d.retry_at ? `，${t("cb_retry_at", { at: dateTime(d.retry_at) })}` : "";
  return d.result ? `${t("callback")}：${t(`cb_${d.result}`)}${retry}${who}` : `${t("callback")}${who}`;
}

/** The 返修 link, on the first order ("已生成返修工单 …") and on the 返修 itself ("返修原工单 …"). */
export function reworkLine(e: any): string {
  const d = e.data ?? {};
  return d.rework_id === e.order_id ? t("rework_of_line", { number: d.rework_of_number }) : t("rework_opened", { number: d.rework_number });
}
