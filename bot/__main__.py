"""``python -m bot [run|console|migrate|receipts|dossiers|report|…]``: the entry point."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys

from telegram.error import InvalidToken

from bot.cli.dossiers import add_dossiers_parser, run_dossiers
from bot.cli.receipt_args import add_receipts_parser
from bot.cli.receipts import run_receipts
from bot.cli.reports import add_report_parsers, run_report_command
from bot.cli.words import both
from bot.config import ConfigError, Settings, load_settings
from bot.errors import ApiUnreachable, TokenRefused
from bot.logs import configure
from storage.db import place, unreachable

#: The exit code when Telegram cannot be reached at the start (2 is a setting to fix).
EXIT_UNREACHABLE = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Chatbot khảo sát sự hài lòng (SIPAS) / SIPAS satisfaction chatbot",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "run", help="chạy bot (web, Telegram, Zalo) / run the bot: web chat, Telegram, Zalo"
    )
    console = sub.add_parser(
        "console", help="trò chuyện trong cửa sổ dòng lệnh / chat in the terminal"
    )
    console.add_argument("--user", default=None, help="tên người dùng giả lập / simulated user id")
    console.add_argument(
        "--admin",
        action="store_true",
        help="dùng được lệnh của cán bộ (/baocao, /bantin, /xuatdulieu, /hoso) / staff commands",
    )
    sub.add_parser("migrate", help="cập nhật cơ sở dữ liệu / apply database migrations")
    add_receipts_parser(sub)
    add_dossiers_parser(sub)
    add_report_parsers(sub)
    zalo = sub.add_parser("zalo", help="Zalo Official Account")
    zalo_sub = zalo.add_subparsers(dest="zalo_command", required=True)
    set_token = zalo_sub.add_parser(
        "set-token", help="nạp refresh token đầu tiên / load the first refresh token"
    )
    set_token.add_argument("--refresh-token", required=True)
    set_token.add_argument("--access-token", default=None)
    set_token.add_argument("--expires-in", type=int, default=0, help="giây / seconds")
    return parser


async def _console(settings: Settings, user: str, admin: bool = False) -> None:
    from bot.channels.console import ConsoleChat
    from bot.runtime.build import build_runtime, digest_settings
    from conversations import default_catalog
    from jobs.requests import RequestWorker

    runtime = await build_runtime(settings)
    requests = RequestWorker(
        runtime.engine, digest_settings(settings), default_catalog(), runtime.dispatcher.clock
    )
    try:
        chat = ConsoleChat(
            runtime.dispatcher, default_catalog(), user=user, requests=requests, admin=admin
        )
        await chat.run(settings.default_language)
    finally:
        await runtime.close()


async def _migrate(settings: Settings) -> None:
    from storage import migrate, open_engine
    from storage.migrate import current

    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        print(both("cli.input5.revision", (("revision", str(await current(engine))),)))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    command = args.command or "run"
    configure(
        settings.log_level if command == "run" else "WARNING", secrets=settings.secret_values()
    )
    # Every command works on the database: one that cannot be reached is said in one line,
    # like a bad setting (exit 2), not as a driver's traceback.
    refused = asyncio.run(unreachable(settings.database_url))
    if refused is not None:
        said = (("place", place(settings.database_url)), ("error", refused))
        print(both("cli.input5.database_unreachable", said), file=sys.stderr)
        return 2
    if command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    if command in ("report", "export", "digest"):
        return asyncio.run(run_report_command(args, settings))
    if command == "receipts":
        return asyncio.run(run_receipts(args, settings))
    if command == "dossiers":
        return asyncio.run(run_dossiers(args, settings))
    if command == "console":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_console(settings, args.user or getpass.getuser(), args.admin))
        return 0
    if command == "zalo":
        from bot.cli.zalo import run_zalo_command

        return asyncio.run(run_zalo_command(args, settings))
    if settings.web_only and not settings.web_chat:
        print(both("cli.input5.no_channel"), file=sys.stderr)
        return 2
    from bot.app import run_bot

    try:
        return asyncio.run(run_bot(settings))
    except (InvalidToken, TokenRefused):
        print(both("cli.input5.bad_token"), file=sys.stderr)
        return 2
    except ApiUnreachable as exc:
        # Not a setting (2) nor a crash (1): the network, which may come back. Its own code
        # lets a supervisor or an operator tell it apart; systemd and compose restart on it.
        said = (("place", exc.place), ("error", exc.error))
        print(both("cli.input5.telegram_unreachable", said), file=sys.stderr)
        return EXIT_UNREACHABLE
    except Exception:
        # Logged, not left to Python's own traceback print: the log filter redacts it.
        logging.getLogger("bot.run").critical("event=crashed", exc_info=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
