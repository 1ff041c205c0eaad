"""A database error's text does not list the statement's parameters (it may reach a log)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import write_transaction
from storage.schema import contacts


async def test_errors_do_not_show_statement_parameters(engine: AsyncEngine) -> None:
    row = {"channel": "test", "stopped": False, "created_at": datetime.now(UTC)}
    async with write_transaction(engine) as conn:
        await conn.execute(contacts.insert().values(id=1, external_id="a", **row))
    with pytest.raises(exc.IntegrityError) as raised:
        async with write_transaction(engine) as conn:
            # The same id again, with what a citizen wrote in another column.
            await conn.execute(contacts.insert().values(id=1, external_id="Lan 0912345678", **row))
    assert "0912345678" not in str(raised.value)
    assert "parameters hidden" in str(raised.value)
