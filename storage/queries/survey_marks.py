"""The one-survey-per-period rule's record, kept outside the conversation state.

A chat that submitted a survey in a period (``OPEN_SURVEY_PERIOD``) may not add one without a
receipt in the same period. The record of it is a row ``(mark, period)``, where ``mark`` is
``HMAC(key, channel:chat:period)`` (:func:`survey_mark`) and ``key`` is ``RECEIPT_SECRET``,
or, when that is unset, a random key made on first run in ``RECEIPT_SECRET_FILE`` (shared by
every process reading that file, kept across restarts: the rule holds through them), never in
the database. Why it ties no response to its chat, for whoever holds the database:

- the row is written for every submitted survey, with a receipt or without, and never for a
  declined, cancelled or expired one: it says "this chat submitted a survey in this period",
  not which kind, and a chat's state stays the same whichever way its survey ended;
- it holds no time, no contact id, no response id, no receipt; the period is as coarse as the
  rule (a month by default), and the mark changes with the period, so marks of one chat in
  two periods cannot be matched with each other;
- the key is not in the database, so the marks cannot be recomputed from the contacts' chat
  ids: to whoever holds only the database they name no chat at all. It is never the log
  salt (``bot.logs``), which nothing stored gives, so the key ties no log line to a chat
  either;
- SQLite stores the table in key order (``WITHOUT ROWID``), so the row order is the order of
  random-looking hashes, not the order surveys were submitted in; responses, for their part,
  are stored by random id with hour-rounded times.

Someone who has the key as well as the database learns which chats submitted a survey in a
period (a chat's contact row says as much about its use of the bot); not whether with a
receipt, not when, not which answers: with the responses' random order and rounded times that
still does not say which response is whose, except when a period holds a single submitted
survey, which the published counts reveal anyway. That is why the key file is kept, and
backed up, apart from the database (older versions kept the key in ``local_secrets``; it is
moved to the file at start and deleted there).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import survey_marks


def survey_mark(key: bytes, channel: str, chat_id: str, period: str) -> str:
    """The mark of one chat in one period (64 hex characters)."""
    message = f"{channel}:{chat_id}:{period}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def marked(conn: AsyncConnection, marks: Iterable[str]) -> set[str]:
    """Those of ``marks`` that are recorded."""
    wanted = sorted(set(marks))
    if not wanted:
        return set()
    rows = await conn.execute(select(survey_marks.c.mark).where(survey_marks.c.mark.in_(wanted)))
    return {str(row.mark) for row in rows}


async def record_marks(conn: AsyncConnection, marks: Mapping[str, str]) -> None:
    """Records ``marks`` (mark -> period); one already there is left as it is."""
    if not marks:
        return
    rows = [{"mark": mark, "period": period} for mark, period in sorted(marks.items())]
    await conn.execute(insert_ignore(conn, survey_marks, ["mark"]), rows)
