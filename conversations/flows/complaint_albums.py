"""An album sent with a complaint (Telegram's ``media_group_id``, or a burst of images the
runtime gathered): its photos are taken one event at a time, but the citizen is answered
once, so each part's answer says everything about the album so far.

The runtime sends only the last answer of an album's parts (``bot/runtime/albums.py``), and
parts may come in any order, the caption on any of them, and in more than one batch (the
album's record lives in the draft, so a later batch goes on counting):

* at the description step, parts without a caption wait in the draft; the part whose caption
  is a valid description gives the description, and every part of the album (those that
  waited and those that follow) is kept for the files step (issue 13, point 3);
* at the files step, each part is kept unless refused; files over the limit
  (``MAX_COMPLAINT_FILES``) are counted and the answer says how many were not kept and why
  (issue 13, point 4).

The draft's ``album``: ``{"id": group, "got": kept, "over": refused for the limit,
"refused": [[key, params], ...] other refusals (distinct), "caption": bool (the caption was
taken as the description), "waiting": [file, ...] (parts held at the description step)}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..context import Env
from ..effects import ConversationState, Lines, Outcome, Reply
from ..events import Attachment
from ..limits import MAX_COMPLAINT_FILES
from .complaint_draft import FILES, TEXT, Draft
from .complaint_files import file_record, file_refusal
from .complaint_prompt import prompt, reask

#: The key of an album's acknowledgement: it says everything about the album so far, so the
#: runtime sends it in place of whatever the album's earlier parts got (``bot/runtime/albums``).
ALBUM_ACK = "input6.album_ack"

#: Reads a text as the description: the outcome of the description step given that text.
Describe = Callable[[ConversationState, str], Outcome]


def takes_album(state: ConversationState) -> bool:
    """Whether an album part is read as such at this step (the description or the files)."""
    return state.step in (TEXT, FILES)


def album_part(
    state: ConversationState, draft: Draft, env: Env, event: Attachment, describe: Describe
) -> Outcome:
    """One part of the album ``event.group`` at the description or the files step."""
    album = _album(draft, event.group)
    if state.step == TEXT:
        if not event.caption:
            return _wait(state, draft, env, event)
        answered = describe(state, event.caption)
        new = answered.state
        if new is None or new.step != FILES:
            # Not a description (too short, a navigation word): the part waits like the
            # others, and the citizen hears why the caption was not taken.
            waited = _wait(state, draft, env, event)
            return replace(answered, state=waited.state)
        draft = Draft.load(new.data)
        album = _album(draft, event.group)
        album["caption"] = True
        pending = album.pop("waiting", [])
        for kept in [*(pending if isinstance(pending, list) else []), file_record(event, "")]:
            if isinstance(kept, dict):
                _take(draft, album, kept, None)
        draft.album = album
        return _answer(new, draft, env)
    refusal = file_refusal(event, len(draft.files))
    _take(draft, album, file_record(event, event.caption), refusal)
    draft.album = album
    return _answer(state, draft, env)


def _album(draft: Draft, group: str) -> dict[str, object]:
    if draft.album.get("id") == group:
        return dict(draft.album)
    return {"id": group, "got": 0, "over": 0, "refused": [], "caption": False, "waiting": []}


def _wait(state: ConversationState, draft: Draft, env: Env, event: Attachment) -> Outcome:
    """A part at the description step before its caption: held in the draft, and the answer
    is the step's own (no file is taken here), unless a captioned part follows."""
    album = _album(draft, event.group)
    waiting = album.get("waiting")
    held = list(waiting) if isinstance(waiting, list) else []
    album["waiting"] = [*held, file_record(event, "")]
    draft.album = album
    return reask(replace(state, data=draft.dump()), env, "complaint.file_not_now")


def _take(
    draft: Draft, album: dict[str, object], file: dict[str, object], refusal: Reply | None
) -> None:
    """Keeps ``file`` (or counts why not) in the album's record."""
    if refusal is None and len(draft.files) >= MAX_COMPLAINT_FILES:
        refusal = Reply("complaint.file_too_many", (("max", MAX_COMPLAINT_FILES),))
    if refusal is None:
        draft.files.append(file)
        album["got"] = _int(album.get("got")) + 1
    elif refusal.key == "complaint.file_too_many":
        album["over"] = _int(album.get("over")) + 1
    else:
        seen = album.get("refused")
        refused = list(seen) if isinstance(seen, list) else []
        entry = [refusal.key, [list(p) for p in refusal.params]]
        if entry not in refused:
            refused.append(entry)
        album["refused"] = refused


def _answer(state: ConversationState, draft: Draft, env: Env) -> Outcome:
    """One acknowledgement for the whole album so far, then the files question."""
    album = draft.album
    new = replace(state, data=draft.dump())
    lines: list[Reply] = []
    if album.get("caption"):
        lines.append(Reply("input.caption_taken"))
    got, over = _int(album.get("got")), _int(album.get("over"))
    if got:
        counts = (("count", got), ("n", len(draft.files)), ("max", MAX_COMPLAINT_FILES))
        lines.append(Reply("input.album_received", counts))
    if over:
        lines.append(Reply("input6.files_over", (("count", over), ("max", MAX_COMPLAINT_FILES))))
    refused = album.get("refused")
    for key, params in refused if isinstance(refused, list) else []:
        lines.append(Reply(str(key), tuple((str(n), v) for n, v in params)))
    ack = Reply(ALBUM_ACK, (("lines", Lines(tuple(lines))),))
    return Outcome((ack, *prompt(new, env)), state=new)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0
