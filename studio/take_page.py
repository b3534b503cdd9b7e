"""What the take page shows: the take, its shot, its family tree and the operation forms
prefilled from it (studio/take.html, for views.take_detail and lineage_views)."""

from . import family, lineage
from .forms import BlendForm, ExtendForm, LoopForm, RecutForm, RemixForm, VaryForm
from .models import Take
from .prompts import SHOT_FIELDS, SHOT_LABELS
from .providers.endpoints import find_target, native_operations

FORMS = {
    "remix": RemixForm,
    "extend": ExtendForm,
    "recut": RecutForm,
    "vary": VaryForm,
    "loop": LoopForm,
    "blend": BlendForm,
}


LABELS = {
    "remix": "Remix · edit the shot; same model, seed and settings",
    "extend": "Extend · continue from the last frame",
    "recut": "Re-cut · trim to in and out points (free)",
    "vary": "Variations · the same shot with new seeds",
    "loop": "Loop · the tail dissolves into the head (free)",
    "blend": "Blend · crossfade into another take (free)",
}


def extend_lengths(take: Take) -> tuple[int, ...]:
    """The lengths an extend of ``take`` can add (none: its model neither extends nor takes
    a first frame to chain from, or its provider is gone)."""
    target = find_target(take.workspace, take.provider, take.model)
    if target is None:
        return ()
    can = target.info.image_reference or "extend" in native_operations(target)
    return target.info.seconds if can else ()


BLEND_CHOICES = 50  # recent takes suggested as the second take of a blend


def operation_form(name: str, take: Take, data=None):
    kwargs = {"lengths": extend_lengths(take)} if name == "extend" else {}
    # Own ids per form: several forms on one page have a "seconds" or a "prompt".
    form = FORMS[name](data, initial=_initial(name, take), auto_id=f"id_{name}_%s", **kwargs)
    if name == "blend":
        form.fields["other"].widget.attrs["list"] = f"blend-choices-{take.pk}"
    return form


def blend_choices(take: Take) -> list[Take]:
    """The workspace's recent finished takes, suggested as the second take of a blend."""
    return list(
        Take.objects.filter(workspace_id=take.workspace_id, status="completed")
        .exclude(pk=take.pk)
        .only("pk", "subject", "prompt", "composed_prompt", "size")[:BLEND_CHOICES]
    )


def _initial(name: str, take: Take) -> dict:
    duration = take.probe.get("duration") or take.seconds
    match name:
        case "remix":
            return {field: getattr(take, field) for field in SHOT_FIELDS}
        case "extend":
            return {"seconds": next(iter(extend_lengths(take)), None)}
        case "recut":
            return {"start": 0, "end": duration}
        case "vary":
            return {"count": 2}
        case "loop":
            return {"fade": round(min(lineage.LOOP_FADE, duration / 4), 2)}
        case _:
            return {"seconds": lineage.BLEND_SECONDS}


def take_context(take: Take, can_edit: bool, *, bound: dict | None = None, **extra) -> dict:
    """The whole take page. ``bound``: forms as posted (with their errors) by name."""
    bound = bound or {}
    return {
        "take": take,
        "workspace": take.workspace,
        "can_edit": can_edit,
        "shot_rows": [(SHOT_LABELS[name], getattr(take, name)) for name in SHOT_FIELDS],
        "tree": family.family_tree(take),
        "op_forms": [
            (name, LABELS[name], bound.get(name) or operation_form(name, take)) for name in FORMS
        ]
        if can_edit and take.status == "completed"
        else [],
        "blend_choices": blend_choices(take) if can_edit and take.status == "completed" else [],
        **extra,
    }
