"""Command names and their aliases (Vietnamese first, English second), per the contract."""

from __future__ import annotations

from typing import Final

#: canonical name -> every accepted spelling
COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    "start": ("start", "batdau", "menu"),
    "khaosat": ("khaosat", "survey"),
    "phananh": ("phananh", "feedback", "gopy"),
    "tracuu": ("tracuu", "status", "lookup"),
    "ketqua": ("ketqua", "results"),
    "huy": ("huy", "cancel"),
    "ngonngu": ("ngonngu", "language", "lang"),
    "trogiup": ("trogiup", "help"),
    "xoadulieu": ("xoadulieu", "forget"),
    # Telegram commands allow only a-z, 0-9 and _; the hyphenated spellings work where the
    # whole text is read (Zalo, the console, and Telegram, which sends the text as typed).
    # Vietnamese first, English second (as every entry), then the spellings with separators.
    "hosocuatoi": ("hosocuatoi", "mydossiers", "hoso_cua_toi", "hoso-cua-toi", "my_dossiers"),
    "huytheodoi": ("huytheodoi", "unfollow", "huy_theo_doi", "huy-theo-doi"),
}

#: Commands only administrators may use; anyone else gets the citizen menu.
ADMIN_COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    "baocao": ("baocao", "report"),
    "xuatdulieu": ("xuatdulieu", "export"),
    "bantin": ("bantin", "digest"),
    "hoso": ("hoso", "cases"),
    "hotline": ("hotline",),
}

_BY_ALIAS: Final = {
    alias: name
    for table in (COMMANDS, ADMIN_COMMANDS)
    for name, aliases in table.items()
    for alias in aliases
}


def is_admin_command(name: str | None) -> bool:
    return name in ADMIN_COMMANDS


def canonical(name: str) -> str | None:
    """The canonical command for a spelling, or None when no command has that name."""
    return _BY_ALIAS.get(name.strip().lstrip("/").split("@", 1)[0].lower())
