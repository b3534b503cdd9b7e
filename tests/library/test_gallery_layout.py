"""The gallery drawn as a list with columns (kept in the URL like the filters), and the
detail drawer: one take's player and prompt, for members only."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from library import folders, gallery
from library.models import Folder
from studio.models import Status, Workspace

from .helpers import make_take

pytestmark = pytest.mark.django_db

GALLERY = reverse("library:gallery", args=["harbour"])


def drawer_url(take, slug="harbour") -> str:
    return reverse("library:take_drawer", args=[slug, take.pk])


def test_the_list_view_shows_a_row_of_columns_per_take(personas, workspace, client_for):
    take = make_take(workspace, "a red fox in the snow", model="sora-2", charged=Decimal("0.4"))
    page = client_for(personas["viewer"]).get(GALLERY, {"view": "list"})
    text = page.content.decode()
    assert page.context["layout"] == "list"
    assert '<table class="gallery-table" data-nav="list"' in text and "take-grid" not in text
    head = text[text.index("<thead>") : text.index("</thead>")]
    for column in ("Prompt", "Model", "Status", "Seconds", "Size", "Cost", "Rating", "Created"):
        assert f">{column}</th>" in head
    row = text[text.index(f'id="gallery-item-{take.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "a red fox in the snow" in row and "sora-2" in row and "$0.40" in row
    assert 'name="take"' in row and f'id="star-{take.pk}"' in row  # select and star, as the grid
    assert drawer_url(take) in row and 'tabindex="-1"' in row and "aria-label" in row


def test_the_layout_is_kept_in_the_url_the_filters_and_the_next_page(
    personas, workspace, client_for, monkeypatch
):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 2)
    for i in range(3):
        make_take(workspace, f"fox {i}")
    client = client_for(personas["viewer"])
    page = client.get(GALLERY, {"view": "list", "q": "fox", "sort": "oldest"})
    text = page.content.decode()
    assert '<input type="hidden" name="view" value="list">' in text  # the next search keeps it
    links = {layout: query for layout, _, query in page.context["layout_links"]}
    assert links == {"grid": "q=fox&sort=oldest", "list": "q=fox&sort=oldest&view=list"}
    assert "view=list" in page.context["following"]
    more = client.get(GALLERY + page.context["following"], headers={"HX-Request": "true"})
    assert more.content.decode().lstrip().startswith('<tr class="gallery-row"')
    assert 'hx-target="closest tr"' not in more.content.decode()  # the last page: no "More"


@pytest.mark.parametrize("view", ["", "grid", "table", "<b>"])
def test_any_other_view_is_the_grid(personas, workspace, client_for, view):
    make_take(workspace)
    page = client_for(personas["viewer"]).get(GALLERY, {"view": view})
    text = page.content.decode()
    assert page.status_code == 200 and page.context["layout"] == "grid"
    assert 'data-nav="grid"' in text and "gallery-table" not in text
    assert 'name="view"' not in text


def test_a_list_page_costs_the_same_queries_as_a_grid_page_whatever_its_size(
    personas, workspace, client_for
):
    client = client_for(personas["viewer"])
    box = Folder.objects.create(workspace=workspace, name="Box")

    def queries_for(count, view):
        made = [make_take(workspace, f"take {i}") for i in range(count)]
        folders.tag_takes(workspace, made, "a, b")
        folders.file_takes(made, box)
        folders.set_star(personas["viewer"], made)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(GALLERY, {"view": view}).status_code == 200
        return len(captured)

    grid = queries_for(2, "grid")
    assert queries_for(2, "list") == grid
    assert queries_for(20, "list") == grid


def test_the_drawer_shows_a_viewer_the_player_and_the_prompt(personas, workspace, client_for):
    take = make_take(
        workspace,
        "a lighthouse at dusk",
        camera="slow push-in",
        lighting="golden hour",
        model="sora-2",
        seed=4242,
        estimate=Decimal("1.2"),
        video=b"not really an mp4",
    )
    answer = client_for(personas["viewer"]).get(drawer_url(take), headers={"HX-Request": "true"})
    text = answer.content.decode()
    assert answer.status_code == 200
    assert not text.lstrip().startswith("<!doctype")  # the partial, not a page
    assert 'id="take-drawer-title"' in text and "<video" in text and "controls" in text
    assert reverse("take_media", args=[take.pk, "video"]) in text
    for shown in ("slow push-in", "golden hour", "sora-2", "4242", "1280x720", "~$1.20"):
        assert shown in text
    assert f'href="{reverse("take", args=[take.pk])}"' in text
    assert '<form method="dialog">' in text  # closable without script


def test_the_drawer_of_an_unfinished_take_says_where_it_is(personas, workspace, client_for):
    take = make_take(workspace, status=Status.FAILED, error_message="The provider refused it.")
    text = client_for(personas["editor"]).get(drawer_url(take)).content.decode()
    assert "<video" not in text and "The provider refused it." in text


def test_nobody_opens_the_drawer_of_another_workspaces_take(personas, workspace, client_for):
    theirs = make_take(Workspace.objects.get(slug="elsewhere"), "their secret")
    mine = make_take(workspace, "our lighthouse")
    owner = client_for(personas["owner"])
    assert owner.get(drawer_url(theirs)).status_code == 404
    assert owner.get(drawer_url(theirs, "elsewhere")).status_code == 404
    outsider = client_for(personas["outsider"])
    assert outsider.get(drawer_url(mine)).status_code == 404
    answer = outsider.get(drawer_url(mine, "elsewhere"))  # their own slug, our take
    assert answer.status_code == 404 and "our lighthouse" not in answer.content.decode()


def test_a_visitor_is_sent_to_sign_in(workspace, client):
    take = make_take(workspace)
    answer = client.get(drawer_url(take))
    assert answer.status_code == 302 and "login" in answer["Location"]
