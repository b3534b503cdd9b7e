from dataclasses import replace
from decimal import Decimal

from django import forms

from studio.forms import ShotForm
from studio.inputs import whole_number
from studio.prompts import MAX_PROMPT_CHARS, SHOT_FIELDS, SHOT_LABELS, tidy
from studio.providers.endpoints import targets

from .boards import renders_any_length, renders_length
from .models import MAX_CARD_SECONDS, Transition
from .shotlist import MAX_CHARS


class BoardForm(forms.Form):
    """A board's title, notes and the provider, model and size its cards render with."""

    title = forms.CharField(max_length=120)
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 2}))
    target = forms.ChoiceField(label="Provider and model")
    size = forms.CharField(max_length=16, help_text="e.g. 1280x720 (16:9) or 720x1280 (9:16)")

    def __init__(self, *args, workspace, **kwargs):
        kwargs.setdefault("auto_id", "board_%s")  # unique ids beside the page's other forms
        super().__init__(*args, **kwargs)
        self.targets = {target.value: target for target in targets(workspace)}
        self.fields["target"].choices = [(v, t.label) for v, t in self.targets.items()]

    def clean(self):
        data = super().clean()
        target = self.targets.get(data.get("target", ""))
        size = str(data.get("size") or "").strip().lower().replace("×", "x")
        if target and size and size not in target.info.size_values:
            self.add_error(
                "size",
                f"{target.info.label} renders {', '.join(target.info.size_values)}; "
                f"“{size[:16]}” is not one of them.",
            )
        if target:
            data["provider"] = target.provider
            data["model"] = target.info.model if target.endpoint else ""
        data["size"] = size
        return data


class CardForm(ShotForm):
    """The composer's form for a board card, whose lengths are the ones the board's model
    renders for a card (``boards.renders_length``). The card's own length is always among
    the choices, so the editor shows what the card is even where the model can't make it
    (saving then says which lengths it makes)."""

    def __init__(self, data=None, *, card_seconds: int, **kwargs):
        super().__init__(data, **kwargs)
        self.model_seconds = self.info.seconds
        self.info = replace(self.info, seconds=tuple(sorted({*self.info.seconds, card_seconds})))
        self.fields["seconds"].error_messages["required"] = self.lengths_note()

    def lengths_note(self, typed: str = "") -> str:
        said = f"“{typed[:12]}” is not one of them. " if typed else ""
        if renders_any_length(self.target):
            return f"A card lasts 1 to {MAX_CARD_SECONDS} seconds. {said}".strip()
        allowed = ", ".join(str(s) for s in self.model_seconds)
        return (
            f"{self.info.label} makes clips of {allowed} seconds. {said}Pick one of those, "
            "or change the board's model."
        )

    def clean_seconds(self) -> int:
        raw = tidy(self.cleaned_data["seconds"]).removesuffix("s").strip()
        seconds = whole_number(raw, max_digits=4)
        if not renders_length(self.target, seconds):
            raise forms.ValidationError(self.lengths_note(raw))
        return seconds


class StyleForm(forms.Form):
    """The board style: what every card says unless it says otherwise."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "style_%s")
        super().__init__(*args, **kwargs)
        for name in SHOT_FIELDS:
            self.fields[name] = forms.CharField(
                label=SHOT_LABELS[name],
                required=False,
                max_length=MAX_PROMPT_CHARS,
                widget=forms.Textarea({"rows": 1}),
            )


class TransitionForm(forms.Form):
    """How a card hands over to the next one (its inputs join the composer's form)."""

    transition = forms.ChoiceField(choices=Transition.choices, initial=Transition.CUT)
    transition_seconds = forms.DecimalField(
        label="Crossfade length (s)",
        min_value=Decimal("0.1"),
        max_value=Decimal("5"),
        decimal_places=2,
        initial=Decimal("0.5"),
        required=False,
    )
    continues = forms.BooleanField(
        label="Start from the previous card's last frame",
        required=False,
        help_text="continuity: rendered after the card before it, from its chosen take's "
        "last frame (in place of this card's reference image); only models that take a "
        "first frame can",
    )


SECONDS_RANGE = f"Seconds: 1 to {MAX_CARD_SECONDS}"


class AddCardForm(forms.Form):
    subject = forms.CharField(
        required=False,
        max_length=2000,
        error_messages={"max_length": "A subject is at most %(limit_value)d characters."},
    )
    seconds = forms.IntegerField(
        min_value=1,
        max_value=MAX_CARD_SECONDS,
        required=False,
        error_messages={
            "invalid": f"{SECONDS_RANGE}, a whole number",
            "min_value": SECONDS_RANGE,
            "max_value": SECONDS_RANGE,
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "add_%s")
        super().__init__(*args, **kwargs)


class ShotListForm(forms.Form):
    text = forms.CharField(
        label="Shot list",
        required=False,
        max_length=MAX_CHARS,
        widget=forms.Textarea({"rows": 6}),
        help_text="one shot per paragraph, Subject: … Motion: … blocks, a Markdown list, "
        "or CSV with subject, motion, camera, lighting, atmosphere, seconds columns",
    )
    upload = forms.FileField(label="or a file", required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "shots_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if upload := data.get("upload"):
            if upload.size > MAX_CHARS * 4:
                raise forms.ValidationError("That file is too big for a shot list.")
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise forms.ValidationError("That file isn't UTF-8 text.") from error
        return data
