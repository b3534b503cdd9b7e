"""Takes as a zip, streamed: the original bytes of each MP4 and a manifest (JSON and CSV).

zipstream-ng writes the archive as it is read, file by file in small chunks, so memory stays
flat whatever the total and no temporary file of the whole zip is made. Stored, not
deflated: MP4s don't shrink, and stored entries let the size be known up front.

The zip format needs each entry's CRC-32, which zipstream-ng computes as it streams. It uses
zipfile's (zlib's) crc32, whose ~7 GB/s made the CRC the export's cost (a stored zip otherwise
only copies bytes); ISA-L's crc32 gives the same value many times faster. zipstream-ng has no
option for it, but it looks ``crc32`` up as a global of ``zipstream.ng`` for every chunk, so
this module sets that global (tests/library/test_export.py checks it is still the one used).
"""

import csv
import io
import json

import zipstream.ng
from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils.text import slugify
from isal import isal_zlib
from zipstream import ZIP_STORED, ZipStream

from studio.models import Take
from studio.ranged import CHUNK

from .folders import Refused

MANIFEST_FIELDS = (
    "id",
    "file",
    "subject",
    "motion",
    "camera",
    "lighting",
    "atmosphere",
    "prompt",
    "dialogue",
    "audio",
    "negative_prompt",
    "composed_prompt",
    "provider",
    "model",
    "size",
    "seconds",
    "seed",
    "status",
    "cost",
    "sha256",
    "created_by",
    "created_at",
)
MAX_TAKES = 2000

zipstream.ng.crc32 = isal_zlib.crc32


def file_name(take: Take) -> str:
    title = slugify(take.subject or take.prompt)[:40].strip("-") or "take"
    return f"slate-{take.pk}-{title}.mp4"


def manifest_row(take: Take) -> dict:
    cost = take.charged if take.charged is not None else take.estimate
    return {
        **{name: getattr(take, name) for name in MANIFEST_FIELDS[2:11]},
        "id": take.pk,
        "file": file_name(take) if take.video else "",
        "composed_prompt": take.composed_prompt,
        "provider": take.provider,
        "model": take.model,
        "size": take.size,
        "seconds": take.seconds,
        "seed": take.seed,
        "status": take.status,
        "cost": str(cost) if cost is not None else "",
        "sha256": take.video_sha256,
        "created_by": take.created_by.get_username() if take.created_by else "",
        "created_at": take.created_at.isoformat(),
    }


def _chunks(field_file):
    with field_file.storage.open(field_file.name, "rb") as handle:
        while data := handle.read(CHUNK):
            yield data


def archive(takes: list[Take]) -> ZipStream:
    """The zip of ``takes`` (the ones with a video), not yet read; refuses a zip of nothing."""
    if len(takes) > MAX_TAKES:
        raise Refused(f"At most {MAX_TAKES} takes in one zip: narrow the selection.")
    with_video = [t for t in takes if t.video]
    if not with_video:
        raise Refused("None of these takes has a video yet: there is nothing to put in a zip.")
    rows = [manifest_row(t) for t in takes]
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=MANIFEST_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for take in with_video:
        size = take.video.storage.size(take.video.name)
        stream.add(_chunks(take.video), file_name(take), size=size)
    stream.add(json.dumps(rows, indent=2, ensure_ascii=False).encode(), "manifest.json")
    stream.add(table.getvalue().encode(), "manifest.csv")
    return stream


class ZipResponse(StreamingHttpResponse):
    """Streams under WSGI and ASGI alike: Django would read a sync body whole under ASGI."""

    def __init__(self, stream: ZipStream, filename: str):
        self._zip = iter(stream)
        super().__init__(self._zip, content_type="application/zip")
        self["Content-Length"] = str(len(stream))
        self["Content-Disposition"] = f'attachment; filename="{filename}"'
        self["Cache-Control"] = "private, no-store"

    async def __aiter__(self):
        # Read on the loop's pool, not the threads that run views (studio/handler.py).
        read = sync_to_async(next, thread_sensitive=False)
        while (data := await read(self._zip, None)) is not None:
            yield data
