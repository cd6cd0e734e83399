import { useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { db } from "../db";
import { materialLine } from "../materials";
import { dateTime } from "../format";
import { t } from "../i18n";
import { act, allowed, OPEN, rebase, STEP_STATUSES, transitions } from "../orders";
import { useSignal } from "../state";
import { useLive, useNow } from "./live";
import { CallbackForm, callbackDue, callbackDueAt, callbackLine, reworkLine, type CallbackResult } from "./callback";
import { countdown } from "./tasks";
import { Thumb } from "./thumb";

/** Kept for the screens that import it from here: the app's one formatter (Asia/Shanghai). */
export const time = dateTime;

/** Who makes callbacks (the server's table: stewards and the desk side). */
const CALLERS = ["steward", "front_desk", "team_lead", "supervisor", "admin"];

async function load(orderId: string) {
  const [row, pending, table, events, steps] = await Promise.all([
    db.orders.get(orderId),
    db.outbox.orderBy("seq").toArray(),
    transitions(),
    db.order_events.where("order_id").equals(orderId).toArray(),
    db.steps.where("order_id").equals(orderId).toArray(),
  ]);
  const localPhotos = new Set((await db.photos.where("state").equals("uploaded").primaryKeys()) as string[]);
  const calls = pending.filter((m) => m.name === "order.callback" && m.args.order_id === orderId);
  return { order: row ? rebase(row, pending, table) : null, table, events, steps, localPhotos, calls };
}

export function OrderDetail({ orderId }: { orderId: string }) {
  const me = useSignal(staff)!;
  const data = useLive(() => load(orderId), [orderId]);
  const now = useNow();
  const [pausing, setPausing] = useState(false);
  const [eta, setEta] = useState("");
  const [confirming, setConfirming] = useState(false);
  if (!data) return null;
  const { order, table, events, steps, localPhotos, calls } = data;
  if (!order) {
    return (
      <section>
        <button class="link" onClick={() => go("#/tasks")}>← {t("back")}</button>
        <p class="empty">—</p>
      </section>
    );
  }
  // A callback order is a phone call: no accept / travel / steps, its result form instead (ui/callback.tsx).
  const isCall = order.kind === "callback";
  const actions = isCall ? [] : allowed(order, me, table).filter((a) => a !== "pause" || !pausing);
  const calling = CALLERS.includes(me.role) && callbackDue(order);
  const c = calling ? countdown(callbackDueAt(order), now) : OPEN.includes(order.status) ? countdown(order.due_at, now) : { text: "", tone: "ok" };
  const timeline = [
    ...events.filter((e) => !e.action.startsWith("sla_") && e.action !== "note")
      .map((e) => ({
        at: e.effective_at || e.server_time, key: e.id,
        text: e.action === "callback" ? callbackLine(e) : e.action === "rework" ? reworkLine(e)
          : `${t(e.action)}${e.actor_name ? " · " + e.actor_name : ""}`,
        note: e.action === "callback" ? e.note : "",
        // The owner's photos from the report form show like a step's (the server lets whoever sees the order view them).
        step: e.action === "report_photos" ? { photos: (e.data?.photos ?? []).map((sha256: string) => ({ sha256, uploaded: true })) } : null as any,
      })),
    ...steps.map((s) => ({ at: s.effective_at || s.captured_at, key: s.id, text: s.note, note: "", step: s })),
    // A callback recorded offline shows at once, marked as waiting to upload.
    ...calls.map((m) => ({
      at: m.client_time, key: m.id, note: m.args.note as string, step: null as any,
      text: `${callbackLine({ data: m.args, actor_name: me.name })} ⟳ ${t("cb_pending")}`,
    })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const saveCallback = (r: CallbackResult) =>
    guard(async () => {
      await act(order.id, "callback", { ...r });
      say(t("cb_saved"));
    });

  const fire = (action: string, extra: Record<string, unknown> = {}) =>
    guard(async () => {
      await act(order.id, action, extra);
      setPausing(false);
      setConfirming(false);
    });
  const saveEta = (at: Date) =>
    guard(async () => {
      await act(order.id, "set_eta", { eta: at.toISOString() });
      say(t("eta_saved"));
    });

  return (
    <section class="detail">
      <button class="link" onClick={() => go("#/tasks")}>← {t("back")}</button>
      <div class="card">
        <div class="row">
          <span class={`kind k-${order.kind}`}>{t(order.kind)}</span>
          <strong>{order.number}</strong>
          <span class="status">{t(order.status)}{order._pending ? " ⟳" : ""}</span>
        </div>
        <h2>{order.household_label || order.location}</h2>
        <p>{order.description}</p>
        {order.reporter_phone && (
          <p>{t("reporter")}: {order.reporter_name} <a class="call" href={`tel:${order.reporter_phone}`}>{t("call")} {order.reporter_phone}</a></p>
        )}
        {c.text && <p class={`clock ${c.tone}`}>{c.text}</p>}
        {order.eta && !isCall && <p>{t("set_eta")}: {time(order.eta)}</p>}
        {calling && order.callback_retry_at && <p data-test="retry-line">{t("cb_retry_at", { at: time(order.callback_retry_at) })}</p>}
      </div>
      <div class="actions">
        {actions.map((a) => (
          <button key={a} class={a === "complete" || a === "accept" || a === "take" ? "primary" : ""} data-action={a}
            onClick={() => (a === "pause" ? setPausing(true) : a === "complete" ? setConfirming(true) : fire(a))}>
            {t(a)}
          </button>
        ))}
        {!isCall && STEP_STATUSES.includes(order.status) && order.assignee_id === me.id && (
          <button class="primary" data-action="add-step" onClick={() => go(`#/orders/${order.id}/step`)}>{t("add_step")}</button>
        )}
      </div>
      {calling && <CallbackForm key={`cb-${order.id}-${calls.length}`} onSave={saveCallback} />}
      {confirming && (
        <div class="card confirm" role="alertdialog" data-test="confirm-complete">
          <p><strong>{t("confirm_complete")}</strong></p>
          <p class="small">{t("confirm_complete_hint")}</p>
          <div class="actions">
            <button class="primary" data-action="confirm-complete" onClick={() => fire("complete")}>{t("confirm_complete_yes")}</button>
            <button onClick={() => setConfirming(false)}>{t("cancel")}</button>
          </div>
        </div>
      )}
      {pausing && (
        <div class="card">
          <p>{t("reason")}</p>
          {["waiting_owner", "parts_on_order", "other"].map((r) => (
            <button key={r} data-reason={r} onClick={() => fire("pause", { reason: r })}>{t(r)}</button>
          ))}
          <button class="link" onClick={() => setPausing(false)}>{t("cancel")}</button>
        </div>
      )}
      {!isCall && order.assignee_id === me.id && ["accepted", "en_route", "dispatched"].includes(order.status) && (
        <div class="card eta">
          <p class="label">{t("set_eta")}</p>
          <div class="chips" data-test="eta-quick">
            {[15, 30, 60].map((m) => (
              <button key={m} type="button" class="chip" data-eta={m} onClick={() => saveEta(new Date(Date.now() + m * 60_000))}>
                {m}{t("minutes")}
              </button>
            ))}
          </div>
          <div class="row">
            <input class="grow" type="datetime-local" aria-label={t("set_eta")} value={eta} onInput={(e) => setEta((e.target as HTMLInputElement).value)} />
            <button disabled={!eta} onClick={() => saveEta(new Date(eta))}>{t("save")}</button>
          </div>
        </div>
      )}
      <h3>{t("timeline")}</h3>
      <ol class="timeline">
        {timeline.map((item) => (
          <li key={item.key} class={item.step ? "step" : "event"}>
            <time>{time(item.at)}</time>
            <div>
              <p>{item.text}{item.step?._local ? " ⟳" : ""}</p>
              {item.note && <p class="small pre">{item.note}</p>}
              {item.step?.materials?.length > 0 && (
                <p class="small">{t("materials")}: {item.step.materials.map(materialLine).join("，")}</p>
              )}
              {item.step?.photos?.length > 0 && (
                <div class="thumbs">
                  {item.step.photos.map((p: any) => <Thumb key={p.sha256} sha={p.sha256} uploaded={p.uploaded || localPhotos.has(p.sha256)} />)}
                </div>
              )}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
