"""``GET /ketqua``: the public results page (the plan asks that people can see the results)."""

from __future__ import annotations

import base64
import html
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.web.open311 import Open311Settings
from conversations import default_catalog
from conversations.catalog import format_decimal
from jobs.public import PublicResultsCache

Clock = Callable[[], datetime]


def _pct(value: float | None, lang: str) -> str:
    return "—" if value is None else format_decimal(value, lang, 2) + "%"


def results_routes(
    engine: AsyncEngine,
    settings: Open311Settings,
    clock: Clock,
    public: PublicResultsCache | None = None,
) -> list[Route]:
    """``GET /ketqua``, served from ``public`` (shared with the chat's /ketqua): built once
    every few minutes, the chart drawn off the event loop."""
    cache = public or PublicResultsCache(engine, settings.timezone, clock, settings.survey_method)

    async def page(request: Request) -> Response:
        lang = "en" if request.query_params.get("lang") == "en" else "vi"
        found = await cache.get(lang)
        period, report = found.period, found.report
        catalog = default_catalog()
        title = html.escape(f"{catalog.text(lang, 'page.results_title')} — {settings.agency_name}")
        dates = f"{period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}"
        if not found.publishable or found.chart is None:
            body = f"<p>{html.escape(catalog.text(lang, 'results.none'))}</p>"
        else:
            rows = "".join(
                f"<tr><td>{html.escape(report.names.get(e.code, e.code))}</td>"
                f"<td>{_pct(e.index, lang)}</td></tr>"
                for e in report.elements
            )
            chart = base64.b64encode(found.chart).decode()
            surveys = html.escape(catalog.text(lang, "page.results_surveys"))
            # The page says which SIPAS method its one index follows (never two mixed).
            method = catalog.format(lang, "law.method", (("method", report.method_name),))
            body = (
                f"<p>{html.escape(catalog.text(lang, 'page.results_period'))} {dates}: "
                f"<strong>{_pct(report.index, lang)}</strong> "
                f"({report.completed} {surveys})</p>"
                f"<p>{html.escape(method)}</p>"
                f"<table>{rows}</table>"
                f'<img alt="" src="data:image/png;base64,{chart}">'
            )
        document = (
            '<!doctype html><html lang="' + lang + '"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:40em;"
            "margin:auto;padding:1em;font-size:1.1em}td{padding:.3em .6em}"
            "img{max-width:100%}</style></head>"
            f"<body><h1>{title}</h1>{body}</body></html>"
        )
        return HTMLResponse(document, headers={"Cache-Control": "public, max-age=300"})

    handler: Callable[[Request], Awaitable[Response]] = page
    return [Route("/ketqua", handler, methods=["GET"])]
