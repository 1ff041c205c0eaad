"""The web chat in a real headless Chromium (Debian's, driven by Playwright through its
``executable_path``; no browser is downloaded), against the real ``python -m bot`` started
without any channel token, as README's first command starts it.

Screenshots on a phone-sized and a tablet-sized screen go to ``tests/artifacts/``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.bot_process import ROOT, free_port
from tests.support.web_process import WebBot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = ROOT / "tests" / "artifacts"
PIN = "246810"
IDLE_S = 5
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The whole survey by its buttons, as in the Telegram end-to-end test.
CRITERIA = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3",
            "3.4", "3.5", "3.6", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "5.4"]  # fmt: skip
RATINGS = [5, 4, 4, 3, 5, 5, 4, 4, 3, 5, 5, 5, 4, 4, 5, 5, 4, 4, 4, 3, 4, 5]
GRID = [f"{c}:{r}" for c, r in zip(CRITERIA[:18], RATINGS[:18], strict=True)] + ["f5:yes"]
GRID += [f"{c}:{r}" for c, r in zip(CRITERIA[18:], RATINGS[18:], strict=True)]
SURVEY = [
    "consent:yes", "info:posted", "info:staff", "info:done", "trips:1", "timing:ontime",
    *GRID,
    "harass:no", "payment:no", "expect:faster", "expect:done", "comment:skip", "p.intro:no",
    "summary:submit",
]  # fmt: skip


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'"
    )
    executable = _chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI without Chromium: .ci/run should have installed it")
        pytest.skip("no Chromium on this machine: apt-get install chromium (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class _Portal(BaseHTTPRequestHandler):
    """An agency portal on another origin, with the one-line widget pasted in."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        """Silent: the test portal's access log would drown the test output."""


@pytest.fixture(scope="module")
def portal_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, portal_port: int) -> Iterator[WebBot]:
    process = WebBot(
        tmp_path_factory.mktemp("web"),
        {
            "WEB_KIOSK_PIN": PIN,
            "WEB_KIOSK_IDLE_SECONDS": str(IDLE_S),
            "WEB_WIDGET_ORIGINS": f"http://localhost:{portal_port}",
        },
    )
    process.start()
    yield process
    assert process.stop() == 0


@pytest.fixture
def shots() -> Callable[[Any, str], None]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.wait_for_timeout(500)  # the log scrolls smoothly to its newest message
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)

    return take


def new_page(browser: Any, viewport: dict[str, int], **options: Any) -> Any:
    context = browser.new_context(
        viewport=viewport, locale="vi-VN", has_touch=viewport is PHONE, **options
    )
    context.set_default_timeout(20_000)
    return context.new_page()


def receipt(bot: WebBot) -> tuple[str, str]:
    """A receipt for the web chat: its code and the link its QR code holds."""
    line = bot.run_cli(
        "receipts", "issue", "--procedure", "1.009972", "--field", "Cấp phép", "--web", bot.url
    )
    token, link, code = line.strip().split("\t")  # the short code ends the line
    assert code[4] == code[9] == "-"
    return token, link


def press(page: Any, choice: str) -> None:
    """Presses the button of the newest message that offers ``choice`` (waiting for it),
    at a quick citizen's pace."""
    page.locator(f'.choices button[data-choice="{choice}"]:not([disabled])').last.click()
    time.sleep(0.12)


def type_text(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def wait_text(page: Any, text: str) -> None:
    page.locator(".msg.bot", has_text=text).last.wait_for()


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_full_survey_by_clicks_on_a_phone(
    browser: Any, bot: WebBot, shots: Callable[[Any, str], None]
) -> None:
    token, link = receipt(bot)
    assert link == f"{bot.url}?r={token}"
    page = new_page(browser, PHONE, is_mobile=True)
    page.goto(link)  # what scanning the receipt's QR code opens
    wait_text(page, "Ông/Bà có đồng ý tham gia không?")
    assert "r=" not in page.url  # the receipt code does not stay in the address bar
    assert serious_violations(page) == []
    for n, choice in enumerate(SURVEY):
        press(page, choice)
        if n == 8:
            shots(page, "phone-survey-question")
    wait_text(page, "Trân trọng cảm ơn")
    shots(page, "phone-survey-thanks")
    # The answered questions show their answer and lost their buttons.
    assert page.locator(".msg.bot", has_text="→").count() >= 22
    rows = bot.sql("SELECT status, procedure, with_receipt FROM survey_responses")
    assert rows == [("completed", "1.009972", 1)]
    # An attacker's copy of the running process's files (the database, its free pages and
    # its write-ahead log): no "→ answer" echo of any question is left in them.
    # (The log is emptied once the last replies are marked sent, just after they show.)
    stolen = [bot.database, bot.database.with_name(bot.database.name + "-wal")]

    def files() -> bytes:
        return b"".join(path.read_bytes() for path in stolen if path.exists())

    wait_until(lambda: b"\\u2192" not in files(), timeout=10)
    assert "→".encode() not in files()
    # A reload shows what came after the survey (the thanks, once) and nothing of it: its
    # questions and "→ answer" echoes left the page history when it ended (issue 10), so
    # no table keeps the answers under the visitor's chat.
    page.reload()
    wait_text(page, "Trân trọng cảm ơn")
    assert page.locator(".msg.bot", has_text="Trân trọng cảm ơn").count() == 1
    assert page.locator(".msg.bot", has_text="→").count() == 0
    kept = [
        json.loads(str(p)).get("text") or "" for (p,) in bot.sql("SELECT payload FROM web_messages")
    ]
    assert kept  # the thanks
    assert [t for t in kept if "→" in t or "?" in t] == []  # no question, no answer
    # The same receipt again is kindly refused: one survey per receipt.
    page.goto(f"{bot.url}?r={token}")
    wait_text(page, "mỗi giấy biên nhận chỉ đánh giá một lần")
    # English: the page's labels and the conversation switch together.
    page.click("#lang")
    wait_text(page, "Switched to English")
    assert page.locator("#title").inner_text().startswith("Citizens' feedback")
    assert page.get_attribute("html", "lang") == "en"
    page.context.close()


def test_a_newcomer_takes_a_survey_from_the_menu(browser: Any, bot: WebBot) -> None:
    """README's first command, then the address it printed: the menu, a survey, done."""
    page = new_page(browser, TABLET)
    page.goto(bot.url)
    wait_text(page, "Xin chào Ông/Bà")
    press(page, "menu:survey")
    for choice in SURVEY:
        press(page, choice)
    wait_text(page, "Trân trọng cảm ơn")
    assert (
        bot.count(
            "SELECT count(*) FROM survey_responses WHERE status = 'completed' AND NOT with_receipt"
        )
        >= 1
    )
    page.context.close()


def test_a_complaint_with_a_photo_then_its_status_on_a_tablet(
    browser: Any, bot: WebBot, shots: Callable[[Any, str], None]
) -> None:
    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(photo, format="JPEG")
    page = new_page(browser, TABLET)
    page.goto(bot.url)
    wait_text(page, "Xin chào Ông/Bà")
    assert serious_violations(page) == []
    press(page, "menu:complaint")
    press(page, "c.cat:capphep")
    type_text(page, "Công trình bên cạnh xây lấn sang lối đi chung của khu phố từ tháng trước.")
    wait_text(page, "Ông/Bà có thể gửi kèm ảnh")
    page.set_input_files(
        "#file",
        files=[{"name": "lấn lối đi.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}],
    )
    wait_text(page, "Đã nhận tệp 1/5")
    shots(page, "tablet-complaint-photo")
    press(page, "c.files:done")
    press(page, "c.who:named")
    type_text(page, "Nguyễn Thị Lan")
    wait_text(page, "số điện thoại")
    type_text(page, "0912 345 678")
    wait_text(page, "địa chỉ liên hệ")
    type_text(page, "Số 7 đường Trường Chinh, phường Phủ Lý")
    press(page, "c.confirm:send")
    wait_text(page, "Mã phản ánh")
    filed = page.locator(".msg.bot", has_text="Mã phản ánh").last.inner_text()
    found = re.search(r"PA-\d{4}-\d{6}", filed)
    assert found is not None
    code = found.group(0)
    type_text(page, f"/tracuu {code}")
    wait_text(page, "Trạng thái: Mới tiếp nhận")
    shots(page, "tablet-tracuu")
    # The photo is copied into the complaint's files, byte for byte.
    wait_until(lambda: bot.sql("SELECT status FROM complaint_files") == [("stored",)])
    stored = bot.sql("SELECT media, mime, data, file_name FROM complaint_files")
    assert stored == [("photo", "image/jpeg", photo.getvalue(), "lấn lối đi.jpg")]
    # Nothing personal in any address the page used.
    assert code not in page.url
    page.context.close()


def _unlock_kiosk(page: Any, bot: WebBot) -> None:
    page.goto(bot.url + "kiosk")
    page.locator("#pin").wait_for()
    assert serious_violations(page) == []
    page.fill("#pin", "0000")
    page.click("#pin-form button[type=submit]")
    page.locator("#status", has_text="Mã PIN không đúng").wait_for()
    page.fill("#pin", PIN)
    page.click("#pin-form button[type=submit]")
    page.locator("#kiosk-start").wait_for()


def _visible(page: Any, selector: str) -> bool:
    return bool(page.locator(selector).is_visible())


def test_the_kiosk_resets_after_a_survey_and_after_idling(
    browser: Any, bot: WebBot, shots: Callable[[Any, str], None]
) -> None:
    page = new_page(browser, TABLET)
    _unlock_kiosk(page, bot)
    assert page.locator("#kiosk-start").inner_text() == "Đánh giá mức độ hài lòng"
    assert serious_violations(page) == []
    shots(page, "tablet-kiosk-start")
    contacts_before = bot.count("SELECT count(*) FROM contacts WHERE channel = 'web'")
    # A citizen types the code from the receipt and rates.
    token, _ = receipt(bot)
    page.fill("#code", token)
    page.click("#code-form button[type=submit]")
    wait_text(page, "Ông/Bà có đồng ý tham gia không?")
    for choice in SURVEY:
        press(page, choice)
    page.locator("#thanks").wait_for()
    shots(page, "tablet-kiosk-thanks")
    # Reset after a finished survey: the start screen again, nothing of the last citizen.
    page.locator("#kiosk-start").wait_for(timeout=(IDLE_S + 10) * 1000)
    assert page.locator(".msg").count() == 0
    assert bot.count("SELECT count(*) FROM survey_responses WHERE status = 'completed'") >= 1
    # The same receipt again on the kiosk: refused, as everywhere.
    page.fill("#code", token)
    page.click("#code-form button[type=submit]")
    wait_text(page, "mỗi giấy biên nhận chỉ đánh giá một lần")
    page.locator("#kiosk-start").wait_for(timeout=(IDLE_S + 10) * 1000)
    # The next citizen starts without a code, answers one question, and walks away.
    abandoned = bot.count("SELECT count(*) FROM survey_responses WHERE status = 'abandoned'")
    page.click("#kiosk-start")
    press(page, "consent:yes")
    press(page, "info:posted")
    started = time.monotonic()
    page.locator("#kiosk-start").wait_for(timeout=(IDLE_S + 10) * 1000)
    assert time.monotonic() - started >= IDLE_S - 1.5
    assert page.locator(".msg").count() == 0
    after = bot.count("SELECT count(*) FROM survey_responses WHERE status = 'abandoned'")
    assert after == abandoned + 1  # counted as partial, the receipt-less survey closed
    contacts_after = bot.count("SELECT count(*) FROM contacts WHERE channel = 'web'")
    assert contacts_after >= contacts_before + 3  # a fresh anonymous contact per citizen
    page.context.close()


def test_the_widget_opens_inside_a_page_of_another_origin(
    browser: Any, bot: WebBot, portal_port: int, shots: Callable[[Any, str], None]
) -> None:
    portal_html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Cổng thông tin'
        "</title></head><body><h1>Cổng thông tin điện tử</h1><p>Trang của cơ quan.</p>"
        f'<script src="{bot.url}widget.js" data-lang="vi" defer></script></body></html>'
    )
    handler = type("Portal", (_Portal,), {"page": portal_html.encode()})
    server = ThreadingHTTPServer(("127.0.0.1", portal_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page = new_page(browser, PHONE, is_mobile=True)
        page.goto(f"http://localhost:{portal_port}/")  # another origin than the bot's
        opener = page.get_by_role("button", name="Hỏi đáp, góp ý")
        opener.click()
        frame = page.frame_locator("iframe[title='Trò chuyện với Sở Xây dựng']")
        frame.locator(".msg.bot", has_text="Xin chào Ông/Bà").wait_for()
        frame.locator('.choices button[data-choice="menu:survey"]').click()
        frame.locator(".msg.bot", has_text="đồng ý tham gia").wait_for()
        shots(page, "phone-widget-open")
        assert page.get_by_role("button", name="Đóng khung trò chuyện").is_visible()
        page.context.close()
    finally:
        server.shutdown()
        server.server_close()


def test_the_widget_is_refused_on_a_site_not_listed(browser: Any, bot: WebBot) -> None:
    other_port = free_port()
    portal_html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Khác</title>'
        f'</head><body><script src="{bot.url}widget.js" defer></script></body></html>'
    )
    handler = type("Other", (_Portal,), {"page": portal_html.encode()})
    server = ThreadingHTTPServer(("127.0.0.1", other_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = new_page(browser, PHONE)
        refused: list[str] = []
        page.on("console", partial(_frame_refusals, refused))
        page.goto(f"http://localhost:{other_port}/")
        page.get_by_role("button", name="Hỏi đáp, góp ý").click()
        # Chromium refuses the frame (frame-ancestors): it says so in the console, and the
        # frame holds its error page instead of the chat.
        for _ in range(200):
            blocked = [f for f in page.frames[1:] if f.url.startswith("chrome-error:")]
            if refused or blocked:
                break
            page.wait_for_timeout(100)  # lets Playwright take the browser's events in
        assert refused or blocked
        assert page.frame_locator("iframe").locator(".msg").count() == 0
        page.context.close()
    finally:
        server.shutdown()
        server.server_close()


def _frame_refusals(found: list[str], message: Any) -> None:
    if "frame-ancestors" in message.text:
        found.append(message.text)


def test_artifacts_folder_is_ignored_by_git() -> None:
    assert "/tests/artifacts/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
