"""Progress latency in the embedded default: publish → a subscribed websocket client.

Runs the embedded default in this process: daphne serving the ASGI app with the
thread-safe in-memory layer, and a publisher thread standing in for the
in-process worker (it calls what the worker calls on a heartbeat or a state
change: render the fragments, group_send). A websocket client on loopback,
logged in as a workspace member, receives each push. Same process, same clock.
One run with the process idle, one while an animatic renders in another
thread, as it does when the embedded worker is busy.

First, what a push costs the publisher per change, with nobody watching and with
ten sockets on the studio page, next to the old way measured in the same run
(before pushes were page-agnostic: the whole take list and the take panel, each
for both roles, on every state change, watched or not).

    .venv/bin/python bench/progress_latency.py
"""

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402

EVENTS = 200
COST_EVENTS = 100
SOCKETS = 10
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
    from studio.models import Take
    from studio.prompts import Shot

    user = get_user_model().objects.create_user("bench", password="bench-bench-1")
    workspace = workspaces.onboard(user)
    for n in range(23):  # a full studio page (RECENT_TAKES) around the one that moves
        takes.queue_take(
            workspace, Shot(subject=f"bench {n}"), provider="animatic", size="1280x720", seconds=4
        )
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

    def old_way(take_id: int, *, progress_only: bool) -> None:
        """What a change cost before: rendered for both roles and both pages, always,
        and sent to everyone on the workspace (here with an empty "html" the sockets
        forward, so they see a message of the same count)."""
        current = Take.objects.filter(pk=take_id).first()
        if progress_only:
            message = {"progress": live.progress_html(current)}
        else:
            message = {
                "list": {r: live.take_list_html(current.workspace, r) for r in live.ROLES},
                "detail": {r: live.take_live_html(current, r) for r in live.ROLES},
            }
        group = live.group_name(current.workspace_id, "edit")
        live.send(group, {"type": "take.changed", "take_id": take_id, "html": "", **message})

    def costs(label: str) -> None:
        # Old and new alternate, so both meet the same load from the sockets' threads.
        for kind, progress_only in (("state change", False), ("progress tick", True)):
            spent = {old_way: [], live._push: []}
            for _ in range(COST_EVENTS):
                for push, times in spent.items():
                    started = time.perf_counter()
                    push(take.pk, progress_only=progress_only)
                    times.append(time.perf_counter() - started)
                    time.sleep(0.005)  # let the sockets take it before the next one
            old, new = (percentile(times, 50) for times in spent.values())
            results["cost"].append((f"{kind}, {label}", old, new))

    def drain(ws) -> None:
        try:
            while True:
                ws.recv()
        except Exception:
            return  # closed

    def keep_rendering(done: threading.Event) -> None:
        spec = AnimaticSpec(1280, 720, 8, 1, subject="load", camera="handheld push in")
        while not done.is_set():
            render_animatic(spec, var / "load.mp4")

    def run() -> None:
        try:
            time.sleep(1)  # let the server start listening
            cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
            headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{PORT}"}
            results["cost"] = []
            costs("nobody watching")
            studio = f"ws://127.0.0.1:{PORT}/ws/w/{workspace.slug}/"
            watchers = [connect(studio, additional_headers=headers) for _ in range(SOCKETS)]
            for ws in watchers:
                ws.recv(timeout=5)  # the snapshot
                threading.Thread(target=drain, args=(ws,), daemon=True).start()
            costs(f"{SOCKETS} sockets on the studio page")
            for ws in watchers:
                ws.close()
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
    print(f"Push cost for the publisher per change (median of {COST_EVENTS}, same run)\n")
    cost_rows = [
        [label, f"{old * 1000:.2f} ms", f"{new * 1000:.2f} ms", f"{old / new:.1f}x"]
        for label, old, new in results["cost"]
    ]
    print(table(["change", "old way", "now", "old / now"], cost_rows))
    print("\nLive progress in the embedded default (goal: p95 <= 100 ms on loopback)\n")
    print(table(["path", "events", "p50", "p95", "max"], rows))


if __name__ == "__main__":
    main()
