"""Notifications: a take that ends, a budget alert, an invite used or a role changed tells the
right person, once, in the right workspace; long renders mail those who asked."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from studio import budgets, signals, takes
from studio.models import Membership, Role, Status, Take
from studio.prompts import Shot
from studio.providers import endpoints
from teams import invites, members, notifications
from teams.models import Notification, NotificationKind
from tests.conftest import make_user


def make_take(workspace, user, *, ran: float) -> Take:
    """A queued take by ``user`` that was queued ``ran`` seconds ago."""
    take = takes.queue_take(
        workspace,
        Shot(subject="lighthouse keeper"),
        provider="animatic",
        size="1280x720",
        seconds=4,
        created_by=user,
    )
    Take.objects.filter(pk=take.pk).update(created_at=timezone.now() - timedelta(seconds=ran))
    return take


def finish(take: Take, status: str = Status.COMPLETED, message: str = "") -> None:
    if status == Status.COMPLETED:
        assert takes.transition(take.pk, status, frm=(Status.QUEUED,))
    else:
        assert takes.end(take.pk, status, message, "test")


@pytest.fixture
def long_takes(settings):
    settings.SLATE_NOTIFY_AFTER_SECONDS = 30


def test_a_long_take_that_finishes_tells_the_person_who_made_it(personas, workspace, long_takes):
    take = make_take(workspace, personas["editor"], ran=125)
    finish(take)
    note = Notification.objects.get()
    assert note.recipient == personas["editor"] and note.workspace == workspace
    assert note.kind == NotificationKind.TAKE_FINISHED and note.read_at is None
    assert note.text == "“lighthouse keeper” is ready after 2 min 5 s"
    assert note.link == f"/takes/{take.pk}/"


def test_a_quick_take_that_finishes_rings_no_bell(personas, workspace, long_takes):
    finish(make_take(workspace, personas["editor"], ran=5))
    assert not Notification.objects.exists()


@pytest.mark.parametrize("status", [Status.FAILED, Status.REFUSED, Status.EXPIRED])
def test_a_take_that_fails_always_tells_its_maker_with_the_reason(
    personas, workspace, long_takes, status
):
    finish(make_take(workspace, personas["editor"], ran=1), status, "the provider said no")
    note = Notification.objects.get()
    assert note.recipient == personas["editor"] and note.kind == NotificationKind.TAKE_FAILED
    assert note.text.endswith(": the provider said no")


def test_a_cancelled_take_and_a_take_nobody_made_ring_no_bell(personas, workspace, long_takes):
    takes.cancel(make_take(workspace, personas["editor"], ran=600).pk)
    finish(make_take(workspace, None, ran=1), Status.FAILED, "boom")
    assert not Notification.objects.exists()


def test_a_real_quick_local_render_does_not_notify(rendered_take):
    assert rendered_take.finished_at is not None
    assert not Notification.objects.exists()


def test_someone_removed_from_the_workspace_hears_nothing_of_their_take(
    personas, workspace, long_takes
):
    take = make_take(workspace, personas["editor"], ran=1)
    Membership.objects.filter(user=personas["editor"], workspace=workspace).delete()
    finish(take, Status.FAILED, "boom")
    assert not Notification.objects.exists()


def test_a_failing_receiver_never_undoes_the_end_of_a_take(personas, workspace, long_takes):
    def broken(**kwargs):
        raise RuntimeError("receiver bug")

    signals.take_ended.connect(broken, dispatch_uid="broken")
    try:
        take = make_take(workspace, personas["editor"], ran=1)
        finish(take, Status.FAILED, "boom")
    finally:
        signals.take_ended.disconnect(dispatch_uid="broken")
    assert Take.objects.get(pk=take.pk).status == Status.FAILED


def test_the_take_receiver_is_connected_once(personas, workspace, long_takes):
    finish(make_take(workspace, personas["editor"], ran=1), Status.FAILED, "boom")
    assert Notification.objects.count() == 1


# Mail for long renders.


def wants_mail(user, email="editor@example.com"):
    user.email = email
    user.save()
    notifications.set_email_long_takes(user, True)


def test_a_long_render_mails_its_maker_when_they_asked(
    personas, workspace, long_takes, django_capture_on_commit_callbacks
):
    wants_mail(personas["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        finish(make_take(workspace, personas["editor"], ran=600))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["editor@example.com"]
    assert "“lighthouse keeper” is ready after 10 min" in message.subject
    assert "/takes/" in message.body


def test_no_mail_without_the_preference_or_for_a_quick_failure(
    personas, workspace, long_takes, django_capture_on_commit_callbacks
):
    personas["owner"].email = "owner@example.com"
    personas["owner"].save()
    wants_mail(personas["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        finish(make_take(workspace, personas["owner"], ran=600))  # didn't ask
        finish(make_take(workspace, personas["editor"], ran=2), Status.FAILED, "boom")  # quick
    assert mail.outbox == []
    assert Notification.objects.count() == 2  # both still ring the bell


# Budget alerts, invites, roles.


def test_a_budget_alert_tells_the_owners_only(personas, workspace):
    endpoints.add_endpoint(
        workspace,
        name="openai",
        kind="openai",
        base_url="https://api.example.com/v1",
        api_key="sk-test-key",
        models=["sora-2"],
    )
    budgets.set_budget(workspace, monthly_cap=Decimal("2.00"))
    for _ in range(3):  # $0.40 each: 20 %, 40 %, then 60 % passes the 50 % alert
        takes.queue_take(
            workspace,
            Shot(subject="a lighthouse"),
            provider="openai",
            model="sora-2",
            size="1280x720",
            seconds=4,
            created_by=personas["editor"],
        )
    [note] = Notification.objects.all()
    assert note.recipient == personas["owner"] and note.kind == NotificationKind.BUDGET_ALERT
    assert "Harbour Films has used 50% of its $2.00 monthly cap" in note.text
    assert note.link == "/w/harbour/budget/"


def test_a_members_budget_alert_tells_that_member_and_the_owners(personas, workspace):
    endpoints.add_endpoint(
        workspace,
        name="openai",
        kind="openai",
        base_url="https://api.example.com/v1",
        api_key="sk-test-key",
        models=["sora-2"],
    )
    budgets.set_member_cap(workspace, personas["editor"], Decimal("0.80"))
    for _ in range(2):  # $0.40 each: 50 %, then 100 % (80 % and 100 % at once: one note)
        takes.queue_take(
            workspace,
            Shot(subject="a lighthouse"),
            provider="openai",
            model="sora-2",
            size="1280x720",
            seconds=4,
            created_by=personas["editor"],
        )
    notes = Notification.objects.order_by("created_at", "id")
    said = [(n.recipient.username, n.text) for n in notes]
    month = budgets.month_of(None).label
    assert said == [
        (
            "editor",
            f"You have used 50% of your $0.80 monthly cap in Harbour Films for {month} "
            "($0.40 spent or held).",
        ),
        (
            "owner",
            f"editor has used 50% of their $0.80 monthly cap in Harbour Films for {month} "
            "($0.40 spent or held).",
        ),
        (
            "editor",
            f"You have used 100% of your $0.80 monthly cap in Harbour Films for {month} "
            "($0.80 spent or held).",
        ),
        (
            "owner",
            f"editor has used 100% of their $0.80 monthly cap in Harbour Films for {month} "
            "($0.80 spent or held).",
        ),
    ]
    assert {n.kind for n in notes} == {NotificationKind.BUDGET_ALERT}


def test_the_inviter_hears_when_their_invite_is_used(personas, workspace):
    owner = Membership.objects.get(user=personas["owner"], workspace=workspace)
    invite = invites.create_invite(workspace, by=owner, role=Role.VIEWER)
    newcomer = make_user("newcomer")
    invites.accept(invite.token, newcomer)
    note = Notification.objects.get()
    assert note.recipient == personas["owner"] and note.kind == NotificationKind.INVITE_ACCEPTED
    assert note.text == "newcomer joined Harbour Films as viewer through your invite."


def test_a_member_hears_when_an_owner_changes_their_role(personas, workspace):
    owner = Membership.objects.get(user=personas["owner"], workspace=workspace)
    viewer = Membership.objects.get(user=personas["viewer"], workspace=workspace)
    members.change_role(workspace, viewer.pk, Role.EDITOR, by=owner)
    note = Notification.objects.get()
    assert note.recipient == personas["viewer"] and note.kind == NotificationKind.ROLE_CHANGED
    assert note.text == "owner made you editor in Harbour Films."


def test_changing_your_own_role_rings_no_bell(personas, workspace):
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    members.change_role(workspace, editor.pk, Role.OWNER)  # by the shell: a second owner
    assert (
        Notification.objects.get().text == "The install's operator made you owner in Harbour Films."
    )
    Notification.objects.all().delete()
    owner = Membership.objects.get(user=personas["owner"], workspace=workspace)
    members.change_role(workspace, owner.pk, Role.EDITOR, by=owner)
    assert not Notification.objects.exists()


def test_ownership_transfer_tells_the_new_owner(personas, workspace):
    owner = Membership.objects.get(user=personas["owner"], workspace=workspace)
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    members.transfer_ownership(owner, editor.pk)
    assert Notification.objects.get().text == "owner made you owner in Harbour Films."


# Retention.


def note_for(user, workspace, *, age_days: int, read: bool) -> Notification:
    note = Notification.objects.create(
        recipient=user, workspace=workspace, kind=NotificationKind.ROLE_CHANGED, text="x"
    )
    created = timezone.now() - timedelta(days=age_days)
    Notification.objects.filter(pk=note.pk).update(
        created_at=created, read_at=created if read else None
    )
    return note


def test_prune_keeps_recent_and_unread_notes_and_drops_old_read_ones(personas, workspace):
    user = personas["editor"]
    kept = [
        note_for(user, workspace, age_days=10, read=True).pk,
        note_for(user, workspace, age_days=200, read=False).pk,
    ]
    note_for(user, workspace, age_days=100, read=True)
    note_for(user, workspace, age_days=400, read=False)
    assert notifications.prune() == 2
    assert sorted(Notification.objects.values_list("pk", flat=True)) == sorted(kept)


def test_a_new_notification_prunes_its_recipients_old_read_ones(personas, workspace):
    old = note_for(personas["editor"], workspace, age_days=100, read=True)
    others = note_for(personas["viewer"], workspace, age_days=100, read=True)
    notifications.notify(personas["editor"].pk, workspace.pk, NotificationKind.ROLE_CHANGED, "y")
    assert not Notification.objects.filter(pk=old.pk).exists()
    assert Notification.objects.filter(pk=others.pk).exists()


def test_the_prune_command_reports_what_it_deleted(personas, workspace, capsys):
    note_for(personas["editor"], workspace, age_days=100, read=True)
    call_command("notifications", "prune")
    assert "Deleted 1 notification" in capsys.readouterr().out
    assert not Notification.objects.exists()
