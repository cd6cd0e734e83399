"""Local fakes of the SMS and WeCom providers, on 127.0.0.1, that check what the real ones check:

- Alibaba Cloud ``SendSms`` (RPC, signature V1): the HMAC-SHA1 signature over the sorted,
  percent-encoded parameters with the AccessKey secret, a fresh SignatureNonce, the Timestamp within
  15 minutes, Action/Version; then the number, the sign name and the template code as approved;
- Tencent Cloud ``SendSms`` 2021-01-11: the TC3-HMAC-SHA256 Authorization recomputed from the
  SecretKey over content-type and host, the X-TC-* headers, the timestamp within 5 minutes;
  SmsSdkAppId, SignName and TemplateId as approved, the number;
- WeCom: ``gettoken`` with corp id and secret, ``message/send`` only with a live access token
  (42001 once it is expired), the user id known to the address book; the group robot by its key.

Each answers the provider's documented error codes (``script`` makes the next answers throttled,
and so on), and counts every accepted message, so a test can see nothing was lost or doubled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, urlsplit

# The fakes compute signatures on their own, the way the providers' documentation spells them out,
# not with the client's functions (a shared mistake would pass unnoticed).


def _pe(text: str) -> str:
    """Alibaba's documented encoding: form-encode, then + → %20, * → %2A, %7E → ~."""
    return quote_plus(text, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    query = "&".join(_pe(k) + "=" + _pe(params[k]) for k in sorted(params))
    to_sign = method + "&" + _pe("/") + "&" + _pe(query)
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Sent:
    phone: str
    sign: str
    template: str
    params: object
    at: float
    out_id: str = ""


@dataclass
class Fake:
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: list = field(default_factory=list)
    requests: int = 0
    scripted: list[str] = field(default_factory=list)
    delay: float = 0.0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *codes: str) -> None:
        """The next answers are these error codes (in order), whatever the request."""
        with self.lock:
            self.scripted.extend(codes)

    def _next_scripted(self) -> str | None:
        with self.lock:
            return self.scripted.pop(0) if self.scripted else None

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self, status: int, body: dict) -> None:
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with fake.lock:
                    fake.requests += 1
                if fake.delay:
                    time.sleep(fake.delay)
                self._answer(*fake.handle("POST", self.path, dict(self.headers.items()), body))

            def do_GET(self):  # noqa: N802
                with fake.lock:
                    fake.requests += 1
                self._answer(*fake.handle("GET", self.path, dict(self.headers.items()), b""))

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default listen backlog of 5 resets a burst of connections

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeAliyun(Fake):
    def __init__(
        self, key_id="LTAI5tTestKey", secret="test-secret-aliyun", sign="阳光花园物业", templates=("SMS_100",)
    ):
        super().__init__()
        self.key_id, self.secret, self.sign, self.templates = key_id, secret, sign, set(templates)
        self.nonces: set[str] = set()

    def handle(self, method, path, headers, body):
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        rid = {"RequestId": "FAKE-REQ"}
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != self.key_id:
            return 404, {**rid, "Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        if not hmac.compare_digest(aliyun_signature(self.secret, method, params), signature):
            return 400, {**rid, "Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        if params.get("Action") == "QuerySendDetails" and params.get("Version") == "2017-05-25":
            with self.lock:
                mine = [m for m in self.sent if m.phone == params.get("PhoneNumber")]
            dtos = [{"PhoneNum": m.phone, "SendStatus": 3, "OutId": m.out_id, "TemplateCode": m.template} for m in mine]
            return 200, {**rid, "Code": "OK", "Message": "OK", "TotalCount": len(dtos),
                         "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos[:50]}}  # fmt: skip
        if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
            return 400, {**rid, "Code": "InvalidAction.NotFound", "Message": "Specified api is not found"}
        nonce = params.get("SignatureNonce", "")
        with self.lock:
            if nonce in self.nonces:
                return 400, {
                    **rid,
                    "Code": "SignatureNonceUsed",
                    "Message": "Specified signature nonce was used already.",
                }
            self.nonces.add(nonce)
        try:
            ts = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            ts = 0.0
        if abs(ts - time.time()) > 900:
            return 400, {
                **rid,
                "Code": "InvalidTimeStamp.Expired",
                "Message": "Specified time stamp or date value is expired.",
            }
        if (code := self._next_scripted()) is not None:
            return 200, {**rid, "Code": code, "Message": code}
        phone = params.get("PhoneNumbers", "")
        if not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
            return 200, {**rid, "Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        if params.get("SignName") != self.sign:
            return 200, {**rid, "Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法(不存在或被拉黑)"}
        if params.get("TemplateCode") not in self.templates:
            return 200, {**rid, "Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法(不存在或被拉黑)"}
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return 200, {**rid, "Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"}
        with self.lock:
            self.sent.append(
                Sent(phone, params["SignName"], params["TemplateCode"], values, time.time(), params.get("OutId", ""))
            )
            n = len(self.sent)
        return 200, {**rid, "Code": "OK", "Message": "OK", "BizId": f"{n:06d}^0"}


def tc3(secret_id, secret_key, host, payload, timestamp):
    """TC3-HMAC-SHA256 as Tencent Cloud's API documentation (签名方法 v3) describes it."""
    canonical_headers = f"content-type:application/json; charset=utf-8\nhost:{host}\n"
    canonical = f"POST\n/\n\n{canonical_headers}\ncontent-type;host\n{hashlib.sha256(payload).hexdigest()}"
    date = datetime.fromtimestamp(timestamp, UTC).date().isoformat()
    scope = date + "/sms/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    k = hmac.new(b"TC3" + secret_key.encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"sms", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    sig = hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={sig}"


class FakeTencent(Fake):
    def __init__(self, secret_id="AKIDtest", secret_key="test-secret-tencent", app_id="1400000001",
                 sign="阳光花园物业", templates=("100001",)):  # fmt: skip
        super().__init__()
        self.secret_id, self.secret_key, self.app_id, self.sign, self.templates = (
            secret_id, secret_key, app_id, sign, set(templates),
        )  # fmt: skip

    def _error(self, code, message):
        return 200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "fake"}}

    def handle(self, method, path, headers, body):
        h = {k.lower(): v for k, v in headers.items()}
        auth = h.get("authorization", "")
        try:
            ts = int(h.get("x-tc-timestamp", "0"))
        except ValueError:
            ts = 0
        if abs(ts - time.time()) > 300:
            return self._error("AuthFailure.SignatureExpire", "签名过期")
        if f"Credential={self.secret_id}/" not in auth:
            return self._error("AuthFailure.SecretIdNotFound", "密钥不存在")
        if not hmac.compare_digest(tc3(self.secret_id, self.secret_key, h.get("host", ""), body, ts), auth):
            return self._error("AuthFailure.SignatureFailure", "请求签名验证失败")
        if h.get("x-tc-action") != "SendSms" or h.get("x-tc-version") != "2021-01-11":
            return self._error("InvalidAction", "接口不存在")
        req = json.loads(body)
        if (code := self._next_scripted()) is not None:
            if code.startswith("LimitExceeded.Phone") or code.startswith("InvalidParameterValue.Incorrect"):
                phone = req["PhoneNumberSet"][0]
                return 200, {"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": phone, "Fee": 0,
                             "Code": code, "Message": code}], "RequestId": "fake"}}  # fmt: skip
            return self._error(code, code)
        if req.get("SmsSdkAppId") != self.app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId不存在")
        if req.get("SignName") != self.sign:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误")
        if req.get("TemplateId") not in self.templates:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
        phone = req["PhoneNumberSet"][0]
        ok = phone.startswith("+861") and len(phone) == 14 and phone[1:].isdigit()
        status = {"SerialNo": f"2433:{len(self.sent)}", "PhoneNumber": phone, "Fee": 1 if ok else 0,
                  "Code": "Ok" if ok else "InvalidParameterValue.IncorrectPhoneNumber",
                  "Message": "send success" if ok else "手机号格式错误"}  # fmt: skip
        if ok:
            with self.lock:
                self.sent.append(Sent(phone, req["SignName"], req["TemplateId"], req["TemplateParamSet"], time.time()))
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": "fake"}}


class FakeWecom(Fake):
    def __init__(self, corp_id="ww-test-corp", secret="wecom-app-secret", agent_id="1000002",
                 users=("wangwu",), robots=("robot-key-1",)):  # fmt: skip
        super().__init__()
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.users, self.robots = set(users), set(robots)
        self.tokens: dict[str, float] = {}
        self.token_fetches = 0
        self.robot_posts: list[dict] = []

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def handle(self, method, path, headers, body):
        url = urlsplit(path)
        q = dict(parse_qsl(url.query))
        if url.path == "/cgi-bin/gettoken":
            if q.get("corpid") != self.corp_id:
                return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
            if q.get("corpsecret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            token = base64.urlsafe_b64encode(
                hashlib.sha256(f"{time.time()}{self.token_fetches}".encode()).digest()
            ).decode()
            with self.lock:
                self.token_fetches += 1
                self.tokens[token] = time.time() + 7200
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if url.path == "/cgi-bin/message/send":
            token = q.get("access_token", "")
            with self.lock:
                until = self.tokens.get(token)
            if until is None:
                return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
            if until < time.time():
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if (code := self._next_scripted()) is not None:
                return 200, {"errcode": int(code), "errmsg": "scripted"}
            msg = json.loads(body)
            if str(msg.get("agentid")) != self.agent_id:
                return 200, {"errcode": 40056, "errmsg": "invalid agentid"}
            if msg.get("touser") not in self.users:
                return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
            card = msg.get("textcard") or {}
            if msg.get("msgtype") != "textcard" or not card.get("title") or not card.get("url"):
                return 200, {"errcode": 44004, "errmsg": "empty content"}
            with self.lock:
                self.sent.append(Sent(msg["touser"], "", "textcard", card, time.time()))
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"m{len(self.sent)}"}
        if url.path == "/cgi-bin/webhook/send":
            if q.get("key") not in self.robots:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
            if (code := self._next_scripted()) is not None:
                return 200, {"errcode": int(code), "errmsg": "scripted"}
            with self.lock:
                self.robot_posts.append(json.loads(body))
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": "not found"}
