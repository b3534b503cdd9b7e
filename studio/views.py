from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from . import access, budgets, card_notes, references, takes, workspaces
from .composer import composer_context, prefilled, preview_context, studio_context
from .forms import ShotForm, SignupForm
from .inputs import whole_number
from .models import Membership, Take
from .prompts import SHOT_FIELDS
from .providers.catalogue import SQUARE_NOTE
from .ranged import serve_file, serves_media
from .take_page import take_context


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_safe
def home(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    membership = (
        Membership.objects.filter(user=request.user)
        .select_related("workspace")
        .order_by("created_at")
        .first()
    )
    if membership is None:
        membership = Membership.objects.get(
            user=request.user, workspace=workspaces.onboard(request.user)
        )
    return redirect("workspace", slug=membership.workspace.slug)


@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if not settings.SLATE_OPEN_SIGNUP and get_user_model().objects.exists():
        return render(request, "registration/signup_closed.html", status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        workspace = workspaces.onboard(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("workspace", slug=workspace.slug)
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_safe
def workspace(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    before = None
    if "before" in request.GET:  # "Older takes": the page after the cursor
        before = access.page_cursor(request.GET["before"])
        if before is None:
            raise Http404("No such page of takes.")
        if request.htmx:
            context = access.take_page(membership.workspace, before)
            context["can_edit"] = membership.can_edit
            return render(request, "studio/workspace.html#take_page", context)
    initial = {}
    if source := request.GET.get("from"):
        # "Use this shot again": start from an earlier take's fields and settings.
        take_id = whole_number(source)
        take, _ = access.get_take(request.user, take_id) if take_id else (None, None)
        if take is None or take.workspace_id != membership.workspace_id:
            raise Http404("No such take.")
        fields = (*SHOT_FIELDS, "provider", "model", "size")
        initial = {name: getattr(take, name) for name in fields}
        initial.update(seconds=str(take.seconds), seed=take.seed)
        if take.reference_source_id:
            fit = take.reference_fit or {}
            focus = fit.get("focus") or (0.5, 0.5)
            initial.update(
                reference=str(take.reference_source_id),
                fit=fit.get("mode", "crop"),
                focus_x=focus[0],
                focus_y=focus[1],
                pad=fit.get("pad", "blur"),
            )
    form = prefilled(membership, initial)
    return render(request, "studio/workspace.html", studio_context(membership, form, before))


@login_required
@require_POST
def compose_preview(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    form = ShotForm(request.POST, workspace=membership.workspace)
    context = {"workspace": membership.workspace, **preview_context(form)}
    return render(request, "studio/composer.html#preview", context)


@login_required
@require_POST
def compose_settings(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The settings panel for the chosen provider and model (sizes, lengths, cost)."""
    membership = access.get_membership(request.user, slug)
    data = request.POST.copy()
    form = ShotForm(data, workspace=membership.workspace)
    form.keep_choices_valid()
    platform = data.get("platform", "")
    if size := form.info.size_for(platform):
        data["size"] = size  # a platform button picks the model's size of that shape
    context = {
        "workspace": membership.workspace,
        "form": form,
        "platform": platform,
        "square_note": SQUARE_NOTE if platform == "1:1" else "",
    }
    response = render(request, "studio/composer.html#settings", context)
    return trigger_client_event(response, "slate:settings")  # the reference preview follows


@login_required
@require_POST
def generate(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    form = ShotForm(request.POST, workspace=membership.workspace, preflight=True)
    if not form.is_valid():
        return _composer_refused(request, membership, form)
    try:
        budgets.precheck(membership.workspace, request.user, form.estimate)
        take = _queue(request, membership, form)
    except budgets.OverBudget as error:
        form.add_error(None, str(error))
        return _composer_refused(request, membership, form)
    if not request.htmx:
        return redirect("take", take_id=take.pk)
    # Keep the fields as they are: the next iteration starts from this shot.
    context = composer_context(membership, ShotForm(request.POST, workspace=membership.workspace))
    context["just_queued"] = take
    card_notes.attach([take])
    response = render(request, "studio/composer.html", context)
    # The new card joins the list as shown, "Older takes" opened or not (slate.js keeps the
    # one a push brought first).
    response.write(render(request, "studio/workspace.html#take_joins_list", context).content)
    # The page brings the new card into view where the composer hides it (a phone).
    card = {"card": f"take-card-{take.pk}"}
    return trigger_client_event(response, "slate:queued", card, after="settle")


def _composer_refused(request: HtmxHttpRequest, membership: Membership, form: ShotForm):
    """The composer again with the form's errors: alone for htmx, else on the whole page."""
    if request.htmx:
        return render(request, "studio/composer.html", composer_context(membership, form))
    return render(request, "studio/workspace.html", studio_context(membership, form), status=400)


def _queue(request: HtmxHttpRequest, membership: Membership, form: ShotForm) -> Take:
    data = form.cleaned_data
    reference = data["reference"]
    return takes.queue_take(
        membership.workspace,
        form.shot(),
        reference=references.first_frame(reference, data["size"], form.fit) if reference else None,
        reference_source=reference,
        reference_fit=references.fit_record(form.fit) if reference else None,
        provider=data["provider"],
        model=data["model"],
        size=data["size"],
        seconds=data["seconds"],
        seed=data["seed"],
        negative_prompt=data["negative_prompt"],
        sound=data["sound"],
        created_by=request.user,
    )


@login_required
@require_safe
def take_detail(request: HtmxHttpRequest, take_id: int) -> HttpResponse:
    take, membership = access.get_take(request.user, take_id)
    context = take_context(take, membership.can_edit)
    if request.htmx and request.GET.get("part") == "operations":
        return TemplateResponse(request, "studio/take.html#operations", context)
    if request.htmx:
        return TemplateResponse(request, "studio/take.html#live", context)
    return render(request, "studio/take.html", context)


@login_required
@require_POST
def take_cancel(request: HtmxHttpRequest, take_id: int) -> HttpResponse:
    take, _ = access.get_take(request.user, take_id, edit=True)
    takes.cancel(take.pk)
    if not request.htmx:
        return redirect("take", take_id=take.pk)
    take.refresh_from_db()
    context = {"take": take, "can_edit": True}
    if request.htmx.target == f"take-card-{take.pk}":
        card_notes.attach([take])
        return render(request, "studio/take_card.html", context)
    return render(request, "studio/take.html#live", context)


@serves_media
@login_required
@require_safe
def take_media(request: HtmxHttpRequest, take_id: int, kind: str) -> HttpResponse:
    take = access.media_take(request.user, take_id)
    if kind == "video" and take.video:
        return serve_file(
            request,
            take.video,
            content_type="video/mp4",
            filename=f"take-{take.pk}.mp4",
            etag=take.video_sha256,
        )
    if kind == "poster" and take.poster:
        return serve_file(
            request, take.poster, content_type="image/jpeg", filename=f"take-{take.pk}.jpg"
        )
    if kind == "sprites" and take.spritesheet:
        return serve_file(
            request,
            take.spritesheet,
            content_type="image/jpeg",
            filename=f"take-{take.pk}-sprites.jpg",
        )
    raise Http404("This take has no such file yet.")


@serves_media
@login_required
@require_safe
def take_download(request: HtmxHttpRequest, take_id: int) -> HttpResponse:
    take, _ = access.get_take(request.user, take_id)
    if not take.video:
        raise Http404("This take has no video yet.")
    return serve_file(
        request,
        take.video,
        content_type="video/mp4",
        attachment=True,
        filename=download_name(take),
        etag=take.video_sha256,
    )


def download_name(take: Take) -> str:
    title = slugify(take.subject or take.prompt)[:40].strip("-") or "take"
    return f"slate-{take.pk}-{title}.mp4"
