"""Open311 query checking: which parameters each endpoint takes and what their values mean.

Split from ``bot.web.open311`` (the endpoints and the JSON they publish). Every check here
raises ``BadRequest`` with a fixed public description: the client's input is never echoed back,
and a value reaches SQL only as a bound parameter after it has matched a strict pattern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from storage.queries.open311 import DEFAULT_WINDOW, MAX_LIMIT

Language = Literal["vi", "en"]
PublicStatus = Literal["open", "closed"]

CODE_PATTERN = re.compile(r"PA-\d{4}-\d{6}")
# Category codes are short ASCII words (conversations/data/complaints.yaml). A well-formed code
# that is not a category simply matches nothing: old complaints may keep a retired category.
SERVICE_CODE_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
# Query parameters each endpoint understands. ``jurisdiction_id`` is accepted and ignored:
# GeoReport requires it only of servers that serve several jurisdictions; this one serves one.
COMMON_PARAMS = frozenset({"lang", "locale", "jurisdiction_id"})
REQUESTS_PARAMS = COMMON_PARAMS | {
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
}
# GeoReport: "may not span more than 90 days".
MAX_SPAN = DEFAULT_WINDOW
#: Pages beyond this are refused rather than asked of the database (1000 × 100,000 requests).
MAX_PAGE = 100_000
_PAGE_NUMBER = re.compile(r"[0-9]{1,7}")


class BadRequest(ValueError):
    """A query the API refuses; ``str()`` is the fixed public description (no client input)."""


def language_of(params: Mapping[str, str], default: Language) -> Language:
    """``lang`` (or ``locale``) such as ``en``, ``en-US``, ``vi_VN``; anything else: default.

    An unsupported language is not an error, as with Accept-Language: the client still gets
    an answer, in the agency's default language.
    """
    given = params.get("lang") or params.get("locale") or ""
    primary = re.split(r"[-_]", given.strip().lower(), maxsplit=1)[0]
    if primary == "vi":
        return "vi"
    if primary == "en":
        return "en"
    return default


def check_params(params: QueryParams, allowed: frozenset[str]) -> dict[str, str]:
    """The query as a dict; refuses unknown names and single-valued names given twice.

    Empty values count as absent (HTML forms send them). Repeated list parameters are joined
    with commas, as GeoReport allows both forms.
    """
    found: dict[str, str] = {}
    for name in params:
        if name not in allowed:
            raise BadRequest("Unknown query parameter. Allowed: " + ", ".join(sorted(allowed)))
        values = [v for v in params.getlist(name) if v.strip()]
        if not values:
            continue
        if len(values) > 1 and name not in {"service_request_id", "service_code", "status"}:
            raise BadRequest(f"{name} may be given only once.")
        found[name] = ",".join(values)
    return found


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# A "+" left unencoded in a query string arrives as a space: "10:00:00 07:00" meant "+07:00".
_LOST_PLUS = re.compile(r"(\d{4}-\d{2}-\d{2}T[0-9:.]+) (\d{2}:?\d{2})")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_w3(value: str, name: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A W3C datetime with an offset (``2026-03-05T10:00:00+07:00``, ``...Z``), in UTC.

    A bare date (``2026-03-05``) means that day in the agency's time zone: its first instant,
    or its last one when ``end_of_day`` (the end of a range is inclusive). A time without an
    offset is refused: it would be read in a zone the client cannot know.
    """
    text = value.strip()
    repaired = _LOST_PLUS.fullmatch(text)
    if repaired:
        text = f"{repaired[1]}+{repaired[2]}"
    problem = f"{name} must be a W3C datetime with an offset, e.g. 2026-03-05T10:00:00+07:00."
    try:
        if _DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text)
            parsed = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=zone)
        else:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None or parsed.utcoffset() is None:
                raise BadRequest(problem)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: year 1 moved to UTC, etc.
        raise BadRequest(problem) from exc


@dataclass(frozen=True, slots=True)
class RequestsQuery:
    """A checked ``requests.json`` query. With ``codes``, the other filters do not apply."""

    codes: tuple[str, ...] = ()
    status: PublicStatus | None = None
    service_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = MAX_LIMIT

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def _page_number(params: Mapping[str, str], name: str, default: int, high: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not _PAGE_NUMBER.fullmatch(text) or not 1 <= int(text) <= high:
        raise BadRequest(f"{name} must be a whole number from 1 to {high}.")
    return int(text)


def parse_requests_query(params: Mapping[str, str], zone: ZoneInfo) -> RequestsQuery:
    """Checks every parameter, even those that ``service_request_id`` overrides: a malformed
    query is refused whatever it asks for."""
    codes: tuple[str, ...] = ()
    if "service_request_id" in params:
        codes = tuple(dict.fromkeys(_split(params["service_request_id"])))
        if not all(CODE_PATTERN.fullmatch(c) for c in codes):
            raise BadRequest("service_request_id must be tracking codes like PA-2026-123456.")
        if len(codes) > MAX_LIMIT:
            raise BadRequest(f"At most {MAX_LIMIT} service_request_id values at once.")

    status: PublicStatus | None = None
    if "status" in params:
        wanted = set(_split(params["status"]))
        if not wanted <= {"open", "closed"}:
            raise BadRequest("status must be open or closed.")
        if wanted == {"open"}:
            status = "open"
        elif wanted == {"closed"}:
            status = "closed"
        # both, or nothing after splitting: every status

    service_codes: tuple[str, ...] | None = None
    if "service_code" in params:
        service_codes = tuple(dict.fromkeys(_split(params["service_code"])))
        if not all(SERVICE_CODE_PATTERN.fullmatch(c) for c in service_codes):
            raise BadRequest("service_code must be codes listed by services.json.")
        service_codes = service_codes or None

    start = end = None
    if "start_date" in params:
        start = parse_w3(params["start_date"], "start_date", zone, end_of_day=False)
    if "end_date" in params:
        end = parse_w3(params["end_date"], "end_date", zone, end_of_day=True)
    if start is not None and end is not None:
        if start > end:
            raise BadRequest("start_date must not be after end_date.")
        # Inclusive calendar days: 2026-01-01 to a bare 2026-03-31 is 90 days and passes.
        if end - start > MAX_SPAN:
            raise BadRequest("start_date and end_date may not span more than 90 days.")
    page = _page_number(params, "page", 1, MAX_PAGE)
    page_size = _page_number(params, "page_size", MAX_LIMIT, MAX_LIMIT)
    return RequestsQuery(codes, status, service_codes, start, end, page, page_size)
