"""ZNS (Zalo Notification Service): a complaint's notice sent as an approved template to the
phone number its sender gave, with the consent asked at filing (issue 15). Used by
``ZaloSender`` outside the 7-day window when the agency has no OA template by user id.

The request, as public sources give it (Zalo's own sending reference was not read; check it
against the agency's ZNS contract): ``POST https://business.openapi.zalo.me/message/template``
with the OA's ``access_token`` header and the JSON body ``{"phone": "84912345678",
"template_id": ..., "template_data": {...}, "tracking_id": ...}`` (``tracking_id`` is our
own id for the message, at most 48 characters); success is ``{"error": 0, "message":
"Success", "data": {"msg_id", "sent_time", "quota"}}``. Sources: an open-source SDK
(app.unpkg.com/@warriorteam/redai-zalo-sdk@1.32.17/files/dist/services/zns.service.js) and
resellers' copies of Zalo's text (developers-zns.goby.vn/gui-tin-nhan,
docs.etelecom.vn/api-etelecom-english/api-integration/zalo-cloud/zalo-cloud-api/send-zns).
Error codes (zalo.cloud/zns/guidelines/handle-error-code): -100 unknown error, -108 phone
invalid, -109 template id invalid, -111 template data empty; -124 and -216 an invalid access
token, handled like the OA's token errors (one refresh, one retry).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.zns_schedule import ZnsSchedule
from storage import read_transaction
from storage.queries.zalo_chats import zns_phone

ZNS_PATH = "/message/template"
#: ZNS's own "access token invalid" (-124), besides the OA's -216 and -220.
ZNS_TOKEN_ERRORS = frozenset({-124, -216, -220})
MAX_TRACKING_ID = 48
_CODE = re.compile(r"\bPA-\d{4}-\d{6}\b")


@dataclass(slots=True)
class Zns:
    """An approved ZNS template for complaint notices (``ZALO_ZNS_TEMPLATE_NOTICE``) and how
    its fields are filled: ``code`` the tracking code, ``status`` the status as the citizen
    reads it (``statuses``: catalog wording by status), ``date`` the local day (dd/mm/yyyy)."""

    engine: AsyncEngine
    url: str
    template_id: str
    statuses: Mapping[str, str] = field(default_factory=dict)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    #: The catalog key of what is told under the receipt of a complaint filed with consent:
    #: how they will hear back (sent in the citizen's language, ``zalo_texts``).
    filed_note: str = ""
    #: Zalo's sending hours and the OA's daily quota (``ZALO_ZNS_HOURS``,
    #: ``ZALO_ZNS_DAILY_QUOTA``); by default none (the app passes the settings).
    schedule: ZnsSchedule = field(default_factory=lambda: ZnsSchedule(ZoneInfo("Asia/Ho_Chi_Minh")))

    async def phone(self, chat_id: str, text: str) -> tuple[str, str] | None:
        """The tracking code in ``text`` and the phone its complaint's sender agreed to get
        ZNS notices at, when filed from ``chat_id``; None otherwise."""
        found = _CODE.search(text)
        if found is None:
            return None
        async with read_transaction(self.engine) as conn:
            phone = await zns_phone(conn, chat_id, found.group(0))
        return None if phone is None else (found.group(0), phone)

    async def request(
        self, chat_id: str, status: str, text: str, now: datetime
    ) -> dict[str, object] | None:
        """The ZNS request body for the notice with ``text`` to ``chat_id`` of its case moving
        to ``status`` (``TextMessage.notice``: "resolved", "out_of_scope"...), or None when its
        complaint's sender gave no phone or did not agree."""
        found = await self.phone(chat_id, text)
        if found is None:
            return None
        code, phone = found
        return {
            "phone": international(phone),
            "template_id": self.template_id,
            "template_data": {
                "code": code,
                "status": self.statuses.get(status, status),
                "date": f"{now.astimezone(self.tz):%d/%m/%Y}",
            },
            "tracking_id": f"{code}:{status}"[:MAX_TRACKING_ID],
        }


def international(phone: str) -> str:
    """A national number (``0912345678``) in the form ZNS takes (``84912345678``)."""
    return "84" + phone.removeprefix("0")
