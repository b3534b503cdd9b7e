"""Healing: pick up what dead workers and lost tasks left behind.

Runs on a schedule in every worker process (worker.py); any number of sweeps
may run at once, since each change is a compare-and-set on the expired lease.
"""

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.tasks import TaskResultStatus, default_task_backend, task_backends
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from studio import live
from studio.models import ACTIVE_STATUSES, Status, Take
from studio.takes import enqueue, enqueue_on_commit, transition

# Housekeeping the apps above studio hand the sweeper (library's trash purge), registered from
# their AppConfig.ready(): the sweeper runs each at most once per SLATE_HOUSEKEEPING_SECONDS.
HOUSEKEEPING: dict[str, Callable[[], object]] = {}
_last_housekeeping: dict[str, float] = {}


def register_housekeeping(name: str, job: Callable[[], object]) -> None:
    HOUSEKEEPING[name] = job


def housekeeping(now: float | None = None) -> dict[str, object]:
    """Run the registered jobs that are due; what each returned, by name."""
    now = time.monotonic() if now is None else now
    done = {}
    for name, job in list(HOUSEKEEPING.items()):
        last = _last_housekeeping.get(name)
        if last is not None and now - last < settings.SLATE_HOUSEKEEPING_SECONDS:
            continue
        _last_housekeeping[name] = now
        done[name] = job()
    return done


def clean_scratch(older_than: float | None = None) -> int:
    """Delete scratch folders dead workers left behind.

    A folder is ``take-<id>-<random>``: it is a leftover once no worker holds a live lease
    on that take and nothing has touched the folder for ``older_than`` seconds (a lease
    by default, since a working step renews its lease far more often than that)."""
    scratch = Path(settings.SCRATCH_DIR)
    if not scratch.exists():
        return 0
    idle = settings.SLATE_LEASE_SECONDS if older_than is None else older_than
    cutoff = time.time() - idle
    folders = {}
    for folder in scratch.glob("take-*"):
        take_id = folder.name.split("-")[1]
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < cutoff:
                folders[folder] = int(take_id) if take_id.isdigit() else None
    held = set(
        Take.objects.filter(
            pk__in={i for i in folders.values() if i is not None}, lease_expires_at__gte=Now()
        ).values_list("pk", flat=True)
    )
    removed = 0
    for folder, take_id in folders.items():
        if take_id not in held:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def finish_orphaned_tasks() -> int:
    """Task rows left RUNNING by a worker that died: marked failed, so the queue's own
    record says what happened (the take itself is healed through its lease)."""
    if not isinstance(task_backends["default"], DatabaseBackend):
        return 0
    started_before = timezone.now() - timedelta(seconds=max(settings.SLATE_LEASE_SECONDS, 60))
    held = Take.objects.filter(lease_expires_at__gte=Now()).values_list("pk", flat=True)
    finished = 0
    for task in DBTaskResult.objects.running().filter(started_at__lt=started_before):
        take_ids = task.args_kwargs.get("args") or [None]
        if take_ids[0] in set(held):
            continue  # its worker is alive and still renewing the take's lease
        finished += DBTaskResult.objects.filter(pk=task.pk, status="RUNNING").update(
            status="FAILED",
            finished_at=timezone.now(),
            exception_class_path="studio.engine.sweep.WorkerLost",
            traceback="The worker running this task stopped before it finished; "
            "the take was picked up again by the sweep.",
        )
    return finished


@dataclass
class SweepReport:
    requeued: int = 0
    failed: int = 0
    reenqueued: int = 0
    scratch_removed: int = 0
    tasks_finished: int = 0


def sweep() -> SweepReport:
    """Pick up work that dead workers or lost tasks left behind.

    - A lease that ran out belongs to a dead worker. A local render goes back
      to the queue; a remote take is woken up again (a create whose answer was
      never saved is reconciled, never repeated blindly). After
      SLATE_MAX_ATTEMPTS such losses the take fails with a reason.
    - An active take whose wake-up is overdue and whose task is not waiting in
      the queue (lost, or died with its worker) is enqueued again.
    - Scratch folders and RUNNING task rows that dead workers left are cleaned up.
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
    report.scratch_removed = clean_scratch()
    report.tasks_finished = finish_orphaned_tasks()
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
