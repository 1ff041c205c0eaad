"""Adapting a typed message to what a channel can carry."""

from __future__ import annotations

import pytest

from bot.runtime.replies import Capabilities, adapt, utf16_length
from storage.outbound import (
    DocumentMessage,
    EditMessage,
    FileMessage,
    ImageMessage,
    TextMessage,
)

TELEGRAM = Capabilities(
    frozenset({"text", "edit", "file", "image", "document"}), 4096, utf16_length
)
TEXT_ONLY = Capabilities(frozenset({"text"}), 2000)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (ImageMessage(b"png", "c.png", "", "Biểu đồ"), [TextMessage("Biểu đồ", (), "image")]),
        (
            DocumentMessage(b"xlsx", "a.xlsx", "Dữ liệu", "Dùng lệnh export"),
            [TextMessage("Dữ liệu\nDùng lệnh export", (), "document")],
        ),
        (FileMessage(3, "ảnh 1"), [TextMessage("ảnh 1", (), "file")]),
        (EditMessage("9", "Câu 1 → 5"), []),
        (
            EditMessage("9", "Chọn:", (("a", "☑ A"),), "k"),
            [TextMessage("Chọn:", (("a", "☑ A"),), "k")],
        ),
    ],
    ids=["chart-as-words", "spreadsheet-as-words", "file-caption", "closing-edit", "redrawn"],
)
def test_what_a_text_only_channel_gets(message: object, expected: list[object]) -> None:
    assert adapt(message, TEXT_ONLY) == expected  # type: ignore[arg-type]


def test_a_message_that_fits_is_left_alone() -> None:
    message = ImageMessage(b"png", "c.png")
    assert adapt(message, TELEGRAM) == [message]


@pytest.mark.parametrize(
    ("text", "caps"),
    [
        ("😡" * 2000, TELEGRAM),  # 2,000 characters, 4,000 UTF-16 units: fits
        ("😡" * 2100, TELEGRAM),  # 4,200 units: two parts
        ("dòng\n" * 1500, TELEGRAM),
        ("x" * 5000, TEXT_ONLY),
    ],
    ids=["emoji-fits", "emoji-over", "lines", "zalo-long"],
)
def test_long_texts_are_split_in_marked_parts_never_cut(text: str, caps: Capabilities) -> None:
    parts = adapt(TextMessage(text, (("ok", "OK"),), "card"), caps)
    assert all(caps.length(getattr(p, "text", "")) <= caps.max_text for p in parts)
    texts = [getattr(p, "text", "") for p in parts]
    if len(parts) == 1:
        assert texts == [text]
        return
    assert [t.rsplit("\n", 1)[1] for t in texts] == [
        f"({n}/{len(parts)})" for n in range(1, len(parts) + 1)
    ]
    kept = "".join(t.rsplit("\n", 1)[0] for t in texts)
    assert kept.replace("\n", "") == text.replace("\n", "")  # nothing lost
    assert [getattr(p, "choices", ()) for p in parts][-1] == (("ok", "OK"),)
    assert all(getattr(p, "choices", ()) == () for p in parts[:-1])
