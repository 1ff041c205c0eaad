"""CI's verdict on a pip-audit run: ``python .ci/audit_verdict.py STATUS LOG``.

STATUS is pip-audit's exit status (124 when ``timeout`` stopped it), LOG the file holding its
output (stdout and stderr together, the default columnar format). Prints one plain report on
stderr and exits:

- 1 when pip-audit found known vulnerabilities (its summary line "Found N known
  vulnerabilities …", whatever else went wrong): the whole report is printed first;
- 0 when it audited every package and found none;
- 3 (UNCHECKED) when it found none but could NOT audit some packages (a package unknown to
  the advisory service, or a mirror answering 404 for it), saying how many out of how many
  are installed: "none found" covers only the rest, and when it could audit none of them the
  report says that nothing was checked (from this workplace PyPI's per-version JSON answers
  404, so every package is skipped and pip-audit still prints "No known vulnerabilities
  found");
- 3 too when it could not finish (the advisory service unreachable; a timeout): the last
  lines say why nothing was checked.

On 3 .ci/run runs its own check, .ci/audit_fallback.py; the network alone fails nothing.

Standard library only: it runs in CI's fresh virtualenv before anything else is trusted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

#: pip-audit's summary when it found some: "Found 1 known vulnerability in 1 package",
#: "Found 3 known vulnerabilities, 1 ignored in 2 packages".
FOUND = re.compile(r"^Found \d+ known vulnerabilit(?:y|ies)\b", re.MULTILINE)
#: Its summary when it found none (", N ignored" may follow).
NONE_FOUND = "No known vulnerabilities found"
#: The skip reason of each package it could not look up (one table row per package).
NOT_AUDITED = "could not be audited"
#: Lines shown when the audit could not finish.
TAIL_LINES = 5
#: The exit status when pip-audit did not check every package.
UNCHECKED = 3


def installed_count() -> int | None:
    """How many non-editable distributions this interpreter has (what pip-audit
    ``--skip-editable`` audits), or None when pip cannot say."""
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "list", "--format=freeze", "--exclude-editable"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(1 for line in listed.stdout.splitlines() if "==" in line)


def verdict(status: int, log: str, installed: int | None = None) -> tuple[int, str]:
    """The exit code and the report for a pip-audit run that ended with ``status`` and
    printed ``log``; ``installed`` is how many packages it was to audit (None: unknown)."""
    if FOUND.search(log):
        return 1, (
            f"{log.rstrip()}\n"
            "ci: pip-audit found known vulnerabilities (above): update those dependencies"
        )
    if status == 0 and NONE_FOUND in log:
        skipped = sum(NOT_AUDITED in line for line in log.splitlines())
        if skipped and installed is not None and skipped >= installed:
            return UNCHECKED, (
                f"ci: pip-audit could NOT audit {skipped} packages, all of them (vulnerability "
                "service unreachable or packages unknown to it): NOTHING was checked, "
                "whatever its 'No known vulnerabilities found' says"
            )
        if skipped:
            rest = f"the other {installed - skipped}" if installed is not None else "the rest"
            return UNCHECKED, (
                f"ci: pip-audit could NOT audit {skipped} packages (vulnerability service "
                f"unreachable or package unknown to it); no vulnerability found in {rest}"
            )
        return 0, f"ci: pip-audit: {NONE_FOUND}"
    tail = "\n".join(log.rstrip().splitlines()[-TAIL_LINES:])
    return UNCHECKED, (
        f"ci: pip-audit could not finish (exit {status}; advisory service unreachable?), "
        f"nothing was checked; its last lines:\n{tail}"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: audit_verdict.py STATUS LOG", file=sys.stderr)
        return 2
    log = Path(argv[1]).read_text(encoding="utf-8", errors="replace")
    code, report = verdict(int(argv[0]), log, installed_count())
    print(report, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
