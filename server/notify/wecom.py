"""企业微信 (WeCom): application messages to staff (``message/send``, a text card linking into the PWA)
and group-robot webhooks for team channels, over the documented HTTP API.

The access token (``gettoken`` with corp id and the application's secret) is cached per application
until shortly before the ``expires_in`` it came with; the API limits how often it may be fetched.
An answer 42001 (expired) or 40014 (invalid) drops the cached token and the message is sent once
more with a fresh one.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field

import httpx

from server.notify.policy import WecomConfig
from server.push.delivery import Outcome

WECOM_ENDPOINT = "https://qyapi.weixin.qq.com"
TIMEOUT = 10.0
EARLY = 300  # seconds before its expiry a token is replaced
TOKEN_STALE = (42001, 40014, 40082)

# errcode → (kind, reason)
CODES = {
    -1: ("retry", "企业微信系统繁忙，稍后自动重试"),
    45009: ("retry", "企业微信接口调用超过频率限制，稍后自动重试"),
    45033: ("retry", "企业微信接口并发调用过多，稍后自动重试"),
    45047: ("retry", "企业微信接口调用超过频率限制，稍后自动重试"),
    40001: ("failed", "企业微信应用 Secret 不正确"),
    40013: ("failed", "企业微信 CorpID 不正确"),
    40056: ("failed", "企业微信应用 AgentId 不正确"),
    40091: ("failed", "企业微信应用 Secret 不正确"),
    41001: ("failed", "缺少企业微信 access_token"),
    42001: ("retry", "企业微信 access_token 已过期，稍后重新获取后重试"),
    40014: ("retry", "企业微信 access_token 无效，稍后重新获取后重试"),
    60020: ("failed", "服务器 IP 不在企业微信应用的可信 IP 列表中"),
    81013: ("failed", "企业微信账号不存在或不在应用可见范围"),
    82001: ("failed", "企业微信账号不存在或不在应用可见范围"),
    93000: ("failed", "群机器人地址无效（key 不正确或机器人已被移除）"),
    93004: ("failed", "群机器人已被移出群聊"),
}


def classify(errcode: int, errmsg: str, status: int) -> Outcome:
    answer = f"{errcode}: {errmsg}"
    if errcode == 0:
        return Outcome("delivered", status, None, "", answer=answer)
    kind, reason = CODES.get(errcode) or ("failed", f"企业微信拒绝发送（错误码 {errcode}）")
    return Outcome(kind, status, None, answer, answer=answer, reason=reason)


@dataclass
class TokenCache:
    """Access tokens per (endpoint, corp id, secret), with one fetch at a time per application."""

    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    fetches: int = 0

    @staticmethod
    def key(base: str, cfg: WecomConfig) -> str:
        return hashlib.sha256(f"{base}\0{cfg.corp_id}\0{cfg.secret}".encode()).hexdigest()

    def drop(self, key: str, token: str) -> None:
        if self.tokens.get(key, ("",))[0] == token:
            self.tokens.pop(key, None)

    async def get(self, client: httpx.AsyncClient, base: str, cfg: WecomConfig) -> tuple[str | None, Outcome | None]:
        key = self.key(base, cfg)
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            token, until = self.tokens.get(key, ("", 0.0))
            if token and time.monotonic() < until:
                return token, None
            self.fetches += 1
            got = await _call(
                client, "GET", f"{base}/cgi-bin/gettoken", {"corpid": cfg.corp_id, "corpsecret": cfg.secret}
            )
            if isinstance(got, Outcome):
                return None, got
            status, body = got
            if body.get("errcode", 0) != 0 or not body.get("access_token"):
                return None, classify(int(body.get("errcode", -1)), str(body.get("errmsg", "")), status)
            expires = float(body.get("expires_in") or 7200)
            self.tokens[key] = (body["access_token"], time.monotonic() + max(60.0, expires - EARLY))
            return body["access_token"], None


async def _call(client: httpx.AsyncClient, method: str, url: str, params: dict, json: dict | None = None):
    from server.outbound import RefusedDestination

    try:
        r = await client.request(method, url, params=params, json=json, timeout=TIMEOUT)
    except RefusedDestination as exc:
        return Outcome("failed", None, None, str(exc), reason="服务商地址不允许（只能是公网 https 地址）")
    except httpx.HTTPError as exc:
        return Outcome("retry", None, None, f"{type(exc).__name__}: {exc}", reason="连不上企业微信，稍后自动重试")
    try:
        body = r.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        kind = "retry" if r.status_code >= 500 else "failed"
        return Outcome(kind, r.status_code, None, f"HTTP {r.status_code}", reason="企业微信应答无法识别")
    return r.status_code, body


def textcard(cfg: WecomConfig, userid: str, title: str, description: str, url: str) -> dict:
    return {
        "touser": userid,
        "msgtype": "textcard",
        "agentid": int(cfg.agent_id) if cfg.agent_id.isdigit() else cfg.agent_id,
        "textcard": {"title": title[:128], "description": description[:512], "url": url, "btntxt": "查看工单"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 1800,
    }


async def send_app(client: httpx.AsyncClient, tokens: TokenCache, cfg: WecomConfig, userid: str, card: dict) -> Outcome:
    """One application message; a stale token is replaced and the message sent once more."""
    base = (cfg.endpoint or WECOM_ENDPOINT).rstrip("/")
    card = {**card, "touser": userid}
    for _ in range(2):
        token, failed = await tokens.get(client, base, cfg)
        if failed is not None:
            return failed
        got = await _call(client, "POST", f"{base}/cgi-bin/message/send", {"access_token": token}, json=card)
        if isinstance(got, Outcome):
            return got
        status, body = got
        code = int(body.get("errcode", -1))
        if code in TOKEN_STALE:
            tokens.drop(TokenCache.key(base, cfg), token)
            continue
        if code == 0 and (body.get("invaliduser") or "").strip():
            return Outcome(
                "failed", status, None, "invaliduser", answer=f"0: invaliduser={body['invaliduser']}",
                reason="企业微信账号不存在或不在应用可见范围",
            )  # fmt: skip
        return classify(code, str(body.get("errmsg", "")), status)
    return classify(code, str(body.get("errmsg", "")), status)


async def send_robot(client: httpx.AsyncClient, cfg: WecomConfig, key: str, content: str) -> Outcome:
    base = (cfg.endpoint or WECOM_ENDPOINT).rstrip("/")
    got = await _call(
        client,
        "POST",
        f"{base}/cgi-bin/webhook/send",
        {"key": key},
        json={"msgtype": "markdown", "markdown": {"content": content}},
    )
    if isinstance(got, Outcome):
        return got
    status, body = got
    return classify(int(body.get("errcode", -1)), str(body.get("errmsg", "")), status)
