"""The fault suite's log check finds a phone number or a raw chat id wherever a log line
carries one, and takes nothing else for one: a chat's hash is hex digits salted at random, and
one that happens to hold a run of digits starting with 0 is not a phone number."""

from __future__ import annotations

import pytest

from tests.faults.harness import personal_data_in_logs

pytestmark = [pytest.mark.faults]

CHAT = 7_310_000_501


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("event=handled chat=e0912345678b kind=text", []),
        ("event=handled chat=0912345678ab kind=text", []),
        ("event=handled chat=ab0903112358 kind=text", []),
        ("event=send_retry chat=c09031123587 attempt=2", []),
        ("time=2026-12-01 01:04:06,012 level=INFO ms=0.912345678", []),
        ("error=BadRequest: text 0912345678 refused", ["phone 0912345678"]),
        ("reply='Ông/Bà gọi 0903 112 358 nhé'", ["phone 0903 112 358"]),
        ('{"text": "0987.654.321"}', ["phone 0987.654.321"]),
        ("phone=0241234567", ["phone 0241234567"]),
        (f"update chat_id={CHAT} kind=text", [f"chat {CHAT}"]),
        (f"chat=({CHAT},)", [f"chat {CHAT}"]),
        (f"chat={CHAT}1 kind=text", []),
    ],
)
def test_the_log_check_finds_phones_and_chat_ids_not_hashes(
    tmp_path_factory: pytest.TempPathFactory, line: str, found: list[str]
) -> None:
    # Outside the test's own folder, which the suite's after-test check scans.
    folder = tmp_path_factory.mktemp("logs")
    (folder / "bot-1.log").write_text(f"time=x level=INFO {line}\n", encoding="utf-8")
    assert personal_data_in_logs(folder, [CHAT]) == [f"bot-1.log: {f}" for f in found]
