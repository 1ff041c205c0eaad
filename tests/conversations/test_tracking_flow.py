"""The citizen's side after filing, on the pure functions (``conversations/flows/tracking.py``).

Table-driven: a lookup by code (the chat that filed it, anyone else with the phone, the daily
limit on wrong phones), the lookup's own steps, a rating, and what a citizen sends when staff
asked for more. The transcripts (``tests/transcripts/tracking``) show the same as the chat sees
it; these pin what a transcript does not show: the state each answer leaves (flow, step, what
is kept in it, its deadline), the buttons' ids, and every field of the change written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from conversations import handle
from conversations.context import ComplaintFacts, Facts
from conversations.daily_counts import LOOKUP_MISSES, DailyCounts
from conversations.effects import (
    ConversationState,
    FileRef,
    Notify,
    Outcome,
    RateComplaint,
    Reply,
    UpdateComplaint,
)
from conversations.events import Attachment, Choice, Inbound, Text
from conversations.flows import menu, tracking
from conversations.flows.cards import citizen_view, staff_card
from conversations.limits import MAX_FILE_NOTE_CHARS, MAX_NOTE_CHARS
from tests.support.engine import ENV, complaint

CODE = "PA-2026-000123"
AGAIN = "menu.again"
#: Somewhere else in a task, with a deadline: what a lookup must not carry along.
BUSY = ConversationState(
    language="vi",
    flow="complaint",
    step="text",
    data={"category": "capphep", "files": []},
    expires_at=datetime(2026, 12, 1, tzinfo=UTC),
)
AT_CODE = ConversationState(language="vi", flow=tracking.LOOKUP, step="l.code")
AT_PHONE = ConversationState(
    language="vi", flow=tracking.LOOKUP, step="l.phone", data={"code": CODE}
)
MINE = complaint(owned=True, status="in_progress")
THEIRS = complaint(owned=False, phone="0912345678")
ANONYMOUS = complaint(owned=False, phone=None, anonymous=True, name=None)


def _facts(*cases: ComplaintFacts) -> Facts:
    return Facts(complaints={case.code: case for case in cases})


def _keys(outcome: Outcome) -> tuple[str, ...]:
    return tuple(reply.key for reply in outcome.replies)


def _buttons(outcome: Outcome) -> tuple[str, ...]:
    return tuple(choice.id for reply in outcome.replies for choice in reply.choices)


def _misses(state: ConversationState, count: int) -> ConversationState:
    return replace(state, daily=DailyCounts(ENV.today.isoformat(), {LOOKUP_MISSES: count}))


def _idle(state: ConversationState) -> None:
    assert (state.flow, state.step, state.data, state.expires_at) == (None, None, {}, None)


# --- /tracuu [code] -------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    name: str
    arg: str
    cases: tuple[ComplaintFacts, ...]
    replies: tuple[str, ...]
    #: The step the chat waits at afterwards; None: idle again.
    step: str | None
    buttons: tuple[str, ...] = ()
    state: ConversationState = BUSY


LOOKUPS = [
    Lookup("no code", "", (), ("lookup.ask_code",), "l.code", ("l.code:cancel",)),
    Lookup(
        "no code read",
        "PA-2026-12345",
        (),
        ("lookup.bad_code", "lookup.ask_code"),
        "l.code",
        ("l.code:cancel",),
    ),
    Lookup(
        "another's case", CODE, (THEIRS,), ("lookup.ask_phone",), "l.phone", ("l.phone:cancel",)
    ),
    # Unknown and known codes are asked the same: the answer tells nothing of which exist.
    Lookup("no such case", CODE, (), ("lookup.ask_phone",), "l.phone", ("l.phone:cancel",)),
    Lookup("anonymous case", CODE, (ANONYMOUS,), ("lookup.refused", AGAIN), None),
    Lookup(
        "too many wrong phones today",
        CODE,
        (THEIRS,),
        ("lookup.too_many", AGAIN),
        None,
        state=_misses(BUSY, tracking.MAX_LOOKUP_MISSES),
    ),
    Lookup(
        "one wrong phone short of the limit",
        CODE,
        (THEIRS,),
        ("lookup.ask_phone",),
        "l.phone",
        ("l.phone:cancel",),
        state=_misses(BUSY, tracking.MAX_LOOKUP_MISSES - 1),
    ),
]


@pytest.mark.parametrize("case", LOOKUPS, ids=[c.name for c in LOOKUPS])
def test_lookup(case: Lookup) -> None:
    outcome = tracking.lookup(case.state, ENV, _facts(*case.cases), case.arg)
    assert _keys(outcome) == case.replies
    assert outcome.state is not None
    if case.step is None:
        _idle(outcome.state)
        assert outcome.replies[-1].choices == menu.again().choices
        return
    assert _buttons(outcome) == case.buttons
    assert (outcome.state.flow, outcome.state.step) == (tracking.LOOKUP, case.step)
    # Nothing of the task it came from, no deadline: a lookup waits as long as it takes.
    expected = {"code": CODE} if case.step == "l.phone" else {}
    assert outcome.state.data == expected
    assert outcome.state.expires_at is None
    assert tracking.prompt(outcome.state)[0].key == case.replies[-1]


def test_the_chat_that_filed_it_sees_it_at_once() -> None:
    outcome = tracking.lookup(BUSY, ENV, _facts(MINE), f"mã {CODE}")
    assert outcome.replies == (*citizen_view(MINE, ENV), menu.again())
    assert outcome.state is not None
    _idle(outcome.state)


# --- the lookup's steps ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    state: ConversationState
    event: Inbound
    replies: tuple[str, ...]
    #: The step afterwards; "same": the state unchanged; None: idle.
    step: str | None = "same"
    ack: str | None = None
    cases: tuple[ComplaintFacts, ...] = (THEIRS,)
    misses: int = 0


STEPS = [
    Step("cancel at the code", AT_CODE, Choice("l.code:cancel"), ("cancel.done", AGAIN), None, "close"),
    Step("cancel at the phone", AT_PHONE, Choice("l.phone:cancel"), ("cancel.done", AGAIN), None, "close"),
    Step("another button", AT_CODE, Choice("menu:survey"), ("common.please_choose", "lookup.ask_code")),
    Step("a file at the phone", AT_PHONE, Attachment("photo", 10, "f"), ("common.please_choose", "lookup.ask_phone")),
    Step("no code in the text", AT_CODE, Text("hồ sơ của tôi"), ("lookup.bad_code", "lookup.ask_code")),
    Step("a code typed", AT_CODE, Text(CODE), ("lookup.ask_phone",), "l.phone"),
    Step("no phone in the text", AT_PHONE, Text("không nhớ"), ("complaint.bad_phone", "lookup.ask_phone")),
    Step("the right phone", AT_PHONE, Text("0912 345 678"), ("", AGAIN), None),
    Step("a wrong phone", AT_PHONE, Text("0987654321"), ("lookup.refused", AGAIN), None, misses=1),
    Step("no such case", AT_PHONE, Text("0912345678"), ("lookup.refused", AGAIN), None, cases=(), misses=1),
]  # fmt: skip


@pytest.mark.parametrize("case", STEPS, ids=[c.name for c in STEPS])
def test_lookup_steps(case: Step) -> None:
    outcome = tracking.handle_lookup(case.state, case.event, ENV, _facts(*case.cases))
    if case.replies[0]:
        assert _keys(outcome) == case.replies
    else:  # the case as its reporter sees it
        assert outcome.replies == (*citizen_view(THEIRS, ENV), menu.again())
    assert outcome.ack == case.ack
    after = outcome.state
    assert after is not None
    if case.step == "same":
        assert after == case.state
    elif case.step is None:
        _idle(after)
    else:
        assert (after.flow, after.step, after.data) == (tracking.LOOKUP, case.step, {"code": CODE})
    assert after.daily.today(ENV.today, LOOKUP_MISSES) == case.misses


# --- rating an answered case ----------------------------------------------------------

RESOLVED = complaint(owned=True, status="resolved")


@pytest.mark.parametrize(
    ("case", "value", "reply"),
    [
        (RESOLVED, "5", "rating.thanks"),
        (RESOLVED, "1", "rating.thanks"),
        (RESOLVED, "0", "rating.not_now"),
        (RESOLVED, "6", "rating.not_now"),
        (RESOLVED, "٥", "rating.not_now"),  # a digit of another script: no button sends it
        (RESOLVED, "x", "rating.not_now"),
        (complaint(owned=True, status="in_progress"), "5", "rating.not_now"),
        (replace(RESOLVED, rating=4), "5", "rating.already"),
        # not this chat's case, or none: the answer an unknown code gets
        (replace(RESOLVED, owned=False), "5", "lookup.refused"),
        (None, "5", "lookup.refused"),
    ],
)
def test_rate(case: ComplaintFacts | None, value: str, reply: str) -> None:
    facts = _facts(case) if case else Facts()
    outcome = tracking.rate(BUSY, ENV, facts, CODE, value)
    assert outcome.state == BUSY
    # Every answer, thanks or refusal, offers the menu after it: no dead end.
    assert _keys(outcome) == (reply, AGAIN)
    if reply == "rating.thanks":
        assert outcome.changes == (RateComplaint(CODE, int(value), ENV.now),)
    else:
        assert outcome.changes == ()


def test_rating_buttons() -> None:
    choices = tracking.rating_choices(CODE)
    assert [c.id for c in choices] == [f"rate:{CODE}:{v}" for v in (1, 2, 3, 4, 5)]
    assert {c.label for c in choices} == {"survey.level"}
    assert [dict(c.params)["n"] for c in choices] == [1, 2, 3, 4, 5]
    assert [dict(c.params)["label"].key for c in choices] == [f"scale.{v}" for v in range(1, 6)]  # type: ignore[union-attr]


# --- sending what staff asked for -----------------------------------------------------

WAITING = complaint(owned=True, status="waiting_citizen", files=1)
SUPPLEMENTING = ConversationState(
    language="vi", flow=tracking.SUPPLEMENT, step="sup.text", data={"case": CODE, "files": []}
)
SUPPLEMENT_BUTTONS = ("sup.text:done", "sup.text:cancel")


@pytest.mark.parametrize(
    ("case", "replies"),
    [
        (WAITING, ("supplement.ask",)),
        (replace(WAITING, status="in_progress"), ("supplement.not_now", AGAIN)),
        (replace(WAITING, owned=False), ("lookup.refused", AGAIN)),
        (None, ("lookup.refused", AGAIN)),
    ],
)
def test_supplement_starts_for_the_reporter_only_while_staff_wait(
    case: ComplaintFacts | None, replies: tuple[str, ...]
) -> None:
    outcome = tracking.supplement(BUSY, ENV, _facts(case) if case else Facts(), CODE)
    assert _keys(outcome) == replies
    assert outcome.changes == ()
    if case is WAITING:
        assert outcome.state == replace(
            BUSY, flow=tracking.SUPPLEMENT, step="sup.text", data={"case": CODE, "files": []},
            expires_at=None,
        )  # fmt: skip
        assert _buttons(outcome) == SUPPLEMENT_BUTTONS
        assert outcome.replies[0].params == (("n", 0),)
    else:
        assert outcome.state == BUSY


def _supplement(
    event: Inbound, state: ConversationState = SUPPLEMENTING, case: ComplaintFacts | None = WAITING
) -> Outcome:
    return tracking.handle_supplement(state, event, ENV, _facts(case) if case else Facts())


def _with_files(*files: dict[str, object]) -> ConversationState:
    return replace(SUPPLEMENTING, data={"case": CODE, "files": list(files)})


PHOTO = {"media": "photo", "size": 2048, "file_id": "ph1", "name": "a.jpg", "mime": "image/jpeg"}


def test_a_file_is_kept_with_its_name_and_type_clipped() -> None:
    event = Attachment("document", 4096, "doc1", "n" * 300 + ".pdf", "application/" + "x" * 200)
    outcome = _supplement(event, _with_files(PHOTO))
    assert _keys(outcome) == ("supplement.ask",)
    assert outcome.replies[0].params == (("n", 2),)
    assert _buttons(outcome) == SUPPLEMENT_BUTTONS
    assert outcome.state is not None
    assert outcome.state.data == {
        "case": CODE,
        "files": [
            PHOTO,
            {"media": "document", "size": 4096, "file_id": "doc1",
             "name": "n" * 200, "mime": ("application/" + "x" * 200)[:100], "note": ""},
        ],
    }  # fmt: skip
    assert (outcome.state.flow, outcome.state.step) == (tracking.SUPPLEMENT, "sup.text")


def test_a_file_s_caption_is_kept_with_it_and_goes_to_staff() -> None:
    """A photo sent with a caption while staff wait for more: the caption is the file's note
    (as at a complaint's files step), clipped to its limit, and reaches staff with the file."""
    captioned = Attachment("photo", 2048, "ph2", "b.jpg", "image/jpeg", caption="  Mặt sau  ")
    kept = _supplement(captioned, _with_files(PHOTO)).state
    assert kept is not None
    assert kept.data["files"] == [
        PHOTO,
        {"media": "photo", "size": 2048, "file_id": "ph2", "name": "b.jpg",
         "mime": "image/jpeg", "note": "  Mặt sau  "[:MAX_FILE_NOTE_CHARS]},
    ]  # fmt: skip
    long = replace(captioned, caption="c" * (MAX_FILE_NOTE_CHARS + 5))
    clipped = _supplement(long, SUPPLEMENTING).state
    assert clipped is not None
    assert clipped.data["files"] == [
        {"media": "photo", "size": 2048, "file_id": "ph2", "name": "b.jpg",
         "mime": "image/jpeg", "note": "c" * MAX_FILE_NOTE_CHARS},
    ]  # fmt: skip
    done = _supplement(Choice("sup.text:done"), kept)
    update = done.changes[0]
    assert isinstance(update, UpdateComplaint)
    assert update.files == (
        FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),
        FileRef("photo", 2048, "ph2", "b.jpg", "image/jpeg", "  Mặt sau  "),
    )


def test_a_refused_file_is_said_and_not_kept() -> None:
    state = _with_files(PHOTO)
    outcome = _supplement(Attachment("other", 0, "", "", ""), state)
    assert _keys(outcome) == ("complaint.file_type", "supplement.ask")
    assert outcome.replies[1].params == (("n", 1),)
    assert outcome.state == state


@dataclass(frozen=True)
class Supplement:
    name: str
    event: Inbound
    replies: tuple[str, ...]
    state: ConversationState = SUPPLEMENTING
    case: ComplaintFacts | None = WAITING
    #: The state is left as it was (the question is asked again).
    stays: bool = True
    ack: str | None = None
    files_said: int = 0
    extra: dict[str, object] = field(default_factory=dict)


TOO_LONG = "x" * (MAX_NOTE_CHARS + 1)
SUPPLEMENTS = [
    Supplement("cancel", Choice("sup.text:cancel"), ("cancel.done", AGAIN), stays=False, ack="close"),
    Supplement("cancel, staff no longer wait", Choice("sup.text:cancel"), ("cancel.done", AGAIN),
               case=replace(WAITING, status="resolved"), stays=False, ack="close"),
    Supplement("staff no longer wait", Text("đây"), ("supplement.not_now", AGAIN),
               case=replace(WAITING, status="in_progress"), stays=False),
    Supplement("the case is gone", Text("đây"), ("supplement.not_now", AGAIN), case=None, stays=False),
    Supplement("nothing sent", Choice("sup.text:done"), ("supplement.empty", "supplement.ask")),
    Supplement("done typed, nothing sent", Text("xong"), ("supplement.empty", "supplement.ask")),
    Supplement("done in other words, nothing sent", Text("Hoàn tất"), ("supplement.empty", "supplement.ask")),
    Supplement("ok, nothing sent", Text("OK"), ("supplement.empty", "supplement.ask")),
    Supplement("another button", Choice("menu:survey"), ("common.please_choose", "supplement.ask"),
               state=_with_files(PHOTO), files_said=1),
    Supplement("too long", Text(TOO_LONG), ("complaint.text_long", "supplement.ask"),
               extra={"length": len(TOO_LONG)}),
]  # fmt: skip


@pytest.mark.parametrize("case", SUPPLEMENTS, ids=[c.name for c in SUPPLEMENTS])
def test_supplement_steps(case: Supplement) -> None:
    outcome = _supplement(case.event, case.state, case.case)
    assert _keys(outcome) == case.replies
    assert outcome.changes == ()
    assert outcome.ack == case.ack
    assert outcome.state is not None
    if case.stays:
        assert outcome.state == case.state
        assert outcome.replies[-1].params == (("n", case.files_said),)
        assert _buttons(outcome) == SUPPLEMENT_BUTTONS
    else:
        _idle(outcome.state)
    if case.extra:
        params = dict(outcome.replies[0].params)
        assert params["max"] == MAX_NOTE_CHARS
        assert params["got"] == case.extra["length"]


@pytest.mark.parametrize(
    ("event", "note", "files"),
    [
        (Text("  Đây là giấy phép bổ sung.  "), "Đây là giấy phép bổ sung.", ()),
        (Text("x" * MAX_NOTE_CHARS), "x" * MAX_NOTE_CHARS, ()),
        (Choice("sup.text:done"), None, (FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),)),
        (Text("xong"), None, (FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),)),
        # every word the other steps take for "done", not only the button's label
        (Text("hoàn tất"), None, (FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),)),
        (Text("ok"), None, (FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),)),
        (Text("finish"), None, (FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),)),
        (Text("kèm ảnh"), "kèm ảnh", (FileRef("photo", 2048, "ph1", "a.jpg", "image/jpeg"),)),
    ],
)
def test_what_is_sent_goes_to_staff(
    event: Inbound, note: str | None, files: tuple[FileRef, ...]
) -> None:
    state = _with_files(PHOTO) if files else SUPPLEMENTING
    outcome = _supplement(event, state)
    assert _keys(outcome) == ("supplement.received", AGAIN)
    assert outcome.replies[0].params == (("code", CODE),)
    assert outcome.ack == "close"
    assert outcome.state is not None
    _idle(outcome.state)
    update, alert, *cards = outcome.changes
    assert update == UpdateComplaint(
        code=CODE,
        from_status="waiting_citizen",
        to_status="in_progress",
        note=note,
        public=False,
        actor="citizen",
        at=ENV.now,
        files=files,
    )
    assert alert == Notify("admins", Reply("staff.supplemented", (("code", CODE),)), CODE)
    # The card staff see is the case as it is now: in progress, its new files counted.
    updated = replace(WAITING, status="in_progress", files=WAITING.files + len(files))
    assert cards == [Notify("admins", part, CODE) for part in staff_card(updated, ENV)]
    assert cards


@pytest.mark.parametrize("typed", ["xong", "Hoàn tất", "ok", "done", "finish"])
def test_done_typed_in_any_word_sends_the_files(typed: str) -> None:
    """Through the whole engine: a word it takes for "done" elsewhere is no "please choose"
    here (only the button's label used to be read, by the engine, before the flow)."""
    outcome = handle(_with_files(PHOTO), Text(typed), ENV, _facts(WAITING))
    assert _keys(outcome) == ("supplement.received", AGAIN)
    update = outcome.changes[0]
    assert isinstance(update, UpdateComplaint)
    assert (update.note, len(update.files)) == (None, 1)


@pytest.mark.parametrize(
    ("state", "key", "params", "buttons"),
    [
        (AT_CODE, "lookup.ask_code", (), ("l.code:cancel",)),
        (replace(AT_CODE, step=None), "lookup.ask_code", (), ("l.code:cancel",)),
        (AT_PHONE, "lookup.ask_phone", (), ("l.phone:cancel",)),
        (_with_files(PHOTO, PHOTO), "supplement.ask", (("n", 2),), SUPPLEMENT_BUTTONS),
        (
            replace(SUPPLEMENTING, data={"case": CODE}),
            "supplement.ask",
            (("n", 0),),
            SUPPLEMENT_BUTTONS,
        ),
    ],
)
def test_the_question_waiting(
    state: ConversationState, key: str, params: tuple[object, ...], buttons: tuple[str, ...]
) -> None:
    """What is asked again (after a word the step cannot read, a restart, /tieptuc)."""
    (asked,) = tracking.prompt(state)
    assert (asked.key, asked.params) == (key, params)
    assert tuple(choice.id for choice in asked.choices) == buttons


def test_a_supplement_kept_by_an_older_version_is_still_read() -> None:
    """A state stored before files kept their size, name and type (or any files at all) is
    read with those as 0 and "": nothing a citizen sent is lost to an update."""
    old = replace(SUPPLEMENTING, data={"case": CODE, "files": [{"media": "photo", "file_id": "p"}]})
    update = _supplement(Choice("sup.text:done"), old).changes[0]
    assert isinstance(update, UpdateComplaint)
    assert update.files == (FileRef("photo", 0, "p", "", ""),)
    datas: tuple[dict[str, object], ...] = ({"case": CODE}, {"case": CODE, "files": None})
    for data in datas:
        outcome = _supplement(Text("Bổ sung"), replace(SUPPLEMENTING, data=data))
        update = outcome.changes[0]
        assert isinstance(update, UpdateComplaint)
        assert (update.note, update.files) == ("Bổ sung", ())
