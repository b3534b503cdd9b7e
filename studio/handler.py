"""Django's ASGI handler with every request's views run on a few long-lived threads.

Django's own handler gives each request a new thread for its sync code (middleware and
view), and a new database connection with it. Under load that is fifty threads taking turns
at one interpreter lock, each opening SQLite afresh: a studio page that renders in 15 ms on
its own took 25 ms a page at 50 clients. Here the sync code of a request runs on one of
``SLATE_REQUEST_THREADS`` threads kept for the life of the process (asgiref's
``ThreadSensitiveContext`` with an executor), each keeping its database connection between
requests. A slow view holds one of them, not the server.

Requests for stored media (views marked ``@serves_media``: a player's byte ranges, posters,
downloads) have a thread of their own and never wait behind pages: their views are a query and
an ``open()``, so one thread serves hundreds a second, and a player seeking while fifty pages
load does not wait for all of them (nor do pages wait for a storm of seeks).

A request holds its thread only while its view runs. The body of a streamed response (a
video's byte ranges, a zip of takes) is sent afterwards and read from storage off these
threads (``studio.ranged``, ``library.export``), so a long download does not keep a
thread from the pages.
"""

import asyncio
import collections
from concurrent.futures import Executor, ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import FileResponse
from django.urls import Resolver404, resolve

from studio.ranged import is_media_view


class Pool:
    """Executors lent one request at a time, first come first served."""

    def __init__(self, executors: list[Executor]):
        self._free = list(executors)
        self._waiting: collections.deque[asyncio.Future] = collections.deque()

    @property
    def waiting(self) -> int:
        return sum(not turn.done() for turn in self._waiting)

    async def borrow(self) -> Executor:
        if self._free:
            return self._free.pop()
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed over as the request went away
                self.give_back(turn.result())
            raise

    def give_back(self, executor: Executor) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(executor)
                return
        self._free.append(executor)


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int):
        super().__init__()
        # The middleware chain as WSGI runs it, all sync: Django's async chain hops to the
        # loop and back around every sync-only middleware and again for the view.
        self.load_middleware(is_async=False)
        self._executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="slate-request")
            for _ in range(threads)
        ]
        self._media = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slate-media")
        self._lanes = {False: Pool(self._executors), True: Pool([self._media])}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # Django's own enters a ThreadSensitiveContext here: a new thread for every request's
        # signals and response.close(). Those are quick; they share asgiref's one thread.
        await self.handle(scope, receive, send)

    async def run_get_response(self, request):
        lane = self._lanes[is_media(request)]
        executor = await lane.borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                response = await sync_to_async(self._respond)(request)
        finally:
            lane.give_back(executor)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response

    def _respond(self, request):
        # What Django's request_started and request_finished do for a request's thread; its
        # signals run elsewhere, so the kept connection is checked here.
        close_old_connections()
        try:
            return self.get_response(request)
        finally:
            close_old_connections()


def is_media(request) -> bool:
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return False
    return is_media_view(view)
