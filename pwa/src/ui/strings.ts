// Strings of the field screens' quick-use aids (badges, arrival toast, confirmations, quick ETA),
// merged into the shell's tables.
import { extend } from "../i18n";

extend({
  zh: {
    done_today: "今日已完成", urgent: "加急", minutes: "分钟", confirm_complete: "确认完工？",
    confirm_complete_hint: "完工后将通知业主评价，不能再添加处理步骤。", confirm_complete_yes: "确认完工",
    photo_remove: "删除照片", viewer_close: "关闭", unread: "未读", new_assignment: "新工单", open_it: "查看",
    push_unsupported: "此浏览器不支持推送（微信内置浏览器和部分安卓浏览器不支持），新工单仍会在同步时出现在通知里。",
    push_denied: "通知权限被拒绝：请在手机的设置 → 应用 → 浏览器 → 通知 中允许后重试。",
    push_dismissed: "未允许通知：请再点一次“开启推送”，在弹窗中选择“允许”。",
    push_offline: "当前无网络，无法开启推送，请联网后重试。",
    push_failed: "开启推送失败（推送服务不可用，国内部分手机无法连接推送服务）。新工单仍会在同步时出现在通知里。",
    push_enabled: "已开启推送", push_disabled: "已关闭推送",
  },
  en: {
    done_today: "Done today", urgent: "Urgent", minutes: " min", confirm_complete: "Complete this order?",
    confirm_complete_hint: "The owner will be asked to rate it; no more steps can be added.", confirm_complete_yes: "Yes, complete",
    photo_remove: "Remove photo", viewer_close: "Close", unread: "unread", new_assignment: "New order", open_it: "Open",
    push_unsupported: "This browser has no push (WeChat's browser and some Android browsers); new orders still appear under Alerts when syncing.",
    push_denied: "Notifications are blocked: allow them in the phone's settings for this browser, then retry.",
    push_dismissed: "Notifications were not allowed: tap Enable push again and choose Allow.",
    push_offline: "No network: connect, then enable push.",
    push_failed: "Push could not be enabled (the push service is unreachable); new orders still appear under Alerts when syncing.",
    push_enabled: "Push enabled", push_disabled: "Push disabled",
  },
});
