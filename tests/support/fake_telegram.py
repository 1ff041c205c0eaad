"""A fake Telegram Bot API server over real HTTP, for end-to-end tests of the real bot process.

The bot under test is started with ``TELEGRAM_API_BASE_URL=fake.base_url`` so that
python-telegram-bot calls ``http://127.0.0.1:PORT/bot<TOKEN>/<method>`` here instead of
api.telegram.org. The fake speaks the Bot API wire format (form-urlencoded, multipart and JSON
bodies in; ``{"ok": ..., "result": ...}`` out), keeps the bot's messages per chat, queues updates
for ``getUpdates`` long polling (or posts them to a webhook), records every call, and can inject
failures (429 flood control, 403 blocked, 5xx) so the outbox sender can be tested.

The server runs uvicorn + Starlette in a background thread with its own event loop. All shared
state is guarded by one re-entrant lock wrapped in a :class:`threading.Condition`, so the test
thread can act as users and wait for the bot's replies while requests are being served.

Usage::

    with FakeTelegram(token="123:ABC", username="sipas_test_bot") as fake:
        env = {"TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_BOT_TOKEN": fake.token}
        ...  # start `python -m bot` with env
        fake.user_sends_command(42, "/start", "R-7Q2K")
        [reply] = fake.wait_for_messages(42, 1)
        fake.user_presses(42, reply.message_id, fake.keyboard(reply)[0][1])

Where the fake is deliberately simpler than Telegram (documented so nobody relies on it):
texts are stored as sent (HTML is validated for balanced, supported tags but not turned into
entities; MarkdownV2 is not checked), any chat id is accepted, and inline-mode messages are only
acknowledged.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import html
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message as _MimeHeader
from email.utils import collapse_rfc2231_value
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "REPLY_METHODS",
    "SEND_METHODS",
    "BotMessage",
    "Call",
    "CallbackAnswer",
    "FakeTelegram",
    "MessageVersion",
    "QueuedUpdate",
    "StoredFile",
    "UploadedFile",
]

JSON = dict[str, Any]
T = TypeVar("T")

# Methods that put a new message in a chat: what Telegram's flood limits (~1/s per chat,
# ~30/s overall) are about, and what ``sends_per_second`` counts by default.
SEND_METHODS: frozenset[str] = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
# Methods that count as "the bot answered" when measuring round trips: a new message or an
# edit of the one the user pressed a button on.
REPLY_METHODS: frozenset[str] = SEND_METHODS | {
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
}

# Parameters that are free text: never JSON-decode them, or a message like "[1, 2]" would
# arrive as a list.
_TEXT_PARAMS = frozenset(
    {"text", "caption", "title", "description", "short_description", "name", "url", "query"}
)
# Tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style).
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_BLOCKED = "Forbidden: bot was blocked by the user"
_MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
#: Supergroup ids are -100 followed by the group's number: below this.
_SUPERGROUP_BELOW = -(10**12)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: _BLOCKED,
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, kept whole so a test can compare the bytes."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:  # the bytes would drown every failure message
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made, with its decoded parameters and our HTTP status."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    status: int
    description: str | None = None  # the error description when status != 200

    @property
    def chat_id(self) -> int | None:
        return _as_int(self.params.get("chat_id"))

    def short(self) -> str:
        """One line for failure messages."""
        shown = {k: _shorten(v) for k, v in self.params.items() if k != "reply_markup"}
        if "reply_markup" in self.params:
            shown["reply_markup"] = "…"
        extra = f" {self.description!r}" if self.description else ""
        return f"{self.at:.3f} {self.method} {shown} -> {self.status}{extra}"


@dataclass(frozen=True)
class MessageVersion:
    """A previous state of an edited message (``BotMessage.history``)."""

    text: str | None
    caption: str | None
    reply_markup: dict[str, Any] | None
    at: float  # monotonic time this version was created


@dataclass
class BotMessage:
    """A message the bot sent, in its current state; ``history`` holds the earlier versions."""

    chat_id: int
    message_id: int
    date: int  # unix seconds, as Telegram gives it
    method: str  # sendMessage, sendDocument or sendPhoto
    text: str | None
    reply_markup: dict[str, Any] | None  # as sent (inline keyboards, reply keyboards, removal)
    sent_at: float  # monotonic
    parse_mode: str | None = None
    caption: str | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    file_data: bytes | None = None  # uploaded bytes of a document or photo, if uploaded
    edited_at: float | None = None
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)

    @property
    def content(self) -> str | None:
        """The text, or the caption of a document/photo."""
        return self.text if self.text is not None else self.caption


@dataclass
class QueuedUpdate:
    """An update the fake created, and when it was handed to the bot."""

    update_id: int
    payload: dict[str, Any]
    chat_id: int | None
    kind: str  # "message", "callback_query", ...
    created_at: float
    delivered_at: float | None = None  # first hand-out since (re)queued (getUpdates or webhook)
    deliveries: list[float] = field(default_factory=list)
    redelivery: bool = False  # re-queued by deliver_again: bypasses the offset once


@dataclass(frozen=True)
class CallbackAnswer:
    """An answerCallbackQuery call, with the press it answers."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float  # monotonic arrival of the answer
    update_id: int | None  # the callback_query update it answers (None for unknown ids)
    pressed_at: float | None  # when the test created the press
    delivered_at: float | None  # when the press was handed to the bot
    status: int

    @property
    def delay(self) -> float | None:
        """Seconds from handing the press to the bot until it answered."""
        return None if self.delivered_at is None else self.at - self.delivered_at


@dataclass
class StoredFile:
    """A file known to the fake (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    data: bytes | None
    file_name: str | None
    mime_type: str | None
    file_path: str


@dataclass
class _Trap:
    method: str
    chat_id: int | None
    action: Callable[[], None]
    stored: bool


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: int | None
    remaining: int
    chat_id: int | None
    description: str


class _Server(uvicorn.Server):
    """uvicorn.Server that stops as soon as asked instead of on its next 0.1 s tick.

    Every test starts and stops a fake, so the tick would add up; ``on_tick`` still runs once
    a second to refresh the Date header, as uvicorn expects.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit_event: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._exit_event = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # on_tick refreshes the headers when % 10 == 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_event.wait(), 1.0)

    def request_exit(self) -> None:
        """Run on the server loop (via call_soon_threadsafe)."""
        self.should_exit = True
        if self._exit_event is not None:
            self._exit_event.set()


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _shorten(value: object, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return bool(value)


def _as_float(value: object, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _ApiError(400, "Bad Request: invalid number") from None


def _utf16_len(text: str) -> int:
    # Telegram measures entity offsets and lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _error_body(
    status: int, description: str, retry_after: int | None = None, migrate_to: int | None = None
) -> JSON:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    if migrate_to is not None:
        body["parameters"] = {"migrate_to_chat_id": migrate_to}
    return body


def _decode_value(key: str, value: str) -> Any:
    """PTB sends complex values (reply_markup, commands, ...) as JSON strings inside forms."""
    stripped = value.strip()
    if key not in _TEXT_PARAMS and stripped[:1] in {"{", "["}:
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _header_params(value: str, header: str) -> _MimeHeader:
    # email.message does RFC 2045 parameter parsing (quoted strings, escapes) for us, which
    # avoids a dependency on python-multipart.
    parsed = _MimeHeader()
    parsed[header] = value
    return parsed


def _parse_multipart(body: bytes, boundary: str) -> dict[str, Any]:
    """Split a multipart/form-data body exactly, keeping file bytes untouched."""
    result: dict[str, Any] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content.removesuffix(b"\r\n")  # the CRLF belongs to the next delimiter
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, header_value = line.partition(":")
            headers[name.strip().lower()] = header_value.strip()
        disposition = _header_params(headers.get("content-disposition", ""), "content-disposition")
        raw_name = disposition.get_param("name", header="content-disposition")
        if raw_name is None or (isinstance(raw_name, str) and not raw_name):
            continue
        field_name = collapse_rfc2231_value(raw_name)
        raw_filename = disposition.get_param("filename", header="content-disposition")
        if raw_filename is not None:
            result[field_name] = UploadedFile(
                filename=collapse_rfc2231_value(raw_filename),
                content_type=headers.get("content-type", "application/octet-stream"),
                data=content,
            )
        else:
            result[field_name] = _decode_value(field_name, content.decode("utf-8", "replace"))
    return result


async def _read_params(request: Request) -> dict[str, Any]:
    """Decode query string plus body (form, multipart or JSON) into one dict."""
    params: dict[str, Any] = {
        key: _decode_value(key, value) for key, value in request.query_params.multi_items()
    }
    body = await request.body()
    if not body:
        return params
    content_type = _header_params(request.headers.get("content-type", ""), "content-type")
    kind = content_type.get_content_type()
    if kind == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse JSON") from None
        if not isinstance(decoded, dict):
            raise _ApiError(400, "Bad Request: JSON object expected")
        params.update(decoded)
    elif kind == "multipart/form-data":
        boundary = content_type.get_param("boundary")
        if not isinstance(boundary, str):
            raise _ApiError(400, "Bad Request: multipart boundary is missing")
        params.update(_parse_multipart(body, boundary))
    else:
        # application/x-www-form-urlencoded, also Telegram's reading of an unlabeled body.
        text = body.decode("utf-8", "replace")
        params.update({k: _decode_value(k, v) for k, v in parse_qsl(text, keep_blank_values=True)})
    # "attach://name" points at a file part under another name (media groups, thumbnails).
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            target = params.get(value.removeprefix("attach://"))
            if isinstance(target, UploadedFile):
                params[key] = target
    return params


def _check_html(text: str) -> str:
    """Validate Telegram HTML (supported, balanced tags) and return the visible text."""
    stack: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        offset = len(text[:start].encode("utf-8"))
        match = _TAG_RE.match(text, start)
        if match is None:
            raise _ApiError(
                400,
                f'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset {offset}',
            )
        closing, name, _attrs = match.groups()
        name = name.lower()
        if name not in _HTML_TAGS:
            kind = "end" if closing else "start"
            raise _ApiError(
                400,
                f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{name}" '
                f"at byte offset {offset}",
            )
        if closing:
            if not stack or stack[-1] != name:
                expected = f'"</{stack[-1]}>"' if stack else "nothing"
                raise _ApiError(
                    400,
                    f"Bad Request: can't parse entities: Unmatched end tag at byte offset "
                    f'{offset}, expected {expected}, found "</{name}>"',
                )
            stack.pop()
        else:
            stack.append(name)
        pos = match.end()
    if stack:
        raise _ApiError(
            400,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1]}"',
        )
    return html.unescape(_TAG_RE.sub("", text))


def _visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode is not None and parse_mode.upper() == "HTML":
        return _check_html(text)
    return text


def _check_markup(markup: object) -> dict[str, Any] | None:
    """Reject what Telegram rejects in reply markup; the most common is oversized callback data."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is not None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Messages only ever carry inline keyboards; reply keyboards are not echoed back.
    if markup and markup.get("inline_keyboard"):
        return markup
    return None


def _same_markup(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    return _inline_markup(a) == _inline_markup(b)


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A Telegram Bot API server on 127.0.0.1 for one bot token; see the module docstring."""

    def __init__(
        self,
        token: str = "123:ABC",
        username: str = "sipas_test_bot",
        *,
        first_name: str = "SIPAS Test",
        first_update_id: int = 10000,
        host: str = "127.0.0.1",
        check_html: bool = True,
    ) -> None:
        bot_id = _as_int(token.split(":", 1)[0])
        if bot_id is None or ":" not in token:
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.username = username
        self.first_name = first_name
        self.bot_id = bot_id
        self.host = host
        self.port = 0
        self.check_html = check_html

        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._messages: dict[int, dict[int, BotMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._users: dict[int, JSON] = {}
        self._updates: dict[int, QueuedUpdate] = {}  # every update ever created
        self._pending: dict[int, QueuedUpdate] = {}  # not yet confirmed
        self._next_update_id = first_update_id
        self._callback_queries: dict[str, QueuedUpdate] = {}
        self._answered_queries: set[str] = set()
        self._next_query = 0
        self._callback_answers: list[CallbackAnswer] = []
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        #: Groups that became supergroups: old id -> new id (sends to the old id fail).
        self._migrated: dict[int, int] = {}
        #: Telegram's default for bots: in groups only commands, replies to the bot and
        #: messages naming it are delivered (``member_sends`` returns None for the rest).
        self.privacy_mode = True
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_calls: list[tuple[str, float]] = []
        self._allowed_updates: list[str] = []
        self._faults: list[_Fault] = []
        #: The token was revoked in @BotFather: every call answers 401 (``revoke_token``).
        self._revoked = False
        self._webhook_lock = threading.Lock()
        self._webhook_client: httpx.Client | None = None
        self._blocked: set[int] = set()
        self._files: dict[str, StoredFile] = {}
        self._next_file = 0
        self._server_errors: list[str] = []
        self._slow_chats: dict[int, float] = {}
        #: Methods whose next non-empty answers come cut short (``garble_next``), and how many.
        self._garbled: dict[str, int] = {}
        self._traps: list[_Trap] = []
        self._listeners: list[Callable[[Call], None]] = []
        #: When the getUpdates now waiting (past its faults, its offset confirmed) answers
        #: empty if no update comes (time.monotonic()); None while none waits.
        self._poll_until: float | None = None

        # Long-poll bookkeeping; touched only on the server's event loop thread.
        self._pollers: set[asyncio.Future[None]] = set()
        self._poll_generation = 0
        self._stopping = False

        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._thread_error: BaseException | None = None

        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda _params: True,
            "close": lambda _params: True,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
            "sendChatAction": lambda _params: True,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": lambda _params: True,
            "setMyShortDescription": lambda _params: True,
            "setMyName": lambda _params: True,
            "setChatMenuButton": lambda _params: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._method_names = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

        self._app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._file_endpoint, methods=["GET"]),
                Route(
                    "/{rest:path}",
                    self._not_found,
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
                ),
            ]
        )

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """What to give PTB as ``base_url`` (and the bot as TELEGRAM_API_BASE_URL)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to give PTB as ``base_file_url`` to download files from the fake."""
        return f"http://{self.host}:{self.port}/file/bot"

    def start(self) -> FakeTelegram:
        """Bind a free port and serve in a background thread; returns once accepting."""
        if self._thread is not None:
            raise RuntimeError("FakeTelegram is already started")
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it Nagle + delayed ACK add ~40 ms to every request.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the test process's logging configuration alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
        )
        self._server = _Server(config)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fake-telegram", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._thread_error is not None or not self._thread.is_alive():
                self._cleanup_after_thread()
                raise RuntimeError(f"fake Telegram server failed: {self._thread_error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fake Telegram server did not start within 10 s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Answer pending long polls, shut uvicorn down and close the socket."""
        with self._webhook_lock:
            if self._webhook_client is not None:
                self._webhook_client.close()
                self._webhook_client = None
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._notify_pollers()
        if self._server is not None:
            self._server.should_exit = True  # in case the loop is not running (yet)
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    self._loop.call_soon_threadsafe(self._server.request_exit)
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("fake Telegram server did not stop within 15 s")
        self._cleanup_after_thread()
        if self._thread_error is not None:
            error, self._thread_error = self._thread_error, None
            raise RuntimeError("fake Telegram server crashed") from error

    def _cleanup_after_thread(self) -> None:
        if self._sock is not None:
            self._sock.close()  # uvicorn closes it too; closing twice is harmless
            self._sock = None
        self._thread = None
        self._server = None
        self._loop = None

    def _run(self) -> None:
        # Exceptions are kept, not raised: an exception escaping a thread would become a
        # PytestUnhandledThreadExceptionWarning, which filterwarnings=error turns into a failure
        # somewhere unrelated.
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._thread_error = exc

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        assert self._server is not None
        assert self._sock is not None
        await self._server.serve(sockets=[self._sock])

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- HTTP layer

    async def _not_found(self, request: Request) -> Response:
        return JSONResponse(_error_body(404, "Not Found"), status_code=404)

    async def _file_endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token or self._revoked:
            return JSONResponse(_error_body(401, "Unauthorized"), status_code=401)
        path = request.path_params["file_path"]
        with self._cond:
            found = next((f for f in self._files.values() if f.file_path == path), None)
        if found is None or found.data is None:
            return JSONResponse(_error_body(404, "Not Found"), status_code=404)
        return Response(found.data, media_type=found.mime_type or "application/octet-stream")

    async def _endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        raw_method = request.path_params["method"]
        method = self._method_names.get(raw_method.lower(), raw_method)
        params: dict[str, Any] = {}
        try:
            params = await _read_params(request)
            if request.path_params["token"] != self.token or self._revoked:
                raise _ApiError(401, "Unauthorized")
            if method not in self._method_names.values():
                raise _ApiError(404, "Not Found: method not found")
            slow = self._slow_chats.get(_as_int(params.get("chat_id")) or 0)
            if slow and method != "getUpdates":
                await asyncio.sleep(slow)  # a chat whose sends hang (a slow network path)
            trap = self._take_trap(method, params)
            if trap is not None and not trap.stored:
                trap.action()  # the call never lands: the bot dies before Telegram took it
                raise _ApiError(500, "Internal Server Error")
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._cond:
                    self._check_faults(method, params)
                    result = self._handlers[method](params)
            if trap is not None:
                trap.action()  # taken, but the bot dies before it hears so
        except _ApiError as error:
            self._record(Call(method, params, arrived, error.status, error.description))
            body = _error_body(
                error.status, error.description, error.retry_after, error.migrate_to_chat_id
            )
            return JSONResponse(body, status_code=error.status)
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            with self._cond:
                self._server_errors.append(f"{method}: {exc!r}")
            self._record(Call(method, params, arrived, 500, repr(exc)))
            return JSONResponse(_error_body(500, "Internal Server Error"), status_code=500)
        self._record(Call(method, params, arrived, 200))
        if result and self._take_garbled(method):
            # Cut short, as a proxy that drops the connection mid-answer leaves it: the body
            # is not JSON, and carries whatever the answer held up to the cut.
            whole = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
            return Response(whole[:-3], media_type="application/json")
        return JSONResponse({"ok": True, "result": result})

    def _take_garbled(self, method: str) -> bool:
        with self._cond:
            left = self._garbled.get(method, 0)
            if left:
                self._garbled[method] = left - 1
            return bool(left)

    def garble_next(self, method: str, count: int = 1) -> None:
        """The next ``count`` answers of ``method`` that hold something (a getUpdates with
        updates in it) come cut short: not JSON. What was in them is not lost: a poll that
        is not confirmed hands the same updates out again."""
        with self._cond:
            self._garbled[self._method_names.get(method.lower(), method)] = count

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(call)

    def listen(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener`` with each call the bot makes, once answered, on the server's
        thread (a load generator learns of replies without polling the fake)."""
        with self._cond:
            self._listeners.append(listener)

    def _check_faults(self, method: str, params: Mapping[str, Any]) -> None:
        """Injected failures first, then blocked chats: a failed call never changes state."""
        chat_id = _as_int(params.get("chat_id"))
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise _ApiError(fault.status, fault.description, fault.retry_after)
        if chat_id is not None and chat_id in self._blocked and method != "getUpdates":
            raise _ApiError(403, _BLOCKED)
        if chat_id is not None and chat_id in self._migrated:
            # What Telegram answers for a group that became a supergroup.
            raise _ApiError(400, _MIGRATED, migrate_to_chat_id=self._migrated[chat_id])

    # ---------------------------------------------------------------- long polling

    def _notify_pollers(self) -> None:
        """Wake waiting getUpdates handlers; callable from any thread."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(self._wake_pollers)

    def _wake_pollers(self) -> None:
        for future in self._pollers:
            if not future.done():
                future.set_result(None)

    async def _get_updates(self, params: dict[str, Any]) -> list[JSON]:
        loop = asyncio.get_running_loop()
        offset = _as_int(params.get("offset")) or 0
        limit = _as_int(params.get("limit")) or 100
        limit = max(1, min(limit, 100))
        timeout = max(0.0, _as_float(params.get("timeout"), 0.0))
        allowed = params.get("allowed_updates")
        with self._cond:
            self._check_faults("getUpdates", params)
            if self._webhook_url:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            # Like Telegram, a newer getUpdates ends an older one still waiting (two bot
            # processes polling, or a poll orphaned by a killed process).
            self._poll_generation += 1
            generation = self._poll_generation
            self._confirm(offset)
            if isinstance(allowed, list):
                self._allowed_updates = [str(kind) for kind in allowed]
        self._wake_pollers()
        deadline = loop.time() + timeout
        try:
            return await self._wait_for_batch(loop, generation, deadline, limit)
        finally:
            with self._cond:
                if generation == self._poll_generation:
                    self._poll_until = None

    async def _wait_for_batch(
        self, loop: asyncio.AbstractEventLoop, generation: int, deadline: float, limit: int
    ) -> list[JSON]:
        while True:
            with self._cond:
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                self._poll_until = None  # set again below only if this poll waits on
                if self._revoked:  # a long poll waiting when the token goes ends with it
                    raise _ApiError(401, "Unauthorized")
                if self._stopping:
                    return []
                batch = self._take_batch(limit)
                if batch:
                    return batch
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                self._poll_until = time.monotonic() + remaining
                self._cond.notify_all()
            waiter: asyncio.Future[None] = loop.create_future()
            self._pollers.add(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
            finally:
                self._pollers.discard(waiter)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            for update_id, update in list(self._pending.items()):
                if update_id < offset and not (update.redelivery and update.delivered_at is None):
                    del self._pending[update_id]
        elif offset < 0:
            # Telegram: a negative offset keeps the last -offset updates, forgetting the rest.
            for update_id in sorted(self._pending)[:offset]:
                del self._pending[update_id]

    def _take_batch(self, limit: int) -> list[JSON]:
        now = time.monotonic()
        batch: list[JSON] = []
        for update_id in sorted(self._pending):
            update = self._pending[update_id]
            if self._allowed_updates and update.kind not in self._allowed_updates:
                del self._pending[update_id]  # Telegram drops what the bot did not ask for
                continue
            if update.delivered_at is None:
                update.delivered_at = now
            update.deliveries.append(now)
            if update.redelivery:
                update.redelivery = False
            batch.append(copy.deepcopy(update.payload))
            if len(batch) >= limit:
                break
        if batch:
            self._cond.notify_all()
        return batch

    # ---------------------------------------------------------------- message building

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _chat(self, chat_id: int) -> JSON:
        if chat_id < _SUPERGROUP_BELOW:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        user = self._users.get(chat_id, {})
        return {"id": chat_id, "type": "private", "first_name": user.get("first_name", "Citizen")}

    def _message_json(self, message: BotMessage) -> JSON:
        out: JSON = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": self._chat(message.chat_id),
            "date": message.date,
        }
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        if message.text is not None:
            out["text"] = message.text
        if message.document is not None:
            out["document"] = dict(message.document)
        if message.photo is not None:
            out["photo"] = [dict(size) for size in message.photo]
        if message.caption is not None:
            out["caption"] = message.caption
        markup = _inline_markup(message.reply_markup)
        if markup is not None:
            out["reply_markup"] = copy.deepcopy(markup)
        return out

    def _new_message_id(self, chat_id: int) -> int:
        # One counter per chat shared by user and bot messages, as in a Telegram private chat.
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store(self, message: BotMessage) -> JSON:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        return self._message_json(message)

    def _find_message(self, params: Mapping[str, Any], what: str) -> BotMessage:
        chat_id = _as_int(params.get("chat_id"))
        message_id = _as_int(params.get("message_id"))
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if message_id is None:
            raise _ApiError(400, "Bad Request: message_id is empty")
        found = self._messages.get(chat_id, {}).get(message_id)
        if found is None:
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return found

    def _chat_id(self, params: Mapping[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _as_int(raw)
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _parse_mode(self, params: Mapping[str, Any]) -> str | None:
        value = params.get("parse_mode")
        return value if isinstance(value, str) and value else None

    def _visible(self, text: str, parse_mode: str | None) -> str:
        return _visible_text(text, parse_mode) if self.check_html else text

    def _caption(self, params: Mapping[str, Any]) -> str | None:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None
        caption = str(caption)
        if len(self._visible(caption, self._parse_mode(params))) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return caption

    # ---------------------------------------------------------------- Bot API methods

    def _get_me(self, params: dict[str, Any]) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: dict[str, Any]) -> JSON:
        chat_id = self._chat_id(params)
        text = params.get("text")
        text = "" if text is None else str(text)
        parse_mode = self._parse_mode(params)
        visible = self._visible(text, parse_mode)
        if not visible.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(visible) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = _check_markup(params.get("reply_markup"))
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            date=int(time.time()),
            method="sendMessage",
            text=text,
            reply_markup=markup,
            sent_at=time.monotonic(),
            parse_mode=parse_mode,
        )
        return self._store(message)

    def _remember_version(self, message: BotMessage) -> None:
        at = message.edited_at if message.edited_at is not None else message.sent_at
        message.history.append(
            MessageVersion(message.text, message.caption, copy.deepcopy(message.reply_markup), at)
        )
        message.edited_at = time.monotonic()
        message.edit_date = int(time.time())

    def _edit_message_text(self, params: dict[str, Any]) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._find_message(params, "edit")
        text = params.get("text")
        text = "" if text is None else str(text)
        parse_mode = self._parse_mode(params)
        visible = self._visible(text, parse_mode)
        if not visible.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(visible) > 4096:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if message.text is None:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        # Telegram: editMessageText without reply_markup removes the inline keyboard.
        markup = _check_markup(params.get("reply_markup"))
        if text == message.text and _same_markup(markup, message.reply_markup):
            raise _ApiError(400, _NOT_MODIFIED)
        self._remember_version(message)
        message.text = text
        message.parse_mode = parse_mode
        message.reply_markup = markup
        return self._message_json(message)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._find_message(params, "edit")
        markup = _check_markup(params.get("reply_markup"))
        if _same_markup(markup, message.reply_markup):
            raise _ApiError(400, _NOT_MODIFIED)
        self._remember_version(message)
        message.reply_markup = markup
        return self._message_json(message)

    def _edit_message_caption(self, params: dict[str, Any]) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._find_message(params, "edit")
        if message.text is not None:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption(params)
        markup = _check_markup(params.get("reply_markup"))
        if caption == message.caption and _same_markup(markup, message.reply_markup):
            raise _ApiError(400, _NOT_MODIFIED)
        self._remember_version(message)
        message.caption = caption
        message.reply_markup = markup
        return self._message_json(message)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        message = self._find_message(params, "delete")
        del self._messages[message.chat_id][message.message_id]
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        update = self._callback_queries.get(query_id)
        # Telegram accepts one answer per query; a second one fails like an unknown id.
        status = 200 if update is not None and query_id not in self._answered_queries else 400
        text = params.get("text")
        self._callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=None if text is None else str(text),
                show_alert=_as_bool(params.get("show_alert", False)),
                url=params.get("url"),
                at=time.monotonic(),
                update_id=None if update is None else update.update_id,
                pressed_at=None if update is None else update.created_at,
                delivered_at=None if update is None else update.delivered_at,
                status=status,
            )
        )
        if status != 200:
            raise _ApiError(400, _QUERY_INVALID)
        self._answered_queries.add(query_id)
        return True

    @staticmethod
    def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        scope_key = json.dumps(scope, sort_keys=True) if scope else '{"type": "default"}'
        return scope_key, str(params.get("language_code") or "")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _ApiError(400, "Bad Request: LANG_CODE_INVALID")
        for command in commands:
            if not isinstance(command, dict):
                raise _ApiError(400, "Bad Request: can't parse BotCommand")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _COMMAND_NAME_RE.match(name) or not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self._commands[self._commands_key(params)] = [
            {"command": str(c["command"]), "description": str(c["description"])} for c in commands
        ]
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith(("https://", "http://")):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        if _as_bool(params.get("drop_pending_updates", False)):
            self._pending.clear()
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        self._webhook_url = url
        self._webhook_secret = None if secret is None else str(secret)
        self._webhook_calls.append((url, time.monotonic()))
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if _as_bool(params.get("drop_pending_updates", False)):
            self._pending.clear()
        self._webhook_url = ""
        self._webhook_secret = None
        self._webhook_calls.append(("", time.monotonic()))
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> JSON:
        info: JSON = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_url:
            info["max_connections"] = 40
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _new_file(
        self, data: bytes | None, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        self._next_file += 1
        number = self._next_file
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"FAKEFILE{number:08d}",
            file_unique_id=f"U{number:08d}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}{suffix}",
        )
        self._files[stored.file_id] = stored
        return stored

    def _input_file(self, value: object, folder: str) -> StoredFile:
        """An uploaded part, a file_id we issued, or an http(s) URL Telegram would fetch."""
        if isinstance(value, UploadedFile):
            return self._new_file(value.data, value.filename, value.content_type, folder)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rstrip("/").rsplit("/", 1)[-1] or None
            return self._new_file(None, name, None, folder)
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _send_file(self, params: dict[str, Any], kind: str) -> JSON:
        chat_id = self._chat_id(params)
        if kind not in params:
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        caption = self._caption(params)
        markup = _check_markup(params.get("reply_markup"))
        stored = self._input_file(params[kind], "documents" if kind == "document" else "photos")
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            date=int(time.time()),
            method="sendDocument" if kind == "document" else "sendPhoto",
            text=None,
            reply_markup=markup,
            sent_at=time.monotonic(),
            parse_mode=self._parse_mode(params),
            caption=caption,
            file_data=stored.data,
        )
        size = len(stored.data) if stored.data is not None else 0
        if kind == "document":
            message.document = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": stored.file_name or "document",
                "mime_type": stored.mime_type or "application/octet-stream",
                "file_size": size,
            }
        else:
            message.photo = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 320,
                    "height": 320,
                    "file_size": size,
                }
            ]
        return self._store(message)

    def _send_document(self, params: dict[str, Any]) -> JSON:
        return self._send_file(params, "document")

    def _send_photo(self, params: dict[str, Any]) -> JSON:
        return self._send_file(params, "photo")

    def _get_file(self, params: dict[str, Any]) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        out: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_path": stored.file_path,
        }
        if stored.data is not None:
            out["file_size"] = len(stored.data)
        return out

    # ---------------------------------------------------------------- acting as users

    def _user(self, user_id: int, first_name: str, language_code: str | None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    def _queue(self, kind: str, body: JSON, chat_id: int | None) -> int:
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            update = QueuedUpdate(
                update_id=update_id,
                payload={"update_id": update_id, kind: body},
                chat_id=chat_id,
                kind=kind,
                created_at=time.monotonic(),
            )
            self._updates[update_id] = update
            self._pending[update_id] = update
            if kind == "callback_query":
                self._callback_queries[str(body["id"])] = update
            self._cond.notify_all()
        self._notify_pollers()
        return update_id

    def _user_message(self, user_id: int, first_name: str, language_code: str | None) -> JSON:
        return {
            "message_id": self._new_message_id(user_id),
            "from": self._user(user_id, first_name, language_code),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "date": int(time.time()),
        }

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> int:
        """A private-chat text message from ``user_id``; returns its update_id."""
        with self._cond:
            message = self._user_message(user_id, first_name, language_code)
            message["text"] = text
            if text.startswith("/"):
                # Telegram marks the leading command so PTB's CommandHandler recognises it.
                command = text.split(maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                ]
            return self._queue("message", message, user_id)

    def user_sends_command(
        self,
        user_id: int,
        command: str,
        payload: str | None = None,
        *,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> int:
        """``/start`` or ``/start PAYLOAD`` (a deep link); returns the update_id."""
        if not command.startswith("/"):
            command = "/" + command
        text = command if not payload else f"{command} {payload}"
        return self.user_sends_text(
            user_id, text, first_name=first_name, language_code=language_code
        )

    def user_sends_message(
        self,
        user_id: int,
        fields: Mapping[str, Any],
        *,
        first_name: str = "Citizen",
        without: Collection[str] = (),
    ) -> int:
        """A private-chat message from ``user_id`` carrying ``fields`` exactly as given (a
        poll, a sticker, an object the Bot API would not send): the update a bot library
        cannot parse. ``without``: fields of the usual message left out (e.g. ``from``, as
        for a message sent on behalf of a chat). Returns its update_id."""
        with self._cond:
            message = self._user_message(user_id, first_name, "vi")
            message.update(copy.deepcopy(dict(fields)))
            for field in without:
                message.pop(field, None)
            return self._queue("message", message, user_id)

    def user_presses(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> int:
        """A callback_query for a button of the bot's message; any data may be forged."""
        with self._cond:
            self._next_query += 1
            query_id = str(4_000_000_000_000_000_000 + self._next_query)
            stored = self._messages.get(user_id, {}).get(message_id)
            if stored is not None:
                message = self._message_json(stored)
            else:
                # What Telegram sends for a message the bot can no longer access.
                message = {"chat": self._chat(user_id), "message_id": message_id, "date": 0}
            body: JSON = {
                "id": query_id,
                "from": self._user(user_id, first_name, language_code),
                "chat_instance": str(-(10**18) - user_id),
                "data": callback_data,
                "message": message,
            }
            return self._queue("callback_query", body, user_id)

    def user_presses_button(self, user_id: int, message_id: int, button_text: str) -> int:
        """Press the button labelled ``button_text`` on the stored message."""
        with self._cond:
            stored = self._messages.get(user_id, {}).get(message_id)
            buttons = self.keyboard(stored)
        for text, data in buttons:
            if text == button_text and data is not None:
                return self.user_presses(user_id, message_id, data)
        raise LookupError(f"no callback button {button_text!r} on message {message_id}: {buttons}")

    def user_sends_document(
        self,
        user_id: int,
        data: bytes = b"%PDF-1.4 fake\n",
        file_name: str = "scan.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        """A document from the user (the bytes are downloadable through getFile)."""
        with self._cond:
            stored = self._new_file(data, file_name, mime_type, "documents")
            message = self._user_message(user_id, "Citizen", "vi")
            message["document"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(data),
            }
            if caption:
                message["caption"] = caption
            return self._queue("message", message, user_id)

    def user_sends_photo(
        self,
        user_id: int,
        data: bytes = b"\x89PNG fake",
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> int:
        """A photo from the user, in two sizes like Telegram sends them; ``media_group_id``
        makes it one photo of an album (Telegram sends each as its own update)."""
        with self._cond:
            stored = self._new_file(data, "photo.jpg", "image/jpeg", "photos")
            message = self._user_message(user_id, "Citizen", "vi")
            message["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": width,
                    "file_size": len(data),
                }
                for width in (90, 320)
            ]
            if caption:
                message["caption"] = caption
            if media_group_id:
                message["media_group_id"] = media_group_id
            return self._queue("message", message, user_id)

    def user_sends_album(
        self,
        user_id: int,
        photos: Sequence[bytes],
        media_group_id: str,
        captions: Mapping[int, str] | None = None,
    ) -> list[int]:
        """An album: one update per photo, sharing ``media_group_id``, queued together (as
        Telegram hands an album's messages out together). ``captions``: the caption of the
        photo at each index given (Telegram lets any photo of an album carry one). Returns
        their update_ids."""
        with self._cond:
            return [
                self.user_sends_photo(
                    user_id,
                    data=data,
                    caption=(captions or {}).get(index),
                    media_group_id=media_group_id,
                )
                for index, data in enumerate(photos)
            ]

    def user_message_id(self, update_id: int) -> int:
        """The message_id of the user's message an update carried."""
        body = self._updates[update_id].payload.get("message") or {}
        return int(body["message_id"])

    def user_edits_text(self, user_id: int, message_id: int, text: str) -> int:
        """An ``edited_message`` update: the user changed the text of their message. Delivered
        only to a bot that asked for it in ``allowed_updates``. Returns its update_id."""
        with self._cond:
            message = self._user_message(user_id, "Citizen", "vi")
            message["message_id"] = message_id
            message["edit_date"] = message["date"] + 1
            message["text"] = text
            return self._queue("edited_message", message, user_id)

    # ---------------------------------------------------------------- acting in groups

    def member_sends(
        self,
        group_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        first_name: str = "Member",
    ) -> int | None:
        """A group member's text message (a reply to the bot's message ``reply_to`` if given).

        As Telegram does for a bot in privacy mode, only a command, a reply to one of the
        bot's messages, or a message naming @bot is delivered; the rest returns None (the bot
        never sees it). With ``privacy_mode = False`` everything is delivered.
        """
        with self._cond:
            message: JSON = {
                "message_id": self._new_message_id(group_id),
                "from": self._user(user_id, first_name, "vi"),
                "chat": self._chat(group_id),
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                ]
            to_bot = False
            if reply_to is not None:
                replied = self._messages.get(group_id, {}).get(reply_to)
                if replied is not None:
                    message["reply_to_message"] = self._message_json(replied)
                    to_bot = True
            named = f"@{self.username}".lower() in text.lower()
            if self.privacy_mode and not (text.startswith("/") or to_bot or named):
                return None
            return self._queue("message", message, group_id)

    def member_presses(
        self,
        group_id: int,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        first_name: str = "Member",
    ) -> int:
        """A group member presses a button of the bot's message in the group."""
        with self._cond:
            self._next_query += 1
            query_id = str(4_000_000_000_000_000_000 + self._next_query)
            stored = self._messages.get(group_id, {}).get(message_id)
            message = (
                self._message_json(stored)
                if stored is not None
                else {"chat": self._chat(group_id), "message_id": message_id, "date": 0}
            )
            body: JSON = {
                "id": query_id,
                "from": self._user(user_id, first_name, "vi"),
                "chat_instance": str(-(10**18) + group_id),
                "data": callback_data,
                "message": message,
            }
            return self._queue("callback_query", body, group_id)

    def migrate_group(self, old_id: int, new_id: int, *, announce: bool = True) -> None:
        """The group becomes a supergroup: sends to ``old_id`` fail with Telegram's
        ``migrate_to_chat_id`` error from now on. The bot's messages are shown in the new
        chat under their ids (a simplification: Telegram shows the old history there too).
        ``announce`` queues the two service messages Telegram sends (in the old group with
        ``migrate_to_chat_id``, in the new one with ``migrate_from_chat_id``); without it the
        bot learns of the move only from a failed send."""
        with self._cond:
            self._migrated[old_id] = new_id
            for message_id, message in self._messages.get(old_id, {}).items():
                moved = copy.deepcopy(message)
                moved.chat_id = new_id
                self._messages.setdefault(new_id, {})[message_id] = moved
            self._next_message_id[new_id] = self._next_message_id.get(old_id, 1)
            if not announce:
                return
            creator = self._user(1, "Creator", "vi")
            for chat_id, field_name, other in (
                (old_id, "migrate_to_chat_id", new_id),
                (new_id, "migrate_from_chat_id", old_id),
            ):
                service: JSON = {
                    "message_id": self._new_message_id(chat_id),
                    "from": creator,
                    "chat": self._chat(chat_id),
                    "date": int(time.time()),
                    field_name: other,
                }
                self._queue("message", service, chat_id)

    def deliver_again(self, update_id: int) -> None:
        """Re-queue an update with the same update_id, as Telegram does after a lost reply."""
        with self._cond:
            update = self._updates[update_id]
            update.redelivery = True
            update.delivered_at = None
            self._pending[update_id] = update
            self._cond.notify_all()
        self._notify_pollers()

    def post_update_to(
        self, url: str, update_id: int, secret: str | None = None, timeout: float = 10.0
    ) -> int:
        """POST an update to a webhook URL; a 2xx answer confirms it. Returns the HTTP status."""
        with self._cond:
            update = self._updates[update_id]
            payload = copy.deepcopy(update.payload)
            now = time.monotonic()
            if update.delivered_at is None:
                update.delivered_at = now
            update.deliveries.append(now)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        # One client kept open, as Telegram keeps its connections: a new client per update
        # builds an SSL context and a connection each time, which would be timed as the bot's.
        with self._webhook_lock:
            if self._webhook_client is None:
                # trust_env=False: a proxy from the environment must not intercept 127.0.0.1.
                self._webhook_client = httpx.Client(timeout=timeout, trust_env=False)
            client = self._webhook_client
        response = client.post(url, json=payload, headers=headers)
        with self._cond:
            if 200 <= response.status_code < 300:
                self._pending.pop(update_id, None)
            self._cond.notify_all()
        return response.status_code

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 2,
        count: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (to ``chat_id`` if given) fail."""
        if status == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
            after: int | None = retry_after
        else:
            text = description or _DEFAULT_DESCRIPTIONS.get(status, "Error")
            after = None
        with self._cond:
            self._faults.append(
                _Fault(
                    self._method_names.get(method.lower(), method),
                    status,
                    after,
                    count,
                    chat_id,
                    text,
                )
            )

    def trap(
        self,
        method: str,
        action: Callable[[], None],
        *,
        chat_id: int | None = None,
        stored: bool = True,
    ) -> None:
        """Run ``action`` (a kill -9 of the bot, say) once, on the next call of ``method`` (to
        ``chat_id`` if given): after the call took effect and before it is answered when
        ``stored``, else instead of it (the call fails with 500 and changes nothing)."""
        with self._cond:
            self._traps.append(
                _Trap(self._method_names.get(method.lower(), method), chat_id, action, stored)
            )

    def traps_left(self) -> int:
        with self._cond:
            return len(self._traps)

    def _take_trap(self, method: str, params: Mapping[str, Any]) -> _Trap | None:
        chat_id = _as_int(params.get("chat_id"))
        with self._cond:
            for trap in self._traps:
                if trap.method == method and trap.chat_id in (None, chat_id):
                    self._traps.remove(trap)
                    return trap
        return None

    def slow_chat(self, chat_id: int, seconds: float) -> None:
        """Every call to ``chat_id`` is answered only after ``seconds`` (0 ends it)."""
        with self._cond:
            if seconds:
                self._slow_chats[chat_id] = seconds
            else:
                self._slow_chats.pop(chat_id, None)

    def revoke_token(self) -> None:
        """The token is revoked (@BotFather's /revoke): every call, and the long poll
        waiting now, answers 401 Unauthorized until ``restore_token``."""
        with self._cond:
            self._revoked = True
        self._notify_pollers()

    def restore_token(self) -> None:
        """The token works again (a revocation undone, for a test of the recovery)."""
        with self._cond:
            self._revoked = False

    def clear_faults(self) -> None:
        """Forget every fault still waiting from ``fail_next``."""
        with self._cond:
            self._faults.clear()

    def block(self, user_id: int) -> None:
        """The user blocked the bot: every call to that chat answers 403 from now on."""
        with self._cond:
            self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        with self._cond:
            self._blocked.discard(user_id)

    # ---------------------------------------------------------------- observing

    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [call for call in self._calls if call.method == method]

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        with self._cond:
            return list(self._callback_answers)

    @property
    def server_errors(self) -> list[str]:
        """Exceptions inside the fake's handlers (a bug in the fake, not the bot)."""
        with self._cond:
            return list(self._server_errors)

    @property
    def webhook_url(self) -> str:
        with self._cond:
            return self._webhook_url

    @property
    def webhook_secret(self) -> str | None:
        with self._cond:
            return self._webhook_secret

    @property
    def webhook_history(self) -> list[tuple[str, float]]:
        """Every setWebhook (url) and deleteWebhook ("") with its monotonic time."""
        with self._cond:
            return list(self._webhook_calls)

    def commands(self, language_code: str = "", scope: JSON | None = None) -> list[JSON]:
        """The commands stored by setMyCommands for that scope and language."""
        params: JSON = {"language_code": language_code, "scope": scope}
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def update(self, update_id: int) -> QueuedUpdate:
        with self._cond:
            return copy.deepcopy(self._updates[update_id])

    def polling(self, for_at_least: float = 0.0) -> bool:
        """Whether a getUpdates waits now, to answer the next update, for at least this many
        seconds more if none comes (a fault set now meets the bot's next call, not this one)."""
        with self._cond:
            return (
                self._poll_until is not None and self._poll_until - time.monotonic() >= for_at_least
            )

    def pending_update_ids(self) -> list[int]:
        with self._cond:
            return sorted(self._pending)

    def file(self, file_id: str) -> StoredFile:
        with self._cond:
            return copy.deepcopy(self._files[file_id])

    def messages(self, chat_id: int) -> list[BotMessage]:
        """Copies of the bot's current messages in the chat, in send order."""
        with self._cond:
            stored = self._messages.get(chat_id, {})
            return [copy.deepcopy(stored[key]) for key in sorted(stored)]

    def message(self, chat_id: int, message_id: int) -> BotMessage | None:
        with self._cond:
            found = self._messages.get(chat_id, {}).get(message_id)
            return copy.deepcopy(found)

    def last_message(self, chat_id: int) -> BotMessage | None:
        with self._cond:
            stored = self._messages.get(chat_id, {})
            return copy.deepcopy(stored[max(stored)]) if stored else None

    @staticmethod
    def keyboard(message: BotMessage | Mapping[str, Any] | None) -> list[tuple[str, str | None]]:
        """(text, callback_data) of each inline button, row by row; [] without a keyboard."""
        if message is None:
            return []
        markup = message.reply_markup if isinstance(message, BotMessage) else message
        if isinstance(markup, Mapping) and "inline_keyboard" not in markup:
            markup = markup.get("reply_markup")  # a message dict from the API
        if not isinstance(markup, Mapping):
            return []
        return [
            (str(button.get("text", "")), button.get("callback_data"))
            for row in markup.get("inline_keyboard") or []
            for button in row
        ]

    def wait_for(
        self, predicate: Callable[[FakeTelegram], T], timeout: float = 10.0, what: str = ""
    ) -> T:
        """Block until ``predicate(self)`` is truthy and return it, else raise TimeoutError.

        The predicate runs under the fake's lock, so it sees a consistent state; it may call
        any of the observing methods.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate(self)
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self.describe(f"waited {timeout} s for {what or predicate}"))
                self._cond.wait(remaining)

    def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[BotMessage]:
        """The chat's messages once at least ``count`` exist."""

        def enough(fake: FakeTelegram) -> list[BotMessage]:
            found = fake.messages(chat_id)
            return found if len(found) >= count else []

        return self.wait_for(enough, timeout, f"{count} message(s) in chat {chat_id}")

    def calls_after(self, seen: int, timeout: float = 10.0) -> list[Call]:
        """The calls after the first ``seen``, waiting up to ``timeout`` for one (benchmarks
        follow the bot's calls as they come, without copying the whole record each time)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._calls) <= seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)
            return self._calls[seen:]

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The calls of ``method`` once at least ``count`` arrived."""

        def enough(fake: FakeTelegram) -> list[Call]:
            found = fake.calls_to(method)
            return found if len(found) >= count else []

        return self.wait_for(enough, timeout, f"{count} {method} call(s)")

    def describe(self, headline: str = "fake Telegram state", last: int = 20) -> str:
        """A readable summary for failure messages: recent calls, pending updates, messages."""
        with self._cond:
            lines = [headline, f"recent calls ({len(self._calls)} in all):"]
            lines += ["  " + call.short() for call in self._calls[-last:]] or ["  (none)"]
            lines.append(f"pending updates: {sorted(self._pending) or 'none'}")
            for chat_id, stored in sorted(self._messages.items()):
                texts = [_shorten(m.content or "", 40) for m in stored.values()]
                lines.append(f"chat {chat_id}: {len(stored)} message(s) {texts[-3:]}")
            if self._server_errors:
                lines.append(f"fake server errors: {self._server_errors}")
            return "\n".join(lines)

    # ---------------------------------------------------------------- timing

    def round_trips(self, methods: Iterable[str] = REPLY_METHODS) -> list[float]:
        """Seconds from handing each update to the bot until the bot answered in that chat.

        One value per delivered update that got a reply, in update order. The reply is the first
        successful call of ``methods`` to the update's chat that arrived after the hand-out and
        before a later update of the same chat was handed out (updates handed out in one batch
        share their reply), so an update the bot ignored gets no value.
        """
        wanted = set(methods)
        with self._cond:
            replies: dict[int, list[float]] = {}
            for call in self._calls:
                chat_id = call.chat_id
                if call.status == 200 and call.method in wanted and chat_id is not None:
                    replies.setdefault(chat_id, []).append(call.at)
            deliveries: dict[int, list[float]] = {}
            for update in self._updates.values():
                if update.delivered_at is not None and update.chat_id is not None:
                    deliveries.setdefault(update.chat_id, []).append(update.delivered_at)
            for times in (*replies.values(), *deliveries.values()):
                times.sort()
            result: list[float] = []
            for update_id in sorted(self._updates):
                update = self._updates[update_id]
                delivered = update.delivered_at
                if delivered is None or update.chat_id is None:
                    continue
                chat_replies = replies.get(update.chat_id, [])
                index = bisect.bisect_left(chat_replies, delivered)
                if index == len(chat_replies):
                    continue
                chat_deliveries = deliveries[update.chat_id]
                later = bisect.bisect_right(chat_deliveries, delivered)
                if later < len(chat_deliveries) and chat_deliveries[later] <= chat_replies[index]:
                    continue  # the reply came after a newer update: it answers that one
                result.append(chat_replies[index] - delivered)
            return result

    def sends_per_second(
        self,
        chat_id: int | None = None,
        window: float = 1.0,
        methods: Iterable[str] = SEND_METHODS,
    ) -> int:
        """Most send attempts (any status) seen within any ``window`` seconds.

        For one chat with ``chat_id``, overall without it: compare with Telegram's ~1/s per
        chat and ~30/s overall.
        """
        wanted = set(methods)
        with self._cond:
            times = sorted(
                call.at
                for call in self._calls
                if call.method in wanted and (chat_id is None or call.chat_id == chat_id)
            )
        best = 0
        start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best
