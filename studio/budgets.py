"""Monthly budgets with hard caps: a workspace's cap, its members' own caps, and alerts.

A hold that would pass a cap is refused inside the transaction that creates the take
(``ledger.hold``), so nothing is queued, let alone sent. Holds of one workspace are counted
one at a time: each takes its workspace's budget row ``FOR UPDATE`` before adding up the
month (PostgreSQL); on SQLite every write transaction is IMMEDIATE (settings), so writers
are already one at a time. A workspace without a budget row has no caps and takes no lock.

What a month has spent is what its takes hold or were charged: a take's estimate while it
is active (the hold), its charge once it has ended (0 when it failed, was refused or
cancelled) — the ledger's numbers, written with the take's status in one transaction. A
take counts in the month it was made, in the budget's time zone. A reservation (the
hold of a whole board render, ledger.py) counts what no take has drawn from it yet, until
it is closed, in the month it was made.

Caps are typed, stored and shown in the workspace's currency; what was spent is counted in
the ledger's (US dollars, the price list's) and converted at the workspace's current rate
where it meets a cap (``_check``, ``_alert``) or a page (``overview``).
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from . import live, money, signals
from .models import (
    ACTIVE_STATUSES,
    Budget,
    BudgetAlert,
    LedgerEntry,
    LedgerKind,
    MemberCap,
    Membership,
    Role,
    Take,
    Workspace,
    default_thresholds,
)

ZERO = Decimal("0")
MAX_CAP = Decimal("1000000")  # US dollars: a monthly cap above a million is a typo
MAX_STORED = Decimal("99999999.99")  # what a cap's column holds
MONEY = DecimalField(max_digits=14, decimal_places=4)

# What one take costs this month: its hold while active, its charge once ended.
TAKE_SPEND = Case(
    When(status__in=ACTIVE_STATUSES, then=Coalesce("estimate", Value(ZERO), output_field=MONEY)),
    default=Coalesce("charged", Value(ZERO), output_field=MONEY),
    output_field=MONEY,
)


class OverBudget(Exception):
    """A hold refused by a cap; the message names the cap, what is left and who can raise it."""


class BudgetInvalid(ValueError):
    """Budget settings that can't be saved; the message says why."""


@dataclass(frozen=True)
class Month:
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m")

    @property
    def label(self) -> str:
        return self.start.strftime("%B %Y")


def zone_of(budget: Budget | None) -> ZoneInfo:
    try:
        return ZoneInfo(budget.time_zone if budget else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def month_of(budget: Budget | None, when: datetime | None = None, key: str = "") -> Month:
    """The month holding ``when`` (now), or the month ``key`` (YYYY-MM), in the budget's zone."""
    zone = zone_of(budget)
    if key:
        year, month = parse_month(key)
    else:
        local = (when or timezone.now()).astimezone(zone)
        year, month = local.year, local.month
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Month(start, end)


def parse_month(text: str) -> tuple[int, int]:
    """YYYY-MM as (year, month); BudgetInvalid otherwise."""
    year, _, month = str(text).partition("-")
    if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        raise BudgetInvalid(f"“{text}” is not a month: write it as YYYY-MM, e.g. 2026-11.")
    if not 1 <= int(month) <= 12 or int(year) < 2000:
        raise BudgetInvalid(f"“{text}” is not a month: write it as YYYY-MM, e.g. 2026-11.")
    return int(year), int(month)


def _month_takes(workspace_id: int, month: Month):
    return Take.objects.filter(
        workspace_id=workspace_id, created_at__gte=month.start, created_at__lt=month.end
    )


def spent(workspace_id: int, month: Month, *, user_id: int | None = None, exclude=None):
    """What the workspace (or one member in it) has held or been charged in ``month``."""
    takes = _month_takes(workspace_id, month)
    if user_id is not None:
        takes = takes.filter(created_by_id=user_id)
    if exclude is not None:
        takes = takes.exclude(pk=exclude)
    total = takes.aggregate(total=Coalesce(Sum(TAKE_SPEND), Value(ZERO), output_field=MONEY))
    return total["total"] + _reserved(workspace_id, month, user_id)


def _reserved(workspace_id: int, month: Month, user_id: int | None) -> Decimal:
    """What open reservations of the month hold that no take has drawn yet."""
    drawn = (
        LedgerEntry.objects.filter(drawn_from=OuterRef("pk"))
        .order_by()
        .values("drawn_from")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    open_ones = LedgerEntry.objects.filter(
        workspace_id=workspace_id,
        take=None,
        kind=LedgerKind.HOLD,
        created_at__gte=month.start,
        created_at__lt=month.end,
    ).exclude(Exists(LedgerEntry.objects.filter(drawn_from=OuterRef("pk"), take=None)))
    if user_id is not None:
        open_ones = open_ones.filter(user_id=user_id)
    left = open_ones.annotate(
        drawn=Coalesce(Subquery(drawn, output_field=MONEY), Value(ZERO), output_field=MONEY)
    ).values_list("amount", "drawn")
    return sum((amount - used for amount, used in left), ZERO)


def owners_sentence(workspace_id: int) -> str:
    names = sorted(
        Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).values_list(
            "user__username", flat=True
        )
    )
    who = ", ".join(names) if names else "the install's operator"
    return f"An owner of the workspace ({who}) can raise it on its Budget page."


def check_hold(take: Take, amount: Decimal) -> None:
    """Refuse (OverBudget) a hold of ``amount`` for the new ``take`` that would pass its
    workspace's or its creator's monthly cap; record the alerts it sets off.

    Runs inside the transaction that creates the take and its hold, and locks the
    workspace's budget row until that transaction ends: the next hold of the workspace
    counts this one."""
    budget = Budget.objects.select_for_update().filter(workspace_id=take.workspace_id).first()
    if budget is None:
        return
    month = month_of(budget, take.created_at)
    found = _check(budget, month, take.created_by_id, amount, exclude=take.pk)
    _alerts(budget, month, found, amount, take.created_by_id)


def check_reservation(
    workspace_id: int, user_id: int | None, amount: Decimal, *, what: str
) -> None:
    """check_hold for a reservation: ``amount`` for several takes to come (``what``),
    refused whole past a cap, before any of them exists. Same lock, same alerts."""
    budget = Budget.objects.select_for_update().filter(workspace_id=workspace_id).first()
    if budget is None:
        return
    month = month_of(budget)
    found = _check(budget, month, user_id, amount, what=what)
    _alerts(budget, month, found, amount, user_id)


def precheck(
    workspace: Workspace, user, amount: Decimal | None, *, what: str = "this take"
) -> None:
    """check_hold before any work is done (a first frame saved, a take made), without the
    lock: most refusals then cost nothing. The check inside the hold is the one that counts.
    ``what`` names what ``amount`` pays for in the refusal ("these 3 cards")."""
    budget = Budget.objects.filter(workspace=workspace).first()
    if budget is not None and amount:
        user_id = user.pk if user is not None and user.is_authenticated else None
        _check(budget, month_of(budget), user_id, amount, what=what)


@dataclass(frozen=True)
class Counted:
    """What _check counted: the workspace's month before the hold, and the member's cap
    and month (None, ZERO without a cap of their own)."""

    before: Decimal
    member_cap: Decimal | None = None
    mine: Decimal = ZERO


def _check(
    budget: Budget, month: Month, user_id, amount: Decimal, exclude=None, what="this take"
) -> Counted:
    """Raise OverBudget when ``amount`` more would pass a cap; returns what was counted.
    The one place spend (US dollars) meets a cap (the workspace's currency): converted at
    the workspace's current rate."""
    workspace_id = budget.workspace_id
    workspace = budget.workspace
    before = spent(workspace_id, month, exclude=exclude)
    left_for = []
    if budget.monthly_cap is not None:
        left_for.append(("the workspace's monthly cap", budget.monthly_cap, before))
    cap = None
    if user_id is not None:
        cap = MemberCap.objects.filter(budget=budget, user_id=user_id).first()
    mine = ZERO
    if cap is not None:
        mine = spent(workspace_id, month, user_id=user_id, exclude=exclude)
        left_for.append(("your own monthly cap in this workspace", cap.monthly_cap, mine))
    for name, limit, used in left_for:
        if money.to_workspace(used + amount, workspace) > limit:
            left = max(limit - money.to_workspace(used, workspace), ZERO)
            raise OverBudget(
                f"Not queued: {what} would cost {money.show(amount, workspace)}, and {name} "
                f"of {money.format(limit, workspace)} has {money.format(left, workspace)} "
                f"left for {month.label}. " + owners_sentence(workspace_id)
            )
    return Counted(before, cap.monthly_cap if cap is not None else None, mine)


def _alerts(budget: Budget, month: Month, found: Counted, amount: Decimal, user_id) -> None:
    """The alerts a hold of ``amount`` (US dollars) sets off, its totals converted to the
    workspace's currency, the caps'."""
    workspace = budget.workspace
    if budget.monthly_cap:
        total = money.to_workspace(found.before + amount, workspace)
        _alert(budget, month, total, budget.monthly_cap)
    if found.member_cap:
        total = money.to_workspace(found.mine + amount, workspace)
        _alert(budget, month, total, found.member_cap, user_id)


def _alert(
    budget: Budget, month: Month, total: Decimal, cap: Decimal, member_id: int | None = None
) -> None:
    """Record the thresholds of ``cap`` (the workspace's, or with ``member_id`` that
    member's own) that ``total`` reaches for the first time this month, and tell about
    the highest: the workspace's pages (workspace cap only), the bell (signal) and mail."""
    percent = total * 100 / cap
    reached = [t for t in budget.thresholds if percent >= t]
    if not reached:
        return
    workspace_id = budget.workspace_id
    done = set(
        BudgetAlert.objects.filter(
            workspace_id=workspace_id, member_id=member_id, month=month.key, threshold__in=reached
        ).values_list("threshold", flat=True)
    )
    new = [t for t in reached if t not in done]
    for threshold in new:
        BudgetAlert.objects.create(
            workspace_id=workspace_id,
            member_id=member_id,
            month=month.key,
            threshold=threshold,
            spent=total,
            cap=cap,
        )
    if not new:
        return
    highest = max(new)
    if member_id is None:
        live.workspace_notice(
            workspace_id, notice_html(highest, total, cap, month, budget.workspace)
        )
    signals.announce(
        signals.budget_alert,
        Budget,
        workspace_id=workspace_id,
        threshold=highest,
        spent=total,
        cap=cap,
        month_label=month.label,
        member_id=member_id,
    )
    # robust: a mail server that fails is logged; the alert is recorded all the same.
    transaction.on_commit(
        partial(_mail_alert, workspace_id, highest, total, cap, month, member_id), robust=True
    )


def notice_html(threshold: int, total: Decimal, cap: Decimal, month: Month, workspace) -> str:
    """The pages' notice of an alert; ``total`` and ``cap`` in the workspace's currency."""
    return render_to_string(
        "studio/budget_notice.html",
        {"threshold": threshold, "spent": total, "cap": cap, "month": month}
        | {"workspace": workspace},
    )


def _mail_alert(workspace_id: int, threshold: int, total, cap, month: Month, member_id=None):
    """Mail the owners (and for a member's cap, that member) about an alert."""
    workspace = Workspace.objects.get(pk=workspace_id)
    to = Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER)
    if member_id is not None:
        to = Membership.objects.filter(workspace_id=workspace_id).filter(
            Q(role=Role.OWNER) | Q(user_id=member_id)
        )
    emails = sorted({address for address in to.values_list("user__email", flat=True) if address})
    if not emails:
        return
    total, cap = money.format(total, workspace), money.format(cap, workspace)
    if member_id is None:
        subject = f"[Slate] {workspace.name} has used {threshold}% of its budget"
        body = (
            f"{workspace.name} has spent or holds {total} of its {cap} "
            f"monthly cap for {month.label}."
        )
    else:
        name = Membership.objects.filter(workspace_id=workspace_id, user_id=member_id)
        name = name.values_list("user__username", flat=True).first() or "A member"
        subject = f"[Slate] {name} has used {threshold}% of their budget in {workspace.name}"
        body = (
            f"{name} has spent or holds {total} of their own {cap} monthly "
            f"cap in {workspace.name} for {month.label}."
        )
    send_mail(subject, body, None, emails)


# Settings, as owners (teams) and the shell change them.


def amount(text, workspace=None) -> Decimal:
    """A monthly cap as typed, in the workspace's currency: units and cents, from 0 to a
    million; its symbol or code may lead ("€250", "CHF 250")."""
    cleaned = money.unmarked(text, workspace).replace(",", "")
    example = f"write {money.code_of(workspace)}, e.g. 250 or 99.50"
    try:
        # Plain digits and cents only: Decimal would also read "1e3" (a $1,000 cap by surprise).
        if not re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)", cleaned):
            raise InvalidOperation
        value = Decimal(cleaned)
    except InvalidOperation:
        raise BudgetInvalid(f"“{text}” is not an amount: {example}.") from None
    if not value.is_finite():
        raise BudgetInvalid(f"“{text}” is not an amount: {example}.")
    if value < 0:
        raise BudgetInvalid("A cap can't be negative (0 stops all paid takes).")
    limit = min(money.to_workspace(MAX_CAP, workspace), MAX_STORED).quantize(Decimal("1"))
    if value > limit:
        raise BudgetInvalid(
            f"A monthly cap above {money.format(limit, workspace)} is surely a typo."
        )
    if value != value.quantize(Decimal("0.01")):
        raise BudgetInvalid(f"“{text}” has fractions of a cent: round it to cents.")
    return value.quantize(Decimal("0.01"))


def thresholds(text) -> list[int]:
    """Alert thresholds as typed, in percent: "50, 80, 100"."""
    parts = [p for p in str(text).replace(",", " ").split() if p.strip()]
    try:
        values = sorted({int(p.rstrip("%")) for p in parts})
    except ValueError:
        raise BudgetInvalid("Thresholds are whole percents, e.g. 50, 80, 100.") from None
    if not all(1 <= v <= 100 for v in values) or len(values) > 10:
        raise BudgetInvalid("Thresholds are up to ten whole percents from 1 to 100.")
    return values


def time_zone(text: str) -> str:
    text = str(text).strip() or "UTC"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise BudgetInvalid(
            f"“{text}” is not a time zone; use a name like Europe/Paris or UTC."
        ) from None
    return text


def budget_for(workspace: Workspace) -> Budget | None:
    return Budget.objects.filter(workspace=workspace).first()


@transaction.atomic
def set_budget(workspace: Workspace, **fields) -> tuple[Budget, dict]:
    """Save the workspace's cap (None: no cap), thresholds or time zone (already
    validated); returns the budget and what changed, as {field: (old, new)}."""
    budget, _ = Budget.objects.select_for_update().get_or_create(workspace=workspace)
    changed = {}
    for name, value in fields.items():
        if getattr(budget, name) != value:
            changed[name] = (getattr(budget, name), value)
            setattr(budget, name, value)
    if changed:
        budget.save()
    return budget, changed


@transaction.atomic
def set_member_cap(workspace: Workspace, user, cap: Decimal | None) -> tuple:
    """Set (or with None remove) a member's own monthly cap; returns (old, new)."""
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        raise BudgetInvalid(f"{user.get_username()} is not a member of {workspace.name}.")
    budget, _ = Budget.objects.select_for_update().get_or_create(workspace=workspace)
    found = MemberCap.objects.filter(budget=budget, user=user).first()
    old = found.monthly_cap if found else None
    if cap is None:
        MemberCap.objects.filter(budget=budget, user=user).delete()
    else:
        MemberCap.objects.update_or_create(budget=budget, user=user, defaults={"monthly_cap": cap})
    return old, cap


def overview(workspace: Workspace, month: Month | None = None) -> dict:
    """The month's caps, spend and alerts, for pages and the shell."""
    budget = budget_for(workspace)
    month = month or month_of(budget)
    total = money.to_workspace(spent(workspace.pk, month), workspace)
    cap = budget.monthly_cap if budget else None
    caps = {c.user_id: c.monthly_cap for c in budget.member_caps.all()} if budget else {}
    by_member = dict(
        _month_takes(workspace.pk, month)
        .values_list("created_by_id")
        .annotate(total=Sum(TAKE_SPEND))
        .order_by()
    )
    members = [
        {
            "membership_id": membership.pk,
            "user": membership.user,
            "role": membership.role,
            "cap": caps.get(membership.user_id),
            "spent": money.to_workspace(by_member.get(membership.user_id, ZERO), workspace),
        }
        for membership in workspace.memberships.select_related("user").order_by("user__username")
    ]
    return {  # amounts in the workspace's currency
        "budget": budget,
        "month": month,
        "cap": cap,
        "spent": total,
        "left": None if cap is None else max(cap - total, ZERO),
        "percent": None if not cap else min(int(total * 100 / cap), 999),
        "thresholds": budget.thresholds if budget else default_thresholds(),
        "time_zone": budget.time_zone if budget else "UTC",
        "members": members,
        "alerts": list(
            BudgetAlert.objects.filter(
                workspace=workspace, month=month.key, member__isnull=True
            ).order_by("threshold")
        ),
        "member_alerts": list(
            BudgetAlert.objects.filter(workspace=workspace, month=month.key, member__isnull=False)
            .select_related("member")
            .order_by("member__username", "threshold")
        ),
    }


def month_before(month: Month, budget: Budget | None) -> Month:
    return month_of(budget, month.start - timedelta(days=1))


def month_after(month: Month, budget: Budget | None) -> Month:
    return month_of(budget, month.end + timedelta(hours=1))
