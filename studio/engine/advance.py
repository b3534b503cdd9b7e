"""A task's entry into the engine: read the take's row and do its next step."""

import contextlib
import logging
import time

from django.db import OperationalError

from studio.database import database_busy
from studio.models import Status, Take

from . import leases, local
from .follow import check, stop
from .submit import reconcile, submit

log = logging.getLogger(__name__)

BUSY_TRIES = 5  # a step that met a busy database is tried again, waiting longer each time


def advance(take_id: int) -> str | None:
    """Do whatever the take needs next; the row, not the task, says what that is.

    A database that stays busy past its own timeout (SQLite under a long write) is a
    reason to try the step again, never to fail the take: every step starts by taking
    the take's lease, so a step that got halfway is picked up where its row says.
    Returns a local render's final status (None for remote steps)."""
    for attempt in range(1, BUSY_TRIES + 1):
        leases.forget_taken()
        try:
            return _step(take_id)
        except OperationalError as error:
            if not database_busy(error) or attempt == BUSY_TRIES:
                raise
            log.warning("Take %s: the database is busy (%s); trying the step again", take_id, error)
            time.sleep(0.5 * 2**attempt)
            with contextlib.suppress(OperationalError):  # else its lease runs out: the sweep
                leases.give_back_taken(take_id)
    return None


def _step(take_id: int) -> str | None:
    take = Take.objects.select_related("endpoint").filter(pk=take_id).first()
    if take is None or take.is_terminal:
        return None
    if take.endpoint_id is None:  # Slate's own renderer
        return local.run_take(take_id)
    if take.status == Status.QUEUED:
        submit(take)
    elif take.status == Status.SUBMITTING:
        reconcile(take)
    elif take.status == Status.IN_PROGRESS:
        check(take)
    elif take.status == Status.CANCELLING:
        stop(take)
    return None
