"""httpx transports onto an ASGI app, built on httpx's ASGI transport.

Slate's provider clients are synchronous (they run in worker threads), and
httpx's ASGITransport is async-only: SyncASGITransport runs it on an event loop
of its own in a background thread. Client timeouts are honoured (ASGITransport
ignores them), and an app that breaks off mid-request looks like a dropped
connection. ASGITransport answers only once the app has finished: a stream read
as it comes (fal's status stream, read by the engine's watcher) goes through
StreamingASGITransport, which hands the body over part by part.
"""

import asyncio
import threading

import httpx


class SyncASGITransport(httpx.BaseTransport):
    def __init__(self, app):
        self.inner = httpx.ASGITransport(app=app)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = (request.extensions.get("timeout") or {}).get("read")
        body = request.read()

        async def run():
            copy = httpx.Request(
                request.method,
                request.url,
                headers=request.headers,
                content=body,
                extensions=request.extensions,
            )
            response = await asyncio.wait_for(self.inner.handle_async_request(copy), timeout)
            content = await response.aread()
            return response.status_code, response.headers, content

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        try:
            status, headers, content = future.result()
        except TimeoutError as error:
            raise httpx.ReadTimeout("simulated read timeout", request=request) from error
        except httpx.HTTPError:
            raise
        except Exception as error:
            raise httpx.RemoteProtocolError(
                f"server broke off: {error}", request=request
            ) from error
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        """Clients share one transport (one per simulator): closing a client leaves it up.
        Its loop runs on in a daemon thread for the rest of the test session."""


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """An asyncio transport onto an ASGI app whose answer is read while the app still
    sends it: the app runs as a task beside the reader (one request, one task)."""

    def __init__(self, app):
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        started: asyncio.Future = asyncio.get_running_loop().create_future()
        parts: asyncio.Queue = asyncio.Queue()
        disconnected = asyncio.Event()
        sent_body = False

        async def receive():
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                started.set_result((message["status"], message.get("headers", [])))
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    parts.put_nowait(message["body"])
                if not message.get("more_body", False):
                    parts.put_nowait(None)

        async def run():
            try:
                await self.app(scope, receive, send)
            finally:
                parts.put_nowait(None)
                if not started.done():
                    started.set_exception(httpx.RemoteProtocolError("app gave no answer"))

        task = asyncio.create_task(run())
        status, headers = await started

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self):
                while (part := await parts.get()) is not None:
                    yield part

            async def aclose(self):
                disconnected.set()
                task.cancel()

        return httpx.Response(status, headers=headers, stream=Body(), request=request)
