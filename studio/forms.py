from django import forms
from django.contrib.auth.forms import UserCreationForm

from . import lint
from .images import Fit
from .inputs import whole_number
from .models import AuthStyle, Reference, Workspace
from .prompts import (
    FIELD_LABELS,
    MAX_PROMPT_CHARS,
    SHOT_FIELDS,
    SHOT_HINTS,
    SHOT_LABELS,
    Shot,
    tidy,
)
from .providers import endpoints
from .providers.catalogue import DEFAULT_PROVIDER, PLATFORMS, STANDARD_SIZES, animatic
from .providers.endpoints import Target, targets
from .providers.openai import load_profile

PLACEHOLDERS = {
    "subject": "elderly woman reading a book by the window",
    "motion": "turns a page, then adjusts her glasses",
    "camera": "slow push-in from medium shot to close-up",
    "lighting": "soft afternoon window light",
    "atmosphere": "peaceful, nostalgic; quiet room ambience, distant birdsong",
    "prompt": "Anything else, in your own words",
    "dialogue": "Nan (whispering, not looking up): “Not yet.”",
    "audio": "pages turning, a clock ticking, distant birdsong",
}


def _text(name: str, rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=SHOT_LABELS[name],
        required=False,
        help_text=SHOT_HINTS[name],
        # Generous per field; the real limit is on the composed prompt (clean()).
        max_length=MAX_PROMPT_CHARS,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


SEED_MAX = 2**31 - 1


class ShotForm(forms.Form):
    """A shot and its settings, validated against the chosen model's capabilities.

    The choices are the workspace's: the local animatic plus every model its
    provider endpoints serve (see endpoints.targets).
    """

    subject = _text("subject")
    motion = _text("motion")
    camera = _text("camera")
    lighting = _text("lighting")
    atmosphere = _text("atmosphere")
    prompt = _text("prompt")
    dialogue = _text("dialogue", rows=1)
    audio = _text("audio", rows=1)
    provider = forms.CharField(label="Provider")
    model = forms.CharField(label="Model", required=False)
    size = forms.CharField(label="Size")
    seconds = forms.CharField(label="Seconds")
    reference = forms.IntegerField(required=False, widget=forms.HiddenInput)
    negative_prompt = forms.CharField(
        label="Negative prompt",
        required=False,
        max_length=2000,
        help_text="what this model should keep out of the shot",
        widget=forms.Textarea(attrs={"rows": 1}),
    )
    sound = forms.ChoiceField(
        label="Sound",
        required=False,
        choices=[("on", "Sound on"), ("off", "Silent")],
    )
    seed = forms.IntegerField(
        label="Seed",
        required=False,
        min_value=0,
        max_value=SEED_MAX,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"),
            f"A seed is a whole number from 0 to {SEED_MAX:,}.",
        ),
        help_text="Same shot and seed → same animatic. Leave empty for a new one.",
    )

    def __init__(
        self,
        data=None,
        *,
        workspace: Workspace | None = None,
        initial=None,
        preflight: bool = False,
    ):
        super().__init__(data, initial=initial)
        # On Generate: ask a local provider (ComfyUI) whether it is up before queueing.
        self.preflight = preflight
        for name, example in PLACEHOLDERS.items():
            self.fields[name].widget.attrs["placeholder"] = example
        self.targets = targets(workspace) if workspace else [Target(DEFAULT_PROVIDER, animatic())]
        self.providers = list(dict.fromkeys(t.provider for t in self.targets))
        source = self.data if self.is_bound else (initial or {})
        self.target = self._find(source.get("provider") or DEFAULT_PROVIDER, source.get("model"))
        self.workspace = workspace
        self.fit = Fit.from_values(source)
        # When nothing valid is chosen, show the animatic's settings.
        self.info = (self.target or self.targets[0]).info
        self.fields["provider"].initial = DEFAULT_PROVIDER
        self.fields["size"].initial = self.info.default_size
        self.fields["seconds"].initial = self.info.default_seconds

    def keep_choices_valid(self) -> None:
        """After the provider or model changed (the settings panel): a size or length the
        new model doesn't render becomes its default, so the panel never shows a choice
        that can't be generated (a ComfyUI model after Sora's 1280x720 × 8 s, say)."""
        if self.target is None or not self.is_bound:
            return
        size = str(self.data.get("size") or "").lower().replace("×", "x")
        if size not in self.info.size_values:
            self.data["size"] = self.info.default_size
        seconds = str(self.data.get("seconds") or "").removesuffix("s").strip()
        if whole_number(seconds, max_digits=4) not in self.info.seconds:
            self.data["seconds"] = str(self.info.default_seconds)

    def _find(self, provider: str, model: str | None) -> Target | None:
        matching = [t for t in self.targets if t.provider == provider]
        if not model and matching:
            return matching[0]  # a provider's first model unless one is named
        return next((t for t in matching if t.info.model == model), None)

    @property
    def provider_models(self) -> list[Target]:
        """The models of the chosen provider, for the model picker."""
        chosen = (self.target or self.targets[0]).provider
        return [t for t in self.targets if t.provider == chosen]

    platforms = PLATFORMS

    @property
    def missing_sizes(self) -> list[tuple[str, str]]:
        """Standard sizes this model doesn't render, and where they can be had instead."""
        notes = []
        for size in STANDARD_SIZES:
            if size in self.info.size_values:
                continue
            others = [t.info.label for t in self.targets if size in t.info.size_values]
            where = f"try {' or '.join(others[:2])}" if others else "no model here renders it"
            notes.append((size, f"not rendered by {self.info.label}; {where}."))
        return notes

    @property
    def sound_on(self) -> bool:
        """Sound as chosen (on unless switched off), for models that can switch it."""
        if not self.info.audio_switch:
            return self.info.audio
        return (self.data.get("sound") or "on") != "off"

    @property
    def price_per_second(self):
        size = self.data.get("size") or self.info.default_size
        return self.info.price_per_second(size, self.sound_on)

    @property
    def estimate(self):
        size = self.data.get("size") or self.info.default_size
        seconds = str(self.data.get("seconds") or self.info.default_seconds).removesuffix("s")
        if size not in self.info.size_values or (seconds := whole_number(seconds)) is None:
            return None
        return self.info.estimate(size, seconds, self.sound_on)

    def clean_provider(self) -> str:
        provider = tidy(self.cleaned_data["provider"])
        if provider not in self.providers:
            raise forms.ValidationError(
                f"Unknown provider “{provider}”. This workspace has: {', '.join(self.providers)}."
            )
        return provider

    def clean_model(self) -> str:
        model = tidy(self.cleaned_data.get("model") or "")
        provider = tidy(self.data.get("provider") or DEFAULT_PROVIDER)
        if provider in self.providers and self.target is None:
            served = [t.info.model for t in self.targets if t.provider == provider]
            raise forms.ValidationError(
                f"“{provider}” doesn't serve model “{model}”. It serves: {', '.join(served)}."
            )
        return self.target.info.model if self.target else model

    def clean_size(self) -> str:
        size = tidy(self.cleaned_data["size"]).lower().replace("×", "x")
        if self.target and size not in self.info.size_values:
            raise forms.ValidationError(
                f"{self.info.label} doesn't render “{size}”; it renders "
                f"{', '.join(self.info.size_values)}."
            )
        return size

    def clean_seconds(self) -> int:
        raw = tidy(self.cleaned_data["seconds"]).removesuffix("s").strip()
        if self.target is None:  # the provider's own error says why
            return whole_number(raw, max_digits=4) or 0
        if whole_number(raw, max_digits=4) not in self.info.seconds:
            choices = ", ".join(str(s) for s in self.info.seconds)
            raise forms.ValidationError(
                f"{self.info.label} makes clips of {choices} seconds; “{raw[:12]}” is not one "
                "of them. "
                "For another length, generate the next longer one and trim."
            )
        return int(raw)

    def clean_negative_prompt(self) -> str:
        text = tidy(self.cleaned_data.get("negative_prompt") or "")
        if text and self.target and not self.info.negative_prompt:
            raise forms.ValidationError(
                f"{self.info.label} takes no negative prompt. Describe what is there instead, "
                "or pick a model that takes one."
            )
        return text

    def clean_sound(self) -> bool:
        return self.sound_on

    def clean_reference(self) -> Reference | None:
        reference_id = self.cleaned_data.get("reference")
        if not reference_id:
            return None
        found = (
            self.workspace.references.filter(pk=reference_id).first() if self.workspace else None
        )
        if found is None:
            raise forms.ValidationError("That reference image is gone; upload it again.")
        if self.target and not self.info.image_reference:
            raise forms.ValidationError(
                f"{self.info.label} takes no reference image; remove it or pick a model that does."
            )
        return found

    @property
    def pad_color(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.fit.colour)

    @property
    def chosen_reference(self) -> Reference | None:
        """The reference to show in the composer (from what was typed, not validated)."""
        value = str(self.data.get("reference") or "")
        if (pk := whole_number(value)) is None or not self.workspace:
            return None
        return self.workspace.references.filter(pk=pk).first()

    def clean(self):
        cleaned = super().clean()
        # Judge emptiness on what was typed: a field that failed its own
        # validation is missing from cleaned_data but was not left empty.
        if self.preview_shot().is_empty:
            raise forms.ValidationError(
                "Describe the shot: fill in at least one field, starting with the Subject."
            )
        # Lint errors block submission (warnings and info are advice, on the page).
        for finding in lint.blocking(self.findings(self.shot())):
            self.add_error(finding.field, finding.message)
        if self.target and self.target.endpoint and not self.errors:
            try:
                endpoints.ready(
                    self.target, reference=bool(cleaned.get("reference")), ask=self.preflight
                )
            except endpoints.EndpointInvalid as error:
                self.add_error("provider", str(error))
        return cleaned

    def findings(self, shot: Shot | None = None) -> list[lint.Finding]:
        shot = shot if shot is not None else self.preview_shot()
        return lint.lint(shot, max_chars=self.info.max_prompt_chars, model_label=self.info.label)

    def shot_fields(self):
        """The shot's bound fields, each with its SMCLA letter ("" for the extras)."""
        return [
            (self[name], self.fields[name].label[0] if name in FIELD_LABELS else "")
            for name in SHOT_FIELDS
        ]

    def shot(self) -> Shot:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else self.data
        return Shot.from_mapping({name: data.get(name, "") for name in SHOT_FIELDS})

    def preview_shot(self) -> Shot:
        """The shot as typed so far, for the live preview (no validation)."""
        return Shot.from_mapping({name: self.data.get(name, "") for name in SHOT_FIELDS})


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
        labels = {"email": "Email (optional)"}
        help_texts = {"email": "where a password reset link goes, if you ever need one"}


RPM_MAX = 10_000


class ProviderForm(forms.Form):
    """A provider endpoint of any kind: an OpenAI-compatible API (OpenAI as last published,
    Azure, OpenRouter, a gateway), fal's queue, or a ComfyUI server of one's own."""

    name = forms.SlugField(
        max_length=40,
        help_text="how it appears in the composer, e.g. studio-gw",
        error_messages={
            "required": "Give the provider a name, e.g. studio-gw.",
            "invalid": "A name is letters, digits, - and _ only (no spaces), e.g. studio-gw.",
            "max_length": "A name is at most %(limit_value)d characters.",
        },
    )
    kind = forms.ChoiceField(
        choices=[(kind, f"{kind}: {help}") for kind, help in endpoints.KIND_HELP.items()],
        initial="openai",
        required=False,
    )
    profile = forms.ChoiceField(
        label="Flavour",
        choices=[(name, load_profile(name).label) for name in endpoints.PROFILES],
        initial="openai",
        required=False,
        help_text="for OpenAI-compatible endpoints: how this one differs",
    )
    base_url = forms.URLField(
        label="Base URL",
        assume_scheme="https",
        required=False,
        help_text="…/v1 for OpenAI-style gateways; https://NAME.openai.azure.com/openai/v1 for "
        "Azure; https://openrouter.ai/api/v1; empty for fal; http://127.0.0.1:8188 for ComfyUI",
    )
    auth_style = forms.ChoiceField(
        label="Sign in with",
        choices=[("", "the flavour's usual header"), *AuthStyle.choices],
        required=False,
    )
    api_key = forms.CharField(
        label="API key",
        widget=forms.PasswordInput(render_value=False),
        max_length=500,
        required=False,
        help_text="not needed for a ComfyUI server of your own",
    )
    models = forms.CharField(
        required=False,
        help_text="comma-separated model ids this endpoint serves, e.g. sora-2, sora-2-pro "
        "(empty: sora-2, fal-ai/veo3.1 or smoke, by kind)",
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="OpenAI-compatible only, optional (whsec_…): with it, finished renders arrive "
        "at once instead of being polled for",
    )
    webhooks = forms.BooleanField(
        label="Ask fal for signed callbacks",
        required=False,
        help_text="fal only; needs SLATE_PUBLIC_URL, this studio's address as fal reaches it",
    )
    requests_per_minute = forms.IntegerField(
        min_value=0,
        max_value=RPM_MAX,
        required=False,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"),
            f"Requests per minute is a whole number from 0 (no limit) to {RPM_MAX:,}.",
        ),
        help_text="leave empty for the usual: 25 for paid APIs, no limit for ComfyUI (0)",
    )

    def clean(self):
        data = super().clean()
        data["kind"] = data.get("kind") or "openai"
        data["profile"] = data.get("profile") or "openai"
        text = data.get("models") or endpoints.DEFAULT_MODELS.get(data.get("kind"), "")
        data["models"] = [m.strip() for m in text.split(",") if m.strip()]
        return data


# --- operations on a take (lineage.py): small forms prefilled from the parent -------------


def _seconds_field(label: str, help_text: str, required: bool = True) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=required,
        min_value=0,
        max_value=3600,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


class RemixForm(forms.Form):
    """The parent's shot fields, to edit; what changed is remixed (lineage.remix)."""

    subject = _text("subject")
    motion = _text("motion")
    camera = _text("camera")
    lighting = _text("lighting")
    atmosphere = _text("atmosphere")
    prompt = _text("prompt")
    dialogue = _text("dialogue", rows=1)
    audio = _text("audio", rows=1)


class ExtendForm(forms.Form):
    seconds = forms.TypedChoiceField(label="Extend by", coerce=int, help_text="seconds")
    prompt = forms.CharField(
        label="What happens next",
        required=False,
        max_length=MAX_PROMPT_CHARS,
        help_text="optional; else the shot continues as it was",
        widget=forms.Textarea(attrs={"rows": 1}),
    )

    def __init__(self, data=None, *, lengths=(), **kwargs):
        super().__init__(data, **kwargs)
        self.fields["seconds"].choices = [(s, f"{s} s") for s in lengths]


class RecutForm(forms.Form):
    start = _seconds_field("In", "seconds from the start")
    end = _seconds_field("Out", "seconds from the start")


class VaryForm(forms.Form):
    count = forms.IntegerField(
        label="Variations", min_value=2, max_value=4, initial=2, help_text="2 to 4, new seeds"
    )


class LoopForm(forms.Form):
    fade = _seconds_field(
        "Crossfade",
        "seconds of tail dissolved into the head (where the model takes a last frame, it "
        "renders the loop instead, priced as a take)",
        required=False,
    )


class BlendForm(forms.Form):
    other = forms.IntegerField(
        label="Blend into take #", min_value=1, help_text="a completed take of this workspace"
    )
    seconds = _seconds_field(
        "Crossfade",
        "seconds (where the model takes a last frame: the shortest bridge it renders, "
        "priced as a take)",
        required=False,
    )
