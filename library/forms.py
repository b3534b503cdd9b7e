from django import forms

from .models import PASSES

VERDICTS = [("", "Not yet"), ("pass", "Pass"), ("fail", "Fail")]


class ReviewForm(forms.Form):
    """A rating and the three passes, each a verdict with a note."""

    rating = forms.TypedChoiceField(
        label="Rating",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "No rating")] + [(n, "★" * n) for n in range(1, 6)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in PASSES.items():
            self.fields[f"{name}_ok"] = forms.ChoiceField(
                label=label, required=False, choices=VERDICTS
            )
            self.fields[f"{name}_note"] = forms.CharField(
                label=f"Note on {label.split(':')[0].lower()}",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 1}),
            )

    def passes(self) -> dict:
        data = self.cleaned_data
        verdict = {"pass": True, "fail": False, "": None}
        return {name: (verdict[data[f"{name}_ok"]], data[f"{name}_note"]) for name in PASSES}

    @staticmethod
    def initial_for(review) -> dict:
        if review is None:
            return {}
        values = {"rating": review.rating}
        for name in PASSES:
            ok = getattr(review, f"{name}_ok")
            values[f"{name}_ok"] = "" if ok is None else "pass" if ok else "fail"
            values[f"{name}_note"] = getattr(review, f"{name}_note")
        return values
