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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.logs import chat_hash
from bot.runtime.facts import CaseCache
from bot.runtime.failures import Failures
from conversations import (
    SURVEY_FLOW,
    Catalog,
    ClearAnswer,
    Command,
    ConversationState,
    EndResponse,
    Env,
    Facts,
    FileRef,
    ForgetContact,
    InboundEvent,
    Message,
    Notify,
    OpenComplaint,
    Outcome,
    RateComplaint,
    ReceiptFacts,
    RecordConsent,
    Reply,
    RequestJob,
    SaveAnswer,
    SendFile,
    SetLanguage,
    StartResponse,
    UpdateComplaint,
    default_catalog,
    handle,
)
from conversations.workdays import WorkCalendar
from jobs.sipas_index import answer_counts
from storage import WriteSet, flush, write_transaction
from storage.queries.complaints import NewFile
from storage.queries.dialogue import ConversationRow, claim_events, load_conversations
from storage.queries.surveys import ReceiptRow, receipts_by_id, receipts_by_token

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
    notices: tuple[tuple[str, str, Message], ...] = ()


def random_code(year: int) -> str:
    """Tracking codes: random, so they reveal neither how many cases nor when."""
    return f"PA-{year}-{secrets.randbelow(1_000_000):06d}"


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    agency: str = "Sở Xây dựng"
    default_language: str = "vi"
    survey_ttl: timedelta = timedelta(days=7)
    survey_remind_after: timedelta = timedelta(hours=24)
    max_batch: int = 256
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    calendar: WorkCalendar | None = None
    complaints_per_day: int = 3
    #: Staff chats that receive new cases, as (channel, chat id).
    admin_chats: tuple[tuple[str, str], ...] = ()


def event_key(event: InboundEvent) -> str:
    return f"{event.channel}:{event.event_id}"[:160]


def _receipt_facts(row: ReceiptRow) -> ReceiptFacts:
    status = row.response_status
    return ReceiptFacts(
        id=row.id,
        token=row.token,
        procedure=row.procedure,
        field=row.field,
        valid_until=row.valid_until,
        response_status=status,  # type: ignore[arg-type]
    )


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
    ) -> None:
        self.engine = engine
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.new_id = new_id
        self.new_code = new_code
        self.catalog = catalog or default_catalog()
        self._queue: asyncio.Queue[tuple[InboundEvent, asyncio.Future[Handled]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called after each commit that queued replies (wakes the outbox sender)."""
        self._listeners.append(listener)

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
                    self._listeners,
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
        async with write_transaction(self.engine) as conn:
            fresh = await claim_events(conn, [event_key(e) for e in events], now)
            todo: list[InboundEvent] = []
            for event in events:
                key = event_key(event)
                if key in fresh:
                    fresh.discard(key)  # a second copy inside the same batch is a duplicate
                    todo.append(event)
            rows = await load_conversations(conn, [(e.channel, e.external_id) for e in todo], now)
            receipts = await _ReceiptCache.load(conn, todo, rows.values())
            cases = await CaseCache.load(conn, todo, rows, now, self.settings.tz)
            writes = WriteSet(aggregate=(self.settings.tz, answer_counts))
            answered = {id(e): self._apply(e, rows, receipts, cases, writes, now) for e in todo}
            await flush(conn, writes)
        if writes.outbox:
            for listener in self._listeners:
                listener()
        return [
            Handled(e.event_id, False, *answered[id(e)])
            if id(e) in answered
            else Handled(e.event_id, True)
            for e in events
        ]

    def _apply(
        self,
        event: InboundEvent,
        rows: dict[tuple[str, str], ConversationRow],
        receipts: _ReceiptCache,
        cases: CaseCache,
        writes: WriteSet,
        now: datetime,
    ) -> tuple[tuple[Message, ...], tuple[tuple[str, str, Message], ...]]:
        started = time.perf_counter()
        key = (event.channel, event.external_id)
        row = rows[key]
        state = ConversationState(
            language=row.language or self.settings.default_language,
            flow=row.flow,
            step=row.step,
            data=row.state,
            expires_at=row.expires_at,
            remind_at=row.remind_at,
        )
        env = Env(
            now=self.clock(),
            new_id=self.new_id,
            agency=self.settings.agency,
            survey_ttl=self.settings.survey_ttl,
            survey_remind_after=self.settings.survey_remind_after,
            tz=self.settings.tz,
            calendar=self.settings.calendar,
            complaints_per_day=self.settings.complaints_per_day,
            new_code=self.new_code,
        )
        facts = replace(
            receipts.facts(event, state),
            sender=event.external_id,
            complaints=cases.complaints(row.contact_id),
            open_cases=cases.open_list(row.contact_id),
            complaints_today=cases.filed_today(row.contact_id),
        )
        try:
            outcome = handle(state, event.payload, env, facts)
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("event=engine_error ref=%s channel=%s", ref, event.channel)
            outcome = Outcome((Reply("common.error", (("ref", ref),)),), state=state)
        new = outcome.state or state
        notices: list[tuple[str, str, Message]] = []
        files: list[SendFile] = []
        for change in outcome.changes:
            if isinstance(change, Notify):
                notices.extend(self._notices(change, cases))
                continue
            if isinstance(change, SendFile):
                files.append(change)
                continue
            if isinstance(change, RequestJob):
                writes.request_job(
                    change.job,
                    event.channel,
                    event.external_id,
                    new.language,
                    dict(change.args),
                    now,
                )
                continue
            _record(writes, row.contact_id, change, event.channel)
            receipts.note(change, state)
            cases.note(change, row.contact_id)
        for channel, chat_id, notice in notices:
            writes.enqueue(channel, chat_id, notice.to_json(), now)
        writes.save_conversation(
            row.contact_id,
            row.version,
            new.flow,
            new.step,
            new.data,
            new.expires_at,
            now,
            remind_at=new.remind_at,
        )
        messages = tuple(self.catalog.render(r, new.language) for r in outcome.replies)
        for payload in self._payloads(event, outcome, messages, new.language):
            writes.enqueue(event.channel, event.external_id, payload, now)
        for sent in files:  # after the text that introduces them
            attachment = {"op": "file", "file": sent.file_id, "key": "file", "text": sent.caption}
            writes.enqueue(event.channel, event.external_id, attachment, now)
        if row.stopped:  # they write again, so they unblocked the bot
            writes.unstop(row.contact_id)
        # The next event of this contact in the same batch starts from the new state.
        rows[key] = replace(
            row,
            language=new.language,
            flow=new.flow,
            step=new.step,
            state=new.data,
            expires_at=new.expires_at,
            remind_at=new.remind_at,
            version=row.version + 1,
        )
        if log.isEnabledFor(logging.INFO):
            log.info(
                "event=handled channel=%s chat=%s kind=%s step=%s replies=%d ms=%.2f",
                event.channel,
                chat_hash(event.channel, event.external_id),
                event.payload.kind,
                new.step,
                len(messages),
                (time.perf_counter() - started) * 1000,
            )
        return messages, tuple(notices)

    def _notices(self, notify: Notify, cases: CaseCache) -> list[tuple[str, str, Message]]:
        """Who a notification goes to, rendered in their language."""
        if notify.audience == "admins":
            message = self.catalog.render(notify.reply, self.settings.default_language)
            return [(channel, chat, message) for channel, chat in self.settings.admin_chats]
        reporter = cases.reporter(notify.code or "")
        if reporter is None or reporter.channel is None or reporter.external_id is None:
            return []
        if reporter.stopped:
            return []
        message = self.catalog.render(notify.reply, reporter.language)
        return [(reporter.channel, reporter.external_id, message)]

    def _payloads(
        self,
        event: InboundEvent,
        outcome: Outcome,
        messages: tuple[Message, ...],
        language: str,
    ) -> list[dict[str, object]]:
        """Outbox rows: the replies, plus what to do with the message whose button was pressed
        (show the chosen answer on it, or redraw it in place for a multi-select)."""
        payloads = [m.to_json() for m in messages]
        origin = event.origin
        if origin is None or outcome.ack is None:
            return payloads
        if outcome.ack == "refresh" and payloads:
            payloads[0] = {**payloads[0], "op": "edit", "message_id": origin.message_id}
            return payloads
        if outcome.ack == "close":
            text = (
                self.catalog.format(
                    language,
                    "choice.answered",
                    (("text", origin.text), ("label", origin.label or "")),
                )
                if origin.label
                else origin.text
            )
            closing: dict[str, object] = {
                "op": "edit",
                "message_id": origin.message_id,
                "key": "choice.answered",
                "text": text,
                "choices": [],
            }
            return [closing, *payloads]
        return payloads


def _files(refs: Sequence[FileRef]) -> list[NewFile]:
    return [NewFile(f.media, f.size, f.file_id, f.name, f.mime) for f in refs]


def _record(writes: WriteSet, contact_id: int, change: object, channel: str) -> None:
    """Turns one engine change into the rows it means."""
    match change:
        case OpenComplaint():
            hotline = change.source == "hotline"
            values = {
                "code": change.code,
                "draft_id": change.draft_id,
                "category": change.category,
                "description": change.description,
                "status": "new",
                "source": change.source,
                "contact_id": None if hotline else contact_id,
                "anonymous": change.anonymous,
                "reporter_name": change.name,
                "reporter_phone": change.phone,
                "language": change.language,
                "created_at": change.at,
                "updated_at": change.at,
                "due_on": change.due_on,
            }
            actor = f"staff:{contact_id}" if hotline else "citizen"
            writes.open_complaint(values, _files(change.files), channel, actor)
        case UpdateComplaint():
            writes.change_complaint(
                change.code,
                to_status=change.to_status,
                note=change.note,
                public=change.public,
                actor=change.actor,
                at=change.at,
                duplicate_of=change.duplicate_of,
                files=_files(change.files),
                channel=channel,
            )
        case RateComplaint():
            writes.rate_complaint(change.code, change.rating, change.at)
        case StartResponse():
            writes.start_response(
                change.response_id,
                change.questionnaire,
                change.started_at,
                change.receipt_id,
                change.procedure,
                change.field,
            )
        case SaveAnswer():
            writes.save_answer(change.response_id, change.item, change.value)
        case ClearAnswer():
            writes.clear_answer(change.response_id, change.item)
        case EndResponse():
            writes.end_response(change.response_id, change.status, change.at)
        case RecordConsent():
            writes.consent(contact_id, change.purpose, change.given, change.at)
        case SetLanguage():
            writes.set_language(contact_id, change.language)
        case ForgetContact():
            writes.forget(contact_id, change.response_id)
        case _:
            raise TypeError(f"unknown change {change!r}")


class _ReceiptCache:
    """Receipts an event may need (``/start TOKEN``, or consent to a receipt's survey),
    looked up once per batch and kept current as the batch's events use them."""

    def __init__(self, rows: dict[int, ReceiptRow]) -> None:
        self.by_id = {i: _receipt_facts(r) for i, r in rows.items()}
        self.by_token = {f.token: f for f in self.by_id.values()}

    @classmethod
    async def load(
        cls,
        conn: AsyncConnection,
        events: Sequence[InboundEvent],
        rows: object,
    ) -> _ReceiptCache:
        tokens = [
            e.payload.arg.strip()
            for e in events
            if isinstance(e.payload, Command)
            and e.payload.name == "start"
            and e.payload.arg.strip()
        ]
        ids = [
            receipt
            for row in rows  # type: ignore[attr-defined]
            if row.flow == SURVEY_FLOW and isinstance(receipt := row.state.get("receipt"), int)
        ]
        found: dict[int, ReceiptRow] = {}
        if tokens:
            found.update({r.id: r for r in (await receipts_by_token(conn, tokens)).values()})
        if ids:
            found.update(await receipts_by_id(conn, ids))
        return cls(found)

    def facts(self, event: InboundEvent, state: ConversationState) -> Facts:
        payload = event.payload
        if isinstance(payload, Command) and payload.arg.strip():
            return Facts(receipt=self.by_token.get(payload.arg.strip()), admin=event.admin)
        receipt = state.data.get("receipt") if state.flow == SURVEY_FLOW else None
        found = self.by_id.get(receipt) if isinstance(receipt, int) else None
        return Facts(receipt=found, admin=event.admin)

    def note(self, change: object, before: ConversationState) -> None:
        if isinstance(change, StartResponse) and change.receipt_id is not None:
            self._set(change.receipt_id, "in_progress")
        elif isinstance(change, EndResponse):
            receipt = before.data.get("receipt")
            if isinstance(receipt, int):
                self._set(receipt, change.status)

    def _set(self, receipt_id: int, status: str) -> None:
        facts = self.by_id.get(receipt_id)
        if facts is not None:
            updated = replace(facts, response_status=status)  # type: ignore[arg-type]
            self.by_id[receipt_id] = updated
            self.by_token[updated.token] = updated
