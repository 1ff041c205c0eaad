"""Which action a staff reply answers is read from the prompt's head, never by rendering."""

from __future__ import annotations

import pytest

from conversations import Text
from conversations.catalog import LANGUAGES, Catalog, default_catalog
from conversations.flows import staff

CODE = "PA-2026-000042"


def prompt(lang: str, act: str) -> str:
    return default_catalog().format(lang, f"staff.ask_note.{act}", (("code", CODE),))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("act", sorted(staff.NEEDS_NOTE))
def test_each_prompt_names_its_own_action(lang: str, act: str) -> None:
    assert staff.prompt_action(Text("x", reply_to=prompt(lang, act)), CODE) == act
    # Cut short (the adapter passes only the start of the replied message) it still does.
    said = prompt(lang, act)
    cut = said[: said.index(CODE) + len(CODE) + 2]
    assert staff.prompt_action(Text("x", reply_to=cut), CODE) == act


def test_every_action_has_a_head_of_its_own() -> None:
    assert sorted(set(staff.prompt_heads().values())) == sorted(staff.NEEDS_NOTE)
    assert len(staff.prompt_heads()) == len(staff.NEEDS_NOTE) * len(LANGUAGES)


@pytest.mark.parametrize(
    "reply_to",
    [
        "",
        f"Phản ánh {CODE} (qua tin nhắn)\nLoại: Cấp phép xây dựng",  # the card
        prompt("vi", "answer").replace(CODE, "PA-2026-000043"),  # another case's prompt
        "Mời Ông/Bà chọn một mục:",
    ],
)
def test_a_reply_to_anything_else_names_no_action(reply_to: str) -> None:
    assert staff.prompt_action(Text("x", reply_to=reply_to), CODE) is None


def test_no_prompt_is_rendered_to_match_a_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    staff.prompt_heads()  # read once

    def rendered(*_: object) -> str:
        raise AssertionError("a prompt was rendered to match a reply")

    monkeypatch.setattr(Catalog, "format", rendered)
    replied = Text("x", reply_to=f"Trả lời & đóng phản ánh {CODE} — gõ nội dung")
    assert staff.prompt_action(replied, CODE) == "answer"
