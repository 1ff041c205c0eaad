"""Every transcript in tests/transcripts, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.db import Database
from tests.support.transcripts import TRANSCRIPTS, run, update_texts

CASES = sorted(TRANSCRIPTS.glob("*/*.yaml"))
FLOWS = ("menu", "survey", "complaint", "tracking", "staff", "dossier")


def test_every_flow_has_transcripts() -> None:
    folders = {p.name for p in TRANSCRIPTS.iterdir() if p.is_dir() and any(p.glob("*.yaml"))}
    assert set(FLOWS) <= folders


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
async def test_transcript(path: Path, database: Database, request: pytest.FixtureRequest) -> None:
    result = await run(path, database)
    if request.config.getoption("--update-golden") and database.kind == "sqlite":
        if os.environ.get("CI"):
            pytest.fail("--update-golden is refused in CI")
        update_texts(path, result)
        return
    assert not result.failures, "\n".join(f"step {f.step}: {f.message}" for f in result.failures)
