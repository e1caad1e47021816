"""Stands in for Zalo (outside the building): a real HTTP server on 127.0.0.1, in a thread, with
ZNS's send endpoint and the OA access-token endpoint.

It checks what it receives as Zalo would and records what is wrong in `problems` (answering
HTTP 400): the `access_token` header, a JSON body whose phone is in the 84… form, a known
template_id, template_data with exactly the template's parameter names, a tracking_id of at most
48 characters; for a renewal the `secret_key` header and the form app_id, grant_type,
refresh_token. Access tokens expire (`lifetime` seconds on the shared `clock`), a refresh token
works once, and some numbers (`not_zalo`), templates (`rejected`) and a used-up `quota` are
refused with Zalo's error codes.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeZns:
    def __init__(self, clock, *, app_id: str = "4200000000000000001", secret_key: str = "app-secret-XYZ",
                 refresh_token: str = "refresh-0", templates: dict[str, set[str]] | None = None,
                 lifetime: int = 90000):
        self.clock = clock
        self.app_id = app_id
        self.secret_key = secret_key
        self.templates = templates or {}
        self.lifetime = lifetime
        self.refresh_tokens = {refresh_token}  # each works once
        self.access_tokens: dict[str, object] = {}  # token -> expires at
        self.not_zalo: set[str] = set()  # numbers (84…) with no Zalo account: -118
        self.rejected: set[str] = set()  # template ids not approved: -131
        self.quota: int | None = None  # messages left today; 0: -144
        self.say = ""  # added to the not-a-Zalo-user answer: "{phone}", "{local}", "{token}" filled in
        self.fail_next: list[int] = []  # HTTP statuses for the next sends (e.g. 500)
        self.hold_renewal: threading.Event | None = None  # renewals wait for it
        self.renewing = threading.Event()  # set when a renewal arrived
        self.renewals = 0
        self.expired_answers = 0  # sends refused for their access token (-124)
        self.sent: list[dict] = []  # accepted messages' bodies
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeZns:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.hold_renewal is not None:
            self.hold_renewal.set()
        self._server.shutdown()
        self._server.server_close()

    def expire_access_tokens(self) -> None:
        """Zalo revokes every access token (as when the OA's admin re-grants the app)."""
        with self._lock:
            self.access_tokens.clear()

    # -- the endpoints

    def renew(self, headers, form: dict[str, str]) -> tuple[int, dict]:
        self.renewing.set()
        if self.hold_renewal is not None:
            self.hold_renewal.wait(10)
        with self._lock:
            self.renewals += 1
            wrong = self._check_renewal(headers, form)
            if wrong:
                self.problems.append(wrong)
                return 400, {"error": -14001, "error_name": "Invalid parameter", "error_description": wrong}
            if form["refresh_token"] not in self.refresh_tokens:
                return 200, {"error": -14014, "error_name": "Invalid refresh token",
                             "error_description": "Refresh token is invalid or has been used"}
            self.refresh_tokens.discard(form["refresh_token"])
            access, refresh = "access-" + secrets.token_hex(8), "refresh-" + secrets.token_hex(8)
            self.access_tokens[access] = self.clock.now() + timedelta(seconds=self.lifetime)
            self.refresh_tokens.add(refresh)
            return 200, {"access_token": access, "refresh_token": refresh, "expires_in": str(self.lifetime)}

    def _check_renewal(self, headers, form: dict[str, str]) -> str | None:
        if headers.get("secret_key") != self.secret_key:
            return "renewal: wrong or missing secret_key header"
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return f"renewal: form needs app_id and grant_type=refresh_token, got {sorted(form)}"
        if not form.get("refresh_token"):
            return "renewal: no refresh_token"
        return None

    def message(self, headers, body: object) -> tuple[int, dict]:
        with self._lock:
            if self.fail_next:
                return self.fail_next.pop(0), {"error": -100, "message": "Unknown error"}
            expires = self.access_tokens.get(headers.get("access_token") or "")
            if expires is None or expires <= self.clock.now():
                self.expired_answers += 1
                return 200, {"error": -124, "message": "Access token invalid"}
            wrong = self._check_message(body)
            if wrong:
                self.problems.append(wrong)
                return 400, {"error": -112, "message": wrong}
            if body["phone"] in self.not_zalo:
                said = self.say.format(phone=body["phone"], local="0" + body["phone"][2:],
                                       token=headers.get("access_token"))
                return 200, {"error": -118, "message": "Zalo account not existed" + said}
            if body["template_id"] in self.rejected:
                return 200, {"error": -131, "message": "Template not approved"}
            if self.quota is not None:
                if self.quota <= 0:
                    return 200, {"error": -144, "message": "OA has exceeded maximum quota per day"}
                self.quota -= 1
            self.sent.append(body)
            return 200, {"error": 0, "message": "Success",
                         "data": {"msg_id": secrets.token_hex(8), "sent_time": "0",
                                  "quota": {"dailyQuota": "500", "remainingQuota": str(self.quota or 500)}}}

    def _check_message(self, body: object) -> str | None:
        if not isinstance(body, dict) or set(body) - {"phone", "template_id", "template_data", "tracking_id"}:
            return f"message: unexpected body {sorted(body) if isinstance(body, dict) else type(body)}"
        if not re.fullmatch(r"84[0-9]{9}", str(body.get("phone"))):
            return f"message: phone not in the 84… form: {body.get('phone')!r}"
        params = self.templates.get(body.get("template_id"))
        if params is None:
            return f"message: unknown template_id {body.get('template_id')!r}"
        data = body.get("template_data")
        if not isinstance(data, dict) or set(data) != params or not all(isinstance(v, str) for v in data.values()):
            return f"message: template_data {data!r} does not match the template's {sorted(params)}"
        if "tracking_id" in body and not (isinstance(body["tracking_id"], str) and 0 < len(body["tracking_id"]) <= 48):
            return f"message: tracking_id {body['tracking_id']!r}"
        return None


def _handler(fake: FakeZns):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            try:
                status, answer = self.answer()
            except Exception as e:  # noqa: BLE001 - a bug of the fake shows in the test, not as a lost line
                fake.problems.append(f"the fake failed: {e!r}")
                status, answer = 500, {"error": -100, "message": "fake failed"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def answer(self) -> tuple[int, dict]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urllib.parse.urlsplit(self.path).path
            if path == "/v4/oa/access_token":
                if "x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
                    fake.problems.append("renewal: not a form")
                status, answer = fake.renew(self.headers, dict(urllib.parse.parse_qsl(raw.decode())))
            elif path == "/message/template":
                if (self.headers.get("Content-Type") or "") != "application/json":
                    fake.problems.append("message: not JSON")
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                status, answer = fake.message(self.headers, body)
            else:
                fake.problems.append(f"unknown path {path}")
                status, answer = 404, {"error": -106, "message": "Method unsupported"}
            return status, answer

        def log_message(self, *args):  # quiet
            pass

    return Handler
