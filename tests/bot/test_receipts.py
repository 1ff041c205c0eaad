"""Receipts: tokens, deep links, QR codes, CSV import and the ``receipts`` command."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.channels.zalo_codes import is_valid
from bot.cli.receipt_args import (
    add_receipts_parser,
)
from bot.cli.receipt_csv import (
    MAX_FIELD_CHARS,
    MAX_PROCEDURE_CHARS,
    ReceiptRequest,
    decode_csv,
    parse_receipts_csv,
)
from bot.cli.receipt_qr import (
    CODE_MODULES,
    MAX_DOSSIER_CHARS,
    QR_BORDER,
    QR_BOX_SIZE,
    qr_code,
    qr_filename,
    write_qr,
)
from bot.cli.receipt_tokens import (
    MAX_TOKEN_CHARS,
    TOKEN_PATTERN,
    bot_username,
    deep_link,
    new_token,
    valid_until,
)
from bot.cli.receipts import (
    NO_USERNAME,
    fetch_bot_username,
    output_line,
    plan_receipts,
    resolve_bot_username,
    run_receipts,
)
from bot.config import Settings
from storage.schema import receipts

TODAY = date(2026, 3, 10)
LINK = "https://t.me/SipasDemoBot?start=AbC-123_xyz"


# --- tokens and links --------------------------------------------------------------------------


def test_tokens_fit_the_deep_link_and_are_unique() -> None:
    tokens = [new_token() for _ in range(10_000)]
    assert all(TOKEN_PATTERN.fullmatch(t) for t in tokens)
    assert {len(t) for t in tokens} == {24}
    assert not any(t.startswith("-") for t in tokens)  # a spreadsheet would see a formula
    assert len(set(tokens)) == 10_000


@pytest.mark.parametrize(
    ("token", "ok"),
    [
        ("a", True),
        ("AZaz09_-", True),
        ("x" * 64, True),
        ("", False),
        ("x" * 65, False),
        ("a b", False),
        ("a+b", False),
        ("a/b", False),
        ("a=", False),
        ("hồsơ", False),
        ("abc\n", False),
    ],
)
def test_token_pattern(token: str, ok: bool) -> None:
    assert bool(TOKEN_PATTERN.fullmatch(token)) is ok


def test_limits_agree_with_the_schema() -> None:
    lengths = {c.name: getattr(c.type, "length", None) for c in receipts.c}
    assert lengths["token"] == MAX_TOKEN_CHARS == 64
    assert lengths["procedure"] == MAX_PROCEDURE_CHARS
    assert lengths["field"] == MAX_FIELD_CHARS


@pytest.mark.parametrize("username", ["SipasDemoBot", "@SipasDemoBot", " @SipasDemoBot "])
def test_deep_link_with_or_without_at(username: str) -> None:
    assert deep_link(username, "AbC-123_xyz") == LINK


@pytest.mark.parametrize(
    "username", ["", "@", "abc", "1SipasBot", "Sipas Bot", "Sipas-Bot", "a" * 33]
)
def test_deep_link_refuses_a_bad_username(username: str) -> None:
    with pytest.raises(ValueError, match="username"):
        deep_link(username, "AbC")


@pytest.mark.parametrize("token", ["", "a b", "x" * 65, "a&start=b"])
def test_deep_link_refuses_a_bad_token(token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        deep_link("SipasDemoBot", token)


def test_valid_until_counts_from_hand_over_or_today() -> None:
    assert valid_until(date(2026, 3, 1), TODAY, 90) == date(2026, 5, 30)
    assert valid_until(None, TODAY, 90) == date(2026, 6, 8)


# --- QR codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("caption", [None, "AbC-123_xyz"])
def test_qr_png_holds_exactly_the_link(tmp_path: Path, caption: str | None) -> None:
    path = tmp_path / "slip.png"
    write_qr(LINK, path, caption=caption)

    qr = qr_code(LINK)
    assert b"".join(d.data for d in qr.data_list) == LINK.encode()
    assert qr.error_correction == 0  # qrcode's constant for level M
    matrix = qr.get_matrix()  # includes the quiet zone
    assert 200 < path.stat().st_size < 20_000
    with Image.open(path) as image:
        assert image.format == "PNG"
        side = len(matrix) * QR_BOX_SIZE
        assert image.width == side
        assert image.height == side if caption is None else image.height > side
        # The picture is the code: every module's centre has the module's colour.
        pixels = image.convert("L")
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                centre = (x * QR_BOX_SIZE + QR_BOX_SIZE // 2, y * QR_BOX_SIZE + QR_BOX_SIZE // 2)
                assert (pixels.getpixel(centre) == 0) is dark
    assert all(not dark for dark in matrix[0][:QR_BORDER])


@pytest.mark.parametrize(
    ("dossier", "name"),
    [
        (None, "0007.png"),
        ("", "0007.png"),
        ("H12.22-260305/0001", "0007_H12.22-260305_0001.png"),
        ("Hồ sơ số 5", "0007_Ho_so_so_5.png"),
        ("../../etc/passwd", "0007_etc_passwd.png"),
        ("///", "0007.png"),
        ("x" * 80, "0007_" + "x" * MAX_DOSSIER_CHARS + ".png"),
    ],
)
def test_qr_file_names_are_safe_and_never_hold_the_token(dossier: str | None, name: str) -> None:
    assert qr_filename(7, dossier) == name


# --- CSV import --------------------------------------------------------------------------------


def _parse(data: bytes, today: date = TODAY, valid_days: int = 90) -> list[ReceiptRequest]:
    parsed = parse_receipts_csv(decode_csv(data), today=today, valid_days=valid_days)
    assert parsed.errors == []
    return parsed.requests


R = ReceiptRequest


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"thu_tuc,linh_vuc,ngay_tra\n1.001234,Xay dung,2026-03-05\n",
            [R("1.001234", "Xay dung", date(2026, 3, 5))],
            id="comma",
        ),
        pytest.param(
            "\ufeffma_ho_so;thu_tuc;linh_vuc;ngay_tra\r\nHS-1;1.001234;Xây dựng;05/03/2026\r\n".encode(),
            [R("1.001234", "Xây dựng", date(2026, 3, 5), "HS-1")],
            id="bom-semicolon-crlf-dd/mm/yyyy",
        ),
        pytest.param(
            "Mã hồ sơ;Thủ tục;Lĩnh vực;Ngày trả\nHS-1;1.001234;;5/3/2026\n".encode(),
            [R("1.001234", None, date(2026, 3, 5), "HS-1")],
            id="vietnamese-headers-one-digit-day",
        ),
        pytest.param(
            b"procedure\tfield\thanded_over_on\nP1\tF\t\n",
            [R("P1", "F", None)],
            id="tab-english-headers",
        ),
        pytest.param(
            b'thu_tuc,linh_vuc\nP1,"Dat dai, nha o"\n',
            [R("P1", "Dat dai, nha o", None)],
            id="quoted-separator",
        ),
        pytest.param(
            b"thu_tuc;ho_ten;linh_vuc\n  P1 ; Nguyen Van A ;  \n;;\n\n;;\n",
            [R("P1", None, None)],
            id="blank-rows-and-unused-columns",
        ),
        pytest.param(
            # The same field typed with combining accents (NFD) is stored composed (NFC).
            "thu_tuc,linh_vuc\nP1,Xa\u0302y du\u031b\u0323ng\n".encode(),
            [R("P1", "Xây dựng", None)],
            id="nfc",
        ),
        pytest.param(
            b"thu_tuc,ngay_tra\nP1,2026-03-05\nP2\n",
            [R("P1", None, date(2026, 3, 5)), R("P2", None, None)],
            id="short-row",
        ),
    ],
)
def test_csv_rows(data: bytes, expected: list[ReceiptRequest]) -> None:
    assert _parse(data) == expected


def test_csv_reports_unused_columns_and_the_dossier_column() -> None:
    parsed = parse_receipts_csv(
        "ma_ho_so;thu_tuc;Họ tên\nHS-1;P;Nguyễn Văn A\n", today=TODAY, valid_days=90
    )
    assert parsed.ignored_columns == ("Họ tên",)
    assert parsed.has_dossier
    assert not parse_receipts_csv("thu_tuc\nP\n", today=TODAY, valid_days=90).has_dossier


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        pytest.param(
            "ma_ho_so;thu_tuc\nHS-1;P1\nHS-2;\nHS-3;P3\n",
            ["Dòng 3: thiếu mã thủ tục / row 3: missing procedure code"],
            id="missing-procedure",
        ),
        pytest.param(
            "thu_tuc,ngay_tra\nP1,2026-02-30\nP2,03/05/26\nP3,2026-03-05\n",
            [
                "Dòng 2: ngày trả “2026-02-30” không hợp lệ (dùng YYYY-MM-DD hoặc DD/MM/YYYY) / row 2: invalid hand-over date “2026-02-30” (use YYYY-MM-DD or DD/MM/YYYY)",
                "Dòng 3: ngày trả “03/05/26” không hợp lệ (dùng YYYY-MM-DD hoặc DD/MM/YYYY) / row 3: invalid hand-over date “03/05/26” (use YYYY-MM-DD or DD/MM/YYYY)",
            ],
            id="bad-dates",
        ),
        pytest.param(
            f"thu_tuc,linh_vuc,ma_ho_so\n{'P' * 65},{'F' * 129},{'D' * 65}\n",
            [
                "Dòng 2: mã thủ tục dài quá 64 ký tự; lĩnh vực dài quá 128 ký tự; mã hồ sơ dài quá 64 ký tự / row 2: procedure code longer than 64 characters; field longer than 128 characters; dossier code longer than 64 characters"
            ],
            id="too-long",
        ),
        pytest.param(
            "ma_ho_so,thu_tuc\nHS-1,P\nHS-2,P\nHS-1,P\n",
            ["Dòng 4: mã hồ sơ “HS-1” trùng với dòng 2 / row 4: dossier code “HS-1” repeats row 2"],
            id="dossier-twice",
        ),
        pytest.param(
            "thu_tuc,linh_vuc\nP,Dat dai, nha o\n",
            [
                "Dòng 2: có 3 ô nhưng tiêu đề chỉ có 2 cột / row 2: 3 cells but the header has 2 columns"
            ],
            id="unquoted-separator",
        ),
        pytest.param(
            "thu_tuc,ngay_tra\nP,2025-12-09\nP,2025-12-10\n",
            [
                "Dòng 2: đã quá hạn khảo sát (ngày trả + 90 ngày; xem --valid-days) / row 2: survey period already over (hand-over date + 90 days; see --valid-days)"
            ],
            id="already-expired",
        ),
        pytest.param(
            "ma_ho_so,linh_vuc\nHS-1,F\n",
            [
                "Dòng 1: thiếu cột thu_tuc (mã thủ tục) / row 1: missing column thu_tuc (or procedure)"
            ],
            id="no-procedure-column",
        ),
        pytest.param(
            "thu_tuc,procedure\nP,P\n",
            [
                "Dòng 1: cột “thu_tuc” và “procedure” trùng nhau / row 1: columns “thu_tuc” and “procedure” mean the same"
            ],
            id="column-twice",
        ),
        pytest.param("", ["tệp trống / the file is empty"], id="empty"),
        pytest.param("\n\n", ["tệp trống / the file is empty"], id="blank"),
        pytest.param(
            "ma_ho_so;thu_tuc\n;;\n",
            ["tệp không có dòng dữ liệu / the file has no data rows"],
            id="bare-separators",
        ),
        pytest.param(
            "thu_tuc\n\n  \n",
            ["tệp không có dòng dữ liệu / the file has no data rows"],
            id="no-rows",
        ),
    ],
)
def test_csv_bad_rows_are_reported_by_line(text: str, messages: list[str]) -> None:
    parsed = parse_receipts_csv(text, today=TODAY, valid_days=90)
    assert [e.message for e in parsed.errors] == messages


def test_a_longer_validity_accepts_an_older_hand_over() -> None:
    assert _parse(b"thu_tuc,ngay_tra\nP,2025-12-09\n", valid_days=91) == [
        R("P", None, date(2025, 12, 9))
    ]


def test_the_dossier_code_is_not_part_of_what_is_stored() -> None:
    requests = _parse(b"ma_ho_so,thu_tuc,linh_vuc\nHS-0042,P,F\n")
    (planned,) = plan_receipts(
        requests, today=TODAY, valid_days=90, make_token=lambda: "tok", make_code=lambda: "1"
    )
    assert "HS-0042" not in astuple(planned)
    assert astuple(planned) == ("tok", "P", "F", None, date(2026, 6, 8), "1")


def test_output_lines() -> None:
    assert output_line("tok", "@SipasDemoBot") == "tok\thttps://t.me/SipasDemoBot?start=tok"
    assert output_line("tok", None) == "tok"
    assert output_line("tok", "SipasDemoBot", dossier="HS-1", with_dossier=True) == (
        "HS-1\ttok\thttps://t.me/SipasDemoBot?start=tok"
    )
    assert output_line("tok", None, dossier=None, with_dossier=True) == "\ttok"


# --- bot username ------------------------------------------------------------------------------


def _settings(tmp_path: Path, **values: Any) -> Settings:
    values.setdefault("telegram_bot_token", None)
    values.setdefault("telegram_bot_username", None)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        **values,
    )


async def test_username_comes_from_the_option_then_the_setting_then_telegram(
    tmp_path: Path,
) -> None:
    asked: list[Settings] = []

    async def fetch(settings: Settings) -> str | None:
        asked.append(settings)
        return "FromGetMeBot"

    with_setting = _settings(tmp_path, telegram_bot_username="@FromSettingBot")
    assert await resolve_bot_username("OptionBot", with_setting, fetch) == "OptionBot"
    assert await resolve_bot_username(None, with_setting, fetch) == "FromSettingBot"
    assert asked == []
    assert await resolve_bot_username(None, _settings(tmp_path), fetch) == "FromGetMeBot"


class _FakeBotApi(BaseHTTPRequestHandler):
    """Answers getMe like the Bot API does, for the token "123:good" only."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/bot123:good/"):
            status, body = (
                200,
                {
                    "ok": True,
                    "result": {
                        "id": 123,
                        "is_bot": True,
                        "first_name": "SIPAS",
                        "username": "SipasDemoBot",
                    },
                },
            )
        else:
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def bot_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    server.shutdown()
    server.server_close()


async def test_username_from_get_me(tmp_path: Path, bot_api: str) -> None:
    settings = _settings(tmp_path, telegram_bot_token="123:good", telegram_api_base_url=bot_api)
    assert await fetch_bot_username(settings) == "SipasDemoBot"


async def test_a_failed_get_me_is_one_line_and_no_username(
    tmp_path: Path, bot_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path, telegram_bot_token="123:bad", telegram_api_base_url=bot_api)
    assert await fetch_bot_username(settings) is None
    err = capsys.readouterr().err
    assert err.startswith("Không hỏi được Telegram (getMe) / getMe failed")
    assert len(err.splitlines()) == 1


async def test_no_token_no_get_me(tmp_path: Path) -> None:
    assert await fetch_bot_username(_settings(tmp_path)) is None


def test_bot_username_strips_the_at() -> None:
    assert bot_username("@SipasDemoBot") == "SipasDemoBot"


# --- the command -------------------------------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot")
    add_receipts_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["receipts", *argv])


def _stored(tmp_path: Path) -> list[tuple[object, ...]]:
    path = tmp_path / "bot.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT * FROM receipts ORDER BY id"))


CODE = r"\t([1-9][0-9]{3}-[0-9]{4}-[0-9]{2})"
LINE = re.compile(r"^([A-Za-z0-9_-]{24})\thttps://t\.me/SipasDemoBot\?start=\1" + CODE + "$")


async def test_issue_prints_a_line_and_writes_a_qr_per_receipt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path, telegram_bot_username="@SipasDemoBot")
    args = _args(
        "issue", "--procedure", "1.001234", "--field", "Xây dựng", "--count", "3",
        "--handed-over", "2026-03-05", "--valid-days", "3650", "--qr", str(tmp_path / "qr"),
    )  # fmt: skip
    assert await run_receipts(args, settings) == 0

    out, err = capsys.readouterr()
    tokens = [m.group(1) for line in out.splitlines() if (m := LINE.fullmatch(line))]
    assert len(tokens) == len(out.splitlines()) == 3
    names = sorted(p.name for p in (tmp_path / "qr").iterdir())
    assert names == ["0001.png", "0002.png", "0003.png"]  # in the printed order, no token
    assert not any(t in name for t in tokens for name in names)
    assert "created 3 receipts, valid through 2036-03-02" in err
    rows = _stored(tmp_path)
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        (t, "1.001234", "Xây dựng", "2026-03-05", "2036-03-02") for t in tokens
    ]


async def test_import_prints_dossier_codes_and_never_stores_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(_settings(tmp_path).zone).date()
    csv_file = tmp_path / "hand-over.csv"
    csv_file.write_bytes(
        "\ufeffMã hồ sơ;Thủ tục;Lĩnh vực;Ngày trả;Họ tên\n"
        f"H12.22/0001;1.001234;Xây dựng;{today:%d/%m/%Y};Nguyễn Văn A\n"
        ";2.000111;;;\n".encode()
    )
    settings = _settings(tmp_path, telegram_bot_username="SipasDemoBot")
    args = _args("import", str(csv_file), "--qr", str(tmp_path / "qr"))
    assert await run_receipts(args, settings) == 0

    out, err = capsys.readouterr()
    first, second = (line.split("\t") for line in out.splitlines())
    assert first[0] == "H12.22/0001"
    assert second[0] == ""
    assert LINE.fullmatch("\t".join(first[1:]))
    assert LINE.fullmatch("\t".join(second[1:]))
    assert "ignored columns: Họ tên" in err
    assert sorted(p.name for p in (tmp_path / "qr").iterdir()) == sorted(
        ["0001_H12.22_0001.png", "0002.png"]
    )
    rows = _stored(tmp_path)
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        (first[1], "1.001234", "Xây dựng", today.isoformat(), (today + timedelta(90)).isoformat()),
        (second[1], "2.000111", None, None, (today + timedelta(90)).isoformat()),
    ]
    stored_text = repr(rows)
    assert "H12.22" not in stored_text
    assert "Nguyễn" not in stored_text


async def test_a_bad_csv_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("ma_ho_so;thu_tuc\nHS-1;P1\nHS-2;\n", encoding="utf-8")
    settings = _settings(tmp_path, telegram_bot_username="SipasDemoBot")
    args = _args("import", str(csv_file), "--qr", str(tmp_path / "qr"))
    assert await run_receipts(args, settings) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "Dòng 3: thiếu mã thủ tục / row 3: missing procedure code",
        "Chưa tạo phiếu nào / no receipt was created",
    ]
    assert _stored(tmp_path) == []
    assert not (tmp_path / "qr").exists()


async def test_a_csv_that_is_not_utf8_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "cp1258.csv"
    csv_file.write_bytes("thu_tuc;linh_vuc\nP;Xây\n".encode("cp1258"))
    args = _args("import", str(csv_file), "--bot-username", "SipasDemoBot")
    assert await run_receipts(args, _settings(tmp_path)) == 2
    assert "is not UTF-8" in capsys.readouterr().err
    assert _stored(tmp_path) == []


async def test_without_a_username_tokens_are_printed_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        await run_receipts(_args("issue", "--procedure", "P", "--count", "2"), _settings(tmp_path))
        == 0
    )
    out, err = capsys.readouterr()
    lines = [line.split("\t") for line in out.splitlines()]
    assert all(TOKEN_PATTERN.fullmatch(token) for token, _ in lines)
    assert all(is_valid(code.replace("-", "")) for _, code in lines)
    assert len(out.splitlines()) == 2
    assert err.splitlines()[0] == NO_USERNAME
    assert len(_stored(tmp_path)) == 2


async def test_without_a_username_no_qr_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args("issue", "--procedure", "P", "--qr", str(tmp_path / "qr"))
    assert await run_receipts(args, _settings(tmp_path)) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", NO_USERNAME + "\n")
    assert _stored(tmp_path) == []
    assert not (tmp_path / "qr").exists()


async def test_an_expired_hand_over_date_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args("issue", "--procedure", "P", "--handed-over", "2020-01-01")
    assert await run_receipts(args, _settings(tmp_path)) == 2
    assert "survey period already over" in capsys.readouterr().err
    assert _stored(tmp_path) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["issue"],
        ["issue", "--procedure", "  "],
        ["issue", "--procedure", "P" * 65],
        ["issue", "--procedure", "P", "--count", "0"],
        ["issue", "--procedure", "P", "--count", "10001"],
        ["issue", "--procedure", "P", "--count", "many"],
        ["issue", "--procedure", "P", "--handed-over", "2026-13-01"],
        ["issue", "--procedure", "P", "--valid-days", "0"],
        ["issue", "--procedure", "P", "--bot-username", "no"],
        ["import"],
        [],
    ],
)
def test_bad_arguments_stop_with_exit_code_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        _args(*argv)
    assert stopped.value.code == 2


def test_arguments_and_defaults() -> None:
    args = _args("issue", "--procedure", "P", "--bot-username", "@SipasDemoBot")
    assert (args.receipts_command, args.procedure, args.field, args.count) == (
        "issue",
        "P",
        None,
        1,
    )
    assert (args.handed_over, args.valid_days, args.qr) == (None, 90, None)
    assert args.bot_username == "SipasDemoBot"
    args = _args("import", "f.csv", "--valid-days", "30", "--qr", "out")
    assert (args.receipts_command, args.file, args.valid_days, args.qr) == (
        "import", Path("f.csv"), 30, Path("out"),
    )  # fmt: skip


# --- counts read as English does: 1 receipt, 2 receipts ------------------------------------


@pytest.mark.parametrize(
    ("count", "created", "written"),
    [
        (1, "/ created 1 receipt, valid through", "/ wrote 1 QR code to:"),
        (2, "/ created 2 receipts, valid through", "/ wrote 2 QR codes to:"),
    ],
)
async def test_issue_counts_in_the_singular_and_plural(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int, created: str, written: str
) -> None:
    settings = _settings(tmp_path, telegram_bot_username="SipasDemoBot")
    qr = str(tmp_path / "qr")
    args = _args("issue", "--procedure", "P", "--count", str(count), "--qr", qr)
    assert await run_receipts(args, settings) == 0
    created_line, written_line = capsys.readouterr().err.splitlines()
    assert created_line.startswith(f"Đã tạo {count} phiếu khảo sát, dùng được đến hết ")
    assert created in created_line
    assert written_line == f"Đã ghi {count} mã QR vào {written} {qr}"


@pytest.mark.parametrize(
    ("text", "valid_days", "english"),
    [
        # The plural ("3 cells but the header has 2 columns") is checked with the bad rows above.
        ("thu_tuc\nP,x\n", 90, "row 2: 2 cells but the header has 1 column"),
        ("thu_tuc,ngay_tra\nP,2026-03-08\n", 1, "(hand-over date + 1 day; see --valid-days)"),
    ],
)
def test_csv_messages_count_in_the_singular_and_plural(
    text: str, valid_days: int, english: str
) -> None:
    (error,) = parse_receipts_csv(text, today=TODAY, valid_days=valid_days).errors
    assert error.message.endswith(english)


async def test_an_expired_hand_over_date_counts_one_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args("issue", "--procedure", "P", "--handed-over", "2020-01-01", "--valid-days", "1")
    assert await run_receipts(args, _settings(tmp_path)) == 2
    assert "hand-over + 1 day is past" in capsys.readouterr().err


def test_counted() -> None:
    from bot.cli.words import counted

    table = {0: "0 receipts", 1: "1 receipt", 2: "2 receipts", 21: "21 receipts"}
    assert {n: counted(n, "receipt", "receipts") for n in table} == table


async def test_issue_with_web_links_for_the_web_chat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--web URL``: each QR code opens the web chat at ``URL/?r=TOKEN``; no Telegram name
    is needed."""
    settings = _settings(tmp_path)
    qr = tmp_path / "qr"
    args = _args("issue", "--procedure", "1.009972", "--count", "2", "--web",
                 "https://hoidap.sxd.gov.vn/", "--qr", str(qr))  # fmt: skip
    assert await run_receipts(args, settings) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2
    for number, line in enumerate(lines, start=1):
        token, link, code = line.split("\t")
        assert link == f"https://hoidap.sxd.gov.vn/?r={token}"
        assert is_valid(code.replace("-", ""))
        assert (qr / f"{number:04d}.png").exists()
    assert "TELEGRAM_BOT_USERNAME" not in err


@pytest.mark.parametrize(
    "url", ["hoidap.sxd.gov.vn", "ftp://x.vn", "https://x.vn/?a=1", "javascript:x"]
)
def test_web_needs_a_web_address(url: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        _args("issue", "--procedure", "P", "--web", url)
    assert stopped.value.code == 2


def _dark(image: Image.Image, x: int, y: int) -> bool:
    value = image.getpixel((x, y))
    return isinstance(value, int) and value < 128


def _code_band(path: Path, link: str) -> tuple[int, int]:
    """The height and inked width of what is printed under the QR code of ``path``."""
    side = len(qr_code(link).get_matrix()) * QR_BOX_SIZE
    with Image.open(path) as image:
        band = image.convert("L").crop((0, side, image.width, image.height))
        ink = [x for y in range(band.height) for x in range(band.width) if _dark(band, x, y)]
        return band.height, max(ink) - min(ink) if ink else 0


@pytest.mark.parametrize(
    "how",
    [[], ["--web", "https://hoidap.sxd.gov.vn/"], ["--zalo"]],
    ids=["telegram", "web", "zalo"],
)
async def test_every_slip_shows_the_short_code_large(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: list[str]
) -> None:
    """Telegram's deep link keeps the long token, the web link too; every slip, whichever
    channel it opens, prints the short code large under the QR code, as the Zalo slip does
    (the code opens the receipt on every channel)."""
    settings = _settings(
        tmp_path, telegram_bot_username="SipasDemoBot", zalo_oa_id="1234567890123456789"
    )
    qr = tmp_path / "qr"
    args = _args("issue", "--procedure", "1.009972", "--count", "2", "--qr", str(qr), *how)
    assert await run_receipts(args, settings) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    for number, (token, link, *rest) in enumerate(lines, start=1):
        code = rest[-1]
        assert is_valid(code.replace("-", ""))
        assert code[4] == code[9] == "-"
        if not how:
            assert link == f"https://t.me/SipasDemoBot?start={token}"
        height, width = _code_band(qr / f"{number:04d}.png", link)
        with Image.open(qr / f"{number:04d}.png") as image:
            full = image.width
        assert height >= (2 + 1 + CODE_MODULES + 1) * QR_BOX_SIZE  # caption, then the code
        assert width > full / 2


def test_the_short_code_is_printed_large_under_the_caption(tmp_path: Path) -> None:
    """The Zalo slip: a small "send" line, then the code in type over twice its height, in
    dark pixels spanning most of the width (a citizen reads it from paper)."""
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    write_qr(LINK, small, caption="Gửi mã / send:")
    write_qr(LINK, large, caption="Gửi mã / send:", code="4821-7730-15")
    with Image.open(small) as a, Image.open(large) as b:
        assert b.height - a.height >= 5 * QR_BOX_SIZE
        band = b.convert("L").crop((0, a.height, b.width, b.height))
        ink = {(x, y) for y in range(band.height) for x in range(band.width) if _dark(band, x, y)}
        dark = [x for x, _ in ink]
        rows = [y for _, y in ink]
    assert max(dark) - min(dark) > b.width / 2
    assert max(rows) - min(rows) >= 3 * QR_BOX_SIZE  # digits about 4 modules tall


async def test_a_short_code_already_issued_is_drawn_again(tmp_path: Path) -> None:
    from bot.cli.receipts import _unused_codes
    from storage import migrate, open_engine, write_transaction
    from storage.queries.receipts import NewReceipt, issue_receipts

    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    engine = open_engine(url)
    await migrate(engine)
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, [NewReceipt("old" * 8, "P", short_code="4821773015")], now)
    await engine.dispose()
    planned = [
        NewReceipt("a" * 24, "P", short_code="4821773015"),
        NewReceipt("b" * 24, "P", short_code="1000000009"),
    ]
    fresh = await _unused_codes(url, planned)
    assert fresh[1] == planned[1]
    assert fresh[0].token == planned[0].token
    assert fresh[0].short_code not in (None, "4821773015", "1000000009")


README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    "named",
    [
        # The quick start in both languages: issue (counted below), then import.
        f"`qr/{qr_filename(1)}`, `qr/{qr_filename(2)}`",
        f"`qr/{qr_filename(1, 'MARK')}`".replace("MARK", "<mã hồ sơ>"),
        f"`qr/{qr_filename(1, 'MARK')}`".replace("MARK", "<dossier>"),
        f"`qr/{qr_filename(2)}`",  # an imported row without a dossier code
    ],
    ids=["issue", "import-vi", "import-en", "import-no-dossier"],
)
def test_the_readme_names_the_qr_files_the_code_writes(named: str) -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())  # lines rewrapped
    assert named in text
    issued = f"`qr/{qr_filename(1)}`, `qr/{qr_filename(2)}`"
    assert text.count(issued) == 2  # in both languages
    # Never a file named after the token (the slip's link): the code never writes one.
    assert not re.search(r"qr/<(?:mã|token|ma)>\.png", text, re.IGNORECASE)
