"""Loads the complaint categories (data/complaints.yaml): code, wording, deadline."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data" / "complaints.yaml"


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    days: int  # handling deadline in working days
    names: dict[str, str]  # language -> wording

    @property
    def key(self) -> str:
        return f"category.{self.code}"

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["vi"]


@cache
def categories() -> tuple[Category, ...]:
    with DATA.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    found = tuple(
        Category(str(c["code"]), int(c["days"]), {"vi": str(c["vi"]), "en": str(c["en"])})
        for c in raw["categories"]
    )
    if len({c.code for c in found}) != len(found):
        raise ValueError("complaint category codes must be unique")
    return found


def category(code: str) -> Category | None:
    return next((c for c in categories() if c.code == code), None)
