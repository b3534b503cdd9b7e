"""A review or a circle, saved on one page, shows on the take's cards and tree nodes already
open on every other page: pushed over the websocket, as studio/card_notes.html."""

import pytest
from asgiref.sync import sync_to_async
from django.test.signals import template_rendered
from django.urls import reverse

from library import reviews
from studio import lineage, takes
from studio.engine import local
from studio.models import Take
from tests.studio.test_consumers import joined

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "studio.layers.ThreadSafeInMemoryChannelLayer"}
    }


def finished_clip(workspace, shot):
    take = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2)
    local.run_take(take.pk)
    return Take.objects.get(pk=take.pk)


def finished_recut(parent):
    child = lineage.recut(parent, 0, 1)
    local.run_take(child.pk)
    return Take.objects.get(pk=child.pk)


def notes(pk: int, where: str, *inner: str) -> str:
    return f'<span id="{where}-notes-{pk}" class="card-notes">{"".join(inner)}</span>'


RATED = '<span class="card-note card-note-rating">{}</span>'
CIRCLED = '<span class="card-note card-note-circled">Circled</span>'


async def next_message(ws, containing: str) -> str:
    """The first message that carries ``containing`` (earlier ones, such as the recut's own
    state changes, are skipped); fails after a generous deadline."""
    for _ in range(20):
        message = await ws.receive_from(timeout=10)
        if containing in message:
            return message
    raise AssertionError(f"no message with {containing!r}")


async def test_a_saved_review_reaches_the_studio_and_the_trees_pages(
    personas, workspace, shot, client_for
):
    parent = await sync_to_async(finished_clip)(workspace, shot)
    child = await sync_to_async(finished_recut)(parent)
    studio = await joined(personas["viewer"], "/ws/w/harbour/")
    tree_page = await joined(personas["editor"], f"/ws/takes/{parent.pk}/")
    outsider = await joined(personas["outsider"], "/ws/w/elsewhere/")
    client = await sync_to_async(client_for)(personas["editor"])
    response = await sync_to_async(client.post)(
        reverse("library:save_review", args=["harbour", child.pk]),
        {"rating": "4", "composition_ok": "pass"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Review saved." in response.content.decode()
    for ws in (studio, tree_page):
        pushed = await next_message(ws, f'id="card-notes-{child.pk}"')
        assert pushed == notes(child.pk, "card", RATED.format("4.0 ★")) + notes(
            child.pk, "tree", RATED.format("4.0 ★")
        )
        await ws.disconnect()
    assert await outsider.receive_nothing(timeout=0.5)
    await outsider.disconnect()


async def test_circling_a_take_pushes_it_and_the_sibling_it_replaces(personas, workspace, shot):
    parent = await sync_to_async(finished_clip)(workspace, shot)
    first = await sync_to_async(finished_recut)(parent)
    second = await sync_to_async(finished_recut)(parent)
    await sync_to_async(reviews.circle)(first, personas["owner"])
    studio = await joined(personas["editor"], "/ws/w/harbour/")
    await sync_to_async(reviews.circle)(second, personas["owner"])
    pushed = [await studio.receive_from(timeout=10) for _ in range(2)]
    assert sorted(pushed) == sorted(
        [
            notes(first.pk, "card") + notes(first.pk, "tree"),
            notes(second.pk, "card", CIRCLED) + notes(second.pk, "tree", CIRCLED),
        ]
    )
    await sync_to_async(reviews.uncircle)(second)
    assert await studio.receive_from(timeout=10) == notes(second.pk, "card") + notes(
        second.pk, "tree"
    )
    await studio.disconnect()


def test_with_nobody_watching_a_review_renders_nothing(personas, workspace, shot):
    clip = finished_clip(workspace, shot)
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        reviews.save_review(clip, personas["editor"], rating=5, passes={})
    finally:
        template_rendered.disconnect(record)
    assert rendered == []
