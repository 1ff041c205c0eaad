"""``python -m bot report | export | digest`` on a database with completed surveys."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli.words import bilingual
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from storage import migrate, open_engine
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

ROOT = Path(__file__).resolve().parents[2]


async def _seed(url: str) -> None:
    engine = open_engine(url)
    await migrate(engine)
    clock = SequentialClock(start=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    rng = random.Random(2)
    for n in range(5):
        await complete_survey(dispatcher, f"c{n}", rng)
    await engine.dispose()


def _run(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.e2e
async def test_report_export_and_digest_commands(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await _seed(url)
    done = _run(
        tmp_path, url, "report", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["from"], report["to"], report["completed"]) == ("2026-03-01", "2026-03-31", 5)
    assert (report["partial"], report["in_progress"]) == (0, 0)
    assert [e["code"] for e in report["elements"]] == ["1", "2", "3", "4", "5"]
    text = _run(tmp_path, url, "report", "--from", "2026-03-01", "--to", "2026-03-31")
    assert "Phiếu khảo sát: 5 hoàn thành" in text.stdout
    out = tmp_path / "bao-cao.xlsx"
    exported = _run(
        tmp_path, url, "export", "--from", "2026-03-01", "--to", "2026-03-31", "--out", str(out)
    )
    assert exported.returncode == 0, exported.stderr
    size = out.stat().st_size
    assert exported.stdout.strip() == (
        f"{out} ({size} byte, 5 phiếu trả lời, 0 phản ánh / {size} bytes, 5 responses, 0 cases)"
    )
    workbook = load_workbook(out)
    assert workbook.sheetnames[0] == "Chỉ số SIPAS"
    digest = _run(tmp_path, url, "digest")
    assert digest.returncode == 0
    assert "BẢN TIN TUẦN" in digest.stdout
    bad = _run(tmp_path, url, "digest", "--send")
    assert bad.returncode == 2  # no ADMIN_CHAT_IDS: nobody to send to


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["daily", "weekly"])
async def test_the_printed_digest_has_the_zalo_lines_of_the_sent_one(
    tmp_path: Path, kind: str
) -> None:
    """``python -m bot digest`` prints the digest as it is sent: Zalo notices held, re-sent
    and sent as templates, and a refused token refresh with Zalo's words."""
    from datetime import timedelta

    from storage import write_transaction
    from storage.queries.zalo_chats import record_notices
    from storage.queries.zalo_tokens import save_tokens, token_failed

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await _seed(url)
    engine = open_engine(url)
    now = datetime.now(UTC)
    async with write_transaction(engine) as conn:
        await record_notices(conn, ["held", "held", "resent", "template"], now)
        await save_tokens(conn, "a", "r", now + timedelta(hours=20), now - timedelta(hours=5))
        await token_failed(conn, now, "zalo invalid_grant: Refresh token is invalid")
    await engine.dispose()
    printed = _run(tmp_path, url, "digest", "--kind", kind)
    assert printed.returncode == 0, printed.stderr
    assert "2 tin đã giữ lại trong kỳ" in printed.stdout
    assert "1 tin đã gửi lại khi người dân nhắn, 1 tin gửi bằng mẫu thông báo" in printed.stdout
    assert "Làm mới token Zalo thất bại" in printed.stdout
    assert "(zalo invalid_grant: Refresh token is invalid)" in printed.stdout


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "key", "params"),
    [
        (
            ("report", "--from", "30/11/2026", "--to", "01/11/2026"),
            "cli.input5.to_before_from",
            (("start", "30/11/2026"), ("end", "01/11/2026")),
        ),
        (
            ("export", "--from", "2026-11-30", "--to", "2026-11-01", "--out", "x.xlsx"),
            "cli.input5.to_before_from",
            (("start", "30/11/2026"), ("end", "01/11/2026")),
        ),
        (("digest", "--send"), "cli.input5.no_admins", ()),
        (("zalo", "set-token", "--refresh-token", "R"), "cli.input5.zalo_not_set", ()),
    ],
)
async def test_command_line_errors_are_in_both_languages(
    tmp_path: Path, args: tuple[str, ...], key: str, params: tuple[tuple[str, str], ...]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await _seed(url)
    done = _run(tmp_path, url, *args)
    assert done.returncode != 0
    vi, en = bilingual(key, params)
    assert done.stderr.strip().splitlines()[-1] == f"{vi} / {en}"
