"""The take page's family tree and operation forms, and the compare view."""

import re

import pytest
from django.urls import reverse

from studio import lineage, takes
from studio.engine import local
from studio.models import Membership, Role, Status, Take, Workspace
from studio.prompts import Shot
from tests.studio.test_pages_a11y import check

HTMX = {"HX-Request": "true"}


@pytest.fixture
def clip(workspace, shot):
    take = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2, seed=7)
    local.run_take(take.pk)
    take.refresh_from_db()
    assert take.status == Status.COMPLETED
    return take


def operate(client, take, operation, data, headers=HTMX):
    return client.post(reverse("take_operation", args=[take.pk, operation]), data, headers=headers)


def test_take_page_shows_its_tree_and_forms_prefilled_from_it(client_for, personas, clip):
    html = client_for(personas["editor"]).get(reverse("take", args=[clip.pk])).content.decode()
    assert f'id="take-tree-{clip.pk}"' in html and f'id="tree-node-{clip.pk}"' in html
    assert "Generate · Native" in html
    assert f"{clip.lighting}</textarea>" in html  # the remix form holds the parent's shot
    assert 'name="end" value="2.0"' in html and 'name="start" value="0"' in html
    assert '<option value="4" selected>4 s</option>' in html  # the animatic's lengths
    assert "{%" not in html and "{#" not in html


def test_viewers_see_the_tree_but_no_operations(client_for, personas, clip):
    html = client_for(personas["viewer"]).get(reverse("take", args=[clip.pk])).content.decode()
    assert f'id="take-tree-{clip.pk}"' in html and "take_operation" not in html
    assert f'action="/takes/{clip.pk}/do/' not in html
    response = operate(client_for(personas["viewer"]), clip, "recut", {"start": 0, "end": 1})
    assert response.status_code == 403 and Take.objects.count() == 1


def test_outsiders_get_404_for_operations_and_compare(client_for, personas, clip):
    client = client_for(personas["outsider"])
    assert operate(client, clip, "loop", {"fade": 0.5}).status_code == 404
    assert client.get(reverse("take_compare", args=[clip.pk, clip.pk])).status_code == 404
    assert Take.objects.count() == 1


def test_recut_from_the_page_queues_a_child_and_redraws_the_tree(client_for, personas, clip):
    response = operate(client_for(personas["editor"]), clip, "recut", {"start": 0.5, "end": 1.5})
    child = Take.objects.get(parent=clip)
    html = response.content.decode()
    assert (child.operation, child.method, child.edit["start"]) == ("recut", "local", 0.5)
    assert f'Queued <a href="/takes/{child.pk}/">take #{child.pk}</a>' in html
    assert 'hx-swap-oob="true"' in html and f'id="tree-node-{child.pk}"' in html
    assert "Re-cut · Local" in html and "free" in html


def test_a_refused_operation_shows_why_and_stores_nothing(client_for, personas, clip):
    client = client_for(personas["editor"])
    response = operate(client, clip, "recut", {"start": 1.5, "end": 0.5})
    assert "must come before the end" in response.content.decode()
    remix = {name: getattr(clip, name) for name in Shot.__dataclass_fields__}
    response = operate(client, clip, "remix", remix)
    assert "changes nothing" in response.content.decode()
    full_page = operate(client, clip, "vary", {"count": 9}, headers={})
    assert full_page.status_code == 400 and "<html" in full_page.content.decode()
    assert Take.objects.count() == 1


def test_without_htmx_an_operation_redirects_to_the_new_take(client_for, personas, clip):
    response = operate(client_for(personas["editor"]), clip, "loop", {"fade": 0.5}, headers={})
    child = Take.objects.get(parent=clip)
    assert response.status_code == 302 and response.url == reverse("take", args=[child.pk])


def test_blend_with_a_take_you_cannot_see_is_404(client_for, personas, clip, shot):
    elsewhere = Workspace.objects.get(slug="elsewhere")
    foreign = takes.queue_take(elsewhere, shot, provider="animatic", size="320x180", seconds=2)
    client = client_for(personas["editor"])
    assert operate(client, clip, "blend", {"other": foreign.pk}).status_code == 404
    assert Take.objects.filter(parent=clip).count() == 0


def test_tree_page_queries_do_not_grow_with_the_tree(
    client_for, personas, clip, django_assert_max_num_queries
):
    client = client_for(personas["editor"])
    url = reverse("take", args=[clip.pk])
    lineage.recut(clip, 0, 1)
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    for _ in range(6):
        lineage.recut(clip, 0, 1)
    lineage.remix(clip, {"camera": "whip pan"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('class="tree-item') == 9


def test_compare_shows_what_changed(client_for, personas, clip):
    child = lineage.remix(clip, {"lighting": "neon rain"})
    html = (
        client_for(personas["viewer"])
        .get(reverse("take_compare", args=[clip.pk, child.pk]))
        .content.decode()
    )
    assert '<th scope="row">lighting</th>' in html and "neon rain" in html
    assert '<th scope="row">seed</th>' not in html  # a remix keeps the seed


def test_the_take_page_with_its_tree_and_forms_reads_well(client_for, personas, clip):
    child = lineage.recut(clip, 0, 1)
    client = client_for(personas["editor"])
    page = check(client.get(reverse("take", args=[clip.pk])).content.decode())
    assert {"In", "Out", "Extend by", "Variations", "Subject"} <= set(page.labels)
    check(client.get(reverse("take", args=[child.pk])).content.decode())
    refused = operate(client, clip, "recut", {"start": 3, "end": 4}).content.decode()
    check(refused)


def test_a_child_says_what_made_it_on_its_card(client_for, personas, clip):
    child = lineage.loop(clip, 0.5)
    html = client_for(personas["viewer"]).get(reverse("workspace", args=["harbour"])).content
    assert f'title="made from take #{clip.pk}">Loop · Local</span>' in html.decode()
    assert child.pk


def test_compare_with_any_take_from_the_take_page(client_for, personas, clip, workspace, shot):
    other = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2)
    client = client_for(personas["viewer"])
    response = client.get(reverse("take_compare_pick", args=[clip.pk]), {"other": other.pk})
    assert response.url == reverse("take_compare", args=[clip.pk, other.pk])  # older first
    from_other = client.get(reverse("take_compare_pick", args=[other.pk]), {"other": clip.pk})
    assert from_other.url == response.url
    itself = client.get(reverse("take_compare_pick", args=[clip.pk]), {"other": clip.pk})
    assert itself.status_code == 400 and "this take: give the number" in itself.content.decode()
    assert (
        client.get(reverse("take_compare_pick", args=[clip.pk]), {"other": "x"}).status_code == 404
    )


def test_blend_suggests_the_workspaces_finished_takes(client_for, personas, clip, workspace, shot):
    other = takes.queue_take(
        workspace, Shot(subject="a kite"), provider="animatic", size="320x180", seconds=2
    )
    local.run_take(other.pk)
    html = client_for(personas["editor"]).get(reverse("take", args=[clip.pk])).content.decode()
    assert f'list="blend-choices-{clip.pk}"' in html
    assert f'<option value="{other.pk}">#{other.pk} a kite (320x180)</option>' in html
    assert f'<option value="{clip.pk}">' not in html  # not blended with itself


MISSING = "That take doesn&#x27;t exist or isn&#x27;t in this workspace."


def unchanging(html: str) -> str:
    """A page minus what differs between two renders of it: CSRF tokens, relative times
    (a second may tick between them) and the take number typed."""
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"\b(now|(\d+|an?)\W(second|minute)s?\sago)\b", "a moment ago", html)
    return re.sub(r'value="\d+" aria-invalid', 'value="" aria-invalid', html)


@pytest.fixture
def elsewhere_take(personas, shot):
    elsewhere = Workspace.objects.get(slug="elsewhere")
    return takes.queue_take(elsewhere, shot, provider="animatic", size="320x180", seconds=2)


def test_comparing_with_a_missing_take_explains_on_the_take_page(client_for, personas, clip):
    client = client_for(personas["viewer"])
    response = client.get(reverse("take_compare_pick", args=[clip.pk]), {"other": 9999})
    html = response.content.decode()
    assert response.status_code == 404
    assert MISSING in html and 'role="alert"' in html
    assert f'id="take-tree-{clip.pk}"' in html and "<h2>Composed prompt</h2>" in html  # its page
    assert 'value="9999" aria-invalid="true"' in html
    page = check(html)
    assert page.invalid == ["other"]


def test_comparing_with_another_workspaces_take_looks_like_a_missing_one(
    client_for, personas, clip, elsewhere_take
):
    client = client_for(personas["editor"])
    pick = reverse("take_compare_pick", args=[clip.pk])
    foreign = client.get(pick, {"other": elsewhere_take.pk})
    missing = client.get(pick, {"other": elsewhere_take.pk + 1000})
    assert foreign.status_code == missing.status_code == 404
    assert unchanging(foreign.content.decode()) == unchanging(missing.content.decode())
    # Typed straight into the address bar, either way round: the same explanation.
    for args in ((elsewhere_take.pk, clip.pk), (clip.pk, elsewhere_take.pk)):
        response = client.get(reverse("take_compare", args=args))
        assert response.status_code == 404 and MISSING in response.content.decode()
        assert f'id="take-tree-{clip.pk}"' in response.content.decode()


def test_a_member_of_both_workspaces_cannot_compare_across_them(
    client_for, personas, clip, elsewhere_take
):
    Membership.objects.create(
        user=personas["editor"], workspace=elsewhere_take.workspace, role=Role.VIEWER
    )
    client = client_for(personas["editor"])
    response = client.get(reverse("take_compare", args=[elsewhere_take.pk, clip.pk]))
    assert response.status_code == 404 and MISSING in response.content.decode()


def test_comparing_two_takes_one_cannot_see_is_the_plain_404(
    client_for, personas, clip, elsewhere_take
):
    response = client_for(personas["outsider"]).get(
        reverse("take_compare", args=[clip.pk, clip.pk + 1000])
    )
    html = response.content.decode()
    assert response.status_code == 404 and MISSING not in html and clip.title not in html
