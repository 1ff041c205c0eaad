"""Message catalogs (one YAML file per language) and rendering of replies into text."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .categories import categories
from .effects import Lines, Number, Params, ParamValue, Ref, Reply
from .numbers import format_decimal as format_decimal  # re-exported: its old home
from .questionnaire import METHODS
from .questionnaire import load as load_questionnaire

CATALOG_DIR = Path(__file__).parent / "catalogs"
REFERENCE_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")


class CatalogError(KeyError):
    """A key is missing from the reference catalog (a programmer error)."""


@dataclass(frozen=True, slots=True)
class Message:
    """A reply rendered in one language: what an adapter sends."""

    key: str
    text: str
    choices: tuple[tuple[str, str], ...] = ()
    #: The answer is awaited as a reply to this message; the input field's hint.
    placeholder: str = ""

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "text": self.text, "choices": [list(c) for c in self.choices]}

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Message:
        choices = raw.get("choices") or []
        assert isinstance(choices, list)
        return cls(
            key=str(raw["key"]),
            text=str(raw["text"]),
            choices=tuple((str(c[0]), str(c[1])) for c in choices),
        )


def catalog_files(lang: str) -> list[Path]:
    """The files of one language: ``<lang>.yaml`` then each ``<area>.<lang>.yaml`` by name.

    Areas (staff, law, input…) keep their sentences in their own file so that work on one
    area never edits another's lines.
    """
    return [CATALOG_DIR / f"{lang}.yaml", *sorted(CATALOG_DIR.glob(f"*.{lang}.yaml"))]


def _load_file(lang: str) -> dict[str, str]:
    """All keys of one language; a key defined in two files raises ``ValueError``."""
    merged: dict[str, str] = {}
    for path in catalog_files(lang):
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
        for key, value in raw.items():
            if str(key) in merged:
                raise ValueError(f"catalog key {key!r} defined twice ({path.name})")
            merged[str(key)] = str(value)
    return merged


@dataclass(frozen=True, slots=True)
class Catalog:
    """All sentences by language; a key missing in one language falls back to Vietnamese."""

    messages: Mapping[str, Mapping[str, str]]

    def text(self, lang: str, key: str) -> str:
        found = self.messages.get(lang, {}).get(key)
        if found is None:
            found = self.messages[REFERENCE_LANGUAGE].get(key)
        if found is None:
            raise CatalogError(key)
        return found

    def has(self, key: str) -> bool:
        return key in self.messages[REFERENCE_LANGUAGE]

    def section(self, lang: str, prefix: str) -> dict[str, str]:
        """Every key starting with ``prefix``, the prefix dropped, as text in ``lang``.

        For code that draws or writes its own labels (a chart, a spreadsheet) rather than
        rendering a reply; a key missing in ``lang`` reads in Vietnamese, as in ``text``."""
        return {
            key.removeprefix(prefix): self.text(lang, key)
            for key in self.messages[REFERENCE_LANGUAGE]
            if key.startswith(prefix)
        }

    def format(self, lang: str, key: str, params: Params = ()) -> str:
        template = self.text(lang, key)
        if not params:
            return template
        values = {name: self._value(lang, v) for name, v in params}
        return template.format_map(values)

    def _value(self, lang: str, value: ParamValue | Ref | Lines | Number) -> str:
        if isinstance(value, Number):
            shown = format_decimal(
                abs(value.value) if value.signed else value.value, lang, value.places
            )
            if value.signed:
                arrow = "▲" if value.value > 0 else "▼" if value.value < 0 else "="
                return f"{arrow} {shown}{value.suffix}"
            return shown + value.suffix
        if isinstance(value, Lines):
            return "\n".join(self.format(lang, r.key, r.params) for r in value.items)
        if isinstance(value, Ref):
            return self.text(lang, value.key)
        if isinstance(value, float):
            return format_decimal(value, lang)
        return str(value)

    def render(self, reply: Reply, lang: str) -> Message:
        hint = reply.placeholder
        return Message(
            key=reply.key,
            text=self.format(lang, reply.key, reply.params),
            choices=tuple(
                (c.id, self._choice_label(lang, c.label, c.params, c.selected))
                for c in reply.choices
            ),
            placeholder="" if hint is None else self.format(lang, hint.key, hint.params),
        )

    def _choice_label(
        self,
        lang: str,
        key: str,
        params: Params,
        selected: bool,
    ) -> str:
        label = self.format(lang, key, params)
        if selected:
            return self.format(lang, "survey.selected", (("label", label),))
        return label


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@cache
def default_catalog() -> Catalog:
    """The catalogs on disk merged with every questionnaire's texts (loaded once).

    Questionnaire keys carry their method (``sipas-1001/q.2.1``); the scale levels are shared
    and must read the same in every method, else ``ValueError``."""
    messages: dict[str, dict[str, str]] = {lang: _load_file(lang) for lang in LANGUAGES}
    for method in METHODS:
        for key, by_lang in load_questionnaire(method).texts.items():
            for lang, text in by_lang.items():
                if messages[lang].setdefault(key, text) != text:
                    raise ValueError(f"{method}: {key!r} differs from another method's")
    for found in categories():
        for lang, text in found.names.items():
            messages[lang][found.key] = text
    return Catalog(messages)
