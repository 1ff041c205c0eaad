"""Loads the procedures' legal time limits (data/procedures.yaml): code, working days, name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data" / "procedures.yaml"


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    days: int  # legal time limit, in working days
    names: Mapping[str, str]  # language -> name

    def name(self, language: str = "vi") -> str:
        return self.names.get(language) or self.names["vi"]


def parse_procedures(raw: object) -> dict[str, Procedure]:
    """The procedures of a loaded file; raises ValueError naming what is wrong."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("procedures"), list):
        raise ValueError("procedures.yaml: expected a list under 'procedures'")
    found: dict[str, Procedure] = {}
    for i, entry in enumerate(raw["procedures"]):
        if not isinstance(entry, Mapping) or not {"code", "days", "vi"} <= set(entry):
            raise ValueError(f"procedures[{i}]: expected code, days and vi")
        code = str(entry["code"]).strip()
        days = entry["days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            raise ValueError(f"procedures[{i}]: days must be a whole number from 1 to 3650")
        if code in found:
            raise ValueError(f"procedures[{i}]: code {code!r} is listed twice")
        names = {"vi": str(entry["vi"])}
        if entry.get("en"):
            names["en"] = str(entry["en"])
        found[code] = Procedure(code, days, names)
    return found


@cache
def procedures() -> Mapping[str, Procedure]:
    with DATA.open(encoding="utf-8") as fh:
        return parse_procedures(yaml.safe_load(fh))
