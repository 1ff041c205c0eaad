"""The complaint's files: one kept, an album counted once, and why a file is refused.
Moved out of ``complaint.py`` unchanged."""

from __future__ import annotations

from dataclasses import replace

from ..context import Env
from ..effects import ConversationState, Outcome, Reply
from ..events import Attachment
from ..limits import (
    DOCUMENT_EXTENSIONS,
    EXECUTABLE_EXTENSIONS,
    MAX_COMPLAINT_FILES,
    MAX_FILE_BYTES,
    MAX_FILE_ID_CHARS,
    MAX_FILE_NOTE_CHARS,
)
from .complaint_draft import FILES, Draft
from .complaint_prompt import prompt, reask


def keep_file(draft: Draft, event: Attachment) -> None:
    draft.files.append(
        {
            "media": event.media,
            "size": event.size,
            "file_id": event.file_id,
            "name": event.name[:200],
            "mime": event.mime[:100],
            "note": event.caption[:MAX_FILE_NOTE_CHARS],
        }
    )


def attachment(state: ConversationState, draft: Draft, env: Env, event: Attachment) -> Outcome:
    if state.step != FILES:
        return reask(state, env, "complaint.file_not_now")
    refusal = file_refusal(event, len(draft.files))
    if refusal is None:
        keep_file(draft, event)
    if not event.group:
        new = replace(state, data=draft.dump())
        if refusal is not None:
            return Outcome((refusal, *prompt(new, env)), state=new)
        received = Reply(
            "complaint.file_received", (("n", len(draft.files)), ("max", MAX_COMPLAINT_FILES))
        )
        return Outcome((received, *prompt(new, env)), state=new)
    return _album_file(state, draft, env, event.group, refusal)


def _album_file(
    state: ConversationState, draft: Draft, env: Env, group: str, refusal: Reply | None
) -> Outcome:
    """One file of an album: the reply counts the whole album so far, so that the runtime,
    which sends only the last reply of an album's files, acknowledges the album once."""
    if draft.album.get("id") != group:
        draft.album = {"id": group, "got": 0}
    before = draft.album.get("got")
    got = (before if isinstance(before, int) else 0) + (refusal is None)
    draft.album["got"] = got
    if refusal is not None:
        draft.album["refused"] = [refusal.key, [list(p) for p in refusal.params]]
    new = replace(state, data=draft.dump())
    replies: list[Reply] = []
    if draft.album["got"]:
        params = (
            ("count", draft.album["got"]),
            ("n", len(draft.files)),
            ("max", MAX_COMPLAINT_FILES),
        )
        replies.append(Reply("input.album_received", params))  # type: ignore[arg-type]
    refused = draft.album.get("refused")
    if isinstance(refused, list) and len(refused) == 2:
        key, params = refused
        replies.append(Reply(str(key), tuple((str(n), v) for n, v in params)))
    return Outcome((*replies, *prompt(new, env)), state=new)


def file_refusal(event: Attachment, already: int) -> Reply | None:
    """Why a file cannot be taken (too many, too big, not a file, a disguised name), or None.

    The type the sender declared decides nothing: a real PDF sent as
    ``application/octet-stream`` is taken, and a "PDF" that is a program is refused once its
    bytes are read (``jobs/attachments``), with a word to the citizen (``jobs/file_notices``).
    """
    if already >= MAX_COMPLAINT_FILES:
        return Reply("complaint.file_too_many", (("max", MAX_COMPLAINT_FILES),))
    if event.media == "other" or not event.file_id or len(event.file_id) > MAX_FILE_ID_CHARS:
        return Reply("complaint.file_type")
    if disguised_name(event.name):
        return Reply("complaint.file_name_refused")
    if event.size > MAX_FILE_BYTES:
        return Reply("complaint.file_too_big", (("max", MAX_FILE_BYTES // (1024 * 1024)),))
    return None


def disguised_name(name: str) -> bool:
    """True for a file name that carries a program's extension anywhere, or two extensions
    (``hoa-don.pdf.scr``, ``x.pdf.docx``). The name decides nothing else: the file's type is
    read from its bytes when it is copied (``jobs/attachments``)."""
    parts = [p.strip().lower() for p in name.strip().rstrip(". ").split(".")][1:]
    if any(p in EXECUTABLE_EXTENSIONS for p in parts):
        return True
    return len(parts) >= 2 and parts[-2] in DOCUMENT_EXTENSIONS
