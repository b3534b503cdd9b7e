"""A finished video into storage: probed, with its poster and hover spritesheet.

Files are written to storage before the take points at them; if any step fails,
or the take is not completed after all (cancelled meanwhile), the files already
written are deleted again, so nothing unreferenced is left behind. A worker
killed halfway can't clean up, so each store first clears what an earlier,
interrupted store of the same take left in its folder.
"""

import secrets
from collections.abc import Callable
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

from studio import crashpoints, media
from studio.models import Take


class NotAVideo(Exception):
    pass


def store(
    take: Take,
    video_path: Path,
    sha256: str | None = None,
    touch: Callable[[], None] = lambda: None,
) -> dict:
    """Probe and copy a finished MP4 (bytes unchanged) and its pictures; returns Take fields.

    ``touch`` is called between the slow parts (a lease keeper's, for long clips).
    """
    poster, sprites = video_path.with_name("poster.jpg"), video_path.with_name("sprites.jpg")
    try:
        probe = media.probe(video_path)
        touch()
        media.write_poster(video_path, poster)
        touch()
        media.write_spritesheet(video_path, sprites)
        touch()
    except Exception as error:  # PyAV and Pillow raise many kinds for garbage input
        raise NotAVideo(f"the file is not a playable video ({type(error).__name__})") from error
    folder = f"takes/{take.workspace_id}/{take.pk}"
    _clear_leftovers(take, folder)
    token = secrets.token_hex(4)
    stored = {"video_sha256": sha256 or media.sha256_of(video_path), "probe": probe}
    try:
        for field, path, name in (
            ("video", video_path, f"take-{take.pk}-{token}.mp4"),
            ("poster", poster, f"poster-{token}.jpg"),
            ("spritesheet", sprites, f"sprites-{token}.jpg"),
        ):
            with path.open("rb") as handle:
                stored[field] = default_storage.save(f"{folder}/{name}", File(handle))
            crashpoints.crashpoint("mid_store", take.pk)
            touch()
    except BaseException:
        delete(stored)
        raise
    return stored


def _clear_leftovers(take: Take, folder: str) -> None:
    """Delete files in the take's folder that it doesn't point at (a killed store's)."""
    kept = {getattr(take, field).name for field in ("video", "poster", "spritesheet")}
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        if f"{folder}/{name}" not in kept:
            default_storage.delete(f"{folder}/{name}")


def delete(stored: dict) -> None:
    for field in ("video", "poster", "spritesheet"):
        if stored.get(field):
            default_storage.delete(stored[field])
