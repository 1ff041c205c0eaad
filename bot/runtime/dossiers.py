"""Dossiers in from the agency's one-stop system: registration and status events.

Used by the web API and by the command line alike. Each call is one transaction: the
request's signature claimed (a replay is refused), the event recorded once by its id, the
dossier updated as ``conversations.dossier_events.apply`` says, and the notices to the chats
following it queued in the outbox, each in the reader's language.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import Catalog, DossierFacts
from conversations.dossier_events import (
    MAX_MISSING,
    MAX_MISSING_CHARS,
    MAX_REASON_CHARS,
    DossierUpdate,
    EventKind,
    Refused,
    apply,
)
from conversations.procedures import procedures
from storage import WriteSet, flush, write_transaction
from storage.queries.dossiers import (
    DossierRow,
    NewDossier,
    NewEvent,
    claim_signature,
    dossier_by_code,
    find_event,
    followers,
    insert_dossier,
    insert_event,
    update_dossier,
)

from .replies import as_text

log = logging.getLogger("bot.dossiers")

#: Dossier codes go in URLs (``/api/v1/dossiers/{code}/events``): letters, digits, . _ -
CODE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
EVENT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
#: An event's time may run this far ahead of ours (clocks differ), no further.
MAX_FUTURE_SKEW: Final = timedelta(minutes=5)
#: 18 random bytes: 24 characters, unguessable; ``d_`` + token fits Telegram's 64.
TOKEN_BYTES: Final = 18

MissingItem = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MISSING_CHARS)
]


class DossierIn(BaseModel):
    """``POST /api/v1/dossiers``: a dossier just received at the one-stop desk."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=CODE_PATTERN, description="The agency's dossier code (mã hồ sơ).")
    procedure: str = Field(min_length=1, max_length=64, description="Procedure code (mã TTHC).")
    procedure_name: str | None = Field(default=None, min_length=1, max_length=200)
    field: str | None = Field(default=None, min_length=1, max_length=128)
    received_on: date = Field(description="Day received (YYYY-MM-DD, local).")
    due_on: date = Field(description="Day the result is promised for (ngày hẹn trả).")
    legal_days: int | None = Field(
        default=None, ge=1, le=3650, description="The procedure's legal time limit, working days."
    )

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.due_on < self.received_on:
            raise ValueError("due_on is before received_on")
        return self


class EventIn(BaseModel):
    """``POST /api/v1/dossiers/{code}/events``: a status change of a dossier."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: str = Field(
        pattern=EVENT_ID_PATTERN, description="The client's own id; a repeat has no effect."
    )
    kind: EventKind
    at: AwareDatetime | None = Field(
        default=None, description="When it happened, with its UTC offset; default: now."
    )
    missing: list[MissingItem] = Field(
        default_factory=list,
        max_length=MAX_MISSING,
        description="needs_documents: the documents still missing (required, not empty).",
    )
    new_due_on: date | None = Field(
        default=None, description="late: the apology slip's new date for the result (required)."
    )
    reason: str | None = Field(default=None, min_length=1, max_length=MAX_REASON_CHARS)

    @model_validator(mode="after")
    def _by_kind(self) -> Self:
        if self.kind == "needs_documents" and not self.missing:
            raise ValueError("needs_documents: list the missing documents in 'missing'")
        if self.kind != "needs_documents" and self.missing:
            raise ValueError("'missing' is only for needs_documents")
        if self.kind == "late" and self.new_due_on is None:
            raise ValueError("late: give the apology slip's new date in 'new_due_on'")
        if self.kind != "late" and self.new_due_on is not None:
            raise ValueError("'new_due_on' is only for late")
        return self


# --- outcomes and refusals -------------------------------------------------------------------


class DossierError(Exception):
    """A request the desk refuses; ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UnknownDossier(DossierError):
    status, code = 404, "unknown_dossier"


class Conflict(DossierError):
    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Replayed(DossierError):
    status, code = 409, "replayed"


class Invalid(DossierError):
    status, code = 422, "invalid_body"


@dataclass(frozen=True, slots=True)
class Registered:
    created: bool
    code: str
    token: str


@dataclass(frozen=True, slots=True)
class Posted:
    duplicate: bool
    code: str
    kind: str
    status: str
    notified: int = 0
    invited: bool = False


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


def facts_of(row: DossierRow) -> DossierFacts:
    return DossierFacts(
        id=row.id,
        code=row.code,
        token=row.token,
        procedure=row.procedure,
        received_on=row.received_on,
        due_on=row.due_on,
        status=row.status,
        procedure_name=row.procedure_name,
        field=row.field,
        rescheduled_on=row.rescheduled_on,
        completed_on=row.completed_on,
        handed_over_at=row.handed_over_at,
        invite=row.invite_status,
        invite_expires_at=row.invite_expires_at,
    )


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
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.catalog = catalog
        self.clock = clock
        self.make_token = make_token
        self._listeners: list[Callable[[], None]] = []

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
        async with write_transaction(self.engine) as conn:
            await self._claim(conn, signature, now)
            if await insert_dossier(conn, new, now):
                log.info("event=dossier_registered client=%s", client)
                return Registered(True, new.code, new.token)
            found = await dossier_by_code(conn, body.code)
            if found is None:  # the token was drawn twice: vanishingly rare, refuse cleanly
                raise Conflict("try_again", "could not register the dossier; send it again")
            if _same(found, new):
                return Registered(False, found.code, found.token)
        raise Conflict("dossier_exists", f"a different dossier {body.code} is registered already")

    async def post_event(
        self, client: str, code: str, body: EventIn, *, signature: str | None = None
    ) -> Posted:
        now = self.clock()
        at = body.at or now
        if at > now + MAX_FUTURE_SKEW:
            raise Invalid("the event's time is in the future", [_detail("at", "in the future")])
        update = DossierUpdate(body.kind, at, tuple(body.missing), body.new_due_on, body.reason)
        async with write_transaction(self.engine) as conn:
            await self._claim(conn, signature, now)
            row = await dossier_by_code(conn, code, lock=True)
            if row is None:
                raise UnknownDossier(f"no dossier {code} is registered")
            seen = await find_event(conn, client, body.event_id)
            if seen is not None:
                if seen.dossier_id != row.id or seen.kind != body.kind:
                    raise Conflict("event_id_reused", f"event_id {body.event_id} was another event")
                return Posted(True, row.code, body.kind, row.status)
            until = now + self.settings.invite_ttl
            applied = apply(
                facts_of(row), update, agency=self.settings.agency, tz=self.settings.tz,
                invite_until=until,
            )  # fmt: skip
            if isinstance(applied, Refused):
                if applied.code == "bad_date":
                    raise Invalid(applied.message, [_detail("new_due_on", applied.message)])
                raise Conflict(applied.code, applied.message)
            event = NewEvent(
                row.id, client, body.event_id, body.kind, at, update.missing,
                update.new_due_on, update.reason,
            )  # fmt: skip
            if not await insert_event(conn, event, now):
                raise Conflict("event_id_reused", f"event_id {body.event_id} is being posted")
            chats = await followers(conn, [row.id])
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
            invited = applied.invite and bool(chats)
            if invited:
                values.update(
                    invite_status="invited",
                    invited_at=now,
                    invite_remind_at=now + self.settings.remind_after,
                    invite_expires_at=until,
                )
            await update_dossier(conn, row.id, values)
            writes = WriteSet()
            for chat in chats:
                language = chat.language or self.settings.default_language
                for notice in applied.notices:
                    message = as_text(self.catalog.render(notice, language))
                    writes.enqueue(chat.channel, chat.external_id, message, now)
            await flush(conn, writes)
        if writes.outbox:
            for listener in self._listeners:
                listener()
        log.info("event=dossier_event client=%s kind=%s told=%d", client, body.kind, len(chats))
        return Posted(False, row.code, body.kind, applied.status, len(chats), invited)

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
