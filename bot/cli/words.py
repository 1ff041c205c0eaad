"""Counts in command-line output: "1 receipt", "2 receipts".

The command-line tools print each line in Vietnamese, then in English. A Vietnamese noun does
not change after a number ("1 phiếu", "2 phiếu"); an English one does.
"""

from __future__ import annotations


def counted(n: int, one: str, many: str) -> str:
    """``n`` and the English noun in the form it takes after ``n``: 1 receipt, 0 receipts."""
    return f"{n} {one if n == 1 else many}"
