"""Push take changes to every browser watching the take's workspace.

Messages carry fragments rendered from the same template partials the pages use.
A state change (queued, claimed, finished…) carries whole regions: the take
list for workspace pages, the take's live panel for its own page; a missed
message heals on the next one, and every socket gets the current state when it
connects. A progress tick carries only the progress elements, so buttons and
links the creator may be clicking are not replaced five times a second.
Everything is sent after the change is committed.
"""

import asyncio
import logging
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.template.loader import render_to_string

from .models import Membership, Take

log = logging.getLogger(__name__)

SEND_TIMEOUT = 2.0  # seconds; a stuck channel layer must not stall a render


def group_name(workspace_id: int) -> str:
    return f"workspace-{workspace_id}"


def user_group_name(user_id: int) -> str:
    return f"user-{user_id}"


def take_list_html(workspace_id: int, role: str) -> str:
    context = {"takes": Take.objects.recent(workspace_id), "can_edit": role == "edit"}
    return render_to_string("studio/workspace.html#take_list_oob", context)


def take_live_html(take: Take, role: str) -> str:
    context = {"take": take, "can_edit": role == "edit"}
    return render_to_string("studio/take.html#live", context)


def snapshot(membership: Membership, take_id: int | None) -> str:
    """What a socket gets on connecting: the current state of its page."""
    role = "edit" if membership.can_edit else "view"
    if take_id is None:
        return take_list_html(membership.workspace_id, role)
    take = Take.objects.filter(pk=take_id, workspace_id=membership.workspace_id).first()
    return take_live_html(take, role) if take else ""


def take_changed(take_id: int) -> None:
    """A take changed state: push whole regions once the transaction commits."""
    transaction.on_commit(partial(_push, take_id, progress_only=False))


def progress_changed(take_id: int) -> None:
    """A take's progress moved: push just the progress elements."""
    transaction.on_commit(partial(_push, take_id, progress_only=True))


def render_message(take: Take, *, progress_only: bool) -> dict:
    message = {"type": "take.changed", "take_id": take.pk}
    if progress_only:
        message["progress"] = {
            "card": render_to_string("studio/workspace.html#card_progress", {"take": take}),
            "detail": render_to_string("studio/take.html#progress", {"take": take}),
        }
    else:
        message["list"] = {
            role: take_list_html(take.workspace_id, role) for role in ("edit", "view")
        }
        message["detail"] = {role: take_live_html(take, role) for role in ("edit", "view")}
    return message


def _push(take_id: int, *, progress_only: bool) -> None:
    take = Take.objects.filter(pk=take_id).first()
    if take is not None:
        send(group_name(take.workspace_id), render_message(take, progress_only=progress_only))


def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    """Logging out also ends the live connections of that browser session."""
    if user is not None:
        access_changed(user.pk, logged_out_session=request.session.session_key)


def access_changed(user_id: int, *, logged_out_session: str | None = None) -> None:
    """The user's memberships changed or they logged out: their sockets re-check access."""
    message = {"type": "access.changed", "session_key": logged_out_session}
    transaction.on_commit(partial(send, user_group_name(user_id), message))


def send(group: str, message: dict) -> None:
    try:
        async_to_sync(_send)(group, message)
    except Exception:
        # Live updates are a convenience: the state is in the database and the
        # next push or a reload shows it. Never fail the work over a push.
        log.exception("Could not push to %s", group)


async def _send(group: str, message: dict) -> None:
    await asyncio.wait_for(get_channel_layer().group_send(group, message), SEND_TIMEOUT)
