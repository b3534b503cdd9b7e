"""The workspace's providers page: see them, add one, check its connection, remove it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from . import access, secretbox
from .forms import ProviderForm
from .models import Membership, ProviderEndpoint
from .providers import endpoints
from .providers.catalogue import models_of


def _has_key(endpoint: ProviderEndpoint) -> bool:
    """Whether a key was given: its hint alone can't tell none from a short one."""
    try:
        return bool(secretbox.unseal(endpoint.api_key_encrypted))
    except secretbox.SecretUnreadable:
        return True  # there is one, unreadable now; Check connection says so


def _page(request, membership: Membership, form: ProviderForm, status: int = 200):
    found = list(membership.workspace.endpoints.order_by("name"))
    for endpoint in found:
        endpoint.has_key = _has_key(endpoint)
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "endpoints": found,
        "form": form,
        "known_models": {kind: models_of(kind) for kind in endpoints.KINDS},
        "hook_base": request.build_absolute_uri("/")[:-1],
        "is_owner": membership.role == "owner",
    }
    return render(request, "studio/providers.html", context, status=status)


@login_required
@require_safe
def providers(request, slug: str) -> HttpResponse:
    return _page(request, access.get_membership(request.user, slug), ProviderForm())


@login_required
@require_POST
def add_provider(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, own=True)
    form = ProviderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = endpoints.add_endpoint(
                membership.workspace,
                name=data["name"],
                kind=data["kind"],
                profile=data["profile"],
                base_url=data["base_url"],
                api_key=data["api_key"],
                auth_style=data["auth_style"] or None,
                models=data["models"],
                webhook_secret=data["webhook_secret"],
                webhooks=data["webhooks"],
                requests_per_minute=data["requests_per_minute"],
            )
        except endpoints.EndpointInvalid as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Added “{endpoint.name}”. Check its connection below.")
            return redirect("providers", slug=slug)
    return _page(request, membership, form, status=400)


@login_required
@require_POST
def check_provider(request, slug: str, name: str) -> HttpResponse:
    endpoint, _ = access.get_endpoint(request.user, slug, name, own=True)
    message = endpoints.check_endpoint(endpoint)
    ok = message.startswith(f"“{endpoint.name}” answers")
    return render(
        request,
        "studio/providers.html#check_result",
        {"endpoint": endpoint, "message": message, "ok": ok},
    )


@login_required
@require_POST
def remove_provider(request, slug: str, name: str) -> HttpResponse:
    endpoint, _ = access.get_endpoint(request.user, slug, name, own=True)
    try:
        endpoints.remove_endpoint(endpoint)
    except endpoints.EndpointInvalid as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed “{name}”.")
    return redirect(reverse("providers", args=[slug]))
