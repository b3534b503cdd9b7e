"""Invites: an owner makes a link or mails one; the invitee signs up or logs in and joins."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from studio.models import Membership, Role
from teams import invites
from teams.models import Invite, Refused
from tests.conftest import make_user

PASSWORD = "storyboard-42!"


def owner_of(workspace, personas) -> Membership:
    return Membership.objects.get(workspace=workspace, user=personas["owner"])


def link(client, **data):
    return client.post(
        reverse("teams:create_link", args=["harbour"]),
        {"role": "editor", "days": 7, "uses": 1, **data},
    )


def test_an_owner_makes_a_link_and_sees_it_on_the_members_page(client_for, personas):
    client = client_for(personas["owner"])
    response = link(client, role="viewer", uses=3)
    assert response.status_code == 302
    invite = Invite.objects.get()
    assert invite.role == Role.VIEWER and invite.max_uses == 3 and invite.uses == 0
    assert timedelta(days=6) < invite.expires_at - timezone.now() <= timedelta(days=7)
    page = client.get(reverse("teams:members", args=["harbour"])).content.decode()
    assert f"http://testserver/invite/{invite.token}/" in page and "3 uses left" in page


@pytest.mark.parametrize("persona", ["editor", "viewer"])
def test_only_owners_make_invites(client_for, personas, persona):
    client = client_for(personas[persona])
    assert link(client).status_code == 403
    response = client.post(
        reverse("teams:email_invite", args=["harbour"]),
        {"mail-email": "x@example.com", "mail-role": "editor", "mail-days": 7},
    )
    assert response.status_code == 403
    assert not Invite.objects.exists() and not mail.outbox


def test_outsiders_get_404_and_anonymous_visitors_log_in(client, client_for, personas):
    assert link(client).status_code == 302 and not Invite.objects.exists()
    assert link(client_for(personas["outsider"])).status_code == 404
    assert not Invite.objects.exists()


@pytest.mark.parametrize(
    "data", [{"role": "owner"}, {"uses": 0}, {"uses": 1001}, {"days": 0}, {"days": 91}]
)
def test_bad_invite_input_is_refused_and_stores_nothing(client_for, personas, data):
    response = link(client_for(personas["owner"]), **data)
    assert response.status_code == 400 and b'role="alert"' in response.content
    assert not Invite.objects.exists()


def test_a_new_person_signs_up_through_a_link_and_joins_with_its_role(client, personas, workspace):
    invite = invites.create_invite(workspace, by=owner_of(workspace, personas), role=Role.VIEWER)
    page = client.get(reverse("teams:invite", args=[invite.token]))
    assert page.status_code == 200 and b"Join Harbour Films" in page.content
    response = client.post(
        reverse("teams:invite_signup", args=[invite.token]),
        {"username": "nadia", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/w/harbour/"
    joined = Membership.objects.get(user__username="nadia")
    assert joined.workspace == workspace and joined.role == Role.VIEWER
    assert Membership.objects.filter(user__username="nadia").count() == 1  # no studio of her own
    assert client.get("/w/harbour/").status_code == 200  # and she is logged in
    invite.refresh_from_db()
    assert invite.uses == 1


def test_signing_up_through_an_invite_works_when_open_signup_is_off(
    client, personas, workspace, settings
):
    settings.SLATE_OPEN_SIGNUP = False
    invite = invites.create_invite(workspace, by=owner_of(workspace, personas), role=Role.EDITOR)
    response = client.post(
        reverse("teams:invite_signup", args=[invite.token]),
        {"username": "nadia", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user__username="nadia").role == Role.EDITOR


def test_an_existing_account_logs_in_then_joins(client, personas, workspace):
    invite = invites.create_invite(workspace, by=owner_of(workspace, personas), role=Role.EDITOR)
    page = client.get(reverse("teams:invite", args=[invite.token])).content.decode()
    assert f"/login/?next=/invite/{invite.token}/" in page
    make_user("kai")
    client.post(reverse("login"), {"username": "kai", "password": "pw-kai"})
    response = client.post(reverse("teams:accept_invite", args=[invite.token]))
    assert response["Location"] == "/w/harbour/"
    assert Membership.objects.get(user__username="kai", workspace=workspace).role == Role.EDITOR


def test_a_member_is_told_they_already_belong_and_spends_no_use(client_for, personas, workspace):
    invite = invites.create_invite(workspace, by=owner_of(workspace, personas), role=Role.VIEWER)
    client = client_for(personas["editor"])
    page = client.get(reverse("teams:invite", args=[invite.token]))
    assert b"already a member of Harbour Films" in page.content
    response = client.post(reverse("teams:accept_invite", args=[invite.token]))
    assert response.status_code == 409 and b"already a member of Harbour Films" in response.content
    assert Membership.objects.get(user=personas["editor"]).role == Role.EDITOR
    invite.refresh_from_db()
    assert invite.uses == 0


def test_an_expired_invite_says_so_and_stores_nothing(client, client_for, personas, workspace):
    invite = invites.create_invite(workspace, by=owner_of(workspace, personas), role=Role.EDITOR)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(reverse("teams:invite", args=[invite.token]))
    assert page.status_code == 410 and b"This invite has expired" in page.content
    response = client.post(
        reverse("teams:invite_signup", args=[invite.token]),
        {"username": "late", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 409 and b"This invite has expired" in response.content
    assert not Membership.objects.filter(user__username="late").exists()
    assert not get_user_model().objects.filter(username="late").exists()
    response = client_for(personas["outsider"]).post(
        reverse("teams:accept_invite", args=[invite.token])
    )
    assert response.status_code == 409 and b"expired" in response.content
    assert not Membership.objects.filter(user=personas["outsider"], workspace=workspace).exists()


def test_a_used_up_invite_says_so(client_for, personas, workspace):
    invite = invites.create_invite(
        workspace, by=owner_of(workspace, personas), role=Role.EDITOR, uses=2
    )
    for name in ("a", "b"):
        invites.accept(invite.token, make_user(name))
    response = client_for(personas["outsider"]).post(
        reverse("teams:accept_invite", args=[invite.token])
    )
    assert response.status_code == 409 and b"used up" in response.content
    assert workspace.memberships.count() == 5  # the three personas, a and b


def test_a_withdrawn_or_unknown_invite_is_refused(client, client_for, personas, workspace):
    owner = client_for(personas["owner"])
    invite = invites.create_invite(workspace, by=owner_of(workspace, personas), role=Role.EDITOR)
    owner.post(reverse("teams:revoke_invite", args=["harbour", invite.pk]))
    client.logout()
    assert client.get(reverse("teams:invite", args=[invite.token])).status_code == 410
    assert client.get(reverse("teams:invite", args=["nope"])).status_code == 404
    with pytest.raises(Refused, match="withdrawn"):
        invites.accept(invite.token, make_user("x"))


def test_an_invite_by_email_is_mailed_once_stored(
    client_for, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(personas["owner"]).post(
            reverse("teams:email_invite", args=["harbour"]),
            {"mail-email": "nadia@example.com", "mail-role": "viewer", "mail-days": 3},
        )
        assert not mail.outbox  # not before the invite is committed
    assert callbacks
    assert response.status_code == 302
    invite = Invite.objects.get()
    assert invite.email == "nadia@example.com" and invite.max_uses == 1
    assert invite.role == Role.VIEWER
    [message] = mail.outbox
    assert message.to == ["nadia@example.com"] and "Harbour Films" in message.subject
    assert f"http://testserver/invite/{invite.token}/" in message.body
    assert "owner invites you" in message.body


def test_a_bad_email_invite_sends_nothing(client_for, personas):
    response = client_for(personas["owner"]).post(
        reverse("teams:email_invite", args=["harbour"]),
        {"mail-email": "not-an-address", "mail-role": "viewer", "mail-days": 3},
    )
    assert response.status_code == 400 and b'id="id_mail-email_error"' in response.content
    assert not Invite.objects.exists() and not mail.outbox


@pytest.mark.parametrize("text, days", [("7d", 7), ("12h", 0.5), ("2w", 14), (" 3D ", 3)])
def test_expiry_is_written_as_people_write_it(text, days):
    assert invites.parse_expiry(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "7", "d", "7m", "-1d", "1.5d"])
def test_an_expiry_that_isnt_one_is_refused(text):
    with pytest.raises(Refused, match="not a duration"):
        invites.parse_expiry(text)


def test_a_use_taken_by_someone_else_after_the_check_is_not_taken_twice(
    personas, workspace, monkeypatch
):
    """The race, interleaved by hand: another request spends the last use between this
    one's check and its update. The conditional UPDATE finds nothing left, so nothing is
    stored. (Threads can't race on the suite's in-memory SQLite: it locks, never waits.)"""
    invite = invites.create_invite(
        workspace, by=owner_of(workspace, personas), role=Role.EDITOR, uses=1
    )
    checked = invites.already_member

    def meanwhile(found, user):
        Invite.objects.filter(pk=found.pk).update(uses=1)  # the other request's use
        return checked(found, user)

    monkeypatch.setattr(invites, "already_member", meanwhile)
    with pytest.raises(Refused, match="used up"):
        invites.accept(invite.token, personas["outsider"])
    assert not Membership.objects.filter(user=personas["outsider"], workspace=workspace).exists()


def test_the_database_never_holds_more_uses_than_allowed(personas, workspace):
    invite = invites.create_invite(
        workspace, by=owner_of(workspace, personas), role=Role.EDITOR, uses=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Invite.objects.filter(pk=invite.pk).update(uses=2)


def test_inviting_the_email_of_a_member_says_they_are_already_in(client_for, personas):
    personas["viewer"].email = "vee@example.com"
    personas["viewer"].save()
    response = client_for(personas["owner"]).post(
        reverse("teams:email_invite", args=["harbour"]),
        {"mail-email": "VEE@example.com", "mail-role": "editor", "mail-days": 3},
    )
    assert response.status_code == 400
    assert b"VEE@example.com is already a member of Harbour Films (as viewer)" in response.content
    assert not Invite.objects.exists() and not mail.outbox
