"""What the digest and report messages say: titles, weakest criteria, counts (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from conversations import default_catalog
from conversations.periods import DigestKind, Period
from jobs.digest import CaseSummary, build_digest
from jobs.sipas_index import compute

CATALOG = default_catalog()
AGENCY = "Sở Xây dựng"

# kind, first day, last day: the digest of a whole period, or of one still running.
TITLES: list[tuple[DigestKind, date, date, str, str]] = [
    ("daily", date(2026, 11, 5), date(2026, 11, 5),
     "BẢN TIN NGÀY 05/11/2026", "DAILY DIGEST 05/11/2026"),
    ("weekly", date(2026, 11, 2), date(2026, 11, 8),
     "BẢN TIN TUẦN 02/11–08/11/2026", "WEEKLY DIGEST 02/11–08/11/2026"),
    ("weekly", date(2026, 12, 28), date(2027, 1, 3),
     "BẢN TIN TUẦN 28/12/2026–03/01/2027", "WEEKLY DIGEST 28/12/2026–03/01/2027"),
    ("weekly", date(2026, 11, 2), date(2026, 11, 4),
     "BẢN TIN TUẦN 02/11–08/11/2026 (số liệu đến hết 04/11/2026)",
     "WEEKLY DIGEST 02/11–08/11/2026 (figures to 04/11/2026)"),
    ("monthly", date(2026, 11, 1), date(2026, 11, 30),
     "BẢN TIN THÁNG 11/2026", "MONTHLY DIGEST 11/2026"),
    # On the 1st, the month so far is a single day: the title still names the month.
    ("monthly", date(2026, 11, 1), date(2026, 11, 1),
     "BẢN TIN THÁNG 11/2026 (số liệu đến hết 01/11/2026)",
     "MONTHLY DIGEST 11/2026 (figures to 01/11/2026)"),
    ("monthly", date(2026, 2, 1), date(2026, 2, 28),
     "BẢN TIN THÁNG 02/2026", "MONTHLY DIGEST 02/2026"),
    ("halfyear", date(2026, 1, 1), date(2026, 6, 30),
     "BÁO CÁO 6 THÁNG ĐẦU NĂM 2026", "SIX-MONTH REPORT, JANUARY–JUNE 2026"),
    ("halfyear", date(2026, 7, 1), date(2026, 12, 31),
     "BÁO CÁO 6 THÁNG CUỐI NĂM 2026", "SIX-MONTH REPORT, JULY–DECEMBER 2026"),
    ("yearly", date(2026, 1, 1), date(2026, 12, 31),
     "BÁO CÁO NĂM 2026", "ANNUAL REPORT 2026"),
    ("yearly", date(2026, 1, 1), date(2026, 3, 15),
     "BÁO CÁO NĂM 2026 (số liệu đến hết 15/03/2026)", "ANNUAL REPORT 2026 (figures to 15/03/2026)"),
]  # fmt: skip


def title(kind: DigestKind, start: date, end: date, lang: str) -> str:
    report = compute({}, start=start, end=end, completed=0, partial=0)
    reply = build_digest(kind, Period(start, end), report, None, CaseSummary(), AGENCY)
    return CATALOG.render(reply, lang).text.split("\n")[0]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_digest_title_names_its_period(lang: str) -> None:
    # The whole table at once: a dict diff shows every title that is wrong.
    got = {(k, s, e): title(k, s, e, lang) for k, s, e, _, _ in TITLES}
    wanted = {(k, s, e): f"{vi if lang == 'vi' else en} — {AGENCY}" for k, s, e, vi, en in TITLES}
    assert got == wanted
