"""Helpers for driving the job engine against the simulator, in process."""

import contextlib
import threading
import time

import httpx
from django.db import connection
from django.test import Client
from django_tasks_db.management.commands.db_worker import Worker

from studio import takes
from studio.engine.watcher import watcher
from studio.models import TERMINAL_STATUSES, Take
from studio.prompts import Shot
from studio.providers import endpoints, http
from tests.fakes.fal_api import DEFAULT_KEY as FAL_KEY
from tests.fakes.fal_api import FalSimulator
from tests.fakes.transport import StreamingASGITransport, SyncASGITransport
from tests.fakes.videos_api import DEFAULT_KEY, Faults, VideosSimulator

KEY = DEFAULT_KEY
SECRET = "whsec_" + "c2xhdGUtc2ltdWxhdG9yLXNlY3JldC0wMTIzNDU2Nzg5"  # base64 of a test secret
FAST = {"typical_render": {"base": 0.3, "per_second": 0.0}}
# The provider timeout where a test isn't about timeouts: roomy, because a simulator encodes a
# clip on its first download (seconds on a busy machine), which must not read as a dropped
# download. Tests of lost answers pass their own (the engine's grace period is twice it).
ROOMY = 10.0
# The provider timeout in tests of lost answers (a create that hangs, or whose answer may still
# come): short, as the engine waits twice it before reconciling, yet seconds, so the test's
# other requests never come near it.
LOST = 2.0


@contextlib.contextmanager
def watcher_beside_the_test():
    """The engine's watcher thread works beside a test's own thread: on the in-memory
    SQLite test database, whose table locks wait for nobody, their queries take turns
    (one lock, held by the test's thread for each query and by the watcher for each piece
    of its database work). Stopped at the end, so nothing writes while the test tears
    down."""
    lock = threading.RLock()

    def in_turn(execute, sql, params, many, context):
        with lock:
            return execute(sql, params, many, context)

    watcher.io_guard = lock
    try:
        with connection.execute_wrapper(in_turn):
            yield
    finally:
        watcher.stop()
        watcher.io_guard = contextlib.nullcontext()


def queue(
    workspace,
    subject: str = "a paper boat in a gutter",
    *,
    provider: str = "sim",
    model: str = "sora-2",
    size: str = "1280x720",
    seconds: int = 4,
    camera: str = "slow push-in",
    shot: Shot | None = None,
    **settings,
) -> Take:
    """A take of ``subject`` (or of ``shot``) queued in ``workspace`` on ``provider``. A test
    module fixes its provider's defaults once with ``functools.partial``; a test names only
    what it varies (``seconds=8``, ``reference=...``)."""
    return takes.queue_take(
        workspace,
        shot or Shot(subject=subject, camera=camera),
        provider=provider,
        model=model,
        size=size,
        seconds=seconds,
        **settings,
    )


def refreshed(take: Take) -> Take:
    """``take`` as the database has it now (in place, and returned, for use in a lambda)."""
    take.refresh_from_db()
    return take


def simulator(**faults) -> VideosSimulator:
    faults.setdefault("render_seconds", (0.1, 0.3))
    return VideosSimulator(Faults(**faults), api_key=KEY)


def connect(
    monkeypatch,
    workspace,
    sim: VideosSimulator,
    *,
    webhooks=False,
    timeout=ROOMY,
    models=("sora-2", "sora-2-pro"),
    name="sim",
    profile="openai",
):
    """An endpoint in ``workspace`` whose HTTP goes to ``sim`` (its typical renders are short)."""
    from django.conf import settings

    monkeypatch.setattr(settings, "SLATE_PROVIDER_TIMEOUT", timeout)
    transport = SyncASGITransport(sim.app)
    monkeypatch.setattr(
        http, "http_client", lambda: httpx.Client(transport=transport, timeout=timeout)
    )
    endpoint = endpoints.add_endpoint(
        workspace,
        name=name,
        kind="openai",
        base_url=getattr(sim, "base", "http://sim") + sim.prefix,
        api_key=sim.api_key,
        models=list(models),
        webhook_secret=SECRET if webhooks else "",
        requests_per_minute=10_000,
        profile=profile,
    )
    endpoint.model_overrides = dict.fromkeys(models, FAST)
    endpoint.save()
    if webhooks:
        monkeypatch.setattr(settings, "SLATE_PUBLIC_URL", "http://testserver")
        sim.faults.webhook_url = f"/hooks/openai/{endpoint.webhook_token}/"
        sim.faults.webhook_secret = SECRET
        web = Client()
        sim.deliver = lambda url, headers, body: (
            web.post(
                url.removeprefix("http://testserver"),
                data=body,
                content_type="application/json",
                headers={k: v for k, v in headers.items() if k != "content-type"},
            ).status_code
        )
    return endpoint


def worker(one_at_a_time: bool = False) -> Worker:
    """A worker that runs every due task and returns (``one_at_a_time``: at most one)."""
    return Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1 if one_at_a_time else None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )


def drive(sim: VideosSimulator, until=None, timeout: float = 60.0) -> None:
    """Run due tasks and tick the simulator until ``until()`` (default: every take ended).
    ``timeout`` only bounds a test that is going wrong: it is generous, a busy machine is slow."""
    until = until or (lambda: not Take.objects.exclude(status__in=TERMINAL_STATUSES).exists())
    # One task at a time, ``until`` asked after each: a take watched in slices is due again
    # after every slice, so a batch could run until it ends and miss the state waited for.
    runner = worker(one_at_a_time=True)
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, list(
            Take.objects.values("pk", "status", "error_message")
        )
        sim.tick()
        ran = runner._run_tasks
        runner.run()
        if runner._run_tasks == ran:
            time.sleep(0.02)  # nothing was due


def fal_simulator(**faults) -> FalSimulator:
    faults.setdefault("render_seconds", (0.1, 0.3))
    return FalSimulator(Faults(**faults), api_key=FAL_KEY)


def connect_fal(
    monkeypatch,
    workspace,
    sim: FalSimulator,
    *,
    webhooks=False,
    timeout=ROOMY,
    models=("fal-ai/veo3.1", "fal-ai/kling-video/v3/pro/text-to-video"),
    name="fal",
    overrides=None,
):
    """A fal endpoint in ``workspace`` whose HTTP (queue, CDN, key set) goes to ``sim``."""
    from django.conf import settings

    from studio.providers import falkeys

    monkeypatch.setattr(settings, "SLATE_PROVIDER_TIMEOUT", timeout)
    monkeypatch.setattr(settings, "SLATE_FAL_JWKS_URL", f"{sim.base}/.well-known/jwks.json")
    falkeys.forget()
    transport = SyncASGITransport(sim.app)
    monkeypatch.setattr(
        http, "http_client", lambda: httpx.Client(transport=transport, timeout=timeout)
    )
    # Status streams are read in the engine's watcher loop, as the simulator sends them.
    monkeypatch.setattr(
        http,
        "stream_client",
        lambda private: httpx.AsyncClient(transport=StreamingASGITransport(sim.app)),
    )
    if webhooks:
        monkeypatch.setattr(settings, "SLATE_PUBLIC_URL", "http://testserver")
    endpoint = endpoints.add_endpoint(
        workspace,
        name=name,
        kind="fal",
        base_url=sim.base,
        api_key=FAL_KEY,
        models=list(models),
        webhooks=webhooks,
        requests_per_minute=10_000,
        model_overrides=overrides or dict.fromkeys(models, FAST),
    )
    if webhooks:
        web = Client()
        sim.deliver = lambda url, headers, body: (
            web.post(
                url.removeprefix("http://testserver"),
                data=body,
                content_type="application/json",
                headers={k: v for k, v in headers.items() if k != "content-type"},
            ).status_code
        )
    return endpoint


def connect_comfy(monkeypatch, workspace, base_url: str, *, name="gpu", models=("smoke",)):
    """A ComfyUI endpoint in ``workspace`` for a (fake) server really listening on loopback."""
    from django.conf import settings

    monkeypatch.setattr(settings, "SLATE_PROVIDER_TIMEOUT", ROOMY)
    monkeypatch.setattr(settings, "SLATE_WATCH_SECONDS", 2.0)
    return endpoints.add_endpoint(
        workspace,
        name=name,
        kind="comfyui",
        base_url=base_url,
        models=list(models),
        requests_per_minute=10_000,
        model_overrides=dict.fromkeys(models, FAST),
    )


def offline_take(workspace, *, kind, model, size, seconds, typical, **endpoint):
    """A take queued on an endpoint nothing listens at (for rules that need no provider),
    its model's typical render set to ``typical`` seconds."""
    endpoints.add_endpoint(
        workspace,
        name=kind,
        kind=kind,
        models=[model],
        model_overrides={model: {"typical_render": {"base": typical, "per_second": 0}}},
        **endpoint,
    )
    return queue(workspace, "a lighthouse", provider=kind, model=model, size=size, seconds=seconds)
