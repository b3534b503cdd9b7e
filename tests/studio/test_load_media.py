"""Take media from a real server (`manage.py serve`, loopback): Range and revalidation through
the async media views, and a member removed while watching loses the video on the player's
next request."""

import sqlite3
import time
import urllib.error
import urllib.request
from contextlib import closing

import pytest

from tests.support.processes import make_install, signed_in

pytestmark = pytest.mark.slow

SETUP = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from studio import takes
from studio.models import Membership, Role, Workspace
from studio.prompts import Shot
workspace = Workspace.objects.get(slug="{slug}")
take = takes.queue_take(workspace, Shot(subject="harbour at dusk"), provider="animatic",
                        size="1280x720", seconds=4)
user = get_user_model().objects.create_user("watcher", password="x-watcher-x1")
Membership.objects.create(user=user, workspace=workspace, role=Role.VIEWER)
session = SessionStore()
session.update({{"_auth_user_id": str(user.pk),
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
    "_auth_user_hash": user.get_session_auth_hash()}})
session.create()
print(take.pk, session.session_key)
"""
REVOKE = """
from studio.models import Membership
Membership.objects.filter(user__username="watcher").delete()
"""


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    install = make_install(tmp_path_factory.mktemp("media") / "var")
    owner, slug = signed_in(install, "owner")
    outsider, _ = signed_in(install, "outsider")
    made = install.manage("shell", "-v0", "-c", SETUP.format(slug=slug))
    assert made.returncode == 0, made.stderr
    take_id, watcher = made.stdout.split()[-2:]
    url = install.serve()
    deadline = time.monotonic() + 120
    while True:
        with closing(sqlite3.connect(install.var / "slate.sqlite3")) as db:
            status, video = db.execute(
                "SELECT status, video FROM studio_take WHERE id = ?", (take_id,)
            ).fetchone()
        if status == "completed":
            break
        assert time.monotonic() < deadline, install.logs()
        time.sleep(0.2)
    yield {
        "install": install,
        "url": url,
        "take": int(take_id),
        "video": (install.var / "media" / video).read_bytes(),
        "owner": owner,
        "watcher": watcher,
        "outsider": outsider,
    }
    install.stop()


def get(url: str, session: str = "", **headers: str):
    """(status, headers, body) of a GET, following no redirect."""
    request = urllib.request.Request(url)
    if session:
        request.add_header("Cookie", f"sessionid={session}")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def video_url(studio) -> str:
    return f"{studio['url']}/takes/{studio['take']}/video/"


def test_a_range_of_the_video_is_206_with_those_bytes(studio):
    original = studio["video"]
    status, headers, body = get(video_url(studio), studio["owner"], range="bytes=1000-66535")
    assert status == 206
    assert headers["Content-Range"] == f"bytes 1000-66535/{len(original)}"
    assert body == original[1000:66536]
    status, _, body = get(video_url(studio), studio["owner"])
    assert status == 200 and body == original
    status, headers, _ = get(video_url(studio), studio["owner"], range=f"bytes={len(original)}-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(original)}"


def test_an_unchanged_video_revalidates_with_304(studio):
    _, headers, _ = get(video_url(studio), studio["owner"], range="bytes=0-99")
    assert headers["Cache-Control"] == "private, no-cache"
    status, _, body = get(video_url(studio), studio["owner"], if_none_match=headers["ETag"])
    assert status == 304 and body == b""


def test_the_download_is_the_whole_file_as_an_attachment(studio):
    status, headers, body = get(
        f"{studio['url']}/takes/{studio['take']}/download/", studio["owner"]
    )
    assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
    assert body == studio["video"]


def test_outsiders_and_visitors_get_nothing(studio):
    assert get(video_url(studio), studio["outsider"], range="bytes=0-99")[0] == 404
    status, headers, _ = get(video_url(studio), range="bytes=0-99")
    assert status == 302 and headers["Location"].startswith("/login/")


def test_a_member_removed_mid_video_gets_404_on_the_next_range(studio):
    assert get(video_url(studio), studio["watcher"], range="bytes=0-65535")[0] == 206
    revoked = studio["install"].manage("shell", "-v0", "-c", REVOKE)
    assert revoked.returncode == 0, revoked.stderr
    assert get(video_url(studio), studio["watcher"], range="bytes=65536-131071")[0] == 404
    assert get(f"{studio['url']}/takes/{studio['take']}/poster/", studio["watcher"])[0] == 404
