"""Provider endpoints a workspace generates with: add, check, remove, and reach them.

A workspace always has the local animatic; each endpoint adds the models it
serves. An endpoint's API key and webhook secret are sealed at rest (secretbox)
and never shown again in full.
"""

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from studio import secretbox
from studio.models import AuthStyle, ProviderEndpoint, Take, Workspace

from . import addresses, http, workflows
from .base import ProviderError, RemoteProvider
from .catalogue import (
    DEFAULT_PROVIDER,
    CatalogueInvalid,
    ModelInfo,
    animatic,
    model_info,
    models_of,
)
from .comfyui import ComfyUI
from .fal import DEFAULT_BASE as FAL_BASE
from .fal import Fal
from .openai import OpenAICompatible, Profile, load_profile
from .ratelimit import limiter_for

KINDS = ("openai", "fal", "comfyui")
PROFILES = ("openai", "azure", "openrouter", "gateway")
DEFAULT_BASE_URLS = {"fal": FAL_BASE, "comfyui": "http://127.0.0.1:8188"}
DEFAULT_MODELS = {"openai": "sora-2", "fal": "fal-ai/veo3.1", "comfyui": "smoke"}
KIND_HELP = {
    "openai": "an OpenAI-compatible /v1/videos endpoint (OpenAI, Azure, OpenRouter, a gateway)",
    "fal": "fal's queue (Veo, Kling, Seedance, LTX-2, Hailuo…)",
    "comfyui": "a ComfyUI server on your own GPU",
}
# Requests per minute a new endpoint is held to: a paid API's usual allowance; none for a
# creator's own GPU, whose calls are local and free (0 means no limit).
PAID_API_RPM = 25
DEFAULT_RPM = {"comfyui": 0}
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class EndpointInvalid(ValueError):
    """Input that can't make an endpoint; the message says what to change."""


@dataclass(frozen=True)
class Target:
    """Something the compose form can generate with: a provider (endpoint) and model."""

    provider: str  # "animatic" or the endpoint's name
    info: ModelInfo
    endpoint: ProviderEndpoint | None = None

    @property
    def value(self) -> str:
        return self.provider if self.endpoint is None else f"{self.provider}/{self.info.model}"

    @property
    def label(self) -> str:
        return self.info.label if self.endpoint is None else f"{self.info.label} · {self.provider}"


def targets(workspace: Workspace) -> list[Target]:
    found = [Target(DEFAULT_PROVIDER, animatic())]
    for endpoint in workspace.endpoints.order_by("name"):
        for model in endpoint.model_ids:
            info = model_info(endpoint.kind, model, endpoint.model_overrides.get(model))
            if info:
                found.append(Target(endpoint.name, info, endpoint))
    return found


def info_for(take: Take) -> ModelInfo:
    """The take's model as the catalogue (and its endpoint's corrections) describe it."""
    if take.endpoint is None:
        return animatic()
    overrides = take.endpoint.model_overrides.get(take.model)
    info = model_info(take.endpoint.kind, take.model, overrides)
    if info is None:  # the model left the catalogue since: the contract's defaults
        info = replace(animatic(), provider=take.endpoint.kind, model=take.model, prices={})
    return info


def native_operations(target: Target) -> frozenset[str]:
    """What the provider itself can do with a finished job of this target ("remix",
    "extend"): what the model offers (catalogue) and the endpoint's flavour serves
    (profiles.toml). Only OpenAI-compatible endpoints have follow-up routes."""
    endpoint = target.endpoint
    if endpoint is None or endpoint.kind != "openai":
        return frozenset()
    served = set(load_profile(endpoint.profile, endpoint.profile_overrides).operations)
    offered = set(target.info.operations) & served
    found = set()
    if offered & {"edit", "remix"}:
        found.add("remix")
    if "extend" in offered:
        found.add("extend")
    return frozenset(found)


def takes_last_frame(target: Target) -> bool:
    """Whether a generation on this target can be given a last frame as well as a first:
    the model takes one (catalogue ``last_frame``) and the endpoint can send it — fal: the
    model's ``wire`` names the field; an OpenAI-compatible endpoint: its flavour sends
    frames as ``frame_images`` (OpenRouter). OpenAI's own /v1/videos has no last frame
    (docs/videos-api.md), nor have the animatic and ComfyUI here."""
    info, endpoint = target.info, target.endpoint
    if endpoint is None or not (info.image_reference and info.last_frame):
        return False
    if endpoint.kind == "fal":
        return bool(info.wire.get("last_frame"))
    if endpoint.kind == "openai":
        profile = load_profile(endpoint.profile, endpoint.profile_overrides)
        return profile.image_mode == "frame_images"
    return False


def find_target(workspace: Workspace, provider: str, model: str = "") -> Target | None:
    for target in targets(workspace):
        if target.provider == provider and (target.endpoint is None or target.info.model == model):
            return target
    return None


def add_endpoint(
    workspace: Workspace,
    *,
    name: str,
    kind: str,
    base_url: str = "",
    api_key: str = "",
    auth_style: str | None = None,
    models: list[str],
    webhook_secret: str = "",
    webhooks: bool = False,
    requests_per_minute: int | None = None,
    profile: str = "openai",
    profile_overrides: dict | None = None,
    model_overrides: dict | None = None,
) -> ProviderEndpoint:
    """Validate and save an endpoint. Raises EndpointInvalid with a sentence to show."""
    name = name.strip().lower()
    if not NAME.match(name) or name == DEFAULT_PROVIDER:
        raise EndpointInvalid(
            "Name it with lowercase letters, digits and dashes (not “animatic”), e.g. “studio-gw”."
        )
    if kind not in KINDS:
        raise EndpointInvalid(f"Unknown kind “{kind}”. Slate speaks: {', '.join(KINDS)}.")
    if kind == "openai" and profile not in PROFILES:
        raise EndpointInvalid(f"Unknown profile “{profile}”. Profiles: {', '.join(PROFILES)}.")
    base_url = base_url.strip() or DEFAULT_BASE_URLS.get(kind, "")
    if not base_url:
        raise EndpointInvalid("A base URL is needed, e.g. https://gateway.example/v1.")
    check_address(base_url, workspace)
    if not api_key.strip() and kind != "comfyui":  # core ComfyUI has no auth
        raise EndpointInvalid("An API key is needed.")
    if webhook_secret and kind != "openai":
        raise EndpointInvalid(
            "Only OpenAI-compatible endpoints take a webhook secret; fal signs with its "
            "published keys (use --webhooks) and ComfyUI has no webhooks."
        )
    if webhooks and kind != "fal":
        raise EndpointInvalid(
            "Webhooks without a secret are fal's; others need a signing secret "
            "(--webhook-secret-env)."
        )
    auth_style = auth_style or (load_profile(profile).auth if kind == "openai" else "bearer")
    if auth_style not in AuthStyle.values:
        raise EndpointInvalid("Auth is “bearer” (Authorization header) or “api-key” (Azure).")
    if webhook_secret.startswith("whsec_"):
        try:
            base64.b64decode(webhook_secret.removeprefix("whsec_"), validate=True)
        except binascii.Error as error:
            raise EndpointInvalid(
                "That webhook secret starts with whsec_ but the rest isn't "
                "base64: copy it again from the provider."
            ) from error
    models = [m.strip() for m in models if m.strip()]
    if not models:
        raise EndpointInvalid("List at least one model the endpoint serves, e.g. “sora-2”.")
    unknown = sorted(set(profile_overrides or {}) - set(Profile.__dataclass_fields__) - {"name"})
    if unknown:
        raise EndpointInvalid(
            f"Unknown profile key {', '.join(unknown)} "
            "(see studio/providers/profiles.toml for the keys)."
        )
    model_overrides = model_overrides or {}
    for model in models:
        _check_model(kind, model, model_overrides.get(model))
    if requests_per_minute is None:
        requests_per_minute = DEFAULT_RPM.get(kind, PAID_API_RPM)
    if not 0 <= requests_per_minute <= 10_000:
        raise EndpointInvalid("Requests per minute must be between 0 (no limit) and 10,000.")
    try:
        with transaction.atomic():
            return ProviderEndpoint.objects.create(
                workspace=workspace,
                name=name,
                kind=kind,
                base_url=base_url.strip().rstrip("/"),
                auth_style=auth_style,
                api_key_encrypted=secretbox.seal(api_key.strip()),
                api_key_hint=secretbox.hint(api_key.strip()),
                webhook_secret_encrypted=secretbox.seal(webhook_secret) if webhook_secret else "",
                webhook_token=secrets.token_urlsafe(18),
                use_webhooks=webhooks,
                model_ids=models,
                model_overrides=model_overrides,
                requests_per_minute=requests_per_minute,
                profile=profile if kind == "openai" else "",
                profile_overrides=profile_overrides or {},
            )
    except IntegrityError as error:
        raise EndpointInvalid(f"This workspace already has a provider named “{name}”.") from error


def _check_model(kind: str, model: str, overrides: dict | None) -> None:
    """A model must be in the catalogue for this kind, or described whole by ``overrides``."""
    try:
        info = model_info(kind, model, overrides)
    except CatalogueInvalid as error:
        raise EndpointInvalid(f"Model “{model}”: {error}") from error
    if info is None:
        known = ", ".join(m.model for m in models_of(kind))
        raise EndpointInvalid(
            f"Slate's catalogue has no {kind} model “{model}”. Known: {known}. For another "
            "one, describe it (sizes or aspects and resolutions, seconds, prices…) with "
            "--overrides; no code change needed."
        )
    if kind == "comfyui":
        try:
            workflows.load(info.workflow)
        except workflows.WorkflowInvalid as error:
            raise EndpointInvalid(f"Model “{model}”: {error}") from error


def remove_endpoint(endpoint: ProviderEndpoint) -> None:
    """Remove an endpoint, unless takes are still being made with it."""
    active = endpoint.takes.active().count()
    if active:
        raise EndpointInvalid(
            f"{active} take{'s are' if active > 1 else ' is'} still being made with "
            f"“{endpoint.name}”. Wait for them or cancel them first."
        )
    endpoint.delete()


def credential(endpoint: ProviderEndpoint) -> str:
    """A name for the provider account behind an endpoint (never the key itself)."""
    return secretbox.fingerprint(
        endpoint.kind, endpoint.base_url, secretbox.unseal(endpoint.api_key_encrypted)
    )


def client_for(
    endpoint: ProviderEndpoint,
    *,
    max_retries: int = 3,
    retry_offset: int = 0,
    before_send: Callable[[], None] = lambda: None,
    after_send: Callable[[], None] = lambda: None,
    on_call: Callable[[], None] = lambda: None,
    waiting: Callable[[], None] = lambda: None,
) -> RemoteProvider:
    """The endpoint's provider client: its credential and the shared rate limiter (one per
    account, across every worker). The hooks are the engine's: ``before_send`` may refuse
    the call (a lost lease), ``on_call`` counts a call that was sent, ``waiting`` runs while
    a call waits for the rate limiter (a lease is renewed there)."""
    key = secretbox.unseal(endpoint.api_key_encrypted)
    limiter = limiter_for(f"{endpoint.kind}:{credential(endpoint)}", endpoint.requests_per_minute)
    private = private_allowed(endpoint.workspace)
    check_address(endpoint.base_url, endpoint.workspace)  # again at use: the policy may differ
    transport = {
        "acquire": limiter.acquire,
        "release": limiter.release,
        "give_back": limiter.give_back,
        "waiting": waiting,
        "pause": limiter.pause,
        "on_call": on_call,
        "before_send": before_send,
        "after_send": after_send,
        "client": http.http_client(),
        "max_retries": max_retries,
        "retry_offset": retry_offset,
        "timeout": settings.SLATE_PROVIDER_TIMEOUT,
        "private": private,
    }
    if endpoint.kind == "fal":
        return Fal(base_url=endpoint.base_url, api_key=key, **transport)
    if endpoint.kind == "comfyui":
        return ComfyUI(base_url=endpoint.base_url, api_key=key, **transport)
    return OpenAICompatible(
        base_url=endpoint.base_url,
        api_key=key,
        auth_style=endpoint.auth_style,
        profile=load_profile(endpoint.profile or "openai", endpoint.profile_overrides),
        **transport,
    )


def ready(target: Target, *, reference: bool = False, ask: bool = False) -> None:
    """Refuse, before anything is queued, a take this target can't start: a workflow
    template that is broken, or (``ask``) a ComfyUI server that is down or isn't one."""
    endpoint = target.endpoint
    if endpoint is None or endpoint.kind != "comfyui":
        return
    template = (target.info.wire.get("image_model") if reference else "") or target.info.workflow
    try:
        workflows.load(template)
    except workflows.WorkflowInvalid as error:
        raise EndpointInvalid(f"{error} Nothing was queued.") from error
    if not ask:
        return
    try:
        client_for(endpoint, max_retries=0).check()
    except (ProviderError, secretbox.SecretUnreadable) as error:
        raise EndpointInvalid(
            f"ComfyUI at {endpoint.base_url} isn't answering properly ({error.__class__.__name__}"
            f": {getattr(error, 'message', error)}). Start it, or pick another provider; "
            "nothing was queued."
        ) from error


# Provider kinds whose jobs can be stopped once running (the take shows "cancelling").
CANCELLABLE_KINDS = {"fal", "comfyui"}
# Provider kinds that render one job at a time (one GPU): a job's place in the queue says
# how long it will wait, a render's typical time for each one ahead.
SERIAL_KINDS = {"comfyui"}
# Provider kinds with a live event stream (a creator's own server's websocket, fal's status
# stream: one long call instead of a poll per look): a job is watched from the moment it is
# queued, not first looked at after a typical render.
LIVE_KINDS = {"comfyui", "fal"}
# Provider kinds whose job id is Slate's own key: a job the server lost (a restarted ComfyUI
# forgets every prompt) may be submitted again under the same id, and is found by it after.
RESUBMIT_KINDS = {"comfyui"}


def followed_live(endpoint: ProviderEndpoint) -> bool:
    """Whether the endpoint's jobs are followed over their live events. With webhooks they
    aren't: a signed callback tells the end already, and a stream held open for the whole
    render would only add the queue's place to the card."""
    return endpoint.kind in LIVE_KINDS and not endpoint.has_webhooks


def webhook_url(endpoint: ProviderEndpoint, key: str = "") -> str:
    """Where the provider should call back for this endpoint (needs SLATE_PUBLIC_URL)."""
    if not settings.SLATE_PUBLIC_URL:
        return ""
    path = reverse("provider_webhook", args=[endpoint.kind, endpoint.webhook_token])
    return f"{settings.SLATE_PUBLIC_URL.rstrip('/')}{path}" + (f"?key={key}" if key else "")


def private_allowed(workspace: Workspace | None) -> bool:
    """Whether ``workspace``'s providers may be on private networks (and plain http).

    SLATE_ALLOW_PRIVATE_PROVIDERS: true for every workspace (an install only its own
    team uses), false for none, "local" (the default) for the install's Local studio
    only: the first account's, where the command line works, so a ComfyUI on
    127.0.0.1 works out of the box while strangers who sign up can't reach the
    server's network through it (docs/security.md)."""
    policy = settings.SLATE_ALLOW_PRIVATE_PROVIDERS
    if policy == "local":
        return bool(workspace and workspace.is_default)
    return bool(policy)


def check_address(base_url: str, workspace: Workspace | None = None) -> None:
    """Refuse URLs that aren't https (or http where private reach is allowed), and
    private networks unless ``workspace`` may use them (private_allowed)."""
    try:
        addresses.check_url(base_url, private=private_allowed(workspace))
    except addresses.AddressRefused as error:
        raise EndpointInvalid(error.message) from error


def check_templates(endpoint: ProviderEndpoint) -> dict[str, list[str] | str]:
    """A ComfyUI endpoint's workflow templates (those its models use), each with what the
    server lacks for it (nodes, model files; an empty list: nothing), or a sentence saying
    why it couldn't be checked."""
    if endpoint.kind != "comfyui":
        return {}
    names = set()
    for model in endpoint.model_ids:
        info = model_info(endpoint.kind, model, endpoint.model_overrides.get(model))
        if info:
            names.update(name for name in (info.workflow, info.wire.get("image_model")) if name)
    client = client_for(endpoint, max_retries=0)
    found = {}
    for name in sorted(names):
        try:
            found[name] = client.lacks(workflows.load(name))
        except workflows.WorkflowInvalid as error:
            found[name] = str(error)
        except ProviderError as error:
            found[name] = f"the server couldn't be asked ({http.summary(error, 200)})"
    return found


_ERRNO = re.compile(r"\[Errno -?\d+\]")


def check_endpoint(endpoint: ProviderEndpoint) -> str:
    """Ask the endpoint for one video: a sentence saying whether it answers."""
    try:
        said = client_for(endpoint, max_retries=0).check()
    except (ProviderError, secretbox.SecretUnreadable, EndpointInvalid) as error:
        if getattr(error, "code", "") == "unreachable":
            # The socket's words, e.g. "[Errno 111] Connection refused": the reason, short.
            reason = _ERRNO.sub("", str(error).rpartition(": ")[2]).strip().lower()
            reason = http.summary(reason or "no answer", 60)
            return f"Nothing answers at {endpoint.base_url} ({reason})."
        return f"“{endpoint.name}” did not answer properly: {http.summary(error, 240)}"
    return f"“{endpoint.name}” answers: {http.summary(said, 240)}."
