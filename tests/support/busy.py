"""A render, the biggest presets import Slate accepts and another workspace's saves and
logins, all at once on a real server (`manage.py serve`, the embedded worker, SQLite): the
"big import during a render" of the hardening issue. Shared by its test and
bench/busy_database.py."""

import json
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import closing

from tests.support.processes import Install, signed_in

CSRF = "b" * 32  # a valid CSRF secret: sent as the cookie and echoed in the header
SHOT = {
    "subject": "a lighthouse keeper",
    "motion": "climbs the spiral stair",
    "camera": "slow push-in",
    "lighting": "storm light through salt glass",
    "atmosphere": "wind and rain on the windows",
    "provider": "animatic",
    "size": "1280x720",
    "seconds": "8",
}


def presets_file(presets: int = 20, versions: int = 50) -> bytes:
    """A presets export at the import's bounds (20 presets of 50 versions: 1,000 versions)."""
    return json.dumps(
        {
            "format": "slate-presets",
            "version": 1,
            "presets": [
                {
                    "name": f"Import {p}",
                    "versions": [
                        {"fields": {"subject": f"shot {p}.{v}"}, "settings": {"seconds": "4"}}
                        for v in range(versions)
                    ],
                }
                for p in range(presets)
            ],
        }
    ).encode()


def post(url: str, session: str, fields: dict, upload: bytes | None = None) -> tuple[int, str]:
    """(status, body) of a form POST as a browser sends it, following no redirect."""
    headers = {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF}
    if upload is None:
        body = urllib.parse.urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="presets.json"\r\nContent-Type: application/json\r\n\r\n'
            ).encode()
            + upload
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


RUNNING = ("queued", "submitting", "in_progress")


def _take(install: Install, take_id: int | None = None) -> tuple[int, str]:
    with closing(sqlite3.connect(install.var / "slate.sqlite3", timeout=30)) as db:
        if take_id is None:
            return db.execute("SELECT id, status FROM studio_take ORDER BY id DESC").fetchone()
        return db.execute("SELECT id, status FROM studio_take WHERE id = ?", (take_id,)).fetchone()


def _wait(what, until, deadline: float):
    while True:
        value = what()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting; last seen {value!r}")
        time.sleep(0.05)


def scenario(install: Install, url: str, *, big_import: bool, saves: int = 15) -> dict:
    """Start a render in one workspace; while it renders, import presets there (when
    ``big_import``) as a member of another workspace saves presets and signs in, one request
    after another. What each request answered, how long it took, and how the render ended."""
    run = uuid.uuid4().hex[:6]
    ana, ana_slug = signed_in(install, f"ana{run}")
    ben, ben_slug = signed_in(install, f"ben{run}")
    deadline = time.monotonic() + 300  # a loaded machine renders slowly
    status, _ = post(f"{url}/w/{ana_slug}/generate/", ana, SHOT)
    assert status < 400, status
    take_id, _ = _take(install)
    started = time.monotonic()
    _wait(lambda: _take(install, take_id)[1], lambda s: s not in ("queued", "submitting"), deadline)

    found: dict = {"saves": [], "logins": []}

    def import_presets():
        began = time.monotonic()
        found["import"], found["import_page"] = post(
            f"{url}/w/{ana_slug}/library/presets/import/", ana, {}, presets_file()
        )
        found["import_seconds"] = time.monotonic() - began

    def save_and_sign_in():
        for n in range(saves):
            began = time.monotonic()
            fields = {"preset_name": f"Ben {n}", "subject": "a harbour", "provider": "animatic"}
            answer = post(f"{url}/w/{ben_slug}/library/presets/save/", ben, fields)
            found["saves"].append((answer[0], time.monotonic() - began, answer[1]))
            if n % 3 == 0:
                began = time.monotonic()
                login = {"username": f"ben{run}", "password": f"x-ben{run}-x1"}
                answer = post(f"{url}/login/", "", login)
                found["logins"].append((answer[0], time.monotonic() - began, answer[1]))

    def render():
        _, found["render"] = _wait(
            lambda: _take(install, take_id), lambda row: row[1] not in RUNNING, deadline
        )
        found["render_seconds"] = time.monotonic() - started

    threads = [threading.Thread(target=save_and_sign_in), threading.Thread(target=render)]
    if big_import:
        threads.append(threading.Thread(target=import_presets))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found
