"""Every answer is heard: what is left of a request's body is read (and dropped) before the
answer starts.

A server that answers early (a body over its cap: 413; a missing secret: 403) and closes the
socket with the rest of the body unread makes the kernel reset the connection, and a client
that sends its whole body before reading (``urllib``, many HTTP libraries, Zalo's own) loses
the answer: it sees "connection reset", not the 413. The rest is read in the stream's chunks
and never kept, so memory stays bounded; a body declared over :data:`MAX_DRAIN` is not read
at all (the connection is closed, as before), nor is one the client waits to be asked for
(``Expect: 100-continue``) and the endpoint never read.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The most bytes of an unread request body read and dropped to answer cleanly. The largest
#: body any endpoint accepts is the web chat's upload (10 MB); a few times that is drained.
MAX_DRAIN = 64 * 1024 * 1024


class DrainUnread:
    """ASGI middleware: before ``http.response.start`` reads the rest of the request's body
    (up to ``limit`` bytes, dropped), so the client can read the answer."""

    def __init__(self, app: ASGIApp, limit: int = MAX_DRAIN) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        declared = headers.get(b"content-length", b"")
        chunked = b"transfer-encoding" in headers
        if not chunked and (not declared.isdigit() or int(declared) == 0):
            await self.app(scope, receive, send)  # no body (or a header that says nothing)
            return
        if declared.isdigit() and int(declared) > self.limit:
            await self.app(scope, receive, send)
            return
        state = {"read": False, "done": False}

        async def tracked() -> Message:
            message = await receive()
            state["read"] = True
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["done"] = True
            return message

        async def drained(message: Message) -> None:
            if message["type"] == "http.response.start" and not state["done"]:
                state["done"] = True
                if state["read"] or b"expect" not in headers:
                    await self._drain(receive)
            await send(message)

        await self.app(scope, tracked, drained)

    async def _drain(self, receive: Receive) -> None:
        dropped = 0
        while dropped <= self.limit:
            message = await receive()
            if message["type"] != "http.request":
                return
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                return
