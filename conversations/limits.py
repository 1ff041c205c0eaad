"""Named limits on what a citizen may send, shared by every flow."""

from typing import Final

#: Longest free comment kept with a survey (characters).
MAX_COMMENT_CHARS: Final = 1000
#: Longest inbound text the engine looks at; adapters cut anything longer first.
MAX_INBOUND_CHARS: Final = 4096
#: Longest command argument (a receipt token is at most 64 characters).
MAX_COMMAND_ARG_CHARS: Final = 64
#: Longest id a channel gives a chat, a user or a message, as the bot keeps it
#: (``contacts.external_id`` is 64 characters; event keys and ``failed_events.event_id``
#: are longer). Telegram's ids are 64-bit integers (at most 20 characters), Zalo's 19 digits
#: or 32 hex digits: a longer one is forged, and refused at the edge as a malformed event,
#: never left to fail in one database and be cut in the other.
MAX_EXTERNAL_ID_CHARS: Final = 64
#: A complaint's description: long enough for a real case, short enough to read on a phone.
MIN_COMPLAINT_CHARS: Final = 10
MAX_COMPLAINT_CHARS: Final = 2000
MAX_NAME_CHARS: Final = 100
#: A contact address (NĐ 20/2008, Điều 7(1)); the column is 200 characters.
MAX_ADDRESS_CHARS: Final = 200
MIN_ADDRESS_CHARS: Final = 5
#: A caption kept as the note of a file sent at a complaint's files step.
MAX_FILE_NOTE_CHARS: Final = 500
#: Files with one complaint, and their size (Telegram lets bots download up to 20 MB).
MAX_COMPLAINT_FILES: Final = 5
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: Longest channel file reference kept (``complaint_files.channel_file_id``): a Telegram
#: file_id is under 200 characters, a signed Zalo CDN URL a few hundred; a longer one is
#: refused as a file we cannot take, never left to fail the whole message in the database.
MAX_FILE_ID_CHARS: Final = 2048
ALLOWED_DOCUMENT_TYPES: Final = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
#: Extensions of programs and scripts: a file whose name carries one anywhere (``x.exe``,
#: ``hoa-don.pdf.scr``) is refused, whatever type it claims.
EXECUTABLE_EXTENSIONS: Final = frozenset(
    {
        *("exe", "scr", "com", "pif", "bat", "cmd", "msi", "msp", "dll", "cpl", "hta", "jar"),
        *("js", "jse", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "sh", "apk", "app", "dmg"),
        *("iso", "img", "lnk", "reg", "scf", "inf", "gadget", "msc", "vb"),
    }
)
#: Extensions of the kinds of file citizens send: one of them before the last extension
#: (``hoa-don.pdf.docx``, ``anh.jpg.zip``) is a double extension, a common disguise.
DOCUMENT_EXTENSIONS: Final = frozenset(
    {
        *("pdf", "doc", "docx", "jpg", "jpeg", "png", "gif", "webp", "heic", "txt", "rtf"),
        *("xls", "xlsx", "ppt", "pptx", "odt", "zip", "rar", "7z"),
    }
)
#: A staff note (answer, request for more information, where to go instead).
MAX_NOTE_CHARS: Final = 2000
#: Longest message the engine lets leave, in UTF-16 code units (what Telegram counts). It is
#: the smallest limit of our channels: Zalo's 2,000 characters (Telegram takes 4,096 units).
#: The engine does not know every reader's channel (staff alerts go to all staff chats), so a
#: longer reply is sent as several parts, each within this (``conversations.paging``).
MAX_MESSAGE_UNITS: Final = 2000
