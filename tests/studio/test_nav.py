"""The top bar marks the section a page belongs to: exactly one link, the right one."""

import re

import pytest
from django.urls import reverse

from library import folders
from storyboard import boards
from studio.models import Membership, Role, Workspace

CURRENT = re.compile(r'<a href="([^"]*)"[^>]*aria-current="page"[^>]*>([^<]*)</a>')


def current_links(html: str) -> list[tuple[str, str]]:
    nav = html.split('<nav class="topnav">', 1)[1].split("</nav>", 1)[0]
    return CURRENT.findall(nav)


def pages(workspace, take, board, folder) -> dict[str, tuple[str, str]]:
    """Each page, and the nav link (href, label) it should mark."""
    slug = workspace.slug
    studio = (reverse("workspace", args=[slug]), "Harbour Films")
    library = (reverse("library:gallery", args=[slug]), "Library")
    boards_link = (reverse("storyboard:boards", args=[slug]), "Boards")
    presets = (reverse("library:presets", args=[slug]), "Presets")
    providers = (reverse("providers", args=[slug]), "Providers")
    members = (reverse("teams:members", args=[slug]), "Members")
    return {
        reverse("workspace", args=[slug]): studio,
        reverse("take", args=[take.pk]): studio,
        reverse("take_compare", args=[take.pk, take.pk]): studio,
        reverse("library:gallery", args=[slug]): library,
        reverse("library:folder", args=[slug, folder.pk]): library,
        reverse("library:shares", args=[slug]): library,
        reverse("storyboard:boards", args=[slug]): boards_link,
        reverse("storyboard:board", args=[slug, board.pk]): boards_link,
        reverse("library:presets", args=[slug]): presets,
        reverse("providers", args=[slug]): providers,
        reverse("teams:members", args=[slug]): members,
        reverse("teams:usage", args=[slug]): members,
        reverse("teams:budget", args=[slug]): members,
        reverse("teams:audit", args=[slug]): members,
    }


@pytest.fixture
def places(workspace, personas, rendered_take):
    board = boards.create_board(workspace, "Harbour at dawn")
    folder = folders.create_folder(
        Membership.objects.get(user=personas["owner"], workspace=workspace), "Client cut"
    )
    return pages(workspace, rendered_take, board, folder)


def test_each_section_page_marks_exactly_its_own_nav_link(places, personas, client_for):
    client = client_for(personas["owner"])
    for url, link in places.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert current_links(response.content.decode()) == [link], url


def test_with_several_workspaces_the_current_one_is_marked_only_on_its_studio(
    places, workspace, personas, client_for
):
    other = Workspace.objects.create(name="Second Unit", slug="second")
    Membership.objects.create(user=personas["owner"], workspace=other, role=Role.OWNER)
    client = client_for(personas["owner"])
    studio = client.get(reverse("workspace", args=[workspace.slug])).content.decode()
    assert current_links(studio) == [(reverse("workspace", args=[workspace.slug]), "Harbour Films")]
    gallery_url = reverse("library:gallery", args=[workspace.slug])
    gallery = client.get(gallery_url).content.decode()
    assert current_links(gallery) == [(gallery_url, "Library")]
    assert 'class="this-workspace"' in gallery  # still shows which workspace this is


def test_a_page_outside_the_sections_marks_no_link(personas, client_for):
    html = client_for(personas["owner"]).get(reverse("teams:account")).content.decode()
    assert current_links(html) == []
