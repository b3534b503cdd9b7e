"""Every take is reachable from the studio page: the newest first, then "Older takes" pages
through the rest by (created_at, id), whatever is made meanwhile."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from studio import live, takes
from studio.models import RECENT_TAKES, Take
from studio.prompts import Shot

HTMX = {"HX-Request": "true"}
CARD = re.compile(r'id="take-card-(\d+)"')
OLDER = re.compile(r'hx-get="([^"]+\?before=[^"]+)"')


@pytest.fixture
def thirty(workspace):
    return [
        takes.queue_take(workspace, Shot(subject=f"take {n}"), provider="animatic",
                         size="1280x720", seconds=4).pk
        for n in range(1, 31)
    ]  # fmt: skip


def cards(html: str) -> list[int]:
    return [int(pk) for pk in CARD.findall(html)]


def older_link(html: str) -> str | None:
    found = OLDER.search(html)
    return found.group(1).replace("&amp;", "&") if found else None


def every_page(client, html: str) -> list[list[int]]:
    pages = [cards(html)]
    while link := older_link(html):
        response = client.get(link, headers=HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(cards(html))
    return pages


def test_the_studio_page_reaches_all_thirty_takes(client, personas, thirty):
    client.force_login(personas["viewer"])
    page = client.get(reverse("workspace", args=["harbour"])).content.decode()
    pages = every_page(client, page)
    assert [len(p) for p in pages] == [RECENT_TAKES, 30 - RECENT_TAKES]
    assert sum(pages, []) == list(reversed(thirty))  # newest first, each once


def test_takes_made_at_the_same_instant_are_each_shown_once(client, personas, thirty):
    Take.objects.update(created_at=timezone.now())
    client.force_login(personas["editor"])
    page = client.get(reverse("workspace", args=["harbour"])).content.decode()
    assert sum(every_page(client, page), []) == list(reversed(thirty))


def test_takes_made_while_paging_do_not_shift_the_older_pages(client, personas, workspace, thirty):
    client.force_login(personas["editor"])
    first = client.get(reverse("workspace", args=["harbour"])).content.decode()
    for n in range(5):
        takes.queue_take(workspace, Shot(subject=f"new {n}"), provider="animatic",
                         size="1280x720", seconds=4)  # fmt: skip
    rest = client.get(older_link(first), headers=HTMX).content.decode()
    assert cards(rest) == list(reversed(thirty[: 30 - RECENT_TAKES]))
    assert older_link(rest) is None


def test_without_javascript_older_takes_opens_the_page_from_there(client, personas, thirty):
    client.force_login(personas["editor"])
    first = client.get(reverse("workspace", args=["harbour"])).content.decode()
    page = client.get(older_link(first))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="subject"' in html  # the whole studio page, composer and all
    assert cards(html) == list(reversed(thirty[: 30 - RECENT_TAKES]))


def test_a_page_deep_in_the_list_costs_as_few_queries_as_the_first(
    client, personas, thirty, django_assert_max_num_queries
):
    client.force_login(personas["editor"])
    first = client.get(reverse("workspace", args=["harbour"])).content.decode()
    # session, user, membership, one page of takes, the library's notes on their cards
    with django_assert_max_num_queries(5):
        client.get(older_link(first), headers=HTMX)


NOT_CURSORS = ["", "x", "12", "-3", "1-", "999999999999999999-1", "1-9999999999999999999"]


@pytest.mark.parametrize("cursor", NOT_CURSORS)
def test_a_cursor_that_is_not_one_is_404(client, personas, thirty, cursor):
    client.force_login(personas["editor"])
    url = reverse("workspace", args=["harbour"]) + f"?before={cursor}"
    assert client.get(url, headers=HTMX).status_code == 404


def test_outsiders_cannot_page_through_takes(client, personas, thirty):
    client.force_login(personas["editor"])
    link = older_link(client.get(reverse("workspace", args=["harbour"])).content.decode())
    client.force_login(personas["outsider"])
    assert client.get(link, headers=HTMX).status_code == 404


def test_the_live_take_list_keeps_the_way_to_older_takes(workspace, thirty):
    html = live.take_list_html(workspace, "view")
    assert cards(html) == list(reversed(thirty))[:RECENT_TAKES]
    assert older_link(html)


def test_a_short_list_has_no_older_takes_link(client, personas, workspace):
    takes.queue_take(workspace, Shot(subject="only"), provider="animatic", size="1280x720",
                     seconds=4)  # fmt: skip
    client.force_login(personas["editor"])
    html = client.get(reverse("workspace", args=["harbour"])).content.decode()
    assert len(cards(html)) == 1 and older_link(html) is None
