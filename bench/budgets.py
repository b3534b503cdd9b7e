"""Budgets and usage: the usage page over 100,000 ledger entries, and the 20-request cap race.

1. A workspace with 5 members and 33,334 ended takes over three months (a hold, a charge and
   a release each: 100,002 ledger entries), on SQLite. The usage page of the busiest month
   through Django's test client, 20 times: server time p50/p95 (goal p95 <= 200 ms) and
   queries, the report alone, and a baseline measured in the same run: the same sums done
   in Python over the month's rows.
2. 20 threads queueing a take at once against a cap with room for 3, in a Slate process on
   SQLite's file and (when it answers) on PostgreSQL: accepted count and wall time.

    .venv/bin/python bench/budgets.py
"""

import json
import secrets
import sys
import time
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_on_scratch_data, percentile, table  # noqa: E402

TAKES = 33_334
RUNS = 20


def usage_page() -> list[list]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from studio import budgets, usage
    from studio.models import LedgerEntry, LedgerKind, Membership, Role, Status, Take, Workspace

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    people = [get_user_model().objects.create_user(f"member{n}") for n in range(5)]
    for n, user in enumerate(people):
        Membership.objects.create(
            user=user, workspace=workspace, role=Role.OWNER if not n else "editor"
        )
    now = timezone.now()
    models = ("sora-2", "sora-2-pro", "fal-ai/veo3.1", "ltx-2")
    statuses = (Status.COMPLETED, Status.COMPLETED, Status.COMPLETED, Status.FAILED)
    takes = []
    for n in range(TAKES):
        status = statuses[n % 4]
        takes.append(
            Take(
                workspace=workspace, created_by=people[n % 5], composed_prompt="bench",
                size="1280x720", seconds=4, seed=n, model=models[n % 4], provider="openai",
                status=status, estimate=Decimal("0.40"),
                charged=Decimal("0.40") if status == Status.COMPLETED else Decimal("0"),
            )
        )  # fmt: skip
    Take.objects.bulk_create(takes, batch_size=2000)
    ids = list(Take.objects.filter(workspace=workspace).values_list("pk", flat=True))
    # One every 4 minutes: the last 90 days or so, about a third of them in this month.
    Take.objects.bulk_update(
        [Take(pk=pk, created_at=now - timedelta(minutes=n * 4)) for n, pk in enumerate(ids)],
        ["created_at"],
        batch_size=2000,
    )
    entries = []
    for n, pk in enumerate(ids):
        done = statuses[n % 4] == Status.COMPLETED
        entries += [
            LedgerEntry(workspace=workspace, take_id=pk, kind=LedgerKind.HOLD,
                        amount=Decimal("0.40")),
            LedgerEntry(workspace=workspace, take_id=pk, kind=LedgerKind.CHARGE,
                        amount=Decimal("0.40") if done else Decimal("0")),
            LedgerEntry(workspace=workspace, take_id=pk, kind=LedgerKind.RELEASE,
                        amount=Decimal("0") if done else Decimal("0.40")),
        ]  # fmt: skip
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(people[0])
    month = budgets.month_of(None)
    page, report = [], []
    for _ in range(RUNS):
        began = time.perf_counter()
        response = client.get(f"/w/bench/usage/?month={month.key}")
        page.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
        began = time.perf_counter()
        usage.report(workspace, month)
        report.append((time.perf_counter() - began) * 1000)
    found = usage.report(workspace, month)
    with CaptureQueriesContext(connection) as page_queries:
        client.get(f"/w/bench/usage/?month={month.key}")
    with CaptureQueriesContext(connection) as report_queries:
        usage.report(workspace, month)
    naive = []
    for _ in range(RUNS):
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as naive_queries:
            naive_report(workspace, month)
        naive.append((time.perf_counter() - began) * 1000)
    entries = LedgerEntry.objects.count()
    return [
        ["usage page (HTTP, test client)", entries, found["takes"], len(page_queries),
         f"{percentile(page, 50):.0f}", f"{percentile(page, 95):.0f}", ""],
        ["usage.report alone (SQL aggregates)", entries, found["takes"], len(report_queries),
         f"{percentile(report, 50):.0f}", f"{percentile(report, 95):.0f}", "1.0x"],
        ["baseline: the same sums in Python", entries, found["takes"], len(naive_queries),
         f"{percentile(naive, 50):.0f}", f"{percentile(naive, 95):.0f}",
         f"{percentile(naive, 50) / percentile(report, 50):.1f}x"],
    ]  # fmt: skip


def naive_report(workspace, month) -> dict:
    """The baseline: the month's takes fetched row by row and summed in Python (what the
    page would cost without aggregating in SQL), by day, member, model and status."""
    from studio.models import ACTIVE_STATUSES, Take

    zone = month.start.tzinfo
    by_day, by_member, by_model, by_status = {}, {}, {}, {}
    rows = Take.objects.filter(
        workspace=workspace, created_at__gte=month.start, created_at__lt=month.end
    ).values_list("created_at", "created_by__username", "model", "status", "estimate", "charged")
    for made, who, model, status, estimate, charged in rows:
        spend = (estimate if status in ACTIVE_STATUSES else charged) or Decimal("0")
        for totals, key in (
            (by_day, made.astimezone(zone).date()),
            (by_member, who),
            (by_model, model),
            (by_status, status),
        ):
            spend_so_far, count = totals.get(key, (Decimal("0"), 0))
            totals[key] = (spend_so_far + spend, count + 1)
    return {"day": by_day, "member": by_member, "model": by_model, "status": by_status}


def profile() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studio import budgets, usage
    from studio.models import Workspace

    with CaptureQueriesContext(connection) as queries:
        usage.report(Workspace.objects.get(slug="bench"), budgets.month_of(None))
    for query in queries.captured_queries:
        print(query["time"], query["sql"][:300])


def race_rows() -> list[list]:
    import tempfile

    import psycopg

    from tests.studio.test_budgets import NO_DNS, RACE
    from tests.support.processes import make_install

    rows = []
    targets = [("SQLite (file)", {})]
    postgres = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        psycopg.connect(postgres, connect_timeout=3).close()
        name = f"slate_bench_{secrets.token_hex(4)}"
        with closing(psycopg.connect(postgres, autocommit=True)) as admin:
            admin.execute(f"create database {name}")
        targets.append(("PostgreSQL", {"DATABASE_URL": postgres.rsplit("/", 1)[0] + "/" + name}))
    except psycopg.OperationalError:
        rows.append(["PostgreSQL", "not reachable", "", ""])
    for label, env in targets:
        install = make_install(
            Path(tempfile.mkdtemp(prefix="slate-race-")) / "var", **env, **NO_DNS
        )
        done = install.manage("shell", "-v0", "-c", RACE)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append([label, result["accepted"], result["refused"], result["seconds"]])
        if "DATABASE_URL" in env:
            with closing(psycopg.connect(postgres, autocommit=True)) as admin:
                admin.execute(f"drop database {env['DATABASE_URL'].rsplit('/', 1)[1]} with (force)")
    return rows


def main() -> None:
    django_on_scratch_data()
    headers = ["what", "ledger entries", "takes in month", "queries", "p50 ms", "p95 ms", "vs SQL"]
    print(table(headers, usage_page()))
    if "--profile" in sys.argv:
        profile()
    print()
    print("20 concurrent takes against a cap for 3 (the race window widened by 20 ms):")
    print(table(["database", "accepted", "refused", "seconds"], race_rows()))


if __name__ == "__main__":
    main()
