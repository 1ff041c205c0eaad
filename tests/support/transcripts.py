"""Runs conversation transcripts (YAML: what the citizen sends, what must come back).

Like goflow's runner, every step starts from storage: a new engine and dispatcher are opened
on the same database, the event is applied and committed, and everything is closed again, so
nothing can survive in process memory between two messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from bot.runtime.dossiers import DeskSettings, DossierDesk, DossierError, EventIn
from conversations import (
    MAX_INBOUND_CHARS,
    Attachment,
    Choice,
    Command,
    Expired,
    Inbound,
    InboundEvent,
    Text,
    TimedOut,
    default_catalog,
)
from jobs.dossier_invitations import DossierJobSettings, expire_and_forget, remind_invitations
from storage import read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.complaints import complaints_by_code
from storage.queries.dossiers import NewDossier, dossier_by_code, followers, insert_dossier
from storage.queries.staff_cards import remember_card
from storage.queries.surveys import create_receipt, response_answers, response_status
from storage.schema import outbox, survey_responses
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.db import Database, migrated

TRANSCRIPTS = Path(__file__).parent.parent / "transcripts"
ADMIN_CHAT = "admin-1"
SETTINGS = DispatchSettings(
    agency="Sở Xây dựng",
    survey_ttl=timedelta(days=7),
    complaints_per_day=2,
    admin_chats=(("test", ADMIN_CHAT),),
)
DESK = DeskSettings(
    agency="Sở Xây dựng", invite_ttl=timedelta(days=7), remind_after=timedelta(hours=24)
)
JOBS = DossierJobSettings(retention=timedelta(days=30))


class SequentialCodes:
    """Tracking codes PA-<year>-000001, 000002, … in issue order."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, year: int) -> str:
        self.count += 1
        return f"PA-{year}-{self.count:06d}"


_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_payload(send: dict[str, Any]) -> Inbound:
    if "text" in send and "repeat" in send:
        # A long text, written short: ``text`` ``repeat`` times, cut as every channel cuts
        # it (the start kept, with the real length).
        cut = Text.typed(str(send["text"]) * int(send["repeat"]), MAX_INBOUND_CHARS + 1)
        return replace(cut, reply_to=str(send.get("reply_to", "")))
    if "text" in send:
        return Text(
            str(send["text"]),
            str(send.get("message_id", "")),
            bool(send.get("edited", False)),
            reply_to=str(send.get("reply_to", "")),
        )
    if "choice" in send:
        return Choice(str(send["choice"]))
    if "command" in send:
        return Command(str(send["command"]), str(send.get("arg", "")))
    if "attachment" in send:
        return Attachment(
            send["attachment"],
            int(send.get("size", 0)),
            file_id=str(send.get("file_id", "")),
            name=str(send.get("name", "")),
            mime=str(send.get("mime", "")),
            caption=str(send.get("caption", "")),
            group=str(send.get("group", "")),
            what=str(send.get("what", "")),
        )
    if send.get("expired"):
        return Expired()
    if send.get("timed_out"):
        return TimedOut()
    raise ValueError(f"unknown send: {send}")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


@dataclass
class Failure:
    step: int
    message: str


@dataclass
class Result:
    failures: list[Failure] = field(default_factory=list)
    actual: list[list[dict[str, Any]]] = field(default_factory=list)
    #: Per step: the messages a dossier event or a job queued for chats (None for a message).
    queued: list[list[dict[str, Any]] | None] = field(default_factory=list)


async def _last_outbox_id(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        return int(
            (await conn.execute(select(func.coalesce(func.max(outbox.c.id), 0)))).scalar_one()
        )


async def _queued_since(engine: AsyncEngine, last: int) -> list[dict[str, Any]]:
    from storage.outbound import decode

    async with read_transaction(engine) as conn:
        rows = await conn.execute(
            select(outbox.c.chat_id, outbox.c.payload)
            .where(outbox.c.id > last)
            .order_by(outbox.c.id)
        )
        found = []
        for chat_id, payload in rows:
            message = decode(dict(payload), None)
            assert isinstance(message, TextMessage)
            found.append(
                {"to": chat_id, "key": message.key, "text": message.text,
                 "labels": [c[1] for c in message.choices], "choices": [c[0] for c in message.choices]}
            )  # fmt: skip
    return found


def _compare_queued(
    index: int, expected: list[dict[str, Any]], got: list[dict[str, Any]]
) -> list[Failure]:
    want = [(e["to"], e["key"]) for e in expected]
    have = [(g["to"], g["key"]) for g in got]
    if want != have:
        return [Failure(index, f"queued {have} != expected {want}")]
    failures = []
    for exp, msg in zip(expected, got, strict=True):
        for name in ("text", "labels", "choices"):
            if name in exp and exp[name] != msg[name]:
                failures.append(
                    Failure(index, f"{msg['key']} {name}:\n{msg[name]!r}\n!= {exp[name]!r}")
                )
    return failures


async def _register_dossiers(
    engine: AsyncEngine, specs: list[dict[str, Any]], clock: SequentialClock
) -> None:
    async with write_transaction(engine) as conn:
        for spec in specs:
            new = NewDossier(
                code=str(spec["code"]),
                token=str(spec["token"]),
                client="test",
                procedure=str(spec.get("procedure", "1.009972")),
                received_on=date.fromisoformat(str(spec.get("received_on", "2026-01-05"))),
                due_on=date.fromisoformat(str(spec.get("due_on", "2026-02-02"))),
                procedure_name=spec.get("procedure_name"),
                field=spec.get("field"),
                legal_days=spec.get("legal_days"),
            )
            assert await insert_dossier(conn, new, clock())


async def _dossier_step(
    step: dict[str, Any], engine: AsyncEngine, clock: SequentialClock, index: int
) -> str | None:
    """A status event posted as the one-stop system would; returns the refusal's code."""
    raw = dict(step["dossier_event"])
    code = str(raw.pop("code"))
    raw.setdefault("event_id", f"ev{index}")
    desk = DossierDesk(engine, DESK, default_catalog(), clock)
    try:
        await desk.post_event("test", code, EventIn.model_validate(raw))
    except DossierError as exc:
        return exc.code
    return None


async def _job_step(step: dict[str, Any], engine: AsyncEngine, clock: SequentialClock) -> None:
    if step["job"] != "dossiers":
        raise ValueError(f"unknown job {step['job']!r}")
    now = clock()
    await remind_invitations(engine, default_catalog(), now, JOBS)
    await expire_and_forget(engine, now, JOBS)


def _compare(index: int, expected: list[dict[str, Any]], handled: Handled) -> list[Failure]:
    failures: list[Failure] = []
    got_keys = [m.key for m in handled.messages]
    want_keys = [e["key"] for e in expected]
    if got_keys != want_keys:
        return [Failure(index, f"replies {got_keys} != expected {want_keys}")]
    for exp, msg in zip(expected, handled.messages, strict=True):
        if "text" in exp and exp["text"] != msg.text:
            failures.append(
                Failure(index, f"{msg.key} text:\n{msg.text!r}\n!= expected\n{exp['text']!r}")
            )
        for needle in exp.get("contains", []):
            if needle not in msg.text:
                failures.append(Failure(index, f"{msg.key}: {needle!r} not in {msg.text!r}"))
        if "choices" in exp and exp["choices"] != [c[0] for c in msg.choices]:
            failures.append(Failure(index, f"{msg.key} choices {[c[0] for c in msg.choices]}"))
        if "labels" in exp and exp["labels"] != [c[1] for c in msg.choices]:
            failures.append(Failure(index, f"{msg.key} labels {[c[1] for c in msg.choices]}"))
    return failures


async def run(path: Path, database: Database) -> Result:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    clock = SequentialClock()
    ids = SequentialIds()
    codes = SequentialCodes()
    result = Result()
    engine = await migrated(database)
    async with write_transaction(engine) as conn:
        for receipt in spec.get("receipts", []):
            valid = receipt.get("valid_until")
            await create_receipt(
                conn,
                str(receipt["token"]),
                str(receipt.get("procedure", "1.009972")),
                clock(),
                field=receipt.get("field"),
                valid_until=date.fromisoformat(str(valid)) if valid else None,
            )
        for card in spec.get("staff_cards", []):  # a case's card shown in a staff room
            await remember_card(
                conn, "telegram", str(card["room"]), str(card["message_id"]), card["code"], clock()
            )
    await _register_dossiers(engine, spec.get("dossiers", []), clock)
    await engine.dispose()
    # ``survey_method:`` at the top picks the form new surveys use (default: the one in force).
    settings = replace(SETTINGS, survey_method=str(spec.get("survey_method", "sipas-1001")))
    for index, step in enumerate(spec["steps"]):
        if "advance" in step:
            clock.advance(_duration(str(step["advance"])))
        if "dossier_event" in step or "job" in step:
            engine = database.open()
            try:
                last = await _last_outbox_id(engine)
                refused = None
                if "dossier_event" in step:
                    refused = await _dossier_step(step, engine, clock, index)
                else:
                    await _job_step(step, engine, clock)
                if refused != step.get("refused"):
                    result.failures.append(Failure(index, f"refused={refused}"))
                queued = await _queued_since(engine, last)
                result.actual.append([])
                result.queued.append(queued)
                result.failures.extend(_compare_queued(index, step.get("queued", []), queued))
            finally:
                await engine.dispose()
            continue
        result.queued.append(None)
        engine = database.open()
        dispatcher = Dispatcher(engine, settings, clock=clock, new_id=ids, new_code=codes)
        try:
            event = InboundEvent(
                str(step.get("event_id", f"e{index}")),
                str(step.get("channel", "test")),
                str(step.get("user", "citizen-1")),
                parse_payload(step["send"]),
                admin=bool(step.get("admin", False)),
                sender_id=str(step.get("sender", "")),
                sender_name=str(step.get("name", "")),
                room=bool(step.get("room", False)),
                stray_room=str(step.get("stray_room", "")),
            )
            handled = (await dispatcher.process([event]))[0]
            if isinstance(handled, Exception):
                raise handled
            result.actual.append(
                [
                    {"key": m.key, "text": m.text, "labels": [c[1] for c in m.choices]}
                    for m in handled.messages
                ]
            )
            if step.get("duplicate", False) != handled.duplicate:
                result.failures.append(Failure(index, f"duplicate={handled.duplicate}"))
            result.failures.extend(_compare(index, step.get("expect", []), handled))
            if "notices" in step:
                sent = [
                    {"to": chat, "key": getattr(m, "key", m.kind)} for _, chat, m in handled.notices
                ]
                if sent != step["notices"]:
                    result.failures.append(Failure(index, f"notices {sent}"))
            elif handled.notices:
                result.failures.append(Failure(index, f"unexpected notices {handled.notices}"))
            if "saved" in step:
                async with read_transaction(engine) as conn:
                    saved = await response_answers(conn, ids.issued[step.get("response", 0)])
                if saved != step["saved"]:
                    result.failures.append(Failure(index, f"saved {saved} != {step['saved']}"))
        finally:
            await dispatcher.close()
            await engine.dispose()
    engine = database.open()
    try:
        async with read_transaction(engine) as conn:
            for rid_index, want in enumerate(spec.get("responses", [])):
                if rid_index >= len(ids.issued):
                    result.failures.append(Failure(-1, f"response #{rid_index} never started"))
                    continue
                rid = ids.issued[rid_index]
                status = await response_status(conn, rid)
                if status != want["status"]:
                    result.failures.append(Failure(-1, f"response {rid} status {status}"))
                if "method" in want:
                    method = await conn.scalar(
                        select(survey_responses.c.questionnaire).where(survey_responses.c.id == rid)
                    )
                    if method != want["method"]:
                        result.failures.append(Failure(-1, f"response {rid} method {method}"))
                if "answers" in want and await response_answers(conn, rid) != want["answers"]:
                    got = await response_answers(conn, rid)
                    result.failures.append(Failure(-1, f"response {rid} answers {got}"))
            if "complaints" in spec:
                stored = await complaints_by_code(conn, [c["code"] for c in spec["complaints"]])
                for want in spec["complaints"]:
                    row = stored.get(want["code"])
                    got_fields = None if row is None else {
                        "code": row.code, "status": row.status, "source": row.source,
                        "anonymous": row.anonymous, "name": row.name, "phone": row.phone,
                        "rating": row.rating, "files": row.files,
                        "duplicate_of": row.duplicate_of, "category": row.category,
                        "history": [h.to_status for h in row.history],
                        "address": row.address, "forwarded_to": row.forwarded_to,
                        "forwarded_on": _iso(row.forwarded_on), "due_on": _iso(row.due_on),
                        "accept_due_on": _iso(row.accept_due_on),
                        "forward_due_on": _iso(row.forward_due_on),
                    }  # fmt: skip
                    expected = {k: want[k] for k in want}
                    if got_fields is None or {k: got_fields[k] for k in expected} != expected:
                        result.failures.append(Failure(-1, f"complaint {got_fields}"))
            if "responses" in spec and len(ids.issued) != len(spec["responses"]):
                result.failures.append(Failure(-1, f"{len(ids.issued)} responses started"))
            for want in spec.get("dossier_state", []):
                found = await dossier_by_code(conn, str(want["code"]))
                if found is None:
                    result.failures.append(Failure(-1, f"dossier {want['code']} missing"))
                    continue
                chats = [f.external_id for f in await followers(conn, [found.id])]
                state: dict[str, object] = {
                    "code": found.code,
                    "status": found.status,
                    "invite": found.invite_status,
                    "followers": chats,
                    "followed": found.followed_at is not None,
                }
                if {k: state[k] for k in want} != want:
                    result.failures.append(Failure(-1, f"dossier {state}"))
    finally:
        await engine.dispose()
    return result


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def update_texts(path: Path, result: Result) -> None:
    """``--update-golden``: writes the rendered texts into the transcript, for review in git."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step, actual, queued in zip(spec["steps"], result.actual, result.queued, strict=True):
        if queued is not None:
            step["queued"] = [
                {"to": q["to"], "key": q["key"], "text": q["text"],
                 **({"labels": q["labels"], "choices": q["choices"]} if q["labels"] else {})}
                for q in queued
            ]  # fmt: skip
            continue
        old = step.get("expect", [])
        new = []
        for i, msg in enumerate(actual):
            item = dict(old[i]) if i < len(old) and old[i].get("key") == msg["key"] else {}
            item["key"] = msg["key"]
            item["text"] = msg["text"]
            if msg["labels"]:
                item["labels"] = msg["labels"]
            else:
                item.pop("labels", None)
            new.append(item)
        step["expect"] = new
    path.write_text(_dump(spec), encoding="utf-8")


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(spec: dict[str, Any]) -> str:
    return yaml.dump(spec, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
