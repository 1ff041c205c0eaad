"""A fake Zalo Official Account Open API over real HTTP, for end-to-end tests of the real bot.

Give the bot ``fake.base_url`` (for https://openapi.zalo.me) and ``fake.oauth_url`` (for
https://oauth.zaloapp.com). The fake serves ``POST /v3.0/oa/message/cs`` (text, up to 5 query
buttons, an uploaded image or file; errors as HTTP 200 with a non-zero ``error``: -216 token,
-201 parameters, -213 not following, -230/-232 outside the 7-day window, and what
``fail_next`` scripts, e.g. -32), ``POST /v2.0/oa/upload/image`` and ``/v2.0/oa/upload/file``
(see "Uploads" below),
``POST /v4/oa/access_token`` (refresh rotates both tokens; a refresh token works once, then
-14014, a code and text that are the fake's choice, not in ZALO.md, which attests only -14002
and -14003 for OAuth; wrong ``secret_key``/``app_id`` gives -14002) and ``GET /files/...`` for ``host_file``.
Acting as users, ``user_text``/``user_image``/``user_file``/``press``/``follow``/``unfollow``/
``oa_echo`` build Zalo's webhook events and ``post`` delivers one with the exact raw body and
``X-ZEvent-Signature: mac=<sha256(app_id + body + timestamp + oa_secret)>``.

Usage::

    with FakeZalo(app_id="1234567890", app_secret="app-secret", oa_secret="oa-secret") as fake:
        access, refresh = fake.issue_tokens()  # what the operator pastes
        ...  # start the bot with fake.base_url, fake.oauth_url, access, refresh
        assert fake.post(bot_url, fake.user_text("8756112331268738712", "Xin chào")) == 200
        [reply] = fake.wait_for_messages("8756112331268738712", 1)
        fake.post(bot_url, fake.press("8756112331268738712", reply.buttons[0][2]))

Where the rest comes from (ZALO.md, November 2026): error codes and their texts (-216 invalid
token, -220 token expired or removed, both answered to a stale token by ``expire_access_token``;
-213, -230/-232, -32); message ids of 32 hex characters (the ids in Zalo's documented
answers); the button types ``oa.query.*`` (text payload) and ``oa.open.url`` / ``oa.open.phone``
/ ``oa.open.sms`` (object payload); a refresh refused with HTTP 200, ``error_name`` /
``error_reason`` and no numeric code (``refuse_refreshes``); ``POST /v3.0/oa/message/template``
for approved templates by user id (its body is the fake's choice, see ``_template_endpoint``);
ZNS by phone number at ``POST /message/template`` (sources in ``tests/support/fake_zns.py``).

Simpler than Zalo (do not rely on it): ONE access token is valid (a refresh or ``issue_tokens``
replaces it; Zalo lets the old one live until it expires) and none expires by time (use
``expire_access_token``); the 7-day window is not kept by time (``out_of_window``); ``user_id`` must be a
JSON string (ids exceed 2^53); lengths are counted in code points; a bad ``grant_type`` gives
-14001 (the fake's choice); event builders change the user's state at once (a user event reopens
the window, ``unfollow`` makes sends answer -213), not when posted. uvicorn + Starlette run in a
background thread as in ``fake_telegram``; state is guarded by one ``threading.Condition``.

Uploads, and where each behaviour comes from (Zalo's docs as quoted in public code: the
developers.zalo.me "Upload hình ảnh" / "Upload file" pages quoted in the @warriorteam/redai-zalo-sdk
package, Zalo's zalo-java-sdk examples, goclaw's Zalo OA channel):

- multipart/form-data, the file in field ``file``, header ``access_token`` (docs, java-sdk);
  a missing or stale token answers -216 like the send endpoint (docs' common errors); no
  ``file`` field answers -201 (the fake's choice).
- image: ``.jpg``/``.jpeg``/``.png`` names, at most 1,000,000 bytes (docs: "JPG và PNG",
  "tối đa 1MB"); answers ``{"error": 0, "message": "Success", "data": {"attachment_id":
  <20 hex>}}`` (docs; the id format is that of the docs' examples). The fake also checks the
  bytes carry a PNG/JPEG signature (the fake's choice: it catches a misnamed upload).
- file: ``.pdf``/``.doc``/``.docx`` names, at most 5,000,000 bytes (docs: "PDF, DOC, DOCX",
  "tối đa 5MB"); answers ``{"error": 0, ..., "data": {"token": <opaque>}}`` (docs; the token's
  format is the fake's choice).
- over the size limit: -210 (goclaw: "Upload body exceeds the endpoint cap"; not in Zalo's
  docs). Another type: ``{"error": 0, "data": {}}`` (goclaw: Zalo "validates payload type by
  extension and silently returns empty-data otherwise"; unverified).
- the send endpoint takes an image as ``{"type": "template", "payload": {"template_type":
  "media", "elements": [{"media_type": "image", "attachment_id": ...}]}}`` with an optional
  ``text`` of up to 2,000 characters (java-sdk ``SendImageCSMessage``), and a file as ``{"type":
  "file", "payload": {"token": ...}}`` (java-sdk ``SendFileCSMessage``). Ids and tokens must be
  ones this fake issued for that kind (else -201); a file message with ``text`` answers -201
  (the documented body has none; the fake's choice); image ``url`` elements are not modelled.
- ``fail_next(code, upload=True)`` scripts upload answers; uploads do not touch the 7-day
  window or -213 (they name no user).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import mimetypes
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.fake_zns import ZNS_PATH, ZnsRefused, ZnsSend, accepted

__all__ = [
    "ERRORS",
    "Delivery",
    "FakeZalo",
    "Refresh",
    "SendAttempt",
    "TemplateSend",
    "Upload",
    "ZaloMessage",
    "running",
]

JSON = dict[str, Any]
T = TypeVar("T")

SEND_PATH = "/v3.0/oa/message/cs"
TEMPLATE_PATH = "/v3.0/oa/message/template"
TOKEN_PATH = "/v4/oa/access_token"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
# Extensions and byte limits of each upload kind (see "Uploads" in the module docstring).
UPLOAD_TYPES: dict[str, frozenset[str]] = {
    "image": frozenset({"jpg", "jpeg", "png"}),
    "file": frozenset({"pdf", "doc", "docx"}),
}
UPLOAD_LIMITS: dict[str, int] = {"image": 1_000_000, "file": 5_000_000}
MAX_TEXT, MAX_BUTTONS, MAX_TITLE = 2000, 5, 100
# ZALO.md "Sending": query buttons carry a text payload; open.url an object with a url,
# open.phone / open.sms one with a phone number.
BUTTON_TYPES: frozenset[str] = frozenset({"oa.query.hide", "oa.query.show"})
OPEN_BUTTONS: dict[str, str] = {
    "oa.open.url": "url",
    "oa.open.phone": "phone_code",
    "oa.open.sms": "phone_code",
}
EXPIRES_IN = "90000"  # Zalo gives the seconds as a string (~25 h)
# Errors of the message API (HTTP 200 with a non-zero "error"), then of the OAuth endpoint.
ERRORS: dict[int, str] = {
    -32: "Request rate limit exceeded",
    -201: "Parameters are invalid",
    -210: "Parameters exceeded the limit",
    -213: "User has not followed OA",
    -216: "Access token is invalid",
    -220: "Access token has expired or has been removed",
    -227: "User has been banned or has been inactive for more than 45 days",  # ZALO.md
    -230: "User has not interacted with the OA in the past 7 days",
    -232: "User has not interacted with the OA for more than 7 days",
    -244: "User is restricted",  # ZALO.md gives the meaning, not Zalo's wording
    -14001: "Invalid parameter",
    -14002: "Invalid app id or secret key",
    -14014: "Invalid refresh token",  # the fake's choice: code and text not in ZALO.md
}


@dataclass(frozen=True)
class ZaloMessage:
    """A message the OA accepted for a user."""

    user_id: str
    message_id: str  # 32 hex characters, as Zalo returns it
    text: str
    buttons: list[tuple[str, str, str]]  # (title, type, payload) in order
    sent_at: float  # time.monotonic() when accepted
    attachment_id: str | None = None  # an uploaded image shown by a media template
    file_token: str | None = None  # an uploaded file (text is "" then)


@dataclass(frozen=True)
class SendAttempt:
    """One call of the send endpoint, whatever its outcome."""

    at: float  # monotonic arrival
    user_id: str | None  # recipient.user_id if it was a string
    text: str | None
    access_token: str | None  # the header as sent
    error: int  # 0 on success
    detail: str  # why the fake answered that error ("" on success)
    body: Any  # the decoded JSON body (None if it was not JSON)


@dataclass(frozen=True)
class Upload:
    """One call of an upload endpoint; ``id`` (attachment id or file token) on success."""

    at: float
    kind: str  # "image" or "file"
    name: str  # the multipart file name ("" without a file field)
    content_type: str
    data: bytes
    access_token: str | None
    error: int  # 0 on success, even when Zalo silently refuses the type (id is None then)
    detail: str
    id: str | None = None


@dataclass(frozen=True)
class Refresh:
    """One call of the token endpoint; ``access_token``/``new_refresh_token`` on success."""

    at: float
    refresh_token: str
    app_id: str
    secret_key: str
    grant_type: str
    error: int  # 0 on success
    access_token: str | None = None
    new_refresh_token: str | None = None


@dataclass(frozen=True)
class TemplateSend:
    """A template message the OA accepted (``POST /v3.0/oa/message/template``)."""

    user_id: str
    template_id: str
    data: dict[str, str]


@dataclass(frozen=True)
class Delivery:
    """One webhook POST the fake made to the bot."""

    at: float  # monotonic, just before posting
    url: str
    event_name: str
    user_id: str | None  # the user the event is about
    status: int
    retry: int


@dataclass
class _Fault:
    code: int
    remaining: int
    user_id: str | None
    status: int
    where: str  # "send", "refresh" or "upload"


@dataclass(frozen=True)
class _Parsed:
    user_id: str
    text: str
    buttons: list[tuple[str, str, str]]
    attachment_id: str | None = None
    file_token: str | None = None


@dataclass
class _HostedFile:
    data: bytes
    content_type: str
    downloads: int = 0


class _ZaloError(Exception):
    def __init__(self, code: int, detail: str = "", status: int = 200) -> None:
        self.code, self.status = code, status  # a status other than 200 models an outage
        self.detail = detail or ERRORS.get(code, "Error")
        super().__init__(self.detail)


def _mac(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    text = app_id + body.decode("utf-8") + timestamp + secret
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_token() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode().rstrip("=")


def _upload_refusal(kind: str, name: str, data: bytes) -> str:
    """Why Zalo would silently refuse this upload ("" when it takes it)."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in UPLOAD_TYPES[kind]:
        return f"{kind} upload named {name!r}: not one of {sorted(UPLOAD_TYPES[kind])}"
    if not data:
        return "empty upload"
    if kind == "image" and not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return f"{name!r} is not a PNG or JPEG image"
    return ""


def _check_user(user_id: object) -> str:
    if not isinstance(user_id, str) or not user_id.isdigit():
        raise TypeError(f"Zalo user ids are digit strings, got {user_id!r}")
    return user_id


def _get(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...`` or None when any level is missing or not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _parse_send(body: object, issued: dict[str, str]) -> _Parsed:
    """What a send request asks for, or _ZaloError(-201) saying why not. ``issued`` maps the
    attachment ids and file tokens this fake handed out to their kind."""
    user_id, text = _get(body, "recipient", "user_id"), _get(body, "message", "text")
    if not isinstance(user_id, str) or not user_id.isdigit():
        raise _ZaloError(-201, f"recipient.user_id must be a digit string, got {user_id!r}")
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise _ZaloError(-201, f"message.text has {len(text)} > {MAX_TEXT} characters")
    attachment = _get(body, "message", "attachment")
    kind, payload = _get(attachment, "type"), _get(attachment, "payload")
    if kind == "template" and _get(payload, "template_type") == "media":
        return _Parsed(user_id, _caption(text), [], attachment_id=_media(payload, issued))
    if kind == "file":
        token = _get(payload, "token")
        if not isinstance(token, str) or issued.get(token) != "file":
            raise _ZaloError(-201, f"file payload.token {token!r} was not issued by upload/file")
        if text is not None:
            raise _ZaloError(-201, "a file message has no text (the documented body has none)")
        return _Parsed(user_id, "", [], file_token=token)
    if not isinstance(text, str) or not text.strip():
        raise _ZaloError(-201, "message.text is missing or empty")
    if attachment is None:
        return _Parsed(user_id, text, [])
    raw = _get(payload, "buttons")
    if kind != "template" or not isinstance(raw, list) or not raw:
        raise _ZaloError(-201, "attachment must be a media or button template, or a file")
    if len(raw) > MAX_BUTTONS:
        raise _ZaloError(-201, f"{len(raw)} > {MAX_BUTTONS} buttons")
    buttons: list[tuple[str, str, str]] = []
    for button in raw:
        title, action, data = (_get(button, key) for key in ("title", "type", "payload"))
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise _ZaloError(-201, f"button title {title!r} is empty or > {MAX_TITLE}")
        if action in OPEN_BUTTONS and isinstance(_get(data, OPEN_BUTTONS[action]), str):
            data = str(_get(data, OPEN_BUTTONS[action]))
        elif action not in BUTTON_TYPES or not isinstance(data, str) or not data:
            raise _ZaloError(-201, f"button {button!r}: unsupported type or empty payload")
        buttons.append((title, action, data))
    return _Parsed(user_id, text, buttons)


def _caption(text: object) -> str:
    if text is not None and not isinstance(text, str):
        raise _ZaloError(-201, "message.text must be a string")
    return text or ""


def _media(payload: object, issued: dict[str, str]) -> str:
    """The attachment id of a media template showing one uploaded image."""
    elements = _get(payload, "elements")
    if not isinstance(elements, list) or len(elements) != 1:
        raise _ZaloError(-201, "a media template has exactly one element")
    media_type, attachment_id = _get(elements[0], "media_type"), _get(elements[0], "attachment_id")
    if media_type != "image":
        raise _ZaloError(-201, f"media_type {media_type!r}: the fake models images only")
    if not isinstance(attachment_id, str) or issued.get(attachment_id) != "image":
        raise _ZaloError(-201, f"attachment_id {attachment_id!r} was not issued by upload/image")
    return attachment_id


class FakeZalo:
    """A Zalo OA Open API server on 127.0.0.1 for one app and OA; see the module docstring."""

    def __init__(
        self,
        app_id: str = "1234567890",
        app_secret: str = "app-secret",
        oa_secret: str = "oa-secret",
        oa_id: str = "2591234567890123456",
        *,
        host: str = "127.0.0.1",
    ) -> None:
        self.app_id, self.app_secret, self.oa_secret = app_id, app_secret, oa_secret
        self.oa_id = _check_user(oa_id)
        self.host = host
        self.port = 0
        self._cond = threading.Condition(threading.RLock())
        self._access_token: str | None = None
        self._expired: dict[str, int] = {}  # access tokens made stale -> -216 or -220
        self._templates: dict[str, frozenset[str]] = {}  # approved template id -> its fields
        self._template_sends: list[TemplateSend] = []
        self._zns: dict[str, frozenset[str]] = {}  # approved ZNS template id -> its fields
        self._zns_sends: list[ZnsSend] = []
        self._zns_refusal: int = 0
        self._refusal: JSON | None = None  # a refresh answer without a numeric code
        self._refresh_tokens: set[str] = set()  # issued and not yet used
        self._latest_refresh: str | None = None
        self._pairs = 0
        self._last_ms = 0
        self._messages: dict[str, list[ZaloMessage]] = {}
        self._sends: list[SendAttempt] = []
        self._refreshes: list[Refresh] = []
        self._uploads: list[Upload] = []
        self._issued: dict[str, str] = {}  # attachment id / file token -> "image" / "file"
        self._deliveries: list[Delivery] = []
        self._faults: list[_Fault] = []
        self._window: dict[str, int] = {}  # user -> -230/-232/-227/-244
        self._unfollowed: set[str] = set()
        self._files: dict[str, _HostedFile] = {}
        self._server_errors: list[str] = []
        self._client_lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._thread_error: BaseException | None = None
        self._app = Starlette(
            routes=[
                Route(SEND_PATH, self._send_endpoint, methods=["POST"]),
                Route(TOKEN_PATH, self._token_endpoint, methods=["POST"]),
                Route(TEMPLATE_PATH, self._template_endpoint, methods=["POST"]),
                Route(ZNS_PATH, self._zns_endpoint, methods=["POST"]),
                Route(UPLOAD_IMAGE_PATH, self._upload_endpoint, methods=["POST"]),
                Route(UPLOAD_FILE_PATH, self._upload_endpoint, methods=["POST"]),
                Route("/files/{key}/{name}", self._file_endpoint, methods=["GET"]),
            ]
        )

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """Stands for https://openapi.zalo.me: the bot calls ``{base_url}/v3.0/oa/message/cs``."""
        return f"http://{self.host}:{self.port}"

    @property
    def oauth_url(self) -> str:
        """Stands for https://oauth.zaloapp.com: ``{oauth_url}/v4/oa/access_token``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeZalo:
        """Bind a free port and serve in a background thread; returns once accepting."""
        if self._thread is not None:
            raise RuntimeError("FakeZalo is already started")
        # IPPROTO_TCP so asyncio sets TCP_NODELAY (else Nagle + delayed ACK add ~40 ms).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the test process's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="fake-zalo", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if self._thread_error is not None or not self._thread.is_alive():
                self._thread.join()
                self._cleanup()
                raise RuntimeError(f"fake Zalo server failed: {self._thread_error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fake Zalo server did not start within 10 s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Close the webhook client, shut uvicorn down (within its 0.1 s tick), close the socket."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        thread = self._thread
        if thread is None:
            return
        if self._server is not None:
            self._server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("fake Zalo server did not stop within 15 s")
        self._cleanup()
        if self._thread_error is not None:
            error, self._thread_error = self._thread_error, None
            raise RuntimeError("fake Zalo server crashed") from error

    def _cleanup(self) -> None:
        if self._sock is not None:
            self._sock.close()  # uvicorn closes it too; closing twice is harmless
        self._sock = self._thread = self._server = None

    def _run(self) -> None:
        # Kept, not raised: an exception escaping a thread becomes a warning, i.e. an error.
        try:
            assert self._server is not None
            assert self._sock is not None
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:
            self._thread_error = exc

    def __enter__(self) -> FakeZalo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- HTTP layer

    async def _send_endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        raw = await request.body()
        token = request.headers.get("access_token")
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
        user, text = _get(body, "recipient", "user_id"), _get(body, "message", "text")
        user = user if isinstance(user, str) else None
        text = text if isinstance(text, str) else None
        try:
            with self._cond:
                status, error, detail = 200, 0, ""
                try:
                    self._take_fault("send", user_id=user)
                    self._check_token(token)
                    parsed = _parse_send(body, self._issued)
                    user_id = parsed.user_id
                    if user_id in self._unfollowed:
                        raise _ZaloError(-213)
                    if user_id in self._window:
                        raise _ZaloError(self._window[user_id])
                    stored = ZaloMessage(
                        user_id,
                        uuid.uuid4().hex,
                        parsed.text,
                        parsed.buttons,
                        arrived,
                        parsed.attachment_id,
                        parsed.file_token,
                    )
                    self._messages.setdefault(user_id, []).append(stored)
                    data = {"message_id": stored.message_id, "user_id": user_id}
                    answer: JSON = {"error": 0, "message": "Success", "data": data}
                except _ZaloError as exc:
                    status, error, detail = exc.status, exc.code, exc.detail
                    answer = {"error": exc.code, "message": ERRORS.get(exc.code, exc.detail)}
                self._sends.append(SendAttempt(arrived, user, text, token, error, detail, body))
                self._cond.notify_all()
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            return self._crashed("send", exc)
        return JSONResponse(answer, status_code=status)

    async def _token_endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        used, app_id, grant = (form.get(k, "") for k in ("refresh_token", "app_id", "grant_type"))
        record = Refresh(arrived, used, app_id, request.headers.get("secret_key", ""), grant, 0)
        try:
            with self._cond:
                try:
                    self._take_fault("refresh", user_id=None)
                    if self._refusal is not None:
                        self._refreshes.append(replace(record, error=0))
                        self._cond.notify_all()
                        return JSONResponse(self._refusal)
                    if app_id != self.app_id or record.secret_key != self.app_secret:
                        raise _ZaloError(-14002)
                    if grant != "refresh_token":
                        raise _ZaloError(-14001)
                    if used not in self._refresh_tokens:
                        raise _ZaloError(-14014)
                except _ZaloError as exc:
                    self._refreshes.append(replace(record, error=exc.code))
                    self._cond.notify_all()
                    name = ERRORS.get(exc.code, "Error")
                    answer = {"error": exc.code, "error_name": name, "error_description": name}
                    return JSONResponse(answer, status_code=exc.status)
                self._refresh_tokens.discard(used)
                access, refresh = self._new_pair()
                self._refreshes.append(
                    replace(record, access_token=access, new_refresh_token=refresh)
                )
                self._cond.notify_all()
        except Exception as exc:
            return self._crashed("refresh", exc)
        return JSONResponse(
            {"access_token": access, "refresh_token": refresh, "expires_in": EXPIRES_IN}
        )

    async def _upload_endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        kind = "image" if request.url.path == UPLOAD_IMAGE_PATH else "file"
        token = request.headers.get("access_token")
        name, content_type, data, present = "", "", b"", False
        try:
            async with request.form(max_files=1) as form:
                field = form.get("file")
                if isinstance(field, UploadFile):
                    name, content_type = field.filename or "", field.content_type or ""
                    data, present = await field.read(), True
        except Exception:  # not multipart at all: no file field
            present = False
        try:
            with self._cond:
                record = Upload(arrived, kind, name, content_type, data, token, 0, "")
                try:
                    self._take_fault("upload", user_id=None)
                    self._check_token(token)
                    if not present:
                        raise _ZaloError(-201, "multipart field 'file' is missing")
                    if len(data) > UPLOAD_LIMITS[kind]:
                        raise _ZaloError(-210, f"{len(data)} > {UPLOAD_LIMITS[kind]} bytes")
                except _ZaloError as exc:
                    self._uploads.append(replace(record, error=exc.code, detail=exc.detail))
                    self._cond.notify_all()
                    answer = {"error": exc.code, "message": ERRORS.get(exc.code, exc.detail)}
                    return JSONResponse(answer, status_code=exc.status)
                refusal = _upload_refusal(kind, name, data)
                if refusal:  # Zalo answers "Success" with empty data (see the docstring)
                    self._uploads.append(replace(record, detail=refusal))
                    self._cond.notify_all()
                    return JSONResponse({"error": 0, "message": "Success", "data": {}})
                issued = uuid.uuid4().hex[:20] if kind == "image" else _file_token()
                self._issued[issued] = kind
                self._uploads.append(replace(record, id=issued))
                self._cond.notify_all()
        except Exception as exc:
            return self._crashed("upload", exc)
        key = "attachment_id" if kind == "image" else "token"
        return JSONResponse({"error": 0, "message": "Success", "data": {key: issued}})

    async def _file_endpoint(self, request: Request) -> Response:
        with self._cond:
            hosted = self._files.get(request.path_params["key"])
            if hosted is None:
                return JSONResponse({"error": 404, "message": "Not Found"}, status_code=404)
            hosted.downloads += 1
            self._cond.notify_all()
            return Response(hosted.data, media_type=hosted.content_type)

    def _crashed(self, where: str, exc: Exception) -> Response:
        with self._cond:
            self._server_errors.append(f"{where}: {exc!r}")
            self._cond.notify_all()
        return JSONResponse({"error": -1, "message": "fake crashed"}, status_code=500)

    def _take_fault(self, where: str, *, user_id: str | None) -> None:
        for fault in self._faults:
            if fault.where == where and fault.user_id in (None, user_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise _ZaloError(fault.code, "scripted by fail_next", fault.status)

    # ---------------------------------------------------------------- tokens, recipients, faults

    def _new_pair(self) -> tuple[str, str]:
        self._pairs += 1
        access = f"access-{self._pairs}-{uuid.uuid4().hex}"
        refresh = f"refresh-{self._pairs}-{uuid.uuid4().hex}"
        self._access_token, self._latest_refresh = access, refresh
        self._refresh_tokens.add(refresh)
        return access, refresh

    def issue_tokens(self) -> tuple[str, str]:
        """A fresh valid (access_token, refresh_token), as pasted from the developer console.

        The access token replaces the current one; earlier unused refresh tokens stay valid.
        """
        with self._cond:
            return self._new_pair()

    def expire_access_token(self, code: int = -216) -> None:
        """The current access token stops working: sends with it answer ``code`` (-216
        invalid, or -220 expired or removed); refresh tokens are untouched."""
        if code not in (-216, -220):
            raise ValueError("a stale access token answers -216 or -220")
        with self._cond:
            if self._access_token is not None:
                self._expired[self._access_token] = code
            self._access_token = None

    def _check_token(self, token: str | None) -> None:
        if token and token in self._expired:
            raise _ZaloError(self._expired[token], "access token made stale by the test")
        if not token or token != self._access_token:
            raise _ZaloError(-216, "access_token header missing or not current")

    def refuse_refreshes(self, error_name: str, error_reason: str) -> None:
        """Every refresh from now on answers HTTP 200 with ``error_name`` / ``error_reason``
        and no numeric ``error`` (ZALO.md "Tokens": failures may come so); ``Refresh.error``
        is 0 for them; the name and reason texts are the test's (the fake's choice), not
        documented ones. ``allow_refreshes`` ends it."""
        with self._cond:
            self._refusal = {"error_name": error_name, "error_reason": error_reason}

    def allow_refreshes(self) -> None:
        with self._cond:
            self._refusal = None

    # ---------------------------------------------------------------- template messages

    def approve_template(self, template_id: str, fields: set[str]) -> None:
        """An approved template: sends of it must fill exactly ``fields``."""
        with self._cond:
            self._templates[template_id] = frozenset(fields)

    @property
    def template_sends(self) -> list[TemplateSend]:
        """Every accepted template message, in order."""
        with self._cond:
            return list(self._template_sends)

    async def _template_endpoint(self, request: Request) -> Response:
        """``POST /v3.0/oa/message/template`` (ZALO.md "Sending": proactive messages by user
        id). ZALO.md names the endpoint only: the body ``{"recipient": {"user_id"},
        "message": {"template_id", "template_data": {field: text}}}`` and its checks (an
        approved id, exactly its fields, else -201) are the fake's choice. It needs a valid
        token (-216 / -220) and -213 applies, but not the 7-day window: that is its point."""
        token = request.headers.get("access_token")
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(await request.body())
        try:
            with self._cond:
                try:
                    self._check_token(token)
                    user = _get(body, "recipient", "user_id")
                    template_id = _get(body, "message", "template_id")
                    data = _get(body, "message", "template_data")
                    if not isinstance(user, str) or not user.isdigit():
                        raise _ZaloError(-201, "recipient.user_id must be a digit string")
                    if template_id not in self._templates:
                        raise _ZaloError(-201, f"template {template_id!r} is not approved")
                    if not isinstance(data, dict) or set(data) != self._templates[template_id]:
                        raise _ZaloError(-201, "template_data must fill the template's fields")
                    if user in self._unfollowed:
                        raise _ZaloError(-213)
                except _ZaloError as exc:
                    return JSONResponse({"error": exc.code, "message": exc.detail})
                sent = TemplateSend(user, str(template_id), {k: str(v) for k, v in data.items()})
                self._template_sends.append(sent)
                self._cond.notify_all()
        except Exception as exc:
            return self._crashed("template", exc)
        answer = {"message_id": uuid.uuid4().hex, "user_id": user}
        return JSONResponse({"error": 0, "message": "Success", "data": answer})

    def approve_zns(self, template_id: str, fields: set[str]) -> None:
        """An approved ZNS template: sends of it must fill exactly ``fields``."""
        with self._cond:
            self._zns[template_id] = frozenset(fields)

    def refuse_zns(self, code: int) -> None:
        """Every ZNS send answers ``code`` from now on (0: accepted again)."""
        with self._cond:
            self._zns_refusal = code

    @property
    def zns_sends(self) -> list[ZnsSend]:
        """Every accepted ZNS message, in order."""
        with self._cond:
            return list(self._zns_sends)

    async def _zns_endpoint(self, request: Request) -> Response:
        """``POST /message/template`` on ZNS's host (``tests/support/fake_zns.py``): a valid
        access token (-124 otherwise), then the body's checks; no 7-day window."""
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(await request.body())
        with self._cond:
            try:
                try:
                    self._check_token(request.headers.get("access_token"))
                except _ZaloError as exc:
                    raise ZnsRefused(-124, "access token invalid") from exc
                if self._zns_refusal:
                    raise ZnsRefused(self._zns_refusal, "refused by the test")
                sent = accepted(body, dict(self._zns))
            except ZnsRefused as exc:
                return JSONResponse({"error": exc.code, "message": exc.detail})
            self._zns_sends.append(sent)
            self._cond.notify_all()
        data = {"msg_id": uuid.uuid4().hex, "sent_time": str(int(time.time() * 1000)), "quota": {}}
        return JSONResponse({"error": 0, "message": "Success", "data": data})

    @property
    def access_token(self) -> str | None:
        """The one access token the send endpoint accepts now (None after expiry)."""
        with self._cond:
            return self._access_token

    @property
    def refresh_token(self) -> str | None:
        """The most recently issued refresh token while it is unused."""
        with self._cond:
            latest = self._latest_refresh
            return latest if latest in self._refresh_tokens else None

    @property
    def refreshes(self) -> list[Refresh]:
        """Every call of the token endpoint, failed ones included."""
        with self._cond:
            return list(self._refreshes)

    def out_of_window(self, user_id: str, code: int = -230) -> None:
        """Sends to the user answer ``code`` until the user writes again: -230 or -232
        (outside the 7-day window), -227 (banned or inactive for 45 days) or -244
        (restricted), as ZALO.md lists them; the fake lifts the last two on a new message
        too, as Zalo does once the citizen is active again."""
        if code not in (-230, -232, -227, -244):
            raise ValueError("the window errors are -230, -232, -227 and -244")
        with self._cond:
            self._window[_check_user(user_id)] = code

    def unfollowed(self, user_id: str) -> None:
        """Sends to the user answer -213 until ``follow(user_id)``; builds no event."""
        with self._cond:
            self._unfollowed.add(_check_user(user_id))

    def fail_next(
        self,
        code: int,
        count: int = 1,
        *,
        user_id: str | None = None,
        status: int = 200,
        refresh: bool = False,
        upload: bool = False,
    ) -> None:
        """The next ``count`` sends (to ``user_id`` if given) answer error ``code``.

        ``refresh=True`` fails token refreshes instead, ``upload=True`` uploads (of any
        kind); ``status`` other than 200 answers that HTTP status (an outage) rather than
        Zalo's HTTP 200 with an error code.
        """
        if refresh and upload:
            raise ValueError("a fault is for sends, refreshes or uploads, not several")
        where = "refresh" if refresh else "upload" if upload else "send"
        with self._cond:
            self._faults.append(_Fault(code, count, user_id, status, where))

    # ---------------------------------------------------------------- files

    def host_file(self, data: bytes, name: str, content_type: str | None = None) -> str:
        """Serve ``data`` on GET at the returned URL (an attachment URL for user events)."""
        if "/" in name or not name:
            raise ValueError("a hosted file needs a name without '/'")
        kind = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        key = uuid.uuid4().hex
        with self._cond:
            self._files[key] = _HostedFile(data, kind)
        return f"{self.base_url}/files/{key}/{quote(name, safe='')}"

    def _hosted(self, url: str) -> _HostedFile | None:
        key = url.removeprefix(f"{self.base_url}/files/").split("/", 1)[0]
        with self._cond:
            return self._files.get(key)

    def downloads(self, url: str) -> int:
        """How many times a URL from ``host_file`` was fetched."""
        hosted = self._hosted(url)
        if hosted is None:
            raise KeyError(url)
        with self._cond:
            return hosted.downloads

    # ---------------------------------------------------------------- acting as users

    def _event(self, user_id: str, event_name: str, message: JSON | None = None) -> JSON:
        """An event about ``user_id``; a user's own event reopens the 7-day window."""
        user = _check_user(user_id)
        with self._cond:
            if not event_name.startswith(("oa_", "unfollow")):
                self._window.pop(user, None)
            self._last_ms = max(self._last_ms + 1, int(time.time() * 1000))  # strictly increasing
            timestamp = str(self._last_ms)
        digest = hashlib.sha256(f"{self.app_id}:{user}".encode()).hexdigest()
        event: JSON = {"app_id": self.app_id, "user_id_by_app": str(int(digest[:15], 16))}
        event |= {"event_name": event_name, "timestamp": timestamp}
        if message is None:  # follow / unfollow
            return event | {"oa_id": self.oa_id, "source": "oa_profile", "follower": {"id": user}}
        sender, recipient = (
            (self.oa_id, user) if event_name.startswith("oa_") else (user, self.oa_id)
        )
        return event | {
            "sender": {"id": sender},
            "recipient": {"id": recipient},
            "message": message,
        }

    def user_text(self, user_id: str, text: str) -> JSON:
        """The ``user_send_text`` event of the user writing ``text``."""
        return self._event(user_id, "user_send_text", {"text": text, "msg_id": uuid.uuid4().hex})

    def press(self, user_id: str, payload: str, *, check: bool = True) -> JSON:
        """The ``user_send_text`` Zalo sends when the user taps a query button: its payload.

        With ``check`` the payload must belong to a button the OA sent this user.
        """
        with self._cond:
            sent = [b[2] for m in self._messages.get(user_id, []) for b in m.buttons]
        if check and payload not in sent:
            raise ValueError(f"no button with payload {payload!r} was sent to {user_id}")
        return self.user_text(user_id, payload)

    def user_image(self, user_id: str, url: str, text: str = "") -> JSON:
        """The ``user_send_image`` event of the user sending the image at ``url``."""
        attachment = {"type": "image", "payload": {"thumbnail": url, "url": url}}
        message = {"msg_id": uuid.uuid4().hex, "text": text, "attachments": [attachment]}
        return self._event(user_id, "user_send_image", message)

    def user_file(self, user_id: str, url: str, name: str, size: int | None = None) -> JSON:
        """The ``user_send_file`` event; size and checksum default from ``host_file`` data."""
        hosted = self._hosted(url)
        data = hosted.data if hosted is not None else url.encode()
        payload = {
            "url": url,
            "size": str(len(data) if size is None else size),
            "name": name,
            "checksum": hashlib.md5(data).hexdigest(),
            "type": name.rsplit(".", 1)[-1].lower() if "." in name else "",
        }
        attachments = [{"type": "file", "payload": payload}]
        message = {"msg_id": uuid.uuid4().hex, "text": "", "attachments": attachments}
        return self._event(user_id, "user_send_file", message)

    def oa_echo(self, user_id: str, text: str, msg_id: str | None = None) -> JSON:
        """The ``oa_send_text`` echo Zalo posts after the OA sent ``text`` to the user."""
        message = {"text": text, "msg_id": msg_id or uuid.uuid4().hex}
        return self._event(user_id, "oa_send_text", message)

    def follow(self, user_id: str) -> JSON:
        """The ``follow`` event; sends to the user work again (no -213, window reopened)."""
        with self._cond:
            self._unfollowed.discard(user_id)
        return self._event(user_id, "follow")

    def unfollow(self, user_id: str) -> JSON:
        """The ``unfollow`` event; sends to the user answer -213 from now on."""
        self.unfollowed(user_id)
        return self._event(user_id, "unfollow")

    def signature(self, body: bytes, timestamp: str) -> str:
        """The hex SHA-256 Zalo puts after ``mac=`` for this raw body and timestamp."""
        return _mac(self.app_id, body, timestamp, self.oa_secret)

    def post(
        self,
        url: str,
        event: JSON,
        *,
        sign: bool = True,
        wrong_secret: bool = False,
        retry: int = 0,
        raw: bytes | None = None,
        timeout: float = 10.0,
    ) -> int:
        """POST ``event`` to the bot's webhook as Zalo does; returns the HTTP status.

        The body is compact UTF-8 JSON (Vietnamese unescaped), or exactly ``raw`` if given;
        ``wrong_secret`` signs with another OA secret; ``retry`` > 0 adds ``num_retry``.
        """
        body = (
            raw
            if raw is not None
            else json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        )
        headers = {"Content-Type": "application/json"}
        if sign:
            secret = self.oa_secret + ("-wrong" if wrong_secret else "")
            mac = _mac(self.app_id, body, str(event.get("timestamp", "")), secret)
            headers["X-ZEvent-Signature"] = f"mac={mac}"
        if retry:
            headers["num_retry"] = str(retry)
        with self._client_lock:
            if self._client is None:
                # One client kept open, as Zalo keeps its connections; trust_env=False so a
                # proxy from the environment does not intercept 127.0.0.1.
                self._client = httpx.Client(trust_env=False)
            client = self._client
        sent_at = time.monotonic()
        status = client.post(url, content=body, headers=headers, timeout=timeout).status_code
        name = str(event.get("event_name", ""))
        side = "recipient" if name.startswith("oa_") else "sender"
        user = _get(event, "follower", "id") or _get(event, side, "id")
        with self._cond:
            self._deliveries.append(
                Delivery(sent_at, url, name, user if isinstance(user, str) else None, status, retry)
            )
            self._cond.notify_all()
        return status

    # ---------------------------------------------------------------- observing

    def messages(self, user_id: str) -> list[ZaloMessage]:
        """The messages the OA sent the user, in order."""
        with self._cond:
            return list(self._messages.get(user_id, []))

    @property
    def sends(self) -> list[SendAttempt]:
        """Every send call, failed ones included."""
        with self._cond:
            return list(self._sends)

    @property
    def uploads(self) -> list[Upload]:
        """Every upload call, failed and silently refused ones included."""
        with self._cond:
            return list(self._uploads)

    def uploaded(self, issued: str) -> Upload:
        """The upload that returned this attachment id or file token."""
        with self._cond:
            for upload in self._uploads:
                if upload.id == issued:
                    return upload
        raise KeyError(issued)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook POST made by ``post``."""
        with self._cond:
            return list(self._deliveries)

    @property
    def server_errors(self) -> list[str]:
        """Exceptions inside the fake's handlers (a bug in the fake, not the bot)."""
        with self._cond:
            return list(self._server_errors)

    def wait_for(
        self, predicate: Callable[[FakeZalo], T], timeout: float = 10.0, what: str = ""
    ) -> T:
        """Block until ``predicate(self)`` (run under the lock) is truthy and return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate(self)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self.describe(f"waited {timeout} s for {what or predicate}"))
                self._cond.wait(remaining)
            return result

    def wait_for_messages(
        self, user_id: str, count: int = 1, timeout: float = 10.0
    ) -> list[ZaloMessage]:
        """The user's messages once at least ``count`` exist."""

        def enough(fake: FakeZalo) -> list[ZaloMessage]:
            found = fake.messages(user_id)
            return found if len(found) >= count else []

        return self.wait_for(enough, timeout, f"{count} message(s) to user {user_id}")

    def describe(self, headline: str = "fake Zalo state", last: int = 20) -> str:
        """A readable summary for failure messages."""
        with self._cond:
            lines = [headline, f"recent sends ({len(self._sends)} in all):"]
            lines += [
                f"  {s.at:.3f} to {s.user_id} {(s.text or '')[:40]!r} -> {s.error} {s.detail}"
                for s in self._sends[-last:]
            ]
            lines.append(f"refreshes: {[(r.refresh_token[:12], r.error) for r in self._refreshes]}")
            lines += [
                f"  upload {u.kind} {u.name!r} ({len(u.data)} B) -> {u.error} {u.id} {u.detail}"
                for u in self._uploads[-last:]
            ]
            lines += [
                f"  posted {d.event_name} ({d.user_id}) -> {d.status}"
                for d in self._deliveries[-last:]
            ]
            lines += [f"fake server errors: {self._server_errors}"] if self._server_errors else []
            return "\n".join(lines)


@contextlib.contextmanager
def running(*templates: str) -> Iterator[FakeZalo]:
    """A started fake with ``templates`` approved (one field, ``content``); on exit, fails
    the test if the fake itself crashed on a request."""
    with FakeZalo() as fake:
        for template in templates:
            fake.approve_template(template, {"content"})
        yield fake
    assert fake.server_errors == []
