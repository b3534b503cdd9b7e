"""A worker killed mid-render: after a restart the take runs again, or ends failed with a reason.

Real processes on a real SQLite file: `manage.py generate` queues, `manage.py worker`
renders, SIGKILL stops it dead, a second worker's sweep picks the take up.
"""

import signal
import sqlite3
import time
from contextlib import closing

import pytest

from tests.support.processes import make_install

pytestmark = pytest.mark.slow


# Long enough that a live worker never loses its take, however busy the machine: the tests
# move a dead worker's lease into the past (time passing) rather than wait for it.
LEASE = 60


@pytest.fixture
def install(tmp_path):
    install = make_install(
        tmp_path / "var",
        SLATE_LEASE_SECONDS=str(LEASE),
        SLATE_SWEEP_SECONDS="0.5",
        SLATE_WORKER_POLL_SECONDS="0.1",
    )
    queued = install.manage(
        "generate", "--subject", "long take", "--camera", "crane up", "--size", "1280x720",
        "--seconds", "8",
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    yield install
    install.stop()


def take(install) -> dict:
    with closing(sqlite3.connect(install.var / "slate.sqlite3")) as db:
        row = db.execute(
            "select status, progress, attempts, video, error_message from studio_take"
        ).fetchone()
    return dict(zip(("status", "progress", "attempts", "video", "error"), row, strict=True))


def wait_for(install, condition, timeout=240) -> dict:
    """The take once ``condition`` holds; ``timeout`` only bounds a test going wrong (a render
    of this take can take a minute on a busy machine)."""
    deadline = time.monotonic() + timeout
    while not condition(current := take(install)):
        assert time.monotonic() < deadline, current
        time.sleep(0.05)
    return current


def kill_mid_render(install, **env) -> None:
    """SIGKILL a worker mid-render, then let its lease run out (a minute passes, at once)."""
    worker = install.start("worker", **env)
    wait_for(install, lambda t: t["status"] == "in_progress" and t["progress"] >= 10)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    with closing(sqlite3.connect(install.var / "slate.sqlite3", timeout=30)) as db, db:
        expired = db.execute(
            "update studio_take set lease_expires_at = datetime('now', '-1 second')"
            " where lease_expires_at > datetime('now')"
        )
        assert expired.rowcount == 1  # the dead worker's lease, still running


def finished(t: dict) -> bool:
    return t["status"] in ("completed", "failed")


def test_a_killed_workers_take_is_rendered_again_by_the_next_worker(install):
    kill_mid_render(install)
    assert take(install)["status"] == "in_progress"  # nothing has noticed yet: no worker runs

    install.start("worker")
    done = wait_for(install, finished)
    assert done["status"] == "completed" and done["attempts"] == 2
    media = install.var / "media"
    assert [v.relative_to(media).as_posix() for v in media.rglob("*.mp4")] == [done["video"]]


def test_a_take_that_keeps_killing_workers_ends_failed_with_a_reason(install):
    kill_mid_render(install, SLATE_MAX_ATTEMPTS="1")
    install.start("worker", SLATE_MAX_ATTEMPTS="1")
    done = wait_for(install, finished)
    assert done["status"] == "failed" and "stopped unexpectedly 1 times" in done["error"]
    assert not list((install.var / "media").rglob("*.mp4"))


def test_stopping_a_worker_hands_its_take_to_the_next_without_using_an_attempt(install):
    worker = install.start("worker")
    wait_for(install, lambda t: t["status"] == "in_progress" and t["progress"] >= 10)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0
    handed_back = take(install)
    assert handed_back["status"] == "queued" and handed_back["attempts"] == 0

    install.start("worker")
    done = wait_for(install, finished)
    assert done["status"] == "completed" and done["attempts"] == 1
