"""Which process runs the scheduled jobs: the holder of a PostgreSQL advisory lock.

The lock is a session lock on a connection kept for it alone: it is held exactly as long as
that connection lives. A process killed, or cut off long enough for the server to end its
session, loses it, and another process can take it. ``holds()`` asks the server over that
connection, so a holder whose connection dropped learns it before it runs another job.
On SQLite there is one process, which always leads.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: Seconds a liveness check may take before the lock is taken for lost.
CHECK_TIMEOUT_S = 5.0


class AdvisoryLeader:
    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self.engine = engine
        self.key = key
        self._conn: AsyncConnection | None = None
        # One connection, one statement at a time: jobs due together check in turn.
        self._busy = asyncio.Lock()

    @property
    def shared(self) -> bool:
        """Whether several processes may share the database (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    async def try_acquire(self) -> bool:
        """Takes the lock if nobody holds it; True when this process now holds it."""
        if not self.shared:
            return True
        if await self.holds():
            return True
        async with self._busy:
            return await self._acquire()

    async def _acquire(self) -> bool:
        await self._drop()
        conn = await self.engine.connect()
        try:
            got = await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            won = bool(got.scalar())
            await conn.commit()  # the lock is the session's, not the transaction's
        except Exception:
            await _close(conn)
            raise
        if not won:
            await _close(conn)
            return False
        self._conn = conn
        return True

    async def holds(self) -> bool:
        """True while the lock's connection is alive (so the lock is still ours)."""
        if not self.shared:
            return True
        async with self._busy:
            conn = self._conn
            if conn is None:
                return False
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S):
                    await conn.execute(text("SELECT 1"))
                    await conn.commit()
            except Exception:
                await self._drop()
                return False
            return True

    async def release(self) -> None:
        async with self._busy:
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close(conn)


async def _close(conn: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await conn.invalidate()  # never back to the pool: the session (and lock) must end
    with contextlib.suppress(Exception):
        await conn.close()
