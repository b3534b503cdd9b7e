"""Live progress over websockets: members receive fragments, outsiders cannot join."""

import asyncio
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test.signals import template_rendered

from studio import lineage, live, takes, workspaces
from studio.asgi import application
from studio.engine import local
from studio.layers import ThreadSafeInMemoryChannelLayer
from studio.models import Take

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "studio.layers.ThreadSafeInMemoryChannelLayer"}
    }


async def joined(user, path: str) -> WebsocketCommunicator:
    """A connected socket, past the snapshot every socket gets first."""
    ws = await refused_or_joined(user, path)
    assert ws is not None, f"{user} could not join {path}"
    return ws


async def refused_or_joined(user, path: str):
    ws = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://localhost")])
    ws.scope["user"] = user
    connected, _ = await ws.connect()
    if not connected:
        return None
    ws.snapshot = await ws.receive_from(timeout=2)
    return ws


def queued_take(workspace, shot):
    return takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)


async def test_a_socket_first_gets_the_current_state(personas, workspace, shot):
    take = await sync_to_async(queued_take)(workspace, shot)
    ws = await joined(personas["editor"], "/ws/w/harbour/")
    assert 'id="take-list"' in ws.snapshot and f'id="take-card-{take.pk}"' in ws.snapshot
    page = await joined(personas["editor"], f"/ws/takes/{take.pk}/")
    assert f'id="take-live-{take.pk}"' in page.snapshot and "Queued" in page.snapshot
    await ws.disconnect()
    await page.disconnect()


async def test_a_member_sees_state_changes_then_progress_ticks(personas, workspace, shot):
    take = await sync_to_async(queued_take)(workspace, shot)
    ws = await joined(personas["editor"], "/ws/w/harbour/")
    claimed = await sync_to_async(local.claim)(take.pk)
    after_claim = await ws.receive_from(timeout=2)
    assert f'id="take-card-{take.pk}"' in after_claim and "badge-in_progress" in after_claim
    assert "Cancel" in after_claim
    await sync_to_async(local.heartbeat)(take.pk, claimed[1], 37)
    tick = await ws.receive_from(timeout=2)
    assert tick.startswith(f'<progress id="card-progress-{take.pk}"') and 'value="37"' in tick
    assert "<button" not in tick and "<a " not in tick  # nothing clickable is replaced
    await ws.disconnect()


async def test_viewers_receive_fragments_without_controls(personas, workspace, shot):
    take = await sync_to_async(queued_take)(workspace, shot)
    board = await joined(personas["viewer"], "/ws/w/harbour/")
    page = await joined(personas["viewer"], f"/ws/takes/{take.pk}/")
    assert "Cancel" not in board.snapshot and "Cancel" not in page.snapshot
    await sync_to_async(local.claim)(take.pk)
    for ws in (board, page):
        html = await ws.receive_from(timeout=2)
        assert "Rendering" in html and "Cancel" not in html
        await ws.disconnect()


async def test_a_take_page_only_hears_about_its_own_take(personas, workspace, shot):
    first = await sync_to_async(queued_take)(workspace, shot)
    second = await sync_to_async(queued_take)(workspace, shot)
    ws = await joined(personas["owner"], f"/ws/takes/{first.pk}/")
    await sync_to_async(takes.cancel)(second.pk)
    assert await ws.receive_nothing(timeout=0.3)
    await sync_to_async(takes.cancel)(first.pk)
    assert "Cancelled" in await ws.receive_from(timeout=2)
    await ws.disconnect()


@pytest.mark.parametrize("path", ["/ws/w/harbour/", "/ws/takes/{take}/"])
async def test_outsiders_cannot_join(personas, workspace, shot, path):
    take = await sync_to_async(queued_take)(workspace, shot)
    assert await refused_or_joined(personas["outsider"], path.format(take=take.pk)) is None


async def test_anonymous_visitors_cannot_join(workspace):
    assert await refused_or_joined(AnonymousUser(), "/ws/w/harbour/") is None


async def test_a_change_pushes_the_takes_card_and_panel_once_for_every_page(
    personas, workspace, shot
):
    ws = await joined(personas["editor"], "/ws/w/harbour/")
    take = await sync_to_async(queued_take)(workspace, shot)
    html = await ws.receive_from(timeout=2)
    assert html.count(f'id="take-card-{take.pk}"') == 1  # the studio page's card
    assert html.count(f'id="take-live-{take.pk}"') == 1  # the take page's panel
    assert 'data-list="take-list"' in html  # a card a page lacks joins its list there
    assert 'id="take-list"' not in html  # not the whole list again
    await ws.disconnect()


def rendered_templates(run) -> list[str]:
    """The names of the templates (and partials) rendered while ``run`` runs."""
    names = []

    def record(sender, template, **kwargs):
        page = template.origin.template_name  # a partial is named for itself: "page#name"
        names.append(page if template.name == page else f"{page}#{template.name}")

    template_rendered.connect(record)
    try:
        run()
    finally:
        template_rendered.disconnect(record)
    return names


def test_with_nobody_watching_a_change_renders_nothing(workspace, shot):
    take = queued_take(workspace, shot)
    assert rendered_templates(lambda: takes.cancel(take.pk)) == []
    assert rendered_templates(lambda: live._push(take.pk, progress_only=True)) == []
    assert Take.objects.get(pk=take.pk).status == "cancelled"


async def test_a_change_is_rendered_once_however_many_sockets_watch(personas, workspace, shot):
    take = await sync_to_async(queued_take)(workspace, shot)
    sockets = [await joined(personas["editor"], "/ws/w/harbour/") for _ in range(3)]
    sockets.append(await joined(personas["owner"], f"/ws/takes/{take.pk}/"))
    names = await sync_to_async(rendered_templates)(lambda: local.claim(take.pk))
    assert names.count("studio/take_card.html") == 1
    assert names.count("studio/take.html#live") == 1
    messages = {await ws.receive_from(timeout=2) for ws in sockets}
    assert len(messages) == 1  # every page got the same message
    for ws in sockets:
        await ws.disconnect()


async def test_each_role_watching_gets_its_own_rendering(personas, workspace, shot):
    take = await sync_to_async(queued_take)(workspace, shot)
    editor = await joined(personas["editor"], "/ws/w/harbour/")
    viewer = await joined(personas["viewer"], "/ws/w/harbour/")
    names = await sync_to_async(rendered_templates)(lambda: local.claim(take.pk))
    assert names.count("studio/take_card.html") == 2
    assert "Cancel" in await editor.receive_from(timeout=2)
    assert "Cancel" not in await viewer.receive_from(timeout=2)
    await editor.disconnect()
    await viewer.disconnect()
    names = await sync_to_async(rendered_templates)(lambda: takes.cancel(take.pk))
    assert names == []  # everyone left


async def test_a_removed_member_stops_receiving_at_once(personas, workspace, shot):
    ws = await joined(personas["editor"], "/ws/w/harbour/")
    await sync_to_async(workspaces.remove_member)(workspace, personas["editor"])
    assert (await ws.receive_output(timeout=2))["type"] == "websocket.close"
    await sync_to_async(queued_take)(workspace, shot)  # nothing more reaches them


async def test_a_membership_deleted_anywhere_closes_the_socket(personas, workspace, shot):
    """As the admin or a shell would: no call into the workspace's own functions."""
    from studio.models import Membership

    ws = await joined(personas["editor"], "/ws/w/harbour/")
    await sync_to_async(Membership.objects.filter(user=personas["editor"]).delete)()
    assert (await ws.receive_output(timeout=2))["type"] == "websocket.close"


async def test_a_consumer_rechecks_membership_before_forwarding(
    personas, workspace, shot, monkeypatch
):
    """Even when no signal says so (a bulk update): the next event is not forwarded."""
    from studio import consumers
    from studio.models import Membership

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)
    take = await sync_to_async(queued_take)(workspace, shot)
    ws = await joined(personas["editor"], "/ws/w/harbour/")
    await sync_to_async(Membership.objects.filter(user=personas["editor"]).update)(
        workspace_id=(await sync_to_async(workspaces.default_workspace)()).pk
    )
    await sync_to_async(local.claim)(take.pk)
    assert (await ws.receive_output(timeout=2))["type"] == "websocket.close"


async def test_a_demoted_member_gets_viewer_fragments(personas, workspace, shot):
    take = await sync_to_async(queued_take)(workspace, shot)
    ws = await joined(personas["editor"], "/ws/w/harbour/")
    await sync_to_async(workspaces.add_member)(workspace, personas["editor"], "viewer")
    # Its socket moves to the viewers' group (an edit-role render is never forwarded to it).
    viewers = live.group_name(workspace.pk, "view")
    deadline = time.monotonic() + 10
    while not live.subscribed(viewers):
        assert time.monotonic() < deadline, "the socket never joined the viewers' group"
        await asyncio.sleep(0.01)
    notice = await ws.receive_from(timeout=2)  # the page is told, and redrawn for a viewer
    assert "changed to <strong>Viewer</strong>" in notice and "Cancel" not in notice
    await sync_to_async(local.claim)(take.pk)
    html = await ws.receive_from(timeout=2)
    assert "badge-in_progress" in html and "Cancel" not in html
    await ws.disconnect()


async def test_a_push_from_a_worker_thread_arrives_promptly():
    """The embedded worker publishes from its own thread; the server loop must wake at once."""
    layer = get_channel_layer()
    assert isinstance(layer, ThreadSafeInMemoryChannelLayer)
    channel = await layer.new_channel()
    await layer.group_add("workspace-1", channel)
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.05)

    sent_at = []

    def publish():
        sent_at.append(time.perf_counter())
        live.send("workspace-1", {"type": "take.changed", "n": 1})

    threading.Thread(target=publish).start()
    # A loop nobody wakes would sit until the wait's own deadline (10 s): a second is
    # "at once" even on a busy machine, and far from that.
    message = await asyncio.wait_for(receiving, timeout=10)
    assert message["n"] == 1
    assert time.perf_counter() - sent_at[0] < 1.0


def test_group_names_are_per_workspace_and_user():
    assert live.group_name(7, "edit") == "workspace-7-edit"
    assert live.group_name(7, "view") == "workspace-7-view"
    assert live.user_group_name(7) == "user-7"


async def test_logging_out_closes_that_browsers_sockets(personas, workspace, client):
    await sync_to_async(client.force_login)(personas["editor"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    ws = WebsocketCommunicator(
        application,
        "/ws/w/harbour/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)],
    )
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=2)  # the snapshot
    await sync_to_async(client.post)("/logout/")
    assert (await ws.receive_output(timeout=2))["type"] == "websocket.close"


def finished_clip(workspace, shot):
    take = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2)
    local.run_take(take.pk)
    return Take.objects.get(pk=take.pk)


async def test_a_take_page_sees_its_tree_grow_and_nothing_of_other_trees(personas, workspace, shot):
    parent = await sync_to_async(finished_clip)(workspace, shot)
    stranger = await sync_to_async(queued_take)(workspace, shot)
    page = await joined(personas["editor"], f"/ws/takes/{parent.pk}/")
    child = await sync_to_async(lineage.recut)(parent, 0, 1)
    pushed = await page.receive_from(timeout=2)
    assert f'id="take-tree-{parent.pk}"' in pushed and f'id="tree-node-{child.pk}"' in pushed
    assert "Re-cut · Local" in pushed and f'data-parent="{parent.pk}"' in pushed
    await sync_to_async(local.claim)(stranger.pk)  # another tree's change: not this page's
    await sync_to_async(local.run_take)(child.pk)
    done = await page.receive_from(timeout=5)
    assert f'id="tree-node-{child.pk}"' in done and f'id="take-card-{stranger.pk}"' not in done
    await page.disconnect()
