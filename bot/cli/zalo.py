"""``python -m bot zalo set-token``: loads the OA's first token pair into the database."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.cli.words import both
from bot.config import Settings
from bot.runtime.dispatch import utc_now
from storage import migrate, open_engine, write_transaction
from storage.queries.zalo_tokens import save_tokens


async def run_zalo_command(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.zalo_enabled:
        print(both("cli.input5.zalo_not_set"), file=sys.stderr)
        return 2
    now = utc_now()
    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        async with write_transaction(engine) as conn:
            # Without an access token, store an expired one: the first send refreshes it.
            access = args.access_token or "-"
            expires = now + timedelta(seconds=args.expires_in) if args.access_token else now
            await save_tokens(conn, access, args.refresh_token.strip(), expires, now)
    finally:
        await engine.dispose()
    print(both("cli.input5.zalo_stored"))
    return 0
