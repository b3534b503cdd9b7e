"""Push take changes to every browser watching the take's workspace.

One change, one render, whatever the page. A state change (queued, claimed,
finished…) renders the take's card (``studio/take_card.html``) and its take-page
panel (``studio/take.html#live``); a progress tick renders just the progress
elements, so buttons and links the creator may be clicking are not replaced five
times a second; a review or a circle renders just the take's notes
(``studio/card_notes.html``, on its cards and its tree node). Every element carries
the id of the element it replaces (``take-card-7``, ``take-live-7``,
``card-progress-7``, ``progress-7``, ``card-notes-7``…) and htmx's websocket
extension swaps each one out of band. The message doesn't know which
page it lands on: slate.js's ``slate-live`` extension drops the elements a page
doesn't show, and lets a card that isn't on a page yet join the list it names
(``data-list``). Elements carry whole state, so a missed message heals on the
take's next change, and every socket gets its page's current state when it
connects (``snapshot``). Everything is sent after the change is committed.

Roles: a socket joins its workspace's group for its member's role
(``workspace-7-edit`` or ``workspace-7-view``), so a viewer never receives an edit
control. A state change is rendered once per role that has a socket open;
progress elements hold no controls and are rendered once for both.

Nobody watching, nothing rendered. Before rendering, ``subscribed`` asks the
channel layer whether the group has a member:

- the in-memory layer (the embedded default: worker and sockets share the
  process) answers from its own group table, exactly and for free;
- channels-redis's pub/sub layer (scale-out) answers with one ``PUBSUB NUMSUB``
  on the group's Redis channel: how many server processes hold a socket in it.
  The channel name is the layer's ``<prefix>__group__<group>``; with several
  Redis hosts (sharding) we can't tell which one to ask, so we don't;
- any other layer is assumed to have someone watching: render, as before.

A socket that hasn't finished joining when a change is decided misses nothing:
it joins before it reads its snapshot.

Sending: every push in a process goes through one event loop, run by a daemon thread
(``_push_loop``). channels-redis keeps its connections per event loop, so a fresh loop a push
(``async_to_sync``) meant a fresh Redis connection a push; one loop keeps one connection.
"""

import asyncio
import logging
import os
import threading
from functools import partial

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from . import access, card_notes, family
from .models import Membership, Take

log = logging.getLogger(__name__)

SEND_TIMEOUT = 2.0  # seconds; a stuck channel layer must not stall a render
ROLES = ("edit", "view")


def group_name(workspace_id: int, role: str) -> str:
    return f"workspace-{workspace_id}-{role}"


def user_group_name(user_id: int) -> str:
    return f"user-{user_id}"


def role_of(membership: Membership) -> str:
    return "edit" if membership.can_edit else "view"


def take_list_html(workspace, role: str) -> str:
    context = {**access.take_page(workspace), "can_edit": role == "edit"}
    return render_to_string("studio/workspace.html#take_list_oob", context)


def take_card_html(take: Take, role: str) -> str:
    card_notes.attach([take])
    return render_to_string("studio/take_card.html", {"take": take, "can_edit": role == "edit"})


def tree_html(take: Take) -> str:
    """The family tree ``take`` belongs to, as every page of that tree shows it (the path
    to each page's own take is marked by slate.js)."""
    context = {"tree": family.family_tree(take, False), "workspace": take.workspace}
    return render_to_string("studio/take_tree.html", context)


def take_live_html(take: Take, role: str) -> str:
    return render_to_string("studio/take.html#live", {"take": take, "can_edit": role == "edit"})


PROGRESS_PARTS = (
    "studio/take_card.html#progress",
    "studio/take_card.html#badge",
    "studio/take_card.html#thumb_status",
    "studio/take.html#progress",
    "studio/take.html#stage_badge",
    "studio/take.html#status_badge",
)


def progress_html(take: Take) -> str:
    """What a progress tick redraws, wherever the take is shown: bar, label and badges
    (a job's stage can move from "In queue" to "Rendering" with no change of state)."""
    context = {"take": take}
    return "".join(render_to_string(part, context) for part in PROGRESS_PARTS)


def snapshot(membership: Membership, take_id: int | None) -> str:
    """What a socket gets on connecting: the current state of its page."""
    role = role_of(membership)
    if take_id is None:
        return take_list_html(membership.workspace, role)
    take = Take.objects.filter(pk=take_id, workspace_id=membership.workspace_id).first()
    return take_live_html(take, role) if take else ""


def role_changed_html(membership: Membership, take_id: int | None) -> str:
    """What an open page gets when its member's role changes: a notice to reload (the role
    decides the page's controls), and its live parts as the new role sees them."""
    context = {"role": membership.get_role_display(), "workspace": membership.workspace}
    notice = render_to_string("studio/role_notice.html", context)
    return notice + snapshot(membership, take_id)


def root_of(take_id: int) -> int | None:
    """The root of the take's family tree (its own id for a first take)."""
    found = Take.objects.filter(pk=take_id).values_list("root_id", flat=True).first()
    return found or take_id


def take_changed(take_id: int) -> None:
    """A take changed state: push its card and panel once the transaction commits."""
    transaction.on_commit(partial(_push, take_id, progress_only=False))


def progress_changed(take_id: int) -> None:
    """A take's progress moved: push just the progress elements."""
    transaction.on_commit(partial(_push, take_id, progress_only=True))


def _push(take_id: int, *, progress_only: bool) -> None:
    # Who is watching needs only the workspace: the whole take is read for the render.
    found = Take.objects.filter(pk=take_id).values_list("workspace_id", flat=True)[:1]
    if not found:
        return
    groups = {role: group_name(found[0], role) for role in ROLES}
    watching = [role for role, group in groups.items() if subscribed(group)]
    take = Take.objects.filter(pk=take_id).first() if watching else None
    if take is None:
        return
    shared = progress_html(take) if progress_only else None
    # A take made from another changed: the pages of its whole tree redraw the tree.
    tree = tree_html(take) if take.root_id and not progress_only else ""
    for role in watching:
        html = shared or take_card_html(take, role) + take_live_html(take, role) + tree
        message = {
            "type": "take.changed",
            "take_id": take.pk,
            "root_id": take.root_pk,
            "group": groups[role],
            "html": html,
        }
        send(groups[role], message)


def notes_changed(take_ids) -> None:
    """What people say of these takes changed (a review, a circle): once the transaction
    commits, push each take's notes (studio/card_notes.html), for its cards on every page
    and its node in its family tree. Notes hold no controls: rendered once for both roles."""
    transaction.on_commit(partial(_push_notes, list(take_ids)))


def notes_html(take_id: int, notes: list[tuple[str, str]]) -> str:
    return "".join(
        render_to_string(
            "studio/card_notes.html", {"pk": take_id, "notes": notes, "where": where}
        ).strip()
        for where in ("card", "tree")
    )


def _push_notes(take_ids: list[int]) -> None:
    rows = Take.objects.filter(pk__in=take_ids).values_list("pk", "workspace_id", "root_id")
    watched = []
    for take_id, workspace_id, root_id in rows:
        groups = [group_name(workspace_id, role) for role in ROLES]
        watching = [group for group in groups if subscribed(group)]
        if watching:
            watched.append((take_id, root_id or take_id, watching))
    found = card_notes.notes_of(take_id for take_id, _, _ in watched)
    for take_id, root_id, watching in watched:
        html = notes_html(take_id, found[take_id])
        for group in watching:
            message = {
                "type": "take.changed",
                "take_id": take_id,
                "root_id": root_id,
                "group": group,
                "html": html,
            }
            send(group, message)


def workspace_notice(workspace_id: int, html: str) -> None:
    """After commit, a notice (an element with the id it replaces) to every studio page of
    the workspace, for both roles: a budget alert is everyone's news."""
    for role in ROLES:
        group = group_name(workspace_id, role)
        message = {"type": "workspace.notice", "group": group, "html": html}
        transaction.on_commit(partial(send, group, message), robust=True)


def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    """Logging out also ends the live connections of that browser session."""
    if user is not None:
        access_changed(user.pk, logged_out_session=request.session.session_key)


def membership_changed(sender, instance, **kwargs) -> None:
    """Any change to a membership, wherever it is made (the app, the admin, the shell):
    that user's sockets re-check what they may see, at once."""
    access_changed(instance.user_id)


def access_changed(user_id: int, *, logged_out_session: str | None = None) -> None:
    """The user's memberships changed or they logged out: their sockets re-check access."""
    message = {"type": "access.changed", "session_key": logged_out_session}
    transaction.on_commit(partial(send, user_group_name(user_id), message))


def subscribed(group: str) -> bool:
    """Whether any socket may be in ``group`` (True when the layer can't tell)."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        # Read from the worker's thread while the server's loop may add or drop a
        # member: one dict lookup, atomic under the GIL.
        return bool(layer.groups.get(group))
    if type(layer).__name__ == "RedisPubSubChannelLayer":
        try:
            return _redis_subscribers(layer, group) > 0
        except Exception:
            log.exception("Could not ask Redis who is watching %s", group)
    return True


def _redis_subscribers(layer, group: str) -> int:
    hosts = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts", [])
    if len(hosts) != 1 or not isinstance(hosts[0], str):
        return 1  # sharded or configured by dict: we can't tell which host to ask
    client = _redis_client(hosts[0])
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    ((_, count),) = client.pubsub_numsub(f"{prefix}__group__{group}")
    return count


_redis_clients: dict = {}


def _redis_client(url: str):
    if url not in _redis_clients:
        import redis

        _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=SEND_TIMEOUT)
    return _redis_clients[url]


def send(group: str, message: dict) -> None:
    """Send ``message`` to ``group`` on the process's push loop and wait for it, for at most
    SEND_TIMEOUT. Never raises: a failed push is logged and the work goes on."""
    future = None
    try:
        future = asyncio.run_coroutine_threadsafe(_send(group, message), _push_loop())
        if _on_event_loop():
            # Waiting here would block this loop, which the in-memory layer may need to
            # deliver the message: let it finish on its own and log a failure.
            future.add_done_callback(partial(_log_failure, group))
            return
        future.result(SEND_TIMEOUT + 1)  # _send's own timeout ends it first
    except Exception:
        # Live updates are a convenience: the state is in the database and the
        # next push or a reload shows it. Never fail the work over a push.
        log.exception("Could not push to %s", group)
        if future is not None:
            future.cancel()


async def _send(group: str, message: dict) -> None:
    await asyncio.wait_for(get_channel_layer().group_send(group, message), SEND_TIMEOUT)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _log_failure(group: str, future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("Could not push to %s", group, exc_info=future.exception())


_push_lock = threading.Lock()
_pusher: tuple[int, threading.Thread, asyncio.AbstractEventLoop] | None = None


def _push_loop() -> asyncio.AbstractEventLoop:
    """The process's push loop, started on first use (again in a forked child)."""
    global _pusher
    with _push_lock:
        if _pusher is None or _pusher[0] != os.getpid() or not _pusher[1].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="slate-push", daemon=True)
            thread.start()
            _pusher = (os.getpid(), thread, loop)
        return _pusher[2]
