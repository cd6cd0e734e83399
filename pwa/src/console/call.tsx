// 客服前台 · take a call: find the household (address, name, phone, fuzzy), see its history, create
// an order of any kind, dispatch it, then print the slip or send the QR progress link. As the problem
// is typed, the matching standard answers appear; the call is a draft (drafts.ts) until it is saved
// or discarded, so a look at 话术库 mid-call loses nothing.
import { useEffect, useRef, useState } from "preact/hooks";
import { guard, say, staff } from "../app";
import { clearDraft, loadDraft, saveDraft } from "../drafts";
import { t } from "../i18n";
import { AnswerSuggestions } from "./answers";
import { get, query, send, useApi } from "./net";
import { SlipPanel } from "./slip";
import { CATEGORIES, ErrorLine, KINDS, KindChip, when } from "./widgets";

interface Found {
  id: string; label: string; owner_name: string; owner_phone: string; grid_name: string; matched_by: string;
  open_orders: number; recent_complaints: number; repeat: boolean;
}

const DEFAULT_CATEGORY: Record<string, string> = {
  repair: "water_electric", complaint: "noise", inquiry: "fees", convenience: "other", emergency: "water_electric", callback: "other",
};

interface FormDraft {
  household: string; kind: string; category: string; description: string; urgent: boolean; reporter: string; phone: string;
  location: string; assignee: string; note: string; reply: string;
}
interface CallDraft { q: string; picked: Found | null; form: FormDraft | null }

export function TakeCall() {
  const me = staff.get()!;
  const [restored] = useState(() => loadDraft<CallDraft>(me.id));
  const [q, setQ] = useState(restored?.q ?? "");
  const [found, setFound] = useState<Found[] | null>(null);
  const [picked, setPicked] = useState<Found | null>(restored?.picked ?? null);
  const [created, setCreated] = useState<any>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const form = useRef<FormDraft | null>(restored?.form ?? null);
  const box = useRef<HTMLInputElement>(null);

  useEffect(() => {
    box.current?.focus();
    if (restored && (restored.picked || restored.form?.description)) say(t("c_draft_kept"));
  }, []);
  // Whatever the desk has started is kept, keyed to her; a saved order ends the draft.
  const keep = () => {
    if (created) return;
    if (q.trim() || picked || form.current) saveDraft(me.id, { q, picked, form: form.current } satisfies CallDraft);
    else clearDraft(me.id);
  };
  useEffect(keep, [q, picked, created]);
  useEffect(() => {
    const text = q.trim();
    if (!text) return setFound(null);
    let alive = true;
    const timer = setTimeout(() => {
      get<Found[]>(`/api/desk/households${query({ q: text, limit: 12 })}`).then(
        (rows) => alive && (setFound(rows), setError(null)),
        (e) => alive && setError(e.message),
      );
    }, 200);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [q]);

  function next() {
    clearDraft(me.id);
    form.current = null;
    setCreated(null);
    setPicked(null);
    setQ("");
    setFound(null);
    setGeneration((n) => n + 1);
    setTimeout(() => box.current?.focus(), 0);
  }
  function discard() {
    if (confirm(t("c_confirm_discard"))) next();
  }
  function onCreated(order: any) {
    clearDraft(me.id);
    form.current = null;
    setCreated(order);
  }
  const started = !created && (q.trim() !== "" || picked !== null);

  return (
    <div class="call">
      <div class="col find">
        <div class="row">
          <h2 class="grow">{t("c_take_call")}</h2>
          {started && <button class="link danger" data-action="discard-draft" onClick={discard}>{t("c_discard_draft")}</button>}
        </div>
        <input ref={box} name="q" type="search" placeholder={t("c_find_hint")} value={q} autoComplete="off"
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === "Enter" && found?.[0] && setPicked(found[0])} />
        <ErrorLine error={error} />
        {found && found.length === 0 && <p class="empty">{t("c_no_household")}</p>}
        <ul class="list results">
          {found?.map((h) => (
            <li key={h.id}>
              <button class={`result ${picked?.id === h.id ? "on" : ""}`} data-household={h.label} onClick={() => setPicked(h)}>
                <span class="row">
                  <strong>{h.label}</strong>
                  <span class="small">{h.grid_name}</span>
                  {h.repeat && <span class="flag repeat">{t("c_repeat")}</span>}
                </span>
                <span class="row small">
                  <span>{h.owner_name}</span>
                  <span>{h.owner_phone}</span>
                  <span class="grow" />
                  {h.open_orders > 0 && <span>{t("c_open_n")} {h.open_orders}</span>}
                  {h.recent_complaints > 0 && <span class="warn-text">{t("c_complaints_n")} {h.recent_complaints}</span>}
                </span>
              </button>
            </li>
          ))}
        </ul>
        <p class="small">{t("c_no_household_hint")}</p>
        <button class="link" onClick={() => setPicked({ id: "", label: "", owner_name: "", owner_phone: "", grid_name: "", matched_by: "", open_orders: 0, recent_complaints: 0, repeat: false })}>
          {t("c_public_area")}
        </button>
      </div>
      <div class="col history">{picked?.id ? <History key={`${picked.id}:${created?.id ?? ""}`} householdId={picked.id} /> : <p class="empty">{t("c_pick_household")}</p>}</div>
      <div class="col form">
        {created ? (
          <Created order={created} onNext={next} />
        ) : picked ? (
          <NewOrderForm key={`${picked.id || "public"}:${generation}`} household={picked} onCreated={onCreated}
            draft={form.current?.household === (picked.id || "public") ? form.current : null}
            onDraft={(d) => { form.current = d; keep(); }} />
        ) : (
          <p class="empty">{t("c_pick_household")}</p>
        )}
      </div>
    </div>
  );
}

function History({ householdId }: { householdId: string }) {
  const { data, error } = useApi<any>(`/api/households/${householdId}/history`);
  if (error) return <ErrorLine error={error} />;
  if (!data) return null;
  const h = data.household;
  const complaints = data.recent_orders.filter((o: any) => o.kind === "complaint");
  return (
    <div class="household" data-test="history">
      <h2>{h.label}</h2>
      <p class="row small">
        <span>{t("c_owner")} {h.owner_name}</span>
        <a href={`tel:${h.owner_phone}`}>{h.owner_phone}</a>
      </p>
      <div class="row stats">
        <span>{t("c_open_n")} <b>{data.counts.open}</b></span>
        <span>{t("c_recent_n")} <b>{data.counts.recent}</b></span>
        <span>{t("c_complaints_n")} <b>{data.counts.complaints}</b></span>
        {data.counts.repeat_complaints > 0 && <span class="flag repeat">{t("c_repeat")} {data.counts.repeat_complaints}</span>}
      </div>
      <h3>{t("c_open_orders")}</h3>
      <OrderRows rows={data.open_orders} empty={t("c_none")} />
      <h3>{t("c_recent_complaints")}</h3>
      <OrderRows rows={complaints} empty={t("c_none")} />
      <h3>{t("c_recent_orders")}</h3>
      <OrderRows rows={data.recent_orders.filter((o: any) => o.kind !== "complaint" && !data.open_orders.some((x: any) => x.id === o.id))} empty={t("c_none")} />
    </div>
  );
}

export function OrderRows({ rows, empty }: { rows: any[]; empty: string }) {
  if (!rows.length) return <p class="small">{empty}</p>;
  return (
    <ul class="list rows">
      {rows.map((o) => (
        <li key={o.id}>
          <a href={`#/desk/orders/${o.id}`} class={`orow sla-${o.sla ?? "none"}`} data-order={o.number}>
            <KindChip kind={o.kind} />
            <span class="grow ellipsis">{o.description}</span>
            {o.repeat && <span class="flag repeat">{t("c_repeat")}</span>}
            {o.rating && <span class="small">{t(`rating_${o.rating}`)}</span>}
            <span class="small">{when(o.created_at)}</span>
            <span class="status">{t(o.status)}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

function NewOrderForm({ household, onCreated, draft, onDraft }: {
  household: Found; onCreated: (o: any) => void; draft: FormDraft | null; onDraft: (d: FormDraft) => void;
}) {
  const [kind, setKind] = useState(draft?.kind ?? "repair");
  const [category, setCategory] = useState(draft?.category ?? DEFAULT_CATEGORY.repair);
  const [description, setDescription] = useState(draft?.description ?? "");
  const [urgent, setUrgent] = useState(draft?.urgent ?? false);
  const [reporter, setReporter] = useState(draft?.reporter ?? household.owner_name);
  const [phone, setPhone] = useState(draft?.phone ?? household.owner_phone);
  const [location, setLocation] = useState(draft?.location ?? "");
  const [assignee, setAssignee] = useState(draft?.assignee ?? "");
  const [note, setNote] = useState(draft?.note ?? "");
  const [reply, setReply] = useState(draft?.reply ?? "");
  const [busy, setBusy] = useState(false);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) return void (first.current = false); // opening the form is not yet a draft
    onDraft({ household: household.id || "public", kind, category, description, urgent, reporter, phone, location, assignee, note, reply });
  }, [kind, category, description, urgent, reporter, phone, location, assignee, note, reply]);
  const [error, setError] = useState<string | null>(null);
  const board = useApi<any>("/api/board");
  const load = new Map<string, number>((board.data?.columns.in_progress ?? []).map((l: any) => [l.assignee_id, l.orders.length]));
  // Only people who may handle this kind, and only queues with active members (server/orders/routing.py).
  const routing = useApi<any>(`/api/routing/?kind=${kind}`);
  const people: any[] = routing.data?.handlers ?? [];
  const queues: any[] = routing.data?.queues ?? [];
  const route = routing.data?.rules.find((r: any) => r.category === category)?.route;

  function pickKind(k: string) {
    setKind(k);
    setCategory(DEFAULT_CATEGORY[k]);
  }

  async function submit(e: Event, answered = false) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = {
        kind, category, channel: "phone", description: description.trim(), priority: urgent ? "urgent" : "normal",
        reporter_name: reporter.trim(), reporter_phone: phone.trim(), internal_note: note,
      };
      if (household.id) body.household_id = household.id;
      else body.location = location.trim();
      if (assignee && !assignee.startsWith("dept:") && !answered) body.assignee_id = assignee;
      if (assignee.startsWith("dept:") && !answered) body.department = assignee.slice(5);
      let out = await send("POST", "/api/orders/", body);
      if (answered) {
        out = await send("POST", `/api/orders/${out.order.id}/actions/answer`, { note: (reply.trim() || description.trim()).slice(0, 2000) });
      }
      else if (assignee.startsWith("dept:")) {
        out = await send("POST", `/api/orders/${out.order.id}/actions/dispatch`, { department: assignee.slice(5) });
      }
      say(`${t("c_created")} ${out.order.number}`);
      onCreated(out.order);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="new-order card" onSubmit={(e) => submit(e)}>
      <h2>{t("c_new_order")} {household.label && <span class="small">· {household.label}</span>}</h2>
      <div class="seg" role="radiogroup">
        {KINDS.filter((k) => k !== "callback").map((k) => (
          <button type="button" key={k} role="radio" aria-checked={kind === k} class={kind === k ? "on" : ""}
            data-kind={k} onClick={() => pickKind(k)}>{t(k)}</button>
        ))}
      </div>
      <div class="row">
        <label class="grow">
          {t("c_category")}
          <select name="category" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
            {CATEGORIES.map((c) => <option key={c} value={c}>{t(`cat_${c}`)}</option>)}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={urgent} onChange={(e) => setUrgent((e.target as HTMLInputElement).checked)} />
          {t("c_urgent")}
        </label>
      </div>
      {!household.id && (
        <label>
          {t("c_location")}
          <input name="location" value={location} required onInput={(e) => setLocation((e.target as HTMLInputElement).value)} />
        </label>
      )}
      <label>
        {t("c_description")}
        <textarea name="description" rows={3} required value={description}
          onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} />
      </label>
      <AnswerSuggestions text={description} onFill={kind === "inquiry" ? (a) => setReply(a.answer) : undefined} />
      {kind === "inquiry" && (
        <label>
          {t("c_reply_given")}
          <textarea name="reply" rows={3} value={reply} onInput={(e) => setReply((e.target as HTMLTextAreaElement).value)} />
        </label>
      )}
      <div class="row">
        <label class="grow">
          {t("reporter")}
          <input name="reporter_name" value={reporter} onInput={(e) => setReporter((e.target as HTMLInputElement).value)} />
        </label>
        <label class="grow">
          {t("phone")}
          <input name="reporter_phone" value={phone} onInput={(e) => setPhone((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {kind !== "inquiry" && (
        <label>
          {["complaint", "callback"].includes(kind) ? t("c_handler") : t("c_assign_to")}
          <select name="assignee" value={assignee} onChange={(e) => setAssignee((e.target as HTMLSelectElement).value)}>
            <option value="">{t("c_assign_later")}</option>
            {people.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name} · {t(`role_${h.role}`)} · {t("c_load")} {load.get(h.id) ?? 0}
              </option>
            ))}
            {queues.map((q) => (
              <option key={q.department} value={`dept:${q.department}`}>{t("c_queue")} · {t(`dept_${q.department}`)}</option>
            ))}
          </select>
          {!assignee && route?.warning && <span class="warn-text small" data-test="routing-warning">⚠ {route.warning}</span>}
        </label>
      )}
      <label>
        {t("c_internal_note")}
        <input name="internal_note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      </label>
      <ErrorLine error={error} />
      {kind === "inquiry" ? (
        <>
          <div class="row">
            <button class="primary grow" type="button" disabled={busy} data-action="answered" onClick={(e) => guard(() => submit(e, true))}>
              {t("c_answered")}
            </button>
            <button class="grow" type="submit" disabled={busy}>{t("c_create_only")}</button>
          </div>
        </>
      ) : (
        <button class="primary big" type="submit" disabled={busy} data-action="create-order">
          {assignee ? t("c_create_dispatch") : t("c_create_only")}
        </button>
      )}
    </form>
  );
}

function Created({ order, onNext }: { order: any; onNext: () => void }) {
  return (
    <div class="card created" data-test="created">
      <h2>{t("c_created")}</h2>
      <p class="big-number" data-test="created-number">{order.number}</p>
      <p class="row">
        <KindChip kind={order.kind} />
        <span>{order.household_label || order.location}</span>
        <span class="status">{t(order.status)}{order.assignee_name ? ` · ${order.assignee_name}` : ""}</span>
      </p>
      <SlipPanel orderId={order.id} />
      <div class="row">
        <a class="button" href={`#/desk/orders/${order.id}`}>{t("c_open_order")}</a>
        <button class="primary grow" data-action="next-call" onClick={onNext}>{t("c_next_call")}</button>
      </div>
    </div>
  );
}
