// Small pieces every console screen uses: labels, clocks, percentages, dates, error lines.
import { dateTime } from "../format";
import { t } from "../i18n";
import { countdown } from "../ui/tasks";

export const KINDS = ["repair", "complaint", "inquiry", "convenience", "emergency", "callback"];
export const CATEGORIES = [
  "water_electric", "lift", "cleaning", "security", "noise", "fees", "parking", "landscaping", "renovation", "facilities", "other",
];
export const DEPARTMENTS = ["service", "engineering", "cleaning", "security", "landscaping"];

export function KindChip({ kind }: { kind: string }) {
  return <span class={`kind k-${kind}`}>{t(kind)}</span>;
}

export function SlaClock({ due, now, status }: { due: string | null; now: number; status?: string }) {
  if (!due || status === "closed" || status === "cancelled") return null;
  const c = countdown(due, now);
  return <span class={`clock ${c.tone}`}>{c.text}</span>;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}

/** The app's one formatter (Asia/Shanghai, "12-03 19:36"), under the console's old name. */
export const when = dateTime;

export function ErrorLine({ error }: { error: string | null | undefined }) {
  return error ? <p class="error" role="alert">{error}</p> : null;
}

export function Loading() {
  return <p class="empty">{t("c_loading")}</p>;
}
