"""Copy a finished job's video into storage: the provider's bytes, unchanged.

The bytes are streamed to a scratch file (hashed as they arrive, the lease
renewed as they come), checked and stored (assets.py), and only then is the
take completed and charged; whatever goes wrong leaves no file behind.
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
from studio.providers.base import NotFound, OutcomeUnknown, ProviderError, RemoteVideo, Retryable
from studio.takes import complete

from . import assets, calls
from .errors import expire, fail
from .leases import LeaseKeeper, TakeLost
from .pacing import retry_later

log = logging.getLogger(__name__)


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
        with path.open("wb") as handle:
            sink = _Hashing(handle)
            for _ in calls.client(take).download(video, sink):
                crashpoints.crashpoint("mid_download", take.pk)
                keeper.touch()  # a long download keeps its lease
        stored = assets.store(take, path, sink.digest.hexdigest(), touch=keeper.touch)
        completed = False
        try:
            completed = complete(take.pk, owner, stage="", **stored)
        finally:
            if not completed:
                assets.delete(stored)
    except NotFound:
        expire(take.pk, owner)
    except (Retryable, OutcomeUnknown) as error:
        retry_later(take, owner, error, webhook_hint=take.webhook_hint)
    except assets.NotAVideo as error:
        fail(take.pk, owner, ProviderError(str(error), "not_a_video"))
    except TakeLost:
        log.info("Take %s was cancelled while downloading", take.pk)
    except ProviderError as error:
        fail(take.pk, owner, error)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
