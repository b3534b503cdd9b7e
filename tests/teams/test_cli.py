"""`manage.py workspace invite|members|role`: one JSON object, or one line on stderr and exit 2."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from studio.models import Membership, Role
from teams.models import Invite


def run(capsys, *args):
    try:
        call_command("workspace", *args)
        code = 0
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_invite_prints_the_link_as_json(capsys, personas, settings):
    settings.SLATE_PUBLIC_URL = "https://studio.example.com"
    code, out, err = run(
        capsys, "invite", "harbour", "--role", "viewer", "--expires", "2w", "--uses", "5", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    invite = Invite.objects.get()
    assert result["url"] == f"https://studio.example.com/invite/{invite.token}/"
    assert (invite.role, invite.max_uses, invite.created_by) == (Role.VIEWER, 5, None)
    assert timedelta(days=13) < invite.expires_at - timezone.now() <= timedelta(days=14)


def test_invite_by_email_mails_the_link(capsys, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        code, out, err = run(
            capsys, "invite", "harbour", "--role", "editor", "--email", "a@example.com", "--json"
        )
    assert code == 0, err
    [message] = mail.outbox
    assert json.loads(out)["url"] in message.body and message.to == ["a@example.com"]


@pytest.mark.parametrize(
    "args, says",
    [
        (["invite", "nope", "--role", "editor"], "no workspace"),
        (["invite", "harbour", "--role", "owner"], "invalid choice"),
        (["invite", "harbour", "--role", "editor", "--expires", "soon"], "not a duration"),
        (["invite", "harbour", "--role", "editor", "--expires", "100d"], "90 days"),
        (["invite", "harbour", "--role", "editor", "--uses", "0"], "1 to 1000"),
        (["invite", "harbour", "--role", "editor", "--uses", "x"], "invalid int"),
        (["invite", "harbour", "--role", "editor", "--email", "a@b.c", "--uses", "2"], "one"),
        (["role", "harbour", "nobody", "viewer"], "not a member"),
        (["role", "harbour", "outsider", "viewer"], "not a member"),
        (["role", "harbour", "editor", "king"], "invalid choice"),
        (["role", "harbour", "owner", "editor"], "needs an owner"),
        (["members", "nope"], "no workspace"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_changes_nothing(capsys, personas, args, says):
    code, out, err = run(capsys, *args, "--json")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and says in err, err
    assert not Invite.objects.exists()
    assert Membership.objects.get(user=personas["owner"], workspace__slug="harbour").role == "owner"
    assert Membership.objects.get(user=personas["editor"]).role == "editor"


def test_members_lists_everyone_with_role(capsys, personas):
    code, out, err = run(capsys, "members", "harbour", "--json")
    result = json.loads(out)
    assert code == 0 and result["workspace"] == "harbour"
    assert [(m["username"], m["role"]) for m in result["members"]] == [
        ("owner", "owner"),
        ("editor", "editor"),
        ("viewer", "viewer"),
    ]
    assert set(result["members"][0]) == {"username", "email", "role", "joined", "last_active"}


def test_role_sets_a_members_role(capsys, personas):
    code, out, err = run(capsys, "role", "harbour", "viewer", "editor", "--json")
    assert code == 0 and json.loads(out) == {
        "workspace": "harbour",
        "username": "viewer",
        "role": "editor",
    }
    assert Membership.objects.get(user=personas["viewer"]).role == Role.EDITOR
    code, out, _ = run(capsys, "role", "harbour", "viewer", "viewer")
    assert out.strip() == "viewer is now viewer in Harbour Films."
