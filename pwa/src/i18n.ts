// zh-CN first; English switchable in settings. Keys are short English phrases.
import { signal } from "./state";

type Table = Record<string, string>;

const zh: Table = {
  app: "物业外勤", login: "登录", phone: "手机号", password: "密码", signing_in: "正在登录…",
  tasks: "我的任务", sync: "同步", notifications: "通知", settings: "设置", no_tasks: "暂无待办工单",
  overdue: "已超时", due_in: "剩余", accept: "接单", take: "抢单", depart: "出发", arrive: "到场",
  pause: "暂停", resume: "继续", complete: "完工", add_step: "添加处理步骤", set_eta: "预计到达",
  steps: "处理步骤", timeline: "进度", materials: "材料", photos: "照片", note: "说明", save: "保存",
  cancel: "取消", quantity: "数量", unit: "单位", add_material: "添加材料", uploading: "上传中", upload_waiting: "待上传", photo_open: "查看大图",
  pending_changes: "待同步操作", pending_photos: "待上传照片", last_sync: "上次同步", never: "从未",
  live_stream: "实时通道", live_on: "已连接，新工单即时到达", live_off: "未连接，每30秒检查一次",
  sync_now: "立即同步", rejected: "未被服务器接受", rejected_hint: "该操作已撤销。请刷新工单查看最新状态，必要时联系调度。",
  storage: "存储", persisted: "已申请持久存储", not_persisted: "未持久存储（清理浏览器数据会丢失离线记录）",
  language: "语言", push: "新工单推送", push_on: "开启推送", push_off: "关闭推送", logout: "退出登录",
  logout_warn: "还有 {n} 条记录未能同步（当前无网络）。退出后它们封存在本机，只在您本人再次登录时发送，别人看不到、也不会代发。确定退出？",
  offline: "离线", online: "在线", logout_syncing: "正在同步，请稍候…",
  sealed_count: "{name} 有 {n} 条记录待同步", sealed_photos: "另有 {n} 张照片", sealed_hint: "本人登录后自动发送",
  handover: "本机封存的记录", handover_hint: "别人的记录不会以您的名义发送。离职人员的记录可导出为交接文件（保留原作者和时间），导出后从本机移除。",
  handover_btn: "导出交接文件并移除", handover_confirm: "导出 {name} 的 {n} 条记录作为交接凭证，然后从本机移除。继续？",
  update_ready: "有新版本", update: "更新", reason: "原因", waiting_owner: "等待业主", parts_on_order: "等待配件",
  other: "其他", reporter: "报事人", call: "拨打", household: "房号", status: "状态", back: "返回",
  new: "新建", dispatched: "已派单", accepted: "已接单", en_route: "已出发", on_site: "已到场", paused: "已暂停",
  completed: "已完工", rated: "已评价", called_back: "已回访", closed: "已关闭", cancelled: "已取消",
  repair: "报修", complaint: "投诉", inquiry: "咨询", convenience: "便民", emergency: "紧急", callback: "回访",
  quota_error: "手机存储空间不足，无法保存。请清理空间后重试。", local_error: "手机本地记录出错，未能保存，请重试。", wrong_login: "手机号或密码错误",
  login_wait: "密码错误次数过多，请 {s} 秒后再试", push_refused: "此浏览器的推送服务未被允许；新工单仍会在同步时出现在通知里。",
  update_app: "请更新应用后再同步", need_login: "登录已过期，请重新登录（离线记录已保留）",
  step_saved: "已保存，将自动同步", add_photo: "拍照/选图", max_photos: "最多 9 张照片", eta_saved: "已更新预计到达时间",
  empty_feed: "暂无通知", waiting_network: "当前无网络，记录已保存在手机上，恢复网络后自动同步。",
  photo_incomplete: "照片不完整（文件没有传完或已损坏），请重新拍摄", photo_unsupported: "格式不支持，请选择 JPEG、PNG 或 WebP 照片",
  photo_too_large: "照片太大（超过 50 MB 或 1.2 亿像素），请用相机的普通模式重拍",
  // The one table of category names, for every screen (owners' form on the server: server/progress/i18n.py CATEGORY,
  // kept equal by tests/test_words_on_screen.py).
  cat_water_electric: "水电", cat_lift: "电梯", cat_cleaning: "保洁", cat_security: "安保", cat_noise: "噪音", cat_fees: "物业费",
  cat_parking: "停车", cat_landscaping: "绿化", cat_renovation: "装修", cat_facilities: "公共设施", cat_other: "其他",
  answer: "当场答复", close: "关闭", reopen: "重新打开", rate: "评价", report_photos: "业主上传照片", rework: "返修", finding: "巡查发现",
  n_duty_unanswered: "值班无人接单：{kind}工单 {number}", n_duty_unanswered_body: "值班表上的人员均未在{minutes}分钟内接单，当前在{name}名下",
  n_sla_body: "{stage}时限 {due}", stage_contact: "响应", stage_update: "进展更新", stage_resolve: "办结", stage_callback: "回访",
  sla_near: "即将超时", sla_breach: "已超时", sla_escalated: "严重超时（已上报主管）", note_added: "备注", step_n: "处理步骤 {n}",
  server_busy: "服务器繁忙，稍后自动重试。", used: "已用", of: "共", synced: "已同步", create: "创建", dispatch: "派单", reassign: "改派",
};

const en: Table = {
  app: "Wuye Field", login: "Sign in", phone: "Phone", password: "Password", signing_in: "Signing in…",
  tasks: "My tasks", sync: "Sync", notifications: "Alerts", settings: "Settings", no_tasks: "Nothing to do",
  overdue: "Overdue", due_in: "Due in", accept: "Accept", take: "Take", depart: "Depart", arrive: "Arrive",
  pause: "Pause", resume: "Resume", complete: "Complete", add_step: "Add step", set_eta: "ETA",
  steps: "Steps", timeline: "Progress", materials: "Materials", photos: "Photos", note: "Note", save: "Save",
  cancel: "Cancel", quantity: "Qty", unit: "Unit", add_material: "Add material", uploading: "Uploading", upload_waiting: "Waiting to upload", photo_open: "View photo",
  pending_changes: "Changes to sync", pending_photos: "Photos to upload", last_sync: "Last sync", never: "never",
  live_stream: "Live channel", live_on: "Connected: new orders arrive at once", live_off: "Not connected: checking every 30 s",
  sync_now: "Sync now", rejected: "Not accepted by the server", rejected_hint: "This change was undone. Refresh the order; ask dispatch if unsure.",
  storage: "Storage", persisted: "Persistent storage granted", not_persisted: "Not persistent (clearing browser data loses offline work)",
  language: "Language", push: "Push for new orders", push_on: "Enable push", push_off: "Disable push", logout: "Sign out",
  logout_warn: "{n} records could not be synced (no network). They stay sealed on this device and are sent only when you sign in again; nobody else sees or sends them. Sign out?",
  offline: "Offline", online: "Online", logout_syncing: "Syncing, please wait…",
  sealed_count: "{name} has {n} records waiting to sync", sealed_photos: "and {n} photos", sealed_hint: "sent when they sign in",
  handover: "Sealed work on this device", handover_hint: "Nobody's work is sent under your name. A departed person's work can be exported as a hand-over file (original author and times kept), then removed from this device.",
  handover_btn: "Export hand-over file and remove", handover_confirm: "Export {name}'s {n} records as a hand-over record, then remove them from this device?",
  update_ready: "A new version is ready", update: "Update", reason: "Reason", waiting_owner: "Waiting for owner",
  parts_on_order: "Parts on order", other: "Other", reporter: "Reporter", call: "Call", household: "Flat",
  status: "Status", back: "Back", new: "New", dispatched: "Dispatched", accepted: "Accepted", en_route: "En route",
  on_site: "On site", paused: "Paused", completed: "Completed", rated: "Rated", called_back: "Called back",
  closed: "Closed", cancelled: "Cancelled", repair: "Repair", complaint: "Complaint", inquiry: "Inquiry",
  convenience: "Convenience", emergency: "Emergency", callback: "Callback",
  quota_error: "The phone is out of storage; nothing was saved. Free some space and retry.",
  local_error: "The phone's local records failed; nothing was saved. Please retry.",
  wrong_login: "Wrong phone or password",
  login_wait: "Too many wrong passwords; try again in {s} s",
  push_refused: "This browser's push service is not allowed; new orders still arrive in notifications when you sync.", update_app: "Please update the app to sync",
  need_login: "Session expired: sign in again (offline work is kept)", step_saved: "Saved; it will sync by itself",
  add_photo: "Photo", waiting_network: "No network: your work is saved on the phone and syncs when the network is back.",
  photo_incomplete: "incomplete (cut short or damaged); please take it again",
  photo_unsupported: "format not supported; choose a JPEG, PNG or WebP photo",
  photo_too_large: "too large (over 50 MB or 120 megapixels); use the camera's normal mode",
  cat_water_electric: "Water & power", cat_lift: "Lift", cat_cleaning: "Cleaning", cat_security: "Security", cat_noise: "Noise", cat_fees: "Fees",
  cat_parking: "Parking", cat_landscaping: "Landscaping", cat_renovation: "Renovation", cat_facilities: "Facilities", cat_other: "Other",
  answer: "Answered", close: "Closed", reopen: "Reopened", rate: "Rated", report_photos: "Owner's photos", rework: "Re-repair", finding: "Walk finding",
  sla_near: "Nearly overdue", sla_breach: "Overdue", sla_escalated: "Badly overdue (supervisor told)", note_added: "Note", step_n: "Step {n}",
  n_assigned: "New {kind} order {number}", n_unassigned: "Order {number} was reassigned",
  n_unsatisfied: "Owner unsatisfied: {number}", n_unsatisfied_body: "Please call the owner back soon",
  n_sla: "{level}: {kind} order {number}", n_sla_body: "{stage} due {due}",
  n_duty_unanswered: "Nobody on duty accepted: {kind} order {number}", n_duty_unanswered_body: "Not accepted within {minutes} minutes by anyone on the roster; now with {name}",
  stage_contact: "Response", stage_update: "Progress update", stage_resolve: "Completion", stage_callback: "Callback",
  server_busy: "The server is busy; retrying shortly.", max_photos: "At most 9 photos", eta_saved: "ETA updated", empty_feed: "No alerts yet",
  used: "used", of: "of", synced: "Synced", create: "Created", dispatch: "Dispatched", reassign: "Reassigned",
};

export const lang = signal<"zh-CN" | "en">((localStorage.getItem("wuye.lang") as "zh-CN" | "en") || "zh-CN");

export function setLang(value: "zh-CN" | "en"): void {
  localStorage.setItem("wuye.lang", value);
  document.documentElement.lang = value;
  lang.set(value);
}

/** Feature folders (walks, console) bring their own strings: ``extend({zh: {...}, en: {...}})``. */
export function extend(tables: { zh: Table; en: Table }): void {
  Object.assign(zh, tables.zh);
  Object.assign(en, tables.en);
}

export function t(key: string, params?: Record<string, string | number>): string {
  const table = lang.get() === "en" ? en : zh;
  const text = table[key] ?? zh[key] ?? key;
  return params ? text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m)) : text;
}
