"""Where provider traffic may go: public addresses over https, unless an install opts in.

Every hop is checked (a base URL, a URL a provider names, each redirect), and the
process's HTTP client connects only to an address it has just checked: it resolves
the name once, refuses any non-public answer, and connects to that very IP with the
name kept for the Host header, SNI and certificate check. A name that answers
public to the check and private to the connect (DNS rebinding) has no second answer
to give. "Public" is ``ipaddress``'s ``is_global`` (not a hand list), minus
multicast, with IPv4 addresses inside IPv6 forms (mapped, NAT64, 6to4, Teredo)
judged as the IPv4 address they reach.

Private reach (loopback, LAN, CGNAT…) and plain http go together: both are for an
install's own machines (see docs/security.md). The permission travels with the
call (``reaching``), and connections made under it are pooled apart from the rest.
"""

import contextlib
import contextvars
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from .base import BadRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d forms

_private = contextvars.ContextVar("slate_private_reach", default=False)


class AddressRefused(BadRequest):
    """A URL Slate won't fetch for this endpoint: trying again can't help."""

    def __init__(self, message: str):
        super().__init__(message, "address_refused")


def is_public(ip: Address) -> bool:
    """Whether ``ip`` is a unicast address on the public internet."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return is_public(ip.ipv4_mapped)
        if ip in NAT64:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour or ip.teredo:
            return False  # tunnels to an IPv4 address of the sender's choosing
        if ip in IPV4_COMPATIBLE or ip.is_site_local:
            return False
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[Address]:
    """The host's addresses (a literal is its own), in the resolver's order."""
    with contextlib.suppress(ValueError):
        return [ipaddress.ip_address(host.strip("[]"))]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise AddressRefused(f"Can't find the host “{host}”.") from error
    found = (ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
    return list(dict.fromkeys(found))


def public_addresses(host: str, port: int) -> list[Address]:
    """The host's addresses, all of them public, or AddressRefused."""
    found = resolve(host, port)
    if not found or not all(is_public(ip) for ip in found):
        raise AddressRefused(
            f"“{host}” is on a private network (or another non-public range), which this "
            "install doesn't allow for this workspace's providers."
        )
    return found


def check_url(url: str, *, private: bool) -> None:
    """Refuse a URL this call may not fetch: not https (http too with ``private``), no
    host, or (without ``private``) a host that isn't public."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise AddressRefused("That isn't a URL Slate can fetch.") from error
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressRefused("The URL must start with https:// (or http:// on your network).")
    if private:
        return
    public_addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    if parts.scheme != "https":
        raise AddressRefused(
            "The URL must start with https://: plain http is only for providers on your "
            "own network, where this install allows them."
        )


def open_socket(host: str, port: int, *, private: bool, timeout: float) -> socket.socket:
    """A TCP connection for a client that isn't httpx (ComfyUI's websocket), made to an
    address checked here, the same way the HTTP transport does it."""
    failure: OSError | None = None
    for target in targets(host, port, private=private):
        try:
            sock = socket.create_connection((target, port), timeout=timeout)
        except OSError as error:
            failure = error
            continue
        sock.settimeout(None)  # the timeout was for connecting: the client sets its own
        return sock
    raise failure or OSError(f"Can't connect to {host}")


@contextlib.contextmanager
def reaching(private: bool) -> Iterator[None]:
    """Calls made inside may connect to private addresses when ``private`` is true."""
    token = _private.set(private)
    try:
        yield
    finally:
        _private.reset(token)


def targets(host: str, port: int, *, private: bool) -> list[str]:
    """Where a connection to ``host`` may go: the name itself with private reach, else its
    addresses, checked (resolved once: the caller connects to these, not to the name)."""
    return [host] if private else [str(ip) for ip in public_addresses(host, port)]


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves once, refuses what isn't public, and connects to the address it checked.
    TLS is then started by httpcore with the original name (SNI, certificate)."""

    def __init__(self, private: bool):
        self.private = private
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        failure = None
        for target in targets(host, port, private=self.private):
            try:
                return self.inner.connect_tcp(target, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"Can't connect to {host}")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise AddressRefused("Providers are reached over TCP only.")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncCheckedBackend(httpcore.AsyncNetworkBackend):
    """The same check for an asyncio client (a status stream read by the watcher): the name
    resolved once, in a thread, and the connection made to the address checked."""

    def __init__(self, private: bool):
        self.private = private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        found = await anyio.to_thread.run_sync(
            functools.partial(targets, host, port, private=self.private)
        )
        failure = None
        for target in found:
            try:
                return await self.inner.connect_tcp(
                    target, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"Can't connect to {host}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise AddressRefused("Providers are reached over TCP only.")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@contextlib.contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    """httpcore's errors as httpx's of the same name (what provider code catches)."""
    try:
        yield
    except httpcore.TimeoutException as error:
        raise getattr(httpx, type(error).__name__, httpx.TimeoutException)(
            str(error), request=request
        ) from error
    except httpcore.ConnectError as error:
        raise httpx.ConnectError(str(error), request=request) from error
    except httpcore.NetworkError as error:
        raise getattr(httpx, type(error).__name__, httpx.NetworkError)(
            str(error), request=request
        ) from error
    except httpcore.ProtocolError as error:
        raise getattr(httpx, type(error).__name__, httpx.ProtocolError)(
            str(error), request=request
        ) from error
    except httpcore.UnsupportedProtocol as error:
        raise httpx.UnsupportedProtocol(str(error), request=request) from error


class _Body(httpx.SyncByteStream):
    def __init__(self, stream, request: httpx.Request):
        self.stream, self.request = stream, request

    def __iter__(self):
        with _as_httpx(self.request):
            yield from self.stream

    def close(self) -> None:
        self.stream.close()


class CheckedTransport(httpx.BaseTransport):
    """An httpx transport whose connections go only where ``reaching`` allows: two pools,
    so a connection opened for a private call is never reused by a public-only one."""

    def __init__(self, *, max_connections: int = 50, ssl_context: ssl.SSLContext | None = None):
        context = ssl_context or httpx.create_ssl_context()
        self.pools = {
            private: httpcore.ConnectionPool(
                ssl_context=context,
                max_connections=max_connections,
                network_backend=_CheckedBackend(private),
            )
            for private in (False, True)
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with _as_httpx(request):
            response = self.pools[_private.get()].handle_request(_core_request(request))
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()


def _core_request(request: httpx.Request) -> httpcore.Request:
    url = httpcore.URL(
        scheme=request.url.raw_scheme,
        host=request.url.raw_host,
        port=request.url.port,
        target=request.url.raw_path,
    )
    return httpcore.Request(
        method=request.method,
        url=url,
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream, request: httpx.Request):
        self.stream, self.request = stream, request

    async def __aiter__(self):
        with _as_httpx(self.request):
            async for chunk in self.stream:
                yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()  # loading the CA bundle takes a while: once


class AsyncCheckedTransport(httpx.AsyncBaseTransport):
    """CheckedTransport for an asyncio client, made for one kind of reach (``private``):
    a status stream gets its own client, in the loop that reads it."""

    def __init__(self, *, private: bool, ssl_context: ssl.SSLContext | None = None):
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or _ssl_context(),
            network_backend=_AsyncCheckedBackend(private),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _as_httpx(request):
            response = await self.pool.handle_async_request(_core_request(request))
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_AsyncBody(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()
