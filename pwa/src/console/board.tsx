// 调度看板 · the dispatch board: unassigned, in progress by technician, paused, overdue (red), due soon
// (amber). Click a card then a technician (or drag the card onto the lane) to assign or reassign;
// Server-Sent Events keep it current without a reload.
import { useEffect, useRef, useState } from "preact/hooks";
import { say } from "../app";
import { t } from "../i18n";
import { useNow } from "../ui/live";
import { send, useApi, useBoardStream } from "./net";
import { ErrorLine, KindChip, Loading, SlaClock } from "./widgets";

interface Card {
  id: string; number: string; kind: string; status: string; household_label: string; location?: string; description: string;
  assignee_id: string | null; assignee_name: string; due_at: string | null; sla: string | null; repeat: boolean; priority: string;
}

export function Board() {
  const { data, error, reload } = useApi<any>("/api/board");
  const [picked, setPicked] = useState<Card | null>(null);
  const [flash, setFlash] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const pending = useRef<ReturnType<typeof setTimeout>>();
  const now = useNow();
  const live = useBoardStream((msg) => {
    if (msg.type === "order") setFlash((f) => new Set(f).add(msg.id));
    clearTimeout(pending.current);
    pending.current = setTimeout(reload, 250);
  });
  useEffect(() => {
    const id = setInterval(reload, 60_000); // cards move between "ok", due soon and overdue as time passes
    return () => clearInterval(id);
  }, []);
  useEffect(() => {
    if (!flash.size) return;
    const id = setTimeout(() => setFlash(new Set()), 4000);
    return () => clearTimeout(id);
  }, [flash]);

  async function assign(card: Card, assigneeId: string, name: string) {
    if (card.assignee_id === assigneeId) return;
    const action = card.status === "new" ? "dispatch" : "reassign";
    setBusy(true);
    try {
      const out = await send("POST", `/api/orders/${card.id}/actions/${action}`, { assignee_id: assigneeId });
      say(`${out.order.number} → ${name}`);
      setPicked(null);
      reload();
    } catch (e) {
      say((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorLine error={error} />;
  if (!data) return <Loading />;
  const cols = data.columns;
  const counts = data.counts;

  const card = (c: Card) => (
    <li key={c.id}>
      <div
        class={`bcard sla-${c.sla ?? "none"} ${picked?.id === c.id ? "picked" : ""} ${flash.has(c.id) ? "flash" : ""}`}
        draggable
        data-order={c.number}
        data-status={c.status}
        onDragStart={(e) => {
          e.dataTransfer?.setData("text/plain", c.id);
          setPicked(c);
        }}
        onClick={() => setPicked(picked?.id === c.id ? null : c)}
      >
        <div class="row">
          <KindChip kind={c.kind} />
          {c.priority === "urgent" && <span class="flag urgent">{t("c_urgent")}</span>}
          {c.repeat && <span class="flag repeat">{t("c_repeat")}</span>}
          <span class="grow" />
          <a href={`#/desk/orders/${c.id}`} class="small" onClick={(e) => e.stopPropagation()}>{c.number}</a>
        </div>
        <strong class="house" data-test="house">{c.household_label || c.location}</strong>
        <p class="desc ellipsis">{c.description}</p>
        <div class="row small">
          <span class="status">{t(c.status)}</span>
          {c.assignee_name && <span>{c.assignee_name}</span>}
          <span class="grow" />
          <SlaClock due={c.due_at} now={now} status={c.status} />
        </div>
      </div>
    </li>
  );

  return (
    <div class="board" data-test="board">
      <div class="row board-head">
        <h2 class="grow">{t("c_board")}</h2>
        <span class={`live ${live ? "on" : "off"}`} data-test="live">{live ? t("c_live") : t("c_reconnecting")}</span>
        <span class="count">{t("c_unassigned")} <b>{counts.unassigned}</b></span>
        <span class="count">{t("c_in_progress")} <b>{counts.in_progress}</b></span>
        <span class="count">{t("paused")} <b>{counts.paused}</b></span>
        <span class="count late">{t("overdue")} <b data-test="count-overdue">{counts.overdue}</b></span>
        <span class="count soon">{t("c_due_soon")} <b>{counts.due_soon}</b></span>
      </div>
      {picked && (
        <p class="hint">{t("c_pick_tech")} <b>{picked.number}</b> <button class="link" onClick={() => setPicked(null)}>{t("cancel")}</button></p>
      )}
      <div class="columns">
        <section class="bcol" data-col="unassigned">
          <h3>{t("c_unassigned")} ({counts.unassigned})</h3>
          <ul class="list">{cols.unassigned.map(card)}</ul>
        </section>
        <section class="bcol lanes" data-col="in_progress">
          <h3>{t("c_in_progress")} ({counts.in_progress})</h3>
          <div class="lane-grid">
            {cols.in_progress.map((lane: any) => (
              <div
                key={lane.assignee_id}
                class={`lane ${picked ? "target" : ""}`}
                data-lane={lane.assignee_name}
                onDragOver={(e) => e.preventDefault()}
                onDrop={(e) => {
                  e.preventDefault();
                  const id = e.dataTransfer?.getData("text/plain");
                  const all: Card[] = [...cols.unassigned, ...cols.paused, ...cols.in_progress.flatMap((l: any) => l.orders)];
                  const c = all.find((x) => x.id === id);
                  if (c) void assign(c, lane.assignee_id, lane.assignee_name);
                }}
              >
                <div class="row lane-head">
                  <strong class="grow">{lane.assignee_name}</strong>
                  <span class="small">{lane.orders.length}</span>
                  {picked && (
                    <button class="primary small-btn" disabled={busy} data-assign={lane.assignee_name}
                      onClick={() => assign(picked, lane.assignee_id, lane.assignee_name)}>
                      {picked.status === "new" || !picked.assignee_id ? t("c_assign") : t("reassign")}
                    </button>
                  )}
                </div>
                <ul class="list">{lane.orders.map(card)}</ul>
                {lane.orders.length === 0 && <p class="small idle">{t("c_idle")}</p>}
              </div>
            ))}
          </div>
        </section>
        <section class="bcol side-cols">
          <div data-col="overdue" class="late-col">
            <h3>{t("overdue")} ({counts.overdue})</h3>
            <ul class="list">{cols.overdue.map(card)}</ul>
          </div>
          <div data-col="due_soon" class="soon-col">
            <h3>{t("c_due_soon")} ({counts.due_soon})</h3>
            <ul class="list">{cols.due_soon.map(card)}</ul>
          </div>
          <div data-col="paused">
            <h3>{t("paused")} ({counts.paused})</h3>
            <ul class="list">{cols.paused.map(card)}</ul>
          </div>
        </section>
      </div>
    </div>
  );
}
