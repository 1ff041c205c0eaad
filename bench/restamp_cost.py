"""Cost of the per-minute restamp on PostgreSQL (``jobs.restamp``, issue 10): how long one run
takes, and how long each table's exclusive lock is held by its rewrite, with realistic volume.

For each size (default 20,000 and 100,000 ended responses), a fresh schema is filled with as
many chats (contact, conversation, emptied consent, used receipt), ended responses with 20
answers each (one a typed comment), survey marks and the daily sums those answers make over a
year (12 procedures, 3 fields, as ``bench/report.py``), each table in a transaction of its
own. Then, as in a busy minute, 10 chats end a survey each in a transaction of their own that
also writes the chat (conversation, event id, consent, receipt, sums), and the run their ends
ask for (:func:`storage.queries.rewrites.rewrite_recent_traces`) is timed, then its follow-up
a minute on, both rewriting every table whatever its size, then a third run with the
default ``RECENT_MAX_BYTES`` (larger survey tables left to the hourly run). Prints, per size
and run, the whole run's time and each table's rewrite time and size (the statement holds an
ACCESS EXCLUSIVE lock on the table for nearly all of it):

    20000 responses, 400000 answers, filled in 26 s
      every table rewritten: 5.45 s; lock held: survey_daily 2291 ms (41.0 MB), ...

Run from the repository root: ``python bench/restamp_cost.py [--sizes 20000,100000]``
(PostgreSQL from ``--postgres URL`` or TEST_POSTGRES_URL; a line says so when neither is set).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import Unreachable, postgres_database
from storage.queries.rewrites import (
    RECENT_MAX_BYTES,
    RESTAMPED_DAYS,
    Rewritten,
    rewrite_recent_traces,
)

NOW = datetime(2026, 3, 9, 10, 30, tzinfo=UTC)
ANSWERS = 20
ENDED_IN_THE_MINUTE = 10

#: The volume, in set-based statements (seconds for 100,000 responses).
FILL = (
    """INSERT INTO contacts (id, channel, external_id, stopped, created_at)
    SELECT g, 'telegram', (900000000000 + g)::text, false,
           TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour'
    FROM generate_series(1, :n) g""",
    """INSERT INTO conversations (contact_id, flow, step, state, version, updated_at)
    SELECT g, NULL, NULL, '{}', (g * 7919) % 100000,
           TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour'
    FROM generate_series(1, :n) g""",
    """INSERT INTO consents (contact_id, purpose, given, decided_at, wording)
    SELECT NULL, 'survey', true, TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour',
           'sipas-2640/vi/3f9a0c1b2d'
    FROM generate_series(1, :n) g""",
    """INSERT INTO receipts (token, procedure, field, handed_over_on, valid_until, created_at,
                          survey_status, short_code)
    SELECT md5('r' || g), 'proc-' || (g % 12), 'field-' || (g % 3), DATE '2025-03-01' + g % 365,
           DATE '2025-04-01' + g % 365, TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour',
           CASE WHEN g % 2 = 0 THEN 'used' END, lpad(g::text, 10, '0')
    FROM generate_series(1, :n) g""",
    """INSERT INTO survey_responses (id, questionnaire, status, with_receipt, procedure, field,
                                  started_at, ended_at, completed_at)
    SELECT ('x' || substr(md5(g::text), 1, 13))::bit(52)::bigint + 1, 'sipas-2640', 'completed',
           g % 2 = 0,
           'proc-' || (g % 12), 'field-' || (g % 3),
           TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour',
           TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour',
           TIMESTAMP '2025-03-01' + (g % 8760) * INTERVAL '1 hour'
    FROM generate_series(1, :n) g""",
    """INSERT INTO answers (response_id, item, value_int, value_text)
    SELECT r.id, 'q' || lpad(i::text, 2, '0'),
           CASE WHEN i < :answers THEN 1 + (r.id + i) % 5 END,
           CASE WHEN i = :answers THEN 'Ghi chú: phòng chờ thiếu ghế, nhân viên hướng dẫn tận tình '
                || (r.id % 1000) END
    FROM survey_responses r, generate_series(1, :answers) i""",
    """INSERT INTO survey_marks (mark, period)
    SELECT md5('m' || g) || md5('k' || g), '2026-Q1' FROM generate_series(1, :n / 2) g""",
    """INSERT INTO survey_daily (day, procedure, field, item, value, count, method)
    SELECT (r.completed_at AT TIME ZONE 'UTC')::date, r.procedure, r.field, a.item,
           coalesce(a.value_int::text, 'text'), count(*), 'sipas-2640'
    FROM survey_responses r JOIN answers a ON a.response_id = r.id
    GROUP BY 1, 2, 3, 4, 5""",
    """INSERT INTO survey_daily_counts (day, procedure, field, status, count, method)
    SELECT (completed_at AT TIME ZONE 'UTC')::date, procedure, field, status, count(*),
           'sipas-2640'
    FROM survey_responses GROUP BY 1, 2, 3, 4""",
)


async def fill(engine: AsyncEngine, n: int) -> None:
    for statement in FILL:  # each in a transaction of its own (no shared ``xmin``)
        async with engine.begin() as conn:
            await conn.execute(text(statement), {"n": n, "answers": ANSWERS})
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql("VACUUM ANALYZE")


async def end_surveys(engine: AsyncEngine, n: int, minute: int) -> None:
    """``ENDED_IN_THE_MINUTE`` chats each end a survey in their own transaction, writing the
    chat's rows with the survey's, as the dispatcher does."""
    at = NOW + timedelta(minutes=minute)
    hour = at.replace(minute=0, second=0, microsecond=0)
    for k in range(ENDED_IN_THE_MINUTE):
        chat = 1 + (minute * 131 + k * 977) % n
        response = 10**15 + minute * 1000 + k
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO survey_responses (id, questionnaire, status, with_receipt, "
                    "procedure, field, started_at, ended_at, completed_at) VALUES (:r, "
                    "'sipas-2640', 'completed', true, 'proc-1', 'field-1', :h, :h, :h)"
                ),
                {"r": response, "h": hour},
            )
            await conn.execute(
                text(
                    "INSERT INTO answers (response_id, item, value_int) "
                    "SELECT :r, 'q' || lpad(i::text, 2, '0'), 4 FROM generate_series(1, :a) i"
                ),
                {"r": response, "a": ANSWERS},
            )
            await conn.execute(
                text(
                    "UPDATE conversations SET state = '{}', version = version + 1, "
                    "updated_at = :at WHERE contact_id = :c"
                ),
                {"c": chat, "at": at},
            )
            await conn.execute(
                text("INSERT INTO processed_events (event_key, processed_at) VALUES (:k, :at)"),
                {"k": f"bench-{minute}-{k}", "at": at},
            )
            await conn.execute(
                text("UPDATE consents SET decided_at = :h WHERE id = :c"), {"c": chat, "h": hour}
            )
            await conn.execute(
                text("UPDATE receipts SET survey_status = 'used' WHERE id = :c"), {"c": chat}
            )
            await conn.execute(
                text(
                    "UPDATE survey_daily SET count = count + 1 WHERE ctid = "
                    "(SELECT ctid FROM survey_daily ORDER BY day DESC LIMIT 1)"
                )
            )


async def sizes(engine: AsyncEngine) -> dict[str, float]:
    """MB of each table rewritten (with TOAST and indexes)."""
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) / 1048576.0 FROM pg_class "
                "WHERE relkind = 'r' AND relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            )
        )
        return {name: float(mb) for name, mb in found.tuples()}


def line(label: str, seconds: float, done: Rewritten, mb: dict[str, float]) -> str:
    locks = ", ".join(
        f"{name} {s * 1000:.0f} ms ({mb.get(name, 0):.1f} MB)"
        for name, s in sorted(done.seconds.items(), key=lambda kv: -kv[1])
    )
    extra = f"; skipped {','.join(done.skipped)}" if done.skipped else ""
    extra += f"; deferred {','.join(done.deferred)}" if done.deferred else ""
    extra += "; held back" if done.held_back else ""
    return f"  {label}: {seconds:.2f} s; lock held: {locks}{extra}"


async def one_size(url: str, n: int) -> None:
    async with postgres_database(url) as engine:
        started = time.perf_counter()
        await fill(engine, n)
        mb = await sizes(engine)
        print(
            f"{n} responses, {n * ANSWERS} answers, filled in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        since = NOW.date() - timedelta(days=RESTAMPED_DAYS)
        runs = (
            (0, "every table rewritten", None),
            (1, "follow-up a minute on", None),
            (2, f"with RECENT_MAX_BYTES ({RECENT_MAX_BYTES >> 20} MB)", RECENT_MAX_BYTES),
        )
        for minute, label, max_bytes in runs:
            await end_surveys(engine, n, minute)
            started = time.perf_counter()
            done = await rewrite_recent_traces(
                engine, since, now=NOW + timedelta(minutes=minute, seconds=30), max_bytes=max_bytes
            )
            print(line(label, time.perf_counter() - started, done, mb), flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", ""))
    parser.add_argument("--sizes", default="20000,100000")
    args = parser.parse_args()
    if not args.postgres:
        print("postgres: skipped (no --postgres URL and TEST_POSTGRES_URL is not set)")
        return 0
    for n in (int(s) for s in args.sizes.split(",")):
        try:
            await one_size(args.postgres, n)
        except Unreachable as exc:
            print(f"postgres: skipped ({exc})")
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
