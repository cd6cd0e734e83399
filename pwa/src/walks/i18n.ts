// Strings of the walk-about (巡查) screens. zh-CN first.
import { extend } from "../i18n";

extend({
  zh: {
    walks: "巡查", walk: "巡查", start_walk: "开始巡查", end_walk: "结束巡查", end_walk_confirm: "确定结束本次巡查？",
    walk_active: "巡查中", walk_ended: "已结束", walk_started: "已开始巡查，记录保存在手机上",
    walk_saved_ended: "巡查已结束，将自动同步", no_walks: "还没有巡查记录", recent_walks: "最近巡查",
    checkpoints: "巡检点", no_checkpoints: "本网格还没有巡检点（联网同步后出现）", visited: "已巡", not_visited: "未巡",
    scan: "扫码打卡", scan_title: "扫描巡检点二维码", camera_live: "打开摄像头扫码", camera_stop: "关闭摄像头",
    photo_decode: "拍照识别", decoding: "正在识别…", no_qr: "图片里没有识别到二维码，请靠近重拍或从列表选择",
    not_a_label: "这不是本系统的巡检点二维码", unknown_code: "没有找到编号为 {code} 的巡检点（请先联网同步）",
    pick_manual: "标签损坏？从列表选择", manual: "手动选择", by_scan: "扫码", checklist: "检查项",
    ok: "正常", not_ok: "异常", fail_needs_evidence: "异常项需要填写说明或拍照", answer_all: "请逐项选择正常或异常",
    visit_saved: "已打卡，将自动同步", save_visit: "提交检查结果", visited_at: "打卡时间", failed_items: "项异常",
    renovation_patrol: "二次装修巡查", standard: "日常巡检",
    add_finding: "记录问题", findings: "发现问题", no_findings: "本次巡查暂无发现问题", category: "类别",
    location: "位置", household_pick: "房号（可选）", location_text: "楼栋/单元/具体位置", use_gps: "获取定位",
    gps_ok: "已定位（±{m} 米）", gps_fail: "无法定位，请填写楼栋单元", finding_saved: "已记录，将自动同步",
    finding_needs: "请填写说明或拍照", to_order: "一键转工单", order_kind: "工单类型", description: "描述",
    order_created: "已生成工单，将自动同步并派单", order_linked: "关联工单", pending_sync: "待同步",
    active_walk_elsewhere: "已有进行中的巡查", open_walk: "进入巡查", start_and_open: "开始巡查并打卡",
    checkpoint_not_on_walk: "该巡检点不在本次巡查的网格内", grid: "网格", choose_grid: "选择网格",
    coverage: "巡查覆盖", daily_log: "管家日志", period_day: "当天", period_week: "本周", on_time: "按时", late: "迟到",
    missed: "漏巡", pending: "待巡", steward: "管家", needs_network: "需要联网查看", orders_raised: "转工单",
    callbacks_done: "完成回访", totals: "合计", day: "日期", by_steward: "按管家", by_grid: "按网格",
    freq_daily: "每天", freq_twice_daily: "每天两次", freq_weekly: "每周", visits: "打卡",
  },
  en: {
    walks: "Walks", walk: "Walk", start_walk: "Start walk", end_walk: "End walk", end_walk_confirm: "End this walk?",
    walk_active: "Walking", walk_ended: "Ended", walk_started: "Walk started; saved on the phone",
    walk_saved_ended: "Walk ended; it will sync by itself", no_walks: "No walks yet", recent_walks: "Recent walks",
    checkpoints: "Checkpoints", no_checkpoints: "No checkpoints in this grid yet (they arrive with a sync)",
    visited: "Visited", not_visited: "Not visited", scan: "Scan", scan_title: "Scan a checkpoint QR",
    camera_live: "Open camera", camera_stop: "Close camera", photo_decode: "Take a photo of the QR", decoding: "Reading…",
    no_qr: "No QR code found in the picture: move closer and retry, or pick from the list",
    not_a_label: "Not a checkpoint label of this system", unknown_code: "No checkpoint with code {code} (sync first)",
    pick_manual: "Label damaged? Pick from the list", manual: "Manual", by_scan: "Scan", checklist: "Checklist",
    ok: "OK", not_ok: "Not OK", fail_needs_evidence: "A failed item needs a note or a photo",
    answer_all: "Mark every item OK or not OK", visit_saved: "Checked in; it will sync by itself",
    save_visit: "Submit checklist", visited_at: "Visited at", failed_items: "failed",
    renovation_patrol: "Renovation patrol", standard: "Routine check",
    add_finding: "Add finding", findings: "Findings", no_findings: "No findings on this walk", category: "Category",
    location: "Location", household_pick: "Flat (optional)", location_text: "Building / unit / spot", use_gps: "Use GPS",
    gps_ok: "Located (±{m} m)", gps_fail: "No location; type the building and unit", finding_saved: "Saved; it will sync",
    finding_needs: "Add a note or a photo", to_order: "Make a work order", order_kind: "Order kind",
    description: "Description", order_created: "Order created; it syncs and gets dispatched",
    order_linked: "Work order", pending_sync: "Waiting to sync", active_walk_elsewhere: "A walk is in progress",
    open_walk: "Open walk", start_and_open: "Start a walk and check in",
    checkpoint_not_on_walk: "This checkpoint is not in the walk's grid", grid: "Grid", choose_grid: "Choose grid",
    coverage: "Coverage", daily_log: "Daily log", period_day: "Day", period_week: "Week", on_time: "On time", late: "Late",
    missed: "Missed", pending: "Pending", steward: "Steward", needs_network: "Needs a network connection",
    orders_raised: "Orders raised", callbacks_done: "Callbacks done", totals: "Totals", day: "Day",
    by_steward: "By steward", by_grid: "By grid", freq_daily: "Daily", freq_twice_daily: "Twice a day",
    freq_weekly: "Weekly", visits: "Check-ins",
  },
});

/** ``t`` with ``{name}`` placeholders. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}
