"""Background tasks: thin wake-ups that hand a take id to the engine.

``wake`` is the lifecycle's enqueue hook (wired in ``StudioConfig.ready``), so
``studio.takes`` can schedule work without importing the engine above it.
"""

from datetime import datetime

from django.tasks import task
from django.utils import timezone

from .engine.advance import advance
from .models import Take


@task()
def advance_take(take_id: int) -> str | None:
    """Do whatever the take needs next; the row, not the task, says what that is."""
    return advance(take_id)


def wake(take_id: int, run_after: datetime | None = None) -> None:
    """Wake the take up now (or at ``run_after``) on a worker.

    "Now" is written as the time it is: the database queue takes due tasks in order of
    ``run_after``, and a task without one sorts after every scheduled task, so a new take's
    first step would wait behind another take's steps for as long as that take lives."""
    result = advance_take.using(run_after=run_after or timezone.now()).enqueue(take_id)
    Take.objects.filter(pk=take_id).update(task_id=str(result.id))
