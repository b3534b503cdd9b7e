"""Reference images kept per workspace: add (the whole cleaning pipeline), fit, preview."""

import io
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction

from . import images, media
from .inputs import parse_size
from .models import Reference, Take, Workspace

PREVIEW_WIDTH = 480


def add_reference(workspace: Workspace, data: bytes, name: str, user=None) -> Reference:
    """Clean an upload and keep it. Raises images.ImageRejected; nothing is stored then."""
    return keep(workspace, images.normalize(data), name, user)


def keep(workspace: Workspace, normalized: images.Normalized, name: str, user=None) -> Reference:
    with transaction.atomic():
        return Reference.objects.create(
            workspace=workspace,
            uploaded_by=user,
            label=images.safe_label(name),
            image=ContentFile(normalized.jpeg(), name="reference.jpg"),
            width=normalized.image.width,
            height=normalized.image.height,
            source_format=normalized.source_format,
        )


def _open(reference: Reference):
    from PIL import Image

    with reference.image.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image.convert("RGB")


def first_frame(reference: Reference, size: str, how: images.Fit) -> bytes:
    """The reference at exactly ``size``, as the first frame a provider receives."""
    width, height = parse_size(size)
    return images.as_first_frame(images.fit(_open(reference), width, height, how))


def last_frame(take: Take, size: str) -> bytes:
    """A finished take's very last picture as the first frame of a take that continues it
    (an extend, a board card that starts where the card before it ends), at ``size``:
    cropped to fill when it differs (a provider may send another size than asked)."""
    return _frame_of(take, size, media.last_frame_jpeg)


def opening_frame(take: Take, size: str) -> bytes:
    """A finished take's very first picture, at ``size`` (a native loop starts and ends
    on it)."""
    return _frame_of(take, size, media.first_frame_jpeg)


def _frame_of(take: Take, size: str, grab) -> bytes:
    # Storage may be remote: the frame is read from a local copy of the video.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "video.mp4"
        with take.video.open("rb") as source, path.open("wb") as copy:
            shutil.copyfileobj(source, copy, 1 << 20)
        return images.fit_frame(grab(path), size)


def preview_jpeg(reference: Reference, size: str, how: images.Fit) -> bytes:
    """What the first frame will look like, small enough to show beside the composer."""
    width, height = parse_size(size)
    scale = PREVIEW_WIDTH / max(width, height)
    small = (max(round(width * scale), 1), max(round(height * scale), 1))
    out = io.BytesIO()
    images.fit(_open(reference), *small, how).save(out, "JPEG", quality=82)
    return out.getvalue()


def fit_record(how: images.Fit) -> dict:
    return asdict(how)
