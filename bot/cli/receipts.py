"""Receipts for the survey QR codes: ``python -m bot receipts issue|import``.

A receipt (phiếu hẹn / giấy biên nhận trả kết quả) printed for a dossier carries a QR code of
``https://t.me/<bot>?start=<token>``; opening it sends ``/start <token>`` and starts the
survey for that receipt. The token is random and only the database ties it to a procedure,
a field and dates; the dossier code is used to name files and lines, never stored, so a
survey cannot be traced back to a person.

Here: planning the receipts and their output lines, and the thin I/O (Telegram getMe,
database, files). Tokens and links are in ``receipt_tokens``, the QR slip in ``receipt_qr``,
the CSV file in ``receipt_csv`` and the command line's arguments in ``receipt_args``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from bot.channels.zalo_codes import new_code, printed
from bot.cli.words import both, counted, quoted
from bot.config import Settings
from storage.queries.receipts import IssuedReceipt, NewReceipt

from .receipt_csv import (
    ReceiptRequest,
    decode_csv,
    parse_receipts_csv,
)
from .receipt_qr import qr_filename, write_qr
from .receipt_tokens import (
    bot_username,
    deep_link,
    new_token,
    valid_until,
    web_link,
)

NO_USERNAME: Final = both("cli.receipts.no_username")


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
        print(f"{both('cli.receipts.getme_failed')}: {exc}", file=sys.stderr)
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
            return _error(f"{both('cli.receipts.cannot_read_file')}: {exc}")
        except UnicodeDecodeError:
            return _error(
                both(
                    "cli.receipts.bad_encoding",
                    (("file", str(args.file)), ("format", quoted("CSV UTF-8"))),
                )
            )
        parsed = parse_receipts_csv(text, today=today, valid_days=args.valid_days)
        for error in parsed.errors:
            print(error.message, file=sys.stderr)
        if parsed.errors:
            return _error(both("cli.receipts.none_created"))
        if parsed.ignored_columns:
            names = ", ".join(parsed.ignored_columns)
            print(f"{both('cli.receipts.ignored_columns')}: {names}", file=sys.stderr)
        requests = parsed.requests
        with_dossier = parsed.has_dossier
    else:
        if valid_until(args.handed_over, today, args.valid_days) < today:
            return _error(
                both(
                    "cli.receipts.survey_over",
                    (("days", args.valid_days),),
                    en=(("days", counted(args.valid_days, "day", "days")),),
                )
            )
        requests = [ReceiptRequest(args.procedure, args.field, args.handed_over)] * args.count

    zalo_link: str | None = None
    web_base: str | None = getattr(args, "web", None)
    if web_base is not None and args.zalo:
        return _error(both("cli.receipts.web_or_zalo"))
    if web_base is not None:
        username = None
    elif args.zalo:
        if not settings.zalo_oa_id:
            return _error(both("cli.receipts.no_zalo_oa"))
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
        return _error(f"{both('cli.receipts.cannot_read_database')}: {exc}")
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
            return _error(f"{both('cli.receipts.cannot_write_qr')}: {exc}")

    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        async with write_transaction(engine) as conn:
            issued = await issue_receipts(conn, planned, datetime.now(UTC))
    except (SQLAlchemyError, OSError) as exc:
        _remove(written)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"{both('cli.receipts.database_error')}: {first}", file=sys.stderr)
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
        both(
            "cli.receipts.created",
            (("count", count), ("until", until)),
            en=(("count", counted(count, "receipt", "receipts")),),
        ),
        file=sys.stderr,
    )
    if written:
        n = len(written)
        plural = counted(n, "QR code", "QR codes")
        wrote = both("cli.receipts.wrote_qr", (("count", n),), en=(("count", plural),))
        print(f"{wrote}: {args.qr}", file=sys.stderr)
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
            caption = f"{both('cli.receipts.send_code')}:" if send_code and code else new.token
            write_qr(link, path, caption=caption, code=code)
            written.append(path)
    except BaseException:
        _remove(written)
        raise
    return written


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
