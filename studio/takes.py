"""A take's lifecycle: queue, transitions, cancel.

The take row is the source of truth, not the task queue. Every transition is a
compare-and-set UPDATE on the status (and, while a worker holds the take, on
its lease owner), committed before its side effects: pushes and tasks run on
commit, and a worker that lost its take (cancelled, or its lease taken over)
stops. Ending a take settles the ledger in the same transaction.

Tasks only wake a take up; what to do next is read from the row by the engine
(``studio/engine/``), which sits above this module.
"""

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from . import crashpoints, ledger, live, signals
from .models import ACTIVE_STATUSES, TERMINAL_STATUSES, Method, Status, Take, Workspace
from .prompts import Shot, compose
from .providers.endpoints import CANCELLABLE_KINDS, credential, find_target

log = logging.getLogger(__name__)


class UnknownTarget(ValueError):
    pass


def new_seed() -> int:
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Lineage:
    """Where a new take comes from: its parent, the operation and who does it."""

    parent: Take
    operation: str
    method: str
    blend_with: Take | None = None
    edit: dict = field(default_factory=dict)

    def fields(self) -> dict:
        return {
            "parent": self.parent,
            "root_id": self.parent.root_pk,
            "operation": self.operation,
            "method": self.method,
            "blend_with": self.blend_with,
            "edit": self.edit,
        }


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
    end_frame: bytes | None = None,
    negative_prompt: str = "",
    sound: bool = True,
    lineage: Lineage | None = None,
    drawn_from=None,
) -> Take:
    """Save a queued take with its cost held, and schedule it (validated input only).

    ``reference`` is a first frame (JPEG) already fitted to ``size`` (images.py), and
    ``end_frame`` a last one, for a model that takes it (lineage.py checks);
    ``lineage`` says which take it was made from, and how (lineage.py); ``drawn_from``:
    a ledger reservation its hold is drawn from (ledger.reserve).
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
            end_frame=ContentFile(end_frame, name="end-frame.jpg") if end_frame else "",
            **(lineage.fields() if lineage else {}),
        )
        ledger.hold(take, take.estimate, drawn_from=drawn_from)
        transaction.on_commit(lambda: enqueue(take.pk))
        live.take_changed(take.pk)
    return take


def queue_edit(lineage: Lineage, *, seconds: float, created_by=None) -> Take:
    """Save a queued local edit of ``lineage.parent`` (re-cut, loop, blend): Slate's own
    media work on files it has, so it is held, and charged, at zero. Its engine step
    (engine/edits.py) reads what to do from ``lineage.edit``."""
    parent = lineage.parent
    assert lineage.method == Method.LOCAL
    with transaction.atomic():
        take = Take.objects.create(
            workspace_id=parent.workspace_id,
            created_by=created_by,
            **{name: getattr(parent, name) for name in Shot.__dataclass_fields__},
            composed_prompt=parent.composed_prompt,
            negative_prompt=parent.negative_prompt,
            sound=parent.sound,
            provider=parent.provider,
            model=parent.model,
            size=parent.size,
            seconds=max(1, math.ceil(seconds)),
            seed=parent.seed,
            estimate=ledger.ZERO,
            **lineage.fields(),
        )
        ledger.hold(take, ledger.ZERO)
        transaction.on_commit(lambda: enqueue(take.pk))
        live.take_changed(take.pk)
    return take


def _no_waker(take_id: int, run_after: datetime | None = None) -> None:
    raise RuntimeError("No task queue is wired to the lifecycle (StudioConfig.ready does it).")


# How a take is woken up on a worker: set once, by StudioConfig.ready, to tasks.wake (the
# engine sits above the lifecycle, so the lifecycle can't import it).
_waker: Callable[[int, datetime | None], None] = _no_waker


def set_waker(waker: Callable[[int, datetime | None], None]) -> None:
    global _waker
    _waker = waker


def enqueue(take_id: int, run_after: datetime | None = None) -> None:
    """Wake the take up now (or at ``run_after``) on a worker."""
    log.debug("take %s: task for %s", take_id, run_after or "now")
    _waker(take_id, run_after)


def enqueue_on_commit(take_id: int, run_after: datetime | None = None) -> None:
    transaction.on_commit(lambda: enqueue(take_id, run_after))


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
            signals.announce(signals.take_ended, Take, take_id=take_id, status=to)
            if to == Status.COMPLETED:
                transaction.on_commit(lambda: crashpoints.crashpoint("after_complete", take_id))
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
    ledger.close_drained(take_id)  # a reservation whose last take this was (a board render)


def end(take_id: int, status: str, message: str, code: str, *, owner: str | None = None) -> bool:
    """End an active take as failed, refused, expired or cancelled, with a reason to show."""
    return transition(
        take_id, status, frm=ACTIVE_STATUSES, owner=owner, error_code=code, error_message=message
    )


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
