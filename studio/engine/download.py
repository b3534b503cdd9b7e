"""Copy a finished job's video into storage: the provider's bytes, unchanged.

The bytes are streamed to a scratch file (hashed as they arrive, the lease
renewed as they come), checked and stored (assets.py), and only then is the
take completed and charged; whatever goes wrong leaves no file behind. A
download is capped (download_limit): a provider can't fill the disk.
"""

import hashlib
import logging
import secrets
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from studio import crashpoints
from studio.models import Take
from studio.providers.base import (
    NotFound,
    OutcomeUnknown,
    ProviderError,
    RemoteVideo,
    Retryable,
    TooLarge,
)
from studio.takes import complete

from . import assets, calls, edits, leases
from .errors import expire, fail
from .leases import LeaseKeeper, TakeLost
from .pacing import retry_later

log = logging.getLogger(__name__)
MB = 1024 * 1024
# A lossy video of high quality is well under 1 byte per pixel-second (H.264 at a
# generous 0.1 bit per pixel and frame, 24 fps, is 0.3): a file above that is not the
# video that was asked for. Short clips get a floor so no real model meets the cap.
BYTES_PER_PIXEL_SECOND = 1.0
PLAUSIBLE_FLOOR = 64 * MB
TOO_LARGE_MESSAGE = (
    "The provider sent more than {mb:g} MB for a {seconds} s {size} video; Slate stopped "
    "the download. Nothing was charged."
)


def download_limit(seconds: int, width: int, height: int) -> int:
    """The most bytes a take's video may be: what the model could plausibly make, and
    never more than the install's SLATE_MAX_DOWNLOAD_BYTES."""
    plausible = max(PLAUSIBLE_FLOOR, int(seconds * width * height * BYTES_PER_PIXEL_SECOND))
    return min(plausible, settings.SLATE_MAX_DOWNLOAD_BYTES)


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
        expire(take.pk, owner)
        return
    scratch = Path(settings.SCRATCH_DIR) / f"take-{take.pk}-{secrets.token_hex(4)}"
    scratch.mkdir(parents=True, exist_ok=True)
    keeper = LeaseKeeper(take.pk, owner)
    try:
        Take.objects.filter(pk=take.pk, lease_owner=owner).update(stage="downloading")
        path = scratch / "video.mp4"
        limit = download_limit(take.seconds, take.width, take.height)
        with path.open("wb") as handle:
            sink = _Hashing(handle)
            for _ in calls.client(take, owner).download(video, sink, limit=limit):
                crashpoints.crashpoint("mid_download", take.pk)
                keeper.touch()  # a long download keeps its lease
        finished = edits.finish(take, path, scratch)  # a chained extend: parent + this
        digest = sink.digest.hexdigest() if finished == path else None
        stored = assets.store(take, finished, digest, touch=keeper.touch)
        completed = False
        try:
            completed = complete(take.pk, owner, stage="", **stored)
        finally:
            if not completed:
                assets.delete(stored)
    except NotFound:
        expire(take.pk, owner)
    except TooLarge as error:
        mb = round(error.limit / MB, 1)
        said = TOO_LARGE_MESSAGE.format(mb=mb, seconds=take.seconds, size=take.size)
        fail(take.pk, owner, error, message=said)
    except (Retryable, OutcomeUnknown) as error:
        retry_later(take, owner, error, webhook_hint=take.webhook_hint)
    except (assets.NotAVideo, edits.SourceGone) as error:
        fail(take.pk, owner, ProviderError(str(error), "not_a_video"))
    except TakeLost:
        log.info("Take %s: %s; stopped downloading", take.pk, leases.lost_because(take.pk))
    except ProviderError as error:
        fail(take.pk, owner, error)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
