"""Receipts for the survey QR codes: ``python -m bot receipts issue|import``.

A receipt (phiếu hẹn / giấy biên nhận trả kết quả) printed for a dossier carries a QR code of
``https://t.me/<bot>?start=<token>``; opening it sends ``/start <token>`` and starts the
survey for that receipt. The token is random and only the database ties it to a procedure,
a field and dates; the dossier code is used to name files and lines, never stored, so a
survey cannot be traced back to a person.

The pure parts (tokens, links, CSV parsing, validity dates, output lines) come first; the thin
I/O (command line, Telegram getMe, database, files) is at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import re
import secrets
import sys
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import qrcode
from qrcode.image.pil import PilImage

from bot.channels.zalo_codes import new_code, printed
from bot.cli.words import counted
from bot.config import Settings
from conversations.limits import MAX_COMMAND_ARG_CHARS
from storage.queries.receipts import IssuedReceipt, NewReceipt

#: Telegram's deep-link ``start`` parameter: at most 64 characters of ``[A-Za-z0-9_-]``.
MAX_TOKEN_CHARS: Final = MAX_COMMAND_ARG_CHARS
TOKEN_PATTERN: Final = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_TOKEN_CHARS}}}$")
#: Same rule as the TELEGRAM_BOT_USERNAME setting; the "@" is optional and dropped.
USERNAME_PATTERN: Final = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
#: 18 random bytes = 144 bits, 24 characters: unguessable, and short enough that the QR code
#: stays small (version 4) with room to spare under the 64-character limit.
TOKEN_BYTES: Final = 18

#: Column lengths of ``storage.schema.receipts`` (a test checks they agree).
MAX_PROCEDURE_CHARS: Final = 64
MAX_FIELD_CHARS: Final = 128
#: The dossier code is never stored; the limit only keeps file names and lines sane.
MAX_DOSSIER_CHARS: Final = 64

DEFAULT_VALID_DAYS: Final = 90
MAX_VALID_DAYS: Final = 3650
MAX_COUNT: Final = 10_000

#: Error correction M survives a smudge or a fold on a paper slip. 8-pixel modules give a
#: 328-pixel image for a 24-character token, still sharp when printed 3 cm wide at 300 dpi;
#: the 4-module quiet zone is the standard's minimum for reliable scanning.
QR_BOX_SIZE: Final = 8
QR_BORDER: Final = 4
#: How many modules high the short code is printed (5: about 3.4 mm on a 3 cm code).
CODE_MODULES: Final = 5

NO_USERNAME: Final = (
    "Chưa biết tên bot Telegram: đặt TELEGRAM_BOT_USERNAME trong .env (hoặc TELEGRAM_BOT_TOKEN "
    "để hỏi Telegram), hoặc dùng --bot-username / bot username unknown: set "
    "TELEGRAM_BOT_USERNAME in .env (or TELEGRAM_BOT_TOKEN to ask Telegram), or pass --bot-username"
)

# A problem with a CSV row or the file: (Vietnamese, English).
Problem = tuple[str, str]


# --- tokens and links --------------------------------------------------------------------------


def new_token() -> str:
    """A fresh unguessable token of ``[A-Za-z0-9_-]``, usable as a Telegram ``start`` value."""
    while True:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        # A leading "-" makes a spreadsheet read the pasted line as a formula, and a command
        # line read the token as an option; redrawing costs under 1/64 of a bit of entropy.
        if not token.startswith("-"):
            return token


def bot_username(username: str) -> str:
    """``username`` without its "@"; raises ValueError when it is not a Telegram username."""
    match = USERNAME_PATTERN.fullmatch(username.strip())
    if match is None:
        raise ValueError(f"not a Telegram bot username: {username!r}")
    return match.group(1)


def deep_link(username: str, token: str) -> str:
    """``https://t.me/<username>?start=<token>``; raises ValueError on a bad username or token."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"not a receipt token (1–64 of A-Z a-z 0-9 _ -): {token!r}")
    return f"https://t.me/{bot_username(username)}?start={token}"


def web_link(base: str, token: str) -> str:
    """``BASE/?r=<token>``: the web chat opens that receipt's survey (and takes the code out
    of the address bar at once)."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"not a receipt token (1–64 of A-Z a-z 0-9 _ -): {token!r}")
    return f"{base.rstrip('/')}/?r={token}"


def valid_until(handed_over_on: date | None, today: date, valid_days: int) -> date:
    """Last day the receipt opens a survey: the hand-over date (or today) plus the period."""
    return (handed_over_on or today) + timedelta(days=valid_days)


# --- QR codes ----------------------------------------------------------------------------------


def qr_code(link: str) -> qrcode.QRCode:
    """The QR code ``write_qr`` draws for ``link``."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=QR_BOX_SIZE, border=QR_BORDER
    )
    # One 8-bit segment holding exactly the link: what a phone's scanner will read back.
    qr.add_data(link, optimize=0)
    qr.make(fit=True)
    return qr


def write_qr(link: str, path: Path, caption: str | None = None, code: str | None = None) -> None:
    """Writes ``link`` as a black-on-white PNG QR code, with ``caption`` under it if given,
    and under that ``code`` in large type (``CODE_MODULES`` modules high), if given.

    The caption is meant for the token: a citizen whose phone cannot scan can still type
    ``/start TOKEN`` to the bot; on Zalo they type the short code, hence its size.
    """
    from PIL import Image, ImageDraw

    image = qr_code(link).make_image(image_factory=PilImage).get_image().convert("L")
    width, height = image.size
    lines = [(text, size) for text, size in ((caption, 2), (code, CODE_MODULES)) if text]
    if lines:
        extra = sum((size + 1) * QR_BOX_SIZE for _, size in lines)
        # Below the quiet zone, so the text never touches the code.
        slip = Image.new("L", (width, height + extra), color=255)
        slip.paste(image, (0, 0))
        draw = ImageDraw.Draw(slip)
        top = height
        for text, size in lines:
            font = _caption_font(text, width - 2 * QR_BOX_SIZE, size * QR_BOX_SIZE)
            # Centred by hand: text anchors need FreeType, which a minimal Pillow may lack.
            left = (width - draw.textlength(text, font=font)) / 2
            draw.text((left, top), text, fill=0, font=font)
            top += (size + 1) * QR_BOX_SIZE
        image = slip
    image.save(path, format="PNG")


def _dejavu() -> str | None:
    """DejaVu Sans (bundled with matplotlib) has the Vietnamese letters Pillow's default font
    lacks ("Gửi mã" would print as boxes)."""
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    except ImportError:
        return None
    return str(path) if path.exists() else None


_CAPTION_FONT = _dejavu()


def _caption_font(text: str, width: int, height: int = 2 * QR_BOX_SIZE) -> Any:
    """The largest default font, up to ``height`` pixels, that fits ``text`` in ``width``."""
    from PIL import ImageFont

    font: Any = None
    for size in range(height, 7, -1):
        try:
            font = (
                ImageFont.truetype(_CAPTION_FONT, size)
                if _CAPTION_FONT
                else (ImageFont.load_default(size=size))
            )
        except (ImportError, OSError):  # a Pillow without FreeType: its small bitmap font
            return ImageFont.load_default()
        if font.getlength(text) <= width:
            break
    return font


def qr_filename(number: int, dossier: str | None = None) -> str:
    """``0001.png``, or ``0001_<dossier>.png`` with the dossier code made file-safe:
    ``number`` is the receipt's place (from 1) in the printed list. Never the token: a folder
    of images named by token and dossier is a table joining dossiers to survey links."""
    stem = safe_stem(dossier) if dossier else ""
    return f"{number:04d}_{stem}.png" if stem else f"{number:04d}.png"


def safe_stem(text: str) -> str:
    """``text`` as a portable file name part: ASCII letters, digits, ``.``, ``_`` and ``-``."""
    ascii_text = _fold(text)
    # Leading dots and dashes would make a hidden file or a name read as an option.
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")[:MAX_DOSSIER_CHARS]


def _fold(text: str) -> str:
    """Vietnamese text without diacritics (``Mã hồ sơ`` → ``Ma ho so``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- CSV import --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptRequest:
    """One receipt to issue; ``dossier`` names its line and QR file and is never stored."""

    procedure: str
    field: str | None = None
    handed_over_on: date | None = None
    dossier: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one CSV row (``line`` 1 is the header), or the file (``None``)."""

    line: int | None
    problems: tuple[Problem, ...]

    @property
    def message(self) -> str:
        vi = "; ".join(p[0] for p in self.problems)
        en = "; ".join(p[1] for p in self.problems)
        if self.line is None:
            return f"{vi} / {en}"
        return f"Dòng {self.line}: {vi} / row {self.line}: {en}"


@dataclass(frozen=True, slots=True)
class CsvImport:
    """A parsed CSV file: receipts to issue, or the errors that stop the import."""

    requests: list[ReceiptRequest]
    errors: list[RowError]
    #: True when the file has a dossier-code column; every output line then starts with it.
    has_dossier: bool = False
    ignored_columns: tuple[str, ...] = ()


# Header names, compared without diacritics, case or spacing: "Mã hồ sơ" is ma_ho_so.
COLUMNS: Final = {
    "ma_ho_so": "dossier",
    "dossier": "dossier",
    "thu_tuc": "procedure",
    "procedure": "procedure",
    "linh_vuc": "field",
    "field": "field",
    "ngay_tra": "handed_over_on",
    "handed_over_on": "handed_over_on",
}


def column_key(name: str) -> str:
    """A header cell as a column key: ``" Ngày trả "`` → ``ngay_tra``."""
    return re.sub(r"[^a-z0-9]+", "_", _fold(name).lower()).strip("_")


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY`` (day and month may have one digit); None otherwise."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:  # 2026-02-30 and the like
        return None
    return None


def decode_csv(data: bytes) -> str:
    """UTF-8 text with or without a BOM (Excel's "CSV UTF-8" writes one); raises ValueError."""
    return data.decode("utf-8-sig")


def _delimiter(header_line: str) -> str:
    # Excel in a Vietnamese locale writes ";" (the comma is the decimal separator there); a
    # copy from a spreadsheet gives tabs. The header names contain none of these.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(cell: str) -> str:
    # NFC so that the same procedure typed on two systems groups together in reports; inner
    # whitespace (including a newline in a quoted cell) becomes one space.
    return unicodedata.normalize("NFC", " ".join(cell.split()))


def parse_receipts_csv(text: str, *, today: date, valid_days: int) -> CsvImport:
    """Reads and checks every row; any error means no receipt may be created.

    ``today`` and ``valid_days`` reject rows whose survey period is already over: a QR code
    printed for them would only ever get "this receipt has expired".
    """
    text = text.removeprefix("\ufeff")
    delimiter = _delimiter(text.lstrip("\r\n").split("\n", 1)[0])
    records = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    header: list[str] | None = None
    for _, cells in records:
        if any(c.strip() for c in cells):
            header = cells
            break
    if header is None:
        return CsvImport([], [RowError(None, (("tệp trống", "the file is empty"),))])

    columns: dict[str, int] = {}
    ignored: list[str] = []
    header_problems: list[Problem] = []
    for index, name in enumerate(header):
        key = column_key(name)
        column = COLUMNS.get(key)
        if column is None:
            if key:
                ignored.append(name.strip())
        elif column in columns:
            first = header[columns[column]].strip()
            header_problems.append(
                (f"cột “{first}” và “{name.strip()}” trùng nhau",
                 f"columns “{first}” and “{name.strip()}” mean the same")
            )  # fmt: skip
        else:
            columns[column] = index
    if "procedure" not in columns:
        header_problems.append(
            ("thiếu cột thu_tuc (mã thủ tục)", "missing column thu_tuc (or procedure)")
        )
    if header_problems:
        return CsvImport([], [RowError(1, tuple(header_problems))], ignored_columns=tuple(ignored))

    requests: list[ReceiptRequest] = []
    errors: list[RowError] = []
    dossier_rows: dict[str, int] = {}
    for line, raw in records:
        cells = [_clean(c) for c in raw]
        if not any(cells):
            continue  # Excel leaves rows of bare separators at the end

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index] if index is not None and index < len(cells) else ""

        problems: list[Problem] = []
        if any(cells[len(header) :]):
            problems.append(
                (f"có {len(cells)} ô nhưng tiêu đề chỉ có {len(header)} cột",
                 f"{counted(len(cells), 'cell', 'cells')} but the header has "
                 f"{counted(len(header), 'column', 'columns')}")
            )  # fmt: skip
        procedure = cell("procedure")
        if not procedure:
            problems.append(("thiếu mã thủ tục", "missing procedure code"))
        elif len(procedure) > MAX_PROCEDURE_CHARS:
            problems.append(
                (f"mã thủ tục dài quá {MAX_PROCEDURE_CHARS} ký tự",
                 f"procedure code longer than {MAX_PROCEDURE_CHARS} characters")
            )  # fmt: skip
        field = cell("field")
        if len(field) > MAX_FIELD_CHARS:
            problems.append(
                (f"lĩnh vực dài quá {MAX_FIELD_CHARS} ký tự",
                 f"field longer than {MAX_FIELD_CHARS} characters")
            )  # fmt: skip
        dossier = cell("dossier")
        if len(dossier) > MAX_DOSSIER_CHARS:
            problems.append(
                (f"mã hồ sơ dài quá {MAX_DOSSIER_CHARS} ký tự",
                 f"dossier code longer than {MAX_DOSSIER_CHARS} characters")
            )  # fmt: skip
        elif dossier in dossier_rows:
            # One row per dossier: a repeat would give the same citizen two surveys.
            problems.append(
                (f"mã hồ sơ “{dossier}” trùng với dòng {dossier_rows[dossier]}",
                 f"dossier code “{dossier}” repeats row {dossier_rows[dossier]}")
            )  # fmt: skip
        elif dossier:
            dossier_rows[dossier] = line
        raw_date = cell("handed_over_on")
        handed_over_on = parse_date(raw_date) if raw_date else None
        if raw_date and handed_over_on is None:
            problems.append(
                (f"ngày trả “{raw_date}” không hợp lệ (dùng YYYY-MM-DD hoặc DD/MM/YYYY)",
                 f"invalid hand-over date “{raw_date}” (use YYYY-MM-DD or DD/MM/YYYY)")
            )  # fmt: skip
        elif valid_until(handed_over_on, today, valid_days) < today:
            problems.append(
                (f"đã quá hạn khảo sát (ngày trả + {valid_days} ngày; xem --valid-days)",
                 f"survey period already over (hand-over date + "
                 f"{counted(valid_days, 'day', 'days')}; see --valid-days)")
            )  # fmt: skip
        if problems:
            errors.append(RowError(line, tuple(problems)))
            continue
        requests.append(ReceiptRequest(procedure, field or None, handed_over_on, dossier or None))
    if not requests and not errors:
        errors.append(RowError(None, (("tệp không có dòng dữ liệu", "the file has no data rows"),)))
    return CsvImport(requests, errors, "dossier" in columns, tuple(ignored))


# --- planning and output -----------------------------------------------------------------------


def plan_receipts(
    requests: Sequence[ReceiptRequest],
    *,
    today: date,
    valid_days: int,
    make_token: Callable[[], str] = new_token,
    make_code: Callable[[], str] = new_code,
) -> list[NewReceipt]:
    """The rows to insert for ``requests``, in order; the dossier code is left out on purpose.
    Each has a long token (Telegram's deep link, the web link) and a short code (typed on
    Zalo), both unique within the batch."""
    codes: dict[str, None] = {}  # in drawing order
    while len(codes) < len(requests):
        codes[make_code()] = None
    return [
        NewReceipt(
            make_token(),
            r.procedure,
            r.field,
            r.handed_over_on,
            valid_until(r.handed_over_on, today, valid_days),
            code,
        )
        for r, code in zip(requests, codes, strict=True)
    ]


def output_line(
    token: str, username: str | None, *, dossier: str | None = None, with_dossier: bool = False
) -> str:
    """``[DOSSIER\\t]TOKEN[\\tLINK]``: tab-separated, so it pastes into a spreadsheet."""
    cells = [dossier or ""] if with_dossier else []
    cells.append(token)
    if username:
        cells.append(deep_link(username, token))
    return "\t".join(cells)


def _validity_summary(issued: Iterable[IssuedReceipt]) -> str:
    dates = sorted({r.valid_until for r in issued if r.valid_until is not None})
    if not dates:
        return ""
    if len(dates) == 1:
        return dates[0].isoformat()
    return f"{dates[0].isoformat()}…{dates[-1].isoformat()}"


# --- command line ------------------------------------------------------------------------------


def _text_arg(name_vi: str, name_en: str, limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = _clean(value)
        if not value:
            raise argparse.ArgumentTypeError(f"{name_vi} trống / empty {name_en}")
        if len(value) > limit:
            raise argparse.ArgumentTypeError(
                f"{name_vi} dài quá {limit} ký tự / {name_en} longer than {limit} characters"
            )
        return value

    return parse


def _int_arg(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        message = f"cần một số từ {low} đến {high} / expected a number from {low} to {high}"
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
        raise argparse.ArgumentTypeError(
            "ngày không hợp lệ, dùng YYYY-MM-DD / invalid date, use YYYY-MM-DD"
        )
    return parsed


def _web_arg(value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?", value):
        raise argparse.ArgumentTypeError(
            f"không phải địa chỉ web / not a web address (https://host[/path]): {value!r}"
        )
    return value


def _username_arg(value: str) -> str:
    try:
        return bot_username(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "tên bot không hợp lệ / not a Telegram bot username"
        ) from None


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
        type=_text_arg("mã thủ tục", "procedure code", MAX_PROCEDURE_CHARS),
        help="mã thủ tục / procedure code",
    )
    issue.add_argument(
        "--field",
        default=None,
        type=_text_arg("lĩnh vực", "field", MAX_FIELD_CHARS),
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


# --- I/O ---------------------------------------------------------------------------------------


async def fetch_bot_username(settings: Settings) -> str | None:
    """The bot's username from Telegram's getMe; None without a token or when Telegram fails."""
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    try:
        async with bot:
            me = await bot.get_me()
    except TelegramError as exc:
        print(f"Không hỏi được Telegram (getMe) / getMe failed: {exc}", file=sys.stderr)
        return None
    return me.username


async def resolve_bot_username(
    explicit: str | None,
    settings: Settings,
    fetch: Callable[[Settings], Awaitable[str | None]] = fetch_bot_username,
) -> str | None:
    """``--bot-username``, else TELEGRAM_BOT_USERNAME, else getMe; None when none is known."""
    for candidate in (explicit, settings.telegram_bot_username):
        if candidate:
            return bot_username(candidate)
    fetched = await fetch(settings)
    return bot_username(fetched) if fetched else None


def _error(line: str) -> int:
    print(line, file=sys.stderr)
    return 2


async def run_receipts(args: argparse.Namespace, settings: Settings) -> int:
    """Runs ``receipts issue|import``; returns the exit code (2: nothing was created)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage import migrate, open_engine, write_transaction
    from storage.queries.receipts import issue_receipts

    today = datetime.now(settings.zone).date()
    with_dossier = False
    if args.receipts_command == "import":
        try:
            text = decode_csv(await asyncio.to_thread(Path(args.file).read_bytes))
        except OSError as exc:
            return _error(f"Không đọc được tệp / cannot read the file: {exc}")
        except UnicodeDecodeError:
            return _error(
                f"Tệp {args.file} không phải UTF-8 (Excel: Lưu thành “CSV UTF-8”) "
                f"/ {args.file} is not UTF-8 (Excel: Save as “CSV UTF-8”)"
            )
        parsed = parse_receipts_csv(text, today=today, valid_days=args.valid_days)
        for error in parsed.errors:
            print(error.message, file=sys.stderr)
        if parsed.errors:
            return _error("Chưa tạo phiếu nào / no receipt was created")
        if parsed.ignored_columns:
            names = ", ".join(parsed.ignored_columns)
            print(f"Bỏ qua các cột / ignored columns: {names}", file=sys.stderr)
        requests = parsed.requests
        with_dossier = parsed.has_dossier
    else:
        if valid_until(args.handed_over, today, args.valid_days) < today:
            return _error(
                f"Đã quá hạn khảo sát: ngày trả + {args.valid_days} ngày đã qua (xem --valid-days) "
                f"/ survey period already over: hand-over + "
                f"{counted(args.valid_days, 'day', 'days')} is past "
                "(see --valid-days)"
            )
        requests = [ReceiptRequest(args.procedure, args.field, args.handed_over)] * args.count

    zalo_link: str | None = None
    web_base: str | None = getattr(args, "web", None)
    if web_base is not None and args.zalo:
        return _error("--web hoặc --zalo, không cả hai / --web or --zalo, not both")
    if web_base is not None:
        username = None
    elif args.zalo:
        if not settings.zalo_oa_id:
            return _error("ZALO_OA_ID chưa được đặt / ZALO_OA_ID is not set")
        # Zalo cannot carry the token in the link: the citizen sends the printed code.
        zalo_link = f"https://zalo.me/{settings.zalo_oa_id}"
        username = None
    else:
        username = await resolve_bot_username(args.bot_username, settings)
    if username is None and zalo_link is None and web_base is None:
        print(NO_USERNAME, file=sys.stderr)
        if args.qr is not None:
            return 2  # a QR code without a link is useless

    planned = plan_receipts(requests, today=today, valid_days=args.valid_days)
    try:
        planned = await _unused_codes(settings.database_url, planned)
    except (SQLAlchemyError, OSError) as exc:
        return _error(f"Không đọc được cơ sở dữ liệu / cannot read the database: {exc}")
    # The PNGs are drawn before the database transaction, so SQLite's write lock is not held
    # while thousands of images are made; if either step fails, neither is left behind.
    written: list[Path] = []
    if args.qr is not None and (username or zalo_link or web_base):
        links = [
            web_link(web_base, new.token)
            if web_base
            else zalo_link or deep_link(username or "", new.token)
            for new in planned
        ]
        files = [qr_filename(n, r.dossier) for n, r in enumerate(requests, start=1)]
        try:
            written = await asyncio.to_thread(
                _write_qrs, Path(args.qr), links, files, planned, bool(zalo_link)
            )
        except OSError as exc:
            return _error(f"Không ghi được mã QR / cannot write the QR codes: {exc}")

    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        async with write_transaction(engine) as conn:
            issued = await issue_receipts(conn, planned, datetime.now(UTC))
    except (SQLAlchemyError, OSError) as exc:
        _remove(written)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(
            f"Không ghi được vào cơ sở dữ liệu, chưa tạo phiếu nào / database error, "
            f"no receipt was created: {first}",
            file=sys.stderr,
        )
        return 1
    except BaseException:
        _remove(written)
        raise
    finally:
        await engine.dispose()

    for request, receipt, new in zip(requests, issued, planned, strict=True):
        line = output_line(
            receipt.token, username, dossier=request.dossier, with_dossier=with_dossier
        )
        if web_base:
            line = f"{line}\t{web_link(web_base, receipt.token)}"
        # The short code comes last on every line (every slip prints it large): on Zalo
        # the citizen types it; on Telegram and the web chat it opens the receipt too.
        code = printed(new.short_code) if new.short_code else ""
        line = f"{line}\t{zalo_link}" if zalo_link else line
        print(f"{line}\t{code}" if code else line)
    count, until = len(issued), _validity_summary(issued)
    print(
        f"Đã tạo {count} phiếu khảo sát, dùng được đến hết {until} "
        f"/ created {counted(count, 'receipt', 'receipts')}, valid through {until}",
        file=sys.stderr,
    )
    if written:
        n = len(written)
        print(
            f"Đã ghi {n} mã QR vào / wrote {counted(n, 'QR code', 'QR codes')} to: {args.qr}",
            file=sys.stderr,
        )
    return 0


async def _unused_codes(database_url: str, planned: list[NewReceipt]) -> list[NewReceipt]:
    """``planned`` with every short code already held by an earlier receipt drawn again
    (before the slips are drawn, so a printed code is never refused by the database).

    One in 900 draws collides once a million codes are out: rare, but a 10,000-slip batch
    would otherwise fail now and then."""
    from dataclasses import replace

    from storage import migrate, open_engine, read_transaction
    from storage.queries.receipts import short_codes_taken

    engine = open_engine(database_url)
    try:
        await migrate(engine)
        mine = {r.short_code for r in planned}
        for _ in range(10):
            async with read_transaction(engine) as conn:
                taken = await short_codes_taken(conn, [r.short_code for r in planned])
            if not taken:
                return planned
            fresh: list[NewReceipt] = []
            for new in planned:
                code = new.short_code
                if code in taken:
                    while code in taken or code in mine:
                        code = new_code()
                    mine.add(code)
                fresh.append(replace(new, short_code=code))
            planned = fresh
    finally:
        await engine.dispose()
    raise OSError("no unused short codes after 10 draws")


def _write_qrs(
    folder: Path,
    links: Sequence[str],
    names: Sequence[str],
    planned: Sequence[NewReceipt],
    send_code: bool = False,
) -> list[Path]:
    """Writes one PNG per receipt, each with its short code in large type under the QR
    code; above it the long token (typed as ``/start TOKEN`` on Telegram, the web link's
    own), or for Zalo (``send_code``) a line saying to send the code. On failure removes
    those already written, then raises."""
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for link, name, new in zip(links, names, planned, strict=True):
            path = folder / name
            code = printed(new.short_code) if new.short_code else None
            caption = "Gửi mã / send:" if send_code and code else new.token
            write_qr(link, path, caption=caption, code=code)
            written.append(path)
    except BaseException:
        _remove(written)
        raise
    return written


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
