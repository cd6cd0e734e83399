"""SMS through Alibaba Cloud (dysmsapi ``SendSms`` 2017-05-25, RPC signature V1, HMAC-SHA1) and
Tencent Cloud (``SendSms`` 2021-01-11, TC3-HMAC-SHA256), over their documented HTTP APIs with the
server's guarded httpx client (no SDK: each is one signed POST, and both SDKs pull in far more).

Each provider's answer is mapped to an outcome: throttling and the provider's own faults are retried
with the outbox's backoff; a bad number, a template or signature not approved, a bad key or an empty
balance fail for good (retrying cannot help) with the reason in Chinese for the staff screens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import httpx

from server.clock import CHINA
from server.notify.policy import SmsConfig
from server.outbound import Outbound, RefusedDestination
from server.push.delivery import Outcome

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"
TIMEOUT = 10.0

# --- Alibaba Cloud -----------------------------------------------------------------------------------


def aliyun_percent(text: str) -> str:
    """The RPC API's percent-encoding: RFC 3986 unreserved characters kept, everything else %XX
    (so a space is %20, ``*`` is %2A and ``~`` stays)."""
    return quote(text, safe="~")


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{aliyun_percent(k)}={aliyun_percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{aliyun_percent('/')}&{aliyun_percent(canonical)}"
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def _aliyun_signed(cfg: SmsConfig, action: str, fields: dict[str, str]) -> dict:
    """Signed with the wall clock (the provider compares it with its own), never the test clock."""
    query = {
        "AccessKeyId": cfg.access_key_id,
        "Action": action,
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": secrets.token_hex(16),
        "SignatureVersion": "1.0",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
        **fields,
    }
    query["Signature"] = aliyun_signature(cfg.access_key_secret, "POST", query)
    return query


def aliyun_request(cfg: SmsConfig, phone: str, template: str, params: dict[str, str], out_id: str = "") -> dict:
    fields = {
        "PhoneNumbers": phone,
        "SignName": cfg.sign_name,
        "TemplateCode": template,
        "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
    }
    if out_id:
        fields["OutId"] = out_id  # our delivery id: QuerySendDetails finds the message by it
    return _aliyun_signed(cfg, "SendSms", fields)


async def aliyun_sent_before(client: httpx.AsyncClient, cfg: SmsConfig, phone: str, out_id: str) -> Outcome | None:
    """Whether the provider already holds the message of this delivery (QuerySendDetails for the
    number today, by OutId): a sender killed after the POST and before recording the answer must not
    make the owner pay twice. None if it is not there, or if the provider cannot tell now."""
    fields = {
        "PhoneNumber": phone,
        "SendDate": datetime.now(CHINA).strftime("%Y%m%d"),
        "PageSize": "50",
        "CurrentPage": "1",
    }
    form = _aliyun_signed(cfg, "QuerySendDetails", fields)
    try:
        r = await client.post(
            cfg.endpoint or ALIYUN_ENDPOINT,
            content=urlencode(form, quote_via=quote).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
            timeout=TIMEOUT,
        )
        body = r.json()
    except (httpx.HTTPError, RefusedDestination, ValueError):
        return None
    found = ((body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []) if isinstance(body, dict) else []
    for sent in found:
        if sent.get("OutId") == out_id:
            answer = f"OK（QuerySendDetails 已有记录，未重发）SendStatus={sent.get('SendStatus', '')}"
            return Outcome("delivered", r.status_code, None, "", answer=answer, reason="")
    return None


# code → (outcome kind, reason shown to staff)
ALIYUN_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL": ("retry", "发送过于频繁，被短信平台限流，稍后自动重试"),
    "isv.BUSINESS_LIMIT_HOUR": ("retry", "本小时发送次数已达上限，稍后自动重试"),
    "isv.BUSINESS_LIMIT_DAY": ("retry", "该号码今日接收次数已达上限，稍后自动重试"),
    "Throttling.User": ("retry", "短信接口调用过于频繁，稍后自动重试"),
    "Throttling": ("retry", "短信接口调用过于频繁，稍后自动重试"),
    "isp.SYSTEM_ERROR": ("retry", "短信平台系统故障，稍后自动重试"),
    "isp.GATEWAY_ERROR": ("retry", "短信平台网关故障，稍后自动重试"),
    "isp.UNKNOWN": ("retry", "短信平台未知错误，稍后自动重试"),
    "SignatureNonceUsed": ("retry", "请求重复，稍后自动重试"),
    "InvalidTimeStamp.Expired": ("retry", "服务器时间与短信平台不一致，稍后自动重试"),
    "isv.MOBILE_NUMBER_ILLEGAL": ("failed", "手机号码格式不正确"),
    "isv.SMS_TEMPLATE_ILLEGAL": ("failed", "短信模板不存在或未通过审核"),
    "isv.SMS_CONTENT_CODE_ILLEGAL": ("failed", "短信模板不存在或未通过审核"),
    "isv.SMS_SIGNATURE_ILLEGAL": ("failed", "短信签名不存在或未通过审核"),
    "isv.SMS_SIGN_NAME_ILLEGAL": ("failed", "短信签名不存在或未通过审核"),
    "isv.TEMPLATE_MISSING_PARAMETERS": ("failed", "短信模板参数与审核通过的模板不符"),
    "isv.INVALID_JSON_PARAM": ("failed", "短信模板参数与审核通过的模板不符"),
    "isv.PARAM_LENGTH_LIMIT": ("failed", "短信模板参数过长"),
    "isv.PARAM_NOT_SUPPORT_URL": ("failed", "短信模板参数不能含链接"),
    "isv.AMOUNT_NOT_ENOUGH": ("failed", "短信账户余额不足"),
    "isv.OUT_OF_SERVICE": ("failed", "短信账户已停机（余额不足）"),
    "isv.BLACK_KEY_CONTROL_LIMIT": ("failed", "短信内容含平台禁用词"),
    "SignatureDoesNotMatch": ("failed", "短信账号密钥不正确（签名校验失败）"),
    "InvalidAccessKeyId.NotFound": ("failed", "短信账号 AccessKey 不存在"),
    "InvalidAccessKeyId.Inactive": ("failed", "短信账号 AccessKey 已停用"),
}


def classify_aliyun(status: int, body: dict) -> Outcome:
    code = str(body.get("Code") or "")
    answer = f"{code}: {body.get('Message', '')}".strip(": ")
    if code == "OK":
        return Outcome("delivered", status, None, "", answer=f"OK BizId={body.get('BizId', '')}", reason="")
    kind, reason = ALIYUN_CODES.get(code) or (
        ("retry", "短信平台暂时不可用，稍后自动重试")
        if status >= 500
        else ("failed", f"短信平台拒绝发送（{code or status}）")
    )
    if code.startswith("BUSINESS_LIMIT_CONTROL"):
        kind, reason = "retry", "发送过于频繁，被短信平台限流，稍后自动重试"
    return Outcome(kind, status, None, answer, answer=answer, reason=reason)


async def send_aliyun(
    client: httpx.AsyncClient,
    cfg: SmsConfig,
    phone: str,
    template: str,
    params: dict[str, str],
    *,
    out_id: str = "",
    maybe_sent: bool = False,
) -> Outcome:
    if maybe_sent and out_id and (before := await aliyun_sent_before(client, cfg, phone, out_id)) is not None:
        return before
    form = aliyun_request(cfg, phone, template, params, out_id)
    return await _post(
        client,
        cfg.endpoint or ALIYUN_ENDPOINT,
        content=urlencode(form, quote_via=quote).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        classify=classify_aliyun,
    )


# --- Tencent Cloud ------------------------------------------------------------------------------------


def tc3_signature(
    secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int, service: str = "sms"
) -> str:
    """The ``Authorization`` header of TC3-HMAC-SHA256 over content-type and host."""
    ctype = "application/json; charset=utf-8"
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:{ctype}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        )
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


TENCENT_CODES = {
    "RequestLimitExceeded": ("retry", "短信接口调用过于频繁，稍后自动重试"),
    "LimitExceeded.PhoneNumberThirtySecondLimit": ("retry", "30 秒内向该号码发送过短信，稍后自动重试"),
    "LimitExceeded.PhoneNumberOneHourLimit": ("retry", "本小时向该号码发送次数已达上限，稍后自动重试"),
    "LimitExceeded.PhoneNumberDailyLimit": ("retry", "该号码今日接收次数已达上限，稍后自动重试"),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": ("retry", "今日已向该号码发送相同内容，稍后自动重试"),
    "LimitExceeded.DeliveryFrequencyLimit": ("retry", "发送过于频繁，被短信平台限流，稍后自动重试"),
    "InternalError": ("retry", "短信平台系统故障，稍后自动重试"),
    "InternalError.Timeout": ("retry", "短信平台超时，稍后自动重试"),
    "FailedOperation.ContainSensitiveWord": ("failed", "短信内容含平台禁用词"),
    "AuthFailure.SignatureExpire": ("retry", "服务器时间与短信平台不一致，稍后自动重试"),
    "InvalidParameterValue.IncorrectPhoneNumber": ("failed", "手机号码格式不正确"),
    "FailedOperation.PhoneNumberInBlacklist": ("failed", "该号码已退订或在黑名单中"),
    "FailedOperation.TemplateIncorrectOrUnapproved": ("failed", "短信模板不存在或未通过审核"),
    "FailedOperation.SignatureIncorrectOrUnapproved": ("failed", "短信签名不存在或未通过审核"),
    "InvalidParameterValue.TemplateParameterFormatError": ("failed", "短信模板参数与审核通过的模板不符"),
    "InvalidParameterValue.TemplateParameterLengthLimit": ("failed", "短信模板参数过长"),
    "FailedOperation.InsufficientBalanceInSmsPackage": ("failed", "短信套餐包余量不足"),
    "AuthFailure.SignatureFailure": ("failed", "短信账号密钥不正确（签名校验失败）"),
    "AuthFailure.SecretIdNotFound": ("failed", "短信账号 SecretId 不存在"),
    "InvalidParameterValue.SdkAppIdNotExist": ("failed", "短信应用 SdkAppId 不存在"),
}


def classify_tencent(status: int, body: dict) -> Outcome:
    resp = body.get("Response") or {}
    error = resp.get("Error")
    if error:
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    else:
        sent = (resp.get("SendStatusSet") or [{}])[0]
        code, message = str(sent.get("Code", "")), str(sent.get("Message", ""))
        if code == "Ok":
            return Outcome("delivered", status, None, "", answer=f"Ok SerialNo={sent.get('SerialNo', '')}", reason="")
    answer = f"{code}: {message}".strip(": ")
    kind, reason = TENCENT_CODES.get(code) or (
        ("retry", "短信平台暂时不可用，稍后自动重试")
        if status >= 500
        else ("failed", f"短信平台拒绝发送（{code or status}）")
    )
    return Outcome(kind, status, None, answer, answer=answer, reason=reason)


def tencent_request(
    cfg: SmsConfig, url: str, phone: str, template: str, values: list[str], timestamp: int
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(
        {
            "PhoneNumberSet": [phone if phone.startswith("+") else "+86" + phone],
            "SmsSdkAppId": cfg.sdk_app_id,
            "SignName": cfg.sign_name,
            "TemplateId": template,
            "TemplateParamSet": values,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    host = httpx.URL(url).netloc.decode()
    headers = {
        "content-type": "application/json; charset=utf-8",
        "host": host,
        "x-tc-action": "SendSms",
        "x-tc-version": "2021-01-11",
        "x-tc-timestamp": str(timestamp),
        "x-tc-region": cfg.region or "ap-guangzhou",
        "authorization": tc3_signature(cfg.access_key_id, cfg.access_key_secret, host, payload, timestamp),
    }
    return payload, headers


async def send_tencent(
    client: httpx.AsyncClient, cfg: SmsConfig, phone: str, template: str, values: list[str]
) -> Outcome:
    url = cfg.endpoint or TENCENT_ENDPOINT
    payload, headers = tencent_request(cfg, url, phone, template, values, int(time.time()))  # wall clock
    return await _post(client, url, content=payload, headers=headers, classify=classify_tencent)


# --- shared ----------------------------------------------------------------------------------------


def check_endpoint(outbound: Outbound, url: str) -> Outcome | None:
    """The SSRF rule for a configured provider endpoint (https, public, or a dev loopback host)."""
    try:
        outbound.check_webhook_url(url)
    except RefusedDestination as exc:
        return Outcome("failed", None, None, str(exc), reason="服务商地址不允许（只能是公网 https 地址）")
    return None


async def _post(client: httpx.AsyncClient, url: str, *, content: bytes, headers: dict, classify) -> Outcome:
    started = time.monotonic()
    try:
        r = await client.post(url, content=content, headers=headers, timeout=TIMEOUT)
    except RefusedDestination as exc:
        return Outcome("failed", None, None, str(exc), reason="服务商地址不允许（只能是公网 https 地址）")
    except httpx.HTTPError as exc:
        late = time.monotonic() - started >= TIMEOUT
        reason = "服务商无应答，稍后自动重试" if late else "连不上服务商，稍后自动重试"
        return Outcome("retry", None, None, f"{type(exc).__name__}: {exc}", answer="", reason=reason)
    try:
        body = r.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if not body and r.status_code >= 500:
        return Outcome("retry", r.status_code, None, f"HTTP {r.status_code}", reason="服务商暂时不可用，稍后自动重试")
    return classify(r.status_code, body)
