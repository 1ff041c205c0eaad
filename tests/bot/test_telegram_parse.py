"""The Telegram adapter's pure parts, on recorded update JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from telegram import Bot, Update

from bot.channels.telegram import keyboard
from bot.channels.telegram_raw import readable
from bot.channels.telegram_updates import (
    parse_update,
    raw_chat_id,
    raw_update_id,
    refused_admin,
)
from conversations import Attachment, Choice, Command, InboundEvent, Origin, Text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
BOT = Bot("123:ABC")
ADMINS = frozenset({7002})


def _update(name: str) -> Update:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    update = Update.de_json(data, BOT)
    assert update is not None
    return update


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("text_message", InboundEvent("10001", "telegram", "7001", Text("Rất hài lòng", "5"))),
        ("deep_link", InboundEvent("10002", "telegram", "7001", Command("start", "R-7Q2K_abc-DEF"))),
        ("command_with_bot_name", InboundEvent("10003", "telegram", "7001", Command("khaosat", ""))),
        (
            "callback_query",
            InboundEvent(
                "10004", "telegram", "7001", Choice("1.1:4"),
                origin=Origin("42", "Câu 1/22: Nơi ngồi chờ …", "4 – Hài lòng"),
            ),
        ),
        (
            "forged_callback",
            InboundEvent(
                "10005", "telegram", "7001", Choice("admin:delete_everything"),
                origin=Origin("42", "Câu 1/22", None),
            ),
        ),
        ("photo", InboundEvent("10006", "telegram", "7001", Attachment("photo", 80000, "b", "", "image/jpeg"))),
        ("group_message", None),
        ("edited_message", InboundEvent("10009", "telegram", "7001", Text("sửa", "5", edited=True))),
        ("admin_command", InboundEvent("10008", "telegram", "7002", Command("baocao", "7d"), admin=True, sender_id="7002", sender_name="Minh")),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_parse_update(fixture: str, expected: InboundEvent | None) -> None:
    assert parse_update(_update(fixture), ADMINS) == expected


def test_admin_command_from_a_citizen_is_flagged() -> None:
    event = parse_update(_update("admin_command"), admins=frozenset())
    assert event is not None
    assert not event.admin
    assert refused_admin(event)
    citizen = parse_update(_update("text_message"), ADMINS)
    assert citizen is not None
    assert not refused_admin(citizen)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("4821-7730-15", "4821773015"), ("Mã: 4821 7730 15", "4821773015"), ("48217730", "48217730")],
)
def test_the_slip_s_short_code_typed_on_telegram_opens_the_receipt(typed: str, code: str) -> None:
    data = json.loads((FIXTURES / "text_message.json").read_text(encoding="utf-8"))
    data["message"]["text"] = typed
    event = parse_update(Update.de_json(data, BOT))
    assert event is not None
    assert event.payload == Command("start", code, typed=typed)


def test_very_long_text_is_cut_just_past_the_engine_limit() -> None:
    data = json.loads((FIXTURES / "text_message.json").read_text(encoding="utf-8"))
    data["message"]["text"] = "a" * 10_000
    event = parse_update(Update.de_json(data, BOT))
    assert event is not None
    assert isinstance(event.payload, Text)
    assert len(event.payload.text) == 4097


def _rows(choices: list[tuple[str, str]]) -> list[list[str]]:
    markup = keyboard(choices)
    assert markup is not None
    return [[str(b.callback_data) for b in row] for row in markup.inline_keyboard]


@pytest.mark.parametrize(
    ("choices", "rows"),
    [
        (
            [("1.1:1", "1 – Rất không hài lòng"), ("1.1:2", "2 – Không hài lòng"),
             ("1.1:3", "3 – Bình thường"), ("1.1:4", "4 – Hài lòng"), ("1.1:5", "5 – Rất hài lòng"),
             ("1.1:back", "◀ Quay lại"), ("1.1:skip", "Bỏ qua ▶")],
            [["1.1:1"], ["1.1:2"], ["1.1:3"], ["1.1:4"], ["1.1:5"], ["1.1:back", "1.1:skip"]],
        ),
        (
            [("f5:yes", "Có"), ("f5:no", "Không"), ("f5:back", "◀ Quay lại"), ("f5:skip", "Bỏ qua ▶")],
            [["f5:yes", "f5:no"], ["f5:back", "f5:skip"]],
        ),
        (
            [("consent:yes", "Tôi đồng ý"), ("consent:no", "Không đồng ý")],
            [["consent:yes", "consent:no"]],
        ),
    ],
    ids=["rating-one-per-row", "yes-no-paired", "consent"],
)  # fmt: skip
def test_keyboard_rows_fit_a_phone(choices: list[tuple[str, str]], rows: list[list[str]]) -> None:
    assert _rows(choices) == rows


def test_no_choices_no_keyboard() -> None:
    assert keyboard([]) is None


def test_every_choice_id_fits_callback_data() -> None:
    from conversations import load_questionnaire

    q = load_questionnaire()
    longest = max(
        len(f"{s.id}:{code}".encode()) for s in q.steps for code in (*s.options, "back", "skip")
    )
    assert longest <= 64


REFUSED = "\x00\x01\x1b\ud800\udfff"  # NUL, other C0 controls, lone surrogates


def _with_text(text: str) -> Update:
    data = json.loads((FIXTURES / "text_message.json").read_text(encoding="utf-8"))
    data["message"]["text"] = text
    return Update.de_json(data, BOT)


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        (f"Rất{REFUSED} hài lòng\r\n", Text("Rất hài lòng", "5")),
        (f"/tracuu PA-2026{REFUSED}-000001", Command("tracuu", "PA-2026-000001")),
        (f"{REFUSED}/start", Command("start", "")),
        (REFUSED, Text("", "5")),  # the engine says it could read nothing
    ],
    ids=["text", "command-argument", "command-behind-controls", "nothing-left"],
)
def test_text_a_database_refuses_is_cleaned(text: str, payload: object) -> None:
    event = parse_update(_with_text(text))
    assert (event.payload if event else None) == payload


def test_file_name_and_button_data_are_cleaned() -> None:
    data = json.loads((FIXTURES / "text_message.json").read_text(encoding="utf-8"))
    del data["message"]["text"]
    data["message"]["document"] = {
        "file_id": "d1", "file_unique_id": "u1", "file_name": f"đơn{REFUSED}.pdf",
        "mime_type": "application/pdf\x00", "file_size": 1200,
    }  # fmt: skip
    event = parse_update(Update.de_json(data, BOT))
    assert event is not None
    assert event.payload == Attachment("document", 1200, "d1", "đơn.pdf", "application/pdf")
    pressed = json.loads((FIXTURES / "callback_query.json").read_text(encoding="utf-8"))
    pressed["callback_query"]["data"] = "1.1:4\x00"
    event = parse_update(Update.de_json(pressed, BOT))
    assert event is not None
    assert event.payload == Choice("1.1:4")


@pytest.mark.parametrize(
    ("raw", "update_id", "chat_id"),
    [
        ({"update_id": 5, "message": {"chat": {"id": 7001, "type": "private"}}}, 5, "7001"),
        ({"update_id": 6, "message": {"chat": {"id": -100, "type": "group"}}}, 6, None),
        (
            {"update_id": 7, "callback_query": {"message": {"chat": {"id": 7002, "type": "private"}}}},
            7,
            "7002",
        ),
        ({"update_id": 8, "message": {"chat": {"id": "7001", "type": "private"}}}, 8, None),
        ({"update_id": True, "message": {"chat": {"id": True, "type": "private"}}}, None, None),
        ({"update_id": "9", "message": "text"}, None, None),
        ({"edited_message": {"chat": {"id": 7001, "type": "private"}}}, None, "7001"),
        ([1, 2], None, None),
        (None, None, None),
    ],
    ids=["message", "group", "button", "string-id", "booleans", "garbage", "edited", "list", "null"],
)  # fmt: skip
def test_ids_read_from_raw_json(raw: object, update_id: int | None, chat_id: str | None) -> None:
    assert raw_update_id(raw) == update_id
    assert raw_chat_id(raw) == chat_id


ROOM = "-4001"
BOT_ID = 123
PROMPT = "Phản ánh PA-2026-000001 — gõ nội dung trả lời"


def _group_message(
    user: int, text: str, *, reply_to_bot: bool = False, chat: int = -4001
) -> Update:
    message: dict[str, object] = {
        "message_id": 50,
        "date": 1767578406,
        "chat": {"id": chat, "type": "group" if chat > -(10**12) else "supergroup", "title": "Tổ"},
        "from": {"id": user, "is_bot": False, "first_name": "Lan", "last_name": "Trần"},
        "text": text,
    }
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": 49,
            "date": 1767578400,
            "chat": message["chat"],
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "SIPAS", "username": "sipas_bot"},
            "text": PROMPT,
        }
    update = Update.de_json({"update_id": 20001, "message": message}, BOT)
    assert update is not None
    return update


def _group_press(user: int, data: str = "case:PA-2026-000001:take") -> Update:
    chat = {"id": -4001, "type": "group", "title": "Tổ"}
    update = Update.de_json(
        {
            "update_id": 20002,
            "callback_query": {
                "id": "q1",
                "from": {"id": user, "is_bot": False, "first_name": "Lan"},
                "chat_instance": "1",
                "data": data,
                "message": {"message_id": 7, "date": 1767578400, "chat": chat, "text": "Phản ánh"},
            },
        },
        BOT,
    )
    assert update is not None
    return update


def _in_room(update: Update, room: str | None = ROOM) -> InboundEvent | None:
    return parse_update(update, ADMINS, room, bot_id=BOT_ID, username="sipas_bot")


@pytest.mark.parametrize(
    ("text", "reply", "payload"),
    [
        ("/hoso", False, Command("hoso", "")),
        ("/hoso@sipas_bot cua-toi", False, Command("hoso", "cua-toi")),
        ("/HOSO@SIPAS_BOT", False, Command("hoso", "")),
        ("/hoso@other_bot", False, None),  # another bot's command in the same group
        # A reply carries the start of the bot's message: the prompt names its case.
        ("Đã có kết quả.", True, Text("Đã có kết quả.", reply_to=PROMPT)),
        ("@sipas_bot /hoso thì sao", False, Text("/hoso thì sao")),
        ("@sipas_bot", False, None),
        ("Các anh chị xem giúp hồ sơ này.", False, None),  # the team talking (privacy off)
    ],
)
def test_an_officer_in_a_staff_group(text: str, reply: bool, payload: object) -> None:
    event = _in_room(_group_message(7002, text, reply_to_bot=reply))
    if payload is None:
        assert event is None
        return
    assert event == InboundEvent(
        "20001", "telegram", "-4001:7002", payload, admin=True,  # type: ignore[arg-type]
        sender_id="7002", sender_name="Lan Trần", room=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "update",
    [
        _group_message(5555, "/hoso"),  # a member who is not an administrator
        _group_message(5555, "Đã có kết quả.", reply_to_bot=True),
        _group_press(5555),
    ],
)
def test_a_member_who_is_not_staff_is_ignored(update: Update) -> None:
    assert _in_room(update) is None


@pytest.mark.parametrize("update", [_group_message(7002, "/hoso"), _group_press(7002)])
def test_an_administrator_in_a_group_that_is_no_staff_room_is_read_as_such(
    update: Update,
) -> None:
    """Never silence for an administrator: the event is marked with the group's id, so the
    engine tells them that the group is no staff room and what to set."""
    event = _in_room(update, room=None)
    assert event is not None
    assert (event.external_id, event.stray_room, event.room) == ("-4001:7002", "-4001", True)


@pytest.mark.parametrize(
    "update", [_group_message(5555, "/hoso"), _group_press(5555), _group_message(7002, "hi")]
)
def test_a_group_that_is_no_staff_room_ignores_members_and_chatter(update: Update) -> None:
    assert _in_room(update, room=None) is None


def test_a_press_in_a_staff_group_is_the_officers() -> None:
    event = _in_room(_group_press(7002))
    assert event is not None
    assert (event.external_id, event.admin, event.sender_id) == ("-4001:7002", True, "7002")
    assert event.room
    assert event.origin is not None
    assert event.origin.message_id == "7"


def test_a_supergroup_upgrade_is_read_from_either_service_message() -> None:
    from bot.channels.telegram_updates import migration

    base = {
        "message_id": 1,
        "date": 1767578400,
        "from": {"id": 1, "is_bot": False, "first_name": "A"},
    }
    old = {
        **base,
        "chat": {"id": -4001, "type": "group", "title": "Tổ"},
        "migrate_to_chat_id": -1004001,
    }
    new = {**base, "chat": {"id": -1004001, "type": "supergroup", "title": "Tổ"},
           "migrate_from_chat_id": -4001}  # fmt: skip
    for body in (old, new):
        update = Update.de_json({"update_id": 1, "message": body}, BOT)
        assert update is not None
        assert migration(update) == ("-4001", "-1004001")
    assert migration(_group_message(7002, "/hoso")) is None


def test_every_citizen_command_is_in_telegrams_menu_and_no_admin_one() -> None:
    from bot.channels.telegram import MENU_COMMANDS, bot_commands
    from conversations import default_catalog
    from conversations.commands import ADMIN_COMMANDS, COMMANDS

    assert set(MENU_COMMANDS) == set(COMMANDS)
    assert not set(MENU_COMMANDS) & set(ADMIN_COMMANDS)
    for lang in ("vi", "en"):
        shown = [c.command for c in bot_commands(default_catalog(), lang)]
        assert shown == list(MENU_COMMANDS)


@pytest.mark.parametrize(
    ("author", "said", "reply_to"),
    [
        (BOT_ID, PROMPT, PROMPT),  # the bot's prompt: its start is passed on
        (BOT_ID, "x" * 500, "x" * 200),  # bounded: only the start names the case
        (7001, PROMPT, ""),  # a colleague's message quoting a code is no prompt
    ],
)
def test_a_private_reply_names_the_bots_message_it_answers(
    author: int, said: str, reply_to: str
) -> None:
    chat = {"id": 7002, "type": "private", "first_name": "Lan"}
    update = Update.de_json(
        {
            "update_id": 20003,
            "message": {
                "message_id": 51,
                "date": 1767578406,
                "chat": chat,
                "from": {"id": 7002, "is_bot": False, "first_name": "Lan"},
                "text": "Đã có kết quả.",
                "reply_to_message": {
                    "message_id": 49,
                    "date": 1767578400,
                    "chat": chat,
                    "from": {"id": author, "is_bot": author == BOT_ID, "first_name": "X"},
                    "text": said,
                },
            },
        },
        BOT,
    )
    assert update is not None
    event = parse_update(update, ADMINS, None, bot_id=BOT_ID, username="sipas_bot")
    assert event is not None
    assert isinstance(event.payload, Text)
    assert (event.payload.text, event.payload.reply_to) == ("Đã có kết quả.", reply_to)
    assert not event.room


_PRIVATE = {"message_id": 5, "date": 0, "chat": {"id": 7001, "type": "private"}}
_FROM = {"from": {"id": 7001, "is_bot": False, "first_name": "C"}}
_POLL = {"id": "1", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False,
         "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "payload"),
    [
        ({**_FROM, "poll": _POLL, "text": None}, Attachment("other", what="poll")),
        ({**_FROM, "dice": {"emoji": "x", "value": 1}, "photo": None, "document": None},
         Attachment("other", what="dice")),
        ({"text": "xin chào"}, Text("xin chào", "5")),  # no ``from``: on behalf of a chat
        ({"sticker": {"file_id": "S"}}, Attachment("other", what="sticker")),
        ({**_FROM}, Attachment("other", what="other")),  # nothing in it at all
        ({**_FROM, "text": None, "caption": None}, Attachment("other", what="other")),
        ({**_FROM, "pinned_message": {"message_id": 4}}, None),  # a service note
    ],
)  # fmt: skip
def test_a_private_message_always_means_something(
    fields: dict[str, object], payload: object
) -> None:
    """Fields sent as null are absent; a private message with content the bot cannot read
    is a stray one (the hint), never silence; only a service note goes unanswered."""
    trimmed, stray = readable({"update_id": 9, "message": {**_PRIVATE, **fields}})
    update = Update.de_json(trimmed, BOT)
    assert update is not None
    event = parse_update(update, stray=stray)
    assert (event.payload if event else None) == payload
