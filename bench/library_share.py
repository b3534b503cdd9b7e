"""A share link's public page on a real server: time to first byte, and revocation.

``manage.py serve`` on loopback with its own data folder; a take with a video and a link made
by ``library.shares.create``. Each request is a new connection (as a visitor opening the
link), timed from the connection to the status line and headers; the baseline is the login
page, fetched the same way in the same run, interleaved. Then a Range request of the video
(what a playing player asks for), the link revoked, and the very next page and Range
requests must get 404.

    .venv/bin/python bench/library_share.py
    BENCH_REQUESTS=300 .venv/bin/python bench/library_share.py
"""

import http.client
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402


def ttfb(base: str, path: str, headers: dict | None = None) -> tuple[float, int, bytes]:
    """(ms to the status line and headers, status, body) of one GET on a new connection."""
    where = urlsplit(base)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        took = (time.perf_counter() - started) * 1000
        return took, response.status, response.read()
    finally:
        connection.close()


def main() -> None:
    runs = int(os.environ.get("BENCH_REQUESTS", "100"))
    var = django_on_scratch_data()
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.urls import reverse

    from library import shares
    from studio import workspaces
    from studio.models import Membership, Take
    from tests.support.processes import Install

    user = get_user_model().objects.create_user("bench", password="x-bench-x1")
    workspace = workspaces.onboard(user)
    take = Take.objects.create(
        workspace=workspace, created_by=user, subject="a lighthouse at dusk", size="1280x720",
        seconds=4, seed=1, model="animatic", status="completed",
    )  # fmt: skip
    take.video.save(f"take-{take.pk}.mp4", ContentFile(os.urandom(4 * 1024 * 1024)))
    membership = Membership.objects.get(workspace=workspace, user=user)
    link, token = shares.create(membership, take=take, expires="7", show_prompt=True)
    page = reverse("library_public:share", args=[token])
    media = reverse("library_public:media", args=[token, take.pk, "video"])

    install = Install(var)
    try:
        base = install.serve()
        for path in (page, "/login/"):  # warm-up: templates, first queries
            ttfb(base, path)
        shared, login = [], []
        for _ in range(runs):
            took, status, body = ttfb(base, page)
            if status != 200 or b"<video" not in body:
                sys.exit(f"share page: {status} {body[:300]}")
            shared.append(took)
            took, status, _ = ttfb(base, "/login/")
            if status != 200:
                sys.exit(f"login page: {status}")
            login.append(took)
        load = os.getloadavg()
        _, playing, _ = ttfb(base, media, {"Range": "bytes=0-65535"})
        shares.revoke(link)
        revoked_at = time.perf_counter()
        _, page_after, _ = ttfb(base, page)
        _, range_after, _ = ttfb(base, media, {"Range": "bytes=65536-131071"})
        seen_in = (time.perf_counter() - revoked_at) * 1000
    finally:
        install.stop()

    rows = [
        ["login page (baseline)", runs, f"{percentile(login, 50):.1f} ms",
         f"{percentile(login, 95):.1f} ms", "1.00"],
        ["share page (anonymous)", runs, f"{percentile(shared, 50):.1f} ms",
         f"{percentile(shared, 95):.1f} ms",
         f"{percentile(shared, 50) / percentile(login, 50):.2f}"],
    ]  # fmt: skip
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("Goal: share page time to first byte <= 50 ms on loopback\n")
    print(table(["GET, new connection each", "runs", "TTFB p50", "TTFB p95", "p50 vs login"], rows))
    print()
    print(
        table(
            ["request", "status"],
            [
                ["Range bytes=0-65535 of the video, before revoking", playing],
                ["share page, the first request after revoking", page_after],
                ["Range bytes=65536-131071, the next request", range_after],
            ],
        )
    )
    print(f"\nboth answered within {seen_in:.0f} ms of the revocation's commit")


if __name__ == "__main__":
    main()
