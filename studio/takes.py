"""A take's lifecycle: queue, transitions, cancel, and the sweep that heals crashes.

The take row is the source of truth, not the task queue. Every transition is a
compare-and-set UPDATE on the status (and, while a worker holds the take, on
its lease owner), committed before its side effects: pushes and tasks run on
commit, and a worker that lost its take (cancelled, or its lease taken over)
stops. Ending a take settles the ledger in the same transaction.

Tasks only wake a take up; what to do next is read from the row
(rendering.py for the local renderer, remote.py for providers).
"""

import logging
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from . import ledger, live
from .catalogue import ModelInfo, animatic, model_info
from .crashpoints import crashpoint
from .endpoints import CANCELLABLE_KINDS, credential, find_target
from .models import ACTIVE_STATUSES, TERMINAL_STATUSES, Status, Take, Workspace
from .prompts import Shot, compose
from .providers import Job

log = logging.getLogger(__name__)

# Set by the worker when its process is asked to stop (SIGTERM, Ctrl-C).
shutting_down = threading.Event()


class TakeLost(Exception):
    """The take is no longer this worker's: cancelled, or its lease was taken over."""


class UnknownTarget(ValueError):
    pass


def new_seed() -> int:
    return secrets.randbelow(2**31)


def queue_take(
    workspace: Workspace,
    shot: Shot,
    *,
    provider: str,
    model: str = "",
    size: str,
    seconds: int,
    seed: int | None = None,
    created_by=None,
    reference: bytes | None = None,
    reference_source=None,
    reference_fit: dict | None = None,
    negative_prompt: str = "",
    sound: bool = True,
) -> Take:
    """Save a queued take with its cost held, and schedule it (validated input only).

    ``reference`` is a first frame (JPEG) already fitted to ``size`` (images.py).
    """
    target = find_target(workspace, provider, model)
    if target is None:
        raise UnknownTarget(f"{workspace.slug} has no provider “{provider}” with model “{model}”")
    with transaction.atomic():
        take = Take.objects.create(
            workspace=workspace,
            created_by=created_by,
            **shot.as_dict(),
            composed_prompt=compose(shot),
            provider=target.provider,
            endpoint=target.endpoint,
            model=target.info.model,
            size=size,
            seconds=seconds,
            seed=new_seed() if seed is None else seed,
            negative_prompt=negative_prompt if target.info.negative_prompt else "",
            sound=sound if target.info.audio_switch else target.info.audio,
            estimate=target.info.estimate(
                size, seconds, sound if target.info.audio_switch else target.info.audio
            ),
            credential=credential(target.endpoint) if target.endpoint else "",
            reference=ContentFile(reference, name="reference.jpg") if reference else "",
            reference_source=reference_source,
            reference_fit=reference_fit or {},
        )
        ledger.hold(take, take.estimate)
        transaction.on_commit(lambda: enqueue(take.pk))
        live.take_changed(take.pk)
    return take


def enqueue(take_id: int, run_after: datetime | None = None) -> None:
    """Wake the take up now (or at ``run_after``) on a worker."""
    log.debug("take %s: task for %s", take_id, run_after or "now")
    # tasks.py sits above this module (its task calls back into the lifecycle);
    # imported here only to schedule.
    from .tasks import advance_take

    task = advance_take.using(run_after=run_after) if run_after else advance_take
    result = task.enqueue(take_id)
    Take.objects.filter(pk=take_id).update(task_id=str(result.id))


def enqueue_on_commit(take_id: int, run_after: datetime | None = None) -> None:
    transaction.on_commit(lambda: enqueue(take_id, run_after))


# --- leases -------------------------------------------------------------------------------


def lease_deadline():
    # The database's clock, not this host's: workers on several hosts compare
    # leases, and their clocks may disagree by more than a lease.
    return Now() + timedelta(seconds=settings.SLATE_LEASE_SECONDS)


def new_lease_owner() -> str:
    return f"{socket.gethostname()[:40]}:{secrets.token_hex(6)}"


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


# --- transitions ----------------------------------------------------------------------------


def transition(take_id: int, to: str, *, frm, owner: str | None = None, **fields) -> bool:
    """Compare-and-set: move the take from one of ``frm`` to ``to``, saving ``fields``.

    With ``owner``, only while that worker holds the lease. Ending the take
    releases the lease and settles the ledger in the same transaction; the push
    goes out after commit. Returns whether this call made the change.
    """
    now = timezone.now()
    candidates = Take.objects.filter(pk=take_id, status__in=frm)
    if owner is not None:
        candidates = candidates.filter(lease_owner=owner)
    values = {"status": to, "updated_at": now, **fields}
    if to in TERMINAL_STATUSES:
        values.update(lease_owner="", lease_expires_at=None, next_check_at=None, finished_at=now)
    with transaction.atomic():
        won = candidates.update(**values)
        if won and to in TERMINAL_STATUSES:
            _settle(take_id, to)
            if to == Status.COMPLETED:
                transaction.on_commit(lambda: crashpoint("after_complete", take_id))
        if won:
            live.take_changed(take_id)
    return bool(won)


def _settle(take_id: int, status: str) -> None:
    take = Take.objects.only("workspace_id", "estimate").get(pk=take_id)
    if status == Status.COMPLETED:
        charged = ledger.charge(take_id, take.workspace_id, take.estimate or ledger.ZERO)
    else:
        ledger.release(take_id, take.workspace_id)
        charged = ledger.ZERO
    Take.objects.filter(pk=take_id).update(charged=charged)


def end(take_id: int, status: str, message: str, code: str, *, owner: str | None = None) -> bool:
    """End an active take as failed, refused, expired or cancelled, with a reason to show."""
    return transition(
        take_id, status, frm=ACTIVE_STATUSES, owner=owner, error_code=code, error_message=message
    )


def fail(take_id: int, message: str, *, code: str, owner: str | None = None) -> bool:
    return end(take_id, Status.FAILED, message, code, owner=owner)


def complete(take_id: int, owner: str, **results) -> bool:
    return transition(
        take_id, Status.COMPLETED, frm=(Status.IN_PROGRESS,), owner=owner, progress=100, **results
    )


def cancel(take_id: int) -> bool:
    """Cancel a take that hasn't ended; a worker busy with it notices at its next step.

    A job already running at a provider that can stop it goes to "cancelling" first
    (remote.stop asks the provider, then ends it). Slate charges nothing for a
    cancelled take: its hold is released.
    """
    take = Take.objects.filter(pk=take_id).select_related("endpoint").first()
    if take is None:
        return False
    running = take.remote_id and take.status == Status.IN_PROGRESS
    if running and take.endpoint and take.endpoint.kind in CANCELLABLE_KINDS:
        with transaction.atomic():
            won = Take.objects.filter(pk=take_id, status=Status.IN_PROGRESS).update(
                status=Status.CANCELLING, stage="cancelling", updated_at=timezone.now()
            )
            if won:
                enqueue_on_commit(take_id)
                live.take_changed(take_id)
        return bool(won)
    return transition(take_id, Status.CANCELLED, frm=ACTIVE_STATUSES)


def info_for(take: Take) -> ModelInfo:
    """The take's model as the catalogue (and its endpoint's corrections) describe it."""
    if take.endpoint is None:
        return animatic()
    overrides = take.endpoint.model_overrides.get(take.model)
    info = model_info(take.endpoint.kind, take.model, overrides)
    if info is None:  # the model left the catalogue since: the contract's defaults
        info = replace(animatic(), provider=take.endpoint.kind, model=take.model, prices={})
    return info


def job_for(take: Take) -> Job:
    shot = Shot(**{name: getattr(take, name) for name in Shot.__dataclass_fields__})
    info = info_for(take)
    aspect, resolution = info.shape(take.size)
    return Job(
        take_id=take.pk,
        shot=shot,
        prompt=take.composed_prompt,
        width=take.width,
        height=take.height,
        seconds=take.seconds,
        seed=take.seed,
        model=take.model,
        reference=Path(take.reference.path) if take.reference else None,
        negative_prompt=take.negative_prompt,
        sound=take.sound,
        aspect=aspect,
        resolution=resolution,
        wire=info.wire,
        workflow=info.workflow,
        fps=info.fps,
        key=str(take.client_key),
    )


# --- healing --------------------------------------------------------------------------------


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
    from .tasks import advance_take

    if not task_id:
        return False
    try:
        return advance_take.get_result(task_id).status == TaskResultStatus.READY
    except TaskResultDoesNotExist:
        return False
