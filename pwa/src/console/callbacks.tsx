// 待回访 · the desk's callback worklist: completed orders whose callback is still to be made and open
// callback orders of the estate, earliest due first (a 未联系上 waits until its retry time), from
// GET /api/orders/callbacks. Each row opens the order, where the callback form is.
import { t } from "../i18n";
import { useNow } from "../ui/live";
import { useApi, useBoardStream } from "./net";
import { ErrorLine, KindChip, Loading, SlaClock, when } from "./widgets";

export function Callbacks() {
  const { data, error, reload } = useApi<any[]>("/api/orders/callbacks");
  const now = useNow();
  useBoardStream((msg) => msg.type === "order" && reload());
  if (error) return <ErrorLine error={error} />;
  if (!data) return <Loading />;
  const overdue = data.filter((o) => o.worklist_due_at && new Date(o.worklist_due_at).getTime() < now).length;
  return (
    <div class="callbacks-page" data-test="desk-callbacks">
      <h2>{t("c_callbacks")} ({data.length}){overdue > 0 && <span class="flag urgent" data-test="overdue-count">{t("cb_overdue")} {overdue}</span>}</h2>
      {data.length === 0 && <p class="empty">{t("cb_none")}</p>}
      <table class="grid-table callbacks-table">
        <tbody>
          {data.map((o) => (
            <tr key={o.id} class={o.worklist_due_at && new Date(o.worklist_due_at).getTime() < now ? "late" : ""} data-order={o.number}>
              <td><KindChip kind={o.kind} /></td>
              <td><a href={`#/desk/orders/${o.id}`}>{o.number}</a></td>
              <td>{o.household_label || o.location}</td>
              <td>{o.reporter_name} {o.reporter_phone}</td>
              <td class="small">{o.callback_retry_at ? t("cb_retry_line", { at: when(o.callback_retry_at) }) : t(o.status)}</td>
              <td><SlaClock due={o.worklist_due_at} now={now} /></td>
              <td class="small">{o.assignee_name}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
