"""The runtime around the engine: one transaction per batch of inbound events.

For each event: drop it if its id was seen, load the conversation, apply the engine, write
answers and the new state, queue the replies in the outbox. Events that arrive while a batch
commits form the next batch (group commit), so a burst costs a few round trips, not one per
event; each event still sees the state the previous one left, and nothing is answered before
it is durably stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.runtime.failures import Failures, alias_key, claim_key
from conversations import (
    Catalog,
    ConversationState,
    Env,
    Expired,
    Facts,
    InboundEvent,
    Message,
    Outcome,
    Reply,
    TimedOut,
    default_catalog,
    handle,
)
from conversations.flows.survey import FLOW as SURVEY_FLOW
from conversations.flows.survey import period_key
from conversations.needs import Lookups, needs
from conversations.resent import noticed, reopened
from jobs.sipas_index import answer_counts
from storage import WriteSet, flush, scrub_log, write_transaction
from storage.outbound import Outbound
from storage.queries.dialogue import ConversationRow, claim_events, load_conversations
from storage.queries.outbox import scrub_once_sent, scrub_sent
from storage.queries.survey_marks import marked, survey_mark

from .activity import ACTIVITY, Activity
from .albums import Albums, is_file
from .conversation_rows import advanced, save_state, state_of
from .dispatch_settings import DispatchSettings as DispatchSettings
from .facts import FactsCache
from .handoff import Leased, Taker, hand_over, lease_replies, unreserve_all
from .recorders import Recording, record
from .replies import for_event

log = logging.getLogger("bot.dispatch")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def random_id() -> int:
    """Response ids: random, so they reveal neither order nor time of the survey."""
    return secrets.randbits(62) + 1


@dataclass(frozen=True, slots=True)
class Handled:
    """What became of one event: dropped as a duplicate, or answered with these messages
    (``notices``: messages the event sent to other chats, as (channel, chat id, message))."""

    event_id: str
    duplicate: bool
    messages: tuple[Message, ...] = ()
    notices: tuple[tuple[str, str, Outbound], ...] = ()


def random_code(year: int) -> str:
    """Tracking codes: random, so they reveal neither how many cases nor when."""
    return f"PA-{year}-{secrets.randbelow(1_000_000):06d}"


def event_key(event: InboundEvent) -> str:
    return claim_key(event.channel, event.event_id, event.via)


class Dispatcher:
    """Applies inbound events to conversations, durably, in arrival order per contact."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: DispatchSettings | None = None,
        *,
        clock: Clock = utc_now,
        new_id: Callable[[], int] = random_id,
        new_code: Callable[[int], str] = random_code,
        catalog: Catalog | None = None,
        activity: Activity = ACTIVITY,
    ) -> None:
        """``activity``: where each event's time is tallied (the log's aggregate line)."""
        self.engine = engine
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.new_id = new_id
        self.new_code = new_code
        self.catalog = catalog or default_catalog()
        self._queue: asyncio.Queue[tuple[InboundEvent, asyncio.Future[Handled]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._outbox_listeners: list[tuple[str, Callable[[], None]]] = []
        self._job_listeners: list[Callable[[], None]] = []
        self._ended_listeners: list[Callable[[], None]] = []
        self._takers: dict[str, Taker] = {}
        self.activity = activity

    def hand_off(self, taker: Taker) -> None:
        """Hands the replies of each committed event straight to ``taker`` (the channel's
        sender in this process), see ``bot.runtime.handoff``; it is still woken (``on_outbox``)
        for what it must read from the table."""
        self._takers[taker.channel] = taker

    def on_outbox(self, channel: str, listener: Callable[[], None]) -> None:
        """Called after each commit that queued messages for ``channel`` (wakes its sender)."""
        self._outbox_listeners.append((channel, listener))

    def on_jobs(self, listener: Callable[[], None]) -> None:
        """Called after each commit that queued a request for the jobs (a report, /ketqua)."""
        self._job_listeners.append(listener)

    def on_surveys_ended(self, listener: Callable[[], None]) -> None:
        """Called after each commit that ended or deleted a survey (the jobs restamp its rows
        apart from the chat's on PostgreSQL, ``jobs.restamp``)."""
        self._ended_listeners.append(listener)

    async def submit(self, event: InboundEvent) -> Handled:
        """Queues an event and returns once it is durably handled (or raises if it failed)."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="dispatcher")
        future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, future))
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.settings.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if self.settings.album_hold > 0 and any(is_file(e) for e, _ in batch):
                # The rest of an album is on its way: answer it once, with the whole count.
                await asyncio.sleep(self.settings.album_hold)
                while len(batch) < self.settings.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
            events = [event for event, _ in batch]
            results = await self.process(events)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def process(self, events: Sequence[InboundEvent]) -> list[Handled | Exception]:
        """Handles events in one transaction; if it fails, each event gets its own.

        An event that fails on its own is returned as its error when the database is
        unavailable (not confirmed: it comes again). Otherwise it is tried once more (a race,
        such as a tracking code drawn twice, passes then), and if it fails again it is
        settled as failed (``failures``): recorded, answered politely, and handled, so the
        channel confirms it and the events behind it go on.
        """
        try:
            return list(await self._transaction(events))
        except Exception as exc:
            if len(events) == 1:
                [event] = events
                failures = Failures(
                    self.engine,
                    self.catalog,
                    self.settings.default_language,
                    self.clock,
                    [wake for _, wake in self._outbox_listeners],
                )
                if not failures.poison(event, exc):
                    return [exc]
                try:
                    return list(await self._transaction(events))
                except Exception as again:
                    settled = await failures.settle(event, event_key(event), again)
                    if settled is None:
                        return [again]
                    return [Handled(event.event_id, settled.duplicate, settled.messages)]
        results: list[Handled | Exception] = []
        for event in events:
            results.extend(await self.process([event]))
        return results

    async def _transaction(self, events: Sequence[InboundEvent]) -> list[Handled]:
        now = self.clock()
        settles: list[Callable[[bool], None]] = []
        leased: list[Leased] = []
        try:
            async with write_transaction(self.engine) as conn:
                for taker in self._takers.values():
                    settles.append(await taker.record_sent(conn))
                writes, answered = await self._apply_all(conn, events, now, leased)
        except BaseException:
            for settle in settles:
                settle(False)
            unreserve_all(leased)
            raise
        try:
            for settle in settles:
                settle(True)
            if writes.ended_chats:
                # The replies to a chat whose survey ended (the thanks …) would keep the minute
                # it ended (created, sent): deleted once sent. Noted before they can leave, so
                # the sender's record of them finds them due. Marking them sent rewrites their
                # rows (text included) after the checkpoint below: the log is emptied again.
                ended = writes.ended_chats
                mine = (r for r in writes.outbox if (r["channel"], r["chat_id"]) in ended)
                scrub_once_sent(self.engine, (int(row["id"]) for row in mine))
        finally:
            # Whatever happened since the commit, the leased chats' reservations end here:
            # one left behind would keep the sender's own pass away from that chat for good.
            queued = hand_over(leased, writes.outbox)
        for channel, listener in self._outbox_listeners:
            if channel in queued:
                listener()
        if writes.jobs:
            for listener in self._job_listeners:
                listener()
        if writes.ends_surveys:
            # The log still holds the conversation pages as they were during the survey
            # (its response id and answers next to the chat): empty it now (the replies are
            # on their way already).
            await scrub_log(self.engine)
            for listener in self._ended_listeners:
                listener()
        await scrub_sent(self.engine)
        return [answered.get(id(e), Handled(e.event_id, True)) for e in events]

    async def _apply_all(
        self,
        conn: AsyncConnection,
        events: Sequence[InboundEvent],
        now: datetime,
        leased: list[Leased],
    ) -> tuple[WriteSet, dict[int, Handled]]:
        """The batch's events applied in ``conn``: their replies leased (into ``leased``,
        see ``lease_replies``), everything written."""
        aliases = {k: v for e in events for k, v in alias_key(e.channel, e.event_id, e.via).items()}
        fresh = await claim_events(conn, [event_key(e) for e in events], now, aliases=aliases)
        todo: list[InboundEvent] = []
        for event in events:
            key = event_key(event)
            if key in fresh:
                fresh.discard(key)  # a second copy inside the same batch is a duplicate
                todo.append(event)
        rows = await load_conversations(conn, [(e.channel, e.external_id) for e in todo], now)
        zalo = self.settings
        facts = FactsCache(
            now,
            zalo.tz,
            (zalo.zalo_template, zalo.zalo_send_billed),
            zns=bool(zalo.zalo_zns_template) and not zalo.zalo_template,
        )
        # What the batch needs, as its conversations stand now, in one query per kind.
        await facts.load(conn, [self._lookups(e, rows) for e in todo])
        marks = [self._survey_mark(e.channel, e.external_id, now) for e in todo]
        marks += [m for e in todo for m in e.address_marks]  # bot.web.survey_limit
        facts.surveyed |= await marked(conn, (m for m in marks if m is not None))
        writes = WriteSet(aggregate=(self.settings.tz, answer_counts))
        answered: dict[int, Handled] = {}
        albums = Albums(writes)
        for original, event in zip(todo, albums.gathered(todo), strict=True):
            # An earlier event of the batch may have moved this conversation on.
            await facts.load(conn, [self._lookups(event, rows)])
            answered[id(original)] = self._apply(event, rows, facts, albums, now)
        albums.release_all()
        await lease_replies(conn, self._takers, writes.outbox, now, leased)
        await flush(conn, writes)
        return writes, answered

    def _lookups(
        self, event: InboundEvent, rows: dict[tuple[str, str], ConversationRow]
    ) -> tuple[int, Lookups]:
        row = rows[(event.channel, event.external_id)]
        return row.contact_id, needs(self._met(row, event), event.payload, admin=event.admin)

    def _survey_mark(self, channel: str, chat_id: str, now: datetime) -> str | None:
        """This chat's mark in the current survey period; None when the rule is off."""
        period = period_key(
            now.astimezone(self.settings.tz).date(), self.settings.open_survey_period
        )
        if period is None:
            return None
        return survey_mark(self.settings.survey_mark_key, channel, chat_id, period)

    def _met(self, row: ConversationRow, event: InboundEvent) -> ConversationState:
        """The chat's state as ``event`` meets it: the question of a notice queued for it
        since its last event is live, or, when messages were re-sent as it wrote (Zalo's
        window), the question of the last of those."""
        return reopened(
            noticed(state_of(row, self.settings.default_language), row.notice_question),
            event.resent,
        )

    def _apply(
        self,
        event: InboundEvent,
        rows: dict[tuple[str, str], ConversationRow],
        facts: FactsCache,
        albums: Albums,
        now: datetime,
    ) -> Handled:
        """One event: the engine's outcome recorded, its messages queued, the state saved."""
        started = time.perf_counter()
        writes = albums.writes
        albums.release(event)  # what an album before this event said is queued first
        row = rows[(event.channel, event.external_id)]
        state = self._met(row, event)
        lookups = needs(state, event.payload, admin=event.admin)
        sender = event.sender_id or event.external_id
        known = facts.facts(lookups, row.contact_id, admin=event.admin, sender=sender)
        if event.sender_name or event.origin is not None:
            pressed = event.origin.message_id if event.origin is not None else ""
            known = replace(known, sender_name=event.sender_name, pressed=pressed)
        if event.room:
            known = replace(known, room=True, stray_room=event.stray_room)
        mark = self._survey_mark(event.channel, event.external_id, now)
        if mark is not None and mark in facts.surveyed:
            known = replace(known, surveyed=True)
        if event.address_marks and facts.surveyed.issuperset(event.address_marks):
            known = replace(known, address_used=True)
        outcome = self._engine(state, event, known, in_survey=state.flow == SURVEY_FLOW)
        new = outcome.state or state
        ctx = Recording(
            writes,
            facts,
            self.catalog,
            row.contact_id,
            event.channel,
            event.external_id,
            new.language,
            now,
            self.settings.admin_chats,
            self.settings.default_language,
            mark_key=self.settings.survey_mark_key,
            address_marks=event.address_marks,
        )
        for change in outcome.changes:
            record(ctx, change)
        messages = tuple(self.catalog.render(r, new.language) for r in outcome.replies)
        closed = (
            None if outcome.closed is None else self.catalog.render(outcome.closed, new.language)
        )
        queued = for_event(messages, event.origin, outcome.ack, self.catalog, new.language, closed)
        # Nobody waits for what a job's event (a reminder, an expiry) says: bulk.
        unasked = isinstance(event.payload, TimedOut | Expired)
        # Said within a survey (its questions, its summary, an answer shown on a question):
        # deleted from the outbox when the survey ends, sent or not (WriteSet.end_survey_chat).
        in_survey = SURVEY_FLOW in (state.flow, new.flow)
        # A case's files after the text that shows them; an album's files answered once.
        albums.enqueue(event, [*queued, *ctx.after], now, bulk=unasked, in_survey=in_survey)
        for channel, chat_id, notice in ctx.notices:
            writes.enqueue(channel, chat_id, notice, now, bulk=True)
        save_state(row, new, writes, now)
        rows[(event.channel, event.external_id)] = advanced(row, new)
        # No line per event, at any level: with one citizen active alone, even chat-less
        # lines in a row were the survey's route (bot.runtime.activity).
        self.activity.handled((time.perf_counter() - started) * 1000, in_survey=in_survey)
        return Handled(event.event_id, False, messages, tuple(ctx.notices))

    def _engine(
        self, state: ConversationState, event: InboundEvent, facts: Facts, *, in_survey: bool
    ) -> Outcome:
        """The engine's outcome; on its failure, the apology with a reference, and one ERROR
        line: with the traceback outside a survey, only the error's class within one (a
        traceback's frames and values would say at which question it failed)."""
        env = Env(
            now=self.clock(),
            new_id=self.new_id,
            agency=self.settings.agency,
            survey_ttl=self.settings.survey_ttl,
            survey_remind_after=self.settings.survey_remind_after,
            tz=self.settings.tz,
            calendar=self.settings.calendar,
            complaints_per_day=self.settings.complaints_per_day,
            open_survey_period=self.settings.open_survey_period,
            new_code=self.new_code,
            dossier_retention_days=self.settings.dossier_retention_days,
            survey_method=self.settings.survey_method,
            agency_address=self.settings.agency_address,
            channel=event.channel,
            zns=event.channel == "zalo"
            and bool(self.settings.zalo_zns_template)
            and not self.settings.zalo_template,
        )
        try:
            return handle(state, event.payload, env, facts)
        except Exception as error:
            ref = uuid.uuid4().hex[:8]
            log.error(
                "event=engine_error ref=%s channel=%s error=%s",
                ref,
                event.channel,
                type(error).__name__,
                exc_info=None if in_survey else error,
            )
            return Outcome((Reply("common.error", (("ref", ref),)),), state=state)
