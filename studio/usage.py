"""A month of spending, added up by the database: per day, member, model and status.

Spend is what budgets.py counts against the caps (a take's hold while active, its charge
once ended), so the usage page and the caps always agree. One grouped query per view of
the month (day × member × model, then status), served by the take index on
(workspace, created_at); a chart is drawn from those few rows, never from the takes.
Amounts are added up in the ledger's US dollars, then shown in the workspace's currency:
a report's amounts are all in it (``report["currency"]``).
"""

import csv
import io
from collections import defaultdict
from datetime import UTC, date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, CharField, Count, F, Func, Sum, Value, When
from django.db.models.functions import TruncDate

from . import money
from .budgets import TAKE_SPEND, ZERO, Month, month_of, zone_of
from .models import Budget, Status, Workspace

# Colours for the models stacked in the chart, in order of spend (the rest share the last).
PALETTE = ("#4f7cac", "#c0785a", "#6a9f6a", "#a77bb5", "#c9a640", "#5aa5a8", "#8d8d8d")
CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 720, 180, 12


def report(workspace: Workspace, month: Month | None = None) -> dict:
    budget = Budget.objects.filter(workspace=workspace).first()
    month = month or month_of(budget)
    takes = workspace.takes.filter(created_at__gte=month.start, created_at__lt=month.end)
    rows = list(
        takes.annotate(day=local_day(zone_of(budget), month))
        .values("day", "created_by_id", "model", "provider")
        .annotate(spend=Sum(TAKE_SPEND), takes=Count("id"))
        .order_by("day")
    )
    names = dict(
        get_user_model()
        .objects.filter(pk__in={row["created_by_id"] for row in rows})
        .values_list("pk", "username")
    )
    for row in rows:
        row["day"] = row["day"] if isinstance(row["day"], date) else date.fromisoformat(row["day"])
        row["member"] = names.get(row["created_by_id"], "shell")
        row["spend"] = money.to_workspace(row["spend"], workspace)
    statuses = {
        row["status"]: {**row, "spend": money.to_workspace(row["spend"], workspace)}
        for row in takes.values("status").annotate(spend=Sum(TAKE_SPEND), takes=Count("id"))
    }
    by_member, by_model = _totals(rows, _member), _totals(rows, _model)
    return {
        "workspace": workspace,
        "currency": money.code_of(workspace),
        "month": month,
        "budget": budget,
        "rows": rows,
        "total": sum((row["spend"] for row in rows), ZERO),
        "takes": sum(row["takes"] for row in rows),
        "members": by_member,
        "models": by_model,
        "statuses": [
            {
                "status": status.value,
                "label": status.label,
                "takes": statuses.get(status.value, {}).get("takes", 0),
                "spend": statuses.get(status.value, {}).get("spend") or ZERO,
            }
            for status in Status
        ],
        "chart": chart(rows, month, [name for name, _, _ in by_model], workspace),
    }


def _member(row: dict) -> str:
    return row["member"]


def local_day(zone: ZoneInfo, month: Month):
    """The take's day in ``zone``, as SQL. On SQLite, Django's TruncDate with a zone calls a
    Python function per row (most of the usage page's time over a busy month), so the day is
    SQLite's own date() shifted by the zone's offset, one branch per offset the month has
    (a daylight-saving change adds one)."""
    if connection.vendor != "sqlite":
        return TruncDate("created_at", tzinfo=zone)
    spans, at = [], month.start.astimezone(UTC)
    while at < month.end:
        offset = int(at.astimezone(zone).utcoffset().total_seconds() // 60)
        if not spans or spans[-1][1] != offset:
            spans.append((at, offset))
        at += timedelta(minutes=15)  # offsets change on the quarter hour
    branches = [
        When(created_at__lt=spans[n + 1][0], then=_shifted(offset))
        for n, (_, offset) in enumerate(spans[:-1])
    ]
    return Case(*branches, default=_shifted(spans[-1][1]), output_field=CharField())


def _shifted(minutes: int):
    return Func(
        F("created_at"), Value(f"{minutes:+d} minutes"), function="date", output_field=CharField()
    )


def _model(row: dict) -> str:
    return row["model"] or row["provider"]


def _totals(rows: list[dict], key) -> list[tuple[str, Decimal, int]]:
    spend, count = defaultdict(lambda: ZERO), defaultdict(int)
    for row in rows:
        spend[key(row)] += row["spend"]
        count[key(row)] += row["takes"]
    return sorted(((k, spend[k], count[k]) for k in spend), key=lambda t: (-t[1], t[0]))


def chart(rows: list[dict], month: Month, models: list[str], workspace=None) -> dict:
    """Bars per day of the month, stacked by model, as SVG rectangles (no script)."""
    days = (month.end - month.start).days
    first = month.start.date()
    colour = {m: PALETTE[min(i, len(PALETTE) - 1)] for i, m in enumerate(models)}
    stacks = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in rows:
        stacks[row["day"]][_model(row)] += row["spend"]
    peak = max((sum(s.values(), ZERO) for s in stacks.values()), default=ZERO)
    step = CHART_WIDTH / days
    bars = []
    for n in range(days):
        day = first + timedelta(days=n)
        y = CHART_HEIGHT + CHART_TOP
        for model in models:
            amount = stacks[day].get(model)
            if not amount or not peak:
                continue
            height = float(amount / peak) * CHART_HEIGHT
            y -= height
            bars.append(
                {
                    "x": round(n * step + 1, 1),
                    "y": round(y, 1),
                    "width": round(step - 2, 1),
                    "height": round(max(height, 0.5), 1),
                    "colour": colour[model],
                    "title": f"{day:%d %b}: {model} {money.format(amount, workspace)}",
                }
            )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT + CHART_TOP + 18,
        "bars": bars,
        "peak": peak,
        "legend": [(m, colour[m]) for m in models],
        "labels": [
            {"x": round(n * step + step / 2, 1), "text": str(n + 1)}
            for n in range(0, days, 5 if days > 10 else 1)
        ],
        "baseline": CHART_HEIGHT + CHART_TOP,
    }


CSV_HEADER = ("day", "member", "model", "takes", "spend")


def csv_header(currency: str) -> tuple[str, ...]:
    """The CSV's columns; the spend's names its currency ("spend EUR")."""
    return (*CSV_HEADER[:-1], f"{CSV_HEADER[-1]} {currency}")


def csv_text(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_header(report["currency"]))
    for row in report["rows"]:
        member = _member(row)
        member = "'" + member if member[:1] in ("=", "+", "-", "@") else member  # no formulas
        writer.writerow(
            (row["day"].isoformat(), member, _model(row), row["takes"], f"{row['spend']:.4f}")
        )
    return buffer.getvalue()


def as_json(report: dict) -> dict:
    """The month's totals by day, member and model, for the shell."""
    days = defaultdict(lambda: ZERO)
    for row in report["rows"]:
        days[row["day"].isoformat()] += row["spend"]
    return {
        "month": report["month"].key,
        "currency": report["currency"],  # every amount's
        "total": str(report["total"]),
        "takes": report["takes"],
        "cap": None if not report["budget"] else _text(report["budget"].monthly_cap),
        "days": {day: str(amount) for day, amount in sorted(days.items())},
        "members": {name: str(amount) for name, amount, _ in report["members"]},
        "models": {name: str(amount) for name, amount, _ in report["models"]},
        "statuses": {s["status"]: s["takes"] for s in report["statuses"] if s["takes"]},
    }


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
