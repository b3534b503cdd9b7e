"""Provider calls per completed take, for each provider kind, with and without webhooks.

The whole engine runs in this process against each kind's simulator, 120 takes per
(kind, mode) row, renders of 45–180 s (uniformly spread) over the model's clip lengths:

- ``openai``: the /v1/videos simulator, ``sora-2`` (4/8/12 s clips), in process (httpx's
  ASGI transport); polling, and Standard Webhooks.
- ``openrouter``: the same adapter with the ``openrouter`` profile against the OpenRouter
  simulator, ``google/veo-3.1`` (4/6/8 s); polling, and signed per-job ``callback_url``s.
- ``fal``: the fal queue simulator, ``fal-ai/veo3.1`` (4/6/8 s); polling, and Ed25519-signed
  ``fal_webhook`` callbacks.
- ``comfyui``: the fake ComfyUI server really listening on loopback (uvicorn), the ``smoke``
  template (1/2/4 s); live events over its websocket (the default), and polling
  ``/history`` + ``/queue``, which is what Slate falls back to when the websocket can't be
  opened (here the server refuses the handshake, as a proxy that doesn't pass websockets
  would). ComfyUI has no webhooks.

Time is scaled so the run takes minutes, not hours: render times, the model's typical render
time (``endpoint.model_overrides``) and, for ComfyUI, the watcher's HTTP check interval
(SLATE_WATCH_SECONDS, 60 s) are all scaled alike, so the number of checks is what it would be
in real time. The cloud kinds render in parallel and are scaled by 1/20. The ComfyUI server
runs one prompt at a time, as the real one does, so 120 renders in a row are scaled by 1/200,
and its takes are queued in waves of 4 (a creator queueing a few shots, waiting, queueing more)
rather than 120 deep; for those rows the engine's 0.2 s floor between checks is scaled to 0.02
s, so it is 4 s of real time in every row (elsewhere it is left alone: it can only reduce
calls). Its renders report 10 sampler steps over the websocket; encoding the MP4 (up to 0.2 s,
40 s at that scale) is done once per clip size and length, so it doesn't lengthen the renders.

Calls per take are ``take.provider_calls`` (every HTTP request the engine sent for the take,
retries included). The breakdown comes from a record of every request reaching the simulator
(an ASGI wrapper here: fal's simulator doesn't log its file "CDN", ComfyUI's logs nothing),
divided by the takes. Each simulator serves small MP4s, so copying them costs little.

The engine's own work per take (saving, copying, probing, a thumbnail sheet) is not scaled,
so squeezed 20× it can fall behind and show up as lag, and with webhooks as safety checks
that real time wouldn't need. To keep that small, the pushes to browsers (each state change
renders the take list and the take's panel, ~40 ms, with nobody connected here) are switched
off, as nothing they do reaches a provider, and the simulator may deliver webhooks between
any two tasks, not only between batches of them. The lag column is still mostly this one
worker thread catching up with work squeezed 20×.

    .venv/bin/python bench/provider_calls.py
"""

import json
import logging
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import Patches, django_on_scratch_data, percentile, table  # noqa: E402

TAKES = 120
SCALE = 1 / 20  # seconds here per real-world second (cloud kinds: renders in parallel)
COMFY_SCALE = 1 / 200  # ComfyUI renders one prompt at a time: 120 in a row
COMFY_WAVE = 4  # ComfyUI takes queued at once; the next wave when these are done
RENDER = (45, 180)  # real-world render seconds, spread uniformly
WATCH = 60.0  # SLATE_WATCH_SECONDS' default: the watcher's HTTP check interval, real seconds
FLOOR = 0.2  # studio.engine.pacing.FLOOR

CLOUD = {
    # kind: (model, clip lengths, size, typical render from the catalogue: base, per second)
    "openai": ("sora-2", (4, 8, 12), "1280x720", (30, 5)),
    "openrouter": ("google/veo-3.1", (4, 6, 8), "1280x720", (60, 8)),
    "fal": ("fal-ai/veo3.1", (4, 6, 8), "1280x720", (60, 8)),
}
# The smoke template's catalogue time (1 s + 0.5 s per clip second) is a CPU smoke test;
# a local video model sits nearer this (80–140 s for 1–4 s clips), inside the render range.
COMFY_TYPICAL = (60, 20)
COLUMNS = ("create", "status", "download", "other")


class Recorder:
    """Every request reaching a simulator: (type, method, path). With ``websockets=False``
    the websocket handshake is refused (HTTP 403), as by a proxy that doesn't pass them."""

    def __init__(self, app, websockets: bool = True):
        self.app, self.websockets = app, websockets
        self.calls: list[tuple[str, str, str]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.calls.append(("http", scope["method"], scope["path"]))
        elif scope["type"] == "websocket":
            self.calls.append(("ws", "open" if self.websockets else "refused", scope["path"]))
            if not self.websockets:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


def classify(kind: str, call: tuple[str, str, str]) -> str:
    """What a recorded request was: create, status, download, other, keys (not a take's:
    fal's webhook key set), ws open or ws refused."""
    channel, method, path = call
    if channel == "ws":
        return f"ws {method}"
    if kind == "comfyui":
        if method == "POST" and path == "/prompt":
            return "create"
        if method == "GET" and (path.startswith("/history/") or path == "/queue"):
            return "status"
        return "download" if path == "/view" else "other"
    if kind == "fal":
        if path == "/.well-known/falkeys.json":
            return "keys"
        if method == "POST":
            return "create"
        if path.endswith("/status"):
            return "status"
        return "download" if path.startswith("/files/") else "other"  # other: the result
    if method == "POST":
        return "create"
    if method == "GET" and path.endswith("/content"):
        return "download"
    if method == "GET" and not path.endswith("/videos"):
        return "status"
    return "other"  # a listing (reconciling a lost create), a delete


def drive(sim, until, timeout: float) -> None:
    """Run due tasks one at a time, letting the simulator deliver due webhooks between any
    two (tests.support.engine.drive ticks only between batches, which can hold webhooks for
    seconds, long in scaled time), until ``until()``."""
    from tests.support.engine import worker

    runner = worker()
    runner.max_tasks = 1  # each run() does at most one task
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("takes still not done")
        sim.tick()
        ran = runner._run_tasks
        runner.run()
        if runner._run_tasks == ran:
            time.sleep(0.01)


def cloud_simulator(kind: str, render: tuple[float, float]):
    from tests.fakes.openrouter_api import OpenRouterSimulator
    from tests.fakes.videos_api import Faults
    from tests.support.engine import fal_simulator, simulator

    if kind == "openai":
        return simulator(render_seconds=render, asset_size="320x180")
    if kind == "openrouter":
        return OpenRouterSimulator(Faults(render_seconds=render, asset_size="320x180"))
    return fal_simulator(render_seconds=render, asset_size="320x180")


def run_cloud(kind: str, mode: str) -> dict:
    from studio import takes
    from studio.models import TERMINAL_STATUSES, Take, Workspace
    from studio.prompts import Shot
    from tests.support.engine import connect, connect_fal

    model, lengths, size, (base, per_second) = CLOUD[kind]
    slug = f"{kind}-{mode}"
    workspace = Workspace.objects.create(name=slug, slug=slug)
    sim = cloud_simulator(kind, (RENDER[0] * SCALE, RENDER[1] * SCALE))
    recorder = sim.app = Recorder(sim.app)
    typical = {model: {"typical_render": {"base": base * SCALE, "per_second": per_second * SCALE}}}
    hooks = mode == "webhooks"
    with Patches() as patch:
        if kind == "fal":
            endpoint = connect_fal(
                patch, workspace, sim, webhooks=hooks, timeout=5, models=(model,), overrides=typical
            )
        else:
            endpoint = connect(
                patch,
                workspace,
                sim,
                webhooks=hooks,
                timeout=5,
                models=(model,),
                profile=kind,
                name=kind,
            )
            endpoint.model_overrides = typical
            endpoint.save()
        rng = random.Random(7)
        batch = [
            takes.queue_take(
                workspace,
                Shot(subject=f"{slug} take {n}"),
                provider=endpoint.name,
                model=model,
                size=size,
                seconds=rng.choice(lengths),
            )
            for n in range(TAKES)
        ]
        started = time.monotonic()
        drive(
            sim,
            until=lambda: (
                not Take.objects.filter(workspace=workspace)
                .exclude(status__in=TERMINAL_STATUSES)
                .exists()
            ),
            timeout=600,
        )
    done = list(Take.objects.filter(pk__in=[t.pk for t in batch]))
    lag = []
    for take in done:
        if take.status == "completed":
            video = sim.videos[take.remote_id]
            lag.append((take.finished_at.timestamp() - (video.created + video.duration)) / SCALE)
    return summary(kind, mode, done, recorder.calls, lag, time.monotonic() - started)


def timed_comfy(render: tuple[float, float], steps: int):
    """The fake ComfyUI server, each prompt rendering for its own time (drawn from
    ``render``), remembering when each ended."""
    from tests.fakes.comfyui import ComfyFaults, ComfySimulator

    class Timed(ComfySimulator):
        def __post_init__(self):
            super().__post_init__()
            self.rng = random.Random(7)
            self.ended: dict[str, float] = {}
            self.clips: dict[str, bytes] = {}

        async def execute(self, job):
            self.faults.render_seconds = self.rng.uniform(*render)  # one prompt at a time
            await super().execute(job)
            self.ended[job.prompt_id] = time.time()

        def render(self, job):
            """The real graph run once per size and length (encoding takes up to 0.2 s,
            40 s at this scale); a prompt like an earlier one gets the same MP4 bytes."""
            nodes = {node["class_type"]: node["inputs"] for node in job.graph.values()}
            spec = json.dumps([nodes["EmptyImage"], nodes["CreateVideo"]], sort_keys=True)
            key = self.faults.output_key
            if spec not in self.clips:
                outputs = super().render(job)
                entry = next(iter(outputs.values()))[key][0]
                self.clips[spec] = self.files[("output", entry["subfolder"], entry["filename"])]
                return outputs
            save_id = next(n for n, node in job.graph.items() if node["class_type"] == "SaveVideo")
            subfolder, _, stem = job.graph[save_id]["inputs"]["filename_prefix"].rpartition("/")
            name = f"{stem}_{job.number:05d}_.{self.faults.save_format}"
            self.files[("output", subfolder, name)] = self.clips[spec]
            entry = {"filename": name, "subfolder": subfolder, "type": "output"}
            return {save_id: {key: [entry], "animated": [True]}}

    return Timed(ComfyFaults(render_seconds=render[0], steps=steps))


def run_comfy(mode: str) -> dict:
    from django.conf import settings

    from studio import takes
    from studio.engine import pacing
    from studio.models import TERMINAL_STATUSES, Take, Workspace
    from studio.prompts import Shot
    from tests.fakes.videos_api import serve
    from tests.support.engine import connect_comfy

    slug = f"comfyui-{mode}"
    workspace = Workspace.objects.create(name=slug, slug=slug)
    # Sampler-like progress: 10 steps per render, sent over the websocket as a real one does.
    sim = timed_comfy((RENDER[0] * COMFY_SCALE, RENDER[1] * COMFY_SCALE), steps=10)
    recorder = sim.app = Recorder(sim.app, websockets=mode == "websocket")
    with Patches() as patch, serve(sim) as running:
        endpoint = connect_comfy(patch, workspace, running.base_url)
        patch.setattr(settings, "SLATE_WATCH_SECONDS", WATCH * COMFY_SCALE)
        patch.setattr(pacing, "FLOOR", FLOOR * COMFY_SCALE / SCALE)
        base, per_second = COMFY_TYPICAL
        endpoint.model_overrides = {
            "smoke": {
                "typical_render": {
                    "base": base * COMFY_SCALE,
                    "per_second": per_second * COMFY_SCALE,
                }
            }
        }
        endpoint.save()
        rng = random.Random(7)
        batch, position = [], {}
        started = time.monotonic()
        for wave in range(0, TAKES, COMFY_WAVE):
            queued = [
                takes.queue_take(
                    workspace,
                    Shot(subject=f"{slug} take {n}"),
                    provider=endpoint.name,
                    model="smoke",
                    size="640x360",
                    seconds=rng.choice((1, 2, 4)),
                )
                for n in range(wave, min(wave + COMFY_WAVE, TAKES))
            ]
            position.update({take.pk: i + 1 for i, take in enumerate(queued)})
            batch += queued
            drive(
                sim,
                until=lambda queued=queued: (
                    not Take.objects.filter(pk__in=[t.pk for t in queued])
                    .exclude(status__in=TERMINAL_STATUSES)
                    .exists()
                ),
                timeout=120,
            )
        elapsed = time.monotonic() - started
    done = list(Take.objects.filter(pk__in=[t.pk for t in batch]))
    lag = [
        (take.finished_at.timestamp() - sim.ended[take.remote_id]) / COMFY_SCALE
        for take in done
        if take.status == "completed"
    ]
    result = summary("comfyui", mode, done, recorder.calls, lag, elapsed)
    by_position = defaultdict(list)
    for take in done:
        by_position[position[take.pk]].append(take.provider_calls)
    result["by_position"] = {p: statistics.mean(v) for p, v in sorted(by_position.items())}
    result["paths"] = Counter(
        "/history" if path.startswith("/history/") else path
        for channel, _, path in recorder.calls
        if channel == "http"
    )
    return result


def summary(kind, mode, done, calls, lag, elapsed) -> dict:
    completed = [take for take in done if take.status == "completed"]
    counts = Counter(classify(kind, call) for call in calls)
    per_take = {name: count / len(done) for name, count in counts.items()}
    return {
        "kind": kind,
        "mode": mode,
        "takes": len(done),
        "completed": len(completed),
        "statuses": Counter(take.status for take in done),
        "calls": [take.provider_calls for take in completed],
        "all_calls": sum(take.provider_calls for take in done),
        "per_take": per_take,
        "counts": counts,
        "lag": statistics.median(lag) if lag else None,
        "seconds": elapsed,
    }


def row(result: dict) -> list:
    calls, per_take = result["calls"], result["per_take"]
    opened, refused = per_take.get("ws open", 0), per_take.get("ws refused", 0)
    websockets = f"{opened:.2f} opened" if opened else f"{refused:.2f} refused" if refused else "–"
    takes = (
        str(result["takes"])
        if result["completed"] == result["takes"]
        else f"{result['completed']} of {result['takes']}"
    )
    return [
        result["kind"],
        result["mode"],
        takes,
        f"{statistics.mean(calls):.2f}" if calls else "–",
        percentile(calls, 95) if calls else "–",
        max(calls) if calls else "–",
        *(f"{per_take.get(name, 0):.2f}" for name in COLUMNS),
        websockets,
        f"{result['lag']:.0f} s" if result["lag"] is not None else "–",
    ]


def main() -> None:
    django_on_scratch_data()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the webhook deliveries use Django's test client
    # Each refused websocket is logged at INFO ("checking by polling"): expected here.
    logging.getLogger("studio.providers.comfyui").setLevel(logging.WARNING)
    from studio import live

    # Nobody is watching: don't render pushes for browsers (see the docstring).
    live._push = lambda take_id, *, progress_only: None
    began = time.monotonic()
    results = []
    for kind in CLOUD:
        for mode in ("polling", "webhooks"):
            results.append(run_cloud(kind, mode))
            print(f"  {kind} {mode}: {results[-1]['seconds']:.0f} s", file=sys.stderr)
    for mode in ("websocket", "polling"):
        results.append(run_comfy(mode))
        print(f"  comfyui {mode}: {results[-1]['seconds']:.0f} s", file=sys.stderr)
    print(
        "Provider calls per completed take (renders of 45-180 s; goal for openai: "
        "webhooks <= 2.1, polling <= 8)\n"
    )
    headers = [
        "kind",
        "mode",
        "takes",
        "calls/take",
        "p95",
        "max",
        "creates",
        "status checks",
        "downloads",
        "other",
        "websockets",
        "median lag after done",
    ]
    print(table(headers, [row(result) for result in results]))
    print(
        "\nBreakdown columns: requests the simulator received, per take. Other: fal's result "
        "call (where the file is), a listing or delete (OpenAI-compatible). Websockets: "
        "connections per take, opened or refused; not counted in calls/take. Lag: "
        "real-time-equivalent seconds between the provider finishing and Slate having the video."
    )
    notes = []
    for result in results:
        label = f"{result['kind']} {result['mode']}"
        if result["completed"] != result["takes"]:
            notes.append(f"{label}: not all completed: {dict(result['statuses'])}")
        attributed = sum(result["per_take"].get(name, 0) for name in COLUMNS)
        counted = result["all_calls"] / result["takes"]
        if abs(attributed - counted) > 0.005:
            notes.append(
                f"{label}: the simulator saw {attributed:.2f} calls per take, "
                f"takes counted {counted:.2f}"
            )
        if result["counts"].get("keys"):
            notes.append(f"{label}: fal's webhook key set fetched {result['counts']['keys']}x")
        if "by_position" in result:
            spread = ", ".join(f"{p}: {c:.2f}" for p, c in result["by_position"].items())
            paths = ", ".join(
                f"{path} {count / result['takes']:.2f}"
                for path, count in result["paths"].most_common()
            )
            notes.append(f"{label}: calls/take by place in its wave of {COMFY_WAVE}: {spread}")
            notes.append(f"{label}: requests per take by route: {paths}")
    if notes:
        print("\n" + "\n".join(f"- {note}" for note in notes))
    print(f"\nRun time: {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
