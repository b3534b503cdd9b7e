"""Local renders (the animatic, and Slate's own edits): claim the take, render with
progress, store, complete.

The worker holds a lease while it renders and renews it with each progress
write; a cancel or a lost lease stops it at the next write, and a worker that
is shutting down hands the take back to the queue without using an attempt.
"""

import contextlib
import logging
import secrets
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from studio import live
from studio.database import database_busy
from studio.models import Status, Take
from studio.providers import ProviderError, get_provider
from studio.takes import complete, end, enqueue_on_commit

from . import assets, edits
from .calls import job_for
from .errors import fail
from .leases import LeaseKeeper, TakeLost, lease_deadline, new_lease_owner, renew

log = logging.getLogger(__name__)

# Set by the worker when its process is asked to stop (SIGTERM, Ctrl-C).
shutting_down = threading.Event()

PROGRESS_INTERVAL = 0.5  # seconds between progress writes (and pushes) while rendering


class ShuttingDown(Exception):
    """This worker is stopping: hand the take back rather than lose the attempt."""


def claim(take_id: int) -> tuple[Take, str] | None:
    """Move a queued take to in_progress under a fresh lease; None if it is not queued."""
    owner = new_lease_owner()
    now = timezone.now()
    with transaction.atomic():
        won = Take.objects.filter(pk=take_id, status=Status.QUEUED).update(
            status=Status.IN_PROGRESS,
            progress=0,
            lease_owner=owner,
            lease_expires_at=lease_deadline(),
            started_at=now,
            updated_at=now,
            attempts=F("attempts") + 1,
        )
        if not won:
            return None
        live.take_changed(take_id)
    return Take.objects.get(pk=take_id), owner


def heartbeat(take_id: int, owner: str, progress: int) -> None:
    """Record progress and renew the lease; raises TakeLost if the take is not ours."""
    renew(take_id, owner, progress=progress)
    live.progress_changed(take_id)


def release(take_id: int, owner: str) -> bool:
    """Hand a rendering take back to the queue (its worker is stopping); no attempt used."""
    with transaction.atomic():
        won = Take.objects.filter(pk=take_id, status=Status.IN_PROGRESS, lease_owner=owner).update(
            status=Status.QUEUED,
            progress=0,
            lease_owner="",
            lease_expires_at=None,
            attempts=F("attempts") - 1,
            updated_at=timezone.now(),
        )
        if won:
            enqueue_on_commit(take_id)
            live.take_changed(take_id)
    return bool(won)


class _Progress:
    """Turns per-frame callbacks into throttled heartbeats (0..99 %; 100 is completion)."""

    def __init__(self, take_id: int, owner: str):
        self.take_id, self.owner = take_id, owner
        self.percent, self.last_write = 0, time.monotonic()

    def __call__(self, fraction: float) -> None:
        if shutting_down.is_set():
            raise ShuttingDown(self.take_id)
        percent = min(int(fraction * 100), 99)
        now = time.monotonic()
        due = now - self.last_write >= PROGRESS_INTERVAL
        renew_lease = now - self.last_write >= settings.SLATE_LEASE_SECONDS / 3
        if (due and percent > self.percent) or renew_lease:
            self.percent, self.last_write = percent, now
            heartbeat(self.take_id, self.owner, percent)


def run_take(take_id: int) -> str | None:
    """Render a queued take to the end. Returns the final status, or None if not ours to run."""
    claimed = claim(take_id)
    if claimed is None:
        return None
    take, owner = claimed
    scratch = Path(settings.SCRATCH_DIR) / f"take-{take_id}-{secrets.token_hex(4)}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        progress = _Progress(take_id, owner)
        if take.is_local_edit:  # a re-cut, loop or blend of takes Slate already has
            video_path = edits.produce(take, scratch, progress)
        else:
            video_path = scratch / "video.mp4"
            get_provider(take.provider).render(job_for(take), video_path, progress)
            video_path = edits.finish(take, video_path, scratch)
        # Probing and the pictures can outlast a lease on a loaded machine: keep it.
        stored = assets.store(take, video_path, touch=LeaseKeeper(take_id, owner).touch)
        completed = False
        try:
            completed = complete(take_id, owner, **stored)
        finally:
            if not completed:
                assets.delete(stored)  # nothing points at them: don't leave them behind
        if not completed:
            raise TakeLost(take_id)
        return Status.COMPLETED
    except TakeLost:
        log.info("Take %s was cancelled or taken over; stopped rendering", take_id)
        return Take.objects.values_list("status", flat=True).get(pk=take_id)
    except ShuttingDown:
        release(take_id, owner)
        return Status.QUEUED
    except OperationalError as error:
        if not database_busy(error):
            raise
        # Busy, not broken: the render goes back to the queue (no attempt used) and the
        # step is tried again (advance.py). If even that can't be written, the lease runs
        # out and the sweep hands it back.
        with contextlib.suppress(OperationalError):
            release(take_id, owner)
        raise
    except ProviderError as error:
        fail(take_id, owner, error, message="{detail}")
        return Status.FAILED
    except Exception as error:
        log.exception("Rendering take %s crashed", take_id)
        end(
            take_id,
            Status.FAILED,
            f"The renderer stopped with an error: {error}",
            "render_error",
            owner=owner,
        )
        return Status.FAILED
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
