"""Webhook bodies read defensively: size counted as it arrives, nesting depth measured on
the raw bytes before any JSON parser sees them, and the outer shape validated by pydantic.
Whatever fails is a ``BodyRefused`` with the HTTP status to answer (413 or 400), never an
exception that would become a 500."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, StrictInt, ValidationError, model_validator
from starlette.requests import Request

#: Deepest nesting of objects and arrays accepted. A real Telegram update nests about 8
#: levels (a reply to a message with entities in a callback); Zalo events about 4.
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
M = TypeVar("M", bound=BaseModel)


class BodyRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) beyond ``limit`` bytes; no header is trusted for that."""
    declared = request.headers.get("content-length")
    if declared is not None and (
        not (declared.isascii() and declared.isdigit()) or int(declared) > limit
    ):
        raise BodyRefused(413, "too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyRefused(413, "too_large")
    return bytes(body)


def json_depth(raw: bytes) -> int:
    """How deep objects and arrays nest in ``raw`` (brackets inside strings do not count).
    Runs in linear time without recursion, so it is safe on any input."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def load_json(raw: bytes) -> Any:
    """``raw`` parsed, or ``BodyRefused(400)`` when it is not JSON or nests too deep."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BodyRefused(400, "too_deep")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BodyRefused(400, "bad_json") from exc


class TelegramEnvelope(BaseModel):
    """What every Telegram update has: an integer ``update_id``, and beside it only objects
    (``message``, ``callback_query`` …: every other field of the Bot API's Update is one).
    The inside of those is PTB's to read (an update it cannot read is recorded as failed,
    not refused); a ``"message": "x"`` is no update at all."""

    model_config = ConfigDict(extra="allow")
    update_id: StrictInt

    @model_validator(mode="after")
    def _objects_only(self) -> TelegramEnvelope:
        odd = [k for k, v in (self.model_extra or {}).items() if not isinstance(v, dict)]
        if odd:
            raise ValueError("an update's fields are objects")  # no content in the message
        return self


class ZaloEnvelope(BaseModel):
    """What every Zalo webhook event has: its name and its timestamp (milliseconds)."""

    model_config = ConfigDict(extra="allow")
    event_name: str
    timestamp: str | StrictInt
    app_id: str | StrictInt | None = None


def validated(model: type[M], data: Any) -> dict[str, Any]:
    """``data`` when it has ``model``'s shape (a JSON object), else ``BodyRefused(400)``."""
    if not isinstance(data, dict):
        raise BodyRefused(400, "shape")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise BodyRefused(400, "shape") from exc
    return data
