"""Who gets what, and when: an estate's channel policy (one JSON document per estate, edited by a
supervisor in the console) and the texts of the SMS templates submitted to the providers.

Staff events go to the in-app feed and Web Push at once; the channels after the first in an event's
``channels`` list are fallbacks, each sent ``fallback_minutes`` later than the one before it, and
only if the notification is still unread in the app by then. Owner events go by SMS (the progress
link in it), never between ``quiet_start`` and ``quiet_end`` (Asia/Shanghai) unless the order is an
emergency: a message written then waits for the end of the quiet hours.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Annotated, Literal

import msgspec

from server.clock import CHINA
from server.wire import Wire

STAFF_EVENTS = (
    "new_assignment",
    "reassignment",
    "near_breach",
    "breach",
    "escalation",
    "unsatisfied",
    "callback_due",
)
OWNER_EVENTS = ("accepted", "on_the_way", "step_done", "completed", "follow_up")
STAFF_CHANNELS = ("webpush", "wecom", "sms")
SMS_PROVIDERS = ("aliyun", "tencent")

#: A notification's ``kind`` → the policy's staff event (SLA alerts on a callback order are "callback due").
KIND_EVENT = {
    "assigned": "new_assignment",
    "unassigned": "reassignment",
    "sla_near": "near_breach",
    "sla_breach": "breach",
    "sla_escalated": "escalation",
    "unsatisfied": "unsatisfied",
}

SEGMENT = 70  # characters of one Chinese (UCS-2) SMS, signature 【…】 included

# The template texts as submitted for approval. ``${link}`` is the short progress link: providers
# refuse a URL as a variable (Alibaba: isv.PARAM_NOT_SUPPORT_URL), so the template submitted holds
# ``<server>/s/${code}`` and only the code travels as a parameter. No owner name or room in them.
OWNER_TEXTS = {
    "accepted": "报修已受理，${name}师傅约${eta}上门，进度${link}",
    "on_the_way": "${name}师傅已出发，约${eta}到，进度${link}",
    "step_done": "维修进展：${step}，详见${link}",
    "completed": "维修已完成，请评价：${link}",
    "follow_up": "您的意见已收到，管家将回访，进度${link}",
}
STAFF_TEXTS = {
    "new_assignment": "新${kind}工单${number}，${building}，请尽快处理。",
    "reassignment": "工单${number}已改派他人。",
    "near_breach": "工单${number}即将超时，请尽快处理。",
    "breach": "工单${number}已超时，请立即处理。",
    "escalation": "工单${number}严重超时，已升级。",
    "unsatisfied": "业主对工单${number}不满意，请尽快回访。",
    "callback_due": "回访工单${number}时限将到，请按时回访。",
}
# The longest value each parameter may take in a message (cut to it before sending); the
# configuration check renders every template with values this long.
PARAM_LIMITS = {"name": 4, "eta": 8, "step": 8, "code": 0, "kind": 2, "number": 16, "building": 6}
CODE_LENGTH = 8  # the short link's code (base62, 47 bits)


class EventRule(Wire):
    channels: list[Literal["webpush", "wecom", "sms"]] = msgspec.field(default_factory=lambda: ["webpush"])
    fallback_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 10
    team: bool = False  # also post to the department's WeCom group robot


class SmsConfig(Wire):
    provider: Literal["aliyun", "tencent", ""] = ""
    endpoint: Annotated[str, msgspec.Meta(max_length=300)] = ""  # empty: the provider's public endpoint
    sign_name: Annotated[str, msgspec.Meta(max_length=12)] = ""
    access_key_id: Annotated[str, msgspec.Meta(max_length=100)] = ""  # Tencent: SecretId
    access_key_secret: Annotated[str, msgspec.Meta(max_length=100)] = ""  # Tencent: SecretKey
    sdk_app_id: Annotated[str, msgspec.Meta(max_length=20)] = ""  # Tencent only
    region: Annotated[str, msgspec.Meta(max_length=30)] = "ap-guangzhou"  # Tencent only
    #: event → the provider's template code (Alibaba SMS_123456789, Tencent a number).
    templates: dict[str, Annotated[str, msgspec.Meta(max_length=40)]] = msgspec.field(default_factory=dict)
    daily_cap: Annotated[int, msgspec.Meta(ge=0, le=100000)] = 500


class WecomConfig(Wire):
    endpoint: Annotated[str, msgspec.Meta(max_length=300)] = ""  # empty: https://qyapi.weixin.qq.com
    corp_id: Annotated[str, msgspec.Meta(max_length=40)] = ""
    agent_id: Annotated[str, msgspec.Meta(max_length=20)] = ""
    secret: Annotated[str, msgspec.Meta(max_length=100)] = ""
    #: staff id → WeCom user id (the address book's 账号).
    users: dict[str, Annotated[str, msgspec.Meta(max_length=64)]] = msgspec.field(default_factory=dict)
    #: department → group robot key (the ``key=`` of the robot's webhook address).
    robots: dict[str, Annotated[str, msgspec.Meta(max_length=100)]] = msgspec.field(default_factory=dict)


HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class Policy(Wire):
    staff: dict[str, EventRule] = msgspec.field(default_factory=dict)
    owner: dict[str, bool] = msgspec.field(default_factory=dict)  # owner event → send an SMS
    quiet_start: HHMM = "22:00"
    quiet_end: HHMM = "08:00"
    dedupe_minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] = 10
    owner_sms_per_order_per_day: Annotated[int, msgspec.Meta(ge=0, le=50)] = 6
    sms: SmsConfig = msgspec.field(default_factory=SmsConfig)
    wecom: WecomConfig = msgspec.field(default_factory=WecomConfig)

    def rule(self, event: str) -> EventRule:
        return self.staff.get(event) or EventRule()


DEFAULT = Policy()


def decode(raw: dict | None) -> Policy:
    if not raw:
        return DEFAULT
    return msgspec.convert(raw, Policy)


def encode(policy: Policy) -> dict:
    return msgspec.to_builtins(policy)


# --- quiet hours ---------------------------------------------------------------------------------


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def quiet_until(policy: Policy, now: datetime) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (UTC), or None outside them."""
    start, end = _hm(policy.quiet_start), _hm(policy.quiet_end)
    if start == end:
        return None
    local = now.astimezone(CHINA)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=CHINA).astimezone(now.tzinfo)


# --- SMS texts -------------------------------------------------------------------------------------

_VAR = re.compile(r"\$\{(\w+)\}")


#: Each template's parameters in the order they appear (Tencent's TemplateParamSet is positional).
PARAM_NAMES = {
    e: ["code" if v == "link" else v for v in _VAR.findall(t)] for e, t in {**OWNER_TEXTS, **STAFF_TEXTS}.items()
}


def fit(params: dict[str, str]) -> dict[str, str]:
    """Each parameter cut to its limit (a name of five characters would push the link out of the segment)."""
    out = {}
    for k, v in params.items():
        limit = PARAM_LIMITS.get(k, 10)
        v = " ".join(str(v).split())
        out[k] = v if limit == 0 or len(v) <= limit else v[:limit]
    return out


def short_base(base_url: str) -> str:
    """``https://host/s/``: the path is one letter so that the link leaves room for the words."""
    return base_url.rstrip("/") + "/s/"


def render(text: str, params: dict[str, str], sign_name: str, base: str) -> str:
    """What the phone shows: 【signature】 then the template with its parameters."""
    body = _VAR.sub(
        lambda m: base + params.get("code", "") if m.group(1) == "link" else params.get(m.group(1), ""), text
    )
    return f"【{sign_name}】{body}"


def submitted_text(text: str, base: str) -> str:
    """The template as it is submitted to the provider for approval (host fixed, code a variable)."""
    return text.replace("${link}", base + "${code}")


def worst_case(text: str, sign_name: str, base: str) -> str:
    longest = {k: "测" * n for k, n in PARAM_LIMITS.items()}
    longest["eta"] = "31日23:59"
    longest["number"] = "CH-20261231-9999"
    longest["code"] = "x" * CODE_LENGTH
    return render(text, longest, sign_name, base)


def too_long(sign_name: str, base: str) -> dict[str, int]:
    """The owner events whose SMS, at its longest, would not fit one segment: event → characters."""
    out = {}
    for event, text in OWNER_TEXTS.items():
        n = len(worst_case(text, sign_name or "物业", base))
        if n > SEGMENT:
            out[event] = n
    return out
