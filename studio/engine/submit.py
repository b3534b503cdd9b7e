"""Submit exactly once: a remote take's create, and the reconcile of a lost answer.

The take is saved as `submitting` (committed) before create is called, and the
lease is renewed (compare-and-set on the owner) right before each send: a
worker that lost the take never sends. A create whose outcome is unknown
(timeout, dropped connection, 5xx or an unreadable answer after sending) or
whose answer died with its worker is never repeated blindly: the provider is
asked what exists (listing and matching, or by Slate's own key) for a grace
period, and only when it says nothing was created is the take submitted
again. A provider that can't be asked gets no second create: the take ends
with a message saying so. A job is adopted by one take only (a unique
constraint on account and job id), so two identical takes can never claim
the same job. A job a restarted ComfyUI forgot goes back through the same
create once, under the same id (``submit_again``): the server had it no more.
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from studio import crashpoints, live
from studio.models import Status, Take, WebhookDelivery
from studio.progress import retry_stage
from studio.providers import endpoints
from studio.providers.base import (
    NOT_CREATED,
    UNKNOWABLE,
    OutcomeUnknown,
    ProviderError,
    Refused,
    RemoteVideo,
    Retryable,
)
from studio.takes import end, enqueue_on_commit, transition

from . import calls, leases, pacing
from .errors import UNKNOWABLE_MESSAGE, fail, refuse
from .leases import TakeLost, claim, lease_deadline, lease_is_free, new_lease_owner
from .pacing import CAP, EVENT_HINTS, MAX_RETRIES, first_check_delay, let_go, retry_later, schedule

log = logging.getLogger(__name__)


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
    crashpoints.crashpoint("before_create", take.pk)
    take.refresh_from_db()
    try:
        client = calls.client(take, owner, creating=True)
        # Before the create: a crash after it is sent must find the take "sent".
        Take.objects.filter(pk=take.pk, lease_owner=owner).update(create_sent_at=timezone.now())
        video = client.create(calls.job_for(take), calls.submission(take))
    except TakeLost:
        log.info("Take %s was cancelled or taken over before its create was sent", take.pk)
        return
    except Refused as error:
        refuse(take.pk, owner, error.message, error.code)
        return
    except OutcomeUnknown:
        # It may exist at the provider: look for it before ever creating again.
        let_go(take.pk, owner, min(pacing.grace_seconds() / 2, 10.0), submit_uncertain=True)
        return
    except Retryable as error:
        # Nothing was created (refused before processing, or unreachable): try later.
        if take.retries >= MAX_RETRIES:
            fail(take.pk, owner, error)
            return
        _requeue(
            take,
            owner,
            after=pacing.backoff(take, error),
            retries=F("retries") + 1,
            stage=retry_stage(error.message or str(error)),
        )
        return
    except ProviderError as error:
        fail(take.pk, owner, error)
        return
    crashpoints.crashpoint("after_create", take.pk)
    _adopt(take, owner, video)


def _adopt(take: Take, owner: str, video: RemoteVideo) -> None:
    """The provider has the job: remember it and plan the first check."""
    delay = first_check_delay(
        endpoints.info_for(take),
        take.seconds,
        take.endpoint.has_webhooks,
        live=endpoints.followed_live(take.endpoint),
    )
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
                Take.objects.filter(pk=take.pk).update(next_check_at=schedule(take.pk, delay))
    except IntegrityError:
        # Another take of this account already holds that job (an identical take whose
        # create raced ours): ours is unknown again, and reconciled like any other.
        let_go(take.pk, owner, pacing.grace_seconds() / 2, submit_uncertain=True)
        return
    if not adopted:
        _abandon(take, video)


def _abandon(take: Take, video: RemoteVideo) -> None:
    """A job created for a take that ended meanwhile (cancelled): stop it if the provider can."""
    try:
        client = calls.client(take)
        if client.can_cancel:
            client.cancel(video)
        else:
            client.delete(video)
    except ProviderError as error:
        log.warning(
            "Take %s ended before its provider job %s was known; the job could not be stopped (%s)",
            take.pk,
            video.id,
            error,
        )


# --- reconcile -------------------------------------------------------------------------------


def reconcile(take: Take) -> None:
    """A create may have happened: adopt the provider's job, or submit again once it is sure."""
    owner = claim(take, Status.SUBMITTING)
    if owner is None:
        return
    if take.create_sent_at is None:
        # Its worker died before sending any create: nothing can exist. Submit it.
        _requeue(take, owner)
        return
    if _identical_in_flight(take):
        # An identical take's create is on the wire: wait, or we might claim its job.
        let_go(take.pk, owner, pacing.FLOOR * 5)
        return
    try:
        if delivered := _named_by_callback(take, owner):
            log.info("Take %s: its callback named job %s", take.pk, delivered.id)
            _adopt(take, owner, delivered)
            return
        client = calls.client(take, owner)
        found = client.find_created(calls.job_for(take), calls.submission(take))
    except TakeLost:
        log.info("Take %s: %s", take.pk, leases.lost_because(take.pk))
        return
    except (Retryable, OutcomeUnknown) as error:
        retry_later(take, owner, error)
        return
    except ProviderError as error:
        fail(
            take.pk,
            owner,
            error,
            message="Slate couldn't confirm with the provider whether this take was started "
            "({detail}). Nothing was charged.",
            code="reconcile_failed",
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
    if waited < pacing.grace_seconds():
        # A create that timed out may still be arriving: ask again before deciding.
        let_go(take.pk, owner, max(pacing.grace_seconds() - waited, pacing.FLOOR))
        return
    if found == UNKNOWABLE:
        # Only a callback can still name the job: wait for it as long as a render takes.
        patience = pacing.grace_seconds() + 4 * endpoints.info_for(take).typical_render_seconds(
            take.seconds
        )
        if take.endpoint.has_webhooks and waited < patience:
            let_go(take.pk, owner, min(max(patience - waited, pacing.FLOOR), CAP))
            return
        end(take.pk, Status.FAILED, UNKNOWABLE_MESSAGE, "outcome_unknown", owner=owner)
        return
    # Not there, well after the create: it never reached the provider. Submit again.
    _requeue(take, owner)


def submit_again(take: Take, owner: str) -> bool:
    """A job the provider has forgotten (a restarted ComfyUI): back to the queue to be
    submitted again under the same id (the take's own key), through the same exactly-once
    create as the first time. Once only: ``remote_data`` remembers it, and a job lost a
    second time ends the take. Whether it went back (False: not a provider whose jobs may
    be sent again, or already sent again once)."""
    if take.endpoint.kind not in endpoints.RESUBMIT_KINDS or take.remote_data.get("resubmitted"):
        return False
    log.warning("Take %s: the provider forgot job %s; submitting it again", take.pk, take.remote_id)
    _requeue(
        take,
        owner,
        frm=(Status.IN_PROGRESS,),
        remote_id="",
        remote_status="",
        remote_data={"resubmitted": True},
        progress=0,
        progress_known=False,
        stage="",
        queue_position=None,
        webhook_hint="",
        next_check_at=None,
        retries=0,
    )
    return True


def _requeue(
    take: Take,
    owner: str,
    *,
    after: float | None = None,
    frm: tuple[str, ...] = (Status.SUBMITTING,),
    **fields,
) -> None:
    """Back to the queue for a fresh create (now, or ``after`` seconds): none of its creates
    exists at the provider (so no stage of one either, unless ``fields`` say why it waits)."""
    fields.setdefault("stage", "")
    with transaction.atomic():
        if transition(
            take.pk,
            Status.QUEUED,
            frm=frm,
            owner=owner,
            lease_owner="",
            lease_expires_at=None,
            submit_uncertain=False,
            create_sent_at=None,  # nothing is out there: no create of it arrived
            **fields,
        ):
            if after is None:
                enqueue_on_commit(take.pk)
            else:
                Take.objects.filter(pk=take.pk).update(next_check_at=schedule(take.pk, after))


def _named_by_callback(take: Take, owner: str) -> RemoteVideo | None:
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
            return calls.client(take, owner).job_named(remote_id, calls.job_for(take))
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
