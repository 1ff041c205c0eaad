"""Runs conversation transcripts (YAML: what the citizen sends, what must come back).

Like goflow's runner, every step starts from storage: a new engine and dispatcher are opened
on the same database, the event is applied and committed, and everything is closed again, so
nothing can survive in process memory between two messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Attachment, Choice, Command, Expired, Inbound, InboundEvent, Text
from storage import read_transaction, write_transaction
from storage.queries.complaints import complaints_by_code
from storage.queries.surveys import create_receipt, response_answers, response_status
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


class SequentialCodes:
    """Tracking codes PA-<year>-000001, 000002, … in issue order."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, year: int) -> str:
        self.count += 1
        return f"PA-{year}-{self.count:06d}"


_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_payload(send: dict[str, Any]) -> Inbound:
    if "text" in send:
        return Text(str(send["text"]))
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
        )
    if send.get("expired"):
        return Expired()
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
    await engine.dispose()
    for index, step in enumerate(spec["steps"]):
        if "advance" in step:
            clock.advance(_duration(str(step["advance"])))
        engine = database.open()
        dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids, new_code=codes)
        try:
            event = InboundEvent(
                str(step.get("event_id", f"e{index}")),
                str(step.get("channel", "test")),
                str(step.get("user", "citizen-1")),
                parse_payload(step["send"]),
                admin=bool(step.get("admin", False)),
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
                    }  # fmt: skip
                    expected = {k: want[k] for k in want}
                    if got_fields is None or {k: got_fields[k] for k in expected} != expected:
                        result.failures.append(Failure(-1, f"complaint {got_fields}"))
            if "responses" in spec and len(ids.issued) != len(spec["responses"]):
                result.failures.append(Failure(-1, f"{len(ids.issued)} responses started"))
    finally:
        await engine.dispose()
    return result


def update_texts(path: Path, result: Result) -> None:
    """``--update-golden``: writes the rendered texts into the transcript, for review in git."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step, actual in zip(spec["steps"], result.actual, strict=True):
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
