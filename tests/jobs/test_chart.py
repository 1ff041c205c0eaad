"""The digest chart: a phone-sized PNG whose Vietnamese labels are drawn with real glyphs.

The texts a chart draws are captured at the Agg renderer, so the tests check what is on the
picture (wordings, "84,1%"-style numbers, dates) and that the font used for each text has a
glyph for each of its letters, rather than trusting a font name.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from datetime import date
from io import BytesIO
from pathlib import Path

import matplotlib
import pytest
from matplotlib.backend_bases import GraphicsContextBase
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from PIL import Image

from conversations import load_questionnaire
from jobs.chart import CURRENT_COLOR, FONT_FAMILY, PREVIOUS_COLOR, element_chart
from jobs.sipas_index import Report, compute

#: These tests build reports from hand-made counts of the 2640 criteria (22).
Q2640 = load_questionnaire("sipas-2640")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VIETNAMESE_LETTERS = "ảốựĐ"


def levels(code: str, n1: int, n2: int, n3: int, n4: int, n5: int) -> dict[tuple[str, str], int]:
    return {(code, str(v)): n for v, n in enumerate((n1, n2, n3, n4, n5), start=1) if n}


def report(
    *,
    start: date = date(2026, 3, 2),
    end: date = date(2026, 3, 8),
    element5: bool = True,
    satisfied: int = 8,
    language: str = "vi",
) -> Report:
    """Every criterion answered by 10 people, ``satisfied`` of them at level 4 or 5."""
    counts: dict[tuple[str, str], int] = {}
    criteria = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5"]
    criteria += ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "4.1", "4.2", "4.3"]
    if element5:
        criteria += ["5.1", "5.2", "5.3", "5.4"]
    for code in criteria:
        counts.update(levels(code, 0, 10 - satisfied, 0, satisfied, 0))
    for element in ("1", "2", "3", "4", "5") if element5 else ("1", "2", "3", "4"):
        counts[(f"E{element}", "answered")] = 10
    counts[("E*", "answered")] = 10
    return compute(
        counts,
        start=start,
        end=end,
        completed=10,
        partial=1,
        language=language,
        questionnaire=Q2640,
    )


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, FontProperties]]:
    """Every text the Agg renderer draws, with the font properties it was drawn with."""
    texts: list[tuple[str, FontProperties]] = []
    original: Callable[..., None] = RendererAgg.draw_text

    def spy(
        self: RendererAgg,
        gc: GraphicsContextBase,
        x: float,
        y: float,
        s: str,
        prop: FontProperties,
        angle: float,
        ismath: bool | str = False,
        mtext: Text | None = None,
    ) -> None:
        texts.append((s, prop.copy()))
        original(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    monkeypatch.setattr(RendererAgg, "draw_text", spy)
    return texts


def image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_MAGIC)
    img = Image.open(BytesIO(png))
    img.load()
    return img


def pixels_of(img: Image.Image, hex_color: str) -> int:
    rgb = tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    colors = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    return sum(n for n, c in colors if c == rgb)


def test_a_phone_sized_png_is_produced() -> None:
    png = element_chart(report(satisfied=8), report(satisfied=7, start=date(2026, 2, 23)))

    img = image(png)
    assert img.format == "PNG"
    width, height = img.size
    assert 900 <= width <= 1440, "a phone shows about 1080 px across"
    assert 1100 <= height <= 1800
    assert height > width, "portrait reads best in a chat on a phone"
    assert 20_000 <= len(png) <= 1_000_000


def test_labels_are_vietnamese_with_decimal_commas(
    drawn: list[tuple[str, FontProperties]],
) -> None:
    current = report(satisfied=8)  # 80% everywhere
    previous = report(satisfied=7, start=date(2026, 2, 23), end=date(2026, 3, 1))

    element_chart(current, previous)

    texts = [s for s, _ in drawn]
    joined = "\n".join(texts)
    assert "Chỉ số hài lòng chung: 80,0% (kỳ trước: 70,0%)" in texts
    assert "Kỳ này: 02/03/2026–08/03/2026" in texts
    assert "Kỳ trước: 23/02/2026–01/03/2026" in texts
    assert texts.count("80,0%") == 5
    assert texts.count("70,0%") == 5
    assert "1. Tiếp cận dịch vụ hành chính công" in texts
    # The longest element name still fits; none is cut short.
    assert "5. Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị" in joined.replace("\n", " ")
    assert "…" not in joined
    assert "80.0" not in joined, "Vietnamese writes a decimal comma"
    assert "chưa có đánh giá" not in texts


def test_works_without_a_previous_period(drawn: list[tuple[str, FontProperties]]) -> None:
    png = element_chart(report(satisfied=9), None)

    texts = [s for s, _ in drawn]
    assert "Chỉ số hài lòng chung: 90,0%" in texts
    assert not any(t.startswith("Kỳ trước") for t in texts)
    img = image(png)
    assert pixels_of(img, CURRENT_COLOR) > 10_000
    assert pixels_of(img, PREVIOUS_COLOR) == 0


def test_an_element_without_answers_says_so_instead_of_a_bar(
    drawn: list[tuple[str, FontProperties]],
) -> None:
    without_5 = element_chart(report(element5=False), report(start=date(2026, 2, 23)))
    with_5 = element_chart(report(), report(start=date(2026, 2, 23)))

    texts = [s for s, _ in drawn]
    assert texts.count("chưa có đánh giá") == 1
    assert "Yếu tố chưa có đánh giá không được tính vào chỉ số chung." in texts
    # One bar fewer in the current period's colour; the previous period's bars are all there.
    bar_without, bar_with = (pixels_of(image(p), CURRENT_COLOR) for p in (without_5, with_5))
    assert bar_without < bar_with * 0.9
    assert pixels_of(image(without_5), PREVIOUS_COLOR) == pixels_of(image(with_5), PREVIOUS_COLOR)


def test_a_period_without_any_answer_still_draws(drawn: list[tuple[str, FontProperties]]) -> None:
    empty = compute(
        {},
        start=date(2026, 3, 2),
        end=date(2026, 3, 8),
        completed=0,
        partial=0,
        questionnaire=Q2640,
    )

    png = element_chart(empty, None)

    texts = [s for s, _ in drawn]
    assert "Chỉ số hài lòng chung: chưa có đánh giá" in texts
    assert texts.count("chưa có đánh giá") == 5
    assert pixels_of(image(png), CURRENT_COLOR) < 5_000  # the legend's patch only


def test_english_labels(drawn: list[tuple[str, FontProperties]]) -> None:
    element_chart(
        report(satisfied=8, language="en"),
        report(element5=False, start=date(2026, 2, 23), end=date(2026, 3, 1), language="en"),
        language="en",
        title="Department of Construction — March 2026",
    )

    texts = [s for s, _ in drawn]
    assert "Department of Construction — March 2026" in texts
    assert "Overall index: 80.0% (previous period: 80.0%)" in texts
    assert "This period: 02/03/2026–08/03/2026" in texts
    assert "1. Access to public administrative services" in texts
    assert "no ratings yet" in texts
    assert texts.count("80.0%") == 9


def test_the_font_has_the_vietnamese_glyphs() -> None:
    for weight in ("normal", "bold"):
        path = findfont(
            FontProperties(family=FONT_FAMILY, weight=weight), fallback_to_default=False
        )
        assert "DejaVuSans" in Path(path).name
        charmap = FT2Font(path).get_charmap()
        missing = [ch for ch in VIETNAMESE_LETTERS if ord(ch) not in charmap]
        assert not missing, f"{path} lacks {missing}"


def test_every_letter_drawn_has_a_glyph_in_the_font_used(
    drawn: list[tuple[str, FontProperties]],
) -> None:
    title = "Sở Xây dựng — Bản tin tháng: ảốựĐ"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        element_chart(report(element5=False), report(), title=title)

    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert title in [s for s, _ in drawn]
    glyphs: dict[str, set[int]] = {}
    for text, prop in drawn:
        path = findfont(prop, fallback_to_default=False)
        assert "DejaVuSans" in Path(path).name, f"{text!r} drawn with {path}"
        charmap = glyphs.setdefault(path, set(FT2Font(path).get_charmap()))
        missing = {ch for ch in text if not ch.isspace() and ord(ch) not in charmap}
        assert not missing, f"{text!r}: no glyph for {missing} in {path}"
    drawn_letters = "".join(s for s, _ in drawn)
    assert all(ch in drawn_letters for ch in VIETNAMESE_LETTERS)


def test_the_png_can_be_saved_and_read_back(tmp_path: Path) -> None:
    target = tmp_path / "chart.png"

    target.write_bytes(element_chart(report(), report(satisfied=6), title="Bản tin tuần"))

    with Image.open(target) as img:
        assert img.format == "PNG"
        assert img.mode in ("RGB", "RGBA")
        assert img.size == (1080, 1350)


def test_global_matplotlib_settings_are_left_alone() -> None:
    before = dict(matplotlib.rcParams)

    element_chart(report(), None)

    assert dict(matplotlib.rcParams) == before


def test_charts_drawn_from_several_threads_at_once() -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def draw(satisfied: int) -> None:
        try:
            results.append(element_chart(report(satisfied=satisfied), report()))
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=draw, args=(n,)) for n in (5, 6, 7, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert len(results) == 4
    assert all(image(png).size == (1080, 1350) for png in results)
