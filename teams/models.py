"""Invites into a workspace, and the record of who changed a team."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from studio.models import Role, Workspace

# Roles an invite may grant: owners are made by transferring ownership, never by a link.
INVITE_ROLES = (Role.EDITOR, Role.VIEWER)
MAX_INVITE_USES = 1000
MAX_INVITE_DAYS = 90


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Invite(models.Model):
    """A link that lets whoever holds it join ``workspace`` as ``role``, until it expires,
    runs out of uses or is revoked. An invite sent by email is a single-use link mailed
    to ``email``."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    email = models.EmailField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The last line of defence for use counting: the database never holds more.
            models.CheckConstraint(condition=Q(uses__lte=F("max_uses")), name="invite_uses_cap"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in INVITE_ROLES]), name="invite_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} invite to {self.workspace}"

    @property
    def uses_left(self) -> int:
        return max(self.max_uses - self.uses, 0)


class Refused(Exception):
    """A team change the rules don't allow; the message says why, to the person who tried."""


class AuditAction(models.TextChoices):
    INVITE_CREATED = "invite_created", "Invite made"
    INVITE_REVOKED = "invite_revoked", "Invite withdrawn"
    INVITE_ACCEPTED = "invite_accepted", "Joined by invite"
    ROLE_CHANGED = "role_changed", "Role changed"
    MEMBER_REMOVED = "member_removed", "Member removed"
    MEMBER_LEFT = "member_left", "Left"
    OWNERSHIP_TRANSFERRED = "ownership_transferred", "Ownership transferred"
    SETTINGS_CHANGED = "settings_changed", "Settings changed"
    BUDGET_CHANGED = "budget_changed", "Budget changed"


class AuditEntry(models.Model):
    """One change to a team: who did it (None: the shell), to whom, from which address.

    Names are copied, not only linked, so the log still reads after an account is deleted."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit")
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    target = models.CharField(max_length=254, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} in {self.workspace_id} by {self.actor_name or 'shell'}"


class NotificationKind(models.TextChoices):
    TAKE_FINISHED = "take_finished", "Take finished"
    TAKE_FAILED = "take_failed", "Take failed"  # failed, refused or expired
    BUDGET_ALERT = "budget_alert", "Budget alert"
    INVITE_ACCEPTED = "invite_accepted", "Invite accepted"
    ROLE_CHANGED = "role_changed", "Role changed"
    BOARD_FINISHED = "board_finished", "Board finished"
    BOARD_FAILED = "board_failed", "Board with failures"  # some card failed or was refused
    REVIEW_COMMENT = "review_comment", "Review comment"


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        """``user``'s notifications from the workspaces they are still a member of: leaving
        a workspace hides its news at once, however the membership ended."""
        return self.filter(recipient=user, workspace__memberships__user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something one person should hear about, in one workspace (notifications.py)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["recipient", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.text}"


class NotificationPreference(models.Model):
    """How one person wants to hear about things beyond the bell."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    email_long_takes = models.BooleanField("Email me when a long render finishes", default=False)
    review_comments = models.BooleanField("Tell me about review comments", default=True)
    browser = models.BooleanField("Browser notifications", default=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"
