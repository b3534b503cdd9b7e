"""The one scoping helper: who may see or change which workspace and take.

Views and consumers get workspaces and takes only through these functions.
An outsider asking for anything gets 404 (no hint that it exists); a member
without the right role gets 403.
"""

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from . import card_notes
from .inputs import whole_number
from .models import RECENT_TAKES, Membership, Role, Take, Workspace


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


MEDIA_FIELDS = ("workspace_id", "video", "video_sha256", "poster", "spritesheet")


def media_take(user, take_id) -> Take:
    """A take the user may watch, with only its files loaded (404 otherwise): one query,
    made afresh on every request, so a member removed mid-video loses it on the next range."""
    take = takes_for(user).only(*MEDIA_FIELDS).filter(pk=take_id).first()
    if take is None:
        raise Http404("No such take.")
    return take


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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def take_page(workspace: Workspace, before: tuple[datetime, int] | None = None) -> dict:
    """A page of the workspace's takes, newest first, for its studio page and live list:
    ``takes`` (RECENT_TAKES of them) from just after the cursor ``before`` (from the start
    without one), and ``older``, the cursor of the page after this one ("" on the last page).

    Keyset paging on (created_at, id), the list's own order: a page deep in the list costs
    what the first one does, and takes made while someone pages don't shift or repeat any.
    """
    found = Take.objects.filter(workspace_id=workspace.pk).order_by("-created_at", "-id")
    if before is not None:
        created_at, pk = before
        found = found.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    takes = list(found[: RECENT_TAKES + 1])
    older = ""
    if len(takes) > RECENT_TAKES:
        takes = takes[:RECENT_TAKES]
        older = f"{(takes[-1].created_at - EPOCH) // MICROSECOND}-{takes[-1].pk}"
    card_notes.attach(takes)
    return {"workspace": workspace, "takes": takes, "older": older}


def page_cursor(text: str) -> tuple[datetime, int] | None:
    """A take_page cursor as sent back by a browser, or None when it isn't one."""
    micros, _, pk = str(text).partition("-")
    micros, pk = whole_number(micros), whole_number(pk)
    if micros is None or pk is None:
        return None
    try:
        return EPOCH + micros * MICROSECOND, pk
    except OverflowError:
        return None
