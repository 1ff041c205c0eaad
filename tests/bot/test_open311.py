"""Open311 GeoReport v2 over HTTP: the field list, filters, errors, and no personal data out.

The app holds only the Open311 routes, over a migrated SQLite file seeded by the storage test's
``seed`` (complaints full of a citizen's name, phone, address, staff notes and files).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.config import load_settings
from bot.web.open311 import Open311Settings, open311_routes, public_status, status_note
from bot.web.open311_query import BadRequest, language_of, parse_w3
from conversations.categories import categories
from storage import migrate, open_engine, write_transaction
from storage.queries.open311 import PublicRequest
from storage.schema import COMPLAINT_STATUSES, OPEN_COMPLAINT_STATUSES, complaints
from tests.storage.test_open311 import (
    ADDRESS,
    CHAT_ID,
    DESCRIPTION,
    FILE_BYTES,
    FILE_NAME,
    NAME,
    NOTES,
    NOW,
    PHONE,
    SEED,
    at,
    seed,
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY = "Sở Xây dựng tỉnh Demo"
SETTINGS = Open311Settings(AGENCY, HANOI, "vi")
BASE = "/open311/v2"
ALL_CODES = [row[0] for row in SEED]

# --- the GeoReport v2 field lists, as checks -----------------------------------------------------

Check = Callable[[Any], bool]


def is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def is_null(value: Any) -> bool:
    return value is None


def is_w3_local(value: Any) -> bool:
    """A W3C datetime, to the second, aware, in Hanoi time (+07:00)."""
    if not isinstance(value, str):
        return False
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00", value):
        return False
    parsed = datetime.fromisoformat(value)
    return parsed.utcoffset() == timedelta(hours=7)


REQUEST_FIELDS: dict[str, tuple[str, Check]] = {
    # field: (required type, check)
    "service_request_id": (
        "str PA-YYYY-NNNNNN",
        lambda v: is_str(v) and re.fullmatch(r"PA-\d{4}-\d{6}", v) is not None,
    ),
    "status": ("'open' | 'closed'", lambda v: v in {"open", "closed"}),
    "status_notes": ("str | null", lambda v: v is None or is_str(v)),
    "service_name": ("str", is_str),
    "service_code": ("str", is_str),
    "description": ("absent or null", is_null),
    "agency_responsible": ("str", is_str),
    "service_notice": ("null", is_null),
    "requested_datetime": ("w3 datetime +07:00", is_w3_local),
    "updated_datetime": ("w3 datetime +07:00", is_w3_local),
    "expected_datetime": ("w3 datetime +07:00", is_w3_local),
    "address": ("null", is_null),
    "address_id": ("null", is_null),
    "zipcode": ("null", is_null),
    "lat": ("null", is_null),
    "long": ("null", is_null),
    "media_url": ("null", is_null),
}
OPTIONAL_REQUEST_FIELDS = {"description"}

SERVICE_FIELDS: dict[str, tuple[str, Check]] = {
    "service_code": ("str", is_str),
    "service_name": ("str", is_str),
    "description": ("str", is_str),
    "metadata": ("false", lambda v: v is False),
    "type": ("'realtime'", lambda v: v == "realtime"),
    "keywords": ("str", lambda v: isinstance(v, str)),
    "group": ("str", lambda v: isinstance(v, str)),
}


def assert_valid_request(item: dict[str, Any]) -> None:
    assert set(item) <= set(REQUEST_FIELDS), f"fields beyond GeoReport v2: {set(item) - set(REQUEST_FIELDS)}"  # fmt: skip
    for name, (wanted, check) in REQUEST_FIELDS.items():
        if name not in item:
            assert name in OPTIONAL_REQUEST_FIELDS, f"{name} missing"
            continue
        assert check(item[name]), f"{name}: expected {wanted}, got {item[name]!r}"


def assert_valid_service(item: dict[str, Any]) -> None:
    assert set(item) == set(SERVICE_FIELDS)
    for name, (wanted, check) in SERVICE_FIELDS.items():
        assert check(item[name]), f"{name}: expected {wanted}, got {item[name]!r}"


def assert_public_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert isinstance(body, list)
    return body


def assert_requests(response: httpx.Response) -> list[dict[str, Any]]:
    body = assert_public_list(response)
    for item in body:
        assert_valid_request(item)
    return body


def assert_error(response: httpx.Response, code: int) -> str:
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    assert set(body[0]) == {"code", "description"}
    assert body[0]["code"] == code
    assert is_str(body[0]["description"])
    return str(body[0]["description"])


def ids(body: list[dict[str, Any]]) -> list[str]:
    return [item["service_request_id"] for item in body]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'open311.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def expected(db: AsyncEngine) -> dict[str, PublicRequest]:
    return await seed(db)


def client_for(engine: AsyncEngine) -> httpx.AsyncClient:
    app = Starlette(routes=open311_routes(engine, SETTINGS, clock=lambda: NOW))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.fixture
async def client(db: AsyncEngine, expected: dict[str, PublicRequest]) -> AsyncIterator[httpx.AsyncClient]:  # fmt: skip
    async with client_for(db) as c:
        yield c


# --- services ----------------------------------------------------------------------------------


async def test_services_are_the_categories_in_vietnamese(client: httpx.AsyncClient) -> None:
    body = assert_public_list(await client.get(f"{BASE}/services.json"))
    for item in body:
        assert_valid_service(item)
    assert [(s["service_code"], s["service_name"]) for s in body] == [
        (c.code, c.names["vi"]) for c in categories()
    ]
    planning = body[0]
    assert planning == {
        "service_code": "quyhoach",
        "service_name": "Thông tin quy hoạch",
        "description": "Thời hạn giải quyết: 10 ngày làm việc.",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


@pytest.mark.parametrize("query", ["lang=en", "locale=en", "locale=en_US", "lang=EN-gb"])
async def test_services_in_english(client: httpx.AsyncClient, query: str) -> None:
    body = assert_public_list(await client.get(f"{BASE}/services.json?{query}"))
    assert [s["service_name"] for s in body] == [c.names["en"] for c in categories()]
    assert body[0]["description"] == "Handling deadline: 10 working days."


@pytest.mark.parametrize(
    "query", ["lang=fr", "locale=", "lang=vi-VN", "jurisdiction_id=demo.gov.vn"]
)
async def test_other_languages_get_the_default(client: httpx.AsyncClient, query: str) -> None:
    body = assert_public_list(await client.get(f"{BASE}/services.json?{query}"))
    assert [s["service_name"] for s in body] == [c.names["vi"] for c in categories()]


async def test_services_refuse_unknown_parameters(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{BASE}/services.json?status=open"), 400)


# --- requests: values ----------------------------------------------------------------------------


async def test_a_request_in_full(client: httpx.AsyncClient) -> None:
    body = assert_requests(await client.get(f"{BASE}/requests/PA-2026-000101.json"))
    created = at(1).astimezone(HANOI).isoformat(timespec="seconds")
    assert body == [
        {
            "service_request_id": "PA-2026-000101",
            "status": "open",
            "status_notes": "Mới tiếp nhận",
            "service_name": "Thông tin quy hoạch",
            "service_code": "quyhoach",
            "description": None,
            "agency_responsible": AGENCY,
            "service_notice": None,
            "requested_datetime": created,
            "updated_datetime": created,
            "expected_datetime": "2026-03-18T17:00:00+07:00",
            "address": None,
            "address_id": None,
            "zipcode": None,
            "lat": None,
            "long": None,
            "media_url": None,
        }
    ]
    assert created == "2026-03-04T10:00:00+07:00"  # 03:00 UTC the day before NOW


async def test_dates_are_hanoi_time(client: httpx.AsyncClient) -> None:
    # Updated 12 hours before NOW (03:00 UTC on 5 March) is 22:00 on 4 March in Hanoi.
    (item,) = assert_requests(await client.get(f"{BASE}/requests/PA-2026-000102.json"))
    assert item["updated_datetime"] == "2026-03-04T22:00:00+07:00"
    assert datetime.fromisoformat(item["updated_datetime"]) == NOW - timedelta(hours=12)
    assert item["expected_datetime"] == "2026-03-17T17:00:00+07:00"


@pytest.mark.parametrize(
    ("code", "status", "vi", "en"),
    [
        ("PA-2026-000101", "open", "Mới tiếp nhận", "Received"),
        ("PA-2026-000102", "open", "Đang xử lý", "Being handled"),
        ("PA-2026-000103", "open", "Chờ người gửi bổ sung", "Waiting for more information from the sender"),
        ("PA-2026-000104", "closed", "Đã giải quyết", "Resolved"),
        ("PA-2026-000105", "closed", "Đã chuyển cơ quan có thẩm quyền", "Forwarded to the competent body"),
        ("PA-2026-000106", "closed", "Trùng với phản ánh khác", "Duplicate of another complaint"),
    ],
)  # fmt: skip
async def test_statuses_collapse_to_open_or_closed_with_public_notes(
    client: httpx.AsyncClient, code: str, status: str, vi: str, en: str
) -> None:
    (item,) = assert_requests(await client.get(f"{BASE}/requests/{code}.json"))
    assert (item["status"], item["status_notes"]) == (status, vi)
    (item,) = assert_requests(await client.get(f"{BASE}/requests/{code}.json?lang=en"))
    assert (item["status"], item["status_notes"]) == (status, en)


def test_every_status_has_a_public_wording() -> None:
    assert all(status_note(s, "vi") and status_note(s, "en") for s in COMPLAINT_STATUSES)
    assert {s for s in COMPLAINT_STATUSES if public_status(s) == "open"} == set(
        OPEN_COMPLAINT_STATUSES
    )
    assert public_status("some_future_status") == "closed"


async def test_one_request_is_as_in_the_list(client: httpx.AsyncClient) -> None:
    listed = assert_requests(await client.get(f"{BASE}/requests.json"))
    for item in listed:
        one = assert_requests(
            await client.get(f"{BASE}/requests/{item['service_request_id']}.json")
        )
        assert one == [item]


# --- requests: filters -------------------------------------------------------------------------


async def test_the_default_is_the_last_90_days_newest_first(
    client: httpx.AsyncClient, expected: dict[str, PublicRequest]
) -> None:
    body = assert_requests(await client.get(f"{BASE}/requests.json"))
    assert ids(body) == [
        "PA-2026-000101", "PA-2026-000102", "PA-2026-000103", "PA-2026-000104",
        "PA-2026-000105", "PA-2026-000106", "PA-2025-000107",
    ]  # fmt: skip
    times = [datetime.fromisoformat(i["requested_datetime"]) for i in body]
    assert times == sorted(times, reverse=True)
    assert all(expected[i["service_request_id"]].created_at == t for i, t in zip(body, times, strict=True))  # fmt: skip


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("status=open", ["PA-2026-000101", "PA-2026-000102", "PA-2026-000103"]),
        ("status=closed", ["PA-2026-000104", "PA-2026-000105", "PA-2026-000106", "PA-2025-000107"]),
        ("status=open,closed", ALL_CODES[:7]),
        ("status=open&status=closed", ALL_CODES[:7]),
        ("status=", ALL_CODES[:7]),
        ("service_code=quyhoach", ["PA-2026-000101", "PA-2026-000104", "PA-2026-000106"]),
        ("service_code=phi,thaido", ["PA-2026-000103", "PA-2026-000105"]),
        ("service_code=phi&service_code=thaido", ["PA-2026-000103", "PA-2026-000105"]),
        ("service_code=retired_category", []),
        ("service_code=quyhoach&status=open", ["PA-2026-000101"]),
        # Both bounds inclusive; offsets, Z and bare local dates.
        ("start_date=2026-02-23T03:00:00Z&end_date=2026-03-02T03:00:00Z", ["PA-2026-000103", "PA-2026-000104"]),
        ("start_date=2026-02-23T10:00:00%2B07:00&end_date=2026-03-02T10:00:00%2B07:00", ["PA-2026-000103", "PA-2026-000104"]),
        # An unencoded "+" arrives as a space; it is read back as the offset it was.
        ("start_date=2026-02-23T10:00:00+07:00&end_date=2026-03-02T10:00:00+07:00", ["PA-2026-000103", "PA-2026-000104"]),
        ("start_date=2026-03-02&end_date=2026-03-04", ["PA-2026-000101", "PA-2026-000102", "PA-2026-000103"]),
        ("start_date=2026-03-03&end_date=2026-03-03", ["PA-2026-000102"]),
        # One bound alone: no 90-day default, so older requests come back.
        ("start_date=2025-11-01", ALL_CODES[:8]),
        ("end_date=2025-12-06", ["PA-2025-000107", "PA-2025-000108", "PA-2025-000109"]),
        ("end_date=2025-12-06&status=open", ["PA-2025-000108"]),
    ],
)  # fmt: skip
async def test_filters(client: httpx.AsyncClient, query: str, wanted: list[str]) -> None:
    assert ids(assert_requests(await client.get(f"{BASE}/requests.json?{query}"))) == wanted


async def test_request_ids_override_the_other_filters(client: httpx.AsyncClient) -> None:
    query = "service_request_id=PA-2025-000109,PA-2026-000102,PA-2026-999999&status=closed&start_date=2026-03-01"  # fmt: skip
    body = assert_requests(await client.get(f"{BASE}/requests.json?{query}"))
    assert ids(body) == ["PA-2026-000102", "PA-2025-000109"]
    body = assert_requests(await client.get(f"{BASE}/requests.json?service_request_id={','.join(ALL_CODES)}"))  # fmt: skip
    assert ids(body) == ALL_CODES


async def test_at_most_1000_requests(client: httpx.AsyncClient, db: AsyncEngine) -> None:
    async with write_transaction(db) as conn:
        await conn.execute(
            complaints.insert(),
            [
                {
                    "code": f"PA-2026-{600000 + i:06d}",
                    "category": "khac",
                    "description": DESCRIPTION,
                    "status": "new",
                    "source": "chat",
                    "anonymous": False,
                    "reporter_name": NAME,
                    "language": "vi",
                    "created_at": NOW - timedelta(minutes=i),
                    "updated_at": NOW,
                    "due_on": date(2026, 3, 19),
                }
                for i in range(1010)
            ],
        )
    body = assert_requests(await client.get(f"{BASE}/requests.json"))
    assert len(body) == 1000
    assert ids(body)[:2] == ["PA-2026-600000", "PA-2026-600001"]


# --- errors ------------------------------------------------------------------------------------

EVIL = "<script>alert(1)</script>' OR 1=1 --"


@pytest.mark.parametrize(
    "query",
    [
        "foo=bar",
        "limit=5",
        "status=pending",
        "status=open,pending",
        "service_code=' OR 1=1 --",
        "service_code=QUYHOACH",
        "service_request_id=123",
        "service_request_id=PA-2026-000101,pa-2026-000102",
        "start_date=yesterday",
        "start_date=2026-03-01T10:00:00",  # no offset: which zone?
        "start_date=2026-03",
        "end_date=0001-01-01T00:00:00%2B07:00",  # before year 1 in UTC
        "start_date=2026-03-05&end_date=2026-03-01",
        "start_date=2026-01-01&end_date=2026-04-01",  # 91 days
        "start_date=2026-03-01&start_date=2026-03-02",
        f"start_date={EVIL}",
        f"service_request_id={EVIL}",
        f"{EVIL}=1",
    ],
)
async def test_bad_queries_are_400_and_never_echoed(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"{BASE}/requests.json", params=httpx.QueryParams(query))
    description = assert_error(response, 400)
    assert response.headers["cache-control"] == "no-store"
    # Descriptions are fixed texts: no value the client sent comes back.
    for sent in ("<script>", "alert", "1=1", "pending", "yesterday", "bar", "QUYHOACH", "pa-2026"):
        assert sent not in response.text
    assert "<" not in description


async def test_ninety_days_exactly_is_allowed(client: httpx.AsyncClient) -> None:
    assert_requests(await client.get(f"{BASE}/requests.json?start_date=2026-01-01&end_date=2026-03-31"))  # fmt: skip
    assert_requests(
        await client.get(
            f"{BASE}/requests.json",
            params={"start_date": "2025-12-05T03:00:00Z", "end_date": "2026-03-05T03:00:00Z"},
        )
    )


@pytest.mark.parametrize(
    "path",
    [
        "/requests/PA-2026-999999.json",
        "/requests/PA-2026-00010.json",
        "/requests/pa-2026-000101.json",
        "/requests/PA-2026-000101x.json",
        "/requests/%3Cscript%3Ealert(1)%3C%2Fscript%3E.json",
        "/requests/PA-2026-000101.xml",
        "/requests.xml",
        "/services.xml",
        "/discovery.json",
        "/requests/PA-2026-000101/notes.json",
    ],
)
async def test_unknown_ids_and_paths_are_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(BASE + path)
    description = assert_error(response, 404)
    assert "script>" not in response.text
    assert "PA-" not in description


async def test_single_request_refuses_unknown_parameters(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{BASE}/requests/PA-2026-000101.json?status=open"), 400)


async def test_read_only(client: httpx.AsyncClient) -> None:
    assert (await client.post(f"{BASE}/requests.json", json={})).status_code == 405
    assert (await client.delete(f"{BASE}/requests/PA-2026-000101.json")).status_code == 405


async def test_a_database_failure_is_a_500_error_array(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # never migrated
    try:
        async with client_for(engine) as c:
            with caplog.at_level(logging.ERROR, logger="bot.open311"):
                response = await c.get(f"{BASE}/requests.json?status=open")
    finally:
        await engine.dispose()
    assert_error(response, 500)
    assert "complaints" not in response.text  # the driver's message stays on the server
    assert "event=open311_failed error=OperationalError" in caplog.text


# --- no personal data --------------------------------------------------------------------------


def personal_strings() -> list[str]:
    phone_forms = [
        PHONE,
        PHONE[1:],  # 912345678
        "+84" + PHONE[1:],
        "84" + PHONE[1:],
        "0912 345 678",
        "0912.345.678",
        "091****678",
        "345678",
    ]
    texts = [
        NAME,
        "Nguyen Van A",
        "Văn A",
        ADDRESS,
        "ngõ 10",
        "Hàng Bông",
        DESCRIPTION[:30],
        "xây sai phép",
        *NOTES,
        "Trần Thị B",
        "tran.thi.b",
        "kiểm tra tại nhà",
        CHAT_ID,
        FILE_NAME,
        "cccd",
        "001099012345",
        "AgACAgIAAxkBAAIBQ2",
        "image/jpeg",
        FILE_BYTES.decode("latin-1"),
        "SECRET-BYTES",
        base64.b64encode(FILE_BYTES).decode(),
        FILE_BYTES.hex(),
    ]
    forms = set(phone_forms + texts)
    # Also as a JSON encoder that escapes non-ASCII would write them.
    forms |= {json.dumps(s)[1:-1] for s in texts}
    return sorted(forms)


async def test_no_personal_data_in_any_response(client: httpx.AsyncClient) -> None:
    urls = [f"{BASE}/services.json", f"{BASE}/services.json?lang=en"]
    for lang in ("vi", "en"):
        urls += [
            f"{BASE}/requests.json?lang={lang}",
            f"{BASE}/requests.json?lang={lang}&status=open",
            f"{BASE}/requests.json?lang={lang}&status=closed&start_date=2025-01-01",
            f"{BASE}/requests.json?lang={lang}&end_date=2025-12-31",
            f"{BASE}/requests.json?lang={lang}&service_request_id={','.join(ALL_CODES)}",
            *(f"{BASE}/requests/{code}.json?lang={lang}" for code in ALL_CODES),
        ]
    seen_ids: set[str] = set()
    full = []
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        full.append(f"{response.headers}\n{response.text}")
        if "/requests" in url:
            seen_ids |= set(ids(assert_requests(response)))
    assert seen_ids == set(ALL_CODES)  # every complaint was published at least once
    everything = "\n".join(full).casefold()
    leaked = [s for s in personal_strings() if s.casefold() in everything]
    assert leaked == []


# --- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end_of_day", "instant"),
    [
        ("2026-03-05T10:00:00+07:00", False, datetime(2026, 3, 5, 3, tzinfo=UTC)),
        ("2026-03-05T03:00:00Z", False, datetime(2026, 3, 5, 3, tzinfo=UTC)),
        ("2026-03-05T03:00Z", False, datetime(2026, 3, 5, 3, tzinfo=UTC)),
        ("2026-03-05T10:00:00.250+07:00", False, datetime(2026, 3, 5, 3, 0, 0, 250000, tzinfo=UTC)),
        ("2026-03-05T10:00:00 07:00", False, datetime(2026, 3, 5, 3, tzinfo=UTC)),
        ("2026-03-05", False, datetime(2026, 3, 4, 17, tzinfo=UTC)),
        ("2026-03-05", True, datetime(2026, 3, 5, 16, 59, 59, 999999, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_w3_datetimes(text: str, end_of_day: bool, instant: datetime) -> None:
    parsed = parse_w3(text, "start_date", HANOI, end_of_day=end_of_day)
    assert parsed == instant
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["", "2026", "2026-03", "2026-03-05T10:00", "05/03/2026", "2026-02-30"]
)
def test_w3_refusals(text: str) -> None:
    with pytest.raises(BadRequest, match="start_date must be a W3C datetime"):
        parse_w3(text, "start_date", HANOI, end_of_day=False)


def test_languages() -> None:
    assert language_of({}, "vi") == "vi"
    assert language_of({}, "en") == "en"
    assert language_of({"locale": "en-US"}, "vi") == "en"
    assert language_of({"lang": "vi", "locale": "en"}, "en") == "vi"
    assert language_of({"lang": "zh"}, "en") == "en"


def test_settings_from_the_bot_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENCY_NAME", "Sở Xây dựng Đà Nẵng")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.setenv("TIMEZONE", "Asia/Ho_Chi_Minh")
    assert Open311Settings.from_settings(load_settings(None)) == Open311Settings(
        "Sở Xây dựng Đà Nẵng", ZoneInfo("Asia/Ho_Chi_Minh"), "en"
    )


# --- paging ------------------------------------------------------------------------------------

DEFAULT_LIST = ALL_CODES[:7]  # the last 90 days, newest first


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("page_size=3", DEFAULT_LIST[:3]),
        ("page=1&page_size=3", DEFAULT_LIST[:3]),
        ("page=2&page_size=3", DEFAULT_LIST[3:6]),
        ("page=3&page_size=3", DEFAULT_LIST[6:]),
        ("page=4&page_size=3", []),
        ("page=2", []),  # 1000 a page by default
        ("page=1", DEFAULT_LIST),
        ("page_size=1000", DEFAULT_LIST),
        ("page=2&page_size=2&status=closed", ["PA-2026-000106", "PA-2025-000107"]),
        ("page=2&page_size=1&start_date=2025-11-01", ["PA-2026-000102"]),
        (f"page=2&page_size=4&service_request_id={','.join(ALL_CODES)}", ALL_CODES[4:8]),
    ],
)
async def test_pages(client: httpx.AsyncClient, query: str, wanted: list[str]) -> None:
    assert ids(assert_requests(await client.get(f"{BASE}/requests.json?{query}"))) == wanted


async def test_pages_follow_each_other_without_gaps_or_repeats(
    client: httpx.AsyncClient,
) -> None:
    pages: list[list[str]] = []
    for page in range(1, 7):
        query = f"page={page}&page_size=2&start_date=2025-01-01"
        pages.append(ids(assert_requests(await client.get(f"{BASE}/requests.json?{query}"))))
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1, 0]
    assert [code for p in pages for code in p] == ALL_CODES
    # Values out of range are refused with a fixed text, like any bad parameter.
    for bad in ("page=0", "page=-1", "page=1.5", "page=abc", "page=100001", "page_size=0",
                "page_size=1001", "page_size=ten", "page=1&page=2", f"page={EVIL}"):  # fmt: skip
        response = await client.get(f"{BASE}/requests.json", params=httpx.QueryParams(bad))
        assert_error(response, 400)
        assert "abc" not in response.text
        assert "<script>" not in response.text


# --- published times lie inside the window asked for -------------------------------------------

# Filed at 10:45 in Hanoi: published as 10:00 (to the hour).
FILED = datetime(2026, 3, 3, 3, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "listed"),
    [
        ("2026-03-03T10:30:00+07:00", "2026-03-03T11:30:00+07:00", False),  # 10:00 is before
        ("2026-03-03T10:00:00+07:00", "2026-03-03T10:30:00+07:00", True),  # 10:00 is inside
        ("2026-03-03T10:00:00+07:00", "2026-03-03T10:00:00+07:00", True),
        ("2026-03-03T03:00:00Z", "2026-03-03T03:00:00Z", True),
        ("2026-03-03T10:00:00.000001+07:00", "2026-03-03T12:00:00+07:00", False),
    ],
)
async def test_requests_in_a_window_are_published_inside_it(
    client: httpx.AsyncClient, db: AsyncEngine, start: str, end: str, listed: bool
) -> None:
    async with write_transaction(db) as conn:
        await conn.execute(
            complaints.insert().values(
                code="PA-2026-000201", category="khac", description=DESCRIPTION, status="new",
                source="chat", anonymous=False, language="vi", created_at=FILED,
                updated_at=FILED + timedelta(minutes=5), due_on=date(2026, 3, 17),
            )
        )  # fmt: skip
    body = assert_requests(
        await client.get(f"{BASE}/requests.json", params={"start_date": start, "end_date": end})
    )
    assert ("PA-2026-000201" in ids(body)) is listed
    low, high = datetime.fromisoformat(start), datetime.fromisoformat(end)
    outside = [
        (i["service_request_id"], i["requested_datetime"])
        for i in body
        if not low <= datetime.fromisoformat(i["requested_datetime"]) <= high
    ]
    assert outside == []
