"""Builds the runtime from the settings: database (migrated), dispatcher."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings
from conversations import default_catalog
from jobs.digests import DigestSettings
from jobs.dossier_invitations import DossierJobSettings
from storage import migrate, open_engine, scrub_log, write_transaction
from storage.queries.local_secrets import forget_local_secret, stored_local_secret

from .secret_file import new_key, secret_from_file

log = logging.getLogger(__name__)

#: The name under which older versions kept the log salt in ``local_secrets``.
OLD_LOG_SALT = "receipt_secret"
#: The name under which older versions kept the survey marks' key in ``local_secrets`` (now in
#: ``RECEIPT_SECRET_FILE``; moved there at start).
MARK_KEY = "survey_mark_key"


@dataclass(slots=True)
class Runtime:
    engine: AsyncEngine
    dispatcher: Dispatcher

    async def close(self) -> None:
        await self.dispatcher.close()
        await self.engine.dispose()


async def build_runtime(settings: Settings) -> Runtime:
    engine = open_engine(settings.database_url)
    await migrate(engine)
    async with write_transaction(engine) as conn:
        # The log salt older versions kept in the database: it would still tie their log
        # lines to chats. Today's salt is made per process and never stored (bot.logs).
        await forget_local_secret(conn, OLD_LOG_SALT)
        mark_key, moved = await survey_mark_key(conn, settings)
    if moved:
        # The deleted row's older page version may still be in SQLite's write-ahead log.
        await scrub_log(engine)
    dispatcher = Dispatcher(
        engine,
        DispatchSettings(
            agency=settings.agency_name,
            default_language=settings.default_language,
            survey_ttl=settings.survey_ttl,
            survey_remind_after=timedelta(hours=settings.survey_reminder_hours),
            tz=settings.zone,
            calendar=settings.calendar(),
            complaints_per_day=settings.complaints_per_day,
            open_survey_period=settings.open_survey_period,
            admin_chats=staff_chats(settings),
            dossier_retention_days=settings.dossier_retention_days,
            survey_method=settings.survey_method,
            agency_address=settings.agency_address,
            zalo_template=settings.zalo_template_notice,
            zalo_zns_template=settings.zalo_zns_template_notice,
            zalo_send_billed=settings.zalo_send_billed,
            survey_mark_key=mark_key,
        ),
        catalog=default_catalog(),
    )
    return Runtime(engine, dispatcher)


async def survey_mark_key(conn: AsyncConnection, settings: Settings) -> tuple[bytes, bool]:
    """The survey marks' key, and whether a key stored in the database was deleted.

    The key: ``RECEIPT_SECRET``; unset, the one in ``settings.secret_file``
    (``RECEIPT_SECRET_FILE``), made at random on first run (``bot.runtime.secret_file``), so
    it is the same after a restart and for every process reading that file, and a second
    survey without a receipt in the period is still refused. Never kept in the database:
    whoever held a dump with it could recompute every chat's mark. A key older versions
    stored there (``MARK_KEY``) becomes the file's content when there is no file yet (the
    period's marks still match), and is deleted either way. It is not the log salt, which
    no stored value gives (``bot.logs``). Raises ``OSError`` when the file cannot be read
    or made, ``ValueError`` when it is empty."""
    stored = await stored_local_secret(conn, MARK_KEY)
    secret = settings.receipt_secret
    if secret is not None:
        key = secret.get_secret_value()
    else:
        path = settings.secret_file
        make = new_key if stored is None else (lambda: stored)
        # A file is read or written once at start: off the loop all the same.
        key = await asyncio.to_thread(secret_from_file, path, make)
        if stored is not None and stored != key:
            log.warning(
                "survey marks' key: the file's key differs from the one stored; kept the file's"
            )
    moved = stored is not None and await forget_local_secret(conn, MARK_KEY)
    return key.encode(), moved


def digest_settings(settings: Settings) -> DigestSettings:
    return DigestSettings(
        agency=settings.agency_name,
        tz=settings.zone,
        calendar=settings.calendar(),
        chats=staff_chats(settings),
        kinds=tuple(settings.digest_kinds),
        at=settings.digest_time,
        language=settings.default_language,
        method=settings.survey_method,
    )


def staff_chats(settings: Settings) -> tuple[tuple[str, str], ...]:
    """Where new cases and digests go: the Telegram staff chats, and Zalo admins if any
    (Zalo only delivers to someone who wrote to the OA in the last 7 days)."""
    telegram = tuple(("telegram", str(chat)) for chat in settings.admin_chat_ids)
    zalo = tuple(("zalo", user) for user in settings.zalo_admin_ids)
    return telegram + zalo


def desk_settings(settings: Settings) -> DeskSettings:
    """How dossier events are taken in: the agency's name, its zone, the invitation's times."""
    return DeskSettings(
        agency=settings.agency_name,
        tz=settings.zone,
        default_language=settings.default_language,
        invite_ttl=timedelta(hours=settings.dossier_invite_hours),
        remind_after=timedelta(hours=settings.survey_reminder_hours),
    )


def dossier_job_settings(settings: Settings) -> DossierJobSettings:
    return DossierJobSettings(
        tz=settings.zone,
        default_language=settings.default_language,
        retention=timedelta(days=settings.dossier_retention_days),
    )
