"""When to look at a take next, and letting go of it until then.

A job with a live event stream (ComfyUI's websocket) is watched from the moment
it is queued. Without webhooks a finished job is seen within the lag bound,
max(5 s, 25 % of its run time so far): the first look comes within 5 s, and no
wait is longer than the bound, except where the provider reports a percentage
(10 % or more): then the look comes when that pace says the job ends, which keeps
a take to a handful of calls. Without a percentage the bound costs about one look
per quarter of the run time. The provider's own hint (`openai-poll-after-ms`) is
honoured. Every wait that repeats after an error grows (jittered) and is capped;
a take whose provider never finishes ends failed, with a reason, instead of
hanging.
"""

import logging
import random
import sys
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from studio.models import Take
from studio.providers import endpoints
from studio.providers.base import ProviderError, RemoteVideo
from studio.providers.catalogue import ModelInfo
from studio.takes import enqueue_on_commit

from .errors import FAILED_MESSAGE, fail

log = logging.getLogger(__name__)

FLOOR = 0.2  # seconds: never check sooner than this
CAP = 120.0  # seconds: never wait longer than this between checks
MAX_RETRIES = 12  # waits in a row before a take that keeps failing to move ends failed
MIN_RENDER_WAIT = 3600.0  # seconds a render may take at least before Slate gives up on it
LAG_FLOOR = 5.0  # seconds: without webhooks, a finished job is seen within this …
LAG_SHARE = 0.25  # … or this share of its run time, whichever is longer

# What a verified webhook's event says about the job: look now instead of at the pace.
EVENT_HINTS = {
    "fal.OK": "completed",
    "fal.ERROR": "failed",
    "video.completed": "completed",
    "video.failed": "failed",
    "video.generation.completed": "completed",
    "video.generation.failed": "failed",
    "video.generation.cancelled": "failed",
    "video.generation.expired": "failed",
}


def grace_seconds() -> float:
    """How long a create may still be arriving at the provider after we gave up on it."""
    return max(2 * settings.SLATE_PROVIDER_TIMEOUT, 2.0)


def schedule(take_id: int, delay: float) -> datetime:
    log.debug("take %s: wake in %.2f s (%s)", take_id, delay, sys._getframe(1).f_code.co_name)
    when = timezone.now() + timedelta(seconds=max(delay, 0))
    enqueue_on_commit(take_id, when)
    return when


def let_go(take_id: int, owner: str, delay: float, **fields) -> None:
    """Release the lease, save ``fields``, and wake the take again after ``delay``."""
    log.debug("take %s: let go for %.2f s (%s)", take_id, delay, sys._getframe(1).f_code.co_name)
    with transaction.atomic():
        when = timezone.now() + timedelta(seconds=max(delay, 0))
        kept = Take.objects.filter(pk=take_id, lease_owner=owner).update(
            lease_owner="",
            lease_expires_at=None,
            next_check_at=when,
            updated_at=timezone.now(),
            **fields,
        )
        if kept:
            enqueue_on_commit(take_id, when)


def backoff(take: Take, error: ProviderError | None = None) -> float:
    if error is not None and error.retry_after:
        return error.retry_after
    return min(2.0 * 2 ** min(take.retries, 6), CAP) * random.uniform(0.75, 1.0)


def retry_later(take: Take, owner: str, error: ProviderError, **fields) -> None:
    """A step that may work later: wait (growing), or give up after too many tries."""
    if take.retries >= MAX_RETRIES:
        fail(
            take.pk,
            owner,
            error,
            message=FAILED_MESSAGE.format(detail="it kept failing: {detail}"),
            code=error.code or "gave_up",
        )
        return
    let_go(take.pk, owner, backoff(take, error), retries=F("retries") + 1, **fields)


def first_check_delay(info: ModelInfo, seconds: int, webhooks: bool, live: bool = False) -> float:
    """With live events (a ComfyUI websocket), at once: the look is a watch. With webhooks,
    only a late safety check; without, near the typical render time."""
    if live:
        return 0.0
    typical = info.typical_render_seconds(seconds)
    if not webhooks:  # a job may end long before its typical render: see it within the bound
        return min(max(typical * 0.9, FLOOR), LAG_FLOOR)
    return min(max(typical * 4.0, FLOOR), CAP * 5)


def lag_bound(age: float) -> float:
    """How late a finished job may be seen, ``age`` seconds after its create."""
    return max(LAG_FLOOR, LAG_SHARE * age)


def next_check_delay(info: ModelInfo, take: Take, video: RemoteVideo, webhooks: bool) -> float:
    typical = info.typical_render_seconds(take.seconds)
    if video.poll_after:
        return max(video.poll_after, FLOOR)
    if webhooks:
        return min(typical * 2, CAP)
    ahead = video.queue_position  # 0: next, behind the one running
    if (
        video.status == "queued"
        and ahead is not None
        and take.endpoint.kind in endpoints.SERIAL_KINDS
    ):
        # One job at a time: those ahead (and the one running) must finish first. Look again
        # about halfway through that wait, so its start isn't missed by much.
        return min(max(typical * (ahead + 1) / 2, FLOOR), CAP)
    now = timezone.now()
    # A reported percentage is read against the job's own age (from the create that made
    # it; an earlier, lost create doesn't count) ...
    created = video.created_at or take.create_sent_at or take.submitted_at or take.created_at
    age = (now - created).total_seconds()
    progress = video.progress or 0
    if 0 < progress < 100:
        remaining = age * (100 - progress) / progress
        if progress >= 10:  # a pace worth trusting: look when it says the job ends
            return min(max(remaining, FLOOR), CAP)
        remaining = min(remaining, typical)  # read off the first few percent: mostly noise
    else:
        # ... without one, the typical render runs from when it was first seen running: a wait
        # in the provider's queue is no part of a render.
        running = take.remote_data.get("running_since")
        started = datetime.fromisoformat(running) if running else created
        remaining = max(typical - (now - started).total_seconds(), typical * 0.25)
    return min(max(remaining, typical * 0.1, FLOOR), lag_bound(age), CAP)
