"""Library gallery and search at scale: 100,000 takes (generated rows, not renders).

1. Search: 200 gallery queries with one or two words from the prompts, p50/p95 (goal p95
   <= 50 ms on SQLite FTS5); with DATABASE_URL set to PostgreSQL, the same there.
2. Gallery page (24 takes, their tags, folder and star) at depth 0 and at depth ~N: time
   (goal: deep within 1.5x of page 1) and queries per page for page sizes 24 and 96.
3. The same two pages sorted best rated first, with a fifth of the takes rated by 1-3 members.

    .venv/bin/python bench/library_search.py            # N=100000
    BENCH_TAKES=20000 .venv/bin/python bench/library_search.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/library_search.py

With DATABASE_URL the rows go into a throwaway database made on that server for the run and
dropped after it, never into the database the URL names.
"""

import os
import random
import secrets
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402

WORDS = [
    "fox", "whale", "lighthouse", "keeper", "harbour", "storm", "dawn", "dusk", "neon", "city",
    "desert", "forest", "river", "boat", "kettle", "plinth", "dancer", "violin", "rain", "snow",
    "fog", "mountain", "bridge", "train", "market", "lantern", "mirror",
]  # fmt: skip


@contextmanager
def scratch_postgres():
    """DATABASE_URL pointed at a database of its own on the same server, dropped afterwards."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        yield
        return
    import psycopg

    name = f"slate_bench_{secrets.token_hex(4)}"
    with closing(psycopg.connect(server, autocommit=True)) as admin:
        admin.execute(f"create database {name}")
    os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with closing(psycopg.connect(server, autocommit=True)) as admin:
            admin.execute(f"drop database {name} with (force)")


def main() -> None:
    with scratch_postgres():
        run()


def run() -> None:
    django_on_scratch_data()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from library import gallery, search
    from library.models import Review
    from studio.models import Take, Workspace

    count = int(os.environ.get("BENCH_TAKES", "100000"))
    rng = random.Random(7)
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench")
    started = time.perf_counter()
    batch = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        batch.append(
            Take(
                workspace=workspace, subject=words, composed_prompt=f"Subject: {words}.",
                size="1280x720", seconds=4, seed=n, model=rng.choice(["sora-2", "veo-3"]),
                status="completed",
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Take.objects.bulk_create(batch)
            batch = []
    Take.objects.bulk_create(batch)
    indexed = search.rebuild()
    raters = [get_user_model().objects.create_user(f"rater{i}") for i in range(3)]
    ids = list(Take.objects.filter(workspace=workspace).values_list("pk", flat=True))
    reviews = [
        Review(take_id=pk, reviewer=rater, rating=rng.randint(1, 5))
        for pk in rng.sample(ids, count // 5)
        for rater in raters[: rng.randint(1, 3)]
    ]
    Review.objects.bulk_create(reviews, batch_size=5000)
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would gather before long: planned without them,
        # search took 1.2 s at p50 with 100,000 takes (bench/README.md).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{count} takes made and {indexed} indexed in {time.perf_counter() - started:.1f} s")

    def timed(fn, runs):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return times

    queries = [" ".join(rng.sample(WORDS, rng.choice([1, 2]))) for _ in range(200)]
    times = []
    for q in queries:
        filters = gallery.Filters(q=q)
        times += timed(lambda f=filters: gallery.page(workspace, user, f), 1)
    rows = [
        [f"search ({connection.vendor})", len(times), f"{percentile(times, 50):.1f} ms",
         f"{percentile(times, 95):.1f} ms"],
    ]  # fmt: skip
    first = timed(lambda: gallery.page(workspace, user, gallery.Filters()), 50)
    ordered = Take.objects.filter(workspace=workspace).order_by("-created_at", "-id")
    deep_take = ordered[count - gallery.PAGE_SIZE - 1]
    cursor = gallery.cursor_of(deep_take, "newest")
    deep = timed(lambda: gallery.page(workspace, user, gallery.Filters(), cursor), 50)
    rows.append(
        ["gallery page 1", 50, f"{percentile(first, 50):.1f} ms", f"{percentile(first, 95):.1f} ms"]
    )
    rows.append([f"gallery page at depth {count - gallery.PAGE_SIZE}", 50,
                 f"{percentile(deep, 50):.1f} ms", f"{percentile(deep, 95):.1f} ms"])  # fmt: skip
    by_rating = gallery.Filters(sort="rating")
    rated_first = timed(lambda: gallery.page(workspace, user, by_rating), 20)
    depth = count - gallery.PAGE_SIZE
    (deep_rank,) = (
        gallery.matching(workspace, user, by_rating)
        .annotate(rating_rank=gallery.rating_rank())
        .order_by(*gallery.ORDER["rating"])
        .values_list("rating_rank", "pk")[depth - 1 : depth]
    )
    cursor = "{}~{}".format(*deep_rank)
    rated_deep = timed(lambda: gallery.page(workspace, user, by_rating, cursor), 20)
    rows.append(["rated first: page 1", 20, f"{percentile(rated_first, 50):.1f} ms",
                 f"{percentile(rated_first, 95):.1f} ms"])  # fmt: skip
    rows.append([f"rated first: page at depth {depth}", 20, f"{percentile(rated_deep, 50):.1f} ms",
                 f"{percentile(rated_deep, 95):.1f} ms"])  # fmt: skip
    print(table(["what", "runs", "p50", "p95"], rows))
    per_page = []
    for size in (24, 96):
        gallery.PAGE_SIZE = size
        with CaptureQueriesContext(connection) as captured:
            gallery.page(workspace, user, gallery.Filters())
        per_page.append([size, len(captured)])
    print(table(["page size", "queries"], per_page))


if __name__ == "__main__":
    main()
