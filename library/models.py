from django.conf import settings
from django.db import models

from studio.models import Take, Workspace


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


# The three passes creators review a take in, each a pass or fail with a note.
PASSES = {
    "composition": "Composition and intent",
    "technical": "Technical quality: resolution, artifacts, temporal consistency",
    "physics": "Lighting, physics, audio sync",
}


class Review(models.Model):
    """What one member says about a take: a rating from 1 to 5 and the three passes
    (each passed, failed or not yet looked at, with a note). One per member and take."""

    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    composition_ok = models.BooleanField(null=True, blank=True)
    composition_note = models.TextField(blank=True)
    technical_ok = models.BooleanField(null=True, blank=True)
    technical_note = models.TextField(blank=True)
    physics_ok = models.BooleanField(null=True, blank=True)
    physics_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["take", "reviewer"], name="one_review_per_member"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="rating_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on take {self.take_id}: {self.rating or '–'}"


class Circle(models.Model):
    """The circled take: the one chosen among its siblings (the takes made from the same
    parent). At most one per parent; a first take (no parent) is circled on its own."""

    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="circle")
    # The sibling group: the take's parent at the time it was circled.
    parent = models.ForeignKey(
        Take, null=True, blank=True, on_delete=models.CASCADE, related_name="circled_child"
    )
    circled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["parent"], condition=models.Q(parent__isnull=False), name="one_circle"
            )
        ]

    def __str__(self) -> str:
        return f"take {self.take_id} circled"
