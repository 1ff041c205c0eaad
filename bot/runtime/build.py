"""Builds the runtime from the settings: database (migrated), dispatcher."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.runtime.dispatch import Dispatcher, DispatchSettings, utc_now
from bot.runtime.dossiers import DeskSettings
from conversations import default_catalog
from jobs.digests import DigestSettings
from jobs.dossier_invitations import DossierJobSettings
from storage import migrate, open_engine, write_transaction
from storage.queries.local_secrets import forget_local_secret, local_secret

#: The name under which older versions kept the log salt in ``local_secrets``.
OLD_LOG_SALT = "receipt_secret"
#: The name of the survey marks' key in ``local_secrets`` when ``RECEIPT_SECRET`` is unset.
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
        mark_key = await survey_mark_key(conn, settings)
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


async def survey_mark_key(conn: AsyncConnection, settings: Settings) -> bytes:
    """The survey marks' key: ``RECEIPT_SECRET``; unset, a random one made on first run and
    kept in ``local_secrets`` (``MARK_KEY``), the same for every process on the database
    and after a restart, so a second survey without a receipt in the period is still refused.
    What holding it with the database tells is said in ``storage.queries.survey_marks``; it
    is not the log salt, which no stored value gives (``bot.logs``)."""
    secret = settings.receipt_secret
    if secret is not None:
        return secret.get_secret_value().encode()
    stored = await local_secret(conn, MARK_KEY, lambda: secrets.token_hex(32), utc_now())
    return stored.encode()


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
