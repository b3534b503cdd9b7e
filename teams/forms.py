from django import forms
from django.conf import settings

from studio.models import Role, Workspace

from . import notifications
from .models import INVITE_ROLES, MAX_INVITE_DAYS, MAX_INVITE_USES, NotificationPreference

INVITE_ROLE_CHOICES = [(r.value, r.label) for r in INVITE_ROLES]


class InviteLinkForm(forms.Form):
    role = forms.ChoiceField(choices=INVITE_ROLE_CHOICES, initial=Role.EDITOR)
    days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=MAX_INVITE_DAYS, initial=7
    )
    uses = forms.IntegerField(
        label="Uses",
        min_value=1,
        max_value=MAX_INVITE_USES,
        initial=1,
        help_text="how many people can join with this link",
    )


class InviteEmailForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=INVITE_ROLE_CHOICES, initial=Role.EDITOR)
    days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=MAX_INVITE_DAYS, initial=7
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="mail", **kwargs)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class WorkspaceForm(forms.Form):
    # Limits from the model: one home for each. Whether the slug is free is members.rename's.
    name = forms.CharField(max_length=Workspace._meta.get_field("name").max_length)
    slug = forms.SlugField(
        max_length=Workspace._meta.get_field("slug").max_length,
        help_text="the workspace's address: /w/SLUG/ (old links stop working)",
    )
    # Blank keeps the current value; members.rename validates (studio/money.py).
    currency = forms.CharField(
        max_length=10,
        required=False,
        help_text="ISO 4217 code, e.g. USD, EUR, CHF: pages, caps and reports use it",
    )
    rate = forms.CharField(
        max_length=30,
        required=False,
        help_text="how much of that currency one US dollar buys (the price list is in US "
        "dollars); 1 for USD",
    )


class ChangeEmailForm(forms.Form):
    email = forms.EmailField(label="New email address")
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = list(notifications.PREFERENCES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        after = notifications.duration_text(settings.SLATE_NOTIFY_AFTER_SECONDS)
        self.fields["email_long_takes"].help_text = (
            f"When a take or board render of yours that ran longer than {after} finishes or "
            "fails, you also get an email (the bell rings either way)."
        )
        self.fields["review_comments"].help_text = (
            "The bell rings when a client comments through a review link you made or on a "
            "take of yours, or a member leaves notes in a review of your take."
        )
        self.fields["browser"].help_text = (
            "When the tab is in the background, your browser shows what rings the bell "
            "(it asks for permission the first time you start a render)."
        )
