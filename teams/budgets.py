"""Owners' changes to a workspace's budget, each written to the audit log with the change.

The caps themselves and the check on every hold live in studio/budgets.py (the studio
can't see teams); this module validates what an owner typed and records who changed what.
"""

from django.db import transaction

from studio import budgets, money
from studio.models import Membership, Workspace

from . import audit
from .invites import require_owner
from .models import AuditAction


def _cap_text(value, workspace) -> str:
    return "no cap" if value is None else money.format(value, workspace)


def optional_amount(text, workspace) -> object:
    """A cap as typed, in the workspace's currency: blank is no cap."""
    return None if str(text or "").strip() == "" else budgets.amount(text, workspace)


@transaction.atomic
def change_budget(
    workspace: Workspace,
    *,
    monthly: str,
    thresholds: str | None = None,
    time_zone: str | None = None,
    by: Membership | None = None,
    address: str | None = None,
) -> dict:
    """Set the workspace's monthly cap (blank: none), alert thresholds and time zone.
    Raises BudgetInvalid, saving nothing, when any of them is wrong."""
    if by is not None:
        require_owner(by, "change the budget")
    fields = {"monthly_cap": optional_amount(monthly, workspace)}
    if thresholds is not None:
        fields["thresholds"] = budgets.thresholds(thresholds)
    if time_zone is not None:
        fields["time_zone"] = budgets.time_zone(time_zone)
    _, changed = budgets.set_budget(workspace, **fields)
    for name, (old, new) in changed.items():
        if name == "monthly_cap":
            detail = f"monthly cap {_cap_text(old, workspace)} → {_cap_text(new, workspace)}"
        elif name == "thresholds":
            detail = f"alerts at {', '.join(f'{t}%' for t in new) or 'no threshold'}"
        else:
            detail = f"time zone {old} → {new}"
        audit.record(
            workspace,
            AuditAction.BUDGET_CHANGED,
            by=by.user if by else None,
            target="workspace",
            detail=detail,
            address=address,
        )
    return changed


@transaction.atomic
def change_member_cap(
    workspace: Workspace,
    user,
    monthly: str,
    *,
    by: Membership | None = None,
    address: str | None = None,
) -> tuple:
    """Set a member's own monthly cap (blank: none). Raises BudgetInvalid."""
    if by is not None:
        require_owner(by, "change the budget")
    old, new = budgets.set_member_cap(workspace, user, optional_amount(monthly, workspace))
    if old != new:
        audit.record(
            workspace,
            AuditAction.BUDGET_CHANGED,
            by=by.user if by else None,
            target=user.get_username(),
            detail=f"member's monthly cap {_cap_text(old, workspace)} → "
            f"{_cap_text(new, workspace)}",
            address=address,
        )
    return old, new
