"""A finished take → the bell of its maker's other browser, in the embedded default.

Runs the embedded default in this process, as progress_latency.py does: daphne serving the
ASGI app with the in-memory layer, and a thread standing in for the in-process worker. A
websocket client on loopback, logged in as the take's maker, sits on the studio page (their
other browser). For each take: queue it, then end it as the engine does
(``takes.transition`` to completed: the ledger settles, the notification is written and
the bell pushed after commit), and time until the socket has

- the take's own card, redrawn as completed (the baseline: the push every page already
  got before the bell existed, measured in the same run), and
- the bell, with the new count and the notification's news.

One run with the process idle, one while an animatic renders in another thread.

    .venv/bin/python bench/notify_latency.py
"""

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402

EVENTS = 100
PORT = 8793
DEADLINE = 10.0  # seconds for one event's messages to arrive


def main() -> None:
    var = django_on_scratch_data()
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from twisted.internet import reactor
    from websockets.sync.client import connect

    from studio import takes, workspaces
    from studio.animatic.render import AnimaticSpec, render_animatic
    from studio.asgi import application
    from studio.models import Status
    from studio.prompts import Shot

    settings.SLATE_NOTIFY_AFTER_SECONDS = 0  # every finished take rings the bell
    user = get_user_model().objects.create_user("bench", password="bench-bench-1")
    workspace = workspaces.onboard(user)
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
    arrived: list[tuple[float, str]] = []  # (perf_counter, message), in order
    lock = threading.Condition()

    def read(ws) -> None:
        try:
            while True:
                message = ws.recv()
                with lock:
                    arrived.append((time.perf_counter(), message))
                    lock.notify_all()
        except Exception:
            return  # closed

    def first_after(started: float, needle: str) -> float | None:
        for at, message in arrived:
            if at >= started and needle in message:
                return at
        return None

    def measure() -> dict[str, list[float]]:
        found = {"card": [], "bell": [], "transition": []}
        for n in range(EVENTS):
            take = takes.queue_take(
                workspace, Shot(subject=f"bench {n}"), provider="animatic",
                size="1280x720", seconds=4, created_by=user,
            )  # fmt: skip
            time.sleep(0.02)  # the queued card's push goes by first
            started = time.perf_counter()
            assert takes.transition(take.pk, Status.COMPLETED, frm=(Status.QUEUED,))
            found["transition"].append(time.perf_counter() - started)
            card_id, deadline = f'id="take-card-{take.pk}"', time.monotonic() + DEADLINE
            with lock:
                while True:
                    card = first_after(started, card_id)
                    bell = first_after(started, 'id="bell"')
                    if card and bell:
                        break
                    assert time.monotonic() < deadline, f"event {n}: nothing came"
                    lock.wait(0.5)
                arrived.clear()
            found["card"].append(card - started)
            found["bell"].append(bell - started)
        return found

    def keep_rendering(done: threading.Event) -> None:
        spec = AnimaticSpec(1280, 720, 8, 1, subject="load", camera="handheld push in")
        while not done.is_set():
            render_animatic(spec, var / "load.mp4")

    def run() -> None:
        try:
            time.sleep(1)  # let the server start listening
            cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
            headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{PORT}"}
            studio = f"ws://127.0.0.1:{PORT}/ws/w/{workspace.slug}/"
            with connect(studio, additional_headers=headers) as ws:
                ws.recv(timeout=5)  # the snapshot
                threading.Thread(target=read, args=(ws,), daemon=True).start()
                results["idle"] = measure()
                rendering = threading.Event()
                threading.Thread(target=keep_rendering, args=(rendering,), daemon=True).start()
                results["rendering"] = measure()
                rendering.set()
        finally:
            reactor.callFromThread(reactor.stop)

    threading.Thread(target=run, daemon=True).start()
    endpoints = build_endpoint_description_strings(host="127.0.0.1", port=PORT)
    Server(application=application, signal_handlers=False, endpoints=endpoints).run()

    rows = []
    for name, label in (("idle", "idle process"), ("rendering", "while an animatic renders")):
        found = results[name]
        card50, bell50 = percentile(found["card"], 50), percentile(found["bell"], 50)
        for key, what in (
            ("card", "take card (baseline)"),
            ("bell", "bell"),
            ("transition", "  of which the transition's transaction"),
        ):
            values = found[key]
            rows.append(
                [f"{what}, {label}", len(values)]
                + [f"{percentile(values, p) * 1000:.1f} ms" for p in (50, 95, 100)]
                + [f"{bell50 / card50:.2f}x" if key == "bell" else ""]
            )
    print("Finished take → websocket client of its maker (goal: bell p95 <= 100 ms on loopback)\n")
    print(table(["path", "events", "p50", "p95", "max", "bell / card p50"], rows))


if __name__ == "__main__":
    main()
