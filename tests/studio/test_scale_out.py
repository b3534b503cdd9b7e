"""Scale-out: PostgreSQL, Redis, a web process without a worker, and two worker processes.

Progress from a worker process must reach a browser's websocket on the web process
(channels-redis), and the two workers must share the queue without running a take twice.
"""

import os
import secrets
import time
from contextlib import closing

import psycopg
import pytest
import redis
from websockets.sync.client import connect

from tests.conftest import CI
from tests.support.processes import make_install, signed_in

# The shared Redis (pub/sub is server-wide): one test process uses it at a time.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("redis")]

POSTGRES = os.environ.get("SLATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("SLATE_TEST_REDIS", "redis://127.0.0.1:6379/15")

QUEUE_TWO = """
from django.core.management import call_command
for subject in ("harbour at dawn", "gulls over the pier"):
    call_command("generate", "--subject", subject, "--camera", "pan left", "--seconds", "12",
                 "--workspace", "{slug}")
"""


def service_or_skip(name: str, check) -> None:
    try:
        check()
    except Exception as error:
        message = f"{name} is not reachable ({error}); scripts/ensure-services starts it"
        if CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture
def database_url():
    service_or_skip("PostgreSQL", lambda: psycopg.connect(POSTGRES, connect_timeout=3).close())
    name = f"slate_scale_{secrets.token_hex(4)}"
    with closing(psycopg.connect(POSTGRES, autocommit=True)) as admin:
        admin.execute(f"create database {name}")
    yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    with closing(psycopg.connect(POSTGRES, autocommit=True)) as admin:
        admin.execute(f"drop database {name} with (force)")


@pytest.fixture
def redis_url():
    service_or_skip("Redis", lambda: redis.Redis.from_url(REDIS, socket_timeout=3).ping())
    return REDIS


def test_progress_from_worker_processes_reaches_the_browser(tmp_path, database_url, redis_url):
    install = make_install(
        tmp_path / "var", DATABASE_URL=database_url, REDIS_URL=redis_url,
        SLATE_EMBEDDED_WORKER="false", SLATE_WORKER_POLL_SECONDS="0.1",
    )  # fmt: skip
    try:
        session, slug = signed_in(install, "mara")
        url = install.serve()
        headers = {"Cookie": f"sessionid={session}", "Origin": url}
        with connect(f"ws{url[4:]}/ws/w/{slug}/", additional_headers=headers) as ws:
            # Both workers are up before the takes are queued, both at once: each worker takes
            # one because the other is busy, not because it happened to start first.
            install.worker()
            install.worker()
            queued = install.manage("shell", "-v0", "-c", QUEUE_TWO.format(slug=slug))
            assert queued.returncode == 0, queued.stderr
            messages, deadline = [], time.monotonic() + 300  # bounds only a run going wrong
            while sum("badge-completed" in m for m in messages) < 2:
                assert time.monotonic() < deadline, messages[-3:]
                messages.append(ws.recv(timeout=120))
        ticks = [m for m in messages if m.startswith('<progress id="card-progress-')]
        claimed = [m for m in messages if "badge-in_progress" in m]
        assert len(ticks) >= 4 and claimed  # pushed from the worker processes, through Redis

        with closing(psycopg.connect(database_url)) as db:
            takes = db.execute("select status, attempts from studio_take").fetchall()
            workers = db.execute(
                "select worker_ids from django_tasks_database_dbtaskresult"
                " where status = 'SUCCESSFUL'"
            ).fetchall()
        assert takes == [("completed", 1), ("completed", 1)]  # each rendered exactly once
        assert len({ids[0] for (ids,) in workers}) == 2  # by two different workers
    finally:
        install.stop()
