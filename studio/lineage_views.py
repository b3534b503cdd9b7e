"""The take page's operations (remix, extend, re-cut, variations, loop, blend) and the
compare view: thin views over lineage.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe
from django_htmx.middleware import HtmxDetails

from . import access, lineage
from .inputs import whole_number
from .lineage import LineageRefused
from .models import Take
from .prompts import SHOT_FIELDS
from .take_page import FORMS, operation_form, take_context


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _run(name: str, take: Take, data: dict, user) -> list[Take]:
    match name:
        case "remix":
            changes = {field: data[field] for field in SHOT_FIELDS}
            return [lineage.remix(take, changes, created_by=user)]
        case "extend":
            return [lineage.extend(take, data["seconds"], prompt=data["prompt"], created_by=user)]
        case "recut":
            return [lineage.recut(take, data["start"], data["end"], created_by=user)]
        case "vary":
            return lineage.variations(take, data["count"], created_by=user)
        case "loop":
            return [lineage.loop(take, data["fade"], created_by=user)]
        case "blend":
            other, _ = access.get_take(user, data["other"])  # someone else's: 404
            return [lineage.blend(take, other, data["seconds"], created_by=user)]
    raise Http404("No such operation.")


@login_required
@require_POST
def take_operation(request: HtmxHttpRequest, take_id: int, operation: str) -> HttpResponse:
    if operation not in FORMS:
        raise Http404("No such operation.")
    take, _ = access.get_take(request.user, take_id, edit=True)
    form = operation_form(operation, take, request.POST)
    queued: list[Take] = []
    if form.is_valid():
        try:
            queued = _run(operation, take, form.cleaned_data, request.user)
        except LineageRefused as error:
            form.add_error(None, str(error))
    if queued and not request.htmx:
        return redirect("take", take_id=queued[0].pk)
    bound = {} if queued else {operation: form}
    context = take_context(take, True, bound=bound, open_op=operation, queued=queued)
    if not request.htmx:  # invalid, without htmx: the whole page, with the form's errors
        return render(request, "studio/take.html", context, status=400)
    return render(request, "studio/take.html#operations", context)


MISSING_OTHER = "That take doesn't exist or isn't in this workspace."
SAME_TAKE = "That's this take: give the number of another take to compare it with."


def _visible(user, take_id: int | None) -> Take | None:
    return access.takes_for(user).filter(pk=take_id).first() if take_id else None


def _no_such_other(
    request: HtmxHttpRequest, take: Take, asked, problem: str = MISSING_OTHER
) -> HttpResponse:
    """The take page again, saying the take to compare with isn't there (a 404, and the same
    page whether that take doesn't exist or lives in another workspace: no leak), or is this
    very take (a 400)."""
    take, membership = access.get_take(request.user, take.pk)
    context = take_context(take, membership.can_edit, compare_error=problem, asked=asked)
    status = 404 if problem == MISSING_OTHER else 400
    return render(request, "studio/take.html", context, status=status)


@login_required
@require_safe
def take_compare(request: HtmxHttpRequest, take_id: int, other_id: int) -> HttpResponse:
    """Two takes side by side, with what changed between them. The take page's form sends
    its own take as ``other_id``; when only one of the two is the user's to see (or they are
    in different workspaces) that one's page explains, and a stranger gets the plain 404."""
    first, second = _visible(request.user, take_id), _visible(request.user, other_id)
    if first is None or second is None or first.workspace_id != second.workspace_id:
        if second is not None:
            return _no_such_other(request, second, take_id)
        if first is not None:
            return _no_such_other(request, first, other_id)
        raise Http404("No such take.")
    context = {
        "first": first,
        "second": second,
        "pair": (first, second),
        "workspace": first.workspace,
        "changes": lineage.diff(first, second),
    }
    return render(request, "studio/compare.html", context)


@login_required
@require_safe
def take_compare_pick(request: HtmxHttpRequest, take_id: int) -> HttpResponse:
    """The take page's "Compare with take #" form: to the compare view, or back to the take
    page saying that take isn't one to compare with."""
    take, _ = access.get_take(request.user, take_id)
    asked = request.GET.get("other", "")
    other = _visible(request.user, whole_number(asked))
    if other is None or other.workspace_id != take.workspace_id:
        return _no_such_other(request, take, asked[:20])
    if other.pk == take.pk:
        return _no_such_other(request, take, asked[:20], SAME_TAKE)
    # The older take first, as the family tree's "what changed" links read.
    first, second = sorted((take.pk, other.pk))
    return redirect("take_compare", take_id=first, other_id=second)
