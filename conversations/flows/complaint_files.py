"""The complaint's files: one kept, and why a file is refused (an album's parts:
``complaint_albums``)."""

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
from .complaint_draft import CATEGORY, FILES, TEXT, Draft
from .complaint_prompt import prompt, reask


def file_record(event: Attachment, note: str) -> dict[str, object]:
    """What the draft keeps of a file: its channel id, kind, size, name, type and ``note``
    (the caption at the files step)."""
    return {
        "media": event.media,
        "size": event.size,
        "file_id": event.file_id,
        "name": event.name[:200],
        "mime": event.mime[:100],
        "note": note[:MAX_FILE_NOTE_CHARS],
    }


def keep_file(draft: Draft, event: Attachment) -> None:
    draft.files.append(file_record(event, event.caption))


def attachment(state: ConversationState, draft: Draft, env: Env, event: Attachment) -> Outcome:
    """A file on its own (not an album's part) at any step of the complaint."""
    if state.step in (CATEGORY, TEXT, None):
        return reask(state, env, "complaint.file_not_now")
    if state.step != FILES:
        # Past the files step: "after the description" would be false here; «Quay lại» goes
        # back to it.
        return reask(state, env, "input6.file_not_here")
    refusal = file_refusal(event, len(draft.files))
    if refusal is not None:
        return Outcome((refusal, *prompt(state, env)), state=state)
    keep_file(draft, event)
    new = replace(state, data=draft.dump())
    received = Reply(
        "complaint.file_received", (("n", len(draft.files)), ("max", MAX_COMPLAINT_FILES))
    )
    return Outcome((received, *prompt(new, env)), state=new)


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
