"""A websocket opens only from the studio's own origin: scheme, host and port."""

import pytest
from channels.testing import WebsocketCommunicator

from studio.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def opens(user, origin: str | None, host: str | None, **scope) -> bool:
    headers = [(b"origin", origin.encode())] if origin else []
    if host:
        headers.append((b"host", host.encode()))
    for name, value in scope.pop("headers", []):
        headers.append((name, value))
    ws = WebsocketCommunicator(application, "/ws/w/harbour/", headers=headers)
    ws.scope.update(user=user, **scope)
    connected, _ = await ws.connect()
    await ws.disconnect()
    return connected


@pytest.fixture
def editor(personas):
    return personas["editor"]


async def test_the_studios_own_origin_opens(editor):
    assert await opens(editor, "http://localhost:8000", "localhost:8000")
    assert await opens(editor, "http://127.0.0.1", "127.0.0.1")
    assert await opens(editor, "http://[::1]:8000", "[::1]:8000")
    assert await opens(editor, "http://localhost", None)  # no Host: the scheme's own port


async def test_another_port_of_the_same_host_is_refused(editor):
    assert not await opens(editor, "http://localhost:1", None)
    assert not await opens(editor, "http://localhost:1", "localhost:8000")
    assert not await opens(editor, "http://localhost", "localhost:8000")


async def test_another_scheme_or_host_is_refused(editor):
    assert not await opens(editor, "https://localhost:8000", "localhost:8000")
    assert not await opens(editor, "http://evil.example:8000", "localhost:8000")
    assert not await opens(editor, "null", "localhost:8000")
    assert not await opens(editor, None, "localhost:8000")


async def test_a_host_outside_allowed_hosts_is_refused_even_from_its_own_origin(editor):
    assert not await opens(editor, "http://evil.example:8000", "evil.example:8000")


async def test_https_behind_the_proxy_and_trusted_origins_open(editor, settings):
    settings.ALLOWED_HOSTS = ["studio.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = [(b"x-forwarded-proto", b"https")]
    studio = "studio.example.com"
    assert await opens(editor, f"https://{studio}", studio, headers=proxied)
    assert not await opens(editor, f"http://{studio}", studio, headers=proxied)
    assert not await opens(editor, f"https://{studio}", studio)  # the proxy did not say https
    assert await opens(editor, f"https://{studio}", studio, scheme="wss")
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    assert await opens(editor, "https://app.example.com", studio)
    assert not await opens(editor, "https://app.example.com:444", studio)
