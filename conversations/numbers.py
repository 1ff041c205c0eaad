"""Figures as people read them: rounded half up (4,25 → 4,3), never half to even.

Python's ``round`` and ``format(x, ".1f")`` round a tie to the even digit, and on the binary
value (``round(4.25, 1)`` is 4.2, ``round(0.125, 2)`` 0.12); a citizen, a leader or a
spreadsheet rounds 4,25 to 4,3. A float is read through its shortest decimal form (``repr``),
which is the number that was meant: a ratio of counts such as 100·1/8 is 12.5 exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def _quantized(value: float, places: int) -> Decimal:
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return exact.copy_abs() if exact.is_zero() else exact  # never "-0,00"


def round_half_up(value: float, places: int = 2) -> float:
    """``value`` rounded to ``places`` decimals, a tie away from zero (4.25 → 4.3)."""
    return float(_quantized(value, places))


def format_decimal(value: float, lang: str, places: int = 1) -> str:
    """Vietnamese writes a decimal comma (4,3); English a decimal point (4.3)."""
    text = f"{_quantized(value, places):f}"
    return text.replace(".", ",") if lang == "vi" else text
