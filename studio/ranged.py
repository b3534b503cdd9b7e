"""Serve a stored file with HTTP Range support, streaming in both server modes.

Players seek by asking for byte ranges (206 Partial Content). Django has no
Range support, and under ASGI it reads a *sync* streaming body into memory
whole before sending; this response streams chunk by chunk under both.
"""

import re

from asgiref.sync import sync_to_async
from django.http import HttpResponse, StreamingHttpResponse

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")  # ASCII digits only


def serves_media(view):
    """Mark a view that only checks access and serves a stored file with ``serve_file``: the
    request handler (studio/handler.py) lets such requests go ahead of waiting pages."""
    view.serves_media = True
    return view


def is_media_view(view) -> bool:
    return getattr(view, "serves_media", False)


class FileRangeResponse(StreamingHttpResponse):
    """``length`` bytes of ``handle`` from ``start``, in chunks. The first chunk is read with
    the view, on its thread: a player's range request (most are one chunk) is then sent with
    no further trip to a thread; later chunks are read on the loop's pool under ASGI, not on
    the threads that run views (studio/handler.py)."""

    def __init__(self, handle, start: int, length: int, **kwargs):
        self._handle, self._length = handle, length
        handle.seek(start)
        self._first = self._read(length)
        super().__init__(self._chunks(), **kwargs)
        self._resource_closers.append(handle.close)
        self["Content-Length"] = str(length)

    def _read(self, remaining: int) -> bytes:
        return self._handle.read(min(CHUNK, remaining))

    def _taken_first(self) -> bytes:
        data, self._first = self._first, b""
        return data

    def _chunks(self):
        data, remaining = self._taken_first(), self._length
        while data:
            remaining -= len(data)
            yield data
            data = self._read(remaining) if remaining > 0 else b""

    async def __aiter__(self):
        read = sync_to_async(self._read, thread_sensitive=False)
        data, remaining = self._taken_first(), self._length
        while data:
            remaining -= len(data)
            yield data
            data = await read(remaining) if remaining > 0 else b""


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end inclusive) for a single satisfiable range; None to send it all;
    False when the range cannot be satisfied (416)."""
    match = RANGE.match(header.strip())
    if not match:
        return None  # absent, malformed or multi-range: RFC 9110 lets us ignore it
    first, last = match.groups()
    if not first and not last:
        return None
    # Any number past 18 digits is beyond any file (and past what int() will read).
    if not first:  # suffix: the last N bytes
        length = int(last) if len(last) <= 18 else size
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    if len(first) > 18:
        return False
    start = int(first)
    end = min(int(last), size - 1) if last and len(last) <= 18 else size - 1
    if start >= size or start > end:
        return False
    return start, end


def serve_file(
    request, field_file, *, content_type: str, filename: str, attachment=False, etag: str = ""
):
    storage = field_file.storage
    size = storage.size(field_file.name)
    disposition = "attachment" if attachment else "inline"
    quoted_etag = f'"{etag}"' if etag else ""
    if quoted_etag and request.headers.get("If-None-Match") == quoted_etag:
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = quoted_etag
        return not_modified

    span = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if span and if_range and if_range != quoted_etag:
        span = None  # the client's copy is stale: send the whole current file
    if span is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response

    handle = storage.open(field_file.name, "rb")
    if span:
        start, end = span
        response = FileRangeResponse(
            handle, start, end - start + 1, status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileRangeResponse(handle, 0, size, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Revalidate every time (cheap with the ETag): a member who is removed
    # must not keep watching from their browser's cache.
    response["Cache-Control"] = "private, no-cache"
    if quoted_etag:
        response["ETag"] = quoted_etag
    return response
