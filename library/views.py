"""Templates and presets: the composer's side panel, the presets page, export and import."""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from studio import access, uploads
from studio.composer import composer_context, prefilled
from studio.inputs import whole_number
from studio.models import Membership
from studio.prompts import Shot, compose

from . import presets
from .models import Preset
from .shot_templates import builtin, fill, variables_in


def _panel(request, membership: Membership, **extra) -> HttpResponse:
    context = {
        "workspace": membership.workspace,
        "can_edit": membership.can_edit,
        "templates": builtin().values(),
        "presets": Preset.objects.visible_to(request.user, membership.workspace),
        **extra,
    }
    return render(request, "library/panel.html#panel", context)


def _get_preset(request, membership: Membership, preset_id: int) -> Preset:
    preset = (
        Preset.objects.visible_to(request.user, membership.workspace).filter(pk=preset_id).first()
    )
    if preset is None:
        raise Http404("No such preset.")
    return preset


@login_required
@require_safe
def panel(request, slug: str) -> HttpResponse:
    return _panel(request, access.get_membership(request.user, slug))


def _apply(request, membership: Membership, fields: dict, settings: dict, title: str):
    """The composer, filled in (swapped in out of band), and the panel saying so."""
    form = prefilled(membership, {**fields, **settings})
    composer = render_to_string(
        "studio/composer.html",
        {**composer_context(membership, form), "oob": True},
        request,
    )
    panel = _panel(request, membership, applied=title)
    panel.write(composer)
    return panel


def _use(
    request,
    membership: Membership,
    title: str,
    fields: dict,
    settings: dict,
    *,
    examples: dict | None = None,
    on_use=None,
) -> HttpResponse:
    """Fill in a template's or preset's {variables} (a small form), then the composer."""
    names = variables_in(fields)
    values, errors = {}, {}
    if not names or request.POST.get("filled") == "1":
        values = {name: request.POST.get(f"var_{name}", "") for name in names}
        filled, errors = fill(fields, values)
        if not errors:
            if on_use:
                on_use()
            return _apply(request, membership, filled, settings, title)
    return render(
        request,
        "library/panel.html#variables",
        {
            "workspace": membership.workspace,
            "title": title,
            "action": request.path,
            "variables": [(n, values.get(n, ""), errors.get(n)) for n in names],
            "examples": examples or {},
        },
    )


@login_required
@require_POST
def use_template(request, slug: str, key: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    template = builtin().get(key)
    if template is None:
        raise Http404("No such template.")
    examples = {v.name: v.example for v in template.variables}
    return _use(
        request, membership, template.name, template.fields, template.settings, examples=examples
    )


@login_required
@require_POST
def use_preset(request, slug: str, preset_id: int) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    preset = _get_preset(request, membership, preset_id)
    version = preset.latest
    values = presets.values_of(version)
    fields = {k: v for k, v in values.items() if k not in presets.SETTING_KEYS}
    settings = {k: v for k, v in values.items() if k in presets.SETTING_KEYS}
    return _use(
        request,
        membership,
        preset.name,
        fields,
        settings,
        on_use=lambda: presets.count_use(preset),
    )


@login_required
@require_POST
def save_preset(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    try:
        version = presets.save(
            membership,
            request.POST.get("preset_name", ""),
            request.POST,
            shared=request.POST.get("preset_shared") == "on",
        )
    except presets.PresetRefused as error:
        return _panel(request, membership, problem=str(error))
    return _panel(
        request, membership, saved=f"Saved “{version.preset.name}” (version {version.number})."
    )


def _page(request, membership: Membership, **extra):
    visible = Preset.objects.visible_to(request.user, membership.workspace).prefetch_related(
        "versions"
    )
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "presets": [(p, presets.can_change(membership, p)) for p in visible],
        "can_edit": membership.can_edit,
        **extra,
    }
    return render(
        request, "library/presets.html", context, status=400 if "problem" in extra else 200
    )


@login_required
@require_safe
def preset_list(request, slug: str) -> HttpResponse:
    return _page(request, access.get_membership(request.user, slug))


@login_required
@require_http_methods(["GET", "POST"])
def preset_detail(request, slug: str, preset_id: int) -> HttpResponse:
    """A preset's versions. A viewer "uses" a shared preset here: it shows the prompt to copy."""
    membership = access.get_membership(request.user, slug)
    preset = _get_preset(request, membership, preset_id)
    if request.method == "POST":
        presets.count_use(preset)
        preset.refresh_from_db()
    versions = [(v, compose(Shot.from_mapping(v.fields))) for v in preset.versions.all()]
    return render(
        request,
        "library/preset.html",
        {
            "workspace": membership.workspace,
            "preset": preset,
            "versions": versions,
            "can_change": presets.can_change(membership, preset),
            "used": request.method == "POST",
        },
    )


@login_required
@require_POST
def delete_preset(request, slug: str, preset_id: int) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    preset = _get_preset(request, membership, preset_id)
    if not presets.can_change(membership, preset):
        return _page(request, membership, problem=f"“{preset.name}” isn't yours to delete.")
    preset.delete()
    return redirect("library:presets", slug=slug)


@login_required
@require_safe
def export_presets(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    chosen = Preset.objects.visible_to(request.user, membership.workspace)
    if preset_id := request.GET.get("id"):
        chosen = chosen.filter(pk=whole_number(preset_id) or 0)
    response = JsonResponse(
        presets.export(chosen.prefetch_related("versions")),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    name = slugify(membership.workspace.slug) or "workspace"
    response["Content-Disposition"] = f'attachment; filename="slate-presets-{name}.json"'
    return response


@login_required
@require_POST
def import_presets(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    upload = request.FILES.get("file")
    if upload is None and not uploads.refused(request, "file"):
        return _page(request, membership, problem="Choose a presets file (.json) to import.")
    if upload is None or upload.size > uploads.PRESETS_LIMIT:
        limit = uploads.megabytes(uploads.PRESETS_LIMIT)
        return _page(request, membership, problem=f"That file is over {limit}: not a presets file.")
    try:
        data = json.loads(upload.read().decode("utf-8"))
        imported = presets.import_presets(membership, data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _page(
            request,
            membership,
            problem="That file isn't JSON: export presets from Slate and import that file.",
        )
    except presets.PresetRefused as error:
        return _page(request, membership, problem=f"Nothing was imported. {error}")
    names = ", ".join(f"“{p.name}”" for p in imported)
    return _page(request, membership, imported=f"Imported {len(imported)}: {names}.")
