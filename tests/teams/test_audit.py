"""The audit log: every team change, with who, when and from which address; owners read it."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from studio.models import Membership
from teams.models import AuditAction, AuditEntry, Invite
from tests.conftest import make_user
from tests.studio.test_pages_a11y import check

ADDRESS = "203.0.113.9"


def post(client, name, *args, data=None):
    return client.post(reverse(name, args=args), data or {}, REMOTE_ADDR=ADDRESS)


def last() -> AuditEntry:
    return AuditEntry.objects.latest("id")


def test_each_team_change_is_recorded_with_who_and_where(client, client_for, personas, workspace):
    owner = client_for(personas["owner"])
    post(owner, "teams:create_link", "harbour", data={"role": "viewer", "days": 7, "uses": 2})
    entry = last()
    assert (entry.action, entry.actor, entry.target) == (
        AuditAction.INVITE_CREATED,
        personas["owner"],
        "link",
    )
    assert entry.address == ADDRESS and "viewer, 2 uses" in entry.detail
    token = Invite.objects.get().token

    joiner = client_for(make_user("nadia"))
    post(joiner, "teams:accept_invite", token)
    assert (last().action, last().actor_name, last().detail) == (
        AuditAction.INVITE_ACCEPTED,
        "nadia",
        "as viewer",
    )

    owner = client_for(personas["owner"])
    nadia = Membership.objects.get(user__username="nadia")
    post(owner, "teams:change_role", "harbour", nadia.pk, data={"role": "editor"})
    assert (last().action, last().target, last().detail) == (
        AuditAction.ROLE_CHANGED,
        "nadia",
        "viewer → editor",
    )
    post(owner, "teams:remove_member", "harbour", nadia.pk)
    assert (last().action, last().target) == (AuditAction.MEMBER_REMOVED, "nadia")
    post(owner, "teams:revoke_invite", "harbour", Invite.objects.get().pk)
    assert last().action == AuditAction.INVITE_REVOKED
    viewer = Membership.objects.get(user=personas["viewer"])
    post(owner, "teams:transfer", "harbour", viewer.pk)
    assert (last().action, last().target) == (AuditAction.OWNERSHIP_TRANSFERRED, "viewer")
    assert all(e.address == ADDRESS for e in AuditEntry.objects.all())
    assert AuditEntry.objects.count() == 6


def test_refused_changes_record_nothing(client_for, personas, workspace):
    owner = client_for(personas["owner"])
    me = Membership.objects.get(user=personas["owner"])
    post(owner, "teams:change_role", "harbour", me.pk, data={"role": "viewer"})  # last owner
    post(owner, "teams:leave", "harbour")
    post(owner, "teams:create_link", "harbour", data={"role": "owner", "days": 7, "uses": 1})
    post(client_for(personas["editor"]), "teams:create_link", "harbour", data={"role": "viewer"})
    assert not AuditEntry.objects.exists()


def test_the_shell_is_recorded_as_the_shell(personas, capsys):
    call_command("workspace", "role", "harbour", "viewer", "editor")
    entry = last()
    assert entry.actor is None and entry.actor_name == "" and entry.address is None


def test_owners_read_and_download_the_log(client_for, personas):
    owner = client_for(personas["owner"])
    post(owner, "teams:create_link", "harbour", data={"role": "viewer", "days": 7, "uses": 1})
    post(owner, "teams:settings", "harbour", data={"name": "=cmd|", "slug": "harbour"})
    page = owner.get(reverse("teams:audit", args=["harbour"]))
    assert (
        page.status_code == 200
        and b"Invite made" in page.content
        and ADDRESS.encode() in page.content
    )
    check(page.content.decode())
    response = owner.get(reverse("teams:audit_csv", args=["harbour"]))
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time", "action", "by"] and len(rows) == 3
    assert rows[1][1] == "settings_changed" and rows[1][4].startswith("name: Harbour Films")
    assert rows[2][5] == ADDRESS


@pytest.mark.parametrize("persona, status", [("editor", 403), ("viewer", 403), ("outsider", 404)])
def test_only_owners_read_the_log(client_for, personas, persona, status):
    client = client_for(personas[persona])
    assert client.get(reverse("teams:audit", args=["harbour"])).status_code == status
    assert client.get(reverse("teams:audit_csv", args=["harbour"])).status_code == status
