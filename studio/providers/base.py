"""The small interface every provider implements, and the errors they raise.

Two kinds: local renderers write the MP4 themselves (`render`); remote
providers are asked to create a job, then followed (`create`, `retrieve`,
`list_recent`, `download`, `delete`, and optional native operations).
Errors say whether trying again can help; the engine decides what to do.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from studio.prompts import Shot

# Error codes that mean the provider's moderation refused the shot (not a failure).
MODERATION_CODES = ("moderation_blocked", "content_policy_violation", "content_filter")


class ProviderError(Exception):
    """A provider call failed. ``message`` is for the creator, ``code`` for support."""

    retryable = False

    def __init__(self, message: str, code: str = "provider_error", *, retry_after=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after


class Retryable(ProviderError):
    """Nothing was done (or the call is idempotent): the same call may be tried again."""

    retryable = True


class RateLimited(Retryable):
    """429: wait at least ``retry_after`` seconds before any call with this credential."""


class OutcomeUnknown(ProviderError):
    """The request may have reached the provider (timeout, dropped connection, 5xx after
    sending). Never repeat a create on this: reconcile first."""


class Refused(ProviderError):
    """The provider's moderation refused the prompt or the image."""


class NotFound(ProviderError):
    pass


class LiveUnavailable(ProviderError):
    """The provider's live event stream can't be opened here (a proxy that doesn't pass
    websockets, say): follow the job by polling instead."""


class BadRequest(ProviderError):
    """The provider rejected the request as invalid; repeating it cannot help."""


class TooLarge(ProviderError):
    """A download announced or sent more than its ``limit`` in bytes: it was stopped there."""

    def __init__(self, limit: int):
        super().__init__(f"The provider sent more than {limit} bytes.", "too_large")
        self.limit = limit


@dataclass(frozen=True)
class Job:
    """What a provider needs to know about a take: no model instances cross this line."""

    take_id: int
    shot: Shot
    prompt: str
    width: int
    height: int
    seconds: int
    seed: int
    model: str = ""
    reference: Path | None = None  # a first-frame image, already fitted to the size
    # A last-frame image too, where the model takes one (a native loop: its first frame).
    last_frame: Path | None = None
    negative_prompt: str = ""
    sound: bool = True
    # The model's own words for the size, and how its request spells fields (catalogue).
    aspect: str = ""
    resolution: str = ""
    wire: dict = field(default_factory=dict)
    workflow: str = ""  # comfyui: the template
    fps: int = 24
    key: str = ""  # Slate's own unique key for the take (providers that take an id of ours)
    # A native follow-up of a finished job: "remix" or "extend" ("" for a new generation),
    # the provider's id of that job, and its length (an extension reports the total).
    operation: str = ""
    source_id: str = ""
    source_seconds: int = 0

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


# Called with the fraction done (0..1); may raise to stop the render.
ProgressCallback = Callable[[float], None]


class LocalProvider(Protocol):
    kind: str

    def render(self, job: Job, out_path: Path, on_progress: ProgressCallback) -> None:
        """Write the finished MP4 to ``out_path``."""


@dataclass(frozen=True)
class RemoteVideo:
    """A provider's view of one job, normalised. ``status`` is queued, in_progress,
    completed, failed, cancelled, expired, or unknown (a value the contract lacks).

    ``progress`` is a real percentage when the provider reports one, else None: Slate
    then shows the stage, queue position and elapsed time instead of inventing one.
    ``data`` is what the provider needs to find the job again (status and result
    URLs, output file names…); it is saved on the take.
    """

    id: str
    status: str
    raw_status: str = ""
    progress: int | None = None
    stage: str = ""
    queue_position: int | None = None
    asset_url: str = ""
    data: dict = field(default_factory=dict)
    model: str = ""
    prompt: str = ""
    size: str = ""
    seconds: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    error_code: str = ""
    error_message: str = ""
    poll_after: float | None = None  # seconds, when the provider suggests one
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    videos: list[RemoteVideo]
    has_more: bool
    last_id: str | None


# find_created's answers when it has no video: the create never arrived (safe to send
# again), or this provider can't say (then Slate never sends it twice).
NOT_CREATED = "not created"
UNKNOWABLE = "unknowable"


@dataclass(frozen=True)
class Submission:
    """What a create carries besides the job: Slate's own key for it, and where to call back."""

    key: str  # unique per take; providers that accept an id of ours get this one
    webhook_url: str = ""
    since: datetime | None = None  # when Slate first tried to create it


class RemoteProvider(Protocol):
    kind: str
    can_cancel: bool

    def create(self, job: Job, submission: Submission) -> RemoteVideo: ...

    def retrieve(self, video: RemoteVideo) -> RemoteVideo:
        """The job's state now (``video`` holds the id and data saved from before)."""
        ...

    def find_created(self, job: Job, submission: Submission) -> list[RemoteVideo] | str:
        """After an unknown outcome: the jobs this create may have made (newest first),
        NOT_CREATED, or UNKNOWABLE."""
        ...

    def job_named(self, remote_id: str, job: Job) -> RemoteVideo:
        """A job known only by its id (a verified callback named it)."""
        ...

    def check(self) -> str:
        """Whether the endpoint answers and the key works: a phrase, or raises ProviderError."""
        ...

    def download(
        self, video: RemoteVideo, sink: BinaryIO, limit: int | None = None
    ) -> Iterator[int]:
        """Stream the finished video into ``sink``; yields the byte count after each chunk.
        Raises TooLarge, before writing past it, once more than ``limit`` bytes are
        announced (Content-Length) or arrive."""
        ...

    def cancel(self, video: RemoteVideo) -> bool:
        """Ask the provider to stop; True once it has (False: it stops on its own time)."""
        ...

    def delete(self, video: RemoteVideo) -> None: ...
