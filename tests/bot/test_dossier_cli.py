"""``python -m bot dossiers register|event|import|demo``: the CSV rows (pure), then the commands
as a user runs them."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.channels.zalo_codes import is_valid
from bot.cli.dossier_csv import kind_of, parse_events_csv, parse_time
from bot.cli.dossiers import add_dossiers_parser, run_dossiers
from bot.cli.receipt_qr import CODE_MODULES, QR_BOX_SIZE, qr_code
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("handed_over", "handed_over"), ("Đã trả kết quả", "handed_over"), ("Trễ hẹn", "late"),
     ("Cần bổ sung", "needs_documents"), ("RUT HO SO", "withdrawn"), ("lost", None)],
    ids=["api", "vi-accents", "late", "documents", "upper-plain", "unknown"],
)  # fmt: skip
def test_kinds_in_either_language(typed: str, kind: str | None) -> None:
    assert kind_of(typed) == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-05 14:30", datetime(2026, 3, 5, 14, 30, tzinfo=HANOI)),
        ("05/03/2026 8:05", datetime(2026, 3, 5, 8, 5, tzinfo=HANOI)),
        ("2026-03-05", datetime(2026, 3, 5, tzinfo=HANOI)),
        ("2026-03-05T07:30:00+00:00", datetime(2026, 3, 5, 7, 30, tzinfo=UTC)),
        ("05/03/2026 25:00", None),
        ("mai", None),
    ],
    ids=["local", "vn-date", "date", "offset", "bad-hour", "word"],
)
def test_times(text: str, expected: datetime | None) -> None:
    assert parse_time(text, HANOI) == expected


CSV = (
    "Mã hồ sơ;Sự kiện;Thời gian;Giấy tờ thiếu;Ngày hẹn mới;Thủ tục;Ngày nhận;Ngày hẹn\n"
    "HS-1;Tiếp nhận;02/03/2026 08:00;;;1.009972;02/03/2026;30/03/2026\n"
    'HS-1;Cần bổ sung;03/03/2026 09:00;"Bản vẽ; Sổ đỏ";;;;\n'
    "HS-1;Trễ hẹn;30/03/2026;;06/04/2026;;;\n"
)


def test_an_events_file_reads_into_checked_requests() -> None:
    parsed = parse_events_csv(CSV, HANOI)
    assert parsed.errors == []
    first, second, third = parsed.rows
    assert first.register is not None
    assert (first.register.procedure, first.register.due_on) == ("1.009972", date(2026, 3, 30))
    assert first.event.kind == "received"
    assert first.event.at == datetime(2026, 3, 2, 8, 0, tzinfo=HANOI)
    assert second.register is None
    assert second.event.missing == ["Bản vẽ", "Sổ đỏ"]
    assert third.event.new_due_on == date(2026, 4, 6)
    # Ids come from the row's content: the same file imported again has no second effect.
    assert parse_events_csv(CSV, HANOI).rows[1].event.event_id == second.event.event_id
    assert len({r.event.event_id for r in parsed.rows}) == 3


def test_a_bad_events_file_is_reported_by_line() -> None:
    text = "ma_ho_so,su_kien,ngay_hen_moi\nHS-1,mất,\nHS 2,processing,\nHS-3,late,\n"
    parsed = parse_events_csv(text, HANOI)
    assert parsed.rows == []
    assert [e.split(":")[0] for e in parsed.errors] == ["Dòng 2", "Dòng 3", "Dòng 4"]
    # Each line in Vietnamese, then English (the catalogs' cli.row and zalo8.dossiers.*).
    assert parsed.errors[0] == "Dòng 2: sự kiện “mất” không rõ / row 2: unknown event kind “mất”"
    assert "unknown event kind" in parsed.errors[0]
    assert "invalid dossier code" in parsed.errors[1]
    assert "new_due_on" in parsed.errors[2]
    assert parse_events_csv("thu_tuc\n1.0\n", HANOI).errors[0].startswith("Dòng 1: thiếu cột")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DOSSIER_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=environ, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.e2e
def test_register_event_and_import_from_the_command_line(tmp_path: Path) -> None:
    due = (datetime.now(HANOI).date() + timedelta(days=20)).isoformat()
    done = _run(
        tmp_path, "dossiers", "register", "HS-9", "--procedure", "1.009972", "--due", due,
        "--bot-username", "@sipas_test_bot", "--qr", str(tmp_path / "qr"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    code, start, link, short = done.stdout.strip().split("\t")  # the short code ends it
    assert (code, link) == ("HS-9", f"https://t.me/sipas_test_bot?start={start}")
    assert is_valid(short.replace("-", ""))
    assert start.startswith("d_")
    assert (tmp_path / "qr" / "HS-9.png").stat().st_size > 0

    told = _run(tmp_path, "dossiers", "event", "HS-9", "needs_documents", "--missing", "Bản vẽ")
    assert told.returncode == 0, told.stderr
    assert told.stdout.strip() == "HS-9\tneeds_documents\tbáo 0 chat / told 0 chat(s)"
    handed = _run(tmp_path, "dossiers", "event", "HS-9", "da tra ket qua", "--event-id", "x1")
    assert handed.stdout.startswith("HS-9\thanded_over")
    again = _run(tmp_path, "dossiers", "event", "HS-9", "handed_over", "--event-id", "x1")
    assert again.stdout.strip() == "HS-9\thanded_over\tđã có / duplicate"
    closed = _run(tmp_path, "dossiers", "event", "HS-9", "processing")
    assert closed.returncode == 1
    assert closed.stderr.startswith("dossier_closed:")
    unknown = _run(tmp_path, "dossiers", "event", "HS-NOPE", "processing")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1, "unknown_dossier: no dossier HS-NOPE is registered",
    )  # fmt: skip
    bad = _run(tmp_path, "dossiers", "event", "HS-9", "lost")
    assert bad.returncode == 2

    events = tmp_path / "events.csv"
    events.write_text("\ufeff" + CSV, encoding="utf-8")
    imported = _run(tmp_path, "dossiers", "import", str(events))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.count("HS-1\t") == 3
    twice = _run(tmp_path, "dossiers", "import", str(events))
    assert twice.stdout.count("đã có / duplicate") == 3
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        rows = conn.execute("SELECT code, status, client FROM dossiers ORDER BY code").fetchall()
        kinds = conn.execute("SELECT count(*) FROM dossier_events").fetchone()[0]
    assert rows == [("HS-1", "late", "cli"), ("HS-9", "handed_over", "cli")]
    assert kinds == 5


@pytest.mark.e2e
def test_the_demo_shows_the_whole_path_in_the_console(tmp_path: Path) -> None:
    done = _run(tmp_path, "dossiers", "demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for needle in (
        "POST /api/v1/dossiers DEMO-",
        "Ông/Bà có đồng ý nhận thông báo về hồ sơ này không?",
        "cần bổ sung giấy tờ:",
        "Chúng tôi thành thật xin lỗi Ông/Bà",
        "Ngày hẹn trả kết quả mới:",
        "đã được trả kết quả",
        '"invited":true',
        "python -m bot console --user dossier-demo",
    ):
        assert needle in out, needle
    # The invitation waits for the console, with its button.
    console = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "dossier-demo"], input="1\n",
        cwd=tmp_path, env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                           "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "1. Đánh giá ngay" in console.stdout
    assert "Ông/Bà có đồng ý tham gia không?" in console.stdout


def _dossier_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot")
    add_dossiers_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["dossiers", *argv])


def _cli_settings(tmp_path: Path, **values: Any) -> Settings:
    values.setdefault("telegram_bot_token", None)
    values.setdefault("telegram_bot_username", None)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        **values,
    )


def _dark(image: Image.Image, x: int, y: int) -> bool:
    value = image.getpixel((x, y))
    return isinstance(value, int) and value < 128


def _band(path: Path, link: str) -> tuple[int, int, int]:
    """Under the QR code of ``path``: the band's height, its inked width, the image's width."""
    side = len(qr_code(link).get_matrix()) * QR_BOX_SIZE
    with Image.open(path) as image:
        band = image.convert("L").crop((0, side, image.width, image.height))
        ink = [x for y in range(band.height) for x in range(band.width) if _dark(band, x, y)]
        return band.height, (max(ink) - min(ink)) if ink else 0, image.width


@pytest.mark.parametrize("how", [["--bot-username", "SipasDemoBot"], ["--zalo"]])
async def test_register_writes_the_slip_qr_with_the_short_code_large(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: list[str]
) -> None:
    """The slip's QR code is written (and where is said); under it the short code a citizen
    types on Zalo, in large type; the printed line ends with that code."""
    due = (datetime.now(HANOI).date() + timedelta(days=20)).isoformat()
    settings = _cli_settings(tmp_path, zalo_oa_id="1234567890123456789")
    qr = tmp_path / "qr"
    args = _dossier_args(
        "register", "HS-5", "--procedure", "1.009972", "--due", due, "--qr", str(qr), *how
    )
    assert await run_dossiers(args, settings) == 0
    out, err = capsys.readouterr()
    code, start, link, short = out.strip().split("\t")
    assert (code, start[:2]) == ("HS-5", "d_")
    assert is_valid(short.replace("-", ""))
    assert short[4] == short[9] == "-"
    if "--zalo" in how:
        assert link == "https://zalo.me/1234567890123456789"
    else:
        assert link == f"https://t.me/SipasDemoBot?start={start}"
    png = qr / "HS-5.png"
    assert f"Đã ghi mã QR vào / QR code written to: {png}" in err
    height, inked, width = _band(png, link)
    assert height >= (2 + 1 + CODE_MODULES + 1) * QR_BOX_SIZE  # caption, then the code
    assert inked > width / 2


async def test_register_with_qr_but_no_link_says_why_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    due = (datetime.now(HANOI).date() + timedelta(days=20)).isoformat()
    args = _dossier_args(
        "register", "HS-6", "--procedure", "1.009972", "--due", due, "--qr", str(tmp_path / "qr")
    )

    async def no_username(_settings: Settings) -> None:
        return None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.cli.receipts.fetch_bot_username", no_username)
        assert await run_dossiers(args, _cli_settings(tmp_path)) == 2
    assert "TELEGRAM_BOT_USERNAME" in capsys.readouterr().err
    assert not (tmp_path / "qr").exists()
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("SELECT count(*) FROM dossiers").fetchone()[0] == 0
