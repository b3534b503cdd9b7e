"""Operations on a take, each making a child take: check, then queue.

- remix: the parent's shot with edited fields, generated again with the parent's
  model, size, seconds, seed and first frame (``chained``).
- variation: 2–4 siblings of the parent's shot with new seeds (``chained``: N jobs).
- extend: the parent's last frame becomes the first frame of a continuation, which
  the engine joins after the parent into one MP4 (``chained``).
- recut, loop, blend: Slate's own media work on videos it has (``local``, free). Where
  the model takes a last frame as well as a first, a loop is a generation that ends on
  its first frame (``native``), and a blend a generated bridge from the first take's
  last frame to the second's first, joined between them (``chained``).

Where the parent's provider can remix or extend its own finished job (OpenAI's
``/videos/edits``, ``/videos/{id}/remix``, ``/videos/extensions``: the model's
catalogue entry and the endpoint's profile say so), that is used instead (``native``);
its result comes back whole from the provider.

Each check runs before anything is stored, and a refusal says why in a sentence
(LineageRefused); chained operations are priced and held like any take
(takes.queue_take), local ones hold and charge nothing (takes.queue_edit).
"""

import math
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from . import references, takes
from .models import Method, Operation, Status, Take
from .prompts import SHOT_FIELDS, Shot, compose
from .providers.endpoints import find_target, native_operations, takes_last_frame

EXTENSION_TOTAL = 120  # seconds a natively extended video may reach (docs/videos-api.md §3)
VARIATIONS = (2, 4)  # fewest and most siblings one request makes
LOOP_FADE = 1.0  # seconds, at most a quarter of the clip
BLEND_SECONDS = 1.0
# What "take diff" and the compare view set side by side.
DIFF_FIELDS = (
    *SHOT_FIELDS,
    "negative_prompt",
    "provider",
    "model",
    "size",
    "seconds",
    "seed",
    "sound",
    "operation",
    "method",
)


class LineageRefused(ValueError):
    """An operation that can't be done as asked; the message says why and what would work.
    Nothing was stored or spent."""


def _ready(take: Take, what: str = "the take") -> None:
    if take.status != Status.COMPLETED or not take.video:
        raise LineageRefused(
            f"Take {take.pk} is {take.get_status_display().lower()}: only a completed take "
            f"can be used for this ({what})."
        )


def _finite(*seconds: float) -> None:
    if not all(math.isfinite(value) for value in seconds):
        raise LineageRefused("Times are numbers of seconds, like 1.5.")


def _shot_of(take: Take) -> Shot:
    return Shot(**{name: getattr(take, name) for name in SHOT_FIELDS})


def _fps(take: Take) -> float:
    return float(take.probe.get("fps") or 24)


def _frames(take: Take) -> int:
    return int(take.probe.get("frames") or round((take.probe.get("duration") or 0) * _fps(take)))


def _duration(take: Take) -> float:
    return float(take.probe.get("duration") or _frames(take) / _fps(take))


def _target(take: Take):
    target = find_target(take.workspace, take.provider, take.model)
    if target is None:
        raise LineageRefused(
            f"Take {take.pk}'s provider “{take.provider}” (model “{take.model}”) is no longer "
            "set up in this workspace: a chained operation needs it to generate. Re-cut, loop "
            "and blend still work, as they need no provider."
        )
    return target


def _native(parent: Take, target, operation: str) -> bool:
    """Whether the provider itself can do ``operation`` on the parent's job: it offers it,
    and the job is still there (a provider keeps finished jobs for a while only)."""
    alive = parent.remote_id and (parent.expires_at is None or parent.expires_at > timezone.now())
    same = target.endpoint is not None and target.endpoint.pk == parent.endpoint_id
    return bool(alive and same and operation in native_operations(target))


def _image(file) -> bytes | None:
    if not file:
        return None
    with file.open("rb") as handle:
        return handle.read()


def _generate(parent: Take, shot: Shot, lineage: takes.Lineage, created_by, **changes) -> Take:
    """A chained child: the parent's settings (``changes`` replace some), a new shot."""
    target = _target(parent)
    if parent.is_local_edit and "seconds" not in changes:
        # Its length is a cut's, not one the model renders, and its look came from editing.
        raise LineageRefused(
            f"Take {parent.pk} is a {parent.get_operation_display().lower()} made by Slate, "
            "not generated: remix or vary the generated take it came from "
            f"(take {parent.parent_id}). Re-cut, loop, blend and extend work on it."
        )
    text = compose(shot)
    if len(text) > target.info.max_prompt_chars:
        raise LineageRefused(
            f"The prompt would be {len(text)} characters; {target.info.label} takes at most "
            f"{target.info.max_prompt_chars}."
        )
    settings = {
        "provider": parent.provider,
        "model": parent.model,
        "size": parent.size,
        "seconds": parent.seconds,
        "seed": parent.seed,
        "reference": _image(parent.reference),
        "reference_source": parent.reference_source,
        "reference_fit": parent.reference_fit,
        "end_frame": _image(parent.end_frame),
        "negative_prompt": parent.negative_prompt,
        "sound": parent.sound,
        **changes,
    }
    return takes.queue_take(
        parent.workspace, shot, created_by=created_by, lineage=lineage, **settings
    )


def remix(parent: Take, changes: dict, *, created_by=None) -> Take:
    """The parent's shot with ``changes`` (any of SHOT_FIELDS), generated again (chained)."""
    _ready(parent, "remix")
    unknown = set(changes) - set(SHOT_FIELDS)
    if unknown:
        raise LineageRefused(f"A remix edits only the shot's fields, not {', '.join(unknown)}.")
    before = _shot_of(parent)
    after = Shot.from_mapping({**before.as_dict(), **changes})
    if after == before:
        raise LineageRefused(
            "This remix changes nothing: edit at least one field. Nothing was queued or spent."
        )
    if after.is_empty:
        raise LineageRefused("A remix needs something to show: every field is empty.")
    changed = [name for name in SHOT_FIELDS if getattr(after, name) != getattr(before, name)]
    method = Method.NATIVE if _native(parent, _target(parent), "remix") else Method.CHAINED
    lineage = takes.Lineage(parent, Operation.REMIX, method, edit={"changed": changed})
    return _generate(parent, after, lineage, created_by)


def variations(parent: Take, count: int, *, created_by=None) -> list[Take]:
    """``count`` siblings of the parent's shot, each with a new seed (N jobs, priced N×)."""
    _ready(parent, "variations")
    low, high = VARIATIONS
    if not low <= count <= high:
        raise LineageRefused(f"Variations come {low} to {high} at a time, not {count}.")
    _target(parent)
    seeds: set[int] = set()
    while len(seeds) < count:
        seed = takes.new_seed()
        if seed != parent.seed:
            seeds.add(seed)
    lineage = takes.Lineage(parent, Operation.VARIATION, Method.CHAINED)
    with transaction.atomic():
        return [
            _generate(parent, _shot_of(parent), lineage, created_by, seed=seed)
            for seed in sorted(seeds)
        ]


def extend(parent: Take, seconds: int, *, prompt: str = "", created_by=None) -> Take:
    """A continuation of ``seconds`` from the parent's last frame, joined after the parent
    (chained: the last frame is the continuation's first-frame reference)."""
    _ready(parent, "extend")
    target = _target(parent)
    info = target.info
    if seconds not in info.seconds:
        lengths = ", ".join(str(s) for s in info.seconds)
        raise LineageRefused(
            f"{info.label} continues by {lengths} seconds at a time, not {seconds}."
        )
    shot = _shot_of(parent)
    if prompt.strip():
        shot = replace(shot, prompt=prompt)
    edit = {"seconds": seconds, "prompt": prompt}
    if _native(parent, target, "extend"):
        total = _duration(parent) + seconds
        if total > EXTENSION_TOTAL:
            raise LineageRefused(
                f"{info.label} extends a video to at most {EXTENSION_TOTAL} s; this one would "
                f"be {total:g} s. Re-cut it first, or extend by less."
            )
        lineage = takes.Lineage(parent, Operation.EXTEND, Method.NATIVE, edit=edit)
        return _generate(
            parent, shot, lineage, created_by, seconds=seconds, reference=None, end_frame=None
        )
    if not info.image_reference:
        raise LineageRefused(
            f"{info.label} takes no first frame, so Slate can't continue from this take's last "
            "frame, and it has no native extension. Re-cut, loop or blend work on any take; a "
            "model that takes a first frame can extend."
        )
    lineage = takes.Lineage(parent, Operation.EXTEND, Method.CHAINED, edit=edit)
    return _generate(
        parent,
        shot,
        lineage,
        created_by,
        seconds=seconds,
        # The provider may have sent another size than asked: fitted to the asked one.
        reference=references.last_frame(parent, parent.size),
        reference_source=None,
        reference_fit={"mode": "last-frame", "take": parent.pk},
        end_frame=None,
    )


def recut(parent: Take, start: float, end: float, *, created_by=None) -> Take:
    """The parent from ``start`` to ``end`` seconds, frame-accurate, sound kept in sync
    (local, free). The parent is never modified."""
    _ready(parent, "re-cut")
    _finite(start, end)
    duration, fps = _duration(parent), _fps(parent)
    if start < 0 or end > duration + 0.5 / fps:
        raise LineageRefused(
            f"The cut {start:g}–{end:g} s is outside the take, which runs 0–{duration:g} s."
        )
    if start >= end:
        raise LineageRefused(f"The start ({start:g} s) must come before the end ({end:g} s).")
    first, stop = round(start * fps), min(round(end * fps), _frames(parent))
    if stop - first < 1:
        raise LineageRefused(
            f"The cut {start:g}–{end:g} s is shorter than one frame (1/{fps:g} s) of this take."
        )
    edit = {"start": start, "end": end, "frames": [first, stop]}
    lineage = takes.Lineage(parent, Operation.RECUT, Method.LOCAL, edit=edit)
    return takes.queue_edit(lineage, seconds=(stop - first) / fps, created_by=created_by)


def loop(parent: Take, fade: float | None = None, *, created_by=None) -> Take:
    """The parent as a seamless loop. Where its model takes a last frame as well as a
    first (``endpoints.takes_last_frame``), a new generation of its shot that starts and
    ends on the parent's first frame (``native``: priced and held like any take; ``fade``
    is not used). Else its tail dissolves into its head (local, free)."""
    _ready(parent, "loop")
    target = (
        None
        if parent.is_local_edit
        else find_target(parent.workspace, parent.provider, parent.model)
    )
    if target is not None and takes_last_frame(target):
        lineage = takes.Lineage(parent, Operation.LOOP, Method.NATIVE)
        frame = references.opening_frame(parent, parent.size)
        return _generate(
            parent,
            _shot_of(parent),
            lineage,
            created_by,
            reference=frame,
            reference_source=None,
            reference_fit={"mode": "first-frame", "take": parent.pk},
            end_frame=frame,
        )
    duration, fps = _duration(parent), _fps(parent)
    fade = min(LOOP_FADE, duration / 4) if fade is None else fade
    _finite(fade)
    span = round(fade * fps)
    if span < 1 or 2 * span > _frames(parent):
        raise LineageRefused(
            f"A loop's crossfade must be from one frame to half the take ({duration / 2:g} s), "
            f"not {fade:g} s."
        )
    lineage = takes.Lineage(parent, Operation.LOOP, Method.LOCAL, edit={"fade": span / fps})
    return takes.queue_edit(lineage, seconds=duration - span / fps, created_by=created_by)


def blend(first: Take, second: Take, seconds: float | None = None, *, created_by=None) -> Take:
    """``first`` into ``second``; ``second`` is fitted to ``first``'s size by cropping to
    fill. Where ``first``'s model takes a first and a last frame
    (``endpoints.takes_last_frame``), a bridge is generated from ``first``'s last frame to
    ``second``'s first and the engine joins first + bridge + second (``chained``, priced and
    held as the bridge's generation, at least ``seconds`` long). Else ``first`` dissolves
    into ``second`` over ``seconds`` (local, free)."""
    if first.pk == second.pk:
        raise LineageRefused("A take can't be blended with itself: choose another take.")
    if first.workspace_id != second.workspace_id:
        raise LineageRefused("Both takes of a blend must be in the same workspace.")
    _ready(first, "blend")
    _ready(second, "blend")
    seconds = BLEND_SECONDS if seconds is None else seconds
    _finite(seconds)
    target = find_target(first.workspace, first.provider, first.model)
    if target is not None and takes_last_frame(target):
        return _bridge(first, second, target, seconds, created_by)
    shortest = min(_duration(first), _duration(second))
    span = round(seconds * _fps(first))
    if span < 1 or span >= min(_frames(first), _frames(second)):
        raise LineageRefused(
            f"The crossfade must be from one frame to less than the shorter take "
            f"({shortest:g} s), not {seconds:g} s."
        )
    fitted = second.size != first.size
    edit = {
        "seconds": span / _fps(first),
        "fit": f"take {second.pk} ({second.size}) is cropped to fill {first.size}"
        if fitted
        else "",
    }
    lineage = takes.Lineage(first, Operation.BLEND, Method.LOCAL, blend_with=second, edit=edit)
    length = _duration(first) + _duration(second) - span / _fps(first)
    return takes.queue_edit(lineage, seconds=length, created_by=created_by)


def _bridge(first: Take, second: Take, target, seconds: float, created_by) -> Take:
    """A bridging blend: a generation of ``first``'s shot from its last frame to
    ``second``'s first, as long as the model renders that is at least ``seconds``."""
    info = target.info
    length = min((s for s in info.seconds if s >= seconds), default=None)
    if length is None:
        raise LineageRefused(
            f"{info.label} renders a bridge of at most {max(info.seconds)} s, not {seconds:g} s."
        )
    fitted = second.size != first.size
    edit = {
        "seconds": length,
        "bridge": True,
        "fit": f"take {second.pk} ({second.size}) is cropped to fill {first.size}"
        if fitted
        else "",
    }
    lineage = takes.Lineage(first, Operation.BLEND, Method.CHAINED, blend_with=second, edit=edit)
    return _generate(
        first,
        _shot_of(first),
        lineage,
        created_by,
        seconds=length,
        reference=references.last_frame(first, first.size),
        reference_source=None,
        reference_fit={"mode": "bridge", "from": first.pk, "to": second.pk},
        end_frame=references.opening_frame(second, first.size),
    )


def diff(first: Take, second: Take) -> list[dict]:
    """The fields in which two takes differ, each with both values."""
    return [
        {"field": name, "a": getattr(first, name), "b": getattr(second, name)}
        for name in DIFF_FIELDS
        if getattr(first, name) != getattr(second, name)
    ]
