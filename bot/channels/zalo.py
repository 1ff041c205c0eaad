"""Zalo Official Account adapter, sending: outbox rows into OA messages (reading the signed
webhook's events is ``bot/channels/zalo_events.py``). ``render`` is pure; ``ZaloSender``
does the I/O, including images and documents (``send_image``, ``send_document``; what Zalo
takes is in ``bot/channels/zalo_media.py``). ``ZALO_CAPABILITIES`` and ``ZALO_MAX_TEXT``
tell the runtime what this channel can carry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from bot.channels.zalo_events import CHANNEL, CHOICE_PREFIX
from bot.channels.zalo_media import (
    UPLOAD_FILE_PATH,
    UPLOAD_IMAGE_PATH,
    can_send_document,
    can_send_image,
    document_upload,
    file_message,
    image_message,
    image_upload,
)
from bot.channels.zalo_template import MAX_TEMPLATE_TEXT, template_text
from bot.channels.zalo_texts import NAV_HINT, ZaloTexts
from bot.channels.zalo_tokens import WAIT_POLL, TokenStore
from bot.channels.zalo_window import (
    FILED_PREFIX,
    RATE_HINT_RESENT,
    RATE_HINT_TEMPLATE,
    TEMPLATE_CUT,
    ZNS_WAIT,
    Went,
    Window,
)
from bot.channels.zalo_zns import ZNS_TOKEN_ERRORS, Zns
from bot.errors import (
    ChannelError,
    ChatBlocked,
    Deferred,
    Paused,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unreachable,
    Unsupported,
)
from bot.runtime.replies import Capabilities, text_parts
from storage.outbound import DocumentMessage, ImageMessage, Outbound, TextMessage

SEND_PATH = "/v3.0/oa/message/cs"
#: Approved template messages by user id: proactive messages since 01/03/2026 (ZALO.md).
TEMPLATE_PATH = "/v3.0/oa/message/template"
#: -216 invalid access token, -220 access token expired or removed: both mean "refresh and
#: retry" (ZALO.md, "Errors").
TOKEN_ERRORS = frozenset({-216, -220})
MAX_TEXT = 2000
#: What the runtime may ask the Zalo channel to send (no edits: Zalo cannot edit a message).
ZALO_CAPABILITIES: frozenset[str] = frozenset({"text", "image", "document"})
ZALO_MAX_TEXT = MAX_TEXT
UPLOAD_TIMEOUT = 60
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
log = logging.getLogger("bot.zalo")


class UnreachableOnZalo(Unreachable):
    """Outside Zalo's 7-day window, or the citizen inactive or restricted: kept for staff,
    not retried (``UNREACHABLE``: errors -230/-232, -227, -244)."""


class ButtonsHeld(UnreachableOnZalo):
    """Sent as a template message, which carries no buttons the bot understands (a rating
    request's), or not all of it (a template shortened to fit, ZNS's few fields): the
    message is held too, and goes again, whole, buttons and all, the moment the citizen
    writes (``citizen_wrote``), before the bot answers what they wrote."""

    told = True


def render(message: TextMessage, hint: str) -> dict[str, Any]:
    """A text message as an OA message: buttons when they fit (at most 5), otherwise the
    options numbered in the text, which the engine reads when typed."""
    text = message.text
    choices = list(message.choices)
    out: dict[str, Any] = {}
    if choices and len(choices) <= MAX_BUTTONS:
        out["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {
                        "title": label[:MAX_BUTTON_TITLE],
                        "type": "oa.query.hide",
                        "payload": CHOICE_PREFIX + choice_id,
                    }
                    for choice_id, label in choices
                ]
            },
        }
    elif choices:
        # Words the engine reads when typed (done, back, skip, cancel) are not numbered.
        words = (":back", ":skip", ":cancel", ":done")
        nav = [label for cid, label in choices if cid.endswith(words)]
        body = [label for cid, label in choices if not cid.endswith(words)]
        lines = [f"{n}. {label}" for n, label in enumerate(body, start=1)]
        told = [hint.format(words=", ".join(nav))] if nav and hint else []
        text = "\n".join([text, *lines, *told])
    out["text"] = clip(text) or "…"
    return out


def _can_send(message: Outbound) -> bool:
    """What Zalo takes of the kinds it has: PNG/JPEG images up to 1 MB, PDF/DOC/DOCX files
    up to 5 MB; anything else (a spreadsheet) is said in words by the runtime."""
    if isinstance(message, ImageMessage):
        return can_send_image(message.data)
    if isinstance(message, DocumentMessage):
        return can_send_document(message.name, len(message.data))
    return True


def _whole(message: Outbound) -> bool:
    """A complaint's notice reaches the sender whole, however long: outside the window it
    goes as ONE template message (``_notice``), inside it in parts (``_text``)."""
    return isinstance(message, TextMessage) and bool(message.notice)


#: What an OA message can carry here. Zalo cannot edit a sent message: the runtime drops an
#: answered question's edit (the next question says enough) and shows a redrawn one anew.
CAPABILITIES = Capabilities(
    kinds=ZALO_CAPABILITIES, max_text=ZALO_MAX_TEXT, can_send=_can_send, whole=_whole
)


def clip(text: str) -> str:
    """``text`` cut to Zalo's 2,000 characters, with "…" when cut."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class ZaloSender:
    """Sends typed messages, images and documents to the OA API.

    Every call (message or upload) goes through ``_call``: one token refresh and one retry on
    -216 or -220 (a refused token is never posted again), and Zalo's error codes mapped to
    the errors the outbox sender reacts to."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        tokens: TokenStore,
        texts: ZaloTexts,
        window: Window | None = None,
        filed_note: str = "",
        zns: Zns | None = None,
    ):
        base = base_url.rstrip("/")
        self.client = client
        self.url = base + SEND_PATH
        self.template_url = base + TEMPLATE_PATH
        self.window = window
        #: ZNS by phone number, for notices outside the window with no OA template.
        self.zns = zns
        #: The catalog key of what a Zalo citizen is told under their complaint's receipt:
        #: how they will hear back ("": nothing).
        self.filed_note = filed_note
        self.image_url = base + UPLOAD_IMAGE_PATH
        self.file_url = base + UPLOAD_FILE_PATH
        self.tokens = tokens
        #: The sender's own sentences, sent in each reader's language (``zalo_texts``).
        self.texts = texts

    async def send(self, chat_id: str, message: Outbound) -> None:
        match message:
            case TextMessage(notice=notice) if self.window and notice:
                # Every notice of a case to its sender (``TextMessage.notice``), whatever its
                # catalog key: a forward out of remit goes like an answer.
                await self._notice(chat_id, message, self.window)
            case TextMessage(key=key) if self.filed_note and key.startswith(FILED_PREFIX):
                await self._text(chat_id, message)
                note = await self.texts.for_chat(
                    CHANNEL, chat_id, await self._note(chat_id, message)
                )
                if note:
                    await self._message(chat_id, {"text": clip(note)})
            case TextMessage():
                await self._text(chat_id, message)
            case ImageMessage(data, name, caption):
                await self.send_image(chat_id, data, name, caption)
            case DocumentMessage(data, name, caption):
                await self.send_document(chat_id, data, name, caption)
            case _:
                # The runtime adapts what CAPABILITIES leave out; anything else is a bug.
                raise PermanentSendError(f"{message.kind} is not sent on Zalo")

    async def _text(self, chat_id: str, message: TextMessage) -> None:
        """``message`` as normal messages: in marked parts when longer than Zalo takes (only
        a notice comes here whole, ``_whole``), the buttons with the last."""
        for part in text_parts(message, CAPABILITIES):
            await self._message(chat_id, render(part, await self._hint(chat_id, part)))

    async def _hint(self, chat_id: str, message: TextMessage) -> str:
        """The hint under options numbered in the text, in the chat's language; "" (and no
        lookup) when the options fit as buttons."""
        if len(message.choices) <= MAX_BUTTONS:
            return ""
        return await self.texts.for_chat(CHANNEL, chat_id, NAV_HINT)

    async def _notice(self, chat_id: str, message: TextMessage, window: Window) -> None:
        """A complaint's notice: a normal message while the window allows it; outside it an
        approved template message when the agency has one, else UnreachableOnZalo (the outbox
        holds it and ``citizen_wrote`` re-sends it when the citizen writes again)."""
        went, why = await self._deliver(chat_id, message, window)
        # Staff were told how it goes when they acted: corrected if it went otherwise.
        await window.correct(message.told, went)
        if went == "held":
            # Why, for the digest: not always Zalo's 7 days (D3: held past 48 h by the
            # agency's ZALO_SEND_BILLED was reported as "not written in 7 days").
            raise UnreachableOnZalo(f"held for the citizen's next message ({why})", reason=why)
        if went in ("template_cut", "zns"):
            # The template held only the notice's start, ZNS only its code and status: the
            # whole notice waits for the citizen's next message (counted once, as sent).
            raise ButtonsHeld("sent shortened as a template; the whole waits for the next message")
        if went != "direct" and message.choices:
            raise ButtonsHeld("sent as a template; its buttons wait for the citizen's next message")

    async def _deliver(
        self, chat_id: str, message: TextMessage, window: Window
    ) -> tuple[Went, str]:
        """Sends the notice the way the window allows; how it went ("held": not sent), and
        why it did not go as a normal message (``storage.queries.outbox.HELD_REASONS``;
        "" when it did)."""
        why = await window.hold(chat_id)
        if not why:
            if len(message.told) == 4 and message.told[2] != "direct":
                # Held when staff acted, going now the citizen wrote: how to answer by typing.
                hint = await window.rate_hint(chat_id, message, RATE_HINT_RESENT)
                message = replace(message, text=f"{message.text}\n{hint}" if hint else message.text)
            try:
                await self._text(chat_id, message)
                return "direct", ""
            except UnreachableOnZalo as exc:
                why = exc.reason  # Zalo's own clock says closed, or it refuses the citizen
        went = await self._by_template(chat_id, message, window)
        if went == "held" and await self._by_zns(chat_id, message, window):
            went = "zns"
        # One notice, one count, however long (it is never split into several templates).
        await window.record("held" if went == "held" else "template")
        return went, why

    async def _by_template(self, chat_id: str, message: TextMessage, window: Window) -> Went:
        """Sends the notice as ONE approved template message, shortened to fit when it is
        longer (``zalo_template``): "template", or "template_cut" when shortened. "held"
        when there is no template, or when Zalo refuses it for good (a wrong or withdrawn
        template id): the notice is then held like any other rather than lost, and the
        refusal is counted as "tpl_refused" for the digest and /healthz, which tell staff to
        fix the setting."""
        if not window.template_id:
            return "held"
        # A rating request's template has no buttons: how to answer it, never cut off.
        hint = await window.rate_hint(chat_id, message, RATE_HINT_TEMPLATE)
        mark = await window.texts.for_chat(CHANNEL, chat_id, TEMPLATE_CUT)
        text, cut = template_text(message.text, hint, mark, MAX_TEMPLATE_TEXT)
        data = {"template_id": window.template_id, "template_data": {"content": text}}
        body = {"recipient": {"user_id": chat_id}, "message": data}
        try:
            await self._call(self.template_url, "", json=body)
        except (PermanentSendError, UnreachableOnZalo) as exc:
            log.warning("event=zalo_template_refused reason=%s", exc)
            await window.record("tpl_refused")
            return "held"
        return "template_cut" if cut else "template"

    async def _note(self, chat_id: str, message: TextMessage) -> str:
        """The catalog key of how the sender of the complaint just filed will hear back: by
        ZNS when they agreed."""
        zns = self.zns
        if zns and zns.filed_note and await zns.phone(chat_id, message.text) is not None:
            return zns.filed_note
        return self.filed_note

    async def _by_zns(self, chat_id: str, message: TextMessage, window: Window) -> bool:
        """Sends the notice by ZNS to the phone its complaint was filed with, when ZNS is
        configured and the sender agreed at filing; False (the notice is held) otherwise,
        and when ZNS refuses it or cannot be reached (``bot/channels/zalo_zns.py``). Raises
        Deferred outside ZNS's sending hours or over its daily quota (``zns_schedule``)."""
        if self.zns is None:
            return False
        now = window.clock()
        body = await self.zns.request(chat_id, message.notice, message.text, now)
        if body is None:
            return False
        wait = await self.zns.schedule.wait_until(self.zns.engine, now)
        if wait is not None:
            # Zalo's sending hours or the day's quota: the notice waits for the next opening
            # (``zns_schedule``), or for the citizen's next message (``citizen_wrote``); over
            # the quota it is counted for the digest.
            until, why = wait
            if why == "quota":
                await window.record("zns_quota")
            if not await window.waited(chat_id, message):
                # Staff were told "sent as a template" when they acted: not yet. Counted as
                # held once, like a notice held for the window (then re-sent or sent by ZNS).
                await window.record("held")
                when = f"{until.astimezone(self.zns.tz):%H:%M %d/%m/%Y}"
                await window.tell(message.told, ZNS_WAIT[why], when=when)
            raise Deferred(until, f"zns {why}")
        try:
            await self._call(self.zns.url, "", token_errors=ZNS_TOKEN_ERRORS, json=body)
        except ChannelError as exc:
            log.warning("event=zns_failed reason=%s", exc)
            return False
        await window.record("zns")
        return True

    async def send_image(self, user_id: str, data: bytes, name: str, caption: str) -> None:
        """Uploads a PNG or JPEG (at most 1 MB) and sends it to the user with ``caption``
        (clipped to 2,000 characters) as its text.

        Raises Unsupported (before any request) for other bytes or a larger image, and what
        ``send`` raises otherwise (UnreachableOnZalo outside the window, RateLimited, ...)."""
        file_name, content_type = image_upload(data, name)
        answer = await self._call(
            self.image_url, "image", files=_form(file_name, data, content_type)
        )
        attachment_id = _uploaded(answer, "image", "attachment_id")
        await self._message(user_id, image_message(attachment_id, clip(caption)))

    async def send_document(self, user_id: str, data: bytes, name: str, caption: str) -> None:
        """Uploads a PDF, DOC or DOCX file (by ``name``'s extension; at most 5 MB) and sends
        it to the user; a non-blank ``caption`` goes first, as its own text message, because
        Zalo's file message documents no text.

        Raises Unsupported (before any request) for other types (.xlsx, ...) or a larger
        file; check first with ``can_send_document``."""
        file_name, content_type = document_upload(data, name)
        answer = await self._call(
            self.file_url, "document", files=_form(file_name, data, content_type)
        )
        # Zalo documents ``data.token``; goclaw's channel reads ``data.attachment_id`` first
        # and ``token`` as a fallback. Either is taken, ``token`` first.
        token = _uploaded(answer, "document", "token", "attachment_id")
        if caption.strip():
            await self._message(user_id, {"text": clip(caption)})
        await self._message(user_id, file_message(token))

    async def _message(self, user_id: str, message: dict[str, Any]) -> None:
        await self._call(self.url, "", json={"recipient": {"user_id": user_id}, "message": message})

    async def _call(
        self,
        url: str,
        upload: str,
        token_errors: frozenset[int] = TOKEN_ERRORS,
        **request: Any,
    ) -> Mapping[str, Any]:
        """POSTs with the access token and returns Zalo's answer when ``error`` is 0; on -216
        or -220 refreshes the token once and retries once, and raises Paused (the message
        waits for a working token, spending no attempt) when that is refused too or no new
        token can be had (``TokenStore.refused``). ``upload`` names what is uploaded
        ("" for a message): an upload answering -210 is a file over Zalo's limit."""
        for attempt in (1, 2):
            token = await self.tokens.access_token()
            # Asked before posting: a send beside this one may prove the token meanwhile.
            unproven = self.tokens.unproven(token)
            try:
                response = await self.client.post(
                    url,
                    headers={"access_token": token},
                    timeout=UPLOAD_TIMEOUT if upload else 10,
                    **request,
                )
            except httpx.HTTPError as exc:
                raise TransientSendError(type(exc).__name__) from exc
            if response.status_code >= 500:
                raise TransientSendError(f"HTTP {response.status_code}")
            try:
                answer = response.json()
            except ValueError as exc:
                raise TransientSendError("not JSON") from exc
            if not isinstance(answer, Mapping):
                raise TransientSendError("not a JSON object")
            code = int(answer.get("error", 0) or 0)
            if code == 0:
                self.tokens.worked(token)
                return answer
            if code in token_errors:
                # Never posted again: one refresh (single flight) and one retry. Without a
                # working token the message waits (Paused spends no attempt), never dies.
                await self.tokens.refused(token, code, unproven=unproven)
                if attempt == 1:
                    continue
                raise Paused(WAIT_POLL.total_seconds(), f"zalo {code}: another token stored")
            raise _error(code, upload)
        raise AssertionError("unreachable: the second attempt returns or raises")


#: Refusals that pass once the citizen writes to the OA again (ZALO.md): -230/-232 outside
#: the 7-day window, -227 banned or inactive for 45 days, -244 restricted. The message is
#: held (or goes as a template), never dropped, and staff told so.
UNREACHABLE = frozenset({-230, -232, -227, -244})
#: Those of them that mean the 7-day window is closed (the others: "refused", for the digest).
CLOSED = frozenset({-230, -232})


def _error(code: int, upload: str) -> ChannelError:
    """The error a non-zero Zalo ``error`` code means for the outbox sender."""
    if code in UNREACHABLE:
        return UnreachableOnZalo(f"zalo {code}", reason="window" if code in CLOSED else "refused")
    if code == -213:
        return ChatBlocked(f"zalo {code}")
    if code == -32:
        return RateLimited(60)
    if code == -210 and upload:
        # -210 "parameter exceeds the limit": goclaw reports it for uploads over the size
        # limit (unverified in Zalo's docs); our own size check normally comes first.
        return Unsupported(upload, f"zalo {code}: over Zalo's size limit")
    return PermanentSendError(f"zalo {code}")


def _form(name: str, data: bytes, content_type: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data, content_type)}


def _uploaded(answer: Mapping[str, Any], kind: str, *keys: str) -> str:
    """The first non-empty ``data.<key>`` of a successful upload's answer. Without one, Zalo
    took the request but not the file: goclaw reports that Zalo answers so, with empty
    ``data``, for a type it refuses (unverified), hence Unsupported."""
    data = answer.get("data")
    for key in keys:
        value = data.get(key) if isinstance(data, Mapping) else None
        if isinstance(value, str) and value:
            return value
    raise Unsupported(kind, f"zalo answered success but no data.{keys[0]}")
