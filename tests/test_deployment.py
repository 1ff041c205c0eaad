"""The deployment files (Dockerfile, compose.yaml, deploy/) agree with the code they start.

Docker is not run here: the files are read as data and checked against what they name, the
entry point's commands, the settings (bot/config.py) and each other, so a renamed setting or
command fails here rather than on a server.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import _parser
from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
#: What compose.yaml's ${NAME:?…} placeholders are given, as an operator's .env would.
SAMPLE = {
    "POSTGRES_PASSWORD": "pg-Secret-12345",
    "DOMAIN": "khaosat.soxaydung.gov.vn",
    "WEBHOOK_SECRET": "hook-Secret-1234567890",
}
#: Variables the image or the platform reads, not the bot's settings.
NOT_SETTINGS = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PTB_TIMEDELTA"}


def _interpolate(value: str) -> str:
    def sub(match: re.Match[str]) -> str:
        return SAMPLE[match.group(1)]

    return re.sub(r"\$\{([A-Z_]+)(?::\?[^}]*)?\}", sub, value)


def _compose() -> dict[str, Any]:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _bots() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in _services().items() if s.get("command", [])[-1:] == ["run"]}


def _setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_compose_runs_two_bot_processes_on_one_postgresql_behind_a_proxy() -> None:
    services = _services()
    bots = _bots()
    assert len(bots) == 2, list(services)
    assert {"db", "proxy", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    urls = {_interpolate(b["environment"]["DATABASE_URL"]) for b in bots.values()}
    assert len(urls) == 1  # one database, shared
    (url,) = urls
    assert url.startswith("postgresql+asyncpg://")
    assert "@db:5432/" in url
    # The proxy forwards to exactly these processes, at the port they listen on.
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    upstreams = set(re.findall(r"\b(bot\d+):(\d+)\b", caddyfile))
    ports = {str(b["environment"]["HTTP_PORT"]) for b in bots.values()}
    assert upstreams == {(name, port) for name in bots for port in ports}
    assert set(services["proxy"]["depends_on"]) == set(bots)
    for bot in bots.values():
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", ["migrate", "bot1", "bot2"])
def test_each_command_is_one_the_entry_point_knows(name: str) -> None:
    command = _services()[name]["command"]
    assert command[:3] == ["python", "-m", "bot"]
    parsed = _parser().parse_args(command[3:])  # exits (fails the test) on an unknown one
    assert parsed.command == command[3]


def test_compose_environment_names_only_settings_and_they_validate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, bot in _bots().items():
        environment = {k: _interpolate(str(v)) for k, v in bot["environment"].items()}
        unknown = set(environment) - _setting_names() - NOT_SETTINGS
        assert unknown == set(), (name, unknown)
        for key in list(os.environ):
            if key.upper() in _setting_names():
                monkeypatch.delenv(key)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        settings = load_settings(env_file=None)
        assert settings.telegram_mode == "webhook"
        assert settings.webhook_url == f"https://{SAMPLE['DOMAIN']}/telegram"
        assert settings.listen_host == "0.0.0.0"  # reachable from the proxy's container
        assert settings.database_url.startswith("postgresql+asyncpg://")


def test_env_example_lists_only_settings() -> None:
    keys = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if re.match(r"^[A-Z_]+=", line)
    }
    # compose.yaml's own variables may be there too, for the operator to fill in.
    assert keys - _setting_names() - set(SAMPLE) == set()


def _dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_the_image_is_slim_runs_as_a_user_and_starts_the_bot() -> None:
    instructions = _dockerfile()
    froms = [arg for op, arg in instructions if op == "FROM"]
    assert froms
    assert all(re.search(r"python:3\.1[1-9]-slim", f) for f in froms)
    final = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    users = [arg for op, arg in instructions[final:] if op == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    cmd = [arg for op, arg in instructions[final:] if op == "CMD"][-1]
    assert yaml.safe_load(cmd) == ["python", "-m", "bot", "run"]
    env = " ".join(arg for op, arg in instructions[final:] if op == "ENV")
    for name in re.findall(r"\b([A-Z_]+)=", env):
        assert name in _setting_names() | NOT_SETTINGS, name
    # Every package the wheel is built from is copied into the build stage.
    copied = {arg.split()[0] for op, arg in instructions if op == "COPY" and "--from" not in arg}
    assert {"bot", "conversations", "storage", "jobs", "pyproject.toml"} <= copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored  # secrets never baked into the image


def test_systemd_unit_runs_the_bot_as_a_user_with_its_settings_file() -> None:
    unit: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "sipas-bot.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            unit.setdefault(key, []).append(value)
    assert unit["User"][0] not in ("root", "0")
    start = shlex.split(unit["ExecStart"][0])
    assert start[1:] == ["-m", "bot", "run"]
    pre = shlex.split(unit["ExecStartPre"][0])
    assert pre[1:] == ["-m", "bot", "migrate"]
    assert unit["EnvironmentFile"]
    assert unit["KillSignal"] == ["SIGTERM"]
