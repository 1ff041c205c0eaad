"""What the dispatcher needs to know of the agency and its settings, built from
``bot.config.Settings`` (``bot.runtime.build``). Split from ``bot.runtime.dispatch``, which
re-exports it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from conversations.workdays import WorkCalendar


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
    open_survey_period: str = "month"
    #: Staff chats that receive new cases, as (channel, chat id).
    admin_chats: tuple[tuple[str, str], ...] = ()
    #: Days a chat's link to a dossier is kept after the dossier closed.
    dossier_retention_days: int = 30
    #: The SIPAS method new surveys use (``SURVEY_METHOD``).
    survey_method: str = "sipas-1001"
    #: The agency's address for citizens (``AGENCY_ADDRESS``).
    agency_address: str = ""
    #: Seconds a batch with a file in it waits for the rest of an album (Telegram sends an
    #: album's photos as separate updates, Zalo as separate events, within moments).
    album_hold: float = 1.0
    #: Zalo's approved notice template (``ZALO_TEMPLATE_NOTICE``) and ``ZALO_SEND_BILLED``:
    #: what staff are told of a notice to a Zalo chat outside the free 48 h.
    zalo_template: str = ""
    zalo_send_billed: bool = True
    #: The approved ZNS template (``ZALO_ZNS_TEMPLATE_NOTICE``): used outside the window
    #: when there is no OA template, so a named complaint on Zalo asks consent to it.
    zalo_zns_template: str = ""
    #: The key of the survey marks (``storage.queries.survey_marks``): ``RECEIPT_SECRET``, or
    #: the one made on first run in ``RECEIPT_SECRET_FILE`` (``build.survey_mark_key``);
    #: random here, for a dispatcher built without settings (tests).
    survey_mark_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
