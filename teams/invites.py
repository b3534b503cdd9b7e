"""Invites: an owner makes a link (or mails one), someone uses it and joins with its role."""

import re
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from studio.models import Membership, Role, Workspace

from . import audit, notifications
from .models import (
    INVITE_ROLES,
    MAX_INVITE_DAYS,
    MAX_INVITE_USES,
    AuditAction,
    Invite,
    Refused,
)

DEFAULT_EXPIRY = timedelta(days=7)
_DURATION = re.compile(r"\s*(\d{1,4})\s*([hdw])\s*", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str) -> timedelta:
    """ "7d", "12h", "2w" as people type them; Refused when it isn't one or is out of range."""
    match = _DURATION.fullmatch(str(text))
    if not match:
        raise Refused(f"“{text}” is not a duration: write it as 12h, 7d or 2w")
    return timedelta(**{_UNITS[match[2].lower()]: int(match[1])})


def require_owner(membership: Membership, what: str = "invite people") -> None:
    if membership.role != Role.OWNER:
        raise PermissionDenied(f"Only the workspace's owners can {what}.")


def create_invite(
    workspace: Workspace,
    *,
    role: str,
    expires_in: timedelta = DEFAULT_EXPIRY,
    uses: int = 1,
    email: str = "",
    by: Membership | None = None,
    address: str | None = None,
) -> Invite:
    """A new invite to ``workspace``, made by the owner ``by`` (None: the install's shell)
    from the client ``address``."""
    if by is not None:
        require_owner(by)
    if role not in INVITE_ROLES:
        raise Refused("An invite makes an editor or a viewer; owners are made by a transfer.")
    if not 1 <= uses <= MAX_INVITE_USES:
        raise Refused(f"An invite can be used from 1 to {MAX_INVITE_USES} times.")
    if not timedelta(hours=1) <= expires_in <= timedelta(days=MAX_INVITE_DAYS):
        raise Refused(f"An invite lasts from an hour to {MAX_INVITE_DAYS} days.")
    if email and (
        member := workspace.memberships.filter(user__email__iexact=email)
        .select_related("user")
        .first()
    ):
        name = member.user.get_username()
        raise Refused(f"{email} is already a member of {workspace.name} (as {name}).")
    with transaction.atomic():
        invite = Invite.objects.create(
            workspace=workspace,
            role=role,
            email=email,
            created_by=by.user if by else None,
            expires_at=timezone.now() + expires_in,
            max_uses=uses,
        )
        audit.record(
            workspace,
            AuditAction.INVITE_CREATED,
            by=by.user if by else None,
            target=email or "link",
            detail=f"{invite.get_role_display().lower()}, {uses} use{'s' if uses != 1 else ''}, "
            f"expires {invite.expires_at:%Y-%m-%d %H:%M} UTC",
            address=address,
        )
    return invite


def invite_url(invite: Invite, base: str = "") -> str:
    """The link to hand out: on ``base`` (the request's address), else SLATE_PUBLIC_URL."""
    return (base or settings.SLATE_PUBLIC_URL).rstrip("/") + reverse(
        "teams:invite", args=[invite.token]
    )


def email_invite(
    workspace: Workspace,
    *,
    email: str,
    role: str,
    expires_in: timedelta = DEFAULT_EXPIRY,
    base: str = "",
    by: Membership | None = None,
    address: str | None = None,
) -> Invite:
    """A single-use invite, mailed to ``email`` once it is stored."""
    with transaction.atomic():
        invite = create_invite(
            workspace, role=role, expires_in=expires_in, email=email, by=by, address=address
        )
        # robust: a mail server that fails is logged, and the invite stands (its link is on
        # the members page to hand over another way).
        transaction.on_commit(partial(_mail, invite, invite_url(invite, base)), robust=True)
    return invite


def _mail(invite: Invite, url: str) -> None:
    context = {"invite": invite, "url": url, "inviter": invite.created_by}
    send_mail(
        subject=f"Join {invite.workspace.name} on Slate",
        message=render_to_string("teams/email/invite.txt", context),
        from_email=None,
        recipient_list=[invite.email],
    )


def problem(invite: Invite | None) -> str:
    """Why the invite can't be used now, or "" when it can."""
    if invite is None:
        return "This invite link isn't valid. Ask the person who sent it for a new one."
    if invite.revoked_at is not None:
        return "This invite was withdrawn. Ask an owner of the workspace for a new one."
    if invite.expires_at <= timezone.now():
        return "This invite has expired. Ask an owner of the workspace for a new one."
    if invite.uses >= invite.max_uses:
        return "This invite has been used up. Ask an owner of the workspace for a new one."
    return ""


def find(token: str) -> Invite | None:
    return Invite.objects.select_related("workspace", "created_by").filter(token=token).first()


def already_member(invite: Invite, user) -> bool:
    return Membership.objects.filter(workspace=invite.workspace, user=user).exists()


def accept(token: str, user, address: str | None = None) -> Membership:
    """Join the invite's workspace with its role, spending one use.

    Race-safe: the use is taken by one conditional UPDATE (uses < max_uses, not expired,
    not revoked), so N people racing for the last use of an invite get exactly one
    membership between them; the rest are told it is used up. Nothing is stored on refusal.
    """
    with transaction.atomic():
        invite = find(token)
        if why := problem(invite):
            raise Refused(why)
        if already_member(invite, user):
            raise Refused(f"You're already a member of {invite.workspace.name}.")
        taken = Invite.objects.filter(
            pk=invite.pk,
            uses__lt=F("max_uses"),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).update(uses=F("uses") + 1)
        if not taken:
            raise Refused(problem(find(token)) or "This invite has just been used up.")
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=user, workspace=invite.workspace, role=invite.role
                )
        except IntegrityError:  # the same person joined from another tab a moment ago
            raise Refused(f"You're already a member of {invite.workspace.name}.") from None
        audit.record(
            invite.workspace,
            AuditAction.INVITE_ACCEPTED,
            by=user,
            target=user.get_username(),
            detail=f"as {invite.get_role_display().lower()}"
            + (f", invited as {invite.email}" if invite.email else ""),
            address=address,
        )
        notifications.invite_accepted(invite, user)
        return membership


def sign_up_and_accept(token: str, form, address: str | None = None) -> tuple[object, Membership]:
    """A new account made through an invite (``form``: a valid sign-up form), joined to the
    invite's workspace. One transaction: a refused invite leaves no account behind."""
    with transaction.atomic():
        if why := problem(find(token)):
            raise Refused(why)
        user = form.save()
        return user, accept(token, user, address)


@transaction.atomic
def revoke(membership: Membership, invite_id: int, address: str | None = None) -> Invite | None:
    require_owner(membership, "withdraw invites")
    invite = membership.workspace.invites.filter(pk=invite_id, revoked_at__isnull=True).first()
    if invite is not None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
        audit.record(
            membership.workspace,
            AuditAction.INVITE_REVOKED,
            by=membership.user,
            target=invite.email or "link",
            detail=invite.get_role_display().lower(),
            address=address,
        )
    return invite


def pending(workspace) -> list[Invite]:
    """Invites that can still be used, newest first."""
    return list(
        workspace.invites.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now(), uses__lt=F("max_uses")
        ).select_related("created_by")
    )
