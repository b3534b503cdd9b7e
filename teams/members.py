"""Members of a workspace: who they are, and the owner's changes to them.

Every change locks the workspace's row first, so two owners demoting each other at the same
moment can't leave a workspace with no owner. Membership rows are saved or deleted one by
one: the membership signal (studio/live.py) tells the member's open sockets at once.
"""

from django.db import transaction
from django.db.models import OuterRef, Subquery

from studio import money, workspaces
from studio.models import Membership, Role, Take, Workspace

from . import audit, notifications
from .invites import require_owner
from .models import AuditAction, Refused

LAST_OWNER = (
    "{name} needs an owner: make someone else an owner first (Transfer ownership), then {then}."
)


def members_of(workspace: Workspace) -> list[Membership]:
    """Everyone in the workspace, owners first, each with ``last_active``: their latest
    log-in or take in this workspace, whichever is later (None if neither)."""
    last_take = (
        Take.objects.filter(workspace=workspace, created_by=OuterRef("user"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    found = workspace.memberships.select_related("user").annotate(last_take_at=Subquery(last_take))
    order = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}
    people = sorted(found, key=lambda m: (order.get(m.role, 3), m.user.get_username().lower()))
    for m in people:
        m.last_active = max(filter(None, (m.user.last_login, m.last_take_at)), default=None)
    return people


def _locked(workspace_id: int, by: Membership | None, what: str = "") -> Workspace:
    """The workspace, locked for this transaction; and ``by``'s role read again under the
    lock (a page's copy may be stale: another owner may have changed it a moment ago), and
    required to be owner when ``what`` names an owner's action."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
    if by is not None:
        by.role = workspace.memberships.filter(pk=by.pk).values_list("role", flat=True).first()
        if by.role is None:
            raise Refused("You are no longer a member of this workspace.")
        if what:
            require_owner(by, what)
    return workspace


def _target(workspace: Workspace, member_id: int) -> Membership:
    target = workspace.memberships.select_related("user").filter(pk=member_id).first()
    if target is None:
        raise Refused("That person is no longer a member of this workspace.")
    return target


def _other_owners(workspace: Workspace, membership: Membership) -> bool:
    return workspace.memberships.filter(role=Role.OWNER).exclude(pk=membership.pk).exists()


@transaction.atomic
def change_role(
    workspace: Workspace,
    member_id: int,
    role: str,
    *,
    by: Membership | None = None,
    address: str | None = None,
) -> Membership:
    """An owner (``by``; None: the install's shell) sets a member's role, their own too while
    another owner remains."""
    if by is not None:
        require_owner(by, "change roles")
    if role not in Role.values:
        raise Refused(f"“{role}” is not a role: owner, editor or viewer.")
    workspace = _locked(workspace.pk, by, "change roles")
    target = _target(workspace, member_id)
    if target.role == Role.OWNER and role != Role.OWNER and not _other_owners(workspace, target):
        then = "change your role" if by and target.pk == by.pk else "change theirs"
        raise Refused(LAST_OWNER.format(name=workspace.name, then=then))
    if target.role != role:
        detail = f"{target.get_role_display().lower()} → {Role(role).label.lower()}"
        target.role = role
        target.save(update_fields=["role"])
        audit.record(
            workspace,
            AuditAction.ROLE_CHANGED,
            by=by.user if by else None,
            target=target.user.get_username(),
            detail=detail,
            address=address,
        )
        notifications.role_changed(target, by=by.user if by else None)
    return target


@transaction.atomic
def remove(actor: Membership, member_id: int, address: str | None = None) -> Membership:
    """An owner removes someone; their open pages of the workspace stop at once."""
    require_owner(actor, "remove members")
    workspace = _locked(actor.workspace_id, actor, "remove members")
    target = _target(workspace, member_id)
    if target.pk == actor.pk:
        raise Refused("To remove yourself, use Leave workspace.")
    workspaces.remove_member(workspace, target.user)
    audit.record(
        workspace,
        AuditAction.MEMBER_REMOVED,
        by=actor.user,
        target=target.user.get_username(),
        detail=f"was {target.get_role_display().lower()}",
        address=address,
    )
    return target


@transaction.atomic
def transfer_ownership(actor: Membership, member_id: int, address: str | None = None) -> Membership:
    """Make another member an owner and step down to editor."""
    require_owner(actor, "transfer ownership")
    workspace = _locked(actor.workspace_id, actor, "transfer ownership")
    target = _target(workspace, member_id)
    if target.pk == actor.pk:
        raise Refused("You already own this workspace; choose someone else.")
    if target.role == Role.OWNER:
        name = target.user.get_username()
        raise Refused(f"{name} is already an owner; to step down, change your own role.")
    target.role = Role.OWNER
    target.save(update_fields=["role"])
    actor.role = Role.EDITOR
    actor.save(update_fields=["role"])
    audit.record(
        workspace,
        AuditAction.OWNERSHIP_TRANSFERRED,
        by=actor.user,
        target=target.user.get_username(),
        detail=f"{actor.user.get_username()} is now an editor",
        address=address,
    )
    notifications.role_changed(target, by=actor.user)
    return target


@transaction.atomic
def leave(membership: Membership, address: str | None = None) -> None:
    """Leave a workspace; its last owner can't (it would be left with nobody to run it)."""
    workspace = _locked(membership.workspace_id, membership)
    if membership.role == Role.OWNER and not _other_owners(workspace, membership):
        raise Refused(LAST_OWNER.format(name=workspace.name, then="leave"))
    workspaces.remove_member(workspace, membership.user)
    audit.record(
        workspace,
        AuditAction.MEMBER_LEFT,
        by=membership.user,
        target=membership.user.get_username(),
        detail=f"was {membership.get_role_display().lower()}",
        address=address,
    )


@transaction.atomic
def rename(
    actor: Membership,
    *,
    name: str,
    slug: str,
    currency: str = "",
    rate: str = "",
    address: str | None = None,
) -> Workspace:
    """An owner changes the workspace's name and slug (the slug is its address: /w/SLUG/),
    and its currency and rate (blank: unchanged). Raises Refused or CurrencyInvalid,
    saving nothing, when any of them is wrong."""
    require_owner(actor, "change the workspace's settings")
    workspace = _locked(actor.workspace_id, actor, "change the workspace's settings")
    if Workspace.objects.filter(slug=slug).exclude(pk=workspace.pk).exists():
        raise Refused(f"The address /w/{slug}/ is taken; choose another slug.")
    code = money.currency(currency) if str(currency).strip() else workspace.currency
    if str(rate).strip():
        per_dollar = money.rate(rate, code)
    elif code == money.USD:
        per_dollar = money.ONE
    elif code == workspace.currency:
        per_dollar = workspace.rate
    else:  # a new currency's rate must be said, or caps would be read at the old one
        raise money.CurrencyInvalid(f"Give the rate of {code}: how much one US dollar buys.")
    fields = (
        ("name", workspace.name, name),
        ("slug", workspace.slug, slug),
        ("currency", workspace.currency, code),
        ("rate", f"{workspace.rate.normalize():f}", f"{per_dollar.normalize():f}"),
    )
    changes = [f"{field}: {old} → {new}" for field, old, new in fields if old != new]
    if changes:
        workspace.name, workspace.slug = name, slug
        workspace.currency, workspace.rate = code, per_dollar
        workspace.save(update_fields=["name", "slug", "currency", "rate"])
        audit.record(
            workspace,
            AuditAction.SETTINGS_CHANGED,
            by=actor.user,
            detail="; ".join(changes),
            address=address,
        )
    return workspace
