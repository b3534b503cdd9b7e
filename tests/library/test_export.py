"""Zip export: streamed, the original bytes of each MP4, and a manifest that matches."""

import csv
import hashlib
import io
import json
import os
import sys
import zipfile
import zlib

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from isal import isal_zlib

from library import export
from library.folders import Refused

from .helpers import make_take

pytestmark = pytest.mark.django_db


def download(client, takes):
    data = {"action": "zip", "take": [t.pk for t in takes]}
    return client.post(reverse("library:bulk", args=["harbour"]), data)


def test_the_zip_holds_each_video_unchanged_and_a_manifest(personas, workspace, client_for):
    first = make_take(workspace, "a fox", video=b"fox-bytes" * 1000, estimate="0.4000")
    second = make_take(workspace, "a whale", video=bytes(range(256)) * 300)
    unfinished = make_take(workspace, "not yet", status="in_progress")
    response = download(client_for(personas["viewer"]), [first, second, unfinished])
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert [row["id"] for row in manifest] == [unfinished.pk, second.pk, first.pk]  # newest first
    for row, take in zip(manifest[1:], (second, first), strict=True):
        data = archive.read(row["file"])
        assert hashlib.sha256(data).hexdigest() == row["sha256"] == take.video_sha256
    assert manifest[2]["cost"] == "0.4000" and manifest[2]["subject"] == "a fox"
    assert manifest[0]["file"] == ""
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [int(r["id"]) for r in rows] == [unfinished.pk, second.pk, first.pk]
    assert rows[1]["sha256"] == second.video_sha256


def test_a_zip_of_nothing_is_refused(personas, workspace, client_for):
    unfinished = make_take(workspace, "not yet", status="queued")
    response = download(client_for(personas["viewer"]), [unfinished])
    assert response.status_code == 400
    assert "nothing to put in a zip" in response.content.decode()
    with pytest.raises(Refused):
        export.archive([])


def test_the_zip_is_read_a_chunk_at_a_time(workspace):
    """Bounded memory: no piece handed to the server is bigger than a read chunk plus headers."""
    big = make_take(workspace, "big", video=b"x" * (3 * export.CHUNK + 17))
    pieces = list(export.ZipResponse(export.archive([big]), "a.zip").streaming_content)
    assert len(pieces) > 3 and max(len(p) for p in pieces) <= export.CHUNK + 4096


def test_under_asgi_the_zip_streams_asynchronously(workspace):
    take = make_take(workspace, "fox", video=b"abc" * 100)
    response = export.ZipResponse(export.archive([take]), "a.zip")

    async def read_all():
        return b"".join([piece async for piece in response])

    body = async_to_sync(read_all)()
    assert zipfile.ZipFile(io.BytesIO(body)).read(export.file_name(take)) == b"abc" * 100


def test_a_zip_of_many_chunks_reads_back_with_every_crc_right_from_the_fast_crc32(workspace):
    """Every CRC-32 zipstream-ng computes comes from ISA-L's crc32 (export.py sets it as
    zipstream.ng's global; watched, not patched, here), and zipfile finds them all right."""
    video = os.urandom(4 * export.CHUNK + 12345)
    take = make_take(workspace, "noise", video=video)
    stream = export.archive([take])
    called = []

    def watch(frame, event, function):
        if event == "c_call" and getattr(function, "__name__", "") == "crc32":
            called.append(function.__module__)

    sys.setprofile(watch)
    try:
        body = b"".join(stream)
    finally:
        sys.setprofile(None)
    assert len(called) >= 5 and set(called) == {isal_zlib.crc32.__module__}  # 5 video chunks
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None  # every entry's CRC-32 checked against its bytes
    entry = archive.getinfo(export.file_name(take))
    assert zlib.crc32(video) == entry.CRC and archive.read(entry) == video


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=5000), st.lists(st.integers(0, 5000), max_size=8))
def test_the_fast_crc32_equals_zlibs_at_any_chunk_boundaries(data, cuts):
    edges = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    value = 0
    for start, end in zip(edges, edges[1:], strict=False):
        value = isal_zlib.crc32(memoryview(data)[start:end], value)
    assert value == zlib.crc32(data)
