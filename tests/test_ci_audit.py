"""CI's dependency audit (.ci/run, issue 10): known vulnerabilities found fail the run, after
their report; an advisory service that cannot be reached (offline here) does not, and says
so plainly; packages pip-audit could not look up are counted apart, and then CI's own check
(.ci/audit_fallback.py, tested in test_ci_audit_fallback.py) runs.

The audit section of .ci/run runs as it is, in bash with ``set -euo pipefail`` like the whole
script, with a stand-in ``pip-audit`` on PATH that prints a recorded output and exits with
pip-audit's status for it (1 when it found some or crashed). Nothing reaches the network: the
fallback is pointed at a closed port on 127.0.0.1, without an advisory snapshot.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / ".ci" / "run"
START = "# Known vulnerabilities in the installed dependencies"
END = "# README's test command"

NONE = "No known vulnerabilities found\n"
NONE_IGNORED = "No known vulnerabilities found, 1 ignored\n"
VULNERABLE = """\
Found 2 known vulnerabilities in 1 package
Name   Version ID                  Fix Versions
------ ------- ------------------- ------------
jinja2 3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3
jinja2 3.1.2   GHSA-h75v-3vvj-5mfj 3.1.4
"""
SKIPPED = """\
No known vulnerabilities found
Name      Skip Reason
--------- --------------------------------------------------------------------------
sipas-bot Dependency not found on PyPI and could not be audited: sipas-bot (0.1.0)
anyio     Dependency not found on PyPI and could not be audited: anyio (4.6.0)
"""
VULNERABLE_AND_SKIPPED = VULNERABLE + SKIPPED.split("\n", 1)[1]
UNREACHABLE = """\
Traceback (most recent call last):
  File "/ci/.venv-ci/bin/pip-audit", line 8, in <module>
    sys.exit(audit())
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max \
retries exceeded with url: /pypi/anyio/4.6.0/json (Caused by NameResolutionError("Failed to \
resolve 'pypi.org'"))
"""
FEED_UNREACHABLE = """\
Traceback (most recent call last):
  File "/ci/.venv-ci/bin/pip-audit", line 8, in <module>
pip_audit._service.interface.ConnectionError: Could not connect to PyPI's vulnerability feed
"""


def _audit_section() -> str:
    """The audit lines of .ci/run, without installing pip-audit (the stand-in is there)."""
    text = RUN.read_text(encoding="utf-8")
    section = text[text.index(START) : text.index(END)]
    lines = [ln for ln in section.splitlines() if not ln.startswith("python -m pip install")]
    return "set -euo pipefail\n" + "\n".join(lines) + "\necho ci: after the audit\n"


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _run_audit(tmp_path: Path, output: str, status: int) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "output.txt").write_text(output, encoding="utf-8")
    fake = bin_dir / "pip-audit"
    fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'output.txt'}'\nexit {status}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (bin_dir / "python").symlink_to(sys.executable)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AUDIT_PYPI_URL": f"http://127.0.0.1:{_closed_port()}/pypi",
        "AUDIT_ADVISORIES": "",
    }
    return subprocess.run(
        ["bash", "-c", _audit_section()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("output", "status", "fails", "said"),
    [
        (NONE, 0, False, "ci: pip-audit: No known vulnerabilities found"),
        (NONE_IGNORED, 0, False, "ci: pip-audit: No known vulnerabilities found"),
        (VULNERABLE, 1, True, "jinja2 3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3"),
        (VULNERABLE_AND_SKIPPED, 1, True, "ci: pip-audit found known vulnerabilities"),
        (SKIPPED, 0, False, "could NOT audit 2 packages"),
        (UNREACHABLE, 1, False, "NameResolutionError"),
        (FEED_UNREACHABLE, 1, False, "Could not connect to PyPI's vulnerability feed"),
        ("", 124, False, "could not finish (exit 124"),
    ],
    ids=[
        "none",
        "none-ignored",
        "vulnerable",
        "vulnerable-and-skipped",
        "skipped",
        "unreachable",
        "feed-unreachable",
        "timed-out",
    ],
)
def test_found_vulnerabilities_fail_the_run_and_the_network_alone_does_not(
    tmp_path: Path, output: str, status: int, fails: bool, said: str
) -> None:
    done = _run_audit(tmp_path, output, status)
    printed = done.stdout + done.stderr
    assert said in printed
    if fails:
        assert done.returncode != 0
        assert "ci: after the audit" not in printed
        # The whole report comes first, then the verdict.
        assert printed.index("GHSA-h75v-3vvj-5mfj") < printed.index("found known vulnerabilities")
    else:
        assert done.returncode == 0, printed
        assert "ci: after the audit" in printed
    if status != 0 and not fails:
        assert "could not finish" in printed
        assert "nothing was checked" in printed
    # CI's own check runs when pip-audit did not check every package, and only then; here it
    # reaches no PyPI, says so and does not fail the run.
    checked_all = output in (NONE, NONE_IGNORED)
    ran_fallback = "CI's own check, not pip-audit" in printed
    assert ran_fallback == (not fails and not checked_all)
    if ran_fallback:
        assert "PyPI could NOT be reached" in printed
        assert "no advisory snapshot on this machine" in printed


def _verdict_module() -> ModuleType:
    """.ci/audit_verdict.py, loaded by path (.ci is no package)."""
    path = Path(__file__).resolve().parents[1] / ".ci" / "audit_verdict.py"
    spec = importlib.util.spec_from_file_location("audit_verdict", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("installed", "said", "not_said"),
    [
        (2, "NOTHING was checked", "no vulnerability found"),
        (5, "no vulnerability found in the other 3", "NOTHING"),
        (None, "no vulnerability found in the rest", "NOTHING"),
    ],
    ids=["all-skipped", "some-skipped", "count-unknown"],
)
def test_a_run_that_audited_nothing_says_so(
    installed: int | None, said: str, not_said: str
) -> None:
    # pip-audit prints "No known vulnerabilities found" even when it skipped every package
    # (PyPI's per-version JSON answering 404 from here): the verdict must not read as a pass.
    module = _verdict_module()
    code, report = module.verdict(0, SKIPPED, installed)
    assert code == module.UNCHECKED
    assert said in report
    assert not_said not in report
