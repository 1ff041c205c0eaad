"""Draws the PNG attached to digests: the five element indices, this period against the last.

The picture is made to be read on a phone (1080×1350 px, large type, one element per row with
its name above its bars) and labelled in the reader's language, Vietnamese by default.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Mapping
from datetime import date
from io import BytesIO

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from conversations import default_catalog, format_decimal
from conversations.catalog import LANGUAGES

from .sipas_index import Report

#: Bundled with matplotlib, so present on every server, and it has the Vietnamese glyphs
#: (precomposed letters such as "ả", "ố", "ự", "Đ"). Named on every text, never set in the
#: global rcParams, so rendering here changes nothing for other users of matplotlib.
FONT_FAMILY = "DejaVu Sans"

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 150

CURRENT_COLOR = "#1f5fa8"
PREVIOUS_COLOR = "#a9c4e0"
TEXT_COLOR = "#1a1a1a"
MUTED_COLOR = "#5f6368"

# A label inside the bar needs room: below this value it goes after the bar's end instead.
INSIDE_LABEL_MIN = 22.0
# Element names are wrapped to at most two lines of this many characters (at 12 pt bold a
# line across the picture holds about 60).
NAME_WRAP = 54

#: The chart's labels are catalog keys ``report.chart.*`` (conversations/catalogs/reports.*.yaml).
LABEL_PREFIX = "report.chart."

# matplotlib caches font objects and shares them between figures; drawing two charts at once
# from two threads (jobs run in a thread pool) could interleave their use, so renders queue.
_RENDER_LOCK = threading.Lock()


def element_chart(
    current: Report,
    previous: Report | None,
    *,
    language: str = "vi",
    title: str | None = None,
) -> bytes:
    """The element indices of ``current`` (and of ``previous`` beside them) as PNG bytes.

    Element names come from ``current.names`` (build the report in the reader's language);
    the other labels follow ``language`` ("vi" or "en"; anything else reads as "vi").
    """
    lang = language if language in LANGUAGES else "vi"
    labels = default_catalog().section(lang, LABEL_PREFIX)
    with _RENDER_LOCK:
        fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)
        _draw(fig, current, previous, labels, lang, title or labels["title"])
        out = BytesIO()
        fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _draw(
    fig: Figure,
    current: Report,
    previous: Report | None,
    labels: Mapping[str, str],
    lang: str,
    title: str,
) -> None:
    fig.text(
        0.05,
        0.975,
        title,
        ha="left",
        va="top",
        fontsize=14.5,
        fontweight="bold",
        family=FONT_FAMILY,
        color=TEXT_COLOR,
        wrap=True,
    )
    fig.text(
        0.05,
        0.925,
        _overall_line(current, previous, labels, lang),
        ha="left",
        va="top",
        fontsize=12.5,
        family=FONT_FAMILY,
        color=TEXT_COLOR,
    )
    handles = [Patch(color=CURRENT_COLOR, label=f"{labels['current']}: {_period(current)}")]
    if previous is not None:
        handles.append(
            Patch(color=PREVIOUS_COLOR, label=f"{labels['previous']}: {_period(previous)}")
        )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.04, 0.895),
        frameon=False,
        prop={"family": FONT_FAMILY, "size": 11.5},
        handlelength=1.6,
        labelcolor=TEXT_COLOR,
    )

    elements = current.elements
    before = {e.code: e.index for e in previous.elements} if previous is not None else {}
    axes = fig.subplots(len(elements), 1, sharex=True, squeeze=False)[:, 0]
    fig.subplots_adjust(left=0.05, right=0.95, top=0.75, bottom=0.1, hspace=1.05)
    for ax, element in zip(axes, elements, strict=True):
        name = current.names.get(element.code, element.code)
        ax.set_title(
            "\n".join(_wrap(f"{element.code}. {name}")),
            loc="left",
            fontsize=12,
            fontweight="bold",
            family=FONT_FAMILY,
            color=TEXT_COLOR,
            pad=6,
        )
        rows: list[tuple[float | None, str]] = [(element.index, CURRENT_COLOR)]
        if previous is not None:
            rows.append((before.get(element.code), PREVIOUS_COLOR))
        _bars(ax, rows, labels["no_answers"], lang)

    bottom = axes[-1]
    bottom.tick_params(axis="x", labelbottom=True, labelsize=11, labelfontfamily=FONT_FAMILY)
    bottom.set_xlabel(labels["axis"], fontsize=11, family=FONT_FAMILY, color=MUTED_COLOR)
    if current.without_answers:
        fig.text(
            0.05,
            0.02,
            labels["left_out"],
            ha="left",
            va="bottom",
            fontsize=10,
            family=FONT_FAMILY,
            color=MUTED_COLOR,
            style="italic",
        )


def _bars(ax: Axes, rows: list[tuple[float | None, str]], no_answers: str, lang: str) -> None:
    """One horizontal bar per period, the current one on top, each labelled with its value."""
    # The current period sits on top (largest y) so it is read first.
    positions = [float(len(rows) - 1 - i) for i in range(len(rows))]
    for y, (value, color) in zip(positions, rows, strict=True):
        if value is None:
            ax.text(
                1.0,
                y,
                no_answers,
                ha="left",
                va="center",
                fontsize=11,
                style="italic",
                family=FONT_FAMILY,
                color=MUTED_COLOR,
            )
            continue
        ax.barh(y, value, height=0.78, color=color)
        label = f"{format_decimal(value, lang, 1)}%"
        inside = value >= INSIDE_LABEL_MIN
        # White on the dark current bar; dark text on the light previous bar and outside.
        text_color = "white" if inside and color == CURRENT_COLOR else TEXT_COLOR
        ax.text(
            value - 1.2 if inside else value + 1.2,
            y,
            label,
            ha="right" if inside else "left",
            va="center",
            fontsize=12,
            fontweight="bold",
            family=FONT_FAMILY,
            color=text_color,
        )
    ax.set_xlim(0, 100)
    # A lone bar (no previous period) keeps the slimmer look of a pair rather than a slab.
    ax.set_ylim(*((-1.0, 1.0) if len(rows) == 1 else (-0.6, len(rows) - 0.4)))
    ax.set_yticks([])
    ax.set_xticks(range(0, 101, 20))
    ax.tick_params(axis="x", labelbottom=False, length=0, colors=MUTED_COLOR)
    ax.grid(axis="x", color="#dadce0", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#9aa0a6")


def _overall_line(
    current: Report, previous: Report | None, labels: Mapping[str, str], lang: str
) -> str:
    now = _percent(current.index, labels, lang)
    if previous is None:
        return labels["overall"].format(current=now)
    return labels["overall_previous"].format(
        current=now, previous=_percent(previous.index, labels, lang)
    )


def _percent(value: float | None, labels: Mapping[str, str], lang: str) -> str:
    return labels["no_answers"] if value is None else f"{format_decimal(value, lang, 1)}%"


def _period(report: Report) -> str:
    return f"{_day(report.start)}–{_day(report.end)}"


def _day(d: date) -> str:
    return f"{d:%d/%m/%Y}"


def _wrap(text: str) -> list[str]:
    """At most two lines; a longer name ends in an ellipsis rather than pushing the bars down."""
    return textwrap.wrap(text, NAME_WRAP, max_lines=2, placeholder=" …") or [text]
