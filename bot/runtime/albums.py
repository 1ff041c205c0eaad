"""Albums answered once: the files of one album (Telegram's ``media_group_id``, or a burst of
images from a channel without albums, such as Zalo) are taken one by one, but answered once:
each part's answer supersedes the messages of the same kind an earlier part got ("Đã nhận 3
tệp (3/5)" and the question, not one per file), while what only an earlier part got (the
answer to a caption that answered a question) is kept.

The dispatcher holds a batch with a file in it for a moment (``album_hold``) so an album's
files arrive in one batch; the engine's answer to each file counts the whole album so far, so
the last answer says everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from conversations import Attachment, InboundEvent
from conversations.flows.complaint_albums import ALBUM_ACK
from storage import WriteSet
from storage.outbound import EditMessage, Outbound, TextMessage

Key = tuple[str, str, str]


def is_file(event: InboundEvent) -> bool:
    """A photo or document (what an album is made of)."""
    payload = event.payload
    return isinstance(payload, Attachment) and payload.media != "other"


def _chat(event: InboundEvent) -> tuple[str, str]:
    return event.channel, event.external_id


class Albums:
    """Queues an event's messages in ``writes``, holding back those of an album's files
    until the next event of the same chat that is not the same album's (or the batch's end)."""

    def __init__(self, writes: WriteSet) -> None:
        self.writes = writes
        #: chat -> (album group, [(message, when, bulk, in_survey)]) not yet queued.
        self._held: dict[
            tuple[str, str], tuple[str, list[tuple[Outbound, datetime, bool, bool]]]
        ] = {}

    @staticmethod
    def gathered(events: Sequence[InboundEvent]) -> list[InboundEvent]:
        """The events, with files sent in a burst by a channel without albums (two or more in
        a row from one chat, nothing else between them) marked as one album."""
        runs: dict[tuple[str, str], list[int]] = {}
        out = list(events)
        for index, event in enumerate(out):
            chat = _chat(event)
            payload = event.payload
            if is_file(event) and isinstance(payload, Attachment) and not payload.group:
                runs.setdefault(chat, []).append(index)
                continue
            _mark(out, runs.pop(chat, []))
        for run in runs.values():
            _mark(out, run)
        return out

    def release(self, event: InboundEvent) -> None:
        """Before ``event`` is handled: what its chat's album said is queued, unless the
        event is the next file of that same album."""
        chat = _chat(event)
        held = self._held.get(chat)
        if held is None or held[0] == _group(event):
            return
        del self._held[chat]
        for message, at, bulk, in_survey in held[1]:
            self.writes.enqueue(chat[0], chat[1], message, at, bulk=bulk, in_survey=in_survey)

    def enqueue(
        self,
        event: InboundEvent,
        messages: Sequence[Outbound],
        at: datetime,
        *,
        bulk: bool,
        in_survey: bool = False,
    ) -> None:
        """Queues ``messages`` (``bulk`` and ``in_survey`` as ``WriteSet.enqueue`` takes them),
        or holds them while the event's album may have more parts."""
        group = _group(event)
        if not group:
            for message in messages:
                self.writes.enqueue(
                    event.channel, event.external_id, message, at, bulk=bulk, in_survey=in_survey
                )
            return
        # A later part's answer supersedes what an earlier part got of the same kind (the
        # album's count, the question asked again); the rest stays (what a caption that
        # answered a question brought: a notice, the next question's lead-in).
        chat = _chat(event)
        held = self._held.get(chat)
        kept = held[1] if held is not None and held[0] == group else []
        if any(_key(m) == ALBUM_ACK for m in messages):
            kept = []  # the engine's acknowledgement of the whole album: it says everything
        newer = {key for m in messages if (key := _key(m))}
        kept = [h for h in kept if _key(h[0]) not in newer]
        self._held[chat] = (group, [*kept, *((m, at, bulk, in_survey) for m in messages)])

    def release_all(self) -> None:
        for chat, (_, held) in list(self._held.items()):
            for message, at, bulk, in_survey in held:
                self.writes.enqueue(chat[0], chat[1], message, at, bulk=bulk, in_survey=in_survey)
        self._held.clear()


def _key(message: Outbound) -> str:
    """The catalog key a text was rendered from ("" for files and keyless texts)."""
    return message.key if isinstance(message, TextMessage | EditMessage) else ""


def _group(event: InboundEvent) -> str:
    payload = event.payload
    return payload.group if isinstance(payload, Attachment) and is_file(event) else ""


def _mark(events: list[InboundEvent], run: list[int]) -> None:
    if len(run) < 2:
        return
    group = f"burst:{events[run[0]].event_id}"[:64]
    for index in run:
        event = events[index]
        assert isinstance(event.payload, Attachment)
        events[index] = replace(event, payload=replace(event.payload, group=group))
