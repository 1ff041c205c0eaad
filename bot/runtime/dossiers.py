"""Dossiers in from the agency's one-stop system: registration and status events.

Used by the web API and by the command line alike. Events are taken like the dispatcher takes
chat events: those that arrive while a batch commits form the next batch (group commit), read
with one query per kind and written with one statement per kind, so a burst from the one-stop
system costs a few commits, not one per event. For each event, in order: the request's
signature (a replay is refused), the event id (a repeat has no second effect), the dossier
updated as ``conversations.dossier_events.apply`` says, and the notices to the chats following
it queued in the outbox, each in the reader's language; nothing is answered before it is
stored. A refused event leaves nothing behind and does not disturb the rest of its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.channels.zalo_codes import new_code
from conversations import Catalog
from conversations.dossier_events import DossierUpdate, Refused, apply
from conversations.procedures import procedures
from storage import WriteSet, flush, is_sqlite, write_transaction
from storage.queries.dossiers import (
    DossierRow,
    Follower,
    NewDossier,
    NewEvent,
    StoredEvent,
    claim_signature,
    claim_signatures,
    dossier_by_code,
    dossiers_by_code,
    find_events,
    followers,
    insert_dossier,
    insert_events,
    save_dossiers,
    signatures_seen,
)
from storage.queries.receipts import short_codes_taken

from .dossier_models import (
    CODE_PATTERN,
    EVENT_ID_PATTERN,
    MAX_FUTURE_SKEW,
    TOKEN_BYTES,
    Conflict,
    DossierError,
    DossierIn,
    EventIn,
    Invalid,
    Posted,
    Registered,
    Replayed,
    UnknownDossier,
)
from .facts import dossier_facts
from .replies import as_text

__all__ = [
    "CODE_PATTERN",
    "EVENT_ID_PATTERN",
    "Conflict",
    "DeskSettings",
    "DossierDesk",
    "DossierError",
    "DossierIn",
    "EventIn",
    "Invalid",
    "Posted",
    "Registered",
    "Replayed",
    "UnknownDossier",
    "new_token",
]

log = logging.getLogger("bot.dossiers")

#: Most events one transaction takes (like the dispatcher's batches).
MAX_BATCH: Final = 256


class _Raced(Exception):
    """Another process stored the same signature or event id between our read and our write;
    the batch is retried one event at a time, which then sees what the other one stored."""


@dataclass(frozen=True, slots=True)
class DeskSettings:
    agency: str = "Sở Xây dựng"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    default_language: str = "vi"
    #: The invitation to rate stays open this long; its one reminder comes after remind_after.
    invite_ttl: timedelta = timedelta(hours=168)
    remind_after: timedelta = timedelta(hours=24)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(slots=True)
class _Job:
    client: str
    code: str
    body: EventIn
    signature: str | None
    future: asyncio.Future[Posted]


@dataclass(slots=True)
class _Seen:
    """What a batch found in storage, kept current as its events are applied."""

    signatures: set[str]
    rows: dict[str, DossierRow]
    events: dict[tuple[str, str], StoredEvent]


@dataclass(slots=True)
class _Writes:
    signatures: list[str] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    #: Codes of the dossiers whose row in ``_Seen`` was changed (written once, at the end).
    changed: set[str] = field(default_factory=set)
    outbox: WriteSet = field(default_factory=WriteSet)


class DossierDesk:
    """Takes dossiers and their events in, durably, telling the chats that follow them."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: DeskSettings,
        catalog: Catalog,
        clock: Callable[[], datetime],
        *,
        make_token: Callable[[], str] = new_token,
        make_code: Callable[[], str] = new_code,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.catalog = catalog
        self.clock = clock
        self.make_token = make_token
        self.make_code = make_code
        self._listeners: list[Callable[[], None]] = []
        # SQLite has one writer: requests waiting in its busy handler back off for up to
        # 100 ms each time, so they queue here instead, in arrival order.
        self._writer = asyncio.Lock() if is_sqlite(engine) else contextlib.nullcontext()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer, write_transaction(self.engine) as conn:
            yield conn

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called after a commit that queued messages (wakes the outbox senders)."""
        self._listeners.append(listener)

    async def register(
        self, client: str, body: DossierIn, *, signature: str | None = None
    ) -> Registered:
        """A new dossier, or the same one again (nothing changes); a different dossier under
        a code already taken is refused."""
        now = self.clock()
        known = procedures().get(body.procedure)
        new = NewDossier(
            code=body.code,
            token=self.make_token(),
            client=client,
            procedure=body.procedure,
            received_on=body.received_on,
            due_on=body.due_on,
            procedure_name=body.procedure_name or (known.name("vi") if known else None),
            field=body.field,
            legal_days=body.legal_days or (known.days if known else None),
        )
        async with self._transaction() as conn:
            await self._claim(conn, signature, now)
            new = replace(new, short_code=await self._unused_code(conn))
            if await insert_dossier(conn, new, now):
                log.info("event=dossier_registered client=%s", client)
                return Registered(True, new.code, new.token, new.short_code)
            found = await dossier_by_code(conn, body.code)
            if found is None:  # the token was drawn twice: vanishingly rare, refuse cleanly
                raise Conflict("try_again", "could not register the dossier; send it again")
            if _same(found, new):
                return Registered(False, found.code, found.token, found.short_code)
        raise Conflict("dossier_exists", f"a different dossier {body.code} is registered already")

    async def _unused_code(self, conn: AsyncConnection) -> str | None:
        """A short code for the slip that no receipt or dossier holds yet (one code space:
        typed on Zalo, it names one slip); None after 10 draws all taken (the link only)."""
        for _ in range(10):
            code = self.make_code()
            if not await short_codes_taken(conn, [code]):
                return code
        return None

    async def post_event(
        self, client: str, code: str, body: EventIn, *, signature: str | None = None
    ) -> Posted:
        """Records one status event and tells the chats following the dossier; returns once it
        is stored (or raises the :class:`DossierError` that refuses it)."""
        now = self.clock()
        if body.at is not None and body.at > now + MAX_FUTURE_SKEW:
            raise Invalid("the event's time is in the future", [_detail("at", "in the future")])
        job = _Job(client, code, body, signature, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        # The worker runs only while events wait: it ends when the queue is empty (with no
        # await between that check and its end, so a job queued here is never left behind).
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="dossier-events")
        return await job.future

    async def _work(self) -> None:
        while not self._queue.empty():
            batch = [self._queue.get_nowait()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._process(batch)
            except BaseException as exc:  # cancelled: nobody waits forever
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError("stopped"))
                raise exc
            for job, result in zip(batch, results, strict=True):
                if job.future.done():
                    continue
                if isinstance(result, Exception):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)

    async def _process(self, jobs: Sequence[_Job]) -> list[Posted | Exception]:
        """One transaction for the batch; if it fails, each event gets its own (and one that
        lost a race with another process gets a second try, which then sees the other's row)."""
        try:
            return await self._batch(jobs)
        except Exception as exc:
            if len(jobs) > 1:
                results: list[Posted | Exception] = []
                for job in jobs:
                    results.extend(await self._process([job]))
                return results
            failure = exc
        if isinstance(failure, _Raced):
            try:
                return await self._batch(jobs)
            except Exception as again:
                failure = again
        log.warning("event=dossier_event_failed error=%s", type(failure).__name__)
        return [failure]

    async def _batch(self, jobs: Sequence[_Job]) -> list[Posted | Exception]:
        now = self.clock()
        async with self._transaction() as conn:
            seen = _Seen(
                signatures=await signatures_seen(conn, [j.signature for j in jobs if j.signature]),
                rows=await dossiers_by_code(conn, [j.code for j in jobs], lock=True),
                events=await find_events(conn, [(j.client, j.body.event_id) for j in jobs]),
            )
            chats: dict[int, list[Follower]] = {}
            for chat in await followers(conn, [r.id for r in seen.rows.values()]):
                chats.setdefault(chat.dossier_id, []).append(chat)
            batch = _Writes()
            results: list[Posted | Exception] = []
            for job in jobs:
                try:
                    results.append(self._one(job, seen, chats, batch, now))
                except DossierError as exc:
                    results.append(exc)
            if await claim_signatures(conn, batch.signatures, now) < len(batch.signatures):
                raise _Raced("signature")
            if await insert_events(conn, batch.events, now) < len(batch.events):
                raise _Raced("event id")
            await save_dossiers(conn, [seen.rows[code] for code in batch.changed])
            await flush(conn, batch.outbox)
        if batch.outbox.outbox:
            for listener in self._listeners:
                listener()
        for result in results:
            if isinstance(result, Posted) and not result.duplicate:
                log.info("event=dossier_event kind=%s told=%d", result.kind, result.notified)
        return results

    def _one(
        self,
        job: _Job,
        seen: _Seen,
        chats: dict[int, list[Follower]],
        batch: _Writes,
        now: datetime,
    ) -> Posted:
        """One event of a batch, against what the batch read and did so far; raises before
        writing anything when the event is refused."""
        body = job.body
        if job.signature is not None and job.signature in seen.signatures:
            raise Replayed("this signed request was received before")
        row = seen.rows.get(job.code)
        if row is None:
            raise UnknownDossier(f"no dossier {job.code} is registered")
        earlier = seen.events.get((job.client, body.event_id))
        if earlier is not None:
            if earlier.dossier_id != row.id or earlier.kind != body.kind:
                raise Conflict("event_id_reused", f"event_id {body.event_id} was another event")
            self._signed(job, seen, batch)
            return Posted(True, row.code, body.kind, row.status)
        at = body.at or now
        update = DossierUpdate(body.kind, at, tuple(body.missing), body.new_due_on, body.reason)
        until = now + self.settings.invite_ttl
        applied = apply(
            dossier_facts(row), update, agency=self.settings.agency, tz=self.settings.tz,
            invite_until=until,
        )  # fmt: skip
        if isinstance(applied, Refused):
            if applied.code == "bad_date":
                raise Invalid(applied.message, [_detail("new_due_on", applied.message)])
            raise Conflict(applied.code, applied.message)
        self._signed(job, seen, batch)
        batch.events.append(
            NewEvent(
                row.id, job.client, body.event_id, body.kind, at, update.missing,
                update.new_due_on, update.reason,
            )
        )  # fmt: skip
        seen.events[(job.client, body.event_id)] = StoredEvent(row.id, body.kind, at)
        told = chats.get(row.id, [])
        values: dict[str, Any] = {
            "status": applied.status,
            "rescheduled_on": applied.rescheduled_on,
            "completed_on": applied.completed_on,
            "updated_at": now,
        }
        if applied.handed_over_at is not None:
            values["handed_over_at"] = applied.handed_over_at
        if applied.closed_at is not None:
            values["closed_at"] = applied.closed_at
        invited = applied.invite and bool(told)
        if invited:
            values.update(
                invite_status="invited",
                invited_at=now,
                invite_remind_at=now + self.settings.remind_after,
                invite_expires_at=until,
            )
        seen.rows[job.code] = replace(row, **values)
        batch.changed.add(job.code)
        for chat in told:
            language = chat.language or self.settings.default_language
            for notice in applied.notices:
                message = as_text(self.catalog.render(notice, language))
                batch.outbox.enqueue(chat.channel, chat.external_id, message, now, bulk=True)
        return Posted(False, row.code, body.kind, applied.status, len(told), invited)

    @staticmethod
    def _signed(job: _Job, seen: _Seen, batch: _Writes) -> None:
        if job.signature is not None:
            seen.signatures.add(job.signature)
            batch.signatures.append(job.signature)

    @staticmethod
    async def _claim(conn: Any, signature: str | None, now: datetime) -> None:
        if signature is not None and not await claim_signature(conn, signature, now):
            raise Replayed("this signed request was received before")


def _same(row: DossierRow, new: NewDossier) -> bool:
    return (row.procedure, row.field, row.received_on, row.due_on) == (
        new.procedure,
        new.field,
        new.received_on,
        new.due_on,
    )


def _detail(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message}
