"""What a take's progress honestly says.

A percentage only where the backend reports one (the /v1/videos API, the
animatic, ComfyUI samplers that count steps). Elsewhere (fal, a ComfyUI graph
without a sampler) the take shows its stage, its place in the provider's queue
and the time elapsed against the model's typical render: never an invented
percentage.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from studio.models import Status, Take
from studio.providers.endpoints import info_for


@dataclass(frozen=True)
class Progress:
    percent: int | None  # None: no percentage known (the bar is indeterminate)
    label: str
    since: datetime | None = None  # the elapsed clock runs from here (ticks in the page)
    typical: int | None = None  # seconds this model usually takes for a take like it

    @property
    def elapsed(self) -> str:
        return clock(max((timezone.now() - self.since).total_seconds(), 0)) if self.since else ""

    @property
    def usually(self) -> str:
        return clock(self.typical) if self.typical else ""


def clock(seconds: float) -> str:
    """0:07, 1:30, 12:05, 1:02:00."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# A queued take whose last create couldn't reach its provider keeps the reason in its stage
# (the engine writes it; a create that goes through replaces it): the card says why it waits.
RETRY_STAGE = "retry: "


def retry_stage(reason: str) -> str:
    return (RETRY_STAGE + reason)[: Take._meta.get_field("stage").max_length]


def queue_label(position: int | None) -> str:
    """Only while the provider's own queue says the job waits (its place, where known)."""
    if position is None:
        return "In queue"
    if position == 0:
        return "In queue · next"
    return f"In queue · {position} ahead"


def running_label(stage: str) -> str:
    """What runs, as the backend names it: "Rendering · KSampler: step 3/20"."""
    if not stage or stage == "rendering":
        return "Rendering"
    return f"Rendering · {stage}"


def progress_of(take: Take) -> Progress:
    if take.status == Status.QUEUED and take.retries and take.stage.startswith(RETRY_STAGE):
        reason = take.stage.removeprefix(RETRY_STAGE).rstrip(".")
        return Progress(None, f"Trying again soon · {reason} (tried {take.retries}×)")
    if take.status == Status.QUEUED:
        return Progress(
            None,
            "Waiting for the renderer…" if take.endpoint_id is None else "Waiting for a worker…",
        )
    if take.status == Status.SUBMITTING:
        return Progress(None, f"Sending to {take.provider}…")
    if take.status == Status.CANCELLING:
        return Progress(None, "Cancelling… the provider stops at its next step")
    if take.stage == "downloading":
        return Progress(100 if take.progress_known else None, "Copying the video into Slate…")
    if take.progress_known and (take.progress or take.endpoint_id is None):
        return Progress(take.progress, f"{take.progress}% rendered")
    if take.stage == "queued" or take.queue_position:
        label = queue_label(take.queue_position)
    elif take.stage == "sent":  # submitted; its first look is under way
        label = f"Sent to {take.provider}"
    else:
        label = running_label(take.stage)
    started = take.create_sent_at or take.submitted_at or take.started_at
    return Progress(None, label, since=started, typical=_typical(take))


def _typical(take: Take) -> int | None:
    seconds = info_for(take).typical_render_seconds(take.seconds)
    return round(seconds) if seconds >= 1 else None
