"""Command names and their aliases (Vietnamese first, English second), per the contract."""

from __future__ import annotations

from typing import Final

#: canonical name -> every accepted spelling
COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    "start": ("start", "batdau", "menu"),
    "khaosat": ("khaosat", "survey"),
    "huy": ("huy", "cancel"),
    "ngonngu": ("ngonngu", "language", "lang"),
    "trogiup": ("trogiup", "help"),
    "xoadulieu": ("xoadulieu", "forget"),
}

_BY_ALIAS: Final = {alias: name for name, aliases in COMMANDS.items() for alias in aliases}


def canonical(name: str) -> str | None:
    """The canonical command for a spelling, or None when no command has that name."""
    return _BY_ALIAS.get(name.strip().lstrip("/").split("@", 1)[0].lower())
