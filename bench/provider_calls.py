"""Provider calls per completed take, with and without webhooks, over many simulated takes.

The whole engine runs in this process against the simulator (httpx's ASGI
transport): 120 takes per mode, renders of 45–180 s mixed over 4/8/12 s
clips. Time is scaled by 1/20 so the run takes a minute, not hours: render
times and the model's typical render time are both scaled, so the number of
checks is what it would be in real time (only the fixed 0.2 s floor between
checks is relatively larger here, which can only reduce calls). The simulator
serves small MP4s so copying them costs little next to the scaled renders.

    .venv/bin/python bench/provider_calls.py
"""

import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402

TAKES = 120
SCALE = 1 / 20  # seconds here per real-world second


def run(mode: str) -> list:
    from _pytest.monkeypatch import MonkeyPatch

    from studio import takes
    from studio.models import Take, Workspace
    from studio.prompts import Shot
    from tests.engine import connect, drive, simulator

    workspace = Workspace.objects.create(name=mode, slug=mode)
    sim = simulator(render_seconds=(45 * SCALE, 180 * SCALE), asset_size="320x180")
    patch = MonkeyPatch()
    endpoint = connect(patch, workspace, sim, webhooks=mode == "webhooks", timeout=5)
    # sora-2's typical render (catalogue: 30 s + 5 s per clip second), scaled like the renders.
    endpoint.model_overrides = {
        "sora-2": {"typical_render": {"base": 30 * SCALE, "per_second": 5 * SCALE}}
    }
    endpoint.save()
    rng = random.Random(7)
    batch = [
        takes.queue_take(
            workspace,
            Shot(subject=f"{mode} take {n}"),
            provider=endpoint.name,
            model="sora-2",
            size="1280x720",
            seconds=rng.choice((4, 8, 12)),
        )
        for n in range(TAKES)
    ]
    drive(
        sim,
        until=lambda: (
            not Take.objects.filter(workspace=workspace).exclude(status="completed").exists()
        ),
        timeout=600,
    )
    patch.undo()
    done = {t.pk: t for t in Take.objects.filter(pk__in=[t.pk for t in batch])}
    lag = []
    for take in done.values():
        video = sim.videos[take.remote_id]
        lag.append((take.finished_at.timestamp() - (video.created + video.duration)) / SCALE)
    calls = [take.provider_calls for take in done.values()]
    kinds = {"create": 0, "status": 0, "download": 0, "list": 0}
    for call in sim.calls:
        kind = (
            "create"
            if call.method == "POST"
            else "download"
            if call.path.endswith("/content")
            else "list"
            if call.path.endswith("/videos")
            else "status"
        )
        kinds[kind] += 1
    per_take = {kind: count / TAKES for kind, count in kinds.items()}
    return [
        mode,
        TAKES,
        f"{statistics.mean(calls):.2f}",
        percentile(calls, 95),
        max(calls),
        f"{per_take['create']:.2f}",
        f"{per_take['status']:.2f}",
        f"{per_take['download']:.2f}",
        f"{statistics.median(lag):.0f} s",
    ]


def main() -> None:
    django_on_scratch_data()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the webhook deliveries use Django's test client
    rows = [run("polling"), run("webhooks")]
    print(
        "Provider calls per completed take (goal: webhooks <= 2.1, polling <= 8; "
        "renders of 45-180 s)\n"
    )
    print(
        table(
            [
                "mode",
                "takes",
                "calls/take",
                "p95",
                "max",
                "creates",
                "status checks",
                "downloads",
                "median lag after done",
            ],
            rows,
        )
    )
    print(
        "\nLag: real-time-equivalent seconds between the provider finishing and Slate having "
        "the video."
    )


if __name__ == "__main__":
    main()
