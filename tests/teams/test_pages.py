"""The team pages as a screen reader meets them (the checks of tests/studio/test_pages_a11y)."""

from django.urls import reverse

from studio.models import Membership, Role
from teams import invites
from tests.studio.test_pages_a11y import check


def test_the_members_page_for_owners_and_viewers(client_for, personas, workspace):
    owner = Membership.objects.get(user=personas["owner"])
    invites.create_invite(workspace, by=owner, role=Role.EDITOR, email="x@example.com")
    url = reverse("teams:members", args=["harbour"])
    page = check(client_for(personas["owner"]).get(url).content.decode())
    assert "Role of viewer" in page.labels and "Email address" in page.labels
    check(client_for(personas["viewer"]).get(url).content.decode())


def test_the_members_page_with_errors_marks_the_fields(client_for, personas):
    client = client_for(personas["owner"])
    bad = client.post(reverse("teams:create_link", args=["harbour"]), {"role": "x", "uses": 0})
    page = check(bad.content.decode())
    assert {"role", "uses"} <= set(page.invalid)
    bad = client.post(reverse("teams:settings", args=["harbour"]), {"name": "", "slug": "a b"})
    assert {"name", "slug"} <= set(check(bad.content.decode()).invalid)


def test_the_invite_page_for_visitors_and_members(client, client_for, personas, workspace):
    owner = Membership.objects.get(user=personas["owner"])
    invite = invites.create_invite(workspace, by=owner, role=Role.VIEWER)
    url = reverse("teams:invite", args=[invite.token])
    page = check(client.get(url).content.decode())
    assert "Username" in page.labels and "Log in to join" in page.links
    check(client_for(personas["outsider"]).get(url).content.decode())
    check(client_for(personas["editor"]).get(url).content.decode())
