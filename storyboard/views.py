"""The board pages: thin views over boards.py, renders.py, shotlist.py and assemble.py."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from studio import access, card_notes
from studio.composer import preview_context
from studio.inputs import whole_number
from studio.models import Status
from studio.prompts import SHOT_FIELDS, Shot
from studio.ranged import serve_file, serves_media

from . import assemble, boards, export, renders, shotlist
from .forms import AddCardForm, BoardForm, CardForm, ShotListForm, StyleForm, TransitionForm
from .models import Board, Card

SPAN_MAX = 20  # the widest a card is drawn (seconds); slate.css has a class per second
# What each card's controls post to, reversed once per page rather than once per card.
CARD_URLS = {
    "edit": "storyboard:card",
    "move": "storyboard:card_move",
    "render": "storyboard:card_render",
    "duplicate": "storyboard:card_duplicate",
    "delete": "storyboard:card_delete",
    "choose": "storyboard:card_choose",
}
_MARK = 987654321  # a stand-in card id, replaced by each card's own


def _card_urls(slug: str, cards: list[Card]) -> None:
    patterns = {
        key: reverse(name, args=[slug, _MARK]).rpartition(str(_MARK))
        for key, name in CARD_URLS.items()
    }
    for card in cards:
        card.urls = {key: f"{head}{card.pk}{tail}" for key, (head, _, tail) in patterns.items()}


def _board_url(board: Board) -> str:
    return reverse("storyboard:board", args=[board.workspace.slug, board.pk])


def _forms(board: Board) -> dict:
    target = boards.target_of(board)
    initial = {
        "title": board.title,
        "notes": board.notes,
        "target": target.value if target else "animatic",
        "size": board.size,
    }
    return {
        "board_form": BoardForm(workspace=board.workspace, initial=initial),
        "style_form": StyleForm(initial=board.style),
        "shotlist_form": ShotListForm(),
        "add_form": AddCardForm(initial={"seconds": boards.info_of(board).default_seconds}),
    }


def board_context(
    board: Board, membership, *, partial: bool = False, keep_takes: bool = False, **extra
) -> dict:
    """Everything the board page shows (``partial``: the strip only; ``keep_takes``: the
    strip after a change of order, the takes shown left in place); ``extra`` replaces a
    form (with its errors)."""
    cards = boards.board_cards(board, takes=not keep_takes)
    if not keep_takes:
        card_notes.attach(link.take for card in cards for link in card.card_takes.all())
    _card_urls(board.workspace.slug, cards)
    slots = boards.timeline(cards)
    done = sum(1 for c in cards if c.chosen_take_id and c.chosen_take.status == Status.COMPLETED)
    if keep_takes:
        rendering_now = boards.cards_rendering(board)
    else:
        rendering_now = sum(
            1 for c in cards if any(link.take.is_active for link in c.card_takes.all())
        )
    return {
        "board": board,
        "workspace": board.workspace,
        "can_edit": membership.can_edit,
        "cards": cards,
        "slots": [
            (
                slot,
                min(slot.seconds, SPAN_MAX),
                boards.timecode(slot.start),
                boards.timecode(slot.end),
            )
            for slot in slots
        ],
        "running": boards.timecode(boards.running_time(cards)),
        "running_seconds": boards.running_time(cards),
        "warnings": boards.warnings(board, cards),
        "done": done,
        "rendering_now": rendering_now,
        "last_render": renders.latest_render(board),
        "info": boards.info_of(board),
        "moves": (("earlier", "Earlier"), ("later", "Later")),
        "keep_takes": keep_takes,
        **({} if partial else _forms(board)),
        **extra,
    }


def _strip(
    request, board: Board, membership, status: int = 200, *, reordered: bool = False, **extra
) -> HttpResponse:
    """The strip for htmx (``reordered``: only the order changed, so each card's takes stay
    in the page as they are, kept by hx-preserve); a redirect to the board without it."""
    if request.htmx:
        # htmx swaps only 2xx answers: the problem shows in the strip it replaces.
        context = board_context(
            board, membership, partial=True, keep_takes=reordered and status == 200, **extra
        )
        return render(request, "storyboard/board.html#strip", context)
    if status != 200:
        return render(
            request,
            "storyboard/board.html",
            board_context(board, membership, **extra),
            status=status,
        )
    return redirect(_board_url(board))


@login_required
@require_http_methods(["GET", "POST"])
def board_list(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=request.method == "POST")
    workspace = membership.workspace
    form = BoardForm(
        request.POST or None,
        workspace=workspace,
        initial={"target": "animatic", "size": "1280x720"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        board = boards.create_board(
            workspace,
            data["title"],
            user=request.user,
            notes=data["notes"],
            provider=data["provider"],
            model=data["model"],
            size=data["size"],
        )
        board.workspace = workspace
        return redirect(_board_url(board))
    context = {
        "workspace": workspace,
        "can_edit": membership.can_edit,
        "boards": workspace.boards.all(),
        "form": form,
    }
    return render(request, "storyboard/boards.html", context, status=400 if form.errors else 200)


@login_required
@require_safe
def board(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id)
    part = request.GET.get("part")
    if request.htmx and part in ("strip", "progress"):
        context = board_context(board, membership, partial=True)
        return render(request, f"storyboard/board.html#{part}", context)
    extra = _shotlist_problems(request, board)
    return render(request, "storyboard/board.html", board_context(board, membership, **extra))


@login_required
@require_POST
def board_settings(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    form = BoardForm(request.POST, workspace=board.workspace)
    if not form.is_valid():
        extra = {"board_form": form}
        return render(
            request, "storyboard/board.html", board_context(board, membership, **extra), status=400
        )
    data = form.cleaned_data
    boards.update_board(board, **{name: data[name] for name in boards.BOARD_SETTINGS})
    return redirect(_board_url(board))


@login_required
@require_POST
def board_style(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    form = StyleForm(request.POST)
    if not form.is_valid():
        extra = {"style_form": form}
        return render(
            request, "storyboard/board.html", board_context(board, membership, **extra), status=400
        )
    boards.set_style(board, form.cleaned_data)
    return _strip(request, board, membership)


@login_required
@require_POST
def card_add(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    form = AddCardForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            problem = " ".join(e for errs in form.errors.values() for e in errs)
            return _strip(request, board, membership, status=400, problem=problem)
        # The page again, with what was typed and the error on its field (the form's action
        # ends in #add-card, so the browser lands on it).
        context = board_context(board, membership, add_form=form)
        return render(request, "storyboard/board.html", context, status=400)
    seconds = form.cleaned_data["seconds"] or boards.info_of(board).default_seconds
    try:
        boards.add_cards(board, [{"subject": form.cleaned_data["subject"], "seconds": seconds}])
    except boards.BoardFull as error:
        return _strip(request, board, membership, status=400, problem=str(error))
    return _strip(request, board, membership)


@login_required
@require_POST
def reorder(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    ids = [whole_number(part) for part in request.POST.get("order", "").split(",")]
    revision = whole_number(request.POST.get("revision", ""), max_digits=9)
    try:
        if None in ids or revision is None:
            raise boards.StaleOrder("That order can't be read; reload the board and try again.")
        boards.reorder(board, ids, revision)
    except boards.StaleOrder as error:
        board.refresh_from_db()
        return _strip(request, board, membership, status=409, problem=str(error))
    return _strip(request, board, membership, reordered=True)


@login_required
@require_POST
def import_shots(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    form = ShotListForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        try:
            lines = shotlist.read(form.cleaned_data["text"])
            default = boards.info_of(board).default_seconds
            boards.add_cards(
                board,
                [{**line.shot.as_dict(), "seconds": line.seconds or default} for line in lines],
            )
        except shotlist.ShotListInvalid as error:
            problems = [str(p) for p in error.problems]
        except boards.BoardFull as error:
            problems = [str(error)]
    else:
        problems = [e for errs in form.errors.values() for e in errs]
    if problems:
        # POST/redirect/GET: the board shows them once, and a refresh posts nothing again.
        request.session[_shotlist_key(board)] = {
            "problems": problems,
            "text": request.POST.get("text", "")[: shotlist.MAX_CHARS],
        }
    return redirect(_board_url(board) + ("#shotlist" if problems else ""))


def _shotlist_key(board: Board) -> str:
    return f"storyboard-shotlist-{board.pk}"


def _shotlist_problems(request, board: Board) -> dict:
    """The problems of a shot list that failed to import, with its text to fix (once)."""
    failed = request.session.pop(_shotlist_key(board), None)
    if not failed:
        return {}
    return {
        "shotlist_form": ShotListForm(initial={"text": failed["text"]}),
        "shotlist_problems": failed["problems"],
    }


def _render_choice(request, board: Board) -> tuple[str | None, str | None]:
    """ "animatic": the free preview; anything else: the board's own provider and model."""
    if request.POST.get("with", request.GET.get("with")) == "animatic":
        return "animatic", ""
    return None, None


def _variations(request) -> int:
    """Takes per card, as asked (1 unless said; what isn't a number is 0, which the quote
    refuses by name)."""
    text = request.POST.get("variations", request.GET.get("variations", "1"))
    return whole_number(text, max_digits=3) or 0


def _render_page(request, board: Board, membership, *, provider=None, model=None, only=None):
    """The quote, then (POST) the render: the board's cards that need a take, or ``only``."""
    variations = _variations(request)
    if request.method == "POST":
        try:
            renders.render_board(
                board,
                user=request.user,
                provider=provider,
                model=model,
                only=only,
                variations=variations,
            )
        except renders.BoardRefused:
            pass  # the quote below names every reason
        else:
            return redirect(_board_url(board) + (f"#card-{only.pk}" if only else ""))
    quote = renders.quote(
        board, provider, model, only=only, user=request.user, variations=variations
    )
    slug = board.workspace.slug
    context = {
        "board": board,
        "workspace": board.workspace,
        "can_edit": membership.can_edit,
        "quote": quote,
        "preview": provider == "animatic",
        "only": only,
        "max_variations": renders.MAX_VARIATIONS,
        "action": reverse("storyboard:card_render", args=[slug, only.pk])
        if only
        else reverse("storyboard:render", args=[slug, board.pk]),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "storyboard/render.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def render_board(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(
        request.user, slug, board_id, edit=request.method == "POST"
    )
    provider, model = _render_choice(request, board)
    return _render_page(request, board, membership, provider=provider, model=model)


@login_required
@require_http_methods(["GET", "POST"])
def card_render(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id, edit=request.method == "POST")
    return _render_page(request, card.board, membership, only=card)


@login_required
@require_POST
def cancel_render(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    renders.cancel_board(board)
    return _strip(request, board, membership)


@login_required
@require_POST
def make_cut(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id, edit=True)
    try:
        assemble.make_cut(board)
    except assemble.CutRefused as error:
        return _strip(request, board, membership, status=400, problem=str(error))
    return redirect(_board_url(board) + "#cut")


@login_required
@require_safe
def export_board(request, slug: str, board_id: int) -> HttpResponse:
    board, membership = boards.get_board(request.user, slug, board_id)
    kind = request.GET.get("format", "otio")
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    try:
        export.export(board, kind, handle)
    except (export.ExportRefused, assemble.CutRefused) as error:
        handle.close()
        return _strip(request, board, membership, status=400, problem=str(error))
    handle.seek(0)
    content_type, suffix = export.FORMATS[kind]
    name = slugify(board.title)[:40].strip("-") or "board"
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"slate-board-{board.pk}-{name}.{suffix}",
        content_type=content_type,
    )


@serves_media
@login_required
@require_safe
def cut_media(request, slug: str, board_id: int) -> HttpResponse:
    board, _ = boards.get_board(request.user, slug, board_id)
    if not board.cut:
        raise Http404("This board has no cut yet.")
    name = slugify(board.title)[:40].strip("-") or "board"
    return serve_file(
        request,
        board.cut,
        content_type="video/mp4",
        attachment="download" in request.GET,
        filename=f"slate-board-{board.pk}-{name}.mp4",
    )


# Cards


@login_required
@require_POST
def card_duplicate(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id, edit=True)
    try:
        boards.duplicate_card(card)
    except boards.BoardFull as error:
        return _strip(request, card.board, membership, status=400, problem=str(error))
    return _strip(request, card.board, membership)


@login_required
@require_POST
def card_delete(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id, edit=True)
    boards.delete_card(card)
    return _strip(request, card.board, membership)


@login_required
@require_POST
def card_move(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id, edit=True)
    delta = {"earlier": -1, "later": 1}.get(request.POST.get("direction", ""))
    if delta is None:
        return _strip(
            request, card.board, membership, status=400, problem="Move a card earlier or later."
        )
    boards.move_card(card, delta)
    return _strip(request, card.board, membership, reordered=True)


@login_required
@require_POST
def card_choose(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id, edit=True)
    take_id = whole_number(request.POST.get("take", ""))
    if take_id is None:
        raise Http404("No such take.")
    boards.choose(card, take_id)
    return _strip(request, card.board, membership)


def _card_form(card: Card, data=None) -> CardForm:
    """The composer's form for a card: the board's provider, model and size; blank fields
    show what they inherit from the board style; checked against the resolved shot."""
    board = card.board
    settings = {"provider": board.provider, "model": board.model, "size": board.size}
    if data is None:
        values = {**card.own_shot().as_dict(), "seconds": str(card.seconds), **settings}
        if card.reference_id:
            values.update(reference=str(card.reference_id), **(card.reference_fit or {}))
    else:
        values = data.copy()
        values.update(settings)
        for name in SHOT_FIELDS:  # judge the shot as it will render
            if not str(values.get(name) or "").strip():
                values[name] = board.style_value(name)
    form = CardForm(values, workspace=board.workspace, card_seconds=card.seconds)
    if data is None:
        for name in SHOT_FIELDS:
            if not getattr(card, name):
                # The composer's sample text would read as if it were the board style.
                inherited = board.style_value(name)
                placeholder = f"From the board style: {inherited}" if inherited else ""
                form.fields[name].widget.attrs["placeholder"] = placeholder
    return form


def _card_context(card: Card, membership, form: CardForm, data=None, **extra) -> dict:
    slug = card.board.workspace.slug
    preview_form = form
    if data is None:  # what renders: the card's own fields and the board style
        preview_form = CardForm(
            {**form.data, **card.shot().as_dict()},
            workspace=card.board.workspace,
            card_seconds=card.seconds,
        )
    return {
        "workspace": card.board.workspace,
        "board": card.board,
        "card": card,
        "number": card.position + 1,
        "can_edit": membership.can_edit,
        "form": form,
        "transition_form": extra.pop("transition_form", None)
        or TransitionForm(
            initial={
                "transition": card.transition,
                "transition_seconds": card.transition_seconds,
                "continues": card.continues,
            }
        ),
        "compose_url": reverse("storyboard:card", args=[slug, card.pk]),
        "preview_url": reverse("storyboard:card_preview", args=[slug, card.pk]),
        "settings_url": reverse("storyboard:card_settings", args=[slug, card.pk]),
        "compose_title": f"Card {card.position + 1} of {card.board.title}",
        "target_fixed": True,  # the board's provider, model and size
        "has_style": any(card.board.style_value(name) for name in SHOT_FIELDS),
        "submit_label": "Save card",
        **preview_context(preview_form),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def card_edit(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id, edit=request.method == "POST")
    if request.method == "GET":
        form = _card_form(card)
        return render(request, "storyboard/card.html", _card_context(card, membership, form))
    form = _card_form(card, request.POST)
    transition = TransitionForm(request.POST)
    if form.is_valid() and not transition.is_valid():
        # Its fields sit outside the composer: say what is wrong where htmx shows it too.
        for errors in transition.errors.values():
            form.add_error(None, errors)
    if form.errors or transition.errors:
        context = _card_context(card, membership, form, request.POST, transition_form=transition)
        if request.htmx:
            return render(request, "studio/composer.html", context)
        return render(request, "storyboard/card.html", context, status=400)
    reference = form.cleaned_data["reference"]
    boards.save_card(
        card,
        Shot.from_mapping({name: request.POST.get(name, "") for name in SHOT_FIELDS}),
        seconds=form.cleaned_data["seconds"],
        reference=reference,
        reference_fit={key: request.POST.get(key, "") for key in boards.FIT_KEYS}
        if reference
        else {},
        transition=transition.cleaned_data["transition"],
        transition_seconds=transition.cleaned_data["transition_seconds"],
        continues=transition.cleaned_data["continues"],
    )
    url = _board_url(card.board)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def card_preview(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id)
    form = _card_form(card, request.POST)
    context = {"workspace": card.board.workspace, **preview_context(form)}
    return render(request, "studio/composer.html#preview", context)


@login_required
@require_POST
def card_settings(request, slug: str, card_id: int) -> HttpResponse:
    card, membership = boards.get_card(request.user, slug, card_id)
    form = _card_form(card, request.POST)
    form.keep_choices_valid()
    context = _card_context(card, membership, form, request.POST)
    return render(request, "studio/composer.html#settings", context)
