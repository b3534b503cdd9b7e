"""Progress latency in the embedded default: publish → a subscribed websocket client.

Runs the embedded default in this process: daphne serving the ASGI app with the
thread-safe in-memory layer, and a publisher thread standing in for the
in-process worker (it calls what the worker calls on a heartbeat or a state
change: render the fragments, group_send). A websocket client on loopback,
logged in as a workspace member, receives each push. Same process, same clock.
One run with the process idle, one while an animatic renders in another
thread, as it does when the embedded worker is busy.

    .venv/bin/python bench/progress_latency.py
"""

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402

EVENTS = 200
PORT = 8791


def main() -> None:
    var = django_on_scratch_data()
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from twisted.internet import reactor
    from websockets.sync.client import connect

    from studio import live, takes, workspaces
    from studio.animatic.render import AnimaticSpec, render_animatic
    from studio.asgi import application
    from studio.prompts import Shot

    user = get_user_model().objects.create_user("bench", password="bench-bench-1")
    workspace = workspaces.onboard(user)
    take = takes.queue_take(
        workspace, Shot(subject="bench"), provider="animatic", size="1280x720", seconds=4
    )
    session = SessionStore()
    session.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
    )
    session.create()
    results: dict = {}

    def measure(ws) -> tuple[list[float], list[float]]:
        latencies, publish_times = [], []
        for n in range(EVENTS):
            started = time.perf_counter()
            # What the worker does on a heartbeat (progress) and on a transition (state).
            live._push(take.pk, progress_only=n % 10 != 0)
            publish_times.append(time.perf_counter() - started)
            ws.recv(timeout=5)
            latencies.append(time.perf_counter() - started)
            time.sleep(0.01)
        return latencies, publish_times

    def keep_rendering(done: threading.Event) -> None:
        spec = AnimaticSpec(1280, 720, 8, 1, subject="load", camera="handheld push in")
        while not done.is_set():
            render_animatic(spec, var / "load.mp4")

    def run() -> None:
        try:
            time.sleep(1)  # let the server start listening
            cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
            headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{PORT}"}
            url = f"ws://127.0.0.1:{PORT}/ws/takes/{take.pk}/"
            with connect(url, additional_headers=headers) as ws:
                ws.recv(timeout=5)  # the snapshot every socket gets first
                results["idle"] = measure(ws)
                rendering = threading.Event()
                threading.Thread(target=keep_rendering, args=(rendering,), daemon=True).start()
                results["rendering"] = measure(ws)
                rendering.set()
        finally:
            reactor.callFromThread(reactor.stop)

    threading.Thread(target=run, daemon=True).start()
    endpoints = build_endpoint_description_strings(host="127.0.0.1", port=PORT)
    Server(application=application, signal_handlers=False, endpoints=endpoints).run()

    def row(label: str, values: list[float]) -> list:
        return [
            label,
            len(values),
            *(f"{percentile(values, p) * 1000:.1f} ms" for p in (50, 95, 100)),
        ]

    rows = []
    for name, label in (("idle", "idle process"), ("rendering", "while an animatic renders")):
        latencies, publish = results[name]
        rows.append(row(f"publish → websocket client, {label}", latencies))
        rows.append(row("  of which render fragments + group_send", publish))
    print("Live progress in the embedded default (goal: p95 <= 100 ms on loopback)\n")
    print(table(["path", "events", "p50", "p95", "max"], rows))


if __name__ == "__main__":
    main()
