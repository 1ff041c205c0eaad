"""The web chat's HTML: the chat page (also inside the widget's frame), the counter kiosk,
the kiosk's PIN page, and the widget script. Every label comes from ``labels/*.yaml``."""

from __future__ import annotations

import hashlib
import html
import json
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from conversations import Catalog

LABELS_DIR = Path(__file__).parent / "labels"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static/chat"
LANGUAGES = ("vi", "en")

Mode = Literal["chat", "embed", "kiosk", "pin"]


@cache
def labels() -> Catalog:
    """The page's labels by language; a label missing in English falls back to Vietnamese."""
    messages: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        with (LABELS_DIR / f"{lang}.yaml").open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
        messages[lang] = {str(k): str(v) for k, v in raw.items()}
    return Catalog(messages)


def label_table(agency: str) -> dict[str, dict[str, str]]:
    """Every label in both languages, placeholders other than the agency left for the page."""
    catalog = labels()
    table: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        table[lang] = {
            key: catalog.text(lang, key).replace("{agency}", agency)
            for key in catalog.messages["vi"]
        }
    return table


@cache
def asset(name: str) -> str:
    """A static file's address with its content hash, so a new version is never cached."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PATH}/{name}?v={digest}"


def _json_for_html(value: object) -> str:
    """JSON inside a <script type="application/json">: nothing in it can close the tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Html:
    """Labelled elements in one language; ``data-label`` lets the page switch language."""

    def __init__(self, table: dict[str, dict[str, str]], lang: str) -> None:
        self.table = table
        self.lang = lang

    def t(self, key: str) -> str:
        return html.escape(self.table[self.lang][key])

    def el(self, tag: str, key: str, attrs: str = "") -> str:
        space = " " if attrs else ""
        return f'<{tag}{space}{attrs} data-label="{key}">{self.t(key)}</{tag}>'


def render_page(mode: Mode, lang: str, agency: str, csrf: str, *, idle_seconds: int = 120) -> str:
    """The whole page for ``mode``; the script reads its settings from ``data-`` attributes."""
    table = label_table(agency)
    lang = lang if lang in LANGUAGES else "vi"
    h = _Html(table, lang)
    t, el = h.t, h.el
    other = "en" if lang == "vi" else "vi"
    header = (
        '<header class="top"><div class="brand">'
        + el("h1", "web.title", 'id="title"')
        + el("p", "web.subtitle", 'class="subtitle"')
        + "</div>"
        + el(
            "button",
            "web.language_switch",
            f'type="button" id="lang" class="lang" lang="{other}" '
            f'aria-label="{t("web.language_switch_label")}" '
            'data-label-aria="web.language_switch_label"',
        )
        + "</header>"
    )
    if mode == "pin":
        main = _pin_main(h)
    else:
        kiosk = mode == "kiosk"
        main = (
            '<main class="chat">'
            + (_kiosk_parts(h) if kiosk else "")
            + '<div id="log" class="log" role="log" aria-live="polite" tabindex="0" '
            f'aria-label="{t("web.log_label")}" data-label-aria="web.log_label"></div>'
            '<p id="status" class="status" role="status" aria-live="assertive"></p>'
            '<form id="composer" class="composer" novalidate>'
            + el("label", "web.input_label", 'for="text" class="visually-hidden"')
            + '<textarea id="text" name="text" rows="1" maxlength="4096" autocomplete="off" '
            f'placeholder="{t("web.input_placeholder")}" '
            'data-label-placeholder="web.input_placeholder"></textarea>'
            + el("button", "web.send", 'type="submit" class="primary send"')
            + ("" if kiosk else _attach(h))
            + "</form>"
            + ("" if kiosk else el("p", "web.privacy", 'class="privacy"'))
            + "</main>"
        )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="csrf-token" content="{html.escape(csrf)}">'
        f'<meta name="referrer" content="no-referrer"><title>{t("web.title")}</title>'
        f'<link rel="icon" type="image/svg+xml" href="{asset("icon.svg")}">'
        f'<link rel="stylesheet" href="{asset("chat.css")}">'
        f'<script src="{asset("chat.js")}" defer></script></head>'
        f'<body class="mode-{mode}" data-mode="{mode}" data-lang="{lang}" '
        f'data-idle="{idle_seconds}">'
        f'<script type="application/json" id="labels">{_json_for_html(table)}</script>'
        + header
        + main
        + "<noscript>"
        + el("p", "web.noscript", 'class="status"')
        + "</noscript></body></html>"
    )


def _attach(h: _Html) -> str:
    types = (
        "image/jpeg,image/png,application/pdf,.doc,.docx,application/msword,"
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    return (
        '<label class="attach" for="file">'
        + h.el("span", "web.attach")
        + f'<input id="file" name="file" type="file" class="visually-hidden" accept="{types}">'
        "</label>"
    )


def _pin_main(h: _Html) -> str:
    el = h.el
    return (
        '<main class="pin">'
        + el("h2", "web.kiosk_pin_title")
        + el("p", "web.kiosk_pin_intro")
        + '<form id="pin-form" class="pin-form" novalidate>'
        + el("label", "web.kiosk_pin_label", 'for="pin"')
        + '<input id="pin" name="pin" type="password" inputmode="numeric" '
        'autocomplete="off" maxlength="12" required>'
        + el("button", "web.kiosk_unlock", 'type="submit" class="primary"')
        + "</form>"
        '<p id="status" class="status" role="status" aria-live="assertive"></p>'
        "</main>"
    )


def _kiosk_parts(h: _Html) -> str:
    e = h.el
    return (
        '<section id="start" class="start" aria-labelledby="start-title">'
        + e("h2", "web.kiosk_title", 'id="start-title"')
        + e("p", "web.kiosk_intro", 'class="intro"')
        + e("button", "web.kiosk_start", 'type="button" id="kiosk-start" class="big primary"')
        + '<form id="code-form" class="code-form" novalidate>'
        + e("label", "web.kiosk_code_label", 'for="code"')
        + '<input id="code" name="code" type="text" maxlength="64" autocomplete="off" '
        'autocapitalize="off" spellcheck="false">'
        + e("button", "web.kiosk_code_start", 'type="submit"')
        + "</form>"
        + e("button", "web.kiosk_scan", 'type="button" id="scan" hidden')
        + '<div id="scanner" class="scanner" hidden>'
        + e("p", "web.kiosk_scan_hint")
        + '<video id="camera" muted playsinline></video>'
        + e("button", "web.kiosk_scan_stop", 'type="button" id="scan-stop"')
        + "</div>"
        + e("button", "web.kiosk_staff", 'type="button" id="staff" class="staff"')
        + '<form id="lock-form" class="pin-form" hidden novalidate>'
        + e("label", "web.kiosk_pin_label", 'for="lock-pin"')
        + '<input id="lock-pin" type="password" inputmode="numeric" autocomplete="off" '
        'maxlength="12">'
        + e("button", "web.kiosk_lock", 'type="submit"')
        + e("button", "web.kiosk_cancel", 'type="button" id="lock-cancel"')
        + "</form></section>"
        '<section id="thanks" class="thanks" hidden role="status">'
        + e("p", "web.kiosk_thanks")
        + e("button", "web.kiosk_home", 'type="button" id="home" class="primary"')
        + "</section>"
    )


def render_widget(base_labels: dict[str, dict[str, str]]) -> str:
    """``/widget.js``: the script an agency pastes into its portal, with its labels."""
    keys = ("web.widget_open", "web.widget_close", "web.widget_frame")
    wanted = {lang: {k: base_labels[lang][k] for k in keys} for lang in LANGUAGES}
    source = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    return source.replace("__LABELS__", json.dumps(wanted, ensure_ascii=False))
