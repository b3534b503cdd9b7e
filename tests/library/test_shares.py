"""Share links: made by editors, opened by anyone with the link (Range requests included),
revoked or expired → gone on the very next request, and the token is nowhere in the database."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from library import folders, shares
from library.models import Folder, ShareLink
from studio.models import Membership, Workspace

from .helpers import make_take

pytestmark = pytest.mark.django_db

VIDEO = bytes(range(256)) * 40


def member(personas, role="editor"):
    return Membership.objects.get(user=personas[role], workspace__slug="harbour")


def make_link(client, **data) -> tuple[str, str]:
    page = client.post(reverse("library:shares", args=["harbour"]), data)
    assert page.status_code == 200, page.content.decode()[:500]
    url = re.search(r'id="new-share-url" value="([^"]+)"', page.content.decode()).group(1)
    return url, url.rstrip("/").rsplit("/", 1)[1]


def test_a_take_link_plays_for_a_visitor_with_range_then_revoking_ends_it(
    personas, workspace, client_for, client
):
    take = make_take(workspace, "a fox at dawn", video=VIDEO)
    editor = client_for(personas["editor"])
    url, token = make_link(editor, take=take.pk, expires="7", show_prompt="on")
    editor.logout()
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and "a fox at dawn" in text
    assert text.count("a fox at dawn</h") == 1  # its title once, as the page's heading
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "Harbour" not in text and "Download MP4" not in text  # nothing else of the workspace
    video = reverse("library_public:media", args=[token, take.pk, "video"])
    part = client.get(video, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == VIDEO[100:200]
    part.close()
    assert (
        client.get(reverse("library_public:media", args=[token, take.pk, "download"])).status_code
        == 404
    )
    link = ShareLink.objects.get()
    assert link.views == 1 and link.last_viewed_at is not None
    shares.revoke(link)
    assert client.get(url).status_code == 404
    assert client.get(video, headers={"Range": "bytes=200-"}).status_code == 404


def test_unknown_expired_and_revoked_links_look_the_same(personas, workspace, client):
    take = make_take(workspace, video=VIDEO)
    expired, expired_token = shares.create(member(personas), take=take)
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_token = shares.create(member(personas), take=take)
    shares.revoke(revoked)
    answers = [
        client.get(reverse("library_public:share", args=[token]))
        for token in (expired_token, revoked_token, "x" * 43, "short", "%00" * 30)
    ]
    assert {a.status_code for a in answers} == {404}
    masked = re.compile(rb'"X-CSRFToken": "[^"]*"')  # a fresh mask each time, by design
    assert len({masked.sub(b"", a.content) for a in answers}) == 1
    assert "isn't available" in answers[0].content.decode()


def test_the_raw_token_is_stored_nowhere(personas, workspace):
    take = make_take(workspace, video=VIDEO)
    link, token = shares.create(member(personas), take=take)
    assert len(token) >= 43  # 256 bits, URL-safe base64
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            assert token not in repr(cursor.fetchall()), table
    assert link.token_hash == shares.digest(token)


def test_a_folder_link_shows_only_its_finished_takes(personas, workspace, client_for, client):
    box = Folder.objects.create(workspace=workspace, name="Client cut")
    inside = make_take(workspace, "inside the box", video=VIDEO)
    outside = make_take(workspace, "outside the box", video=VIDEO)
    unfinished = make_take(workspace, "still rendering", status="in_progress")
    folders.file_takes([inside, unfinished], box)
    url, token = make_link(client_for(personas["editor"]), folder=box.pk, allow_download="on")
    client.logout()
    text = client.get(url).content.decode()
    assert "inside the box" in text and "outside the box" not in text
    assert "still rendering" not in text and "Download MP4" in text
    assert "a lighthouse" not in text
    media = reverse("library_public:media", args=[token, outside.pk, "video"])
    assert client.get(media).status_code == 404  # a take of the workspace, not of the link
    download = client.get(reverse("library_public:media", args=[token, inside.pk, "download"]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    download.close()


def test_making_links_bad_input_and_roles(personas, workspace, client_for):
    finished = make_take(workspace, video=VIDEO)
    unfinished = make_take(workspace, status="queued")
    theirs = make_take(Workspace.objects.get(slug="elsewhere"), video=VIDEO)
    url = reverse("library:shares", args=["harbour"])
    editor = client_for(personas["editor"])
    not_yet = editor.post(url, {"take": unfinished.pk})
    assert not_yet.status_code == 400 and "no video yet" in not_yet.content.decode()
    assert editor.post(url, {"take": finished.pk, "expires": "99"}).status_code == 400
    assert editor.post(url, {}).status_code == 400
    assert editor.post(url, {"take": theirs.pk}).status_code == 404
    assert not ShareLink.objects.exists()
    viewer = client_for(personas["viewer"])
    assert viewer.post(url, {"take": finished.pk}).status_code == 403
    assert viewer.get(url).status_code == 403
    assert not ShareLink.objects.exists()


def test_the_list_shows_live_links_and_revokes_only_its_own(personas, workspace, client_for):
    take = make_take(workspace, video=VIDEO)
    link, _ = shares.create(member(personas), take=take, expires="")
    elsewhere = Workspace.objects.get(slug="elsewhere")
    outsider = Membership.objects.get(user=personas["outsider"], workspace=elsewhere)
    their_take = make_take(elsewhere, video=VIDEO)
    their_link, _ = shares.create(outsider, take=their_take)
    client = client_for(personas["editor"])
    page = client.get(reverse("library:shares", args=["harbour"])).content.decode()
    assert f'id="share-{link.pk}"' in page and f'id="share-{their_link.pk}"' not in page
    foreign = reverse("library:revoke_share", args=["harbour", their_link.pk])
    assert client.post(foreign).status_code == 404
    assert (
        client.post(reverse("library:revoke_share", args=["harbour", link.pk])).status_code == 302
    )
    assert ShareLink.objects.get(pk=link.pk).revoked_at is not None
    assert ShareLink.objects.get(pk=their_link.pk).revoked_at is None


def test_guessing_is_throttled_per_address(personas, workspace, client, monkeypatch):
    monkeypatch.setattr(shares, "MISSES_PER_MINUTE", 3)
    take = make_take(workspace, video=VIDEO)
    _, token = shares.create(member(personas), take=take)
    for n in range(3):
        assert (
            client.get(reverse("library_public:share", args=[f"guess-{n:040d}"])).status_code == 404
        )
    slowed = client.get(reverse("library_public:share", args=[token]))
    assert slowed.status_code == 429 and slowed["Retry-After"] == "60"
    assert "Too many tries" in slowed.content.decode()
    elsewhere = client.get(reverse("library_public:share", args=[token]), REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 200


def test_a_trashed_take_cannot_be_shared_and_trash_offers_no_share_or_star(
    personas, workspace, client_for
):
    take = make_take(workspace, video=VIDEO)
    folders.trash(personas["editor"], [take])
    editor = client_for(personas["editor"])
    refused = editor.post(reverse("library:shares", args=["harbour"]), {"take": take.pk})
    assert refused.status_code == 400
    assert "in the trash: restore it before sharing" in refused.content.decode()
    assert not ShareLink.objects.exists()
    trash = editor.get(reverse("library:gallery", args=["harbour"]), {"trash": "1"})
    trash = trash.content.decode()
    assert f'id="gallery-item-{take.pk}"' in trash
    assert f"Share take #{take.pk}" not in trash and f"Star take #{take.pk}" not in trash


def test_the_share_list_asks_before_revoking_and_says_when_a_link_was_last_seen(
    personas, workspace, client_for
):
    take = make_take(workspace, video=VIDEO)
    link, _ = shares.create(member(personas), take=take)
    ShareLink.objects.filter(pk=link.pk).update(last_viewed_at=timezone.now())
    editor = client_for(personas["editor"])
    page = editor.get(reverse("library:shares", args=["harbour"])).content.decode()
    assert '<details class="confirm"><summary class="danger">Revoke</summary>' in page
    assert "Revoke this link: it stops working at once" in page
    assert "last just now" in page and "0 minutes" not in page
    ShareLink.objects.filter(pk=link.pk).update(
        last_viewed_at=timezone.now() - timedelta(hours=3, seconds=5)
    )
    page = editor.get(reverse("library:shares", args=["harbour"])).content.decode()
    assert "last 3\xa0hours ago" in page


def test_one_take_is_shared_with_the_same_options_as_a_folder(personas, workspace, client_for):
    take = make_take(workspace, "a fox at dawn", video=VIDEO)
    editor = client_for(personas["editor"])
    gallery = editor.get(reverse("library:gallery", args=["harbour"])).content.decode()
    options = reverse("library:share_take", args=["harbour", take.pk])
    assert f'href="{options}"' in gallery  # the card leads to the choices, makes nothing
    assert not ShareLink.objects.exists()
    take_page = editor.get(reverse("take", args=[take.pk])).content.decode()
    assert f'hx-get="{options}"' in take_page  # the take page loads the panel from the library
    panel = editor.get(options, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in panel
    for choice in (
        'name="expires"',
        'name="show_prompt"',
        'name="allow_download"',
        'name="review"',
    ):
        assert choice in panel
    assert f'name="take" value="{take.pk}"' in panel
    url, _ = make_link(editor, take=take.pk, expires="30", allow_download="on", review="on")
    link = ShareLink.objects.get()
    assert link.take == take and link.allow_download and link.review and not link.show_prompt
    assert link.expires_at > timezone.now() + timedelta(days=29)


def test_the_share_panel_says_why_a_take_cannot_be_shared_and_viewers_get_no_form(
    personas, workspace, client_for
):
    unfinished = make_take(workspace)
    options = reverse("library:share_take", args=["harbour", unfinished.pk])
    panel = client_for(personas["editor"]).get(options, headers={"HX-Request": "true"})
    assert "no video yet" in panel.content.decode() and "<form" not in panel.content.decode()
    done = make_take(workspace, video=VIDEO)
    options = reverse("library:share_take", args=["harbour", done.pk])
    viewer = client_for(personas["viewer"]).get(options, headers={"HX-Request": "true"})
    assert viewer.status_code == 200 and "<form" not in viewer.content.decode()
