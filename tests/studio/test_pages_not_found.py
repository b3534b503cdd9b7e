"""Another workspace's boards, cards, folders, presets and takes: a 404 in the house style
(never a 500, never a hint that they exist), whichever workspace's address they're asked under;
a member without the role gets the styled 403."""

import pytest
from django.urls import reverse

from library import folders, presets
from storyboard import boards
from studio import takes
from studio.models import Membership, Workspace


@pytest.fixture
def elsewhere(personas, shot):
    """The outsider's workspace and one of everything in it."""
    workspace = Workspace.objects.get(slug="elsewhere")
    owner = Membership.objects.get(workspace=workspace, user=personas["outsider"])
    board = boards.create_board(workspace, "Their board")
    card = boards.add_cards(board, [{"subject": "a gull", "seconds": 4}])[0]
    folder = folders.create_folder(owner, "Their folder")
    preset = presets.save(owner, "Their look", {"subject": "a heron"}, shared=True).preset
    take = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    return {"board": board, "card": card, "folder": folder, "preset": preset, "take": take}


def foreign_urls(slug: str, things: dict) -> list[str]:
    return [
        reverse("storyboard:board", args=[slug, things["board"].pk]),
        reverse("storyboard:render", args=[slug, things["board"].pk]),
        reverse("storyboard:card", args=[slug, things["card"].pk]),
        reverse("library:folder", args=[slug, things["folder"].pk]),
        reverse("library:preset", args=[slug, things["preset"].pk]),
        reverse("library:review", args=[slug, things["take"].pk]),
        reverse("library:share_take", args=[slug, things["take"].pk]),
    ]


def assert_styled_404(response, url: str) -> None:
    html = response.content.decode()
    assert response.status_code == 404, url
    assert "slate.css" in html and "Nothing here" in html, url
    assert "Their" not in html and "a gull" not in html and "heron" not in html, url


@pytest.mark.parametrize("slug", ["harbour", "elsewhere"])
def test_another_workspaces_objects_are_a_styled_404(client_for, personas, elsewhere, slug):
    client = client_for(personas["editor"])
    for url in foreign_urls(slug, elsewhere):
        assert_styled_404(client.get(url), url)


def test_missing_objects_are_the_same_styled_404(client_for, personas, elsewhere):
    missing = {name: type("Gone", (), {"pk": thing.pk + 1000}) for name, thing in elsewhere.items()}
    client = client_for(personas["editor"])
    for url in foreign_urls("harbour", missing):
        assert_styled_404(client.get(url), url)


def test_a_viewer_asking_to_manage_a_folder_gets_the_styled_403(client_for, personas, workspace):
    editor = Membership.objects.get(workspace=workspace, user=personas["editor"])
    folder = folders.create_folder(editor, "Client cut")
    response = client_for(personas["viewer"]).get(
        reverse("library:folder", args=["harbour", folder.pk])
    )
    html = response.content.decode()
    assert response.status_code == 403 and "slate.css" in html and "Not allowed" in html
