"""Slate's own media work on takes it already has: local operations (re-cut, loop, blend)
and the join that finishes a chained extend (the parent, then its continuation) or a
bridging blend (the first take, the bridge, the second).

The sources' files are copied into the take's scratch folder first (storage may be
remote); the result is a new MP4 there, stored like any render (assets.py). Sources
are never modified.
"""

import shutil
from collections.abc import Callable
from pathlib import Path

from studio import media
from studio.animatic.render import X264 as ANIMATIC_X264
from studio.models import Method, Operation, Take

Progress = Callable[[float], None]

# x264 options a source may have been encoded with here (an animatic, or an edit that was
# re-encoded): a loop or a re-cut of such a take copies its whole GOPs instead of encoding them.
ENCODINGS = (ANIMATIC_X264, media.EDIT_X264)


class SourceGone(Exception):
    """A source take's video is no longer there (deleted since the edit was asked)."""


def _local_copy(take: Take | None, scratch: Path, name: str) -> Path:
    if take is None or not take.video:
        raise SourceGone("a source take's video is no longer there")
    path = scratch / name
    with take.video.open("rb") as source, path.open("wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
    return path


def produce(take: Take, scratch: Path, on_progress: Progress) -> Path:
    """Make a local edit's video in ``scratch``, as ``take.edit`` describes it."""
    edit = take.edit or {}
    out = scratch / "video.mp4"
    parent = _local_copy(take.parent, scratch, "source-a.mp4")
    on_progress(0.05)
    match take.operation:
        case Operation.RECUT:
            media.trim(
                parent, out, edit["start"], edit["end"], _scaled(on_progress), encodings=ENCODINGS
            )
        case Operation.LOOP:
            media.loop(parent, out, edit["fade"], _scaled(on_progress), encodings=ENCODINGS)
        case Operation.BLEND:
            other = _local_copy(take.blend_with, scratch, "source-b.mp4")
            media.join([parent, other], out, edit["seconds"], _scaled(on_progress))
        case _:
            raise ValueError(f"{take.operation} is not a local operation")
    return out


def finish(take: Take, rendered: Path, scratch: Path) -> Path:
    """What a render becomes the take's video: a chained extend's continuation is joined
    after its parent into one MP4, a bridging blend's bridge between its two takes (first
    + bridge + second, at the first's size); anything else is kept as rendered."""
    if take.method != Method.CHAINED or take.operation not in (Operation.EXTEND, Operation.BLEND):
        return rendered
    parts = [_local_copy(take.parent, scratch, "parent.mp4"), rendered]
    if take.operation == Operation.BLEND:
        parts.append(_local_copy(take.blend_with, scratch, "second.mp4"))
    joined = scratch / "joined.mp4"
    media.join(parts, joined)
    return joined


def _scaled(on_progress: Progress) -> Progress:
    return lambda fraction: on_progress(0.05 + 0.9 * fraction)
