// zh-CN first; English switchable in settings. Keys are short English phrases.
import { signal } from "./state";

type Table = Record<string, string>;

const zh: Table = {
  app: "物业外勤", login: "登录", phone: "手机号", password: "密码", signing_in: "正在登录…",
  tasks: "我的任务", sync: "同步", notifications: "通知", settings: "设置", no_tasks: "暂无待办工单",
  overdue: "已超时", due_in: "剩余", accept: "接单", take: "抢单", depart: "出发", arrive: "到场",
  pause: "暂停", resume: "继续", complete: "完工", add_step: "添加处理步骤", set_eta: "预计到达",
  steps: "处理步骤", timeline: "进度", materials: "材料", photos: "照片", note: "说明", save: "保存",
  cancel: "取消", quantity: "数量", unit: "单位", add_material: "添加材料", uploading: "上传中", photo_open: "查看大图",
  pending_changes: "待同步操作", pending_photos: "待上传照片", last_sync: "上次同步", never: "从未",
  sync_now: "立即同步", rejected: "未被服务器接受", rejected_hint: "该操作已撤销。请刷新工单查看最新状态，必要时联系调度。",
  storage: "存储", persisted: "已申请持久存储", not_persisted: "未持久存储（清理浏览器数据会丢失离线记录）",
  language: "语言", push: "新工单推送", push_on: "开启推送", push_off: "关闭推送", logout: "退出登录",
  logout_warn: "还有未同步的记录，退出会丢失它们。确定退出？", offline: "离线", online: "在线",
  update_ready: "有新版本", update: "更新", reason: "原因", waiting_owner: "等待业主", parts_on_order: "等待配件",
  other: "其他", reporter: "报事人", call: "拨打", household: "房号", status: "状态", back: "返回",
  new: "新建", dispatched: "已派单", accepted: "已接单", en_route: "已出发", on_site: "已到场", paused: "已暂停",
  completed: "已完工", rated: "已评价", called_back: "已回访", closed: "已关闭", cancelled: "已取消",
  repair: "报修", complaint: "投诉", inquiry: "咨询", convenience: "便民", emergency: "紧急", callback: "回访",
  quota_error: "手机存储空间不足，无法保存。请清理空间后重试。", wrong_login: "手机号或密码错误",
  update_app: "请更新应用后再同步", need_login: "登录已过期，请重新登录（离线记录已保留）",
  step_saved: "已保存，将自动同步", add_photo: "拍照/选图", max_photos: "最多 9 张照片", eta_saved: "已更新预计到达时间",
  empty_feed: "暂无通知", waiting_network: "当前无网络，记录已保存在手机上，恢复网络后自动同步。",
  server_busy: "服务器繁忙，稍后自动重试。", used: "已用", of: "共", synced: "已同步", create: "创建", dispatch: "派单", reassign: "改派",
  report_photos: "业主上传的照片",
};

const en: Table = {
  app: "Wuye Field", login: "Sign in", phone: "Phone", password: "Password", signing_in: "Signing in…",
  tasks: "My tasks", sync: "Sync", notifications: "Alerts", settings: "Settings", no_tasks: "Nothing to do",
  overdue: "Overdue", due_in: "Due in", accept: "Accept", take: "Take", depart: "Depart", arrive: "Arrive",
  pause: "Pause", resume: "Resume", complete: "Complete", add_step: "Add step", set_eta: "ETA",
  steps: "Steps", timeline: "Progress", materials: "Materials", photos: "Photos", note: "Note", save: "Save",
  cancel: "Cancel", quantity: "Qty", unit: "Unit", add_material: "Add material", uploading: "Uploading", photo_open: "View photo",
  pending_changes: "Changes to sync", pending_photos: "Photos to upload", last_sync: "Last sync", never: "never",
  sync_now: "Sync now", rejected: "Not accepted by the server", rejected_hint: "This change was undone. Refresh the order; ask dispatch if unsure.",
  storage: "Storage", persisted: "Persistent storage granted", not_persisted: "Not persistent (clearing browser data loses offline work)",
  language: "Language", push: "Push for new orders", push_on: "Enable push", push_off: "Disable push", logout: "Sign out",
  logout_warn: "Some work is not synced yet and would be lost. Sign out anyway?", offline: "Offline", online: "Online",
  update_ready: "A new version is ready", update: "Update", reason: "Reason", waiting_owner: "Waiting for owner",
  parts_on_order: "Parts on order", other: "Other", reporter: "Reporter", call: "Call", household: "Flat",
  status: "Status", back: "Back", new: "New", dispatched: "Dispatched", accepted: "Accepted", en_route: "En route",
  on_site: "On site", paused: "Paused", completed: "Completed", rated: "Rated", called_back: "Called back",
  closed: "Closed", cancelled: "Cancelled", repair: "Repair", complaint: "Complaint", inquiry: "Inquiry",
  convenience: "Convenience", emergency: "Emergency", callback: "Callback",
  quota_error: "The phone is out of storage; nothing was saved. Free some space and retry.",
  wrong_login: "Wrong phone or password", update_app: "Please update the app to sync",
  need_login: "Session expired: sign in again (offline work is kept)", step_saved: "Saved; it will sync by itself",
  add_photo: "Photo", waiting_network: "No network: your work is saved on the phone and syncs when the network is back.",
  server_busy: "The server is busy; retrying shortly.", max_photos: "At most 9 photos", eta_saved: "ETA updated", empty_feed: "No alerts yet",
  used: "used", of: "of", synced: "Synced", create: "Created", dispatch: "Dispatched", reassign: "Reassigned",
  report_photos: "Owner's photos",
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

export function t(key: string): string {
  const table = lang.get() === "en" ? en : zh;
  return table[key] ?? zh[key] ?? key;
}
