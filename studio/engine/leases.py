"""Leases: which worker is working on a take, until when.

A step takes the lease with a compare-and-set UPDATE and renews it as it goes;
a worker whose lease was taken over (or whose take was cancelled) finds out at
its next write and stops. The sweep (sweep.py) hands expired leases on.
"""

import secrets
import socket
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from studio.models import ACTIVE_STATUSES, Take


class TakeLost(Exception):
    """The take is no longer this worker's: cancelled, or its lease was taken over."""


def lease_deadline():
    # The database's clock, not this host's: workers on several hosts compare
    # leases, and their clocks may disagree by more than a lease.
    return Now() + timedelta(seconds=settings.SLATE_LEASE_SECONDS)


_taken = threading.local()  # the leases this thread's current step took


def new_lease_owner() -> str:
    owner = f"{socket.gethostname()[:40]}:{secrets.token_hex(6)}"
    _taken.owners = [*getattr(_taken, "owners", []), owner]
    return owner


def forget_taken() -> None:
    """A step begins: no lease of this thread's is in play yet."""
    _taken.owners = []


def give_back_taken(take_id: int) -> None:
    """Hand back the leases this thread's step took on the take (its step is retried)."""
    owners = getattr(_taken, "owners", [])
    if owners:
        Take.objects.filter(pk=take_id, lease_owner__in=owners).update(
            lease_owner="", lease_expires_at=None
        )


def lease_is_free() -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now())


def renew(take_id: int, owner: str, *, seconds: float | None = None, **fields) -> None:
    """Renew the lease (and save ``fields``); raises TakeLost if the take is not ours."""
    deadline = lease_deadline() if seconds is None else Now() + timedelta(seconds=seconds)
    kept = Take.objects.filter(pk=take_id, lease_owner=owner, status__in=ACTIVE_STATUSES).update(
        lease_expires_at=deadline, updated_at=timezone.now(), **fields
    )
    if not kept:
        raise TakeLost(take_id)


def claim(take: Take, status: str, **fields) -> str | None:
    """Take the lease of a take in ``status`` (no other worker holds it); the owner or None."""
    owner = new_lease_owner()
    won = (
        Take.objects.filter(pk=take.pk, status=status)
        .filter(lease_is_free())
        .filter(**fields)
        .update(lease_owner=owner, lease_expires_at=lease_deadline())
    )
    if not won:
        return None
    take.refresh_from_db()
    return owner


def lost_because(take_id: int) -> str:
    """Why a worker lost a take, as its log should say it (never "cancelled" when it wasn't)."""
    status = Take.objects.filter(pk=take_id).values_list("status", flat=True).first()
    if status is None:
        return "it was deleted"
    if status not in ACTIVE_STATUSES:
        return f"it ended meanwhile ({status})"
    if status == "cancelling":
        return "it is being cancelled"
    return "another worker took it over after this one's lease ran out"


class LeaseKeeper:
    """Renews a step's lease as time passes (call ``touch`` often; it writes a third of a
    lease apart), so a long download or encode is never mistaken for a dead worker."""

    def __init__(self, take_id: int, owner: str):
        self.take_id, self.owner = take_id, owner
        self.last = time.monotonic()

    def touch(self) -> None:
        if time.monotonic() - self.last >= settings.SLATE_LEASE_SECONDS / 3:
            renew(self.take_id, self.owner)
            self.last = time.monotonic()
