"""Settings: defaults per the contract; a bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("TELEGRAM_", "WEBHOOK_", "ADMIN_", "DATABASE_", "HTTP_", "WEB_", "ZALO_")) or key in {
            "TIMEZONE", "DEFAULT_LANGUAGE", "AGENCY_NAME", "SURVEY_EXPIRE_HOURS", "LOG_LEVEL",
        } or key.startswith("DOSSIER_"):  # fmt: skip
            monkeypatch.delenv(key)


def test_defaults_follow_the_contract() -> None:
    settings = load_settings(None)
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_mode == "polling"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.default_language == "vi"


def test_web_chat_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """No channel token: the web chat alone, on this machine only; with a token, on every
    address (webhooks, kiosks on the office network), unless HTTP_HOST says otherwise."""
    settings = load_settings(None)
    assert (settings.web_only, settings.web_chat, settings.listen_host) == (True, True, "127.0.0.1")
    assert settings.http_port == 8080
    assert settings.web_kiosk_pin is None
    assert settings.web_kiosk_idle_seconds == 120
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("WEB_WIDGET_ORIGINS", "https://portal.gov.vn, http://localhost:3000/")
    monkeypatch.setenv("WEB_KIOSK_PIN", "024680")
    settings = load_settings(None)
    assert (settings.web_only, settings.listen_host) == (False, "0.0.0.0")
    assert settings.web_widget_origins == ["https://portal.gov.vn", "http://localhost:3000"]
    assert settings.web_kiosk_pin is not None
    assert settings.web_kiosk_pin.get_secret_value() == "024680"
    monkeypatch.setenv("HTTP_HOST", "10.0.0.5")
    assert load_settings(None).listen_host == "10.0.0.5"


def test_admin_chats_default_to_admin_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "111, 222")
    settings = load_settings(None)
    assert settings.admin_telegram_ids == [111, 222]
    assert settings.admin_chat_ids == [111, 222]


def test_postgres_url_gets_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db/sipas")
    assert load_settings(None).database_url == "postgresql+asyncpg://bot@db/sipas"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("TIMEZONE", "Asia/Hanoi_City", "TIMEZONE"),
        ("ADMIN_TELEGRAM_IDS", "12,abc", "ADMIN_TELEGRAM_IDS"),
        ("HTTP_PORT", "99999", "HTTP_PORT"),
        ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("TELEGRAM_MODE", "webhook", "WEBHOOK_URL"),
        ("SURVEY_EXPIRE_HOURS", "0", "SURVEY_EXPIRE_HOURS"),
        ("WEB_KIOSK_PIN", "12ab", "WEB_KIOSK_PIN"),
        ("WEB_KIOSK_PIN", "123", "WEB_KIOSK_PIN"),
        ("WEB_KIOSK_IDLE_SECONDS", "2", "WEB_KIOSK_IDLE_SECONDS"),
        ("WEB_WIDGET_ORIGINS", "https://portal.gov.vn/trang", "WEB_WIDGET_ORIGINS"),
    ],
    ids=[
        "timezone",
        "admin-ids",
        "port",
        "language",
        "database",
        "webhook-needs-url",
        "expiry",
        "pin-letters",
        "pin-short",
        "kiosk-idle",
        "widget-origin-with-path",
    ],
)
def test_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, named: str
) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


@pytest.mark.e2e
def test_process_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TIMEZONE": "Nowhere/Atlantis"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == "Invalid setting TIMEZONE: unknown time zone 'Nowhere/Atlantis'"


def test_empty_values_from_env_example_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (
        "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_SECRET",
        "TELEGRAM_BOT_USERNAME",
        "ADMIN_TELEGRAM_IDS",
    ):
        monkeypatch.setenv(key, "")
    settings = load_settings(None)
    assert settings.telegram_bot_token is None
    assert settings.webhook_secret is None
    assert settings.telegram_bot_username is None
    assert settings.admin_telegram_ids == []


def test_env_example_lists_every_setting() -> None:
    from bot.config import Settings

    listed = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("# ")
    }
    assert {name.upper() for name in Settings.model_fields} <= listed


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("motcua", "DOSSIER_API_KEYS"),
        ("motcua:", "DOSSIER_API_KEYS"),
        ("mot cua:secret", "DOSSIER_API_KEYS"),
        ("a:x,a:y", "listed twice"),
    ],
    ids=["no-secret", "empty-secret", "space-in-name", "twice"],
)
def test_dossier_api_keys_are_name_secret_pairs(
    monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    monkeypatch.setenv("DOSSIER_API_KEYS", value)
    with pytest.raises(ConfigError, match=named):
        load_settings(None)
    monkeypatch.setenv("DOSSIER_API_KEYS", " motcua:s3cret:with:colons , dvc.tinh:xyz ")
    settings = load_settings(None)
    assert settings.dossier_clients == {"motcua": "s3cret:with:colons", "dvc.tinh": "xyz"}
    assert "s3cret" not in repr(settings)


def test_the_links_outlast_the_invitation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_RETENTION_DAYS", "2")
    monkeypatch.setenv("DOSSIER_INVITE_HOURS", "72")
    with pytest.raises(ConfigError, match="DOSSIER_RETENTION_DAYS: must outlast"):
        load_settings(None)


def test_zalo_officers_are_named_as_configured_else_by_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZALO_ADMIN_IDS", "8756112331268738712, 1234567890123456789")
    monkeypatch.setenv("ZALO_ADMIN_NAMES", "1234567890123456789=Nguyễn  Thị Lan, 999=Ai đó")
    officers = load_settings(None).zalo_officers
    assert officers == {
        "8756112331268738712": "Zalo 1",
        "1234567890123456789": "Nguyễn Thị Lan",
    }
