"""The dossier API over HTTP (in-process ASGI), on SQLite and PostgreSQL: signing, replays,
idempotent events, readable refusals with nothing stored, and notices queued with the event."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.channels.zalo_codes import is_valid
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings, DossierDesk, EventIn, Posted
from bot.web.dossier_api import Links, dossier_routes, openapi
from bot.web.dossier_auth import MAX_SKEW_S
from conversations import Choice, Command, InboundEvent, default_catalog
from storage import read_transaction
from storage.outbound import TextMessage
from storage.queries.dossiers import dossier_by_code, event_kinds
from storage.queries.outbox import pending
from storage.schema import api_signatures, dossier_events, dossiers, outbox
from tests.support.dossiers import DOSSIER, KEYS, ApiClient

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
CODE = DOSSIER["code"]


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


@dataclass
class Api:
    client: ApiClient
    engine: AsyncEngine
    clock: Clock
    http: httpx.AsyncClient


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[Api]:
    clock = Clock()
    desk = DossierDesk(engine, DeskSettings(), default_catalog(), clock)
    links = Links(telegram_username="sipas_test_bot", zalo_oa_id="1234567890")
    app = Starlette(routes=dossier_routes(desk, KEYS, links, clock=clock.seconds))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        yield Api(ApiClient(http, now=clock.seconds), engine, clock, http)


async def count(engine: AsyncEngine, table: Table) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def follow(
    api: Api, token: str, chat: str = "7001", language: str | None = None, channel: str = "telegram"
) -> None:
    """A citizen opens the slip's link and agrees, through the real dispatcher."""
    dispatcher = Dispatcher(api.engine, DispatchSettings(), clock=api.clock)
    events = [InboundEvent(f"{chat}-1", channel, chat, Command("start", f"d_{token}"))]
    if language:
        events.append(InboundEvent(f"{chat}-0", channel, chat, Choice(f"lang:{language}")))
    events.append(InboundEvent(f"{chat}-2", channel, chat, Choice(f"dfol:{token}:yes")))
    for event in events:
        (handled,) = await dispatcher.process([event])
        assert not isinstance(handled, Exception)


async def queued(engine: AsyncEngine, chat: str) -> list[str]:
    async with read_transaction(engine) as conn:
        rows = await pending(conn, "telegram", NOW + timedelta(days=30), chat_id=chat)
    return [r.message.key for r in rows if isinstance(r.message, TextMessage)]


async def registered(api: Api) -> str:
    answer = await api.client.register()
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


# --- registration --------------------------------------------------------------------------


async def test_register_returns_the_slip_links_and_is_idempotent(api: Api) -> None:
    first = await api.client.register()
    assert first.status_code == 201
    body = first.json()
    token = body["token"]
    assert body == {
        "code": CODE,
        "token": token,
        "created": True,
        "start": f"d_{token}",
        "telegram_link": f"https://t.me/sipas_test_bot?start=d_{token}",
        # On Zalo the citizen types the slip's short code, not the 24-character token.
        "zalo": {"link": "https://zalo.me/1234567890", "code": body["zalo"]["code"]},
    }
    typed = body["zalo"]["code"]
    assert re.fullmatch(r"[1-9][0-9]{3}-[0-9]{4}-[0-9]{2}", typed)
    assert is_valid(typed.replace("-", ""))
    assert len(f"d_{token}") <= 64
    assert all(c.isalnum() or c in "_-" for c in token)
    api.clock.now += timedelta(seconds=1)  # the same signed request again would be a replay
    again = await api.client.register()
    assert again.status_code == 200
    assert again.json()["token"] == token
    assert again.json()["zalo"]["code"] == typed
    assert again.json()["created"] is False
    other = await api.client.register(due_on="2026-03-01")
    assert other.status_code == 409
    assert other.json()["error"] == "dossier_exists"
    async with read_transaction(api.engine) as conn:
        row = await dossier_by_code(conn, CODE)
    assert row is not None
    # The procedure's name and legal limit come from conversations/data/procedures.yaml.
    assert (row.procedure_name, row.legal_days, row.client) == (
        "Cấp giấy phép xây dựng",
        20,
        "motcua",
    )


# --- authentication ------------------------------------------------------------------------


async def test_wrong_key_is_refused_and_nothing_is_stored(api: Api) -> None:
    stranger = ApiClient(api.http, client="stranger", secret="x" * 32, now=api.clock.seconds)
    answer = await stranger.register()
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "unauthorized",
        "message": "unknown API key (header X-Api-Key)",
    }
    assert await count(api.engine, dossiers) == 0


async def test_wrong_signature_is_refused(api: Api) -> None:
    forger = ApiClient(api.http, secret="not-the-secret", now=api.clock.seconds)
    answer = await forger.register()
    assert answer.status_code == 401
    assert answer.json()["message"].startswith("wrong X-Signature")
    assert await count(api.engine, dossiers) == 0


async def test_a_signature_holds_for_its_path_only(api: Api) -> None:
    """An event signed for one dossier cannot be replayed onto another."""
    await registered(api)
    await api.client.register(code="HS-2026-0002")
    body = json.dumps({"event_id": "e-1", "kind": "processing"}).encode()
    headers = api.client.sign(f"/api/v1/dossiers/{CODE}/events", body)
    moved = await api.http.post(
        "/api/v1/dossiers/HS-2026-0002/events", content=body, headers=headers
    )
    assert moved.status_code == 401
    assert await count(api.engine, dossier_events) == 0


async def test_a_stale_timestamp_is_refused(api: Api) -> None:
    await registered(api)
    late = ApiClient(api.http, now=lambda: api.clock.seconds() - MAX_SKEW_S - 1)
    answer = await late.event(CODE, "e-1", "processing")
    assert answer.status_code == 401
    assert "X-Timestamp" in answer.json()["message"]
    early = ApiClient(api.http, now=lambda: api.clock.seconds() + MAX_SKEW_S + 1)
    assert (await early.event(CODE, "e-1", "processing")).status_code == 401
    assert await count(api.engine, dossier_events) == 0


async def test_the_same_signed_request_twice_is_a_replay(api: Api) -> None:
    await registered(api)
    path = f"/api/v1/dossiers/{CODE}/events"
    body = json.dumps({"event_id": "e-1", "kind": "processing"}).encode()
    headers = api.client.sign(path, body)
    first = await api.http.post(path, content=body, headers=headers)
    assert first.status_code == 201
    replay = await api.http.post(path, content=body, headers=headers)
    assert replay.status_code == 409
    assert replay.json() == {
        "error": "replayed",
        "message": "this signed request was received before",
    }
    # Resent honestly (a new timestamp, so a new signature): the event id makes it harmless.
    api.clock.now += timedelta(seconds=5)
    again = await api.client.event(CODE, "e-1", "processing")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert await count(api.engine, dossier_events) == 1


# --- events --------------------------------------------------------------------------------


async def test_a_duplicate_event_id_has_one_effect(api: Api) -> None:
    token = await registered(api)
    await follow(api, token)
    before = await queued(api.engine, "7001")
    missing = ["Bản vẽ thiết kế", "Giấy tờ về quyền sử dụng đất"]
    first = await api.client.event(CODE, "ev-7", "needs_documents", missing=missing)
    assert first.status_code == 201
    assert first.json() == {
        "code": CODE, "event_id": "ev-7", "kind": "needs_documents", "status": "needs_documents",
        "duplicate": False, "notified": 1, "invited": False,
    }  # fmt: skip
    api.clock.now += timedelta(seconds=1)
    second = await api.client.event(CODE, "ev-7", "needs_documents", missing=missing)
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["notified"] == 0
    assert await count(api.engine, dossier_events) == 1
    after = await queued(api.engine, "7001")
    assert after[len(before) :] == ["dossier.notice.needs_documents"]
    async with read_transaction(api.engine) as conn:
        rows = await pending(conn, "telegram", NOW + timedelta(days=1), chat_id="7001")
    notice = rows[-1].message
    assert isinstance(notice, TextMessage)
    assert notice.text == (
        f"Hồ sơ {CODE} cần bổ sung giấy tờ:\n• Bản vẽ thiết kế\n• Giấy tờ về quyền sử dụng đất\n"
        "Xin Ông/Bà bổ sung tại Bộ phận Một cửa (hoặc trên Cổng dịch vụ công nếu đã nộp trực tuyến)."
    )


async def test_an_event_id_reused_for_another_event_is_refused(api: Api) -> None:
    await registered(api)
    assert (await api.client.event(CODE, "ev-1", "processing")).status_code == 201
    api.clock.now += timedelta(seconds=1)
    reused = await api.client.event(CODE, "ev-1", "result_ready")
    assert reused.status_code == 409
    assert reused.json()["error"] == "event_id_reused"
    async with read_transaction(api.engine) as conn:
        row = await dossier_by_code(conn, CODE)
        assert row is not None
        assert await event_kinds(conn, row.id) == ["processing"]


async def test_an_event_for_an_unknown_dossier_is_404(api: Api) -> None:
    answer = await api.client.event("HS-NOPE", "ev-1", "processing")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "unknown_dossier",
        "message": "no dossier HS-NOPE is registered",
    }
    assert await count(api.engine, dossier_events) == 0
    assert await count(api.engine, api_signatures) == 0  # the transaction was rolled back


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (b"{not json", "body", "Expecting property name"),
        (b"[1, 2]", "body", "not an object"),
        ({"event_id": "e1"}, "kind", "Field required"),
        ({"event_id": "e1", "kind": "lost"}, "kind", "Input should be 'received'"),
        ({"event_id": "e1", "kind": "needs_documents"}, "body", "list the missing documents"),
        ({"event_id": "e1", "kind": "late"}, "body", "new date in 'new_due_on'"),
        ({"event_id": "e 1", "kind": "processing"}, "event_id", "String should match pattern"),
        ({"event_id": "e1", "kind": "processing", "x": 1}, "x", "Extra inputs are not permitted"),
        (
            {"event_id": "e1", "kind": "processing", "at": "2026-01-05T10:00:00"},
            "at",
            "Input should have timezone info",
        ),
    ],
    ids=["not-json", "not-object", "no-kind", "bad-kind", "no-missing", "no-new-date",
         "bad-id", "extra-field", "naive-time"],
)  # fmt: skip
async def test_a_malformed_event_is_422_with_a_readable_error_and_nothing_stored(
    api: Api, payload: Any, field: str, message: str
) -> None:
    await registered(api)
    signatures = await count(api.engine, api_signatures)
    answer = await api.client.post(f"/api/v1/dossiers/{CODE}/events", payload)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_body"
    assert any(d["field"] == field and message in d["message"] for d in body["details"]), body
    assert await count(api.engine, dossier_events) == 0
    assert await count(api.engine, api_signatures) == signatures
    async with read_transaction(api.engine) as conn:
        row = await dossier_by_code(conn, CODE)
    assert row is not None
    assert row.status == "received"


async def test_a_malformed_dossier_is_422_and_nothing_stored(api: Api) -> None:
    answer = await api.client.register(due_on="2025-12-31", received_on="soon", code="a/b")
    assert answer.status_code == 422
    fields = sorted(d["field"] for d in answer.json()["details"])
    assert fields == ["code", "received_on"]
    wrong_order = await api.client.register(due_on="2025-12-31")
    assert wrong_order.status_code == 422
    assert wrong_order.json()["details"] == [
        {"field": "body", "message": "due_on is before received_on"}
    ]
    assert await count(api.engine, dossiers) == 0


async def test_a_late_date_must_come_after_the_promise_and_closed_dossiers_take_nothing(
    api: Api,
) -> None:
    await registered(api)
    early = await api.client.event(CODE, "l-1", "late", new_due_on="2026-01-20")
    assert early.status_code == 422
    assert early.json()["details"] == [
        {"field": "new_due_on", "message": "new_due_on must come after 2026-02-02"}
    ]
    assert (await api.client.event(CODE, "w-1", "withdrawn")).status_code == 201
    closed = await api.client.event(CODE, "p-1", "processing")
    assert closed.status_code == 409
    assert closed.json()["error"] == "dossier_closed"
    future = (NOW + timedelta(hours=1)).isoformat()
    assert (await api.client.event(CODE, "f-1", "processing", at=future)).status_code == 422


async def test_an_oversized_body_is_413(api: Api) -> None:
    answer = await api.client.post("/api/v1/dossiers", b"{" + b" " * 70_000 + b"}")
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"


async def test_notices_go_to_every_follower_in_their_language_with_the_event(api: Api) -> None:
    token = await registered(api)
    await follow(api, token, "7001")
    await follow(api, token, "7002", language="en")
    await follow(api, token, "zalo-user-1", channel="zalo")
    late = await api.client.event(
        CODE, "l-1", "late", new_due_on="2026-02-16", reason="Chờ ý kiến thẩm định"
    )
    assert late.json()["notified"] == 3
    async with read_transaction(api.engine) as conn:
        zalo = await pending(conn, "zalo", NOW, chat_id="zalo-user-1")
    # Zalo: queued like any message; the Zalo sender holds it outside the 7-day window.
    assert [r.message.key for r in zalo if isinstance(r.message, TextMessage)][
        -1
    ] == "dossier.notice.late"
    async with read_transaction(api.engine) as conn:
        vi = (await pending(conn, "telegram", NOW, chat_id="7001"))[-1].message
        en = (await pending(conn, "telegram", NOW, chat_id="7002"))[-1].message
    assert isinstance(vi, TextMessage)
    assert isinstance(en, TextMessage)
    assert vi.text == (
        f"Chúng tôi thành thật xin lỗi Ông/Bà: hồ sơ {CODE} chưa giải quyết xong đúng hẹn ngày "
        "02/02/2026.\nNgày hẹn trả kết quả mới: 16/02/2026.\nLý do: Chờ ý kiến thẩm định"
    )
    assert en.text.startswith("We sincerely apologise")
    handed = await api.client.event(CODE, "h-1", "handed_over")
    assert handed.json() == {
        "code": CODE, "event_id": "h-1", "kind": "handed_over", "status": "handed_over",
        "duplicate": False, "notified": 3, "invited": True,
    }  # fmt: skip
    async with read_transaction(api.engine) as conn:
        rows = await pending(conn, "telegram", NOW, chat_id="7001")
        row = await dossier_by_code(conn, CODE)
    assert [r.message.key for r in rows[-2:] if isinstance(r.message, TextMessage)] == [
        "dossier.notice.handed_over",
        "dossier.invite",
    ]
    invite = rows[-1].message
    assert isinstance(invite, TextMessage)
    assert invite.choices == ((f"dinv:{row.id if row else 0}", "Đánh giá ngay"),)
    assert "đến hết ngày 12/01/2026" in invite.text  # 7 days after hand-over
    assert row is not None
    assert row.invite_status == "invited"
    assert row.invite_remind_at == NOW + timedelta(hours=24)
    assert await count(api.engine, outbox) >= 4


async def test_a_hand_over_nobody_follows_sends_no_invitation(api: Api) -> None:
    await registered(api)
    answer = await api.client.event(CODE, "h-1", "handed_over")
    assert answer.json()["invited"] is False
    async with read_transaction(api.engine) as conn:
        row = await dossier_by_code(conn, CODE)
    assert row is not None
    assert row.invite_status is None
    assert row.completed_on is not None


async def test_openapi_describes_the_routes_from_the_same_models(api: Api) -> None:
    answer = await api.http.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc == openapi()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/api/v1/dossiers", "/api/v1/dossiers/{code}/events"}
    event = doc["components"]["schemas"]["EventIn"]
    assert event["required"] == ["event_id", "kind"]
    assert set(event["properties"]) == {"event_id", "kind", "at", "missing", "new_due_on", "reason"}
    responses = doc["paths"]["/api/v1/dossiers/{code}/events"]["post"]["responses"]
    assert {"200", "201", "401", "404", "409", "413", "422"} <= set(responses)


async def test_a_burst_is_one_batch_where_a_refusal_disturbs_nothing(api: Api) -> None:
    """Events posted together are stored together (group commit); a duplicate within the
    batch has one effect, and refused events leave the others alone."""
    await registered(api)
    await api.client.register(code="HS-2026-0002")
    desk = DossierDesk(api.engine, DeskSettings(), default_catalog(), api.clock)
    results = await asyncio.gather(
        desk.post_event("c", CODE, EventIn(event_id="1", kind="processing")),
        desk.post_event("c", CODE, EventIn(event_id="1", kind="processing")),
        desk.post_event("c", "HS-NOPE", EventIn(event_id="2", kind="processing")),
        desk.post_event(
            "c", "HS-2026-0002", EventIn(event_id="3", kind="late", new_due_on=date(2026, 1, 6))
        ),
        desk.post_event("c", "HS-2026-0002", EventIn(event_id="4", kind="processing")),
        desk.post_event("c", CODE, EventIn(event_id="5", kind="result_ready")),
        return_exceptions=True,
    )
    kinds = [r.duplicate if isinstance(r, Posted) else type(r).__name__ for r in results]
    assert kinds == [False, True, "UnknownDossier", "Invalid", False, False]
    assert await count(api.engine, dossier_events) == 3
    async with read_transaction(api.engine) as conn:
        first = await dossier_by_code(conn, CODE)
        second = await dossier_by_code(conn, "HS-2026-0002")
    assert first is not None
    assert second is not None
    assert (first.status, first.completed_on, second.status) == (
        "result_ready",
        NOW.date(),
        "processing",
    )
