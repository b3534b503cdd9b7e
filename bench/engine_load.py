"""The engine under load (issue 10): a ComfyUI burst, many remote takes without webhooks,
50 ComfyUI takes followed at once, and worker processes sharing a rate-limited endpoint. Four
parts, each in a process of its own (``--only`` runs one):

- ``burst``: 10 one-second takes queued at once against the fake ComfyUI server on loopback
  (tests/fakes/comfyui.py; each prompt renders for 1 s in 10 sampler steps, one at a time),
  followed by one embedded worker (studio.engine.worker.BackgroundWorker, one task thread,
  the watcher with its default 60 s between HTTP checks, ComfyUI's default of no request
  limiter). Lag is from the
  server's ``execution_success`` to the take's ``finished_at`` (the video saved in Slate).
  Baseline, same run: the same burst with the websocket refused (the simulator's
  ``no_websocket``), so Slate polls. Goal: p95 <= 2 s.
- ``many``: 50 ComfyUI takes at once, each on a fake server of its own (one ComfyUI renders
  one prompt at a time: 50 running at once are a farm of 50), renders drawn from 5-60 s
  (``--comfy-spread``), one worker process (BackgroundWorker) with the watcher (one and four
  task threads) and, as the baseline in the same run, the blocking 20 s slices of before
  (SLATE_WATCHER=false, one task thread: the old embedded default). Lag: ComfyUI's
  ``execution_success`` to the take's ``finished_at``; bound max(5 s, 25 % of the render).
- ``remote``: 50 takes at once on the OpenAI-compatible /v1/videos simulator without
  webhooks, run times spread uniformly over 5-120 s, ``sora-2`` with its catalogue typical
  render (30 s + 5 s per clip second, 4 s clips), one embedded worker (one task thread) in
  this process, an endpoint limit of 10,000/minute (this part is about the pace of looks,
  not the limiter). A finish counts as seen when the worker asks for the video (the first
  ``/content`` request); the bound is max(5 s, 25 % of the job's run time). ``--scale``
  shrinks every time (renders, typical render, the engine's 0.2 s floor) alike; figures are
  given in real-time seconds. Goals: every finish within its bound, <= 8 calls per take.
  ``--provider fal``: the same on fal's queue API simulator (``fal-ai/veo3.1`` with the
  same typical render), which reports a queue position but never a percentage: each take
  followed over its status stream by the watcher, and, as the baseline in the same run, the
  paced polling of before (fal not followed live).
- ``scale``: 4 ``manage.py worker`` processes on PostgreSQL + Redis (a fresh database,
  dropped afterwards), 40 takes on the /v1/videos simulator served on loopback, which
  refuses (429) more than 25 calls in any 60 s; the endpoint's limit is 25/minute; renders
  of 10-40 s. Goals: 0 failed, never more than 25 calls in any 60 s window, <= 3.2 calls per
  completed take, >= 90 % of the limit spent on useful calls (a create, one look that finds
  the job done, one download: 3 per completed take, against the most a sliding 60 s window
  lets through between the first call and the last). ``--takes`` and ``--rpm`` scale it down.

Calls are counted twice: by Slate (``take.provider_calls``) and by the simulator (every
request it received). The load average (2 shared cores) is printed with each part.

    .venv/bin/python bench/engine_load.py [--only burst|many|remote|scale] [--takes N] ...
"""

import argparse
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import REPO, Patches, django_on_scratch_data, percentile, table  # noqa: E402
from tests.fakes.comfyui import ComfySimulator  # noqa: E402  (a simulator: nothing of Slate)


class Stamped(ComfySimulator):
    """Remembers when each prompt's ``execution_success`` went out."""

    def __post_init__(self):
        super().__post_init__()
        self.succeeded: dict[str, float] = {}

    async def send(self, client_id, kind, data):
        if kind == "execution_success":
            self.succeeded[data["prompt_id"]] = time.time()
        await super().send(client_id, kind, data)


POSTGRES = os.environ.get("SLATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("SLATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
FLOOR = 0.2  # studio.engine.pacing.FLOOR


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def wait_until(done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def queue_batch(workspace, endpoint, takes, label, model, size, seconds) -> list:
    """``takes`` takes queued at once on ``endpoint``, numbered in their subjects."""
    from studio import takes as take_actions
    from studio.prompts import Shot

    return [
        take_actions.queue_take(
            workspace,
            Shot(subject=f"{label} {n}"),
            provider=endpoint.name,
            model=model,
            size=size,
            seconds=seconds,
        )
        for n in range(takes)
    ]


def all_ended(batch) -> bool:
    from studio.models import TERMINAL_STATUSES, Take

    pks = [take.pk for take in batch]
    return not Take.objects.filter(pk__in=pks).exclude(status__in=TERMINAL_STATUSES).exists()


def embedded_worker():
    """The embedded default's worker: one task thread and the sweeper."""
    from studio.engine.worker import BackgroundWorker

    return BackgroundWorker(threads=1).start()


def stop_worker(worker) -> None:
    from studio.engine import local

    worker.stop()
    local.shutting_down.clear()  # the next part starts a worker in this same process


# --- burst ---------------------------------------------------------------------------------


def run_burst(takes: int, render: float, websocket: bool) -> dict:
    from django.conf import settings

    from bench.provider_calls import Recorder
    from studio.models import Take, Workspace
    from studio.providers import endpoints
    from tests.fakes.comfyui import ComfyFaults
    from tests.fakes.videos_api import serve
    from tests.support.engine import connect_comfy

    mode = "websocket" if websocket else "polling (websocket refused)"
    slug = f"burst-{'ws' if websocket else 'poll'}"
    workspace = Workspace.objects.create(name=slug, slug=slug)
    sim = Stamped(ComfyFaults(render_seconds=render, steps=10, no_websocket=not websocket))
    recorder = sim.app = Recorder(sim.app)
    with Patches() as patch, serve(sim) as running:
        endpoint = connect_comfy(patch, workspace, running.base_url)
        # connect_comfy shortens the watch and lifts the limit for tests: the defaults.
        patch.setattr(settings, "SLATE_WATCH_SECONDS", 60.0)
        endpoint.requests_per_minute = endpoints.DEFAULT_RPM["comfyui"]
        endpoint.model_overrides = {}  # the smoke template's catalogue time
        endpoint.save()
        worker = embedded_worker()
        try:
            started = time.monotonic()
            batch = queue_batch(workspace, endpoint, takes, f"{slug} take", "smoke", "640x360", 1)
            wait_until(lambda: all_ended(batch), 600, f"{slug}: takes still not done")
            elapsed = time.monotonic() - started
        finally:
            stop_worker(worker)
    done = list(Take.objects.filter(pk__in=[t.pk for t in batch]))
    lag = [
        take.finished_at.timestamp() - sim.succeeded[take.remote_id]
        for take in done
        if take.status == "completed"
    ]
    http = sum(1 for channel, _, _ in recorder.calls if channel == "http")
    return {
        "mode": mode,
        "takes": len(done),
        "completed": sum(take.status == "completed" for take in done),
        "lag": lag,
        "counted": statistics.mean(take.provider_calls for take in done),
        "received": http / len(done),
        "sockets": (sim.accepted_sockets, sim.refused_sockets),
        "routes": Counter(
            "/history" if path.startswith("/history/") else path
            for channel, _, path in recorder.calls
            if channel == "http"
        ),
        "seconds": elapsed,
    }


def burst(args) -> None:
    django_on_scratch_data()
    # Each refused websocket is logged at INFO ("polling this time"): expected in the baseline.
    logging.getLogger("studio.engine.follow").setLevel(logging.WARNING)
    print(f"## ComfyUI burst: {args.takes or 10} one-second takes, one embedded worker\n")
    print(f"({load()} at start)")
    rows, results = [], []
    for websocket in (True, False):
        result = run_burst(args.takes or 10, args.render, websocket)
        results.append(result)
        lag = result["lag"]
        opened, refused = result["sockets"]
        rows.append(
            [
                result["mode"],
                f"{result['completed']} of {result['takes']}",
                f"{percentile(lag, 50):.2f} s",
                f"{percentile(lag, 95):.2f} s",
                f"{max(lag):.2f} s",
                f"{result['counted']:.2f}",
                f"{result['received']:.2f}",
                f"{opened} / {refused}",
                f"{result['seconds']:.1f} s",
            ]
        )
    print(
        table(
            [
                "mode",
                "completed",
                "p50 lag",
                "p95 lag",
                "max lag",
                "calls/take (Slate)",
                "requests/take (server)",
                "websockets opened / refused",
                "burst wall time",
            ],
            rows,
        )
    )
    for result in results:
        routes = ", ".join(
            f"{path} {count / result['takes']:.1f}"
            for path, count in result["routes"].most_common()
        )
        print(f"- {result['mode']}: requests per take by route: {routes}")
    ws, poll = (percentile(r["lag"], 95) for r in results)
    verdict = "met" if ws <= 2 else "NOT met"
    print(f"\np95 lag, polling / websocket: {poll / ws:.1f}x; goal p95 <= 2 s: {verdict}")
    print(f"({load()} at end)")


# --- many ComfyUI takes followed at once ---------------------------------------------------


def run_many(takes: int, spread: tuple[float, float], watcher: bool, threads: int) -> dict:
    """``takes`` ComfyUI takes at once, each on a server of its own (a farm: ComfyUI renders
    one prompt at a time per server, so this is how that many run at once), render times
    drawn from ``spread``, followed by one worker of ``threads`` task threads."""
    from contextlib import ExitStack

    from django.conf import settings

    from bench.provider_calls import Recorder
    from studio import takes as take_actions
    from studio.models import Take, Workspace
    from studio.prompts import Shot
    from studio.providers import endpoints
    from tests.fakes.comfyui import ComfyFaults
    from tests.fakes.videos_api import serve
    from tests.support.engine import connect_comfy

    mode = (
        f"watcher, {threads} task thread(s)"
        if watcher
        else f"blocking 20 s slices, {threads} task thread(s)"
    )
    slug = f"many-{'w' if watcher else 's'}-{threads}"
    workspace = Workspace.objects.create(name=slug, slug=slug)
    rng = random.Random(3)
    renders = [rng.uniform(*spread) for _ in range(takes)]
    sims = [Stamped(ComfyFaults(render_seconds=r, steps=max(int(r), 1))) for r in renders]
    recorders = []
    with Patches() as patch, ExitStack() as stack:
        batch = []
        for n, sim in enumerate(sims):
            recorders.append(Recorder(sim.app))
            sim.app = recorders[-1]
            running = stack.enter_context(serve(sim))
            endpoint = connect_comfy(patch, workspace, running.base_url, name=f"gpu{n}")
            endpoint.requests_per_minute = endpoints.DEFAULT_RPM["comfyui"]
            endpoint.model_overrides = {}
            endpoint.save()
        patch.setattr(settings, "SLATE_WATCHER", watcher)
        # connect_comfy shortens the watch for tests: the previous default slice (baseline)
        # or the watcher's default.
        patch.setattr(settings, "SLATE_WATCH_SECONDS", 60.0 if watcher else 20.0)
        from studio.engine.worker import BackgroundWorker

        worker = BackgroundWorker(threads=threads).start()
        try:
            started = time.monotonic()
            batch = [
                take_actions.queue_take(
                    workspace,
                    Shot(subject=f"{slug} take {n}"),
                    provider=f"gpu{n}",
                    model="smoke",
                    size="640x360",
                    seconds=1,
                )
                for n in range(takes)
            ]
            peak = 0
            deadline = time.monotonic() + 30 * spread[1] + 600
            while not all_ended(batch):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{slug}: takes still not done")
                peak = max(peak, worker_watching())
                time.sleep(0.25)
            elapsed = time.monotonic() - started
        finally:
            stop_worker(worker)
    done = {take.pk: take for take in Take.objects.filter(pk__in=[t.pk for t in batch])}
    records = []
    for take, sim, render, recorder in zip(batch, sims, renders, recorders, strict=True):
        take = done[take.pk]
        if take.status != "completed":
            records.append({"take": take, "render": render})
            continue
        lag = take.finished_at.timestamp() - sim.succeeded[take.remote_id]
        records.append(
            {
                "take": take,
                "render": render,
                "lag": lag,
                "ratio": lag / max(5.0, 0.25 * render),
                "calls": take.provider_calls,
                "received": sum(1 for channel, _, _ in recorder.calls if channel == "http"),
                "sockets": sum(1 for channel, _, _ in recorder.calls if channel == "ws"),
            }
        )
    return {"mode": mode, "records": records, "seconds": elapsed, "peak": peak}


def worker_watching() -> int:
    from studio.engine.watcher import watcher

    return len(watcher.watched())


def many(args) -> None:
    django_on_scratch_data()
    takes, (low, high) = args.takes or 50, args.comfy_spread
    print(
        f"## {takes} ComfyUI takes at once, each on its own (fake) server, renders "
        f"{low:g}-{high:g} s, one worker process\n"
    )
    print(f"({load()} at start)")
    rows, results = [], []
    modes = [(True, 1), (True, 4), (False, 1)]
    if args.no_baseline:
        modes = modes[:2]
    for watcher, threads in modes:
        result = run_many(takes, (low, high), watcher, threads)
        results.append(result)
        done = [r for r in result["records"] if "lag" in r]
        lag = [r["lag"] for r in done]
        rows.append(
            [
                result["mode"],
                f"{len(done)} of {len(result['records'])}",
                result["peak"] if watcher else "-",
                f"{percentile(lag, 50):.2f} s",
                f"{percentile(lag, 95):.2f} s",
                f"{max(lag):.2f} s",
                f"{max(r['ratio'] for r in done):.2f}",
                sum(r["ratio"] > 1 for r in done),
                f"{statistics.mean(r['calls'] for r in done):.2f}",
                f"{statistics.mean(r['received'] for r in done):.2f}",
                f"{statistics.mean(r['sockets'] for r in done):.2f}",
                f"{result['seconds']:.0f} s",
            ]
        )
        print(f"({result['mode']} done, {load()})")
    print(
        table(
            [
                "mode",
                "completed",
                "most watched at once",
                "p50 lag",
                "p95 lag",
                "max lag",
                "max lag/bound",
                "over bound",
                "calls/take (Slate)",
                "requests/take (server)",
                "websockets/take",
                "wall time",
            ],
            rows,
        )
    )
    if len(results) == 3:
        new, old = (
            percentile([r["lag"] for r in x["records"] if "lag" in r], 95)
            for x in (results[0], results[2])
        )
        print(f"\np95 lag, blocking slices / watcher (1 thread): {old / new:.0f}x")
    print(
        "Lag: ComfyUI's execution_success to the take's finished_at (video saved in Slate); "
        "bound: max(5 s, 25 % of the render)."
    )
    print(f"({load()} at end)")


# --- remote, no webhooks -------------------------------------------------------------------


def remote(args) -> None:
    django_on_scratch_data()
    takes, low, high = args.takes or 50, *args.spread
    fal = args.provider == "fal"
    what = "fal queue API simulator" if fal else "/v1/videos simulator"
    print(
        f"## {takes} remote takes at once without webhooks ({what}), "
        f"run times {low:g}-{high:g} s, one embedded worker"
        + (f", time scaled by {args.scale:g}" if args.scale != 1 else "")
        + "\n"
    )
    if not fal:
        remote_run(args, stream=False)
        return
    # fal: its status stream followed by the watcher, against the baseline of paced polling
    # (fal isn't followed live), each on a fresh simulator, in this run.
    results = {}
    for stream in (False, True) if not args.no_baseline else (True,):
        print(f"\n### {'status stream (watcher)' if stream else 'baseline: paced polling'}\n")
        results[stream] = remote_run(args, stream=stream)
    if len(results) == 2:
        (calls, lag), (calls0, lag0) = results[True], results[False]
        print(
            f"\nStream / polling: calls per take {calls:.2f} / {calls0:.2f} "
            f"({calls / calls0:.2f}x); max lag {lag:.1f} s / {lag0:.1f} s "
            f"({lag / max(lag0, 0.01):.2f}x)"
        )


def remote_run(args, stream: bool) -> tuple[float, float]:
    """One batch of remote takes; (calls per take, max lag), as Slate counted them."""
    from django.conf import settings

    from studio.engine import pacing
    from studio.models import Take, Workspace
    from studio.providers import endpoints
    from tests.support.engine import connect, connect_fal, fal_simulator, simulator

    takes, scale = args.takes or 50, args.scale
    low, high = args.spread
    fal = args.provider == "fal"
    print(f"({load()} at start)")
    slug = f"remote-{'stream' if stream else 'poll'}"
    workspace = Workspace.objects.create(name=slug, slug=slug)
    make = fal_simulator if fal else simulator
    sim = make(render_seconds=(low * scale, high * scale), asset_size="320x180")
    model = "fal-ai/veo3.1" if fal else "sora-2"
    typical = {model: {"typical_render": {"base": 30 * scale, "per_second": 5 * scale}}}
    with Patches() as patch:
        if fal:
            endpoint = connect_fal(patch, workspace, sim, webhooks=False, models=(model,))
        else:
            endpoint = connect(patch, workspace, sim, webhooks=False, models=(model,))
        if not stream:
            patch.setattr(endpoints, "LIVE_KINDS", endpoints.LIVE_KINDS - {"fal"})
        endpoint.model_overrides = typical
        endpoint.save()
        patch.setattr(pacing, "FLOOR", FLOOR * scale)
        patch.setattr(pacing, "LAG_FLOOR", pacing.LAG_FLOOR * scale)
        patch.setattr(settings, "SLATE_PROVIDER_TIMEOUT", 30.0)
        worker = embedded_worker()
        try:
            started = time.monotonic()
            batch = queue_batch(workspace, endpoint, takes, "remote take", model, "1280x720", 4)
            wait_until(lambda: all_ended(batch), 20 * high * scale + 120, "remote takes")
            elapsed = time.monotonic() - started
        finally:
            stop_worker(worker)
    done = list(Take.objects.filter(pk__in=[t.pk for t in batch]))

    def video_of(path: str) -> str | None:
        return next((part for part in path.split("/") if part in sim.videos), None)

    per_video = Counter(video_of(call.path) for call in sim.calls)
    streams = Counter(video_of(call.path) for call in sim.calls if call.path.endswith("/stream"))
    first_download = {}
    for call in sim.calls:
        if call.path.endswith(("/content", "/output.mp4")):
            first_download.setdefault(video_of(call.path), call.at)
    records = []
    for take in done:
        video = sim.videos[take.remote_id]
        finished = video.created + video.duration
        seen = first_download.get(take.remote_id, take.finished_at.timestamp())
        run, lag = video.duration / scale, (seen - finished) / scale
        records.append(
            {
                "take": take,
                "run": run,
                "lag": lag,
                "ratio": lag / max(5.0, 0.25 * run),
                "calls": take.provider_calls,
                "received": per_video[take.remote_id] + 1,  # + its create (POST /videos)
                "streams": streams[take.remote_id],
            }
        )
    bands = [(0, 15), (15, 40), (40, 80), (80, 10_000)]
    rows = []
    for lo, hi in [*bands, (0, 10_000)]:
        group = [r for r in records if lo <= r["run"] < hi]
        if not group:
            continue
        label = "all" if (lo, hi) == (0, 10_000) else f"{max(lo, low):g}-{min(hi, high):g} s"
        rows.append(
            [
                label,
                len(group),
                sum(r["take"].status == "completed" for r in group),
                f"{statistics.median(r['lag'] for r in group):.1f} s",
                f"{max(r['lag'] for r in group):.1f} s",
                f"{max(r['ratio'] for r in group):.2f}",
                sum(r["ratio"] > 1 for r in group),
                f"{statistics.mean(r['calls'] for r in group):.2f}",
                max(r["calls"] for r in group),
                f"{statistics.mean(r['received'] for r in group):.2f}",
                *([f"{statistics.mean(r['streams'] for r in group):.2f}"] if fal else []),
            ]
        )
    print(
        table(
            [
                "run time",
                "takes",
                "completed",
                "median lag",
                "max lag",
                "max lag/bound",
                "over bound",
                "calls/take (Slate)",
                "max calls",
                "requests/take (server)",
                *(["streams/take"] if fal else []),
            ],
            rows,
        )
    )
    worst = max(records, key=lambda r: r["ratio"])
    print(
        f"\nLag: the provider finishing to the worker asking for the video. Bound: max(5 s, "
        f"25 % of run time). Worst: a {worst['run']:.0f} s run seen {worst['lag']:.1f} s late. "
        f"Wall time {elapsed:.0f} s."
    )
    statuses = Counter(r["take"].status for r in records)
    if statuses.get("completed") != len(records):
        print(f"Not all completed: {dict(statuses)}")
    print(f"({load()} at end)")
    return (
        statistics.mean(r["calls"] for r in records),
        max(r["lag"] for r in records),
    )


# --- scale-out -----------------------------------------------------------------------------


def busiest_window(times: list[float], window: float = 60.0) -> int:
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def scale(args) -> None:
    import psycopg
    import redis

    takes, rpm, workers = args.takes or 40, args.rpm, args.workers
    name = f"slate_bench_{secrets.token_hex(4)}"
    with closing(psycopg.connect(POSTGRES, autocommit=True)) as admin:
        admin.execute(f"create database {name}")
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    redis.Redis.from_url(REDIS).flushdb()  # this bench's Redis database: limiter buckets
    os.environ.update(DATABASE_URL=url, REDIS_URL=REDIS)
    processes = []
    try:
        var = django_on_scratch_data()
        processes = scale_run(var, takes, rpm, workers)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        with closing(psycopg.connect(POSTGRES, autocommit=True)) as admin:
            admin.execute(f"drop database {name} with (force)")


def scale_run(var: Path, takes: int, rpm: int, workers: int) -> list:
    from studio import takes as take_actions
    from studio.models import Take, Workspace
    from studio.prompts import Shot
    from studio.providers import endpoints
    from tests.fakes.videos_api import serve
    from tests.support.engine import simulator

    print(
        f"## {workers} worker processes on PostgreSQL + Redis, a {rpm}/minute endpoint, "
        f"{takes} takes\n"
    )
    print(f"({load()} at start)")
    sim = simulator(render_seconds=(10, 40), asset_size="320x180", rate_limit=rpm, rate_window=60)
    processes = []
    with serve(sim) as running:
        workspace = Workspace.objects.create(name="scale", slug="scale")
        endpoint = endpoints.add_endpoint(
            workspace,
            name="sim",
            kind="openai",
            base_url=running.base_url,
            api_key=sim.api_key,
            models=["sora-2"],
            requests_per_minute=rpm,
        )
        env = {**os.environ, "SLATE_VAR_DIR": str(var), "SLATE_ALLOW_PRIVATE_PROVIDERS": "true"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        for n in range(workers):
            log = (var / f"worker-{n}.log").open("w")
            process = subprocess.Popen(
                [sys.executable, str(REPO / "manage.py"), "worker"],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=log,
            )
            process.log_path = Path(log.name)
            log.close()
            processes.append(process)
        for process in processes:
            wait_until(
                lambda process=process: "Worker started" in process.log_path.read_text(),
                180,
                "a worker did not start:\n" + process.log_path.read_text(),
            )
        started = time.monotonic()
        rng = random.Random(7)
        batch = [
            take_actions.queue_take(
                workspace,
                Shot(subject=f"scale take {n}"),
                provider=endpoint.name,
                model="sora-2",
                size="1280x720",
                seconds=rng.choice((4, 8)),
            )
            for n in range(takes)
        ]
        wait_until(lambda: all_ended(batch), 60 * 60, "scale-out takes")
        elapsed = time.monotonic() - started
    done = list(Take.objects.filter(pk__in=[t.pk for t in batch]))
    completed = [take for take in done if take.status == "completed"]
    kinds = Counter()
    for call in sim.calls:
        if call.status == 429:
            kinds["429"] += 1
        elif call.method == "POST":
            kinds["create"] += 1
        elif call.path.endswith("/content"):
            kinds["download"] += 1
        elif call.path.endswith("/videos"):
            kinds["list"] += 1
        else:
            kinds["status"] += 1
    sent = len(sim.calls)
    times = [call.at for call in sim.calls]
    span = max(times) - min(times)
    useful = 3 * len(completed)
    per_take = sent / max(len(completed), 1)
    # The most a sliding 60 s window lets through between the first call and the last.
    capacity = rpm * (int(span // 60) + 1)
    mix = " / ".join(str(kinds[k]) for k in ("create", "status", "download", "list"))
    rows = [
        ["completed / failed", f"{len(completed)} / {len(done) - len(completed)}", "0 failed"],
        ["most calls in any 60 s", busiest_window(times), f"<= {rpm}"],
        ["429s received", kinds["429"], "0"],
        ["calls sent (server)", sent, ""],
        ["calls counted by Slate", sum(take.provider_calls for take in done), f"= {sent}"],
        ["creates / status / download / list", mix, ""],
        ["calls per completed take", f"{per_take:.2f}", "<= 3.2"],
        ["useful calls (3 per completed take)", f"{useful} ({useful / sent:.0%} of sent)", ""],
        ["limit (most the window allows)", f"{capacity} over {span:.0f} s", ""],
        [
            "limit spent on useful calls",
            f"{useful / capacity:.0%} (sent: {sent / capacity:.0%})",
            ">= 90 %",
        ],
        ["wall time (takes queued to all ended)", f"{elapsed:.0f} s", ""],
    ]
    print(table(["measure", "figure", "goal"], rows))
    failed = [take for take in done if take.status != "completed"]
    for take in failed:
        print(f"- take {take.pk} {take.status}: {take.error_message}")
    print(f"\n({load()} at end)")
    return processes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("burst", "many", "remote", "scale"))
    parser.add_argument("--takes", type=int, help="default: 10 burst, 50 remote, 40 scale")
    parser.add_argument("--render", type=float, default=1.0, help="burst: ComfyUI render, s")
    parser.add_argument("--spread", type=float, nargs=2, default=(5.0, 120.0))
    parser.add_argument("--comfy-spread", type=float, nargs=2, default=(5.0, 60.0))
    parser.add_argument(
        "--no-baseline", action="store_true", help="many: skip the slices; remote fal: the polls"
    )
    parser.add_argument("--provider", choices=("openai", "fal"), default="openai")
    parser.add_argument("--scale", type=float, default=1.0, help="remote: time scale")
    parser.add_argument("--rpm", type=int, default=25, help="scale: the endpoint's limit")
    parser.add_argument("--workers", type=int, default=4, help="scale: worker processes")
    args = parser.parse_args()
    if args.only:
        {"burst": burst, "many": many, "remote": remote, "scale": scale}[args.only](args)
        return
    for part in ("burst", "many", "remote", "scale"):
        subprocess.run([sys.executable, __file__, "--only", part, *sys.argv[1:]], check=True)
        print()


if __name__ == "__main__":
    main()
