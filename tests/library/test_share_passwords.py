"""Share links with a password: only a hash is kept; a visitor sees a password form until the
right password unlocks that one link for their browser session (media and review posts
included); wrong passwords say so, are counted per link and lock the form for a while."""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from library import folders, shares
from library.models import ClientPick, Folder, ShareLink
from studio.models import Membership

from .helpers import make_take
from .test_cli import run

pytestmark = pytest.mark.django_db

VIDEO = bytes(range(256)) * 40
SECRET = "harbour-lights"


def member(personas, role="editor"):
    return Membership.objects.get(user=personas[role], workspace__slug="harbour")


def guarded(personas, take, **options):
    options.setdefault("password", SECRET)
    return shares.create(member(personas), take=take, **options)


def status(client, url, **options) -> int:
    """The status of a GET, its (streamed) body closed."""
    response = client.get(url, **options)
    response.close()
    return response.status_code


def urls(token, take):
    return {
        "page": reverse("library_public:share", args=[token]),
        "unlock": reverse("library_public:unlock", args=[token]),
        "video": reverse("library_public:media", args=[token, take.pk, "video"]),
        "download": reverse("library_public:media", args=[token, take.pk, "download"]),
    }


def test_an_editor_makes_a_password_link_and_only_a_hash_is_kept(personas, workspace, client_for):
    take = make_take(workspace, video=VIDEO)
    editor = client_for(personas["editor"])
    options = editor.get(reverse("library:share_take", args=["harbour", take.pk]))
    assert 'name="password"' in options.content.decode()
    made = editor.post(
        reverse("library:shares", args=["harbour"]),
        {"take": take.pk, "expires": "7", "password": SECRET},
    )
    assert made.status_code == 200 and "· password" in made.content.decode()
    link = ShareLink.objects.get()
    assert link.password_hash and SECRET not in link.password_hash
    assert shares.check_password(SECRET, link.password_hash)


@pytest.mark.parametrize(
    "password, message",
    [
        ("short", "8 to 128 characters"),
        ("x" * 129, "8 to 128 characters"),
        (" " * 9, "only spaces"),
    ],
)
def test_a_bad_password_is_refused_and_no_link_is_made(
    personas, workspace, client_for, password, message
):
    take = make_take(workspace, video=VIDEO)
    refused = client_for(personas["editor"]).post(
        reverse("library:shares", args=["harbour"]),
        {"take": take.pk, "expires": "7", "password": password},
    )
    assert refused.status_code == 400 and message in refused.content.decode()
    assert not ShareLink.objects.exists()


def test_a_visitor_sees_only_the_form_until_the_right_password(personas, workspace, client):
    take = make_take(workspace, "a fox at dawn", video=VIDEO)
    link, token = guarded(personas, take, show_prompt=True, allow_download=True)
    to = urls(token, take)
    form = client.get(to["page"])
    text = form.content.decode()
    assert form.status_code == 200 and "This link has a password" in text
    assert "a fox at dawn" not in text and to["video"] not in text
    assert form["X-Robots-Tag"] == "noindex, nofollow"
    for media in ("video", "download"):
        assert client.get(to[media], headers={"Range": "bytes=0-9"}).status_code == 403
    link.refresh_from_db()
    assert link.views == 0

    opened = client.post(to["unlock"], {"password": SECRET})
    assert opened.status_code == 302 and opened.url == to["page"]
    page = client.get(to["page"])
    assert page.status_code == 200 and "a fox at dawn" in page.content.decode()
    part = client.get(to["video"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == VIDEO[100:200]
    part.close()
    link.refresh_from_db()
    assert link.views == 1

    shares.revoke(link)  # an unlocked session holds nothing once the link is revoked
    assert client.get(to["page"]).status_code == 404
    assert client.get(to["video"]).status_code == 404


def test_unlocking_opens_that_link_only_and_only_in_that_browser(personas, workspace, client):
    take = make_take(workspace, video=VIDEO)
    _, first = guarded(personas, take)
    _, second = guarded(personas, take)
    client.post(urls(first, take)["unlock"], {"password": SECRET})
    assert "This link has a password" not in client.get(urls(first, take)["page"]).content.decode()
    assert "This link has a password" in client.get(urls(second, take)["page"]).content.decode()
    assert client.get(urls(second, take)["video"]).status_code == 403
    stranger = Client()
    assert "This link has a password" in stranger.get(urls(first, take)["page"]).content.decode()
    assert stranger.get(urls(first, take)["video"]).status_code == 403


def test_a_wrong_password_says_so_and_opens_nothing(personas, workspace, client):
    take = make_take(workspace, "a fox at dawn", video=VIDEO)
    link, token = guarded(personas, take, show_prompt=True)
    to = urls(token, take)
    for wrong in ("harbour-light", "", "x" * 5000):
        answer = client.post(to["unlock"], {"password": wrong})
        assert answer.status_code == 400
        assert "That password isn" in answer.content.decode()
    assert "a fox at dawn" not in client.get(to["page"]).content.decode()
    assert client.get(to["video"]).status_code == 403
    link.refresh_from_db()
    assert link.password_failures == 3 and link.views == 0


def test_too_many_wrong_passwords_lock_the_link_for_everyone_until_the_window_ends(
    personas, workspace, client, settings
):
    settings.SLATE_SHARE_PASSWORD_ATTEMPTS = 3
    settings.SLATE_SHARE_PASSWORD_LOCKOUT_MINUTES = 15
    take = make_take(workspace, video=VIDEO)
    link, token = guarded(personas, take)
    to = urls(token, take)
    assert [client.post(to["unlock"], {"password": "wrong-one"}).status_code for _ in "ab"] == [
        400,
        400,
    ]
    locked = client.post(to["unlock"], {"password": "wrong-one"})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    assert locked["Retry-After"] == str(15 * 60)
    # Locked per link, not per address: another browser with the right password waits too,
    # and is told so before it tries.
    other = Client()
    told = other.get(to["page"])
    assert told.status_code == 429 and "Try again in 15 minutes" in told.content.decode()
    assert other.post(to["unlock"], {"password": SECRET}).status_code == 429
    assert other.get(to["video"]).status_code == 403
    # Once the window has passed, the right password opens it and the count starts afresh.
    ShareLink.objects.filter(pk=link.pk).update(
        password_locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert other.post(to["unlock"], {"password": SECRET}).status_code == 302
    assert status(other, to["video"]) == 200
    link.refresh_from_db()
    assert link.password_failures == 0


def test_a_right_password_clears_earlier_wrong_tries(personas, workspace, client):
    take = make_take(workspace, video=VIDEO)
    link, token = guarded(personas, take)
    client.post(urls(token, take)["unlock"], {"password": "not-it-at-all"})
    client.post(urls(token, take)["unlock"], {"password": SECRET})
    link.refresh_from_db()
    assert link.password_failures == 0 and link.password_locked_until is None


def test_unknown_tokens_look_the_same_at_the_password_form(client):
    answer = client.post(reverse("library_public:unlock", args=["x" * 43]), {"password": SECRET})
    assert answer.status_code == 404 and "isn't available" in answer.content.decode()


def test_a_link_without_a_password_needs_none(personas, workspace, client):
    take = make_take(workspace, "open fox", video=VIDEO)
    _, token = shares.create(member(personas), take=take)
    assert "open fox" in client.get(urls(token, take)["page"]).content.decode()
    assert status(client, urls(token, take)["video"]) == 200


def test_a_review_link_with_a_password_takes_no_pick_until_unlocked(personas, workspace, client):
    box = Folder.objects.create(workspace=workspace, name="Box")
    take = make_take(workspace, video=VIDEO)
    folders.file_takes([take], box)
    _, token = shares.create(member(personas), folder=box, review=True, password=SECRET)
    review = reverse("library_public:review", args=[token])
    refused = client.post(review, {"name": "Ada", "pick": take.pk})
    assert refused.status_code == 302 and not ClientPick.objects.exists()
    client.post(reverse("library_public:unlock", args=[token]), {"password": SECRET})
    assert client.post(review, {"name": "Ada", "pick": take.pk}).status_code == 302
    assert ClientPick.objects.get().take == take


def test_the_shell_makes_a_password_link_from_an_environment_variable(
    workspace, client, monkeypatch
):
    take = make_take(workspace, video=VIDEO)
    monkeypatch.setenv("SHARE_SECRET", SECRET)
    made = json.loads(
        run("share", "create", "--take", str(take.pk), "--password-env", "SHARE_SECRET", "--json")
    )
    assert made["password"] is True
    path = re.sub(r"^https?://[^/]+", "", made["url"])
    assert "This link has a password" in client.get(path).content.decode()
    assert SECRET not in ShareLink.objects.get().password_hash


@pytest.mark.parametrize(
    "args, message",
    [
        (["--password-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE is not set"),
        (["--password", "short"], "8 to 128 characters"),
    ],
)
def test_the_shell_refuses_a_missing_or_bad_password_and_makes_nothing(
    workspace, capsys, args, message
):
    take = make_take(workspace, video=VIDEO)
    with pytest.raises(SystemExit) as exited:
        call_command("share", "create", "--take", str(take.pk), *args)
    assert exited.value.code == 2 and message in capsys.readouterr().err
    assert not ShareLink.objects.exists()
