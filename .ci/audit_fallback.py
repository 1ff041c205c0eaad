"""CI's own dependency audit, run by .ci/run when pip-audit could not check every package:
``python .ci/audit_fallback.py``.

pip-audit asks PyPI for each installed version (``/pypi/NAME/VERSION/json``), which answers 404
from this workplace; the project's JSON (``/pypi/NAME/json``) answers. Its ``vulnerabilities``
list is the one of the LATEST release only, so each installed, non-editable distribution is
checked thus:

- at PyPI's latest release: against that list, live (withdrawn entries left out);
- below it (held back by a pin, or by the Python version): against a snapshot of the PyPA
  advisory database (OSV files: ECOSYSTEM ranges with introduced / fixed / last_affected
  events, and explicit ``versions`` lists). The snapshot is old and knows nothing published
  after its date. A range still open in it (no fix known then) is resolved with the live data:
  it affects the installed version when that release is older than the snapshot, or when the
  advisory is still listed against the latest release; otherwise nobody can tell from here,
  and it is reported as "may affect". A live vulnerability of the latest release that the
  snapshot does not hold is reported the same way: PyPI's project JSON does not say which
  earlier releases it affects (its ``fixed_in`` versions do not say when it was introduced).

Exits 1 only when a vulnerability found affects an installed version (after printing the
report), otherwise 0: a PyPI that cannot be reached (the snapshot is still read), packages that
could not be checked and "may affect" entries are said plainly and do not fail the run.

``AUDIT_PYPI_URL`` (default https://pypi.org/pypi) and ``AUDIT_ADVISORIES`` (a snapshot folder:
``snapshot.yaml`` with ``commit``, ``date`` and ``packages``, the names whose advisories it
holds, and ``vulns/NAME/*.yaml``) override where it looks; without ``AUDIT_ADVISORIES`` it reads
.ci/advisories, else ``shared/advisories`` beside the repository, else it has no snapshot.
Needs PyYAML and packaging (both in CI's virtualenv with the project's dev extra).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
PYPI = "https://pypi.org/pypi"
#: Seconds for one request to PyPI; the whole live look-up stops after TOTAL_SECONDS.
TIMEOUT = 8.0
TOTAL_SECONDS = 90.0
WORKERS = 8
#: Packages checked against the snapshot are named when there are at most this many.
NAMED = 12


def normalize(name: str) -> str:
    """PEP 503's form of a project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> list[tuple[str, str]]:
    """(name, version) of each distribution of this interpreter, editable installs left out
    (as pip-audit ``--skip-editable``: the project itself)."""
    found: dict[str, tuple[str, str]] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        direct = dist.read_text("direct_url.json")
        if direct:
            try:
                if json.loads(direct).get("dir_info", {}).get("editable"):
                    continue
            except ValueError:
                pass  # an unreadable direct_url.json: audited like any installed package
        found.setdefault(normalize(name), (name, dist.version))
    return sorted(found.values(), key=lambda nv: normalize(nv[0]))


# --- PyPI ---------------------------------------------------------------------------------


class Unreachable(Exception):
    """PyPI did not answer (connection, timeout, a server error)."""


def fetch_project(base: str, name: str) -> dict[str, Any] | None:
    """PyPI's JSON for project ``name``; None when it answers 404 (no such project)."""
    url = f"{base.rstrip('/')}/{normalize(name)}/json"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            data: dict[str, Any] = json.load(answer)
            return data
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise Unreachable(f"HTTP {error.code}") from error
    except (OSError, ValueError) as error:  # URLError, timeouts, a broken body
        raise Unreachable(str(getattr(error, "reason", error))) from error


@dataclass
class Live:
    """What PyPI said for one project: its data, None for 404, or why it could not say."""

    data: dict[str, Any] | None = None
    error: str | None = None


def fetch_all(base: str, names: list[str]) -> tuple[dict[str, Live], str | None]:
    """PyPI's answer for each name, and why PyPI is unreachable (None when it answered).

    One request first: when it fails for the network, none of the others is sent (no minute
    spent on timeouts). The rest go WORKERS at a time, all within TOTAL_SECONDS."""
    answers: dict[str, Live] = {}
    if not names:
        return answers, None
    try:
        answers[names[0]] = Live(data=fetch_project(base, names[0]))
    except Unreachable as error:
        return answers, str(error)

    def one(name: str) -> Live:
        try:
            return Live(data=fetch_project(base, name))
        except Unreachable as error:
            return Live(error=f"PyPI: {error}")

    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {name: pool.submit(one, name) for name in names[1:]}
    deadline = time.monotonic() + TOTAL_SECONDS
    for name, future in futures.items():
        try:
            answers[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FuturesTimeout:
            answers[name] = Live(error="no answer in time")
    pool.shutdown(wait=False, cancel_futures=True)
    return answers, None


def live_vulnerabilities(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest release's vulnerabilities, withdrawn ones left out."""
    return [v for v in data.get("vulnerabilities") or [] if not v.get("withdrawn")]


def released_on(data: dict[str, Any], version: str) -> date | None:
    """The day the first file of ``version`` was uploaded to PyPI, if it says."""
    for key, files in (data.get("releases") or {}).items():
        if _same(key, version):
            days = [f.get("upload_time_iso_8601") or f.get("upload_time") for f in files]
            days = [d for d in days if d]
            return (
                min(datetime.fromisoformat(d.replace("Z", "+00:00")).date() for d in days)
                if days
                else None
            )
    return None


# --- The advisory snapshot ----------------------------------------------------------------


@dataclass
class Snapshot:
    """The PyPA advisory database as vendored: when, for which packages, the advisories."""

    folder: Path
    commit: str
    date: date
    packages: set[str]

    @classmethod
    def load(cls, folder: Path) -> Snapshot | None:
        index = folder / "snapshot.yaml"
        if not index.is_file():
            return None
        meta = yaml.safe_load(index.read_text(encoding="utf-8")) or {}
        day = meta.get("date")
        return cls(
            folder=folder,
            commit=str(meta.get("commit", "?")),
            date=day if isinstance(day, date) else date.fromisoformat(str(day)),
            packages={normalize(p) for p in meta.get("packages") or []},
        )

    def advisories(self, name: str) -> Iterator[dict[str, Any]]:
        """The advisories (not withdrawn) that name ``name`` as an affected PyPI package."""
        for folder in (self.folder / "vulns").iterdir() if (self.folder / "vulns").is_dir() else ():
            if normalize(folder.name) != normalize(name):
                continue
            for path in sorted(folder.glob("*.yaml")):
                advisory = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                if not advisory.get("withdrawn"):
                    yield advisory


def default_snapshot_folder() -> Path | None:
    chosen = os.environ.get("AUDIT_ADVISORIES")
    if chosen is not None:
        return Path(chosen) if chosen else None
    for folder in (ROOT / ".ci" / "advisories", ROOT.parent / "shared" / "advisories"):
        if (folder / "snapshot.yaml").is_file():
            return folder
    return None


def _version(text: str) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _same(a: str, b: str) -> bool:
    va, vb = _version(a), _version(b)
    return va == vb if va is not None and vb is not None else str(a) == str(b)


def affects(advisory: dict[str, Any], name: str, version: str) -> str | None:
    """Whether an OSV advisory covers ``version`` of ``name``: "listed" (in an explicit
    ``versions`` list), "range" (inside a range closed by a fixed or last_affected event),
    "open" (inside a range with no fix known to the advisory), or None."""
    installed_version = _version(version)
    verdict: str | None = None
    for entry in advisory.get("affected") or []:
        package = entry.get("package") or {}
        if package.get("ecosystem") != "PyPI" or normalize(package.get("name", "")) != normalize(
            name
        ):
            continue
        if any(_same(v, version) for v in entry.get("versions") or []):
            return "listed"
        if installed_version is None:
            continue
        for span in entry.get("ranges") or []:
            if span.get("type") != "ECOSYSTEM":
                continue
            found = _in_range(span.get("events") or [], installed_version)
            if found == "range":
                return "range"
            verdict = verdict or found
    return verdict


def _in_range(events: Iterable[dict[str, Any]], v: Version) -> str | None:
    """OSV's walk over one ECOSYSTEM range's events, in version order."""
    keyed: list[tuple[Version, str]] = []
    for event in events:
        for kind in ("introduced", "fixed", "last_affected"):
            if kind in event:
                at = Version("0") if str(event[kind]) == "0" else _version(event[kind])
                if at is not None:
                    keyed.append((at, kind))
    keyed.sort(key=lambda e: (e[0], e[1] != "introduced"))
    affected = False
    for at, kind in keyed:
        if kind == "introduced" and v >= at:
            affected = True
        elif (kind == "fixed" and v >= at) or (kind == "last_affected" and v > at):
            affected = False
    if not affected:
        return None
    closed = any(
        (kind == "fixed" and at > v) or (kind == "last_affected" and at >= v) for at, kind in keyed
    )
    return "range" if closed else "open"


def fixes(advisory: dict[str, Any], name: str) -> list[str]:
    return [
        str(event["fixed"])
        for entry in advisory.get("affected") or []
        if normalize((entry.get("package") or {}).get("name", "")) == normalize(name)
        for span in entry.get("ranges") or []
        if span.get("type") == "ECOSYSTEM"
        for event in span.get("events") or []
        if "fixed" in event
    ]


# --- The audit ----------------------------------------------------------------------------


@dataclass
class Finding:
    name: str
    version: str
    ident: str
    aliases: list[str]
    fixed_in: list[str]
    source: str  # "live", "snapshot"
    why: str = ""

    def line(self) -> str:
        also = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fix = f", fixed in {', '.join(self.fixed_in)}" if self.fixed_in else ", no fix known"
        why = f": {self.why}" if self.why else ""
        return f"  {self.name} {self.version}: {self.ident}{also}{fix} [{self.source}{why}]"


@dataclass
class Report:
    live: list[str] = field(default_factory=list)
    snapshot: list[str] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)  # (package, why)
    found: list[Finding] = field(default_factory=list)
    maybe: list[Finding] = field(default_factory=list)


def _ids(entry: dict[str, Any]) -> set[str]:
    return {str(entry.get("id"))} | {str(a) for a in entry.get("aliases") or []}


def _check_snapshot(
    report: Report,
    snap: Snapshot,
    name: str,
    version: str,
    data: dict[str, Any] | None,
) -> None:
    """One package below PyPI's latest (or PyPI unreachable: ``data`` None) against the
    snapshot, each open range resolved with the live data when there is some."""
    latest = live_vulnerabilities(data) if data else []
    latest_ids = set().union(*(_ids(v) for v in latest)) if latest else set()
    released = released_on(data, version) if data else None
    seen: set[str] = set()
    for advisory in snap.advisories(name):
        how = affects(advisory, name, version)
        if how is None:
            continue
        seen |= _ids(advisory)
        finding = Finding(
            name,
            version,
            str(advisory.get("id")),
            list(advisory.get("aliases") or []),
            fixes(advisory, name),
            "snapshot",
        )
        if how != "open":
            report.found.append(finding)
        elif _ids(advisory) & latest_ids:
            finding.why = "no fix in the snapshot, still listed against the latest release"
            report.found.append(finding)
        elif released is not None and released <= snap.date:
            finding.why = f"no fix known on {snap.date}, this release is older"
            report.found.append(finding)
        else:
            finding.why = (
                f"no fix known on {snap.date}; a fix since may or may not cover this version"
            )
            report.maybe.append(finding)
    for vuln in latest:
        if not _ids(vuln) & seen:
            report.maybe.append(_live_finding(name, version, vuln, data, "affects the latest"))


def _live_finding(
    name: str, version: str, vuln: dict[str, Any], data: dict[str, Any] | None, why: str
) -> Finding:
    latest = (data or {}).get("info", {}).get("version", "?")
    return Finding(
        name,
        version,
        str(vuln.get("id")),
        list(vuln.get("aliases") or []),
        [str(f) for f in vuln.get("fixed_in") or []],
        "live",
        f"{why} release {latest}; PyPI does not say which earlier ones" if why else "",
    )


def audit(
    packages: list[tuple[str, str]], base: str, snap: Snapshot | None
) -> tuple[Report, str | None]:
    """Checks each (name, version); returns the report and why PyPI was unreachable."""
    answers, unreachable = fetch_all(base, [name for name, _ in packages])
    report = Report()
    for name, version in packages:
        label = f"{name} {version}"
        answer = answers.get(name) if unreachable is None else Live(error="PyPI unreachable")
        assert answer is not None
        data = answer.data
        if answer.error is None and data is None:
            report.unchecked.append((label, "not on PyPI"))
            continue
        latest = (data or {}).get("info", {}).get("version")
        if data is not None and latest is not None and _same(version, latest):
            report.live.append(label)
            for vuln in live_vulnerabilities(data):
                report.found.append(_live_finding(name, version, vuln, data, ""))
            continue
        if snap is None or normalize(name) not in snap.packages:
            where = "no advisory snapshot" if snap is None else "not in the snapshot"
            first = answer.error if answer.error is not None else "below its latest release"
            report.unchecked.append((label, f"{first}, {where}"))
            for vuln in live_vulnerabilities(data or {}):
                report.maybe.append(_live_finding(name, version, vuln, data, "affects the latest"))
            continue
        report.snapshot.append(label)
        _check_snapshot(report, snap, name, version, data)
    return report, unreachable


def render(report: Report, unreachable: str | None, snap: Snapshot | None, total: int) -> str:
    lines = [f"ci: dependency audit of {total} installed packages (CI's own check, not pip-audit):"]
    if unreachable is not None:
        lines.append(f"  PyPI could NOT be reached ({unreachable}): nothing was checked live")
    lines.append(
        f"  checked live against PyPI's advisories for their latest release: {len(report.live)}"
    )
    if snap is not None:
        shown = 0 < len(report.snapshot) <= NAMED
        names = f": {', '.join(report.snapshot)}" if shown else ""
        lines.append(
            f"  checked against the PyPA advisory snapshot of {snap.date} (OLD: nothing "
            f"published since is in it; commit {snap.commit[:12]}): {len(report.snapshot)}{names}"
        )
    else:
        lines.append(
            "  no advisory snapshot on this machine: packages below their latest release "
            "are not checked"
        )
    reasons: dict[str, list[str]] = {}
    for label, why in report.unchecked:
        reasons.setdefault(why, []).append(label)
    groups = [
        f"{why}: {'all' if len(labels) == total else ', '.join(labels)}"
        for why, labels in reasons.items()
    ]
    lines.append(
        f"  could NOT be checked: {len(report.unchecked)}" + "".join(f"; {g}" for g in groups)
    )
    if report.maybe:
        lines.append(
            "  may affect the installed version (cannot tell from here; not failing): "
            f"{len(report.maybe)}"
        )
        lines.extend(f.line() for f in report.maybe)
    if report.found:
        lines.append(f"  VULNERABLE: {len(report.found)}")
        lines.extend(f.line() for f in report.found)
        lines.append(
            "ci: known vulnerabilities in installed packages (above): update those dependencies"
        )
    elif not report.live and not report.snapshot:
        lines.append("ci: NOTHING was checked (above); not failing on that alone")
    else:
        lines.append("ci: no known vulnerability found in the packages checked")
    return "\n".join(lines)


def main() -> int:
    try:
        folder = default_snapshot_folder()
        snap = Snapshot.load(folder) if folder is not None else None
        packages = installed()
        report, unreachable = audit(packages, os.environ.get("AUDIT_PYPI_URL", PYPI), snap)
        print(render(report, unreachable, snap, len(packages)), file=sys.stderr)
        return 1 if report.found else 0
    except Exception:  # a fault of this script must show, and not pass for a finding
        traceback.print_exc()
        print("ci: the dependency audit broke (above): nothing was checked", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
