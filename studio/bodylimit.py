"""The one limit on a request body's size, kept before the body is held in memory.

Every body Slate accepts is small (the largest is a reference still, studio/uploads.py), but a
server buffers a body before Django sees it: without a limit, a few anonymous POSTs of a few
hundred MB each are enough to exhaust memory. `manage.py serve` refuses an oversized body inside
daphne, before buffering it (studio/httpserver.py); ``BodyLimit`` does the same for servers that
stream the body to the application (uvicorn, daphne's own command line).
"""

from django.conf import settings

from studio.uploads import megabytes


def too_large(limit: int) -> str:
    """The sentence a refused client reads."""
    return f"This request is larger than the limit of {megabytes(limit)}.\n"


def declared_length(headers) -> int | None:
    """The body's Content-Length from ASGI headers; None when absent or not a number."""
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware: answer 413 to a body over the limit, by its Content-Length at once, and
    otherwise as soon as the running total passes it (the application then sees a disconnect,
    so Django drops what it read)."""

    def __init__(self, app, limit: int | None = None):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit or settings.SLATE_MAX_REQUEST_BYTES
        if (declared_length(scope["headers"]) or 0) > limit:
            return await refuse(send, limit)
        received = 0
        over = started = False

        async def counted_receive():
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def noted_send(message):
            nonlocal started
            if over and not started:
                return  # the 413 below answers instead
            started = True
            await send(message)

        await self.app(scope, counted_receive, noted_send)
        if over and not started:
            await refuse(send, limit)


async def refuse(send, limit: int) -> None:
    body = too_large(limit).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
