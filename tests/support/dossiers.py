"""A signed client of the dossier API, over an in-process app (ASGI) or a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.web.dossier_auth import signed_headers

CLIENT = "motcua"
SECRET = "s3cret-for-tests-only-0123456789"
KEYS = {CLIENT: SECRET, "other": "another-secret-for-tests-000000"}

DOSSIER = {
    "code": "HS-2026-0001",
    "procedure": "1.009972",
    "field": "Cấp phép xây dựng",
    "received_on": "2026-01-05",
    "due_on": "2026-02-02",
}


class ApiClient:
    """Posts JSON with the three signing headers; ``now`` is the clock the headers use."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        client: str = CLIENT,
        secret: str = SECRET,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.client = client
        self.secret = secret
        self.now = now

    def sign(self, path: str, body: bytes, **override: str) -> dict[str, str]:
        headers = signed_headers(self.client, self.secret, "POST", path, body, self.now())
        headers.update(override)
        return headers

    async def post(self, path: str, payload: Any, **override: str) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return await self.http.post(path, content=body, headers=self.sign(path, body, **override))

    async def register(self, **fields: Any) -> httpx.Response:
        return await self.post("/api/v1/dossiers", {**DOSSIER, **fields})

    async def event(self, code: str, event_id: str, kind: str, **fields: Any) -> httpx.Response:
        payload = {"event_id": event_id, "kind": kind, **fields}
        return await self.post(f"/api/v1/dossiers/{code}/events", payload)
