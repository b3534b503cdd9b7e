"""Notifications: the bell in the top bar, its page, and mail for long renders.

A notification is written in the transaction of the change it tells about (a take that
ended, a budget alert, an invite used, a role changed), so it exists exactly when the
change does. What leaves the process — the bell's count pushed to the person's open
pages, an email — goes out after commit, and a failure there costs only the convenience.

The studio can't see teams: it announces takes that end and budget alerts with signals
(studio/signals.py), received here; TeamsConfig.ready connects them.

Kept bounded without a schedule: each new notification prunes its recipient's read ones
older than SLATE_NOTIFICATIONS_KEEP_DAYS and any older than a year; ``manage.py
notifications prune`` does the same for everyone.
"""

from datetime import timedelta
from functools import cached_property, partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from studio import live, money
from studio.models import Membership, Role, Status, Take, Workspace

from .models import Notification, NotificationKind, NotificationPreference

PAGE_SIZE = 25
KEEP_UNREAD_DAYS = 365
TEXT_LIMIT = Notification._meta.get_field("text").max_length

# What a take's end says, by status; a cancelled take was someone's own decision: no news.
TAKE_ENDINGS = {
    Status.COMPLETED: (NotificationKind.TAKE_FINISHED, "is ready"),
    Status.FAILED: (NotificationKind.TAKE_FAILED, "failed"),
    Status.REFUSED: (NotificationKind.TAKE_FAILED, "was refused by the provider"),
    Status.EXPIRED: (NotificationKind.TAKE_FAILED, "expired"),
}


class Bell:
    """What the bell shows one person, counted only when a template asks; ``news``: the
    notification a push brings (browser notifications show it when the tab is hidden)."""

    def __init__(self, user, news: "Notification | None" = None):
        self.user = user
        self.news = news

    @cached_property
    def _state(self) -> dict:
        # One query for the count and the browser preference: every page draws the bell.
        user_id = getattr(self.user, "pk", self.user)
        unread = (
            Notification.objects.for_user(user_id)
            .unread()
            .order_by()
            .values("recipient")
            .annotate(n=Count("pk"))
            .values("n")
        )
        browser = NotificationPreference.objects.filter(user=OuterRef("pk")).values("browser")
        return get_user_model().objects.filter(pk=user_id).values(
            unread=Coalesce(Subquery(unread), 0),
            browser=Coalesce(Subquery(browser), True),
        ).first() or {"unread": 0, "browser": False}

    @property
    def unread(self) -> int:
        return self._state["unread"]

    @property
    def browser(self) -> bool:
        """Whether the person wants browser notifications when the tab is hidden."""
        return self._state["browser"]


def bell_html(user, news: "Notification | None" = None) -> str:
    return render_to_string("teams/bell.html", {"bell": Bell(user, news)})


def push_bell(user_id: int, news: "Notification | None" = None) -> None:
    """After commit, redraw the bell on every page the person has open (those with a live
    connection); the others count afresh on their next load. ``news``: what just arrived."""
    transaction.on_commit(partial(_push_bell, user_id, news), robust=True)


def _push_bell(user_id: int, news=None) -> None:
    group = live.user_group_name(user_id)
    if live.subscribed(group):  # nobody watching, nothing counted or rendered
        live.send(group, {"type": "user.notice", "html": bell_html(user_id, news)})


def notify(recipient_id: int, workspace_id: int, kind: str, text: str, link: str = ""):
    """Tell one person something about one workspace; their bell rings after commit."""
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1].rstrip() + "…"
    note = Notification.objects.create(
        recipient_id=recipient_id, workspace_id=workspace_id, kind=kind, text=text, link=link
    )
    prune(recipient_id=recipient_id)
    push_bell(recipient_id, note)
    return note


def shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def take_ended(sender, take_id: int, status: str, **kwargs) -> None:
    """A take ended: tell the person who made it if it failed, or if it ran long enough to
    have been waited for (SLATE_NOTIFY_AFTER_SECONDS); mail them too if it ran long and
    they asked for it. Someone no longer in the workspace hears nothing."""
    if status not in TAKE_ENDINGS:
        return
    take = (
        Take.objects.filter(pk=take_id)
        .select_related("workspace", "created_by")
        .only(
            "workspace__name",
            "created_by__email",
            "created_by_id",
            "subject",
            "prompt",
            "composed_prompt",
            "error_message",
            "created_at",
            "finished_at",
        )
        .first()
    )
    if take is None or take.created_by_id is None:
        return
    ran = ((take.finished_at or timezone.now()) - take.created_at).total_seconds()
    long = ran >= settings.SLATE_NOTIFY_AFTER_SECONDS
    if status == Status.COMPLETED and not long:
        return
    if not Membership.objects.filter(
        workspace_id=take.workspace_id, user_id=take.created_by_id
    ).exists():
        return
    kind, verb = TAKE_ENDINGS[status]
    text = f"“{take.title}” {verb} after {duration_text(ran)}"
    if status != Status.COMPLETED and take.error_message:
        text += f": {take.error_message}"
    link = reverse("take", args=[take.pk])
    notify(take.created_by_id, take.workspace_id, kind, text, link)
    if long and wants_email(take.created_by):
        mail_on_commit(take.created_by.email, take.workspace.name, text, link)


def wants_email(user) -> bool:
    return bool(user.email) and email_long_takes(user)


def emailed(user_ids, workspace_id: int) -> list:
    """Those of ``user_ids`` in the workspace who asked for mail about long renders."""
    return list(
        get_user_model()
        .objects.filter(
            pk__in=user_ids,
            memberships__workspace_id=workspace_id,
            notification_preference__email_long_takes=True,
        )
        .exclude(email="")
        .only("email")
    )


def is_member(user_id: int, workspace_id: int) -> bool:
    return Membership.objects.filter(workspace_id=workspace_id, user_id=user_id).exists()


def mail_on_commit(email: str, workspace_name: str, text: str, link: str) -> None:
    """The mail about a long render, sent after commit (a failing mail server is logged)."""
    transaction.on_commit(partial(_mail_take, email, workspace_name, text, link), robust=True)


def _mail_take(email: str, workspace_name: str, text: str, link: str) -> None:
    where = settings.SLATE_PUBLIC_URL.rstrip("/") + link if settings.SLATE_PUBLIC_URL else link
    send_mail(
        f"[Slate] {text[:120]}",
        f"{text}\n\nIn {workspace_name}: {where}\n\n"
        "You get this because you asked to be emailed when a long render finishes; "
        "turn it off on your account page.",
        None,
        [email],
    )


def budget_alert(
    sender,
    workspace_id: int,
    threshold: int,
    spent,
    cap,
    month_label: str,
    member_id: int | None = None,
    **kwargs,
) -> None:
    """Owners hear when a threshold of the workspace's monthly cap is passed; a member's own
    cap tells that member and the owners (the alert's email: studio/budgets.py)."""
    workspace = Workspace.objects.only("name", "slug", "currency", "rate").get(pk=workspace_id)
    link = reverse("teams:budget", args=[workspace.slug])
    owners = list(
        Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).values_list(
            "user_id", flat=True
        )
    )
    of_cap = f"{threshold}% of {{whose}} {money.format(cap, workspace)} monthly cap"
    so_far = f"for {month_label} ({money.format(spent, workspace)} spent or held)."
    kind = NotificationKind.BUDGET_ALERT
    if member_id is None:
        text = f"{workspace.name} has used {of_cap.format(whose='its')} {so_far}"
        for user_id in owners:
            notify(user_id, workspace_id, kind, text, link)
        return
    member = Membership.objects.filter(workspace_id=workspace_id, user_id=member_id)
    name = member.values_list("user__username", flat=True).first()
    if name is None:
        return
    mine = f"You have used {of_cap.format(whose='your')} in {workspace.name} {so_far}"
    notify(member_id, workspace_id, kind, mine, link)
    theirs = f"{name} has used {of_cap.format(whose='their')} in {workspace.name} {so_far}"
    for user_id in owners:
        if user_id != member_id:
            notify(user_id, workspace_id, kind, theirs, link)


def invite_accepted(invite, user) -> None:
    """The person who made the invite hears who used it (if they are still in the team)."""
    inviter = invite.created_by_id
    if inviter is None or inviter == user.pk:
        return
    if not Membership.objects.filter(workspace=invite.workspace, user_id=inviter).exists():
        return
    text = (
        f"{user.get_username()} joined {invite.workspace.name} as "
        f"{invite.get_role_display().lower()} through your invite."
    )
    link = reverse("teams:members", args=[invite.workspace.slug])
    notify(inviter, invite.workspace_id, NotificationKind.INVITE_ACCEPTED, text, link)


def role_changed(membership: Membership, by=None) -> None:
    """A member hears that someone else changed their role."""
    if by is not None and by.pk == membership.user_id:
        return
    who = by.get_username() if by is not None else "The install's operator"
    text = f"{who} made you {membership.get_role_display().lower()} in {membership.workspace.name}."
    link = reverse("workspace", args=[membership.workspace.slug])
    notify(membership.user_id, membership.workspace_id, NotificationKind.ROLE_CHANGED, text, link)


# The bell's page.


def page(user, number) -> object:
    """One page of the person's notifications, newest first."""
    found = Notification.objects.for_user(user).select_related("workspace")
    return Paginator(found, PAGE_SIZE).get_page(number)


def find(user, notification_id: int) -> Notification | None:
    return Notification.objects.for_user(user).filter(pk=notification_id).first()


@transaction.atomic
def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        push_bell(notification.recipient_id)


@transaction.atomic
def mark_all_read(user) -> int:
    marked = Notification.objects.filter(
        pk__in=Notification.objects.for_user(user).unread().values("pk")
    ).update(read_at=timezone.now())
    if marked:
        push_bell(user.pk)
    return marked


@transaction.atomic
def set_email_long_takes(user, on: bool) -> None:
    set_preferences(user, email_long_takes=on)


def email_long_takes(user) -> bool:
    return NotificationPreference.objects.filter(user=user, email_long_takes=True).exists()


PREFERENCES = ("email_long_takes", "review_comments", "browser")


def preferences(user) -> NotificationPreference:
    """The person's preferences (the defaults, unsaved, if they never chose)."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


@transaction.atomic
def set_preferences(user, **choices: bool) -> None:
    unknown = set(choices) - set(PREFERENCES)
    if unknown:
        raise ValueError(f"No such notification preference: {', '.join(sorted(unknown))}")
    NotificationPreference.objects.update_or_create(user=user, defaults=choices)


def wanting(user_ids, preference: str) -> list[int]:
    """Those of ``user_ids`` who haven't turned ``preference`` off (default: on)."""
    off = set(
        NotificationPreference.objects.filter(
            user_id__in=user_ids, **{preference: False}
        ).values_list("user_id", flat=True)
    )
    return [user_id for user_id in user_ids if user_id not in off]


def prune(recipient_id: int | None = None, now=None) -> int:
    """Delete read notifications older than SLATE_NOTIFICATIONS_KEEP_DAYS and any older
    than a year (everyone's, or one person's); returns how many went."""
    now = now or timezone.now()
    read_before = now - timedelta(days=settings.SLATE_NOTIFICATIONS_KEEP_DAYS)
    old = Notification.objects.filter(
        Q(read_at__isnull=False, created_at__lt=read_before)
        | Q(created_at__lt=now - timedelta(days=KEEP_UNREAD_DAYS))
    )
    if recipient_id is not None:
        old = old.filter(recipient_id=recipient_id)
    deleted, _ = old.delete()
    return deleted
