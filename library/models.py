from django.conf import settings
from django.db import models

from studio.models import Workspace


class PresetQuerySet(models.QuerySet):
    def visible_to(self, user, workspace: Workspace):
        """Shared presets of the workspace, and the user's own personal ones."""
        return self.filter(workspace=workspace).filter(models.Q(shared=True) | models.Q(owner=user))


class Preset(models.Model):
    """A saved shot a creator or team reuses; every save is a new version."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="presets")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=80)
    shared = models.BooleanField(default=False)
    uses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PresetQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "owner", "name"], name="one_preset_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> "PresetVersion":
        return self.versions.order_by("-number").first()


class PresetVersion(models.Model):
    preset = models.ForeignKey(Preset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField(default=dict)  # the SMCLA fields, free prompt, dialogue, audio
    render_settings = models.JSONField(default=dict)  # provider, model, size, seconds
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["preset", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.preset} v{self.number}"
