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
