"""Template filters for take fragments (loaded with ``{% load slate %}``)."""

import hashlib

from django import template
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from studio import money
from studio.models import Method, Operation, Status, Take
from studio.progress import Progress, progress_of

register = template.Library()

CARD = "studio/take_card.html"
CARD_SECONDS = 3600
TAKE_FIELDS = tuple(field.attname for field in Take._meta.concrete_fields)

# What a take that ended without a video says when its ending left no message
# (a cancel from Slate's own button, rows from before messages were kept).
ENDINGS = {
    Status.FAILED: "This take failed. No reason was recorded; nothing was charged.",
    Status.REFUSED: "The provider refused this shot. Nothing was charged.",
    Status.EXPIRED: "The provider deleted the video before Slate could copy it. "
    "Nothing was charged.",
    Status.CANCELLED: "Cancelled. Nothing was kept or charged.",
}


@register.filter
def progress(take) -> Progress:
    """What the progress bar and its label may honestly say (progress.py)."""
    return progress_of(take)


@register.filter
def ending(take: Take) -> str:
    """Why a take ended without a video, as its card and its page say it."""
    return take.error_message or ENDINGS.get(take.status, "")


# The family tree is the one list that may hold a thousand takes: its items are written
# here, in one pass, rather than by the template engine (a tenth of the time).
_MARK = 987654321


def _url_maker(name: str, *extra):
    """A function (pk, …) → path for the URL ``name``, reversed once, not once per take:
    each id is a marker in the reversed path, filled in by position."""
    marks = [str(_MARK + n) for n in range(len(extra) + 1)]
    args = [int(mark) for mark in marks[:1]] + [
        int(marks[n + 1]) if value is int else value for n, value in enumerate(extra)
    ]
    path = reverse(name, args=args)
    return lambda *ids: _filled(path, marks, ids)


def _filled(path: str, marks: list[str], ids) -> str:
    for mark, value in zip(marks, ids, strict=False):
        path = path.replace(mark, str(value))
    return path


# Escaped once for the whole tree, not once per take (Django's get_FOO_display rebuilds
# its choices on every call).
_LABELS = {
    (op, method): escape(f"{op.label} · {method.label}") for op in Operation for method in Method
}


def _node(node, take_url, poster_url, compare_url, workspace) -> str:
    t = node.take
    label = _LABELS.get((t.operation, t.method)) or escape(
        f"{t.get_operation_display()} · {t.get_method_display()}"
    )
    status = escape(t.status_label)
    if t.charged is not None:
        cost = escape(money.show(t.charged, workspace))
    elif t.estimate is not None:
        cost = "~" + escape(money.show(t.estimate, workspace))
    else:
        cost = "cost unknown"
    thumb = (
        f'<img src="{poster_url(t.pk)}" alt="" loading="lazy" width="96" height="54">'
        if t.poster
        else f'<span class="thumb-status" aria-hidden="true">{status}</span>'
    )
    current = ' aria-current="page"' if node.on_path and not node.children else ""
    compare = (
        f'<a class="muted" href="{compare_url(t.parent_id, t.pk)}">what changed</a>'
        if t.parent_id
        else ""
    )
    return (
        f'<li class="tree-item{" on-path" if node.on_path else ""}" data-take="{t.pk}" '
        f'data-parent="{t.parent_id or ""}">'
        f'<div class="tree-node status-{t.status}" id="tree-node-{t.pk}">'
        f'<a class="tree-thumb ratio-{escape(t.size)}" href="{take_url(t.pk)}"{current} '
        f'aria-label="Take #{t.pk}: {label} ({status})">{thumb}</a>'
        f'<span class="tree-label"><a href="{take_url(t.pk)}">#{t.pk}</a> '
        f'<span class="badge badge-op">{label}</span> '
        f'<span class="badge badge-{t.status}">{status}</span> '
        f'<span class="muted">{cost}</span> '
        f'<span id="tree-notes-{t.pk}" class="card-notes"></span> {compare}</span></div>'
    )


@register.simple_tag
def tree_items(tree, workspace=None) -> str:
    """The nested list items of a family tree (family.Node.rows), path marked; costs in
    ``workspace``'s currency."""
    urls = (
        _url_maker("take"),
        _url_maker("take_media", "poster"),
        _url_maker("take_compare", int),
    )
    parts = []
    for kind, node in tree.rows():
        if kind == "node":
            parts.append(_node(node, *urls, workspace))
        elif kind == "down":
            parts.append("<ul>")
        elif kind == "up":
            parts.append("</ul></li>")
        else:
            parts.append("</li>")
    return mark_safe("".join(parts))  # noqa: S308 — every value above is escaped or a number


@register.simple_tag(takes_context=True)
def take_card(context, take: Take) -> str:
    """The take's card (studio/take_card.html) as ``{% include %}`` would render it here.

    A list page draws two dozen cards, most of them finished and unchanged since the last
    time: a finished take's card is kept in the cache under everything it is drawn from (the
    take's fields, its notes, whether the viewer can edit), so any change draws it afresh.
    A running take's card shows the time since it started, so it is always drawn.
    """
    card = context.template.engine.get_template(CARD)
    if take.is_active:
        with context.push(take=take):
            return card.render(context)
    drawn_from = (
        [(name, take.__dict__[name]) for name in TAKE_FIELDS if name in take.__dict__],
        getattr(take, "card_notes", None),
        bool(context.get("can_edit")),
    )
    key = "take-card:" + hashlib.blake2b(repr(drawn_from).encode(), digest_size=16).hexdigest()
    html = cache.get(key)
    if html is None:
        with context.push(take=take):
            html = card.render(context)
        cache.set(key, str(html), CARD_SECONDS)
    return mark_safe(html)
