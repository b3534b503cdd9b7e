"""Reference images in the composer: upload (picker or drop), choose how it fits, preview it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from . import access, images, references, uploads
from .forms import ShotForm
from .models import Membership, Reference


def _panel(request, membership: Membership, data, **extra) -> HttpResponse:
    form = ShotForm(data, workspace=membership.workspace)
    context = {
        "workspace": membership.workspace,
        "form": form,
        "reference": extra.pop("reference", None) or form.chosen_reference,
        **extra,
    }
    return render(request, "studio/composer.html#reference_panel", context)


@login_required
@require_POST
def upload_reference(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    upload = request.FILES.get("upload")
    data = request.POST.copy()
    if uploads.refused(request, "upload"):
        limit = uploads.megabytes(uploads.REFERENCE_LIMIT)
        return _panel(request, membership, data, problem=f"The image is over {limit}, the limit.")
    if upload is None:
        return _panel(request, membership, data, problem="Choose an image to upload.")
    if problem := uploads.over_limit("image", upload.size, uploads.REFERENCE_LIMIT):
        return _panel(request, membership, data, problem=problem)  # not even read
    try:
        reference = references.add_reference(
            membership.workspace, upload.read(), upload.name, request.user
        )
    except images.ImageRejected as error:
        return _panel(request, membership, data, problem=f"{error}")
    data["reference"] = str(reference.pk)
    return _panel(request, membership, data, reference=reference)


@login_required
@require_POST
def reference_panel(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    data = request.POST.copy()
    if request.POST.get("clear_reference"):
        data["reference"] = ""
    return _panel(request, membership, data)


@login_required
@require_safe
def reference_preview(request, slug: str, reference_id: int) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    reference = Reference.objects.filter(workspace=membership.workspace, pk=reference_id).first()
    if reference is None:
        raise Http404("No such reference image.")
    size = request.GET.get("size", "")
    if size not in ("1280x720", "720x1280", "1792x1024", "1024x1792", "1920x1080", "1080x1920"):
        size = "1280x720"
    picture = references.preview_jpeg(reference, size, images.Fit.from_values(request.GET))
    response = HttpResponse(picture, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response
