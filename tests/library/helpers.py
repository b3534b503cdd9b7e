"""Takes for library tests: rows made directly (fast), with a file where one is needed."""

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from studio.models import Status, Take


def make_take(workspace, prompt="a lighthouse at dusk", *, video: bytes = b"", age_days=0, **f):
    fields = {
        "composed_prompt": prompt,
        "subject": prompt,
        "size": "1280x720",
        "seconds": 4,
        "seed": 1,
        "model": "animatic",
        "status": Status.COMPLETED,
        **f,
    }
    take = Take.objects.create(workspace=workspace, **fields)
    if age_days:
        Take.objects.filter(pk=take.pk).update(created_at=timezone.now() - timedelta(days=age_days))
        take.refresh_from_db()
    if video:
        take.video.save(f"take-{take.pk}.mp4", ContentFile(video), save=False)
        take.video_sha256 = hashlib.sha256(video).hexdigest()
        take.save(update_fields=["video", "video_sha256"])
    return take


def cost(text: str) -> Decimal:
    return Decimal(text)
