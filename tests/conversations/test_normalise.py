"""Tables: what citizens' keyboards and phones really send, read as what they mean.

Command arguments in NFC and NFD; phone numbers pasted with bidi marks and variation
selectors; names and descriptions made of invisible characters; tracking codes in full-width
digits. Each input goes through the engine as a channel would hand it over.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest

from conversations import (
    Command,
    ComplaintFacts,
    ConversationState,
    Env,
    Facts,
    OpenComplaint,
    RequestJob,
    SendFile,
    Text,
    handle,
)
from conversations.flows import complaint, tracking
from conversations.needs import needs
from conversations.normalise import clean, fold
from conversations.periods import parse_date

ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=lambda: 7)
ADMIN = Facts(admin=True, sender="a1")
IDLE = ConversationState("vi")
CODE = "PA-2026-000123"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _job(outcome_changes: tuple[object, ...]) -> RequestJob:
    [job] = [c for c in outcome_changes if isinstance(c, RequestJob)]
    return job


@pytest.mark.parametrize(
    ("arg", "start", "end"),
    [
        ("tháng", date(2026, 11, 1), date(2026, 11, 30)),
        ("Tháng", date(2026, 11, 1), date(2026, 11, 30)),
        ("quý", date(2026, 10, 1), date(2026, 11, 30)),
        ("năm", date(2026, 1, 1), date(2026, 11, 30)),
        ("6 tháng", date(2026, 7, 1), date(2026, 11, 30)),
        ("tuần", date(2026, 11, 24), date(2026, 11, 30)),
        ("01/11/2026..30/11/2026", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-11-01 đến 2026-11-30", date(2026, 11, 1), date(2026, 11, 30)),
        ("１/１１/２０２６..３０/１１/２０２６", date(2026, 11, 1), date(2026, 11, 30)),
        ("30/11/2026", date(2026, 11, 30), date(2026, 11, 30)),
        ("2026-11-02", date(2026, 11, 2), date(2026, 11, 2)),
    ],
    ids=["month", "month-capital", "quarter", "year", "half-year", "week", "dmy-range",
         "iso-range-den", "full-width-digits", "one-day-dmy", "one-day-iso"],
)  # fmt: skip
@pytest.mark.parametrize(
    "form",
    [str, nfd, lambda a: f"\u200b{a}\u200e", lambda a: f" {nfd(a).upper()} "],
    ids=["nfc", "nfd", "invisible", "nfd-upper-padded"],
)
def test_baocao_period_in_any_form(arg: str, start: date, end: date, form: object) -> None:
    assert callable(form)
    outcome = handle(IDLE, Command("baocao", form(arg)), ENV, ADMIN)
    assert [r.key for r in outcome.replies] == ["report.working"]
    job = _job(outcome.changes)
    assert dict(job.args) == {"from": start.isoformat(), "to": end.isoformat()}


YEAR = {"from": "2026-01-01", "to": "2026-11-30"}
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.mark.parametrize(
    ("arg", "args"),
    [("đầy đủ", {"full": "yes", **YEAR}), (nfd("đầy đủ"), {"full": "yes", **YEAR}),
     ("ĐẦY ĐỦ", {"full": "yes", **YEAR}), ("day du", {"full": "yes", **YEAR}),
     ("full", {"full": "yes", **YEAR}), ("\u200bđầy\u00a0đủ", {"full": "yes", **YEAR}),
     ("", {"full": "no", **YEAR}), ("tháng", {"full": "no", **NOVEMBER}),
     (nfd("Tháng"), {"full": "no", **NOVEMBER}),
     ("đầy đủ tháng", {"full": "yes", **NOVEMBER}),
     (nfd("đầy đủ 01/11/2026..30/11/2026"), {"full": "yes", **NOVEMBER}),
     ("30/11/2026", {"full": "no", "from": "2026-11-30", "to": "2026-11-30"})],
    ids=["nfc", "nfd", "upper", "bare", "english", "invisible-nbsp", "none", "month",
         "month-nfd", "full-month", "full-range-nfd", "one-day"],
)  # fmt: skip
def test_xuatdulieu_full_and_period_in_any_form(arg: str, args: dict[str, str]) -> None:
    outcome = handle(IDLE, Command("xuatdulieu", arg), ENV, ADMIN)
    assert dict(_job(outcome.changes).args) == args


@pytest.mark.parametrize("command", ["baocao", "xuatdulieu"])
@pytest.mark.parametrize(
    "arg",
    ["tóm tắt", "tuầnn", "abc", "31/02/2026", "30/11", "2026-13-01", "01/11/2026..xx",
     "tháng trước", "đầy đủ hôm qua"],
)  # fmt: skip
@pytest.mark.parametrize("form", [str, nfd], ids=["nfc", "nfd"])
def test_an_argument_that_is_no_period_gets_the_bad_period_message(
    command: str, arg: str, form: object
) -> None:
    assert callable(form)
    outcome = handle(IDLE, Command(command, form(arg)), ENV, ADMIN)
    assert [r.key for r in outcome.replies] == ["report.input5_bad_period"]
    assert ("command", command) in outcome.replies[0].params
    assert not [c for c in outcome.changes if isinstance(c, RequestJob)]


def _case(**kw: object) -> ComplaintFacts:
    values: dict[str, object] = {
        "code": CODE, "category": "khac", "status": "new", "description": "Nội dung.",
        "source": "chat", "anonymous": False, "name": "Lan", "phone": "0912345678",
        "language": "vi", "created_at": ENV.now, "due_on": date(2026, 12, 10), "owned": False,
        "reachable": True,
    }  # fmt: skip
    values.update(kw)
    return ComplaintFacts(**values)  # type: ignore[arg-type]


CODES = [
    CODE,
    nfd(CODE),
    "pa-2026-000123",
    "ＰＡ－２０２６－０００１２３",  # full-width letters, dashes and digits
    "PA-２０２６-０００１２３",  # full-width digits only
    "PA–2026–000123",  # en dashes from a word processor
    "PA-٢٠٢٦-٠٠٠١٢٣",  # Arabic-Indic digits
    "\u202aPA-2026-000123\u202c",  # inside a bidi embedding
    "mã của tôi: PA-2026-000123 ạ",
]
CODE_IDS = ["ascii", "nfd", "lower", "full-width", "full-width-digits", "en-dash",
            "arabic-indic", "bidi", "in-a-sentence"]  # fmt: skip


@pytest.mark.parametrize("typed", CODES, ids=CODE_IDS)
def test_tracuu_and_hoso_read_a_code_in_any_digits(typed: str) -> None:
    assert tracking.find_code(typed) == CODE
    command = Command("tracuu", typed)
    assert needs(IDLE, command).case_codes == {CODE}
    mine = Facts(complaints={CODE: _case(owned=True)})
    shown = handle(IDLE, command, ENV, mine)
    assert shown.replies[0].key not in ("lookup.ask_code", "lookup.bad_code")
    staff = Command("hoso", typed)
    assert needs(IDLE, staff, admin=True).case_codes == {CODE}
    card = handle(IDLE, staff, ENV, Facts(admin=True, complaints={CODE: _case()}))
    assert card.replies[0].key == "staff.case"


@pytest.mark.parametrize("typed", CODES, ids=CODE_IDS)
def test_a_code_in_other_digits_is_no_failed_lookup(typed: str) -> None:
    asking = ConversationState("vi", tracking.LOOKUP, "l.code", {})
    event = Text(typed)
    facts = Facts(complaints={CODE: _case()})
    assert needs(asking, event).case_codes == {CODE}
    outcome = handle(asking, event, ENV, facts)
    assert [r.key for r in outcome.replies] == ["lookup.ask_phone"]
    assert outcome.state is not None
    assert "misses" not in str(outcome.state.data)


PHONES = [
    "0912345678",
    "\u202d0912 345 678\u202c",  # LRO … PDF, as phones paste from contacts
    "\u20680912345678\u2069",  # FSI … PDI
    "\u200e+84 912 345 678",  # LRM
    "0912\ufe0f345\ufe0e678",  # variation selectors
    "\u200b0912.345.678\u200b",  # zero width spaces
    "０９１２３４５６７８",  # full-width digits
    "\ufeff(+84) 912-345-678",  # a BOM in front
]
PHONE_IDS = ["plain", "lro-pdf", "fsi-pdi", "lrm-plus84", "variation-selectors",
             "zero-width", "full-width", "bom"]  # fmt: skip


def _draft_state(step: str, **kw: object) -> ConversationState:
    draft = complaint.Draft(draft=1, cat="khac", text="Một nội dung đủ dài.", anon=False)
    for name, value in kw.items():
        setattr(draft, name, value)
    return ConversationState("vi", complaint.FLOW, step, draft.dump())


@pytest.mark.parametrize("typed", PHONES, ids=PHONE_IDS)
def test_a_pasted_phone_number_is_the_plain_number(typed: str) -> None:
    outcome = handle(_draft_state(complaint.PHONE, name="Lan"), Text(typed), ENV)
    assert outcome.state is not None
    assert outcome.state.step == complaint.ADDRESS  # the law's address comes next
    assert complaint.Draft.load(outcome.state.data).phone == "0912345678"
    looking = ConversationState("vi", tracking.LOOKUP, "l.phone", {"code": CODE})
    found = handle(looking, Text(typed), ENV, Facts(complaints={CODE: _case()}))
    assert found.replies[0].key != "lookup.refused"


BLANK_LOOKING = [
    "\u200b",
    "\u200b\u200b\u200b",
    "\u200d \u200b",
    "\u2800\u2800",  # braille blank
    "\u3164",  # Hangul filler
    "\ufeff\u200e\u200f",
    "\u00a0\u3000 ",
    "\u2068\u2069",
    "\ufe0f",
]
BLANK_IDS = ["zwsp", "zwsp-3", "zwj-space", "braille-blank", "hangul-filler", "bom-marks",
             "nbsp-ideographic", "isolates", "variation-selector"]  # fmt: skip


@pytest.mark.parametrize("typed", BLANK_LOOKING, ids=BLANK_IDS)
@pytest.mark.parametrize("step", [complaint.NAME, complaint.TEXT], ids=["name", "description"])
def test_a_name_or_description_of_invisible_characters_is_refused(typed: str, step: str) -> None:
    state = _draft_state(step, text=None)
    outcome = handle(state, Text(typed), ENV)
    assert outcome.state is not None
    assert (outcome.state.step, outcome.state.data) == (step, state.data)
    assert outcome.replies[0].key == "input.empty"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Nguyễn\u202eVăn An", "NguyễnVăn An"),
        ("\u202bTrần Thị Bình\u202c", "Trần Thị Bình"),
        (nfd("Lê Thị Hồng"), "Lê Thị Hồng"),
        ("Phạm\u200b Văn\u00a0Đức", "Phạm Văn Đức"),
    ],
    ids=["rlo-inside", "rle-around", "nfd", "zwsp-nbsp"],
)
def test_a_name_reaches_the_staff_card_without_direction_controls(typed: str, stored: str) -> None:
    named = handle(_draft_state(complaint.NAME), Text(typed), ENV)
    assert named.state is not None
    assert complaint.Draft.load(named.state.data).name == stored
    confirm = _draft_state(complaint.CONFIRM, name=stored, phone="0912345678")
    filed = handle(confirm, Text("gửi"), ENV, Facts())
    [opened] = [c for c in filed.changes if isinstance(c, OpenComplaint)]
    assert opened.name == stored
    cards = [c for c in filed.changes if c.kind == "notify"]
    assert cards
    assert all("\u202e" not in repr(c) for c in cards)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (nfd("tháng"), "tháng"),
        ("a\u200bb", "ab"),
        ("  nhiều    khoảng   trắng  ", "nhiều khoảng trắng"),
        ("dòng 1\r\n\r\n\r\n\r\ndòng 2", "dòng 1\n\ndòng 2"),
        ("０９１２", "0912"),
        ("\u2800", ""),
        ("a\x00b", "ab"),
    ],
    ids=["nfd", "zwsp", "spaces", "blank-lines", "full-width", "braille-blank", "nul"],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned
    assert clean(cleaned) == cleaned


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Dạ, TÔI ĐỒNG Ý ạ 👍", "toi dong y"),
        (nfd("Không đồng ý"), "khong dong y"),
        ("Vâng ạ", "vang"),
        ("dạ", "da"),
        ("Đã nhận", "da nhan"),
        ("⑤", "5"),
        ("Bỏ qua ▶", "bo qua"),
    ],
    ids=["polite-upper-emoji", "nfd", "vang-a", "lone-da", "da-is-a-word", "circled", "arrow"],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@pytest.mark.parametrize(
    ("text", "day"),
    [("30/11/2026", date(2026, 11, 30)), ("2026-11-30", date(2026, 11, 30)),
     ("1/2/2026", date(2026, 2, 1)), ("３０/１１/２０２６", date(2026, 11, 30)),
     ("31/11/2026", None), ("11/30/2026", None), ("hôm qua", None)],
    ids=["dmy", "iso", "short-dmy", "full-width", "no-such-day", "month-first", "words"],
)  # fmt: skip
def test_parse_date(text: str, day: date | None) -> None:
    assert parse_date(text) == day


def test_a_caption_kept_with_a_file_reaches_staff_with_it() -> None:
    case = _case(stored_files=(3, 4), file_notes={4: "Ảnh chụp sáng 28/11"})
    shown = handle(IDLE, Command("hoso", CODE), ENV, Facts(admin=True, complaints={CODE: case}))
    sent = [(c.file_id, c.caption) for c in shown.changes if isinstance(c, SendFile)]
    assert sent == [(3, CODE), (4, f"{CODE}: Ảnh chụp sáng 28/11")]
