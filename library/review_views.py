"""The review panel on a take's page (loaded from the library, as the composer's side
panel is): the member's review, the circle, and each tree node's notes out of band."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from studio import access, card_notes
from studio.family import family_tree
from studio.models import Take

from . import reviews
from .forms import ReviewForm
from .models import Review
from .reviews import ReviewRefused


def _take(request, slug: str, take_id: int, *, edit: bool = False) -> tuple[Take, bool]:
    take, membership = access.get_take(request.user, take_id, edit=edit)
    if take.workspace.slug != slug:
        raise Http404("No such take.")
    return take, membership.can_edit


def _panel(request, take: Take, can_edit: bool, form=None, **extra) -> HttpResponse:
    tree = family_tree(take, False)
    notes = card_notes.notes_of(node.take.pk for node in tree.walk())
    mine = Review.objects.filter(take=take, reviewer=request.user).first()
    context = {
        "take": take,
        "workspace": take.workspace,
        "can_edit": can_edit,
        "form": form or ReviewForm(initial=ReviewForm.initial_for(mine)),
        "summary": reviews.summaries([take.pk])[take.pk],
        "others": Review.objects.filter(take=take)
        .exclude(reviewer=request.user)
        .select_related("reviewer")
        .order_by("-updated_at"),
        "node_notes": list(notes.items()),
        **extra,
    }
    return render(request, "library/review.html", context)


@login_required
@require_safe
def review_panel(request, slug: str, take_id: int) -> HttpResponse:
    take, can_edit = _take(request, slug, take_id)
    return _panel(request, take, can_edit)


@login_required
@require_POST
def save_review(request, slug: str, take_id: int) -> HttpResponse:
    take, can_edit = _take(request, slug, take_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            reviews.save_review(
                take, request.user, rating=form.cleaned_data["rating"], passes=form.passes()
            )
            return _panel(request, take, can_edit, saved="Review saved.")
        except ReviewRefused as error:
            form.add_error(None, str(error))
    return _panel(request, take, can_edit, form=form)


@login_required
@require_POST
def circle_take(request, slug: str, take_id: int) -> HttpResponse:
    take, can_edit = _take(request, slug, take_id, edit=True)
    try:
        if request.POST.get("circled") == "no":
            reviews.uncircle(take)
        else:
            reviews.circle(take, request.user)
    except ReviewRefused as error:
        return _panel(request, take, can_edit, problem=str(error))
    return _panel(request, take, can_edit)
