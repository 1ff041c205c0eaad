"""The web chat's protections: the visitor cookie, CSRF, same-origin posts, rate limits,
body caps, the kiosk's PIN cookie, and the security headers of every page.

The visitor cookie is a random secret; the contact is a hash of it (``visitor_chat_id``),
and the CSRF token is another hash of it: a page of another site can neither read the
cookie nor compute the token, and a post without the token is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

VISITOR_COOKIE = "sipas_chat"
KIOSK_COOKIE = "sipas_kiosk"
CSRF_HEADER = "X-CSRF-Token"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: A visitor cookie lasts 30 days (a returning citizen finds the chat where they left it).
VISITOR_MAX_AGE = 30 * 24 * 3600
KIOSK_MAX_AGE = 365 * 24 * 3600


def new_token() -> str:
    return secrets.token_urlsafe(32)


def visitor_token(request: Request) -> str | None:
    value = request.cookies.get(VISITOR_COOKIE, "")
    return value if TOKEN.fullmatch(value) else None


def csrf_token(visitor: str) -> str:
    return hashlib.sha256(b"csrf\0" + visitor.encode()).hexdigest()[:40]


def secure_context(request: Request) -> bool:
    """HTTPS (directly or behind a proxy that says so), or this machine itself: browsers
    keep ``Secure`` cookies there, which a widget inside another site's page needs."""
    if request.url.scheme == "https":
        return True
    if request.headers.get("x-forwarded-proto", "").lower() == "https":
        return True
    host = (request.url.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_header(
    name: str,
    value: str,
    request: Request,
    *,
    max_age: int,
    cross_site: bool = True,
) -> str:
    """A ``Set-Cookie`` value. Where it can be ``Secure``, a visitor cookie is
    ``SameSite=None; Partitioned`` so the chat also works inside another site's page (the
    widget), kept apart per embedding site; the CSRF token guards its posts."""
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
    if secure_context(request):
        parts.append("Secure")
        parts.extend(["SameSite=None", "Partitioned"] if cross_site else ["SameSite=Strict"])
    else:
        parts.append("SameSite=Lax" if cross_site else "SameSite=Strict")
    return "; ".join(parts)


def same_origin(request: Request) -> bool:
    """A post must come from a page of this server (``Origin``/``Sec-Fetch-Site``)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


def csrf_ok(request: Request, visitor: str) -> bool:
    given = request.headers.get(CSRF_HEADER, "")
    return same_origin(request) and hmac.compare_digest(
        given.encode(), csrf_token(visitor).encode()
    )


def kiosk_cookie(pin: str) -> str:
    """A tablet's proof that staff unlocked kiosk mode with the PIN (changing it ends it)."""
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_kiosk_mac(pin, nonce)}"


def kiosk_ok(request: Request, pin: str) -> bool:
    nonce, _, mac = request.cookies.get(KIOSK_COOKIE, "").partition(".")
    if not nonce or len(nonce) > 32:
        return False
    return hmac.compare_digest(mac.encode(), _kiosk_mac(pin, nonce).encode())


def _kiosk_mac(pin: str, nonce: str) -> str:
    return hmac.new(pin.encode(), b"kiosk\0" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def pin_ok(given: str, pin: str) -> bool:
    return hmac.compare_digest(given.encode(), pin.encode())


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


@dataclass(slots=True)
class RateLimiter:
    """Token buckets by key (a visitor, an address), in this process.

    ``allow`` returns 0 when the request may go, else the seconds until it may."""

    rate: float
    burst: float
    max_keys: int = 50_000
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allow(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forgets keys whose bucket has filled up again (they would start full anyway)."""
        full = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.stamp >= full]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()


@dataclass(slots=True)
class WrongTries:
    """Wrong answers (a kiosk PIN) per address: after ``limit`` in ``window_s`` seconds,
    the address must wait, even with the right answer."""

    limit: int
    window_s: float
    _seen: dict[str, list[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> list[float]:
        recent = [t for t in self._seen.get(key, ()) if now - t < self.window_s]
        if recent:
            self._seen[key] = recent
        else:
            self._seen.pop(key, None)
        return recent

    def blocked(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return len(self._recent(key, now)) >= self.limit

    def wrong(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key] = [*self._recent(key, now), now]


def address(request: Request) -> str:
    return request.client.host if request.client else "-"


def security_headers(frame_ancestors: Sequence[str] = ()) -> dict[str, str]:
    """Headers of every web chat response: scripts, styles and connections only from this
    server (no CDN), framing only by this server and the widget's allowed sites."""
    ancestors = " ".join(["'self'", *frame_ancestors]) if frame_ancestors else "'self'"
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "manifest-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def refuse(status: int, reason: str, retry_after: float | None = None) -> Response:
    """A short JSON refusal the page understands (``reason`` names a label, never text)."""
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return JSONResponse({"ok": False, "error": reason}, status_code=status, headers=headers)


async def read_capped(request: Request, cap: int) -> bytes | None:
    """The body, or None when it is (or claims to be) over ``cap`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (
        not (declared.isascii() and declared.isdigit()) or int(declared) > cap
    ):
        return None
    body = bytearray()
    async for chunk in request.stream():  # counted as it arrives: no header is trusted
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)
