"""Prompt lint speed: the function itself, and the live-lint round trip through the page.

1. `lint()` on a 150-word shot, 2,000 runs: p50/p95 (goal p95 <= 2 ms), against
   composing the same shot's prompt (what the preview does anyway) in the same run.
2. The studio as `make run` starts it (`manage.py serve`, real HTTP on loopback): the
   request the page makes while you type (POST preview: compose + lint + render the
   partial), 300 times: p50/p95 (goal p95 <= 50 ms), against fetching a small static
   file over the same connection (the floor of the stack).

    .venv/bin/python bench/lint_speed.py
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import percentile, table  # noqa: E402

SHOT = dict(  # noqa: C408 — about 150 words, with something for most rules to find
    subject="an elderly woman in a green cardigan and a stunning silver brooch reading a worn "
    "paperback by a tall window in a small flat above a bakery, no people outside",
    motion="turns a page slowly, pauses, looks up at the street, then smiles and goes back to "
    "reading while the kettle starts to whistle behind her",
    camera="slow push-in from a medium shot to a close-up at eye level, shallow depth of field",
    lighting="soft afternoon window light with warm dust drifting in the air and long shadows "
    "across the wooden floor",
    atmosphere="peaceful, nostalgic and quiet, 35mm film grain, muted greens and browns, a "
    "little melancholy but warm",
    dialogue="Nan (whispering, not looking up): not yet, love",
    audio="pages turning, a clock ticking, the kettle rising to a whistle, distant traffic",
    prompt="Keep the window frame in the left third and her face in soft focus until the end "
    "of the move, when the page she reads catches the light.",
)


def timed(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    from studio.lint import lint
    from studio.prompts import Shot, compose, shot_words

    shot = Shot(**SHOT)
    ours = timed(lambda: lint(shot, max_chars=4000), 2000)
    base = timed(lambda: compose(shot), 2000)
    ms = lambda values, p: f"{percentile(values, p) * 1000:.3f} ms"  # noqa: E731
    ratio = lambda a, b: f"{statistics.median(a) / statistics.median(b):.1f}x"  # noqa: E731
    rows = [
        [
            f"lint() on {shot_words(shot)} words",
            len(ours),
            ms(ours, 50),
            ms(ours, 95),
            ratio(ours, base),
        ],
        ["  baseline: compose() the same shot", len(base), ms(base, 50), ms(base, 95), "1.0x"],
    ]
    page, floor = page_round_trip()
    rows += [
        [
            "live lint via the page (HTTP, loopback)",
            len(page),
            ms(page, 50),
            ms(page, 95),
            ratio(page, floor),
        ],
        [
            "  baseline: a small static file, same way",
            len(floor),
            ms(floor, 50),
            ms(floor, 95),
            "1.0x",
        ],
    ]
    print("Prompt lint (goals: lint p95 <= 2 ms; live lint through the page p95 <= 50 ms)\n")
    print(table(["what", "runs", "p50", "p95", "vs baseline"], rows))


def page_round_trip() -> list:
    import httpx

    from tests.support.processes import make_install, signed_in

    with tempfile.TemporaryDirectory() as folder:
        install = make_install(Path(folder) / "var")
        try:
            session, slug = signed_in(install, "bench")
            url = install.serve()
            with httpx.Client(base_url=url, cookies={"sessionid": session}) as client:
                page = client.get(f"/w/{slug}/")
                token = page.cookies.get("csrftoken") or client.cookies.get("csrftoken")
                headers = {"X-CSRFToken": token, "HX-Request": "true", "Referer": url}
                data = {**SHOT, "provider": "animatic", "size": "1280x720", "seconds": "8"}
                for _ in range(20):  # warm up
                    client.post(f"/w/{slug}/preview/", data=data, headers=headers)

                def preview():
                    response = client.post(f"/w/{slug}/preview/", data=data, headers=headers)
                    response.raise_for_status()

                times = timed(preview, 300)
                floor = timed(lambda: client.get("/static/slate/favicon.svg"), 300)
        finally:
            install.stop()
    return times, floor


if __name__ == "__main__":
    main()
