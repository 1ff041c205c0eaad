"""The engine stays channel-free and its public surface stays honest."""

from __future__ import annotations

import subprocess
import sys

import conversations
import storage

FORBIDDEN = ("telegram", "sqlalchemy", "httpx", "apscheduler", "aiosqlite", "asyncpg")


def test_conversations_imports_no_channel_or_database_library() -> None:
    code = (
        "import sys, conversations; print(','.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.strip().split(","))
    assert loaded.isdisjoint(FORBIDDEN)


def test_exported_members() -> None:
    for module in (conversations, storage):
        public = {name for name in dir(module) if not name.startswith("_")}
        exported = set(module.__all__)
        assert exported <= public
        assert len(exported) == len(module.__all__)  # no name twice; ruff keeps the order
