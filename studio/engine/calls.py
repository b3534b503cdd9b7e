"""What the engine hands a provider: the take as a job, and a client wired to the lease."""

from pathlib import Path

from django.conf import settings
from django.db.models import F

from studio.models import Method, Operation, Take
from studio.prompts import Shot
from studio.providers import endpoints
from studio.providers.base import Job, ProviderError, RemoteVideo, Submission
from studio.secretbox import SecretUnreadable

from .leases import lease_deadline, renew


def job_for(take: Take) -> Job:
    shot = Shot(**{name: getattr(take, name) for name in Shot.__dataclass_fields__})
    info = endpoints.info_for(take)
    aspect, resolution = info.shape(take.size)
    # A native remix or extension is the provider's follow-up of the parent's job; a native
    # loop is a new generation, given a last frame (lineage.loop).
    native = take.method == Method.NATIVE and take.operation in (Operation.REMIX, Operation.EXTEND)
    source = take.parent if native and take.parent_id else None
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
        last_frame=Path(take.end_frame.path) if take.end_frame else None,
        negative_prompt=take.negative_prompt,
        sound=take.sound,
        aspect=aspect,
        resolution=resolution,
        wire=info.wire,
        workflow=info.workflow,
        fps=info.fps,
        key=str(take.client_key),
        operation=take.operation if source else "",
        source_id=source.remote_id if source else "",
        source_seconds=round(source.probe.get("duration") or source.seconds) if source else 0,
    )


def client(take: Take, owner: str | None = None, *, creating: bool = False):
    """The take's provider client. With ``owner``, every call first renews the lease (a
    worker that lost the take never sends), keeps renewing it while the call waits for
    the rate limiter, and drops it back to normal once answered. Calls are counted once
    sent (``creating``: as creates too).

    An endpoint that can't be used (its key can't be unsealed, its address is refused)
    raises ProviderError like any other provider trouble: one family for the steps."""

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

    def count_call():
        counted = {"provider_calls": F("provider_calls") + 1}
        if creating:
            counted["create_calls"] = F("create_calls") + 1
        Take.objects.filter(pk=take.pk).update(**counted)

    def waiting():
        if owner:  # raises TakeLost when the take is no longer ours: stop waiting
            renew(take.pk, owner)

    try:
        return endpoints.client_for(
            take.endpoint,
            retry_offset=take.retries,
            before_send=still_ours,
            after_send=answered,
            on_call=count_call,
            waiting=waiting,
        )
    except (SecretUnreadable, endpoints.EndpointInvalid) as error:
        raise ProviderError(str(error)) from error


def known(take: Take) -> RemoteVideo:
    """The provider job as last seen (its id and the data saved from before)."""
    data = take.remote_data or {}
    return RemoteVideo(
        id=take.remote_id, status=take.remote_status, data=data, asset_url=data.get("asset_url", "")
    )


def submission(take: Take) -> Submission:
    hook = ""
    if take.endpoint.has_webhooks:
        hook = endpoints.webhook_url(take.endpoint, key=str(take.client_key))
    return Submission(key=str(take.client_key), webhook_url=hook, since=take.submitted_at)
