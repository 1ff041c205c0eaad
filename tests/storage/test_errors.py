"""Which database errors mean "not now" (try again later) and which mean "not this"."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa

from storage import ConcurrentUpdate, database_unavailable


class _Driver(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _pg(sqlstate: str) -> sa.DBAPIError:
    return sa.DBAPIError("INSERT", {}, _Driver(sqlstate))


def _wrapped(cause: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("while storing") from cause
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),
        (sa.TimeoutError("pool"), True),
        (sa.OperationalError("SELECT 1", {}, Exception("database is locked")), True),
        (sa.InterfaceError("SELECT 1", {}, Exception("connection is closed")), True),
        (sa.DBAPIError("SELECT 1", {}, Exception("x"), connection_invalidated=True), True),
        (_pg("08006"), True),
        (_pg("40001"), True),
        (_pg("40P01"), True),
        (_pg("53300"), True),
        (_pg("57P01"), True),
        (_pg("55P03"), True),
        (ConcurrentUpdate("1 conversation(s) changed"), True),
        (_wrapped(ConnectionResetError()), True),
        (_pg("22021"), False),
        (_pg("22001"), False),
        (sa.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
        (ValueError("bug"), False),
        (KeyError("x"), False),
        (_wrapped(ValueError("bug")), False),
    ],
    ids=[
        "refused", "timeout", "pool-timeout", "sqlite-locked", "closed", "invalidated",
        "pg-connection", "pg-serialization", "pg-deadlock", "pg-too-many-connections",
        "pg-admin-shutdown", "pg-lock-timeout", "concurrent-update", "caused-by-reset",
        "pg-nul", "pg-too-long", "integrity", "surrogate", "bug", "key", "caused-by-bug",
    ],
)  # fmt: skip
def test_database_unavailable(error: BaseException, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable
