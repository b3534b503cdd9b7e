"""The gallery: words in prompts found by full-text search, filters in the URL, keyset pages
that neither repeat nor skip, bulk actions by role, and nothing of another workspace."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from library import folders, gallery, reviews, search
from library.models import Folder, Star, TakeFiling, TakeTag, TrashedTake
from studio.models import Membership, Status, Take, Workspace

from .helpers import cost, make_take

pytestmark = pytest.mark.django_db


def ids(found) -> list[int]:
    return [t.pk for t in found]


def found_by(workspace, query) -> set[int]:
    return set(
        search.search(Take.objects.filter(workspace=workspace), query).values_list("pk", flat=True)
    )


def test_search_finds_every_word_in_any_prompt_field(workspace):
    fox = make_take(workspace, "a red fox in the snow", camera="slow dolly")
    lighthouse = make_take(workspace, "lighthouse keeper climbs the stairs")
    make_take(workspace, "a blue whale")
    assert found_by(workspace, "fox snow") == {fox.pk}
    assert found_by(workspace, "Dolly") == {fox.pk}  # another field, any case
    assert found_by(workspace, "light") == {lighthouse.pk}  # word prefixes match
    assert found_by(workspace, "fox whale") == set()
    assert len(found_by(workspace, "")) == 3


@pytest.mark.parametrize("typed", ['fox"', "fox OR", "NEAR(fox", "*", "fox -snow", "a:b", "'"])
def test_search_never_chokes_on_what_people_type(workspace, typed):
    make_take(workspace, "a red fox in the snow")
    search.search(Take.objects.all(), typed).count()  # no FTS syntax error reaches anyone


def test_search_uses_fts5_on_sqlite_and_forgets_deleted_takes(workspace):
    assert search.uses_fts5()
    take = make_take(workspace, "unique zebra crossing")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {search.FTS_TABLE} WHERE body MATCH 'zebra'")
        assert cursor.fetchall() == [(take.pk,)]
        take.delete()
        cursor.execute(f"SELECT rowid FROM {search.FTS_TABLE} WHERE body MATCH 'zebra'")
        assert cursor.fetchall() == []


def test_search_stays_inside_the_workspace(personas, workspace, client_for):
    elsewhere = Workspace.objects.get(slug="elsewhere")
    make_take(elsewhere, "secret fox")
    mine = make_take(workspace, "public fox")
    page = client_for(personas["viewer"]).get(
        reverse("library:gallery", args=["harbour"]), {"q": "fox"}
    )
    assert page.status_code == 200
    assert ids(page.context["takes"]) == [mine.pk]
    assert "secret fox" not in page.content.decode()


def test_filters_from_the_url(personas, workspace, client_for):
    viewer = personas["viewer"]
    old = make_take(workspace, "old fox", age_days=10, model="sora-2")
    failed = make_take(workspace, "failed fox", status=Status.FAILED)
    starred = make_take(workspace, "starred fox")
    tagged = make_take(workspace, "tagged fox")
    filed = make_take(workspace, "filed fox")
    Star.objects.create(user=viewer, take=starred)
    folders.tag_takes(workspace, [tagged], "hero")
    box = Folder.objects.create(workspace=workspace, name="Box")
    folders.file_takes([filed], box)
    client = client_for(viewer)
    url = reverse("library:gallery", args=["harbour"])

    def shown(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return set(ids(response.context["takes"]))

    assert shown(model="sora-2") == {old.pk}
    assert shown(status="failed") == {failed.pk}
    assert shown(starred="1") == {starred.pk}
    assert shown(tag="HERO") == {tagged.pk}
    assert shown(folder=box.pk) == {filed.pk}
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert shown(to=until) == {old.pk}
    assert old.pk not in shown(**{"from": timezone.now().date().isoformat()})


def test_nonsense_filters_are_said_and_ignored(personas, workspace, client_for):
    make_take(workspace)
    page = client_for(personas["viewer"]).get(
        reverse("library:gallery", args=["harbour"]),
        {"status": "nope", "from": "yesterday", "sort": "random", "after": "x-y"},
    )
    text = page.content.decode()
    assert page.status_code == 200 and len(page.context["takes"]) == 1
    assert "isn&#x27;t a status" in text and "isn&#x27;t a date" in text
    assert "isn&#x27;t a sort order" in text and "page link was damaged" in text


@pytest.mark.parametrize("sort", ["newest", "oldest", "cost"])
def test_keyset_pages_cover_every_take_once_in_order(personas, workspace, sort, monkeypatch):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 4)
    made = [make_take(workspace, f"take {i}", estimate=cost(str(i % 3))) for i in range(11)]
    Take.objects.filter(pk__in=[t.pk for t in made[:5]]).update(created_at=timezone.now())
    filters = gallery.Filters(sort=sort)
    seen, after = [], ""
    while True:
        found = gallery.page(workspace, personas["viewer"], filters, after)
        seen += found["takes"]
        if not (after := found["next"]):
            break
    assert sorted(ids(seen)) == sorted(ids(made)) and len(seen) == len(made)
    keys = {
        "newest": lambda t: (-t.created_at.timestamp(), -t.pk),
        "oldest": lambda t: (t.created_at.timestamp(), t.pk),
        "cost": lambda t: (-t.cost, -t.pk),
    }[sort]
    assert seen == sorted(seen, key=keys)


def test_a_page_costs_the_same_queries_whatever_its_size(personas, workspace, client_for):
    client = client_for(personas["viewer"])
    url = reverse("library:gallery", args=["harbour"])
    box = Folder.objects.create(workspace=workspace, name="Box")

    def queries_for(count):
        made = [make_take(workspace, f"take {i}") for i in range(count)]
        folders.tag_takes(workspace, made, "a, b")
        folders.file_takes(made, box)
        folders.set_star(personas["viewer"], made)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_for(2) == queries_for(20)


def test_htmx_gets_just_the_results_or_the_next_page(personas, workspace, client_for, monkeypatch):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 2)
    for i in range(3):
        make_take(workspace, f"fox {i}")
    client = client_for(personas["viewer"])
    url = reverse("library:gallery", args=["harbour"])
    results = client.get(url, headers={"HX-Request": "true", "HX-Target": "gallery-results"})
    text = results.content.decode()
    assert text.lstrip().startswith('<div id="gallery-results">') and "folder-tree" not in text
    following = results.context["following"]
    more = client.get(url + following, headers={"HX-Request": "true"}).content.decode()
    assert more.lstrip().startswith('<li class="gallery-item"') and "More takes" not in more


def test_a_star_toggles_for_a_viewer(personas, workspace, client_for):
    take = make_take(workspace)
    client = client_for(personas["viewer"])
    url = reverse("library:star", args=["harbour", take.pk])
    on = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert 'aria-pressed="true"' in on and Star.objects.filter(take=take).count() == 1
    assert client.post(url).status_code == 302 and not Star.objects.exists()


def bulk(client, action, takes, **extra):
    data = {"action": action, "take": [t.pk for t in takes], **extra}
    return client.post(reverse("library:bulk", args=["harbour"]), data)


def test_bulk_move_tag_star_trash_and_restore(personas, workspace, client_for):
    a, b = make_take(workspace, "a"), make_take(workspace, "b")
    box = Folder.objects.create(workspace=workspace, name="Box")
    client = client_for(personas["editor"])
    assert bulk(client, "move", [a, b], folder=box.pk).status_code == 302
    assert TakeFiling.objects.filter(folder=box).count() == 2
    assert bulk(client, "tag", [a, b], tags="night, hero").status_code == 302
    assert TakeTag.objects.count() == 4
    assert bulk(client, "star", [a]).status_code == 302
    assert Star.objects.filter(user=personas["editor"]).count() == 1
    assert bulk(client, "trash", [a], back="q=a").url.endswith("?q=a")
    gallery_url = reverse("library:gallery", args=["harbour"])
    assert ids(client.get(gallery_url).context["takes"]) == [b.pk]
    assert ids(client.get(gallery_url, {"trash": "1"}).context["takes"]) == [a.pk]
    bulk(client, "restore", [a])
    assert not TrashedTake.objects.exists()


def test_bulk_bad_input_says_so_and_stores_nothing(personas, workspace, client_for):
    take = make_take(workspace)
    client = client_for(personas["editor"])
    nothing = bulk(client, "tag", [], tags="x")
    assert nothing.status_code == 400 and "Select at least one take" in nothing.content.decode()
    empty_tag = bulk(client, "tag", [take], tags=" ,, ")
    assert empty_tag.status_code == 400 and "Type a tag" in empty_tag.content.decode()
    assert bulk(client, "explode", [take]).status_code == 400
    assert not TakeTag.objects.exists()


def test_bulk_with_another_workspaces_take_is_a_404_and_changes_nothing(
    personas, workspace, client_for
):
    mine = make_take(workspace)
    theirs = make_take(Workspace.objects.get(slug="elsewhere"))
    client = client_for(personas["editor"])
    assert bulk(client, "trash", [mine, theirs]).status_code == 404
    assert bulk(client, "star", [theirs]).status_code == 404
    elsewhere_folder = Folder.objects.create(workspace=theirs.workspace, name="Theirs")
    assert bulk(client, "move", [mine], folder=elsewhere_folder.pk).status_code == 404
    assert not TrashedTake.objects.exists() and not TakeFiling.objects.exists()
    assert not Star.objects.exists()


def test_viewers_may_star_and_download_but_not_file_tag_or_trash(personas, workspace, client_for):
    take = make_take(workspace, video=b"\x00\x00\x00\x18ftypmp42")
    client = client_for(personas["viewer"])
    for action in ("move", "tag", "trash", "restore"):
        assert bulk(client, action, [take], tags="x").status_code == 403, action
    assert bulk(client, "star", [take]).status_code == 302
    assert bulk(client, "zip", [take]).status_code == 200
    assert not TrashedTake.objects.exists() and not TakeTag.objects.exists()


EDITING_CONTROLS = (
    'value="move"',
    'value="tag"',
    'value="trash"',
    'name="folder"',
    'name="tags"',
    'draggable="true"',
    "data-folder-drop",
    "folder-manage",
    "Create folder",
    "Share links",
)


def test_viewers_are_offered_only_what_they_may_do(personas, workspace, client_for):
    """Viewers see, star and download: their bulk bar offers the zip and stars, never move,
    tag or trash (which the server refuses them anyway), and the tree takes no drops."""
    take = make_take(workspace, video=b"\x00\x00\x00\x18ftypmp42")
    folders.create_folder(Membership.objects.get(user=personas["editor"]), "Box")
    folders.trash(personas["editor"], [make_take(workspace, "binned")])
    viewer = client_for(personas["viewer"]).get(reverse("library:gallery", args=["harbour"]))
    page = viewer.content.decode()
    assert f'id="gallery-item-{take.pk}"' in page and "Box" in page
    assert 'value="zip"' in page and 'value="star"' in page and 'value="unstar"' in page
    for control in EDITING_CONTROLS:
        assert control not in page, control
    trash = client_for(personas["viewer"]).get(
        reverse("library:gallery", args=["harbour"]), {"trash": "1"}
    )
    assert 'value="restore"' not in trash.content.decode()
    for role in ("editor", "owner"):
        page = client_for(personas[role]).get(reverse("library:gallery", args=["harbour"]))
        for control in EDITING_CONTROLS:
            assert control in page.content.decode(), (role, control)


def test_outsiders_and_visitors_see_no_library(personas, client_for, client):
    url = reverse("library:gallery", args=["harbour"])
    assert client.get(url).status_code == 302  # to log in
    assert client_for(personas["outsider"]).get(url).status_code == 404
    assert Membership.objects.filter(user=personas["outsider"]).count() == 1


def test_all_matching_acts_on_every_take_the_filters_let_through(personas, workspace, client_for):
    foxes = [make_take(workspace, f"fox {n}") for n in range(3)]
    whale = make_take(workspace, "a whale")
    client = client_for(personas["editor"])
    page = client.get(reverse("library:gallery", args=["harbour"]), {"q": "fox"})
    assert "All 3 matching takes" in page.content.decode()
    done = bulk(client, "tag", [], matching="1", back="q=fox", tags="fox")
    assert done.status_code == 302
    assert set(TakeTag.objects.values_list("take", flat=True)) == {t.pk for t in foxes}
    assert whale.pk not in set(TakeTag.objects.values_list("take", flat=True))


def test_all_matching_refuses_more_than_the_limit(personas, workspace, client_for, monkeypatch):
    monkeypatch.setattr(gallery, "BULK_LIMIT", 2)
    for n in range(3):
        make_take(workspace, f"fox {n}")
    response = bulk(client_for(personas["editor"]), "trash", [], matching="1", back="")
    assert response.status_code == 400 and "over 2 takes" in response.content.decode()
    assert not TrashedTake.objects.exists()


def test_rebuild_indexes_takes_made_without_save(workspace):
    Take.objects.bulk_create(
        [
            Take(
                workspace=workspace,
                composed_prompt="a silent zebra",
                size="1280x720",
                seconds=4,
                seed=1,
            )
        ]
    )
    assert found_by(workspace, "zebra") == set()  # bulk_create sends no signals
    assert search.rebuild() == 1
    assert len(found_by(workspace, "zebra")) == 1


def test_cards_show_the_members_average_rating_and_the_circle_in_fixed_queries(
    personas, workspace, client_for
):
    client = client_for(personas["viewer"])
    url = reverse("library:gallery", args=["harbour"])

    def queries_for(count):
        made = [make_take(workspace, f"take {i}") for i in range(count)]
        for take in made:
            reviews.save_review(take, personas["editor"], rating=4, passes={})
            reviews.save_review(take, personas["owner"], rating=5, passes={})
            reviews.circle(take, personas["editor"])
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url).content.decode()
        return len(captured), page

    few, page = queries_for(2)
    assert page.count('<span class="card-note card-note-rating">4.5 ★</span>') == 2
    assert page.count('<span class="card-note card-note-circled">Circled</span>') == 2
    assert 'ws-connect="/ws/w/harbour/"' in page  # a review saved elsewhere shows here live
    many, page = queries_for(20)
    assert many == few and page.count("4.5 ★") == 22


def test_a_card_nobody_rated_or_circled_says_nothing_of_it(personas, workspace, client_for):
    make_take(workspace, "unrated")
    page = client_for(personas["viewer"]).get(reverse("library:gallery", args=["harbour"]))
    assert (
        "★</span>" not in page.content.decode() and "card-note-circled" not in page.content.decode()
    )
