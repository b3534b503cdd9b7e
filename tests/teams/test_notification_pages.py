"""The bell and its page: counts, lists, opens and marks read only the person's own
notifications, from workspaces they are still in; the account page holds the mail switch."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio import live, takes
from studio.asgi import application
from studio.models import Membership, Role, Status, Workspace
from studio.prompts import Shot
from teams import notifications
from teams.models import Notification, NotificationKind, NotificationPreference

PAGE = reverse("teams:notifications")


def note(user, workspace, text="“harbour at dawn” failed after 2 s: boom", link="/takes/1/"):
    return notifications.notify(user.pk, workspace.pk, NotificationKind.TAKE_FAILED, text, link)


def bell_label(client, url) -> str:
    page = client.get(url).content.decode()
    bell = page.split('id="bell"')[1].split(">")[0]
    return bell.split('aria-label="')[1].split('"')[0]


def test_the_bell_says_how_many_are_unread(client_for, personas, workspace):
    client = client_for(personas["editor"])
    assert (
        bell_label(client, reverse("workspace", args=["harbour"])) == "Notifications, none unread"
    )
    note(personas["editor"], workspace)
    note(personas["editor"], workspace)
    note(personas["viewer"], workspace)  # someone else's
    assert bell_label(client, reverse("workspace", args=["harbour"])) == "Notifications, 2 unread"
    assert bell_label(client, reverse("teams:account")) == "Notifications, 2 unread"


def test_the_page_lists_them_newest_first_in_pages(client_for, personas, workspace, monkeypatch):
    monkeypatch.setattr(notifications, "PAGE_SIZE", 2)
    for text in ("first", "second", "third"):
        note(personas["editor"], workspace, text)
    client = client_for(personas["editor"])
    first = client.get(PAGE)
    assert [n.text for n in first.context["page"]] == ["third", "second"]
    assert "Page 1 of 2" in first.content.decode()
    assert [n.text for n in client.get(PAGE + "?page=2").context["page"]] == ["first"]


def test_opening_one_marks_it_read_and_goes_where_it_points(client_for, personas, workspace):
    opened, other = note(personas["editor"], workspace), note(personas["editor"], workspace)
    client = client_for(personas["editor"])
    response = client.get(reverse("teams:notification", args=[opened.pk]))
    assert response.status_code == 302 and response.url == "/takes/1/"
    opened.refresh_from_db()
    other.refresh_from_db()
    assert opened.read_at is not None and other.read_at is None
    assert bell_label(client, PAGE) == "Notifications, 1 unread"


def test_a_link_off_site_is_never_followed(client_for, personas, workspace):
    sneaky = note(personas["editor"], workspace, link="https://evil.example/")
    response = client_for(personas["editor"]).get(reverse("teams:notification", args=[sneaky.pk]))
    assert response.url == PAGE


def test_mark_all_read_marks_only_mine(client_for, personas, workspace):
    mine = [note(personas["editor"], workspace) for _ in range(3)]
    theirs = note(personas["viewer"], workspace)
    client = client_for(personas["editor"])
    assert client.get(reverse("teams:notifications_read")).status_code == 405
    response = client.post(reverse("teams:notifications_read"), follow=True)
    assert "Marked 3 notifications read." in response.content.decode()
    assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert bell_label(client, PAGE) == "Notifications, none unread"


def test_nobody_sees_or_opens_anothers_notifications(client_for, personas, workspace):
    secret = note(personas["editor"], workspace, "editor's secret take failed")
    client = client_for(personas["outsider"])
    assert "editor's secret" not in client.get(PAGE).content.decode()
    assert client.get(reverse("teams:notification", args=[secret.pk])).status_code == 404
    client.post(reverse("teams:notifications_read"))
    secret.refresh_from_db()
    assert secret.read_at is None


def test_a_removed_member_no_longer_sees_that_workspaces_notifications(
    client_for, personas, workspace
):
    editor = personas["editor"]
    other = Workspace.objects.create(name="Second Unit", slug="second")
    Membership.objects.create(user=editor, workspace=other, role=Role.EDITOR)
    gone = note(editor, workspace, "from harbour")
    note(editor, other, "from second unit")
    Membership.objects.filter(user=editor, workspace=workspace).delete()
    client = client_for(editor)
    page = client.get(PAGE).content.decode()
    assert "from second unit" in page and "from harbour" not in page
    assert bell_label(client, PAGE) == "Notifications, 1 unread"
    assert client.get(reverse("teams:notification", args=[gone.pk])).status_code == 404


def test_anonymous_visitors_log_in_first(client):
    for response in (client.get(PAGE), client.post(reverse("teams:notifications_read"))):
        assert response.status_code == 302 and "/login/" in response.url


def test_the_page_costs_the_same_queries_for_any_number(client_for, personas, workspace):
    client = client_for(personas["editor"])

    def queries_for(count):
        while Notification.objects.filter(recipient=personas["editor"]).count() < count:
            note(personas["editor"], workspace)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE).status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(20)


# The account page's switch.


def test_a_person_turns_on_mail_for_long_renders(client_for, personas):
    personas["editor"].email = "editor@example.com"
    personas["editor"].save()
    client = client_for(personas["editor"])
    page = client.get(reverse("teams:account")).content.decode()
    assert "Email me when a long render finishes" in page
    response = client.post(
        reverse("teams:notification_prefs"), {"email_long_takes": "on"}, follow=True
    )
    assert "Notification settings saved." in response.content.decode()
    assert NotificationPreference.objects.get(user=personas["editor"]).email_long_takes
    assert re.search(r"<input[^>]*name=\"email_long_takes\"[^>]*checked", response.content.decode())
    client.post(reverse("teams:notification_prefs"), {})
    assert not NotificationPreference.objects.get(user=personas["editor"]).email_long_takes


def test_turning_on_mail_without_an_address_says_so(client_for, personas):
    client = client_for(personas["editor"])
    response = client.post(
        reverse("teams:notification_prefs"), {"email_long_takes": "on"}, follow=True
    )
    assert "your account has no email address yet" in response.content.decode()


def test_browser_notifications_are_on_until_turned_off_and_cost_no_query(
    client_for, personas, workspace
):
    client = client_for(personas["editor"])
    with CaptureQueriesContext(connection) as on:
        page = client.get(PAGE).content.decode()
    assert 'data-browser="on"' in page.split('id="bell"')[1].split(">")[0]
    response = client.post(
        reverse("teams:notification_prefs"), {"review_comments": "on"}, follow=True
    )
    assert "Notification settings saved." in response.content.decode()
    prefs = NotificationPreference.objects.get(user=personas["editor"])
    assert (prefs.browser, prefs.review_comments, prefs.email_long_takes) == (False, True, False)
    with CaptureQueriesContext(connection) as off:
        page = client.get(PAGE).content.decode()
    assert "data-browser" not in page.split('id="bell"')[1].split(">")[0]
    assert len(off) == len(on)  # the preference comes with the count, in one query


def test_a_push_carries_its_news_only_for_those_who_want_browser_notifications(personas, workspace):
    news = note(personas["editor"], workspace, text="“a heron” is ready after 2 min")
    html = notifications.bell_html(personas["editor"].pk, news)
    assert f'data-news="{news.pk}"' in html and 'data-news-text="“a heron” is ready' in html
    assert 'data-news-href="/takes/1/"' in html and 'data-news-title="Take failed"' in html
    notifications.set_preferences(personas["editor"], browser=False)
    assert "data-news" not in notifications.bell_html(personas["editor"].pk, news)


# Live: the bell's count reaches the person's open pages.


def test_a_new_notification_pushes_the_bell_to_its_recipient_only(
    personas, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, message: sent.append((group, message)))
    note(personas["editor"], workspace)
    with django_capture_on_commit_callbacks(execute=True):
        note(personas["editor"], workspace)  # no page of theirs is open
    assert sent == []
    monkeypatch.setattr(live, "subscribed", lambda group: True)
    with django_capture_on_commit_callbacks(execute=True):
        note(personas["editor"], workspace)
    [(group, message)] = sent
    assert group == live.user_group_name(personas["editor"].pk)
    assert message["type"] == "user.notice"
    assert 'id="bell"' in message["html"] and "Notifications, 3 unread" in message["html"]


@pytest.mark.django_db(transaction=True)
async def test_the_makers_open_page_gets_the_bell_when_their_take_fails(
    personas, workspace, settings
):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "studio.layers.ThreadSafeInMemoryChannelLayer"}
    }
    take = await sync_to_async(takes.queue_take)(
        workspace,
        Shot(subject="harbour at dawn"),
        provider="animatic",
        size="1280x720",
        seconds=4,
        created_by=personas["editor"],
    )
    ws = WebsocketCommunicator(application, "/ws/w/harbour/", [(b"origin", b"http://localhost")])
    ws.scope["user"] = personas["editor"]
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=2)  # the page's snapshot
    await sync_to_async(takes.end)(take.pk, Status.FAILED, "boom", "test")
    messages = [await ws.receive_from(timeout=2) for _ in range(2)]  # the card and the bell
    bell = next(m for m in messages if 'id="bell"' in m)
    assert "Notifications, 1 unread" in bell
    await ws.disconnect()
    assert not mail.outbox
