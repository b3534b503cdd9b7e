"""Following a remote job: live events, polls and webhooks, and what each answer means.

A verified webhook wakes the take at once; otherwise, and as a safety net, it
is looked at on the pace pacing.py sets. A job with a live event stream (ComfyUI's
websocket, fal's status stream where it has no webhooks) is handed to the process's
watcher (watcher.py) once a look says it runs (fal's stream's first event is that
look); a refused one is tried again at the next look, which polls meanwhile. A job
the provider forgot is submitted again once where its id is Slate's own
(submit.submit_again), else the take fails in the provider's words. A cancelled
take whose job is running is asked to stop here too.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio import crashpoints, live
from studio.models import Status, Take
from studio.providers import endpoints
from studio.providers.base import (
    MODERATION_CODES,
    LiveUnavailable,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    RemoteVideo,
    Retryable,
)
from studio.takes import end, enqueue_on_commit, transition

from . import calls, leases, pacing
from .download import download
from .errors import FAILED_MESSAGE, expire, fail, refuse
from .leases import LeaseKeeper, TakeLost, claim, lease_deadline, lease_is_free, new_lease_owner
from .pacing import EVENT_HINTS, MIN_RENDER_WAIT, let_go, next_check_delay, retry_later
from .submit import submit_again
from .watcher import save_update, watcher

log = logging.getLogger(__name__)


def check(take: Take) -> None:
    """Ask how the job is doing (or trust a verified webhook) and act on the answer."""
    now = timezone.now()
    due = Q(next_check_at__isnull=True) | Q(next_check_at__lte=now + timedelta(seconds=0.05))
    owner = new_lease_owner()
    if (
        not Take.objects.filter(pk=take.pk, status=Status.IN_PROGRESS)
        .filter(lease_is_free())
        .filter(due | ~Q(webhook_hint=""))
        .update(lease_owner=owner, lease_expires_at=lease_deadline())
    ):
        return  # not due yet (an early wake-up), or another worker has it
    take.refresh_from_db()
    known = calls.known(take)
    if take.webhook_hint == "completed":
        # A signed "completed" (or the watcher's, from ComfyUI's history): no need to ask
        # again, fetch the video; a prompt waiting behind it on its GPU starts now.
        queue_moved(take)
        # The look was the webhook's or the watcher's: a crash here is a crash mid-poll.
        crashpoints.crashpoint("mid_poll", take.pk)
        download(take, owner, known)
        return
    try:
        client = calls.client(take, owner)
        watchable = endpoints.followed_live(take.endpoint)
        # Behind others on its GPU: nothing to watch yet, one look, paced by its place (and
        # looked at again as soon as the prompt ahead of it ends: queue_moved).
        waiting = take.remote_status == "pending" and take.queue_position is not None
        # Ended, as the watcher heard it (webhook_hint): one look by HTTP says how.
        watchable = watchable and not take.webhook_hint
        # Otherwise live events first: the watch's own first look (once subscribed) is the
        # check, so a slice costs no more calls than a poll.
        video = _watch(take, owner, client, known) if watchable and not waiting else None
        video = video or client.retrieve(known)
        if watchable and waiting and video.status == "in_progress":
            video = _watch(take, owner, client, video) or video  # its turn came: watch it
        if video is HANDED:
            return  # the watcher has it, lease and all
        if video is WATCHED:
            let_go(take.pk, owner, pacing.FLOOR)  # a slice watched: let other takes have a turn
            return
    except TakeLost:
        log.info("Take %s: %s", take.pk, leases.lost_because(take.pk))
        return
    except NotFound as error:
        if submit_again(take, owner):
            return  # a restarted ComfyUI forgot it: sent again, once, under the same id
        # The provider's own words (ComfyUI's ask whether the server was restarted).
        if take.remote_data.get("resubmitted"):
            detail = "{detail} Slate had already sent it again once."
        elif take.endpoint.kind in endpoints.RESUBMIT_KINDS:
            detail = "{detail}"
        else:
            detail = "the provider no longer knows it: {detail}"
        fail(take.pk, owner, error, message=FAILED_MESSAGE.format(detail=detail), code="not_found")
        return
    except (Retryable, OutcomeUnknown) as error:
        retry_later(take, owner, error)
        return
    except ProviderError as error:
        fail(take.pk, owner, error)
        return
    crashpoints.crashpoint("mid_poll", take.pk)
    follow(take, owner, video)


WATCHED = object()  # a watch slice ended with the job still running
HANDED = object()  # the watcher follows the job now


def _watch(take: Take, owner: str, client, video: RemoteVideo):
    """Follow a provider's live events (ComfyUI's websocket): handed to the process's
    watcher once one look (made after subscribing, so no event falls between) says the
    job runs. The job's state when it needn't be watched (ended, or waiting behind
    others), HANDED, or None when live events aren't available (this look polls)."""
    if not settings.SLATE_WATCHER:
        return _watch_slice(take, owner, client, video) if hasattr(client, "watch") else None
    try:
        events = watcher.open(client, video)
    except LiveUnavailable as error:
        # This look polls; the next one knocks again (a proxy or a restarting server may
        # refuse one handshake, and a take shouldn't be polled blind for the rest of its life).
        log.info("Take %s: %s; polling this time", take.pk, error.message)
        return None
    except TimeoutError:
        log.info("Take %s: live events didn't open in time; polling this time", take.pk)
        return None
    handed = False
    try:
        if getattr(events, "tells_state", False) and not _overdue(take):
            # Its first event is the job's state (fal's status stream): no look needed.
            watcher.follow(take.pk, owner, client, events, video)
            handed = True
            return HANDED
        current = client.retrieve(video)
        if current.status != "in_progress" or _overdue(take):
            return current  # follow() acts on it (a job running far too long ends failed)
        if not save_update(take.pk, owner, current):
            raise TakeLost(take.pk)
        watcher.follow(take.pk, owner, client, events, current)
        handed = True
        return HANDED
    finally:
        if not handed:
            watcher.close(events)


def _watch_slice(take: Take, owner: str, client, video: RemoteVideo):
    """The blocking slice (SLATE_WATCHER=false, the benches' baseline): follow live events
    in this task thread for SLATE_WATCH_SECONDS. The job's end state, WATCHED, or None
    when live events aren't available."""
    keeper = LeaseKeeper(take.pk, owner)
    started = timezone.now()

    def on_update(update: RemoteVideo) -> bool:
        keeper.touch()
        return save_update(take.pk, owner, update)  # False: cancelled or taken over

    def heartbeat() -> bool:
        keeper.touch()
        ours = Take.objects.filter(pk=take.pk, lease_owner=owner, status=Status.IN_PROGRESS)
        return ours.exists()  # a cancel (or a takeover) ends the watch within a second

    try:
        ended = client.watch(video, on_update, settings.SLATE_WATCH_SECONDS, heartbeat)
    except LiveUnavailable as error:
        log.info("Take %s: %s; polling this time", take.pk, error.message)
        return None
    except TakeLost:
        return WATCHED
    except (Retryable, OutcomeUnknown):
        return None
    if ended is not None:
        return ended
    watched = (timezone.now() - started).total_seconds()
    return WATCHED if watched >= settings.SLATE_WATCH_SECONDS * 0.9 else None


def follow(take: Take, owner: str, video: RemoteVideo) -> None:
    if video.status not in ("queued", "in_progress"):
        queue_moved(take)
    match video.status:
        case "completed":
            download(take, owner, video)
        case "failed":
            code = video.error_code or "failed"
            detail = video.error_message or code
            if code in MODERATION_CODES or "moderation" in detail.lower():
                refuse(take.pk, owner, detail, code)
            else:
                end(take.pk, Status.FAILED, FAILED_MESSAGE.format(detail=detail), code, owner=owner)
        case "expired":
            expire(take.pk, owner)
        case "cancelled":
            end(
                take.pk,
                Status.CANCELLED,
                "The provider cancelled this job. Nothing was charged.",
                "provider_cancelled",
                owner=owner,
            )
        case _:  # queued, in_progress, or a status the contract doesn't name
            info = endpoints.info_for(take)
            if age := _overdue(take):
                end(
                    take.pk,
                    Status.FAILED,
                    FAILED_MESSAGE.format(
                        detail=f"it still wasn't done after {age / 60:.0f} "
                        f"minutes (status “{video.raw_status}”)"
                    ),
                    "too_slow",
                    owner=owner,
                )
                return
            data = {**take.remote_data, **video.data}
            if video.status == "in_progress":
                data.setdefault("running_since", timezone.now().isoformat())
            take.remote_data = data
            delay = next_check_delay(info, take, video, take.endpoint.has_webhooks)
            known = video.progress is not None
            let_go(
                take.pk,
                owner,
                delay,
                remote_status=video.raw_status,
                progress=min(video.progress, 99) if known else take.progress,
                progress_known=known,
                stage=video.stage or take.stage,
                queue_position=video.queue_position,
                retries=0,
                remote_data=data,
                expires_at=video.expires_at or take.expires_at,
            )
            live.progress_changed(take.pk)


def _overdue(take: Take) -> float:
    """How long ago the take was sent, if that is long past any render (else 0)."""
    info = endpoints.info_for(take)
    age = (timezone.now() - (take.submitted_at or take.created_at)).total_seconds()
    limit = max(info.typical_render_seconds(take.seconds) * 20, MIN_RENDER_WAIT)
    return age if age > limit else 0.0


def queue_moved(take: Take) -> None:
    """A job on a server that renders one at a time ended: the takes waiting behind it there
    move up, or start. Look at them now, not at the time their place suggested."""
    if take.endpoint.kind not in endpoints.SERIAL_KINDS:
        return
    waiting = (
        Take.objects.filter(
            endpoint_id=take.endpoint_id, status=Status.IN_PROGRESS, remote_status="pending"
        )
        .filter(lease_is_free())
        .exclude(pk=take.pk)
    )
    with transaction.atomic():
        for take_id in waiting.values_list("pk", flat=True):
            Take.objects.filter(pk=take_id).update(next_check_at=timezone.now())
            enqueue_on_commit(take_id)


def stop(take: Take) -> None:
    """A cancelled take whose provider job is running: ask it to stop, then wait until it has."""
    owner = claim(take, Status.CANCELLING)
    if owner is None:
        return
    known = calls.known(take)
    try:
        client = calls.client(take, owner)
        stopped = client.cancel(known) if not take.remote_data.get("cancel_sent") else False
        if not stopped:
            video = client.retrieve(known)
            stopped = video.status in ("cancelled", "failed", "expired", "completed")
    except TakeLost:
        return  # another worker has it now
    except (Retryable, OutcomeUnknown) as error:
        retry_later(take, owner, error)
        return
    except ProviderError:
        stopped = True  # nothing more can be done about it; the take is cancelled here
    if stopped:
        queue_moved(take)
        transition(
            take.pk,
            Status.CANCELLED,
            frm=(Status.CANCELLING,),
            owner=owner,
            stage="",
            error_message="Cancelled.",
        )
    else:
        let_go(
            take.pk,
            owner,
            max(pacing.FLOOR * 5, 1.0),
            remote_data={**take.remote_data, "cancel_sent": True},
        )


def hint_from_webhook(take: Take, event_type: str) -> None:
    """A verified webhook about the take's job: remember what it said and wake it now."""
    hint = EVENT_HINTS.get(event_type)
    if not hint or take.is_terminal:
        return
    with transaction.atomic():
        if Take.objects.filter(pk=take.pk, status__in=(Status.IN_PROGRESS,)).update(
            webhook_hint=hint, next_check_at=timezone.now()
        ):
            enqueue_on_commit(take.pk)
