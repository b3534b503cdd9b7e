"""Reviews (a rating and the three passes) and the circled take: what people say about
takes lives in the library, beside them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from library import reviews
from library.models import Circle, Review
from library.reviews import ReviewRefused
from studio import lineage, live, takes
from studio.engine import local
from studio.models import Status
from tests.library.helpers import make_take
from tests.studio.test_pages_a11y import check

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(workspace, shot):
    take = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2)
    local.run_take(take.pk)
    take.refresh_from_db()
    assert take.status == Status.COMPLETED
    return take


def finished(take):
    local.run_take(take.pk)
    take.refresh_from_db()
    return take


def url(name, take):
    return reverse(f"library:{name}", args=[take.workspace.slug, take.pk])


def test_a_review_is_one_per_member_and_replaced_on_saving_again(clip, personas):
    passes = {"composition": (True, "reads well"), "technical": (False, "flicker at 1 s")}
    reviews.save_review(clip, personas["editor"], rating=4, passes=passes)
    reviews.save_review(clip, personas["editor"], rating=5, passes={"physics": (True, "")})
    review = Review.objects.get()
    assert (review.rating, review.composition_ok, review.technical_note) == (
        5,
        True,
        "flicker at 1 s",
    )
    reviews.save_review(clip, personas["viewer"], rating=2, passes={})
    assert reviews.summaries([clip.pk])[clip.pk] == {
        "average": 3.5,
        "reviews": 2,
        "circled": False,
    }


def test_bad_reviews_are_refused(clip, workspace, shot, personas):
    with pytest.raises(ReviewRefused, match="from 1 to 5"):
        reviews.save_review(clip, personas["editor"], rating=6, passes={})
    queued = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2)
    with pytest.raises(ReviewRefused, match="only a completed take"):
        reviews.save_review(queued, personas["editor"], rating=3, passes={})
    assert Review.objects.count() == 0


def test_circling_a_sibling_uncircles_the_other(clip, personas):
    first = finished(lineage.recut(clip, 0, 1))
    second = finished(lineage.recut(clip, 1, 2))
    reviews.circle(first, personas["editor"])
    reviews.circle(second, personas["editor"])
    assert list(Circle.objects.values_list("take_id", flat=True)) == [second.pk]
    reviews.circle(clip, personas["editor"])  # a first take is circled on its own
    assert Circle.objects.count() == 2
    reviews.uncircle(second)
    assert reviews.summaries([first.pk, second.pk, clip.pk])[clip.pk]["circled"]


def test_the_panel_loads_on_the_take_page_and_fills_the_tree(client_for, personas, clip):
    child = finished(lineage.recut(clip, 0, 1))
    reviews.save_review(child, personas["viewer"], rating=3, passes={})
    reviews.circle(child, personas["owner"])
    client = client_for(personas["editor"])
    page = client.get(reverse("take", args=[clip.pk])).content.decode()
    assert url("review", clip) in page and f'id="tree-notes-{child.pk}"' in page
    panel = client.get(url("review", clip), headers={"HX-Request": "true"}).content.decode()
    assert (
        f'<span id="tree-notes-{child.pk}" class="card-notes" hx-swap-oob="true">'
        '<span class="card-note card-note-rating">3.0 ★</span>'
        '<span class="card-note card-note-circled">Circled</span></span>'
    ) in panel
    check(panel)


def test_a_member_reviews_and_a_viewer_may_not_circle(client_for, personas, clip):
    editor = client_for(personas["editor"])
    response = editor.post(
        url("save_review", clip),
        {"rating": "4", "composition_ok": "pass", "composition_note": "clear intent"},
        headers={"HX-Request": "true"},
    )
    assert "Review saved." in response.content.decode()
    review = Review.objects.get(reviewer=personas["editor"])
    assert (review.rating, review.composition_ok, review.technical_ok) == (4, True, None)
    viewer = client_for(personas["viewer"])
    assert viewer.post(url("circle", clip)).status_code == 403
    assert Circle.objects.count() == 0


def test_outsiders_get_404(client_for, personas, clip):
    outsider = client_for(personas["outsider"])
    assert outsider.get(url("review", clip)).status_code == 404
    assert outsider.post(url("save_review", clip), {"rating": "5"}).status_code == 404
    wrong_workspace = reverse("library:review", args=["elsewhere", clip.pk])
    assert outsider.get(wrong_workspace).status_code == 404
    assert Review.objects.count() == 0


def test_tree_ratings_cost_the_same_queries_for_more_takes(
    client_for, personas, clip, django_assert_max_num_queries
):
    client = client_for(personas["editor"])
    lineage.recut(clip, 0, 1)
    with django_assert_max_num_queries(40) as few:
        client.get(url("review", clip))
    for _ in range(8):
        lineage.loop(clip, 0.25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("review", clip))


def test_studio_cards_show_the_rating_and_the_circle_in_fixed_queries(
    client_for, personas, workspace
):
    client = client_for(personas["viewer"])

    def queries_for(count):
        made = [make_take(workspace, f"take {n}") for n in range(count)]
        for take in made:
            reviews.save_review(take, personas["editor"], rating=3, passes={})
            reviews.save_review(take, personas["owner"], rating=4, passes={})
            reviews.circle(take, personas["owner"])
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("workspace", args=["harbour"])).content.decode()
        return len(captured), page

    few, page = queries_for(1)
    assert page.count('<span class="card-note card-note-rating">3.5 ★</span>') == 1
    assert page.count('<span class="card-note card-note-circled">Circled</span>') == 1
    many, page = queries_for(10)
    assert many == few and page.count("card-note-rating") == 11


def test_a_pushed_card_carries_its_rating(clip, personas):
    assert "card-note-rating" not in live.take_card_html(clip, "edit")
    reviews.save_review(clip, personas["viewer"], rating=2, passes={})
    assert '<span class="card-note card-note-rating">2.0 ★</span>' in live.take_card_html(
        clip, "view"
    )
