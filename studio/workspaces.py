"""Workspaces: the personal one every user gets, and the install's local one."""

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from .models import Membership, Role, Workspace

DEFAULT_SLUG = "local"


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "studio"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def default_workspace() -> Workspace:
    """The install's local workspace (the CLI's home), created on first use."""
    workspace = Workspace.objects.filter(is_default=True).first()
    if workspace:
        return workspace
    try:
        with transaction.atomic():
            return Workspace.objects.create(
                name="Local studio", slug=unique_slug(DEFAULT_SLUG), is_default=True
            )
    except IntegrityError:  # another process made it first
        return Workspace.objects.get(is_default=True)


@transaction.atomic
def onboard(user) -> Workspace:
    """Give a new user a workspace of their own.

    The first person to sign up on an install also owns its local workspace,
    so what they made from the command line is in their studio.
    """
    local = Workspace.objects.select_for_update().filter(is_default=True).first()
    if local is None:
        local = Workspace.objects.create(
            name="Local studio", slug=unique_slug(DEFAULT_SLUG), is_default=True
        )
    if not local.memberships.filter(role=Role.OWNER).exists():
        Membership.objects.create(user=user, workspace=local, role=Role.OWNER)
        return local
    personal = Workspace.objects.create(
        name=f"{user.get_username()}’s studio", slug=unique_slug(user.get_username())
    )
    Membership.objects.create(user=user, workspace=personal, role=Role.OWNER)
    return personal


def add_member(workspace: Workspace, user, role: str = Role.EDITOR) -> Membership:
    """Add a member, or change their role; their open pages pick up the new role."""
    membership, _ = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership  # their sockets re-check through the membership signal


def remove_member(workspace: Workspace, user) -> None:
    """Remove a member; their open pages of this workspace stop receiving at once."""
    for membership in Membership.objects.filter(workspace=workspace, user=user):
        membership.delete()  # one by one, so the signal tells their sockets
