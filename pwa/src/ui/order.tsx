import { useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { db } from "../db";
import { lang, t } from "../i18n";
import { act, allowed, rebase, STEP_STATUSES, transitions } from "../orders";
import { useSignal } from "../state";
import { useLive, useNow } from "./live";
import { countdown } from "./tasks";
import { Thumb } from "./thumb";

export function time(iso: string | null | undefined): string {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang.get() === "en" ? "en-GB" : "zh-CN", {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
}

async function load(orderId: string) {
  const [row, pending, table, events, steps] = await Promise.all([
    db.orders.get(orderId),
    db.outbox.orderBy("seq").toArray(),
    transitions(),
    db.order_events.where("order_id").equals(orderId).toArray(),
    db.steps.where("order_id").equals(orderId).toArray(),
  ]);
  const localPhotos = new Set((await db.photos.where("state").equals("uploaded").primaryKeys()) as string[]);
  return { order: row ? rebase(row, pending, table) : null, table, events, steps, localPhotos };
}

export function OrderDetail({ orderId }: { orderId: string }) {
  const me = useSignal(staff)!;
  const data = useLive(() => load(orderId), [orderId]);
  const now = useNow();
  const [pausing, setPausing] = useState(false);
  const [eta, setEta] = useState("");
  if (!data) return null;
  const { order, table, events, steps, localPhotos } = data;
  if (!order) {
    return (
      <section>
        <button class="link" onClick={() => go("#/tasks")}>← {t("back")}</button>
        <p class="empty">—</p>
      </section>
    );
  }
  const actions = allowed(order, me, table).filter((a) => a !== "pause" || !pausing);
  const c = countdown(order.due_at, now);
  const timeline = [
    ...events.filter((e) => !e.action.startsWith("sla_") && e.action !== "note")
      .map((e) => ({
        at: e.effective_at || e.server_time, key: e.id, text: `${t(e.action)}${e.actor_name ? " · " + e.actor_name : ""}`,
        // The owner's photos from the report form show like a step's (the server lets whoever sees the order view them).
        step: e.action === "report_photos" ? { photos: (e.data?.photos ?? []).map((sha256: string) => ({ sha256, uploaded: true })) } : null as any,
      })),
    ...steps.map((s) => ({ at: s.effective_at || s.captured_at, key: s.id, text: s.note, step: s })),
  ].sort((a, b) => a.at.localeCompare(b.at));

  const fire = (action: string, extra: Record<string, unknown> = {}) =>
    guard(async () => {
      await act(order.id, action, extra);
      setPausing(false);
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
        {order.eta && <p>{t("set_eta")}: {time(order.eta)}</p>}
      </div>
      <div class="actions">
        {actions.map((a) => (
          <button key={a} class={a === "complete" || a === "accept" || a === "take" ? "primary" : ""} data-action={a}
            onClick={() => (a === "pause" ? setPausing(true) : fire(a))}>
            {t(a)}
          </button>
        ))}
        {STEP_STATUSES.includes(order.status) && order.assignee_id === me.id && (
          <button class="primary" data-action="add-step" onClick={() => go(`#/orders/${order.id}/step`)}>{t("add_step")}</button>
        )}
      </div>
      {pausing && (
        <div class="card">
          <p>{t("reason")}</p>
          {["waiting_owner", "parts_on_order", "other"].map((r) => (
            <button key={r} data-reason={r} onClick={() => fire("pause", { reason: r })}>{t(r)}</button>
          ))}
          <button class="link" onClick={() => setPausing(false)}>{t("cancel")}</button>
        </div>
      )}
      {order.assignee_id === me.id && ["accepted", "en_route", "dispatched"].includes(order.status) && (
        <div class="card row">
          <label class="grow">{t("set_eta")}
            <input type="datetime-local" value={eta} onInput={(e) => setEta((e.target as HTMLInputElement).value)} />
          </label>
          <button disabled={!eta} onClick={() => guard(async () => {
            await act(order.id, "set_eta", { eta: new Date(eta).toISOString() });
            say(t("eta_saved"));
          })}>{t("save")}</button>
        </div>
      )}
      <h3>{t("timeline")}</h3>
      <ol class="timeline">
        {timeline.map((item) => (
          <li key={item.key} class={item.step ? "step" : "event"}>
            <time>{time(item.at)}</time>
            <div>
              <p>{item.text}{item.step?._local ? " ⟳" : ""}</p>
              {item.step?.materials?.length > 0 && (
                <p class="small">{t("materials")}: {item.step.materials.map((m: any) => `${m.name}×${m.quantity}${m.unit}`).join("，")}</p>
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
