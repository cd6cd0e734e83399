"""Owner-facing words, zh-CN (default) and English. Labels are keyed by the code names of the glossary."""

from __future__ import annotations

LANGS = ("zh", "en")

STATUS = {
    "zh": {
        "new": "已受理，正在安排",
        "dispatched": "已派单",
        "accepted": "师傅已接单",
        "en_route": "师傅正在路上",
        "on_site": "师傅已到场处理",
        "paused": "暂停处理",
        "completed": "已处理完毕，请您评价",
        "rated": "已评价，感谢您的反馈",
        "called_back": "客服已回访",
        "closed": "工单已完结",
        "cancelled": "工单已取消",
    },
    "en": {
        "new": "Received, being arranged",
        "dispatched": "Assigned",
        "accepted": "Accepted by the technician",
        "en_route": "Technician on the way",
        "on_site": "Technician on site",
        "paused": "Paused",
        "completed": "Done — please rate the service",
        "rated": "Rated — thank you",
        "called_back": "We called you back",
        "closed": "Closed",
        "cancelled": "Cancelled",
    },
}

KIND = {
    "zh": {
        "inquiry": "咨询",
        "complaint": "投诉",
        "repair": "报修",
        "convenience": "便民服务",
        "emergency": "紧急",
        "callback": "回访",
    },
    "en": {
        "inquiry": "Inquiry",
        "complaint": "Complaint",
        "repair": "Repair",
        "convenience": "Convenience service",
        "emergency": "Emergency",
        "callback": "Callback",
    },
}

CATEGORY = {
    "zh": {
        "water_electric": "水电",
        "lift": "电梯",
        "cleaning": "保洁",
        "security": "安保",
        "noise": "噪音",
        "fees": "物业费",
        "parking": "停车",
        "landscaping": "绿化",
        "renovation": "装修",
        "facilities": "公共设施",
        "other": "其他",
    },
    "en": {
        "water_electric": "Water & power",
        "lift": "Lift",
        "cleaning": "Cleaning",
        "security": "Security",
        "noise": "Noise",
        "fees": "Fees",
        "parking": "Parking",
        "landscaping": "Landscaping",
        "renovation": "Renovation",
        "facilities": "Facilities",
        "other": "Other",
    },
}

PAUSE = {
    "zh": {"waiting_owner": "等待业主方便时间", "parts_on_order": "等待配件", "other": "其他原因"},
    "en": {
        "waiting_owner": "waiting for a time that suits you",
        "parts_on_order": "waiting for parts",
        "other": "other",
    },
}

RATING = {
    "zh": {"very_satisfied": "非常满意", "satisfied": "满意", "neutral": "一般", "unsatisfied": "不满意"},
    "en": {
        "very_satisfied": "Very satisfied",
        "satisfied": "Satisfied",
        "neutral": "Neutral",
        "unsatisfied": "Unsatisfied",
    },
}

# What was received, as a noun ("已收到您的{kind}"): "紧急" alone is an adjective, not a thing received.
KIND_RECEIVED = {
    "zh": {**KIND["zh"], "emergency": "紧急报修", "convenience": "便民服务申请"},
    "en": {**KIND["en"], "emergency": "Emergency repair", "convenience": "Convenience service request"},
}

# Timeline lines for owner-facing events; {who} is the staff member's name, {dept} a department.
EVENT = {
    "zh": {
        "create": "已收到您的{kind}",
        "dispatch": "已派单给{who}",
        "dispatch_dept": "已转交{dept}处理",
        "reassign": "改由{who}处理",
        "take": "{who}接单",
        "accept": "{who}接单",
        "depart": "{who}出发",
        "arrive": "{who}到场",
        "pause": "暂停：{reason}",
        "resume": "继续处理",
        "complete": "处理完毕",
        "answer": "已答复",
        "rate": "您的评价：{level}",
        "callback": "客服已回访",
        "callback_missed": "客服来电未能接通，稍后将再次联系您",
        "rework": "已安排返修（返修单 {number}）",
        "rework_of": "返修原工单 {number}",
        "close": "工单完结",
        "reopen": "重新处理",
        "cancel": "工单已取消",
        "report_photos": "您上传的照片",
    },
    "en": {
        "create": "Received: {kind}",
        "dispatch": "Assigned to {who}",
        "dispatch_dept": "Passed to {dept}",
        "reassign": "Now handled by {who}",
        "take": "{who} accepted",
        "accept": "{who} accepted",
        "depart": "{who} set off",
        "arrive": "{who} arrived",
        "pause": "Paused: {reason}",
        "resume": "Resumed",
        "complete": "Work done",
        "answer": "Answered",
        "rate": "Your rating: {level}",
        "callback": "We called you back",
        "callback_missed": "We could not reach you by phone; we will call again",
        "rework": "A re-repair has been arranged (order {number})",
        "rework_of": "Re-repair of order {number}",
        "close": "Closed",
        "reopen": "Reopened",
        "cancel": "Cancelled",
        "report_photos": "Your photos",
    },
}

DEPARTMENT = {
    "zh": {
        "service": "客服部",
        "engineering": "工程部",
        "cleaning": "保洁部",
        "security": "安保部",
        "landscaping": "绿化部",
    },
    "en": {
        "service": "customer service",
        "engineering": "engineering",
        "cleaning": "cleaning",
        "security": "security",
        "landscaping": "landscaping",
    },
}

TEXT = {
    "zh": {
        "title": "工单进度",
        "order_no": "工单号",
        "technician": "处理人",
        "steward": "管家",
        "call": "拨打电话",
        "eta": "预计到达",
        "progress": "处理进度",
        "uploading": "上传中",
        "materials": "材料",
        "photo": "照片",
        "rate_title": "请您评价本次服务",
        "comment": "留言（选填）",
        "submit_rating": "提交评价",
        "thanks": "感谢您的评价！",
        "reported": "已提交，我们会尽快处理。请收藏本页面，随时查看进度。",
        "already_rated": "本次服务已评价过，感谢您的反馈。",
        "pick_level": "请选择一个评价等级。",
        "not_ratable": "工单处理完毕后才能评价。",
        "comment_too_long": "留言最多 500 字，请删减后重新提交评价。",
        "comment_bad_text": "留言里有无法保存的特殊字符，请删除后重新提交评价。",
        "follow_up": "我们已安排管家尽快与您联系。",
        "expires": "本页面将于 {date} 后失效",
        "refresh": "刷新",
        "sms_settings": "短信通知",
        "auto_refresh": "页面会自动更新",
        "switch": "English",
        "steps_done": "受理,派单,上门,完工,评价",
        "not_found_title": "链接无效或已过期",
        "not_found_body": "这个进度链接已失效（可能已过期或被重新生成）。如需帮助，请联系物业服务中心或您的管家。",
        "error_title": "出错了",
        "error_body": "请稍后再试。",
        "your_rating": "您的评价",
        "now": "当前状态",
    },
    "en": {
        "title": "Work order progress",
        "order_no": "Order no.",
        "technician": "Handled by",
        "steward": "Steward",
        "call": "Call",
        "eta": "Expected arrival",
        "progress": "Progress",
        "uploading": "Uploading",
        "materials": "Materials",
        "photo": "Photo",
        "rate_title": "Please rate this service",
        "comment": "Comment (optional)",
        "submit_rating": "Send rating",
        "thanks": "Thank you for your rating!",
        "reported": "Sent — we will take care of it soon. Bookmark this page to follow the progress.",
        "already_rated": "This service has already been rated. Thank you.",
        "pick_level": "Please choose a rating.",
        "not_ratable": "You can rate once the work is done.",
        "comment_too_long": "A comment can be at most 500 characters; please shorten it and send again.",
        "comment_bad_text": "The comment contains special characters that cannot be saved; please remove them.",
        "follow_up": "Your steward will contact you soon.",
        "expires": "This page stops working after {date}",
        "refresh": "Refresh",
        "sms_settings": "Text messages",
        "auto_refresh": "This page updates itself",
        "switch": "中文",
        "steps_done": "Received,Assigned,On site,Done,Rated",
        "not_found_title": "Link not valid",
        "not_found_body": "This progress link no longer works (it may have expired or been replaced). "
        "Please contact the property service centre or your steward.",
        "error_title": "Something went wrong",
        "error_body": "Please try again later.",
        "your_rating": "Your rating",
        "now": "Status",
    },
}


def pick_lang(query_lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` wins; else the first of zh/en in Accept-Language by q-value; else zh."""
    if query_lang:
        q = query_lang.lower()[:2]
        if q in LANGS:
            return q
    best, best_q = "zh", -1.0
    for position, part in enumerate((accept_language or "").split(",")[:10]):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        if code not in LANGS:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        weight -= position * 1e-6  # earlier wins a tie
        if weight > best_q:
            best, best_q = code, weight
    return best
