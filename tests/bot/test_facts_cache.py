"""What the engine is told about stored rows (``bot/runtime/facts.py``), on the pure parts of
the cache: each field of a dossier, a receipt and a complaint as the engine sees them, whose
complaint it is (``owned``), how a notice to its sender goes out (the Zalo window), and the
facts kept current for a batch's later events (issue 17: the ownership rule and the
survivors of the mutation run)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.runtime.facts import FactsCache, _complaint, _receipt, dossier_facts
from conversations import ComplaintFacts, DossierFacts, ReceiptFacts, ReceiptStatus
from conversations.context import CaseNote
from conversations.needs import Lookups
from storage.queries.complaints import ComplaintRow, HistoryRow
from storage.queries.dossiers import DossierRow
from storage.queries.surveys import ReceiptRow

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AT = datetime(2026, 2, 20, 1, 2, 3, tzinfo=UTC)

DOSSIER_ROW = DossierRow(
    id=42,
    code="HS-2026-0042",
    token="Tok0123456789abcdefghijk",
    client="motcua",
    procedure="1.009972",
    procedure_name="Cấp giấy phép xây dựng",
    field="xaydung",
    legal_days=15,
    received_on=date(2026, 2, 2),
    due_on=date(2026, 2, 23),
    rescheduled_on=date(2026, 2, 27),
    status="completed",
    completed_on=date(2026, 2, 26),
    handed_over_at=AT,
    closed_at=None,
    followed_at=AT,
    invite_status="invited",
    invited_at=AT,
    invite_remind_at=AT,
    invite_expires_at=AT + timedelta(days=7),
    created_at=AT,
    updated_at=AT,
    short_code="1234567890",
)

CASE_ROW = ComplaintRow(
    id=9,
    code="PA-2026-000009",
    category="capphep",
    description="Công trình lấn chiếm vỉa hè.",
    status="processing",
    source="telegram",
    anonymous=False,
    name="Trần Văn Ba",
    phone="0912345678",
    language="en",
    created_at=AT,
    due_on=date(2026, 3, 16),
    rating=4,
    contact_id=7,
    channel="telegram",
    external_id="5001",
    stopped=False,
    duplicate_of="PA-2026-000001",
    files=2,
    history=(HistoryRow(AT, "processing", "Đã nhận", "staff:1", True, "take", "Chị Lan"),),
    stored_files=(31, 32),
    address="12 Lê Lợi, Huế",
    accept_due_on=date(2026, 2, 25),
    forward_due_on=date(2026, 2, 27),
    forwarded_to="UBND phường",
    forwarded_on=date(2026, 2, 24),
    file_notes={31: "ảnh mặt tiền"},
    assignee="staff:1",
    assignee_name="Chị Lan",
    accepted_at=AT,
)


def test_a_dossier_as_the_engine_sees_it() -> None:
    assert dossier_facts(DOSSIER_ROW) == DossierFacts(
        id=42,
        code="HS-2026-0042",
        token="Tok0123456789abcdefghijk",
        procedure="1.009972",
        received_on=date(2026, 2, 2),
        due_on=date(2026, 2, 23),
        status="completed",
        procedure_name="Cấp giấy phép xây dựng",
        field="xaydung",
        rescheduled_on=date(2026, 2, 27),
        completed_on=date(2026, 2, 26),
        handed_over_at=AT,
        invite="invited",
        invite_expires_at=AT + timedelta(days=7),
        followed=False,
    )
    assert dossier_facts(DOSSIER_ROW, True).followed is True


@pytest.mark.parametrize(
    ("stored", "seen"),
    [
        (None, None),
        ("invited", "invited"),
        ("in_progress", "in_progress"),
        ("ended", "ended"),
        ("completed", "ended"),  # written before migration 0029: how the survey ended
        ("abandoned", "ended"),
        ("expired", "ended"),
    ],
)
def test_a_dossier_s_invitation_as_the_engine_reads_it(stored: str | None, seen: str) -> None:
    assert dossier_facts(replace(DOSSIER_ROW, invite_status=stored)).invite == seen


@pytest.mark.parametrize(
    ("stored", "seen"),
    [(None, None), ("in_progress", "in_progress"), ("used", "used"), ("completed", "used")],
)
def test_a_receipt_as_the_engine_sees_it(stored: str | None, seen: ReceiptStatus | None) -> None:
    row = ReceiptRow(5, "R" * 24, "1.009972", "xaydung", date(2026, 3, 31), stored)
    assert _receipt(row) == ReceiptFacts(
        5, "R" * 24, "1.009972", "xaydung", date(2026, 3, 31), seen
    )


def test_a_complaint_as_the_engine_sees_it_every_field() -> None:
    cards = (("telegram", "-4001", "77"),)
    assert _complaint(CASE_ROW, 7, "template", cards) == ComplaintFacts(
        code="PA-2026-000009",
        category="capphep",
        status="processing",
        description="Công trình lấn chiếm vỉa hè.",
        source="telegram",
        anonymous=False,
        name="Trần Văn Ba",
        phone="0912345678",
        language="en",
        created_at=AT,
        due_on=date(2026, 3, 16),
        owned=True,
        reachable=True,
        rating=4,
        duplicate_of="PA-2026-000001",
        files=2,
        history=(CaseNote(AT, "processing", "Đã nhận", "staff:1", True, "take", "Chị Lan"),),
        stored_files=(31, 32),
        address="12 Lê Lợi, Huế",
        accept_due_on=date(2026, 2, 25),
        forward_due_on=date(2026, 2, 27),
        forwarded_to="UBND phường",
        forwarded_on=date(2026, 2, 24),
        file_notes={31: "ảnh mặt tiền"},
        assignee="staff:1",
        assignee_name="Chị Lan",
        cards=cards,
        accepted_at=AT,
        reach="template",
    )


@pytest.mark.parametrize(
    ("filed_by", "asking", "owned"),
    [
        (7, 7, True),  # the chat that filed it
        (7, 8, False),  # any other chat
        (None, 0, False),  # filed by no chat (a web form, the hotline): nobody's
        (None, 7, False),
        (0, 0, True),  # a contact id 0 is still an id
    ],
)
def test_a_complaint_is_owned_only_by_the_chat_that_filed_it(
    filed_by: int | None, asking: int, owned: bool
) -> None:
    assert _complaint(replace(CASE_ROW, contact_id=filed_by), asking).owned is owned


@pytest.mark.parametrize(
    ("channel", "stopped", "reachable"),
    [("telegram", False, True), ("telegram", True, False), (None, False, False)],
)
def test_a_complaint_s_sender_is_reachable_by_a_chat_that_has_not_stopped_the_bot(
    channel: str | None, stopped: bool, reachable: bool
) -> None:
    row = replace(CASE_ROW, channel=channel, stopped=stopped)
    assert _complaint(row, 7).reachable is reachable


def _zalo_case(**fields: object) -> ComplaintRow:
    zalo: dict[str, object] = {"channel": "zalo", "external_id": "z-1", **fields}
    return replace(CASE_ROW, **zalo)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "last", "zalo", "zns", "how"),
    [
        (CASE_ROW, None, ("", True), False, "direct"),  # not Zalo: always a message
        # even when a Zalo chat has the same id (both are numbers) and is out of its window:
        (
            replace(CASE_ROW, external_id="z-1"),
            NOW - timedelta(days=8),
            ("tpl", True),
            True,
            "direct",
        ),
        (_zalo_case(external_id=None), None, ("tpl", False), True, "direct"),
        (_zalo_case(), NOW - timedelta(hours=47), ("", False), False, "direct"),  # free
        (_zalo_case(), None, ("", False), False, "direct"),  # unknown: tried directly
        (_zalo_case(), NOW - timedelta(days=3), ("", True), False, "direct"),  # billed, on
        (_zalo_case(), NOW - timedelta(days=3), ("", False), False, "held48"),  # billed, off
        (_zalo_case(), NOW - timedelta(days=3), ("tpl", False), False, "template48"),
        (_zalo_case(), NOW - timedelta(days=8), ("", True), False, "held"),  # closed
        (_zalo_case(), NOW - timedelta(days=8), ("tpl", True), False, "template"),
        # ZNS to the phone its sender agreed to, only with both the consent and a phone:
        (_zalo_case(zns_consent=True), NOW - timedelta(days=8), ("", True), True, "template"),
        (_zalo_case(zns_consent=True), NOW - timedelta(days=3), ("", False), True, "template48"),
        (_zalo_case(zns_consent=False), NOW - timedelta(days=8), ("", True), True, "held"),
        (
            _zalo_case(zns_consent=True, phone=None),
            NOW - timedelta(days=8),
            ("", True),
            True,
            "held",
        ),
        (_zalo_case(zns_consent=True), NOW - timedelta(days=8), ("", True), False, "held"),
    ],
)
def test_how_a_notice_to_a_complaint_s_sender_goes_out(
    row: ComplaintRow, last: datetime | None, zalo: tuple[str, bool], zns: bool, how: str
) -> None:
    cache = FactsCache(NOW, TZ, zalo=zalo, zns=zns)
    if last is not None:
        cache.zalo_last["z-1"] = last
    assert cache.reach_of(row) == how
    cache.cases[row.code] = row
    wanted = Lookups(case_codes=frozenset({row.code}))
    assert cache.facts(wanted, 7, admin=False, sender="u").complaints[row.code].reach == how


def _cache() -> FactsCache:
    cache = FactsCache(NOW, TZ)
    cache.cases[CASE_ROW.code] = replace(CASE_ROW, status="new", accepted_at=None)
    cache.cards[CASE_ROW.code] = (("telegram", "-4001", "77"),)
    other = replace(
        CASE_ROW, code="PA-2026-000010", contact_id=8, channel="zalo", external_id="z-9"
    )
    cache.zalo_last["z-9"] = NOW - timedelta(days=8)  # out of Zalo's window, no template
    cache.open_cases = [cache.cases[CASE_ROW.code], other]
    receipt = ReceiptFacts(5, "R" * 24, "1.009972")
    cache.by_token["R" * 24] = receipt
    cache.by_id[5] = receipt
    cache.today_counts[7] = 2
    cache.dossiers[42] = DOSSIER_ROW
    cache.dossiers[43] = replace(DOSSIER_ROW, id=43, token="T" * 24)
    cache.dossier_tokens["Tok0123456789abcdefghijk"] = 42
    cache.dossier_tokens["1234567890"] = 42
    cache.dossier_tokens["gone"] = 99  # found once, its row not kept: not told
    cache.follows[7] = [43, 99]
    return cache


def test_the_facts_of_one_event_are_what_it_asked_for_as_its_chat_sees_them() -> None:
    cache = _cache()
    wanted = Lookups(
        receipt_token="R" * 24,
        case_codes=frozenset({CASE_ROW.code, "PA-2026-999999"}),
        open_cases=True,
        complaints_today=True,
        dossier_token="1234567890",
        dossier_ids=frozenset({42, 43, 99}),
        followed_dossiers=True,
    )
    facts = cache.facts(wanted, 7, admin=True, sender="staff:1")
    assert (facts.admin, facts.sender, facts.complaints_today) == (True, "staff:1", 2)
    assert facts.receipt == ReceiptFacts(5, "R" * 24, "1.009972")
    [case] = facts.complaints.values()
    assert (case.code, case.owned, case.reach, case.cards) == (
        CASE_ROW.code,
        True,
        "direct",
        (("telegram", "-4001", "77"),),
    )
    assert facts.open_cases is not None
    # Each listed case as any other: whose it is, its room cards, how its sender is told.
    assert [(c.code, c.owned, c.cards, c.reach) for c in facts.open_cases] == [
        (CASE_ROW.code, True, (("telegram", "-4001", "77"),), "direct"),
        ("PA-2026-000010", False, (), "held"),
    ]
    assert facts.dossier == dossier_facts(DOSSIER_ROW, False)
    assert facts.dossiers == {
        42: dossier_facts(DOSSIER_ROW, False),
        43: dossier_facts(cache.dossiers[43], True),  # this chat follows it
    }
    assert facts.followed_dossiers == (dossier_facts(cache.dossiers[43], True),)
    # Another chat: not its case, its own count, follows nothing.
    other = cache.facts(wanted, 8, admin=False, sender="u8")
    assert other.complaints[CASE_ROW.code].owned is False
    assert (other.admin, other.sender, other.complaints_today) == (False, "u8", 0)
    assert other.followed_dossiers == ()
    assert other.dossiers[43].followed is False


def test_an_event_that_asks_for_nothing_is_told_nothing() -> None:
    facts = _cache().facts(Lookups(), 7, admin=False, sender="u")
    assert facts.receipt is None
    assert facts.complaints == {}
    assert facts.open_cases is None
    assert facts.complaints_today == 0
    assert (facts.dossier, facts.dossiers, facts.followed_dossiers) == (None, {}, None)


def test_the_receipt_of_the_survey_in_progress_is_found_by_its_id() -> None:
    facts = _cache().facts(Lookups(receipt_id=5), 7, admin=False, sender="u")
    assert facts.receipt is not None
    assert facts.receipt.id == 5


def test_a_batch_s_later_events_see_what_its_earlier_ones_changed() -> None:
    cache = _cache()
    code = CASE_ROW.code
    cache.case_status(code, "new")  # still new: its sender was not told yet
    assert (cache.cases[code].status, cache.cases[code].accepted_at) == ("new", None)
    cache.case_status(code, "processing")  # leaving "new": accepted now
    assert (cache.cases[code].status, cache.cases[code].accepted_at) == ("processing", NOW)
    cache.case_status(code, "resolved")  # accepted once: the first time is kept
    assert (cache.cases[code].status, cache.cases[code].accepted_at) == ("resolved", NOW)
    cache.case_assignee(code, "staff:2", "Anh Minh")
    assert (cache.cases[code].assignee, cache.cases[code].assignee_name) == ("staff:2", "Anh Minh")
    cache.case_rating(code, 5)
    assert cache.cases[code].rating == 5
    assert cache.reporter(code) == cache.cases[code]
    cache.case_status("PA-2026-999999", "processing")  # not looked up: nothing to keep
    cache.case_rating("PA-2026-999999", 1)
    cache.case_assignee("PA-2026-999999", "staff:2", None)
    assert "PA-2026-999999" not in cache.cases
    assert cache.reporter("PA-2026-999999") is None

    cache.receipt_status(5, "in_progress")
    assert cache.by_token["R" * 24].response_status == "in_progress"
    assert cache.by_id[5].response_status == "in_progress"
    cache.receipt_status(5, "completed")
    assert cache.by_id[5] == ReceiptFacts(5, "R" * 24, "1.009972", response_status="used")
    cache.receipt_status(6, "in_progress")  # not looked up by this batch: nothing to keep
    assert 6 not in cache.by_id

    cache.filed_one(7)
    cache.filed_one(8)
    assert (cache.today_counts[7], cache.today_counts[8]) == (3, 1)

    cache.followed(42, 7, True)
    assert cache.follows[7] == [42, 43, 99]  # newest first
    cache.followed(43, 7, True)
    assert cache.follows[7] == [43, 42, 99]  # followed again: first, once
    cache.followed(42, 7, False)
    assert cache.follows[7] == [43, 99]
    cache.followed(42, 9, True)
    assert cache.follows[9] == [42]
    cache.forget_follows(7)
    assert cache.follows[7] == []

    cache.invite_status(42, "in_progress")
    kept = cache.dossier(42)
    assert kept is not None
    assert kept.invite_status == "in_progress"
    cache.invite_status(99, "ended")
    assert cache.dossier(99) is None
