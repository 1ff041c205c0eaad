"""The export's own wordings (Vietnamese, English): sheet headings and labels that no
conversation uses. They are catalog keys ``report.xlsx.*`` (conversations/catalogs/
reports.*.yaml); statuses and categories come from the conversations' own keys, options from
the questionnaire."""

from __future__ import annotations

from conversations import default_catalog
from conversations.catalog import LANGUAGES

LABEL_PREFIX = "report.xlsx."


def export_language(language: str) -> str:
    """``language`` if the export can be written in it, else Vietnamese."""
    return language if language in LANGUAGES else "vi"


def export_labels(lang: str) -> dict[str, str]:
    """The export's headings and labels in ``lang``, keyed without the catalog prefix."""
    return default_catalog().section(lang, LABEL_PREFIX)
