"""Per-channel tables: Zalo tokens, chats and held notices; the web chat's delivery
buffer and uploads; Telegram staff rooms and the case cards shown in them.

Split from ``storage.schema`` (which re-exports every table); one ``metadata`` for all.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from .metadata import metadata
from .types import BigId, UTCDateTime

# The Zalo OA's tokens. The refresh token is single-use: a refreshed pair is stored (in one
# transaction) before the new access token is used, or the OA would be locked out.
zalo_tokens = Table(
    "zalo_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Column("failed_at", UTCDateTime),
    Column("last_error", String(200)),
    # What Zalo's token endpoint said when it refused the last refresh, each part apart
    # (ZALO.md, "Tokens": it may answer with no numeric ``error``); NULL when absent.
    Column("error_code", String(40)),
    Column("error_name", String(120)),
    Column("error_reason", String(400)),
)


# When each Zalo chat last wrote to the OA: the OA may message it freely for 48 h, billed up
# to 7 days, then only by an approved template (ZALO.md, "Sending").
zalo_chats = Table(
    "zalo_chats",
    metadata,
    Column("chat_id", String(64), primary_key=True),
    Column("last_inbound_at", UTCDateTime, nullable=False),
)


# What became of Zalo notifications outside the window ("held", "resent", "template"), for
# the digest: no chat, no content.
zalo_notices = Table(
    "zalo_notices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(12), nullable=False),
    Index(None, "at"),
)


# What the web chat channel delivered to each visitor's browser, in order: the page reads
# from here on every (re)connect, so a reload or a restart loses nothing. A delivery buffer,
# not an archive: rows are purged after a day (``storage/queries/web.py``). ``data`` holds
# the bytes of a picture (a chart) the page shows by its row id. Ids never come back after a
# delete (SQLite AUTOINCREMENT): an open page shows only ids above the last it showed, so a
# message given the id of a deleted one (a survey's page history, gone when it ended) would
# never appear.
web_messages = Table(
    "web_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("chat_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("data", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "chat_id", "id"),
    Index(None, "created_at"),
    sqlite_autoincrement=True,
)


# Files a web visitor attached to a complaint: kept here, under a random token that serves as
# the channel's file id, until the attachments job copies them into ``complaint_files``.
web_uploads = Table(
    "web_uploads",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("chat_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "created_at"),
)


# Staff rooms: a Telegram group named in ADMIN_CHAT_IDS that Telegram upgraded to a
# supergroup (a new chat id). The configured id stays the room's name (its officers'
# conversations are kept under it); messages go to ``current_id``. ``told_at``: when the next
# digest said that the configured id is stale.
staff_rooms = Table(
    "staff_rooms",
    metadata,
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("current_id", String(64), nullable=False),
    Column("moved_at", UTCDateTime, nullable=False),
    Column("told_at", UTCDateTime),
    PrimaryKeyConstraint("channel", "chat_id"),
)


# Case cards shown in staff rooms (a Telegram group's message): redrawn in place whenever the
# case changes, whoever acted and from whichever chat (a Zalo officer, a private chat), so
# the room's card always shows who has the case and what can be done next.
staff_cards = Table(
    "staff_cards",
    metadata,
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("message_id", String(32), nullable=False),
    Column("code", String(20), nullable=False),
    Column("shown_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("channel", "chat_id", "message_id"),
    Index(None, "code"),
)
