"""Counts a bot process's database work for ``bench/e2e.py``: put this folder first on
``PYTHONPATH`` and set ``BENCH_COUNTS`` to a file; each SIGUSR1 writes the totals so far there
as JSON: SQL statements, transactions (and how many of them write), and hand-offs to the
SQLite driver's thread (each is a trip through a queue and a wake of the event loop).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

_TARGET = os.environ.get("BENCH_COUNTS")
_COUNTS = {"statements": 0, "transactions": 0, "writes": 0, "hops": 0, "dumps": 0}


def _install() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def statement(*_: Any, **__: Any) -> None:
        _COUNTS["statements"] += 1

    def begin(conn: Any) -> None:
        _COUNTS["transactions"] += 1
        if conn.get_execution_options().get("storage_write"):
            _COUNTS["writes"] += 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "begin", begin)
    try:
        import aiosqlite.core
    except ImportError:
        return
    original = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        _COUNTS["hops"] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]


def _dump(*_: Any) -> None:
    if _TARGET is None:
        return
    _COUNTS["dumps"] += 1
    path = Path(_TARGET)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_COUNTS), encoding="utf-8")
    tmp.replace(path)


if _TARGET:
    _install()
    signal.signal(signal.SIGUSR1, _dump)
