// 通知记录 · every message the server sent or will send (in-app push, WeCom, SMS, team robot) with its
// time (Asia/Shanghai), the provider's answer and why it failed, in Chinese; and 通知设置 · the estate's
// channels and policy (SMS sign name and templates, quiet hours, fallback minutes) for supervisors.
import { useState } from "preact/hooks";
import { say, staff } from "../app";
import { extend, t } from "../i18n";
import { useSignal } from "../state";
import { send, useApi } from "./net";
import { ErrorLine, Loading, when } from "./widgets";

extend({
  zh: {
    c_notify_log: "通知记录", c_notify_policy: "通知设置", n_order: "工单号", n_channel: "渠道", n_to: "接收人", n_event: "事件", n_sent_at: "发送时间",
    n_state: "状态", n_answer: "服务商应答", n_text: "内容", n_read: "已读", n_clicked: "已点开链接", n_due: "预计发送",
    ch_webpush: "应用推送", ch_webhook: "Webhook", ch_sms: "短信", ch_wecom: "企业微信", ch_wecom_bot: "企业微信群",
    ds_pending: "待发送", ds_sending: "发送中", ds_retry: "等待重试", ds_delivered: "已送达", ds_failed: "失败", ds_gone: "设备已失效", ds_skipped: "未发送",
    ev_new_assignment: "新派单", ev_reassignment: "改派", ev_near_breach: "即将超时", ev_breach: "已超时", ev_escalation: "严重超时升级",
    ev_unsatisfied: "不满意评价", ev_callback_due: "回访到期", ev_accepted: "已受理（师傅与预计时间）", ev_on_the_way: "师傅已出发",
    ev_step_done: "完成一步", ev_completed: "已完成（评价链接）", ev_follow_up: "已开回访单",
    n_owner: "业主", n_team: "班组群", n_none: "暂无通知记录", n_all: "全部", n_sms_today: "今日短信", n_sms_cap: "每日上限",
    n_sms_days: "短信用量（按天）", n_sent: "已发", n_failed: "失败", n_waiting: "待发", n_skipped: "未发",
    n_staff_rules: "员工通知（按顺序补发：前一渠道 N 分钟内未读则发下一渠道）", n_owner_rules: "业主短信（含进度链接）",
    n_fallback: "补发间隔（分钟）", n_team_robot: "同时发到部门群机器人", n_quiet: "业主免打扰时段（紧急工单除外）",
    n_dedupe: "同一工单同类短信合并（分钟）", n_per_order: "每单每天最多短信", n_sms_provider: "短信服务商",
    p_aliyun: "阿里云短信", p_tencent: "腾讯云短信", p_none: "未配置", n_sign: "短信签名", n_key_id: "AccessKey ID / SecretId",
    n_key_secret: "AccessKey Secret / SecretKey", n_secret_set: "已设置（留空则不变）", n_app_id: "SdkAppId（腾讯云）",
    n_endpoint: "接口地址（留空为官方地址）", n_template: "模板编号", n_daily_cap: "每日短信上限", n_wecom: "企业微信",
    n_corp_id: "CorpID", n_agent_id: "应用 AgentId", n_wecom_secret: "应用 Secret", n_robots: "群机器人（每行：部门=key）",
    n_submit_text: "报备模板内容", n_longest: "最长 {n} 字", n_save: "保存设置", n_too_long: "超过一条短信（70 字）",
    n_policy_hint: "先在服务商后台报备签名和模板（内容见右侧），审核通过后填入模板编号。",
  },
  en: {
    c_notify_log: "Deliveries", c_notify_policy: "Notification policy", n_order: "Order", n_channel: "Channel", n_to: "To", n_event: "Event", n_sent_at: "Sent",
    n_state: "State", n_answer: "Provider answer", n_text: "Text", n_read: "Read", n_clicked: "Link opened", n_due: "Due",
    ch_webpush: "App push", ch_webhook: "Webhook", ch_sms: "SMS", ch_wecom: "WeCom", ch_wecom_bot: "WeCom group",
    ds_pending: "Pending", ds_sending: "Sending", ds_retry: "Retrying", ds_delivered: "Delivered", ds_failed: "Failed", ds_gone: "Device gone", ds_skipped: "Not sent",
    ev_new_assignment: "New assignment", ev_reassignment: "Reassigned", ev_near_breach: "Near breach", ev_breach: "Breach", ev_escalation: "Escalation",
    ev_unsatisfied: "Unsatisfied rating", ev_callback_due: "Callback due", ev_accepted: "Accepted (handler, ETA)", ev_on_the_way: "On the way",
    ev_step_done: "Step done", ev_completed: "Completed (rating link)", ev_follow_up: "Follow-up opened",
    n_owner: "Owner", n_team: "Team group", n_none: "No deliveries yet", n_all: "All", n_sms_today: "SMS today", n_sms_cap: "Daily cap",
    n_sms_days: "SMS per day", n_sent: "Sent", n_failed: "Failed", n_waiting: "Waiting", n_skipped: "Not sent",
    n_staff_rules: "Staff (fallback in order: the next channel when unread after N minutes)", n_owner_rules: "Owner SMS (with the progress link)",
    n_fallback: "Fallback after (min)", n_team_robot: "Also post to the department's group robot", n_quiet: "Owner quiet hours (emergencies excepted)",
    n_dedupe: "Merge same-event SMS per order (min)", n_per_order: "SMS per order per day", n_sms_provider: "SMS provider",
    p_aliyun: "Alibaba Cloud SMS", p_tencent: "Tencent Cloud SMS", p_none: "Not configured", n_sign: "Sign name", n_key_id: "AccessKey ID / SecretId",
    n_key_secret: "AccessKey Secret / SecretKey", n_secret_set: "Set (leave empty to keep)", n_app_id: "SdkAppId (Tencent)",
    n_endpoint: "Endpoint (empty: the official one)", n_template: "Template code", n_daily_cap: "SMS per day at most", n_wecom: "WeCom",
    n_corp_id: "CorpID", n_agent_id: "AgentId", n_wecom_secret: "App secret", n_robots: "Group robots (one per line: department=key)",
    n_submit_text: "Template to submit", n_longest: "{n} characters at most", n_save: "Save", n_too_long: "Longer than one SMS (70)",
    n_policy_hint: "Submit the sign name and templates (text on the right) to the provider; once approved, enter the template codes.",
  },
});

function useEstate(): [string, (id: string) => void, any[] | undefined] {
  const me = useSignal(staff) as any;
  const estates = useApi<any[]>("/api/estates");
  const [estate, setEstate] = useState<string>(me?.estate_id ?? "");
  return [estate || estates.data?.[0]?.id || "", setEstate, estates.data];
}

function EstatePicker({ chosen, set, estates }: { chosen: string; set: (id: string) => void; estates?: any[] }) {
  if ((estates?.length ?? 0) < 2) return null;
  return (
    <select value={chosen} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
      {estates!.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
    </select>
  );
}

function who(d: any): string {
  if (d.audience === "owner") return `${t("n_owner")} ${d.recipient}`;
  if (d.audience === "team") return `${t("n_team")} · ${t(`dept_${d.recipient}`)}`;
  return d.recipient_name || d.recipient;
}

/** One line per delivery: what, to whom, when, and what became of it. */
export function DeliveryList({ rows, showOrder }: { rows: any[]; showOrder?: boolean }) {
  if (rows.length === 0) return <p class="empty">{t("n_none")}</p>;
  return (
    <table class="grid-table deliveries" data-test="deliveries">
      <thead>
        <tr>
          <th>{t("n_sent_at")}</th>{showOrder && <th>{t("n_order")}</th>}<th>{t("n_channel")}</th><th>{t("n_to")}</th>
          <th>{t("n_event")}</th><th>{t("n_state")}</th><th>{t("n_answer")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id} data-channel={d.channel} data-state={d.state}>
            <td>{when(d.delivered_at || d.created_at)}{d.next_attempt_at && <div class="small">{t("n_due")} {when(d.next_attempt_at)}</div>}</td>
            {showOrder && <td>{d.order_id ? <a href={`#/desk/orders/${d.order_id}`}>{d.order_number}</a> : "—"}</td>}
            <td>{t(`ch_${d.channel}`)}</td>
            <td>{who(d)}</td>
            <td>{d.event ? t(`ev_${d.event}`) : "—"}{d.text && <div class="small pre">{d.text}</div>}</td>
            <td>
              <b class={`dstate ds-${d.state}`}>{t(`ds_${d.state}`)}</b>
              {d.read_at && <div class="small">{t("n_read")} {when(d.read_at)}</div>}
              {d.clicked_at && <div class="small">{t("n_clicked")} {when(d.clicked_at)}</div>}
            </td>
            <td>
              {d.reason && <div class={d.state === "failed" ? "warn-text" : ""} data-test="delivery-reason">{d.reason}</div>}
              {d.answer && <div class="small mono">{d.answer}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The order page's section: every message about this order. */
export function OrderDeliveries({ orderId }: { orderId: string }) {
  const { data, error } = useApi<any[]>(`/api/notify/orders/${orderId}/deliveries`);
  if (error) return <ErrorLine error={error} />;
  if (!data) return <Loading />;
  return <DeliveryList rows={data} />;
}

const CHANNELS = ["", "sms", "wecom", "wecom_bot", "webpush"];

export function NotifyLog() {
  const [estate, setEstate, estates] = useEstate();
  const [channel, setChannel] = useState("");
  const rows = useApi<any[]>(estate ? `/api/notify/${estate}/deliveries${channel ? `?channel=${channel}` : ""}` : null);
  const usage = useApi<any>(estate ? `/api/notify/${estate}/sms-usage` : null);
  const today = usage.data?.days?.[0];
  return (
    <div class="notify-log">
      <div class="row">
        <h2 class="grow">{t("c_notify_log")}</h2>
        <EstatePicker chosen={estate} set={setEstate} estates={estates} />
        <div class="seg">
          {CHANNELS.map((c) => (
            <button key={c} class={channel === c ? "on" : ""} data-channel-filter={c || "all"} onClick={() => setChannel(c)}>{c ? t(`ch_${c}`) : t("n_all")}</button>
          ))}
        </div>
      </div>
      {usage.data && (
        <div class="card row" data-test="sms-usage">
          <span class="grow">{t("n_sms_days")}</span>
          {(usage.data.days as any[]).slice(0, 7).map((d) => (
            <span key={d.day} class="small">{d.day.slice(5)}：{t("n_sent")} {d.sent} · {t("n_failed")} {d.failed} · {t("n_waiting")} {d.waiting}</span>
          ))}
          {!today && <span class="small">{t("n_sms_today")} 0</span>}
          <span class="small">{t("n_sms_cap")} {usage.data.daily_cap}</span>
        </div>
      )}
      <ErrorLine error={rows.error} />
      {!rows.data ? <Loading /> : <DeliveryList rows={rows.data} showOrder />}
    </div>
  );
}

const STAFF_CH = ["webpush", "wecom", "sms"];

export function NotifyPolicy() {
  const [estate, setEstate, estates] = useEstate();
  const { data, error, reload } = useApi<any>(estate ? `/api/notify/${estate}/policy` : null);
  const [draft, setDraft] = useState<any>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [robotsText, setRobotsText] = useState<string | null>(null);
  if (error) return <ErrorLine error={error} />;
  if (!data) return <Loading />;
  const p = draft ?? data.policy;
  const set = (path: string[], value: unknown) => {
    const next = structuredClone(p);
    let at = next;
    for (const k of path.slice(0, -1)) at = at[k] ??= {};
    at[path[path.length - 1]] = value;
    setDraft(next);
  };
  const rule = (e: string) => p.staff?.[e] ?? { channels: ["webpush"], fallback_minutes: 10, team: false };
  const robots = Object.entries(p.wecom.robots ?? {}).map(([k, v]) => `${k}=${v}`).join("\n");

  async function save() {
    const body = structuredClone(p);
    for (const part of ["sms", "wecom"]) for (const k of Object.keys(body[part])) if (k.endsWith("_set")) delete body[part][k];
    if (robotsText !== null) {
      body.wecom.robots = Object.fromEntries(
        robotsText.split("\n").map((l) => l.split("=").map((x) => x.trim())).filter((kv) => kv.length === 2 && kv[0] && kv[1]),
      );
    }
    setSaveError(null);
    try {
      await send("PUT", `/api/notify/${estate}/policy`, body);
      setDraft(null);
      setRobotsText(null);
      say(t("c_saved"));
      reload();
    } catch (e) {
      setSaveError((e as Error).message);
    }
  }

  const text = (label: string, path: string[], attrs: Record<string, unknown> = {}) => (
    <label class="field">
      <span>{label}</span>
      <input name={path.join(".")} value={path.reduce((o: any, k) => o?.[k], p) ?? ""} {...attrs}
        onInput={(e) => set(path, (e.target as HTMLInputElement).value)} />
    </label>
  );
  const num = (label: string, path: string[]) => (
    <label class="field">
      <span>{label}</span>
      <input class="num" name={path.join(".")} inputMode="numeric" value={String(path.reduce((o: any, k) => o?.[k], p) ?? "")}
        onInput={(e) => set(path, Number((e.target as HTMLInputElement).value) || 0)} />
    </label>
  );

  return (
    <div class="notify-policy" data-test="notify-policy">
      <div class="row">
        <h2 class="grow">{t("c_notify_policy")}</h2>
        <EstatePicker chosen={estate} set={(id) => { setEstate(id); setDraft(null); }} estates={estates} />
        <button class="primary" data-action="save-policy" onClick={save}>{t("n_save")}</button>
      </div>
      <ErrorLine error={saveError} />
      <div class="card">
        <h3>{t("n_staff_rules")}</h3>
        <table class="grid-table" data-test="staff-rules">
          <thead><tr><th>{t("n_event")}</th>{STAFF_CH.map((c) => <th key={c}>{t(`ch_${c}`)}</th>)}<th>{t("n_fallback")}</th><th>{t("n_team_robot")}</th></tr></thead>
          <tbody>
            {(data.staff_events as string[]).map((e) => {
              const r = rule(e);
              return (
                <tr key={e} data-event={e}>
                  <td>{t(`ev_${e}`)}</td>
                  {STAFF_CH.map((c) => (
                    <td key={c}>
                      <input type="checkbox" name={`${e}.${c}`} checked={r.channels.includes(c)}
                        onChange={(ev) => {
                          const on = (ev.target as HTMLInputElement).checked;
                          const channels = STAFF_CH.filter((x) => (x === c ? on : r.channels.includes(x)));
                          set(["staff", e], { ...r, channels });
                        }} />
                    </td>
                  ))}
                  <td><input class="num" name={`${e}.fallback`} inputMode="numeric" value={String(r.fallback_minutes)}
                    onInput={(ev) => set(["staff", e], { ...r, fallback_minutes: Number((ev.target as HTMLInputElement).value) || 1 })} /></td>
                  <td><input type="checkbox" name={`${e}.team`} checked={r.team} onChange={(ev) => set(["staff", e], { ...r, team: (ev.target as HTMLInputElement).checked })} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div class="card">
        <h3>{t("n_owner_rules")}</h3>
        <p class="small">{t("n_policy_hint")}</p>
        <table class="grid-table" data-test="owner-rules">
          <thead><tr><th>{t("n_event")}</th><th>{t("ch_sms")}</th><th>{t("n_template")}</th><th>{t("n_submit_text")}</th></tr></thead>
          <tbody>
            {(data.owner_events as string[]).map((e) => {
              const info = data.owner_texts[e];
              return (
                <tr key={e} data-event={e}>
                  <td>{t(`ev_${e}`)}</td>
                  <td><input type="checkbox" name={`owner.${e}`} checked={!!p.owner?.[e]} onChange={(ev) => set(["owner", e], (ev.target as HTMLInputElement).checked)} /></td>
                  <td><input name={`template.${e}`} value={p.sms.templates?.[e] ?? ""} onInput={(ev) => set(["sms", "templates", e], (ev.target as HTMLInputElement).value)} /></td>
                  <td class="small">【{p.sms.sign_name || "…"}】{info.submitted}
                    <div class={info.longest > data.segment ? "warn-text" : ""}>{t("n_longest", { n: info.longest })}{info.longest > data.segment && ` · ${t("n_too_long")}`}</div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <div class="row wrap">
          <label class="field"><span>{t("n_quiet")}</span>
            <span class="range"><input class="num" name="quiet_start" value={p.quiet_start} onInput={(e) => set(["quiet_start"], (e.target as HTMLInputElement).value)} />
              {" – "}<input class="num" name="quiet_end" value={p.quiet_end} onInput={(e) => set(["quiet_end"], (e.target as HTMLInputElement).value)} /></span>
          </label>
          {num(t("n_dedupe"), ["dedupe_minutes"])}
          {num(t("n_per_order"), ["owner_sms_per_order_per_day"])}
        </div>
      </div>
      <div class="card">
        <h3>{t("n_sms_provider")}</h3>
        <div class="row wrap">
          <label class="field"><span>{t("n_sms_provider")}</span>
            <select name="sms.provider" value={p.sms.provider} onChange={(e) => set(["sms", "provider"], (e.target as HTMLSelectElement).value)}>
              <option value="">{t("p_none")}</option><option value="aliyun">{t("p_aliyun")}</option><option value="tencent">{t("p_tencent")}</option>
            </select>
          </label>
          {text(t("n_sign"), ["sms", "sign_name"], { maxLength: 12 })}
          {text(t("n_key_id"), ["sms", "access_key_id"])}
          {text(t("n_key_secret"), ["sms", "access_key_secret"], { type: "password", placeholder: data.policy.sms.access_key_secret_set ? t("n_secret_set") : "" })}
          {text(t("n_app_id"), ["sms", "sdk_app_id"])}
          {text(t("n_endpoint"), ["sms", "endpoint"])}
          {num(t("n_daily_cap"), ["sms", "daily_cap"])}
        </div>
      </div>
      <div class="card">
        <h3>{t("n_wecom")}</h3>
        <div class="row wrap">
          {text(t("n_corp_id"), ["wecom", "corp_id"])}
          {text(t("n_agent_id"), ["wecom", "agent_id"])}
          {text(t("n_wecom_secret"), ["wecom", "secret"], { type: "password", placeholder: data.policy.wecom.secret_set ? t("n_secret_set") : "" })}
          {text(t("n_endpoint"), ["wecom", "endpoint"])}
          <label class="field"><span>{t("n_robots")}</span>
            <textarea name="wecom.robots" rows={3} value={robotsText ?? robots}
              onInput={(e) => setRobotsText((e.target as HTMLTextAreaElement).value)} />
          </label>
        </div>
      </div>
    </div>
  );
}
