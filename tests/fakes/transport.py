"""A synchronous httpx transport onto an ASGI app, built on httpx's ASGI transport.

Slate's provider clients are synchronous (they run in worker threads), and
httpx's ASGITransport is async-only: this runs it on an event loop of its own
in a background thread. Client timeouts are honoured (ASGITransport ignores
them), and an app that breaks off mid-request looks like a dropped connection.
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
