// 工单详情 · order detail for the desk: the full timeline (events, steps with photos and materials,
// ratings, callbacks), internal notes, the callback (回访) form, pause/resume, reassign, cancel with a
// reason, close/reopen, a rating taken by phone, and the slip / progress link.
import { useEffect, useState } from "preact/hooks";
import { say } from "../app";
import { t } from "../i18n";
import { materialLine } from "../materials";
import { useNow } from "../ui/live";
import { Thumb } from "../ui/thumb";
import { CallbackForm, callbackDue, callbackLine, reworkLine, type CallbackResult } from "../ui/callback";
import { send, useApi, useBoardStream } from "./net";
import { OrderDeliveries } from "./notify";
import { SlipPanel } from "./slip";
import { ErrorLine, KindChip, Loading, SlaClock, when } from "./widgets";

type Entry = { at: string; kind: string; node: preact.JSX.Element };

export function OrderPage({ id }: { id: string }) {
  const { data, error, reload } = useApi<any>(`/api/orders/${id}`);
  const now = useNow();
  useBoardStream((msg) => msg.type === "order" && msg.id === id && reload());
  if (error) return <ErrorLine error={error} />;
  if (!data) return <Loading />;
  const o = data.order;
  return (
    <div class="order-page" data-test="order-detail">
      <div class="row head">
        <h2 class="grow">
          <KindChip kind={o.kind} /> {o.number}
          {o.priority === "urgent" && <span class="flag urgent">{t("c_urgent")}</span>}
          {o.repeat_of_id && <span class="flag repeat">{t("c_repeat")}</span>}
        </h2>
        <span class="status big-status" data-test="order-status">{t(o.status)}</span>
        <SlaClock due={o.due_at} now={now} status={o.status} />
      </div>
      <div class="order-grid">
        <div class="col">
          <dl class="facts card">
            <dt>{t("household")}</dt><dd>{o.household_label || o.location}</dd>
            <dt>{t("c_category")}</dt><dd>{t(`cat_${o.category}`)} · {t(`dept_${o.department}`)}</dd>
            <dt>{t("reporter")}</dt><dd>{o.reporter_name} <a href={`tel:${o.reporter_phone}`}>{o.reporter_phone}</a></dd>
            <dt>{t("c_assignee")}</dt><dd>{o.assignee_name || "—"} {o.assignee_phone}</dd>
            <dt>{t("c_created_at")}</dt><dd>{when(o.created_at)}</dd>
            {o.pause_reason && (<><dt>{t("c_pause_reason")}</dt><dd>{t(o.pause_reason)}</dd></>)}
            <dt>{t("c_description")}</dt><dd class="pre">{o.description}</dd>
          </dl>
          <h3>{t("timeline")}</h3>
          <Timeline timeline={data.timeline} />
          <h3>{t("c_notify_log")}</h3>
          <OrderDeliveries key={`d-${o.id}-${o.updated_at}`} orderId={o.id} />
        </div>
        <div class="col">
          <Actions key={`a-${o.id}`} order={o} allowed={data.allowed_actions} onDone={reload} />
          <NoteEditor key={`n-${o.id}`} order={o} onDone={reload} />
          {["completed", "rated", "called_back"].includes(o.status) && <PhoneRating key={`r-${o.id}`} orderId={o.id} onDone={reload} />}
          <div class="card"><SlipPanel key={o.id} orderId={o.id} /></div>
        </div>
      </div>
    </div>
  );
}

function Timeline({ timeline }: { timeline: any }) {
  const entries: Entry[] = [
    // A rating is shown from its record (level, comment) below: its "rate" event would say the same
    // thing a second time. A callback is one row from its event (result, note, retry time), not also
    // from its record.
    ...timeline.events.filter((e: any) => e.action === "callback").map((e: any) => {
      const record = timeline.callbacks.find((c: any) => c.created_at === e.effective_at || c.created_at === e.server_time);
      const data = e.data?.result ? e.data : { ...e.data, result: record?.result };
      const note = e.note || record?.note;
      return {
        at: e.effective_at || e.server_time,
        kind: "callback",
        node: (<><b>{callbackLine({ ...e, data, actor_name: "" })}</b> <span class="small">{e.actor_name}</span>{note && <p class="pre">{note}</p>}</>),
      };
    }),
    ...timeline.events.filter((e: any) => e.action === "rework").map((e: any) => ({
      at: e.effective_at || e.server_time,
      kind: "rework",
      node: (<><b>{reworkLine(e)}</b> <a href={`#/desk/orders/${e.data?.rework_id === e.order_id ? e.data?.rework_of_id : e.data?.rework_id}`}>{t("c_open_order")}</a> <span class="small">{e.actor_name}</span></>),
    })),
    ...timeline.events.filter((e: any) => !["rate", "callback", "rework"].includes(e.action)).map((e: any) => ({
      at: e.effective_at || e.server_time,
      kind: "event",
      node: (
        <>
          <b>{t(e.action)}</b> <span class="small">{e.actor_name}</span>
          {e.data?.assignee_name && <span> → {e.data.assignee_name}</span>}
          {e.data?.reason && <span> · {t(e.data.reason)}</span>}
          {e.data?.stage && e.data?.due_at && <span> · {t("n_sla_body", { stage: t(`stage_${e.data.stage}`), due: when(e.data.due_at) })}</span>}
          {e.action === "report_photos" && (
            <div class="thumbs" data-test="owner-photos">{(e.data?.photos ?? []).map((sha: string) => <Thumb key={sha} sha={sha} uploaded={true} />)}</div>
          )}
          {e.data?.routing_warning ? <p class="warn-text" data-test="routing-warning">⚠ {e.data.routing_warning}</p> : e.note && <p class="pre">{e.note}</p>}
        </>
      ),
    })),
    ...timeline.steps.map((s: any) => ({
      at: s.effective_at || s.captured_at,
      kind: "step",
      node: (
        <>
          <b>{t("step_n", { n: s.position })}</b> <span class="small">{s.author_name}</span>
          <p class="pre">{s.note}</p>
          {s.materials.length > 0 && (
            <p class="small">{t("materials")}: {s.materials.map(materialLine).join("，")}</p>
          )}
          {s.photos.length > 0 && (
            <>
              <p class="small">{t("photos")} {s.photos.length} · {s.photos.filter((p: any) => p.uploaded).length} {t("c_uploaded")}</p>
              <div class="thumbs">{s.photos.map((p: any) => <Thumb key={p.sha256} sha={p.sha256} uploaded={p.uploaded} />)}</div>
            </>
          )}
        </>
      ),
    })),
    ...timeline.ratings.map((r: any) => ({
      at: r.created_at,
      kind: "rating",
      node: (<><b>{t("rated")}</b> {t(`rating_${r.level}`)} {r.comment && <p class="pre">{r.comment}</p>}</>),
    })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return (
    <ol class="timeline console-timeline">
      {entries.map((e, i) => (
        <li key={i} class={e.kind}>
          <span class="small when">{when(e.at)}</span>
          <div>{e.node}</div>
        </li>
      ))}
    </ol>
  );
}

const PEOPLE_KINDS = ["complaint", "callback", "inquiry"];

function Actions({ order, allowed, onDone }: { order: any; allowed: string[]; onDone: () => void }) {
  const assigning = allowed.includes("dispatch") || allowed.includes("reassign");
  const board = useApi<any>(assigning ? "/api/board" : null);
  // Complaints, callbacks and inquiries go to a steward, the desk or a lead as well as to technicians.
  const people = PEOPLE_KINDS.includes(order.kind);
  const handlers = useApi<any>(assigning ? `/api/routing/?kind=${order.kind}` : null);
  const load = new Map<string, number>((board.data?.columns.in_progress ?? []).map((l: any) => [l.assignee_id, l.orders.length]));
  const [assignee, setAssignee] = useState("");
  const [reason, setReason] = useState("waiting_owner");
  const [cancelWhy, setCancelWhy] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setError(null), [order.status]);

  async function run(work: () => Promise<unknown>, message: string) {
    setBusy(true);
    setError(null);
    try {
      await work();
      say(message);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }
  const act = (action: string, body: Record<string, unknown> = {}) =>
    run(() => send("POST", `/api/orders/${order.id}/actions/${action}`, body), t(action));
  const assignAction = allowed.includes("dispatch") ? "dispatch" : allowed.includes("reassign") ? "reassign" : null;

  return (
    <div class="card actions-card">
      <h3>{t("c_actions")}</h3>
      {assignAction && (
        <div class="row">
          <select class="grow" name="assignee" value={assignee} onChange={(e) => setAssignee((e.target as HTMLSelectElement).value)}>
            <option value="">{t(people ? "c_choose_handler" : "c_choose_tech")}</option>
            {(handlers.data?.handlers ?? []).filter((h: any) => h.id !== order.assignee_id).map((h: any) => (
              <option key={h.id} value={h.id}>{h.name} · {t(`role_${h.role}`)} · {t("c_load")} {load.get(h.id) ?? 0}</option>
            ))}
          </select>
          <button class="primary" disabled={busy || !assignee} data-action={assignAction}
            onClick={() => act(assignAction, { assignee_id: assignee })}>{t(assignAction === "dispatch" ? "c_assign" : "reassign")}</button>
        </div>
      )}
      {allowed.includes("pause") && (
        <div class="row">
          <select class="grow" name="pause_reason" value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
            {["waiting_owner", "parts_on_order", "other"].map((r) => <option key={r} value={r}>{t(r)}</option>)}
          </select>
          <button disabled={busy} data-action="pause" onClick={() => act("pause", { reason })}>{t("pause")}</button>
        </div>
      )}
      <div class="row wrap">
        {allowed.includes("resume") && <button disabled={busy} data-action="resume" onClick={() => act("resume")}>{t("resume")}</button>}
        {allowed.includes("close") && <button disabled={busy} data-action="close" onClick={() => act("close")}>{t("c_close_order")}</button>}
        {allowed.includes("reopen") && <button disabled={busy} data-action="reopen" onClick={() => act("reopen")}>{t("c_reopen")}</button>}
      </div>
      {allowed.includes("callback") && callbackDue(order) && (
        <CallbackForm key={`cb-${order.id}-${order.callback_retry_at}`} busy={busy}
          onSave={(r: CallbackResult) => run(() => send("POST", `/api/orders/${order.id}/callbacks`, r), t("c_callback_saved"))} />
      )}
      {allowed.includes("cancel") && (
        <form class="row" onSubmit={(e) => {
          e.preventDefault();
          void act("cancel", { note: cancelWhy.trim() });
        }}>
          <input class="grow" name="cancel_reason" required placeholder={t("c_cancel_reason")} value={cancelWhy}
            onInput={(e) => setCancelWhy((e.target as HTMLInputElement).value)} />
          <button class="danger" type="submit" disabled={busy || !cancelWhy.trim()} data-action="cancel">{t("c_cancel_order")}</button>
        </form>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

function NoteEditor({ order, onDone }: { order: any; onDone: () => void }) {
  const [text, setText] = useState(order.internal_note ?? "");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(order.internal_note ?? ""), [order.internal_note]);
  return (
    <form class="card" onSubmit={async (e) => {
      e.preventDefault();
      try {
        await send("POST", `/api/orders/${order.id}/note`, { internal_note: text });
        say(t("c_note_saved"));
        onDone();
      } catch (err) {
        setError((err as Error).message);
      }
    }}>
      <h3>{t("c_internal_note")}</h3>
      <textarea name="internal_note" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <ErrorLine error={error} />
      <button type="submit" data-action="save-note">{t("save")}</button>
    </form>
  );
}

function PhoneRating({ orderId, onDone }: { orderId: string; onDone: () => void }) {
  // Nothing chosen at first: the level is what the owner said on the phone, never a default.
  const [level, setLevel] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="card">
      <h3>{t("c_phone_rating")}</h3>
      <div class="row">
        <select class="grow" name="rating" value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value)}>
          <option value="" disabled>{t("c_rating_pick")}</option>
          {["very_satisfied", "satisfied", "neutral", "unsatisfied"].map((l) => <option key={l} value={l}>{t(`rating_${l}`)}</option>)}
        </select>
        <button data-action="rate" disabled={!level} onClick={async () => {
          if (!level) return setError(t("c_rating_pick"));
          try {
            await send("POST", `/api/orders/${orderId}/rating`, { level });
            say(t("rated"));
            onDone();
          } catch (err) {
            setError((err as Error).message);
          }
        }}>{t("save")}</button>
      </div>
      <ErrorLine error={error} />
    </div>
  );
}
