"""The money ledger: an estimate held when a take is queued, then charged or released.

Each function runs inside the caller's transaction: the ledger moves together
with the take's status, so holds always equal charges plus releases once a
take has ended. The database refuses a second hold, charge or release for a
take (one row per kind), so nothing is ever charged twice.

A reservation holds the price of several takes at once (a board render: ``reserve``),
checked against the caps as one amount. The takes made under it, in the transaction that
made it, each draw their own hold from it (``hold(..., drawn_from=)``), never more than is
left, and are charged or released as any take. When the last of them ends, in that same
transaction, the reservation is closed: what no take drew is given back (``close``). So a
reservation's hold always equals its takes' charges and releases plus its own release.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from . import budgets
from .models import ACTIVE_STATUSES, TERMINAL_STATUSES, LedgerEntry, LedgerKind, Take

ZERO = Decimal("0")


class ReservationSpent(ValueError):
    """A take asked a reservation for more than is left in it, or a closed one."""


def hold(take: Take, amount: Decimal | None, *, drawn_from: LedgerEntry | None = None) -> None:
    """Hold the take's estimate; budgets.OverBudget (nothing saved) past a monthly cap.

    ``drawn_from``: a reservation that already holds it (checked against the caps when it
    was made); ReservationSpent when it has less left than ``amount``, or is closed."""
    amount = amount or ZERO
    if drawn_from is None:
        budgets.check_hold(take, amount)
    else:
        left = _left(drawn_from)
        if amount > left:
            raise ReservationSpent(
                f"Reservation {drawn_from.pk} has {left} left, not the {amount} take asks."
            )
    LedgerEntry.objects.create(
        workspace_id=take.workspace_id,
        take=take,
        user_id=take.created_by_id,
        kind=LedgerKind.HOLD,
        amount=amount,
        drawn_from=drawn_from,
    )


def reserve(workspace_id: int, user, amount: Decimal, *, what: str) -> LedgerEntry:
    """Hold ``amount`` for takes still to be made, as one reservation: refused whole
    (budgets.OverBudget, nothing saved) if it would pass a cap. ``what`` names it in the
    refusal ("these 3 cards"). Runs inside the caller's transaction, which then makes
    the takes that draw from it."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    budgets.check_reservation(workspace_id, user_id, amount, what=what)
    return LedgerEntry.objects.create(
        workspace_id=workspace_id, user_id=user_id, kind=LedgerKind.HOLD, amount=amount
    )


def _left(reservation: LedgerEntry) -> Decimal:
    """What the reservation still holds for takes to come (locked: draws go one by one)."""
    locked = LedgerEntry.objects.select_for_update().get(pk=reservation.pk)
    used = LedgerEntry.objects.filter(drawn_from=locked).aggregate(total=Sum("amount"))["total"]
    closed = LedgerEntry.objects.filter(
        drawn_from=locked, take=None, kind=LedgerKind.RELEASE
    ).exists()
    return ZERO if closed else locked.amount - (used or ZERO)


def close_drained(take_id: int) -> None:
    """Close the reservation the ended take drew its hold from, if none of its takes is
    under way any more. Runs in the transaction that ends the take; the reservation row is
    locked first, so of two of its takes ending at once, the one that commits last sees
    the other ended and closes it."""
    draw = LedgerEntry.objects.filter(take_id=take_id, kind=LedgerKind.HOLD)
    reservation_id = draw.values_list("drawn_from_id", flat=True).first()
    if reservation_id is None:
        return
    reservation = LedgerEntry.objects.select_for_update().get(pk=reservation_id)
    if not Take.objects.filter(ledger__drawn_from=reservation, status__in=ACTIVE_STATUSES).exists():
        close(reservation)


def close(reservation: LedgerEntry) -> Decimal:
    """Give back what no take drew from the reservation; once (a second close does
    nothing and returns 0). Returns the amount released."""
    left = _left(reservation)
    if LedgerEntry.objects.filter(drawn_from=reservation, take=None).exists():
        return ZERO
    LedgerEntry.objects.create(
        workspace_id=reservation.workspace_id,
        user_id=reservation.user_id,
        kind=LedgerKind.RELEASE,
        amount=left,
        drawn_from=reservation,
    )
    return left


@dataclass(frozen=True)
class Reservation:
    """A reservation's account: ``held`` = ``spent`` + ``released`` + ``pending``."""

    held: Decimal
    spent: Decimal  # charged for its finished takes
    released: Decimal  # given back: its takes that failed, were refused or cancelled, the rest
    pending: Decimal  # still held by takes under way (or not yet drawn)
    closed: bool


def account(reservation: LedgerEntry) -> Reservation:
    """The reservation's money now (one query)."""
    rows = (
        LedgerEntry.objects.filter(
            Q(take__ledger__drawn_from=reservation, drawn_from=None) | Q(drawn_from=reservation)
        )
        .exclude(kind=LedgerKind.HOLD)
        .values("kind", "take_id")
        .annotate(total=Sum("amount"))
    )
    spent = released = ZERO
    closed = False
    for row in rows:
        if row["kind"] == LedgerKind.CHARGE:
            spent += row["total"]
        else:
            released += row["total"]
            closed = closed or row["take_id"] is None
    held = reservation.amount
    return Reservation(held, spent, released, held - spent - released, closed)


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


def unbalanced_reservations() -> list[int]:
    """Closed reservations whose hold is not exactly its takes' charges and releases plus
    its own release (should always be empty)."""
    closed = LedgerEntry.objects.filter(
        take=None, kind=LedgerKind.HOLD, draws__take=None, draws__kind=LedgerKind.RELEASE
    )
    return [entry.pk for entry in closed if account(entry).pending != ZERO]


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
