"""The dossier API for the agency's one-stop system (hệ thống thông tin giải quyết TTHC).

``POST /api/v1/dossiers`` registers a dossier (and returns the link to print on its slip),
``POST /api/v1/dossiers/{code}/events`` posts a status change, ``GET /api/v1/openapi.json``
describes both. Requests are signed (``dossier_auth``); bodies are checked with pydantic before
anything is stored; every refusal is a JSON body with a 4xx status, never a 5xx.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.zalo_codes import printed
from bot.runtime.dossiers import (
    CODE_PATTERN,
    DossierDesk,
    DossierError,
    DossierIn,
    EventIn,
    Invalid,
    Posted,
    Registered,
)
from conversations.flows.dossier import LINK_PREFIX

from .bodies import MAX_JSON_DEPTH, BodyRefused, load_json, read_body
from .dossier_auth import (
    API_KEY_HEADER,
    MAX_SKEW_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Unauthorized,
    verify,
)

log = logging.getLogger("bot.api")

PREFIX: Final = "/api/v1"
#: A dossier or an event is a few hundred bytes; anything this big is not one.
MAX_BODY: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Links:
    """Where a slip's QR code leads: the Telegram bot, and the Zalo OA (with the code to send)."""

    telegram_username: str | None = None
    zalo_oa_id: str | None = None

    def for_token(self, token: str, short_code: str | None = None) -> dict[str, Any]:
        """The links for a slip; on Zalo the citizen sends the short code (printed
        ``4821-7730-15``), which they can type, else (a dossier without one) the start."""
        start = f"{LINK_PREFIX}{token}"
        telegram = (
            f"https://t.me/{self.telegram_username}?start={start}"
            if self.telegram_username
            else None
        )
        zalo = (
            {
                "link": f"https://zalo.me/{self.zalo_oa_id}",
                "code": printed(short_code) if short_code else start,
            }
            if self.zalo_oa_id
            else None
        )
        return {"start": start, "telegram_link": telegram, "zalo": zalo}


def error(
    status: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> Response:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def _validation_details(exc: ValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"field": where, "message": message})
    return details


async def _body(request: Request) -> bytes | Response:
    try:
        return await read_body(request, MAX_BODY)
    except BodyRefused:
        return error(413, "too_large", f"the body is over {MAX_BODY} bytes")


M = TypeVar("M", bound=BaseModel)
_REFUSED: Final = {
    "too_deep": f"the body nests objects and arrays deeper than {MAX_JSON_DEPTH} levels",
    "bad_json": "the body is not JSON",
}


def _parse(model: type[M], body: bytes) -> M:
    try:
        raw = load_json(body)
    except BodyRefused as refused:
        message = _REFUSED.get(refused.reason, "the body is not JSON")
        # Where the JSON breaks helps the integrator (the parser's message gives a line and
        # a column, never the body's text); other causes are named by the reason alone.
        cause = refused.__cause__
        where = str(cause) if isinstance(cause, json.JSONDecodeError) else message
        raise Invalid(message, [{"field": "body", "message": where}]) from None
    if not isinstance(raw, dict):
        raise Invalid(
            "the body must be a JSON object", [{"field": "body", "message": "not an object"}]
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        details = _validation_details(exc)
        raise Invalid(f"{len(details)} problem(s) in the body", details) from None


Handler = Callable[[Request], Awaitable[Response]]


def dossier_routes(
    desk: DossierDesk,
    keys: Mapping[str, str],
    links: Links = Links(),
    clock: Callable[[], float] = time.time,
) -> list[BaseRoute]:
    """The API's routes, for ``bot.web.server.create_app``'s ``extra``."""

    def guarded(
        work: Callable[[Request, str, str, bytes], Awaitable[Response]],
    ) -> Handler:
        async def handle(request: Request) -> Response:
            body = await _body(request)
            if isinstance(body, Response):
                return body
            try:
                client, signature = verify(
                    keys, request.headers, request.method, request.url.path, body, clock()
                )
            except Unauthorized as exc:
                log.warning("event=api_refused reason=%s", exc.args[0].split(" (")[0][:60])
                return error(401, "unauthorized", str(exc))
            try:
                return await work(request, client, signature, body)
            except DossierError as exc:
                log.info("event=api_refused client=%s error=%s", client, exc.code)
                return error(exc.status, exc.code, exc.message, exc.details)

        return handle

    async def register(request: Request, client: str, signature: str, body: bytes) -> Response:
        done: Registered = await desk.register(client, _parse(DossierIn, body), signature=signature)
        answer = {"code": done.code, "token": done.token, "created": done.created}
        slip = links.for_token(done.token, done.short_code)
        return JSONResponse({**answer, **slip}, status_code=201 if done.created else 200)

    async def post_event(request: Request, client: str, signature: str, body: bytes) -> Response:
        code = str(request.path_params["code"])
        event = _parse(EventIn, body)
        done: Posted = await desk.post_event(client, code, event, signature=signature)
        answer = {
            "code": done.code,
            "event_id": event.event_id,
            "kind": done.kind,
            "status": done.status,
            "duplicate": done.duplicate,
            "notified": done.notified,
            "invited": done.invited,
        }
        return JSONResponse(answer, status_code=200 if done.duplicate else 201)

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(openapi())

    return [
        Route(f"{PREFIX}/dossiers", guarded(register), methods=["POST"]),
        Route(f"{PREFIX}/dossiers/{{code}}/events", guarded(post_event), methods=["POST"]),
        Route(f"{PREFIX}/openapi.json", openapi_json, methods=["GET"]),
    ]


# --- the OpenAPI document ----------------------------------------------------------------------


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (DossierIn, EventIn):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Error"] = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. unknown_dossier."},
            "message": {"type": "string"},
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    schemas["Registered"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "token": {"type": "string"},
            "created": {"type": "boolean"},
            "start": {"type": "string", "description": "The /start payload: d_<token>."},
            "telegram_link": {"type": ["string", "null"], "description": "For the slip's QR code."},
            "zalo": {
                "type": ["object", "null"],
                "properties": {
                    "link": {"type": "string"},
                    "code": {
                        "type": "string",
                        "description": "What the citizen sends the OA: the slip's short code.",
                    },
                },
            },
        },
    }
    schemas["Posted"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "event_id": {"type": "string"},
            "kind": {"type": "string"},
            "status": {"type": "string"},
            "duplicate": {"type": "boolean", "description": "This event_id came before."},
            "notified": {"type": "integer", "description": "Chats told."},
            "invited": {"type": "boolean", "description": "The invitation to rate was sent."},
        },
    }
    return schemas


def _responses(ok: dict[str, Any]) -> dict[str, Any]:
    def refusal(text: str) -> dict[str, Any]:
        return {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }

    return {
        **ok,
        "401": refusal("Unknown key, wrong signature, or a timestamp out of the window."),
        "404": refusal("No dossier with this code (events)."),
        "409": refusal(
            "A replayed request, an event_id reused for another event, a closed dossier, "
            "or another dossier under this code."
        ),
        "413": refusal(f"A body over {MAX_BODY} bytes."),
        "422": refusal("The body is not valid; details name each field."),
    }


def openapi() -> dict[str, Any]:
    """The API described (OpenAPI 3.1), built from the same pydantic models that check bodies."""

    def body(name: str) -> dict[str, Any]:
        return {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }

    def answer(name: str, text: str) -> dict[str, Any]:
        return {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }

    security: list[dict[str, list[str]]] = [{"ApiKey": [], "Timestamp": [], "Signature": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SIPAS chatbot — dossier API",
            "version": "1",
            "description": (
                "For the agency's one-stop system. Sign each request: X-Api-Key is the client "
                "name, X-Timestamp the Unix time in seconds (within "
                f"{MAX_SKEW_S} s of ours), X-Signature the hex HMAC-SHA256, keyed with the "
                "client's secret, of timestamp + '\\n' + METHOD + '\\n' + path + '\\n' + raw "
                "body. The same signed request twice is refused; an event_id posted twice has "
                "one effect."
            ),
        },
        "paths": {
            f"{PREFIX}/dossiers": {
                "post": {
                    "summary": "Register a dossier; returns the link for its appointment slip.",
                    "security": security,
                    "requestBody": body("DossierIn"),
                    "responses": _responses(
                        {
                            "201": answer("Registered", "Registered."),
                            "200": answer("Registered", "Registered before with the same data."),
                        }
                    ),
                }
            },
            f"{PREFIX}/dossiers/{{code}}/events": {
                "post": {
                    "summary": "Post a status event of a dossier; the chats following it are told.",
                    "security": security,
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": CODE_PATTERN},
                        }
                    ],
                    "requestBody": body("EventIn"),
                    "responses": _responses(
                        {
                            "201": answer("Posted", "Recorded."),
                            "200": answer("Posted", "This event_id was recorded before."),
                        }
                    ),
                }
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
                "Timestamp": {"type": "apiKey", "in": "header", "name": TIMESTAMP_HEADER},
                "Signature": {"type": "apiKey", "in": "header", "name": SIGNATURE_HEADER},
            },
        },
    }
