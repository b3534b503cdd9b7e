"""Which pages may open a websocket: the studio's own origin, scheme, host and port alike.

Browsers send any page's origin with a websocket handshake and no CORS check applies, so a page
elsewhere (even on another port of the same host) could act with the visitor's session. This
mirrors Django's CSRF origin check: the Origin must be the request's own (scheme from the
connection or SECURE_PROXY_SSL_HEADER, host and port from a Host in ALLOWED_HOSTS) or one of
CSRF_TRUSTED_ORIGINS.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname.lower(), port


def _scheme(scope, headers: dict[bytes, bytes]) -> str:
    if settings.SECURE_PROXY_SSL_HEADER:
        name, value = settings.SECURE_PROXY_SSL_HEADER
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        if headers.get(header, b"").split(b",")[0].strip() == value.encode():
            return "https"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def allowed(scope) -> bool:
    headers = dict(scope.get("headers", []))
    origin = _origin(headers.get(b"origin", b"").decode("latin-1"))
    if origin is None:
        return False
    if origin in filter(None, map(_origin, settings.CSRF_TRUSTED_ORIGINS)):
        return True
    scheme = _scheme(scope, headers)
    host = headers.get(b"host", b"").decode("latin-1")
    if host:
        domain, port = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        own = (scheme, domain.strip("[]"), int(port) if port else DEFAULT_PORTS[scheme])
    else:
        # No Host (HTTP/1.0, test clients): only an allowed host on the scheme's own port.
        domain = f"[{origin[1]}]" if ":" in origin[1] else origin[1]
        if not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        own = (scheme, origin[1], DEFAULT_PORTS[scheme])
    return origin == own


class SameOriginValidator:
    """ASGI: close a websocket handshake whose Origin is not the studio's own."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
