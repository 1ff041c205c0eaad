"""The log filter: secrets are redacted on every handler; chatty libraries are kept quiet."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from bot.logs import REDACTED, WITHHELD, Redact
from tests.support.bot_process import ROOT

TOKEN = "7350014297:AAHk3vQ9xZ_pL2mN8rT5wY1cE6fJ0dSbUo4"


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        (f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/getUpdates 200", TOKEN),
        (f"GET https://api.telegram.org/file/bot{TOKEN}/photos/file_1.jpg", TOKEN),
        ("POST http://127.0.0.1:8081/bot123456:E2E-token/sendMessage", "123456:E2E-token"),
        (f"token {TOKEN} refused", TOKEN),
        ("GET https://openapi.zalo.me/v2.0/oa/getoa?access_token=tok-42abc&x=1", "tok-42abc"),
        ("body b'refresh_token=rt-9f8e7d&app_id=1&grant_type=refresh_token'", "rt-9f8e7d"),
        ("""json {"access_token": "at-1a2b3c", "expires_in": "90000"}""", "at-1a2b3c"),
        ("headers {'secret_key': 'sk-55aa66', 'Content-Type': 'x'}", "sk-55aa66"),
        ("headers [('access_token', 'at-77cc88')]", "at-77cc88"),
        ("app_secret: as-0099zz", "as-0099zz"),
    ],
    ids=[
        "bot-url",
        "file-url",
        "short-test-token",
        "bare-token",
        "query",
        "form-body",
        "json",
        "dict",
        "header-tuple",
        "colon",
    ],
)
def test_patterns_are_redacted(line: str, hidden: str) -> None:
    redacted = Redact().redact(line)
    assert hidden not in redacted
    assert REDACTED in redacted


def test_the_configured_secrets_are_redacted_and_short_ones_ignored() -> None:
    redact = Redact(["hook-secret-Jq93", "ab"])
    assert redact.redact("secret_token=x and hook-secret-Jq93 again") == (
        f"secret_token={REDACTED} and {REDACTED} again"
    )
    assert redact.redact("a cab") == "a cab"  # two characters are no secret worth hiding


def test_ordinary_lines_are_left_alone() -> None:
    line = "event=handled channel=telegram chat=4f0c2a9b1e7d kind=text step=1.3 ms=1.20"
    assert Redact().redact(line) == line
    path = "File /srv/bot/bot/app.py, line 12; sqlite+aiosqlite:////srv/bot/data/bot.db"
    assert Redact().redact(path) == path


def test_message_arguments_and_tracebacks_are_redacted() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(Redact(["s3cret-webhook"]))
    logger = logging.getLogger("tests.logs.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe failed")
        except RuntimeError:
            logger.exception("call failed secret=%s url=%s", "s3cret-webhook", f"/bot{TOKEN}/x")
    finally:
        logger.removeHandler(handler)
    [record] = records
    text = logging.Formatter().format(record)
    assert TOKEN not in text
    assert "s3cret-webhook" not in text
    assert "RuntimeError" in text  # the traceback is kept, its secret is not


def test_configure_quiets_libraries_and_redacts_the_rest() -> None:
    """In a fresh interpreter, as ``python -m bot`` does at start."""
    script = textwrap.dedent(
        f"""
        import logging
        from bot.logs import configure
        configure("DEBUG", secrets=["zalo-app-secret-9Qx7"])
        logging.getLogger("httpx").info("HTTP Request: POST https://x/bot{TOKEN}/getMe")
        logging.getLogger("telegram.Bot").debug("Calling sendMessage with {{'text': 'Lan'}}")
        logging.getLogger("aiosqlite").debug("executing ('INSERT', ('0912345678',))")
        logging.getLogger("uvicorn.error").error("GET /bot{TOKEN}/x zalo-app-secret-9Qx7")
        logging.getLogger("bot.run").debug("event=started")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        f"level=ERROR logger=uvicorn.error GET /bot{REDACTED}/x {REDACTED}",
        "level=DEBUG logger=bot.run event=started",
    ]


@pytest.mark.parametrize(
    ("logger", "template", "args", "printed"),
    [
        (
            "telegram.request.BaseRequest",
            'Can not load invalid JSON data: "%s"',
            ('{"result": [{"from": {"id": 5820417736, "first_name": "Hoàng Thị Mai"}}]}',),
            f'Can not load invalid JSON data: "{WITHHELD}"',
        ),
        (
            "telegram.Bot",
            "Error while parsing updates! Received data was %r",
            ([{"update_id": 4, "message": {"text": "nhà số 7"}}],),
            f"Error while parsing updates! Received data was {WITHHELD}",
        ),
        (
            "telegram.ext.AIORateLimiter",
            "Rate limit hit. Retrying after %f seconds",
            (2.5,),
            "Rate limit hit. Retrying after 2.500000 seconds",
        ),
        ("httpx", "%(method)s %(who)s", {"method": "GET", "who": "Lan"}, f"{WITHHELD} {WITHHELD}"),
        ("bot.telegram", "event=poll_failed error=%s", ("TelegramError",), None),
        ("telegramx", "kept %s", ("as is",), None),
    ],
    ids=["unparsed-body", "unparsed-updates", "numbers-kept", "mapping", "own-line", "not-ptb"],
)
def test_a_library_line_keeps_its_wording_not_its_values(
    logger: str, template: str, args: object, printed: str | None
) -> None:
    record = logging.LogRecord(logger, logging.ERROR, __file__, 1, template, None, None)
    record.args = args  # type: ignore[assignment]
    expected = printed if printed is not None else template % args
    assert Redact().filter(record)
    assert record.getMessage() == expected
