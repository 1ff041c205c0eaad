"""Open311 GeoReport v2, read-only: complaint categories as services, complaints as requests.

Routes (JSON only; any other path under ``/open311/v2/``, ``.xml`` included, is a 404)::

    GET /open311/v2/services.json           categories, named in Vietnamese or English
    GET /open311/v2/requests.json           complaints, newest first, at most 1000 a page
    GET /open311/v2/requests/{code}.json    one complaint, as a one-element list

What is published, and what never is: a request carries the tracking code, the category, the
status collapsed to open/closed with a fixed public wording of our own status (``status_notes``),
and the dates (created, last changed, due). ``description`` is always null: the citizen's text
may name people, give a phone number or an address. Staff notes are never used either, since
they may quote the citizen; nor are the reporter's name, phone, chat or files (``media_url`` is
null). The storage query does not even read those columns (``storage.queries.open311``).

Datetimes are W3C/ISO 8601 in the agency's time zone (``+07:00`` for Asia/Ho_Chi_Minh). A
complaint is expected to be answered by 17:00 local time on its due date. ``requested_datetime``
is published to the hour, and ``start_date``/``end_date`` select by that published time: every
request returned for a window has its ``requested_datetime`` inside it.

Paging: ``page_size`` (1 to 1000, default 1000) and ``page`` (from 1), newest first; a page past
the last is an empty list.

Errors are GeoReport error arrays, ``[{"code": 400, "description": "..."}]``. Their wording is
fixed: the client's input is never echoed back, nor written into SQL other than as a bound
parameter after it has been checked against a strict pattern.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.web.open311_query import (
    CODE_PATTERN,
    COMMON_PARAMS,
    REQUESTS_PARAMS,
    BadRequest,
    Language,
    PublicStatus,
    check_params,
    language_of,
    parse_requests_query,
)
from conversations import default_catalog
from conversations.categories import Category, categories, category
from storage import read_transaction
from storage.queries.open311 import (
    DEFAULT_WINDOW,
    PublicRequest,
    public_request,
    public_requests,
    public_requests_by_code,
)
from storage.schema import OPEN_COMPLAINT_STATUSES

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.open311")


PREFIX = "/open311/v2"
#: When a complaint is due: the end of the working day on its due date, local time.
DUE_TIME = time(17, 0)

CACHE_CONTROL = "public, max-age=60"
# The data is public and anonymous by construction, so any web page may read it.
PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}

#: Published times are rounded down to the hour (see ``request_json``).
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Open311Settings:
    """What the API needs to know of the agency; built from ``bot.config.Settings``."""

    agency_name: str
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    default_language: Language = "vi"
    #: The SIPAS method the public results show (``SURVEY_METHOD``).
    survey_method: str = "sipas-1001"

    @classmethod
    def from_settings(cls, settings: Settings) -> Open311Settings:
        return cls(
            settings.agency_name, settings.zone, settings.default_language, settings.survey_method
        )


# --- pure mapping ------------------------------------------------------------------------------


def public_status(status: str) -> PublicStatus:
    """GeoReport knows only open and closed; any status not open (even a new one) is closed."""
    return "open" if status in OPEN_COMPLAINT_STATUSES else "closed"


def status_note(status: str, language: Language) -> str | None:
    """The public wording of a status: the catalog's, as the citizen sees it in chat."""
    catalog = default_catalog()
    key = f"status.{status}"
    return catalog.text(language, key) if catalog.has(key) else None


def w3_datetime(value: datetime, zone: ZoneInfo) -> str:
    """``2026-03-05T09:30:00+07:00``: local time with its offset, to the second."""
    return value.astimezone(zone).isoformat(timespec="seconds")


def expected_datetime(due_on: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(due_on, DUE_TIME, tzinfo=zone)


def service_json(cat: Category, language: Language) -> dict[str, Any]:
    return {
        "service_code": cat.code,
        "service_name": cat.name(language),
        "description": default_catalog().format(
            language, "open311.deadline", (("days", cat.days),)
        ),
        "metadata": False,  # no extra attributes to describe: the API is read-only
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


def services_json(language: Language) -> list[dict[str, Any]]:
    return [service_json(c, language) for c in categories()]


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def published_window(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The creation times whose published hour (``_hour``) lies in [start, end]: from the
    first whole hour at or after ``start`` to the end of ``end``'s hour (inclusive, to the
    microsecond both databases keep). Without it a request filed at 10:45 would be returned
    for a window from 10:30 while published as 10:00, outside it."""
    first = last = None
    if start is not None:
        first = _hour(start.astimezone(UTC))  # rounded as published (in UTC: local in +07:00)
        if first < start:
            first += HOUR
    if end is not None:
        try:
            last = _hour(end.astimezone(UTC)) + HOUR - timedelta(microseconds=1)
        except OverflowError:  # the last hour of year 9999
            last = datetime.max.replace(tzinfo=UTC)
    return first, last


def request_json(
    req: PublicRequest, settings: Open311Settings, language: Language
) -> dict[str, Any]:
    """One GeoReport service request. Built from a ``PublicRequest``, which holds no text of
    the citizen's; the location and media fields are null because none is published."""
    cat = category(req.category)
    zone = settings.timezone
    return {
        "service_request_id": req.code,
        "status": public_status(req.status),
        "status_notes": status_note(req.status, language),
        # A retired category keeps its code as its name rather than dropping the request.
        "service_name": cat.name(language) if cat else req.category,
        "service_code": req.category,
        "description": None,  # the citizen's own words may hold personal data
        "agency_responsible": settings.agency_name,
        "service_notice": None,
        # To the hour: exact seconds could let a neighbour confirm who filed what.
        "requested_datetime": w3_datetime(_hour(req.created_at.astimezone(UTC)), zone),
        "updated_datetime": w3_datetime(_hour(req.updated_at.astimezone(UTC)), zone),
        "expected_datetime": w3_datetime(expected_datetime(req.due_on, zone), zone),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,  # never an attachment: those are the citizen's files
    }


def error_json(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


# --- query parameters --------------------------------------------------------------------------


# --- endpoints ---------------------------------------------------------------------------------


def _ok(body: Any) -> Response:
    return JSONResponse(body, headers={**PUBLIC_HEADERS, "Cache-Control": CACHE_CONTROL})


def _error(code: int, description: str) -> Response:
    # Not cached: a refused query is usually fixed and retried at once.
    return JSONResponse(
        error_json(code, description),
        status_code=code,
        headers={**PUBLIC_HEADERS, "Cache-Control": "no-store"},
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


Endpoint = Callable[[Request], Awaitable[Response]]


def open311_routes(
    engine: AsyncEngine,
    settings: Open311Settings,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> list[Route]:
    """The GeoReport v2 routes, to add to the web app's routes; ``clock`` is for tests."""

    def guarded(handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except BadRequest as exc:
                return _error(400, str(exc))
            except Exception as exc:
                # Logged by type only: the message could carry a query's parameters.
                log.error("event=open311_failed error=%s", type(exc).__name__)
                return _error(500, "The service is temporarily unavailable.")

        return endpoint

    async def services(request: Request) -> Response:
        params = check_params(request.query_params, COMMON_PARAMS)
        return _ok(services_json(language_of(params, settings.default_language)))

    async def requests(request: Request) -> Response:
        params = check_params(request.query_params, REQUESTS_PARAMS)
        language = language_of(params, settings.default_language)
        query = parse_requests_query(params, settings.timezone)
        async with read_transaction(engine) as conn:
            if query.codes:
                found = await public_requests_by_code(conn, query.codes)
                found = found[query.offset : query.offset + query.page_size]
            else:
                start, end = query.start, query.end
                if start is None and end is None:  # GeoReport's default: the last 90 days
                    start = clock() - DEFAULT_WINDOW
                start, end = published_window(start, end)
                found = await public_requests(
                    conn,
                    status=query.status,
                    service_code=query.service_codes,
                    start=start,
                    end=end,
                    limit=query.page_size,
                    offset=query.offset,
                    now=clock(),
                )
        return _ok([request_json(r, settings, language) for r in found])

    async def one_request(request: Request) -> Response:
        params = check_params(request.query_params, COMMON_PARAMS)
        language = language_of(params, settings.default_language)
        code = str(request.path_params.get("code", ""))
        # A malformed code cannot exist: answered without a query, and never echoed.
        if not CODE_PATTERN.fullmatch(code):
            return _error(404, "No service request has this id.")
        async with read_transaction(engine) as conn:
            found = await public_request(conn, code)
        if found is None:
            return _error(404, "No service request has this id.")
        return _ok([request_json(found, settings, language)])

    async def not_found(_request: Request) -> Response:
        return _error(404, "Not found. This server answers services.json and requests.json.")

    return [
        Route(f"{PREFIX}/services.json", guarded(services), methods=["GET"]),
        Route(f"{PREFIX}/requests.json", guarded(requests), methods=["GET"]),
        Route(f"{PREFIX}/requests/{{code}}.json", guarded(one_request), methods=["GET"]),
        # Last: .xml and anything else under the prefix get a GeoReport error, not HTML.
        Route(f"{PREFIX}/{{rest:path}}", not_found, methods=["GET"]),
    ]
