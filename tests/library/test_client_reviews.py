"""Client review links: a visitor without an account gives a name, picks the take they prefer
and comments at a moment of it; the team sees it on the share links page; bad input is said
and stores nothing; a plain share link takes no reviews."""

import pytest
from django.test import Client
from django.urls import reverse

from library import folders, shares
from library.models import ClientComment, ClientPick, Folder
from studio.models import Membership

from .helpers import make_take

pytestmark = pytest.mark.django_db

VIDEO = b"\x00" * 64


@pytest.fixture
def review_link(personas, workspace):
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    box = Folder.objects.create(workspace=workspace, name="Options")
    takes = [make_take(workspace, f"option {n}", video=VIDEO) for n in (1, 2)]
    folders.file_takes(takes, box)
    link, token = shares.create(editor, folder=box, review=True)
    return link, token, takes


def test_a_reviewer_picks_and_comments_and_the_team_sees_it(
    review_link, client, client_for, personas
):
    link, token, (first, second) = review_link
    url = reverse("library_public:review", args=[token])
    page = client.get(reverse("library_public:share", args=[token])).content.decode()
    assert f"Pick take #{first.pk}" in page and "estimate" not in page
    picked = client.post(url, {"pick": first.pk, "name": " Ana  Ruiz "})
    assert picked.status_code == 302 and picked["Location"].endswith(f"#shared-take-{first.pk}")
    client.post(url, {"pick": second.pk, "name": "Ana Ruiz"})  # changes her mind
    said = client.post(
        url,
        {
            "comment": second.pk,
            "name": "Ana Ruiz",
            f"text-{second.pk}": "Love the light",
            f"at-{second.pk}": "0:03",
        },
    )
    assert said.status_code == 302
    assert list(ClientPick.objects.values_list("reviewer", "take")) == [("Ana Ruiz", second.pk)]
    comment = ClientComment.objects.get()
    assert (comment.text, comment.at_seconds, comment.take_id) == ("Love the light", 3, second.pk)
    again = client.get(reverse("library_public:share", args=[token])).content.decode()
    assert "★ Your pick" in again and 'value="Ana Ruiz"' in again
    team = client_for(personas["editor"]).get(reverse("library:shares", args=["harbour"]))
    text = team.content.decode()
    assert "<strong>Ana Ruiz</strong> picked" in text and "Love the light" in text


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "pick", "name": "  "}, "Tell us your name"),
        ({"action": "pick", "name": "x" * 61}, "at most 60"),
        ({"name": "Ana", "text": " "}, "Write a comment"),
        ({"name": "Ana", "text": "hi", "at": "soon"}, "minutes:seconds"),
        ({"name": "Ana", "text": "hi", "at": "9:00"}, "past the end"),
        ({"name": "Ana", "text": "x" * 2001}, "at most 2000"),
    ],
)
def test_bad_review_input_is_said_and_nothing_is_stored(review_link, client, data, message):
    _, token, (first, _) = review_link
    data = dict(data)
    action = data.pop("action", "comment")
    fields = {action: first.pk, "name": data.pop("name")}
    fields.update({f"{key}-{first.pk}": value for key, value in data.items()})
    response = client.post(reverse("library_public:review", args=[token]), fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ClientPick.objects.exists() and not ClientComment.objects.exists()


def test_a_refused_comment_comes_back_with_what_was_typed_and_the_reason_beside_it(
    review_link, client
):
    _, token, (first, second) = review_link
    fields = {"comment": first.pk, "name": "Ana Ruiz", f"text-{first.pk}": "Hold on the gull"}
    fields[f"at-{first.pk}"] = "99:99"
    response = client.post(reverse("library_public:review", args=[token]), fields)
    page = response.content.decode()
    assert response.status_code == 400 and not ClientComment.objects.exists()
    assert 'value="Ana Ruiz"' in page
    assert ">Hold on the gull</textarea>" in page and 'value="99:99"' in page
    assert f'aria-describedby="review-problem-{first.pk}"' in page
    assert f'id="review-problem-{first.pk}">' in page and "past the end" in page
    assert f'name="text-{second.pk}" rows="2" maxlength="2000"></textarea>' in page


def test_reviews_only_on_review_links_and_only_on_shared_takes(
    review_link, personas, workspace, client
):
    link, token, (first, _) = review_link
    outside = make_take(workspace, "not in the folder", video=VIDEO)
    url = reverse("library_public:review", args=[token])
    assert client.post(url, {"pick": outside.pk, "name": "Ana"}).status_code == 404
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    _, plain = shares.create(editor, take=first)
    plain_url = reverse("library_public:review", args=[plain])
    assert client.post(plain_url, {"pick": first.pk, "name": "Ana"}).status_code == 404
    shares.revoke(link)
    assert client.post(url, {"pick": first.pk, "name": "Ana"}).status_code == 404
    assert not ClientPick.objects.exists()


def test_the_review_form_passes_the_csrf_check_as_a_browser_sends_it(review_link):
    """Under "Referrer-Policy: no-referrer" Chromium sends "Origin: null" with a page's own
    forms, and Django's CSRF check refuses that: every pick was a 403. The page's policy has
    to let the browser name its own origin."""
    _, token, (first, _) = review_link
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("library_public:share", args=[token]))
    policy = page["Referrer-Policy"]
    assert policy in ("same-origin", "strict-origin", "strict-origin-when-cross-origin")
    form = {
        "pick": first.pk,
        "name": "Ana",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
    }
    url = reverse("library_public:review", args=[token])
    sent = browser.post(url, form, headers={"Origin": "http://testserver"})
    assert sent.status_code == 302 and ClientPick.objects.filter(reviewer="Ana").exists()
    # A form from elsewhere is refused, on a page that says why in Slate's own words.
    forged = browser.post(url, {**form, "name": "Mallory"}, headers={"Origin": "http://evil"})
    assert forged.status_code == 403 and "This form has expired" in forged.content.decode()
    assert not ClientPick.objects.filter(reviewer="Mallory").exists()


def test_the_review_page_numbers_each_take_and_asks_the_name_once(review_link, client):
    _, token, (first, second) = review_link
    page = client.get(reverse("library_public:share", args=[token])).content.decode()
    for take in (first, second):
        assert f"Take #{take.pk}: {take.title}</h2>" in page
        assert f'name="pick" value="{take.pk}"' in page
        assert f'name="text-{take.pk}"' in page
    assert "animatic · 4 s" in page
    assert page.count('name="name"') == 1 and page.count("<form") == 1
    url = reverse("library_public:review", args=[token])
    client.post(url, {"pick": first.pk, "name": "Ana"})
    again = client.get(reverse("library_public:share", args=[token])).content.decode()
    assert again.count('value="Ana"') == 1  # remembered for the next visit, still asked once
