"""Sends each period's digest to the staff chats exactly once, catching up after downtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import DEFAULT_METHOD, Catalog, Reply
from conversations.effects import Lines
from conversations.periods import DigestKind, Period, last_complete
from conversations.workdays import WorkCalendar
from storage import WriteSet, flush, read_transaction, write_transaction
from storage.outbound import ImageMessage, Outbound, TextMessage
from storage.queries.aggregates import completed_sources
from storage.queries.contacts import languages
from storage.queries.failed_events import failed_between
from storage.queries.jobs import claim_digest, digest_sent, first_contact_at
from storage.queries.outbox import dead_since, held_reasons
from storage.queries.rooms import rooms_told, untold_rooms
from storage.queries.zalo_chats import notices_between
from storage.queries.zalo_tokens import get_tokens

from .digest import build_digest
from .reports import ReportScope, build_report, case_summary, day_bounds, dossier_measures
from .sipas_index import Report

log = logging.getLogger("jobs.digests")


@dataclass(frozen=True, slots=True)
class DigestSettings:
    agency: str
    tz: ZoneInfo
    calendar: WorkCalendar
    chats: tuple[tuple[str, str], ...]  # (channel, chat id)
    kinds: tuple[DigestKind, ...] = ("daily", "weekly", "monthly", "halfyear", "yearly")
    at: time = time(7, 30)  # local time the digest of a period that just ended goes out
    language: str = "vi"
    #: The SIPAS method reported on (``SURVEY_METHOD``): digests never mix two methods.
    method: str = DEFAULT_METHOD


def send_time(kind: DigestKind, period: Period, settings: DigestSettings) -> datetime:
    """A period's digest is due the day after it ends, at the configured local time."""
    return datetime.combine(period.end + timedelta(days=1), settings.at, settings.tz)


async def digest_payloads(
    engine: AsyncEngine,
    kind: DigestKind,
    period: Period,
    settings: DigestSettings,
    catalog: Catalog,
    now: datetime,
    language: str | None = None,
) -> list[Outbound]:
    """The outbox messages of one digest: the text, and the chart from the weekly one up."""
    language = language or settings.language
    digest, report, previous = await digest_reply(engine, kind, period, settings, now, language)
    message = catalog.render(digest, language)
    payloads: list[Outbound] = [TextMessage(message.text, message.choices, message.key)]
    if kind != "daily":
        from .chart import element_chart

        png = await asyncio.to_thread(element_chart, report, previous, language=language)
        summary = catalog.text(language, "digest.chart_summary")
        name = f"sipas-{kind}-{period.start:%Y%m%d}.png"
        payloads.append(ImageMessage(png, name, summary=summary))
    return payloads


async def digest_reply(
    engine: AsyncEngine,
    kind: DigestKind,
    period: Period,
    settings: DigestSettings,
    now: datetime,
    language: str,
) -> tuple[Reply, Report, Report]:
    """The digest's text as sent and as ``python -m bot digest`` prints it (one rendering for
    both): the figures, then the alerts (held messages, Zalo notices held, re-sent and sent
    as templates, failed events, messages given up with why, a refused Zalo token
    refresh); with the period's report and the one before it, for the chart."""
    scope = ReportScope(settings.tz, language, method=settings.method)
    today = now.astimezone(settings.tz).date()
    async with read_transaction(engine) as conn:
        report = await build_report(conn, period, scope)
        previous = await build_report(conn, period.previous(), scope)
        cases = await case_summary(conn, period, settings.tz, today, settings.calendar)
        held = await held_reasons(conn, day_bounds(period, settings.tz)[0])
        dead, reasons = await dead_since(conn, day_bounds(period, settings.tz)[0])
        failed = await failed_between(conn, *day_bounds(period, settings.tz))
        tokens = await get_tokens(conn)
        notices = await notices_between(conn, *day_bounds(period, settings.tz))
        dossiers = await dossier_measures(conn, period, scope, settings.calendar, report.index)
        moved = await untold_rooms(conn)
        bounds = day_bounds(period, settings.tz)
        sources = await completed_sources(conn, *bounds, method=settings.method)
    digest = build_digest(
        kind, period, report, previous, cases, settings.agency, dossiers, sources=sources
    )
    alerts: list[Reply] = [
        Reply("digest.stale_room", (("old", room), ("new", now_at))) for _, room, now_at in moved
    ]
    # One true sentence per reason (D3: a notice held past 48 h by ZALO_SEND_BILLED was said
    # to be outside Zalo's 7 days).
    alerts.extend(Reply(f"digest.held_{why}", (("count", n),)) for why, n in held.items())
    refused = notices.pop("tpl_refused", 0)
    over_quota = notices.pop("zns_quota", 0)
    if any(notices.values()):
        alerts.append(Reply("digest.zalo_notices", tuple(notices.items())))
    if refused:
        alerts.append(Reply("zalo6.digest_template_refused", (("count", refused),)))
    if over_quota:
        alerts.append(Reply("zalo8.digest_zns_quota", (("count", over_quota),)))
    if failed:
        alerts.append(Reply("digest.failed_events", (("count", failed),)))
    if dead:
        # Given up for good (a Zalo token problem no longer is: those wait): with why.
        why = "; ".join(f"{reason} ×{n}" for reason, n in reasons)
        alerts.append(Reply("digest.dead_messages", (("count", dead), ("reasons", why))))
    if tokens is not None and tokens.failed_at is not None:
        alerts.append(
            Reply(
                "digest.zalo_token",
                (
                    ("at", f"{tokens.failed_at.astimezone(settings.tz):%d/%m %H:%M}"),
                    ("error", (tokens.error and tokens.error.shown()) or tokens.last_error or "?"),
                ),
            )
        )
    if alerts:
        digest = Reply(
            "digest.with_alerts", (("digest", Lines((digest,))), ("alerts", Lines(tuple(alerts))))
        )
    return digest, report, previous


async def send_digest(
    engine: AsyncEngine,
    kind: DigestKind,
    period: Period,
    settings: DigestSettings,
    catalog: Catalog,
    now: datetime,
    *,
    claim: bool = True,
) -> bool:
    """Queues one digest to every staff chat, in each one's language; False when it had been
    sent already.

    ``claim=False`` sends an interim copy (an operator's ``digest --send`` in mid-period): it
    leaves the period's row in ``digest_runs`` alone, so the scheduled digest still goes out
    once the period has ended.
    """
    async with read_transaction(engine) as conn:
        chosen = await languages(conn, settings.chats)
    wanted = {chosen.get(chat, settings.language) for chat in settings.chats}
    by_language = {
        lang: await digest_payloads(engine, kind, period, settings, catalog, now, lang)
        for lang in sorted(wanted)
    }
    async with read_transaction(engine) as conn:
        said = [(channel, room) for channel, room, _ in await untold_rooms(conn)]
    async with write_transaction(engine) as conn:
        if claim and not await claim_digest(conn, kind, period.start, period.end, now):
            return False
        await rooms_told(conn, said, now)  # a stale staff room id is said once
        writes = WriteSet()
        for chat in settings.chats:
            for payload in by_language[chosen.get(chat, settings.language)]:
                writes.enqueue(chat[0], chat[1], payload, now, bulk=True)
        await flush(conn, writes)
    log.info(
        "job=digest kind=%s period=%s sent_to=%d interim=%s",
        kind, period.start, len(settings.chats), not claim,
    )  # fmt: skip
    return True


async def send_due_digests(
    engine: AsyncEngine,
    settings: DigestSettings,
    catalog: Catalog,
    now: datetime,
    kinds: Sequence[DigestKind] | None = None,
) -> list[tuple[DigestKind, Period]]:
    """Every digest whose period has ended and whose time has come, not sent yet.

    Run at start and every minute: after downtime the missed digest goes out on start; a
    restart never sends a second copy (the period's row in ``digest_runs`` says it went).
    """
    sent: list[tuple[DigestKind, Period]] = []
    today = now.astimezone(settings.tz).date()
    async with read_transaction(engine) as conn:
        first = await first_contact_at(conn)
    if first is None:
        return sent  # nobody has written yet: nothing to report
    started = first.astimezone(settings.tz).date()
    for kind in kinds or settings.kinds:
        period = last_complete(kind, today)
        if now < send_time(kind, period, settings):
            period = last_complete(kind, period.end)  # today's is not due yet: the one before
        if period.end < started:
            continue  # a period before the service began (a fresh install)
        async with read_transaction(engine) as conn:
            if await digest_sent(conn, kind, period.start):
                continue
        if await send_digest(engine, kind, period, settings, catalog, now):
            sent.append((kind, period))
    return sent
