// 话术库 · the answer library: standard replies by scene with search, used while answering an
// inquiry. Supervisors and admins edit it; the desk proposes entries and changes, which a supervisor
// approves or rejects with a reason (the server enforces who may, and serves approved entries only).
import { useEffect, useState } from "preact/hooks";
import { say } from "../app";
import { t } from "../i18n";
import { dateTime as when } from "../format";
import "./answers_i18n";
import { fetchAuthed, query, send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

/** The source documents' scenes (server/answers/library.zh-CN.json), in the file's order. */
export const ANSWER_CATEGORIES = [
  "greeting", "fees", "parking", "renovation", "public_area", "repair", "emergency", "complaint", "convenience", "security", "callback",
];
const EDIT_CATEGORIES = [...ANSWER_CATEGORIES, "other"];

export interface Answer { id: string; category: string; question: string; answer: string; keywords: string; estate_id: string | null;
  updated_by_name: string; updated_at: string; active: boolean; starter: boolean; status: string; score?: number | null;
  proposed_by_name: string; replaces_id: string | null; replaces_question: string; reviewed_by_name: string;
  reviewed_at: string | null; review_note: string }

/** A refusal in the reader's language: the server's code when we know it, its message otherwise. */
export function explain(err: unknown): string {
  const code = (err as { code?: string }).code;
  const key = `e_${code}`;
  return code && t(key) !== key ? t(key) : String((err as Error).message ?? err);
}

export function useDebounced(value: string, ms = 200): string {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value]);
  return v;
}

export async function copy(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    say(t("c_copied"));
  } catch {
    say(t("c_copy_failed"));
  }
}

type Editing = { mode: "new" | "edit" | "propose"; answer: Answer | null };

export function Answers({ canEdit }: { canEdit: boolean }) {
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [proposalsShown, setProposalsShown] = useState(0);
  const debounced = useDebounced(q.trim());
  const { data, error, reload } = useApi<Answer[]>(`/api/answers/${query({ q: debounced, category, limit: 200 })}`);
  function done() {
    setEditing(null);
    reload();
    setProposalsShown((n) => n + 1);
  }
  return (
    <div class="answers">
      <div class="row">
        <h2 class="grow">{t("c_answers")}</h2>
        {canEdit ? (
          <button class="primary" data-action="new-answer" onClick={() => setEditing({ mode: "new", answer: null })}>{t("c_new_answer")}</button>
        ) : (
          <button class="primary" data-action="propose-answer" onClick={() => setEditing({ mode: "propose", answer: null })}>{t("c_propose")}</button>
        )}
      </div>
      {editing && <AnswerEditor key={`${editing.mode}:${editing.answer?.id ?? ""}`} editing={editing} onDone={done} />}
      <Proposals key={proposalsShown} reviewer={canEdit} onReviewed={reload} />
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
      <ErrorLine error={error} />
      {!data ? <Loading /> : data.length === 0 ? <p class="empty">{t("c_none")}</p> : (
        <>
          <p class="small" data-test="answer-count" data-count={data.length}>{t("c_answer_count", { n: data.length })}</p>
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
                      <span class="grow">{a.starter ? t("c_starter") : `${a.updated_by_name} · ${when(a.updated_at)}`}</span>
                      <button class="link" onClick={() => copy(a.answer)}>{t("c_copy")}</button>
                      {canEdit ? (
                        <button class="link" data-action="edit-answer" onClick={() => setEditing({ mode: "edit", answer: a })}>{t("c_edit")}</button>
                      ) : (
                        <button class="link" data-action="propose-edit" onClick={() => setEditing({ mode: "propose", answer: a })}>{t("c_propose_edit")}</button>
                      )}
                    </div>
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** Supervisors: the proposals waiting for them. Everyone else: their own, with the outcome. */
function Proposals({ reviewer, onReviewed }: { reviewer: boolean; onReviewed: () => void }) {
  const { data, error, reload } = useApi<Answer[]>(`/api/answers/proposals${reviewer ? "?status=proposed" : ""}`);
  if (error) return <ErrorLine error={error} />;
  if (!data || data.length === 0) return null;
  return (
    <section class="card proposals" data-test={reviewer ? "review-queue" : "my-proposals"}>
      <h3>{reviewer ? t("c_review_queue") : t("c_my_proposals")} · {data.length}</h3>
      <ul class="list">
        {data.map((p) => (
          <li key={p.id} class="proposal" data-proposal={p.question} data-status={p.status}>
            <div class="row">
              <span class="kind">{t(`ans_${p.category}`)}</span>
              <strong class="grow">{p.question}</strong>
              <span class={`status st-${p.status}`}>{t(`ans_status_${p.status}`)}</span>
            </div>
            {p.replaces_question && <p class="small">{t("c_proposal_of")}{p.replaces_question}</p>}
            <p class="pre">{p.answer}</p>
            <p class="small">
              {reviewer ? `${t("c_proposed_by")} ${p.proposed_by_name} · ` : ""}{when(p.updated_at)}
              {p.status === "rejected" && p.review_note && <> · {t("c_review_reason")}：<span data-test="review-note">{p.review_note}</span></>}
            </p>
            {reviewer && p.status === "proposed" && <Review proposal={p} onDone={() => { reload(); onReviewed(); }} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Review({ proposal, onDone }: { proposal: Answer; onDone: () => void }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function act(verb: "approve" | "reject") {
    setError(null);
    try {
      await send("POST", `/api/answers/proposals/${proposal.id}/${verb}`, verb === "reject" ? { reason: reason.trim() } : {});
      say(verb === "approve" ? t("c_approved") : t("c_rejected"));
      onDone();
    } catch (err) {
      setError(explain(err));
    }
  }
  return (
    <div class="review">
      {rejecting ? (
        <form class="row" onSubmit={(e) => { e.preventDefault(); void act("reject"); }}>
          <input class="grow" name="reject_reason" required placeholder={t("c_reject_reason")} value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
          <button class="danger" type="submit" data-action="confirm-reject">{t("c_reject")}</button>
          <button type="button" onClick={() => setRejecting(false)}>{t("cancel")}</button>
        </form>
      ) : (
        <div class="row">
          <button class="primary" data-action="approve" onClick={() => act("approve")}>{t("c_approve")}</button>
          <button data-action="reject" onClick={() => setRejecting(true)}>{t("c_reject")}</button>
        </div>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

function AnswerEditor({ editing, onDone }: { editing: Editing; onDone: () => void }) {
  const { mode, answer } = editing;
  const [category, setCategory] = useState(answer?.category ?? "fees");
  const [question, setQuestion] = useState(answer?.question ?? "");
  const [text, setText] = useState(answer?.answer ?? "");
  const [keywords, setKeywords] = useState(answer?.keywords ?? "");
  const [error, setError] = useState<string | null>(null);

  async function save(e: Event) {
    e.preventDefault();
    const fields = { category, question: question.trim(), answer: text.trim(), keywords: keywords.trim() };
    try {
      if (mode === "propose") {
        await send("POST", "/api/answers/proposals", { ...fields, replaces_id: answer?.id ?? null });
        say(t("c_proposal_sent"));
      } else {
        const body = { ...fields, estate_id: answer?.estate_id ?? null, active: true };
        if (answer) await send("PUT", `/api/answers/${answer.id}`, body);
        else await send("POST", "/api/answers/", body);
        say(t("c_saved"));
      }
      onDone();
    } catch (err) {
      setError(explain(err));
    }
  }
  async function retire() {
    if (!answer || !confirm(t("c_confirm_delete"))) return;
    try {
      await fetchAuthed(`/api/answers/${answer.id}`, { method: "DELETE", headers: { "Wuye-Protocol": "1" } });
      onDone();
    } catch (err) {
      setError(explain(err));
    }
  }
  const title = mode === "propose" ? (answer ? t("c_propose_edit") : t("c_propose")) : answer ? t("c_edit") : t("c_new_answer");
  return (
    <form class="card editor" onSubmit={save} data-test="answer-editor">
      <h3>{title}</h3>
      <div class="row">
        <label>
          {t("c_category")}
          <select name="answer_category" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
            {EDIT_CATEGORIES.map((c) => <option key={c} value={c}>{t(`ans_${c}`)}</option>)}
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
        <button class="primary" type="submit" data-action="save-answer">{mode === "propose" ? t("c_submit_proposal") : t("save")}</button>
        <button type="button" onClick={onDone}>{t("cancel")}</button>
        <span class="grow" />
        {mode === "edit" && answer && !answer.starter && <button type="button" class="danger" onClick={retire}>{t("c_delete")}</button>}
      </div>
    </form>
  );
}

/** The take-a-call screen's suggestions: the approved answers that fit what the desk is typing,
 * best first (server/answers/matching.py); one click copies the answer, or fills the reply. */
export function AnswerSuggestions({ text, onFill }: { text: string; onFill?: (a: Answer) => void }) {
  const typed = useDebounced(text.trim(), 150);
  const { data } = useApi<Answer[]>(typed.length >= 2 ? `/api/answers/suggest${query({ q: typed.slice(0, 500), limit: 4 })}` : null);
  if (typed.length < 2 || !data) return null;
  return (
    <div class="suggestions" data-test="suggestions">
      <h3 class="small">{t("c_suggested")}</h3>
      {data.length === 0 && <p class="small">{t("c_suggest_none")}</p>}
      {data.map((a) => (
        <div key={a.id} class="picked-answer" data-suggestion={a.question}>
          <div class="row">
            <span class="kind">{t(`ans_${a.category}`)}</span>
            <strong class="grow">{a.question}</strong>
          </div>
          <p class="small pre">{a.answer}</p>
          <div class="row">
            <span class="grow" />
            {onFill && <button type="button" class="link" data-action="fill-reply" onClick={() => onFill(a)}>{t("c_fill_reply")}</button>}
            <button type="button" class="link" data-action="copy-answer" onClick={() => copy(a.answer)}>{t("c_copy")}</button>
          </div>
        </div>
      ))}
    </div>
  );
}
