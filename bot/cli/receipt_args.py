"""The ``receipts issue|import`` command line: its arguments, each checked and limited as it
is read (moved from receipts.py)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Final

from bot.cli.words import both
from conversations.effects import Ref

from .receipt_csv import MAX_FIELD_CHARS, MAX_PROCEDURE_CHARS, _clean, parse_date, too_long
from .receipt_tokens import bot_username

DEFAULT_VALID_DAYS: Final = 90
MAX_VALID_DAYS: Final = 3650
MAX_COUNT: Final = 10_000


def _text_arg(name: str, limit: int) -> Callable[[str], str]:
    """A text argument named by the catalog key ``name`` (``cli.name.*``) in its errors."""

    def parse(value: str) -> str:
        value = _clean(value)
        if not value:
            raise argparse.ArgumentTypeError(both("cli.arg.empty", (("name", Ref(name)),)))
        if len(value) > limit:
            raise argparse.ArgumentTypeError(" / ".join(too_long(name, limit)))
        return value

    return parse


def _int_arg(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        message = both("cli.arg.number_range", (("low", low), ("high", high)))
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(message) from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(message)
        return number

    return parse


def _date_arg(value: str) -> date:
    parsed = parse_date(value.strip())
    if parsed is None:
        raise argparse.ArgumentTypeError(both("cli.arg.bad_date"))
    return parsed


def _web_arg(value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?", value):
        raise argparse.ArgumentTypeError(f"{both('cli.arg.not_web')}: {value!r}")
    return value


def _username_arg(value: str) -> str:
    try:
        return bot_username(value)
    except ValueError:
        raise argparse.ArgumentTypeError(both("cli.arg.bad_username")) from None


def add_receipts_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``receipts issue`` and ``receipts import`` to the ``python -m bot`` parser."""
    receipts = sub.add_parser(
        "receipts",
        help="tạo mã QR khảo sát cho phiếu hẹn trả kết quả / issue survey receipts (QR codes)",
        description=(
            "Tạo mã khảo sát (và mã QR) in trên phiếu hẹn trả kết quả. "
            "/ Issue survey tokens (and QR codes) to print on result slips."
        ),
    )
    actions = receipts.add_subparsers(
        dest="receipts_command", required=True, metavar="{issue,import}"
    )
    issue = actions.add_parser(
        "issue", help="tạo N phiếu cho một thủ tục / issue N receipts for one procedure"
    )
    issue.add_argument(
        "--procedure",
        required=True,
        metavar="CODE",
        type=_text_arg("cli.name.procedure", MAX_PROCEDURE_CHARS),
        help="mã thủ tục / procedure code",
    )
    issue.add_argument(
        "--field",
        default=None,
        type=_text_arg("cli.name.field", MAX_FIELD_CHARS),
        help="lĩnh vực / field",
    )
    issue.add_argument(
        "--count",
        default=1,
        metavar="N",
        type=_int_arg(1, MAX_COUNT),
        help=f"số phiếu (mặc định 1, tối đa {MAX_COUNT}) / how many (default 1)",
    )
    issue.add_argument(
        "--handed-over",
        default=None,
        metavar="YYYY-MM-DD",
        type=_date_arg,
        help="ngày trả kết quả / hand-over date",
    )
    _common_arguments(issue)
    imports = actions.add_parser(
        "import",
        help="một phiếu cho mỗi hồ sơ trong tệp CSV / one receipt per dossier in a CSV file",
        description=(
            "Cột / columns: ma_ho_so (không lưu / never stored), thu_tuc (bắt buộc / required), "
            "linh_vuc, ngay_tra (YYYY-MM-DD, DD/MM/YYYY). UTF-8, dấu phẩy hoặc chấm phẩy "
            "/ comma or semicolon separated."
        ),
    )
    imports.add_argument("file", metavar="FILE", type=Path, help="tệp CSV / CSV file")
    _common_arguments(imports)
    for command in (issue, actions.choices["import"]):
        command.add_argument(
            "--web",
            default=None,
            metavar="URL",
            type=_web_arg,
            help=(
                "mã QR mở trang trò chuyện trên web tại URL (ví dụ https://hoidap.sxd.gov.vn) "
                "/ QR codes open the web chat at URL, straight into the receipt's survey"
            ),
        )
        command.add_argument(
            "--zalo",
            action="store_true",
            help=(
                "mã QR mở chat với Zalo OA (ZALO_OA_ID); người dân gửi mã in dưới mã QR "
                "/ QR codes open the Zalo OA chat; the citizen sends the code printed below"
            ),
        )


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--valid-days",
        default=DEFAULT_VALID_DAYS,
        metavar="N",
        type=_int_arg(1, MAX_VALID_DAYS),
        help=(
            f"số ngày được khảo sát sau ngày trả (mặc định {DEFAULT_VALID_DAYS}) "
            "/ days the survey stays open after hand-over"
        ),
    )
    parser.add_argument(
        "--qr",
        default=None,
        metavar="DIR",
        type=Path,
        help="ghi ảnh PNG mã QR vào thư mục / write PNG QR codes to this folder",
    )
    parser.add_argument(
        "--bot-username",
        default=None,
        metavar="NAME",
        type=_username_arg,
        help="tên bot trong liên kết / bot username for the links (default: TELEGRAM_BOT_USERNAME)",
    )
