"""A file's name decides nothing but a refusal: programs and double extensions are turned
away with their own message; the type itself is read from the bytes later."""

from __future__ import annotations

import pytest

from conversations.events import Attachment
from conversations.flows.complaint import disguised_name, file_refusal


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("hoa-don.pdf", False),
        ("Quyet dinh 12.2026.pdf", False),
        ("anh.JPG", False),
        ("", False),
        ("hoa-don.pdf.scr", True),
        ("hoa-don.PDF.EXE", True),
        ("x.pdf.docx", True),
        ("setup.exe", True),
        ("bao-cao.js.pdf", True),
        ("x.pdf.scr. ", True),
    ],
    ids=[
        "pdf",
        "dotted-base",
        "upper-jpg",
        "no-name",
        "pdf-scr",
        "upper-exe",
        "pdf-docx",
        "exe",
        "script-inside",
        "trailing-dot",
    ],
)
def test_disguised_names(name: str, refused: bool) -> None:
    assert disguised_name(name) is refused


def test_a_pdf_named_like_a_program_gets_its_own_message() -> None:
    event = Attachment("document", 1000, "f1", "hoa-don.pdf.scr", "application/pdf")
    refusal = file_refusal(event, 0)
    assert refusal is not None
    assert refusal.key == "complaint.file_name_refused"


@pytest.mark.parametrize(
    "declared",
    ["application/octet-stream", "", "binary/x-odd", "application/x-msdownload"],
    ids=["octet-stream", "none", "odd", "claims-a-program"],
)
def test_the_declared_type_decides_nothing(declared: str) -> None:
    """A real PDF the phone sent as ``application/octet-stream`` (or with no type, or an odd
    one) is taken: its bytes decide when they are copied (``jobs/attachments``)."""
    for name in ("don.pdf", "don.bin", "don"):
        assert file_refusal(Attachment("document", 1000, "f1", name, declared), 0) is None
