// 园区周报: the team lead (or supervisor) drafts the estate's weekly bulletin — the week's repairs
// (figures by the server), notable ones with an after photo, next week's planned works and a note —
// previews the image for the owners' WeChat groups, publishes it and shares the link and QR.
// What owners see holds no owner data (server/bulletins/service.py says exactly what it shows).
import { useEffect, useState } from "preact/hooks";
import { say, staff } from "../app";
import { useSignal } from "../state";
import { day, fullDateTime } from "../format";
import { extend, t } from "../i18n";
import { photoUrl } from "../photos";
import { fetchAuthed, query, send, useApi } from "./net";
import { ErrorLine, Loading } from "./widgets";

const PLAN_KINDS = ["water_cut", "power_cut", "lift_maintenance", "fire_check", "gas_check", "pest_control", "greening", "cleaning", "other"];

extend({
  zh: {
    c_bulletin: "园区周报", c_bul_hint: "每周五发到业主群：本周维修完成情况、下周重点工作。业主可见的内容不含姓名、电话和房号。",
    c_bul_this_week: "写本周周报", c_bul_last_week: "写上周周报", c_bul_draft: "草稿", c_bul_published: "已发布",
    c_bul_done: "完成维修（单）", c_bul_received: "本周报修（单）", c_bul_notable: "维修掠影（最多 4 项）",
    c_bul_notable_hint: "业主群只看到楼栋、类别、完成日期、您写的说明和所选的维修后照片。请勿选拍到人脸、门牌或室内物品的照片。",
    c_bul_no_repairs: "本周没有已完成的维修", c_bul_caption: "说明（选填，不写房号电话）", c_bul_no_photo: "不配照片",
    c_bul_plans: "下周重点工作", c_bul_add_plan: "添加一项", c_bul_remove: "删除", c_bul_area: "区域（如 3栋、地下车库）",
    c_bul_title: "内容（如 水箱清洗）", c_bul_note: "物业寄语", c_bul_save: "保存草稿", c_bul_preview: "预览图片",
    c_bul_publish: "发布", c_bul_withdraw: "撤回修改", c_bul_new_link: "更换分享链接",
    c_bul_new_link_hint: "旧链接和二维码将立即失效", c_bul_share: "分享到业主群", c_bul_copy: "复制链接",
    c_bul_copied: "链接已复制", c_bul_image: "下载图片", c_bul_published_at: "发布于", c_bul_frozen: "已发布的周报数据已固定；如需修改请先撤回。",
    c_bul_kind_water_cut: "停水", c_bul_kind_power_cut: "停电", c_bul_kind_lift_maintenance: "电梯维保",
    c_bul_kind_fire_check: "消防检查", c_bul_kind_gas_check: "燃气安检", c_bul_kind_pest_control: "消杀",
    c_bul_kind_greening: "绿化养护", c_bul_kind_cleaning: "清洗保洁", c_bul_kind_other: "其他",
    c_bul_err_owner_data_in_text: "文字里像有电话或房号：周报是公开的，请删去业主信息",
    c_bul_err_plan_not_next_week: "计划日期须在下周（周一至周日）内", c_bul_err_plan_times: "结束时间须晚于开始时间",
    c_bul_err_plan_title: "选“其他”时请写明内容", c_bul_err_bulletin_published: "已发布的周报不能修改，请先撤回",
    c_bul_err_photo_not_of_order: "只能选该维修单自己的照片", c_bul_err_not_done_this_week: "只能选本周完成的维修",
    c_bul_err_validation_error: "请检查填写的时间（如 09:00）和长度", c_bul_err_future_week: "还未开始的周不能写周报",
  },
  en: {
    c_bulletin: "Weekly bulletin", c_bul_hint: "Posted to the owners' groups every Friday: repairs done this week, works planned next week. Owners see no names, phones or rooms.",
    c_bul_this_week: "Write this week's", c_bul_last_week: "Write last week's", c_bul_draft: "Draft", c_bul_published: "Published",
    c_bul_done: "Repairs done", c_bul_received: "Repairs reported", c_bul_notable: "Notable repairs (up to 4)",
    c_bul_notable_hint: "Owners see only the building, category, day done, your caption and the after photo you pick. Do not pick photos showing faces, door numbers or home interiors.",
    c_bul_no_repairs: "No repairs done this week", c_bul_caption: "Caption (optional; no rooms or phones)", c_bul_no_photo: "No photo",
    c_bul_plans: "Planned next week", c_bul_add_plan: "Add", c_bul_remove: "Remove", c_bul_area: "Area (e.g. building 3, garage)",
    c_bul_title: "What (e.g. tank cleaning)", c_bul_note: "Note to owners", c_bul_save: "Save draft", c_bul_preview: "Preview image",
    c_bul_publish: "Publish", c_bul_withdraw: "Withdraw to edit", c_bul_new_link: "New share link",
    c_bul_new_link_hint: "The old link and QR stop working at once", c_bul_share: "Share to the owners' groups", c_bul_copy: "Copy link",
    c_bul_copied: "Link copied", c_bul_image: "Download image", c_bul_published_at: "Published", c_bul_frozen: "A published bulletin's figures are fixed; withdraw it to edit.",
    c_bul_kind_water_cut: "Water off", c_bul_kind_power_cut: "Power off", c_bul_kind_lift_maintenance: "Lift maintenance",
    c_bul_kind_fire_check: "Fire check", c_bul_kind_gas_check: "Gas check", c_bul_kind_pest_control: "Pest control",
    c_bul_kind_greening: "Landscaping", c_bul_kind_cleaning: "Cleaning", c_bul_kind_other: "Other",
    c_bul_err_owner_data_in_text: "The text looks like it holds a phone or a room: the bulletin is public, leave owners' details out",
    c_bul_err_plan_not_next_week: "Planned works must be in the next week (Monday–Sunday)", c_bul_err_plan_times: "The end must be after the start",
    c_bul_err_plan_title: "Say what the work is", c_bul_err_bulletin_published: "Withdraw the published bulletin before editing",
    c_bul_err_photo_not_of_order: "Pick one of the repair's own photos", c_bul_err_not_done_this_week: "Only repairs done this week",
    c_bul_err_validation_error: "Check the times (e.g. 09:00) and lengths", c_bul_err_future_week: "That week has not begun",
  },
});

type Plan = { kind: string; day: string; start: string; end: string; area: string; title: string };
type Pick = { order_id: string; photo: string | null; caption: string };
type Candidate = { order_id: string; number: string; building: string; category: string; completed_at: string; photos: string[] };
type Bulletin = {
  id: string; estate: string; week_start: string; week_label: string; status: string; note: string; plans: Plan[];
  highlights: Pick[]; candidates: Candidate[]; published_at: string | null; image_url: string;
  content: { done: number; received: number; by_category: Record<string, number> };
  share: { url: string; qr_svg: string; image_url: string } | null; updated_at: string;
};

function errorText(e: any): string {
  const key = `c_bul_err_${e?.code}`;
  const said = t(key);
  return said !== key ? said : String(e?.message ?? e);
}

function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T12:00:00+08:00`);
  return day(d.getTime() + n * 86400000);
}

function Thumb({ sha, on, onPick }: { sha: string; on: boolean; onPick: () => void }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => { void photoUrl(sha).then(setSrc); }, [sha]);
  return (
    <button type="button" class={`thumb ${on ? "on" : ""}`} data-photo={sha} onClick={onPick} aria-pressed={on}>
      {src ? <img src={src} alt="" /> : <span class="small">…</span>}
    </button>
  );
}

function Editor({ b, reload, canEdit }: { b: Bulletin; reload: () => void; canEdit: boolean }) {
  const [note, setNote] = useState(b.note);
  const [plans, setPlans] = useState<Plan[]>(b.plans);
  const [picks, setPicks] = useState<Pick[]>(b.highlights);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const draft = b.status === "draft" && canEdit;
  const first = addDays(b.week_start, 7), last = addDays(b.week_start, 13);

  async function run(fn: () => Promise<unknown>, done?: string) {
    setError(null);
    try {
      await fn();
      if (done) say(done);
      reload();
    } catch (e) {
      setError(errorText(e));
    }
  }
  const save = () => send("PUT", `/api/bulletins/${b.id}`, { note, plans, highlights: picks });
  // Not through run(): reloading would remount the editor (its key follows updated_at) and drop the
  // preview; what is on screen is what was just saved.
  async function showPreview() {
    setError(null);
    try {
      if (draft) await save();
      const blob = await (await fetchAuthed(b.image_url)).blob();
      setPreview(URL.createObjectURL(blob));
    } catch (e) {
      setError(errorText(e));
    }
  }
  function pick(c: Candidate, photo?: string | null) {
    const has = picks.find((p) => p.order_id === c.order_id);
    if (photo === undefined) {
      setPicks(has ? picks.filter((p) => p !== has) : [...picks, { order_id: c.order_id, photo: c.photos[0] ?? null, caption: "" }].slice(0, 4));
    } else setPicks(picks.map((p) => (p.order_id === c.order_id ? { ...p, photo } : p)));
  }
  const setPlan = (i: number, change: Partial<Plan>) => setPlans(plans.map((p, j) => (j === i ? { ...p, ...change } : p)));

  return (
    <div class="bulletin-editor" data-bulletin={b.id}>
      <div class="row wrap">
        <h3 class="grow">{b.estate} · {b.week_label}</h3>
        <span class={`chip ${b.status === "draft" ? "" : "on"}`} data-status={b.status}>{t(b.status === "draft" ? "c_bul_draft" : "c_bul_published")}</span>
      </div>
      <div class="card row bul-figures">
        <div><b data-figure="done">{b.content.done}</b><span class="small">{t("c_bul_done")}</span></div>
        <div><b data-figure="received">{b.content.received}</b><span class="small">{t("c_bul_received")}</span></div>
        <ul class="grow bul-cats">
          {Object.entries(b.content.by_category).map(([c, n]) => <li key={c}>{t(`cat_${c}`)} <b>{n}</b></li>)}
        </ul>
      </div>
      {b.status === "published" && <p class="hint">{t("c_bul_frozen")}</p>}
      {draft && (
        <>
          <h3>{t("c_bul_notable")}</h3>
          <p class="small">{t("c_bul_notable_hint")}</p>
          {b.candidates.length === 0 && <p class="empty">{t("c_bul_no_repairs")}</p>}
          <ul class="list">
            {b.candidates.map((c) => {
              const p = picks.find((x) => x.order_id === c.order_id);
              return (
                <li key={c.order_id} class="card" data-candidate={c.order_id}>
                  <label class="check">
                    <input type="checkbox" checked={!!p} onChange={() => pick(c)} />
                    <strong>{c.building} · {t(`cat_${c.category}`)}</strong>
                    <span class="small">{c.number} · {day(c.completed_at)}</span>
                  </label>
                  {p && (
                    <div class="bul-pick">
                      <div class="row wrap">
                        {c.photos.map((s) => <Thumb key={s} sha={s} on={p.photo === s} onPick={() => pick(c, s)} />)}
                        <button type="button" class={`small-btn ${p.photo ? "" : "on"}`} onClick={() => pick(c, null)}>{t("c_bul_no_photo")}</button>
                      </div>
                      <input maxLength={40} placeholder={t("c_bul_caption")} value={p.caption}
                        onInput={(e) => setPicks(picks.map((x) => (x === p ? { ...x, caption: (e.target as HTMLInputElement).value } : x)))} />
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
          <h3>{t("c_bul_plans")}</h3>
          {plans.map((p, i) => (
            <div key={i} class="card bul-plan" data-plan={i}>
              <div class="row wrap">
                <select value={p.kind} onChange={(e) => setPlan(i, { kind: (e.target as HTMLSelectElement).value })}>
                  {PLAN_KINDS.map((k) => <option key={k} value={k}>{t(`c_bul_kind_${k}`)}</option>)}
                </select>
                <input type="date" min={first} max={last} value={p.day} onInput={(e) => setPlan(i, { day: (e.target as HTMLInputElement).value })} />
                <input type="time" value={p.start} onInput={(e) => setPlan(i, { start: (e.target as HTMLInputElement).value })} />
                <span>–</span>
                <input type="time" value={p.end} onInput={(e) => setPlan(i, { end: (e.target as HTMLInputElement).value })} />
              </div>
              <div class="row wrap">
                <input class="grow" maxLength={40} placeholder={t("c_bul_title")} value={p.title} onInput={(e) => setPlan(i, { title: (e.target as HTMLInputElement).value })} />
                <input class="grow" maxLength={40} placeholder={t("c_bul_area")} value={p.area} onInput={(e) => setPlan(i, { area: (e.target as HTMLInputElement).value })} />
                <button type="button" class="small-btn" onClick={() => setPlans(plans.filter((_, j) => j !== i))}>{t("c_bul_remove")}</button>
              </div>
            </div>
          ))}
          <button type="button" data-action="add-plan" disabled={plans.length >= 12}
            onClick={() => setPlans([...plans, { kind: "water_cut", day: first, start: "09:00", end: "12:00", area: "", title: "" }])}>
            + {t("c_bul_add_plan")}
          </button>
          <h3>{t("c_bul_note")}</h3>
          <textarea rows={3} maxLength={300} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
        </>
      )}
      <ErrorLine error={error} />
      <div class="row wrap bul-actions">
        {draft && <button type="button" data-action="save" onClick={() => run(save, t("c_saved"))}>{t("c_bul_save")}</button>}
        <button type="button" data-action="preview" onClick={showPreview}>{t("c_bul_preview")}</button>
        {draft && (
          <button type="button" class="primary" data-action="publish"
            onClick={() => run(async () => { await save(); await send("POST", `/api/bulletins/${b.id}/publish`); }, t("c_bul_published"))}>
            {t("c_bul_publish")}
          </button>
        )}
        {canEdit && b.status === "published" && <button type="button" data-action="withdraw" onClick={() => run(() => send("POST", `/api/bulletins/${b.id}/withdraw`))}>{t("c_bul_withdraw")}</button>}
      </div>
      {b.share && (
        <div class="card bul-share" data-share>
          <h3>{t("c_bul_share")}</h3>
          <div class="row wrap">
            <div class="bul-qr" dangerouslySetInnerHTML={{ __html: b.share.qr_svg }} />
            <div class="grow">
              <p class="small">{t("c_bul_published_at")} {fullDateTime(b.published_at)}</p>
              <input readOnly value={b.share.url} data-share-url onFocus={(e) => (e.target as HTMLInputElement).select()} />
              <div class="row wrap">
                <button type="button" onClick={() => navigator.clipboard?.writeText(b.share!.url).then(() => say(t("c_bul_copied")))}>{t("c_bul_copy")}</button>
                <a class="button" href={b.share.image_url} target="_blank" rel="noopener">{t("c_bul_image")}</a>
                {canEdit && <button type="button" data-action="new-link" title={t("c_bul_new_link_hint")}
                  onClick={() => confirm(t("c_bul_new_link_hint")) && run(() => send("POST", `/api/bulletins/${b.id}/new-link`))}>
                  {t("c_bul_new_link")}
                </button>}
              </div>
            </div>
          </div>
        </div>
      )}
      {preview && <img class="bul-preview" src={preview} alt={t("c_bul_preview")} data-preview />}
    </div>
  );
}

export function Bulletins() {
  const me = useSignal(staff);
  const canEdit = !!me && ["team_lead", "supervisor", "admin"].includes(me.role);
  // An admin belongs to no estate: they pick one (the others' staff see their own).
  const admin = me?.role === "admin";
  const { data: estates } = useApi<{ id: string; name: string }[]>(admin ? "/api/estates" : null);
  const [estate, setEstate] = useState<string | null>(null);
  const estateId = admin ? estate ?? estates?.[0]?.id ?? null : null;
  const { data: list, error, reload: reloadList } = useApi<{ this_week: string; bulletins: { id: string; week_label: string; status: string }[] }>(
    admin && !estateId ? null : `/api/bulletins/${query({ estate_id: estateId })}`,
  );
  const [current, setCurrent] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const shown = current ?? list?.bulletins[0]?.id ?? null;
  const { data: b, reload } = useApi<Bulletin>(shown ? `/api/bulletins/${shown}` : null);

  async function openWeek(week: string) {
    setFailed(null);
    try {
      const got = await send<Bulletin>("POST", "/api/bulletins/", estateId ? { week_start: week, estate_id: estateId } : { week_start: week });
      setCurrent(got.id);
      reloadList();
    } catch (e) {
      setFailed(errorText(e));
    }
  }
  return (
    <div class="bulletins">
      <h2>{t("c_bulletin")}</h2>
      <p class="small">{t("c_bul_hint")}</p>
      {admin && estates && estates.length > 1 && (
        <select value={estateId ?? ""} onChange={(e) => { setEstate((e.target as HTMLSelectElement).value); setCurrent(null); }}>
          {estates.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
        </select>
      )}
      <ErrorLine error={error ?? failed} />
      {!list && !error && <Loading />}
      {list && (
        <div class="row wrap">
          <div class="seg">
            {list.bulletins.map((x) => (
              <button key={x.id} type="button" class={x.id === shown ? "on" : ""} data-week={x.id} onClick={() => setCurrent(x.id)}>
                {x.week_label.replace(/^\d+年/, "")} · {t(x.status === "draft" ? "c_bul_draft" : "c_bul_published")}
              </button>
            ))}
          </div>
          {canEdit && <button type="button" data-action="this-week" onClick={() => openWeek(list.this_week)}>{t("c_bul_this_week")}</button>}
          {canEdit && <button type="button" data-action="last-week" onClick={() => openWeek(addDays(list.this_week, -7))}>{t("c_bul_last_week")}</button>}
        </div>
      )}
      {b && <Editor key={`${b.id}-${b.status}-${b.updated_at ?? ""}`} b={b} canEdit={canEdit} reload={() => { reload(); reloadList(); }} />}
    </div>
  );
}
