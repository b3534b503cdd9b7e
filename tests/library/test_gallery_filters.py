"""Gallery filters by rating (the members' average from reviews), cost range and lineage:
in the URL, combined with the other filters and with keyset pages; nonsense is said and
ignored; nothing of another workspace shows; bulk "all matching" honours them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from library import gallery
from library.models import Review, TrashedTake
from studio.models import Workspace

from .helpers import make_take

pytestmark = pytest.mark.django_db
URL = reverse("library:gallery", args=["harbour"])


def rate(take, *pairs):
    for user, rating in pairs:
        Review.objects.create(take=take, reviewer=user, rating=rating)


def shown(client, **params) -> set[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    assert not response.context["filters"].problems, response.context["filters"].problems
    return {t.pk for t in response.context["takes"]}


def test_rating_is_the_members_average_and_unrated_takes_drop_out(personas, workspace, client_for):
    owner, editor = personas["owner"], personas["editor"]
    great, mixed, poor = (make_take(workspace, w) for w in ("great", "mixed", "poor"))
    make_take(workspace, "unrated")
    rate(great, (owner, 5), (editor, 5))
    rate(mixed, (owner, 5), (editor, 2))  # 3.5 on average
    rate(poor, (owner, 1))
    Review.objects.create(take=poor, reviewer=editor, rating=None)  # passes noted, no stars
    client = client_for(personas["viewer"])
    assert shown(client, rating="5") == {great.pk}
    assert shown(client, rating="4") == {great.pk}
    assert shown(client, rating="3") == {great.pk, mixed.pk}
    assert shown(client, rating="1") == {great.pk, mixed.pk, poor.pk}


def test_cost_range_counts_the_charge_else_the_estimate(personas, workspace, client_for):
    free = make_take(workspace, "free")  # neither: costs nothing
    cheap = make_take(workspace, "cheap", estimate=Decimal("0.40"))
    charged = make_take(workspace, "charged", estimate=Decimal("0.10"), charged=Decimal("2.00"))
    dear = make_take(workspace, "dear", estimate=Decimal("5.00"))
    client = client_for(personas["viewer"])
    assert shown(client, max_cost="0.50") == {free.pk, cheap.pk}
    assert shown(client, min_cost="1") == {charged.pk, dear.pk}
    assert shown(client, min_cost="0.40", max_cost="2") == {cheap.pk, charged.pk}
    assert shown(client, max_cost="0") == {free.pk}


def test_lineage_splits_originals_from_what_was_made_from_them(personas, workspace, client_for):
    root = make_take(workspace, "root")
    child = make_take(workspace, "child", parent=root, root=root, operation="remix")
    grandchild = make_take(workspace, "grandchild", parent=child, root=root, operation="extend")
    client = client_for(personas["viewer"])
    assert shown(client, lineage="originals") == {root.pk}
    assert shown(client, lineage="derived") == {child.pk, grandchild.pk}


def test_the_new_filters_combine_with_the_others_and_each_other(personas, workspace, client_for):
    owner = personas["owner"]
    root = make_take(workspace, "fox root", estimate=Decimal("1"))
    wanted = make_take(workspace, "fox remix", parent=root, estimate=Decimal("1"), model="sora-2")
    dear = make_take(workspace, "fox dear", parent=root, estimate=Decimal("9"), model="sora-2")
    other_model = make_take(workspace, "fox other", parent=root, estimate=Decimal("1"))
    not_fox = make_take(workspace, "whale", parent=root, estimate=Decimal("1"), model="sora-2")
    trashed = make_take(workspace, "fox trashed", parent=root, model="sora-2")
    for take in (root, wanted, dear, other_model, not_fox, trashed):
        rate(take, (owner, 4))
    TrashedTake.objects.create(take=trashed)
    client = client_for(personas["viewer"])
    params = {"q": "fox", "model": "sora-2", "rating": "4", "max_cost": "2", "lineage": "derived"}
    assert shown(client, **params) == {wanted.pk}
    assert shown(client, **params, trash="1") == {trashed.pk}


@pytest.mark.parametrize("sort", ["newest", "oldest", "cost"])
def test_filtered_keyset_pages_cover_each_matching_take_once(
    personas, workspace, client_for, monkeypatch, sort
):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 3)
    owner = personas["owner"]
    root = make_take(workspace, "root", estimate=Decimal("1"))
    wanted = set()
    for i in range(10):
        take = make_take(workspace, f"t{i}", parent=root, estimate=Decimal(i % 4))
        rate(take, (owner, 2 + i % 4))
        if i % 4 <= 2 and 2 + i % 4 >= 3:
            wanted.add(take.pk)
    client = client_for(personas["viewer"])
    seen, query = [], {"rating": "3", "max_cost": "2", "lineage": "derived", "sort": sort}
    while True:
        response = client.get(URL, query)
        seen += [t.pk for t in response.context["takes"]]
        following = response.context["following"]
        if not following:
            break
        query = dict(p.split("=", 1) for p in following.lstrip("?").split("&"))
        assert query["rating"] == "3" and query["lineage"] == "derived"
    assert len(seen) == len(set(seen)) and set(seen) == wanted


def test_a_filtered_page_costs_the_same_queries_whatever_its_size(personas, workspace, client_for):
    client = client_for(personas["viewer"])
    params = {"rating": "1", "max_cost": "5", "lineage": "originals"}

    def queries_for(count):
        for i in range(count):
            rate(make_take(workspace, f"take {i}", estimate=Decimal("1")), (personas["owner"], 3))
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(URL, params).context["takes"]) > 0
        return len(captured)

    assert queries_for(2) == queries_for(20)


@pytest.mark.parametrize(
    "params, said",
    [
        ({"rating": "6"}, "isn&#x27;t a rating"),
        ({"rating": "0"}, "isn&#x27;t a rating"),
        ({"rating": "four"}, "isn&#x27;t a rating"),
        ({"rating": "-1"}, "isn&#x27;t a rating"),
        ({"max_cost": "cheap"}, "isn&#x27;t a cost"),
        ({"max_cost": "-1"}, "isn&#x27;t a cost"),
        ({"min_cost": "NaN"}, "isn&#x27;t a cost"),
        ({"min_cost": "Infinity"}, "isn&#x27;t a cost"),
        ({"max_cost": "1e400"}, "isn&#x27;t a cost"),
        ({"max_cost": "9" * 300}, "isn&#x27;t a cost"),
        ({"lineage": "orphans"}, "isn&#x27;t a lineage"),
    ],
)
def test_nonsense_values_are_said_and_ignored(personas, workspace, client_for, params, said):
    take = make_take(workspace, estimate=Decimal("3"))
    response = client_for(personas["viewer"]).get(URL, params)
    assert response.status_code == 200 and said in response.content.decode()
    assert [t.pk for t in response.context["takes"]] == [take.pk]  # the bad filter is ignored


def test_a_reversed_cost_range_is_swapped_and_said(personas, workspace, client_for):
    inside = make_take(workspace, estimate=Decimal("1.50"))
    make_take(workspace, estimate=Decimal("4"))
    response = client_for(personas["viewer"]).get(URL, {"min_cost": "2", "max_cost": "1"})
    assert "swapped them" in response.content.decode()
    assert [t.pk for t in response.context["takes"]] == [inside.pk]


def test_another_workspaces_reviews_and_takes_stay_out(personas, workspace, client_for):
    elsewhere = Workspace.objects.get(slug="elsewhere")
    theirs = make_take(elsewhere, "their best", estimate=Decimal("0"))
    rate(theirs, (personas["outsider"], 5))
    mine = make_take(workspace, "mine")
    rate(mine, (personas["owner"], 5))
    response = client_for(personas["viewer"]).get(URL, {"rating": "5", "max_cost": "0"})
    assert [t.pk for t in response.context["takes"]] == [mine.pk]
    assert "their best" not in response.content.decode()


def test_bulk_all_matching_honours_the_new_filters_and_stores_nothing_on_bad_ones(
    personas, workspace, client_for
):
    root = make_take(workspace, "root")
    child = make_take(workspace, "child", parent=root)
    client = client_for(personas["editor"])
    bulk = reverse("library:bulk", args=["harbour"])
    client.post(bulk, {"action": "trash", "matching": "1", "back": "lineage=derived"})
    assert list(TrashedTake.objects.values_list("take_id", flat=True)) == [child.pk]
    page = client.get(URL, {"lineage": "derived", "rating": "9"})
    assert "isn&#x27;t a rating" in page.content.decode()
    assert TrashedTake.objects.count() == 1


def test_rating_sort_pages_best_rated_first_ties_by_id_and_unrated_last(
    personas, workspace, client_for, monkeypatch
):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 2)
    owner, editor, viewer = personas["owner"], personas["editor"], personas["viewer"]
    unrated_old = make_take(workspace, "unrated old")
    tie_a, best, tie_b = (make_take(workspace, w) for w in ("tie a", "best", "tie b"))
    thirds, poor, unrated_new = (make_take(workspace, w) for w in ("thirds", "poor", "none"))
    rate(best, (owner, 5))
    rate(tie_a, (owner, 5), (editor, 4))  # 4.5
    rate(tie_b, (owner, 4), (editor, 5))  # 4.5: the newer id first
    rate(thirds, (owner, 4), (editor, 3), (viewer, 3))  # 3.333…
    rate(poor, (owner, 1))
    Review.objects.create(take=unrated_new, reviewer=editor, rating=None)  # no stars given
    client = client_for(viewer)
    seen, query, pages = [], {"sort": "rating"}, 0
    while query:
        response = client.get(URL, query)
        assert response.status_code == 200 and not response.context["bad_cursor"]
        seen += [t.pk for t in response.context["takes"]]
        pages += 1
        following = response.context["following"]
        query = dict(p.split("=", 1) for p in following[1:].split("&")) if following else None
    expected = [best, tie_b, tie_a, thirds, poor, unrated_new, unrated_old]
    assert seen == [t.pk for t in expected] and pages == 4
    assert '<option value="rating" selected>Best rated first</option>' in response.content.decode()


def test_a_damaged_rating_cursor_shows_the_first_page(personas, workspace, client_for):
    best = make_take(workspace, "best")
    rate(best, (personas["owner"], 5))
    client = client_for(personas["viewer"])
    for cursor in ("x~1", "5~", "~", "50000-3"):
        response = client.get(URL, {"sort": "rating", "after": cursor})
        assert response.context["bad_cursor"], cursor
        assert [t.pk for t in response.context["takes"]] == [best.pk]


@pytest.mark.parametrize("page_size", [4, 24, 96])
def test_a_rated_first_page_takes_at_most_five_queries_whatever_its_size(
    personas, workspace, monkeypatch, page_size
):
    monkeypatch.setattr(gallery, "PAGE_SIZE", page_size)
    made = [make_take(workspace, f"take {i}") for i in range(40)]
    for take in made[::4]:
        rate(take, (personas["owner"], 1 + take.pk % 5))
    with CaptureQueriesContext(connection) as captured:
        found = gallery.page(workspace, personas["viewer"], gallery.Filters(sort="rating"))
        for take in found["takes"]:
            list(take.tags.all()), hasattr(take, "filing")  # read from the prefetch
    assert len(found["takes"]) == min(page_size, 40)
    # the rated, the unrated when the rated run out, then tags, folders and the cards'
    # notes (rating, circle: studio/card_notes.py) for all at once
    assert len(captured) <= 5
