"""The chart's and the export's labels live in the catalog (reports.*.yaml): each in both
languages, read back by prefix."""

from __future__ import annotations

import pytest

from conversations import default_catalog
from conversations.catalog import Catalog
from jobs.chart import LABEL_PREFIX as CHART
from jobs.export_dossiers import LABEL_PREFIX as DOSSIERS
from jobs.export_dossiers import dossier_labels
from jobs.export_labels import LABEL_PREFIX as XLSX
from jobs.export_labels import export_labels

MESSAGES = default_catalog().messages


@pytest.mark.parametrize("prefix", [CHART, XLSX, DOSSIERS])
def test_every_label_has_its_english(prefix: str) -> None:
    vi = {k for k in MESSAGES["vi"] if k.startswith(prefix)}
    en = {k for k in MESSAGES["en"] if k.startswith(prefix)}
    assert vi
    assert vi == en


def test_a_section_drops_its_prefix_and_falls_back_to_vietnamese() -> None:
    catalog = Catalog({"vi": {"a.b.c": "một", "a.b.d": "hai", "a.x": "ba"}, "en": {"a.b.c": "one"}})
    assert catalog.section("en", "a.b.") == {"c": "one", "d": "hai"}


@pytest.mark.parametrize(
    ("language", "sheet", "dossiers"),
    [
        ("vi", "Chỉ số SIPAS", "Hồ sơ"),
        ("en", "SIPAS indices", "Dossiers"),
        ("fr", "Chỉ số SIPAS", "Hồ sơ"),
    ],
)
def test_labels_are_read_in_the_export_language(language: str, sheet: str, dossiers: str) -> None:
    assert export_labels("vi" if language == "fr" else language)["sheet.index"] == sheet
    assert dossier_labels(language)["sheet"] == dossiers
