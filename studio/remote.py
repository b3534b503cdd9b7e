"""Remote providers: submit exactly once, follow the job, copy the result.

Each step runs under a lease on the take (see takes.py) and ends by saving what
it learned and scheduling the next wake-up; tasks carry nothing but the id.

Submit exactly once. The take is saved as `submitting` before create is
called, and the lease is renewed (compare-and-set on the owner) right before
each send: a worker that lost the take never sends. A create whose outcome is
unknown (timeout, dropped connection, 5xx or an unreadable answer after
sending) or whose answer died with its worker is never repeated blindly: the
provider is asked what exists (listing and matching, or by Slate's own key)
for a grace period, and only when it says nothing was created is the take
submitted again. A provider that can't be asked gets no second create: the
take ends with a message saying so.

Following. A verified webhook wakes the take at once; otherwise, and as a
safety net, it is checked near the model's typical render time, then at the
remaining time its progress suggests, honouring `openai-poll-after-ms`.
Every wait that repeats grows (jittered) and is capped; a take whose provider
never finishes ends failed, with a reason, instead of hanging.
"""

import hashlib
import logging
import random
import secrets
import shutil
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import assets, endpoints, live
from .catalogue import ModelInfo
from .crashpoints import crashpoint
from .models import Status, Take, WebhookDelivery
from .providers.base import (
    NOT_CREATED,
    UNKNOWABLE,
    LiveUnavailable,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    Refused,
    RemoteVideo,
    Retryable,
    Submission,
)
from .secretbox import SecretUnreadable
from .takes import (
    LeaseKeeper,
    TakeLost,
    complete,
    end,
    enqueue_on_commit,
    info_for,
    job_for,
    lease_deadline,
    lease_is_free,
    new_lease_owner,
    renew,
    transition,
)

log = logging.getLogger(__name__)

FLOOR = 0.2  # seconds: never check sooner than this
CAP = 120.0  # seconds: never wait longer than this between checks
MAX_RETRIES = 12  # waits in a row before a take that keeps failing to move ends failed
MIN_RENDER_WAIT = 3600.0  # seconds a render may take at least before Slate gives up on it

REFUSED_MESSAGE = (
    "The provider's moderation refused this shot ({detail}). Common reasons: real people, "
    "copyrighted characters, violence. Rephrase it and try again; nothing was charged."
)
FAILED_MESSAGE = "The provider couldn't render this take ({detail}). Nothing was charged."
EXPIRED_MESSAGE = (
    "The provider deleted the video before Slate could copy it. Nothing was charged; "
    "generate it again."
)
UNKNOWABLE_MESSAGE = (
    "The provider never answered the request to start this take, and it can't be asked "
    "whether the job began. So that it isn't paid for twice, Slate did not send it again: "
    "check the provider's dashboard, and generate it again if nothing is there. Nothing "
    "was charged here."
)
MODERATION_CODES = ("moderation_blocked", "content_policy_violation", "content_filter")
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


def advance(take_id: int) -> None:
    """Do the take's next step, whatever it is."""
    take = Take.objects.select_related("endpoint").filter(pk=take_id).first()
    if take is None or take.is_terminal:
        return
    if take.endpoint is None:
        end(take_id, Status.FAILED, "Its provider was removed before it finished.", "no_provider")
        return
    if take.status == Status.QUEUED:
        submit(take)
    elif take.status == Status.SUBMITTING:
        reconcile(take)
    elif take.status == Status.IN_PROGRESS:
        check(take)
    elif take.status == Status.CANCELLING:
        stop(take)


# --- scheduling ------------------------------------------------------------------------------


def _schedule(take_id: int, delay: float) -> datetime:
    log.debug("take %s: wake in %.2f s (%s)", take_id, delay, sys._getframe(1).f_code.co_name)
    when = timezone.now() + timedelta(seconds=max(delay, 0))
    enqueue_on_commit(take_id, when)
    return when


def _let_go(take_id: int, owner: str, delay: float, **fields) -> None:
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


def _backoff(take: Take, error: ProviderError | None = None) -> float:
    if error is not None and error.retry_after:
        return error.retry_after
    return min(2.0 * 2 ** min(take.retries, 6), CAP) * random.uniform(0.75, 1.0)


def _retry_later(take: Take, owner: str, error: ProviderError, **fields) -> None:
    """A step that may work later: wait (growing), or give up after too many tries."""
    if take.retries >= MAX_RETRIES:
        end(
            take.pk,
            Status.FAILED,
            FAILED_MESSAGE.format(detail=f"it kept failing: {error.message}"),
            error.code or "gave_up",
            owner=owner,
        )
        return
    _let_go(take.pk, owner, _backoff(take, error), retries=F("retries") + 1, **fields)


def _client(take: Take, owner: str | None = None):
    def still_ours():
        if owner:  # the take must still be ours right before anything is sent
            renew(take.pk, owner, seconds=settings.SLATE_PROVIDER_TIMEOUT + 30)

    def answered():
        # Back to a normal lease once the answer is in, so a worker that dies right after
        # a call is noticed within a lease, not a whole request timeout. Never raises: an
        # answer (a create's above all) must still be acted on.
        if owner:
            Take.objects.filter(pk=take.pk, lease_owner=owner).update(
                lease_expires_at=lease_deadline()
            )

    return endpoints.client_for(
        take.endpoint,
        take.pk,
        retry_offset=take.retries,
        before_send=still_ours,
        after_send=answered,
    )


def _claim(take: Take, status: str, **fields) -> str | None:
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


def _known(take: Take) -> RemoteVideo:
    """The provider job as last seen (its id and the data saved from before)."""
    data = take.remote_data or {}
    return RemoteVideo(
        id=take.remote_id, status=take.remote_status, data=data, asset_url=data.get("asset_url", "")
    )


def _submission(take: Take) -> Submission:
    hook = ""
    if take.endpoint.has_webhooks:
        hook = endpoints.webhook_url(take.endpoint, key=str(take.client_key))
    return Submission(key=str(take.client_key), webhook_url=hook, since=take.submitted_at)


# --- submit ----------------------------------------------------------------------------------


def submit(take: Take) -> None:
    owner = new_lease_owner()
    with transaction.atomic():
        won = (
            Take.objects.filter(pk=take.pk, status=Status.QUEUED)
            .filter(lease_is_free())
            .update(
                status=Status.SUBMITTING,
                lease_owner=owner,
                lease_expires_at=lease_deadline(),
                submitted_at=Coalesce("submitted_at", timezone.now()),
                started_at=Coalesce("started_at", timezone.now()),
                submit_uncertain=False,
                updated_at=timezone.now(),
            )
        )
        if not won:
            return
        live.take_changed(take.pk)
    # Saved as submitting (committed) before the provider hears of it.
    crashpoint("before_create", take.pk)
    take.refresh_from_db()
    try:
        client = _client(take, owner)
        Take.objects.filter(pk=take.pk, lease_owner=owner).update(
            create_calls=F("create_calls") + 1, create_sent_at=timezone.now()
        )
        video = client.create(job_for(take), _submission(take))
    except TakeLost:
        log.info("Take %s was cancelled or taken over before its create was sent", take.pk)
        return
    except Refused as error:
        end(
            take.pk,
            Status.REFUSED,
            REFUSED_MESSAGE.format(detail=error.message),
            error.code,
            owner=owner,
        )
        return
    except OutcomeUnknown:
        # It may exist at the provider: look for it before ever creating again.
        _let_go(take.pk, owner, min(grace_seconds() / 2, 10.0), submit_uncertain=True)
        return
    except Retryable as error:
        # Nothing was created (refused before processing, or unreachable): try later.
        if take.retries >= MAX_RETRIES:
            end(
                take.pk,
                Status.FAILED,
                FAILED_MESSAGE.format(detail=error.message),
                error.code,
                owner=owner,
            )
            return
        with transaction.atomic():
            if transition(
                take.pk,
                Status.QUEUED,
                frm=(Status.SUBMITTING,),
                owner=owner,
                lease_owner="",
                lease_expires_at=None,
                create_sent_at=None,  # nothing is out there: this create didn't arrive
            ):
                Take.objects.filter(pk=take.pk).update(
                    next_check_at=_schedule(take.pk, _backoff(take, error)),
                    retries=F("retries") + 1,
                )
        return
    except (ProviderError, SecretUnreadable, endpoints.EndpointInvalid) as error:
        message = getattr(error, "message", str(error))
        end(
            take.pk,
            Status.FAILED,
            FAILED_MESSAGE.format(detail=message),
            getattr(error, "code", "provider_error"),
            owner=owner,
        )
        return
    crashpoint("after_create", take.pk)
    _adopt(take, owner, video)


def _adopt(take: Take, owner: str, video: RemoteVideo) -> None:
    """The provider has the job: remember it and plan the first check."""
    delay = first_check_delay(info_for(take), take.seconds, take.endpoint.has_webhooks)
    # A webhook can beat the create's answer: it was kept, and counts now.
    events = WebhookDelivery.objects.filter(endpoint=take.endpoint, remote_id=video.id)
    hint = next(
        (EVENT_HINTS[e] for e in events.values_list("event_type", flat=True) if e in EVENT_HINTS),
        "",
    )
    if video.status in ("completed", "failed") or hint:
        delay = 0
    try:
        with transaction.atomic():
            adopted = transition(
                take.pk,
                Status.IN_PROGRESS,
                frm=(Status.SUBMITTING,),
                owner=owner,
                remote_id=video.id,
                remote_status=video.raw_status,
                remote_data={**take.remote_data, **video.data},
                progress=video.progress or 0,
                progress_known=video.progress is not None,
                stage=video.stage,
                queue_position=video.queue_position,
                submit_uncertain=False,
                lease_owner="",
                lease_expires_at=None,
                expires_at=video.expires_at,
                webhook_hint=hint,
                retries=0,
            )
            if adopted:
                Take.objects.filter(pk=take.pk).update(next_check_at=_schedule(take.pk, delay))
    except IntegrityError:
        # Another take of this account already holds that job (an identical take whose
        # create raced ours): ours is unknown again, and reconciled like any other.
        _let_go(take.pk, owner, grace_seconds() / 2, submit_uncertain=True)
        return
    if not adopted:
        _abandon(take, video)


def _abandon(take: Take, video: RemoteVideo) -> None:
    """A job created for a take that ended meanwhile (cancelled): stop it if the provider can."""
    try:
        client = _client(take)
        if client.can_cancel:
            client.cancel(video)
        else:
            client.delete(video)
    except (ProviderError, SecretUnreadable, endpoints.EndpointInvalid) as error:
        log.warning(
            "Take %s ended before its provider job %s was known; the job could not be stopped (%s)",
            take.pk,
            video.id,
            error,
        )


# --- reconcile -------------------------------------------------------------------------------


def reconcile(take: Take) -> None:
    """A create may have happened: adopt the provider's job, or submit again once it is sure."""
    owner = _claim(take, Status.SUBMITTING)
    if owner is None:
        return
    if take.create_sent_at is None:
        # Its worker died before sending any create: nothing can exist. Submit it.
        _requeue(take, owner)
        return
    if _identical_in_flight(take):
        # An identical take's create is on the wire: wait, or we might claim its job.
        _let_go(take.pk, owner, FLOOR * 5)
        return
    try:
        if delivered := _delivered(take):
            log.info("Take %s: its callback named job %s", take.pk, delivered.id)
            _adopt(take, owner, delivered)
            return
        found = _client(take).find_created(job_for(take), _submission(take))
    except (Retryable, OutcomeUnknown) as error:
        _retry_later(take, owner, error)
        return
    except (ProviderError, SecretUnreadable, endpoints.EndpointInvalid) as error:
        message = getattr(error, "message", str(error))
        end(
            take.pk,
            Status.FAILED,
            f"Slate couldn't confirm with the provider whether this take was started ({message}). "
            "Nothing was charged.",
            "reconcile_failed",
            owner=owner,
        )
        return
    sent = take.create_sent_at or take.submitted_at or take.created_at
    waited = (timezone.now() - sent).total_seconds()
    if isinstance(found, list):
        taken = set(
            Take.objects.filter(credential=take.credential, remote_id__in=[v.id for v in found])
            .exclude(pk=take.pk)
            .values_list("remote_id", flat=True)
        )
        free = [video for video in found if video.id not in taken]
        if free:
            log.info("Take %s: found its job %s at the provider", take.pk, free[-1].id)
            _adopt(take, owner, free[-1])  # the oldest: identical takes in order
            return
        found = NOT_CREATED
    if waited < grace_seconds():
        # A create that timed out may still be arriving: ask again before deciding.
        _let_go(take.pk, owner, max(grace_seconds() - waited, FLOOR))
        return
    if found == UNKNOWABLE:
        # Only a callback can still name the job: wait for it as long as a render takes.
        patience = grace_seconds() + 4 * info_for(take).typical_render_seconds(take.seconds)
        if take.endpoint.has_webhooks and waited < patience:
            _let_go(take.pk, owner, min(max(patience - waited, FLOOR), CAP))
            return
        end(take.pk, Status.FAILED, UNKNOWABLE_MESSAGE, "outcome_unknown", owner=owner)
        return
    # Not there, well after the create: it never reached the provider. Submit again.
    _requeue(take, owner)


def _requeue(take: Take, owner: str) -> None:
    """Back to the queue for a fresh create: none of its creates exists at the provider."""
    with transaction.atomic():
        if transition(
            take.pk,
            Status.QUEUED,
            frm=(Status.SUBMITTING,),
            owner=owner,
            lease_owner="",
            lease_expires_at=None,
            submit_uncertain=False,
            create_sent_at=None,
        ):
            enqueue_on_commit(take.pk)


def _delivered(take: Take) -> RemoteVideo | None:
    """The job a verified callback carrying this take's own key named, if no other take has
    it (providers that can't be listed: the callback URL holds the key)."""
    remote_ids = (
        WebhookDelivery.objects.filter(endpoint=take.endpoint, client_key=str(take.client_key))
        .exclude(remote_id="")
        .values_list("remote_id", flat=True)
    )
    for remote_id in remote_ids:
        taken = Take.objects.filter(credential=take.credential, remote_id=remote_id)
        if not taken.exclude(pk=take.pk).exists():
            return _client(take).job_named(remote_id, job_for(take))
    return None


def _identical_in_flight(take: Take) -> bool:
    return (
        Take.objects.filter(
            credential=take.credential,
            status=Status.SUBMITTING,
            submit_uncertain=False,
            composed_prompt=take.composed_prompt,
            model=take.model,
            size=take.size,
            seconds=take.seconds,
            lease_expires_at__isnull=False,
        )
        .exclude(pk=take.pk)
        .exists()
    )


# --- follow ------------------------------------------------------------------------------------


def first_check_delay(info: ModelInfo, seconds: int, webhooks: bool) -> float:
    """With webhooks, only a late safety check; without, near the typical render time."""
    typical = info.typical_render_seconds(seconds)
    return min(max(typical * (4.0 if webhooks else 0.9), FLOOR), CAP * 5)


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
    progress = video.progress or 0
    if 0 < progress < 100:
        remaining = (now - created).total_seconds() * (100 - progress) / progress
        if progress < 10:  # a pace read off the first few percent is mostly noise
            remaining = min(remaining, typical)
    else:
        # ... without one, the typical render runs from when it was first seen running: a wait
        # in the provider's queue is no part of a render.
        running = take.remote_data.get("running_since")
        started = datetime.fromisoformat(running) if running else created
        remaining = max(typical - (now - started).total_seconds(), typical * 0.25)
    return min(max(remaining, typical * 0.1, FLOOR), CAP)


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
    known = _known(take)
    if take.webhook_hint == "completed":
        # A signed "completed": no need to ask again, fetch the video.
        download(take, owner, known)
        return
    try:
        client = _client(take)
        watchable = hasattr(client, "watch") and take.remote_data.get("live") != "unavailable"
        # Behind others on its GPU: nothing to watch yet, one look, paced by its place.
        waiting = take.remote_status == "pending" and take.queue_position is not None
        # Otherwise live events first: the watch's own first look (once subscribed) is the
        # check, so a slice costs no more calls than a poll.
        video = _watch(take, owner, client, known) if watchable and not waiting else None
        video = video or client.retrieve(known)
        if watchable and waiting and video.status == "in_progress":
            video = _watch(take, owner, client, video) or video  # its turn came: watch it
        if video is WATCHED:
            _let_go(take.pk, owner, FLOOR)  # a slice watched: let other takes have a turn
            return
    except NotFound:
        end(
            take.pk,
            Status.FAILED,
            FAILED_MESSAGE.format(detail="the provider no longer knows it"),
            "not_found",
            owner=owner,
        )
        return
    except (Retryable, OutcomeUnknown) as error:
        _retry_later(take, owner, error)
        return
    except (ProviderError, SecretUnreadable, endpoints.EndpointInvalid) as error:
        message = getattr(error, "message", str(error))
        end(
            take.pk,
            Status.FAILED,
            FAILED_MESSAGE.format(detail=message),
            getattr(error, "code", "provider_error"),
            owner=owner,
        )
        return
    crashpoint("mid_poll", take.pk)
    follow(take, owner, video)


WATCHED = object()  # a watch slice ended with the job still running


def _watch(take: Take, owner: str, client, video: RemoteVideo):
    """Follow a provider's live events (ComfyUI's websocket) for a while, saving and pushing
    each change. The job's end state, WATCHED, or None when live events aren't available."""
    keeper = LeaseKeeper(take.pk, owner)
    started = timezone.now()

    def on_update(update: RemoteVideo) -> bool:
        keeper.touch()
        known = update.progress is not None
        still = Take.objects.filter(
            pk=take.pk, lease_owner=owner, status=Status.IN_PROGRESS
        ).update(
            remote_status=update.raw_status,
            progress=min(update.progress, 99) if known else F("progress"),
            progress_known=known,
            stage=update.stage,
            queue_position=update.queue_position,
            updated_at=timezone.now(),
        )
        if still:
            live.progress_changed(take.pk)
        return bool(still)  # cancelled or taken over: stop watching

    def heartbeat() -> bool:
        keeper.touch()
        ours = Take.objects.filter(pk=take.pk, lease_owner=owner, status=Status.IN_PROGRESS)
        return ours.exists()  # a cancel (or a takeover) ends the watch within a second

    try:
        ended = client.watch(video, on_update, settings.SLATE_WATCH_SECONDS, heartbeat)
    except LiveUnavailable as error:
        # Don't knock again at every look: this take is followed by polling from now on.
        log.info("Take %s: %s; polling instead", take.pk, error.message)
        take.remote_data = {**take.remote_data, "live": "unavailable"}
        Take.objects.filter(pk=take.pk, lease_owner=owner).update(remote_data=take.remote_data)
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
    match video.status:
        case "completed":
            download(take, owner, video)
        case "failed":
            code = video.error_code or "failed"
            detail = video.error_message or code
            if code in MODERATION_CODES or "moderation" in detail.lower():
                end(
                    take.pk,
                    Status.REFUSED,
                    REFUSED_MESSAGE.format(detail=detail),
                    code,
                    owner=owner,
                )
            else:
                end(take.pk, Status.FAILED, FAILED_MESSAGE.format(detail=detail), code, owner=owner)
        case "expired":
            end(take.pk, Status.EXPIRED, EXPIRED_MESSAGE, "expired", owner=owner)
        case "cancelled":
            end(
                take.pk,
                Status.CANCELLED,
                "The provider cancelled this job. Nothing was charged.",
                "provider_cancelled",
                owner=owner,
            )
        case _:  # queued, in_progress, or a status the contract doesn't name
            info = info_for(take)
            started = take.submitted_at or take.created_at
            age = (timezone.now() - started).total_seconds()
            limit = max(info.typical_render_seconds(take.seconds) * 20, MIN_RENDER_WAIT)
            if age > limit:
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
            _let_go(
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


# --- stop (providers that can cancel) ---------------------------------------------------------


def stop(take: Take) -> None:
    """A cancelled take whose provider job is running: ask it to stop, then wait until it has."""
    owner = _claim(take, Status.CANCELLING)
    if owner is None:
        return
    known = _known(take)
    try:
        client = _client(take)
        stopped = client.cancel(known) if not take.remote_data.get("cancel_sent") else False
        if not stopped:
            video = client.retrieve(known)
            stopped = video.status in ("cancelled", "failed", "expired", "completed")
    except (Retryable, OutcomeUnknown) as error:
        _retry_later(take, owner, error)
        return
    except (ProviderError, SecretUnreadable, endpoints.EndpointInvalid):
        stopped = True  # nothing more can be done about it; the take is cancelled here
    if stopped:
        transition(
            take.pk,
            Status.CANCELLED,
            frm=(Status.CANCELLING,),
            owner=owner,
            stage="",
            error_message="Cancelled.",
        )
    else:
        _let_go(
            take.pk,
            owner,
            max(FLOOR * 5, 1.0),
            remote_data={**take.remote_data, "cancel_sent": True},
        )


# --- download --------------------------------------------------------------------------------


class _Hashing:
    """A file sink that hashes as it writes: the sha256 without a second read."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)


def download(take: Take, owner: str, video: RemoteVideo) -> None:
    """Stream the provider's bytes unchanged into storage, then complete and charge."""
    expires = video.expires_at or take.expires_at
    if expires and expires <= timezone.now():
        end(take.pk, Status.EXPIRED, EXPIRED_MESSAGE, "expired", owner=owner)
        return
    scratch = Path(settings.SCRATCH_DIR) / f"take-{take.pk}-{secrets.token_hex(4)}"
    scratch.mkdir(parents=True, exist_ok=True)
    keeper = LeaseKeeper(take.pk, owner)
    try:
        Take.objects.filter(pk=take.pk, lease_owner=owner).update(stage="downloading")
        path = scratch / "video.mp4"
        with path.open("wb") as handle:
            sink = _Hashing(handle)
            for _ in _client(take).download(video, sink):
                crashpoint("mid_download", take.pk)
                keeper.touch()  # a long download keeps its lease
        stored = assets.store(take, path, sink.digest.hexdigest(), touch=keeper.touch)
        completed = False
        try:
            completed = complete(take.pk, owner, stage="", **stored)
        finally:
            if not completed:
                assets.delete(stored)
    except NotFound:
        end(take.pk, Status.EXPIRED, EXPIRED_MESSAGE, "expired", owner=owner)
    except (Retryable, OutcomeUnknown) as error:
        _retry_later(take, owner, error, webhook_hint=take.webhook_hint)
    except assets.NotAVideo as error:
        end(
            take.pk,
            Status.FAILED,
            FAILED_MESSAGE.format(detail=str(error)),
            "not_a_video",
            owner=owner,
        )
    except TakeLost:
        log.info("Take %s was cancelled while downloading", take.pk)
    except (ProviderError, SecretUnreadable, endpoints.EndpointInvalid) as error:
        message = getattr(error, "message", str(error))
        end(
            take.pk,
            Status.FAILED,
            FAILED_MESSAGE.format(detail=message),
            getattr(error, "code", "provider_error"),
            owner=owner,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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


def wake_by_key(endpoint, key: str) -> None:
    """A callback for a job no take knows yet, carrying a take's own key: that take's create
    answer was lost. Wake it so reconcile adopts the job the callback names."""
    try:
        uuid.UUID(key)
    except ValueError:
        return
    with transaction.atomic():
        take = (
            Take.objects.filter(endpoint=endpoint, client_key=key, status=Status.SUBMITTING)
            .only("pk")
            .first()
        )
        if take:
            Take.objects.filter(pk=take.pk).update(next_check_at=timezone.now())
            enqueue_on_commit(take.pk)
