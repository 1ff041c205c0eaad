"""CI's own dependency audit (.ci/audit_fallback.py, issue 10), run when pip-audit could not
check every package: a package at its latest release is judged by PyPI's live advisories for
that release (withdrawn ones ignored), one below it by an advisory snapshot (OSV files), and
only a vulnerability of the installed version fails the run; a PyPI that cannot be reached,
packages that could not be checked and what cannot be told are reported and fail nothing.

PyPI is a stand-in HTTP server on 127.0.0.1 answering recorded project JSON; the snapshot is
written into a temporary folder. Nothing reaches the network.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "audit_fallback.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_fallback", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_fallback"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fallback = _load()


def _project(
    latest: str, vulnerabilities: list[dict[str, Any]] | None = None, **released: str
) -> dict[str, Any]:
    """A project JSON as PyPI's: ``released`` maps a version ("1_0" for "1.0") to its day."""
    releases = {
        v.replace("_", "."): [{"upload_time_iso_8601": f"{day}T10:00:00.000000Z"}]
        for v, day in released.items()
    }
    return {
        "info": {"version": latest},
        "releases": releases,
        "vulnerabilities": vulnerabilities or [],
    }


def _vuln(
    ident: str, fixed_in: list[str], withdrawn: str | None = None, **more: Any
) -> dict[str, Any]:
    return {
        "id": ident,
        "aliases": more.get("aliases", []),
        "fixed_in": fixed_in,
        "withdrawn": withdrawn,
        "summary": "",
        "details": "",
        "link": f"https://osv.dev/vulnerability/{ident}",
        "source": "osv",
    }


class _PyPI(BaseHTTPRequestHandler):
    projects: ClassVar[dict[str, dict[str, Any]]] = {}

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")  # pypi/NAME/json
        data = self.projects.get(parts[1]) if len(parts) == 3 and parts[2] == "json" else None
        body = json.dumps(data).encode() if data is not None else b"{}"
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass  # the fake PyPI's request lines would only clutter the test output


@pytest.fixture
def pypi() -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    """The stand-in PyPI's base URL and the projects it answers (PEP 503 names)."""
    projects: dict[str, dict[str, Any]] = {}
    handler = type("Handler", (_PyPI,), {"projects": projects})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pypi", projects
    finally:
        server.shutdown()
        server.server_close()


def _closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/pypi"


def _advisory(ident: str, name: str, events: list[dict[str, str]], **more: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {
        "package": {"name": name, "ecosystem": "PyPI"},
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
    }
    if "versions" in more:
        affected["versions"] = more.pop("versions")
    return {"id": ident, "aliases": more.pop("aliases", []), "affected": [affected], **more}


def _snapshot(folder: Path, packages: list[str], *advisories: dict[str, Any]) -> Any:
    (folder / "vulns").mkdir(parents=True)
    meta = {"commit": "3ccb612573e2511ab5cad7dafecd838605c80cda", "date": "2024-10-10"}
    (folder / "snapshot.yaml").write_text(yaml.safe_dump({**meta, "packages": packages}))
    for advisory in advisories:
        name = advisory["affected"][0]["package"]["name"].lower()
        (folder / "vulns" / name).mkdir(exist_ok=True)
        (folder / "vulns" / name / f"{advisory['id']}.yaml").write_text(yaml.safe_dump(advisory))
    return fallback.Snapshot.load(folder)


def _audit(packages: list[tuple[str, str]], base: str, snap: Any = None) -> tuple[int, str]:
    report, unreachable = fallback.audit(packages, base, snap)
    return (1 if report.found else 0), fallback.render(report, unreachable, snap, len(packages))


# --- at the latest release: PyPI's live advisories -----------------------------------------


def test_a_live_vulnerability_of_the_installed_latest_release_fails(pypi: Any) -> None:
    base, projects = pypi
    projects["jinja2"] = _project(
        "3.1.6", [_vuln("GHSA-aaaa-bbbb-cccc", ["3.1.7"], aliases=["CVE-2099-1"])]
    )
    projects["anyio"] = _project("4.6.0")
    code, report = _audit([("Jinja2", "3.1.6"), ("anyio", "4.6.0")], base)
    assert code == 1
    assert "Jinja2 3.1.6: GHSA-aaaa-bbbb-cccc (CVE-2099-1), fixed in 3.1.7 [live]" in report
    assert "checked live against PyPI's advisories for their latest release: 2" in report
    assert "VULNERABLE: 1" in report


def test_withdrawn_live_advisories_are_ignored(pypi: Any) -> None:
    base, projects = pypi
    projects["anyio"] = _project(
        "4.6.0", [_vuln("GHSA-gone", ["4.6.1"], withdrawn="2025-01-01T00:00:00Z")]
    )
    code, report = _audit([("anyio", "4.6.0")], base)
    assert code == 0
    assert "GHSA-gone" not in report
    assert "no known vulnerability found" in report


# --- below the latest release: the snapshot ------------------------------------------------


@pytest.mark.parametrize(
    ("installed", "events", "versions", "fails"),
    [
        ("1.2.0", [{"introduced": "0"}, {"fixed": "1.2.1"}], [], True),
        ("1.2.1", [{"introduced": "0"}, {"fixed": "1.2.1"}], [], False),
        ("0.9", [{"introduced": "1.0"}, {"fixed": "1.2.1"}], [], False),
        ("1.1", [{"introduced": "0"}, {"last_affected": "1.1"}], [], True),
        ("1.1.1", [{"introduced": "0"}, {"last_affected": "1.1"}], [], False),
        (
            "1.5",
            [{"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "1.4"}, {"fixed": "1.6"}],
            [],
            True,
        ),
        (
            "1.3",
            [{"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "1.4"}, {"fixed": "1.6"}],
            [],
            False,
        ),
        ("1.0rc1", [], ["1.0rc1", "0.9"], True),
    ],
    ids=[
        "below-fix",
        "fixed",
        "before-introduced",
        "last-affected",
        "after-last-affected",
        "second-range",
        "between-ranges",
        "listed-version",
    ],
)
def test_a_snapshot_advisory_fails_on_an_affected_version_only(
    pypi: Any,
    tmp_path: Path,
    installed: str,
    events: list[dict[str, str]],
    versions: list[str],
    fails: bool,
) -> None:
    base, projects = pypi
    projects["pillow"] = _project("12.0.0")
    snap = _snapshot(
        tmp_path,
        ["pillow"],
        _advisory("PYSEC-2023-1", "Pillow", events, versions=versions, aliases=["CVE-2023-1"]),
    )
    code, report = _audit([("Pillow", installed)], base, snap)
    assert code == int(fails), report
    assert "snapshot of 2024-10-10 (OLD" in report
    assert (
        f"checked against the PyPA advisory snapshot of 2024-10-10 (OLD: nothing published since is in it; commit 3ccb612573e2): 1: Pillow {installed}"
        in report
    )
    assert ("PYSEC-2023-1 (CVE-2023-1)" in report) == fails


def test_withdrawn_snapshot_advisories_are_ignored(pypi: Any, tmp_path: Path) -> None:
    base, projects = pypi
    projects["pillow"] = _project("12.0.0")
    gone = _advisory(
        "PYSEC-2023-2",
        "pillow",
        [{"introduced": "0"}, {"fixed": "2"}],
        withdrawn="2023-11-08T00:54:24Z",
    )
    code, report = _audit([("pillow", "1.0")], base, _snapshot(tmp_path, ["pillow"], gone))
    assert code == 0
    assert "PYSEC-2023-2" not in report


@pytest.mark.parametrize(
    ("released", "still_listed", "fails", "said"),
    [
        ("2024-01-01", False, True, "no fix known on 2024-10-10, this release is older"),
        ("2025-06-01", True, True, "still listed against the latest release"),
        ("2025-06-01", False, False, "a fix since may or may not cover this version"),
    ],
    ids=["older-than-snapshot", "still-at-latest", "cannot-tell"],
)
def test_an_open_range_in_the_old_snapshot_is_resolved_with_the_live_data(
    pypi: Any, tmp_path: Path, released: str, still_listed: bool, fails: bool, said: str
) -> None:
    base, projects = pypi
    live = [_vuln("GHSA-open-open-open", [], aliases=["PYSEC-2024-9"])] if still_listed else []
    projects["numpy"] = _project("2.5.0", live, **{"2_4_0": released, "2_5_0": "2025-09-01"})
    snap = _snapshot(tmp_path, ["numpy"], _advisory("PYSEC-2024-9", "numpy", [{"introduced": "0"}]))
    code, report = _audit([("numpy", "2.4.0")], base, snap)
    assert code == int(fails), report
    assert said in report
    if not fails:
        assert "may affect the installed version (cannot tell from here; not failing): 1" in report


def test_a_live_vulnerability_of_a_later_release_may_affect_and_does_not_fail(
    pypi: Any, tmp_path: Path
) -> None:
    # PyPI's project JSON lists the latest release's vulnerabilities: which earlier releases
    # they affect, it does not say.
    base, projects = pypi
    projects["httpx"] = _project("1.2.0", [_vuln("GHSA-late-late-late", ["1.2.1"])])
    code, report = _audit([("httpx", "0.28.1")], base, _snapshot(tmp_path, ["httpx"]))
    assert code == 0
    assert (
        "httpx 0.28.1: GHSA-late-late-late, fixed in 1.2.1 [live: affects the latest release 1.2.0; PyPI does not say which earlier ones]"
        in report
    )


# --- what could not be checked --------------------------------------------------------------


def test_packages_that_cannot_be_checked_are_named(pypi: Any, tmp_path: Path) -> None:
    base, projects = pypi
    projects["numpy"] = _project("2.5.0")
    projects["jinja2"] = _project("3.1.6")
    code, report = _audit(
        [("numpy", "2.4.0"), ("jinja2", "3.1.2"), ("in-house", "1.0")],
        base,
        _snapshot(tmp_path, ["numpy"]),
    )
    assert code == 0
    assert (
        "could NOT be checked: 2; below its latest release, not in the snapshot: jinja2 3.1.2; "
        "not on PyPI: in-house 1.0" in report
    )
    code, report = _audit([("numpy", "2.4.0")], base, None)
    assert code == 0
    assert "no advisory snapshot on this machine" in report
    assert "could NOT be checked: 1; below its latest release, no advisory snapshot: all" in report
    assert "NOTHING was checked" in report


def test_an_unreachable_pypi_is_reported_and_does_not_fail(tmp_path: Path) -> None:
    code, report = _audit(
        [("anyio", "4.6.0"), ("numpy", "2.4.0")], _closed_url(), _snapshot(tmp_path, ["numpy"])
    )
    assert code == 0
    assert "PyPI could NOT be reached" in report
    assert "checked live against PyPI's advisories for their latest release: 0" in report
    assert "could NOT be checked: 1; PyPI unreachable, not in the snapshot: anyio 4.6.0" in report
    assert "checked against the PyPA advisory snapshot of 2024-10-10" in report
    assert "ci: no known vulnerability found in the packages checked" in report


def test_an_unreachable_pypi_still_fails_on_a_snapshot_advisory_with_a_fix(tmp_path: Path) -> None:
    # A version below a fix is vulnerable whatever the latest release is.
    snap = _snapshot(
        tmp_path,
        ["setuptools"],
        _advisory("PYSEC-2022-43012", "setuptools", [{"introduced": "0"}, {"fixed": "65.5.1"}]),
    )
    code, report = _audit([("setuptools", "65.5.0")], _closed_url(), snap)
    assert code == 1
    assert "PyPI could NOT be reached" in report
    assert "setuptools 65.5.0: PYSEC-2022-43012, fixed in 65.5.1 [snapshot]" in report


def test_the_script_reports_and_exits_0_when_pypi_is_unreachable(tmp_path: Path) -> None:
    # The whole script on this interpreter's packages, as .ci/run runs it.
    env = {"AUDIT_PYPI_URL": _closed_url(), "AUDIT_ADVISORIES": "", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "PyPI could NOT be reached" in done.stderr
    assert "no advisory snapshot on this machine" in done.stderr
    assert "could NOT be checked" in done.stderr
    assert "PyPI unreachable, no advisory snapshot: all" in done.stderr
    assert "ci: NOTHING was checked (above); not failing on that alone" in done.stderr
