"""The one scoping helper: who may see or change which workspace and take.

Views and consumers get workspaces and takes only through these functions.
An outsider asking for anything gets 404 (no hint that it exists); a member
without the right role gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership, Role, Take


def _membership(user, **workspace_lookup) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user, **{f"workspace__{k}": v for k, v in workspace_lookup.items()})
        .first()
    )


def _check(membership: Membership | None, edit: bool, own: bool = False) -> Membership:
    if membership is None:
        raise Http404("No such workspace.")
    if edit and not membership.can_edit:
        raise PermissionDenied("Viewers can watch takes but not make or change them.")
    if own and membership.role != Role.OWNER:
        raise PermissionDenied("Only the workspace's owners can change its providers.")
    return membership


def get_membership(user, slug: str, *, edit: bool = False, own: bool = False) -> Membership:
    """The user's membership of the workspace ``slug`` (404 outsider, 403 without the role)."""
    return _check(_membership(user, slug=slug), edit, own)


def get_endpoint(user, slug: str, name: str, *, own: bool = False):
    """A provider endpoint of a workspace the user belongs to (404 otherwise)."""
    membership = get_membership(user, slug, own=own)
    endpoint = membership.workspace.endpoints.filter(name=name).first()
    if endpoint is None:
        raise Http404("No such provider.")
    return endpoint, membership


def takes_for(user):
    """Every take the user may see."""
    if not user.is_authenticated:
        return Take.objects.none()
    return Take.objects.filter(workspace__memberships__user=user)


def get_take(user, take_id, *, edit: bool = False) -> tuple[Take, Membership]:
    """A take and the user's membership of its workspace (404 outsider, 403 read-only)."""
    take = takes_for(user).select_related("workspace").filter(pk=take_id).first()
    if take is None:
        raise Http404("No such take.")
    return take, _check(_membership(user, pk=take.workspace_id), edit)


def live_membership(user, *, slug: str | None = None, take_id: int | None = None):
    """For websocket consumers: the membership behind a subscription, or None."""
    try:
        if take_id is not None:
            return get_take(user, take_id)[1]
        return get_membership(user, slug)
    except Http404:
        return None


def recent_takes(membership: Membership):
    """The newest takes of the member's workspace, for its page."""
    return Take.objects.recent(membership.workspace_id)
