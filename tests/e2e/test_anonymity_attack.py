"""The attacker of issue 10, point 4: after six interleaved surveys through the real process
(five completed, by receipt and from the menu, down different branches; one abandoned), they
hold a copy of the database files of the running process (its write-ahead log included) and
its DEBUG log, and try every way of tying an answer to a chat:

- zipping the hidden row order of ``survey_responses`` (or ``answers``) with ``consents``;
- old conversation pages (in the log or in free space) with a response id or answers;
- a response's receipt, and through it the token on the slip;
- the chat hashes of the log (a salt kept in the database or public lets one try chat ids),
  a chat's lines in a row (its route), and step names;
- the event ids kept to recognise a repeat (``processed_events``), counted per chat.

Nothing may link; the answers themselves must still be there (the attack is on real data).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.test_telegram_api import CRITERIA
from tests.support.bot_process import BotProcess, _offering, press, send_and_wait
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.e2e

PUBLIC_SALT = b"sipas-bot"  # what chat hashes were salted with when RECEIPT_SECRET was unset
THANKS = "Trân trọng cảm ơn"


def _path(timing: str, apology: str | None, f5: str, comment: str | None) -> list[str]:
    """The buttons (and, for a comment, the text) of one survey, after /khaosat or /start."""
    steps = ["consent:yes", "info:posted", "info:done", "trips:1", f"timing:{timing}"]
    if apology is not None:
        steps.append(f"apology:{apology}")
    steps += [f"{c}:4" for c in CRITERIA[:18]] + [f"f5:{f5}"]
    if f5 == "yes":
        steps += [f"{c}:5" for c in CRITERIA[18:]]
    steps += ["harass:no", "payment:no", "expect:faster", "expect:done"]
    steps.append(f"text:{comment}" if comment else "comment:skip")
    return [*steps, "p.intro:no", "summary:submit"]


# chat -> (how it starts, what it answers); comments are unique so their copies can be counted.
CHATS: dict[int, tuple[str, list[str]]] = {
    6101: ("receipt", _path("late", "yes", "yes", "Chờ lâu vì thiếu giấy tờ ở bộ phận một cửa")),
    6102: ("menu", _path("ontime", None, "no", "Nhân viên Lê Thị Hồng hướng dẫn chu đáo")),
    6103: ("menu", _path("early", None, "yes", None)),
    6104: ("menu", _path("late", "no", "no", "Phòng chờ nóng, thiếu ghế cho người già")),
    6105: ("menu", _path("ontime", None, "yes", "Trả kết quả qua bưu điện rất tiện")),
    6106: ("menu", [*_path("early", None, "no", None)[:12], "/huy"]),  # abandoned midway
}
COMMENTS = [s[5:] for _, steps in CHATS.values() for s in steps if s.startswith("text:")]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token="735001:ANON-attack-token", username="sipas_test_bot") as server:
        yield server


def _issue_receipt(bot: BotProcess) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "receipts", "issue", "--procedure", "1.009972"],
        cwd=bot.workdir, env=bot.env(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip().split("\t")[0]


def _act(fake: FakeTelegram, chat: int, step: str) -> None:
    if step.startswith("text:"):
        send_and_wait(fake, chat, step[5:])
    elif step.startswith("/"):
        send_and_wait(fake, chat, step)
    else:
        press(fake, chat, step)


def _thanked(fake: FakeTelegram, chat: int) -> bool:
    return any(THANKS in (m.text or "") for m in fake.messages(chat))


def _echoes_gone(workdir: Path) -> bool:
    """No "→ answer" echo of a survey's question in the database file or its log."""
    paths = [workdir / "bot.db", workdir / "bot.db-wal"]
    return not any(b"\\u2192" in p.read_bytes() for p in paths if p.exists())


def _outbox_empty(workdir: Path) -> bool:
    with sqlite3.connect(workdir / "bot.db") as conn:
        return bool(conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,))


def _copy_files(workdir: Path, to: Path) -> tuple[bytes, bytes]:
    """The database and its write-ahead log as a backup of the running process takes them."""
    to.mkdir()
    raw = []
    for suffix in ("", "-wal"):
        source = workdir / f"bot.db{suffix}"
        if source.exists():
            shutil.copyfile(source, to / source.name)
        raw.append(source.read_bytes() if source.exists() else b"")
    return raw[0], raw[1]


def test_nothing_in_files_or_logs_ties_an_answer_to_a_chat(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(fake, tmp_path, extra_env={"LOG_LEVEL": "DEBUG"})  # no RECEIPT_SECRET
    bot.start()
    try:
        token = _issue_receipt(bot)
        for chat, (how, _) in CHATS.items():
            if how == "receipt":
                fake.user_sends_command(chat, "/start", token)
            else:
                fake.user_sends_text(chat, "/khaosat")
            fake.wait_for_messages(chat, 1)
        longest = max(len(steps) for _, steps in CHATS.values())
        for i in range(longest):  # interleaved: one step of each chat in turn
            for chat, (_, steps) in CHATS.items():
                if i < len(steps):
                    _act(fake, chat, steps[i])
        for chat, (_, steps) in CHATS.items():
            if steps[-1] == "summary:submit":
                fake.wait_for(partial(_thanked, chat=chat), what=f"thanks to {chat}")
        # The log is emptied once the last replies are marked sent, just after they arrive.
        fake.wait_for(lambda _: _echoes_gone(tmp_path), what="the replies' pages scrubbed")
        fake.wait_for(lambda _: _outbox_empty(tmp_path), what="the ending's replies deleted")
        db_bytes, wal_bytes = _copy_files(tmp_path, tmp_path / "stolen")
    finally:
        bot.stop()
    log = bot.output()
    files = db_bytes + wal_bytes

    with sqlite3.connect(tmp_path / "stolen" / "bot.db") as conn:
        responses = conn.execute("SELECT id, status, with_receipt FROM survey_responses").fetchall()
        answer_rows = conn.execute("SELECT response_id, item, value_text FROM answers").fetchall()
        consents = conn.execute(
            "SELECT contact_id, decided_at FROM consents WHERE purpose = 'survey'"
        ).fetchall()
        states = conn.execute("SELECT flow, step, state FROM conversations").fetchall()
        columns = {r[1] for r in conn.execute("PRAGMA table_info(survey_responses)")}
        receipt = conn.execute("SELECT survey_status FROM receipts").fetchall()
        messages = dict(
            conn.execute("SELECT chat_id, count(*) FROM outbox GROUP BY chat_id").fetchall()
        )
        stored = [v for (v,) in conn.execute("SELECT value FROM local_secrets")]
        event_keys = [k for (k,) in conn.execute("SELECT event_key FROM processed_events")]

    # The data is all there: five completed, one abandoned, the typed comments stored.
    assert sorted(s for _, s, _ in responses) == ["abandoned", *["completed"] * 5]
    assert sum(w for _, _, w in responses) == 1
    assert sorted(v for _, i, v in answer_rows if i == "comment") == sorted(COMMENTS)

    # 1. Row order: responses and answers lie in the order of their random ids, and the
    #    consents they might be zipped with name no chat and no minute any more.
    ids = [rid for rid, _, _ in responses]
    assert ids == sorted(ids)
    answer_ids = [rid for rid, _, _ in answer_rows]
    assert answer_ids == sorted(answer_ids)
    assert len(consents) == len(CHATS)
    assert [contact for contact, _ in consents] == [None] * len(CHATS)
    assert all(at.endswith(":00:00.000000") or at.endswith(":00:00") for _, at in consents)

    # 2. Pages: no conversation holds a survey (all ended), and no copy of one is left in the
    #    database file, its free space, or the write-ahead log of the running process.
    for flow, step, state in states:
        assert (flow, step) == (None, None)
        assert not {"rid", "ans", "hist", "receipt"} & set(json.loads(state))
    # Every chat's row is the same, whichever way its survey ended (receipt or not,
    # submitted or abandoned): none tells which response is its own.
    assert len({state for _, _, state in states}) == 1, states
    assert [rid for rid in ids if str(rid).encode() in files] == [], "response ids in pages"
    assert b'"ans"' not in files
    assert b'"rid"' not in files
    # No reply of a survey (a question's "→ answer" echo, the summary of the answers) is
    # left in a page either: the last ones were marked sent after the ending checkpoint.
    assert b"\\u2192" not in files
    assert "→".encode() not in files
    copies = {comment: files.count(comment.encode()) for comment in COMMENTS}
    assert copies == dict.fromkeys(COMMENTS, 1), "a comment kept outside its answer row"

    # 2b. Messages: how many a chat was sent tells which way its survey went (late -> one
    #     more question); what was sent before the end is gone, the same for every chat.
    #     The replies of the ending itself (the thanks, with the second the survey ended in
    #     their times) go once sent: no survey chat keeps a row.
    assert messages == {}, messages

    # 2c. Event ids: none names a chat, so a chat's events cannot be counted.
    assert len(event_keys) > len(CHATS)
    assert [k for k in event_keys if any(str(chat) in k for chat in CHATS)] == []

    # 3. Receipts: no response column leads to one; the receipt knows only its survey ended.
    assert "receipt_id" not in columns
    assert receipt == [("used",)]

    # 4. Logs: chat pseudonyms are salted by the process alone: neither the public salt nor
    #    anything the database holds recomputes one (the database holds no salt at all); no
    #    step or question name tells which way a survey went; no raw chat id.
    assert "level=DEBUG" in log
    # No line per event or per message (lines in a row, even with no chat, are a lone
    # citizen's route), and none names a chat beside one (a time would name its person).
    assert "event=handled" not in log
    assert not re.search(r"\b(kind|replies)=", log)
    assert not re.search(r"\bchat=", log)
    # No secret is stored (no RECEIPT_SECRET): the survey marks' key is in its own file next
    # to the database, not in it, so a dump cannot recompute the marks; nor is it the salt.
    assert stored == []
    mark_key = (tmp_path / "receipt_secret").read_text().strip()
    assert mark_key.encode() not in files
    for chat in CHATS:
        for salt in [PUBLIC_SALT, mark_key.encode()]:
            guess = hashlib.sha256(salt + f"telegram:{chat}".encode()).hexdigest()[:12]
            assert guess not in log
        assert not re.search(rf"(?<!\d){chat}(?!\d)", log)
    assert "step=" not in log
    for name in ("apology", "timing", "f5:", "5.1:", "p.intro", "comment"):
        assert name not in log, name
    for comment in COMMENTS:
        assert comment not in log


# Sends failing (the Bot API answers 502) from the moment shown: chat -> (its survey up to
# the last step delivered, how it ends without seeing anything more).
FAILING: dict[int, tuple[list[str], list[str]]] = {
    # The summary arrived; the submit pressed on it queues its edit, which never leaves.
    6201: (_path("late", "yes", "no", None)[:-1], ["summary:submit"]),
    # The last question arrived: its answer's "→" echo and the summary (with the averages)
    # never leave; the citizen types the submit.
    6202: (_path("ontime", None, "yes", "Trả kết quả qua bưu điện rất tiện")[:-2], ["p.intro:no", "text:gửi phiếu"]),
}  # fmt: skip
#: JSON-escaped as SQLite stores the outbox payloads: an answer's echo, a summary's average.
ANSWER_BYTES = [json.dumps(s)[1:-1].encode() for s in ("→", "trung bình", "Tóm tắt")]


def _completed(workdir: Path) -> int:
    with sqlite3.connect(workdir / "bot.db") as conn:
        found = conn.execute("SELECT count(*) FROM survey_responses WHERE status = 'completed'")
        return int(found.fetchone()[0])


def _answers_in_pages(workdir: Path) -> list[bytes]:
    paths = [workdir / "bot.db", workdir / "bot.db-wal"]
    files = b"".join(p.read_bytes() for p in paths if p.exists())
    return [b for b in ANSWER_BYTES if b in files]


def test_while_sends_fail_no_queued_message_ties_a_chat_to_its_answers(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """The tester's finding: with the Bot API answering 502, the outbox kept each chat's
    id next to the "→ answer" echoes and the summary's per-group averages after the survey
    ended, until the sends succeeded. Now the survey's messages leave the outbox in the
    transaction that ends it, and the summary pressed becomes a line without the answers:
    what stays queued (the thanks) says nothing of them, in the tables or in the pages."""
    bot = BotProcess(fake, tmp_path)
    bot.start()
    try:
        for chat, (shown, _) in FAILING.items():
            fake.user_sends_text(chat, "/khaosat")
            fake.wait_for_messages(chat, 1)
            for step in shown:
                if step.startswith("text:"):  # once the question is there, not before
                    fake.wait_for(partial(_offering, chat_id=chat, data="comment:skip"))
                _act(fake, chat, step)
        for chat, (_, unseen) in FAILING.items():
            for method in ("sendMessage", "editMessageText"):
                fake.fail_next(method, status=502, count=10_000, chat_id=chat)
            for step in unseen:
                if step.startswith("text:"):
                    fake.user_sends_text(chat, step[5:])
                else:
                    offering = fake.wait_for(
                        partial(_offering, chat_id=chat, data=step), what=f"{step} shown"
                    )
                    assert offering is not None
                    fake.user_presses(chat, offering.message_id, step)
        fake.wait_for(lambda _: _completed(tmp_path) == len(FAILING), what="both submitted")
        fake.wait_for(
            lambda f: {c.chat_id for c in f.calls if c.status == 502} == set(FAILING),
            what="the sends failing",
        )
        fake.wait_for(lambda _: not _answers_in_pages(tmp_path), what="no answer in the pages")
        with sqlite3.connect(tmp_path / "bot.db") as conn:
            queued = conn.execute(
                "SELECT chat_id, status, payload FROM outbox WHERE status <> 'sent'"
            ).fetchall()
    finally:
        bot.stop()
    # The thanks (at least) is still queued to each chat: the sends did fail.
    assert {int(chat) for chat, _, _ in queued} >= set(FAILING)
    for chat, status, payload in queued:
        text = json.loads(payload)["text"] if payload else ""
        assert status == "pending"
        assert not any(s in text for s in ("→", "trung bình", "Tóm tắt")), (chat, text)
        assert "Trả kết quả qua bưu điện" not in text
