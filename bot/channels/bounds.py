"""Length bounds for pydantic models of inbound updates (Telegram and Zalo alike)."""

from __future__ import annotations

from pydantic import AfterValidator


def at_most(limit: int) -> AfterValidator:
    """A validator refusing a string longer than ``limit`` characters. Counted here, not by
    ``Field(max_length=…)``: pydantic's own check refuses a lone surrogate outright, which the
    parsers clean instead of refusing. The error carries no value (it is logged nowhere)."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError("too long")
        return value

    return AfterValidator(check)


def digits_at_most(limit: int) -> AfterValidator:
    """A validator refusing an integer written with more than ``limit`` characters."""

    def check(value: int) -> int:
        if len(str(value)) > limit:
            raise ValueError("too many digits")
        return value

    return AfterValidator(check)
