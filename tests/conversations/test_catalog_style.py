"""The Vietnamese wording rules that can be checked (issue 14, point 6), over every catalog
file and questionnaire: the citizen is "Ông/Bà", the bot speaks as "chúng tôi", no "lệnh" or
"tài khoản chat" jargon, straight quotes only (no curly quotes, no «»: button names go in "…"),
full diacritics and NFC."""

from __future__ import annotations

import re
import unicodedata

import pytest

from conversations import default_catalog

VI = default_catalog().messages["vi"]

#: Read by staff, operators or developers, not by the citizen ("lệnh" is the word for a
#: command line there, and an officer's filter may say "của tôi").
STAFF_KEYS = re.compile(
    r"^(staff|case|digest|report|console|admin|law2|open311|dossier\.report)\."
    r"|^law\.(case_|hotline_filed|method)"
    r"|^harden\.digest\."
    r"|^complaint\.(ask_category_hotline|ask_who_hotline|hotline_filed)$"
    r"|^input\.task\.staff$"
)
#: Said in the citizen's own voice: a button they press, a command's menu entry.
CITIZEN_VOICE = frozenset(
    {"survey.consent.yes", "forget.yes", "commands.xoadulieu", "commands.hosocuatoi"}
)
CITIZEN = sorted(k for k in VI if not STAFF_KEYS.search(k))

#: The bot's own "I" ("tôi" not part of "chúng tôi"), and the familiar "bạn" (not "bạn bè").
_I = re.compile(r"(?<!chúng )\btôi\b", re.IGNORECASE)
_YOU = re.compile(r"\bbạn\b(?! bè)", re.IGNORECASE)
_COMMAND = re.compile(r"\blệnh\b", re.IGNORECASE)
_CURLY = re.compile("[“”‘’„‟]")


def _hits(pattern: re.Pattern[str], keys: list[str]) -> dict[str, str]:
    return {k: VI[k] for k in keys if pattern.search(VI[k])}


def test_the_rules_see_every_catalog_file() -> None:
    # Keys of each area file, the questionnaires and the categories are all checked.
    prefixes = {k.split(".", 1)[0] for k in CITIZEN}
    assert {"survey", "complaint", "law", "input", "zalo", "harden", "dossier"} <= prefixes
    assert any(k.startswith("sipas-1001/") for k in CITIZEN)


def test_the_bot_never_says_toi_or_ban_to_the_citizen() -> None:
    keys = [k for k in CITIZEN if k not in CITIZEN_VOICE]
    assert _hits(_I, keys) == {}
    assert _hits(_YOU, sorted(VI)) == {}


def test_no_command_jargon_for_the_citizen() -> None:
    assert _hits(_COMMAND, CITIZEN) == {}
    assert _hits(re.compile("tài khoản chat", re.IGNORECASE), sorted(VI)) == {}


def test_straight_quotes_only() -> None:
    """Issue 14, point 6: straight quotes as Vietnamese texts use; a button's name in a
    sentence is quoted "like this", never «like this» nor “like this”."""
    assert _hits(_CURLY, sorted(VI)) == {}
    assert _hits(re.compile("[«»]"), sorted(VI)) == {}
    assert _hits(re.compile(r'"[^"\n]{1,60}"'), CITIZEN) != {}


def test_every_text_is_nfc() -> None:
    assert [k for k, v in VI.items() if unicodedata.normalize("NFC", v) != v] == []


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("Xin bạn chọn một mục.", True),
        ("qua người thân, bạn bè", False),
        ("Tôi sẽ báo cho Ông/Bà.", True),
        ("Chúng tôi sẽ báo cho Ông/Bà.", False),
        ("Gõ lệnh /khaosat.", True),
        ("Gõ /khaosat.", False),
    ],
)
def test_the_checks_catch_what_they_mean_to(text: str, bad: bool) -> None:
    found = bool(_YOU.search(text) or _I.search(text) or _COMMAND.search(text))
    assert found == bad
