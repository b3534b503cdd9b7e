"""Healing: pick up what dead workers and lost tasks left behind.

Runs on a schedule in every worker process (worker.py); any number of sweeps
may run at once, since each change is a compare-and-set on the expired lease.
"""

import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.tasks import TaskResultStatus, default_task_backend
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from studio import live
from studio.models import ACTIVE_STATUSES, Status, Take
from studio.takes import enqueue, enqueue_on_commit, transition


def clean_scratch(older_than: float = 3600) -> int:
    """Delete scratch folders a killed worker left behind (live ones are younger)."""
    scratch = Path(settings.SCRATCH_DIR)
    cutoff = time.time() - older_than
    removed = 0
    for folder in scratch.glob("take-*") if scratch.exists() else ():
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


@dataclass
class SweepReport:
    requeued: int = 0
    failed: int = 0
    reenqueued: int = 0


def sweep() -> SweepReport:
    """Pick up work that dead workers or lost tasks left behind.

    - A lease that ran out belongs to a dead worker. A local render goes back
      to the queue; a remote take is woken up again (a create whose answer was
      never saved is reconciled, never repeated blindly). After
      SLATE_MAX_ATTEMPTS such losses the take fails with a reason.
    - An active take whose wake-up is overdue and whose task is not waiting in
      the queue (lost, or died with its worker) is enqueued again.
    """
    report = SweepReport()
    expired = Take.objects.filter(status__in=ACTIVE_STATUSES, lease_expires_at__lt=Now())
    for take in expired.only(
        "pk", "status", "attempts", "lease_losses", "lease_owner", "endpoint_id"
    ):
        outcome = _recover(take)
        report.requeued += outcome == "requeued"
        report.failed += outcome == "failed"

    grace = timezone.now() - timedelta(seconds=settings.SLATE_LEASE_SECONDS)
    overdue = Take.objects.filter(status__in=ACTIVE_STATUSES, lease_expires_at__isnull=True).filter(
        Q(next_check_at__lt=grace) | Q(next_check_at__isnull=True, updated_at__lt=grace)
    )
    for take_id, task_id in overdue.values_list("pk", "task_id"):
        if not _task_waiting(task_id):
            report.reenqueued += 1
            enqueue(take_id)
    return report


def _recover(take: Take) -> str | None:
    """A dead worker's take: back in play ("requeued") or failed after too many losses."""
    # Only while it is still that dead worker's expired lease: another sweep may be first.
    expired = Take.objects.filter(
        pk=take.pk, status=take.status, lease_owner=take.lease_owner, lease_expires_at__lt=Now()
    )
    local = take.endpoint_id is None
    losses = take.attempts if local else take.lease_losses + 1  # local counts its claims
    if losses >= settings.SLATE_MAX_ATTEMPTS:
        doing = "rendering" if local else "working on it"
        with transaction.atomic():
            failed = bool(expired.exists()) and transition(
                take.pk,
                Status.FAILED,
                frm=(take.status,),
                owner=take.lease_owner,
                error_code="worker_lost",
                error_message=f"The worker stopped unexpectedly {losses} times while {doing} "
                "(it was stopped or crashed). Try generating it again.",
                lease_losses=losses,
            )
        return "failed" if failed else None
    now = timezone.now()
    with transaction.atomic():
        if local:
            won = expired.update(
                status=Status.QUEUED,
                progress=0,
                lease_owner="",
                lease_expires_at=None,
                updated_at=now,
            )
        else:
            # A submit that died may have created the job: reconcile before any new create.
            won = expired.update(
                lease_owner="",
                lease_expires_at=None,
                next_check_at=now,
                updated_at=now,
                lease_losses=F("lease_losses") + 1,
                submit_uncertain=take.status == Status.SUBMITTING,
            )
        if won:
            enqueue_on_commit(take.pk)
            live.take_changed(take.pk)
    return "requeued" if won else None


def _task_waiting(task_id: str) -> bool:
    """Whether the take's latest task is still waiting in the queue (maybe until later)."""
    if not task_id:
        return False
    try:
        return default_task_backend.get_result(task_id).status == TaskResultStatus.READY
    except TaskResultDoesNotExist:
        return False
