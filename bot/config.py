"""Settings from the environment and ``.env`` (pydantic-settings), per the interface contract."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from conversations.periods import DIGEST_KINDS
from conversations.workdays import WorkCalendar, load_calendar

#: A dossier API client's name: short and plain, it is stored with each event it posts.
CLIENT_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
#: The default name of the survey marks' key file (``Settings.secret_file``).
SECRET_FILE_NAME = "receipt_secret"
#: A web origin: scheme, host, optional port; no path.
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?/?$")


class ConfigError(ValueError):
    """An invalid setting; the message is one line that names it."""


def _id_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


IdList = Annotated[list[int], NoDecode]
DateList = Annotated[list[date], NoDecode]
StrList = Annotated[list[str], NoDecode]
KindList = Annotated[list[Literal["daily", "weekly", "monthly", "halfyear", "yearly"]], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    #: Where files are downloaded from; by default the base URL's ``…/bot`` made ``…/file/bot``.
    telegram_api_file_url: str | None = None
    telegram_bot_username: str | None = Field(
        default=None, pattern=r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$"
    )
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_max_per_second: float = Field(default=30, gt=0, le=1000)
    telegram_max_per_chat_per_second: float = Field(default=1, gt=0, le=100)
    #: How long Telegram may go on refusing the token while polling (401/403 to every
    #: getUpdates: revoked) before the process exits non-zero for a supervisor to see, when
    #: Telegram is its only channel; with the web chat or Zalo served it stays up for them,
    #: /healthz unhealthy. (Refused at the start, the process stops at once.)
    telegram_token_refused_exit_seconds: int = Field(default=300, ge=1, le=24 * 3600)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    #: Where the web server listens; unset: 127.0.0.1 when the web chat is the only channel
    #: (a try-out on this machine), 0.0.0.0 when Telegram or Zalo is set (webhooks, kiosks).
    http_host: str | None = None
    http_port: int = Field(default=8080, ge=1, le=65535)
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    admin_telegram_ids: IdList = Field(default_factory=list)
    admin_chat_ids: IdList = Field(default_factory=list)
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: Literal["vi", "en"] = "vi"
    agency_name: str = Field(default="Sở Xây dựng", min_length=1, max_length=120)
    #: Where citizens can come in person (the tố cáo text names it); empty: not stated.
    agency_address: str = Field(default="", max_length=200)
    #: Key of the one-survey-per-period marks; unset: read from ``RECEIPT_SECRET_FILE``.
    receipt_secret: SecretStr | None = None
    #: Where the marks' key is kept when ``RECEIPT_SECRET`` is unset (made there on first run,
    #: mode 0600); unset: ``receipt_secret`` next to a SQLite database file, else
    #: ``data/receipt_secret`` (see :attr:`secret_file`). Never in the database.
    receipt_secret_file: Path | None = None
    survey_expire_hours: int = Field(default=168, ge=1, le=24 * 90)
    #: One survey without a receipt per chat per this calendar period ("off": no limit).
    open_survey_period: Literal["day", "week", "month", "year", "off"] = "month"
    #: The SIPAS method new surveys use: QĐ 1001/QĐ-BNV (in force since 11/12/2023, 19 items)
    #: or QĐ 2640/QĐ-BNV (2017–2020, 22 criteria). Reports are per method, never mixed.
    survey_method: Literal["sipas-1001", "sipas-2640"] = "sipas-1001"
    complaints_per_day: int = Field(default=3, ge=1, le=100)
    survey_reminder_hours: int = Field(default=24, ge=1, le=24 * 30)
    digest_time: time = time(7, 30)
    digest_kinds: KindList = Field(default_factory=lambda: list(DIGEST_KINDS))
    public_holidays: DateList = Field(default_factory=list)
    not_holidays: DateList = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    zalo_app_id: str | None = Field(default=None, pattern=r"^\d{1,32}$")
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret: SecretStr | None = None
    zalo_oa_id: str | None = Field(default=None, pattern=r"^\d{1,32}$")
    zalo_api_base_url: str = "https://openapi.zalo.me"
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    zalo_admin_ids: StrList = Field(default_factory=list)
    #: How each Zalo officer is named on the cases they handle: ID=Name, comma-separated
    #: (Zalo's messages carry no name); an officer left out is "Zalo 1", "Zalo 2" … by
    #: their place in ZALO_ADMIN_IDS, never their raw id.
    zalo_admin_names: StrList = Field(default_factory=list)
    #: Client systems allowed to post dossiers and their events: CLIENT:SECRET, comma-separated.
    dossier_api_keys: StrList = Field(default_factory=list, repr=False)
    dossier_retention_days: int = Field(default=30, ge=1, le=3650)
    dossier_invite_hours: int = Field(default=168, ge=1, le=24 * 90)
    #: The web chat channel (``/``, ``/kiosk``, ``/widget.js``) on the web server.
    web_chat: bool = True
    #: The staff PIN that turns a browser into a counter kiosk; unset: no ``/kiosk``.
    web_kiosk_pin: SecretStr | None = None
    web_kiosk_idle_seconds: int = Field(default=120, ge=5, le=3600)
    #: Surveys without a receipt one client address may complete in the web chat per
    #: ``OPEN_SURVEY_PERIOD`` (fresh cookies are fresh chats); 0: no limit; kiosks exempt.
    web_open_surveys_per_address: int = Field(default=3, ge=0, le=10000)
    #: Sites allowed to embed the chat widget (``https://portal.example.gov.vn``).
    web_widget_origins: StrList = Field(default_factory=list)
    #: How late a Zalo event's first delivery may come, in minutes (1 minute to 1 day); an
    #: event older than this plus Zalo's whole retry schedule (about 1 h 50 min) is refused
    #: as a replay, so retries after an outage of ours are still taken.
    zalo_event_max_age_minutes: int = Field(default=10, ge=1, le=24 * 60)
    #: The agency's approved Zalo template for complaint notices outside the 7-day window
    #: (its id from the OA's template manager); empty: such notices wait for the citizen.
    zalo_template_notice: str = Field(default="", max_length=64, pattern=r"^[0-9A-Za-z_-]*$")
    #: An approved ZNS template (Zalo Notification Service, by phone number): complaint
    #: notices outside the 7-day window go to the phone a citizen gave, with their consent,
    #: when there is no OA template above. Its fields: ``code``, ``status``, ``date``.
    zalo_zns_template_notice: str = Field(default="", max_length=64, pattern=r"^[0-9A-Za-z_-]*$")
    #: ZNS is served apart from the OA API (``POST /message/template`` there).
    zalo_zns_base_url: str = "https://business.openapi.zalo.me"
    #: Zalo's ZNS sending hours, local time (``HH:MM-HH:MM``; "" for any hour): a ZNS notice
    #: outside them waits for the next opening. Set from the agency's ZNS contract.
    zalo_zns_hours: str = Field(default="06:00-22:00", pattern=r"^(\d\d:\d\d-\d\d:\d\d)?$")
    #: ZNS messages the OA may send a local day (its quota level; 0: no limit): over it, a
    #: notice waits for the next day's opening and the digest counts it.
    zalo_zns_daily_quota: int = Field(default=1000, ge=0, le=10_000_000)
    #: Whether notices go as normal messages 48 h - 7 days after the citizen last wrote
    #: (Zalo bills the OA for those); False holds them for the template or the next message.
    zalo_send_billed: bool = True

    @field_validator("zalo_zns_hours")
    @classmethod
    def _zns_hours(cls, value: str) -> str:
        from bot.channels.zns_schedule import parse_hours

        parse_hours(value)  # ValueError: not HH:MM-HH:MM, or closing before opening
        return value

    @field_validator(
        "telegram_bot_token",
        "telegram_bot_username",
        "webhook_url",
        "telegram_api_file_url",
        "zalo_app_id",
        "zalo_app_secret",
        "zalo_oa_secret",
        "zalo_oa_id",
        "webhook_secret",
        "receipt_secret",
        "receipt_secret_file",
        "http_host",
        "web_kiosk_pin",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # .env.example lists every key with an empty value; empty means "not set".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "public_holidays",
        "not_holidays",
        "digest_kinds",
        "zalo_admin_ids",
        "zalo_admin_names",
        "dossier_api_keys",
        "web_widget_origins",
        mode="before",
    )
    @classmethod
    def _split_dates(cls, value: object) -> object:
        return _id_list(value) if isinstance(value, str) else value

    @field_validator("admin_telegram_ids", "admin_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _id_list(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("dossier_api_keys")
    @classmethod
    def _api_keys(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for pair in value:
            client, sep, secret = pair.partition(":")
            if not sep or not secret.strip() or not CLIENT_PATTERN.fullmatch(client.strip()):
                raise ValueError(
                    "expected CLIENT:SECRET pairs separated by commas (client: 1-32 of "
                    "A-Z a-z 0-9 _ - .)"
                )
            if client.strip() in seen:
                raise ValueError(f"client {client.strip()!r} is listed twice")
            seen.add(client.strip())
        return value

    @field_validator("web_kiosk_pin")
    @classmethod
    def _pin(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d{4,12}", value.get_secret_value()):
            raise ValueError("4 to 12 digits")
        return value

    @field_validator("web_widget_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://portal.example.vn")
        return [origin.rstrip("/") for origin in value]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.zalo_app_id:
            for name in ("zalo_app_secret", "zalo_oa_secret", "zalo_oa_id"):
                if not getattr(self, name):
                    raise ValueError(f"{name.upper()}: required when ZALO_APP_ID is set")
        if not self.admin_chat_ids:
            self.admin_chat_ids = list(self.admin_telegram_ids)
        if self.dossier_retention_days * 24 < self.dossier_invite_hours:
            raise ValueError(
                "DOSSIER_RETENTION_DAYS: must outlast the invitation (DOSSIER_INVITE_HOURS)"
            )
        if self.telegram_mode == "webhook":
            if not self.webhook_url:
                raise ValueError("WEBHOOK_URL: required when TELEGRAM_MODE=webhook")
            if not self.webhook_secret:
                raise ValueError("WEBHOOK_SECRET: required when TELEGRAM_MODE=webhook")
        return self

    def secret_values(self) -> list[str]:
        """Every secret setting's value, for the log filter to hide wherever it appears."""
        values = (getattr(self, name) for name in type(self).model_fields)
        return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]

    @property
    def dossier_clients(self) -> dict[str, str]:
        """The dossier API's clients: name -> shared secret."""
        pairs = (pair.partition(":") for pair in self.dossier_api_keys)
        return {client.strip(): secret.strip() for client, _, secret in pairs}

    @property
    def zalo_officers(self) -> dict[str, str]:
        """Each Zalo officer's id -> the name shown on the cases they handle: the one set in
        ZALO_ADMIN_NAMES, else "Zalo <their place in ZALO_ADMIN_IDS>" (never the raw id)."""
        named = {
            user.strip(): " ".join(name.split())[:64]
            for user, _, name in (pair.partition("=") for pair in self.zalo_admin_names)
        }
        return {
            user: named.get(user) or f"Zalo {place}"
            for place, user in enumerate(self.zalo_admin_ids, start=1)
        }

    @property
    def zalo_enabled(self) -> bool:
        return bool(self.zalo_app_id)

    @property
    def web_only(self) -> bool:
        """No Telegram token and no Zalo OA: the web chat is the bot's one channel."""
        return self.telegram_bot_token is None and not self.zalo_enabled

    @property
    def listen_host(self) -> str:
        if self.http_host is not None:
            return self.http_host
        return "127.0.0.1" if self.web_only else "0.0.0.0"

    @property
    def telegram_file_url(self) -> str:
        if self.telegram_api_file_url:
            return self.telegram_api_file_url
        base = self.telegram_api_base_url.rstrip("/")
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"

    @property
    def secret_file(self) -> Path:
        """Where the survey marks' key is kept when ``RECEIPT_SECRET`` is unset:
        ``RECEIPT_SECRET_FILE``; unset, ``receipt_secret`` in the folder of a SQLite database
        file (what backs up or moves the database folder keeps them together, and a second
        database gets a key of its own), else ``data/receipt_secret`` (PostgreSQL, in-memory
        SQLite), relative to the working directory like the default database."""
        if self.receipt_secret_file is not None:
            return self.receipt_secret_file.expanduser()
        url = make_url(self.database_url)
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and database and database != ":memory:":
            return Path(database).expanduser().parent / SECRET_FILE_NAME
        return Path("data") / SECRET_FILE_NAME

    @property
    def survey_ttl(self) -> timedelta:
        return timedelta(hours=self.survey_expire_hours)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def calendar(self) -> WorkCalendar:
        """Working days for complaint deadlines: the bundled holidays, adjusted by settings."""
        return load_calendar(extra=self.public_holidays, removed=self.not_holidays)


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Builds the settings once, at start; raises ConfigError with one line naming the setting."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error.get("loc", ()) if p != "__root__"]
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if loc:
            raise ConfigError(f"Invalid setting {loc[0].upper()}: {message}") from None
        raise ConfigError(f"Invalid setting {message}") from None
