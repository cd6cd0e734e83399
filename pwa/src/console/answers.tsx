// 话术库 · the answer library: standard replies by category with search, used while answering an
// inquiry; supervisors and admins edit it (the server enforces who may).
import { useEffect, useState } from "preact/hooks";
import { say } from "../app";
import { t } from "../i18n";
import { fetchAuthed, query, send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

export const ANSWER_CATEGORIES = [
  "greeting", "fees", "parking", "renovation", "outage", "pets", "noise", "parcels", "access_cards", "repair", "security", "other",
];

interface Answer { id: string; category: string; question: string; answer: string; keywords: string; estate_id: string | null;
  updated_by_name: string; updated_at: string; active: boolean; starter: boolean }

function useDebounced(value: string, ms = 200): string {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value]);
  return v;
}

async function copy(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    say(t("c_copied"));
  } catch {
    say(t("c_copy_failed"));
  }
}

export function Answers({ canEdit }: { canEdit: boolean }) {
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<Answer | "new" | null>(null);
  const debounced = useDebounced(q.trim());
  const { data, error, reload } = useApi<Answer[]>(`/api/answers/${query({ q: debounced, category, limit: 200 })}`);
  return (
    <div class="answers">
      <div class="row">
        <h2 class="grow">{t("c_answers")}</h2>
        {canEdit && <button class="primary" data-action="new-answer" onClick={() => setEditing("new")}>{t("c_new_answer")}</button>}
      </div>
      <div class="row">
        <input class="grow" type="search" name="answer_q" placeholder={t("c_answer_search")} value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </div>
      <div class="chips cats">
        <button class={`chip ${category === "" ? "on" : ""}`} onClick={() => setCategory("")}>{t("c_all")}</button>
        {ANSWER_CATEGORIES.map((c) => (
          <button key={c} class={`chip ${category === c ? "on" : ""}`} data-category={c} onClick={() => setCategory(c)}>{t(`ans_${c}`)}</button>
        ))}
      </div>
      {editing && <AnswerEditor answer={editing === "new" ? null : editing} onDone={() => { setEditing(null); reload(); }} />}
      <ErrorLine error={error} />
      {!data ? <Loading /> : data.length === 0 ? <p class="empty">{t("c_none")}</p> : (
        <ul class="list answer-list">
          {data.map((a) => (
            <li key={a.id} class="card answer" data-answer={a.question}>
              <div class="row" onClick={() => setOpen(open === a.id ? null : a.id)}>
                <span class="kind">{t(`ans_${a.category}`)}</span>
                <strong class="grow">{a.question}</strong>
                {!a.active && <span class="small">{t("c_inactive")}</span>}
              </div>
              {(open === a.id || debounced) && (
                <>
                  <p class="pre">{a.answer}</p>
                  <div class="row small">
                    <span class="grow">{a.starter ? t("c_starter") : `${a.updated_by_name} · ${a.updated_at.slice(0, 10)}`}</span>
                    <button class="link" onClick={() => copy(a.answer)}>{t("c_copy")}</button>
                    {canEdit && <button class="link" data-action="edit-answer" onClick={() => setEditing(a)}>{t("c_edit")}</button>}
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function AnswerEditor({ answer, onDone }: { answer: Answer | null; onDone: () => void }) {
  const [category, setCategory] = useState(answer?.category ?? "fees");
  const [question, setQuestion] = useState(answer?.question ?? "");
  const [text, setText] = useState(answer?.answer ?? "");
  const [keywords, setKeywords] = useState(answer?.keywords ?? "");
  const [error, setError] = useState<string | null>(null);

  async function save(e: Event) {
    e.preventDefault();
    const body = { category, question: question.trim(), answer: text.trim(), keywords: keywords.trim(), estate_id: answer?.estate_id ?? null, active: true };
    try {
      if (answer) await send("PUT", `/api/answers/${answer.id}`, body);
      else await send("POST", "/api/answers/", body);
      say(t("c_saved"));
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function retire() {
    if (!answer || !confirm(t("c_confirm_delete"))) return;
    try {
      await fetchAuthed(`/api/answers/${answer.id}`, { method: "DELETE", headers: { "Wuye-Protocol": "1" } });
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form class="card editor" onSubmit={save}>
      <h3>{answer ? t("c_edit") : t("c_new_answer")}</h3>
      <div class="row">
        <label>
          {t("c_category")}
          <select name="answer_category" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
            {ANSWER_CATEGORIES.map((c) => <option key={c} value={c}>{t(`ans_${c}`)}</option>)}
          </select>
        </label>
        <label class="grow">
          {t("c_question")}
          <input name="question" required value={question} onInput={(e) => setQuestion((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <label>
        {t("c_reply")}
        <textarea name="answer" rows={4} required value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      <label>
        {t("c_keywords")}
        <input name="keywords" value={keywords} onInput={(e) => setKeywords((e.target as HTMLInputElement).value)} />
      </label>
      <ErrorLine error={error} />
      <div class="row">
        <button class="primary" type="submit" data-action="save-answer">{t("save")}</button>
        <button type="button" onClick={onDone}>{t("cancel")}</button>
        <span class="grow" />
        {answer && !answer.starter && <button type="button" class="danger" onClick={retire}>{t("c_delete")}</button>}
      </div>
    </form>
  );
}

/** The compact library next to the new-order form when the call is an inquiry. */
export function AnswerPicker({ onPick }: { onPick: (a: Answer) => void }) {
  const [q, setQ] = useState("");
  const debounced = useDebounced(q.trim());
  const { data } = useApi<Answer[]>(debounced ? `/api/answers/${query({ q: debounced, limit: 5 })}` : null);
  return (
    <div class="picker">
      <input type="search" name="picker_q" placeholder={t("c_answer_search")} value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      {debounced && data?.map((a) => (
        <div key={a.id} class="picked-answer">
          <div class="row">
            <strong class="grow">{a.question}</strong>
            <button type="button" class="link" onClick={() => { onPick(a); void copy(a.answer); }}>{t("c_use")}</button>
          </div>
          <p class="small pre">{a.answer}</p>
        </div>
      ))}
    </div>
  );
}
