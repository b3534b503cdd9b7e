"""The money ledger: an estimate held when a take is queued, then charged or released.

Each function runs inside the caller's transaction: the ledger moves together
with the take's status, so holds always equal charges plus releases once a
take has ended. The database refuses a second hold, charge or release for a
take (one row per kind), so nothing is ever charged twice.
"""

from decimal import Decimal

from django.db.models import Q, Sum

from . import budgets
from .models import TERMINAL_STATUSES, LedgerEntry, LedgerKind, Take

ZERO = Decimal("0")


def hold(take: Take, amount: Decimal | None) -> None:
    """Hold the take's estimate; budgets.OverBudget (nothing saved) past a monthly cap."""
    budgets.check_hold(take, amount or ZERO)
    LedgerEntry.objects.create(
        workspace_id=take.workspace_id,
        take=take,
        user_id=take.created_by_id,
        kind=LedgerKind.HOLD,
        amount=amount or ZERO,
    )


def _held(take_id: int) -> Decimal:
    entry = LedgerEntry.objects.filter(take_id=take_id, kind=LedgerKind.HOLD).first()
    return entry.amount if entry else ZERO


def charge(take_id: int, workspace_id: int, amount: Decimal) -> Decimal:
    """Charge what the render cost; give back the rest of the hold. Returns the charge."""
    held = _held(take_id)
    amount = min(amount, held)
    LedgerEntry.objects.create(
        workspace_id=workspace_id, take_id=take_id, kind=LedgerKind.CHARGE, amount=amount
    )
    if held > amount:
        release(take_id, workspace_id, held - amount)
    return amount


def release(take_id: int, workspace_id: int, amount: Decimal | None = None) -> None:
    """Give back the hold (refused, failed, cancelled, expired): it costs the creator nothing."""
    LedgerEntry.objects.create(
        workspace_id=workspace_id,
        take_id=take_id,
        kind=LedgerKind.RELEASE,
        amount=_held(take_id) if amount is None else amount,
    )


def totals(**filters) -> dict[str, Decimal]:
    rows = LedgerEntry.objects.filter(**filters).values("kind").annotate(total=Sum("amount"))
    found = {row["kind"]: row["total"] for row in rows}
    return {kind: found.get(kind, ZERO) for kind in LedgerKind.values}


def unbalanced_takes() -> list[int]:
    """Ended takes whose hold is not exactly charges + releases (should always be empty)."""
    rows = (
        LedgerEntry.objects.filter(take__status__in=TERMINAL_STATUSES)
        .values("take_id")
        .annotate(
            held=Sum("amount", filter=Q(kind=LedgerKind.HOLD)),
            charged=Sum("amount", filter=Q(kind=LedgerKind.CHARGE)),
            released=Sum("amount", filter=Q(kind=LedgerKind.RELEASE)),
        )
    )
    return [
        row["take_id"]
        for row in rows
        if (row["held"] or ZERO) != (row["charged"] or ZERO) + (row["released"] or ZERO)
    ]
