"""Requests' views run on a few kept threads (studio.handler), not a new thread each: a slow
view holds one of them, and a streamed body, sent after its view returned, holds none."""

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

from studio.asgi import application
from studio.handler import PooledASGIHandler
from studio.ranged import serves_media

# Each request checks its thread's database connection, as Django's request signals do.
pytestmark = pytest.mark.django_db(transaction=True)

seen_threads: list[int] = []
slow_started = threading.Event()
slow_release = threading.Event()
body_release: asyncio.Event | None = None


def where(request):
    seen_threads.append(threading.get_ident())
    return HttpResponse(b"ok")


@serves_media
def media(request):
    seen_threads.append(-1)  # served: the order is what the test checks
    return HttpResponse(b"bytes")


def slow(request):
    slow_started.set()
    assert slow_release.wait(60), "the test never let the slow view go"
    return HttpResponse(b"slow")


async def _held_body():
    yield b"first "
    await body_release.wait()
    yield b"last"


def streamed(request):
    return StreamingHttpResponse(_held_body())


urlpatterns = [
    path("where/", where),
    path("media/", media),
    path("slow/", slow),
    path("slow-media/", serves_media(lambda request: slow(request))),
    path("streamed/", streamed),
]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = []  # the handler's threading, not the middleware, is under test
    seen_threads.clear()
    slow_started.clear()
    slow_release.clear()
    return PooledASGIHandler


def scope(url: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def start(app, url: str) -> ApplicationCommunicator:
    request = ApplicationCommunicator(app, scope(url))
    await request.send_input({"type": "http.request", "body": b"", "more_body": False})
    return request


async def body_of(request: ApplicationCommunicator) -> tuple[int, bytes]:
    start = await request.receive_output(timeout=30)
    body = b""
    while True:
        message = await request.receive_output(timeout=30)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start["status"], body


async def test_forty_requests_at_once_share_the_kept_threads(handler):
    app = handler(threads=3)
    requests = [await start(app, "/where/") for _ in range(40)]
    answers = await asyncio.gather(*(body_of(request) for request in requests))
    assert answers == [(200, b"ok")] * 40
    assert len(seen_threads) == 40
    assert len(set(seen_threads)) <= 3, "each request got a thread of its own"
    again = await start(app, "/where/")
    assert await body_of(again) == (200, b"ok")
    assert seen_threads[-1] in set(seen_threads[:-1]), "the threads were not kept"


async def test_a_slow_view_holds_one_thread_and_the_others_keep_serving(handler):
    app = handler(threads=2)
    held = await start(app, "/slow/")
    assert await asyncio.to_thread(slow_started.wait, 30)
    for _ in range(5):  # the one thread left serves them all meanwhile
        assert await body_of(await start(app, "/where/")) == (200, b"ok")
    assert len(set(seen_threads)) == 1
    slow_release.set()
    assert await body_of(held) == (200, b"slow")


async def test_media_requests_never_wait_behind_pages(handler):
    app = handler(threads=1)
    held = await start(app, "/slow/")  # the one page thread
    assert await asyncio.to_thread(slow_started.wait, 30)
    page = await start(app, "/where/")  # waits for it
    assert await body_of(await start(app, "/media/")) == (200, b"bytes")  # meanwhile
    assert seen_threads == [-1]
    slow_release.set()
    assert await body_of(page) == (200, b"ok")
    assert await body_of(held) == (200, b"slow")


async def test_pages_never_wait_behind_media_requests(handler):
    app = handler(threads=1)
    held = await start(app, "/slow-media/")  # the media thread
    assert await asyncio.to_thread(slow_started.wait, 30)
    assert await body_of(await start(app, "/where/")) == (200, b"ok")  # meanwhile
    slow_release.set()
    assert await body_of(held) == (200, b"slow")


async def test_a_streamed_body_holds_no_thread_once_its_view_returned(handler):
    global body_release
    body_release = asyncio.Event()
    app = handler(threads=1)
    download = await start(app, "/streamed/")
    first = await download.receive_output(timeout=30)
    assert first["status"] == 200
    assert (await download.receive_output(timeout=30))["body"] == b"first "
    # The body is still being sent; the only view thread serves a page meanwhile.
    assert await body_of(await start(app, "/where/")) == (200, b"ok")
    body_release.set()
    assert (await download.receive_output(timeout=30))["body"] == b"last"


def test_the_served_application_runs_requests_on_the_configured_threads(settings):
    pooled = application.application_mapping["http"].app
    assert isinstance(pooled, PooledASGIHandler)
    assert len(pooled._executors) == settings.SLATE_REQUEST_THREADS >= 1
