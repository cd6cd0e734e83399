// Every date and time the app shows, in one place: Asia/Shanghai whatever the device's own zone
// (a phone set to UTC, a desk PC abroad), 24-hour, numeric, the same in both languages.
// Screens call these; none formats a time by hand or with toLocale*().
export const ZONE = "Asia/Shanghai";

const fields = new Intl.DateTimeFormat("en-CA", {
  timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

type Parts = { year: string; month: string; day: string; hour: string; minute: string };

function parts(value: string | number | Date): Parts | null {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const out: Record<string, string> = {};
  for (const p of fields.formatToParts(d)) out[p.type] = p.value;
  return out as Parts;
}

type When = string | number | Date | null | undefined;

/** "12-03 19:36": lists, timelines, deadlines. */
export function dateTime(value: When): string {
  const p = value == null || value === "" ? null : parts(value);
  return p ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : "";
}

/** "2026-12-03 19:36": where the year matters (last sync, exports). */
export function fullDateTime(value: When): string {
  const p = value == null || value === "" ? null : parts(value);
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : "";
}

/** "19:36". */
export function clock(value: When): string {
  const p = value == null || value === "" ? null : parts(value);
  return p ? `${p.hour}:${p.minute}` : "";
}

/** "2026-12-03": the China calendar day of an instant (KPI periods are China days, weeks, months). */
export function day(value: When): string {
  const p = value == null || value === "" ? null : parts(value);
  return p ? `${p.year}-${p.month}-${p.day}` : "";
}

/** A calendar day given as "2026-11-23" (already a China date): "11-23" and its ISO weekday (1 = Monday). */
export function calendarDay(iso: string): { short: string; weekday: number } {
  const [y, m, d] = iso.split("-").map(Number);
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return { short: iso.slice(5), weekday: wd === 0 ? 7 : wd };
}
