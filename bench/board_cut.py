"""Storyboards: how fast the cut joins takes, and what the board page costs.

- The cut of 10 × 12 s 1280x720 takes by stream copy, against `ffmpeg -f concat -c copy`
  on the same files in the same run (Debian's ffmpeg, for the bench only; skipped if it
  isn't installed), and the normalising path (one take of another size) beside it.
  Goals: copy ≤ 1.0 s and within 1.5× of ffmpeg.
- The board page with 50 cards and 200 takes: queries and server time (goal ≤ 150 ms,
  queries the same as for 5 cards), and a reorder's round trip through the view (≤ 50 ms).
  Each time is also given as a multiple of the same page for an empty board in the same
  run (the baseline), which a busy machine slows alike.

    .venv/bin/python bench/board_cut.py [--quick] [--page-only]
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, table  # noqa: E402

django_on_scratch_data()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from storyboard import boards, cut  # noqa: E402
from storyboard.models import CardTake  # noqa: E402
from studio.animatic.render import AnimaticSpec, render_animatic  # noqa: E402
from studio.models import Membership, Role, Status, Take, Workspace  # noqa: E402

QUICK = "--quick" in sys.argv
PAGE_ONLY = "--page-only" in sys.argv
COUNT, SECONDS = (3, 4) if QUICK else (10, 12)
RUNS = 3


def best(action) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def cut_rows(folder: Path) -> list[list]:
    sources = [folder / f"take-{n}.mp4" for n in range(2)]
    for seed, path in enumerate(sources):
        render_animatic(AnimaticSpec(1280, 720, SECONDS, seed, subject=f"shot {seed}"), path)
    inputs = [sources[n % 2] for n in range(COUNT)]
    rows = []
    copy = best(lambda: cut.join(inputs, folder / "cut.mp4"))
    rows.append([f"{COUNT} × {SECONDS} s 1280x720", "stream copy (Slate)", f"{copy:.3f} s", ""])
    if ffmpeg := shutil.which("ffmpeg"):
        listing = folder / "list.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in inputs))
        command = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing)]
        command += ["-c", "copy", str(folder / "ffmpeg.mp4")]
        theirs = best(lambda: subprocess.run(command, check=True))
        rows.append(["", "ffmpeg -f concat -c copy", f"{theirs:.3f} s", f"{copy / theirs:.2f}×"])
    else:
        rows.append(["", "ffmpeg -f concat -c copy", "not installed", ""])
    other = folder / "other.mp4"
    render_animatic(AnimaticSpec(720, 1280, SECONDS, 9, subject="portrait"), other)
    start = time.perf_counter()
    cut.join([*inputs[:-1], other], folder / "normalised.mp4")
    rows.append(["", "normalise + re-encode (once)", f"{time.perf_counter() - start:.2f} s", ""])
    return rows


def page_rows(folder: Path) -> list[list]:
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)

    def page(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    rows = []
    board = boards.create_board(workspace, "Bench")
    url = f"/w/bench/boards/{board.pk}/"
    page(url)
    baseline = best(lambda: page(url))
    rows.append(["empty board (baseline)", "", f"{baseline * 1000:.0f} ms", "1.0×"])
    for total in (5, 50):
        have = board.cards.count()
        boards.add_cards(
            board, [{"subject": f"card {n}", "seconds": 4} for n in range(total - have)]
        )
        for card in board.cards.all()[have:]:
            for n in range(4):
                take = Take.objects.create(
                    workspace=workspace,
                    subject=card.subject,
                    composed_prompt=card.subject,
                    size="1280x720",
                    seconds=4,
                    seed=n,
                    status=Status.COMPLETED,
                )
                CardTake.objects.create(card=card, take=take)
            boards.choose(card, take.pk)
        url = f"/w/bench/boards/{board.pk}/"
        page(url)
        queries = []
        with connection.execute_wrapper(
            lambda run, sql, *args, queries=queries: queries.append(sql) or run(sql, *args)
        ):
            page(url)
        server = best(lambda url=url: page(url))
        rows.append(
            [
                f"{total} cards, {total * 4} takes",
                len(queries),
                f"{server * 1000:.0f} ms",
                f"{server / baseline:.1f}×",
            ]
        )
    board.refresh_from_db()
    ids = list(board.cards.values_list("pk", flat=True))

    def reorder():
        board.refresh_from_db()
        ids.reverse()
        response = client.post(
            f"/w/bench/boards/{board.pk}/reorder/",
            {"order": ",".join(map(str, ids)), "revision": board.revision},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200 and b"board-problem" not in response.content

    moved = best(reorder)
    rows.append(
        ["reorder 50 cards (view, htmx)", "", f"{moved * 1000:.0f} ms", f"{moved / baseline:.1f}×"]
    )
    return rows


with tempfile.TemporaryDirectory() as scratch:
    if not PAGE_ONLY:
        print(table(["inputs", "how", "time", "vs ffmpeg"], cut_rows(Path(scratch))))
        print()
    headers = ["board page", "queries", "server time (best of 3)", "vs baseline"]
    print(table(headers, page_rows(Path(scratch))))
