"""Message catalogs: every key used exists in Vietnamese, placeholders agree, English falls back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conversations import Reply, default_catalog
from conversations.catalog import Catalog, placeholders

ROOT = Path(__file__).resolve().parents[2]
CATALOG = default_catalog()
VI = CATALOG.messages["vi"]
EN = CATALOG.messages["en"]
_KEY = re.compile(
    r"""["']((?:common|menu|help|language|cancel|survey|receipt|console|admin|forget|choice|commands|dossier|cli)\.[a-z_.]+)["']"""
)


def _keys_used_in_code() -> set[str]:
    used: set[str] = set()
    for folder in ("conversations", "bot", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            used.update(_KEY.findall(path.read_text(encoding="utf-8")))
    return used


def test_every_key_used_in_code_is_in_vietnamese() -> None:
    used = _keys_used_in_code()
    assert len(used) > 40
    assert sorted(k for k in used if k not in VI) == []


def test_english_has_no_key_unknown_to_vietnamese() -> None:
    assert sorted(set(EN) - set(VI)) == []


@pytest.mark.parametrize("key", sorted(set(VI) & set(EN)))
def test_placeholders_match_across_languages(key: str) -> None:
    assert placeholders(VI[key]) == placeholders(EN[key])


def test_missing_english_falls_back_to_vietnamese_not_the_key() -> None:
    catalog = Catalog({"vi": {"a.b": "Xin chào {name}"}, "en": {}})
    assert catalog.format("en", "a.b", (("name", "Lan"),)) == "Xin chào Lan"


def test_vietnamese_sentences_carry_diacritics() -> None:
    text = CATALOG.render(Reply("survey.thanks", (("agency", "Sở Xây dựng"),)), "vi").text
    assert "Trân trọng cảm ơn" in text
    assert text.encode("utf-8").decode("utf-8") == text
    # A sentence written without its accents would read "Cam on" — catch that in the catalog.
    assert not [k for k, v in VI.items() if re.search(r"\b(Cam on|Ong/Ba|khong)\b", v)]


def test_decimal_comma_in_vietnamese_point_in_english() -> None:
    reply = Reply("survey.summary.line", (("name", "X"), ("count", 3), ("mean", 4.2)))
    assert CATALOG.render(reply, "vi").text == "• X: 3 tiêu chí, điểm trung bình 4,2/5"
    assert CATALOG.render(reply, "en").text == "• X: 3 criteria rated, average 4.2/5"


@pytest.mark.parametrize(("lang", "alias"), [("vi", 0), ("en", 1)])
def test_help_lists_every_citizen_command(lang: str, alias: int) -> None:
    from conversations.commands import COMMANDS

    text = CATALOG.render(Reply("help.text"), lang).text
    listed = {name: f"/{spellings[alias]}" in text for name, spellings in COMMANDS.items()}
    assert listed == {name: name != "start" for name in COMMANDS}  # /start is the menu itself


def test_area_files_merge_and_a_key_defined_twice_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import conversations.catalog as cat

    (tmp_path / "vi.yaml").write_text("a: một\n", encoding="utf-8")
    (tmp_path / "staff.vi.yaml").write_text("b: hai\n", encoding="utf-8")
    monkeypatch.setattr(cat, "CATALOG_DIR", tmp_path)
    assert cat._load_file("vi") == {"a": "một", "b": "hai"}
    (tmp_path / "law.vi.yaml").write_text("a: lại\n", encoding="utf-8")
    with pytest.raises(ValueError, match="defined twice"):
        cat._load_file("vi")
