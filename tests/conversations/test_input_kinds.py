"""Kinds of typed input a fresh tester still saw misread (issue 13): blank-looking texts taken
as content, the task in progress asked about as if it were another, counts typed with their
unit or in words re-asked, polite refusals at a yes/no step re-asked, tracking codes typed
with other separators or mistyped and re-asked without a hint."""

from __future__ import annotations

from datetime import date

import pytest

from conversations import Choice, Command, ConversationState, Text, handle
from conversations.context import Facts
from conversations.flows import survey, tracking
from conversations.inbound import typed_choice
from conversations.normalise import clean, is_blank, yes_no
from conversations.parsing import parse_number, parse_rating
from conversations.questionnaire import load
from tests.support.engine import ENV, dossier
from tests.support.engine import walk as _walk

# --- 1. blank-looking text ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\u0301" * 12,
        "\u17b4" * 12,
        "\U0001d17b" * 12,
        "\u115f\u1160\uffa0",
        "\u2800" * 5,
        "\u3164 \u3164",
        "\u180e",
        "\u2060\u2061\u2062\u2063\u2064",
        "\ufe0f\ufe0e",
        "\U000e0068\U000e0069",
        "\u034f\u034f",
        " \u0301 \u20dd ",
        "\u0903\u0903",
    ],
    ids=lambda t: "+".join(f"U+{ord(c):04X}" for c in t[:3]),
)
def test_blank_looking_texts_are_blank(text: str) -> None:
    assert is_blank(text)
    assert clean(text) == ""


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("tha\u0301ng", "tháng"),
        ("\u0301Nhà", "Nhà"),
        ("a \u0301 b", "a b"),
        ("\u2800 ổ gà", "ổ gà"),
        ("👍", "👍"),
        ("...", "..."),
        ("\u3164Lan", "Lan"),
    ],
)
def test_a_text_with_something_printed_keeps_it(text: str, kept: str) -> None:
    assert not is_blank(text)
    assert clean(text) == kept
    assert clean(kept) == kept


# --- 2. the same task asked for again -------------------------------------------------------


IN_PROGRESS = {
    "lookup waiting for a code": (Command("tracuu"),),
    "lookup waiting for a phone": (Command("tracuu", "PA-2026-000001"),),
    "complaint": (Command("phananh"), Choice("c.cat:capphep")),
    "survey": (Command("khaosat"), Choice("consent:yes")),
}
SAME = {
    "lookup waiting for a code": Command("tracuu", "PA-2026-379819"),
    "lookup waiting for a phone": Command("tracuu", "pa 2026 379819"),
    "complaint": Command("phananh"),
    "survey": Command("khaosat"),
}


@pytest.mark.parametrize("task", sorted(IN_PROGRESS))
def test_the_same_task_asked_for_again_never_asks_keep_or_drop(task: str) -> None:
    state = _walk(*IN_PROGRESS[task])
    outcome = handle(state, SAME[task], ENV)
    assert "input.switch_ask" not in [r.key for r in outcome.replies]
    assert outcome.state is not None
    assert outcome.state.flow == state.flow


@pytest.mark.parametrize("arg", ["PA-2026-379819", "pa 2026 379819", "", "PA-2026-37981"])
def test_tracuu_in_a_waiting_lookup_looks_up(arg: str) -> None:
    state = _walk(Command("tracuu"))
    outcome = handle(state, Command("tracuu", arg), ENV)
    assert outcome.state is not None
    if tracking.find_code(arg):
        assert [r.key for r in outcome.replies] == ["lookup.ask_phone"]
        assert outcome.state.data.get("code") == "PA-2026-379819"
    else:
        assert outcome.replies[-1].key == "lookup.ask_code"


# --- 3. counts typed with their unit or in words --------------------------------------------

COUNTS = [
    ("4 lần", "4"),
    ("hai lần", "2"),
    ("2 lần", "2"),
    ("một lần", "1"),
    ("Ba lần ạ", "3"),
    ("nhiều lần", "4"),
    ("lần 2", "2"),
    ("lần thứ hai", "2"),
    ("bốn lần rồi", "4"),
    ("7 lần", "4"),
    ("2 times", "2"),
    ("3x", "3"),
]


@pytest.mark.parametrize("form", ["sipas-2640", "sipas-1001"])
@pytest.mark.parametrize(("typed", "code"), [*COUNTS, ("không lần nào", "0"), ("0 lần", "0")])
def test_a_count_typed_at_the_trips_question_is_its_option(
    form: str, typed: str, code: str
) -> None:
    step = next(s for s in load(form).steps if s.id == "trips")
    state = ConversationState(
        "vi", survey.FLOW, step.id, {"rid": 1, "ans": {}, "hist": [], "form": form}
    )
    outcome = handle(state, Text(typed), ENV)
    saved = [c for c in outcome.changes if c.kind == "save_answer"]
    if code not in step.options:  # 2640 has no "did not come"
        assert saved == []
        assert outcome.replies[0].key.startswith("survey.invalid")
        return
    assert [(c.item, c.value) for c in saved] == [("trips", code)], typed


@pytest.mark.parametrize("form", ["sipas-2640", "sipas-1001"])
@pytest.mark.parametrize(("typed", "code"), [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"),
                                             ("０", "0"), ("0", "0"), ("3.", "3")])  # fmt: skip
def test_a_bare_number_at_the_trips_question_is_that_count(
    form: str, typed: str, code: str
) -> None:
    """The menu's place of each count is the count itself (1…4, "did not come" last), so a
    bare "3" means 3 times whether the citizen read the menu's numbers or counted trips."""
    step = next(s for s in load(form).steps if s.id == "trips")
    assert step.options[:4] == ("1", "2", "3", "4")
    state = ConversationState(
        "vi", survey.FLOW, step.id, {"rid": 1, "ans": {}, "hist": [], "form": form}
    )
    outcome = handle(state, Text(typed), ENV)
    saved = [(c.item, c.value) for c in outcome.changes if c.kind == "save_answer"]
    if code not in step.options:
        assert saved == []
        assert outcome.replies[0].key.startswith("survey.invalid")
    else:
        assert saved == [("trips", code)], typed


# --- 4. polite yes and no at every yes/no step ----------------------------------------------

REFUSALS = ["chưa", "chưa ạ", "không ạ, cảm ơn", "thôi", "không muốn", "để sau", "Dạ thôi ạ"]
AGREEMENTS = ["ok", "được", "ừ", "đồng ý ạ", "vâng ạ", "dạ được", "Ok, cảm ơn"]


@pytest.mark.parametrize(("typed", "meant"), [*((t, "no") for t in REFUSALS),
                                               *((t, "yes") for t in AGREEMENTS)])  # fmt: skip
def test_polite_forms_say_yes_or_no(typed: str, meant: str) -> None:
    assert yes_no(typed) == meant
    asked = handle(_walk(), Command("khaosat"), ENV)
    assert typed_choice(typed, asked.replies) == f"consent:{meant}"
    outcome = handle(asked.state, Text(typed), ENV)  # type: ignore[arg-type]
    consent = [c for c in outcome.changes if c.kind == "record_consent"]
    assert [c.given for c in consent] == [meant == "yes"]


@pytest.mark.parametrize("typed", ["cảm ơn", "chưa biết", "không biết", "để xem"])
def test_what_is_neither_stays_unread(typed: str) -> None:
    assert yes_no(typed) is None


# --- 5. tracking codes as command arguments -------------------------------------------------


@pytest.mark.parametrize(
    "arg",
    ["pa 2026 379819", "PA/2026/379819", "pa:2026:379819", "PA_2026_379819", "Pa.2026.379819",
     "PA 2026 / 379819", "pa#2026#379819", "ＰＡ－２０２６－３７９８１９", "pa\u20132026\u2013379819"],
)  # fmt: skip
def test_a_tracking_code_however_separated_is_read(arg: str) -> None:
    assert tracking.find_code(arg) == "PA-2026-379819"
    outcome = handle(_walk(), Command("tracuu", arg), ENV)
    assert [r.key for r in outcome.replies] == ["lookup.ask_phone"]


@pytest.mark.parametrize("arg", ["PA-2026-37981", "PA-26-379819", "2026379819", "pa2026"])
def test_a_malformed_code_gets_the_format_with_an_example(arg: str) -> None:
    outcome = handle(_walk(), Command("tracuu", arg), ENV)
    assert [r.key for r in outcome.replies] == ["lookup.bad_code", "lookup.ask_code"]


# --- the same kinds elsewhere: ratings with a unit, staff and dossier command arguments -----


@pytest.mark.parametrize("form", ["sipas-2640", "sipas-1001"])
@pytest.mark.parametrize(
    ("typed", "level"), [("4 điểm", 4), ("5 sao", 5), ("mức 3", 3), ("Dạ 2 điểm ạ", 2)]
)
def test_a_rating_typed_with_its_unit_is_the_level(form: str, typed: str, level: int) -> None:
    step = next(s for s in load(form).steps if s.kind == "rating")
    state = ConversationState(
        "vi", survey.FLOW, step.id, {"rid": 1, "ans": {}, "hist": [], "form": form}
    )
    outcome = handle(state, Text(typed), ENV)
    saved = [(c.item, c.value) for c in outcome.changes if c.kind == "save_answer"]
    assert saved == [(step.id, level)]


@pytest.mark.parametrize("arg", ["PA-2026-37981", "pa 2026 3798", "PA2026"])
def test_hoso_with_a_mistyped_code_shows_the_format(arg: str) -> None:
    outcome = handle(_walk(), Command("hoso", arg), ENV, Facts(admin=True, sender="1"))
    assert [r.key for r in outcome.replies] == ["staff.unknown_case", "lookup.bad_code"]


def test_hoso_with_an_unknown_filter_gets_no_code_hint() -> None:
    outcome = handle(_walk(), Command("hoso", "linh tinh"), ENV, Facts(admin=True, sender="1"))
    assert [r.key for r in outcome.replies] == ["staff.unknown_case"]


FOLLOWED = dossier(
    code="000.00.10.H12-261130-0001",
    received_on=date(2026, 11, 2),
    due_on=date(2026, 11, 30),
    followed=True,
)


@pytest.mark.parametrize(
    "arg",
    ["000.00.10.H12-261130-0001", "000.00.10.h12-261130-0001", "000 00 10 H12 261130 0001",
     "０００．００．１０．Ｈ１２－２６１１３０－0001"],
)  # fmt: skip
def test_huytheodoi_takes_the_code_however_separated(arg: str) -> None:
    facts = Facts(sender="1", followed_dossiers=(FOLLOWED,))
    outcome = handle(_walk(), Command("huytheodoi", arg), ENV, facts)
    assert [c.kind for c in outcome.changes] == ["unfollow_dossier"]


@pytest.mark.parametrize("typed", ["-1", "- 2", "−3", "+4", "–5", "－1"])
def test_a_signed_number_is_no_rating_and_no_menu_place(typed: str) -> None:
    """A fresh tester's "-1" was stored as level 1 ("Rất không hài lòng")."""
    assert parse_number(typed) is None
    assert parse_rating(typed, {n: [str(n)] for n in range(1, 6)}) is None
