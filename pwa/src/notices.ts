// A notification's words in the reader's language. The server stores a Chinese title and body (what
// push and older apps show) plus the text's parameters in ``data``; in Chinese the stored words are
// shown as they are, in English they are written again from ``kind`` and ``data``.
import { dateTime } from "./format";
import { lang, t } from "./i18n";

export function noticeText(n: { kind: string; title: string; body: string; data?: Record<string, any> | null }): { title: string; body: string } {
  const d = n.data ?? {};
  if (lang.get() !== "en" || !d.number) return { title: n.title, body: n.body };
  const kind = d.kind ? t(d.kind) : "";
  switch (n.kind) {
    case "assigned":
      return { title: t("n_assigned", { kind, number: d.number }), body: n.body };
    case "unassigned":
      return { title: t("n_unassigned", { number: d.number }), body: "" };
    case "unsatisfied":
      return { title: t("n_unsatisfied", { number: d.number }), body: t("n_unsatisfied_body") };
    case "sla_near":
    case "sla_breach":
    case "sla_escalated":
      return {
        title: t("n_sla", { level: t(n.kind), kind, number: d.number }),
        body: t("n_sla_body", { stage: t(`stage_${d.stage}`), due: dateTime(d.due_at) }),
      };
    case "duty_unanswered":
      return {
        title: t("n_duty_unanswered", { kind, number: d.number }),
        body: t("n_duty_unanswered_body", { minutes: d.minutes, name: d.assignee_name }),
      };
    default:
      return { title: n.title, body: n.body };
  }
}
