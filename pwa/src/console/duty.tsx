// 值班表 · after-hours duty for supervisors and team leads: the estate's office hours, who is on duty
// now, and per date and shift the people called in order (server/duty/). Outside office hours new
// complaints and emergencies go to the first person on duty, then down the list.
import { useState } from "preact/hooks";
import { say, staff } from "../app";
import { calendarDay } from "../format";
import { t } from "../i18n";
import { useSignal } from "../state";
import { send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

const WEEKDAYS = ["1", "2", "3", "4", "5", "6", "7"];

export function Duty() {
  const me = useSignal(staff) as any;
  if (!me?.estate_id) return <p class="empty">{t("c_duty_no_estate")}</p>;
  return <DutyOf estate={me.estate_id} />;
}

function DutyOf({ estate }: { estate: string }) {
  const { data, error, reload } = useApi<any>(`/api/estates/${estate}/duty`);
  const [saveError, setSaveError] = useState<string | null>(null);

  async function save(method: string, path: string, body: unknown) {
    setSaveError(null);
    try {
      await send(method, path, body);
      say(t("c_saved"));
      reload();
    } catch (err) {
      setSaveError((err as Error).message);
    }
  }

  return (
    <div class="admin duty">
      <h2>{t("c_duty")}</h2>
      <p class="small">{t("c_duty_hint")}</p>
      <ErrorLine error={error || saveError} />
      {!data ? <Loading /> : (
        <>
          <Hours hours={data.office_hours} onSave={(body) => save("PUT", `/api/estates/${estate}/office-hours`, body)} />
          <Now current={data.after_hours_now} configured={!!data.office_hours} />
          <Roster data={data} onSave={(date, shift, ids) => save("PUT", `/api/estates/${estate}/duty/${date}/${shift}`, { staff_ids: ids })} />
        </>
      )}
    </div>
  );
}

function Hours({ hours, onSave }: { hours: any; onSave: (body: any) => void }) {
  const [opens, setOpens] = useState(hours?.opens ?? "08:30");
  const [closes, setCloses] = useState(hours?.closes ?? "17:30");
  const [days, setDays] = useState<string>(hours?.workdays ?? "12345");
  const [minutes, setMinutes] = useState<number>(hours?.accept_minutes ?? 10);
  const toggle = (d: string) => setDays(days.includes(d) ? days.replace(d, "") : [...days, d].sort().join(""));
  return (
    <form class="card" data-test="office-hours" onSubmit={(e) => { e.preventDefault(); onSave({ opens, closes, workdays: days, accept_minutes: minutes }); }}>
      <h3>{t("c_office_hours")}</h3>
      {!hours && <p class="warn-text small">{t("c_office_hours_none")}</p>}
      <div class="row wrap">
        <label>{t("c_opens")} <input type="text" inputMode="numeric" pattern="[0-2][0-9]:[0-5][0-9]" placeholder="08:30" maxLength={5} name="opens" value={opens} onInput={(e) => setOpens((e.target as HTMLInputElement).value)} /></label>
        <label>{t("c_closes")} <input type="text" inputMode="numeric" pattern="[0-2][0-9]:[0-5][0-9]" placeholder="17:30" maxLength={5} name="closes" value={closes} onInput={(e) => setCloses((e.target as HTMLInputElement).value)} /></label>
        <label>{t("c_accept_minutes")} <input type="number" name="accept_minutes" min={1} max={240} value={minutes} onInput={(e) => setMinutes(Number((e.target as HTMLInputElement).value))} /></label>
      </div>
      <div class="row wrap" role="group" aria-label={t("c_workdays")}>
        <span>{t("c_workdays")}</span>
        {WEEKDAYS.map((d) => (
          <label key={d} class="chip-check"><input type="checkbox" name={`wd${d}`} checked={days.includes(d)} onChange={() => toggle(d)} /> {t(`wd_${d}`)}</label>
        ))}
      </div>
      <button type="submit" class="primary" data-action="save-hours">{t("c_save")}</button>
    </form>
  );
}

function Now({ current, configured }: { current: any; configured: boolean }) {
  if (!configured) return null;
  return (
    <div class="card" data-test="duty-now">
      {current ? (
        <p>
          <strong>{t("c_after_hours_now")}</strong> · {calendarDay(current.date).short} {t(`shift_${current.shift}`)}：
          {current.people.length ? current.people.map((p: any) => p.name).join(" → ") : <span class="warn-text">{t("c_nobody_on_duty")}</span>}
        </p>
      ) : <p>{t("c_office_open_now")}</p>}
    </div>
  );
}

function Roster({ data, onSave }: { data: any; onSave: (date: string, shift: string, ids: string[]) => void }) {
  const names = new Map<string, any>(data.candidates.map((c: any) => [c.id, c]));
  return (
    <div class="card">
      <h3>{t("c_roster")}</h3>
      <table class="grid-table" data-test="roster">
        <thead><tr><th>{t("c_date")}</th><th>{t("c_shift")}</th><th>{t("c_on_duty_in_order")}</th></tr></thead>
        <tbody>
          {data.roster.map((slot: any) => {
            const ids: string[] = slot.people.map((p: any) => p.id);
            const day = calendarDay(slot.date);
            return (
              <tr key={`${slot.date}-${slot.shift}`} data-slot={`${slot.date}-${slot.shift}`}>
                <td class="nowrap">{day.short}<br />{t(`wd_${day.weekday}`)}</td>
                <td class="nowrap">{t(`shift_${slot.shift}`)}</td>
                <td>
                  <ol class="duty-list">
                    {slot.people.map((p: any, i: number) => (
                      <li key={p.id}>
                        {i + 1}. {p.name} <span class="small">{t(`role_${p.role}`)}</span>
                        {i > 0 && <button type="button" class="link" title={t("c_move_up")} aria-label={t("c_move_up")} onClick={() => onSave(slot.date, slot.shift, [...ids.slice(0, i - 1), p.id, ids[i - 1], ...ids.slice(i + 1)])}>↑</button>}
                        <button type="button" class="link" title={t("c_remove")} aria-label={t("c_remove")} onClick={() => onSave(slot.date, slot.shift, ids.filter((x) => x !== p.id))}>×</button>
                      </li>
                    ))}
                  </ol>
                  <select name={`add.${slot.date}.${slot.shift}`} value="" onChange={(e) => { const v = (e.target as HTMLSelectElement).value; if (v) onSave(slot.date, slot.shift, [...ids, v]); }}>
                    <option value="">{t("c_add_on_duty")}</option>
                    {data.candidates.filter((c: any) => !ids.includes(c.id)).map((c: any) => (
                      <option key={c.id} value={c.id}>{c.name} · {t(`role_${c.role}`)}</option>
                    ))}
                  </select>
                  {names.size === 0 && <p class="small">{t("c_nobody_on_duty")}</p>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
