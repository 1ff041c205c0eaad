"""Zalo's interaction window for notifications (ZALO.md, "Sending"): free within 48 h of the
citizen's last message, billed to the OA from 48 h to 7 days, refused after 7 days.

A complaint takes 5-10 working days, so its status notices and the rating request often fall
outside the window. ``Window`` says where a chat stands and what to do with a notice there:
send it normally, send it as an approved template message (``ZALO_TEMPLATE_NOTICE``), or hold
it until the citizen writes again (``citizen_wrote`` puts it back in line then).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.zalo_events import CHANNEL
from bot.channels.zalo_texts import ZaloTexts
from storage import read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.notice_corrections import record_correction
from storage.queries.zalo_chats import last_wrote, record_notices, waits_for_zns

FREE = timedelta(hours=48)
WINDOW = timedelta(days=7)
#: Catalog keys (prefixes) of the receipt a citizen gets when filing a complaint: anonymous
#: ("complaint.filed_anonymous") or named ("law.filed"; not "law.hotline_filed", staff's).
FILED_PREFIX = ("complaint.filed", "law.filed")

Standing = Literal["free", "billed", "closed", "unknown"]


def standing(last: datetime | None, now: datetime) -> Standing:
    """Where a chat stands: "free" within 48 h of its last message, "billed" to 7 days,
    "closed" after; "unknown" when its last message was not recorded."""
    if last is None:
        return "unknown"
    age = now - last
    return "free" if age <= FREE else "billed" if age <= WINDOW else "closed"


Reach = Literal["direct", "template", "held"]


def reach(
    last: datetime | None, now: datetime, template_id: str = "", send_billed: bool = True
) -> Reach:
    """How a notice to a chat whose last message was at ``last`` goes out now: as a normal
    message ("direct"), as the agency's approved template, or held for the citizen's next
    message. Staff are told which, not "the citizen was told" when it was held."""
    where = standing(last, now)
    if where in ("free", "unknown") or (where == "billed" and send_billed):
        return "direct"
    return "template" if template_id else "held"


#: How a notice really went, as ``ZaloSender`` found out: a normal message, the agency's
#: template by user id (whole, or "template_cut": shortened to fit, the whole notice held for
#: the citizen's next message), ZNS to the phone given, or held for the citizen's next message.
Went = Literal["direct", "template", "template_cut", "zns", "held"]
#: The correction an officer gets, by (what they were told, how it went); the other pairs
#: need none (told "held" and it went anyway is news the citizen's answer brings).
CORRECTIONS: dict[tuple[str, str], str] = {
    ("direct", "held"): "zalo7.fixed_held",
    ("direct", "template"): "zalo7.fixed_template",
    ("direct", "zns"): "zalo7.fixed_zns",
    ("template", "held"): "zalo7.fixed_held_template",
    ("direct", "template_cut"): "zalo15.fixed_template_cut",
    ("template", "template_cut"): "zalo15.fixed_template_cut",
}


#: How to answer a rating request by typing, told where its buttons are not at hand: in the
#: template message sent instead (which has none), and under the request re-sent when the
#: citizen writes again (``conversations.resent`` reads the number typed).
RATE_HINT_TEMPLATE = "zalo7.rate_hint_template"
RATE_HINT_RESENT = "zalo7.rate_hint_resent"
#: The mark ending a template message whose notice was shortened to fit (``zalo_template``):
#: shortened, and the whole of it shows when the citizen writes to the OA.
TEMPLATE_CUT = "zalo15.template_cut"
#: The catalog key of the notice that asks for a rating (with its 1-5 buttons).
RATING_NOTICE = "notice.resolved"


#: What the officer who acted is told when the notice they were told went as a template
#: waits for ZNS instead, by why (``zns_schedule``: outside Zalo's sending hours, or over the
#: OA's daily quota), with ``{code}`` and ``{when}`` (local time it goes at the latest).
ZNS_WAIT = {"hours": "zalo11.zns_wait_hours", "quota": "zalo11.zns_wait_quota"}

#: The catalog keys ``Window.texts`` must hold: the corrections, the rating hints, the mark.
WINDOW_KEYS = (
    *CORRECTIONS.values(),
    *ZNS_WAIT.values(),
    RATE_HINT_TEMPLATE,
    RATE_HINT_RESENT,
    TEMPLATE_CUT,
)


def correction_key(told: str, went: Went) -> str | None:
    """The catalog key of the correction owed to an officer told ``told`` ("direct",
    "template", "held", or those with "48" in the billed stretch) of a notice that ``went``;
    None when what they were told holds."""
    return CORRECTIONS.get((told.removesuffix("48"), went))


def filed_note_key(template: bool, send_billed: bool) -> str:
    """The catalog key of what a Zalo citizen is told at filing about hearing back: it names
    the stretch notices really go in, 7 days, or 48 h when ``ZALO_SEND_BILLED`` is off."""
    if send_billed:
        return "zalo.filed_note_template" if template else "zalo.filed_note"
    return "zalo6.filed_note_template_48h" if template else "zalo6.filed_note_48h"


def zns_filed_note_key(send_billed: bool) -> str:
    """The filing note's key when notices beyond the stretch go by ZNS: 7 days, or 48 h when
    ``ZALO_SEND_BILLED`` is off (the ZNS then goes after 48 h)."""
    return "zns5.filed_note" if send_billed else "zns5.filed_note_48h"


@dataclass(slots=True)
class Window:
    """What the Zalo sender needs to know of the window. ``send_billed`` (``ZALO_SEND_BILLED``)
    False keeps notices in the billed 48 h - 7 days stretch for a template or for the
    citizen's next message; ``template_id`` is the agency's approved template, or ""."""

    engine: AsyncEngine
    clock: Callable[[], datetime]
    template_id: str = ""
    send_billed: bool = True
    #: Texts by language and catalog key (``WINDOW_KEYS``), each sent in its reader's
    #: language: the corrections (``CORRECTIONS``, with ``{code}``; one missing here is not
    #: sent) and the rating hints (missing: none added).
    texts: ZaloTexts = field(default_factory=ZaloTexts)

    async def hold(self, chat_id: str) -> str:
        """ "" when a notice to ``chat_id`` may go as a normal message now; otherwise why not
        (``storage.queries.outbox.HELD_REASONS``): "billed" in the billed stretch the agency
        chose not to pay for (``send_billed`` False), "window" past Zalo's 7 days."""
        async with read_transaction(self.engine) as conn:
            last = await last_wrote(conn, chat_id)
        now = self.clock()
        if reach(last, now, send_billed=self.send_billed) == "direct":
            return ""
        return "billed" if standing(last, now) == "billed" else "window"

    async def rate_hint(self, chat_id: str, message: TextMessage, key: str) -> str:
        """The hint ``key`` in the language of ``chat_id`` when ``message`` is a rating
        request, else ""."""
        if message.key != RATING_NOTICE or not message.choices:
            return ""
        return await self.texts.for_chat(CHANNEL, chat_id, key)

    async def record(self, outcome: str) -> None:
        async with write_transaction(self.engine) as conn:
            await record_notices(conn, [outcome], self.clock())

    async def waited(self, chat_id: str, message: TextMessage) -> bool:
        """Whether ``message`` to ``chat_id`` already waited for ZNS (``waits_for_zns``)."""
        async with read_transaction(self.engine) as conn:
            return await waits_for_zns(conn, chat_id, message.key, message.text)

    async def correct(self, told: Sequence[str], went: Went) -> bool:
        """Corrects the officer who acted when the notice ``went`` otherwise than they were
        told (``TextMessage.told``: their channel and chat, what they were told, the code):
        a short message to them and a note in the case's history. True when one was due."""
        if len(told) != 4:
            return False
        key = correction_key(told[2], went)
        return key is not None and await self.tell(told, key)

    async def tell(self, told: Sequence[str], key: str, **params: str) -> bool:
        """Tells the officer who acted (``told``, as in ``correct``) the text ``key`` with
        ``{code}`` and ``params``: to their chat, in their language, and in the case's
        history. False when there is no officer, no such text or no such case."""
        if len(told) != 4:
            return False
        channel, chat_id, _said, code = told
        # In the officer's own language (their chat's choice), like what they were told.
        text = await self.texts.for_chat(channel, chat_id, key)
        if not text:
            return False
        async with write_transaction(self.engine) as conn:
            staff = (channel, chat_id)
            return await record_correction(
                conn, code, staff, text.format(code=code, **params), key, self.clock()
            )
