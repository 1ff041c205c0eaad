"""What the dossier API and command line accept (pydantic, checked before anything is
stored), what they answer, and how they refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Final, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from conversations.dossier_events import MAX_MISSING, MAX_MISSING_CHARS, MAX_REASON_CHARS, EventKind

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
    #: 10 digits for the slip, typed on Zalo (``bot.channels.zalo_codes``); None when none.
    short_code: str | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    duplicate: bool
    code: str
    kind: str
    status: str
    notified: int = 0
    invited: bool = False
