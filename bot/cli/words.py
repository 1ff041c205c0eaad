"""Wordings of command-line output: catalog sentences in both languages, "1 receipt", "2 receipts".

The command-line tools print each line in Vietnamese, then in English (``vi / en``); the
sentences are catalog keys ``cli.*`` (conversations/catalogs/cli.*.yaml). A Vietnamese noun
does not change after a number ("1 phiếu", "2 phiếu"); an English one does.
"""

from __future__ import annotations

from conversations import default_catalog
from conversations.effects import Params


def counted(n: int, one: str, many: str) -> str:
    """``n`` and the English noun in the form it takes after ``n``: 1 receipt, 0 receipts."""
    return f"{n} {one if n == 1 else many}"


def quoted(value: str) -> str:
    """A value the operator typed, as an error message shows it: “HS-1”."""
    return f"“{value}”"


def bilingual(key: str, params: Params = (), *, en: Params = ()) -> tuple[str, str]:
    """The catalog sentence ``key`` in Vietnamese and in English.

    ``en`` adds or replaces parameters of the English one only: a count with its English noun
    (``counted``), or text already put into English.
    """
    catalog = default_catalog()
    return catalog.format("vi", key, params), catalog.format("en", key, (*params, *en))


def both(key: str, params: Params = (), *, en: Params = ()) -> str:
    """The line the command line prints: ``Vietnamese / English``."""
    vi, english = bilingual(key, params, en=en)
    return f"{vi} / {english}"
